import numpy as np
import pytest

from extractors.base import FeatureTrack
from extractors.store import load_track, save_track, stored_fingerprint, track_path


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_track_round_trip_is_exact(tmp_path, dtype):
    rng = np.random.default_rng(0)
    track = FeatureTrack(np.arange(5) + 0.5, rng.standard_normal((5, 7)).astype(dtype), {"extractor": "x", "fps": 1.0})
    path = track_path(tmp_path, "x", "abc123", "item-1")
    save_track(path, "item-1", track, "abc123", fingerprint="fp1")
    back = load_track(path)
    assert back.values.dtype == dtype and np.array_equal(back.values, track.values)
    assert np.array_equal(back.times, track.times) and back.meta == track.meta
    assert stored_fingerprint(path) == "fp1"
    assert not list(tmp_path.rglob("*.part"))


def test_zero_width_track_for_asr(tmp_path):
    track = FeatureTrack(np.array([1.0, 4.0]), np.zeros((2, 0), np.float32), {"sentences": [{"text": "a"}, {"text": "b"}]})
    path = tmp_path / "t.parquet"
    save_track(path, "v", track, "h")
    back = load_track(path)
    assert back.values.shape == (2, 0) and back.meta["sentences"][1]["text"] == "b"


def test_empty_track(tmp_path):
    path = tmp_path / "e.parquet"
    save_track(path, "v", FeatureTrack(np.zeros(0), np.zeros((0, 3), np.float32), {}), "h")
    assert load_track(path).values.shape == (0, 3)
