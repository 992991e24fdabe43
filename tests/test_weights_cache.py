"""extractors.weights: a Hugging Face model is found in the standard Hugging Face cache first, then in
$VSUMHUB_CACHE, offline; missing from both, the error is the same MissingWeightsError naming the flag."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPO = "org/tiny-model"
PROBE = """
import json, sys
from extractors.base import MissingWeightsError
from extractors.weights import resolve_hf_model
try:
    print(json.dumps({"path": str(resolve_hf_model(sys.argv[1], None, "tiny weights", "--weights tiny=PATH"))}))
except MissingWeightsError as e:
    print(json.dumps({"error": str(e)}))
"""


def _snapshot(cache: Path, repo: str, commit: str, marker: str) -> Path:
    """A model as huggingface_hub lays it out in a cache: refs/main -> snapshots/<commit>/."""
    folder = cache / f"models--{repo.replace('/', '--')}"
    snap = folder / "snapshots" / commit
    snap.mkdir(parents=True)
    (snap / "config.json").write_text(json.dumps({"marker": marker}))
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text(commit)
    return snap


def _resolve(tmp_path: Path, hf_cache: Path, vsumhub_cache: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "VSUMHUB_"))}
    env.update(HF_HUB_CACHE=str(hf_cache), HF_HOME=str(tmp_path / "hf-home"), VSUMHUB_CACHE=str(vsumhub_cache),
               HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", PROBE, REPO], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_standard_cache_first_then_vsumhubs_then_a_clear_offline_error(tmp_path):
    hf, own = tmp_path / "hf-hub", tmp_path / "vsumhub"
    hf.mkdir()
    # only in vsumhub's cache: found there
    in_own = _snapshot(own / "hf", REPO, "b" * 40, "vsumhub")
    assert _resolve(tmp_path, hf, own) == {"path": str(in_own)}
    # in the standard Hugging Face cache too: that one wins
    in_hf = _snapshot(hf, REPO, "a" * 40, "hf")
    assert _resolve(tmp_path, hf, own) == {"path": str(in_hf)}
    # in neither, offline: the MissingWeightsError naming both caches and the flag
    error = _resolve(tmp_path, tmp_path / "empty-hf", tmp_path / "empty-own")["error"]
    assert error.startswith(f"tiny weights ({REPO}) not found: not in the Hugging Face cache {tmp_path / 'empty-hf'}")
    assert str(tmp_path / "empty-own" / "hf") in error and "offline mode is on" in error
    assert "Pass --weights tiny=PATH to local weights" in error
