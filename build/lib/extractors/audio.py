"""Audio decoding with PyAV: the first audio stream, resampled to one rate, whole or in streamed chunks.

A stream that ends clearly before the duration its file declares (a cut download) raises
DecodeError "truncated" after its last block, by the video decoder's rule
(extractors.decode.check_complete), so it never passes as a short recording.

Time rule: the first decoded sample is time 0 and sample k is at k / sample_rate, the same origin
rule as the video decoder (its first frame is time 0). A stream that starts late in its container
(non-zero ``start_time``) is therefore not shifted, and a gap in the stream's timestamps is not
filled: samples are concatenated in decoding order. The decoder applies the container's edit list,
so AAC encoder priming (1024 samples) is already removed; the end keeps the encoder's padding of
the last AAC frame, so an AAC track decodes to its length rounded up to a whole AAC frame (1024
samples at the source rate) of near-silence (observed with PyAV 18 / FFmpeg's AAC in MP4).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import av
import numpy as np

from collectors.media import DecodeError, open_container
from extractors.decode import check_complete, declared_seconds


class NoAudioError(DecodeError):
    """The file is readable media but has no audio stream (an ItemError "no_audio", not "bad_media")."""


def open_audio(path: str | os.PathLike):
    """Open a container and its first audio stream; NoAudioError only when other streams decode."""
    container = open_container(path)
    if not container.streams.audio:
        types = [s.type for s in container.streams]
        container.close()
        found = ", ".join(types) or "none"
        # A damaged header shows up as codec-less "data" streams: that is bad media, not silence.
        if all(t == "data" for t in types):
            raise DecodeError(f"no decodable stream (streams found: {found})")
        raise NoAudioError(f"no audio stream (streams found: {found})")
    stream = container.streams.audio[0]
    stream.thread_type = "AUTO"
    return container, stream


def iter_audio_blocks(path: str | os.PathLike, sample_rate: int, mono: bool = True) -> Iterator[np.ndarray]:
    """Resampled float32 blocks [channels, n] in order, as decoded; ``mono`` averages the channels."""
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    container, stream = open_audio(path)
    # Keep the channels through the resampler and average them here: FFmpeg's own downmix scales
    # stereo by 1/sqrt(2) per channel (3 dB louder than the mean that librosa, and so PANN, use).
    resampler = av.AudioResampler(format="fltp", layout=None, rate=int(sample_rate))

    def to_array(frame) -> np.ndarray:
        x = frame.to_ndarray().astype(np.float32, copy=False)
        return x.mean(axis=0, keepdims=True) if mono else x

    frames = samples = 0
    try:
        for frame in container.decode(stream):
            frames += 1
            for out in resampler.resample(frame):
                samples += out.samples
                yield to_array(out)
        for out in resampler.resample(None):  # flush the resampler's delay line
            samples += out.samples
            yield to_array(out)
        if frames == 0:
            raise DecodeError("the audio stream has no decodable frames")
        check_complete(declared_seconds(container, stream), samples / sample_rate, "audio", f"{frames} frames decoded")
    except av.error.FFmpegError as e:
        raise DecodeError(f"audio decoding failed after {frames} frames ({e.__class__.__name__}: {e})") from e
    finally:
        container.close()


def decode_audio(path: str | os.PathLike, sample_rate: int, mono: bool = True) -> np.ndarray:
    """The whole first audio stream: float32 [n] when ``mono``, else [channels, n].

    Audio is small next to video (1 h mono at 32 kHz is 460 MB of float32), but for long files
    prefer :func:`iter_audio_chunks`, which holds one chunk at a time.
    """
    blocks = list(iter_audio_blocks(path, sample_rate, mono=mono))
    out = np.concatenate(blocks, axis=1)
    return out[0] if mono else out


def iter_audio_chunks(
    path: str | os.PathLike, sample_rate: int, chunk_seconds: float, min_tail: float = 0.5, pad: bool = True
) -> Iterator[tuple[float, np.ndarray]]:
    """Yield (start time, mono float32 [chunk_len]) for consecutive non-overlapping chunks.

    chunk_len = round(chunk_seconds * sample_rate); chunk k starts at k * chunk_len / sample_rate.
    Tail rule: a final partial chunk is kept when it holds at least ``min_tail`` of a chunk, and
    dropped otherwise, except when it is the only chunk (audio shorter than ``min_tail`` of a
    chunk still gives one). A kept tail is zero-padded to chunk_len, or yielded at its own length
    with ``pad=False`` (for models that take any length). Memory: one chunk plus one decoded block.
    """
    chunk_len = round(chunk_seconds * sample_rate)
    if chunk_len <= 0:
        raise ValueError(f"chunk_seconds * sample_rate must be at least 1 sample, got {chunk_seconds} * {sample_rate}")
    if not 0 <= min_tail <= 1:
        raise ValueError(f"min_tail is a fraction of a chunk in [0, 1], got {min_tail}")
    buf = np.zeros(chunk_len, dtype=np.float32)
    filled, k = 0, 0
    for block in iter_audio_blocks(path, sample_rate, mono=True):
        block = block[0]
        while block.size:
            take = min(chunk_len - filled, block.size)
            buf[filled : filled + take] = block[:take]
            filled += take
            block = block[take:]
            if filled == chunk_len:
                yield k * chunk_len / sample_rate, buf.copy()
                filled, k = 0, k + 1
    if filled and (filled >= min_tail * chunk_len or k == 0):
        buf[filled:] = 0.0
        yield k * chunk_len / sample_rate, buf if pad else buf[:filled]
