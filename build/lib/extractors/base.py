"""The one contract every extractor follows: ``extract(item) -> FeatureTrack(times, values, meta)``.

Extractors know models and media decoding, nothing about datasets or labels.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
from typing import Sequence

import numpy as np


class UnknownExtractorError(ValueError):
    pass


class MissingWeightsError(RuntimeError):
    """Weights could not be found locally and could not be downloaded; the message names the flag."""


@dataclasses.dataclass
class FeatureTrack:
    """Features of one item: ``values[i]`` describes the step centred at ``times[i]`` seconds."""

    times: np.ndarray  # float64 [T]
    values: np.ndarray  # float32 or float16 [T, D]
    meta: dict

    def __post_init__(self):
        self.times = np.asarray(self.times, dtype=np.float64).reshape(-1)
        self.values = np.asarray(self.values)
        if self.values.dtype not in (np.float16, np.float32):
            self.values = self.values.astype(np.float32)
        if self.values.ndim != 2 or self.values.shape[0] != self.times.shape[0]:
            raise ValueError(
                f"FeatureTrack needs values [T, D] with T == len(times); got values {self.values.shape}, times {self.times.shape}"
            )

    def __len__(self) -> int:
        return int(self.times.shape[0])

    @property
    def dim(self) -> int:
        return int(self.values.shape[1])


def library_versions(*dists: str) -> dict[str, str]:
    out = {}
    for d in dists:
        try:
            out[d] = importlib.metadata.version(d)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def config_hash(config: dict) -> str:
    """Short stable hash of an extractor config: a changed config never mixes with an old one."""
    blob = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


class Extractor:
    """Base of all extractors. Subclasses set ``name``, ``modality`` and implement ``extract``."""

    name: str = ""
    modality: str = ""  # "visual" | "text"

    def config(self) -> dict:
        """Everything that changes the output values (model, weights checksum, rate, ...)."""
        raise NotImplementedError

    def meta(self) -> dict:
        """config() plus provenance: library versions."""
        raise NotImplementedError

    @property
    def dim(self) -> int:
        raise NotImplementedError

    def extract(self, item) -> FeatureTrack:
        raise NotImplementedError


def clip_track(item, clips, encode, batch_size: int, meta: dict) -> FeatureTrack:
    """One track from ``(time, clip)`` pairs (I3D stacks, ResNeXt-3D clips), encoded ``batch_size`` at a time.

    ``clips(video)`` yields the pairs, ``encode(np.ndarray [B, ...]) -> [B, D]``. The next batch is decoded
    on a background thread while the model runs on this one. A decode error, or a video without one
    clip, is the item's ``bad_media``.
    """
    from contextlib import closing

    from collectors.records import ItemError
    from common.threads import prefetch
    from extractors.decode import DecodeError

    video = item.media.get("video")
    if not video:
        raise ItemError("no_video", "item has no media['video']", item.id)
    times, feats, batch = [], [], []
    try:
        with closing(prefetch(clips(video), depth=batch_size, name="vsumhub-decode")) as ahead:
            for t, clip in ahead:
                times.append(t)
                batch.append(clip)
                if len(batch) == batch_size:
                    feats.append(encode(np.stack(batch)))
                    batch = []
        if batch:
            feats.append(encode(np.stack(batch)))
    except DecodeError as e:
        raise ItemError("bad_media", f"{video}: {e}", item.id) from e
    if not feats:
        raise ItemError("bad_media", f"{video}: no frames could be decoded", item.id)
    return FeatureTrack(times, np.concatenate(feats), meta)


class VisualExtractor(Extractor):
    """Frames in, one vector per frame out. ``extract`` streams the item's video at ``fps``.

    With ``every_nth`` set it takes every Nth decoded frame instead, and records their indices
    (the eccv16 ``picks``) in the track's ``meta["picks"]``.
    """

    modality = "visual"
    fps: float = 1.0
    every_nth: int | None = None
    batch_size: int = 32
    # Size the decoder should scale frames to (w, h), or None for native; preprocessing does the rest.
    decode_size: tuple[int, int] | None = None
    # FFmpeg decoder threads, 0 for FFmpeg's choice (about one per core). The job sets 1 when it runs
    # one worker per core, so workers do not fight over the cores. Not part of the config: it does
    # not change what is decoded.
    decode_threads: int = 0

    def encode_frames(self, frames: np.ndarray) -> np.ndarray:
        """uint8 RGB frames [B, H, W, 3] -> float32 [B, D]."""
        raise NotImplementedError

    def encode_images(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Images of any sizes (e.g. thumbnail-animation frames) -> [K, D]."""
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate([self.encode_frames(img[None]) for img in images], axis=0)

    def extract(self, item) -> FeatureTrack:
        from collectors.records import ItemError
        from extractors.decode import DecodeError, iter_sample_batches

        video = item.media.get("video")
        if not video:
            raise ItemError("no_video", "item has no media['video']", item.id)
        rate = {"every_nth": self.every_nth} if self.every_nth else {"fps": self.fps}
        times, picks, chunks = [], [], []
        try:
            for batch in iter_sample_batches(video, batch_size=self.batch_size, size=self.decode_size,
                                             threads=self.decode_threads, **rate):
                times.append(batch.times)
                picks.append(batch.index)
                chunks.append(self.encode_frames(batch.frames))
        except DecodeError as e:
            raise ItemError("bad_media", f"{video}: {e}", item.id) from e
        if not chunks:
            raise ItemError("bad_media", f"{video}: no frames could be decoded", item.id)
        meta = self.meta()
        if self.every_nth:
            meta["picks"] = np.concatenate(picks).tolist()
        return FeatureTrack(np.concatenate(times), np.concatenate(chunks), meta)


class TextExtractor(Extractor):
    """Sentences in, one vector per sentence out; times are the sentences' centres."""

    modality = "text"

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        """list of N strings -> float32 [N, D]; N == 0 gives [0, D]."""
        raise NotImplementedError

    def extract(self, item) -> FeatureTrack:
        sentences = item.transcript
        times = np.array([(s["start"] + s["end"]) / 2 for s in sentences], dtype=np.float64)
        values = self.encode_texts([s["text"] for s in sentences])
        return FeatureTrack(times, values, self.meta())

