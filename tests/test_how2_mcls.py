"""builders.how2_mcls on synthetic releases in the real layouts: How2's packages reorganised (section 3.1), the
MCLS authors' files read as released, the low-resource subsets, failures recorded by kind, load_dataset reading it."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from datasets import load_dataset

from wds_checks import assert_wds_readable

from builders.core.base import BuildError, build
from builders.core.extraction import builder_job
from builders.how2_mcls import How2Release, MCLSRelease, main
from builders.how2_mcls.how2 import translation_videos
from tests.how2_fixtures import write_how2_release, write_mcls_release

JOB = builder_job(workers=0)


@pytest.fixture(scope="module")
def how2(tmp_path_factory):
    root = tmp_path_factory.mktemp("how2")
    expect = write_how2_release(root / "how2")
    built = build(How2Release(root / "how2", few_shot="2,4"), out=root / "hub", work=root / "work", job=JOB, progress=False)
    return root, expect, built


@pytest.mark.slow
def test_how2_release_becomes_mcls_ms_and_nested_few_shot_configs(how2):
    root, expect, built = how2
    assert built.status == 3  # two planted bad videos, recorded; the others built
    hub = str(root / "hub")
    assert_wds_readable(root / "hub")
    mcls = load_dataset(hub, "mcls")
    for split, ids in expect["mcls"].items():
        assert sorted(mcls[split]["id"]) == sorted(ids), split
    ex = {r["id"]: r for r in mcls["train"]}
    for vid, row in ex.items():  # segments joined in time order, parallel English, the summary of the video
        assert row["transcript_pt"] == expect["pt"][vid] and row["transcript_en"] == expect["en"][vid]
        assert row["summary"] == expect["summary"][vid] and row["source_split"] == "train"
        assert np.asarray(row["frames_resnext3d"]).shape[1] == 2048 and row["frame_times"] is None
    assert "-xtrain_0Ab" in ex  # an id starting with '-' and holding '_' keeps its segments
    assert ex[expect["long"]]["transcript_en"].startswith("today we talk about")  # 12 segments: _10 is not second
    ms = load_dataset(hub, "ms", split="train")
    assert sorted(ms["id"]) == sorted(expect["ms"]) and set(ms["transcript_pt"]) == {None}
    assert not set(ms["id"]) & {v for ids in expect["mcls"].values() for v in ids}
    ranked = sorted(expect["mcls"]["train"] + [expect["one_sided"], expect["no_features"]],
                    key=lambda v: hashlib.sha1(v.encode()).hexdigest())
    small, large = (load_dataset(hub, c) for c in ("mcls-2", "mcls-4"))
    assert set(small["train"]["id"]) == set(ranked[:2]) - {expect["one_sided"], expect["no_features"]}
    assert set(small["train"]["id"]) <= set(large["train"]["id"]) <= set(mcls["train"]["id"])
    assert small["test"]["id"] == mcls["test"]["id"] and large["validation"]["id"] == mcls["validation"]["id"]


def test_how2_failures_and_left_out_videos_are_recorded(how2):
    root, expect, _ = how2
    record = json.loads((root / "hub" / "build.json").read_text())["configs"]["mcls"]
    failures = {f["id"]: f["kind"] for f in record["failures"]["items"]}
    assert failures == {expect["one_sided"]: "bad_transcript", expect["no_features"]: "unavailable",
                        expect["bad_width"]: "bad_media"}
    assert record["translation_splits"]["dev5"] == {"videos": 3, "without_summary": 1}
    assert record["paper_counts"] == {"train": 13167, "validation": 150, "test": 127}
    assert record["extractors"]["visual"]["extractor"] == "provided"
    card = (root / "hub" / "README.md").read_text()
    assert "cc-by-sa-4.0" in card and "- pt" in card and "abstractive-summarization" in card


def test_without_a_segments_file_segments_join_by_their_number(tmp_path):
    expect = write_how2_release(tmp_path / "how2")
    (tmp_path / "how2" / "how2-300h-v1" / "data" / "train" / "segments").unlink()
    videos = translation_videos(tmp_path / "how2" / "how2-300h-v1" / "data" / "train")
    en, pt, problem = videos[expect["long"]]  # 12 segments, listed shuffled: _10 and _11 come after _9
    assert (en, pt, problem) == (expect["en"][expect["long"]], expect["pt"][expect["long"]], None)
    assert "only in one language" in videos[expect["one_sided"]][2]


def test_mcls_files_are_read_as_released(tmp_path):
    expect = write_mcls_release(tmp_path / "mcls")
    built = build(MCLSRelease(tmp_path / "mcls", few_shot="3"), out=tmp_path / "hub", work=tmp_path / "work", job=JOB,
                  progress=False)
    assert built.status == 0
    mcls = load_dataset(str(tmp_path / "hub"), "mcls")
    assert mcls["train"]["id"] == expect["train"] and mcls["validation"]["id"] == expect["val"]
    assert mcls["test"]["id"] == expect["test"]
    assert load_dataset(str(tmp_path / "hub"), "ms", split="train")["id"] == expect["pretrain"]
    assert load_dataset(str(tmp_path / "hub"), "mcls-3", split="train").num_rows == 3
    row = mcls["train"][0]
    assert row["transcript_pt"].startswith("hoje nós falamos sobre") and row["summary"].startswith("learn about")


def test_bad_inputs_stop_the_build_with_one_line(tmp_path, capsys):
    write_mcls_release(tmp_path / "mcls")
    (tmp_path / "mcls" / "val_sum.txt").write_text("one line only", encoding="utf-8")
    assert main(["--source", "mcls", "--input", str(tmp_path / "mcls"), "--out", str(tmp_path / "hub"), "--workers", "0",
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "do not have one line per video" in err and "val_sum.txt" in err and not (tmp_path / "hub").exists()
    assert main(["--input", str(tmp_path / "nowhere"), "--out", str(tmp_path / "hub"), "--workers", "0"]) == 2
    assert "video_action_features" in capsys.readouterr().err
    with pytest.raises(BuildError, match="--few-shot takes sizes"):
        MCLSRelease(tmp_path / "mcls", few_shot="1k")


def test_a_few_shot_subset_larger_than_the_training_data_is_left_out_with_a_notice(tmp_path, caplog):
    write_mcls_release(tmp_path / "mcls")
    with caplog.at_level("WARNING", logger="builders"):
        built = build(MCLSRelease(tmp_path / "mcls", few_shot="3,7"), out=tmp_path / "hub", work=tmp_path / "w",
                      job=JOB, progress=False)
    assert built.status == 0  # the build goes on: mcls, ms and mcls-3 are there, mcls-7 is not
    record = json.loads((tmp_path / "hub" / "build.json").read_text())
    assert sorted(record["configs"]) == ["mcls", "mcls-3", "ms"]
    assert record["configs"]["mcls"]["few_shot_left_out"]["sizes"] == [7]
    assert record["configs"]["mcls"]["few_shot_left_out"]["train_videos"] == 6
    assert "--few-shot 7 left out: the release has only 6 How2-MCLS training videos" in caplog.text


@pytest.mark.slow
def test_videos_are_encoded_by_resnext3d_through_the_job(tmp_path):
    """--videos: the extraction job runs resnext3d (random weights by path) and rows get frame_times."""
    import torch

    from collectors.synthetic import write_video
    from extractors.resnext3d import CHECKPOINT, _build_model

    expect = write_mcls_release(tmp_path / "mcls", n_train=2, n_val=1, n_test=1, n_pretrain=0)
    videos = tmp_path / "videos"
    gradient = np.arange(64)[None, :, None]
    for i, vid in enumerate(expect["train"] + expect["val"]):  # the test video has no file
        write_video(videos / f"{vid}.mp4", (np.broadcast_to(((gradient + 5 * k + i) % 256).astype(np.uint8), (48, 64, 3))
                                            for k in range(40)), fps=20)
    torch.manual_seed(0)
    torch.save(_build_model().state_dict(), tmp_path / CHECKPOINT)
    built = build(MCLSRelease(tmp_path / "mcls", videos=videos, few_shot="none"), out=tmp_path / "hub",
                  work=tmp_path / "work", job=JOB, weights={"resnext3d": str(tmp_path / CHECKPOINT)}, progress=False)
    assert built.status == 3  # the test video has no file: unavailable, recorded
    row = load_dataset(str(tmp_path / "hub"), "mcls", split="train")[0]
    assert np.asarray(row["frames_resnext3d"]).shape == (2, 2048) and np.allclose(row["frame_times"], [0.4, 1.2])
    record = json.loads((tmp_path / "hub" / "build.json").read_text())["configs"]["mcls"]
    assert record["extractors"]["visual"]["extractor"] == "resnext3d"
    assert [f["kind"] for f in record["failures"]["items"]] == ["unavailable"]
