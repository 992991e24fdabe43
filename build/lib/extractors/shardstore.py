"""Many FeatureTracks in one parquet file: ``<root>/<extractor>/<config_hash>/<shard>.parquet``.

The one on-disk encoding of tracks (the job's shards; ``python -m extractors.extract --out X.parquet``
writes a one-item shard). Columns: id, config_hash, input_fingerprint, times, values, dim, meta;
one row per item, and each row is its own row group: a writer streams items
as they finish and a reader fetches one item without decoding the others, so neither a job nor a
builder ever holds more than one item's track, however long the videos. Files are written under a
unique temporary name and renamed into place: a file that exists is complete, and two writers of
the same shard (a task re-run after its worker was presumed dead) cannot corrupt each other.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from common.files import temp_name
from common.files import write_json as _write_json
from extractors.base import FeatureTrack

# Schema of a shard with no ok item (there is no track to take the value type and dim from).
EMPTY_SCHEMA = pa.schema([
    ("id", pa.string()), ("config_hash", pa.string()), ("input_fingerprint", pa.string()),
    ("times", pa.list_(pa.float64())), ("values", pa.list_(pa.list_(pa.float32()))),
    ("dim", pa.int64()), ("meta", pa.string()),
])


def shard_path(root, extractor: str, cfg_hash: str, shard: str) -> Path:
    return Path(root) / extractor / cfg_hash / f"{shard}.parquet"


def write_json(path: Path, doc) -> None:
    """The job's JSON files (plan, stats, run record), atomically: a reader sees the old file or the new one."""
    _write_json(path, doc, indent=1, sort_keys=True, ensure_ascii=True, newline=False)


# Errors writing the job's output that no retry fixes: the user must free space or fix permissions.
OUTPUT_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM)


def output_problem(e: BaseException, where) -> str | None:
    """One line saying what went wrong writing under ``where``, for a full disk, a read-only file
    system or missing permissions (else None: not an output problem)."""
    if not isinstance(e, OSError) or e.errno not in OUTPUT_ERRNOS:
        return None
    return f"cannot write under {where}: {os.strerror(e.errno)}" + (f" ({e.filename})" if e.filename else "")


def track_table(item_id: str, track: FeatureTrack, cfg_hash: str, fingerprint: str) -> pa.Table:
    """One item's row."""
    values = np.ascontiguousarray(track.values)
    dim = values.shape[1]
    flat = pa.array(values.reshape(-1))
    # A [T, 0] track (ASR: its content is in meta) has no fixed-size list type: variable lists.
    rows = pa.FixedSizeListArray.from_arrays(flat, dim) if dim else pa.array([[]] * len(values), pa.list_(flat.type))
    return pa.table({
        "id": pa.array([item_id], pa.string()),
        "config_hash": pa.array([cfg_hash], pa.string()),
        "input_fingerprint": pa.array([fingerprint], pa.string()),
        "times": pa.array([track.times], type=pa.list_(pa.float64())),
        "values": pa.ListArray.from_arrays(pa.array([0, len(values)], type=pa.int32()), rows),
        "dim": pa.array([dim], pa.int64()),
        "meta": pa.array([json.dumps(track.meta, sort_keys=True, default=str)], pa.string()),
    })


def row_track(table: pa.Table) -> FeatureTrack:
    """The FeatureTrack of a one-row table (inverse of track_table)."""
    dim = table["dim"][0].as_py()
    flat = table["values"].combine_chunks().flatten().flatten().to_numpy(zero_copy_only=False)
    times = np.asarray(table["times"][0].as_py(), dtype=np.float64)
    return FeatureTrack(times=times, values=flat.reshape(len(times), dim), meta=json.loads(table["meta"][0].as_py()))


def shard_problem(path: Path, ok_items: int) -> str | None:
    """What is wrong with a finished shard's file, checked cheaply (its footer only), else None."""
    try:
        rows = pq.read_metadata(path).num_rows
    except (OSError, pa.ArrowException) as e:
        return f"its file {path.name} is unreadable ({type(e).__name__}: {e})"
    if rows != ok_items:
        return f"its file {path.name} holds {rows} row(s) where its stats count {ok_items} ok item(s)"
    return None


class ShardWriter:
    """Streams rows (one row group each) to a temporary file; ``commit`` renames it into place."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = temp_name(self.path)
        self._writer: pq.ParquetWriter | None = None
        self.ids: list[str] = []

    def add_table(self, table: pa.Table) -> None:
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.tmp, table.schema)
        elif table.schema != self._writer.schema:
            table = table.cast(self._writer.schema)  # e.g. one item came out float32 among float16s
        self._writer.write_table(table, row_group_size=1)
        self.ids.append(table["id"][0].as_py())

    def add(self, item_id: str, track: FeatureTrack, cfg_hash: str, fingerprint: str) -> None:
        self.add_table(track_table(item_id, track, cfg_hash, fingerprint))

    def commit(self) -> Path:
        if self._writer is None:
            pq.write_table(EMPTY_SCHEMA.empty_table(), self.tmp)
        else:
            self._writer.close()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Remove the temporary file, even when closing it fails too (a full disk)."""
        try:
            if self._writer is not None:
                self._writer.close()
        except OSError:
            pass
        finally:
            self.tmp.unlink(missing_ok=True)


class ShardFile:
    """Random access to a shard's rows by item id, one row group at a time."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._file = pq.ParquetFile(self.path)
        ids = self._file.read(columns=["id"])["id"].to_pylist() if self._file.metadata.num_rows else []
        if self._file.metadata.num_row_groups != len(ids) and ids:
            raise ValueError(f"{self.path}: expected one row group per item, found "
                             f"{self._file.metadata.num_row_groups} for {len(ids)} rows")
        self.index = {item_id: i for i, item_id in enumerate(ids)}

    def ids(self) -> list[str]:
        return list(self.index)

    def table(self, item_id: str) -> pa.Table:
        return self._file.read_row_group(self.index[item_id])

    def track(self, item_id: str) -> FeatureTrack:
        return row_track(self.table(item_id))

    def fingerprint(self, item_id: str) -> str:
        return self._file.read_row_group(self.index[item_id], columns=["input_fingerprint"])[0][0].as_py()

    def __iter__(self) -> Iterator[tuple[str, FeatureTrack]]:
        for item_id in self.index:
            yield item_id, self.track(item_id)
