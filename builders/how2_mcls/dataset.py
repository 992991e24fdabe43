"""What both How2-MCLS sources share: the configs, the few-shot subsets, the rows, the card.

See docs/datasets/how2_mcls.md (what it is, its inputs, flags, columns, labels, failures; the card's prose).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: datasets loads after the command line is parsed
    from datasets import Features

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cards.pages import ref
from builders.core.base import Builder, BuildError, video_in
from builders.core.extraction import Track
from builders.core.safe.arrays import load_array
from builders.core.schema import frames_column, vectors
from collectors.records import ItemError, RawItem, item_id

log = logging.getLogger("builders")

VIDEO_DIM = 2048  # ResNeXt-101 3D pooled features, as How2 releases them and VDF reads them (section 3.2)
EXTRACTOR = "resnext3d"
COLUMN = frames_column(EXTRACTOR)
MCLS, MS = "mcls", "ms"
FEW_SHOT = (1000, 3000)  # section 3.7 names 1k and 3k How2-MCLS training samples
PAPER_COUNTS = {MCLS: {"train": 13167, "validation": 150, "test": 127}, MS: {"train": 59539}}  # Table 1


@dataclass(frozen=True)
class Video:
    """One video of a release: where it goes (``part`` mcls / ms and ``split``) and its texts, as released;
    ``problem`` is an ItemError for a record that cannot be built (recorded with its kind)."""

    id: str
    part: str
    split: str
    source_split: str
    summary: str | None
    transcript_en: str | None
    transcript_pt: str | None
    problem: ItemError | None = None


def size_name(n: int) -> str:
    return f"{MCLS}-{n // 1000}k" if n % 1000 == 0 else f"{MCLS}-{n}"


def parse_sizes(text) -> tuple[int, ...]:
    """``--few-shot 1000,3000`` (or ``none``) -> (1000, 3000); BuildError for anything else."""
    if text is None or isinstance(text, (tuple, list)):
        return tuple(text or ())
    if str(text).strip().lower() in ("", "none"):
        return ()
    try:
        sizes = tuple(sorted({int(x) for x in str(text).split(",")}))
    except ValueError:
        raise BuildError(f"--few-shot takes sizes like 1000,3000 (or none), got {text!r}") from None
    if any(n < 1 for n in sizes):
        raise BuildError(f"--few-shot sizes must be positive, got {text!r}")
    return sizes


def few_shot_subsets(train_ids, sizes) -> tuple[dict[str, set[str]], list[int]]:
    """(config -> its training videos: the first n by sha1 of the id, so every smaller subset is inside a larger
    one; the sizes left out because the release has fewer training videos: a notice, not a failure)."""
    ranked = sorted(set(train_ids), key=lambda v: hashlib.sha1(v.encode()).hexdigest())
    too_big = [n for n in sizes if n > len(ranked)]
    for n in too_big:
        log.warning("--few-shot %d left out: the release has only %d How2-MCLS training videos", n, len(ranked))
    return {size_name(n): set(ranked[:n]) for n in sizes if n <= len(ranked)}, too_big


def features() -> Features:
    from datasets import Features, List, Value

    return Features({
        "id": Value("string"),  # the How2 video id (a YouTube id)
        "video_id": Value("string"),
        "source_split": Value("string"),  # where the release put it: train / val / dev5 (translation), sum_train, ...
        "transcript_pt": Value("string"),  # null in ms
        "transcript_en": Value("string"),
        "summary": Value("string"),  # English
        "frame_times": List(Value("float64")),  # [T] clip centres (s); null for released features (no times in them)
        COLUMN: vectors(VIDEO_DIM),  # [T, 2048] per 16 frames
    })


class How2MCLSBuilder(Builder):
    """The configs of How2-MCLS from a source's :class:`Video` records (subclasses implement ``read``)."""

    family = "how2"
    protocol = "generation"
    name = "how2-mcls"
    tool = "python -m builders.how2_mcls"
    source_label = ""  # the card's sources paragraph

    def __init__(self, input: Path, features: Path | None = None, videos: Path | None = None,
                 few_shot=FEW_SHOT):
        self.root = Path(input)
        if videos is not None and not Path(videos).is_dir():
            raise BuildError(f"--videos {videos} is not a directory")
        self.videos_dir = Path(videos) if videos is not None else None
        self.features_dir = Path(features) if features is not None else self.root / "video_action_features"
        self.sizes = parse_sizes(few_shot)
        self.input = str(input)

    @classmethod
    def add_arguments(cls, p) -> None:
        p.add_argument("--input", type=Path, required=True, help=cls.input_help)
        p.add_argument("--features", type=Path, help="the per-video feature files <video id>.npy [T, 2048] "
                                                     "(default: INPUT/video_action_features)")
        p.add_argument("--videos", type=Path, help="directory of <video id>.mp4: extract resnext3d features here "
                                                   "(extraction job) instead of reading the released ones")
        p.add_argument("--few-shot", default="1000,3000",
                       help="sizes of the low-resource training subsets, configs mcls-<n> (default 1000,3000; none)")

    # -- what a source provides
    input_help = ""

    def read(self) -> list[Video]:
        raise NotImplementedError

    def source_facts(self) -> dict:
        return {}

    # -- the contract
    def prepare(self, ctx) -> None:
        if self.videos_dir is None and not self.features_dir.is_dir():
            raise BuildError(f"no feature directory {self.features_dir} (How2's video_action_features/ with "
                             "<video id>.npy): pass --features DIR, or --videos DIR to extract them")
        self.videos = self.read()
        seen: dict[str, Video] = {}
        for v in self.videos:
            if v.id in seen:
                raise BuildError(f"video {v.id} is in both {seen[v.id].source_split} and {v.source_split}")
            seen[v.id] = v
        train = [v.id for v in self.videos if v.part == MCLS and v.split == "train" and v.problem is None]
        self.subsets, self.few_shot_left_out = few_shot_subsets(train, self.sizes)
        self.train_videos = len(set(train))
        if not any(v.part == MCLS for v in self.videos):
            raise BuildError(f"{self.input}: no How2-MCLS video (a video with a Portuguese transcript and a summary)")

    def tracks(self) -> dict:
        if self.videos_dir is None:
            return {}
        return {"visual": Track(EXTRACTOR, column=COLUMN)}

    def items(self):
        if self.videos_dir is None:
            return list(self.videos)
        out = []
        for v in self.videos:
            path, missing = video_in(self.videos_dir, v.id)
            item = RawItem(id=item_id(v.id), source="how2", url=f"https://www.youtube.com/watch?v={v.id}",
                           media={"video": str(path)}, meta={"video_id": v.id})
            problem = v.problem or missing
            out.append(item.failed(problem) if problem else item)
        self.by_item = {item_id(v.id): v for v in self.videos}
        return out

    def configs(self) -> list[str]:
        parts = {v.part for v in self.videos}
        return [c for c in (MCLS, MS) if c in parts] + list(self.subsets)

    def splits(self, item) -> dict[str, str]:
        v = self._video(item)
        if v.part == MS:
            return {MS: v.split}
        placed = {MCLS: v.split}
        for config, members in self.subsets.items():
            if v.split != "train" or v.id in members:
                placed[config] = v.split
        return placed

    def features(self, dims: dict) -> dict:
        if dims.get("visual", VIDEO_DIM) != VIDEO_DIM:
            raise BuildError(f"the visual extractor gives {dims['visual']}-d vectors; How2-MCLS holds {VIDEO_DIM}-d ones")
        return {c: features() for c in self.configs()}

    def _video(self, item) -> Video:
        return self.by_item[item.id] if isinstance(item, RawItem) else item

    def examples(self, item, tracks: dict) -> list[dict]:
        v = self._video(item)
        if v.problem is not None:
            raise v.problem
        if not (v.summary or "").strip():
            raise ItemError("bad_annotation", f"{v.id}: empty summary", v.id)
        if v.part == MCLS and not (v.transcript_pt or "").strip():
            raise ItemError("bad_transcript", f"{v.id}: empty Portuguese transcript", v.id)
        if "visual" in tracks:
            values, times = np.asarray(tracks["visual"].values, np.float32), tracks["visual"].times
        else:
            values, times = load_array(self.features_dir / f"{v.id}.npy", "video feature", v.id, VIDEO_DIM), None
        if len(values) == 0:
            raise ItemError("bad_media", f"{v.id}: the feature file has no rows", v.id)
        return [{"id": v.id, "video_id": v.id, "source_split": v.source_split, "transcript_pt": v.transcript_pt,
                 "transcript_en": v.transcript_en, "summary": v.summary, "frame_times": times, COLUMN: values}]

    def count(self, row: dict) -> dict:
        return {"frames": len(row[COLUMN]), "summary_words": len(row["summary"].split())}

    def facts(self, config: str) -> dict:
        part = MS if config == MS else MCLS
        facts = {"part": part, "paper_counts": PAPER_COUNTS[part], **self.source_facts()}
        if config == MCLS and self.few_shot_left_out:
            facts["few_shot_left_out"] = {"sizes": self.few_shot_left_out, "train_videos": self.train_videos,
                                          "why": "more than the release's How2-MCLS training videos"}
        if config in self.subsets:
            facts["few_shot"] = {"train_videos": len(self.subsets[config]),
                                 "rule": "the first n How2-MCLS training videos by sha1 of the video id (nested); "
                                         "validation and test are How2-MCLS's"}
        if self.videos_dir is None:
            facts["columns"] = {"visual": COLUMN}
            facts["extractors"] = {"visual": {"extractor": "provided", "model": "How2's ResNeXt-101 3D features "
                                              "(video_action_features/<id>.npy)", "dim": VIDEO_DIM,
                                              "sampling": "one row per 16 frames (as released; no times)"}}
        return facts

    def card_facts(self) -> dict:
        return {
            "pretty_name": "How2-MCLS: multimodal cross-lingual summarization of How2 videos",
            "item_unit": "videos",
            "summary": ref("how2_mcls", "What it is"),
            "sources": ref("how2_mcls", f"Input: {self.source}"),
            "labels": ref("how2_mcls", "Labels"),
            "license": "cc-by-sa-4.0" if self.source == "how2" else "other",
            **({} if self.source == "how2" else {"license_name": "how2-mcls", "license_link": "https://github.com/korokes/MCLS"}),
            "license_text": ref("how2_mcls", f"License: {self.source}"),
            "language": ["en", "pt"],
            "task_categories": ["summarization", "video-text-to-text"],
            "tags": ["video-summarization", "abstractive-summarization", "cross-lingual-summarization",
                     "multimodal-summarization", "how2"],
            "citation": ref("how2_mcls", "Citation"),
            "usage_columns": ["transcript_pt", "transcript_en", "summary", "frames_*"],
            "columns": ref("how2_mcls", "Column meanings"),
        }
