"""FeatureTracks on disk: ``<root>/<extractor>/<config_hash>/<item_id>.<track>.parquet``.

One row per (item, track). The config hash keeps features of a changed extractor config apart
from old ones, and the stored input fingerprint tells when the item's media or transcript changed
since. Files are written under a temporary name and renamed, so a file that exists is complete.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from extractors.base import FeatureTrack


def track_path(root: str | os.PathLike, extractor: str, cfg_hash: str, item_id: str, track: str = "video") -> Path:
    return Path(root) / extractor / cfg_hash / f"{item_id}.{track}.parquet"


def save_track(path: Path, item_id: str, track: FeatureTrack, cfg_hash: str, fingerprint: str = "") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    values = np.ascontiguousarray(track.values)
    dim = values.shape[1]
    flat = pa.array(values.reshape(-1))
    # Arrow has no fixed-size list of size 0: a [T, 0] track (e.g. ASR, whose content is in meta)
    # stores its T empty rows as variable-length lists.
    rows = pa.FixedSizeListArray.from_arrays(flat, dim) if dim else pa.array([[]] * len(values), pa.list_(flat.type))
    table = pa.table({
        "id": [item_id],
        "config_hash": [cfg_hash],
        "input_fingerprint": [fingerprint],
        "times": pa.array([track.times], type=pa.list_(pa.float64())),
        "values": pa.ListArray.from_arrays(pa.array([0, len(values)], type=pa.int32()), rows),
        "dim": [dim],
        "meta": [json.dumps(track.meta, sort_keys=True, default=str)],
    })
    tmp = path.with_name(path.name + ".part")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def stored_fingerprint(path: Path) -> str | None:
    """The input fingerprint a cached track was computed from (None if absent or unreadable)."""
    try:
        return pq.read_table(path, columns=["input_fingerprint"])["input_fingerprint"][0].as_py()
    except (OSError, KeyError, pa.ArrowException):
        return None


def load_track(path: Path) -> FeatureTrack:
    table = pq.read_table(path)
    dim = table["dim"][0].as_py()
    values_col = table["values"].combine_chunks()
    flat = values_col.flatten().flatten().to_numpy(zero_copy_only=False)
    times = np.asarray(table["times"][0].as_py(), dtype=np.float64)
    return FeatureTrack(
        times=times,
        values=flat.reshape(len(times), dim),
        meta=json.loads(table["meta"][0].as_py()),
    )


def files_fingerprint(path) -> str:
    """Cheap identity of a file or directory's files: names, sizes and modification times."""
    if not path:
        return ""
    p = Path(path)
    files = sorted(p.rglob("*")) if p.is_dir() else [p]
    parts = [f"{f.name}:{st.st_size}:{st.st_mtime_ns}" for f in files if f.is_file() and (st := f.stat())]
    return hashlib.sha1("|".join(parts).encode()).hexdigest()


AUDIO_MODALITIES = ("audio", "asr", "audio->text")  # they read media["audio"], else the video's audio


def input_path(item, modality: str) -> str | None:
    """The media file an extractor of ``modality`` reads; None for text, or when the item has no such
    path or a malformed ``media`` field (RawItem.input_problems)."""
    if modality == "text" or item.input_problems(modality):
        return None
    if modality in AUDIO_MODALITIES:
        return item.media.get("audio") or item.media.get("video")
    return item.media.get("video")


def input_fingerprint(item, modality: str) -> str:
    """What an extractor of ``modality`` reads of a RawItem: the transcript text, or the media files."""
    if modality == "text":
        return hashlib.sha1(json.dumps(item.transcript, sort_keys=True).encode()).hexdigest()
    return files_fingerprint(input_path(item, modality))
