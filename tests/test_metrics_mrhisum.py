"""Mr.HiSum MAP: 5-second clip means, top-rho ground-truth clips as positives, AP of predicted clip scores."""

import numpy as np
import pytest

from models.metrics.mrhisum import clip_scores, highlight_ap, mrhisum_map, top_fraction


def frames(clip_means, size=5):
    return np.repeat(np.asarray(clip_means, float), size)


def test_clips_are_5_seconds_with_a_partial_tail():
    assert clip_scores(np.arange(12.0)).tolist() == [2.0, 7.0, 10.5]  # [0..4], [5..9], [10, 11]
    assert clip_scores(np.arange(20.0), fps=2.0).tolist() == [4.5, 14.5]  # 10 frames per clip at 2 fps


def test_hand_computed_map50_and_no_positive_at_15():
    gt = frames([0.1, 0.9, 0.5, 0.3])  # 4 clips: top int(4 * 0.5) = 2 -> clips 1 and 2 positive
    pred = frames([0.2, 0.1, 0.8, 0.4])  # ranking: clip 2 (+), 3, 0, 1 (+)
    # AP = (precision at rank 1 + precision at rank 4) / 2 = (1 + 2/4) / 2 = 0.75
    # 15%: int(4 * 0.15) = 0 positives -> 0.0
    assert mrhisum_map(pred, gt) == pytest.approx({"map50": 0.75, "map15": 0.0})


def test_positives_are_rounded_down_and_ties_go_to_the_earlier_clip():
    assert top_fraction(np.arange(20.0), 0.15).sum() == 3  # int(20 * 0.15)
    assert top_fraction(np.arange(7.0), 0.5).tolist() == [0, 0, 0, 0, 1, 1, 1]  # 7 // 2 = 3
    assert top_fraction(np.array([1.0, 1.0, 1.0, 0.0]), 0.5).tolist() == [1, 1, 0, 0]


def test_perfect_and_constant_predictions():
    gt = frames(np.linspace(0, 1, 20))
    assert highlight_ap(gt, gt, 0.15) == pytest.approx(1.0)
    # a constant prediction ties every clip: AP = fraction of positives (sklearn, one threshold)
    assert highlight_ap(np.zeros(gt.size), gt, 0.5) == pytest.approx(0.5)


def test_length_mismatch_raises():
    with pytest.raises(ValueError):
        highlight_ap(np.zeros(10), np.zeros(11), 0.5)
