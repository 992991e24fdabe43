"""Keyshot F-score (eccv16 / DSNet protocol): hand-computed users, modes, length rule, empty cases."""

import numpy as np
import pytest

from models.metrics.keyshot import f_score, fit_length, keyshot_f_score

PRED = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0], dtype=bool)
USERS = np.array(
    [
        [0, 1, 1, 1, 0, 0, 0, 0, 0, 0],  # overlap 2: P = 2/3, R = 2/3 -> F = 2/3
        [1, 0, 0, 0, 0, 0, 0, 0, 0, 1],  # overlap 1: P = 1/3, R = 1/2 -> F = 2(1/6)/(5/6) = 0.4
    ],
    dtype=bool,
)


def test_hand_computed_mean_and_max():
    assert keyshot_f_score(PRED, USERS, mode="mean") == pytest.approx((2 / 3 + 0.4) / 2)  # TVSum: 0.5333
    assert keyshot_f_score(PRED, USERS, mode="max") == pytest.approx(2 / 3)  # SumMe


def test_single_user_as_a_vector():
    assert keyshot_f_score(PRED, USERS[1]) == pytest.approx(0.4)


def test_empty_prediction_and_no_overlap_score_zero():
    assert keyshot_f_score(np.zeros(10, bool), USERS) == 0.0
    assert keyshot_f_score(~USERS[0], USERS[0][None]) == 0.0
    assert f_score(np.zeros(4, bool), np.zeros(4, bool)) == 0.0  # empty user summary too, never NaN


def test_prediction_is_cut_or_padded_to_the_users_length():
    longer = np.r_[PRED, np.ones(5, bool)]  # frames past n_frames are ignored
    assert keyshot_f_score(longer, USERS) == pytest.approx(keyshot_f_score(PRED, USERS))
    shorter = PRED[:3]  # padded with False: the same summary
    assert keyshot_f_score(shorter, USERS) == pytest.approx(keyshot_f_score(PRED, USERS))
    assert fit_length([1, 0], 4).tolist() == [True, False, False, False]


def test_bad_mode_and_no_users_raise():
    with pytest.raises(ValueError):
        keyshot_f_score(PRED, USERS, mode="avg")
    with pytest.raises(ValueError):
        keyshot_f_score(PRED, np.zeros((0, 10), bool))
