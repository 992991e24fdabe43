"""Write a built config: parquet shards for ``load_dataset`` and webdataset tars for streaming.

Layout (DESIGN.md): ``data/<config>/<split>-XXXXX-of-YYYYY.parquet`` and
``wds/<config>/<split>-XXXXXX.tar.gz``. A config is written into a staging directory and swapped
into place at the end, so an interrupted build never leaves a half-written config behind and a
rebuild replaces the old files whole.

Parquet goes through ``datasets``' own writer (``datasets.arrow_writer.ParquetWriter``): row groups
sized from the bytes of the rows (``datasets.config.MAX_ROW_GROUP_SIZE``, 100 MB of Arrow data, the
Hub viewer's recommendation), page indexes and content-defined chunking (so a re-upload of a
changed shard moves little), and ``num_bytes`` as ``datasets`` defines it: the Arrow size.

Webdataset shards (docs/publishing.md): ``wds/<config>/<split>-XXXXXX.tar.gz``, gzip-compressed
tars (an annotation row is ~200 parquet bytes; an uncompressed tar spends 1 KB on any sample).
Every sample has the same members (the ``datasets`` webdataset loader and webdataset pipelines
both expect it): ``<column>.npy`` for every 2-D array column (``[N, D]`` vectors, ``[U, T]``
matrices), and one ``json`` for everything else, 1-D arrays included (lists whose floats read back
exactly in the column's type), plus ``null_columns``, the space-separated names of the array columns
that are null in this row (a null 2-D column's ``.npy`` is then ``[0, D]``). :func:`wds_features` gives the exact types
of those members, for ``load_dataset("webdataset", ..., features=...)``. A split is spooled and
cut when it ends (:func:`tar_plan`): at least 2 shards for 2+ examples, more past
``TAR_TARGET_BYTES``. Members carry a fixed mtime, owner and mode, and gzip no name or time, so
the same rows give byte-equal shards.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pyarrow as pa
from datasets.arrow_writer import ParquetWriter, get_writer_batch_size_from_data_size
from datasets import Features, List, Value

from builders.core.schema import DEFAULT_ROWS_PER_SHARD, NULL_COLUMNS, SPLITS, array_columns
from collectors.records import safe_id

TAR_SUFFIX = ".tar.gz"
TAR_TARGET_BYTES = 256 << 20  # uncompressed tar bytes per shard at most (webdataset's advice: 100 MB - 1 GB shards)
TAR_MTIME = 0  # every member's mtime: a rebuild of the same rows writes the same bytes
GZIP_LEVEL = 6


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


def vector_columns(features: Features) -> list[str]:
    """The 2-D array columns, one ``.npy`` member each: ``[N, D]`` vectors (``List(List(float, length=D))``)
    and ``[U, T]`` matrices (``user_summary``: 20 x every frame in TVSum): the arrays that can be big."""
    return [name for name, f in features.items()
            if isinstance(f, List) and isinstance(f.feature, List) and isinstance(f.feature.feature, Value)
            and f.feature.feature.dtype not in ("string", "large_string")]


def _vector_npy(value, feature) -> bytes:
    """A 2-D column's value as ``.npy`` bytes in the column's dtype: ``[N, D]``; null as ``[0, D]``
    (``[0, 0]`` for a matrix without a fixed width)."""
    inner = feature.feature
    dim = inner.length if inner.length not in (None, -1) else None
    dtype = inner.feature.dtype
    if value is None:
        array = np.zeros((0, dim or 0), dtype)
    else:
        array = np.asarray(value, dtype=dtype)
        array = array.reshape(-1, dim) if dim else array.reshape(len(array), -1) if array.size else np.zeros((len(array), 0), dtype)
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def _packed(value, feature):
    """A small array column's value for the ``json`` member: nested lists whose floats are written
    with the shortest text that reads back to the same float32 / float16 (``numpy``'s repr), so the
    text is short and the typed value exact."""
    if value is None:
        return None
    inner = feature.feature
    if isinstance(inner, List):  # [U][N], possibly ragged
        return [_packed(v, inner) for v in value]
    array = np.asarray(value, dtype=inner.dtype)
    if array.dtype.kind == "f" and array.dtype.itemsize < 8:
        return np.array(array.astype(str), dtype=np.float64).tolist()
    return array.tolist()


def _wds_sample(row: dict, vectors: set[str], arrays: set[str], features: Features) -> dict[str, bytes]:
    """One row as a webdataset sample's members: ``<column>.npy`` per 2-D column, ``json`` for the
    rest (1-D arrays packed as lists, see the module docstring)."""
    members, meta, nulls = {}, {}, []
    for name, value in row.items():
        if value is None and name in arrays:
            nulls.append(name)
        if name in vectors:
            members[f"{name}.npy"] = _vector_npy(value, features[name])
        elif name in arrays:
            meta[name] = _packed(value, features[name])
        else:
            meta[name] = value.tolist() if isinstance(value, np.ndarray) else value
    meta[NULL_COLUMNS] = " ".join(nulls)  # a string, never a list: the loader infers its type from any sample
    members["json"] = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode()
    return dict(sorted(members.items()))


def _tar_block(key: str, members: dict[str, bytes]) -> bytes:
    """A sample's tar headers and data, with fixed metadata (mtime, owner, mode): the same rows give
    the same bytes."""
    out = bytearray()
    for ext, data in members.items():
        info = tarfile.TarInfo(f"{key}.{ext}")
        info.size, info.mtime, info.mode = len(data), TAR_MTIME, 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        out += info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        out += data + bytes(-len(data) % tarfile.BLOCKSIZE)
    return bytes(out)


def tar_plan(sizes: list[int], target_bytes: int = TAR_TARGET_BYTES) -> list[int]:
    """Where a split's samples (their tar bytes, in order) are cut into shards: the start of each
    shard, then the end. At least 2 shards for 2+ samples (so 2 DataLoader workers each get one),
    more when the split exceeds ``target_bytes`` per shard, never an empty shard; cuts balance bytes."""
    n = len(sizes)
    if n == 0:
        return [0]
    total = max(sum(sizes), 1)
    k = min(n, max(2 if n >= 2 else 1, -(-total // target_bytes)))
    cum = np.cumsum(sizes)
    cuts = [0]
    for j in range(1, k):
        c = int(np.searchsorted(cum, total * j / k, side="left")) + 1
        cuts.append(min(max(c, cuts[-1] + 1), n - (k - j)))
    return cuts + [n]


def _write_tar_gz(path: Path, spool, start: int, stop: int) -> None:
    """Spooled sample blocks ``[start, stop)`` (byte offsets) as one gzip-compressed tar; the gzip
    header carries no name and no time."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=GZIP_LEVEL, mtime=0,
                                                 filename="") as gz:
        spool.seek(start)
        left, written = stop - start, stop - start
        while left:
            chunk = spool.read(min(left, 1 << 22))
            gz.write(chunk)
            left -= len(chunk)
        end = 2 * tarfile.BLOCKSIZE  # the end-of-archive marker, padded to a whole record like tarfile does
        end += -(written + end) % tarfile.RECORDSIZE
        gz.write(bytes(end))


def wds_features(features: Features) -> Features:
    """The types of a tar sample's members as the ``datasets`` webdataset loader yields them.

    ``load_dataset("webdataset", data_files=..., features=wds_features(f))`` reads any tar exactly;
    without ``features`` the loader infers types from the first samples, which fails when a
    column is null (or a vector list empty) in all of them, and widens float32 to float64.
    """
    vectors = set(vector_columns(features))
    members = {f"{name}.npy": features[name] for name in features if name in vectors}
    members["json"] = {**{name: f for name, f in features.items() if name not in vectors}, NULL_COLUMNS: Value("string")}
    return Features({**members, "__key__": Value("string"), "__url__": Value("string")})


def wds_members(build: dict) -> dict:
    """Per config of a build record (build.json), the types of a tar sample's members (:func:`wds_features`),
    for the ``-wds`` card's dataset_info."""
    return {name: wds_features(Features.from_dict(rec["features"])) for name, rec in build["configs"].items()}


class _Spool:
    """A split's tar samples, in order, on disk until the split's size is known (then cut into shards)."""

    def __init__(self, path: Path):
        self.path, self.file, self.sizes = path, open(path, "w+b"), []

    def add(self, block: bytes) -> None:
        self.file.write(block)
        self.sizes.append(len(block))

    def write_shards(self, folder: Path, split: str, target_bytes: int) -> list[str]:
        cuts = tar_plan(self.sizes, target_bytes)
        offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(np.int64)
        self.file.flush()
        names = []
        for i in range(len(cuts) - 1):
            name = f"{split}-{i:06d}{TAR_SUFFIX}"
            _write_tar_gz(folder / name, self.file, int(offsets[cuts[i]]), int(offsets[cuts[i + 1]]))
            names.append(name)
        self.close()
        return names

    def close(self) -> None:
        self.file.close()
        self.path.unlink(missing_ok=True)


class ConfigWriter:
    """Streams rows of one config into parquet shards and webdataset tars (bounded memory: a split's
    tar samples are spooled to disk and cut into shards when the split ends)."""

    def __init__(self, out_dir: str | os.PathLike, config: str, features: Features,
                 rows_per_shard: int = DEFAULT_ROWS_PER_SHARD, write_wds: bool = True,
                 tar_bytes: int = TAR_TARGET_BYTES):
        self.out_dir, self.config, self.features = Path(out_dir), config, features
        self.rows_per_shard, self.tar_bytes, self.write_wds = rows_per_shard, tar_bytes, write_wds
        self.stage = self.out_dir / f".staging-{config}"
        if self.stage.exists():
            shutil.rmtree(self.stage)
        (self.stage / "data").mkdir(parents=True)
        (self.stage / "wds").mkdir(parents=True)
        self.arrays = set(array_columns(features))
        self.vectors = set(vector_columns(features))
        self._buffers: dict[str, list[dict]] = {}
        self._shards: dict[str, list[Path]] = {}
        self._counts: dict[str, int] = {}
        self._bytes: dict[str, int] = {}
        self._spools: dict[str, _Spool] = {}
        self._tars: dict[str, list[str]] = {}

    def add(self, split: str, row: dict) -> None:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
        self._buffers.setdefault(split, []).append(row)
        self._counts[split] = self._counts.get(split, 0) + 1
        if self.write_wds:
            if split not in self._spools:
                self._spools[split] = _Spool(self.stage / "wds" / f".{split}.spool")
            # the key is the id made safe for tar member names (a dot would cut it short); json keeps the id
            self._spools[split].add(_tar_block(safe_id(row["id"]), _wds_sample(row, self.vectors, self.arrays, self.features)))
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
            for spool in self._spools.values():
                spool.close()
            shutil.rmtree(self.stage, ignore_errors=True)

    def close(self) -> dict:
        """Finish every split, swap the config into place; returns (and keeps in .facts) per-split facts."""
        for split in list(self._buffers):
            self._flush(split)
        for split, spool in self._spools.items():
            self._tars[split] = spool.write_shards(self.stage / "wds", split, self.tar_bytes)
        facts = {}
        for split in [s for s in SPLITS if s in self._shards]:
            shards = self._shards[split]
            n = len(shards)
            names = []
            for i, part in enumerate(shards):
                final = part.with_name(f"{split}-{i:05d}-of-{n:05d}.parquet")
                part.rename(final)
                names.append(final.name)
            tars = self._tars.get(split, [])
            facts[split] = {
                "num_examples": self._counts[split],
                "num_bytes": self._bytes[split],  # Arrow bytes, as datasets counts them (not the parquet size)
                "parquet_bytes": sum((self.stage / "data" / f).stat().st_size for f in names),
                "parquet": [f"data/{self.config}/{f}" for f in names],
                "wds": [f"wds/{self.config}/{f}" for f in tars],
                **({"wds_bytes": sum((self.stage / "wds" / f).stat().st_size for f in tars)} if tars else {}),
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
