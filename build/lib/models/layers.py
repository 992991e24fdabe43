"""Transformer pieces the summarizers share: masked multi-head attention, the FFN, positions.

Attention takes an explicit boolean ``allowed`` matrix [B, Lq, Lk] (True = query may attend to
key) instead of a key-padding vector, because A2Summ's alignment-guided attention (Eq. 1-3) is a
full per-sample mask, not just padding. A query row with no allowed key (a padded position)
gets all-zero weights and so a zero update, never NaN: padded rows stay finite and never leak
into real positions, whose keys exclude padding. Training and inference use PyTorch's fused
``scaled_dot_product_attention`` (on CPU the explicit path is 1.5-3x slower);
``return_weights=True`` takes the explicit path, which gives the same output.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class MaskedAttention(nn.Module):
    """Multi-head attention restricted by a boolean mask (A2Summ Eq. 1-2; CFSum Eq. 1, 4, 6).

    ``forward(query, key=None, value=None, allowed=None, return_weights=False)``: ``key`` and
    ``value`` default to ``query`` (self-attention); the output is ``D V W_O`` of Eq. 3 without
    the residual, which the caller adds. ``return_weights=True`` also returns the post-softmax
    weights [B, heads, Lq, Lk] (before dropout), so a test can check where attention may flow.
    """

    def __init__(self, dim: int, heads: int = 8, dropout: float = 0.0):
        super().__init__()
        if dim % heads:
            raise ValueError(f"hidden size {dim} is not divisible by {heads} heads")
        self.heads, self.head_dim = heads, dim // heads
        self.q, self.k, self.v, self.out = (nn.Linear(dim, dim) for _ in range(4))
        self.drop = nn.Dropout(dropout)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, n, _ = x.shape
        return x.view(b, n, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, query, key=None, value=None, allowed=None, return_weights: bool = False):
        key = query if key is None else key
        value = key if value is None else value
        q, k, v = self._split(self.q(query)), self._split(self.k(key)), self._split(self.v(value))
        if allowed is None:
            allowed = torch.ones(query.shape[0], query.shape[1], key.shape[1], dtype=torch.bool, device=query.device)
        has_key = allowed.any(-1, keepdim=True)[:, None]  # [B, 1, Lq, 1]
        if return_weights:
            logits = (q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)).masked_fill(~allowed[:, None], float("-inf"))
            weights = torch.where(has_key, torch.softmax(logits, dim=-1), 0.0)  # [B, H, Lq, Lk]
            out = self.drop(weights) @ v
        else:
            # fused kernel; a row with no allowed key gets every key (finite values, finite gradients),
            # then a zero output, exactly what the explicit path gives it
            safe = (allowed | ~has_key[:, 0])[:, None]
            p = self.drop.p if self.training else 0.0
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=safe, dropout_p=p)
            out = out * has_key
        out = self.out(out.transpose(1, 2).reshape(query.shape[0], query.shape[1], -1))
        return (out, weights) if return_weights else out


class FeedForward(nn.Module):
    """Position-wise FFN (Linear, GELU, Linear) with dropout; ``ratio`` is the hidden expansion."""

    def __init__(self, dim: int, ratio: int = 4, dropout: float = 0.0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(dim, dim * ratio), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(dim * ratio, dim), nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def pair_mask(query_mask: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
    """[B, Lq, Lk]: real queries may attend to real keys (plain padding mask as a full matrix)."""
    return query_mask[:, :, None] & key_mask[:, None, :]


def sinusoidal_positions(length: int, dim: int, device=None) -> torch.Tensor:
    """[length, dim] fixed sine/cosine position codes (Vaswani et al.), for any length."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    pe = torch.zeros(length, dim, device=device)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return pe


def score_head(dim: int, dropout: float) -> nn.Module:
    """Per-position score branch (Linear, ReLU, Dropout, Linear -> 1 logit), as in A2Summ's code."""
    return nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(dim, 1))


def require_mask(batch: dict, key: str) -> torch.Tensor:
    """The boolean mask of ``batch[key]``; all True when the batch has none (nothing padded)."""
    mask = batch.get(f"{key}_mask")
    if mask is None:
        x = batch[key]
        return torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
    return mask.to(torch.bool)


def init_weights(module: nn.Module) -> None:
    """Truncated-normal(0.02) linears with zero bias, unit LayerNorms (BERT / A2Summ's code)."""
    if isinstance(module, nn.Linear):
        nn.init.trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        nn.init.trunc_normal_(module.weight, std=0.02)

