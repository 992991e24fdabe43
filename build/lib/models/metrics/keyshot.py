"""Keyshot F-score: a predicted binary summary against the users' binary summaries.

Protocol: the "eccv16" evaluation of Zhang et al. (2016), as implemented by DSNet's
``get_summ_f1score`` and reused verbatim by A2Summ (``helpers/vsumm_helper.py``) for the F1 of its
Table 2 (TVSum, SumMe); HierSum follows A2Summ for TVSum and WikiHow. Mr.HiSum's released code
scores its single ground-truth summary with PGL-SUM's ``evaluate_summary`` (both vectors padded to
the longer length, ``avg``, a 1e-8-per-frame smoothing in the denominators), which gives the same
number, to that smoothing, whenever the prediction is no longer than the ground truth.

Per user: precision = overlap / predicted frames, recall = overlap / user frames,
F = 2PR / (P + R), and F = 0 when the overlap is 0 (so an empty prediction or an empty user summary
scores 0, never NaN). Users are combined by ``mean`` (TVSum, Mr.HiSum) or ``max`` (SumMe).

Length mismatch: like DSNet, the prediction is cut to the users' ``n_frames`` or padded with
``False`` up to it; the user summaries define the length. (PGL-SUM pads both sides to the longer
length instead; the two differ only when the prediction is longer and selects frames past
``n_frames``.)
"""

from __future__ import annotations

import numpy as np

MODES = ("mean", "max")


def fit_length(pred: np.ndarray, n_frames: int) -> np.ndarray:
    """The prediction cut or False-padded to ``n_frames`` (DSNet's rule)."""
    pred = np.asarray(pred, dtype=bool).ravel()
    if pred.size >= n_frames:
        return pred[:n_frames]
    return np.pad(pred, (0, n_frames - pred.size))


def f_score(pred: np.ndarray, user: np.ndarray) -> float:
    """F-measure of two equal-length binary vectors; 0 when they share no frame."""
    pred = np.asarray(pred, dtype=bool)
    user = np.asarray(user, dtype=bool)
    overlap = int(np.sum(pred & user))
    if overlap == 0:
        return 0.0
    precision = overlap / int(pred.sum())
    recall = overlap / int(user.sum())
    return float(2 * precision * recall / (precision + recall))


def keyshot_f_score(pred: np.ndarray, user_summaries: np.ndarray, mode: str = "mean") -> float:
    """F-score of a binary summary [n] against user summaries [users, n_frames] (or one user [n_frames]).

    ``mode="mean"`` for TVSum (and Mr.HiSum), ``"max"`` for SumMe.
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    users = np.asarray(user_summaries, dtype=bool)
    if users.ndim == 1:
        users = users[None, :]
    if users.ndim != 2 or users.shape[0] == 0:
        raise ValueError(f"user_summaries must be [users, n_frames] with at least one user, got {users.shape}")
    pred = fit_length(pred, users.shape[1])
    scores = [f_score(pred, user) for user in users]
    return float(np.mean(scores) if mode == "mean" else np.max(scores))
