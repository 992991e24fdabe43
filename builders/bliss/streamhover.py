"""Import StreamHover's released Behance transcripts (Cho et al., EMNLP 2021, cited by A2Summ as
BLiSS's predecessor): ``--source streamhover --input DIR``.

Release layout, as the repository (github.com/ucfnlp/streamhover: README and src/data.py) documents
and reads it: ``DIR/Behance_{train,val,test}.pkl``, each a pickled list with one tuple per 5-minute
transcript clip::

    (transcript,           # [{display: str, offset: float, duration: float}] utterances, start and length
     abstractive_summary,  # str
     extractive_summary,   # [int] 0-based indices of the utterances in the summary
     video_id,             # int
     clip_id,              # int k: the clip covers minutes 5k to 5(k + 1)
     title, video_url, transcript_url)   # str

(README: train 3,860 clips of 318 videos, val 728 of 25, test 809 of 25.) The files are read with
builders.core.safe.pickles.load_pickle, a restricted unpickler, never with plain pickle.

Mapping, to BLiSS's column names (builders.core.schema.transcript_summary_features; there is no video,
so no frame columns): ``id = <video_id>_<clip:03d>``, ``clip_start = 300 k``; ``sentences`` from the
utterances (start = offset, end = offset + duration, text = display, in the release's order);
``sentence_labels`` 1 at the extractive-summary indices; ``summary`` the abstractive summary;
``sentences_<text>`` encoded by the extraction job. Splits: train / validation (``val``) / test.

Times. The README does not say whether offsets count from the video's or the clip's start;
StreamHover's video-level summary (src/run_summarization.py) reports them unchanged as video times.
So, per clip k > 0: offsets inside [300 k - 1, 300 (k + 1) + 1] are video times and 300 k is
subtracted; offsets all inside [0, 301] are already clip times; anything else is bad_transcript.
build.json's ``offsets`` counts which reading each clip got. The release gives no clip lengths:
``duration`` is 300 s, except for a video's last clip, where it is the end of its last utterance.

A clip that does not fit the layout (a field of the wrong type, an index out of range, a repeated
clip, a video in two splits) is an ItemError recorded with its kind; every other clip is imported.
A missing, unsafe or unreadable file stops the import (exit 2).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from pathlib import Path

from builders.core.base import Builder, BuildError
from builders.bliss.dataset import TOOL
from cards.pages import ref
from builders.core.extraction import Track
from builders.core.safe import UnsafeFileError
from builders.core.safe.pickles import load_pickle
from builders.core.schema import sentences_column, transcript_summary_features
from collectors.records import ItemError, RawItem, check_item_id, safe_id
from extractors.base import UnknownExtractorError
from extractors.registry import entry, names

CLIP_SECONDS = 300.0
FILES = {"train": "Behance_train.pkl", "validation": "Behance_val.pkl", "test": "Behance_test.pkl"}
FIELDS = ("transcript", "abstractive_summary", "extractive_summary", "video_id", "clip_id", "title", "video_url",
          "transcript_url")
TOLERANCE = 1.0  # s an utterance may start outside its clip's window (rounding in the release)


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _is_number(x) -> bool:
    try:
        return not isinstance(x, (bool, str)) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def check_clip(entry: object) -> dict:
    """One release tuple as a dict of FIELDS; ItemError naming what does not fit."""
    if not isinstance(entry, (tuple, list)) or len(entry) != len(FIELDS):
        raise ItemError("bad_annotation", f"not a tuple of the {len(FIELDS)} fields {FIELDS}: {entry!r:.100}")
    clip = dict(zip(FIELDS, entry))
    if not _is_int(clip["video_id"]) or clip["video_id"] < 0 or not _is_int(clip["clip_id"]) or clip["clip_id"] < 0:
        raise ItemError("bad_annotation", f"video id {clip['video_id']!r} and clip id {clip['clip_id']!r} must be "
                                          "integers >= 0")
    for name in ("abstractive_summary", "title", "video_url", "transcript_url"):
        if not isinstance(clip[name], str):
            raise ItemError("bad_annotation", f"{name} must be a string, got {type(clip[name]).__name__}")
    transcript = clip["transcript"]
    if not isinstance(transcript, list):
        raise ItemError("bad_transcript", f"the transcript must be a list, got {type(transcript).__name__}")
    for n, u in enumerate(transcript):
        if (not isinstance(u, dict) or not isinstance(u.get("display"), str) or not _is_number(u.get("offset"))
                or not _is_number(u.get("duration")) or float(u["offset"]) < 0 or float(u["duration"]) < 0):
            raise ItemError("bad_transcript", f"utterance {n} is not {{display: str, offset >= 0, duration >= 0}}: "
                                              f"{u!r:.100}")
    picked = clip["extractive_summary"]
    if not isinstance(picked, list) or not all(_is_int(i) and 0 <= i < len(transcript) for i in picked):
        raise ItemError("bad_annotation", f"extractive summary {picked!r:.100} must list utterance indices "
                                          f"0..{len(transcript) - 1}")
    return clip


def clip_sentences(clip: dict) -> tuple[list[dict], list[int], str]:
    """(sentences with clip times, their labels, which reading of the offsets: "video" or "clip")."""
    k, utterances = clip["clip_id"], clip["transcript"]
    starts = [float(u["offset"]) for u in utterances]
    start = CLIP_SECONDS * k
    if all(start - TOLERANCE <= s <= start + CLIP_SECONDS + TOLERANCE for s in starts):
        shift, reading = start, "video"
    elif all(-TOLERANCE <= s <= CLIP_SECONDS + TOLERANCE for s in starts):
        shift, reading = 0.0, "clip"
    else:
        raise ItemError("bad_transcript", f"utterance offsets {min(starts):.1f}..{max(starts):.1f} s fit neither "
                                          f"clip {k}'s video times [{start:.0f}, {start + CLIP_SECONDS:.0f}] nor "
                                          f"clip times [0, {CLIP_SECONDS:.0f}]")
    picked = set(clip["extractive_summary"])
    sentences = [{"start": max(0.0, s - shift), "end": max(0.0, s - shift) + float(u["duration"]),
                  "text": u["display"].strip()} for s, u in zip(starts, utterances)]
    return sentences, [int(i in picked) for i in range(len(sentences))], reading


class StreamHover(Builder):
    """StreamHover's Behance transcripts and summaries, its sentences encoded by the job: ``--source streamhover``."""

    family = "bliss"
    protocol = "multimodal"
    name, source, tool = "streamhover", "streamhover", f"{TOOL} --source streamhover"

    def __init__(self, input: Path, text: str = "roberta"):
        try:
            entry(text, "text")
        except UnknownExtractorError as e:
            raise BuildError(str(e)) from e
        self.input_dir, self.text, self.input = Path(input), text, str(input)

    @classmethod
    def add_arguments(cls, p) -> None:
        p.add_argument("--input", type=Path, required=True, help="the release: Behance_{train,val,test}.pkl")
        p.add_argument("--text", default="roberta", help=f"text extractor: {', '.join(names('text'))} (default roberta)")

    def prepare(self, ctx) -> None:
        if not self.input_dir.is_dir():
            raise BuildError(f"--input {self.input_dir} is not a directory")
        missing = [name for name in FILES.values() if not (self.input_dir / name).is_file()]
        if missing:
            raise BuildError(f"StreamHover release file(s) {', '.join(missing)} not found in {self.input_dir}")
        self.clips, self.split_of, self.offsets = [], {}, Counter()
        seen, video_split = set(), {}
        for split, name in FILES.items():
            try:
                data = load_pickle(self.input_dir / name)
            except (OSError, UnsafeFileError) as e:
                raise BuildError(str(e)) from e
            if not isinstance(data, list):
                raise BuildError(f"{self.input_dir / name}: a pickled {type(data).__name__}, not a list of clips")
            for n, raw in enumerate(data):
                item = self._item(raw, split, f"{name}[{n}]", seen, video_split)
                self.split_of[item.id] = split
                self.clips.append(item)
        self._set_durations()

    def _item(self, raw, split: str, where: str, seen: set, video_split: dict) -> RawItem:
        fallback = RawItem(id=safe_id(where.replace("[", "-").rstrip("]")), source=self.source, meta={"entry": where})
        try:
            clip = check_clip(raw)
            vid, k = str(clip["video_id"]), clip["clip_id"]
            item_id = check_item_id(f"{vid}_{k:03d}")
            if item_id in seen:
                raise ItemError("bad_annotation", f"clip {k} of video {vid} appears twice")
            if video_split.setdefault(vid, split) != split:
                raise ItemError("bad_annotation", f"video {vid} is in {video_split[vid]} and in {split}")
            seen.add(item_id)
            sentences, labels, reading = clip_sentences(clip)
        except ItemError as e:
            return fallback.failed(ItemError(e.kind, f"{where}: {e.message}"))
        self.offsets[reading] += 1
        return RawItem(id=item_id, source=self.source, url=clip["video_url"], title=clip["title"],
                       transcript=sentences, transcript_source="provided",
                       meta={"entry": where, "video_id": vid, "clip_index": k, "labels": labels,
                             "summary": clip["abstractive_summary"], "transcript_url": clip["transcript_url"]})

    def _set_durations(self) -> None:
        """300 s per clip; a video's last clip ends with its last utterance (the release has no lengths)."""
        last = defaultdict(int)
        for item in self.clips:
            if item.ok:
                last[item.meta["video_id"]] = max(last[item.meta["video_id"]], item.meta["clip_index"])
        for item in self.clips:
            if item.ok:
                is_last = item.meta["clip_index"] == last[item.meta["video_id"]]
                end = max((s["end"] for s in item.transcript), default=0.0)
                item.duration = max(end, 0.0) if is_last else CLIP_SECONDS

    def tracks(self) -> dict[str, Track]:
        return {"text": Track(self.text, column=sentences_column(self.text))}

    def items(self) -> list[RawItem]:
        return self.clips

    def splits(self, item: RawItem) -> str:
        return self.split_of[item.id]

    def features(self, dims: dict) -> dict:
        return {self.text: transcript_summary_features(self.text, dims["text"])}

    def examples(self, item: RawItem, tracks: dict) -> list[dict]:
        text, m = tracks["text"], item.meta
        start = CLIP_SECONDS * m["clip_index"]
        return [{"id": item.id, "video_id": m["video_id"], "clip_index": m["clip_index"], "clip_start": start,
                 "clip_end": start + item.duration, "duration": item.duration, "title": item.title, "url": item.url,
                 "transcript_url": m["transcript_url"], "sentences": item.transcript,
                 sentences_column(self.text): text.values.reshape(len(item.transcript), text.dim),
                 "sentence_labels": m["labels"], "summary": m["summary"]}]

    def count(self, row: dict) -> dict:
        return {"sentences": len(row["sentences"]), "key_sentences": int(sum(row["sentence_labels"])),
                "seconds": float(row["duration"])}

    def facts(self, config: str) -> dict:
        return {"offsets": dict(self.offsets)}

    def card_facts(self) -> dict:
        return {
            "pretty_name": "StreamHover: Behance livestream transcripts with extractive and abstractive summaries",
            "summary": ref("bliss", "StreamHover: what it is"),
            "sources": ref("bliss", "StreamHover: input"),
            "labels": ref("bliss", "StreamHover: labels"),
            "license": "unknown",
            "license_text": ref("bliss", "StreamHover: license"),
            "item_unit": "released clips",
            "task_categories": ["summarization"],
            "tags": ["livestream", "extractive-summarization", "abstractive-summarization", "transcripts"],
            "citation": ref("bliss", "StreamHover: citation"),
            "columns": ref("bliss", "StreamHover: columns"),
            "usage_columns": ["sentences", "sentences_*", "sentence_labels", "summary"],
        }
