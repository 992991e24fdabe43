"""BLiSS from livestreams in the raw layout (docs/raw-layout.md): ``--source raw --input DIR``.

Each video is extracted (frames at ``fps``, its transcript's sentences, the frames of its thumbnail
animation) by one extraction job, then cut into 5-minute clips and labelled:

- key sentences: a sentence that contains one of the clip's annotator keywords (case-insensitive,
  whole words; a multi-word keyword matches as a phrase);
- keyframes: for every frame of the video's thumbnail animation, the clip frame whose visual
  feature is most similar to it (cosine); ``frame_labels`` marks them.

A stream without annotations.json (a fresh crawl: annotations are the user's to add) is published
in the config ``<visual>-<text>-unlabelled``: every clip, with keyframes, and null
``sentence_labels``, ``summary`` and ``keywords`` (unknown, not negative).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from pathlib import Path

import numpy as np

from builders.core.base import Builder, BuildError
from builders.bliss.dataset import CLIP_SECONDS, TOOL, UNLABELLED_NOTE, UNLABELLED_SUFFIX, card_facts, count
from builders.core.clips import Clip, assign_sentences, fixed_clips, frame_indices
from builders.core.extraction import Track
from builders.core.keyframes import keyframes
from builders.core.schema import bliss_features, config_name, frames_column, keyframe_column, sentences_column
from builders.core.schema import thumbnail_column
from builders.core.splits import assign_splits
from collectors.records import RawItem
from extractors.base import FeatureTrack, UnknownExtractorError
from extractors.registry import entry, names

log = logging.getLogger("builders.bliss")


def keyword_pattern(keywords: list[str]) -> re.Pattern | None:
    words = [re.escape(k.strip().lower()) for k in keywords if k.strip()]
    if not words:
        return None
    words = [w.replace(r"\ ", r"\s+") for w in words]
    return re.compile(r"(?<!\w)(?:" + "|".join(sorted(words, key=len, reverse=True)) + r")(?!\w)", re.IGNORECASE)


def sentence_labels(texts: list[str], keywords: list[str]) -> np.ndarray:
    pattern = keyword_pattern(keywords)
    return np.array([1 if pattern and pattern.search(t) else 0 for t in texts], dtype=np.int8)


# ---------------------------------------------------------------- one video -> clip rows


def is_labelled(item: RawItem) -> bool:
    """Whether the stream came with annotations.json (a fresh crawl does not: its streams are unlabelled)."""
    return item.meta.get("clip_annotations") is not None


def clip_rows(item: RawItem, video: FeatureTrack, text: FeatureTrack, thumbs: np.ndarray,
              visual: str, text_name: str, min_clip: float) -> tuple[list[dict], dict]:
    """The examples of one video and facts about what was left out: one per annotated clip, or,
    for an unlabelled stream, one per clip with the annotator's labels null (keyframes, which come
    from the thumbnail animation, are there)."""
    fps = video.meta.get("fps", 1.0)
    duration = len(video) / fps
    clips, dropped_seconds = fixed_clips(duration, CLIP_SECONDS, min_clip)
    per_clip = assign_sentences(item.transcript, clips)
    annotations = item.meta.get("clip_annotations")
    rows, unannotated = [], []
    for clip, sentences in zip(clips, per_clip):
        ann = UNLABELLED if annotations is None else annotations.get(clip.index) or annotations.get(str(clip.index))
        if ann is None:
            unannotated.append(clip.index)
            continue
        rows.append(_clip_row(item, clip, sentences, ann, video, text, thumbs, visual, text_name))
    n_assigned = sum(len(s) for s in per_clip)
    facts = {"dropped_seconds": dropped_seconds, "unannotated_clips": len(unannotated),
             "sentences_outside_clips": len(item.transcript) - n_assigned}
    return rows, facts


UNLABELLED = {}  # the annotation of every clip of an unlabelled stream: no keywords, no summary (null labels)


def _clip_row(item, clip: Clip, sentences, ann, video, text, thumbs, visual, text_name) -> dict:
    idx = frame_indices(video.times, clip)
    frames = video.values[idx].astype(np.float32)
    sent_idx = [i for i, _ in sentences]
    sents = [s for _, s in sentences]
    labelled = ann is not UNLABELLED
    keywords = [str(k) for k in ann.get("keywords", [])]
    kf = keyframes(frames, thumbs)
    labels = np.zeros(len(idx), dtype=np.int8)
    labels[kf] = 1
    meta = item.meta
    return {
        "id": f"{item.id}_{clip.index:03d}",
        "video_id": item.id,
        "clip_index": clip.index,
        "clip_start": clip.start,
        "clip_end": clip.end,
        "duration": clip.duration,
        "title": item.title,
        "description": item.description,
        "streamer": str(meta.get("streamer", "")),
        "creative_fields": [str(x) for x in meta.get("creative_fields", [])],
        "tools": [str(x) for x in meta.get("tools", [])],
        "frame_times": video.times[idx] - clip.start,
        frames_column(visual): frames,
        "sentences": sents,
        sentences_column(text_name): text.values[sent_idx].astype(np.float32).reshape(len(sent_idx), text.dim),
        "frame_labels": labels,
        "sentence_labels": sentence_labels([s["text"] for s in sents], keywords) if labelled else None,
        keyframe_column(visual): kf,
        thumbnail_column(visual): thumbs.astype(np.float32),
        "summary": str(ann.get("summary", "")) if labelled else None,
        "keywords": keywords if labelled else None,
    }


class BlissRaw(Builder):
    """Livestreams in the raw layout: extract, cut into clips, label."""

    family = "bliss"
    protocol = "multimodal"
    name, source, tool = "bliss", "raw", f"{TOOL} --source raw"

    def __init__(self, input: Path, visual: str = "clip", text: str = "roberta", fps: float = 1.0,
                 min_clip: float = 10.0):
        try:
            entry(visual, "visual")
            entry(text, "text")
        except UnknownExtractorError as e:
            raise BuildError(str(e)) from e
        self.input_dir, self.visual, self.text, self.fps, self.min_clip = Path(input), visual, text, fps, min_clip
        self.input = str(input)

    @classmethod
    def add_arguments(cls, p) -> None:
        p.add_argument("--input", type=Path, required=True, help="a directory in the layout of docs/raw-layout.md")
        cls.add_encoder_arguments(p, "clip", "roberta")

    @staticmethod
    def add_encoder_arguments(p, visual: str, text: str) -> None:
        p.add_argument("--visual", default=visual, help=f"visual extractor: {', '.join(names('visual'))} (default {visual})")
        p.add_argument("--text", default=text, help=f"text extractor: {', '.join(names('text'))} (default {text})")
        p.add_argument("--fps", type=float, default=1.0, help="frames per second sampled from the videos (default 1)")
        p.add_argument("--min-clip", type=float, default=10.0,
                       help="drop a video's last clip when shorter than this many seconds (default 10)")

    def prepare(self, ctx) -> None:
        from collectors.behance import read_raw_dir

        if not self.input_dir.is_dir():
            raise BuildError(f"--input {self.input_dir} is not a directory")
        self.raw_items, self.skipped = read_raw_dir(self.input_dir)
        for skipped in self.skipped:
            log.warning("skipped %s: %s", skipped["path"], skipped["reason"])
        self.plan()

    def plan(self) -> None:
        """Splits (splits.json, else by sha1) and the labelled / unlabelled streams of ``raw_items``."""
        from collectors.behance import read_splits

        try:
            given = read_splits(self.input_dir)
        except ValueError as e:
            raise BuildError(str(e)) from e
        self.split_of = assign_splits([i.id for i in self.raw_items], given)
        self.left_out = Counter()
        self.unlabelled = sorted(i.id for i in self.raw_items if i.ok and not is_labelled(i))

    def tracks(self) -> dict[str, Track]:
        return {
            "visual": Track(self.visual, {"fps": self.fps}, column=frames_column(self.visual)),
            "text": Track(self.text, column=sentences_column(self.text)),
            "thumbnail": Track("thumbnail", {"encoder": self.visual, "options": {"fps": self.fps}}),
        }

    def items(self) -> list[RawItem]:
        return self.raw_items

    def configs(self) -> tuple[str, str]:
        """(the labelled config, the config of unlabelled streams: the same name + UNLABELLED_SUFFIX)."""
        labelled = config_name(self.visual, self.text)
        return labelled, labelled + UNLABELLED_SUFFIX

    def splits(self, item: RawItem) -> dict[str, str]:
        labelled, unlabelled = self.configs()
        return {labelled if is_labelled(item) else unlabelled: self.split_of[item.id]}

    def features(self, dims: dict) -> dict:
        """The labelled config, and the unlabelled one when some stream has no annotations (the
        labelled one is left out when no stream has any; it stays when there is nothing at all)."""
        features = bliss_features(self.visual, dims["visual"], self.text, dims["text"])
        labelled, unlabelled = self.configs()
        ok = [i for i in self.raw_items if i.ok]
        configs = {}
        if len(self.unlabelled) < len(ok) or not ok:
            configs[labelled] = features
        if self.unlabelled:
            configs[unlabelled] = features
        return configs

    def examples(self, item: RawItem, tracks: dict) -> list[dict]:
        rows, facts = clip_rows(item, tracks["visual"], tracks["text"], tracks["thumbnail"].values, self.visual,
                                self.text, self.min_clip)
        self.left_out.update(facts)
        return rows

    def count(self, row: dict) -> dict:
        return count(row, self.visual)

    def facts(self, config: str) -> dict:
        labelled = not config.endswith(UNLABELLED_SUFFIX)
        return {"left_out": dict(self.left_out), "skipped_inputs": self.skipped, "labelled": labelled,
                **({} if labelled else {"labels_note": UNLABELLED_NOTE})}

    def card_facts(self) -> dict:
        return card_facts(self.source, unlabelled=bool(self.unlabelled))
