"""MHMS section 3.2: visual summarization of each video segment, an encoder-decoder with attention (eq. 4-8).

Per segment of m frames: a Bi-LSTM encodes the frames, E = [e_1 .. e_m]; an LSTM decoder produces one
importance score per step t = 1..m. At step t the attention weights are multiplicative,
``beta_it = e_i^T W_a s_{t-1}`` (eq. 7), softmax over the segment's frames (eq. 8), the context is
``E_t = sum_i alpha_it e_i`` (eq. 4), and the decoder state is ``s_t = LSTM([E_t; d_{t-1}], s_{t-1})``
(eq. 5), where d_{t-1} is the previous step's score (the decoder's own output: no teacher forcing);
``d_t = sigmoid(w^T s_t + b)`` scores frame t. A segment's keyframe is its highest-scoring frame.

All segments of a batch run together: they are gathered into one padded batch of segments (attention
masked to each segment's own frames), then the scores go back to their frames. Training target: the
dataset's ``frame_labels`` (the cover frame; Daily Mail's keyframes), binary cross-entropy with the
positives weighted by negatives / positives of the batch (a cover is 1 frame of up to 200). MHMS
pretrains this module on TVSum / SumMe GoogLeNet features (section 5.1); here it trains on the
dataset's own frames.
"""

from __future__ import annotations

import torch
from torch import nn


class VisualSummarizer(nn.Module):
    def __init__(self, video_dim: int, hidden: int = 128):
        super().__init__()
        self.encoder = nn.LSTM(video_dim, hidden, batch_first=True, bidirectional=True)
        self.attn = nn.Linear(hidden, 2 * hidden, bias=False)  # W_a: e_i^T W_a s_{t-1}
        self.decoder = nn.LSTMCell(2 * hidden + 1, hidden)
        self.out = nn.Linear(hidden, 1)
        self.hidden = hidden

    def forward(self, video: torch.Tensor, mask: torch.Tensor, segments: list[list[tuple[int, int]]]) -> torch.Tensor:
        """Frame logits [B, T] for the frames of ``segments`` (per video, [(start, end)) ranges); others -inf."""
        b, t, _ = video.shape
        owners = [(i, s, e) for i, segs in enumerate(segments) for s, e in segs]
        logits = video.new_full((b, t), float("-inf"))
        if not owners:
            return logits
        longest = max(e - s for _, s, e in owners)
        idx = torch.zeros(len(owners), longest, dtype=torch.long, device=video.device)
        seg_mask = torch.zeros(len(owners), longest, dtype=torch.bool, device=video.device)
        rows = torch.tensor([i for i, _, _ in owners], device=video.device)
        for k, (_, s, e) in enumerate(owners):
            idx[k, : e - s] = torch.arange(s, e, device=video.device)
            seg_mask[k, : e - s] = True
        x = video[rows[:, None], idx]  # [S, L, D]
        lengths = seg_mask.sum(1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        enc, _ = self.encoder(packed)
        enc, _ = nn.utils.rnn.pad_packed_sequence(enc, batch_first=True, total_length=longest)  # [S, L, 2H]
        keys = enc  # e_i
        state = (enc.new_zeros(len(owners), self.hidden), enc.new_zeros(len(owners), self.hidden))
        prev = enc.new_zeros(len(owners), 1)
        out = []
        for step in range(longest):
            scores = torch.einsum("sld,sd->sl", keys, self.attn(state[0]))  # beta_it (eq. 7)
            alpha = torch.softmax(scores.masked_fill(~seg_mask, float("-inf")), dim=1)  # eq. 8
            context = torch.einsum("sl,sld->sd", alpha, keys)  # E_t (eq. 4)
            state = self.decoder(torch.cat([context, prev], dim=1), state)  # eq. 5
            logit = self.out(state[0])
            prev = torch.sigmoid(logit)
            out.append(logit)
        seg_logits = torch.cat(out, dim=1)  # [S, L]
        flat = logits.clone()
        flat[rows[:, None].expand_as(idx)[seg_mask], idx[seg_mask]] = seg_logits[seg_mask]
        return flat.masked_fill(~mask, float("-inf"))

    @staticmethod
    def keyframes(logits: torch.Tensor, segments: list[list[tuple[int, int]]]) -> list[list[int]]:
        """Per video, the highest-scoring frame of each segment (its visual summary candidates)."""
        return [[s + int(torch.argmax(logits[i, s:e])) for s, e in segs] for i, segs in enumerate(segments)]

    @staticmethod
    def loss(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, has_labels: torch.Tensor) -> torch.Tensor:
        """Weighted BCE on the real frames of the labelled videos."""
        keep = mask & has_labels[:, None] & torch.isfinite(logits)
        if not keep.any():
            return logits.new_zeros(())
        y = labels[keep]
        pos = y.sum().clamp_min(1.0)
        weight = ((y.numel() - y.sum()) / pos).clamp_min(1.0)
        return nn.functional.binary_cross_entropy_with_logits(logits[keep], y, pos_weight=weight)
