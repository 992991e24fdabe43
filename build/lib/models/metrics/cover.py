"""Cover-frame ranking for VMSMO: MAP and R_n@k (MHMS Table 1 and 2, after DIMS).

Protocol: VMSMO's released ``metrics.py`` (Li et al. 2020, DIMS), which MHMS follows ("MAP and
recall at position R_n@k ... whether the positive sample is ranked in the top k positions of n
candidates", after the response-selection papers it cites). Each sample has n candidate frames
(VMSMO: n = 10, one true cover frame and nine others) with predicted scores and 0/1 labels;
candidates are ranked by descending score.

- R_n@k (``recall_at_k``): positives in the top k / positives of the sample; with one cover frame,
  1 if it is among the top k. MHMS reports R10@1, R10@2, R10@5.
- AP (``average_precision``): mean over the positives of (positives so far / rank); with one cover
  frame, 1 / its rank.
- MAP, R_n@k over the test set (``cover_metrics``): means over the samples that have a positive;
  samples without one are skipped, as the reference does.

Ties: candidates with equal scores keep their given order (a stable sort). The reference's
``numpy.argsort(-scores)`` uses the default sort, stable or not depending on NumPy's build, so a
tie there can fall either way. VMSMO's separate ``recall_2at1`` (positive versus the first
negative) is not an MHMS metric and is not provided.
"""

from __future__ import annotations

import numpy as np


def _ranked(scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores, dtype=np.float64).ravel()
    labels = np.asarray(labels).ravel()
    if scores.size != labels.size:
        raise ValueError(f"{scores.size} scores but {labels.size} labels")
    return (labels[np.argsort(-scores, kind="stable")] == 1).astype(np.float64)


def recall_at_k(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    """R_n@k of one sample (n = its number of candidates); NaN if it has no positive."""
    ranked = _ranked(scores, labels)
    if ranked.sum() == 0:
        return float("nan")
    return float(ranked[:k].sum() / ranked.sum())


def average_precision(scores: np.ndarray, labels: np.ndarray) -> float:
    """AP of one sample's ranking; NaN if it has no positive."""
    ranked = _ranked(scores, labels)
    if ranked.sum() == 0:
        return float("nan")
    hits = np.cumsum(ranked)
    ranks = np.arange(1, ranked.size + 1)
    return float(np.sum(ranked * hits / ranks) / ranked.sum())


def cover_metrics(scores: np.ndarray, labels: np.ndarray, ks=(1, 2, 5)) -> dict[str, float]:
    """{"map", "r{n}@{k}"...} over samples [N, n] of n candidates each, skipping samples without a positive."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    if scores.ndim != 2 or scores.shape != labels.shape:
        raise ValueError(f"scores and labels must both be [samples, candidates], got {scores.shape} and {labels.shape}")
    keep = (labels == 1).any(axis=1)
    if not keep.any():
        raise ValueError("no sample has a positive candidate")
    n = scores.shape[1]
    out = {"map": float(np.mean([average_precision(s, y) for s, y in zip(scores[keep], labels[keep])]))}
    for k in ks:
        out[f"r{n}@{k}"] = float(np.mean([recall_at_k(s, y, k) for s, y in zip(scores[keep], labels[keep])]))
    return out
