"""Cut a video's timeline into fixed-length clips and assign frames and sentences to them.

Rules (also in the README and dataset cards):
- Clip k covers [k*L, (k+1)*L) seconds (L = 300 s for BLiSS). The last clip is whatever remains;
  a remainder shorter than ``min_last`` seconds is dropped (and counted in build.json).
- A frame belongs to the clip that contains its time (the step centre).
- A sentence belongs to the clip that contains its midpoint (a midpoint exactly on a boundary
  goes to the later clip), and its times are clamped to that clip, so every sentence lies inside
  its clip. A sentence straddling a boundary therefore appears once, in the clip where most of
  it is spoken. Sentences whose midpoint is past the last kept clip are dropped.
- Times inside an example are seconds from the clip's start.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Clip:
    index: int
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


def fixed_clips(duration: float, length: float = 300.0, min_last: float = 10.0) -> tuple[list[Clip], float]:
    """Clips of ``length`` seconds covering [0, duration); returns (clips, seconds dropped at the end)."""
    if duration <= 0:
        return [], 0.0
    n = math.ceil(duration / length - 1e-9)
    clips = [Clip(k, k * length, min((k + 1) * length, duration)) for k in range(n)]
    dropped = 0.0
    if clips and clips[-1].duration < min_last:
        dropped = clips.pop().duration
    return clips, dropped


def frame_indices(times: np.ndarray, clip: Clip) -> np.ndarray:
    """Indices of the frames whose times fall in [clip.start, clip.end)."""
    return np.flatnonzero((times >= clip.start) & (times < clip.end))


def assign_sentences(sentences: list[dict], clips: list[Clip]) -> list[list[tuple[int, dict]]]:
    """Per clip, (index in ``sentences``, sentence with clip-relative clamped times)."""
    out: list[list[tuple[int, dict]]] = [[] for _ in clips]
    starts = [c.start for c in clips]
    for i, s in enumerate(sentences):
        mid = (s["start"] + s["end"]) / 2
        k = bisect.bisect_right(starts, mid) - 1
        if k < 0 or mid >= clips[k].end:
            continue
        c = clips[k]
        start = min(max(s["start"], c.start), c.end) - c.start
        end = min(max(s["end"], c.start), c.end) - c.start
        out[k].append((i, {"start": start, "end": end, "text": s["text"]}))
    return out


# The per-clip features of highlight datasets (QVHighlights, YouTube Highlights: 2-s clips, as UMT and CFSum use).
CLIP_OPTIONS = {"i3d": {"mode": "clip2s"}, "pann": {"chunk_seconds": 2.0}}  # extractor -> options giving one row per 2 s


def clip_feature_tracks(visual: str, motion: str | None, audio: str | None, clip_seconds: float = 2.0) -> dict:
    """Tracks with one row per clip: ``visual`` at the clip centres (fps = 1 / clip), ``motion`` on the
    clip's frames and ``audio`` on its sound (each must know 2-s clips: ``CLIP_OPTIONS``)."""
    from builders.core.base import BuildError
    from builders.core.extraction import Track
    from builders.core.schema import frames_column

    if clip_seconds != 2.0 and (motion or audio):
        raise BuildError(f"the motion and audio extractors cut 2-s clips, not {clip_seconds}-s ones")
    tracks = {"visual": Track(visual, {"fps": 1 / clip_seconds}, column=frames_column(visual))}
    for key, name, column in (("motion", motion, frames_column(motion or "")), ("audio", audio, f"audio_{audio}")):
        if name is None:
            continue
        if name not in CLIP_OPTIONS:
            raise BuildError(f"--{key} {name}: the {key} extractors that cut 2-s clips are "
                             f"{', '.join(n for n in CLIP_OPTIONS if (n == 'pann') == (key == 'audio'))} (or none)")
        tracks[key] = Track(name, dict(CLIP_OPTIONS[name]), column=column)
    return tracks
