"""What a collector may learn about a media file without decoding it: PyAV reads the container's header.

Decoding frames and audio is the extractors' business (extractors.decode, extractors.audio); they
open files with the same functions, so a missing or unreadable file is the same error everywhere.
"""

from __future__ import annotations

import os
import stat

import av


class DecodeError(RuntimeError):
    """The file cannot be opened as media, has no video stream, or (extractors.decode) cannot be decoded."""


def open_container(path: str | os.PathLike):
    """Open a media file with PyAV; a missing or unreadable file is a DecodeError saying which.

    Only regular files are opened: FFmpeg would wait forever in open() for a FIFO's writer.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise DecodeError(f"file not found: {path}") from None
    except OSError as e:
        raise DecodeError(f"cannot read {path}: {e.strerror or e}") from e
    if not stat.S_ISREG(mode):
        what = ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a socket"
                if stat.S_ISSOCK(mode) else "a device")
        raise DecodeError(f"not a regular file ({what})")
    try:
        return av.open(str(path), metadata_errors="ignore")  # a badly encoded tag is no reason to refuse the media
    except (av.error.FFmpegError, OSError, ValueError) as e:
        raise DecodeError(f"cannot open as media ({e.__class__.__name__}: {e})") from e


def open_video(path: str | os.PathLike, threads: int = 0):
    """Open a container and its first video stream, with a clear DecodeError for bad files.

    ``threads`` is FFmpeg's decoder thread count, 0 for its own choice (about one per core).
    """
    container = open_container(path)
    if not container.streams.video:
        found = ", ".join(s.type for s in container.streams) or "none"
        container.close()
        # A damaged MP4 header shows up as a codec-less "data" stream: say so, it is not audio-only.
        raise DecodeError(f"no video stream (streams found: {found})")
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    stream.thread_count = threads
    return container, stream


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
