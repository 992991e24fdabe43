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
    assert len(facts["wds"]) == 3
    ds = load_dataset("parquet", data_files=str(tmp_path / "data/cfg/train-*.parquet"), split="train")
    assert ds.features == FEATURES
    for r, back in zip(rows, ds):
        assert back["id"] == r["id"]
        assert np.array_equal(np.array(back["frames_x"], dtype=np.float32), r["frames_x"])
    seen = {}
    for tar in sorted((tmp_path / "wds/cfg").glob("*.tar")):
        with tarfile.open(tar) as tf:
            for m in tf.getmembers():
                key, ext = m.name.split(".", 1)
                seen.setdefault(key, {})[ext] = tf.extractfile(m).read()
    assert sorted(seen) == [r["id"] for r in rows]
    for r in rows:
        frames = np.load(io.BytesIO(seen[r["id"]]["frames_x.npy"]))
        assert frames.dtype == np.float32 and np.array_equal(frames, r["frames_x"])
        assert np.array_equal(np.load(io.BytesIO(seen[r["id"]]["frame_labels.npy"])), r["frame_labels"])
        meta = json.loads(seen[r["id"]]["json"])
        assert meta["summary"] == r["summary"] and meta["sentences"] == r["sentences"]


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
    tar = tmp_path / w.facts["train"]["wds"][0]
    with tarfile.open(tar) as tf:
        names = tf.getnames()
    members = {}
    for name in names:
        key, ext = name.split(".", 1)
        members.setdefault(key, set()).add(ext)
    assert len(members) == 8  # the dot of "v.0" does not cut the key short
    assert all(m == {"frame_scores.npy", "frames_x.npy", "user_summary.npy", "json"} for m in members.values())
    for streaming in (False, True):
        ds = load_dataset("webdataset", data_files={"train": str(tar)}, split="train", streaming=streaming,
                          features=wds_features(NULLABLE))
        got = list(ds)
        assert [g["json"]["id"] for g in got] == [r["id"] for r in rows]
        assert got[0]["json"]["null_columns"] == "frame_scores user_summary" and got[0]["frame_scores.npy"] == []
        assert got[7]["json"]["null_columns"] == "" and got[7]["json"]["views"] == 7
        assert np.asarray(got[7]["frame_scores.npy"]).tolist() == [0.5, 1.0]
        assert np.asarray(got[7]["user_summary.npy"]).tolist() == [[1, 0], [0, 1]]
        assert np.asarray(got[7]["frames_x.npy"]).tolist() == [[1.0] * 3] * 2
