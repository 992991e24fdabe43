"""`python -m builders.mmavs` on synthetic Daily Mail and CNN samples in MM-AVS's layout: highlights,
articles (glued paragraphs split), reference images and their keyframes, CNN's HLS segments joined,
the 70/10/20 split by sample id, bad samples recorded by kind, load_dataset reads it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import load_dataset

from builders.core.base import build
from builders.core.extraction import builder_job
from builders.mmavs import MMAVS, main, unglue
from builders.core.splits import assign_splits
from tests.news_fixtures import write_cnn_sample, write_dailymail_sample

HIGHLIGHTS = ["A man was rescued from the river", "Police said he was lucky"]


def dailymail_release(root, n: int = 10):
    """n good samples (scenes 3 per video, images cut from the 2nd and 3rd), one without images, one without
    highlights, one whose video is not a video."""
    base = root / "dailymail"
    for k in range(n):
        write_dailymail_sample(base / str(4000 + k), [10 * k + 1, 10 * k + 2, 10 * k + 3], [10 * k + 2, 10 * k + 3], HIGHLIGHTS)
    write_dailymail_sample(base / "4100", [901, 902], [], HIGHLIGHTS)  # no images: published, images null
    write_dailymail_sample(base / "4101", [903, 904], [903], None)  # no highlight.txt
    bad = write_dailymail_sample(base / "4102", [905, 906], [905], HIGHLIGHTS)
    (bad / "video.mp4").write_bytes(b"not a video at all")
    return root


@pytest.fixture(scope="module")
def dailymail(tmp_path_factory):
    root = tmp_path_factory.mktemp("mmavs")
    dailymail_release(root / "MM-AVS")
    result = build(MMAVS("dailymail", root / "MM-AVS", visual="colorhist", text="minilm"), out=root / "hub",
                   work=root / "work", job=builder_job(workers=0), progress=False)
    return root, result


def test_dailymail_builds_with_reference_images_and_split_70_10_20(dailymail):
    root, result = dailymail
    assert result.status == 3
    record = result.records["colorhist-minilm"]
    assert {f["id"]: f["kind"] for f in record["failures"]["items"]} == {"4101": "bad_annotation", "4102": "bad_media"}
    ds = load_dataset(str(root / "hub"), "colorhist-minilm")
    ids = [str(4000 + k) for k in range(10)] + ["4100"]
    split_of = assign_splits(ids + ["4101", "4102"], fractions={"train": 0.7, "validation": 0.1, "test": 0.2})
    assert {s: sorted(ds[s]["id"]) for s in ds} == {s: sorted(i for i in ids if split_of[i] == s) for s in set(split_of.values())
                                                     if any(split_of[i] == s for i in ids)}
    assert sorted(split_of.values()).count("test") == round(0.2 * 13)  # the fixed rule: 20% test, 10% validation
    rows = {ex["id"]: ex for s in ds for ex in ds[s]}
    ex = rows["4003"]
    assert ex["summary"] == "\n".join(HIGHLIGHTS) and ex["highlights"] == HIGHLIGHTS
    assert [s["text"] for s in ex["sentences"]] == [
        "A man was rescued from the river on Sunday.", "Police said he was lucky.", "Officers arrived within minutes.",
        "Mr. Smith thanked them.", "The river was high after the storm."]  # glued paragraphs split, Mr. kept
    assert np.array(ex["sentences_minilm"]).shape == (5, 384)
    times = np.array(ex["frame_times"])
    assert np.allclose(times, [0.5, 1.5, 2.5, 3.5]) and np.array(ex["frames_colorhist"]).shape == (4, 256)
    assert np.array(ex["images_colorhist"]).shape == (2, 256) and ex["image_captions"] == ["Caption of picture 0",
                                                                                            "Caption of picture 1"]
    # image 0 is scene 2 ([1.2, 2.4) s: frames at 1.5 s), image 1 scene 3 ([2.4, 3.6): 2.5 and 3.5 s)
    assert ex["keyframe_colorhist"][0] == 1 and ex["keyframe_colorhist"][1] in (2, 3)
    assert ex["frame_labels"] == [int(i in ex["keyframe_colorhist"]) for i in range(4)]
    lone = rows["4100"]
    assert lone["images_colorhist"] == [] and lone["keyframe_colorhist"] is None and lone["frame_labels"] is None
    assert record["repairs"]["glued_paragraphs"] == 2 * 12 and record["stats"]["train"]["with_images"] >= 1
    assert json.loads((root / "hub" / "build.json").read_text())["dataset"] == "mmavs-dailymail"


@pytest.mark.slow
def test_cnn_joins_hls_segments_and_reads_sections(tmp_path):
    base = tmp_path / "cnn"
    paragraphs = ["Storm hits the coast. Thousands lose power.", "Officials urge caution."]
    for k in range(3):
        write_cnn_sample(base / str(240 + k), [50 + k, 60 + k, 70 + k], ["Storm hits", "Power is out"], paragraphs)
    result = build(MMAVS("cnn", base, visual="colorhist", text="minilm"), out=tmp_path / "hub", work=tmp_path / "work",
                   job=builder_job(workers=0), progress=False)
    assert result.status == 0
    ds = load_dataset(str(tmp_path / "hub"), "colorhist-minilm")
    ex = next(iter(ds[next(iter(ds))]))
    assert ex["highlights"] == ["Storm hits.", "Power is out."] and ex["summary"] == "Storm hits.\nPower is out."
    assert [s["text"] for s in ex["sentences"]] == ["Storm hits the coast.", "Thousands lose power.", "Officials urge caution."]
    assert len(ex["frame_times"]) == 4  # 3.6 s of segments, joined, decoded at 1 fps
    assert ex["images_colorhist"] == [] and ex["keyframe_colorhist"] is None
    assert (tmp_path / "work" / "media" / f"{ex['id']}.ts").is_file()
    assert result.records["colorhist-minilm"]["repairs"]["joined_segments"] == 3


def test_dailymail_baselines_score_one_keyframe_against_the_images(dailymail, capsys):
    from models.evaluate import main as evaluate

    root, _ = dailymail
    hub = str(root / "hub")
    assert evaluate(["--dataset", hub, "--baseline", "uniform", "--json"]) == 0
    uniform = json.loads(capsys.readouterr().out)
    assert {"keyframe_cos", "rouge1", "rougeLsum"} <= set(uniform) and "map" not in uniform
    assert evaluate(["--dataset", hub, "--baseline", "lead3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rouge1"] > 0.5  # the highlights restate the first sentences
    assert evaluate(["--dataset", hub, "--baseline", "first", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"keyframe_cos"}


def test_cnn_segments_that_cannot_be_written_stop_the_build_with_one_line(tmp_path, capsys):
    write_cnn_sample(tmp_path / "cnn" / "241", [1, 2], ["Storm hits"], ["Storm hits the coast."])
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "media").write_text("a file where the joined videos go")  # as a full disk would, it fails
    assert main(["--subset", "cnn", "--input", str(tmp_path), "--work", str(tmp_path / "work"),
                 "--out", str(tmp_path / "hub"), "--workers", "0", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot join 241's video segments") and not (tmp_path / "hub").exists()


def test_unglue_and_usage_errors(tmp_path, capsys):
    assert unglue("He left.The end. U.S. troops. Said 'no.'Then") == ("He left.\nThe end. U.S. troops. Said 'no.'\nThen", 2)
    assert main(["--subset", "dailymail", "--input", str(tmp_path / "nope"), "--work", str(tmp_path / "w")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert main(["--subset", "bbc", "--input", str(tmp_path)]) == 2  # argparse: not a subset
    (tmp_path / "dailymail").mkdir()
    assert main(["--subset", "dailymail", "--input", str(tmp_path), "--work", str(tmp_path / "w"),
                 "--out", str(tmp_path / "o")]) == 2
    assert "no sample folder" in capsys.readouterr().err and not (tmp_path / "o").exists()


@pytest.mark.slow
def test_mhms_on_dailymail_prints_rouge_and_keyframe_cosine(dailymail, tmp_path, capsys):
    """MHMS Table 4 on the Daily Mail build: ROUGE of the generated segment summaries, cosine of the chosen
    keyframe to the article's images."""
    from models.evaluate import main as evaluate
    from models.train import main as train
    from tests.test_vmsmo import TINY_MHMS
    from tests.tiny_text_models import tiny_weights

    root, _ = dailymail
    w = tiny_weights(tmp_path)
    run = tmp_path / "run"
    assert train(["--model", "mhms", "--dataset", str(root / "hub"), "--out", str(run), "--epochs", "2",
                  "--batch-size", "4", "--weights", f"bert={w['bert']}", "--weights", f"bart={w['bart']}", *TINY_MHMS]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["family"] == "dailymail" and config["model_hparams"]["summary_mode"] == "segments"
    assert config["keyframe_visual"] == "colorhist"
    capsys.readouterr()
    assert evaluate(["--run", str(run), "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert {"rouge1", "rouge2", "rougeL", "keyframe_cos"} <= set(metrics) and "map" not in metrics
    assert 0 <= metrics["keyframe_cos"] <= 1
