"""Daily Mail and CNN from MM-AVS (Fu et al., NAACL 2021; MHMS Tables 4-6): news articles with a video.

See docs/datasets/mmavs.md (what it is, its inputs, flags, columns, labels, failures; the card's prose).
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import numpy as np

from builders.core import safe
from builders.core.safe import UnsafeFileError, check_regular, open_regular
from cards.pages import ref
from builders.core.base import Builder, BuildError, run
from builders.core.extraction import Track
from builders.core.keyframes import keyframes
from builders.core.news import article_features, article_item, check_text_track, split_sentences, text_track, untimed
from builders.core.schema import config_name, frames_column, keyframe_column, sentences_column, vectors
from builders.core.splits import assign_splits
from collectors.behance import IMAGE_SUFFIXES
from collectors.records import ItemError, RawItem, item_id
from common.files import temp_name

SUBSETS = ("dailymail", "cnn")
SPLIT_FRACTIONS = {"train": 0.7, "validation": 0.1, "test": 0.2}
ARTICLE_FILES = ("article.txt", "artitle_section.txt", "artitle.txt")
VIDEO_SUFFIXES = (".mp4", ".ts", ".mkv", ".webm", ".mov", ".flv")
_SEGMENT = re.compile(r"^segment(\d+)\.ts$", re.IGNORECASE)
_GLUED = re.compile(r"(?<=[a-z0-9][.!?])(?=[A-Z])|(?<=[a-z0-9][.!?][\"'”’])(?=[A-Z])")


def read_text(path: Path) -> str | None:
    try:
        return safe.read_text(path, "utf-8-sig")  # a regular file within --max-json-bytes
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, UnsafeFileError) as e:
        raise ItemError("bad_annotation", f"{path}: cannot read ({e})") from None


def unglue(text: str) -> tuple[str, int]:
    """Paragraphs written back to back split again at "end.Start"; (text, how many splits)."""
    return _GLUED.subn("\n", text)


def sample_video(folder: Path) -> tuple[Path | None, list[Path]]:
    """(one video file, or None; the HLS segments in order) of a sample folder."""
    named = sorted(f for f in folder.glob("video.*") if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES)
    if named:
        return named[0], []
    inner = folder / "video"
    if inner.is_dir():
        segments = sorted((f for f in inner.iterdir() if _SEGMENT.match(f.name)), key=lambda f: int(_SEGMENT.match(f.name)[1]))
        if segments:
            return None, segments
        files = sorted(f for f in inner.iterdir() if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES)
        if len(files) == 1:
            return files[0], []
        if len(files) > 1:
            raise ItemError("bad_media", f"{inner} holds {len(files)} videos and no segment<k>.ts: which one is it?")
    return None, []


def has_images(folder: Path) -> bool:
    return any(f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES for f in folder.iterdir())


def join_segments(segments: list[Path], dest: Path) -> Path:
    """The segments' bytes in order, written to ``dest`` whole (skipped when ``dest`` is newer than all of them).

    Each segment must be a regular file (a FIFO would block, ``/dev/zero`` never ends: ItemError
    ``bad_media`` naming it, before anything is written), and no more is copied than its size at that
    check (a file that grows meanwhile cannot fill the disk). OSError is left for the writes (--work).
    """
    try:
        sizes = [check_regular(s).st_size for s in segments]
    except (OSError, UnsafeFileError) as e:
        raise ItemError("bad_media", f"video segment {e}" if isinstance(e, UnsafeFileError) else
                        f"cannot read video segment: {e}") from None
    if dest.exists() and dest.stat().st_mtime_ns >= max(s.stat().st_mtime_ns for s in segments):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(dest)
    try:
        with open(tmp, "wb") as out:
            for s, size in zip(segments, sizes):
                try:
                    f = open_regular(s)
                except (OSError, UnsafeFileError) as e:
                    raise ItemError("bad_media", f"cannot read video segment {s}: {e}") from None
                with f:
                    while size > 0 and (block := _read_segment(f, s, min(size, 1 << 20))):
                        out.write(block)
                        size -= len(block)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def _read_segment(f, path: Path, n: int) -> bytes:
    """A read of a segment, its failure the sample's (``bad_media``), not the output directory's."""
    try:
        return f.read(n)
    except OSError as e:
        raise ItemError("bad_media", f"cannot read video segment {path}: {e}") from None


def card_facts(subset: str) -> dict:
    """The card's metadata; its prose is docs/datasets/mmavs.md's sections for ``subset``."""
    name = {"dailymail": "Daily Mail", "cnn": "CNN"}[subset]
    labels = [ref("mmavs", "Labels of both subsets")]
    if subset == "dailymail":
        labels.append(ref("mmavs", "Labels of the images (Daily Mail)"))
    return {
        "pretty_name": f"MM-AVS {name}: news articles with video",
        "item_unit": "news samples",
        "summary": ref("mmavs", name),
        "sources": ref("mmavs", f"Input: {name}"),
        "labels": labels,
        "license": "other",
        "license_name": "mm-avs-research",
        "license_link": "https://github.com/xiyan524/MM-AVS",  # its README: shared for research and study
        "license_text": ref("mmavs", f"License: {name}"),
        "task_categories": ["summarization", "video-text-to-text"],
        "tags": ["multimodal-summarization", "video-summarization", "news", "mm-avs", subset],
        "citation": ref("mmavs", "Citation"),
        "usage_columns": ["summary", "sentences", "frames_*", "images_*", "keyframe_*"],
        "columns": ref("mmavs", "Column meanings"),
    }


class MMAVS(Builder):
    """One subset (dailymail or cnn) of the MM-AVS release (see the module docstring)."""

    protocol = "news"
    name = "mmavs"  # hub/mmavs-<subset> by default
    source = "mm-avs"
    tool = "python -m builders.mmavs"

    def __init__(self, subset: str, input: Path, visual: str = "resnet101", text: str = "roberta", fps: float = 1.0):
        if subset not in SUBSETS:
            raise BuildError(f"--subset must be one of {', '.join(SUBSETS)}, got {subset!r}")
        if fps <= 0:
            raise BuildError(f"--fps must be positive, got {fps}")
        self.subset, self.dir, self.visual, self.text, self.fps = subset, Path(input), visual, text, float(fps)
        self.name = f"mmavs-{subset}"
        self.family = subset  # the paper defaults differ between Daily Mail and CNN
        self.input = str(input)
        self.repairs: Counter = Counter()

    @classmethod
    def add_arguments(cls, p) -> None:
        p.add_argument("--subset", choices=SUBSETS, required=True, help="dailymail or cnn")
        p.add_argument("--input", type=Path, required=True,
                       help="the subset's folder of sample folders (or the folder holding dailymail/ and cnn/)")
        p.add_argument("--visual", default="resnet101", help="frame and image extractor (default resnet101)")
        p.add_argument("--text", default="roberta", help="sentence encoder (default roberta; minilm offline)")
        p.add_argument("--fps", type=float, default=1.0, help="frames sampled per second (default 1)")

    def prepare(self, ctx) -> None:
        root = self.dir
        if not root.is_dir():
            raise BuildError(f"--input {root} is not a directory")
        if (root / self.subset).is_dir():
            root = root / self.subset
        folders = sorted((f for f in root.iterdir() if f.is_dir() and not f.name.startswith(".")),
                         key=lambda f: (not f.name.isdigit(), int(f.name) if f.name.isdigit() else 0, f.name))
        if not folders:
            raise BuildError(f"{root} holds no sample folder (MM-AVS {self.subset}: one folder per sample)")
        self.root, self.folders, self.media_dir = root, folders, ctx.work / "media"
        self.with_images = any(has_images(f) for f in folders)  # CNN: none, so no image track at all
        self.split_of = assign_splits([item_id(f.name) for f in folders], fractions=SPLIT_FRACTIONS)

    def tracks(self) -> dict:
        rate = {"fps": self.fps}
        tracks = {"visual": Track(self.visual, rate, column=frames_column(self.visual)), "text": text_track(self.text)}
        if self.with_images:
            tracks["images"] = Track("thumbnail", {"encoder": self.visual, "options": rate}, optional=True)
        return tracks

    def items(self) -> list[RawItem]:
        out = []
        for folder in self.folders:
            key = item_id(folder.name)
            try:
                out.append(self._item(key, folder))
            except ItemError as e:
                out.append(RawItem(id=key, source=self.source, meta={"folder": folder.name})
                           .failed(ItemError(e.kind, e.message, key)))
        return out

    def _item(self, key: str, folder: Path) -> RawItem:
        highlights_text = read_text(folder / "highlight.txt")
        if not highlights_text or not highlights_text.strip():
            raise ItemError("bad_annotation", f"{folder / 'highlight.txt'}: missing or empty (the reference summary)")
        highlights = split_sentences(unglue(highlights_text)[0])  # CNN's are "One.Two." (each followed by ".")
        article_file = next((folder / n for n in ARTICLE_FILES if (folder / n).is_file()), None)
        article = read_text(article_file) if article_file else None
        if not article or not article.strip():
            raise ItemError("bad_annotation", f"{folder}: no article ({' / '.join(ARTICLE_FILES)})")
        text, glued = unglue(article)
        self.repairs["glued_paragraphs"] += glued
        sentences = split_sentences(text)
        video, segments = sample_video(folder)
        if segments:
            try:
                video = join_segments(segments, self.media_dir / f"{key}.ts")
            except OSError as e:  # a full disk or an unwritable --work: the whole build, not this sample
                raise BuildError(f"cannot join {folder.name}'s video segments into {self.media_dir}: {e}") from e
            self.repairs["joined_segments"] += 1
        if video is None:
            raise ItemError("unavailable", f"{folder}: no video (video.mp4, video/segment<k>.ts or one file in video/)")
        media = {"video": str(video)}
        if has_images(folder):
            media["thumbnail"] = str(folder)  # the images of the folder, in name order
        captions = [c.strip() for c in (read_text(folder / "img_caption.txt") or "").splitlines() if c.strip()]
        title = " ".join((read_text(folder / "title.txt") or "").split())
        return article_item(key, self.source, title, sentences, media,
                            meta={"folder": folder.name, "article": article, "highlights": highlights,
                                  "captions": captions, "article_file": article_file.name})

    def splits(self, item: RawItem) -> str:
        return self.split_of[item.id]

    def config(self) -> str:
        return config_name(self.visual, self.text)

    def features(self, dims: dict) -> dict:
        from datasets import Features, List, Value

        cols = {"id": Value("string"), "video_id": Value("string"), "title": Value("string"),
                **article_features(self.text, dims["text"]), "highlights": List(Value("string")),
                "duration": Value("float64"), "frame_times": List(Value("float64")),
                frames_column(self.visual): vectors(dims["visual"]),
                f"images_{self.visual}": vectors(dims.get("images", dims["visual"])), "image_captions": List(Value("string")),
                keyframe_column(self.visual): List(Value("int32")), "frame_labels": List(Value("int8"))}
        return {self.config(): Features(cols)}

    def examples(self, item: RawItem, tracks: dict) -> list[dict]:
        frames, images = tracks["visual"], tracks.get("images")
        if len(frames) == 0:
            raise ItemError("bad_media", f"{item.media['video']}: no frame decoded", item.id)
        sentences = [s["text"] for s in item.article["steps"]]
        vecs = check_text_track(item.id, tracks["text"], sentences)
        values = np.asarray(frames.values, np.float32)
        dim = images.dim if images is not None else values.shape[1]
        pictures = np.asarray(images.values, np.float32) if images is not None else np.zeros((0, dim), np.float32)
        kf = keyframes(values, pictures) if len(pictures) else None  # no picture: no label (null), not "no keyframe"
        labels = None
        if kf is not None:
            labels = np.zeros(len(values), np.int8)
            labels[kf] = 1
        return [{"id": item.id, "video_id": item.id, "title": item.title, "article": item.meta["article"],
                 "sentences": untimed(sentences), sentences_column(self.text): vecs,
                 "summary": "\n".join(item.meta["highlights"]), "highlights": item.meta["highlights"],
                 "duration": len(frames) / self.fps, "frame_times": frames.times, frames_column(self.visual): values,
                 f"images_{self.visual}": pictures, "image_captions": item.meta["captions"],
                 keyframe_column(self.visual): kf, "frame_labels": labels}]

    def count(self, row: dict) -> dict:
        return {"frames": len(row["frame_times"]), "sentences": len(row["sentences"]), "seconds": row["duration"],
                "with_images": int(len(row[f"images_{self.visual}"]) > 0)}

    def facts(self, config: str) -> dict:
        return {"subset": self.subset, "root": str(self.root), "fps": self.fps, "repairs": dict(self.repairs),
                "split_rule": "sha1 of the sample id: first 20% test, next 10% validation, the rest train (70/10/20)"}

    def card_facts(self) -> dict:
        return card_facts(self.subset)


def main(argv=None) -> int:
    return run(MMAVS, argv, prog="python -m builders.mmavs")

