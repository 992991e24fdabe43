"""Mr.HiSum (Sul et al., NeurIPS 2023 Datasets and Benchmarks): 31,892 YouTube-8M videos whose frame
importance is YouTube's most-replayed curve, aggregated from 50,000+ viewers per video.

    python -m builders.mrhisum --h5 mr_hisum.h5 --metadata metadata.csv --splits mr_hisum_split.json
    python -m builders.mrhisum --collect --metadata metadata.csv [--splits ...] [--info-json DIR] [--limit N]
    build(MrHiSum("mr_hisum.h5", "metadata.csv", "mr_hisum_split.json"), out="hub/mrhisum")   # from Python

Release (Mr.HiSum repository: ``model/mrhisum_dataset.py``, ``dataset/DATASET.md``, README):

- ``mr_hisum.h5``: a group per video (``video_1`` ...) with ``gtscore`` [n] (the curve, 0..1, one value per
  second), ``change_points`` [S, 2] (KTS shots), ``gt_summary`` [n] (0/1 knapsack summary at 15%; the
  README calls it ``gtsummary``, the loader reads ``gt_summary``: both are accepted) and, once the user
  adds them from YouTube-8M with the repository's ``preprocess.py``, ``features`` [n, 1024] (YouTube-8M
  frame features, 1 fps);
- ``metadata.csv``: ``video_id, yt8m_file, random_id, youtube_id, duration, views, labels``;
- ``mr_hisum_split.json``: ``{train_keys, val_keys, test_keys}`` (27,892 / 2,000 / 2,000).

Rows (config ``annotations``, or ``yt8m`` when the h5 holds the features): ``id`` = ``video_id`` =
``video_N``; ``youtube_id``, ``yt8m_file``, ``random_id``, ``views``, ``labels`` (YouTube-8M class ids),
``duration`` from the metadata; ``n_frames`` = len(gtscore), ``fps`` = 1, ``picks`` = 0..n-1,
``frame_times`` = picks (gtscore[k] is the curve at instant k s); ``frame_scores`` = gtscore;
``change_points`` as inclusive frame ranges (the file's rows are read as inclusive when consecutive rows
touch as end + 1 = next start, as exclusive when end = next start, and converted; the rule found is
in build.json), ``n_frame_per_seg``; ``user_summary`` [1, n] = gt_summary; ``frames_yt8m`` [n, 1024].

``--collect`` fetches each ``youtube_id``'s curve anew with the YouTube collector (info only, no media)
and aligns it as Mr.HiSum's ``align_most_replayed`` does: second k takes marker floor(k * 1000 /
marker duration in ms), at most the last marker, for k < int(duration). Config ``collected``: the
curve (``heatmap``) and ``frame_scores``; a video without the curve fails ``no_heatmap``.
"""

from __future__ import annotations

import csv
import json
import sys
from typing import NamedTuple
from pathlib import Path

import numpy as np
from datasets import Features, List, Value

from builders.base import Builder, BuildError, run
from builders.schema import frames_column, vectors
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
        with open(path, newline="", encoding="utf-8") as f:
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
            labels = json.loads(row["labels"]) if row["labels"].strip() else []
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
        data = json.loads(Path(path).read_text(encoding="utf-8"))
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
    import h5py

    group = video.group

    def read(key):
        if key not in group or not isinstance(group[key], h5py.Dataset):
            raise ItemError("bad_annotation", f"{video.id}: no {key} in the h5", video.id)
        return np.asarray(group[key][()])

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
    return {"id": Value("string"), "video_id": Value("string"), "youtube_id": Value("string"),
            "yt8m_file": Value("string"), "random_id": Value("string"), "duration": Value("float64"),
            "views": Value("int64"), "labels": List(Value("int32")), "n_frames": Value("int32"), "fps": Value("float64"),
            "picks": List(Value("int32")), "frame_times": List(Value("float64")), "frame_scores": List(Value("float32"))}


def h5_features(with_features: bool) -> Features:
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


class MrHiSum(Builder):
    """The released h5 + metadata + split file: config ``annotations``, or ``yt8m`` with the features."""

    name, source = "mrhisum", "mrhisum"

    def __init__(self, h5: Path, metadata: Path, splits: Path | None = None):
        self.h5, self.metadata, self.splits_file = Path(h5), Path(metadata), splits and Path(splits)
        self.input = str(h5)

    @classmethod
    def add_arguments(cls, p) -> None:
        p.add_argument("--h5", type=Path, help="mr_hisum.h5 (gtscore, change_points, gt_summary[, features])")
        p.add_argument("--metadata", type=Path, required=True, help="metadata.csv")
        p.add_argument("--splits", type=Path, help="mr_hisum_split.json (without it every video is in train)")
        p.add_argument("--collect", action="store_true", help="fetch each video's most-replayed curve anew (no --h5)")
        p.add_argument("--info-json", type=Path, help="with --collect: saved <youtube_id>.info.json files instead of the web")
        p.add_argument("--limit", type=int, help="with --collect: the first N videos of the metadata")
        p.add_argument("--sleep", type=float, default=2.0, help="with --collect: seconds between requests (2)")

    @classmethod
    def from_args(cls, args) -> Builder:
        if args.collect:
            from builders.mrhisum_collect import MrHiSumCollect

            if args.h5 is not None:
                raise BuildError("--collect fetches the curves anew: give --h5 or --collect, not both")
            return MrHiSumCollect(args.metadata, args.splits, info_json=args.info_json, limit=args.limit, sleep=args.sleep)
        if args.h5 is None:
            raise BuildError("give --h5 mr_hisum.h5 (or --collect)")
        return cls(args.h5, args.metadata, args.splits)

    def prepare(self, ctx) -> None:
        from builders.eccv16 import open_h5

        self.meta = read_metadata(self.metadata)
        with open_h5(self.h5) as f:
            keys = [k for k in f.keys() if k.startswith("video_")]
            if not keys:
                raise BuildError(f"{self.h5} has no video_N groups: not mr_hisum.h5")
            self.with_features = sum("features" in f[k] for k in keys) * 2 > len(keys)
        unknown = [k for k in keys if k not in self.meta]
        if unknown:
            raise BuildError(f"{self.h5} has videos that {self.metadata} does not list, e.g. {', '.join(unknown[:5])}")
        self.split_of = read_splits(self.splits_file, keys)
        self.keys = sorted((k for k in keys if k in self.split_of), key=lambda k: int(k.split("_")[-1]) if k.split("_")[-1].isdigit() else 0)
        self.in_no_split = len(keys) - len(self.keys)
        self.rules: dict[str, int] = {}

    def items(self):
        import h5py

        with h5py.File(self.h5, "r") as f:
            for key in self.keys:
                yield Video(key, self.meta[key], f[key])

    def splits(self, item) -> str:
        return self.split_of[item.id]

    def features(self, dims: dict) -> dict:
        return {"yt8m" if self.with_features else "annotations": h5_features(self.with_features)}

    def examples(self, item, tracks: dict) -> list[dict]:
        row, rule = h5_row(item, self.with_features)
        self.rules[rule] = self.rules.get(rule, 0) + 1
        return [row]

    def count(self, row: dict) -> dict:
        return {"frames": row["n_frames"], "seconds": float(row["n_frames"])}

    def facts(self, config: str) -> dict:
        facts = {"change_points_read_as": self.rules, "in_no_split": self.in_no_split,
                 "metadata": str(self.metadata), "splits_file": str(self.splits_file) if self.splits_file else None}
        if self.with_features:
            facts["columns"] = {"visual": frames_column("yt8m")}
            facts["extractors"] = {"visual": {"extractor": "provided", "model": "YouTube-8M frame features (Inception, "
                                              "PCA 1024, quantized), as in the h5", "dim": FEATURE_DIM, "sampling": "1 fps"}}
        return facts

    def card_facts(self) -> dict:
        return card_facts("h5")


def main(argv=None) -> int:
    return run(MrHiSum, argv)


if __name__ == "__main__":
    sys.exit(main())
