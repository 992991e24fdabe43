"""MHMS section 3.5: cross-domain alignment by optimal transport (Algorithm 1), and the module that uses it.

:func:`ot_plan` is Algorithm 1 as printed, batched: the cost ``C`` [B, K, M], ``G = exp(-C / beta)``,
the plan ``T`` starting at all ones, and N outer iterations of ``Q = G * T`` followed by L inner
Sinkhorn updates ``delta = mu / (Q sigma)``, ``sigma = nu / (Q^T delta)``, then
``T = diag(delta) Q diag(sigma)``; the distance is ``<C, T>`` (line 11). The weights are uniform
(``mu_k = 1 / K``, ``nu_m = 1 / M``, eq. 11, over the real points of each side when the batch is
padded). With N = 1 this is the entropic (Sinkhorn) solution of eq. 12 with regularisation beta;
each further outer step is a proximal step (the plan of the last step as the prior), which moves it
towards the exact optimum of eq. 11 (Xie et al.'s IPOT, which Algorithm 1 is). Every step is a torch
operation, so the distance is differentiable in ``C`` (and in the features behind it), through the
unrolled iterations.

:class:`CrossDomainAlignment`: the two sides as in the paper, text tokens embedded and run through
a bidirectional GRU (eq. above 10), images projected to the same space, cosine cost (eq. 10). What
differs, and why (see docs/training.md):
- MHMS's image side is a set of Faster R-CNN regions of one image (K regions); the published frame
  features are one pooled vector per frame, with which OT would be a mean (K = 1). A frame is
  represented instead by itself and its ``window`` neighbours on each side (K <= 2 window + 1).
- Training (the paper pretrains on MS COCO image-text matching with the OT distance as a
  regulariser): a listwise matching loss, cross-entropy over the frames of a video with logits
  ``-WD / temperature`` towards its labelled key frames, plus ``ot_weight`` x the WD of those pairs.
"""

from __future__ import annotations

import torch
from torch import nn

EPS = 1e-30


def cosine_cost(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Eq. 10: ``1 - cos(x_k, y_m)`` for x [B, K, D], y [B, M, D] -> [B, K, M]."""
    x = nn.functional.normalize(x, dim=-1)
    y = nn.functional.normalize(y, dim=-1)
    return 1.0 - x @ y.transpose(1, 2)


def ot_plan(cost: torch.Tensor, beta: float = 0.5, outer: int = 50, inner: int = 1,
            mask_x: torch.Tensor | None = None, mask_y: torch.Tensor | None = None) -> torch.Tensor:
    """The transport plan T [B, K, M] of Algorithm 1 for ``cost`` [B, K, M] (or [K, M]) with uniform weights
    over the real points (``mask_x`` [B, K], ``mask_y`` [B, M]; None = all real)."""
    single = cost.dim() == 2
    c = cost.unsqueeze(0) if single else cost
    b, k, m = c.shape
    mx = torch.ones(b, k, dtype=c.dtype, device=c.device) if mask_x is None else mask_x.to(c.dtype)
    my = torch.ones(b, m, dtype=c.dtype, device=c.device) if mask_y is None else mask_y.to(c.dtype)
    if beta <= 0 or outer < 1 or inner < 1:
        raise ValueError(f"Algorithm 1 needs beta > 0, outer >= 1, inner >= 1 (got {beta}, {outer}, {inner})")
    if bool(((mx.sum(1) == 0) | (my.sum(1) == 0)).any()):
        raise ValueError("every pair needs at least one real point on each side")
    mu = mx / mx.sum(1, keepdim=True)  # uniform weights over the real points
    nu = my / my.sum(1, keepdim=True)
    live = mx[:, :, None] * my[:, None, :]
    g = torch.exp(-c / beta) * live  # padded rows / columns carry no mass
    t = live.clone()  # T(1) = 1 1^T
    sigma = nu.clone()  # sigma = 1/m 1_m (over the real columns)
    for _ in range(outer):
        q = g * t
        for _ in range(inner):
            delta = mu / (q @ sigma.unsqueeze(-1)).squeeze(-1).clamp_min(EPS)
            sigma = nu / (q.transpose(1, 2) @ delta.unsqueeze(-1)).squeeze(-1).clamp_min(EPS)
        t = delta.unsqueeze(-1) * q * sigma.unsqueeze(1)
    return t[0] if single else t


def ot_distance(cost: torch.Tensor, beta: float = 0.5, outer: int = 50, inner: int = 1,
                mask_x: torch.Tensor | None = None, mask_y: torch.Tensor | None = None) -> torch.Tensor:
    """Algorithm 1's ``Dis = <C, T>``: [B] (or a scalar for one [K, M] cost)."""
    plan = ot_plan(cost, beta, outer, inner, mask_x, mask_y)
    return (cost * plan).sum(dim=(-2, -1))


def frame_windows(features: torch.Tensor, mask: torch.Tensor, window: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Each frame with its ``window`` neighbours on each side: [B, T, 2w+1, D] and the mask [B, T, 2w+1]
    (neighbours past either end, or padding, are masked out)."""
    b, t, d = features.shape
    offsets = torch.arange(-window, window + 1, device=features.device)
    idx = torch.arange(t, device=features.device)[:, None] + offsets[None, :]  # [T, W]
    inside = (idx >= 0) & (idx < t)
    idx = idx.clamp(0, t - 1)
    gathered = features[:, idx]  # [B, T, W, D]
    m = mask[:, idx] & inside[None] & mask[:, :, None]
    return gathered, m


class CrossDomainAlignment(nn.Module):
    """Frames and text tokens in one space; ``distances`` gives the OT distance of every frame (with its
    window) to a text, ``loss`` trains it towards the labelled key frames (see the module docstring)."""

    def __init__(self, video_dim: int, token_dim: int, hidden: int = 256, window: int = 2, beta: float = 0.5,
                 outer: int = 20, inner: int = 1, temperature: float = 0.1, ot_weight: float = 1.0):
        super().__init__()
        self.window, self.beta, self.outer, self.inner = window, beta, outer, inner
        self.temperature, self.ot_weight = temperature, ot_weight
        self.visual = nn.Linear(video_dim, hidden)
        self.gru = nn.GRU(token_dim, hidden // 2, batch_first=True, bidirectional=True)
        self.text = nn.Linear(2 * (hidden // 2), hidden)

    def encode_text(self, tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Token embeddings [B, M, Dt] -> [B, M, H] through the Bi-GRU (padding packed out)."""
        lengths = mask.sum(1).clamp_min(1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(tokens, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=tokens.shape[1])
        return self.text(out)

    def distances(self, video: torch.Tensor, video_mask: torch.Tensor, tokens: torch.Tensor,
                  token_mask: torch.Tensor) -> torch.Tensor:
        """WD [B, T] of every frame (with its window) to its video's text; padded frames get +inf."""
        b, t, _ = video.shape
        v, vm = frame_windows(self.visual(video), video_mask, self.window)  # [B, T, W, H]
        e = self.encode_text(tokens, token_mask)  # [B, M, H]
        w = v.shape[2]
        flat_v = v.reshape(b * t, w, -1)
        flat_vm = vm.reshape(b * t, w)
        e_rep = e[:, None].expand(b, t, *e.shape[1:]).reshape(b * t, *e.shape[1:])
        em_rep = token_mask[:, None].expand(b, t, token_mask.shape[1]).reshape(b * t, -1)
        real = flat_vm.any(1) & em_rep.any(1)
        d = torch.full((b * t,), float("inf"), dtype=v.dtype, device=v.device)
        if real.any():
            cost = cosine_cost(flat_v[real], e_rep[real])
            d[real] = ot_distance(cost, self.beta, self.outer, self.inner, flat_vm[real], em_rep[real])
        return d.reshape(b, t)

    def loss(self, distances: torch.Tensor, video_mask: torch.Tensor, labels: torch.Tensor,
             has_labels: torch.Tensor) -> torch.Tensor:
        """Listwise matching (softmax over a video's frames of -WD / temperature, towards its key frames) plus
        ``ot_weight`` x the mean WD of the key frames; videos without labels (``has_labels`` False) do not count."""
        keep = has_labels & (labels * video_mask).sum(1).gt(0)
        if not keep.any():
            return distances.new_zeros(())
        d, m, y = distances[keep], video_mask[keep], labels[keep] * video_mask[keep]
        logits = (-d / self.temperature).masked_fill(~m, float("-inf"))
        log_p = torch.log_softmax(logits, dim=1)
        matching = -(torch.logsumexp(log_p.masked_fill(y <= 0, float("-inf")), dim=1)).mean()
        ot = ((d.masked_fill(~m, 0) * y).sum(1) / y.sum(1)).mean()
        return matching + self.ot_weight * ot
