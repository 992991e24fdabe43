"""HierSum (Beedu & Essa): the A2Summ backbone trained parent-child on local subtitles and a
global description, supervised by YouTube's most-replayed scores (HierSum Sec. 3).

What differs from A2Summ:
- Loss (Eq. 4): L_cls + alpha L_mse + beta L_inter + lambda L_intra. L_mse is the MSE between
  sigmoid(frame logit) and the most-replayed score (the same classifier head predicts both, Fig. 2).
  The paper gives no value for alpha; ``alpha_mse`` defaults to 1.
- Frame labels: where a batch has ``frame_scores`` but no ``frame_labels``, frames scoring
  >= 0.15 are the key frames ("important"), for the focal and the intra-sample loss.
- Parent step: ``global_step(batch)`` runs the same model with the batch's ``query`` (the global
  description, one feature per sentence) in place of ``text`` and returns the video loss only
  (focal + alpha MSE; "During the global step, only L_cls_video is used"). A description has no
  times, so its cross-modal attention is global and its segment ids are 0, as for A2Summ's
  untimed text. Which batches are global is the training loop's choice: one after every
  ``global_every`` (m) subtitle batches (Table 1: "Global step"); the model only stores m.
- The description goes through the text projection ("the model F is common"); a separate
  projection is made only when ``query_dim`` differs from ``text_dim``.
"""

from __future__ import annotations

import torch
from torch import nn

from models.a2summ.model import A2Summ
from models.layers import init_weights, require_mask
from models.losses import masked_mse

IMPORTANT = 0.15


class HierSum(A2Summ):
    """A2Summ plus ``alpha_mse``, ``score_threshold`` (0.15), ``global_every`` (m) and ``global_step``."""

    def __init__(self, video_dim: int, text_dim: int | None = None, audio_dim: int | None = None,
                 query_dim: int | None = None, *, alpha_mse: float = 1.0, score_threshold: float = IMPORTANT,
                 global_every: int = 2, **hparams):
        super().__init__(video_dim, text_dim, audio_dim, query_dim, **hparams)
        self.alpha_mse, self.score_threshold, self.global_every = alpha_mse, score_threshold, global_every
        self.query_proj = None
        if query_dim is not None and text_dim is not None and query_dim != text_dim:
            hidden, dropout = self.text_proj[0].out_features, self.text_proj[1].p
            self.query_proj = nn.Sequential(nn.Linear(query_dim, hidden), nn.Dropout(dropout))
            self.query_proj.apply(init_weights)

    def _project_text(self, text: torch.Tensor, text_key: str) -> torch.Tensor:
        if text_key == "query" and self.query_proj is not None:
            return self.query_proj(text)
        return self.text_proj(text)

    def frame_labels(self, batch: dict):
        if batch.get("frame_labels") is not None:
            return batch["frame_labels"]
        if batch.get("frame_scores") is not None:
            return (batch["frame_scores"] >= self.score_threshold).to(batch["frame_scores"].dtype)
        return None

    def video_loss(self, batch: dict, outputs: dict) -> tuple[torch.Tensor, dict]:
        """Focal loss on (derived) key frames + alpha * MSE on the most-replayed scores where present."""
        total, parts = super().video_loss(batch, outputs)
        if self.frame_labels(batch) is not None and batch.get("frame_scores") is not None:
            mask = require_mask(batch, "video")
            mse = masked_mse(torch.sigmoid(outputs["video_scores"]), batch["frame_scores"], mask)
            total = total + self.alpha_mse * mse
            parts["mse"] = mse.item()
        return total, parts

    def global_batch(self, batch: dict) -> dict:
        """The parent-level view of a batch: the global description as the (untimed) text."""
        if batch.get("query") is None:
            raise ValueError("a HierSum global step needs the batch's 'query' (the global description)")
        keep = ("video", "video_mask", "frame_labels", "frame_scores", "query", "query_mask", "ids")
        return {k: batch[k] for k in keep if k in batch}

    def global_step(self, batch: dict) -> tuple[torch.Tensor, dict]:
        """Forward with ``query`` in place of ``text``; (video-only loss, its parts)."""
        gb = self.global_batch(batch)
        outputs = self(gb, text_key="query")
        total, parts = self.video_loss(gb, outputs)
        parts["total"] = total.item()
        return total, parts
