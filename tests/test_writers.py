"""Parquet + webdataset writers: exact values, HF schema, atomic swap on failure."""

import io
import json
import tarfile

import numpy as np
import pyarrow.parquet as pq
import pytest
from datasets import Features, List, Value, load_dataset

from builders.core.writers import ConfigWriter, rows_to_table
from builders.core.schema import vectors

FEATURES = Features({
    "id": Value("string"),
    "frame_times": List(Value("float64")),
    "frames_x": vectors(3),
    "frame_labels": List(Value("int8")),
    "sentences": List({"start": Value("float64"), "end": Value("float64"), "text": Value("string")}),
    "summary": Value("string"),
})


def _row(i, t, rng):
    return {"id": f"r{i}", "frame_times": np.arange(t) + 0.5, "frames_x": rng.standard_normal((t, 3)).astype(np.float32),
            "frame_labels": (np.arange(t) % 2).astype(np.int8),
            "sentences": [{"start": 0.0, "end": 1.0, "text": f"s{i}"}], "summary": f"sum {i}"}


def test_rows_to_table_keeps_exact_values_and_empty_rows():
    rng = np.random.default_rng(0)
    rows = [_row(0, 4, rng), _row(1, 0, rng), _row(2, 2, rng)]
    table = rows_to_table(rows, FEATURES)
    back = table.to_pylist()
    assert np.array_equal(np.array(back[0]["frames_x"], dtype=np.float32), rows[0]["frames_x"])
    assert back[1]["frames_x"] == [] and back[1]["frame_times"] == []
    assert table.schema.metadata[b"huggingface"]  # load_dataset reads the features from here


def test_rows_lacking_a_column_are_refused():
    rng = np.random.default_rng(0)
    row = _row(0, 2, rng)
    del row["summary"]
    with pytest.raises(KeyError, match="summary"):
        rows_to_table([row], FEATURES)


def test_writer_shards_parquet_and_tars_with_the_same_rows(tmp_path):
    rng = np.random.default_rng(1)
    rows = [_row(i, 3 + i, rng) for i in range(5)]
    with ConfigWriter(tmp_path, "cfg", FEATURES, rows_per_shard=2) as w:
        for r in rows:
            w.add("train", r)
    facts = w.facts["train"]
    assert facts["num_examples"] == 5
    assert [p.split("/")[-1] for p in facts["parquet"]] == [
        "train-00000-of-00003.parquet", "train-00001-of-00003.parquet", "train-00002-of-00003.parquet"]
    assert [p.split("/")[-1] for p in facts["wds"]] == ["train-000000.tar.gz", "train-000001.tar.gz"]  # sized by bytes
    ds = load_dataset("parquet", data_files=str(tmp_path / "data/cfg/train-*.parquet"), split="train")
    assert ds.features == FEATURES
    for r, back in zip(rows, ds):
        assert back["id"] == r["id"]
        assert np.array_equal(np.array(back["frames_x"], dtype=np.float32), r["frames_x"])
    seen = _tar_members(tmp_path / "wds/cfg")
    assert sorted(seen) == [r["id"] for r in rows]
    for r in rows:
        assert set(seen[r["id"]]) == {"frames_x.npy", "json"}  # one .npy per vector column, the rest packed
        frames = np.load(io.BytesIO(seen[r["id"]]["frames_x.npy"]))
        assert frames.dtype == np.float32 and np.array_equal(frames, r["frames_x"])
        meta = json.loads(seen[r["id"]]["json"])
        assert meta["summary"] == r["summary"] and meta["sentences"] == r["sentences"]
        assert meta["frame_labels"] == r["frame_labels"].tolist() and meta["frame_times"] == r["frame_times"].tolist()


def _tar_members(folder):
    seen = {}
    for tar in sorted(folder.glob("*.tar.gz")):
        with tarfile.open(tar) as tf:
            for m in tf.getmembers():
                key, ext = m.name.split(".", 1)
                seen.setdefault(key, {})[ext] = tf.extractfile(m).read()
    return seen


def test_failed_write_leaves_the_previous_config_untouched(tmp_path):
    rng = np.random.default_rng(2)
    with ConfigWriter(tmp_path, "cfg", FEATURES) as w:
        w.add("train", _row(0, 2, rng))
    before = sorted(p.name for p in (tmp_path / "data/cfg").iterdir())
    with pytest.raises(RuntimeError, match="interrupted"):
        with ConfigWriter(tmp_path, "cfg", FEATURES, rows_per_shard=1) as w:
            w.add("train", _row(1, 2, rng))
            w.add("train", _row(2, 2, rng))
            raise RuntimeError("interrupted")
    assert sorted(p.name for p in (tmp_path / "data/cfg").iterdir()) == before
    assert pq.read_table(tmp_path / "data/cfg" / before[0]).column("id").to_pylist() == ["r0"]
    assert not list(tmp_path.glob(".staging-*"))


def test_unknown_split_is_refused(tmp_path):
    with ConfigWriter(tmp_path, "cfg", FEATURES) as w:
        with pytest.raises(ValueError, match="unknown split 'dev'"):
            w.add("dev", _row(0, 1, np.random.default_rng(0)))


def test_row_groups_are_sized_from_the_bytes_written_with_page_indexes(tmp_path, monkeypatch):
    import datasets

    rng = np.random.default_rng(3)
    wide = Features({"id": Value("string"), "frames_x": vectors(256)})
    rows = [{"id": f"r{i}", "frames_x": rng.standard_normal((100, 256)).astype(np.float32)} for i in range(12)]
    per_row = rows_to_table(rows[:1], wide).nbytes  # ~100 KB of Arrow data a row
    monkeypatch.setattr(datasets.config, "MAX_ROW_GROUP_SIZE", 3 * per_row + per_row // 2)  # room for 3 rows
    with ConfigWriter(tmp_path, "cfg", wide, rows_per_shard=12) as w:
        for r in rows:
            w.add("train", r)
    f = pq.ParquetFile(tmp_path / "data/cfg/train-00000-of-00001.parquet")
    assert [f.metadata.row_group(i).num_rows for i in range(f.metadata.num_row_groups)] == [3, 3, 3, 3]
    column = f.metadata.row_group(0).column(1)
    assert column.has_offset_index and column.has_column_index  # page indexes: the viewer reads a page, not a group
    assert b"content_defined_chunking" in f.metadata.metadata  # a changed shard re-uploads little
    ds = load_dataset("parquet", data_files=str(tmp_path / "data/cfg/*.parquet"), split="train")
    assert w.facts["train"]["num_bytes"] == ds.data.nbytes  # Arrow bytes, as datasets counts them
    assert w.facts["train"]["parquet_bytes"] == (tmp_path / "data/cfg/train-00000-of-00001.parquet").stat().st_size


NULLABLE = Features({"id": Value("string"), "views": Value("int64"), "frame_scores": List(Value("float32")),
                     "frames_x": vectors(3), "user_summary": List(List(Value("int8")))})


def test_every_tar_sample_has_the_same_members_and_loads_with_its_types(tmp_path):
    """Nulls in the first samples (a video without a curve, views unknown, no sentences yet) are what
    type inference cannot see through; the members stay the same and wds_features gives the types."""
    from builders.core.writers import wds_features

    rows = [{"id": f"v.{i}", "views": None if i < 6 else 7, "frame_scores": None if i < 6 else [0.5, 1.0],
             "frames_x": np.zeros((0, 3), np.float32) if i < 6 else np.ones((2, 3), np.float32),
             "user_summary": None if i < 6 else [[1, 0], [0, 1]]} for i in range(8)]
    with ConfigWriter(tmp_path, "cfg", NULLABLE) as w:
        for r in rows:
            w.add("train", r)
    tars = [str(tmp_path / t) for t in w.facts["train"]["wds"]]
    names = [n for t in tars for n in tarfile.open(t).getnames()]
    members = {}
    for name in names:
        key, ext = name.split(".", 1)
        members.setdefault(key, set()).add(ext)
    assert len(members) == 8  # the dot of "v.0" does not cut the key short
    assert all(m == {"frames_x.npy", "user_summary.npy", "json"} for m in members.values())  # 2-D: .npy
    for streaming in (False, True):
        ds = load_dataset("webdataset", data_files={"train": tars}, split="train", streaming=streaming,
                          features=wds_features(NULLABLE))
        got = list(ds)
        assert [g["json"]["id"] for g in got] == [r["id"] for r in rows]
        assert got[0]["json"]["null_columns"] == "frame_scores user_summary" and got[0]["json"]["frame_scores"] is None
        assert got[7]["json"]["null_columns"] == "" and got[7]["json"]["views"] == 7
        assert got[7]["json"]["frame_scores"] == [0.5, 1.0]
        assert np.asarray(got[7]["user_summary.npy"]).tolist() == [[1, 0], [0, 1]] and got[0]["user_summary.npy"] == []
        assert np.asarray(got[7]["frames_x.npy"]).tolist() == [[1.0] * 3] * 2
    assert ds.features["json"]["frame_scores"] == List(Value("float32"))


def test_packed_floats_read_back_exactly_in_their_type(tmp_path):
    """float32 / float16 arrays go into json as their shortest text, which reads back to the same bits."""
    from builders.core.writers import wds_features

    rng = np.random.default_rng(5)
    features = Features({"id": Value("string"), "a": List(Value("float32")), "h": List(Value("float16"))})
    rows = [{"id": f"x{i}", "a": rng.standard_normal(50).astype(np.float32), "h": rng.random(7).astype(np.float16)}
            for i in range(3)]
    with ConfigWriter(tmp_path, "cfg", features) as w:
        for r in rows:
            w.add("test", r)
    ds = load_dataset("webdataset", data_files={"test": [str(tmp_path / t) for t in w.facts["test"]["wds"]]},
                      split="test", features=wds_features(features)).with_format("numpy")
    for r, got in zip(rows, ds["json"]):
        assert got["a"].dtype == np.float32 and np.array_equal(got["a"], r["a"])  # bit-exact
        assert np.array_equal(np.asarray(got["h"], np.float16), r["h"])


@pytest.mark.parametrize("sizes,target,expected", [
    ([10], 100, [0, 1]),  # one example: one shard
    ([10, 10], 100, [0, 1, 2]),  # two examples: two shards, however small
    ([10] * 5, 100, [0, 3, 5]),
    ([100] * 10, 250, [0, 3, 5, 8, 10]),  # past the target: ceil(1000 / 250) = 4 shards, balanced by bytes
    ([1000, 1, 1, 1], 10, [0, 1, 2, 3, 4]),  # never more shards than examples, never an empty one
    ([], 100, [0]),
])
def test_tar_plan_cuts_2_or_more_shards_by_bytes(sizes, target, expected):
    from builders.core.writers import tar_plan

    assert tar_plan(sizes, target) == expected


def test_two_writes_of_the_same_rows_give_byte_equal_tars(tmp_path):
    import time

    rng = np.random.default_rng(6)
    rows = [_row(i, 3 + i, rng) for i in range(4)]
    digests = []
    for run in range(2):
        out = tmp_path / f"run{run}"
        with ConfigWriter(out, "cfg", FEATURES) as w:
            for r in rows:
                w.add("train", r)
        digests.append({t: (out / t).read_bytes() for t in w.facts["train"]["wds"]})
        time.sleep(1.1)  # a different second: member mtimes would differ if they were the clock's
    assert digests[0] == digests[1] and len(digests[0]) == 2
    with tarfile.open(tmp_path / "run0" / next(iter(digests[0]))) as tf:
        m = tf.getmembers()[0]
        assert (m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode) == (0, 0, 0, "", "", 0o644)
    assert int.from_bytes(next(iter(digests[0].values()))[4:8], "little") == 0  # the gzip header's time


def test_a_2_worker_dataloader_over_plain_webdataset_reads_every_example(tmp_path):
    """WebDataset(urls) with default arguments and DataLoader(num_workers=2): each worker needs a shard."""
    import torch
    import webdataset as wds

    rng = np.random.default_rng(7)
    rows = [_row(i, 2, rng) for i in range(3)]
    with ConfigWriter(tmp_path, "cfg", FEATURES) as w:
        for r in rows:
            w.add("train", r)
            w.add("test", r) if r["id"] == "r0" else None
    urls = [str(tmp_path / t) for t in w.facts["train"]["wds"]]
    keys = [s["__key__"] for s in torch.utils.data.DataLoader(wds.WebDataset(urls), num_workers=2)]
    assert sorted(k for batch in keys for k in batch) == ["r0", "r1", "r2"]
    assert len(w.facts["test"]["wds"]) == 1  # a split of one example is one shard
