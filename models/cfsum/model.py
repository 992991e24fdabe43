"""CFSum: coarse-fine fusion of video, audio and text for (query-based) video summarization (CFSum Sec. III).

Pipeline per sample (all attention 8-headed, every sub-layer post-norm: x = LN(x + f(x))):
1. Modal autoencoders (III-A, Eq. 1-2), one transformer encoder layer per modality: features are
   first projected to C (so every attention works in C dims: 8 heads need C % 8 == 0, and PANN's
   2048-dim attention would cost 8x more), sinusoidal positions are added ("positional
   encodings"), then self-attention with residual (Eq. 2) and the MLP. The paper names them
   autoencoders but defines no reconstruction loss, so none is trained. ``attend_before_projection``
   gives the paper's order instead: positions, self-attention with residual on the raw features
   (heads: the largest divisor of the feature width not above ``heads``), then "projected into a
   unified space using an MLP" (Linear to C, GELU, Linear).
2. Modal fusion (III-B, Eq. 3-5): one self-attention over the concatenation [v; a; t] with
   padding masked, split back per modality, then one shared FFN.
3. Feature interaction (III-C, Eq. 6-7): text-video and text-audio cross-attention and the
   weighted sum z = w_tv * tv + w_ta * ta with learnable w_tv, w_ta (init 2.0, 1.0). Eq. 6's
   output is indexed by clip (i = 1..nc) so the clips are the queries and the text the keys and
   values; each cross-attention keeps a residual to its clip (x + CrossAttn(x, t)), without
   which a one-sentence title would give every clip the same vector. No switch to text queries:
   they give one output per text token (nt), not the per-clip z_out Eq. 7-8 score.
4. Saliency head (III-D): Linear -> one logit per clip; the loss is Eq. 8's MSE between
   sigmoid(logit) and ``frame_scores`` (or the 0/1 ``frame_labels`` when a dataset has no scores).
   Regressing sigmoid(logit) instead of the raw linear output keeps ``video_scores`` a logit like
   the other models; rankings are the same. ``saliency_loss="linear"``: Eq. 8 on the linear output.

Text is the batch's ``query`` (a title or query, per sentence) when the model is built with
``query_dim``, else ``text``. Missing modalities drop their paths: without audio z = w_tv * tv;
without text the cross-attention term vanishes and z = w_tv * LN(v) + w_ta * LN(a) (YouTube
Highlights is video + audio only). Audio must be on the video's clip grid (``audio`` [B, T, Da]);
the paper's audio and video are both per 2-second clip.
"""

from __future__ import annotations

import torch
from torch import nn

from models.layers import FeedForward, MaskedAttention, init_weights, pair_mask, require_mask, sinusoidal_positions
from models.losses import masked_mse


class EncoderLayer(nn.Module):
    """Post-norm transformer encoder layer with a boolean attention mask."""

    def __init__(self, dim: int, heads: int, ffn_ratio: int, dropout: float):
        super().__init__()
        self.attn = MaskedAttention(dim, heads, dropout)
        self.ffn = FeedForward(dim, ffn_ratio, dropout)
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)

    def forward(self, x, mask):
        x = self.norm1(x + self.attn(x, allowed=pair_mask(mask, mask)))
        return self.norm2(x + self.ffn(x))


class ModalAutoencoder(nn.Module):
    """Linear to C, + sinusoidal positions, then one encoder layer over the modality (Eq. 1-2)."""

    def __init__(self, in_dim: int, dim: int, heads: int, ffn_ratio: int, dropout: float):
        super().__init__()
        self.proj = nn.Sequential(nn.Linear(in_dim, dim), nn.Dropout(dropout))
        self.layer = EncoderLayer(dim, heads, ffn_ratio, dropout)

    def forward(self, x, mask):
        x = self.proj(x)
        return self.layer(x + sinusoidal_positions(x.shape[1], x.shape[2], x.device), mask)


def raw_heads(width: int, heads: int) -> int:
    """The largest divisor of a feature width not above ``heads`` (attention on raw features splits the width)."""
    if heads < 1:
        raise ValueError(f"attend_before_projection: no head count for the {width}-d features with heads={heads}")
    return max(h for h in range(1, min(heads, width) + 1) if width % h == 0)


class RawModalAutoencoder(nn.Module):
    """The paper's order (III-A): + positions, self-attention with residual on the raw features (Eq. 1-2), then
    the MLP into C. Attention costs ~4 * width^2 parameters per modality (PANN's 2048: 16.8M vs 0.26M at C 256)."""

    def __init__(self, in_dim: int, dim: int, heads: int, dropout: float):
        super().__init__()
        self.heads = raw_heads(in_dim, heads)
        self.attn = MaskedAttention(in_dim, self.heads, dropout)
        self.norm = nn.LayerNorm(in_dim)
        self.mlp = nn.Sequential(nn.Linear(in_dim, dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(dim, dim))
        self.out_norm = nn.LayerNorm(dim)

    def forward(self, x, mask):
        x = x + sinusoidal_positions(x.shape[1], x.shape[2], x.device)
        x = self.norm(x + self.attn(x, allowed=pair_mask(mask, mask)))
        return self.out_norm(self.mlp(x))


class CrossInteraction(nn.Module):
    """Clips attend to the text (Eq. 6), residual + LN; no text leaves LN(x)."""

    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        self.attn = MaskedAttention(dim, heads, dropout)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x, x_mask, text=None, text_mask=None):
        if text is None:
            return self.norm(x)
        return self.norm(x + self.attn(x, text, allowed=pair_mask(x_mask, text_mask)))


class CFSum(nn.Module):
    """``forward(batch)`` -> ``video_scores`` [B, T] logits (and the fused ``video_features``).

    Hyper-parameters: ``hidden`` C (not given by the paper; 256), ``heads`` (8), ``ffn_ratio``,
    ``dropout``, ``w_video`` / ``w_audio`` (initial w_tv / w_ta: 2.0 / 1.0); the paper's forms where ours
    differ (docs/training.md): ``saliency_loss`` ("sigmoid": MSE on sigmoid(score); "linear": Eq. 8 on the
    linear output) and ``attend_before_projection`` (False: project to C, then attend; True: III-A's order).
    """

    def __init__(self, video_dim: int, text_dim: int | None = None, audio_dim: int | None = None,
                 query_dim: int | None = None, *, hidden: int = 256, heads: int = 8, ffn_ratio: int = 4,
                 dropout: float = 0.1, w_video: float = 2.0, w_audio: float = 1.0, saliency_loss: str = "sigmoid",
                 attend_before_projection: bool = False):
        super().__init__()
        if saliency_loss not in ("sigmoid", "linear"):
            raise ValueError("saliency_loss must be 'sigmoid' (MSE on sigmoid(score), the default) or 'linear' "
                             f"(Eq. 8: MSE on the linear output), got {saliency_loss!r}")
        if not isinstance(attend_before_projection, bool):
            raise ValueError("attend_before_projection must be true (attention on the raw features, III-A) or false "
                             f"(project to C first, the default), got {attend_before_projection!r}")
        self.saliency_loss, self.attend_before_projection = saliency_loss, attend_before_projection
        self.text_key = "query" if query_dim is not None else ("text" if text_dim is not None else None)
        text_in = query_dim if query_dim is not None else text_dim

        def encoder(in_dim):
            if attend_before_projection:
                return RawModalAutoencoder(in_dim, hidden, heads, dropout)
            return ModalAutoencoder(in_dim, hidden, heads, ffn_ratio, dropout)

        self.encoders = nn.ModuleDict({"video": encoder(video_dim)})
        if audio_dim is not None:
            self.encoders["audio"] = encoder(audio_dim)
        if text_in is not None:
            self.encoders["text"] = encoder(text_in)
        self.fusion = MaskedAttention(hidden, heads, dropout)
        self.fusion_norm = nn.LayerNorm(hidden)
        self.ffn, self.ffn_norm = FeedForward(hidden, ffn_ratio, dropout), nn.LayerNorm(hidden)
        clips = [m for m in self.encoders if m != "text"]
        self.interact = nn.ModuleDict({m: CrossInteraction(hidden, heads, dropout) for m in clips})
        self.weights = nn.ParameterDict({"video": nn.Parameter(torch.tensor(float(w_video)))})
        if audio_dim is not None:
            self.weights["audio"] = nn.Parameter(torch.tensor(float(w_audio)))
        self.head = nn.Linear(hidden, 1)
        self.apply(init_weights)

    def _inputs(self, batch: dict) -> dict:
        """{modality: (features, mask)} for the modalities this model reads and the batch has."""
        video = batch["video"]
        inputs = {"video": (video, require_mask(batch, "video"))}
        if "audio" in self.encoders and batch.get("audio") is not None:
            if batch["audio"].shape[1] != video.shape[1]:
                raise ValueError(f"CFSum needs audio on the video's clip grid: audio has {batch['audio'].shape[1]} "
                                 f"steps, video {video.shape[1]}")
            mask = batch.get("audio_mask")
            inputs["audio"] = (batch["audio"], inputs["video"][1] if mask is None else mask.to(torch.bool))
        if "text" in self.encoders and batch.get(self.text_key) is not None:
            inputs["text"] = (batch[self.text_key], require_mask(batch, self.text_key))
        return inputs

    def forward(self, batch: dict) -> dict:
        inputs = self._inputs(batch)
        encoded = {m: self.encoders[m](x, mask) for m, (x, mask) in inputs.items()}
        masks = {m: mask for m, (_, mask) in inputs.items()}
        # coarse fusion (Eq. 3-5) over [v; a; t], split back, shared FFN
        names = list(encoded)
        z, z_mask = torch.cat([encoded[m] for m in names], dim=1), torch.cat([masks[m] for m in names], dim=1)
        z = self.fusion_norm(z + self.fusion(z, allowed=pair_mask(z_mask, z_mask)))
        z = self.ffn_norm(z + self.ffn(z))
        fused = dict(zip(names, torch.split(z, [encoded[m].shape[1] for m in names], dim=1), strict=True))
        # fine fusion (Eq. 6-7): clips attend to the text, weighted sum over video / audio
        text, text_mask = fused.get("text"), masks.get("text")
        out = sum(self.weights[m] * self.interact[m](fused[m], masks[m], text, text_mask) for m in names if m != "text")
        return {"video_scores": self.head(out).squeeze(-1), "video_features": out}

    def loss(self, batch: dict, outputs: dict) -> tuple[torch.Tensor, dict]:
        """Eq. 8: MSE of sigmoid(score) (``saliency_loss="linear"``: of the score itself) to ``frame_scores`` (else
        to the 0/1 ``frame_labels``) over real clips."""
        target = batch.get("frame_scores")
        if target is None:
            target = batch.get("frame_labels")
        if target is None:
            raise ValueError("the batch has neither frame_scores nor frame_labels to train CFSum on")
        scores = outputs["video_scores"]
        if self.saliency_loss == "sigmoid":
            scores = torch.sigmoid(scores)
        loss = masked_mse(scores, target, require_mask(batch, "video"))
        return loss, {"mse": loss.item(), "total": loss.item()}
