"""``--format eccv16h5``: frame-importance builds (TVSum, SumMe, eccv16 imports, Mr.HiSum) as one eccv16 h5
file and the split folds DSNet, PGL-SUM, VASNet and CA-SUM read.

    OUT/eccv16_dataset_<dataset>_google_pool5.h5   one group per video, keyed by video_id:
        features [T, D] float32     frames_<visual>          gtscore [T] float32   frame_scores
        user_summary [U, n_frames] float32 (0/1)             change_points [S, 2] int32 (inclusive)
        n_frame_per_seg [S] int32   n_frames () int32         picks [T] int32       n_steps () int32 = T
        gtsummary [T] float32 (0/1)  video_name (bytes, when the build has a title)
    OUT/<dataset>_splits.json   [{"train_keys": [...], "test_keys": [...]}, ...]   (PGL-SUM, VASNet, CA-SUM)
    OUT/<dataset>_dsnet.yml     the same folds keyed ``../datasets/<h5 file>/<video>`` (DSNet's splits/*.yml)

``<dataset>`` is the build's dataset name without a trailing ``-eccv16``, lower case; the file name is
the one PGL-SUM / A2Summ open whatever the encoder (recorded in export.json). Rules (export.json ``rules``):

- ``gtsummary``: the build's ``frame_labels`` when it has them (an eccv16 import); else, with one
  ``user_summary`` row (Mr.HiSum: the ground-truth summary), that row at ``picks``; else the eccv16
  keyshot summary of ``frame_scores`` on ``change_points`` at 15% (builders.labels.keyshots), at ``picks``.
- Splits, without ``--splits``: one fold, ``train_keys`` = the build's train and validation videos
  (the eccv16 folds have no validation), ``test_keys`` = its test videos; a build without a test split
  needs ``--splits K``. With ``--splits K``: K random 80 / 20 splits, as DSNet's ``make_split.py``
  (its default ``--method random``, which made its released split files): each split draws its
  ``n - round(0.8 n)`` test videos anew (``numpy.random.default_rng(seed)``), the rest train.
- Keys are plain video ids in the JSON (PGL-SUM, VASNet, CA-SUM); DSNet keys a video by the h5 path as
  seen from its ``src/`` directory, so its YAML copy assumes the h5 is put in DSNet's ``datasets/``.
- Deterministic bytes: datasets written with ``track_times=False``; groups kept in build order (``track_order=True``).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import yaml

from builders.export import Build, ExportError, dumps, export_record
from builders.labels.keyshots import keyshot_summary

NEEDS = ("frame_scores", "picks", "n_frames", "change_points", "n_frame_per_seg", "user_summary")
GTSUMMARY_RULE = ("frame_labels when the build has them; else with one user_summary row that row at picks; "
                  "else the eccv16 keyshot summary (15%) of frame_scores on change_points, at picks")
SPLIT_RULE = "one fold: train_keys = build train + validation, test_keys = build test"
DSNET_DIR = "../datasets"  # DSNet's split keys: the h5 path as seen from its src/ directory, then the video
TRAIN_RATIO = 0.8  # DSNet's make_split.py default (--train-ratio 0.8, --method random)
RANDOM_RULE = ("K random splits (DSNet make_split.py --method random): n_test = n - round(0.8 n); split i: test_keys = "
               "the first n_test of numpy.random.default_rng(seed).permutation (one draw per split, videos in build "
               "order), train_keys = the others in build order; a video may be tested in several splits")


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
                              "random splits (or --split to pick what to export)")
        return [{"train_keys": keys.get("train", []) + keys.get("validation", []), "test_keys": test}]
    videos = [v for split in ("train", "validation", "test") for v in keys.get(split, [])]
    n_test = len(videos) - round(TRAIN_RATIO * len(videos))
    if n_test < 1 or n_test >= len(videos):
        raise ExportError(f"--splits {k}: {len(videos)} videos are too few for a {TRAIN_RATIO:.0%} / "
                          f"{1 - TRAIN_RATIO:.0%} split")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(k):
        test = [videos[i] for i in rng.permutation(len(videos))[:n_test]]
        out.append({"train_keys": [v for v in videos if v not in set(test)], "test_keys": test})
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
    split_file, dsnet_file = f"{slug}_splits.json", f"{slug}_dsnet.yml"
    made = folds(keys, splits, seed)
    (out / split_file).write_text(dumps(made), encoding="utf-8")
    dsnet = [{name: [f"{DSNET_DIR}/{h5_name}/{v}" for v in fold[name]] for name in fold} for fold in made]
    (out / dsnet_file).write_text(yaml.safe_dump(dsnet, sort_keys=True), encoding="utf-8")
    return export_record(build, "eccv16h5", split,
                         {"gtsummary": GTSUMMARY_RULE, "gtsummary_counts": dict(sorted(rules.items())),
                          "splits": RANDOM_RULE if splits else SPLIT_RULE, "seed": seed if splits else None,
                          "folds": splits or 1},
                         [{"file": f"{h5_name} features", **build.encoder(visual)}],
                         files={"h5": h5_name, "splits": split_file, "dsnet_splits": dsnet_file})
