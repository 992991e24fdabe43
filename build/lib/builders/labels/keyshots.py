"""Predicted scores -> keyshot summary: the eccv16 evaluation protocol (Zhang et al. 2016), and the
variants of DSNet and A2Summ, which build keyshots differently (``PROTOCOLS``).

eccv16 (the default, ``vsum_tools.generate_summary`` of the eccv16 line of code):

1. Scores predicted at sampled frames ``picks`` are spread to every frame: frame f takes the
   score of the last pick <= f (the tail after the last pick takes the last score).
2. Each shot (a row [start, end] of ``change_points``, inclusive) scores the MEAN of its frames,
   not the sum: that is the protocol, and it lets several short shots beat one long one.
3. An exact 0/1 knapsack picks shots: values = shot scores, weights = shot lengths, capacity =
   floor(proportion * n_frames) frames (eccv16 floors; so does ``int()`` for positive numbers).
4. The chosen shots' frames are 1, the rest 0.

``dsnet`` (DSNet ``src/helpers/vsumm_helper.py`` ``get_keyshot_summ``): frames before the first pick
score 0 and frame scores are float32; a shot scores ``int(1000 * mean)`` (an integer, truncated), so
shots whose means differ by less than 0.001 tie, and shots under 0.001 are worth 0; the knapsack is
OR-tools' dynamic-programming solver on those integers (same capacity, floor), reproduced by
``builders.labels.knapsack.knapsack_ortools_dp`` (it may pack zero-value shots, which ours never does). ``a2summ`` (A2Summ ``helpers/vsumm_helper.py``,
``seg_score_mode='mean'``): DSNet's steps with capacity ``int(round(proportion * n_frames))``
(Python's round: half to even) instead of floor. On real scores the three differ only where the
integer truncation creates or breaks a tie, or the rounded budget admits one more frame, but
then they pick different shots (see tests/test_keyshots.py).

Ties: our knapsack and OR-tools' DP solver both take an item only when it strictly improves the
best total, and both trace back from the last item that improved the full capacity, so with
positive values they pick the same shots among equal-value optima (checked against OR-tools 9.15
on 20,000 random integer instances with many ties; OR-tools is not a dependency).
"""

from __future__ import annotations

import math

import numpy as np

from builders.labels.knapsack import knapsack, knapsack_ortools_dp

PROTOCOLS = ("eccv16", "dsnet", "a2summ")


def upsample_scores(step_scores, picks, n_frames: int) -> np.ndarray:
    """Per-frame scores [n_frames] from scores at the sampled frames ``picks``.

    ``picks`` must be strictly increasing frame indices in [0, n_frames). Frames before the first
    pick (none when picks start at 0, as in eccv16) take the first score.
    """
    scores = np.asarray(step_scores, dtype=np.float64).reshape(-1)
    picks = np.asarray(picks).reshape(-1)
    if not (isinstance(n_frames, (int, np.integer)) and n_frames >= 1):
        raise ValueError(f"n_frames must be an integer >= 1, got {n_frames!r}")
    if len(scores) != len(picks) or len(picks) == 0:
        raise ValueError(f"need one score per pick and at least one pick, got {len(scores)} scores, {len(picks)} picks")
    if not np.all(np.isfinite(scores)):
        raise ValueError("step_scores must be finite")
    if not (np.issubdtype(picks.dtype, np.number) and np.all(picks == np.round(picks))):
        raise ValueError("picks must be integer frame indices")  # integral floats pass: some h5 files store them so
    picks = picks.astype(np.int64)
    if picks[0] < 0 or picks[-1] >= n_frames or np.any(np.diff(picks) <= 0):
        raise ValueError(f"picks must be strictly increasing frame indices in [0, {n_frames})")
    last_pick = np.searchsorted(picks, np.arange(n_frames), side="right") - 1
    return scores[np.maximum(last_pick, 0)]


def shot_scores(frame_scores, change_points) -> np.ndarray:
    """Mean frame score of each shot [S]; ``change_points`` rows are inclusive [start, end]."""
    frames = np.asarray(frame_scores, dtype=np.float64).reshape(-1)
    cp = _check_shots(change_points, len(frames))
    sums = np.concatenate([[0.0], np.cumsum(frames)])
    return (sums[cp[:, 1] + 1] - sums[cp[:, 0]]) / (cp[:, 1] - cp[:, 0] + 1)


def budget(n_frames: int, proportion: float, protocol: str = "eccv16") -> int:
    """The knapsack capacity in frames: floor (eccv16, DSNet) or Python's round (A2Summ) of proportion * n."""
    if protocol == "a2summ":
        return int(round(n_frames * proportion))
    return math.floor(proportion * n_frames)


def keyshot_summary(step_scores, change_points, n_frames: int, picks, proportion: float = 0.15,
                    protocol: str = "eccv16") -> np.ndarray:
    """uint8 [n_frames]: 1 on the frames of the shots the knapsack keeps within the budget, by ``protocol``."""
    if not (0 <= proportion <= 1):
        raise ValueError(f"proportion must be in [0, 1], got {proportion!r}")
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown keyshot protocol {protocol!r}; choose from {', '.join(PROTOCOLS)}")
    frames = upsample_scores(step_scores, picks, n_frames)
    cp = _check_shots(change_points, n_frames)
    lengths = cp[:, 1] - cp[:, 0] + 1
    if protocol == "eccv16":
        values = shot_scores(frames, cp)
    else:  # DSNet / A2Summ: float32 frames, 0 before the first pick, shot score int(1000 * mean)
        frames = frames.astype(np.float32)
        frames[: int(np.asarray(picks).reshape(-1)[0])] = 0
        values = np.array([int(1000 * frames[s:e + 1].mean()) for s, e in cp], dtype=np.int64)
    solve = knapsack if protocol == "eccv16" else knapsack_ortools_dp
    chosen = solve(values, lengths, budget(n_frames, proportion, protocol))
    summary = np.zeros(n_frames, dtype=np.uint8)
    for start, end in cp[chosen]:
        summary[start:end + 1] = 1
    return summary


def _check_shots(change_points, n_frames: int) -> np.ndarray:
    """Shots as int64 [S, 2]: ordered, non-overlapping, inside [0, n_frames) (gaps allowed)."""
    cp = np.asarray(change_points)
    if cp.ndim != 2 or cp.shape[1] != 2 or not np.issubdtype(cp.dtype, np.integer):
        raise ValueError(f"change_points must be integer rows [start, end], got shape {cp.shape}, dtype {cp.dtype}")
    cp = cp.astype(np.int64)
    if len(cp) and (cp[0, 0] < 0 or cp[-1, 1] >= n_frames or np.any(cp[:, 1] < cp[:, 0])
                    or np.any(cp[1:, 0] <= cp[:-1, 1])):
        raise ValueError(f"change_points must be ordered, non-overlapping [start, end] rows inside [0, {n_frames})")
    return cp
