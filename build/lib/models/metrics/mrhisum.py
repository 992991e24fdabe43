"""Mr.HiSum highlight-detection MAP at rho = 50% and 15%.

Protocol: Mr.HiSum's released ``Solver.evaluate`` with ``model/utils/evaluate_map.py`` (reported by
Mr.HiSum and by HierSum, Table 4 and Table 7). Per video:

1. frame scores (ground-truth most-replayed ``gtscore`` and the prediction) are averaged over
   uniform 5-second clips: consecutive runs of ``round(5 * fps)`` frames from the start (Mr.HiSum
   features are 1 fps, so 5 frames), the tail clip partial (``torch.split``);
2. the top ``int(n_clips * rho)`` clips by ground-truth clip score are the positives (rounded
   down: ``len // 2`` for 50%, ``int(len * 0.15)`` for 15%, as the reference). Ties in the
   ground-truth clip scores are broken by a stable sort, the earlier clip first; the reference's
   ``torch.argsort`` does not promise any order for ties;
3. AP = ``sklearn.metrics.average_precision_score`` of the predicted clip scores against those
   positives. The reference first softmaxes the predicted clip scores; that keeps their order, so
   AP is unchanged and we skip it.

MAP = the mean of the per-video AP over the test videos (the caller's mean). A video with no
positive (fewer than 7 clips at 15%) scores 0.0, what current scikit-learn returns there (older
versions gave NaN); Mr.HiSum videos (120-300 s) always have positives.
"""

from __future__ import annotations

import numpy as np

CLIP_SECONDS = 5.0
RHOS = {"map50": 0.5, "map15": 0.15}


def clip_scores(frame_scores: np.ndarray, fps: float = 1.0, clip_seconds: float = CLIP_SECONDS) -> np.ndarray:
    """Mean score of each uniform clip of ``clip_seconds`` (the last clip may be shorter)."""
    scores = np.asarray(frame_scores, dtype=np.float64).ravel()
    size = max(1, round(clip_seconds * fps))
    return np.array([chunk.mean() for chunk in np.split(scores, np.arange(size, scores.size, size))])


def top_fraction(scores: np.ndarray, rho: float) -> np.ndarray:
    """Binary labels of the ``int(len * rho)`` highest-scoring clips (stable: earlier clip wins ties)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.zeros(scores.size, dtype=int)
    labels[np.argsort(-scores, kind="stable")[: int(scores.size * rho)]] = 1
    return labels


def highlight_ap(pred_frames: np.ndarray, gt_frames: np.ndarray, rho: float, fps: float = 1.0) -> float:
    """AP of the predicted clip scores against the top-``rho`` ground-truth clips of one video."""
    pred = np.asarray(pred_frames, dtype=np.float64).ravel()
    gt = np.asarray(gt_frames, dtype=np.float64).ravel()
    if pred.size != gt.size:
        raise ValueError(f"pred has {pred.size} frame scores but the ground truth has {gt.size}")
    if gt.size == 0:
        raise ValueError("no frames to score")
    labels = top_fraction(clip_scores(gt, fps), rho)
    if labels.sum() == 0:
        return 0.0
    from sklearn.metrics import average_precision_score  # sklearn costs ~2 s to import: only when used

    return float(average_precision_score(labels, clip_scores(pred, fps)))


def mrhisum_map(pred_frames: np.ndarray, gt_frames: np.ndarray, fps: float = 1.0) -> dict[str, float]:
    """{map50, map15} for one video; average each over the test videos."""
    return {name: highlight_ap(pred_frames, gt_frames, rho, fps) for name, rho in RHOS.items()}
