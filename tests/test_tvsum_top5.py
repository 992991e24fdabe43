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


def tiny_tvsum(out, categories=("VT", "GA")):
    features = frame_score_features()
    with ConfigWriter(out, "annotations", features) as w:
        for i, cat in enumerate(categories):
            w.add("test", {
                "id": f"v{i}", "video_id": f"v{i}", "title": "", "category": cat, "n_frames": 14, "fps": 1.0,
                "duration": 14.0, "picks": np.arange(0, 14, 2), "frame_times": np.arange(0, 14, 2.0),
                "frame_scores": np.zeros(7, np.float32), "change_points": np.array([[0, 6], [7, 13]], np.int32),
                "n_frame_per_seg": np.array([7, 7], np.int32), "user_summary": np.zeros((1, 14), np.int8),
                "user_scores": USER[None], "gt_score": USER, "shot_grid": np.array([[0, 13]], np.int32),
            })
    update_build_record(out, "tvsum", "annotations", {"features": features.to_dict()})
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
