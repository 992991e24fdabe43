"""Otani et al. rank correlation: per annotator then averaged, tau-b, the leave-one-out human reference."""

import numpy as np
import pytest

from models.metrics.rank import human_rank_correlation, rank_correlation

A = [1, 2, 3, 4]
B = [2, 1, 3, 4]  # one swapped pair vs A: tau = (5 - 1) / 6 = 2/3; rho = 1 - 6*2 / (4*15) = 0.8
C = [4, 3, 2, 1]  # A reversed: tau = rho = -1


def test_hand_computed_average_over_annotators():
    r = rank_correlation(np.array(A, float), np.array([A, B]))
    assert r["kendall_tau"] == pytest.approx((1 + 2 / 3) / 2)  # 5/6
    assert r["spearman_rho"] == pytest.approx((1 + 0.8) / 2)  # 0.9


def test_ties_use_tau_b():
    # pred ties frames 0 and 1: 5 concordant pairs, 0 discordant, 1 tied in x only
    # tau-b = (5 - 0) / sqrt((6 - 1) * (6 - 0)) = 5 / sqrt(30)
    r = rank_correlation(np.array([1, 1, 2, 3]), np.array([A]))
    assert r["kendall_tau"] == pytest.approx(5 / np.sqrt(30))


def test_single_annotator_vector():
    assert rank_correlation(np.array(A), np.array(B)) == pytest.approx({"kendall_tau": 2 / 3, "spearman_rho": 0.8})


def test_constant_prediction_counts_as_zero_not_nan():
    r = rank_correlation(np.full(4, 0.5), np.array([A, B]))
    assert r == {"kendall_tau": 0.0, "spearman_rho": 0.0}


def test_human_reference_is_leave_one_out():
    # pairs: AB (2/3, 0.8), AC (-1, -1), BC (-2/3, -0.8)
    # per annotator: A -> (2/3 - 1)/2 = -1/6, B -> 0, C -> (-1 - 2/3)/2 = -5/6; mean = -1/3 (tau)
    # rho: A -> -0.1, B -> 0, C -> -0.9; mean = -1/3
    h = human_rank_correlation(np.array([A, B, C]))
    assert h["kendall_tau"] == pytest.approx(-1 / 3)
    assert h["spearman_rho"] == pytest.approx(-1 / 3)


def test_human_needs_two_annotators_and_lengths_must_match():
    with pytest.raises(ValueError):
        human_rank_correlation(np.array([A]))
    with pytest.raises(ValueError):
        rank_correlation(np.arange(5), np.array([A]))
