"""Streaming video decoding with PyAV: sampled frames, in batches, never the whole video.

Two sampling rules, both on the video's own timeline (the first frame's timestamp is time 0):

- at ``fps`` F, step i covers [i/F, (i+1)/F) seconds and its time is the step centre (i + 0.5)/F.
  The frame returned for a step is the one on screen at the centre: the last frame whose timestamp
  is at or before it. Exact (Fraction) arithmetic keeps that right on variable frame rate and ties.
  A video that ends before the first centre (shorter than half a step) is a DecodeError saying so.
- ``every_nth`` N takes decoded frames 0, N, 2N, ... (the eccv16 TVSum/SumMe ``picks``: a count
  of frames, not of seconds), each at its own timestamp.

Every sample also says which decoded frame it shows (``index``, 0-based in decoder output order),
so a builder can keep the picks. Batches are decoded on a background thread while the caller's
model runs (FFmpeg and torch release the GIL), handed over through a bounded queue: memory is a
few batches whatever the video's length.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from contextlib import closing
from fractions import Fraction
from typing import NamedTuple

import av
import numpy as np

from collectors.media import DecodeError, open_video
from common.threads import prefetch as ahead

Size = tuple[int | None, int | None] | None


class Sample(NamedTuple):
    time: float  # seconds: the step centre (fps) or the frame's own timestamp (every_nth)
    index: int  # which decoded frame this is, 0-based in decoder output order
    rgb: np.ndarray  # uint8 [H, W, 3]


class Batch(NamedTuple):
    times: np.ndarray  # float64 [B]
    index: np.ndarray  # int64 [B]
    frames: np.ndarray  # uint8 [B, H, W, 3]


def _frame_seconds(frame, stream) -> Fraction | None:
    """Exact timestamp: float rounding would break ties between a frame and a step centre."""
    if frame.pts is None:
        return None
    return frame.pts * Fraction(frame.time_base or stream.time_base)


def _scaled_size(frame, size: tuple[int | None, int | None] | None) -> dict:
    """Target (w, h); one side None (or <= 0) follows the frame's aspect, so callers need not know it."""
    if not size:
        return {}
    w, h = size
    w, h = (w if w and w > 0 else None), (h if h and h > 0 else None)
    if h is None and w is not None:
        h = max(1, round(w * frame.height / frame.width))
    elif w is None and h is not None:
        w = max(1, round(h * frame.width / frame.height))
    return {"width": w, "height": h}


def sampling_rule(fps: float | None, every_nth: int | None) -> tuple[float | None, int | None]:
    """Exactly one rule; neither given means the historical default, 1 fps."""
    if fps is not None and every_nth is not None:
        raise ValueError(f"give fps or every_nth, not both (fps={fps}, every_nth={every_nth})")
    if every_nth is not None:
        if int(every_nth) != every_nth or every_nth < 1:
            raise ValueError(f"every_nth must be a positive integer, got {every_nth}")
        return None, int(every_nth)
    fps = 1.0 if fps is None else fps
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    return fps, None


# A stream that ends this much before the duration its file declares is a truncated file (a cut-off
# download or copy: MKV, MPEG-TS and an MP4 with its index in front decode what is there without an
# error). One rule for video (_timeline) and audio (extractors.audio, extractors.whisper).
TRUNCATED_FRACTION, TRUNCATED_SECONDS = 0.9, 5.0


def declared_seconds(container, stream=None) -> Fraction | None:
    """How long the file says ``stream`` lasts: the stream's own duration when the file gives one (an
    audio track may rightly end before the video), else the container's."""
    if stream is not None and stream.duration and stream.duration > 0 and stream.time_base:
        return stream.duration * Fraction(stream.time_base)
    return Fraction(container.duration, av.time_base) if container.duration and container.duration > 0 else None


def check_complete(declared: Fraction | float | None, covered: Fraction | float, what: str, detail: str) -> None:
    """DecodeError "truncated" when a decoded stream covers clearly less than its declared duration."""
    if declared and covered < TRUNCATED_FRACTION * declared and declared - covered > TRUNCATED_SECONDS:
        raise DecodeError(f"truncated: the {what} stream ends at {float(covered):.1f} s of the {float(declared):.1f} s "
                          f"the file declares ({detail})")


def _timeline(container, stream, frame_len: Fraction) -> Iterator[tuple[int, Fraction, av.VideoFrame]]:
    """(index, exact time relative to the first frame, frame) for every decoded frame.

    Raises DecodeError after the last frame when the frames cover clearly less than the duration
    the container declares, so a truncated file never passes as a short video.
    """
    origin = last = None
    k = -1
    for k, frame in enumerate(container.decode(stream)):
        t = _frame_seconds(frame, stream)
        if t is None:  # no timestamp: assume constant rate after the previous frame
            t = last + frame_len if last is not None else Fraction(0)
        if origin is None:
            origin = t
        last = t
        yield k, t - origin, frame
    if k < 0:
        raise DecodeError("the video stream has no decodable frames")
    check_complete(declared_seconds(container, stream), last - origin + frame_len, "video", f"{k + 1} frames decoded")


def _at_rate(timeline, fps: float, frame_len: Fraction, to_rgb) -> Iterator[Sample]:
    rate = Fraction(fps)  # exact value of the float, so ties compare exactly
    centre = lambda i: (2 * i + 1) / (2 * rate)
    prev = prev_rgb = prev_t = None
    prev_k, i = -1, 0
    for k, t, frame in timeline:
        if prev_t is not None and t <= prev_t:  # out-of-order or duplicate timestamp
            continue
        # Every step whose centre falls before this frame is shown by the previous frame.
        while prev is not None and centre(i) < t:
            if prev_rgb is None:
                prev_rgb = to_rgb(prev)
            yield Sample(float(centre(i)), prev_k, prev_rgb)
            i += 1
        prev, prev_rgb, prev_t, prev_k = frame, None, t, k
    # The last frame stays on screen for one frame duration.
    if prev is not None:
        while centre(i) < prev_t + frame_len:
            if prev_rgb is None:
                prev_rgb = to_rgb(prev)
            yield Sample(float(centre(i)), prev_k, prev_rgb)
            i += 1
        if i == 0:
            raise DecodeError(f"the video is {float(prev_t + frame_len):.3g} s long, shorter than one sampling step "
                              f"({1 / fps:g} s at {fps:g} fps): no step centre ({float(centre(0)):g} s) falls inside it")


def _every_nth(timeline, n: int, to_rgb) -> Iterator[Sample]:
    """Count every decoded frame, as a sequential reader (OpenCV's ``read()`` loop) does."""
    for k, t, frame in timeline:
        if k % n == 0:
            yield Sample(float(t), k, to_rgb(frame))


def iter_samples(
    path: str | os.PathLike, fps: float | None = None, size: Size = None, *, every_nth: int | None = None,
    threads: int = 0,
) -> Iterator[Sample]:
    """Yield a :class:`Sample` (time, index, RGB uint8 [H, W, 3]) per step at ``fps`` or per ``every_nth`` frame.

    ``size`` (w, h) scales frames; leave one side None to keep the aspect ratio. Only sampled
    frames are converted to RGB.
    """
    fps, every_nth = sampling_rule(fps, every_nth)
    container, stream = open_video(path, threads)
    rate = stream.average_rate or stream.guessed_rate
    frame_len = 1 / Fraction(rate) if rate else 1 / Fraction(fps or 25)
    to_rgb = lambda f: f.to_ndarray(format="rgb24", **_scaled_size(f, size))
    timeline = _timeline(container, stream, frame_len)
    samples = _every_nth(timeline, every_nth, to_rgb) if every_nth else _at_rate(timeline, fps, frame_len, to_rgb)
    n = 0
    try:
        for n, sample in enumerate(samples, 1):
            yield sample
    except av.error.FFmpegError as e:
        raise DecodeError(f"decoding failed after {n} sampled frames ({e.__class__.__name__}: {e})") from e
    finally:
        samples.close()
        timeline.close()
        container.close()


def iter_sampled_frames(
    path: str | os.PathLike, fps: float | None = None, size: Size = None, *, every_nth: int | None = None,
    threads: int = 0,
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield (time, RGB uint8 [H, W, 3]) pairs of :func:`iter_samples` (default: 1 fps)."""
    with closing(iter_samples(path, fps, size, every_nth=every_nth, threads=threads)) as samples:
        for s in samples:
            yield s.time, s.rgb


def _batches(samples: Iterator[Sample], batch_size: int, stop: threading.Event | None = None) -> Iterator[Batch]:
    """Stack samples into batches; stops between samples once ``stop`` is set; closes ``samples``."""
    source = samples if stop is None else itertools.takewhile(lambda _: not stop.is_set(), samples)
    try:
        while chunk := list(itertools.islice(source, batch_size)):
            yield Batch(np.array([s.time for s in chunk], dtype=np.float64),
                        np.array([s.index for s in chunk], dtype=np.int64),
                        np.stack([s.rgb for s in chunk]))
    finally:
        samples.close()


def iter_sample_batches(
    path: str | os.PathLike, fps: float | None = None, batch_size: int = 32, size: Size = None, *,
    every_nth: int | None = None, prefetch: int = 2, threads: int = 0,
) -> Iterator[Batch]:
    """Yield :class:`Batch` (times, index, frames) of :func:`iter_samples`, decoded ``prefetch`` batches ahead.

    Decoding runs on a background thread so it overlaps the caller's work on the previous batch;
    memory is about ``prefetch + 2`` batches. ``prefetch=0`` decodes in the caller's thread.
    """
    sampling_rule(fps, every_nth)  # bad arguments fail here, not on the worker
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    samples = iter_samples(path, fps, size, every_nth=every_nth, threads=threads)
    if prefetch <= 0:
        return _batches(samples, batch_size)
    stop = threading.Event()  # set when the consumer stops early: decoding ends at the next sample
    return ahead(_batches(samples, batch_size, stop), prefetch, stop, name="vsumhub-decode")


def iter_frame_batches(
    path: str | os.PathLike, fps: float | None = None, batch_size: int = 32, size: Size = None, *,
    every_nth: int | None = None, prefetch: int = 2, threads: int = 0,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (times float64 [B], frames uint8 [B, H, W, 3]) of :func:`iter_sample_batches`."""
    with closing(iter_sample_batches(path, fps, batch_size, size, every_nth=every_nth, prefetch=prefetch,
                                     threads=threads)) as batches:
        for b in batches:
            yield b.times, b.frames


def read_image(path: str | os.PathLike) -> np.ndarray:
    """An image file (PNG, JPEG, ...) as RGB uint8 [H, W, 3]."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as e:
        raise DecodeError(f"{path}: not a readable image ({e})") from e


def read_all_frames(path: str | os.PathLike, max_frames: int = 1000) -> list[np.ndarray]:
    """Every frame of a short animation (GIF, MP4, WebP), e.g. a thumbnail animation."""
    container, stream = open_video(path)
    out = []
    try:
        for frame in container.decode(stream):
            out.append(frame.to_ndarray(format="rgb24"))
            if len(out) > max_frames:
                raise DecodeError(f"more than {max_frames} frames: not a thumbnail animation")
    except av.error.FFmpegError as e:
        raise DecodeError(f"decoding failed ({e})") from e
    finally:
        container.close()
    if not out:
        raise DecodeError("no decodable frames")
    return out
