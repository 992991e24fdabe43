"""VMSMO cover-frame ranking (MHMS Table 1): AP and R_n@k, samples without a positive skipped."""

import numpy as np
import pytest

from models.metrics.cover import average_precision, cover_metrics, recall_at_k

ONE = np.array([0.1, 0.2, 0.9, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])  # ranking: 2, 3, 1, 0, ...
ONE_LABELS = np.eye(10, dtype=int)[3]  # the cover frame is candidate 3: rank 2
TWO = np.array([0.9, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0, 0.0, 0.0, 0.0])  # ranking 0, 1, 2, ...
TWO_LABELS = np.array([1, 0, 1, 0, 0, 0, 0, 0, 0, 0])  # positives at ranks 1 and 3


def test_single_cover_frame_hand_computed():
    assert average_precision(ONE, ONE_LABELS) == pytest.approx(1 / 2)  # 1 / rank
    assert [recall_at_k(ONE, ONE_LABELS, k) for k in (1, 2, 5)] == [0.0, 1.0, 1.0]


def test_two_positives_hand_computed():
    assert average_precision(TWO, TWO_LABELS) == pytest.approx((1 / 1 + 2 / 3) / 2)  # 5/6
    assert [recall_at_k(TWO, TWO_LABELS, k) for k in (1, 2, 5)] == [0.5, 0.5, 1.0]


def test_corpus_skips_samples_without_positive():
    scores = np.stack([ONE, TWO, TWO])
    labels = np.stack([ONE_LABELS, TWO_LABELS, np.zeros(10, int)])
    m = cover_metrics(scores, labels)
    assert m == pytest.approx({"map": (0.5 + 5 / 6) / 2, "r10@1": 0.25, "r10@2": 0.75, "r10@5": 1.0})
    assert np.isnan(average_precision(TWO, np.zeros(10)))


def test_ties_keep_candidate_order():
    assert average_precision(np.zeros(10), np.eye(10, dtype=int)[0]) == 1.0
    assert average_precision(np.zeros(10), np.eye(10, dtype=int)[9]) == pytest.approx(1 / 10)


def test_shape_errors():
    with pytest.raises(ValueError):
        cover_metrics(np.zeros((2, 10)), np.zeros((2, 10), int))  # no positive at all
    with pytest.raises(ValueError):
        cover_metrics(np.zeros(10), np.zeros(10, int))
