"""A loopback stand-in for behance.net: the saved-shape pages of tests/fixtures/behance, and media
the project synthesizes with PyAV (an HLS playlist with two variants, an MP4 replay with JFK's
speech, a GIF and an MP4 cover animation, cover images, a transcript).

Every second of a stream's video is one solid colour (hue bin k of the colorhist extractor), so
the cover-animation frames, taken from known seconds, must label exactly those frames as keyframes.
"""

from __future__ import annotations

import colorsys
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from collectors.synthetic import write_hls, write_video
from tests.loopback import LoopbackServer

FIXTURES = Path(__file__).parent / "fixtures" / "behance"
JFK = Path(__file__).resolve().parents[2] / "shared/data/speech/jfk.flac"
PHRASE = "ask not what your country"

UUID_A = "3f2b9c1e-8a4d-4c6f-9b1a-2d7e5f0c8a11"  # state page, HLS, GIF animation, transcript; 429 once
UUID_B = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f"  # OpenGraph page, MP4, MP4 animation, no transcript (Whisper)
UUID_C = "b23f1aaf-b5cb-4104-b91e-4f4523010fd5"  # removed: 404
SECONDS, FPS = 12, 4
KEYFRAMES_A, KEYFRAMES_B = [2, 5, 9], [1, 7]
TRANSCRIPT_A = [
    {"display": "Hi everyone, welcome back to the stream.", "offset": 0.6, "duration": 2.4},
    {"display": "Today we ink the skyline with a dry brush.", "offset": 3.5, "duration": 3.0},
    {"display": "The tower gets a heavier line weight.", "offset": 7.2, "duration": 3.1},
]


def colour(second: int) -> tuple[int, int, int]:
    """A saturated colour at the centre of colorhist hue bin `second` (16 bins of 22.5 degrees)."""
    r, g, b = colorsys.hsv_to_rgb((second % 16) * 22.5 / 360.0, 1.0, 0.85)
    return int(r * 255), int(g * 255), int(b * 255)


def frame(second: int, gain: float = 1.0, size=(96, 160)) -> np.ndarray:
    img = np.empty((*size, 3), np.uint8)
    img[:] = np.clip(np.array(colour(second)) * gain, 0, 255).astype(np.uint8)
    return img


def stream_frames():
    return (frame(i // FPS) for i in range(SECONDS * FPS))


def animation_frames(seconds):
    """Cover-animation frames: the video's frames at `seconds`, slightly altered (+-3 % brightness)."""
    return [frame(s, 1.03 if k % 2 else 0.97) for k, s in enumerate(seconds)]


def jfk_samples() -> np.ndarray:
    from test_youtube import jfk_samples as samples

    return samples()


def make_media(d: Path) -> dict[str, bytes]:
    """The files the server offers under /media/, by name."""
    files: dict[str, bytes] = {}
    master = write_hls(d / "a-lo", stream_frames(), FPS, audio=np.zeros(16000 * SECONDS, np.float32)).parent
    for variant in ("lo", "hi"):  # "hi" claims 720p: the <= 480p cap must never fetch it
        for f in master.iterdir():
            files[f"a/{variant}/{f.name}"] = f.read_bytes()
    files["a/master.m3u8"] = (b"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=2500000,RESOLUTION=1280x720\nhi/index.m3u8\n"
                              b"#EXT-X-STREAM-INF:BANDWIDTH=150000,RESOLUTION=160x96\nlo/index.m3u8\n")
    gif = io.BytesIO()
    first, *rest = [Image.fromarray(f) for f in animation_frames(KEYFRAMES_A)]
    first.save(gif, format="GIF", save_all=True, append_images=rest, duration=400, loop=0)
    files["a/animation.gif"] = gif.getvalue()
    files["a/cover_808.jpg"] = _jpeg(frame(5))
    files["a/transcript.json"] = json.dumps(TRANSCRIPT_A).encode()

    audio = jfk_samples() if JFK.exists() else np.zeros(16000 * SECONDS, np.float32)
    audio = np.pad(audio, (0, max(0, 16000 * SECONDS - len(audio))))[: 16000 * SECONDS]
    files["b/replay.mp4"] = write_video(d / "b.mp4", stream_frames(), FPS, audio=audio).read_bytes()
    files["b/animation.mp4"] = write_video(d / "b-anim.mp4", iter(animation_frames(KEYFRAMES_B)), 2).read_bytes()
    png = io.BytesIO()
    Image.fromarray(frame(1)).save(png, format="PNG")
    files["b/cover.png"] = png.getvalue()
    return files


def _jpeg(img: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(img).save(out, format="JPEG")
    return out.getvalue()


TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t", ".mp4": "video/mp4", ".gif": "image/gif",
         ".jpg": "image/jpeg", ".png": "image/png", ".json": "application/json", ".html": "text/html; charset=utf-8"}


class BehanceServer(LoopbackServer):
    """Loopback HTTP: /live (the listing), /videos/<uuid>/<slug> (the pages: A answers 429 with
    Retry-After: 1 on its first request, C is gone: 404), /media/<name> (the files)."""

    def __init__(self, files: dict[str, bytes]):
        self.limited, self.removed = {UUID_A}, {UUID_C}
        self.pages = {UUID_A: "livestream_state.html", UUID_B: "livestream_og.html"}
        super().__init__(files)

    def page(self, name: str) -> bytes:
        return (FIXTURES / name).read_text(encoding="utf-8").replace("http://__SERVER__", self.base).encode()

    def route(self, h, path: str):
        parts = path.strip("/").split("/")
        if path == "/live":
            return self.send(h, 200, self.page("live.html"), ".html")
        if parts[0] == "videos" and len(parts) >= 2:
            uuid = parts[1]
            if uuid in self.removed:
                return self.send(h, 404, b"<html><body>This livestream is no longer available</body></html>", ".html")
            if uuid in self.limited and self.hits[path] == 1:
                return self.send(h, 429, b"Too Many Requests", ".html", {"Retry-After": "1"})
            if uuid in self.pages:  # a fixture file's name, or a page made by the test
                page = self.pages[uuid]
                return self.send(h, 200, page if isinstance(page, bytes) else self.page(page), ".html")
        if parts[0] == "media" and (name := path.split("/", 2)[2]) in self.files:
            return self.send(h, 200, self.files[name], Path(name).suffix)
        return self.send(h, 404, b"Not Found", ".html")

    @staticmethod
    def send(h, status: int, body: bytes, suffix: str, headers=None):
        LoopbackServer.send(h, status, body, {"Content-Type": TYPES.get(suffix, ""), **(headers or {})})
