"""Keyframe cosine as A2Summ's calc_video_cos: BLiSS min-max over all frames, Daily Mail raw, greedy matching."""

import numpy as np
import pytest

from models.metrics.keyframe import bliss_keyframe_cosine, dailymail_keyframe_cosine, greedy_match

GT = np.array([[1.0, 0.0], [0.0, 1.0]])
FRAMES = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])
# cosine GT x FRAMES:   g1: [1, 0, 0.7071, -1]   g2: [0, 1, 0.7071, 0]
# min-max over that whole [2, 4] matrix, (s + 1) / 2:
#                       g1: [1, 0.5, 0.8536, 0]   g2: [0.5, 1, 0.8536, 0.5]
HALF_DIAG = (1 + np.sqrt(0.5)) / 2  # 0.8536


def test_bliss_hand_computed():
    # predicted frames 0 and 2: columns [1, 0.8536] / [0.5, 0.8536]; greedy takes 1 at (g1, f0), then (g2, f2)
    assert bliss_keyframe_cosine(GT, FRAMES, [0, 2]) == pytest.approx((1 + HALF_DIAG) / 2)


def test_bliss_normalises_over_all_frames_and_breaks_ties_row_major():
    # predicted frames 2 and 3: [0.8536, 0] / [0.8536, 0.5]; the tie at 0.8536 goes to (g1, f2),
    # which leaves (g2, f3) = 0.5. Normalising over these two columns only would give other numbers.
    assert bliss_keyframe_cosine(GT, FRAMES, [2, 3]) == pytest.approx((HALF_DIAG + 0.5) / 2)
    # over the two predicted frames only: [0.7071, -1] / [0.7071, 0] -> min -1, range 1.7071
    # -> [1, 0] / [1, 1/1.7071]; greedy: 1 at (g1, f2), then (g2, f3) = 0.5858
    only_pred = bliss_keyframe_cosine(GT, FRAMES[[2, 3]])
    assert only_pred == pytest.approx((1 + 1 / (1 + np.sqrt(0.5))) / 2)


def test_bliss_matches_min_of_k_and_m():
    # all 4 frames predicted, K = 2: two matches, both 1.0
    assert bliss_keyframe_cosine(GT, FRAMES) == pytest.approx(1.0)
    assert len(greedy_match(np.ones((2, 5)))) == 2


def test_bliss_edge_cases():
    assert bliss_keyframe_cosine(GT, FRAMES, []) == 0.0  # empty prediction
    assert bliss_keyframe_cosine(GT[:1], np.ones((3, 2))) == 0.0  # constant matrix: normalised to all zeros
    with pytest.raises(ValueError):
        bliss_keyframe_cosine(np.zeros((0, 2)), FRAMES)  # no ground truth: cannot be scored
    with pytest.raises(ValueError):
        bliss_keyframe_cosine(GT, np.ones((3, 4)))  # feature size differs from the ground truth's


def test_dailymail_raw_cosine_with_greedy_matching():
    assert dailymail_keyframe_cosine(GT[:1], [[1.0, 1.0]]) == pytest.approx(np.sqrt(0.5))  # one pair: plain cosine
    # two references, one chosen frame (3, 4): cosines 0.6 and 0.8; one match, the larger
    assert dailymail_keyframe_cosine(GT, [[3.0, 4.0]]) == pytest.approx(0.8)
    assert dailymail_keyframe_cosine(GT, [[-1.0, 0.0], [0.0, -1.0]]) == pytest.approx(0.0)  # not min-max'd: 0, not 1
    assert dailymail_keyframe_cosine(GT, np.zeros((0, 2))) == 0.0
