"""Speed and size of the parquet shard writer: ``datasets``' ParquetWriter (row groups from bytes,
page indexes, content-defined chunking: what builders.core.writers uses) against plain
``pyarrow.parquet.write_table`` (one row group, no page index: what the writers did before).

The case: BLiSS-shaped rows (300 frames x 512-d CLIP, 40 sentences x 768-d RoBERTa, float32) in
one shard of ``--rows`` rows, the table built once by builders.core.writers.rows_to_table; each writer
writes it ``--repeats`` times, best time kept; the file size and row groups are printed beside.
(What content-defined chunking saves on a re-upload depends on the Hub's own byte-level chunking
and is not measured here.)

    python benchmarks/writer_speed.py --rows 50 --repeats 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyarrow.parquet as pq  # noqa: E402
from datasets import Features, List, Value  # noqa: E402
from datasets.arrow_writer import ParquetWriter, get_writer_batch_size_from_data_size  # noqa: E402

from builders.core.schema import vectors  # noqa: E402
from builders.core.writers import rows_to_table  # noqa: E402

FEATURES = Features({"id": Value("string"), "frame_times": List(Value("float64")), "frames_clip": vectors(512),
                     "sentences_roberta": vectors(768), "frame_labels": List(Value("int8"))})


def rows(n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{"id": f"v{i:04d}_000", "frame_times": np.arange(300) + 0.5,
             "frames_clip": rng.standard_normal((300, 512)).astype(np.float32),
             "sentences_roberta": rng.standard_normal((40, 768)).astype(np.float32),
             "frame_labels": (rng.random(300) < 0.05).astype(np.int8)} for i in range(n)]


def write_plain(table, path: Path) -> None:
    pq.write_table(table, path)


def write_datasets(table, path: Path) -> None:
    writer = ParquetWriter(path=str(path), features=FEATURES)
    writer.write_table(table, get_writer_batch_size_from_data_size(table.num_rows, table.nbytes))
    writer.finalize()


def best(fn, table, path: Path, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(table, path)
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=50)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    data = rows(args.rows)
    table = rows_to_table(data, FEATURES)
    print(f"{args.rows} rows, {table.nbytes / 1e6:.1f} MB of Arrow data")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        results = {}
        for name, fn in (("pyarrow write_table (before)", write_plain), ("datasets ParquetWriter (now)", write_datasets)):
            seconds = best(fn, table, tmp / "x.parquet", args.repeats)
            meta = pq.ParquetFile(tmp / "x.parquet").metadata
            size = (tmp / "x.parquet").stat().st_size
            results[name] = seconds
            print(f"{name:<30} {seconds:6.2f} s  {table.nbytes / 1e6 / seconds:7.1f} MB/s  file {size / 1e6:6.1f} MB  "
                  f"{meta.num_row_groups} row group(s)")
        base, now = results.values()
        print(f"ratio now / before (time): {now / base:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
