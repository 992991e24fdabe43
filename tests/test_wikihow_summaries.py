"""builders.wikihow_summaries from the authors' release layout, and HierSum Table 5's protocol (top 55%)."""

import json

import numpy as np
import pytest
from datasets import load_dataset
from wikihow_fixtures import FPS, write_wikihow_release

from builders import wikihow_summaries
from models.evaluate import main as evaluate
from models.protocols import wikihow_example


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("wikihow")
    release = write_wikihow_release(root)
    code = wikihow_summaries.main(["--input", str(release["data"]), "--videos", str(release["videos"]),
                                   "--pseudo-videos", str(release["pseudo_videos"]), "--visual", "colorhist",
                                   "--out", str(root / "hub"), "--work", str(root / "work"), "--workers", "0",
                                   "--no-progress"])
    assert code == 3  # two tasks failed (no video, no steps file), the rest built
    return root, release


@pytest.mark.slow  # builds the release with the extraction job (~30 s here)
def test_release_becomes_a_test_config_and_a_pseudo_training_config(built):
    root, release = built
    test = load_dataset(str(root / "hub"), "wikihow-colorhist", split="test")
    assert test["id"] == ["Bake-Salmon", "Boil-Eggs"]
    ex = test[0]
    assert ex["video_id"] == "BakeID12345" and ex["title"] == "Bake Salmon" and ex["fps"] == pytest.approx(FPS)
    assert ex["steps"] == ["Bake-Salmon step 1.", "Bake-Salmon step 2.", "Bake-Salmon step 10."]  # step order
    assert ex["n_frames"] == 6 * FPS and np.flatnonzero(ex["user_summary"][0]).tolist() == list(range(20, 40))
    times = np.asarray(ex["frame_times"])
    assert len(times) == 6 and np.array(ex["frames_colorhist"]).shape[0] == 6
    assert ex["frame_labels"] == [int(2 <= t < 4) for t in times]
    pseudo = load_dataset(str(root / "hub"), "pseudo-colorhist", split="train")
    row = pseudo[0]  # machine_summary [0, 1] over 4-s segments
    assert row["video_id"] == "abcdefghijk"
    assert row["frame_labels"] == [int(t >= 4) for t in row["frame_times"]]
    assert row["frame_scores"] == pytest.approx([0.9 if t >= 4 else 0.2 for t in row["frame_times"]])
    record = json.loads((root / "hub" / "build.json").read_text())
    failures = {f["id"]: f["kind"] for f in record["configs"]["wikihow-colorhist"]["failures"]["items"]}
    assert failures == {"No-Video": "unavailable", "No-Steps": "bad_annotation"}
    assert "wikihow-summaries" in record["card"]["tags"]


def test_table_5_protocol_top_55_percent_hand_worked():
    # 10 frames at 1 fps (1 video frame per sample, fps 1); summary = frames 2..5; top 55% = 5 frames
    row = {"id": "t", "n_frames": 10, "fps": 1.0, "frame_times": np.arange(10) + 0.5,
           "user_summary": [[0, 0, 1, 1, 1, 1, 0, 0, 0, 0]]}
    scores = np.array([0, 0, 9, 8, 7, 6, 5, 0, 0, 0], float) + np.arange(10) * 0.01
    m = wikihow_example(row, {"video_scores": scores})
    # chosen: frames 2..6 (5 frames), overlap 4 -> precision 4/5, recall 1 -> F1 = 8/9
    assert m["f1"] == pytest.approx(8 / 9) and m["kendall_tau"] > 0 and m["spearman_rho"] > 0


@pytest.mark.slow  # builds the release with the extraction job (~30 s here)
def test_table_5_columns_from_models_evaluate(built, capsys):
    root, _ = built
    capsys.readouterr()
    assert evaluate(["--dataset", str(root / "hub"), "--config", "wikihow-colorhist", "--baseline", "random"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "protocol wikihow" in lines[0]
    rows = [ln.split() for ln in lines[1:]]
    assert [r[0] for r in rows] == ["f1", "kendall_tau", "spearman_rho"]  # Table 5: F1, tau, rho
    assert len(rows[0][1].split(".")[1]) == 2 and len(rows[1][1].split(".")[1]) == 3  # %, fractions


def test_missing_release_files_are_one_line(tmp_path, capsys):
    (tmp_path / "videos").mkdir()
    assert wikihow_summaries.main(["--input", str(tmp_path), "--videos", str(tmp_path / "videos"),
                                   "--out", str(tmp_path / "hub")]) == 2
    assert "wikihow_summ_annt.json not found" in capsys.readouterr().err
