"""MHMS section 3.1: video temporal segmentation as binary classification of shot boundaries (eq. 1-3).

For the boundary after shot i the model sees 2 w_b shots, ``[S_{i-w_b+1} .. S_i]`` before it and
``[S_{i+1} .. S_{i+w_b}]`` after it (zeros past either end), and builds its representation VTS_i from
two branches, as section 3.1 describes them (after Rao et al.'s LGSS, which it cites):
- VTS_d, the difference: two temporal convolutions (kernel w_b over the shots, C channels), one
  embedding the shots before, the other the shots after; per channel, the cosine similarity of the two
  embeddings over the feature axis (the "inner product" that measures their difference) -> [C];
- VTS_r, the relation: a temporal convolution over all 2 w_b shots followed by max pooling over the
  channels -> [D].
A Bi-LSTM runs over the sequence of boundary representations [C + D] (eq. 2; over the whole video
at once, where the paper slides it with stride w_t / 2: our videos are at most a few hundred shots),
and a linear layer gives one logit per boundary; ``s_i > tau`` marks a scene boundary (eq. 3).

Shots: MHMS first cuts the video into shots with another tool [7]; here each sampled frame of the
published ``frames_<visual>`` is a shot. Labels: none of VMSMO, Daily Mail or CNN has scene labels
(the paper trains this module on other data); :func:`pseudo_boundaries` gives KTS change points of
the frames (builders.labels.kts, cosine kernel) as stand-in targets, so the module learns where the content
changes. Logits are [B, T]: position i is the boundary after shot i (the last one is never a boundary).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from builders.labels.kts import default_max_ncp, kts


def pseudo_boundaries(features: np.ndarray, vmax: float = 1.0) -> np.ndarray:
    """0/1 [T]: 1 at i when KTS starts a new segment at i + 1 (cosine kernel on the features)."""
    n = len(features)
    out = np.zeros(n, np.float32)
    if n < 2:
        return out
    cps = kts(np.asarray(features, np.float64), default_max_ncp(n), vmax=vmax, kernel="cosine")
    out[np.asarray(cps, dtype=np.int64) - 1] = 1
    return out


def segments_from_boundaries(boundary: np.ndarray, n: int) -> list[tuple[int, int]]:
    """[(start, end)) segments of n shots cut after every i with ``boundary[i]`` (the last shot never cuts)."""
    cuts = [i + 1 for i in np.flatnonzero(np.asarray(boundary[: max(n - 1, 0)], bool))]
    starts = [0] + cuts
    return [(s, e) for s, e in zip(starts, cuts + [n]) if e > s]


class VideoTemporalSegmentation(nn.Module):
    def __init__(self, video_dim: int, window: int = 2, channels: int = 64, hidden: int = 128):
        super().__init__()
        self.window = window
        self.before = nn.Conv2d(1, channels, kernel_size=(window, 1))
        self.after = nn.Conv2d(1, channels, kernel_size=(window, 1))
        self.relation = nn.Conv2d(1, channels, kernel_size=(2 * window, 1))
        self.lstm = nn.LSTM(channels + video_dim, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, 1)

    def windows(self, shots: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """[B, T, 2w, D]: for boundary i, shots i-w+1 .. i+w (padding and the outside are zeros)."""
        b, t, d = shots.shape
        x = shots * mask[..., None].to(shots.dtype)
        offsets = torch.arange(-self.window + 1, self.window + 1, device=shots.device)
        idx = torch.arange(t, device=shots.device)[:, None] + offsets[None, :]
        inside = ((idx >= 0) & (idx < t)).to(shots.dtype)
        return x[:, idx.clamp(0, t - 1)] * inside[None, :, :, None]

    def forward(self, shots: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Boundary logits [B, T] (eq. 1-2) for shot features [B, T, D]."""
        b, t, d = shots.shape
        w = self.windows(shots, mask).reshape(b * t, 1, 2 * self.window, d)
        before = self.before(w[:, :, : self.window]).squeeze(2)  # [BT, C, D]
        after = self.after(w[:, :, self.window:]).squeeze(2)
        difference = nn.functional.cosine_similarity(before, after, dim=2)  # [BT, C]
        relation = self.relation(w).squeeze(2).max(dim=1).values  # [BT, D]
        rep = torch.cat([difference, relation], dim=1).reshape(b, t, -1)
        lengths = mask.sum(1).clamp_min(1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(rep, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=t)
        return self.head(out).squeeze(-1)

    def loss(self, logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """BCE on the real boundaries (a video's last shot has none)."""
        real = mask.clone()
        last = mask.sum(1) - 1
        real[torch.arange(len(mask)), last.clamp_min(0)] = False
        if not real.any():
            return logits.new_zeros(())
        return nn.functional.binary_cross_entropy_with_logits(logits[real], targets[real])

    @staticmethod
    def segments(logits: torch.Tensor, mask: torch.Tensor, tau: float = 0.5) -> list[list[tuple[int, int]]]:
        """Per video, its scenes as [(start, end)) shot ranges: a boundary where sigmoid(logit) > tau (eq. 3)."""
        cut = (torch.sigmoid(logits) > tau).cpu().numpy()
        lengths = mask.sum(1).cpu().numpy()
        return [segments_from_boundaries(cut[i], int(n)) for i, n in enumerate(lengths)]
