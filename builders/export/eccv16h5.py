"""``--format eccv16h5``: frame-importance builds (TVSum, SumMe, eccv16 imports, Mr.HiSum) as one eccv16 h5
file and the split folds DSNet, PGL-SUM, VASNet and CA-SUM read.

    OUT/eccv16_dataset_<dataset>_google_pool5.h5   one group per video, keyed by video_id:
        features [T, D] float32     frames_<visual>          gtscore [T] float32   frame_scores
        user_summary [U, n_frames] float32 (0/1)             change_points [S, 2] int32 (inclusive)
        n_frame_per_seg [S] int32   n_frames () int32         picks [T] int32       n_steps () int32 = T
        gtsummary [T] float32 (0/1)  video_name (bytes, when the build has a title)
    OUT/<dataset>_splits.json   [{"train_keys": [...], "test_keys": [...]}, ...]

``<dataset>`` is the build's dataset name without a trailing ``-eccv16``, lower case; the file name is
the one PGL-SUM / A2Summ open whatever the encoder (recorded in export.json). Rules (export.json ``rules``):

- ``gtsummary``: the build's ``frame_labels`` when it has them (an eccv16 import); else, with one
  ``user_summary`` row (Mr.HiSum: the ground-truth summary), that row at ``picks``; else the eccv16
  keyshot summary of ``frame_scores`` on ``change_points`` at 15% (builders.labels.keyshots), at ``picks``.
- Splits, without ``--splits``: one fold, ``train_keys`` = the build's train and validation videos
  (the eccv16 folds have no validation), ``test_keys`` = its test videos; a build without a test split
  needs ``--splits K``. With ``--splits K``: K-fold cross-validation: the videos (build order) shuffled
  once with ``numpy.random.default_rng(seed)``, cut into K parts (``numpy.array_split``); fold i tests
  part i and trains on the others, so every video is tested exactly once.
- Keys are plain video ids (PGL-SUM, VASNet, CA-SUM); DSNet's split files prefix each key with the h5
  path (``../datasets/<file>.h5/video_1``): add it for DSNet.
- Deterministic bytes: datasets written with ``track_times=False``; groups kept in build order (``track_order=True``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from builders.export import Build, ExportError, dumps, export_record
from builders.labels.keyshots import keyshot_summary

NEEDS = ("frame_scores", "picks", "n_frames", "change_points", "n_frame_per_seg", "user_summary")
GTSUMMARY_RULE = ("frame_labels when the build has them; else with one user_summary row that row at picks; "
                  "else the eccv16 keyshot summary (15%) of frame_scores on change_points, at picks")
SPLIT_RULE = "one fold: train_keys = build train + validation, test_keys = build test"
KFOLD_RULE = ("K-fold: videos in build order shuffled by numpy.random.default_rng(seed).permutation, cut by "
              "numpy.array_split into K parts; fold i: test_keys = part i, train_keys = the other parts (build order)")


def dataset_slug(build: Build) -> str:
    name = str(build.record.get("dataset") or build.name).lower().removesuffix("-eccv16")
    return re.sub(r"[^a-z0-9]+", "_", name).strip("_") or "dataset"


def check(build: Build) -> None:
    build.require("eccv16h5", {"frame features (frames_*)": build.column("visual", "frames_"),
                               **{c: c for c in NEEDS}})


def gtsummary(row: dict, rules: dict) -> np.ndarray:
    picks = np.asarray(row["picks"], np.int64)
    if row.get("frame_labels") is not None:
        rules["frame_labels"] = rules.get("frame_labels", 0) + 1
        return np.asarray(row["frame_labels"], np.float32)
    users = row["user_summary"]
    if len(users) == 1:
        rules["user_summary_row"] = rules.get("user_summary_row", 0) + 1
        return np.asarray(users[0], np.float32)[picks]
    rules["keyshots_of_frame_scores"] = rules.get("keyshots_of_frame_scores", 0) + 1
    cps = np.asarray(row["change_points"], np.int64)
    return keyshot_summary(row["frame_scores"], cps, int(row["n_frames"]), picks, 0.15)[picks].astype(np.float32)


def _put(group, name: str, value) -> None:
    group.create_dataset(name, data=value, track_times=False)


def video(group, row: dict, visual: str, rules: dict) -> None:
    rid = row["id"]
    for key in NEEDS + (visual,):
        if row[key] is None:
            raise ExportError(f"row {rid}: {key} is null; the eccv16 layout needs it")
    features = row[visual]
    t = len(features)
    if len(row["frame_scores"]) != t or len(row["picks"]) != t:
        raise ExportError(f"row {rid}: {t} feature steps but {len(row['frame_scores'])} frame_scores, "
                          f"{len(row['picks'])} picks")
    _put(group, "features", np.ascontiguousarray(features, np.float32))
    _put(group, "gtscore", np.asarray(row["frame_scores"], np.float32))
    _put(group, "gtsummary", gtsummary(row, rules))
    _put(group, "user_summary", np.asarray(row["user_summary"], np.float32).reshape(len(row["user_summary"]), -1))
    _put(group, "change_points", np.asarray(row["change_points"], np.int32).reshape(-1, 2))
    _put(group, "n_frame_per_seg", np.asarray(row["n_frame_per_seg"], np.int32))
    _put(group, "n_frames", np.int32(row["n_frames"]))
    _put(group, "picks", np.asarray(row["picks"], np.int32))
    _put(group, "n_steps", np.int32(t))
    if row.get("title"):
        _put(group, "video_name", row["title"].encode("utf-8"))


def folds(keys: dict[str, list[str]], k: int | None, seed: int) -> list[dict]:
    if k is None:
        test = keys.get("test", [])
        if not test:
            raise ExportError("the build has no test split to make the eccv16 fold from: give --splits K for K "
                              "random folds (or --split to pick what to export)")
        return [{"train_keys": keys.get("train", []) + keys.get("validation", []), "test_keys": test}]
    videos = [v for split in ("train", "validation", "test") for v in keys.get(split, [])]
    if k > len(videos):
        raise ExportError(f"--splits {k}: only {len(videos)} videos to cut into folds")
    parts = np.array_split(np.random.default_rng(seed).permutation(len(videos)), k)
    out = []
    for part in parts:
        test = set(part.tolist())
        out.append({"train_keys": [v for i, v in enumerate(videos) if i not in test],
                    "test_keys": [videos[i] for i in sorted(test)]})
    return out


def write(build: Build, out: Path, split=None, splits=None, seed=0, **_) -> dict:
    import h5py

    visual = build.column("visual", "frames_")
    slug = dataset_slug(build)
    h5_name = f"eccv16_dataset_{slug}_google_pool5.h5"
    keys: dict[str, list[str]] = {}
    rules: dict[str, int] = {}
    with h5py.File(out / h5_name, "w", track_order=True) as f:
        for part in build.splits:
            for row in build.rows(part):
                key = row["video_id"]
                if "/" in key or key in f:
                    raise ExportError(f"video_id {key!r} cannot key an h5 group (a '/' or a repeat)")
                video(f.create_group(key), row, visual, rules)
                keys.setdefault(part, []).append(key)
    split_file = f"{slug}_splits.json"
    (out / split_file).write_text(dumps(folds(keys, splits, seed)), encoding="utf-8")
    return export_record(build, "eccv16h5", split,
                         {"gtsummary": GTSUMMARY_RULE, "gtsummary_counts": dict(sorted(rules.items())),
                          "splits": KFOLD_RULE if splits else SPLIT_RULE, "seed": seed if splits else None,
                          "folds": splits or 1},
                         [{"file": f"{h5_name} features", **build.encoder(visual)}],
                         files={"h5": h5_name, "splits": split_file})
