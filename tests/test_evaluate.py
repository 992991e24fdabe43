"""models.evaluate: the TVSum references as Otani et al. publish them, a hand-worked case, bad input."""

import json
from pathlib import Path

import numpy as np
import pytest

from builders import tvsum
from builders.core.base import update_build_record
from builders.core.writers import ConfigWriter
from builders.core.schema import frame_score_features
from models import evaluate, evaluation

MAT = Path(__file__).resolve().parents[2] / "shared/data/tvsum/ydata-tvsum50.mat"


@pytest.fixture(scope="module")
def tvsum_hub(tmp_path_factory):
    if not MAT.exists():
        pytest.skip(f"{MAT} absent (the ../shared/data folder is not here)")
    out = tmp_path_factory.mktemp("tvsum") / "hub"
    assert tvsum.main(["--annotations", str(MAT), "--out", str(out), "--no-progress"]) == 0
    return out


def run_json(capsys, *argv):
    assert evaluate.main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_tvsum_human_reference_matches_otani(tvsum_hub, capsys):
    """Otani et al. (CVPR 2019) Table: TVSum human Kendall tau 0.177, Spearman rho 0.204."""
    m = run_json(capsys, "--dataset", str(tvsum_hub), "--baseline", "human")
    assert set(m) == {"f1", "kendall_tau", "spearman_rho"}
    assert m["kendall_tau"] == pytest.approx(0.177, abs=0.001)
    assert m["spearman_rho"] == pytest.approx(0.204, abs=0.001)
    assert 0.2 < m["f1"] < 0.35  # on the 2-second grid; KTS shots give the literature's ~0.54


def test_tvsum_random_and_uniform_have_no_rank_correlation(tvsum_hub, capsys):
    m = run_json(capsys, "--dataset", str(tvsum_hub), "--baseline", "random", "--trials", "1")
    assert abs(m["kendall_tau"]) < 0.01 and abs(m["spearman_rho"]) < 0.015
    assert 0.1 < m["f1"] < 0.2  # ~ the 15% budget: random 2 s shots overlap users' by chance
    u = run_json(capsys, "--dataset", str(tvsum_hub), "--baseline", "uniform")
    assert u["kendall_tau"] == 0.0 and u["spearman_rho"] == 0.0


def _tiny_dataset(out: Path, name: str = "tiny") -> Path:
    """One video of 10 frames, two annotators, shots [0-3] [4-5] [6-9], picks every 2nd frame."""
    features = frame_score_features(user_scores=False)
    row = {
        "id": "v", "video_id": "v", "title": "", "category": "", "n_frames": 10, "fps": 1.0, "duration": 10.0,
        "picks": np.arange(0, 10, 2), "frame_times": np.arange(0, 10, 2.0), "frame_scores": np.zeros(5, np.float32),
        "change_points": np.array([[0, 3], [4, 5], [6, 9]], np.int32), "n_frame_per_seg": np.array([4, 2, 4], np.int32),
        "user_summary": np.array([[0, 0, 0, 0, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]], np.int8),
    }
    with ConfigWriter(out, "annotations", features) as w:
        w.add("test", row)
    update_build_record(out, name, "annotations", {"features": features.to_dict()})
    return out


def test_hand_worked_human_f1(tmp_path, capsys):
    # user A = {4, 5}, user B = {4}. A vs B: P = 1/2, R = 1 -> F = 2/3. B vs A: P = 1, R = 1/2 -> F = 2/3.
    # Rank correlation (user_summary as scores): tau-b(A, B) = 0.6667 (the ties of 0s), both directions alike.
    m = run_json(capsys, "--dataset", str(_tiny_dataset(tmp_path / "hub")), "--baseline", "human")
    assert m["f1"] == pytest.approx(2 / 3)
    from scipy.stats import kendalltau

    a = [0, 0, 0, 0, 1, 1, 0, 0, 0, 0]
    b = [0, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert m["kendall_tau"] == pytest.approx(kendalltau(a, b)[0])


def test_hand_worked_uniform_summary(tmp_path, capsys):
    # Constant scores: every shot worth 0.5; budget floor(0.15 * 10) = 1 frame: no shot fits -> empty summary, F1 0.
    m = run_json(capsys, "--dataset", str(_tiny_dataset(tmp_path / "hub")), "--baseline", "uniform")
    assert m["f1"] == 0.0
    # With a 60% budget (6 frames): the best is two shots; [4-5] + one 4-frame shot = 6 frames.
    m = run_json(capsys, "--dataset", str(tmp_path / "hub"), "--baseline", "uniform", "--proportion", "0.6")
    # summary = {0..5} (earlier shot preferred on ties): vs A: P=2/6, R=1 -> 0.5; vs B: P=1/6, R=1 -> 2/7
    assert m["f1"] == pytest.approx((0.5 + 2 / 7) / 2)


def test_summe_is_scored_by_the_best_annotator(tmp_path):
    _tiny_dataset(tmp_path / "hub", name="summe-eccv16")
    assert evaluation.f1_mode_for(tmp_path / "hub") == "max"


def test_dataset_without_the_protocol_columns_names_them(tmp_path, capsys):
    from datasets import Features, Value

    with ConfigWriter(tmp_path / "hub", "x", Features({"id": Value("string")})) as w:
        w.add("train", {"id": "a"})
    assert evaluate.main(["--dataset", str(tmp_path / "hub"), "--baseline", "human"]) == 2
    err = capsys.readouterr().err
    assert "needs columns ['user_summary', 'change_points', 'n_frames']" in err and "has: id" in err


def test_unknown_split_and_config_are_named(tmp_path, capsys):
    hub = _tiny_dataset(tmp_path / "hub")
    assert evaluate.main(["--dataset", str(hub), "--baseline", "human", "--split", "validation"]) == 2
    assert "no split 'validation'; splits: test" in capsys.readouterr().err
    assert evaluate.main(["--dataset", str(hub), "--baseline", "human", "--config", "nope"]) == 2
    assert "no config 'nope'; configs: annotations" in capsys.readouterr().err
    assert evaluate.main(["--dataset", str(tmp_path / "missing"), "--baseline", "human"]) == 2
