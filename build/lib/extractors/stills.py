"""A few still frames of a video at given times (for dataset-card figures and previews).

Feature extraction streams every frame (extractors.decode); a figure needs a handful of frames
from anywhere in a long video, so each still seeks to the key frame before its time and decodes
forward to the frame on screen at that time (the last frame whose timestamp is at or before it).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction

import av
import numpy as np

from collectors.media import DecodeError, open_video


def frames_at(path: str | os.PathLike, times: Sequence[float], width: int = 320) -> list[np.ndarray]:
    """RGB uint8 [H, width, 3] frames on screen at ``times`` (seconds from the video's first frame).

    A time past the end gives the last frame. Raises DecodeError for a file that cannot be decoded.
    """
    container, stream = open_video(path, threads=1)
    try:
        base = Fraction(stream.time_base) if stream.time_base else Fraction(1, av.time_base)
        start = Fraction(stream.start_time or 0) * base
        out = []
        for t in times:
            target = start + Fraction(max(float(t), 0.0))
            container.seek(int(target / base), stream=stream, backward=True, any_frame=False)
            chosen = None
            for frame in container.decode(stream):
                if chosen is not None and frame.pts is not None and frame.pts * base > target:
                    break
                chosen = frame
            if chosen is None:
                raise DecodeError(f"{path}: no frame could be decoded near {float(t):.2f} s")
            height = max(1, round(width * chosen.height / chosen.width))
            out.append(chosen.to_ndarray(format="rgb24", width=width, height=height))
        return out
    except av.error.FFmpegError as e:
        raise DecodeError(f"{path}: decoding failed ({e})") from e
    finally:
        container.close()
