"""Keyframe cosine similarity between predicted keyframes and the ground-truth keyframe images.

Protocol: A2Summ's released ``calc_video_cos`` (``losses.py``), followed from its code, behind
A2Summ's "Cos" (Table 1 Daily Mail, and BLiSS) and HierSum's BLiSS cosine. MHMS reports a Daily
Mail / CNN "Cos" after M2SM without released scoring code; we score it with A2Summ's. Both variants L2-normalise the features (zero vectors stay zero, as
``F.normalize``), build the [K, M] cosine matrix between the K ground-truth and the M predicted
keyframes, and match them greedily one to one: repeatedly take the largest remaining entry and
remove its row and column, until min(K, M) pairs are matched. The score is the mean of the matched
entries. Entries are visited in descending order with a stable sort over the row-major matrix, so
ties go to the lower (gt, pred) index; A2Summ's unstable ``argsort`` leaves ties to chance.

- BLiSS (``bliss_keyframe_cosine``): the similarities are first min-max normalised over the
  matrix of the ground truth against ALL frames of the clip [K, T] (``(S - min) / max(S - min)``,
  the denominator floored at 1e-6), and only then restricted to the predicted frames' columns. So
  the score depends on the clip's other frames too; pass ``selected=None`` to normalise over the
  predicted keyframes only (then ``frames`` are the predicted features).
- Daily Mail (``dailymail_keyframe_cosine``): no normalisation, raw cosine, same greedy matching.
  With one reference image and one chosen frame it is their plain cosine similarity.

The caller averages the per-example scores over the test set (A2Summ averages per batch, then
over batches). An empty prediction scores 0.0; an example without ground-truth keyframes cannot be
scored and raises.
"""

from __future__ import annotations

import numpy as np


def l2_normalize(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows divided by their norm, the norm floored at ``eps`` (``torch.nn.functional.normalize``)."""
    x = np.asarray(x, dtype=np.float64)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), eps)


def greedy_match(sim: np.ndarray) -> list[tuple[int, int]]:
    """One-to-one (row, col) pairs, taking the largest remaining entry each time."""
    sim = np.asarray(sim, dtype=np.float64)
    rows, cols = sim.shape
    order = np.argsort(-sim, axis=None, kind="stable")
    used_r, used_c, pairs = set(), set(), []
    for flat in order:
        r, c = divmod(int(flat), cols)
        if r in used_r or c in used_c:
            continue
        pairs.append((r, c))
        used_r.add(r)
        used_c.add(c)
        if len(pairs) == min(rows, cols):
            break
    return pairs


def matched_mean(sim: np.ndarray) -> float:
    """Mean similarity of the greedy one-to-one matching; 0.0 when either side is empty."""
    sim = np.asarray(sim, dtype=np.float64)
    if sim.size == 0:
        return 0.0
    return float(np.mean([sim[r, c] for r, c in greedy_match(sim)]))


def _gt(gt_keyframes: np.ndarray) -> np.ndarray:
    gt = np.asarray(gt_keyframes, dtype=np.float64)
    if gt.ndim != 2 or gt.shape[0] == 0:
        raise ValueError(f"ground-truth keyframes must be [K, D] with K >= 1, got {gt.shape}")
    return gt


def _features(x: np.ndarray, dim: int) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return x.reshape(0, dim)
    if x.ndim != 2 or x.shape[1] != dim:
        raise ValueError(f"features must be [n, {dim}] like the ground truth, got {x.shape}")
    return x


def bliss_keyframe_cosine(gt_keyframes: np.ndarray, frames: np.ndarray, selected=None) -> float:
    """A2Summ's BLiSS score: min-max normalised cosine [K, T], columns ``selected``, greedy matching.

    ``gt_keyframes`` [K, D]: the ground-truth keyframe features (BLiSS: the thumbnail-animation
    frames); ``frames`` [T, D]: every frame of the clip; ``selected``: indices of the predicted
    keyframes in ``frames`` (None = all of ``frames`` are the prediction).
    """
    gt = _gt(gt_keyframes)
    frames = _features(frames, gt.shape[1])
    idx = np.arange(len(frames)) if selected is None else np.asarray(selected, dtype=np.int64).ravel()
    if idx.size == 0:
        return 0.0
    sim = l2_normalize(gt) @ l2_normalize(frames).T
    sim = sim - sim.min()
    sim = sim / max(float(sim.max()), 1e-6)
    return matched_mean(sim[:, idx])


def dailymail_keyframe_cosine(gt_images: np.ndarray, pred_frames: np.ndarray) -> float:
    """A2Summ's Daily Mail score: raw cosine [K, M] of reference images vs chosen frames, greedy matching."""
    gt = _gt(gt_images)
    pred = _features(pred_frames, gt.shape[1])
    if len(pred) == 0:
        return 0.0
    return matched_mean(l2_normalize(gt) @ l2_normalize(pred).T)
