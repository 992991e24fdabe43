"""What every QVHighlights source shares: the release files, the label columns, the card."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from builders.core import safe
from builders.core.base import BuildError
from collectors.records import ItemError

CLIP_SECONDS = 2.0
ANNOTATORS = 3
MAX_SCORE = 4
FILE_SPLITS = {"train": "train", "val": "validation", "test": "test"}  # release file name part -> our split
FILE_PATTERN = re.compile(r"highlight_(train|val|test)_.*\.jsonl$")
CONFIG = "annotations"
CITATION = """@inproceedings{lei2021qvhighlights,
  title     = {QVHighlights: Detecting Moments and Highlights in Videos via Natural Language Queries},
  author    = {Lei, Jie and Berg, Tamara L. and Bansal, Mohit},
  booktitle = {Advances in Neural Information Processing Systems (NeurIPS)},
  year      = {2021}
}"""


@dataclass(frozen=True)
class Query:
    """One line of a release file: its id (str qid), split, record, and where it came from."""

    id: str
    split: str
    record: dict
    where: str  # file:line, for messages


# ---------------------------------------------------------------- the release files


def release_files(paths) -> dict[str, Path]:
    """split -> file, from a directory holding the release files or from the files themselves."""
    paths = [Path(p) for p in (paths if isinstance(paths, (list, tuple)) else [paths])]
    found: dict[str, Path] = {}
    for path in paths:
        if path.is_dir():
            candidates = sorted(path.glob("highlight_*_*.jsonl"))
            if not candidates:
                raise BuildError(f"{path} holds no highlight_{{train,val,test}}_*.jsonl release file")
        elif path.is_file():
            candidates = [path]
        else:
            raise BuildError(f"--annotations {path} does not exist")
        for file in candidates:
            m = FILE_PATTERN.search(file.name)
            if not m:
                raise BuildError(f"{file}: not a QVHighlights release file name (highlight_train|val|test_*.jsonl)")
            split = FILE_SPLITS[m.group(1)]
            if split in found and found[split] != file:
                if path.is_dir() and "release" in found[split].name:  # a directory with both: the release file wins
                    continue
                raise BuildError(f"two files for split {split}: {found[split]} and {file}")
            found[split] = file
    return found


def read_queries(files: dict[str, Path]) -> list[Query]:
    """Every line of the release files as a Query; a line that is not a JSON object with a qid becomes a
    Query whose record is ``{"_error": ...}`` (a recorded failure, not the end of the build)."""
    queries, seen = [], {}
    for split, path in files.items():
        try:
            lines = safe.read_text(path).splitlines()
        except (OSError, UnicodeDecodeError) as e:
            raise BuildError(f"cannot read {path}: {e}") from e
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            where = f"{path.name}:{n}"
            try:
                record = safe.json_loads(line, where)
                qid = record.get("qid") if isinstance(record, dict) else None
            except ValueError as e:
                record, qid = {"_error": f"not JSON: {e}"}, None
            if not isinstance(qid, int) or isinstance(qid, bool):
                record = {"_error": record.get("_error") if isinstance(record, dict) and "_error" in record
                          else f"no integer qid (got {qid!r})"}
                queries.append(Query(f"line-{split}-{n}", split, record, where))
                continue
            if qid in seen:
                record = {"_error": f"qid {qid} is also on {seen[qid]}"}
                queries.append(Query(f"{qid}-dup-{split}-{n}", split, record, where))
                continue
            seen[qid] = where
            queries.append(Query(str(qid), split, record, where))
    return queries


def parse_vid(vid: str) -> tuple[str, float, float]:
    """``<youtube id>_<start>_<end>`` -> (youtube id, start, end); YouTube ids may hold '_' themselves."""
    yt, start, end = vid.rsplit("_", 2)
    return yt, float(start), float(end)


def _bad(q: Query, message: str) -> ItemError:
    return ItemError("bad_annotation", f"{q.where}: {message}", q.id)


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def labels(q: Query) -> dict:
    """The label columns of one query (nulls on a file without labels), checked; raises ItemError."""
    r = q.record
    if "_error" in r:
        raise _bad(q, r["_error"])
    for key, kind in (("query", str), ("vid", str)):
        if not isinstance(r.get(key), kind) or not r[key].strip():
            raise _bad(q, f"{key} must be a non-empty string")
    if not _number(r.get("duration")) or r["duration"] < CLIP_SECONDS:
        raise _bad(q, f"duration must be a number of seconds >= {CLIP_SECONDS}, got {r.get('duration')!r}")
    if r["duration"] > (most := safe.LIMITS.max_annotated_duration):  # arrays are sized from it: 1e12 s, 3.6 TiB
        raise _bad(q, f"duration {r['duration']:g} s is longer than --max-annotated-duration {most:g} s")
    try:
        youtube_id, start, end = parse_vid(r["vid"])
    except ValueError:
        raise _bad(q, f"vid {r['vid']!r} is not <youtube id>_<start>_<end>") from None
    n = int(r["duration"] / CLIP_SECONDS)
    row = {"id": q.id, "qid": int(r["qid"]), "query": r["query"].strip(), "video_id": r["vid"], "youtube_id": youtube_id,
           "clip_start": start, "clip_end": end, "duration": float(r["duration"]),
           "frame_times": (np.arange(n) + 0.5) * CLIP_SECONDS}
    labelled = [k for k in ("relevant_windows", "relevant_clip_ids", "saliency_scores") if k in r]
    if not labelled:
        return {**row, "relevant_windows": None, "relevant_clip_ids": None, "user_scores": None,
                "frame_scores": None, "frame_labels": None}
    if len(labelled) < 3:
        raise _bad(q, f"has {', '.join(labelled)} but not all of relevant_windows, relevant_clip_ids, saliency_scores")
    windows, clip_ids, scores = r["relevant_windows"], r["relevant_clip_ids"], r["saliency_scores"]
    if not (isinstance(windows, list) and all(isinstance(w, list) and len(w) == 2 and all(map(_number, w))
                                              and 0 <= w[0] < w[1] <= r["duration"] for w in windows)):
        raise _bad(q, f"relevant_windows must be [start, end] pairs inside [0, duration = {r['duration']}]")
    if not (isinstance(clip_ids, list) and all(isinstance(c, int) and 0 <= c < n for c in clip_ids)
            and len(set(clip_ids)) == len(clip_ids)):
        raise _bad(q, f"relevant_clip_ids must be distinct clip indices in [0, {n})")
    if not (isinstance(scores, list) and len(scores) == len(clip_ids)
            and all(isinstance(s, list) and len(s) == ANNOTATORS and all(isinstance(x, int) and 0 <= x <= MAX_SCORE for x in s)
                    for s in scores)):
        raise _bad(q, f"saliency_scores must hold {ANNOTATORS} scores in 0..{MAX_SCORE} per relevant clip "
                      f"({len(clip_ids)} clips)")
    user = np.zeros((ANNOTATORS, n), np.float32)
    if clip_ids:
        user[:, clip_ids] = np.asarray(scores, np.float32).T
    frame_labels = np.zeros(n, np.int8)
    frame_labels[clip_ids] = 1
    return {**row, "relevant_windows": np.asarray(windows, np.float64).reshape(-1, 2),
            "relevant_clip_ids": np.asarray(clip_ids, np.int32), "user_scores": user,
            "frame_scores": user.mean(axis=0) / MAX_SCORE, "frame_labels": frame_labels}


def check_video_splits(queries: list[Query]) -> None:
    """No video in two splits (true of the release; a mixed set of files would break it)."""
    split_of: dict[str, str] = {}
    for q in queries:
        vid = q.record.get("vid")
        if isinstance(vid, str):
            if split_of.setdefault(vid, q.split) != q.split:
                raise BuildError(f"video {vid} has queries in both {split_of[vid]} and {q.split} ({q.where})")


# ---------------------------------------------------------------- schema


def label_features() -> dict:
    from datasets import List, Value

    return {
        "id": Value("string"), "qid": Value("int64"), "query": Value("string"), "video_id": Value("string"),
        "youtube_id": Value("string"), "clip_start": Value("float64"), "clip_end": Value("float64"),
        "duration": Value("float64"),
        "frame_times": List(Value("float64")),  # [T] 2-s clip centres
    }


def target_features() -> dict:
    from datasets import List, Value

    return {
        "relevant_windows": List(List(Value("float64"))),  # [W, 2] seconds (no fixed length: the writers take no null there)
        "relevant_clip_ids": List(Value("int32")),
        "user_scores": List(List(Value("float32"))),  # [3, int(duration / 2)] per annotator, 0..4
        "frame_scores": List(Value("float32")),  # [T] mean score / 4
        "frame_labels": List(Value("int8")),  # [T] 1 = relevant clip
    }


COLUMNS = {
    "id": "str(qid)", "qid": "query id of the release", "query": "the natural-language query",
    "video_id": "vid: `<youtube id>_<start>_<end>`, the 150-s segment", "youtube_id": "the YouTube video",
    "clip_start": "segment start in the YouTube video (s)", "clip_end": "segment end in the YouTube video (s)",
    "duration": "segment length (s), 120..150",
    "frame_times": "[T] centres of the 2-s clips (s from the segment start)",
    "relevant_windows": "[W, 2] annotated moments [start, end] (s); null on test",
    "relevant_clip_ids": "2-s clips inside the relevant windows; null on test",
    "user_scores": "[3, int(duration/2)] each annotator's saliency (0..4) per clip, 0 outside relevant clips; null on test",
    "frame_scores": "[T] mean saliency of the 3 annotators / 4; null on test",
    "frame_labels": "[T] 1 = clip among relevant_clip_ids; null on test",
    "frames_*": "[T, D] visual features per 2-s clip (see Encoders)",
    "audio_*": "[T, D] audio features per 2-s clip",
    "query_*": "[L, D] query text features (L = 1 for our encoders; tokens for the released CLIP text features)",
}


def card_facts(source: str) -> dict:
    sources = {
        "annotations": "The annotation files `highlight_{train,val,test}_release.jsonl` released in the Moment-DETR "
                       "repository (Lei et al., NeurIPS 2021).",
        "videos": "The annotation files of the Moment-DETR repository and the 150-s video segments, encoded here per "
                  "2-s clip by the extractors named under Encoders.",
        "collect": "The annotation files of the Moment-DETR repository and the 150-s video segments, each downloaded "
                   "from YouTube here (yt-dlp, at most 480p, [start, end] of its `vid` cut by ffmpeg) and encoded per "
                   "2-s clip by the extractors named under Encoders; videos no longer on YouTube are listed as failures.",
        "features": "The annotation files and the feature files released with Moment-DETR (SlowFast and CLIP per "
                    "2-s clip, CLIP text tokens per query), copied as released.",
    }
    return {
        "pretty_name": "QVHighlights",
        "item_unit": "queries" if source == "annotations" else "videos (with their queries)",
        "summary": "10,310 natural-language queries on 150-s YouTube video segments, each with its relevant moments "
                   "and a saliency score per 2-s clip from 3 annotators: query-based highlight detection and moment "
                   "retrieval (Lei et al., NeurIPS 2021).",
        "sources": sources[source],
        "labels": (
            "As released, on the 2-s clip grid (clip k covers [2k, 2k + 2) s of the segment):\n"
            "- `user_scores`: each annotator's saliency score (0 Very Bad .. 4 Very Good) of every clip, 0 for clips "
            "outside `relevant_clip_ids` (Moment-DETR's `mk_gt_scores`); the highlight metrics threshold it at 2 "
            "(Fair), 3 (Good) and 4 (Very Good).\n"
            "- `frame_scores` = mean of the three scores / 4 (UMT's training target); `frame_labels` = 1 on the "
            "relevant clips.\n"
            "- `relevant_windows`, `relevant_clip_ids`: as released.\n"
            "- Test queries carry no labels (null), as released."
        ),
        "license": "cc-by-nc-sa-4.0",
        "license_text": "The QVHighlights annotations are released under CC BY-NC-SA 4.0 (the Moment-DETR repository's "
                        "`data/LICENSE`); the videos belong to their YouTube owners. Cite the paper.",
        "task_categories": ["video-text-to-text", "summarization"],
        "tags": ["video-summarization", "highlight-detection", "moment-retrieval", "qvhighlights"],
        "citation": CITATION,
        "usage_columns": ["query", "frame_times", "frames_*", "audio_*", "query_*", "frame_scores", "user_scores"],
        "columns": COLUMNS,
    }
