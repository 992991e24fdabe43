"""Media the project synthesizes (PyAV writes H.264 + AAC): the bundled sample, tests, benchmarks."""

from __future__ import annotations

import os
import shutil
from fractions import Fraction
from pathlib import Path
from typing import Iterable

import av
import numpy as np


def write_video(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    fps: float,
    audio: np.ndarray | None = None,
    sample_rate: int = 16000,
    crf: int = 23,
    pts: Iterable[int] | None = None,
    time_base: Fraction | None = None,
    gop: int | None = None,
) -> Path:
    """Encode RGB uint8 frames [H, W, 3] to H.264 (yuv420p) in an MP4, optionally with mono AAC audio.

    ``pts`` with ``time_base`` give each frame its own timestamp (variable frame rate); by
    default frame i has timestamp i / fps. ``gop`` puts a keyframe every that many frames (where
    an HLS segmenter may cut). Frames are consumed lazily, so a long video never
    sits in memory. Written under a temporary name, then renamed into place.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".part" + path.suffix)
    rate = Fraction(fps).limit_denominator(1001)
    pts_iter = iter(pts) if pts is not None else None
    with av.open(str(tmp), mode="w") as out:
        vs = None
        for i, rgb in enumerate(frames):
            if vs is None:
                h, w = rgb.shape[:2]
                vs = out.add_stream("libx264", rate=rate)
                vs.width, vs.height = w - w % 2, h - h % 2
                vs.pix_fmt = "yuv420p"
                vs.options = {"crf": str(crf), "preset": "ultrafast", "tune": "zerolatency",
                              **({"g": str(gop), "keyint_min": str(gop), "sc_threshold": "0"} if gop else {})}
                if time_base is not None:
                    vs.codec_context.time_base = time_base
                    vs.time_base = time_base
                if audio is not None:
                    aus = out.add_stream("aac", rate=sample_rate)
                    aus.layout = "mono"
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[: vs.height, : vs.width]), format="rgb24")
            if pts_iter is not None:
                frame.pts = next(pts_iter)
                frame.time_base = time_base
            else:
                frame.pts = i
                frame.time_base = Fraction(1) / rate
            for packet in vs.encode(frame):
                out.mux(packet)
        if vs is None:
            raise ValueError("write_video needs at least one frame")
        for packet in vs.encode():
            out.mux(packet)
        if audio is not None:
            _encode_audio(out, aus, np.asarray(audio, dtype=np.float32), sample_rate)
    os.replace(tmp, path)
    return path


def write_hls(
    out_dir: str | os.PathLike,
    frames: Iterable[np.ndarray],
    fps: float,
    audio: np.ndarray | None = None,
    sample_rate: int = 16000,
    segment_seconds: float = 2.0,
) -> Path:
    """An HLS VOD stream in `out_dir`: ``index.m3u8`` and MPEG-TS segments ``seg000.ts``, ...

    The frames (and audio) are encoded as :func:`write_video` does, with a keyframe every
    `segment_seconds`, then remuxed by PyAV's HLS muxer with packets in time order, so each
    segment holds its own audio. Written into a temporary directory, then renamed into place.
    Returns the playlist's path.
    """
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(out_dir.name + ".part")
    tmp.mkdir(parents=True, exist_ok=True)
    gop = max(1, int(round(fps * segment_seconds)))
    mp4 = write_video(tmp / "source.mp4", frames, fps, audio, sample_rate, gop=gop)
    options = {"hls_time": f"{segment_seconds:g}", "hls_playlist_type": "vod",
               "hls_segment_filename": str(tmp / "seg%03d.ts")}
    with av.open(str(mp4)) as src, av.open(str(tmp / "index.m3u8"), "w", format="hls", options=options) as out:
        streams = {s.index: out.add_stream_from_template(s) for s in src.streams}
        packets = [p for p in src.demux() if p.dts is not None]
        packets.sort(key=lambda p: (float(p.dts * p.time_base), p.stream.type != "video"))
        for packet in packets:
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    mp4.unlink()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)
    return out_dir / "index.m3u8"


def _encode_audio(out, stream, samples: np.ndarray, sample_rate: int, chunk: int = 1024) -> None:
    samples = samples.reshape(1, -1)
    for start in range(0, samples.shape[1], chunk):
        piece = np.ascontiguousarray(samples[:, start : start + chunk])
        frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout="mono")
        frame.sample_rate = sample_rate
        frame.pts = start
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)


def index_frame(i: int, width: int = 160, height: int = 96) -> np.ndarray:
    """A frame that encodes its own index as 8 bars of black/white blocks (survives H.264)."""
    frame = np.zeros((height, width, 3), dtype=np.uint8)
    bar = width // 16
    for bit in range(16):
        if (i >> bit) & 1:
            frame[:, bit * bar : (bit + 1) * bar] = 255
    return frame


def read_index(frame: np.ndarray) -> int:
    """Inverse of :func:`index_frame` on a decoded (lossy) frame."""
    width = frame.shape[1]
    bar = width // 16
    value = 0
    for bit in range(16):
        block = frame[:, bit * bar + bar // 4 : (bit + 1) * bar - bar // 4]
        if block.mean() > 127:
            value |= 1 << bit
    return value
