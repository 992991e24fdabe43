"""benchmarks/scale.py at its small sizes (issue 25): every stage of the BLiSS journey runs, and the
memory rule holds between two sizes. The full sizes run only as the benchmark (docs/scaling.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bliss_stages_at_two_small_sizes_keep_the_import_and_publish_memory_flat(tmp_path):
    """16 and 64 clips of BLiSS-shaped features (1/832 and 1/208 of the release): import, build, load,
    loader and publish --dry-run each run in their own process and end well; the import's and the
    publish dry run's peak RSS grow by less than 20% for 4x the clips (each reads one clip, or one
    file, at a time)."""
    out = tmp_path / "results.json"
    res = subprocess.run([sys.executable, "benchmarks/scale.py", "bliss", "--sizes", "1/832", "1/208",
                          "--work", str(tmp_path / "work"), "--json", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    results = json.loads(out.read_text())["bliss"]
    small, large = results["1/832"], results["1/208"]
    assert list(small["stages"]) == ["import", "build", "load", "loader", "publish"]
    assert small["stages"]["import"]["clips"] == 16 and large["stages"]["import"]["clips"] == 64
    assert all(s["stages"]["build"]["exit"] == 0 and s["stages"]["publish"]["exit"] == 0 for s in (small, large))
    assert large["stages"]["loader"]["examples"] > small["stages"]["loader"]["examples"]
    for stage in ("import", "publish"):
        assert large["stages"][stage]["rss_mb"] < 1.2 * small["stages"][stage]["rss_mb"], (stage, small, large)
    assert "| 1/208 | import |" in res.stdout and "Growth 1/832 -> 1/208 (size x4)" in res.stdout
