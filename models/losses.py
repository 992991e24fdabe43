"""Losses of A2Summ (Eq. 4-9), reused by HierSum (Eq. 1-4) and CFSum (Eq. 8).

Every loss takes the batch's boolean masks and averages over real positions only, so padding
never changes a loss value.

Contrastive similarities are cosine similarities times a learnable logit scale exp(s) = 1/tau
(Eq. 7, "tau is a learnable temperature"), initialised at 1/0.07 and clamped at 100 as in CLIP.
The symmetric terms of Eq. 6 and Eq. 8 are summed, as written; A2Summ's released code averages
them, which is the same loss at half the weight (halve beta / lambda to match that code).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

MAX_LOGIT_SCALE = math.log(100.0)


class LogitScale(nn.Module):
    """The learnable inverse temperature of Eq. 7, stored as a log; ``forward()`` gives exp(s)."""

    def __init__(self, temperature: float = 0.07):
        super().__init__()
        self.log_scale = nn.Parameter(torch.tensor(math.log(1.0 / temperature)))

    def forward(self) -> torch.Tensor:
        return self.log_scale.clamp(max=MAX_LOGIT_SCALE).exp()


def focal_loss(logits, targets, mask, alpha: float = 0.25, gamma: float = 2.0) -> torch.Tensor:
    """Eq. 4: alpha (1-p)^g (-log p) on positives, (1-alpha) p^g (-log(1-p)) on negatives, mean over real positions.

    ``p = sigmoid(logits)``; log p and log(1-p) come from logsigmoid so large logits stay finite.
    (A2Summ's released code one-hot encodes the two classes and averages both columns, which
    cancels alpha and halves the loss: that is this function with ``alpha=0.5``. This follows
    the equation, alpha = 0.25 as Sec. 4.1 states.)
    """
    mask = mask.to(torch.bool)
    y = targets.to(logits.dtype)
    p = torch.sigmoid(logits)
    pos = alpha * (1 - p).pow(gamma) * -F.logsigmoid(logits)
    neg = (1 - alpha) * p.pow(gamma) * -F.logsigmoid(-logits)
    per_position = y * pos + (1 - y) * neg
    return masked_mean(per_position, mask)


def masked_mse(pred, target, mask) -> torch.Tensor:
    """Mean squared error over real positions (HierSum's L_mse, CFSum Eq. 8)."""
    return masked_mean((pred - target.to(pred.dtype)) ** 2, mask.to(torch.bool))


def masked_mean(values, mask) -> torch.Tensor:
    """Mean of ``values`` where ``mask``; 0 (still in the graph) when nothing is real."""
    total = (values * mask).sum()
    return total / mask.sum().clamp(min=1)


DIRECTIONS = ("sum", "mean")  # Eq. 6-8 sum the two directions; A2Summ's released losses.py averages them


def _combine(a, b, directions: str):
    if directions not in DIRECTIONS:
        raise ValueError(f"directions must be 'sum' (A2Summ Eq. 6-8) or 'mean' (its released code), got {directions!r}")
    return a + b if directions == "sum" else (a + b) / 2


def inter_sample_loss(cls_video, cls_text, scale, directions: str = "sum") -> torch.Tensor:
    """Eq. 6-7: symmetric InfoNCE between [CLS_V]_j and [CLS_T]_j against the other B-1 samples.

    ``cls_*`` [B, C]; row j's positive is column j, negatives the other columns (Eq. 7's
    denominator = positive + negatives = a cross-entropy over the batch). Both directions summed (the
    equation) or averaged (``directions="mean"``, A2Summ's released code).
    """
    v = F.normalize(cls_video, dim=-1)
    t = F.normalize(cls_text, dim=-1)
    logits = scale * v @ t.T
    target = torch.arange(len(v), device=v.device)
    return _combine(F.cross_entropy(logits, target), F.cross_entropy(logits.T, target), directions)


def expand_keys(labels, expansion: int) -> torch.Tensor:
    """Key positions grown by ``expansion`` steps on both sides (A2Summ Fig. 3a's dummy key-frames)."""
    keys = labels.to(torch.float32)[:, None]
    if expansion > 0 and keys.shape[-1] > 0:
        keys = F.max_pool1d(keys, kernel_size=2 * expansion + 1, stride=1, padding=expansion)
    return keys[:, 0] > 0


def hard_negatives(scores, labels, mask, ratio: int, expansion: int = 4) -> torch.Tensor:
    """Bool [B, L]: the top-k predicted positions outside the expanded key set (A2Summ Sec. 3.4).

    k = floor(length / ratio) per sample, counting real positions only, and at least 1 (as the
    released code does, so a short clip still has a negative when one exists). Fewer than k are
    chosen when fewer candidates remain. Scores are only ranked, never differentiated.
    """
    mask = mask.to(torch.bool)
    candidates = mask & ~expand_keys(labels.to(torch.bool) & mask, expansion)
    k = (mask.sum(1) // ratio).clamp(min=1)
    ranked = scores.detach().masked_fill(~candidates, float("-inf")).argsort(dim=1, descending=True)
    order = torch.arange(scores.shape[1], device=scores.device).expand_as(ranked)
    rank = torch.empty_like(ranked).scatter_(1, ranked, order)  # rank[b, i] = place of position i
    return candidates & (rank < k[:, None])


def _nce(anchors, positives, negatives, scale) -> torch.Tensor:
    """Eq. 7 averaged over every (anchor, positive) pair, all ``negatives`` in each denominator.

    -log(e^{a.p} / (e^{a.p} + sum_k e^{a.n_k})) = softplus(logsumexp_k(a.n_k) - a.p); with no
    negatives the loss is 0 (log 1).
    """
    a, p, n = (F.normalize(x, dim=-1) for x in (anchors, positives, negatives))
    pos = scale * a @ p.T  # [A, P]
    neg = torch.logsumexp(scale * a @ n.T, dim=1) if len(n) else torch.full((len(a),), float("-inf"), device=a.device)
    return F.softplus(neg[:, None] - pos).mean()


def intra_sample_loss(video_feats, text_feats, frame_keys, sentence_keys, frame_negs, sentence_negs, scale,
                      pooling: str = "pairs", directions: str = "sum") -> torch.Tensor:
    """Eq. 8: key frames vs key sentences of the same sample, against that sample's hard negatives.

    Direction 1: z ~ I_PF (key frame), z+ ~ I_PS (key sentence), z- = I_HNF (hard-negative
    frames); direction 2 swaps the modalities with z- = I_HNS. ``pooling``:
    - ``"pairs"``: Eq. 8 read literally, the expectation over every (key frame, key sentence)
      pair, with all of the sample's hard negatives in each denominator;
    - ``"mean"``: one anchor per modality, the mean key feature (what A2Summ's code does).
    The two directions are summed (Eq. 8) or averaged (``directions="mean"``, the released code).
    Samples with no key frame or no key sentence have no positive pair and are skipped; the
    result is the mean over the remaining samples (0, in the graph, when none remain).
    """
    if pooling not in ("pairs", "mean"):
        raise ValueError(f"pooling must be 'pairs' or 'mean', got {pooling!r}")
    losses = []
    for b in range(len(video_feats)):
        pf, ps = video_feats[b, frame_keys[b]], text_feats[b, sentence_keys[b]]
        if not len(pf) or not len(ps):
            continue
        if pooling == "mean":
            pf, ps = pf.mean(0, keepdim=True), ps.mean(0, keepdim=True)
        hnf, hns = video_feats[b, frame_negs[b]], text_feats[b, sentence_negs[b]]
        losses.append(_combine(_nce(pf, ps, hnf, scale), _nce(ps, pf, hns, scale), directions))
    if not losses:
        return video_feats.sum() * 0.0
    return torch.stack(losses).mean()
