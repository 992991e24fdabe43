"""``--format mrhisum``: a build with one step per frame (Mr.HiSum's 1-fps layout) as Mr.HiSum's release
and preprocessing leave it, for its ``model/mrhisum_dataset.py``.

    OUT/mr_hisum.h5             one group per video_id: features [n, D] float32 (frames_<visual>),
                                gtscore [n] float32 (frame_scores), change_points [S, 2] int32,
                                gt_summary [n] float32 (0/1: the first user_summary row)
    OUT/metadata.csv            video_id,yt8m_file,random_id,youtube_id,duration,views,labels
    OUT/mr_hisum_split.json     {"train_keys": [...], "val_keys": [...], "test_keys": [...]}

Rules (export.json ``rules``):

- ``change_points`` are written with exclusive ends ([start, end + 1)): Mr.HiSum's loader computes
  ``n_frame_per_seg = end - start``, which is right only for exclusive ends; our Mr.HiSum importer reads
  both conventions.
- One step per frame: every row needs ``len(frame_scores) == n_frames`` (features may not run longer:
  Mr.HiSum takes ``n_frames`` from the features).
- metadata.csv: the build's ``youtube_id``, ``yt8m_file``, ``random_id``, ``duration``, ``views``,
  ``labels`` when it has them, else empty text, ``n_frames / fps`` seconds, 0 views, ``[]``.
- Splits: train, validation (``val_keys``) and test, as the build has them.
- Deterministic bytes: h5 datasets with ``track_times=False``; JSON with sorted keys.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from builders.export import Build, ExportError, dumps, export_record

NEEDS = ("frame_scores", "change_points", "user_summary", "n_frames")
SPLIT_KEYS = {"train": "train_keys", "validation": "val_keys", "test": "test_keys"}
METADATA = ("video_id", "yt8m_file", "random_id", "youtube_id", "duration", "views", "labels")
CP_RULE = "change_points written [start, end + 1) (exclusive ends, as Mr.HiSum's loader computes end - start)"
META_RULE = ("metadata from the build's youtube_id, yt8m_file, random_id, duration, views, labels; missing: '', "
             "n_frames / fps, 0, []")


def check(build: Build) -> None:
    build.require("mrhisum", {"frame features (frames_*)": build.column("visual", "frames_"), **{c: c for c in NEEDS}})


def _metadata(row: dict) -> list:
    fps = row.get("fps") or 1.0
    duration = row.get("duration") if row.get("duration") is not None else row["n_frames"] / fps
    return [row["video_id"], row.get("yt8m_file") or "", row.get("random_id") or "", row.get("youtube_id") or "",
            repr(float(duration)), int(row.get("views") or 0), json.dumps([int(x) for x in row.get("labels") or []])]


def write(build: Build, out: Path, split=None, **_) -> dict:
    import h5py

    visual = build.column("visual", "frames_")
    keys: dict[str, list[str]] = {k: [] for k in SPLIT_KEYS.values()}
    meta = io.StringIO()
    writer = csv.writer(meta, lineterminator="\n")
    writer.writerow(METADATA)
    with h5py.File(out / "mr_hisum.h5", "w", track_order=True) as f:
        for part in build.splits:
            for row in build.rows(part):
                key, n = row["video_id"], row["n_frames"]
                if "/" in key or key in f:
                    raise ExportError(f"video_id {key!r} cannot key an h5 group (a '/' or a repeat)")
                features, scores, users = row[visual], row["frame_scores"], row["user_summary"]
                if features is None or scores is None or not users:
                    raise ExportError(f"row {row['id']}: {visual}, frame_scores or user_summary is null or empty")
                if not (len(features) == len(scores) == n == len(users[0])):
                    raise ExportError(f"row {row['id']}: not one step per frame ({len(features)} feature rows, "
                                      f"{len(scores)} scores, n_frames {n}): Mr.HiSum's layout is one step per frame")
                cps = np.asarray(row["change_points"], np.int32).reshape(-1, 2)
                g = f.create_group(key)
                for name, value in (("features", np.ascontiguousarray(features, np.float32)),
                                    ("gtscore", np.asarray(scores, np.float32)),
                                    ("change_points", cps + np.array([0, 1], np.int32)),
                                    ("gt_summary", np.asarray(users[0], np.float32))):
                    g.create_dataset(name, data=value, track_times=False)
                writer.writerow(_metadata(row))
                keys[SPLIT_KEYS[part]].append(key)
    (out / "metadata.csv").write_text(meta.getvalue(), encoding="utf-8")
    (out / "mr_hisum_split.json").write_text(dumps(keys), encoding="utf-8")
    return export_record(build, "mrhisum", split, {"change_points": CP_RULE, "metadata": META_RULE,
                                                   "gt_summary": "the first user_summary row"},
                         [{"file": "mr_hisum.h5 features", **build.encoder(visual)}])
