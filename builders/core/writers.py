"""Write a built config: parquet shards for ``load_dataset`` and webdataset tars for streaming.

Layout (DESIGN.md): ``data/<config>/<split>-XXXXX-of-YYYYY.parquet`` and
``wds/<config>/<split>-XXXXXX.tar``. A config is written into a staging directory and swapped
into place at the end, so an interrupted build never leaves a half-written config behind and a
rebuild replaces the old files whole.

Parquet goes through ``datasets``' own writer (``datasets.arrow_writer.ParquetWriter``): row groups
sized from the bytes of the rows (``datasets.config.MAX_ROW_GROUP_SIZE``, 100 MB of Arrow data, the
Hub viewer's recommendation), page indexes and content-defined chunking (so a re-upload of a
changed shard moves little), and ``num_bytes`` as ``datasets`` defines it: the Arrow size.

Every sample of a tar has the same members (the ``datasets`` webdataset loader and webdataset
pipelines both expect it): ``<column>.npy`` for every array column, and ``json`` for the other
columns plus ``null_columns``, the space-separated names of the array columns that are null in
this row (their ``.npy`` is then an empty array of the column's type). :func:`wds_features` gives
the exact types of those members, for ``load_dataset("webdataset", ..., features=...)``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
from datasets.arrow_writer import ParquetWriter, get_writer_batch_size_from_data_size
from datasets import Features, List, Value

from builders.core.schema import DEFAULT_ROWS_PER_SHARD, NULL_COLUMNS, SPLITS, array_columns
from collectors.records import safe_id



def _vector_array(values: list, field: pa.DataType) -> pa.Array:
    """Column of [T_i, D] arrays -> list<fixed_size_list<float>[D]> without a Python float loop."""
    inner = field.value_type  # fixed_size_list<float>[D]
    dim = inner.list_size
    np_dtype = inner.value_type.to_pandas_dtype()
    offsets = np.zeros(len(values) + 1, dtype=np.int32)
    flat = []
    for i, v in enumerate(values):
        a = np.asarray(v, dtype=np_dtype).reshape(-1, dim) if len(v) else np.zeros((0, dim), np_dtype)
        offsets[i + 1] = offsets[i] + a.shape[0]
        flat.append(a.reshape(-1))
    flat_arr = pa.array(np.concatenate(flat) if flat else np.zeros(0, np_dtype), type=inner.value_type)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.FixedSizeListArray.from_arrays(flat_arr, dim), type=field)


def rows_to_table(rows: list[dict], features: Features) -> pa.Table:
    """Rows (numpy arrays allowed) -> an Arrow table with the features' schema and HF metadata."""
    schema = features.arrow_schema
    missing = [name for name in features if rows and name not in rows[0]]
    if missing:
        raise KeyError(f"rows lack columns {missing}")
    columns = []
    for field in schema:
        values = [r[field.name] for r in rows]
        t = field.type
        if pa.types.is_list(t) and pa.types.is_fixed_size_list(t.value_type):
            columns.append(_vector_array(values, t))
        else:
            values = [v.tolist() if isinstance(v, np.ndarray) else v for v in values]
            columns.append(pa.array(values, type=t))
    return pa.Table.from_arrays(columns, schema=schema)


def _wds_array(value, feature) -> np.ndarray:
    """An array column's value as the ``.npy`` member: [N], [N, D] vectors or a rectangular [U, N]
    matrix in the column's dtype; null as an empty array of the same type."""
    inner = feature.feature
    if not isinstance(inner, List):
        return np.asarray([] if value is None else value, dtype=inner.dtype)
    length = inner.length if inner.length not in (None, -1) else None
    if value is None:
        return np.zeros((0, length or 0), dtype=inner.feature.dtype)
    array = np.asarray(value, dtype=inner.feature.dtype)
    if length is not None:
        return array.reshape(-1, length)
    return array.reshape(len(array), -1) if array.size else np.zeros((len(array), 0), array.dtype)


def _wds_sample(row: dict, arrays: set[str], features: Features) -> dict:
    """One row as a webdataset sample: the same members for every row (see the module docstring).
    The key is the id made safe for tar member names (a dot would cut it short); ``json`` keeps the id."""
    sample = {"__key__": safe_id(row["id"])}
    meta, nulls = {}, []
    for name, value in row.items():
        if name in arrays:
            sample[f"{name}.npy"] = _wds_array(value, features[name])
            if value is None:
                nulls.append(name)
        else:
            meta[name] = value.tolist() if isinstance(value, np.ndarray) else value
    meta[NULL_COLUMNS] = " ".join(nulls)  # a string, never a list: the loader infers its type from any sample
    sample["json"] = meta
    return sample


def wds_features(features: Features) -> Features:
    """The types of a tar sample's members as the ``datasets`` webdataset loader yields them.

    ``load_dataset("webdataset", data_files=..., features=wds_features(f))`` reads any tar exactly;
    without ``features`` the loader infers types from the first samples, which fails when a
    column is null (or a vector list empty) in all of them.
    """
    arrays = set(array_columns(features))
    members = {f"{name}.npy": features[name] for name in features if name in arrays}
    members["json"] = {**{name: f for name, f in features.items() if name not in arrays}, NULL_COLUMNS: Value("string")}
    return Features({**members, "__key__": Value("string"), "__url__": Value("string")})


class ConfigWriter:
    """Streams rows of one config into parquet shards and webdataset tars (bounded memory)."""

    def __init__(self, out_dir: str | os.PathLike, config: str, features: Features,
                 rows_per_shard: int = DEFAULT_ROWS_PER_SHARD, write_wds: bool = True):
        import webdataset as wds

        self.out_dir, self.config, self.features = Path(out_dir), config, features
        self.rows_per_shard = rows_per_shard
        self.stage = self.out_dir / f".staging-{config}"
        if self.stage.exists():
            shutil.rmtree(self.stage)
        (self.stage / "data").mkdir(parents=True)
        (self.stage / "wds").mkdir(parents=True)
        self.arrays = set(array_columns(features))
        self._buffers: dict[str, list[dict]] = {}
        self._shards: dict[str, list[Path]] = {}
        self._counts: dict[str, int] = {}
        self._bytes: dict[str, int] = {}
        self._wds = {}
        self._wds_module = wds if write_wds else None

    def add(self, split: str, row: dict) -> None:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
        self._buffers.setdefault(split, []).append(row)
        self._counts[split] = self._counts.get(split, 0) + 1
        if self._wds_module is not None:
            if split not in self._wds:
                pattern = str(self.stage / "wds" / f"{split}-%06d.tar")
                self._wds[split] = self._wds_module.ShardWriter(pattern, maxcount=self.rows_per_shard, verbose=0)
            self._wds[split].write(_wds_sample(row, self.arrays, self.features))
        if len(self._buffers[split]) >= self.rows_per_shard:
            self._flush(split)

    def _flush(self, split: str) -> None:
        rows = self._buffers.pop(split, [])
        if not rows:
            return
        shards = self._shards.setdefault(split, [])
        path = self.stage / "data" / f"{split}-{len(shards):05d}.parquet.part"
        table = rows_to_table(rows, self.features)
        writer = ParquetWriter(path=str(path), features=self.features)
        writer.write_table(table, get_writer_batch_size_from_data_size(table.num_rows, table.nbytes))
        self._bytes[split] = self._bytes.get(split, 0) + writer.finalize()[1]
        shards.append(path)

    def __enter__(self) -> "ConfigWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        """On success publish the config; on an error leave the old config untouched."""
        if exc_type is None:
            self.close()
        else:
            for w in self._wds.values():
                w.close()
            shutil.rmtree(self.stage, ignore_errors=True)

    def close(self) -> dict:
        """Finish every split, swap the config into place; returns (and keeps in .facts) per-split facts."""
        for split in list(self._buffers):
            self._flush(split)
        for w in self._wds.values():
            w.close()
        facts = {}
        for split in [s for s in SPLITS if s in self._shards]:
            shards = self._shards[split]
            n = len(shards)
            names = []
            for i, part in enumerate(shards):
                final = part.with_name(f"{split}-{i:05d}-of-{n:05d}.parquet")
                part.rename(final)
                names.append(final.name)
            wds_files = sorted(p.name for p in (self.stage / "wds").glob(f"{split}-*.tar"))
            facts[split] = {
                "num_examples": self._counts[split],
                "num_bytes": self._bytes[split],  # Arrow bytes, as datasets counts them (not the parquet size)
                "parquet_bytes": sum((self.stage / "data" / f).stat().st_size for f in names),
                "parquet": [f"data/{self.config}/{f}" for f in names],
                "wds": [f"wds/{self.config}/{f}" for f in wds_files],
            }
        for kind in ("data", "wds"):
            final = self.out_dir / kind / self.config
            if final.exists():
                shutil.rmtree(final)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(self.stage / kind, final)
        shutil.rmtree(self.stage)
        self.facts = facts
        return facts
