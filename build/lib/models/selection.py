"""Scores -> the frames and sentences a summary keeps, without looking at the ground truth.

Default rule (BLiSS-style datasets): the top ``proportion`` (15%) of the frames and of the sentences by
score, at least one when there is any, ``k = max(1, floor(proportion * n))``. Frame-importance datasets
use the paper's knapsack budget instead (``builders.labels.keyshots``: 15% of the frames, by shots).

``--oracle-k`` (A2Summ's released evaluation): k = the true number of key items (key sentences;
keyframes). It reads the labels to size the summary, so its numbers are not a fair prediction:
report them only next to results computed the same way.
"""

from __future__ import annotations

import math

import numpy as np

PROPORTION = 0.15


def budget(n: int, proportion: float = PROPORTION, k: int | None = None) -> int:
    """How many of n items to keep: ``k`` when given (clipped to n), else max(1, floor(proportion * n))."""
    if n <= 0:
        return 0
    if k is not None:
        return int(min(max(k, 0), n))
    if not 0 < proportion <= 1:
        raise ValueError(f"proportion must be in (0, 1], got {proportion!r}")
    return max(1, min(n, math.floor(proportion * n)))


def top_k(scores, k: int) -> np.ndarray:
    """Sorted indices of the k highest scores; ties go to the earlier index (stable)."""
    scores = np.asarray(scores, dtype=np.float64).ravel()
    if k <= 0 or scores.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(np.argsort(-scores, kind="stable")[:k])


def indicator(picks, n: int) -> np.ndarray:
    """0/1 vector of length n with ones at ``picks``."""
    out = np.zeros(n, dtype=np.int8)
    out[np.asarray(picks, dtype=np.int64)] = 1
    return out
