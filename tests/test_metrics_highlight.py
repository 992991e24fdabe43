"""Highlight detection as UMT / Moment-DETR score it (CFSum Tables I-III): hand-computed APs and HIT@1."""

import numpy as np
import pytest

from models.metrics.highlight import (
    get_ap,
    lower_median,
    qvhighlights_gt_scores,
    qvhighlights_hit1,
    qvhighlights_map,
    trapezoid_ap,
    tvsum_top5_map,
    youtube_highlights_ap,
)

RANKED = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.1])  # clips already in predicted order


def test_lower_median_is_torch_median():
    assert lower_median([1, 2, 3, 4]) == 2.0
    assert lower_median([5, 1, 4, 1, 3, 2]) == 2.0


def test_tvsum_top5_hand_computed():
    # annotator [5,1,4,1,3,2]: lower median 2 -> positives [1,0,1,0,1,0]; top 5 ranked: [1,0,1,0,1], 3 positives
    # trapezoids (rec, prc): (1/3, 1) -> 1/3*(1+1)/2 = 1/3; (1/3, 1/2) -> 0; (2/3, 2/3) -> 1/3*(1/2+2/3)/2 = 7/36;
    # (2/3, 1/2) -> 0; (1, 3/5) -> 1/3*(1/2+3/5)/2 = 11/60.  AP = 1/3 + 7/36 + 11/60 = 128/180
    assert tvsum_top5_map(RANKED, [[5, 1, 4, 1, 3, 2]]) == pytest.approx(128 / 180)
    # a second annotator with constant scores has no clip above their median: AP 0, the video's mean halves
    assert tvsum_top5_map(RANKED, [[5, 1, 4, 1, 3, 2], [3] * 6]) == pytest.approx(64 / 180)


def test_tvsum_keeps_only_the_top_5():
    # the only positive is ranked 6th: outside the top 5 -> AP 0
    assert tvsum_top5_map(RANKED, [[1, 1, 1, 1, 1, 5]]) == 0.0


def test_youtube_ranks_all_clips_hand_computed():
    # ranking by pred [0.1, 0.9, 0.5, 0.3] -> labels [0, 1, 0, 1]:
    # (0, 0) -> 0; (1/2, 1/2) -> 1/2*(0+1/2)/2 = 1/8; (1/2, 1/3) -> 0; (1, 1/2) -> 1/2*(1/3+1/2)/2 = 5/24 -> 1/3
    assert youtube_highlights_ap([0.1, 0.9, 0.5, 0.3], [1, 0, 1, 0]) == pytest.approx(1 / 3)
    assert youtube_highlights_ap([0.1, 0.9], [0, 0]) == 0.0
    assert trapezoid_ap([1, 1]) == pytest.approx(1.0)


def test_ties_keep_time_order():
    assert youtube_highlights_ap([0.5, 0.5, 0.5], [0, 0, 1]) == pytest.approx(trapezoid_ap([0, 0, 1]))


def test_qvhighlights_get_ap_hand_computed():
    # pred ranks labels [1, 0, 1, 0]: precision_recall_curve (ascending thresholds): P [.5, 2/3, .5, 1, 1],
    # R [1, 1, .5, .5, 0]; running max of P -> [.5, 2/3, 2/3, 1, 1]; recall steps after indices 1 and 3
    # -> mean(2/3, 1) = 5/6
    assert get_ap(np.array([0, 1, 0, 1]), np.array([0.1, 0.9, 0.5, 0.3])) == pytest.approx(5 / 6)
    # with tied scores the step mean differs from sklearn's AP (0.5833): P [2/3, .5, 1] -> [2/3, 2/3, 1],
    # steps at indices 0 and 1 -> 2/3
    assert get_ap(np.array([1, 0, 1]), np.array([0.5, 0.5, 0.1])) == pytest.approx(2 / 3)
    assert get_ap(np.ones(3), np.zeros(3)) == 1.0 and get_ap(np.zeros(3), np.zeros(3)) == 0.0


def test_qvhighlights_very_good_map_and_hit1():
    gt = np.array([[0, 4, 0, 4], [4, 4, 4, 4], [3, 3, 3, 3]])  # 3 annotators; >= 4 is "Very Good"
    pred = [0.1, 0.9, 0.5, 0.3]
    assert qvhighlights_map(pred, gt) == pytest.approx((5 / 6 + 1 + 0) / 3)
    assert qvhighlights_hit1(pred, gt) == 1.0  # clip 1 is Very Good for annotators 1 and 2
    assert qvhighlights_hit1([1.0, 0, 0, 0], gt[[0, 2]]) == 0.0  # clip 0: 0 and 3, nobody >= 4
    assert qvhighlights_hit1([1.0, 0, 0, 0], gt) == 1.0  # annotator 2 gave 4: any annotator counts
    assert qvhighlights_hit1([0, 0, 0, 0, 9.0], gt) == 0.0  # top clip past the video's clips


def test_qvhighlights_prediction_is_cut_or_zero_padded():
    gt = np.array([[0, 4, 0, 4]] * 3)
    assert qvhighlights_map([0.1, 0.9, 0.5, 0.3, 7.0], gt) == pytest.approx(5 / 6)
    assert qvhighlights_map([0.1, 0.9], gt) == pytest.approx(get_ap(gt[0] >= 4, np.array([0.1, 0.9, 0, 0])))


def test_qvhighlights_gt_scores_layout():
    gt = qvhighlights_gt_scores(10.0, [1, 3], [[4, 4, 2], [3, 4, 2]])
    assert gt.tolist() == [[0, 4, 0, 3, 0], [0, 4, 0, 4, 0], [0, 2, 0, 2, 0]]
    assert qvhighlights_gt_scores(5.0, [], []).shape == (3, 2)


def test_length_mismatch_raises():
    with pytest.raises(ValueError):
        tvsum_top5_map([0.1, 0.2], [[1, 2, 3]])
