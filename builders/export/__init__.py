"""Export a build to the file layout the authors' own code reads (docs/export.md).

    python -m builders.export hub/<name> --config CFG --format FORMAT --out DIR [--split S] [--splits K] [--overwrite]

Formats, one module each: ``a2summ`` (A2Summ's annotation/*.json + pickled-dict feature/*.npy),
``eccv16h5`` (one eccv16 h5 + the split folds DSNet / PGL-SUM read), ``moment_detr``
(highlight_{split}_release.jsonl + per-clip feature directories), ``mrhisum`` (mr_hisum.h5 +
metadata.csv + mr_hisum_split.json). Beside the files, ``export.json`` names the build (its
directory name and the sha256 of its build.json), the config, the format, the rules used and the
encoders of the exported features (the release layouts have no place for them).

The export is written to a temporary directory next to ``--out`` and renamed into place, so a failed
export leaves nothing behind. Bad input (no build, unknown config or format, a config without the
columns the format needs, a non-empty ``--out`` without ``--overwrite``) is one line on stderr and
exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from common import cli
from common.files import sha256_file
from common.safefiles import read_json

TOOL = "vsumhub builders.export"
FORMATS = ("a2summ", "eccv16h5", "moment_detr", "mrhisum")
EXPORT_JSON = "export.json"


class ExportError(Exception):
    """The export cannot be made (exit 2, one line): the message names what is missing."""


class Build:
    """One config of a build on disk: ``hub/<name>/build.json`` and ``data/<config>/<split>-*.parquet``.

    Rows stream one parquet batch at a time; vector columns come out as ``[T, D]`` numpy arrays of the stored
    type (float32 values bit for bit), other columns as Python values.
    """

    def __init__(self, root: str | Path, config: str, split: str | None = None):
        self.root, self.config = Path(root), config
        path = self.root / "build.json"
        if not path.is_file():
            raise ExportError(f"no build at {self.root}: {path} not found (build it with python -m builders.<name>)")
        try:
            self.record = read_json(path)  # bounded size and depth (common.safefiles)
        except (OSError, ValueError) as e:
            raise ExportError(f"{path} is not readable JSON: {e}") from None
        configs = self.record.get("configs") or {}
        if config not in configs:
            raise ExportError(f"{self.root} has no config {config!r} (configs: {', '.join(configs) or 'none'})")
        self.facts = configs[config]
        self.name = self.root.resolve().name
        self.sha256 = sha256_file(path)
        from builders.core.schema import SPLITS  # imports datasets: after parsing (common.cli)

        self.files = {s: sorted((self.root / "data" / config).glob(f"{s}-*.parquet")) for s in SPLITS}
        if not any(self.files.values()):
            raise ExportError(f"{self.root / 'data' / config} holds no parquet shards")
        if split is not None and not self.files.get(split):
            have = [s for s in SPLITS if self.files[s]]
            raise ExportError(f"config {config!r} has no {split!r} split (splits: {', '.join(have)})")
        self.splits = [s for s in SPLITS if self.files[s] and (split is None or s == split)]
        self.schema = pq.read_schema(next(f for fs in self.files.values() for f in fs))
        self.columns = list(self.schema.names)

    def column(self, role: str, prefix: str) -> str | None:
        """The column build.json names for ``role`` (``visual``, ``text``), else the only ``<prefix>*`` column."""
        named = (self.facts.get("columns") or {}).get(role)
        if named in self.columns:
            return named
        found = [c for c in self.columns if c.startswith(prefix)]
        return found[0] if len(found) == 1 else None

    def require(self, fmt: str, needs: dict[str, str | None]) -> None:
        """ExportError naming what the format needs and this config lacks: ``{what: column or None}``."""
        missing = [what for what, column in needs.items() if column is None or column not in self.columns]
        if missing:
            raise ExportError(f"config {self.config!r} of {self.name} cannot be exported as {fmt}: it lacks "
                              f"{', '.join(missing)}")

    def encoder(self, column: str) -> dict:
        """The extractor record build.json keeps for ``column``, whole (the release files have no place for it)."""
        for role, name in (self.facts.get("columns") or {}).items():
            if name == column:
                return {"column": column, "role": role, "extractor": (self.facts.get("extractors") or {}).get(role)}
        return {"column": column, "role": None, "extractor": None}

    def rows(self, split: str, columns: list[str] | None = None) -> Iterator[dict]:
        for path in self.files[split]:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=16, columns=columns):
                yield from batch_rows(batch)


def _vectors(arr: pa.Array) -> list:
    """list<fixed_size_list<float>[D]> -> per row a [T, D] numpy array (None for null), values as stored."""
    dim = arr.type.value_type.list_size
    flat = arr.flatten().flatten().to_numpy(zero_copy_only=False).reshape(-1, dim)
    lengths = arr.value_lengths().fill_null(0).to_numpy(zero_copy_only=False)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    nulls = arr.is_null().to_numpy(zero_copy_only=False)
    return [None if nulls[i] else flat[bounds[i]:bounds[i + 1]] for i in range(len(arr))]


def batch_rows(batch: pa.RecordBatch) -> Iterator[dict]:
    cols = {}
    for name, arr in zip(batch.schema.names, batch.columns):
        t = arr.type
        if pa.types.is_list(t) and pa.types.is_fixed_size_list(t.value_type) and pa.types.is_floating(t.value_type.value_type):
            cols[name] = _vectors(arr)
        else:
            cols[name] = arr.to_pylist()
    for i in range(batch.num_rows):
        yield {name: values[i] for name, values in cols.items()}


def dumps(obj) -> str:
    """JSON with sorted keys: the same object gives the same bytes."""
    return json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def export_record(build: Build, fmt: str, split: str | None, rules: dict, encoders: list[dict], **extra) -> dict:
    return {"tool": TOOL, "format": fmt, "build": build.name, "build_json_sha256": build.sha256,
            "dataset": build.record.get("dataset"), "config": build.config, "split": split,
            "splits": build.splits, "rules": rules, "encoders": encoders, **extra}


def _writer(fmt: str):
    import importlib

    return importlib.import_module(f"builders.export.{fmt}")


def export(build_dir, config: str, fmt: str, out, split: str | None = None, splits: int | None = None,
           overwrite: bool = False, seed: int = 0) -> dict:
    """Export one config; returns export.json's content. Raises ExportError for bad input, with nothing written."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (formats: {', '.join(FORMATS)})")
    from builders.core.schema import SPLITS

    if split is not None and split not in SPLITS:
        raise ExportError(f"unknown split {split!r} (splits: {', '.join(SPLITS)})")
    if splits is not None and (fmt != "eccv16h5" or splits < 1):
        raise ExportError("--splits K (K random splits) is for --format eccv16h5 only" if fmt != "eccv16h5"
                          else f"--splits must be at least 1, got {splits}")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not overwrite:
        raise ExportError(f"--out {out} exists and is not empty (give --overwrite to replace it)")
    build = Build(build_dir, config, split)
    module = _writer(fmt)
    module.check(build)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.export-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir()
    try:
        record = module.write(build, tmp, split=split, splits=splits, seed=seed)
        (tmp / EXPORT_JSON).write_text(dumps(record), encoding="utf-8")
        if out.exists():
            old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}.tmp"
            os.replace(out, old) if out.is_dir() else out.unlink()
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return record


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, as every other bad input
        self.exit(2, f"error: {message}\n")


def parser() -> argparse.ArgumentParser:
    """The command's flags (``vsumhub export`` runs this parser; light imports only, so --help is instant)."""
    p = _Parser(prog=cli.prog("python -m builders.export"), description=__doc__.split("\n\n")[0],
                formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_version(p)
    p.add_argument("build", type=Path, help="the build directory, hub/<name> (its build.json and data/)")
    p.add_argument("--config", required=True, help="the config to export (a directory of data/)")
    p.add_argument("--format", required=True, help=f"one of {', '.join(FORMATS)}")
    p.add_argument("--out", required=True, type=Path, help="output directory (refused if it exists and is not empty)")
    p.add_argument("--split", help="export only this split (train, validation, test)")
    p.add_argument("--splits", type=int, metavar="K", help="eccv16h5: K random 80/20 splits (DSNet's rule) instead of the "
                                                         "build's split")
    p.add_argument("--seed", type=int, default=0, help="seed of --splits K (default 0)")
    p.add_argument("--overwrite", action="store_true", help="replace a non-empty --out")
    return p


def main(argv=None) -> int:
    """Exit 0 when exported, 2 on bad input (one line on stderr, nothing written)."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as e:
        return e.code
    try:
        record = export(args.build, args.config, args.format, args.out, split=args.split, splits=args.splits,
                        overwrite=args.overwrite, seed=args.seed)
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"exported {record['build']} config {record['config']} as {record['format']} to {args.out}")
    return 0
