"""Examples -> one padded batch, built in numpy and handed to torch without a copy.

An example is a dict of numpy arrays (``models.data`` makes them from parquet rows or webdataset
samples): ``id``, ``video`` [T, Dv], optional ``text`` [N, Dt] with ``frame_times`` [T] and
``sentence_times`` [N, 2] (start, end), ``audio`` [A, Da], ``query`` [Q, Dq], and the targets
``frame_labels`` / ``frame_scores`` [T], ``sentence_labels`` [N]. The batch is the contract every
summarizer reads (masks True = real position; padding is zero):

    video [B, T, Dv], video_mask [B, T]        text [B, N, Dt], text_mask [B, N]
    audio [B, A, Da], audio_mask [B, A]        query [B, Q, Dq], query_mask [B, Q]
    align [B, N, T]   frame t's time lies in sentence n's [start, end)
    frame_labels, frame_scores [B, T] float32  sentence_labels [B, N] float32     ids: list[str]
    extra: list[dict]  the passthrough columns a model asked for (texts, ...), per example, as read

Collation runs in numpy because it runs in a prefetch thread or a DataLoader worker: numpy
copies release the GIL, so the training step (torch, also GIL-free in its kernels) overlaps it.
"""

from __future__ import annotations

import numpy as np
import torch

SEQUENCES = {"video": "video", "text": "text", "audio": "audio", "query": "query"}  # example key -> batch key
TARGETS = {"frame_labels": "video", "frame_scores": "video", "sentence_labels": "text"}  # target -> length owner


def align_mask(frame_times: np.ndarray, sentence_times: np.ndarray) -> np.ndarray:
    """bool [N, T]: ``start_n <= frame_times[t] < end_n``. From times, never from positions.

    A sentence with ``end <= start`` covers no frame; a frame between sentences belongs to none.
    """
    t = np.asarray(frame_times, dtype=np.float64).reshape(1, -1)
    s = np.asarray(sentence_times, dtype=np.float64).reshape(-1, 2)
    return (s[:, :1] <= t) & (t < s[:, 1:])


def _pad(arrays: list[np.ndarray], dtype) -> tuple[np.ndarray, np.ndarray]:
    """Stack [L_i, ...] arrays into [B, max L, ...] zeros plus the [B, max L] real-position mask."""
    longest = max((len(a) for a in arrays), default=0)
    tail = next((a.shape[1:] for a in arrays if a.size), arrays[0].shape[1:] if arrays else ())
    out = np.zeros((len(arrays), longest, *tail), dtype=dtype)
    mask = np.zeros((len(arrays), longest), dtype=bool)
    for i, a in enumerate(arrays):
        out[i, : len(a)] = a
        mask[i, : len(a)] = True
    return out, mask


def collate_numpy(examples: list[dict]) -> dict:
    """The batch as numpy arrays (see the module docstring); ``ids`` stays a list."""
    if not examples:
        raise ValueError("cannot collate an empty batch")
    first = examples[0]
    batch: dict = {"ids": [ex["id"] for ex in examples]}
    for key in SEQUENCES:
        if first.get(key) is not None:
            batch[key], batch[f"{key}_mask"] = _pad([ex[key] for ex in examples], np.float32)
    if "text" in batch:
        T, N = batch["video"].shape[1], batch["text"].shape[1]
        align = np.zeros((len(examples), N, T), dtype=bool)
        for i, ex in enumerate(examples):
            a = align_mask(ex["frame_times"], ex["sentence_times"])
            align[i, : a.shape[0], : a.shape[1]] = a
        batch["align"] = align
    for key, owner in TARGETS.items():
        if owner in batch and first.get(key) is not None:
            batch[key], _ = _pad([ex[key] for ex in examples], np.float32)
    if "extra" in first:  # passthrough columns (models.data.Columns.passthrough), per example, as read
        batch["extra"] = [ex["extra"] for ex in examples]
    return batch


def to_torch(batch: dict) -> dict:
    """numpy batch -> torch tensors sharing the memory (``ids`` untouched)."""
    return {k: (torch.from_numpy(v) if isinstance(v, np.ndarray) else v) for k, v in batch.items()}


def collate(examples: list[dict]) -> dict:
    """Examples -> the torch batch contract."""
    return to_torch(collate_numpy(examples))


def to_device(batch: dict, device: torch.device | str) -> dict:
    return {k: (v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v) for k, v in batch.items()}
