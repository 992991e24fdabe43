"""VDF, the Video-guided Dual Fusion network (Liu et al., EMNLP 2022, section 2.2 and figure 3), on mBART's
encoder and decoder from ``transformers``.

    text (source language) --MBartEncoder (BiTrm, eq. 3)--> T_Trm
    T_Trm, V (+ learned positions) --ForgetGateFusion (FGF, eq. 4)--> T_FGF --forget fusion encoder layer--> T_en
    summary prefix --MBartDecoder (masked self-attention, attention to T_en)--> H
    H --cascaded fusion decoder layer: C_X = self-attention, C_Y = Att(C_X, T_en, T_en) (eq. 5),
        C_V = Att(C_X + C_Y, V, V) (eq. 6), C_M = [(C_X + C_Y), C_V] W + b + (C_X + C_Y) (eq. 7), FFN--> logits

Written from the paper; where it is silent, from the authors' released code (korokes/MCLS,
``seq2seq/modules/crossmodal_fusion.py`` and ``models/CAX2transformer.py``):

- FGF (the forget gate of Liu et al. 2020, which the paper cites without equations): attention of each text
  position over the video, ``A = softmax((T W_q) V^T / 8)``, ``V_att = A V``; memory ``M = V_att W_m + b_m``;
  forget gate ``F = sigmoid([T; V_att] W_f)`` (no bias); ``T_FGF = T + [T; M * F] W_u + b_u``. The video keeps its
  own width (2048) throughout, as in the code. Padded video rows are masked out here (the code attends to them).
- The forget fusion encoder layer after FGF is a self-attention + feed-forward layer and a final LayerNorm
  (section 2.2.2; ``encoding_again`` in the code); the paper's "1-layer forget fusion encoder layer".
- The cascaded fusion decoder layer (section 2.2.3, eq. 5-7) sits on top of the mBART decoder's layers (the paper
  counts it apart from the "4-layer" decoder; the code puts it first): its own masked self-attention (C_X),
  attention to T_en (C_Y), the residual C_X + C_Y, the text-to-video attention (bilinear, / 8 as in the code) and
  the fusion of eq. 7 with LayerNorm on the text input of the attention and of the linear layer (figure 3's "·",
  the code's ``cascaded_attn_layer_norm``), then a feed-forward sub-layer.
- Learned video position embeddings (section 2.2.1) are added to V once and used by both fusions, as the code does.

The fusions are separate modules (:class:`ForgetGateFusion`, :class:`CascadedFusion`) so tests can pin their gates.
Generation is transformers' beam search (``GenerationMixin.generate`` on a thin wrapper, no KV cache: the whole
prefix is decoded at every step).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

ATTENTION_SCALE = 1 / 8  # the released code divides the bilinear text-to-video scores by 8


def attention_weights(query: torch.Tensor, video: torch.Tensor, video_mask: torch.Tensor | None,
                      scale: float = ATTENTION_SCALE) -> torch.Tensor:
    """softmax(query V^T * scale) over the valid video rows: [B, L, Dv] x [B, T, Dv] -> [B, L, T]."""
    scores = torch.matmul(query, video.transpose(1, 2)) * scale
    if video_mask is not None:
        scores = scores.masked_fill(~video_mask[:, None, :].bool(), float("-inf"))
    return torch.softmax(scores, dim=-1).nan_to_num(0.0)  # an item without video rows attends to nothing


def masked_video_attention(query: torch.Tensor, video: torch.Tensor, video_mask: torch.Tensor | None,
                           scale: float = ATTENTION_SCALE) -> torch.Tensor:
    """softmax(query V^T * scale) V over the valid video rows: [B, L, Dv]."""
    return torch.matmul(attention_weights(query, video, video_mask, scale), video)


class ForgetGateFusion(nn.Module):
    """FGF (eq. 4): the video, attended from each text position and passed through a forget gate, added to the text.

    Computed as written in the module docstring, with the two video-width products taken on the video rows
    before the attention (``A (V W)`` for ``(A V) W``, the same numbers): a transcript has more tokens (up to 800)
    than its video has rows, and these 2048 x 2048 products are the bulk of the work.
    """

    def __init__(self, text_dim: int, video_dim: int, scale: float = ATTENTION_SCALE):
        super().__init__()
        self.scale, self.text_dim = scale, text_dim
        self.query = nn.Linear(text_dim, video_dim, bias=False)  # text -> video attention
        self.memory = nn.Linear(video_dim, video_dim)  # M = V_att W_m + b_m
        self.forget = nn.Linear(text_dim + video_dim, video_dim, bias=False)  # F = sigmoid([T; V_att] W_f)
        self.fuse = nn.Linear(text_dim + video_dim, text_dim)  # [T; M * F] W_u + b_u

    def weights(self, text, video, video_mask):
        """A = softmax((T W_q) V^T / 8) over the valid video rows, [B, L, T]."""
        return attention_weights(self.query(text), video, video_mask, self.scale)

    def gate(self, text, weights, video):
        """The forget gate F = sigmoid([T; A V] W_f) in (0, 1), one value per text position and video channel."""
        w_text, w_video = self.forget.weight[:, :self.text_dim], self.forget.weight[:, self.text_dim:]
        return torch.sigmoid(F.linear(text, w_text) + torch.matmul(weights, F.linear(video, w_video)))

    def forward(self, text: torch.Tensor, video: torch.Tensor, video_mask: torch.Tensor | None = None) -> torch.Tensor:
        weights = self.weights(text, video, video_mask)
        memory = torch.matmul(weights, F.linear(video, self.memory.weight)) + self.memory.bias  # M = (A V) W_m + b_m
        kept = memory * self.gate(text, weights, video)
        return text + self.fuse(torch.cat([text, kept], dim=-1))


class CascadedFusion(nn.Module):
    """Eq. 6-7: C_V = Att(C_X + C_Y, V, V); C_M = [LN(C_X + C_Y), C_V] W + b + (C_X + C_Y)."""

    def __init__(self, text_dim: int, video_dim: int, dropout: float = 0.0, scale: float = ATTENTION_SCALE):
        super().__init__()
        self.scale, self.dropout = scale, dropout
        self.norm = nn.LayerNorm(text_dim)
        self.query = nn.Linear(text_dim, video_dim, bias=False)
        self.merge = nn.Linear(text_dim + video_dim, text_dim)

    def video_context(self, text_context, video, video_mask):
        """C_V (eq. 6) of the (normalised) fused text context."""
        return masked_video_attention(self.query(text_context), video, video_mask, self.scale)

    def forward(self, c_x, c_y, video, video_mask=None):
        fused = c_x + c_y  # the cross-lingual context joins the summary context by a residual connection
        h = self.norm(fused)
        c_v = self.video_context(h, video, video_mask)
        merged = F.dropout(self.merge(torch.cat([h, c_v], dim=-1)), self.dropout, self.training)
        return fused + merged


class CascadedFusionDecoderLayer(nn.Module):
    """Masked self-attention (C_X), attention to T_en (C_Y, eq. 5), :class:`CascadedFusion`, feed-forward; pre-LN."""

    def __init__(self, d_model: int, heads: int, ffn_dim: int, video_dim: int, dropout: float = 0.1):
        super().__init__()
        self.dropout = dropout
        self.self_norm, self.cross_norm, self.ffn_norm = (nn.LayerNorm(d_model) for _ in range(3))
        self.self_attn = nn.MultiheadAttention(d_model, heads, dropout=0.0, batch_first=True)
        self.cross_attn = nn.MultiheadAttention(d_model, heads, dropout=0.0, batch_first=True)
        self.fusion = CascadedFusion(d_model, video_dim, dropout)
        self.fc1, self.fc2 = nn.Linear(d_model, ffn_dim), nn.Linear(ffn_dim, d_model)

    def forward(self, x, x_mask, memory, memory_mask, video, video_mask):
        """x [B, L, d] (mask True = token), memory T_en [B, S, d] (mask True = token)."""
        n = x.shape[1]
        causal = torch.triu(torch.ones(n, n, dtype=torch.bool, device=x.device), 1)
        h = self.self_norm(x)
        attn, _ = self.self_attn(h, h, h, attn_mask=causal, key_padding_mask=~x_mask.bool(), need_weights=False)
        c_x = x + F.dropout(attn, self.dropout, self.training)
        h = self.cross_norm(c_x)
        c_y, _ = self.cross_attn(h, memory, memory, key_padding_mask=~memory_mask.bool(), need_weights=False)
        c_m = self.fusion(c_x, F.dropout(c_y, self.dropout, self.training), video, video_mask)
        h = self.fc2(F.dropout(F.gelu(self.fc1(self.ffn_norm(c_m))), self.dropout, self.training))
        return c_m + F.dropout(h, self.dropout, self.training)


def mbart_config(vocab_size: int, d_model: int, layers_enc: int, layers_dec: int, heads: int, ffn_dim: int,
                 dropout: float, positions: int, pad_id: int, bos_id: int, eos_id: int):
    from transformers import MBartConfig

    return MBartConfig(vocab_size=vocab_size, d_model=d_model, encoder_layers=layers_enc, decoder_layers=layers_dec,
                       encoder_attention_heads=heads, decoder_attention_heads=heads, encoder_ffn_dim=ffn_dim,
                       decoder_ffn_dim=ffn_dim, dropout=dropout, max_position_embeddings=positions,
                       pad_token_id=pad_id, bos_token_id=bos_id, eos_token_id=eos_id, decoder_start_token_id=eos_id,
                       forced_eos_token_id=None, scale_embedding=False)


class VDF(nn.Module):
    """VDF on an mBART-style encoder and decoder: random (``MBartConfig`` from the sizes) or ``pretrained`` (a hub
    name or local path of an ``MBartForConditionalGeneration``, whose encoder, decoder and LM head it takes).

    ``source_vocab`` / ``target_vocab``: vocabulary sizes of the encoder's and the decoder's languages; with
    ``shared=True`` (source and target in one language and vocabulary) the encoder uses the decoder's embedding table.
    Special ids follow mBART (``<s>`` 0, ``<pad>`` 1, ``</s>`` 2); decoding starts from ``</s>``, as mBART / fairseq.
    """

    def __init__(self, source_vocab: int, target_vocab: int, *, d_model: int = 512, encoder_layers: int = 4,
                 decoder_layers: int = 4, heads: int = 8, ffn_dim: int = 2048, dropout: float = 0.1,
                 video_dim: int = 2048, max_text_len: int = 800, max_video_len: int = 1024,
                 max_summary_len: int = 200, shared: bool = False, pretrained: str | None = None,
                 pad_id: int = 1, bos_id: int = 0, eos_id: int = 2, **_ignored):
        super().__init__()
        from transformers.models.mbart.modeling_mbart import MBartDecoder, MBartEncoder

        self.max_video_len, self.video_dim = int(max_video_len), int(video_dim)
        if pretrained:
            from transformers import MBartForConditionalGeneration

            from extractors.weights import offline

            try:
                base = MBartForConditionalGeneration.from_pretrained(pretrained, local_files_only=offline())
            except OSError as e:
                raise ValueError(f"pretrained={pretrained!r}: no MBart weights there ({' '.join(str(e).split())[:300]}); "
                                 "give a local directory (save_pretrained) or a hub name already in the cache") from e
            self.config = base.config
            if max(source_vocab, target_vocab) > base.config.vocab_size:
                raise ValueError(f"pretrained={pretrained!r} has {base.config.vocab_size} embeddings, fewer than the "
                                 f"vocabularies ({source_vocab}, {target_vocab}): use the tokenizer that came with it")
            if max(max_text_len, max_summary_len) > base.config.max_position_embeddings:
                raise ValueError(f"pretrained={pretrained!r} has {base.config.max_position_embeddings} positions: set "
                                 "max_text_len and max_summary_len at most that")
            self.encoder, self.decoder = base.model.encoder, base.model.decoder
            if not shared:  # a source language of its own: its own copy of the embedding table (stage 3 swaps it)
                import copy

                self.encoder.embed_tokens = copy.deepcopy(self.encoder.embed_tokens)
            self.lm_head = base.lm_head
            self.register_buffer("final_logits_bias", base.final_logits_bias.detach().clone())
            d_model, heads, ffn_dim = base.config.d_model, base.config.decoder_attention_heads, base.config.decoder_ffn_dim
            dropout = base.config.dropout
            self.encoder_config = self.config
        else:
            positions = max(max_text_len, max_summary_len) + 2
            self.config = mbart_config(target_vocab, d_model, encoder_layers, decoder_layers, heads, ffn_dim, dropout,
                                       positions, pad_id, bos_id, eos_id)
            self.encoder_config = mbart_config(source_vocab, d_model, encoder_layers, decoder_layers, heads, ffn_dim,
                                               dropout, positions, pad_id, bos_id, eos_id)
            self.decoder = MBartDecoder(self.config)
            self.encoder = MBartEncoder(self.encoder_config)
            if shared:
                if source_vocab != target_vocab:
                    raise ValueError(f"shared embeddings need one vocabulary, got {source_vocab} and {target_vocab}")
                self.encoder.embed_tokens = self.decoder.embed_tokens
            self.lm_head = nn.Linear(d_model, target_vocab, bias=False)
            self.lm_head.weight = self.decoder.embed_tokens.weight
            self.register_buffer("final_logits_bias", torch.zeros(1, target_vocab))
        self.video_positions = nn.Embedding(self.max_video_len, self.video_dim)
        nn.init.normal_(self.video_positions.weight, std=0.02)
        self.fgf = ForgetGateFusion(d_model, self.video_dim)
        self.fusion_encoder = nn.TransformerEncoderLayer(d_model, heads, ffn_dim, dropout, activation="gelu",
                                                         batch_first=True, norm_first=True)
        self.fusion_encoder_norm = nn.LayerNorm(d_model)
        self.fusion_decoder = CascadedFusionDecoderLayer(d_model, heads, ffn_dim, self.video_dim, dropout)
        self.fusion_decoder_norm = nn.LayerNorm(d_model)

    # -- pieces
    def positioned_video(self, video: torch.Tensor) -> torch.Tensor:
        if video.shape[1] > self.max_video_len:
            raise ValueError(f"{video.shape[1]} video rows, more than max_video_len {self.max_video_len}")
        return video + self.video_positions(torch.arange(video.shape[1], device=video.device))[None]

    def text_encode(self, input_ids, attention_mask, hidden_states: bool = False):
        """BiTrm (eq. 3): the mBART encoder's output (with every layer's states when ``hidden_states``)."""
        return self.encoder(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=hidden_states)

    def encode(self, input_ids, attention_mask, video, video_mask) -> torch.Tensor:
        """T_en: BiTrm, FGF with the video, then the forget fusion encoder layer (section 2.2.2)."""
        text = self.text_encode(input_ids, attention_mask).last_hidden_state
        fused = self.fgf(text, self.positioned_video(video), video_mask)
        fused = self.fusion_encoder(fused, src_key_padding_mask=~attention_mask.bool())
        return self.fusion_encoder_norm(fused)

    def decode(self, decoder_input_ids, decoder_mask, memory, memory_mask, video, video_mask) -> torch.Tensor:
        """Logits [B, L, V]: the mBART decoder over T_en, then the cascaded fusion decoder layer (section 2.2.3)."""
        h = self.decoder(input_ids=decoder_input_ids, attention_mask=decoder_mask, encoder_hidden_states=memory,
                         encoder_attention_mask=memory_mask, use_cache=False).last_hidden_state
        h = self.fusion_decoder(h, decoder_mask, memory, memory_mask, self.positioned_video(video), video_mask)
        return self.lm_head(self.fusion_decoder_norm(h)) + self.final_logits_bias

    # -- the model interface
    def forward(self, batch: dict) -> torch.Tensor:
        memory = self.encode(batch["input_ids"], batch["attention_mask"], batch["video"], batch["video_mask"])
        return self.decode(batch["decoder_input_ids"], batch["decoder_attention_mask"], memory, batch["attention_mask"],
                           batch["video"], batch["video_mask"])

    @staticmethod
    def loss(batch: dict, logits: torch.Tensor) -> torch.Tensor:
        """Token-level cross-entropy of the gold summary (eq. 11), padding (-100) left out."""
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch["labels"].reshape(-1), ignore_index=-100)

    @torch.no_grad()
    def generate(self, batch: dict, num_beams: int = 6, max_length: int = 200, length_penalty: float = 1.0,
                 **options) -> torch.Tensor:
        """Summaries [B, L] by transformers' beam search (the paper: beam 6, length penalty 1)."""
        return _Generator.wrap(self).generate(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], video=batch["video"],
            video_mask=batch["video_mask"], num_beams=num_beams, max_length=max_length, do_sample=False, use_cache=False,
            **({"length_penalty": length_penalty, "early_stopping": True} if num_beams > 1 else {}), **options)


def _generator_class():
    """A PreTrainedModel around a VDF so that ``GenerationMixin.generate`` drives it (built on first use)."""
    from transformers import GenerationMixin, MBartConfig, PreTrainedModel
    from transformers.modeling_outputs import BaseModelOutput, Seq2SeqLMOutput

    class EncoderView(nn.Module):
        main_input_name = "input_ids"

        def __init__(self, vdf):
            super().__init__()
            self.vdf = vdf

        def forward(self, input_ids=None, attention_mask=None, video=None, video_mask=None, **kwargs):
            return BaseModelOutput(last_hidden_state=self.vdf.encode(input_ids, attention_mask, video, video_mask))

    class Generator(PreTrainedModel, GenerationMixin):
        config_class = MBartConfig
        main_input_name = "input_ids"
        _supports_sdpa = True

        def __init__(self, config, vdf):
            super().__init__(config)
            self.vdf, self.encoder = vdf, EncoderView(vdf)

        def get_encoder(self):
            return self.encoder

        def forward(self, input_ids=None, attention_mask=None, decoder_input_ids=None, encoder_outputs=None,
                    video=None, video_mask=None, **kwargs):
            if encoder_outputs is None:
                encoder_outputs = self.encoder(input_ids, attention_mask, video, video_mask)
            mask = torch.ones_like(decoder_input_ids, dtype=torch.bool)
            logits = self.vdf.decode(decoder_input_ids, mask, encoder_outputs.last_hidden_state, attention_mask,
                                     video, video_mask)
            return Seq2SeqLMOutput(logits=logits)

        def prepare_inputs_for_generation(self, decoder_input_ids, encoder_outputs=None, attention_mask=None,
                                          video=None, video_mask=None, **kwargs):
            return {"decoder_input_ids": decoder_input_ids, "encoder_outputs": encoder_outputs,
                    "attention_mask": attention_mask, "video": video, "video_mask": video_mask}

    return Generator


class _Generator:
    _cls = None

    @classmethod
    def wrap(cls, vdf: VDF):
        if cls._cls is None:
            cls._cls = _generator_class()
        config = vdf.config.__class__(**{**vdf.config.to_dict(), "use_cache": False})
        gen = cls._cls(config, vdf)
        gen.eval()
        return gen


def video_batch(videos: list, max_rows: int, dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Zero-padded [B, T, D] and its mask from [T_i, D] arrays, each cut to its first ``max_rows`` rows."""
    n = max(1, min(max_rows, max(len(v) for v in videos)))
    out, mask = torch.zeros(len(videos), n, dim), torch.zeros(len(videos), n, dtype=torch.bool)
    for i, v in enumerate(videos):
        t = torch.tensor(np.asarray(v[:max_rows], dtype=np.float32))
        if t.ndim != 2 or (len(t) and t.shape[1] != dim):
            raise ValueError(f"video features must be [T, {dim}], got {list(t.shape)}")
        out[i, :len(t)], mask[i, :len(t)] = t, True
    return out, mask


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


__all__ = ["CascadedFusion", "CascadedFusionDecoderLayer", "ForgetGateFusion", "VDF", "attention_weights",
           "masked_video_attention", "parameter_count", "video_batch"]
