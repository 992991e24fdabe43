"""`python -m builders.vmsmo` on a synthetic release in VMSMO's layout: cover labels by VMSMO's hash rule,
DIMS's 10 candidates, article sentences, bad samples recorded by kind, load_dataset reads it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import load_dataset

from wds_checks import assert_wds_readable

from builders.core.base import build
from builders.core.extraction import builder_job
from builders.core.news import pick_candidates, split_sentences
from builders.vmsmo import VMSMO, main, read_release_file
from tests.news_fixtures import scene_at, vmsmo_sample, write_vmsmo

SCENES = {"s1": [1, 2, 3, 4, 5], "s2": [6, 7, 8, 9, 10], "v1": [11, 12, 13, 14, 15], "t1": [16, 17]}
COVERS = {"s1": 3, "s2": 6, "v1": 15, "t1": 17}


def vmsmo_release(root):
    samples = {
        "train": [vmsmo_sample("s1"), vmsmo_sample("s2", title="第二条新闻"), vmsmo_sample("s3"),
                  {**vmsmo_sample("s4"), "title": ""}],
        "validation": [vmsmo_sample("v1")],
        "test": [vmsmo_sample("t1"), vmsmo_sample("s1")],
    }
    return write_vmsmo(root, samples, SCENES, COVERS, crawler_names={"v1"}, extra_lines={"test": ['{"id": "t9", ']})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("vmsmo")
    release = vmsmo_release(root / "VMSMO")
    result = build(VMSMO(release, visual="colorhist", text="minilm"), out=root / "hub", work=root / "work",
                   job=builder_job(workers=0), progress=False)
    return root, result


def test_release_builds_with_cover_labels_by_vmsmo_rule(built):
    root, result = built
    assert result.status == 3  # some samples failed, each recorded, the others built
    assert_wds_readable(root / "hub")
    record = result.records["colorhist-minilm"]
    kinds = {f["id"]: f["kind"] for f in record["failures"]["items"]}
    assert kinds.pop("s3") == "unavailable"  # no video file
    assert kinds.pop("s4") == "bad_annotation"  # empty title
    dup = next(k for k in kinds if k.startswith("s1-dup"))
    assert kinds.pop(dup) == "bad_annotation"  # the same id in train and test
    assert list(kinds.values()) == ["bad_annotation"]  # the line that is not JSON
    ds = load_dataset(str(root / "hub"), "colorhist-minilm")
    assert {s: ds[s].num_rows for s in ds} == {"train": 2, "validation": 1, "test": 1}
    for split in ds:
        for ex in ds[split]:
            seeds = SCENES[ex["id"]]
            times = np.array(ex["frame_times"])
            assert np.allclose(times, 0.2 + 0.4 * np.arange(len(times)))  # 2.5 fps step centres
            first_in_cover_scene = next(i for i, t in enumerate(times) if scene_at(seeds, t) == COVERS[ex["id"]])
            assert ex["cover_frame"] == first_in_cover_scene and ex["cover_hamming"] < 200
            assert ex["frame_labels"] == [int(i == ex["cover_frame"]) for i in range(len(times))]
            assert np.array(ex["frames_colorhist"]).shape == (len(times), 256)
            cover = np.array(ex["cover_colorhist"])  # the cover picture's colour histogram: like its scene's frames
            frames = np.array(ex["frames_colorhist"])
            assert cover.shape == (1, 256) and np.argmin(np.abs(frames - cover).sum(1)) in np.flatnonzero(
                [scene_at(seeds, t) == COVERS[ex["id"]] for t in times])
            assert ex["summary"] == ex["title"] and ex["article"].startswith("国家卫健委")
            assert [s["text"] for s in ex["sentences"]] == split_sentences(ex["article"])
            assert all(s["start"] is None and s["end"] is None for s in ex["sentences"])
            assert np.array(ex["sentences_minilm"]).shape == (4, 384)
    s1 = ds["train"].filter(lambda e: e["id"] == "s1")[0]
    assert len(s1["frame_times"]) == 15 and s1["cover_frame"] == 6
    assert s1["candidates"] == [0, 1, 3, 4, 6, 7, 9, 10, 12, 14]  # DIMS's pick_arange over 15 frames
    assert s1["candidate_labels"] == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert ds["test"][0]["candidates"] is None and ds["test"][0]["candidate_labels"] is None  # 6 frames < 10
    assert ds["validation"][0]["video_url"] == "https://video.weibo.com/v1"  # crawler-named files found too
    assert record["left_out"] == {"cover_at_frame_0": 1, "fewer_than_10_frames": 1}
    build_json = json.loads((root / "hub" / "build.json").read_text())
    assert build_json["card"]["language"] == ["zh"]
    assert "VMSMO" in (root / "hub" / "README.md").read_text()


def test_sentences_split_chinese_and_latin():
    assert split_sentences(ARTICLE := "第一句。第二句！“第三句？”第四句\nFirst one. Mr. Smith said so! Done") == [
        "第一句。", "第二句！", "“第三句？”", "第四句", "First one.", "Mr. Smith said so!", "Done"]
    assert split_sentences("") == [] and split_sentences(" \n ") == []
    assert ARTICLE


def test_candidates_follow_pick_arange():
    picks, labels = pick_candidates(15, 6)
    assert picks.tolist() == [0, 1, 3, 4, 6, 7, 9, 10, 12, 14] and labels.tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    picks, labels = pick_candidates(10, 9)
    assert picks.tolist() == list(range(10)) and labels[9] == 1
    picks, labels = pick_candidates(200, 25)  # nearest candidate: 20 (distance 5) before 40; ties go first
    assert picks[:3].tolist() == [0, 20, 40] and labels.tolist().index(1) == 1
    assert pick_candidates(9, 3) is None


def test_release_forms_and_usage_errors(tmp_path, capsys):
    (tmp_path / "a.json").write_text('[{"id": "1"}, 3]')
    assert read_release_file(tmp_path / "a.json") == [{"id": "1"}, {"_error": "a.json[2] is not an object"}]
    (tmp_path / "b.json").write_text('{"user": {}, "weibo": [{"id": "2"}]}')
    assert read_release_file(tmp_path / "b.json") == [{"id": "2"}]
    (tmp_path / "c.json").write_text('{"id": "3"}\n\n{"id": "4"}\nnot json\n')
    assert [r.get("id") for r in read_release_file(tmp_path / "c.json")] == ["3", "4", None]
    assert main(["--input", str(tmp_path / "missing"), "--work", str(tmp_path / "w"), "--out", str(tmp_path / "o")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["--input", str(empty), "--work", str(tmp_path / "w"), "--out", str(tmp_path / "o")]) == 2
    assert "valid.json" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing written


def test_baselines_print_the_paper_metrics(built, capsys):
    """MHMS Table 1-3 metrics for the cheap baselines: the first frame as cover, Lead-3, TextRank."""
    from models.evaluate import main as evaluate

    root, _ = built
    assert evaluate(["--dataset", str(root / "hub"), "--baseline", "first", "--split", "train", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    # s1's cover is frame 6 (candidate 5 of 10 in time order), s2's frame 0 (candidate 1): AP 1/5 and 1
    assert set(first) == {"map", "r10@1", "r10@2", "r10@5"} and first["map"] == pytest.approx((1 / 5 + 1) / 2)
    assert first["r10@1"] == pytest.approx(0.5) and first["r10@5"] == pytest.approx(1.0)
    assert evaluate(["--dataset", str(root / "hub"), "--baseline", "lead3", "--json"]) == 0
    lead = json.loads(capsys.readouterr().out)
    assert set(lead) == {"rouge1", "rouge2", "rougeL", "rougeLsum"} and 0 < lead["rouge1"] < 1  # Chinese, by character
    assert evaluate(["--dataset", str(root / "hub"), "--baseline", "textrank", "--split", "test"]) == 0
    assert "protocol news" in capsys.readouterr().out
    assert evaluate(["--dataset", str(root / "hub"), "--baseline", "human"]) == 2


@pytest.fixture(scope="module")
def tiny_text(tmp_path_factory):
    from tests.tiny_text_models import tiny_weights

    return tiny_weights(tmp_path_factory.mktemp("tiny-text"))


TINY_MHMS = ["--hparam", "hidden=16", "--hparam", "vts_channels=8", "--hparam", "max_summary_tokens=6",
             "--hparam", "min_summary_tokens=2", "--hparam", "num_beams=1", "--hparam", "ot_outer=5",
             "--hparam", "max_source_tokens=128"]


def test_mhms_trains_two_epochs_and_prints_the_paper_metrics(built, tiny_text, tmp_path, capsys):
    """models.train --model mhms on the VMSMO build (tiny random BERT / BART by path), then models.evaluate
    --run: ROUGE-1/2/L of the generated summary, cover MAP and R10@1/2/5 (MHMS Table 1)."""
    from models.evaluate import main as evaluate
    from models.train import main as train

    root, _ = built
    weights = ["--weights", f"bert={tiny_text['bert']}", "--weights", f"bart={tiny_text['bart']}"]
    run = tmp_path / "run"
    assert train(["--model", "mhms", "--dataset", str(root / "hub"), "--out", str(run), "--epochs", "2",
                  "--batch-size", "2", "--lr", "1e-3", *weights, *TINY_MHMS]) == 0
    lines = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [line["epoch"] for line in lines] == [1, 2]
    assert {"vts", "visual", "textseg", "summary", "alignment", "total"} <= set(lines[0]["train"])
    assert lines[1]["train"]["summary"] < lines[0]["train"]["summary"]  # BART learns the titles
    assert {"rouge1", "map", "r10@1"} <= set(lines[0]["validation"])
    config = json.loads((run / "config.json").read_text())
    assert config["family"] == "vmsmo" and config["model_hparams"]["bert"] == "bert-base-chinese"  # the registry's
    assert config["model_hparams"]["weights"] == {"bert": str(tiny_text["bert"]), "bart": str(tiny_text["bart"])}
    assert config["columns"]["passthrough"] == ["sentences", "summary", "frame_labels"] and config["columns"]["targets"] == []
    capsys.readouterr()
    assert evaluate(["--run", str(run), "--split", "validation"]) == 0
    out = capsys.readouterr().out
    assert "(mhms, best checkpoint" in out and "protocol news" in out
    metrics = dict(line.split() for line in out.splitlines()[1:])
    assert list(metrics) == ["rouge1", "rouge2", "rougeL", "rougeLsum", "map", "r10@1", "r10@2", "r10@5"]
    values = {k: float(v) for k, v in metrics.items()}
    assert 0 <= values["map"] <= 1 and values["r10@5"] >= values["r10@2"] >= values["r10@1"]


def test_mhms_without_its_text_models_offline_names_the_flag(built, tmp_path, capsys):
    from models.train import main as train

    root, _ = built
    assert train(["--model", "mhms", "--dataset", str(root / "hub"), "--out", str(tmp_path / "run"), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert "bert-base-chinese" in err and "--weights bert=PATH" in err and "offline" in err
    assert train(["--model", "mhms", "--dataset", str(root / "hub"), "--out", str(tmp_path / "run2"),
                  "--weights", "bart"]) == 2
    assert "NAME=PATH" in capsys.readouterr().err
    assert train(["--model", "a2summ", "--dataset", str(root / "hub"), "--out", str(tmp_path / "run3"),
                  "--weights", "bart=x"]) == 2
    assert "loads no pretrained weights" in capsys.readouterr().err


@pytest.mark.slow
def test_mhms_stopped_and_resumed_equals_uninterrupted(built, tiny_text, tmp_path):
    import torch

    from models.train import main as train

    root, _ = built
    args = ["--model", "mhms", "--dataset", str(root / "hub"), "--epochs", "2", "--batch-size", "2",
            "--weights", f"bert={tiny_text['bert']}", "--weights", f"bart={tiny_text['bart']}", *TINY_MHMS]
    assert train([*args, "--out", str(tmp_path / "a")]) == 0
    assert train([*args, "--out", str(tmp_path / "b"), "--stop-after", "1"]) == 0
    assert train([*args, "--out", str(tmp_path / "b")]) == 0
    lines = [[json.loads(x)["train"] for x in (tmp_path / run / "metrics.jsonl").read_text().splitlines()] for run in "ab"]
    assert lines[0] == lines[1]
    a, b = (torch.load(tmp_path / run / "checkpoint-last.pt", weights_only=True)["model"] for run in "ab")
    assert all(torch.equal(a[k], b[k]) for k in a)
