"""A2Summ (He et al., CVPR 2023, "Align and Attend"): one transformer over [video; text] whose
cross-modal attention is limited to time-aligned frame/sentence pairs, with dual contrastive losses.

Sequence layout per sample: ``[CLS_V, frame_1..frame_T, CLS_T, sentence_1..sentence_N]``.

Input embedding (Sec. 3.2): per-modality Linear to C (+ dropout), a learned position embedding
per modality (the CLS token takes position 0), and a learned segment embedding shared by a
sentence and the frames in its window: sentence n has segment n + 1; a frame has the segment of
the first real sentence whose ``align`` window holds it, else 0; CLS tokens and padding have 0.
(The released code instead sums the embeddings of every covering sentence into a frame, indexed
one lower than the sentence's own; we follow the paper's "shared" embedding.)

Alignment-guided attention (Eq. 1-3, ``alignment_mask``): attention inside a modality is global,
attention across modalities only between a frame and a sentence whose window holds it, and
padding is masked everywhere. The paper defines the mask on frames and sentences only; here the
CLS tokens attend (and are attended) within their own modality only, as in the released code,
so [CLS_V] / [CLS_T] stay per-modality summaries for the inter-sample loss. Without ``align``
(text with no times: Daily Mail / CNN) cross-modal attention is global, as the paper does there.

Layers (pre-norm, as in the released code): x = x + Attn(LN(x)); then the mixture of modality
experts: video positions (with CLS_V) x = x + VideoFFN(LN(x)), text positions x = x + TextFFN(LN(x)).
L layers with their own weights (the released code repeats one module L times, sharing weights;
the paper describes L cascaded blocks). A final LayerNorm per modality, then separate score heads.

Video-only batches (no ``text``; TVSum / SumMe without captions) run the video branch alone.
Losses (Eq. 9): focal loss on frame / sentence labels + beta * inter + lambda * intra; with
frame scores but no frame labels the video term is the MSE of sigmoid(score) to the scores.
Not implemented: the DSNet-style offset / centerness heads the released code adds for
TVSum / SumMe, which the paper does not describe.
"""

from __future__ import annotations

import torch
from torch import nn

from models.layers import FeedForward, MaskedAttention, init_weights, pair_mask, require_mask, score_head
from models.losses import LogitScale, focal_loss, hard_negatives, inter_sample_loss, intra_sample_loss, masked_mse


def segment_ids(align, video_mask, text_mask) -> tuple[torch.Tensor, torch.Tensor]:
    """(frame segments [B, T], sentence segments [B, N]): sentence n -> n + 1; a frame -> the
    first real sentence covering it + 1, or 0; padding -> 0."""
    cover = align & text_mask[:, :, None] & video_mask[:, None, :]  # [B, N, T]
    if cover.shape[1] == 0:  # a batch without sentences
        video_seg = torch.zeros_like(video_mask, dtype=torch.long)
    else:
        first = cover.to(torch.int8).argmax(dim=1)  # first covering sentence (argmax returns the first max)
        video_seg = torch.where(cover.any(dim=1), first + 1, torch.zeros_like(first))
    n = torch.arange(1, text_mask.shape[1] + 1, device=text_mask.device).expand_as(text_mask)
    return video_seg, torch.where(text_mask, n, torch.zeros_like(n))


def alignment_mask(video_mask, text_mask=None, align=None) -> torch.Tensor:
    """Bool [B, 1+T+1+N, 1+T+1+N], the attention mask A of Eq. 2 (True = may attend), CLS tokens included.

    Without ``text_mask`` the mask covers ``[CLS_V, frames]`` only. ``align`` None = no time
    correspondence: every real frame and sentence may attend to each other.
    """
    ones = torch.ones_like(video_mask[:, :1])
    vm = torch.cat([ones, video_mask], dim=1)
    vv = pair_mask(vm, vm)
    if text_mask is None:
        return vv
    tm = torch.cat([ones, text_mask], dim=1)
    cross = pair_mask(text_mask, video_mask)
    if align is not None:
        cross = cross & align.to(torch.bool)
    tv = torch.zeros(tm.shape[0], tm.shape[1], vm.shape[1], dtype=torch.bool, device=vm.device)
    tv[:, 1:, 1:] = cross
    return torch.cat([torch.cat([vv, tv.transpose(1, 2)], dim=2), torch.cat([tv, pair_mask(tm, tm)], dim=2)], dim=1)


class MultiwayLayer(nn.Module):
    """One A2Summ block: aligned self-attention over the joint sequence, then per-modality FFN experts."""

    def __init__(self, dim: int, heads: int, ffn_ratio: int, dropout: float):
        super().__init__()
        self.norm_attn = nn.LayerNorm(dim)
        self.attn = MaskedAttention(dim, heads, dropout)
        self.norm_video, self.norm_text = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.ffn_video = FeedForward(dim, ffn_ratio, dropout)
        self.ffn_text = FeedForward(dim, ffn_ratio, dropout)

    def forward(self, x, allowed, n_video: int, return_weights: bool = False):
        attended = self.attn(self.norm_attn(x), allowed=allowed, return_weights=return_weights)
        attended, weights = attended if return_weights else (attended, None)
        x = x + attended
        video, text = x[:, :n_video], x[:, n_video:]
        video = video + self.ffn_video(self.norm_video(video))
        text = text + self.ffn_text(self.norm_text(text))
        x = torch.cat([video, text], dim=1)
        return (x, weights) if return_weights else x


class A2Summ(nn.Module):
    """``forward(batch)`` -> ``video_scores`` [B, T] logits, ``text_scores`` [B, N] logits (with
    text), the final ``video_features`` / ``text_features`` and ``cls_video`` / ``cls_text`` [B, C].

    Hyper-parameters (defaults: TVSum's row but dropout 0.1; models/a2summ/defaults.py has each dataset's): ``hidden``
    C, ``num_layers`` L, ``heads``, ``ffn_ratio``, dropouts (input projection, attention/FFN,
    score head), ``ratio`` r (k = floor(len / r) hard negatives), ``expansion`` (key-set growth
    on each side), ``beta`` / ``lam`` (Eq. 9), focal ``alpha`` / ``gamma``, ``intra_pooling``
    (``"pairs"`` = Eq. 8 literally, ``"mean"`` = released code), ``directions`` (``"sum"`` = Eq. 6-8,
    ``"mean"`` = released code), ``max_len`` (position tables).

    Defaults follow the authors' released code (boheumd/A2Summ ``losses.py``), whose numbers the paper reports,
    beside its ``config.py`` beta / lambda: focal ``alpha`` 0.5 (its two-column focal loss averaged: Sec. 4.1
    says 0.25), ``intra_pooling`` "mean" and ``directions`` "mean". The paper's form: ``--hparam alpha=0.25
    --hparam intra_pooling=pairs --hparam directions=sum`` (docs/training.md).
    """

    def __init__(self, video_dim: int, text_dim: int | None = None, audio_dim: int | None = None,
                 query_dim: int | None = None, *, hidden: int = 128, num_layers: int = 2, heads: int = 8,
                 ffn_ratio: int = 4, dropout_input: float = 0.1, dropout: float = 0.1, dropout_head: float = 0.5,
                 ratio: int = 16, expansion: int = 4, beta: float = 0.1, lam: float = 1.0, alpha: float = 0.5,
                 gamma: float = 2.0, intra_pooling: str = "mean", directions: str = "mean", max_len: int = 5000):
        super().__init__()
        del audio_dim, query_dim  # A2Summ reads video and text only
        if ratio < 1:
            raise ValueError(f"ratio r must be >= 1 (k = floor(length / r) hard negatives), got {ratio}")
        self.max_len, self.ratio, self.expansion = max_len, ratio, expansion
        self.beta, self.lam, self.alpha, self.gamma, self.intra_pooling = beta, lam, alpha, gamma, intra_pooling
        if directions not in ("sum", "mean"):
            raise ValueError(f"directions must be 'sum' (Eq. 6-8) or 'mean' (the released code), got {directions!r}")
        self.directions = directions
        self.video_proj = nn.Sequential(nn.Linear(video_dim, hidden), nn.Dropout(dropout_input))
        self.cls_video = nn.Parameter(torch.zeros(1, 1, hidden))
        self.pos_video = nn.Embedding(max_len + 1, hidden)
        self.segment = nn.Embedding(max_len + 1, hidden)
        self.layers = nn.ModuleList(MultiwayLayer(hidden, heads, ffn_ratio, dropout) for _ in range(num_layers))
        self.norm_video = nn.LayerNorm(hidden)
        self.head_video = score_head(hidden, dropout_head)
        self.has_text = text_dim is not None
        if self.has_text:
            self.text_proj = nn.Sequential(nn.Linear(text_dim, hidden), nn.Dropout(dropout_input))
            self.cls_text = nn.Parameter(torch.zeros(1, 1, hidden))
            self.pos_text = nn.Embedding(max_len + 1, hidden)
            self.norm_text = nn.LayerNorm(hidden)
            self.head_text = score_head(hidden, dropout_head)
            self.inter_scale, self.intra_scale = LogitScale(), LogitScale()
        self.apply(init_weights)
        for p in (self.cls_video, getattr(self, "cls_text", None)):
            if p is not None:
                nn.init.trunc_normal_(p, std=0.02)

    # --- input embedding (Sec. 3.2) ---------------------------------------------------------

    def _positions(self, n: int, device) -> torch.Tensor:
        if n > self.max_len:
            raise ValueError(f"sequence of {n} steps exceeds max_len={self.max_len}; build the model with a larger "
                             "max_len")
        return torch.arange(n + 1, device=device)

    def _text_inputs(self, batch: dict, text_key: str):
        """(features, mask, align or None) of the text stream, or None for a video-only forward."""
        if not self.has_text or batch.get(text_key) is None:
            return None
        align = batch.get("align") if text_key == "text" else None
        return batch[text_key], require_mask(batch, text_key), align

    def _project_text(self, text: torch.Tensor, text_key: str) -> torch.Tensor:
        return self.text_proj(text)

    def embed(self, batch: dict, text_key: str = "text"):
        """(x [B, 1+T(+1+N), C], attention mask, 1+T): the transformer input and its mask."""
        video, video_mask = batch["video"], require_mask(batch, "video")
        b, t, _ = video.shape
        text_inputs = self._text_inputs(batch, text_key)
        v = torch.cat([self.cls_video.expand(b, -1, -1), self.video_proj(video)], dim=1)
        v = v + self.pos_video(self._positions(t, video.device))
        if text_inputs is None:
            return v, alignment_mask(video_mask), t + 1
        text, text_mask, align = text_inputs
        s = torch.cat([self.cls_text.expand(b, -1, -1), self._project_text(text, text_key)], dim=1)
        s = s + self.pos_text(self._positions(text.shape[1], video.device))
        if align is not None:
            video_seg, text_seg = segment_ids(align.to(torch.bool), video_mask, text_mask)
        else:
            video_seg = torch.zeros_like(video_mask, dtype=torch.long)
            text_seg = torch.zeros_like(text_mask, dtype=torch.long)
        zero = torch.zeros(b, 1, dtype=torch.long, device=video.device)
        v = v + self.segment(torch.cat([zero, video_seg], dim=1))
        s = s + self.segment(torch.cat([zero, text_seg], dim=1))
        return torch.cat([v, s], dim=1), alignment_mask(video_mask, text_mask, align), t + 1

    # --- forward ------------------------------------------------------------------------------

    def forward(self, batch: dict, text_key: str = "text") -> dict:
        x, allowed, n_video = self.embed(batch, text_key)
        for layer in self.layers:
            x = layer(x, allowed, n_video)
        video = self.norm_video(x[:, :n_video])
        out = {"video_scores": self.head_video(video[:, 1:]).squeeze(-1), "video_features": video[:, 1:],
               "cls_video": video[:, 0]}
        if x.shape[1] > n_video:
            text = self.norm_text(x[:, n_video:])
            out.update(text_scores=self.head_text(text[:, 1:]).squeeze(-1), text_features=text[:, 1:],
                       cls_text=text[:, 0])
        return out

    # --- losses (Eq. 4-9) ---------------------------------------------------------------------

    def frame_labels(self, batch: dict):
        """0/1 key-frame targets, or None when the batch has none."""
        return batch.get("frame_labels")

    def video_loss(self, batch: dict, outputs: dict) -> tuple[torch.Tensor, dict]:
        """Focal loss on frame labels (Eq. 4), else MSE of sigmoid(score) to ``frame_scores``."""
        mask, scores, labels = require_mask(batch, "video"), outputs["video_scores"], self.frame_labels(batch)
        if labels is not None:
            loss = focal_loss(scores, labels, mask, self.alpha, self.gamma)
            return loss, {"cls_video": loss.item()}
        if batch.get("frame_scores") is not None:
            loss = masked_mse(torch.sigmoid(scores), batch["frame_scores"], mask)
            return loss, {"mse": loss.item()}
        raise ValueError("the batch has neither frame_labels nor frame_scores to train the video scores on")

    def loss(self, batch: dict, outputs: dict) -> tuple[torch.Tensor, dict]:
        """Eq. 9: L_cls + beta L_inter + lambda L_intra; terms whose inputs are absent are left out."""
        total, parts = self.video_loss(batch, outputs)
        if "text_scores" in outputs:
            text_mask = require_mask(batch, "text")
            sentence_labels = batch.get("sentence_labels")
            if sentence_labels is not None:
                cls_text = focal_loss(outputs["text_scores"], sentence_labels, text_mask, self.alpha, self.gamma)
                total = total + cls_text
                parts["cls_text"] = cls_text.item()
            if self.beta:
                inter = inter_sample_loss(outputs["cls_video"], outputs["cls_text"], self.inter_scale(), self.directions)
                total = total + self.beta * inter
                parts["inter"] = inter.item()
            frame_labels = self.frame_labels(batch)
            if self.lam and frame_labels is not None and sentence_labels is not None:
                intra = self.intra_loss(batch, outputs, frame_labels.to(torch.bool), sentence_labels.to(torch.bool))
                total = total + self.lam * intra
                parts["intra"] = intra.item()
        parts["total"] = total.item()
        return total, parts

    def intra_loss(self, batch: dict, outputs: dict, frame_labels, sentence_labels) -> torch.Tensor:
        """Eq. 8 on the final features: key positions vs the top-k hard negatives of each modality."""
        video_mask, text_mask = require_mask(batch, "video"), require_mask(batch, "text")
        frame_negs = hard_negatives(outputs["video_scores"], frame_labels, video_mask, self.ratio, self.expansion)
        sentence_negs = hard_negatives(outputs["text_scores"], sentence_labels, text_mask, self.ratio, self.expansion)
        return intra_sample_loss(outputs["video_features"], outputs["text_features"], frame_labels & video_mask,
                                 sentence_labels & text_mask, frame_negs, sentence_negs, self.intra_scale(),
                                 self.intra_pooling, self.directions)
