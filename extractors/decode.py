"""Streaming video decoding with PyAV: frames at a fixed rate, in batches, never the whole video.

Sampling rule: at ``fps`` F, step i covers [i/F, (i+1)/F) seconds of the video's own timeline
(the first frame's timestamp is time 0) and its time is the step centre (i + 0.5)/F. The frame
returned for a step is the one on screen at the centre: the last frame whose timestamp is at or
before it. That is exact on variable frame rate, and a long video costs memory for one batch.
"""

from __future__ import annotations

import os
from fractions import Fraction
from typing import Iterator

import av
import numpy as np


class DecodeError(RuntimeError):
    """The file cannot be opened or decoded as video."""


def open_video(path: str | os.PathLike):
    """Open a container and its first video stream, with a clear DecodeError for bad files."""
    if not os.path.exists(path):
        raise DecodeError(f"file not found: {path}")
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError, ValueError) as e:
        raise DecodeError(f"cannot open as media ({e.__class__.__name__}: {e})") from e
    if not container.streams.video:
        found = ", ".join(s.type for s in container.streams) or "none"
        container.close()
        # A damaged MP4 header shows up as a codec-less "data" stream: say so, it is not audio-only.
        raise DecodeError(f"no video stream (streams found: {found})")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    return container, stream


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


def iter_sampled_frames(
    path: str | os.PathLike, fps: float = 1.0, size: tuple[int | None, int | None] | None = None
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield (step centre time, RGB uint8 [H, W, 3]) for every step of the video at ``fps``.

    ``size`` (w, h) scales frames; leave one side None to keep the aspect ratio.
    """
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    container, stream = open_video(path)
    rate_f = Fraction(fps)  # exact value of the float, so ties compare exactly
    centre = lambda i: (2 * i + 1) / (2 * rate_f)  # noqa: E731
    to_rgb = lambda f: f.to_ndarray(format="rgb24", **_scaled_size(f, size))  # noqa: E731
    rate = stream.average_rate or stream.guessed_rate
    frame_len = 1 / Fraction(rate) if rate else 1 / rate_f
    origin = None
    prev, prev_rgb, prev_t = None, None, None
    i = 0
    try:
        for frame in container.decode(stream):
            t = _frame_seconds(frame, stream)
            if t is None:  # no timestamp: assume constant rate after the previous frame
                t = (prev_t + frame_len) if prev_t is not None else Fraction(0)
            if origin is None:
                origin = t
            t -= origin
            if prev_t is not None and t <= prev_t:  # out-of-order or duplicate timestamp
                continue
            # Every step whose centre falls before this frame is shown by the previous frame.
            while prev is not None and centre(i) < t:
                if prev_rgb is None:
                    prev_rgb = to_rgb(prev)
                yield float(centre(i)), prev_rgb
                i += 1
            prev, prev_rgb, prev_t = frame, None, t
        # The last frame stays on screen for one frame duration.
        if prev is not None:
            end = prev_t + frame_len
            while centre(i) < end:
                if prev_rgb is None:
                    prev_rgb = to_rgb(prev)
                yield float(centre(i)), prev_rgb
                i += 1
    except av.error.FFmpegError as e:
        raise DecodeError(f"decoding failed after {i} sampled frames ({e.__class__.__name__}: {e})") from e
    finally:
        container.close()
    if prev is None:
        raise DecodeError("the video stream has no decodable frames")


def iter_frame_batches(
    path: str | os.PathLike, fps: float = 1.0, batch_size: int = 32, size: tuple[int | None, int | None] | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (times float64 [B], frames uint8 [B, H, W, 3]) batches of :func:`iter_sampled_frames`."""
    times, frames = [], []
    for t, rgb in iter_sampled_frames(path, fps=fps, size=size):
        times.append(t)
        frames.append(rgb)
        if len(frames) == batch_size:
            yield np.asarray(times, dtype=np.float64), np.stack(frames)
            times, frames = [], []
    if frames:
        yield np.asarray(times, dtype=np.float64), np.stack(frames)


def video_duration(path: str | os.PathLike) -> float | None:
    """Container duration in seconds, if the file says (without decoding)."""
    container, stream = open_video(path)
    try:
        if stream.duration is not None and stream.time_base is not None:
            return float(stream.duration * stream.time_base)
        if container.duration is not None:
            return container.duration / 1_000_000
        return None
    finally:
        container.close()


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
