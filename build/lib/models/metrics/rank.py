"""Rank correlation between predicted importance scores and the annotators' scores.

Protocol: Otani et al., "Rethinking the evaluation of video summaries" (CVPR 2019), as in their
released notebook (``rank order statistics.ipynb``): for one video, Kendall's tau
(``scipy.stats.kendalltau``, tau-b; Otani pass ``rankdata(-x)`` which is the same statistic) and
Spearman's rho (``scipy.stats.spearmanr``) between the prediction and EACH annotator, averaged over
annotators; the caller then averages the per-video values over videos. A2Summ (Table 2) and
HierSum report these numbers; Otani's "Human" row (TVSum 0.177 / 0.204) is
``human_rank_correlation``: each annotator against every other one, averaged.

Input: ``user_scores`` is [annotators, n] and ``pred`` is [n], at the same rate. For TVSum the
protocol is frame level: the 20 per-annotator importance scores of ``ydata-tvsum50.mat``
(``user_anno``, stored per frame, transposed to [20, n_frames]) against the prediction upsampled to
every frame (each sampled score held until the next sampled frame, as DSNet / A2Summ upsample; they score frames before the first pick 0, we give them the first score: the same when picks start at frame 0, as in eccv16).
For SumMe the users' binary summaries play the annotators' scores.

Undefined correlations: when either side is constant (e.g. a constant prediction) scipy returns
NaN, and Otani's code would turn the whole average into NaN. We count it as 0.0: a constant
ranking carries no order information, and 0 is what a random ranking scores on average (Otani's
"Random" row), so one degenerate video neither poisons nor inflates the mean over videos.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import kendalltau, spearmanr


def _pair(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(tau-b, rho) of two score vectors; 0.0 where scipy says undefined."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConstantInputWarning / SmallSampleWarning -> handled below
        tau = float(kendalltau(x, y).statistic)
        rho = float(spearmanr(x, y).statistic)
    return (0.0 if np.isnan(tau) else tau), (0.0 if np.isnan(rho) else rho)


def _users(user_scores: np.ndarray) -> np.ndarray:
    users = np.asarray(user_scores, dtype=np.float64)
    if users.ndim == 1:
        users = users[None, :]
    if users.ndim != 2 or users.shape[0] == 0:
        raise ValueError(f"user_scores must be [annotators, n] with at least one annotator, got {users.shape}")
    return users


def rank_correlation(pred: np.ndarray, user_scores: np.ndarray) -> dict[str, float]:
    """Kendall's tau-b and Spearman's rho of ``pred`` [n] against each annotator [annotators, n], averaged."""
    users = _users(user_scores)
    pred = np.asarray(pred, dtype=np.float64).ravel()
    if pred.size != users.shape[1]:
        raise ValueError(f"pred has {pred.size} scores but the annotators have {users.shape[1]}: upsample to the same rate")
    pairs = np.array([_pair(pred, u) for u in users])
    return {"kendall_tau": float(pairs[:, 0].mean()), "spearman_rho": float(pairs[:, 1].mean())}


def human_rank_correlation(user_scores: np.ndarray) -> dict[str, float]:
    """Otani's "Human" reference for one video: annotator i against each j != i, averaged over j then i.

    Every annotator has the same number of others, so that mean equals the mean over unordered
    pairs, which is what we compute (each correlation is symmetric). Needs two annotators or more.
    """
    users = _users(user_scores)
    n = users.shape[0]
    if n < 2:
        raise ValueError("the human reference needs at least two annotators (leave-one-out)")
    pairs = np.array([_pair(users[i], users[j]) for i in range(n) for j in range(i + 1, n)])
    return {"kendall_tau": float(pairs[:, 0].mean()), "spearman_rho": float(pairs[:, 1].mean())}
