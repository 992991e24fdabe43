"""Import the BLiSS files released with A2Summ (CVPR 2023) into the ``clip-roberta`` examples.

Release layout (``--source a2summ --input DIR``)::

    DIR/annotation/{train,test}.json         {clip_id: {video_id, num_frame, num_keyframe, num_sentence,
                                               sentence, sentence_time, text_label, video_label, highlight}}
    DIR/feature/video_clip_{split}.npy       {clip_id: [num_frame, 512]}    CLIP, 1 frame per second
    DIR/feature/text_roberta_{split}.npy     {clip_id: [num_sentence, 768]} RoBERTa, one row per sentence
    DIR/feature/video_summ_clip_{split}.npy  {clip_id: [num_keyframe, 512]} CLIP of the keyframes

Each file is looked for in ``DIR/<subdir>/`` first, then directly in ``DIR/``. The ``.npy`` files are
pickled dicts; they are read with ``builders.core.safe.pickles.load_npy_dict``, never with plain pickle.

Mapping to ``bliss_features("clip", 512, "roberta", 768)`` (frames are 1 fps, so frame i covers
seconds [i, i + 1)):

- ``duration = num_frame`` s; ``frame_times[i] = i + 0.5`` (step centre);
- ``sentences[j] = {start: sentence_time[j][0], end: sentence_time[j][1], text: sentence[j]}`` in
  seconds (a frame index is a second; the end index is exclusive, so it is the end second);
- ``frames_clip`` = video_clip, ``sentences_roberta`` = text_roberta, ``thumbnail_clip`` =
  video_summ_clip, all as float32 (exact float32 values, so a round trip compares equal);
- ``frame_labels`` = video_label, ``sentence_labels`` = text_label,
  ``keyframe_clip`` = sorted i with video_label[i] == 1, ``summary`` = highlight;
- not released, left empty: ``keywords``, ``creative_fields``, ``tools`` = [],
  ``title``, ``description``, ``streamer`` = "";
- ``clip_index``: the trailing integer of each clip id (``<video_id>_<n>``) when it counts the clips of
  its video: every clip of the video has a distinct one, and either some number recurs in another
  video (each video counts from its own start, perhaps with gaps where a clip was not released) or
  the video's smallest is 0. Otherwise (running numbers across the release, such as 1008, 1009; or ids
  without numbers) each clip's position among its video's clips, in the order of those numbers, else
  of the ids (train and test together). ``clip_start = 300 * clip_index`` (BLiSS clips are 5 minutes),
  ``clip_end = clip_start + duration``;
- ``id`` = the clip id with every character outside ``[A-Za-z0-9_-]`` replaced by ``_``; two clips
  that end up with the same id: the later one (train before test, file order) is a failure.

Splits: ``test`` is the released test split. ``validation`` is carved from the released train split
BY VIDEO (see ``VALIDATION_RULE``), so no video has clips in both train and validation.

What A2Summ's own data loader and evaluation accept is accepted, repaired the way they treat it, and
each repair counted (build.json ``repairs``): a ``highlight`` given as a list of sentences is joined
with spaces (A2Summ's ``calc_text_rouge`` does); an empty ``sentence_time`` ``[s, s]`` is kept (its
alignment mask is then empty); a span ending past ``num_frame`` is clamped to it (A2Summ slices the
mask, which clamps).

A clip whose annotation or features are otherwise inconsistent is an ItemError (kind ``bad_annotation`` or
``bad_media``), recorded as a failure ``{"id", "kind", "message"}``, and every other clip is still
imported. A missing or unsafe file stops the whole import: that is not one clip's problem.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import math
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np

from builders.core.safe import UnsafeFileError
from builders.core.safe.jsonstream import StreamedObject
from builders.core.safe.pickles import SpillFile, SpilledArray, load_npy_dict
from builders.core.base import Builder, BuildError
from builders.bliss.dataset import TOOL, card_facts, count
from builders.core.schema import SPLITS, bliss_features, config_name, frames_column, keyframe_column, sentences_column
from builders.core.schema import thumbnail_column
from collectors.records import ItemError, safe_id

VISUAL, VISUAL_DIM, TEXT, TEXT_DIM = "clip", 512, "roberta", 768
RELEASE_SPLITS = ("train", "test")
CLIP_SECONDS = 300
# release feature file stem -> (example column, width)
FEATURE_FILES = {
    "video_clip": (frames_column(VISUAL), VISUAL_DIM),
    "text_roberta": (sentences_column(TEXT), TEXT_DIM),
    "video_summ_clip": (thumbnail_column(VISUAL), VISUAL_DIM),
}
ANNOTATION_KEYS = (
    "video_id", "num_frame", "num_keyframe", "num_sentence", "sentence",
    "sentence_time", "text_label", "video_label", "highlight",
)  # fmt: skip
VALIDATION_RULE = (
    "validation = the first max(1, floor(f * n + 0.5)) of the n released-train videos that are not also "
    "in the released test split, ordered by (sha1(video_id utf-8) hex, video_id); never all of them "
    "(at most n - 1), none when f == 0 or n < 2"
)


@functools.cache
def release_features():
    """The columns of an imported clip (the release's CLIP and RoBERTa widths)."""
    return bliss_features(VISUAL, VISUAL_DIM, TEXT, TEXT_DIM)


def __getattr__(name: str):
    """``FEATURES``, the name callers and tests used before ``release_features()``, built on first use
    (so importing this module still does not build the datasets Features)."""
    if name == "FEATURES":
        return release_features()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def find_release_file(root: Path, subdir: str, name: str) -> Path:
    """``root/subdir/name`` or ``root/name``; the error lists both so a wrong --input is obvious."""
    tried = [root / subdir / name, root / name]
    for path in tried:
        if path.is_file():
            return path
    raise FileNotFoundError(f"A2Summ release file {name} not found; tried: {', '.join(map(str, tried))}")


def read_annotation(root: Path, split: str) -> StreamedObject:
    """The split's annotation file, streamed (builders.core.safe.jsonstream): its clip ids with their
    video ids now, each clip's annotation when the import reaches it."""
    return StreamedObject(find_release_file(root, "annotation", f"{split}.json"), field="video_id")


def validation_videos(train_videos: Iterable[str], fraction: float, exclude: Iterable[str] = ()) -> set[str]:
    """The train videos moved to validation, by ``VALIDATION_RULE``: stable across runs and machines."""
    if not 0 <= fraction < 1:
        raise ValueError(f"validation_fraction must be in [0, 1), got {fraction}")
    excluded = set(exclude)
    videos = sorted(set(train_videos) - excluded, key=lambda v: (hashlib.sha1(v.encode("utf-8")).hexdigest(), v))
    n = len(videos)
    if fraction == 0 or n < 2:
        return set()
    take = min(max(1, math.floor(fraction * n + 0.5)), n - 1)
    return set(videos[:take])


def _trailing_int(clip_id: str, video_id: str) -> int | None:
    rest = clip_id[len(video_id) :] if clip_id.startswith(video_id) else clip_id
    m = re.search(r"(?:^|[_.-])(\d+)$", rest)
    return int(m.group(1)) if m else None


def clip_indices(annotations: Mapping[str, Mapping[str, object]]) -> tuple[dict[str, int], Counter]:
    """clip id -> clip_index, decided per video over all release splits (see the module docstring),
    and how many videos took each rule (``trailing_number``, ``position``)."""
    by_video: dict[str, set[str]] = defaultdict(set)
    for clips in annotations.values():
        for clip_id, ann in clips.items():
            if isinstance(ann, dict) and isinstance(ann.get("video_id"), str):
                by_video[ann["video_id"]].add(clip_id)
    numbers = {v: {c: _trailing_int(c, v) for c in clips} for v, clips in by_video.items()}
    numbered = {v: n for v, n in numbers.items() if None not in n.values() and len(set(n.values())) == len(n)}
    seen = Counter(x for n in numbered.values() for x in set(n.values()))
    restarts = any(k > 1 for k in seen.values())  # numbers shared by videos: each video counts its own clips
    index: dict[str, int] = {}
    rules: Counter = Counter()
    for video_id, clip_ids in by_video.items():
        n = numbered.get(video_id)
        if n is not None and (restarts or min(n.values()) == 0):
            index.update(n)
            rules["trailing_number"] += 1
        else:  # running numbers across the release (1008, 1009, ...), or ids without numbers
            order = sorted(clip_ids, key=lambda c: (n[c], c) if n is not None else (0, c))
            index.update({c: position for position, c in enumerate(order)})
            rules["position"] += 1
    return index, rules


def _is_int(x: object) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _bad(message: str) -> ItemError:
    return ItemError("bad_annotation", message)


def _labels(values: object, n: int, name: str) -> list[int]:
    if not isinstance(values, list) or len(values) != n:
        got = len(values) if isinstance(values, list) else type(values).__name__
        raise _bad(f"{name} has {got} entries, expected {n}")
    if any(not _is_int(v) or v not in (0, 1) for v in values):
        raise _bad(f"{name} must hold only 0/1 integers")
    return list(values)


def _check_annotation(ann: object, repairs: Counter | None = None) -> dict:
    """The annotation with A2Summ's own repairs applied (counted in ``repairs``); ``bad_annotation``
    unless the counts, lists and times agree with each other."""
    if not isinstance(ann, dict):
        raise _bad(f"annotation is a {type(ann).__name__}, expected an object")
    missing = [k for k in ANNOTATION_KEYS if k not in ann]
    if missing:
        raise _bad(f"annotation lacks {', '.join(missing)}")
    if not isinstance(ann["video_id"], str) or not ann["video_id"]:
        raise _bad("video_id must be a non-empty string")
    t, k, n = ann["num_frame"], ann["num_keyframe"], ann["num_sentence"]
    if not (_is_int(t) and t > 0 and _is_int(k) and k >= 0 and _is_int(n) and n >= 0):
        raise _bad(f"num_frame={t!r} must be a positive integer, num_keyframe={k!r} and num_sentence={n!r} >= 0")
    sentences, times = ann["sentence"], ann["sentence_time"]
    if not isinstance(sentences, list) or len(sentences) != n or not all(isinstance(s, str) for s in sentences):
        raise _bad(f"sentence must be a list of num_sentence={n} strings")
    if not isinstance(times, list) or len(times) != n:
        raise _bad(f"sentence_time must have num_sentence={n} entries")
    fixed, found = [], Counter()
    for j, span in enumerate(times):
        if not (isinstance(span, list) and len(span) == 2 and all(map(_is_int, span))):
            raise _bad(f"sentence_time[{j}]={span!r} is not a [start, end] pair of frame indices")
        start, end = span
        if not 0 <= start <= end:
            raise _bad(f"sentence_time[{j}]={span!r} starts before 0 or after its end")
        if end > t:  # A2Summ slices its alignment mask [start:end], which stops at num_frame
            start, end = min(start, t), t
            found["sentence_end_clamped"] += 1
        elif start == end:  # an empty mask in A2Summ: the sentence aligns with no frame
            found["empty_sentence_span_kept"] += 1
        fixed.append([start, end])
    _labels(ann["text_label"], n, "text_label")
    video_label = _labels(ann["video_label"], t, "video_label")
    if sum(video_label) != k:
        raise _bad(f"video_label marks {sum(video_label)} keyframes, num_keyframe={k}")
    highlight = ann["highlight"]
    if isinstance(highlight, list) and all(isinstance(h, str) for h in highlight):
        highlight = " ".join(highlight)  # as A2Summ's calc_text_rouge joins a list reference
        found["highlight_list_joined"] += 1
    if not isinstance(highlight, str):
        raise _bad("highlight must be a string or a list of strings")
    if repairs is not None:
        repairs.update(found)
    return {**ann, "sentence_time": fixed, "highlight": highlight}


def _vectors(features: Mapping[str, np.ndarray], clip_id: str, stem: str, rows: int, dim: int, arrays: bool):
    """float32 rows of one clip, or ``bad_media`` if they are missing, mis-shaped or not finite."""
    if clip_id not in features:
        raise ItemError("bad_media", f"no {stem} features for this clip")
    arr = features[clip_id]
    if rows == 0 and arr.size == 0:
        arr = np.zeros((0, dim), np.float32)
    if arr.shape != (rows, dim) or arr.dtype.kind not in "fiu":
        raise ItemError("bad_media", f"{stem} features are {arr.dtype}{list(arr.shape)}, expected [{rows}, {dim}] numbers")
    values = arr.astype(np.float32, copy=False)
    if not np.isfinite(values).all():
        raise ItemError("bad_media", f"{stem} features hold NaN or infinite values (as float32)")
    return values if arrays else values.tolist()


def build_example(
    clip_id: str, ann: object, features: Mapping[str, Mapping[str, np.ndarray]], clip_index: int, arrays: bool = False,
    repairs: Counter | None = None,
) -> dict:
    """One example in the column order of ``release_features()``; raises ``ItemError`` for an inconsistent clip.

    ``arrays=True`` gives the vector columns as float32 ``[rows, dim]`` arrays instead of lists;
    ``repairs`` counts what was repaired (see the module docstring).
    """
    found: Counter = Counter()
    ann = _check_annotation(ann, found)
    rows = {"video_clip": ann["num_frame"], "text_roberta": ann["num_sentence"], "video_summ_clip": ann["num_keyframe"]}
    vectors = {
        column: _vectors(features[stem], clip_id, stem, rows[stem], dim, arrays) for stem, (column, dim) in FEATURE_FILES.items()
    }
    duration = float(ann["num_frame"])
    clip_start = float(CLIP_SECONDS * clip_index)
    example = {
        "id": safe_id(clip_id),
        "video_id": ann["video_id"],
        "clip_index": clip_index,
        "clip_start": clip_start,
        "clip_end": clip_start + duration,
        "duration": duration,
        "title": "",
        "description": "",
        "streamer": "",
        "creative_fields": [],
        "tools": [],
        "frame_times": [i + 0.5 for i in range(ann["num_frame"])],
        "sentences": [
            {"start": float(s), "end": float(e), "text": text} for (s, e), text in zip(ann["sentence_time"], ann["sentence"])
        ],
        "frame_labels": list(ann["video_label"]),
        "sentence_labels": list(ann["text_label"]),
        keyframe_column(VISUAL): [i for i, v in enumerate(ann["video_label"]) if v == 1],
        "summary": ann["highlight"],
        "keywords": [],
        **vectors,
    }
    if repairs is not None:  # counted once the clip is known to be good
        repairs.update(found)
    return {name: example[name] for name in release_features()}


class Clip(NamedTuple):
    """One clip of the release: its id, release split and annotation, and that split's features."""

    id: str
    split: str
    annotation: object
    features: Mapping[str, Mapping[str, np.ndarray]]


class SpilledFeatures(Mapping):
    """clip id -> array of one feature file, read from the split's spill file when asked for."""

    def __init__(self, spill: SpillFile, tokens: dict[str, SpilledArray]):
        self.spill, self.tokens = spill, tokens

    def __getitem__(self, clip_id: str) -> np.ndarray:
        return self.spill.read(self.tokens[clip_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self.tokens)

    def __len__(self) -> int:
        return len(self.tokens)


class Release:
    """A2Summ's release in ``input_dir``, every file located and the annotations read up front (a
    wrong ``--input`` fails at once); features load one release split at a time, as clips need them.

    The real train split holds gigabytes of arrays (video_clip_train.npy alone ~7 GB), so a split's
    three pickled dicts are read one after the other, each array spilled to a file under
    ``spill_dir`` (default: a temporary directory) as soon as it is read, and read back one clip at
    a time: memory holds one clip, not the split. The spill file is deleted when the split is done.
    """

    def __init__(self, input_dir: str | Path, validation_fraction: float = 0.1, spill_dir: str | Path | None = None):
        root = Path(input_dir)
        self.spill_dir = None if spill_dir is None else Path(spill_dir)
        self.annotations = {split: read_annotation(root, split) for split in RELEASE_SPLITS}
        video_of = {split: {c: ({"video_id": v} if v is not None else None) for c, v in a.keys.items()}
                    for split, a in self.annotations.items()}
        self.paths = {
            split: {stem: find_release_file(root, "feature", f"{stem}_{split}.npy") for stem in FEATURE_FILES}
            for split in RELEASE_SPLITS
        }
        videos = {split: {v for v in a.keys.values() if v is not None} for split, a in self.annotations.items()}
        self.held_out = validation_videos(videos["train"], validation_fraction, exclude=videos["test"])
        self.index, self.index_rules = clip_indices(video_of)
        self.taken: dict[str, str] = {}  # safe id -> clip id that has it
        self.repairs: Counter = Counter()  # what A2Summ's loader accepts that needed a repair, over published clips

    def clips(self) -> Iterator[Clip]:
        for split in RELEASE_SPLITS:
            with self._spilled(split) as features:
                for clip_id, ann in self.annotations[split].items():
                    yield Clip(clip_id, split, ann, features)

    @contextlib.contextmanager
    def _spilled(self, split: str) -> Iterator[dict[str, SpilledFeatures]]:
        """The split's features, every file spilled (see the class docstring); removed on exit."""
        with contextlib.ExitStack() as stack:
            if self.spill_dir is None:
                where = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="a2summ-spill-")))
            else:
                where = self.spill_dir
                where.mkdir(parents=True, exist_ok=True)
            spill = stack.enter_context(SpillFile(where / f"{split}.spill"))
            yield {stem: SpilledFeatures(spill, load_npy_dict(path, spill=spill.add)) for stem, path in self.paths[split].items()}

    def example(self, clip: Clip, arrays: bool = False) -> tuple[str, dict]:
        """(published split, example) of one clip; ItemError (its message starts with the release
        split) for an inconsistent clip or one whose id collides with an earlier clip's."""
        try:
            if clip.id not in self.index:  # no usable video_id, so no index either
                _check_annotation(clip.annotation)
            found: Counter = Counter()
            example = build_example(clip.id, clip.annotation, clip.features, self.index[clip.id], arrays, found)
            if example["id"] in self.taken:
                raise _bad(f"id {example['id']!r} collides with clip {self.taken[example['id']]!r}")
            self.repairs.update(found)
        except ItemError as e:
            raise ItemError(e.kind, f"[{clip.split}] {e.message}") from None
        self.taken[example["id"]] = clip.id
        held = clip.split == "train" and example["video_id"] in self.held_out
        return ("validation" if held else clip.split), example


def iter_a2summ(
    input_dir: str | Path, validation_fraction: float = 0.1, failures: list[dict] | None = None, arrays: bool = False
) -> Iterator[tuple[str, dict]]:
    """Yield ``(split, example)`` one clip at a time, appending bad clips to ``failures``.

    ``arrays=True`` yields the vector columns as float32 arrays, which ``builders.core.writers`` accepts,
    to skip the list round trip.
    """
    failures = [] if failures is None else failures
    release = Release(input_dir, validation_fraction)
    for clip in release.clips():
        try:
            yield release.example(clip, arrays)
        except ItemError as e:
            failures.append({"id": clip.id, **e.as_dict()})


def read_a2summ(input_dir: str | Path, validation_fraction: float = 0.1) -> tuple[dict[str, list[dict]], list[dict]]:
    """All examples by split (train, validation, test) and the failed clips. Small releases only."""
    failures: list[dict] = []
    examples: dict[str, list[dict]] = {split: [] for split in SPLITS}
    for split, example in iter_a2summ(input_dir, validation_fraction, failures):
        examples[split].append(example)
    return examples, failures


class BlissA2Summ(Builder):
    """The files A2Summ released, features as released: ``--source a2summ --input DIR``."""

    family = "bliss"
    protocol = "multimodal"
    name, source, tool = "bliss", "a2summ", f"{TOOL} --source a2summ"

    def __init__(self, input: Path, validation_fraction: float = 0.1):
        self.input_dir, self.validation_fraction, self.input = Path(input), validation_fraction, str(input)

    @classmethod
    def add_arguments(cls, p) -> None:
        p.add_argument("--input", type=Path, required=True,
                       help="the release: annotation/{train,test}.json and feature/*_{train,test}.npy")

    def prepare(self, ctx) -> None:
        if not self.input_dir.is_dir():
            raise BuildError(f"--input {self.input_dir} is not a directory")
        try:
            self.release = Release(self.input_dir, self.validation_fraction, spill_dir=ctx.work / "a2summ-spill")
        except (OSError, ValueError) as e:  # a missing or malformed file: the whole release's problem
            raise BuildError(str(e)) from e
        self.published: dict[str, str] = {}

    def items(self) -> Iterator[Clip]:
        try:
            yield from self.release.clips()
        except (OSError, UnsafeFileError) as e:  # an unsafe, malformed or vanished feature file, found when its split loads
            raise BuildError(str(e)) from e

    def examples(self, clip: Clip, tracks: dict) -> list[dict]:
        self.published[clip.id], example = self.release.example(clip, arrays=True)
        return [example]

    def splits(self, clip: Clip) -> str:
        return self.published[clip.id]

    def features(self, dims: dict) -> dict:
        return {config_name(VISUAL, TEXT): release_features()}

    def count(self, row: dict) -> dict:
        return count(row, VISUAL)

    def facts(self, config: str) -> dict:
        provided = {"extractor": "provided", "sampling": "as released"}
        return {"columns": {"visual": frames_column(VISUAL), "text": sentences_column(TEXT)},
                "extractors": {"visual": {**provided, "model": "CLIP (A2Summ release)", "dim": VISUAL_DIM},
                               "text": {**provided, "model": "RoBERTa (A2Summ release)", "dim": TEXT_DIM}},
                "validation_rule": VALIDATION_RULE,
                "repairs": dict(sorted(self.release.repairs.items())),
                "clip_index_rule": dict(sorted(self.release.index_rules.items()))}

    def card_facts(self) -> dict:
        return card_facts(self.source)
