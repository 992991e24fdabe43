"""What both Mr.HiSum sources share: the metadata and split files, the h5 rows, the schema and the card."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: datasets loads after the command line is parsed
    from datasets import Features

import csv
from pathlib import Path
from typing import NamedTuple

import numpy as np

from builders.core import safe
from builders.core.safe import UnsafeFileError, open_regular
from builders.core.base import BuildError
from builders.core.schema import frames_column, vectors
from collectors.records import ItemError, safe_id

FEATURE_DIM = 1024
SPLIT_KEYS = {"train_keys": "train", "val_keys": "validation", "test_keys": "test"}
METADATA_COLUMNS = ("video_id", "yt8m_file", "random_id", "youtube_id", "duration", "views", "labels")
CITATION = """@inproceedings{sul2023mrhisum,
  title     = {Mr. HiSum: A Large-scale Dataset for Video Highlight Detection and Summarization},
  author    = {Sul, Jinhwan and Han, Jihoon and Lee, Joonseok},
  booktitle = {Advances in Neural Information Processing Systems (NeurIPS), Datasets and Benchmarks Track},
  volume    = {36},
  year      = {2023}
}"""


class Video(NamedTuple):
    """One video of the h5: its key (video_N), its metadata row, its group (open while the build iterates)."""

    id: str
    meta: dict
    group: object = None


def read_metadata(path: Path) -> dict[str, dict]:
    """video_id -> row of metadata.csv, typed; BuildError naming the file for anything unusable."""
    if not Path(path).is_file():
        raise BuildError(f"metadata file not found: {path}")
    try:
        with open_regular(path, "r", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in METADATA_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise BuildError(f"{path}: lacks columns {missing} (Mr.HiSum's metadata.csv has {list(METADATA_COLUMNS)})")
            rows = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise BuildError(f"cannot read {path}: {e}") from e
    out = {}
    for n, row in enumerate(rows, 2):
        try:
            labels = safe.json_loads(row["labels"], f"{path}:{n}") if row["labels"].strip() else []
            meta = {"youtube_id": row["youtube_id"].strip(), "yt8m_file": row["yt8m_file"].strip(),
                    "random_id": row["random_id"].strip(), "duration": float(row["duration"]),
                    "views": int(float(row["views"])), "labels": [int(x) for x in labels]}
        except (ValueError, TypeError) as e:
            raise BuildError(f"{path}:{n}: malformed row ({e})") from e
        if row["video_id"] in out:
            raise BuildError(f"{path}:{n}: video_id {row['video_id']} listed twice")
        out[row["video_id"]] = meta
    return out


def read_splits(path: Path | None, ids) -> dict[str, str]:
    """video_id -> split from mr_hisum_split.json; without the file every video is in train."""
    if path is None:
        return {i: "train" for i in ids}
    try:
        data = safe.read_json(path)
    except (OSError, ValueError) as e:
        raise BuildError(f"cannot read the split file {path}: {e}") from e
    if not isinstance(data, dict) or not set(SPLIT_KEYS) & set(data):
        raise BuildError(f"{path}: expected {{train_keys, val_keys, test_keys}}")
    out = {}
    for key, split in SPLIT_KEYS.items():
        for vid in data.get(key, []):
            if vid in out and out[vid] != split:
                raise BuildError(f"{path}: {vid} is in both {out[vid]} and {split}")
            out[vid] = split
    return out


def inclusive_shots(cps: np.ndarray, n: int) -> tuple[np.ndarray, str]:
    """Shots as inclusive [start, end] rows, and the convention the file used ("inclusive" / "exclusive")."""
    cps = np.asarray(cps)
    if cps.ndim != 2 or cps.shape[1] != 2 or len(cps) == 0 or cps.dtype.kind not in "iuf" or not np.all(cps == np.round(cps)):
        raise ItemError("bad_annotation", f"change_points must be integer [start, end] rows, got shape {cps.shape}")
    cps = cps.astype(np.int64)
    if len(cps) > 1 and np.all(cps[1:, 0] == cps[:-1, 1] + 1):
        rule = "inclusive"
    elif len(cps) > 1 and np.all(cps[1:, 0] == cps[:-1, 1]):
        rule, cps = "exclusive", np.stack([cps[:, 0], cps[:, 1] - 1], axis=1)
    elif len(cps) == 1:
        rule = "exclusive" if cps[0, 1] == n else "inclusive"
        cps = cps - np.array([0, 1]) if rule == "exclusive" else cps
    else:
        raise ItemError("bad_annotation", "change_points rows neither touch (end + 1 = next start) nor abut "
                                          "(end = next start): not a shot segmentation")
    if cps[0, 0] != 0 or cps[-1, 1] != n - 1 or np.any(cps[:, 1] < cps[:, 0]):
        raise ItemError("bad_annotation", f"change_points do not cover frames 0..{n - 1} (the gtscore's seconds)")
    return cps.astype(np.int32), rule


def h5_row(video: Video, features: bool) -> tuple[dict, str]:
    """One video's row from its h5 group, and the change-point convention found."""
    from builders.core.safe import h5 as safe_h5

    group = video.group
    if not hasattr(group, "keys"):  # video_N is a dataset, not a group
        raise ItemError("bad_annotation", f"{video.id}: a dataset, not a group of gtscore, change_points, ...", video.id)

    def read(key):
        try:
            node = safe_h5.dataset(group, key)
            if node is None:
                raise ItemError("bad_annotation", f"{video.id}: no {key} in the h5", video.id)
            a = safe_h5.read(node)
        except UnsafeFileError as e:
            raise ItemError("bad_annotation", f"{video.id}: {e}", video.id) from None
        except (OSError, TypeError, ValueError) as e:  # a dataset HDF5 cannot convert (a damaged file)
            raise ItemError("bad_annotation", f"{video.id}: {key} cannot be read ({e})", video.id) from None
        if a.dtype.kind not in "biuf":  # strings, compounds, references: not what Mr.HiSum stores
            raise ItemError("bad_annotation", f"{video.id}: {key} holds {a.dtype}, not numbers", video.id)
        return a

    gtscore = read("gtscore").astype(np.float64).reshape(-1)
    n = len(gtscore)
    if n == 0 or not np.all(np.isfinite(gtscore)):
        raise ItemError("bad_annotation", f"{video.id}: gtscore is empty or not finite", video.id)
    summary = read("gt_summary" if "gt_summary" in group else "gtsummary").reshape(-1)
    if len(summary) != n or not np.isin(summary, (0, 1)).all():
        raise ItemError("bad_annotation", f"{video.id}: gt_summary must be {n} values of 0 / 1 (one per gtscore second)",
                        video.id)
    try:
        cps, rule = inclusive_shots(read("change_points"), n)
    except ItemError as e:
        raise ItemError(e.kind, f"{video.id}: {e.message}", video.id) from None
    picks = np.arange(n, dtype=np.int32)
    row = {"id": safe_id(video.id), "video_id": video.id, **video.meta, "n_frames": n, "fps": 1.0,
           "picks": picks, "frame_times": picks.astype(np.float64), "frame_scores": gtscore.astype(np.float32),
           "change_points": cps, "n_frame_per_seg": (cps[:, 1] - cps[:, 0] + 1).astype(np.int32),
           "user_summary": summary.astype(np.int8)[None, :]}
    if features:
        feats = read("features")
        if feats.ndim != 2 or feats.shape[1] != FEATURE_DIM or feats.dtype.kind not in "iuf":
            raise ItemError("bad_annotation", f"{video.id}: features must be [n, {FEATURE_DIM}] numbers, got "
                                              f"{feats.dtype}{list(feats.shape)}", video.id)
        if len(feats) < n:
            raise ItemError("bad_annotation", f"{video.id}: {len(feats)} feature rows for {n} gtscore seconds", video.id)
        row[frames_column("yt8m")] = feats[:n].astype(np.float32)  # YT8M may run a second longer than the curve
    return row, rule


def common_columns() -> dict:
    from datasets import List, Value

    return {"id": Value("string"), "video_id": Value("string"), "youtube_id": Value("string"),
            "yt8m_file": Value("string"), "random_id": Value("string"), "duration": Value("float64"),
            "views": Value("int64"), "labels": List(Value("int32")), "n_frames": Value("int32"), "fps": Value("float64"),
            "picks": List(Value("int32")), "frame_times": List(Value("float64")), "frame_scores": List(Value("float32"))}


def h5_features(with_features: bool) -> Features:
    from datasets import Features, List, Value

    cols = common_columns()
    if with_features:
        cols[frames_column("yt8m")] = vectors(FEATURE_DIM)
    cols.update({"change_points": List(List(Value("int32"), length=2)), "n_frame_per_seg": List(Value("int32")),
                 "user_summary": List(List(Value("int8")))})
    return Features(cols)


COLUMNS = {
    "id": "video_id", "video_id": "Mr.HiSum's video key (video_N)", "youtube_id": "the YouTube video",
    "yt8m_file": "YouTube-8M tfrecord file of the video", "random_id": "the video's YouTube-8M id",
    "duration": "video length (s), from metadata.csv", "views": "view count in metadata.csv (>= 50,000)",
    "labels": "YouTube-8M class ids", "n_frames": "seconds of the curve (1 fps steps)", "fps": "1 (steps per second)",
    "picks": "[T] step indices 0..T-1", "frame_times": "[T] second k of step k",
    "frame_scores": "[T] most-replayed score of each second, 0..1 (gtscore)",
    "frames_yt8m": "[T, 1024] YouTube-8M frame features (1 fps), as the h5 holds them",
    "change_points": "[S, 2] KTS shots, inclusive step ranges", "n_frame_per_seg": "[S] steps per shot",
    "user_summary": "[1, T] the ground-truth summary gt_summary (0/1 knapsack on the shots, 15%)",
    "heatmap": "the most-replayed markers as collected ({start, end, value})",
}


def card_facts(source: str) -> dict:
    return {
        "pretty_name": "Mr. HiSum" + (" (curves collected anew)" if source == "collect" else ""),
        "item_unit": "videos",
        "summary": "YouTube-8M videos whose frame importance is YouTube's most-replayed curve, aggregated from at "
                   "least 50,000 viewers per video: highlight detection (MAP at 50% / 15%) and summarization (keyshot "
                   "F1) at scale (Sul et al., NeurIPS 2023).",
        "sources": ("The released `mr_hisum.h5`, `metadata.csv` and `mr_hisum_split.json` of the Mr.HiSum repository."
                    if source == "h5" else "The video list of Mr.HiSum's `metadata.csv`; each video's most-replayed "
                    "curve fetched anew from YouTube with vsumhub's collector (yt-dlp), so values may differ from the "
                    "release as viewing goes on."),
        "labels": (
            "- `frame_scores`: the most-replayed curve per second: second k takes the marker containing instant k "
            "(floor(k * 1000 / marker milliseconds), at most the last of the 100 markers), as Mr.HiSum aligned it.\n"
            + ("- `change_points`: KTS shots as released, as inclusive ranges; `user_summary`: the released 0/1 "
               "summary (knapsack on the shots' mean curve within 15% of the seconds).\n" if source == "h5" else
               "- `heatmap`: the markers as collected.\n")
            + "- Splits: `mr_hisum_split.json` (train / val / test keys; val is `validation`)."
        ),
        "license": "cc-by-4.0",
        "license_text": "Mr.HiSum is released under CC BY 4.0, following YouTube-8M; users must comply with the "
                        "YouTube Terms of Service and the YouTube API Services Terms of Service. Cite the paper.",
        "task_categories": ["summarization", "video-classification"],
        "tags": ["video-summarization", "highlight-detection", "most-replayed", "mr-hisum"],
        "citation": CITATION,
        "usage_columns": ["frame_times", "frames_*", "frame_scores", "change_points", "user_summary"],
        "columns": COLUMNS,
    }


