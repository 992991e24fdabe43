"""Highlight detection as CFSum reports it: TVSum top-5 mAP, YouTube Highlights mAP, QVHighlights mAP / HIT@1.

CFSum (Section IV) uses mAP and HIT@1 "for consistency with prior work", with UMT's features and
next to UMT's numbers, so each dataset is scored as UMT's released code scores it
(``datasets/tvsum.py``, ``datasets/youtube.py``, ``datasets/utils/evaluation.py``, the last copied
from Moment-DETR's ``standalone_eval/eval.py``). All inputs are per clip (UMT and
CFSum use 2-second clips); every function scores ONE video / query and the caller averages.

- TVSum, Table I (``tvsum_top5_map``): for each of the 20 annotators, a clip is positive when that
  annotator's score is strictly above the median of their scores over the video, the median being
  torch's LOWER median (the smaller middle value for an even count). Clips are ranked by predicted
  saliency, only the top 5 are kept, and AP is UMT's trapezoid over that list, with recall relative
  to the positives INSIDE the top 5 (0 if none). Per video: mean over annotators (UMT averages over
  videos per annotator, then over annotators; the same number, every video has 20). CFSum trains and
  reports per category; the category's mAP is the mean over its test videos.
- YouTube Highlights, Table II (``youtube_highlights_ap``): positives are the clips labelled as
  highlights; ALL clips are ranked (no top-5 cut); the same trapezoid AP, 0 without positives;
  mAP = mean over the category's test videos.
- QVHighlights, Table III "Saliency >= Very Good" (``qvhighlights_map``, ``qvhighlights_hit1``):
  Moment-DETR's "HL-min-VeryGood": per annotator (3), a clip is positive when its score (0..4) is
  >= 4. mAP: per annotator ``get_ap`` (scikit-learn's precision-recall curve, precision made
  running-max from high to low recall, mean precision at the recall steps; 1 if every clip is
  positive, 0 if none), averaged over annotators, then over queries. HIT@1: the top-predicted clip
  (first one on ties, ``np.argmax``) is a hit if ANY annotator rates it positive; mean over queries.
  A prediction longer than the video's clips is cut, a shorter one zero-padded (as the reference).

UMT ranks with ``torch.argsort(descending=True)``, which fixes no order for tied scores; we sort
stably, so tied clips keep their time order.
"""

from __future__ import annotations

import numpy as np

VERY_GOOD = 4


def _ranking(pred: np.ndarray) -> np.ndarray:
    return np.argsort(-np.asarray(pred, dtype=np.float64).ravel(), kind="stable")


def trapezoid_ap(ranked_labels) -> float:
    """UMT's AP of a ranked binary list: trapezoids over (recall, precision), starting at precision 1."""
    labels = [float(x) for x in ranked_labels]
    num_gt = sum(labels)
    if num_gt == 0:
        return 0.0
    hits = ap = rec = 0.0
    prc = 1.0
    for j, gt in enumerate(labels):
        hits += gt
        new_rec, new_prc = hits / num_gt, hits / (j + 1)
        ap += (new_rec - rec) * (prc + new_prc) / 2
        rec, prc = new_rec, new_prc
    return ap


def lower_median(x: np.ndarray) -> float:
    """torch.median: the lower of the two middle values for an even count."""
    x = np.sort(np.asarray(x, dtype=np.float64).ravel())
    return float(x[(x.size - 1) // 2])


def _check(pred: np.ndarray, n_clips: int) -> np.ndarray:
    pred = np.asarray(pred, dtype=np.float64).ravel()
    if pred.size != n_clips:
        raise ValueError(f"pred has {pred.size} clip scores but the labels have {n_clips}")
    if n_clips == 0:
        raise ValueError("no clips to score")
    return pred


def tvsum_top5_map(pred: np.ndarray, user_scores: np.ndarray, k: int = 5) -> float:
    """UMT's TVSum mAP for one video: ``pred`` [n_clips], ``user_scores`` [annotators, n_clips]."""
    users = np.asarray(user_scores, dtype=np.float64)
    if users.ndim == 1:
        users = users[None, :]
    if users.ndim != 2 or users.shape[0] == 0:
        raise ValueError(f"user_scores must be [annotators, n_clips] with at least one annotator, got {users.shape}")
    order = _ranking(_check(pred, users.shape[1]))
    aps = [trapezoid_ap((u > lower_median(u))[order][:k]) for u in users]
    return float(np.mean(aps))


def youtube_highlights_ap(pred: np.ndarray, labels: np.ndarray) -> float:
    """UMT's YouTube Highlights AP for one video: all clips ranked; ``labels`` [n_clips], > 0 = highlight."""
    labels = np.asarray(labels).ravel() > 0
    order = _ranking(_check(pred, labels.size))
    return trapezoid_ap(labels[order])


def get_ap(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Moment-DETR's ``get_ap``: interpolated precision averaged over the recall steps."""
    y_true = np.asarray(y_true, dtype=np.float64)
    if len(set(y_true.tolist())) == 1:
        return 0.0 if y_true[0] == 0 else 1.0
    from sklearn.metrics import precision_recall_curve  # sklearn costs ~2 s to import: only when used

    precision, recall, _ = precision_recall_curve(y_true, y_pred)
    precision = np.maximum.accumulate(precision)
    steps = np.nonzero(np.diff(recall.astype(np.float32)))[0]
    return float(np.mean(precision[steps]))


def _fit(pred: np.ndarray, n_clips: int) -> np.ndarray:
    """Cut or zero-pad the prediction to ``n_clips`` (Moment-DETR's ``compute_ap_from_tuple``)."""
    pred = np.asarray(pred, dtype=np.float64).ravel()[:n_clips]
    return np.pad(pred, (0, n_clips - pred.size))


def _binary(gt_scores: np.ndarray, min_score: int) -> np.ndarray:
    gt = np.asarray(gt_scores, dtype=np.float64)
    if gt.ndim == 1:
        gt = gt[None, :]
    if gt.shape[1] == 0:
        raise ValueError("no clips to score")
    return (gt >= min_score).astype(np.float64)


def qvhighlights_map(pred: np.ndarray, gt_scores: np.ndarray, min_score: int = VERY_GOOD) -> float:
    """HL mAP of one query: ``gt_scores`` [annotators, n_clips] in 0..4; mean of ``get_ap`` over annotators."""
    binary = _binary(gt_scores, min_score)
    pred = _fit(pred, binary.shape[1])
    return float(np.mean([get_ap(b, pred) for b in binary]))


def qvhighlights_hit1(pred: np.ndarray, gt_scores: np.ndarray, min_score: int = VERY_GOOD) -> float:
    """HL HIT@1 of one query: 1.0 if any annotator rates the top-predicted clip >= ``min_score``."""
    binary = _binary(gt_scores, min_score)
    top = int(np.argmax(np.asarray(pred, dtype=np.float64).ravel()))
    if top >= binary.shape[1]:
        return 0.0
    return float(binary[:, top].max())


def qvhighlights_gt_scores(duration: float, relevant_clip_ids, saliency_scores, clip_length: float = 2.0) -> np.ndarray:
    """[3, n_clips] scores from a QVHighlights record (Moment-DETR's ``mk_gt_scores``).

    ``n_clips = int(duration / clip_length)``; clips outside ``relevant_clip_ids`` score 0 for all
    three annotators.
    """
    full = np.zeros((int(duration / clip_length), 3))
    if len(relevant_clip_ids):
        full[np.asarray(relevant_clip_ids, dtype=np.int64)] = np.asarray(saliency_scores, dtype=np.float64)
    return full.T
