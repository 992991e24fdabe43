"""The A2Summ import's peak memory does not grow with the release (issue 25): each split's pickled
dicts are spilled per clip (builders.bliss.a2summ.Release), so a release 4x larger costs no more RSS.

Measured in a fresh subprocess each (its own VmHWM), on BLiSS-shaped
clips (300 x 512 frames): 1/16 and 1/4 of a 512-clip synthetic release (~20 and ~80 MB of
features). Before the spill the larger one peaked higher by most of its train features.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from a2summ_fixtures import write_a2summ_release
from numpy.lib import format as npy_format

from builders.core.safe.pickles import NpyDictError, SpillFile, UnsafePickleError, load_npy_dict

ROOT = Path(__file__).resolve().parents[1]

# The child reports its own VmHWM: ru_maxrss of a child that Python starts with vfork includes the
# parent's peak (Linux keeps it across exec), which would hide the child's own.
IMPORT = """
import sys
from builders.bliss.a2summ import iter_a2summ
failures = []
n = sum(1 for _ in iter_a2summ(sys.argv[1], failures=failures, arrays=True))
assert n > 0 and not failures, (n, failures)
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(n, int(hwm.split()[1]) / 1024)
"""


def peak_rss_mb(code: str, *args: str) -> tuple[float, int]:
    """(peak RSS in MB, clips imported) of ``python -c code args`` run from the worktree root."""
    p = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-2000:]
    n, rss = p.stdout.split()
    return float(rss), int(n)


def release(root: Path, videos: int) -> Path:
    """``videos`` train videos of 4 full 300-frame clips (the last may be shorter), 1/4 of them test."""
    write_a2summ_release(root, np.random.default_rng(videos), train_videos=videos - videos // 4,
                         test_videos=videos // 4, clips_per_video=(4, 4), max_frames=300)
    return root


@pytest.mark.slow
def test_import_peak_rss_does_not_grow_with_the_release(tmp_path):
    small, large = release(tmp_path / "small", 8), release(tmp_path / "large", 32)
    (rss_small, n_small), (rss_large, n_large) = peak_rss_mb(IMPORT, str(small)), peak_rss_mb(IMPORT, str(large))
    assert (n_small, n_large) == (32, 128)
    feature_mb = sum(f.stat().st_size for f in (large / "feature").iterdir()) / 2**20
    assert feature_mb > 70  # big enough that holding a split's dicts would show (> 20% of the small run)
    assert rss_large < 1.2 * rss_small, (rss_small, rss_large, feature_mb)


def _save(path: Path, obj, protocol: int) -> Path:
    """``np.save(path, obj, allow_pickle=True)`` with the pickle protocol chosen (numpy uses 4)."""
    array = np.asanyarray(obj)
    with open(path, "wb") as f:
        npy_format.write_array_header_1_0(f, npy_format.header_data_from_array_1_0(array))
        pickle.dump(array, f, protocol=protocol)
    return path


@pytest.mark.parametrize("protocol", [3, 4, 5])
def test_spilled_dict_reads_back_what_the_plain_loader_reads(tmp_path, protocol):
    rng = np.random.default_rng(protocol)
    frames = rng.standard_normal((300, 512)).astype(np.float32)
    saved = {"clip_0": frames, "clip_1": np.zeros((0, 768), np.float16), "fortran": np.asfortranarray(rng.random((5, 7))),
             "ints": np.arange(6, dtype=">i4").reshape(2, 3), "again": frames}  # the same array under two keys
    path = _save(tmp_path / "d.npy", saved, protocol)
    plain = load_npy_dict(path)
    with SpillFile(tmp_path / "spill") as spill:
        tokens = load_npy_dict(path, spill=spill.add)
        assert list(tokens) == list(saved)
        assert tokens["again"] == tokens["clip_0"]  # spilled once
        for key, value in plain.items():
            back = spill.read(tokens[key])
            assert back.dtype == value.dtype and back.shape == value.shape and np.array_equal(back, saved[key])
        assert (tmp_path / "spill").stat().st_size == sum(v.nbytes for k, v in saved.items() if k != "again")
    assert not (tmp_path / "spill").exists()  # removed on close


def test_spilling_loader_refuses_what_the_plain_loader_refuses(tmp_path):
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    cases = {"evil.npy": ({"a": np.zeros(3), "b": Evil()}, UnsafePickleError, "system"),
             "nested.npy": ({"a": np.array([{"x": 1}], dtype=object)}, NpyDictError, "numeric array"),
             "list.npy": ({"a": [1.0, 2.0]}, NpyDictError, "numeric array"),
             "keys.npy": ({1: np.zeros(2)}, NpyDictError, "str keys")}
    with SpillFile(tmp_path / "spill") as spill:
        for name, (obj, error, message) in cases.items():
            np.save(tmp_path / name, obj, allow_pickle=True)
            with pytest.raises(error, match=message):
                load_npy_dict(tmp_path / name, spill=spill.add)
        np.save(tmp_path / "d.npy", {"a": np.ones((50, 80), np.float32)}, allow_pickle=True)
        data = (tmp_path / "d.npy").read_bytes()
        for cut in (100, len(data) // 2, len(data) - 1):
            (tmp_path / "cut.npy").write_bytes(data[:cut])
            with pytest.raises(NpyDictError, match="cut.npy"):
                load_npy_dict(tmp_path / "cut.npy", spill=spill.add)
    assert not marker.exists()
