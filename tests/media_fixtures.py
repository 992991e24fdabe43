"""Damaged media for tests: a cut download whose index (moov) is at the front.

A "faststart" MP4 (index first, as web servers and yt-dlp deliver them) opens fine when cut: the
index still declares every sample, the decoders read what is there and stop at the cut.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from collectors.synthetic import write_video


def faststart_mp4(path: Path, seconds: int = 30, sample_rate: int = 16000) -> Path:
    """``seconds`` of changing colour at 10 fps with a 440 Hz tone (AAC), index at the front."""
    t = np.arange(seconds * sample_rate) / sample_rate
    audio = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    frames = (np.full((48, 64, 3), (7 * i) % 255, np.uint8) for i in range(seconds * 10))
    plain = write_video(path.with_name(path.stem + "-plain.mp4"), frames, fps=10, audio=audio, sample_rate=sample_rate)
    with av.open(str(plain)) as src, av.open(str(path), "w", options={"movflags": "faststart"}) as out:
        streams = {s.index: out.add_stream_from_template(s) for s in src.streams}
        for packet in src.demux():
            if packet.dts is not None:
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
    plain.unlink()
    return path


def cut_at_packet(src: Path, dst: Path, fraction: float = 0.5) -> Path:
    """The first ``fraction`` of ``src``, cut at the end of a packet (so no stream ends mid-packet)."""
    data = src.read_bytes()
    with av.open(str(src)) as c:
        ends = [p.pos + p.size for p in c.demux() if p.pos is not None and p.pos >= 0]
    dst.write_bytes(data[: max(e for e in ends if e <= len(data) * fraction)])
    return dst
