"""QVHighlights from the real release files (annotations config) and from written ones (bad input)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from wds_checks import assert_wds_readable

from builders.core.base import BuildError, build
from builders.qvhighlights import QVHighlights, main
from models.metrics.highlight import qvhighlights_gt_scores

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "qvhighlights"
needs_real = pytest.mark.skipif(not (REAL / "highlight_val_release.jsonl").is_file(),
                                reason=f"the QVHighlights release files are not in {REAL}")


def write_release(folder: Path, splits: dict[str, list]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for split, records in splits.items():
        (folder / f"highlight_{split}_release.jsonl").write_text(
            "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return folder


def record(qid: int, vid: str = "abc_DEF-1_30.0_180.0", duration: float = 150, labelled: bool = True) -> dict:
    r = {"qid": qid, "query": f"query {qid}", "duration": duration, "vid": vid}
    if labelled:
        r.update(relevant_windows=[[2, 8]], relevant_clip_ids=[1, 2, 3], saliency_scores=[[4, 3, 2], [1, 4, 0], [0, 0, 4]])
    return r


@needs_real
def test_annotations_config_from_the_real_release_files(tmp_path):
    from datasets import load_dataset

    built = build(QVHighlights(REAL), out=tmp_path / "hub", work=tmp_path / "work", rows_per_shard=5000, progress=False)
    assert built.status == 0
    splits = built.records["annotations"]["splits"]
    tar_bytes = sum((tmp_path / "hub" / p).stat().st_size for s in splits.values() for p in s["wds"])
    assert tar_bytes <= 2 * sum(s["parquet_bytes"] for s in splits.values())  # was 87x: one .npy member per array
    ds = load_dataset(str(tmp_path / "hub"), "annotations")
    assert {s: ds[s].num_rows for s in ds} == {"train": 7218, "validation": 1550, "test": 1542}  # 10,310 queries
    record = json.loads((tmp_path / "hub/build.json").read_text())["configs"]["annotations"]
    assert record["stats"]["validation"]["videos"] == 1519 and record["items"]["failed"] == 0
    assert set(ds["test"]["user_scores"]) == {None}  # test has no labels
    # the validation query of Moment-DETR's sample prediction, checked against the release line itself
    line = next(json.loads(x) for x in (REAL / "highlight_val_release.jsonl").open() if '"qid": 2579,' in x)
    ex = ds["validation"].filter(lambda e: e["qid"] == 2579)[0]
    assert ex["video_id"] == "NUsG9BgSes0_210.0_360.0" and ex["youtube_id"] == "NUsG9BgSes0"
    assert (ex["clip_start"], ex["clip_end"], ex["duration"]) == (210.0, 360.0, 150.0)
    assert ex["frame_times"][:3] == [1.0, 3.0, 5.0] and len(ex["frame_times"]) == 75
    gt = qvhighlights_gt_scores(line["duration"], line["relevant_clip_ids"], line["saliency_scores"])
    np.testing.assert_array_equal(np.array(ex["user_scores"]), gt)
    np.testing.assert_allclose(ex["frame_scores"], gt.mean(axis=0) / 4, rtol=1e-6)
    assert np.flatnonzero(ex["frame_labels"]).tolist() == line["relevant_clip_ids"]
    assert ex["relevant_windows"] == line["relevant_windows"]
    card = (tmp_path / "hub/README.md").read_text()
    assert "10310 of 10310 queries built" in card and "source videos" not in card


def test_a_bad_query_is_recorded_and_the_others_built(tmp_path, capsys):
    bad_scores = {**record(3), "saliency_scores": [[5, 0, 0], [0, 0, 0], [0, 0, 0]]}  # 5 is out of 0..4
    folder = write_release(tmp_path / "rel", {
        "train": [record(1), record(2, vid="x_0.0_150.0"), bad_scores, "{not json", {"query": "no qid"}],
        "val": [record(4, vid="v_60.0_210.0", duration=126)],
        "test": [record(5, vid="t_0.0_150.0", labelled=False)],
    })
    code = main(["--annotations", str(folder), "--out", str(tmp_path / "hub"), "--work", str(tmp_path / "w"), "--no-progress"])
    assert code == 3  # some failed, the others built
    build_record = json.loads((tmp_path / "hub/build.json").read_text())["configs"]["annotations"]
    failures = {f["id"]: f for f in build_record["failures"]["items"]}
    assert set(failures) == {"3", "line-train-4", "line-train-5"}
    assert all(f["kind"] == "bad_annotation" for f in failures.values())
    assert "saliency_scores" in failures["3"]["message"] and "highlight_train_release.jsonl:3" in failures["3"]["message"]
    assert build_record["splits"]["train"]["num_examples"] == 2
    from datasets import load_dataset

    val = load_dataset(str(tmp_path / "hub"), "annotations", split="validation")[0]
    assert len(val["frame_times"]) == 63 and len(val["user_scores"][0]) == 63  # int(126 / 2) clips
    assert "3 item(s) FAILED" in capsys.readouterr().out
    assert_wds_readable(tmp_path / "hub")


def test_whole_input_problems_exit_2(tmp_path, capsys):
    assert main(["--annotations", str(tmp_path / "missing"), "--out", str(tmp_path / "o")]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["--annotations", str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == 2
    other = tmp_path / "other.jsonl"
    other.write_text("{}\n")
    assert main(["--annotations", str(other), "--out", str(tmp_path / "o")]) == 2
    # one video in two splits: a mixed set of files, refused before anything is written
    folder = write_release(tmp_path / "mixed", {"train": [record(1)], "val": [record(2)]})
    assert main(["--annotations", str(folder), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "holds no highlight_" in err and "not a QVHighlights release file" in err
    assert "has queries in both train and validation" in err
    assert not (tmp_path / "o").exists()


def test_release_files_given_one_by_one(tmp_path):
    folder = write_release(tmp_path / "rel", {"train": [record(1)], "test": [record(2, vid="t_0.0_150.0", labelled=False)]})
    with pytest.raises(BuildError, match="two files for split train"):
        build(QVHighlights([folder / "highlight_train_release.jsonl", folder / "highlight_train_release.jsonl",
                            write_release(tmp_path / "b", {"train": [record(3)]}) / "highlight_train_release.jsonl"]),
              out=tmp_path / "x", work=tmp_path / "w", progress=False)
    built = build(QVHighlights([folder / "highlight_test_release.jsonl"]), out=tmp_path / "hub", work=tmp_path / "w2",
                  progress=False)
    assert built.status == 0 and list(built.records["annotations"]["splits"]) == ["test"]
