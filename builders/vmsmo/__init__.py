"""VMSMO (Li et al., EMNLP 2020, the dataset of DIMS; MHMS Tables 1-3): Weibo news with a video each.

See docs/datasets/vmsmo.md (what it is, its inputs, flags, columns, labels, failures; the card's prose).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from builders.core import safe
from cards.pages import ref
from builders.core.base import Builder, BuildError, run
from builders.core.extraction import Track
from builders.core.news import (
    CANDIDATES,
    article_features,
    article_item,
    check_text_track,
    pick_candidates,
    split_sentences,
    text_track,
    untimed,
)
from builders.core.schema import config_name, frames_column, sentences_column, vectors
from collectors.records import ItemError, RawItem, item_id

FILES = {"train": "train.json", "validation": "valid.json", "test": "test.json"}
VIDEO_SUFFIXES = (".mp4", ".flv", ".mov", ".mkv", ".webm", ".ts", ".m4v")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif")
META_FIELDS = ("video_url", "image_url", "publish_time", "publish_place")


def read_release_file(path: Path) -> list[dict]:
    """The samples of one release file: a JSON array, ``{"weibo": [...]}``, or JSON lines. A line that is
    not a JSON object becomes ``{"_error": ...}`` (a recorded failure, not the end of the build)."""
    try:
        text = safe.read_text(path, "utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise BuildError(f"cannot read {path}: {e}") from e
    try:
        doc = safe.json_loads(text, str(path))
    except json.JSONDecodeError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("weibo"), list):
        doc = doc["weibo"]
    if isinstance(doc, list):
        return [r if isinstance(r, dict) else {"_error": f"{path.name}[{i}] is not an object"} for i, r in enumerate(doc, 1)]
    if isinstance(doc, dict):  # one sample in a file, or a line-per-sample file of one line
        return [doc]
    records = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            r = safe.json_loads(line, f"{path.name}:{n}")
        except ValueError as e:  # not JSON, or too deep / too big: this sample's failure
            r = {"_error": f"{path.name}:{n}: not JSON ({getattr(e, 'msg', e)})"}
        records.append(r if isinstance(r, dict) else {"_error": f"{path.name}:{n}: not a JSON object"})
    if not records and text.strip():
        raise BuildError(f"{path}: neither a JSON array, an object with 'weibo', nor JSON lines")
    return records


def media_index(folder: Path | None, suffixes: tuple[str, ...]) -> dict[str, list[Path]]:
    """sample id -> files in ``folder`` named ``<id>.<ext>`` or ``<anything>_<id>.<ext>``."""
    index: dict[str, list[Path]] = {}
    if folder is None or not folder.is_dir():
        return index
    for f in sorted(folder.iterdir()):
        if f.is_file() and f.suffix.lower() in suffixes:
            keys = {f.stem, f.stem.rsplit("_", 1)[-1]}
            for k in keys:
                index.setdefault(k, []).append(f)
    return index


def find_media(index: dict[str, list[Path]], sample: str, what: str, folder: Path | None) -> Path:
    found = index.get(sample, [])
    exact = [f for f in found if f.stem == sample]
    if len(exact) == 1 or len(found) == 1:
        return (exact or found)[0]
    if found:
        raise ItemError("bad_media", f"{len(found)} {what} files for sample {sample}: {', '.join(f.name for f in found)}")
    raise ItemError("unavailable", f"no {what} file for sample {sample} in {folder} (<id>.<ext> or <date>_<id>.<ext>)")


def sample_id(record: dict) -> str | None:
    value = record.get("id", record.get("ID"))
    return str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip() else None


def card_facts(visual: str, text: str) -> dict:
    return {
        "pretty_name": "VMSMO: video-based news with multimodal summaries",
        "language": ["zh"],
        "item_unit": "news samples",
        "summary": ref("vmsmo", "What it is"),
        "sources": ref("vmsmo", "Input"),
        "labels": ref("vmsmo", "Labels"),
        "license": "other",
        "license_name": "vmsmo-research-only",
        "license_link": "https://github.com/yingtaomj/VMSMO",  # the DIMS repository: its copyright note
        "license_text": ref("vmsmo", "License"),
        "task_categories": ["summarization", "video-text-to-text"],
        "tags": ["multimodal-summarization", "video-summarization", "news", "vmsmo", "cover-selection"],
        "citation": ref("vmsmo", "Citation"),
        "usage_columns": ["summary", "sentences", "frames_*", "cover_*", "candidates", "candidate_labels"],
        "columns": ref("vmsmo", "Column meanings"),
    }


class VMSMO(Builder):
    """VMSMO's release files with their videos and cover pictures (see the module docstring)."""

    family = "vmsmo"
    protocol = "news"
    name = source = "vmsmo"
    tool = "python -m builders.vmsmo"

    def __init__(self, input: Path, videos: Path | None = None, covers: Path | None = None, visual: str = "resnet101",
                 text: str = "roberta", fps: float = 2.5, max_frames: int = 200):
        if fps <= 0:
            raise BuildError(f"--fps must be positive, got {fps}")
        if max_frames < 1:
            raise BuildError(f"--max-frames must be at least 1, got {max_frames}")
        self.dir = Path(input)
        self.videos_dir = Path(videos) if videos else self.dir / "video"
        self.covers_dir = Path(covers) if covers else self.dir / "video_img"
        self.visual, self.text, self.fps, self.max_frames = visual, text, float(fps), int(max_frames)
        self.input = str(input)
        self.left_out: Counter = Counter()

    @classmethod
    def add_arguments(cls, p) -> None:
        p.add_argument("--input", type=Path, required=True, help="directory of train.json, valid.json, test.json")
        p.add_argument("--videos", type=Path, help="directory of the videos, <id>.mp4 or <date>_<id>.mp4 (default INPUT/video)")
        p.add_argument("--covers", type=Path, help="directory of the cover pictures, <id>.jpg or <date>_<id>.jpg "
                                                   "(default INPUT/video_img)")
        p.add_argument("--visual", default="resnet101", help="frame extractor (default resnet101; clip, colorhist, ...)")
        p.add_argument("--text", default="roberta", help="sentence encoder (default roberta; sbert with a Chinese model "
                                                         "for real use, minilm offline)")
        p.add_argument("--fps", type=float, default=2.5, help="frames sampled per second (default 2.5)")
        p.add_argument("--max-frames", type=int, default=200, help="frames kept per video (default 200, VMSMO's cap)")

    def prepare(self, ctx) -> None:
        if not self.dir.is_dir():
            raise BuildError(f"--input {self.dir} is not a directory")
        present = {s: self.dir / f for s, f in FILES.items() if (self.dir / f).is_file()}
        if not present:
            raise BuildError(f"{self.dir} holds none of {', '.join(FILES.values())} (VMSMO's release files)")
        for folder, flag in ((self.videos_dir, "--videos"), (self.covers_dir, "--covers")):
            if not folder.is_dir():
                raise BuildError(f"{flag} {folder} is not a directory")
        self.files = present
        self.records = {s: read_release_file(p) for s, p in present.items()}
        self.videos = media_index(self.videos_dir, VIDEO_SUFFIXES)
        self.covers = media_index(self.covers_dir, IMAGE_SUFFIXES)

    def tracks(self) -> dict:
        rate = {"fps": self.fps}
        return {"visual": Track(self.visual, rate, column=frames_column(self.visual)),
                "hash": Track("ahash", rate),
                "cover_hash": Track("thumbnail", {"encoder": "ahash", "options": rate}),
                "cover": Track("cover", {"encoder": self.visual, "options": rate}),
                "text": text_track(self.text)}

    def items(self) -> list[RawItem]:
        """One item per sample; a sample that does not validate, or whose files are missing, is an item failed
        with its kind (recorded, never dropped)."""
        out, seen = [], {}  # sample id -> where it was first read
        for split, records in self.records.items():
            for n, r in enumerate(records, 1):
                where = f"{self.files[split].name}[{n}]"
                sid = sample_id(r)
                key = item_id(f"{split}-{n}") if sid is None else item_id(sid if sid not in seen else f"{sid}-dup-{split}-{n}")
                meta = {"split": split, "where": where, **{k: r.get(k) for k in META_FIELDS if isinstance(r.get(k), str)}}
                try:
                    if sid in seen:
                        raise ItemError("bad_annotation", f"{where}: id {sid} is also {seen[sid]}")
                    item = self._item(key, sid, r, where, meta)
                except ItemError as e:
                    item = RawItem(id=key, source=self.source, meta=meta).failed(ItemError(e.kind, e.message, key))
                if sid is not None:
                    seen.setdefault(sid, where)
                out.append(item)
        return out

    def _item(self, key: str, sid: str | None, r: dict, where: str, meta: dict) -> RawItem:
        if "_error" in r:
            raise ItemError("bad_annotation", r["_error"])
        if sid is None:
            raise ItemError("bad_annotation", f"{where}: no id")
        for field in ("content", "title"):
            if not isinstance(r.get(field), str) or not r[field].strip():
                raise ItemError("bad_annotation", f"{where}: {field} must be a non-empty string")
        sentences = split_sentences(r["content"])
        video = find_media(self.videos, sid, "video", self.videos_dir)
        cover = find_media(self.covers, sid, "cover picture", self.covers_dir)
        return article_item(key, self.source, r["title"].strip(), sentences, {"video": str(video), "thumbnail": str(cover)},
                            meta={**meta, "sample": sid, "content": r["content"]})

    def splits(self, item: RawItem) -> str:
        return item.meta["split"]

    def config(self) -> str:
        return config_name(self.visual, self.text)

    def features(self, dims: dict) -> dict:
        from datasets import Features, List, Value

        cols = {"id": Value("string"), "video_id": Value("string"), "title": Value("string"),
                **article_features(self.text, dims["text"]),
                "duration": Value("float64"), "frame_times": List(Value("float64")),
                frames_column(self.visual): vectors(dims["visual"]),
                f"cover_{self.visual}": vectors(dims["cover"]),
                "cover_frame": Value("int32"), "cover_hamming": Value("int32"), "frame_labels": List(Value("int8")),
                "candidates": List(Value("int32")), "candidate_labels": List(Value("int8")),
                **{k: Value("string") for k in META_FIELDS}}
        return {self.config(): Features(cols)}

    def examples(self, item: RawItem, tracks: dict) -> list[dict]:
        frames, hashes, cover = tracks["visual"], tracks["hash"], tracks["cover_hash"]
        if len(frames) == 0:
            raise ItemError("bad_media", f"{item.media['video']}: no frame decoded", item.id)
        if len(hashes) != len(frames) or not np.allclose(hashes.times, frames.times):
            raise ItemError("bad_media", f"the frame and hash tracks disagree ({len(frames)} vs {len(hashes)} steps)", item.id)
        if len(cover) != 1:
            raise ItemError("bad_thumbnail", f"{item.media['thumbnail']}: {len(cover)} pictures in the cover, expected 1",
                            item.id)
        sentences = [s["text"] for s in item.article["steps"]]
        vectors_ = check_text_track(item.id, tracks["text"], sentences)
        keep = min(len(frames), self.max_frames)
        from extractors.ahash import hamming

        distances = hamming(hashes.values[:keep], cover.values[0])
        cover_frame = int(np.argmin(distances))  # the earliest of equally near frames
        labels = np.zeros(keep, np.int8)
        labels[cover_frame] = 1
        picked = pick_candidates(keep, cover_frame)
        if picked is None:
            self.left_out["fewer_than_10_frames"] += 1
        if cover_frame == 0:
            self.left_out["cover_at_frame_0"] += 1  # DIMS skips these (its max_sim == '0' test); kept here
        row = {"id": item.id, "video_id": item.id, "title": item.title, "article": item.meta["content"],
               "sentences": untimed(sentences), sentences_column(self.text): vectors_, "summary": item.title,
               "duration": len(frames) / self.fps, "frame_times": frames.times[:keep],
               frames_column(self.visual): np.asarray(frames.values[:keep], np.float32),
               f"cover_{self.visual}": np.asarray(tracks["cover"].values, np.float32),
               "cover_frame": cover_frame, "cover_hamming": int(distances[cover_frame]), "frame_labels": labels,
               "candidates": None if picked is None else picked[0],
               "candidate_labels": None if picked is None else picked[1]}
        row.update({k: item.meta.get(k) for k in META_FIELDS})
        return [row]

    def count(self, row: dict) -> dict:
        return {"frames": len(row["frame_times"]), "sentences": len(row["sentences"]), "seconds": row["duration"],
                "with_candidates": int(row["candidates"] is not None)}

    def facts(self, config: str) -> dict:
        return {"release_files": {s: str(p) for s, p in self.files.items()}, "videos": str(self.videos_dir),
                "covers": str(self.covers_dir), "fps": self.fps, "max_frames": self.max_frames,
                "candidates": CANDIDATES, "left_out": dict(self.left_out),
                "cover_rule": "nearest 128x64 average hash (Hamming), earliest on ties (VMSMO dataprocess.py)",
                "candidate_rule": "DIMS batcher.py pick_arange: 10 evenly spread frames, the one nearest the cover positive"}

    def card_facts(self) -> dict:
        return card_facts(self.visual, self.text)


def main(argv=None) -> int:
    return run(VMSMO, argv, prog="python -m builders.vmsmo")

