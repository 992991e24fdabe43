"""CFSum Table I from models.evaluate: --protocol tvsum-top5 (UMT's top-5 mAP on 2-second clips, per category)."""

import json

import numpy as np
import pytest

from builders.core.base import update_build_record
from builders.core.schema import frame_score_features
from builders.core.writers import ConfigWriter
from models.evaluate import main
from models.metrics.highlight import tvsum_top5_map
from models.protocols import clip_means

# one annotator, 14 frames at 1 fps -> 7 two-second clips; scores constant within each clip
USER = np.repeat([1, 5, 2, 4, 3, 1, 5], 2).astype(np.float32)


def tiny_row(vid: str, cat: str, features: np.ndarray | None = None, user: np.ndarray = USER) -> dict:
    row = {"id": vid, "video_id": vid, "title": "", "category": cat, "n_frames": 14, "fps": 1.0,
           "duration": 14.0, "picks": np.arange(0, 14, 2), "frame_times": np.arange(0, 14, 2.0),
           "frame_scores": np.zeros(7, np.float32), "change_points": np.array([[0, 6], [7, 13]], np.int32),
           "n_frame_per_seg": np.array([7, 7], np.int32), "user_summary": np.zeros((1, 14), np.int8),
           "user_scores": user[None], "gt_score": user, "shot_grid": np.array([[0, 13]], np.int32)}
    return row if features is None else {**row, "frames_vis": features}


def tiny_tvsum(out, categories=("VT", "GA")):
    features = frame_score_features()
    with ConfigWriter(out, "annotations", features) as w:
        for i, cat in enumerate(categories):
            w.add("test", tiny_row(f"v{i}", cat))
    update_build_record(out, "tvsum", "annotations", {"features": features.to_dict()})
    return out


def tiny_tvsum_umt(out, categories=("VT", "GA")):
    """As builders.tvsum --split umt lays it out: a config per category (here 2 videos train, 1 test), with features."""
    features, rng = frame_score_features("vis", 6), np.random.default_rng(0)
    for k, cat in enumerate(categories):
        with ConfigWriter(out, f"vis-umt-{cat}", features) as w:
            for i, split in enumerate(("train", "train", "test")):
                user = np.roll(USER, 2 * (k + i))  # each video its own highlights
                w.add(split, tiny_row(f"{cat}{i}", cat, rng.random((7, 6)).astype(np.float32), user))
        update_build_record(out, "tvsum", f"vis-umt-{cat}", {"features": features.to_dict(), "family": "tvsum"})
    return out


def test_clip_means_are_two_second_means():
    assert clip_means(np.arange(6.0), fps=1.0).tolist() == [0.5, 2.5, 4.5]
    assert clip_means(np.array([[1.0, 3.0, 5.0, 7.0]]), fps=1.5).tolist() == [[3.0, 7.0]]  # 3 frames a clip, last short


def test_top5_per_category_and_avg_in_the_papers_columns(tmp_path, capsys):
    hub = tiny_tvsum(tmp_path / "hub")
    # one score per pick (every 2nd frame = one per clip): v0 ranks clips 1, 3, 6, 4, 2 on top; v1 the reverse order
    preds = {"v0": [0.0, 0.9, 0.3, 0.8, 0.5, 0.1, 0.7], "v1": [0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1]}
    path = tmp_path / "preds.json"
    path.write_text(json.dumps(preds))
    args = ["--dataset", str(hub), "--split", "test", "--predictions", str(path), "--format", "mrhisum",
            "--protocol", "tvsum-top5"]
    assert main([*args, "--json"]) == 0
    raw = json.loads(capsys.readouterr().out)
    # positives: score above the lower median (3 of 1 1 2 3 4 5 5 -> median 3): clips 1, 3, 6 (5, 4, 5)
    # v0 top 5 = clips 1, 3, 6, 4, 2 -> hits at ranks 1-3: AP 1; v1 top 5 = clips 0..4 -> hits at ranks 2 and 4
    assert raw["VT"] == pytest.approx(1.0)
    assert raw["GA"] == pytest.approx(tvsum_top5_map(np.array(preds["v1"]), USER[None, ::2]))
    assert 0 < raw["GA"] < 1 and raw["Avg."] == pytest.approx((raw["VT"] + raw["GA"]) / 2)
    assert list(raw) == ["VT", "GA", "Avg."]  # Table I's order (VT VU GA ... DS Avg.), the categories present
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "protocol tvsum_top5" in lines[0]
    assert [ln.split() for ln in lines[1:]] == [["VT", "100.00"], ["GA", f"{100 * raw['GA']:.2f}"],
                                                ["Avg.", f"{100 * raw['Avg.']:.2f}"]]


def test_without_the_flag_a_tvsum_build_keeps_keyshot_f1_and_a_build_without_categories_is_refused(tmp_path, capsys):
    hub = tiny_tvsum(tmp_path / "hub")
    assert main(["--dataset", str(hub), "--baseline", "uniform", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"f1", "kendall_tau", "spearman_rho"}
    assert main(["--dataset", str(hub), "--baseline", "random", "--protocol", "tvsum-top5", "--json"]) == 0
    assert list(json.loads(capsys.readouterr().out)) == ["VT", "GA", "Avg."]
    from test_evaluate import _tiny_dataset
    other = _tiny_dataset(tmp_path / "nocat")  # no user_scores
    assert main(["--dataset", str(other), "--baseline", "random", "--protocol", "tvsum-top5"]) == 2
    assert "needs TVSum's columns ['user_scores']" in capsys.readouterr().err


@pytest.mark.slow  # trains two 1-epoch runs
def test_table_i_is_assembled_from_a_run_per_category(tmp_path, capsys):
    from models.train import main as train

    hub = tiny_tvsum_umt(tmp_path / "hub")
    runs = {}
    for cat in ("VT", "GA"):
        runs[cat] = tmp_path / f"run{len(runs)}"
        assert train(["--model", "cfsum", "--dataset", str(hub), "--config", f"vis-umt-{cat}", "--protocol",
                      "tvsum-top5", "--epochs", "1", "--hparam", "hidden=16", "--out", str(runs[cat]),
                      "--no-progress"]) == 0
    single, _ = {}, capsys.readouterr()
    for cat, run in runs.items():
        assert main(["--run", str(run), "--protocol", "tvsum-top5", "--json"]) == 0
        single[cat] = json.loads(capsys.readouterr().out)[cat]
    assert single["VT"] != single["GA"]  # so a value in the wrong column shows
    assert main(["--table", "cfsum-1", "--run", str(runs["GA"]), "--run", str(runs["VT"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"VT": pytest.approx(single["VT"]), "GA": pytest.approx(single["GA"]),
                                                   "Avg.": pytest.approx((single["VT"] + single["GA"]) / 2)}
    assert main(["--table", "cfsum-1", "--run", str(runs["VT"]), "--run", str(runs["GA"])]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].split(" | ") == ["VT", "VU", "GA", "MS", "PK", "PR", "FM", "BK", "BT", "DS", "Avg."]
    assert lines[-1].split(" | ") == [f"{100 * single['VT']:.2f}", "-", f"{100 * single['GA']:.2f}"] + ["-"] * 7 + [
        f"{100 * (single['VT'] + single['GA']) / 2:.2f}"]
    assert main(["--table", "cfsum-1", "--run", str(runs["VT"]), "--run", str(runs["VT"])]) == 2
    assert capsys.readouterr().err.count("both fill cfsum-1's column VT") == 1
