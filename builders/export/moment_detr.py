"""``--format moment_detr``: QVHighlights-style builds as Moment-DETR's release and feature files
(``standalone_eval`` / ``start_end_dataset.py``; UMT reads the same).

    OUT/highlight_{train,val,test}_release.jsonl   {qid, query, duration, vid[, relevant_windows,
                                                    relevant_clip_ids, saliency_scores]}
    OUT/<name>_features/<vid>.npz                  features [clips, D] float32   per frames_<name> column
    OUT/<name>_features/<vid>.npy                  [clips, D] float32            per audio_<name> column (UMT)
    OUT/clip_text_features/qid<qid>.npz            last_hidden_state [tokens, D]  the query_<name> column

Rules (export.json ``rules``):

- A frame column ``frames_<name>`` goes to ``<name>_features/`` (so ``frames_slowfast`` and
  ``frames_clip`` land where Moment-DETR's ``--v_feat_dirs`` point), one file per video, written once
  however many queries share the video; an audio column ``audio_<name>`` to ``<name>_features/<vid>.npy``
  (UMT's PANN layout). The query column goes to ``clip_text_features/`` (Moment-DETR's ``--t_feat_dir``,
  ``q_feat_type=last_hidden_state``) whatever its encoder; the encoders are in export.json.
- ``saliency_scores`` = the ``user_scores`` columns of ``relevant_clip_ids`` (one row of 3 per clip),
  ``relevant_windows`` as stored; a query without labels (test) has none of the three, as released.
- ``validation`` is written as ``val`` (the release's name). Lines in build order; JSON keys sorted.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from builders.export import Build, ExportError, export_record

FILE_SPLIT = {"train": "train", "validation": "val", "test": "test"}
TEXT_DIR, TEXT_KEY = "clip_text_features", "last_hidden_state"
LABELS = ("qid", "query", "duration", "video_id", "relevant_windows", "relevant_clip_ids", "user_scores")


def feature_columns(build: Build) -> tuple[list[str], list[str], str | None]:
    frames = [c for c in build.columns if c.startswith("frames_")]
    audio = [c for c in build.columns if c.startswith("audio_")]
    queries = [c for c in build.columns if c.startswith("query_")]
    return frames, audio, (queries[0] if len(queries) == 1 else None)


def check(build: Build) -> None:
    frames, _, query = feature_columns(build)
    build.require("moment_detr", {"clip features (frames_*)": frames[0] if frames else None,
                                  "one query feature column (query_*)": query, **{c: c for c in LABELS}})


def _save_npz(path: Path, **arrays) -> None:
    """np.savez writes zip members with the current time; a fixed date keeps the bytes the same."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for name, a in arrays.items():
            buf = io.BytesIO()
            np.save(buf, a, allow_pickle=False)
            z.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), buf.getvalue())


def release_line(row: dict) -> dict:
    line = {"qid": int(row["qid"]), "query": row["query"], "duration": row["duration"], "vid": row["video_id"]}
    if row["relevant_clip_ids"] is not None:
        clip_ids = [int(c) for c in row["relevant_clip_ids"]]
        users = np.asarray(row["user_scores"], np.float32)
        line["relevant_windows"] = [[float(a), float(b)] for a, b in row["relevant_windows"]]
        line["relevant_clip_ids"] = clip_ids
        line["saliency_scores"] = users[:, clip_ids].T.astype(int).tolist() if clip_ids else []
    return line


def write(build: Build, out: Path, split=None, **_) -> dict:
    frames, audio, query = feature_columns(build)
    dirs = {c: f"{c[len('frames_'):]}_features" for c in frames} | {c: f"{c[len('audio_'):]}_features" for c in audio}
    if len(set(dirs.values())) < len(dirs):
        raise ExportError(f"feature columns {', '.join(dirs)} would share a directory")
    for d in [*dirs.values(), TEXT_DIR]:
        (out / d).mkdir()
    written: dict[str, int] = {}
    for part in build.splits:
        lines = []
        for row in build.rows(part):
            vid = row["video_id"]
            if "/" in vid or vid.startswith("."):
                raise ExportError(f"vid {vid!r} cannot name a feature file")
            for column, folder in dirs.items():
                a = row[column]
                if a is None:
                    raise ExportError(f"row {row['id']}: {column} is null")
                a = np.ascontiguousarray(a, np.float32)
                if column in audio:
                    path = out / folder / f"{vid}.npy"
                    if not path.exists():
                        np.save(path, a, allow_pickle=False)
                elif not (path := out / folder / f"{vid}.npz").exists():
                    _save_npz(path, features=a)
            if row[query] is None:
                raise ExportError(f"row {row['id']}: {query} is null")
            _save_npz(out / TEXT_DIR / f"qid{int(row['qid'])}.npz", **{TEXT_KEY: np.ascontiguousarray(row[query], np.float32)})
            lines.append(json.dumps(release_line(row), sort_keys=True, ensure_ascii=False))
        name = f"highlight_{FILE_SPLIT[part]}_release.jsonl"
        (out / name).write_text("".join(x + "\n" for x in lines), encoding="utf-8")
        written[name] = len(lines)
    encoders = [{"file": f"{d}/", **build.encoder(c)} for c, d in dirs.items()]
    encoders.append({"file": f"{TEXT_DIR}/ ({TEXT_KEY})", **build.encoder(query)})
    return export_record(build, "moment_detr", split, {
        "features": "frames_<name> -> <name>_features/<vid>.npz (features), audio_<name> -> <name>_features/<vid>.npy, "
                    f"{query} -> {TEXT_DIR}/qid<qid>.npz ({TEXT_KEY}); one file per video",
        "saliency_scores": "user_scores at relevant_clip_ids, one row of annotator scores per clip",
        "splits": "validation is written as val"}, encoders, files=written)
