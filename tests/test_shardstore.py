"""extractors.shardstore: the one on-disk encoding of tracks (the job's shards, extract's .parquet)."""

import numpy as np
import pytest

from extractors.base import FeatureTrack
from extractors.shardstore import ShardFile, ShardWriter


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_tracks_round_trip_exactly_with_their_fingerprints(tmp_path, dtype):
    rng = np.random.default_rng(0)
    tracks = {"item-1": FeatureTrack(np.arange(5) + 0.5, rng.standard_normal((5, 7)).astype(dtype), {"fps": 1.0}),
              "item-2": FeatureTrack(np.zeros(0), np.zeros((0, 7), dtype), {})}  # no steps at all
    w = ShardWriter(tmp_path / "s.parquet")
    for i, t in tracks.items():
        w.add(i, t, "abc123", f"fp-{i}")
    w.commit()
    f = ShardFile(tmp_path / "s.parquet")
    for i, t in tracks.items():
        back = f.track(i)
        assert back.values.dtype == dtype and back.values.shape == t.values.shape
        assert np.array_equal(back.values, t.values) and np.array_equal(back.times, t.times) and back.meta == t.meta
        assert f.fingerprint(i) == f"fp-{i}"
    assert [p.name for p in tmp_path.iterdir()] == ["s.parquet"]


def test_an_aborted_writer_leaves_nothing(tmp_path):
    w = ShardWriter(tmp_path / "s.parquet")
    w.add("a", FeatureTrack(np.array([0.5]), np.ones((1, 2), np.float32), {}), "h", "")
    w.abort()
    assert list(tmp_path.iterdir()) == []
