"""Published datasets -> padded torch batches, from parquet (memory-mapped) or webdataset tars.

    cols = resolve_columns(available_columns(src), video="frames_clip", text="sentences_roberta")
    loader = Loader(open_split("hub/bliss", "clip-roberta", "train", cols), batch_size=4, shuffle=True, seed=0)
    for batch in loader.epoch(0): ...

Layout (DESIGN.md): ``<dataset>/data/<config>/<split>-*.parquet`` and
``<dataset>/wds/<config>/<split>-*.tar.gz`` (per sample ``<column>.npy`` for the vector columns,
``json`` for the rest: small arrays come back as numpy arrays of the type build.json declares). A ``dataset``
that is not a local directory is a Hugging Face hub repo id, read with ``load_dataset`` (parquet).

Feature columns are chosen by name, so one model trains on every dataset that has them:
``video`` (``frames_<visual>``, with ``frame_times``), ``text`` (``sentences_<text>``, with the
``sentences`` times), ``audio`` and ``query`` (any ``[L, D]`` vector column, e.g. ``steps_minilm``).
A missing column is a ``DatasetError`` naming it and listing the columns that exist. Targets
(``frame_labels``, ``frame_scores``, ``sentence_labels``) come along when the dataset has them;
with ``labeled=True`` an example whose target is null (e.g. a video without a most-replayed
curve) is left out and counted in ``skipped``.

Speed: parquet goes through ``datasets`` (an Arrow file mapped into memory) and a whole batch is
taken from Arrow at once; webdataset streams tar members. ``models.loader`` batches and collates
them ahead of the training step.
"""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from builders.core.schema import NULL_COLUMNS
from models.collate import TARGETS

FORMATS = ("parquet", "wds")
KEY_SENTENCES = "key_sentences"  # query = the text rows with sentence_labels == 1 (HierSum's parent step on BLiSS)
FLAGS = {"video": "--video-features", "text": "--text-features", "audio": "--audio-features", "query": "--query-features"}
PREFIX = {"video": "frames_", "text": "sentences_"}


class DatasetError(ValueError):
    """The dataset cannot be read as asked (missing config, split or column)."""


# ---------------------------------------------------------------- layout


def is_local(dataset) -> bool:
    return Path(dataset).exists()


def configs(dataset) -> list[str]:
    data = Path(dataset) / "data"
    return sorted(p.name for p in data.iterdir() if p.is_dir()) if data.is_dir() else []


def resolve_config(dataset, config: str | None) -> str:
    """The config to read: the one given (checked) or the dataset's only one."""
    if not is_local(dataset):
        text = str(dataset)
        if text.count("/") != 1 or text.startswith((".", "/", "~")):
            raise DatasetError(f"{dataset} is neither a directory nor a hub repo id (owner/name)")
        if config is None:
            raise DatasetError(f"{dataset} is not a local directory (a hub repo id?): name its config with --config")
        return config
    names = configs(dataset)
    if not names:
        raise DatasetError(f"{dataset} is not a published dataset: no data/<config>/ directories")
    if config is None:
        if len(names) != 1:
            raise DatasetError(f"{dataset} has configs {names}: choose one with --config")
        return names[0]
    if config not in names:
        raise DatasetError(f"{dataset} has no config {config!r}; configs: {', '.join(names)}")
    return config


def split_names(dataset, config: str, fmt: str = "parquet") -> list[str]:
    """The splits a config has (a hub repo id is asked through ``datasets``; parquet only)."""
    if not is_local(dataset):
        if fmt != "parquet":
            raise DatasetError(f"{dataset} is not a local directory: webdataset tars are read from a local copy")
        from datasets import get_dataset_split_names

        try:
            return sorted(get_dataset_split_names(str(dataset), config))
        except Exception as e:  # offline, unknown repo or config
            raise DatasetError(f"cannot list the splits of {dataset} config {config}: {e}") from e
    folder, ext = ("data", "parquet") if fmt == "parquet" else ("wds", "tar*")
    return sorted({f.name.split("-")[0] for f in (Path(dataset) / folder / config).glob(f"*.{ext}")})


def split_files(dataset, config: str, split: str, fmt: str = "parquet") -> list[str]:
    """The split's shard files, in order; a missing split names the splits that exist."""
    if fmt not in FORMATS:
        raise DatasetError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    folder, exts = ("data", ("parquet",)) if fmt == "parquet" else ("wds", ("tar.gz", "tar"))
    files = sorted(f for ext in exts for f in glob.glob(str(Path(dataset) / folder / config / f"{split}-*.{ext}")))
    if not files:
        have = split_names(dataset, config, fmt)
        raise DatasetError(f"{dataset} config {config} has no split {split!r}"
                           + (f" in {fmt}" if fmt != "parquet" else "") + f"; splits: {', '.join(have) or 'none'}")
    return files


def load_parquet(dataset, config: str, split: str):
    """One split as a memory-mapped ``datasets.Dataset``; reads no other split's files."""
    from datasets import load_dataset

    if not is_local(dataset):
        try:
            return load_dataset(str(dataset), config, split=split)
        except Exception as e:  # offline, unknown repo, unknown split: say which
            raise DatasetError(f"cannot load {dataset} config {config} split {split} from the hub: {e}") from e
    files = split_files(dataset, config, split)
    try:
        return load_dataset("parquet", data_files={split: files}, split=split)
    except Exception as e:  # a corrupt or truncated shard: name the split, keep the reason
        raise DatasetError(f"cannot read {dataset} config {config} split {split}: {type(e).__name__}: {e}") from e


# ---------------------------------------------------------------- columns


@dataclass(frozen=True)
class Columns:
    """Which dataset columns feed which batch entry."""

    video: str
    text: str | None = None
    audio: str | None = None
    query: str | None = None
    targets: tuple[str, ...] = ()
    passthrough: tuple[str, ...] = ()  # columns handed to the model as they are (batch["extra"]), e.g. texts

    def needed(self) -> list[str]:
        cols = ["id", self.video]
        if self.text:
            cols += ["frame_times", "sentences", self.text]
        cols += [c for c in (self.audio, self.query) if c and c != KEY_SENTENCES]
        extra = ["sentence_labels"] if self.query == KEY_SENTENCES and "sentence_labels" not in self.targets else []
        return list(dict.fromkeys(cols + list(self.targets) + extra + list(self.passthrough)))

    def dims_of(self, example: dict) -> dict[str, int]:
        """{modality: feature width} from one example (what ``build_model`` needs)."""
        return {m: int(example[m].shape[1]) for m in ("video", "text", "audio", "query") if getattr(self, m)}


def _missing(name: str, flag: str | None, available) -> DatasetError:
    how = f" (asked by {flag})" if flag else ""
    return DatasetError(f"the dataset has no column {name!r}{how}; columns: {', '.join(available)}")


def resolve_columns(available, video: str | None = None, text: str | None = None, audio: str | None = None,
                    query: str | None = None, use_text: bool = True) -> Columns:
    """Check the asked columns exist; default video / text to the dataset's only ``frames_*`` /
    ``sentences_*`` column (text only when ``use_text``; a dataset without one is video-only)."""
    available = list(available)
    chosen = {"audio": audio, "query": query}
    for modality, asked in (("video", video), ("text", text)):
        if asked is None and (modality == "video" or use_text):
            found = [c for c in available if c.startswith(PREFIX[modality])]
            if len(found) > 1:
                raise DatasetError(f"the dataset has several {modality} feature columns {found}: choose one with "
                                   f"{FLAGS[modality]}")
            if not found and modality == "video":
                raise DatasetError(f"the dataset has no {PREFIX[modality]}* column for the {modality} features; "
                                   f"columns: {', '.join(available)}")
            asked = found[0] if found else None
        chosen[modality] = asked
    if chosen["query"] == KEY_SENTENCES:
        if not chosen["text"] or "sentence_labels" not in available:
            raise DatasetError(f"--query-features {KEY_SENTENCES} needs text features and sentence_labels; "
                               f"columns: {', '.join(available)}")
        chosen["query"] = None
        query_is_key = True
    else:
        query_is_key = False
    for modality, name in chosen.items():
        if name is not None and name not in available:
            raise _missing(name, FLAGS[modality], available)
    base = ["id"] + (["frame_times"] if chosen["text"] else []) + (["sentences"] if chosen["text"] else [])
    for name in base:
        if name not in available:
            raise _missing(name, None, available)
    targets = tuple(t for t in TARGETS if t in available and (TARGETS[t] == "video" or chosen["text"]))
    return Columns(video=chosen["video"], text=chosen["text"], audio=chosen["audio"],
                   query=KEY_SENTENCES if query_is_key else chosen["query"], targets=targets)


# ---------------------------------------------------------------- sources


def _vectors(x) -> np.ndarray:
    """[L, D] float32 (an empty list without a width becomes [0, 0])."""
    a = np.asarray(x, dtype=np.float32)
    if a.ndim == 2:
        return a
    return a.reshape(len(a), -1) if a.size else a.reshape(0, 0)


def _example(cols: Columns, get) -> dict | None:
    """An example from ``get(column)`` (None = null); None when a target is null."""
    ex = {"id": str(get("id")), "video": _vectors(get(cols.video))}
    if cols.text:  # times only matter for the alignment
        ex["frame_times"] = np.asarray(get("frame_times"), np.float64)
        if len(ex["frame_times"]) != len(ex["video"]):
            raise DatasetError(f"{ex['id']}: {len(ex['frame_times'])} frame_times but {len(ex['video'])} rows of {cols.video}")
        sents = get("sentences") or []
        ex["text"] = _vectors(get(cols.text))
        ex["sentence_times"] = np.array([[s["start"], s["end"]] for s in sents], np.float64).reshape(-1, 2)
        if len(ex["sentence_times"]) != len(ex["text"]):
            raise DatasetError(f"{ex['id']}: {len(sents)} sentences but {len(ex['text'])} rows of {cols.text}")
    for key in ("audio", "query"):
        name = getattr(cols, key)
        if name == KEY_SENTENCES:
            labels = np.asarray(get("sentence_labels"), dtype=bool)
            ex[key] = ex["text"][labels[: len(ex["text"])]]
        elif name:
            ex[key] = _vectors(get(name))
    for t in cols.targets:
        value = get(t)
        if value is None:
            return None
        ex[t] = np.asarray(value, dtype=np.float32)
    if cols.passthrough:
        ex["extra"] = {name: get(name) for name in cols.passthrough}
    return ex


def _typed(value, dtype: str):
    """A packed list as numpy: ``[L]`` or rectangular ``[U, N]`` in ``dtype``; a ragged ``[U][n]`` as a
    list of arrays (as the parquet reader gives it)."""
    try:
        return np.asarray(value, dtype=dtype)
    except ValueError:  # ragged
        return [np.asarray(v, dtype=dtype) for v in value]


def _arrow_rows(table, names: list[str]) -> list[dict]:
    """Rows of an Arrow table as column -> python / numpy value; list columns become numpy arrays
    ([L] or [L, D]) without a Python loop over floats, null stays None."""
    import pyarrow as pa

    values: dict[str, list] = {}
    for name in names:
        arr = table.column(name).combine_chunks()
        if pa.types.is_list(arr.type) and pa.types.is_list(arr.type.value_type):  # ragged [U][n]: rare, small
            values[name] = [None if x is None else np.asarray(x) for x in arr.to_pylist()]
        elif pa.types.is_list(arr.type) and not pa.types.is_struct(arr.type.value_type):
            nulls = arr.is_null().to_numpy(zero_copy_only=False)
            offsets = arr.offsets.to_numpy()
            flat = arr.flatten()
            inner = flat.type
            if pa.types.is_fixed_size_list(inner):
                data = flat.flatten().to_numpy(zero_copy_only=False).reshape(-1, inner.list_size)
            else:
                data = flat.to_numpy(zero_copy_only=False)
            rel = offsets - offsets[0]
            values[name] = [None if nulls[i] else data[rel[i]:rel[i + 1]] for i in range(len(arr))]
        else:
            values[name] = arr.to_pylist()
    return [{name: v[i] for name, v in values.items()} for i in range(table.num_rows)]


class ParquetSource:
    """A split read through ``datasets`` (memory-mapped Arrow); random access by batch of indices."""

    def __init__(self, ds, cols: Columns, labeled: bool = False):
        self.cols = cols
        self.ds = ds.select_columns(cols.needed()).with_format("arrow")
        keep = np.ones(len(ds), dtype=bool)
        if labeled:
            for t in cols.targets:
                keep &= ~ds.data.column(t).is_null().to_numpy(zero_copy_only=False)
        self.rows = np.flatnonzero(keep)
        self.skipped = int((~keep).sum())

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, positions) -> list[dict]:
        """Examples at positions (a list) of the kept rows, fetched from Arrow in one take."""
        table = self.ds[[int(self.rows[p]) for p in positions]]
        examples = [_example(self.cols, row.get) for row in _arrow_rows(table, self.cols.needed())]
        if any(ex is None for ex in examples):
            raise DatasetError(f"a target column among {list(self.cols.targets)} is null; read with labeled=True "
                               "to leave such examples out")
        return examples

    def __iter__(self):
        for start in range(0, len(self), 64):
            yield from self[range(start, min(start + 64, len(self)))]


def array_dtypes(dataset, config: str) -> dict[str, str]:
    """{array column: numpy dtype} from the build's build.json ({} without one): the tars' ``json``
    holds small arrays as lists, read back in the type the parquet has."""
    path = Path(dataset) / "build.json"
    try:
        features = json.loads(path.read_text())["configs"][config]["features"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    from datasets import Features, List, Value

    dtypes = {}
    for name, f in Features.from_dict(features).items():
        while isinstance(f, List):
            f = f.feature
        if isinstance(f, Value) and f.dtype not in ("string", "large_string") and name in features \
                and features[name].get("_type") == "List":
            dtypes[name] = f.dtype
    return dtypes


class WdsSource:
    """A split streamed from webdataset tars (``<column>.npy`` members, everything else in ``json``);
    ``dtypes`` (:func:`array_dtypes`) types the small arrays the ``json`` holds as lists."""

    def __init__(self, urls: list[str], cols: Columns, labeled: bool = False, dtypes: dict | None = None):
        self.urls, self.cols, self.labeled, self.dtypes = list(urls), cols, labeled, dtypes or {}
        self.skipped = 0

    @staticmethod
    def _get(sample: dict, dtypes: dict | None = None):
        meta = sample.get("json") or {}
        dtypes = dtypes or {}
        nulls = set(meta.get(NULL_COLUMNS, "").split())

        def get(name):
            if name == "id":
                return meta.get("id", sample["__key__"])
            if name in nulls:
                return None
            if f"{name}.npy" in sample:
                return sample[f"{name}.npy"]
            value = meta.get(name)
            if name in dtypes and value is not None:
                return _typed(value, dtypes[name])
            return value
        return get

    def columns(self) -> list[str]:
        """The columns of the first sample (what the tars hold)."""
        import webdataset as wds

        for sample in wds.WebDataset(self.urls[:1], shardshuffle=False, empty_check=False).decode():
            names = [k[:-4] for k in sample if k.endswith(".npy")] + [k for k in sample.get("json") or {} if k != NULL_COLUMNS]
            return sorted(set(names) | {"id"})
        return []

    def __iter__(self):
        import webdataset as wds

        self.skipped = 0
        for sample in wds.WebDataset(self.urls, shardshuffle=False, empty_check=False).decode():
            ex = _example(self.cols, self._get(sample, self.dtypes))
            if ex is None:
                if not self.labeled:
                    raise DatasetError(f"{sample['__key__']}: a target column among {list(self.cols.targets)} is null; "
                                       "read with labeled=True to leave such examples out")
                self.skipped += 1
                continue
            yield ex


def iter_rows(dataset, config: str, split: str, names, fmt: str = "parquet", chunk: int = 64):
    """Full rows of a split (only the ``names`` that exist), for the evaluation protocols: list
    columns as numpy arrays, ``sentences`` as a list of dicts. Streams, a chunk at a time."""
    if fmt == "wds":
        import webdataset as wds

        dtypes = array_dtypes(dataset, config)
        for sample in wds.WebDataset(split_files(dataset, config, split, "wds"), shardshuffle=False,
                                     empty_check=False).decode():
            get = WdsSource._get(sample, dtypes)
            yield {n: get(n) for n in names}
        return
    yield from dataset_rows(load_parquet(dataset, config, split), names, chunk)


def dataset_rows(ds, names, chunk: int = 64):
    """Rows of a ``datasets.Dataset`` restricted to ``names`` (those it has), via Arrow."""
    names = [n for n in dict.fromkeys(names) if n in ds.column_names]
    table = ds.select_columns(names).with_format("arrow")
    for start in range(0, len(ds), chunk):
        yield from _arrow_rows(table[start:start + chunk], names)


def available_columns(dataset, config: str, split: str, fmt: str = "parquet") -> list[str]:
    if fmt == "wds":
        return WdsSource(split_files(dataset, config, split, "wds"), Columns(video="")).columns()
    return load_parquet(dataset, config, split).column_names


def open_split(dataset, config: str, split: str, cols: Columns, fmt: str = "parquet", labeled: bool = False):
    """A source of examples for one split (only that split's files are opened)."""
    if fmt == "wds":
        return WdsSource(split_files(dataset, config, split, "wds"), cols, labeled, array_dtypes(dataset, config))
    if fmt != "parquet":
        raise DatasetError(f"unknown format {fmt!r}; choose from {', '.join(FORMATS)}")
    return ParquetSource(load_parquet(dataset, config, split), cols, labeled)
