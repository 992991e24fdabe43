"""The bundled BLiSS sample (``--source sample``, the default): four synthetic drawing livestreams
written in the raw layout (docs/raw-layout.md), then built as that layout is (builders.bliss.raw).

Real BLiSS media cannot be redistributed, so tests, docs and the builder's smoke run use this
sample instead. Everything is derived from fixed seeds, so two runs of the same code write
byte-identical JSON and PNG files (the MP4s are identical too with the same libx264).
Usage: ``python -m builders.bliss.sample`` prints the directory, generating it on first use.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Iterator

import numpy as np

from builders.core.base import BuildError, usage_error
from builders.bliss.raw import BlissRaw
from common import cli

SAMPLE_VERSION = 1
SAMPLE_NAME = f"bliss-sample-v{SAMPLE_VERSION}"
MARKER = ".complete"
CLIP_SECONDS = 300
WIDTH, HEIGHT, FPS = 320, 180, 4
TOOLBAR = 12  # a dark strip of "app UI" at the top of every frame

# (phase, start as a fraction of the video): what is drawn and what the streamer talks about.
PHASES = (("sketch", 0.0), ("colour", 0.3), ("detail", 0.55), ("second", 0.8))


@dataclasses.dataclass(frozen=True)
class _Stream:
    id: str
    seed: int
    duration: float  # seconds
    subject: str
    title: str
    streamer: str
    creative_fields: tuple[str, ...]
    tools: tuple[str, ...]
    parts: tuple[str, ...]
    colours: tuple[tuple[str, tuple[int, int, int]], ...]
    brushes: tuple[str, ...]
    canvases: tuple[tuple[int, int, int], tuple[int, int, int]]  # first drawing, second drawing
    n_thumbnails: int


STREAMS = (
    _Stream(
        "stream-01", 101, 390.0, "koala", "Drawing a sleepy koala", "Mira Castell",
        ("Illustration",), ("Photoshop",),
        ("ears", "nose", "fur", "eyes", "branch", "leaves"),
        (("grey", (128, 128, 136)), ("brown", (120, 80, 50)), ("green", (70, 140, 70)), ("pink", (230, 150, 160))),
        ("pencil", "gouache", "airbrush"),
        ((245, 242, 232), (222, 236, 245)), 4,
    ),
    _Stream(
        "stream-02", 202, 480.0, "lighthouse", "Painting a lighthouse at dusk", "Tomas Reyes",
        ("Illustration", "Fine Arts"), ("Procreate",),
        ("tower", "waves", "rocks", "clouds", "lamp", "sky"),
        (("blue", (50, 90, 170)), ("orange", (235, 140, 50)), ("white", (240, 240, 240)), ("purple", (110, 70, 140))),
        ("watercolor", "ink", "airbrush"),
        ((235, 240, 248), (40, 50, 80)), 5,
    ),
    _Stream(
        "stream-03", 303, 570.0, "dragon", "Dragon character design live", "Aiko Tanaka",
        ("Character Design", "Illustration"), ("Clip Studio Paint",),
        ("wings", "scales", "horns", "tail", "claws", "eyes"),
        (("red", (190, 40, 40)), ("gold", (220, 180, 60)), ("black", (30, 30, 30)), ("teal", (40, 150, 150))),
        ("pencil", "ink", "charcoal"),
        ((250, 250, 250), (245, 230, 210)), 6,
    ),
    _Stream(
        "stream-04", 404, 690.0, "bakery", "Cozy bakery storefront concept art", "Jonas Berg",
        ("Illustration", "Architecture"), ("Photoshop", "Illustrator"),
        ("windows", "awning", "bread", "sign", "door", "lamps"),
        (("yellow", (240, 210, 90)), ("brown", (130, 90, 60)), ("red", (200, 60, 50)), ("cream", (245, 235, 200))),
        ("gouache", "pencil", "watercolor"),
        ((240, 236, 228), (215, 225, 215)), 5,
    ),
)
SPLITS = {"train": ["stream-01", "stream-03"], "validation": ["stream-02"], "test": ["stream-04"]}

SENTENCES = {
    "sketch": (
        "Okay, let me start with a rough sketch of the {subject}.",
        "I'm using the {brush} brush for the sketch, nice and loose.",
        "I made the {part} a bit too big, let me fix the proportions.",
        "I always block in the big shapes first and do the {part} later.",
        "Let me flip the canvas to check the {part}.",
        "This {brush} brush has a really nice texture for sketching.",
        "I'm going to lower the opacity of the sketch layer.",
        "What do you think of the {part} so far, chat?",
    ),
    "colour": (
        "Let me pick a darker {colour} for the {part}.",
        "Now I'm blocking in the base colours, starting with {colour}.",
        "I'll put the {colour} on a separate layer under the line art.",
        "I think the {part} could use a warmer {colour}.",
        "I'm using the {brush} brush to fill the {part}.",
        "Let me grab a lighter {colour} from the palette.",
        "Flat colours on the {subject} first, shading after that.",
    ),
    "detail": (
        "Let me zoom in on the {part} for the details.",
        "I'm adding a highlight on the {part} with a soft {brush} brush.",
        "A little bit of {colour} in the shadows of the {part}.",
        "Tiny details on the {part} make a big difference.",
        "I'm cleaning up the edges of the {part} now.",
        "Let me add some texture to the {part} with the {brush} brush.",
    ),
    "second": (
        "Okay, new canvas, let's try a quick second version of the {subject}.",
        "This time I'll paint the {part} straight away with {colour}.",
        "Speed painting the {subject} is really good practice.",
        "I'm keeping this {subject} study really loose.",
        "Let me compare this {part} with the first drawing.",
        "I'll use a big {brush} brush for the background.",
    ),
    "chat": (
        "Thanks for the follow, welcome to the stream!",
        "Someone asked what tablet I use, it's a small one.",
        "Let me take a sip of my tea.",
        "Hi everyone who just joined.",
        "I hope you're all having a good day.",
        "Let me know if you have any questions.",
    ),
}
SUMMARIES = {
    "sketch": "The streamer sketches the {subject} and works out its proportions.",
    "colour": "The streamer blocks in the base colours of the {subject} from the palette.",
    "detail": "The streamer zooms in to add details, highlights and texture to the {subject}.",
    "second": "The streamer starts a quick second study of the {subject} on a new canvas.",
}
# Words that may become keywords (besides the stream's subject, parts, colours and brushes).
GENERIC_KEYWORDS = (
    "sketch", "proportions", "opacity", "palette", "layer", "shadows", "highlight", "texture", "background",
)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _phase_at(stream: _Stream, t: float) -> str:
    name = PHASES[0][0]
    for phase, frac in PHASES:
        if t >= frac * stream.duration:
            name = phase
    return name


def _phase_spans(stream: _Stream) -> list[tuple[str, float, float]]:
    starts = [frac * stream.duration for _, frac in PHASES] + [stream.duration]
    return [(PHASES[i][0], starts[i], starts[i + 1]) for i in range(len(PHASES))]


# --- video ------------------------------------------------------------------------------------


def _disc(radius: int) -> np.ndarray:
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    return yy * yy + xx * xx <= radius * radius


def _stamp(canvas: np.ndarray, mask: np.ndarray, cy: int, cx: int, colour) -> None:
    """Paint `colour` where `mask` (centred at cy, cx) covers the canvas, clipped at the edges."""
    r = mask.shape[0] // 2
    h, w = canvas.shape[:2]
    y0, y1, x0, x1 = max(cy - r, 0), min(cy + r + 1, h), max(cx - r, 0), min(cx + r + 1, w)
    if y0 >= y1 or x0 >= x1:
        return
    m = mask[y0 - (cy - r) : y1 - (cy - r), x0 - (cx - r) : x1 - (cx - r)]
    canvas[y0:y1, x0:x1][m] = colour


def _render_frames(stream: _Stream, capture: dict[int, np.ndarray]) -> Iterator[np.ndarray]:
    """Frames of a drawing session: strokes and shapes accumulate on a canvas, seen through
    four phases (sketch, colour with a palette panel, zoomed detail, a new canvas), so colour
    histograms change over the video. Frames whose index is a key of `capture` are copied there.
    """
    rng = np.random.default_rng(stream.seed)
    n = int(round(stream.duration * FPS))
    canvas = np.empty((HEIGHT, WIDTH, 3), np.uint8)
    canvas[:] = stream.canvases[0]
    pos = np.array([HEIGHT / 2, WIDTH / 2])
    vel = np.zeros(2)
    colours = [c for _, c in stream.colours]
    colour = colours[0]
    masks = {r: _disc(r) for r in range(1, 7)}
    view_c = pos.copy()  # centre of the zoomed view: follows the brush slowly, like a hand on the pan tool
    phase = None
    for i in range(n):
        t = i / FPS
        new_phase = _phase_at(stream, t)
        if new_phase != phase:
            phase = new_phase
            if phase == "second":  # a new drawing starts on a new canvas
                canvas[:] = stream.canvases[1]
        if phase != "sketch" and i % (15 * FPS) == 0:  # pick another colour every 15 s
            colour = colours[int(rng.integers(len(colours)))]
        ink = (40, 40, 48) if phase == "sketch" else colour
        radius = {"sketch": 1, "colour": 4, "detail": 2, "second": 5}[phase]
        # The brush wanders smoothly, bouncing off the canvas edges.
        vel = np.clip(vel + rng.normal(0.0, 1.2, 2), -4.0, 4.0)
        new = pos + vel
        for axis, hi in ((0, HEIGHT - 6), (1, WIDTH - 6)):
            if not TOOLBAR + 6 <= new[axis] <= hi:
                vel[axis] = -vel[axis]
                new[axis] = np.clip(new[axis], TOOLBAR + 6, hi)
        for f in np.linspace(0.0, 1.0, 4):
            y, x = pos + f * (new - pos)
            _stamp(canvas, masks[radius], int(y), int(x), ink)
        pos = new
        view_c += 0.02 * (pos - view_c)
        if phase in ("colour", "second") and i % (20 * FPS) == 10:  # a filled shape now and then
            cy, cx = int(rng.integers(TOOLBAR + 20, HEIGHT - 20)), int(rng.integers(20, WIDTH - 20))
            _stamp(canvas, _disc(int(rng.integers(8, 18))), cy, cx, colours[int(rng.integers(len(colours)))])
        frame = _view(canvas, phase, view_c, colours, colour)
        _webcam(frame, t, stream.seed)
        if i in capture:
            capture[i] = frame.copy()
        yield frame


def _view(canvas: np.ndarray, phase: str, centre: np.ndarray, colours: list, current) -> np.ndarray:
    """What the screen shows: the canvas (zoomed 2x in the detail phase) plus app UI."""
    if phase == "detail":
        h, w = HEIGHT // 2, WIDTH // 2
        y0 = int(np.clip(centre[0] - h / 2, 0, HEIGHT - h))
        x0 = int(np.clip(centre[1] - w / 2, 0, WIDTH - w))
        frame = canvas[y0 : y0 + h, x0 : x0 + w].repeat(2, axis=0).repeat(2, axis=1)
    else:
        frame = canvas.copy()
    frame[:TOOLBAR] = (52, 52, 58)
    if phase == "colour":  # palette panel on the right, the current colour framed
        panel = 44
        frame[TOOLBAR:, WIDTH - panel :] = (70, 70, 76)
        for k, c in enumerate(colours):
            y = TOOLBAR + 8 + k * 30
            if c == current:
                frame[y - 3 : y + 25, WIDTH - panel + 5 : WIDTH - 5] = (255, 255, 255)
            frame[y : y + 22, WIDTH - panel + 8 : WIDTH - 8] = c
    return frame


CAM_H, CAM_W = 54, 72
_CAM_Y, _CAM_X = (g.astype(np.float32) for g in np.mgrid[0:CAM_H, 0:CAM_W])
_CAM_RAMP = (np.arange(CAM_H, dtype=np.float32) / CAM_H)[:, None, None]


def _webcam(frame: np.ndarray, t: float, seed: int) -> None:
    """The streamer's face cam (bottom left): a head and shoulders drifting on never-repeating
    paths (sums of incommensurate sines) under changing light. Strokes alone change too little
    between nearby frames; the cam makes every moment look different, so the video frame a
    thumbnail came from is well defined."""
    phase = seed % 7
    light = 0.5 + 0.5 * np.sin(t / 37.0 + phase)
    top, bottom = np.array([90, 80, 70]) + 60 * light, np.array([50, 60, 80]) + 40 * light
    cam = np.broadcast_to(top + (bottom - top) * _CAM_RAMP, (CAM_H, CAM_W, 3)).astype(np.uint8)
    hx = 36 + 14 * np.sin(t / 6.1 + phase) + 6 * np.sin(t / 2.3 + 1.0)
    hy = 24 + 5 * np.sin(t / 4.7 + phase) + 3 * np.sin(t / 1.9)
    dx2 = np.square(_CAM_X - np.float32(hx))
    body = dx2 / 576 + np.square(_CAM_Y - np.float32(hy + 30)) / 196 <= 1
    head = dx2 / 121 + np.square(_CAM_Y - np.float32(hy)) / 196 <= 1
    cam[body] = (60 + 20 * (seed % 5), 90, 150 - 15 * (seed % 4))
    cam[head] = (np.array([225, 185, 160]) * (0.8 + 0.2 * light)).astype(np.uint8)
    frame[HEIGHT - CAM_H - 2 :, : CAM_W + 2] = (20, 20, 24)
    frame[HEIGHT - CAM_H :, :CAM_W] = cam


# --- text -------------------------------------------------------------------------------------


def _transcript(stream: _Stream) -> list[dict]:
    """Sentences of 2-12 s with gaps; one sentence straddles every 300 s clip boundary."""
    rng = np.random.default_rng(stream.seed + 1000)
    boundaries = list(range(CLIP_SECONDS, int(np.ceil(stream.duration)), CLIP_SECONDS))
    out = []
    t = float(rng.uniform(0.5, 2.0))
    while True:
        nb = next((b for b in boundaries if b > t), None)
        length = float(rng.uniform(2.1, 11.9))
        start = t
        if nb is not None and t + length + 4.0 > nb:  # close to a boundary: make one sentence cross it
            start = max(t, nb - float(rng.uniform(1.0, 4.0)))
            length = float(rng.uniform(max(2.1, nb - start + 1.0), 11.9))
        end = start + length
        if end > stream.duration - 0.5:
            break
        phase = "chat" if rng.random() < 0.2 else _phase_at(stream, start)
        templates = SENTENCES[phase]
        text = templates[int(rng.integers(len(templates)))].format(
            subject=stream.subject,
            part=stream.parts[int(rng.integers(len(stream.parts)))],
            colour=stream.colours[int(rng.integers(len(stream.colours)))][0],
            brush=stream.brushes[int(rng.integers(len(stream.brushes)))],
        )
        out.append({"start": round(start, 2), "end": round(end, 2), "text": text})
        t = end + float(rng.uniform(0.3, 3.0))
    return out


def _annotations(stream: _Stream, transcript: list[dict]) -> dict:
    """Per clip: 3-6 keywords taken from sentences lying wholly inside the clip, and a summary."""
    rng = np.random.default_rng(stream.seed + 2000)
    vocab = {stream.subject, *stream.parts, *(c for c, _ in stream.colours), *stream.brushes, *GENERIC_KEYWORDS}
    clips = []
    n_clips = int(np.ceil(stream.duration / CLIP_SECONDS))
    for k in range(n_clips):
        lo, hi = k * CLIP_SECONDS, min((k + 1) * CLIP_SECONDS, stream.duration)
        counts: dict[str, int] = {}  # insertion order = first occurrence
        for s in transcript:
            if lo <= s["start"] and s["end"] <= hi:
                for w in _words(s["text"]):
                    if w in vocab:
                        counts[w] = counts.get(w, 0) + 1
        if len(counts) < 3:
            raise RuntimeError(f"{stream.id}: clip {k} has only {len(counts)} keyword candidates")
        ranked = sorted(counts, key=lambda w: -counts[w])  # stable: ties keep first occurrence
        keywords = ranked[: min(int(rng.integers(3, 7)), len(ranked))]
        overlap = [(min(e, hi) - max(s, lo), s, name) for name, s, e in _phase_spans(stream) if min(e, hi) > max(s, lo)]
        main = sorted(sorted(overlap, reverse=True)[:2], key=lambda o: o[1])
        summary = " ".join(SUMMARIES[name].format(subject=stream.subject) for _, _, name in main)
        if len(main) == 1:
            summary += f" Along the way they talk about the {keywords[0]} and the {keywords[1]}."
        clips.append({"index": k, "keywords": keywords, "summary": summary})
    return {"clips": clips}


def _thumbnail_indices(stream: _Stream) -> list[int]:
    n_frames = int(round(stream.duration * FPS))
    n = stream.n_thumbnails
    return [int(n_frames * (k + 0.5) / n) for k in range(n)]


def _alter(frame: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """A thumbnail frame is the video frame 'slightly altered': +-3 % brightness, mild noise,
    a 2-pixel shift (edges replicated), like a re-encoded cover animation."""
    gain = 1.03 if k % 2 == 0 else 0.97
    img = frame.astype(np.float32) * gain + rng.normal(0.0, 2.0, frame.shape)
    dy, dx = ((2, 0), (0, 2), (-2, 0), (0, -2))[k % 4]
    h, w = frame.shape[:2]
    padded = np.pad(img, ((2, 2), (2, 2), (0, 0)), mode="edge")
    img = padded[2 - dy : 2 - dy + h, 2 - dx : 2 - dx + w]
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _dump(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --- writing ----------------------------------------------------------------------------------


def write_sample(out_dir: str | os.PathLike) -> list[str]:
    """Write the whole sample into `out_dir` (no marker, no atomicity); returns the relative file paths."""
    from PIL import Image  # Pillow and PyAV: loaded once the command line is parsed

    from collectors.synthetic import write_video

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stream in STREAMS:
        d = out_dir / stream.id
        (d / "thumbnail").mkdir(parents=True, exist_ok=True)
        indices = _thumbnail_indices(stream)
        capture: dict[int, np.ndarray] = dict.fromkeys(indices)
        write_video(d / "video.mp4", _render_frames(stream, capture), FPS)
        rng = np.random.default_rng(stream.seed + 3000)
        for k, i in enumerate(indices):
            Image.fromarray(_alter(capture[i], k, rng)).save(d / "thumbnail" / f"{k:03d}.png")
        transcript = _transcript(stream)
        _dump(d / "transcript.json", transcript)
        _dump(d / "annotations.json", _annotations(stream, transcript))
        _dump(
            d / "metadata.json",
            {
                "title": stream.title,
                "description": f"Live {stream.creative_fields[0].lower()} session: {stream.streamer} draws a {stream.subject} "
                f"in {stream.tools[0]}, from the first sketch to a quick second study.",
                "creative_fields": list(stream.creative_fields),
                "tools": list(stream.tools),
                "streamer": stream.streamer,
                "url": f"https://www.behance.net/videos/{stream.seed}000/{stream.id}",
                "thumbnail_source_times": [i / FPS for i in indices],
            },
        )
    _dump(out_dir / "splits.json", SPLITS)
    return sorted(p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file())


def default_cache_dir() -> Path:
    root = os.environ.get("VSUMHUB_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "vsumhub") / SAMPLE_NAME


def _is_complete(d: Path) -> bool:
    try:
        marker = json.loads((d / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and marker.get("version") == SAMPLE_VERSION
        and all((d / f).is_file() for f in marker.get("files", [None]))
    )


def _looks_like_sample(d: Path) -> bool:
    """Only a directory holding nothing but sample entries may be deleted and regenerated."""
    allowed = {s.id for s in STREAMS} | {"splits.json", MARKER}
    return all(p.name in allowed for p in d.iterdir())


def _remove_stale_tmp(target: Path) -> None:
    """Temporary directories of runs that died (their process is gone)."""
    for p in target.parent.glob(f".{target.name}.tmp-*"):
        try:
            os.kill(int(p.name.rsplit("-", 1)[1]), 0)
        except ProcessLookupError:
            shutil.rmtree(p, ignore_errors=True)
        except (ValueError, PermissionError):
            pass


def ensure_sample(cache_dir: str | os.PathLike | None = None, force: bool = False) -> Path:
    """The sample directory, generated on first use (a few seconds) and reused after that.

    ``.complete`` (version + file list) is written last, inside a temporary sibling directory
    that is then renamed into place, so an interrupted run never looks finished. A directory
    without a valid marker (an old version or a partial copy) is removed and regenerated.
    """
    target = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if not force and _is_complete(target):
        return target
    if target.exists() and not _is_complete(target) and not _looks_like_sample(target):
        raise ValueError(f"{target} exists and is not a BLiSS sample directory; refusing to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp(target)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        files = write_sample(tmp)
        _dump(tmp / MARKER, {"name": SAMPLE_NAME, "version": SAMPLE_VERSION, "files": files})
        if not force and _is_complete(target):  # another process finished first
            shutil.rmtree(tmp)
            return target
        if target.exists():
            shutil.rmtree(target)
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


class BlissSample(BlissRaw):
    """The sample, generated on first use, built as raw input (weight-free encoders by default)."""

    name, source = "bliss-sample", "sample"

    def __init__(self, sample_dir: Path | None = None, visual: str = "colorhist", text: str = "minilm",
                 fps: float = 1.0, min_clip: float = 10.0):
        super().__init__(sample_dir or default_cache_dir(), visual, text, fps, min_clip)
        self.sample_dir, self.input = sample_dir, "bundled sample (builders/bliss/sample.py)"

    @classmethod
    def add_arguments(cls, p) -> None:
        p.add_argument("--sample-dir", type=Path,
                       help=f"where the sample is generated (default: $VSUMHUB_CACHE or ~/.cache/vsumhub, /{SAMPLE_NAME})")
        cls.add_encoder_arguments(p, "colorhist", "minilm")

    def prepare(self, ctx) -> None:
        try:
            self.input_dir = ensure_sample(self.sample_dir)
        except ValueError as e:  # a directory that is not a sample
            raise BuildError(str(e)) from e
        super().prepare(ctx)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=cli.prog("python -m builders.bliss.sample"), description=__doc__.split("\n\n")[0])
    cli.add_version(p)
    p.add_argument("--dir", type=Path, help=f"where to write it (default: $VSUMHUB_CACHE or ~/.cache/vsumhub, /{SAMPLE_NAME})")
    p.add_argument("--force", action="store_true", help="write it again even when a complete sample is there")
    args = p.parse_args(argv)
    try:
        print(ensure_sample(args.dir, force=args.force))
    except ValueError as e:
        return usage_error(e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
