"""A tiny summarizer with the models' interface, for trainer tests that must not depend on the
real architectures: per-frame and per-sentence linear scores, each frame also sees the mean of the
sentences that cover it (through ``align``), dropout so the RNG matters for resume tests.

``--model tiny_summ:build`` (tests/ is on sys.path under pytest).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class TinySumm(nn.Module):
    def __init__(self, video_dim: int, text_dim: int | None = None, hidden: int = 8, dropout: float = 0.2,
                 global_every: int = 0):
        super().__init__()
        self.video = nn.Linear(video_dim, hidden)
        self.text = nn.Linear(text_dim, hidden) if text_dim else None
        self.head_v, self.head_t = nn.Linear(hidden, 1), nn.Linear(hidden, 1)
        self.drop = nn.Dropout(dropout)
        self.global_every = global_every
        self.global_calls = 0

    def forward(self, batch: dict) -> dict:
        v = torch.relu(self.video(batch["video"]))
        out = {}
        if self.text is not None and "text" in batch:
            t = torch.relu(self.text(batch["text"])) * batch["text_mask"][..., None]
            align = batch["align"].float()  # [B, N, T]
            covered = align.transpose(1, 2) @ t / align.sum(1)[..., None].clamp(min=1)  # [B, T, H]
            v = v + covered
            out["text_scores"] = self.head_t(self.drop(t)).squeeze(-1)
        out["video_scores"] = self.head_v(self.drop(v)).squeeze(-1)
        return out

    def loss(self, batch: dict, outputs: dict):
        mask = batch["video_mask"].float()
        target = batch.get("frame_labels", batch.get("frame_scores"))
        if target is None:
            raise ValueError("no frame targets")
        per = F.binary_cross_entropy_with_logits(outputs["video_scores"], target, reduction="none")
        video = (per * mask).sum() / mask.sum()
        parts = {"video": float(video.detach())}
        total = video
        if "text_scores" in outputs and "sentence_labels" in batch:
            tm = batch["text_mask"].float()
            per = F.binary_cross_entropy_with_logits(outputs["text_scores"], batch["sentence_labels"], reduction="none")
            text = (per * tm).sum() / tm.sum().clamp(min=1)
            parts["text"] = float(text.detach())
            total = total + text
        parts["total"] = float(total.detach())
        return total, parts

    def global_step(self, batch: dict):
        """Video loss with the query standing in for the text (HierSum's parent step, simplified)."""
        self.global_calls += 1
        assert "query" in batch, "the trainer must hand the global description as 'query'"
        out = {"video_scores": self.head_v(self.drop(torch.relu(self.video(batch["video"])))).squeeze(-1)}
        loss, parts = self.loss({k: v for k, v in batch.items() if k not in ("text", "sentence_labels")}, out)
        return loss, parts


def build(dims: dict, **hparams) -> TinySumm:
    return TinySumm(dims["video"], dims.get("text"), **hparams)
