"""The extractor CLIs as a user runs them: ``python -m extractors.list`` and ``python -m extractors.extract``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from collectors.synthetic import write_video
from extractors.registry import names
from collectors.records import item_id
from extractors.shardstore import ShardFile

ROOT = Path(__file__).resolve().parents[1]
JFK = ROOT.parent / "shared/data/speech/jfk.flac"


def run(*args, check_rc: int | None = 0) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VSUMHUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, *args], check=False, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if check_rc is not None:
        assert proc.returncode == check_rc, proc.stderr
    return proc


def extract(*args, rc: int = 0) -> subprocess.CompletedProcess:
    return run("-m", "extractors.extract", *map(str, args), check_rc=rc)


def printed_shape(stdout: str) -> tuple[int, int]:
    t, d = re.search(r"shape: \((\d+), (\d+)\)", stdout).groups()
    return int(t), int(d)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("cli") / "clip one.mp4"
    return write_video(path, (rng.integers(0, 256, (72, 128, 3), dtype=np.uint8) for _ in range(24)), fps=8)


def test_list_prints_every_extractor_without_loading_models():
    out = run("-m", "extractors.list").stdout
    assert out.splitlines()[0].split()[:4] == ["NAME", "MODALITY", "DIM", "SAMPLING"]
    listed = {line.split()[0] for line in out.splitlines()[1:] if line and not line[0].isspace()}
    assert listed == set(names())
    assert {"googlenet", "i3d", "pann", "sbert", "whisper"} <= listed
    probe = run("-c", "import sys, extractors.list as l; l.main([]); print(sorted(m for m in ('torch', 'faster_whisper') if m in sys.modules))")
    assert probe.stdout.strip().endswith("[]")


def test_colorhist_to_parquet(video, tmp_path):
    out = tmp_path / "f" / "colorhist.parquet"
    proc = extract(video, "--extractor", "colorhist", "--out", out)
    track = ShardFile(out).track(item_id("clip one"))
    assert printed_shape(proc.stdout) == track.values.shape == (3, 256)  # 3 s at 1 fps
    np.testing.assert_array_equal(track.times, [0.5, 1.5, 2.5])
    assert "0.500 .. 2.500 s" in proc.stdout and "extractor=colorhist" in proc.stdout
    assert track.meta["extractor"] == "colorhist"


def test_colorhist_to_npy_with_sidecar(video, tmp_path):
    out = tmp_path / "colorhist.npy"
    proc = extract(video, "--extractor", "colorhist", "--fps", "2", "--out", out)
    values, side = np.load(out), json.loads(out.with_suffix(".json").read_text())
    assert printed_shape(proc.stdout) == values.shape == (6, 256)
    assert len(side["times"]) == 6 and side["times"][0] == 0.25 and side["meta"]["fps"] == 2.0
    assert side["id"] == item_id("clip one") and side["id"].startswith("clip_one-") and side["shape"] == [6, 256] and len(side["config_hash"]) == 12


def test_minilm_on_a_transcript(tmp_path):
    transcript = tmp_path / "talk.json"
    transcript.write_text(json.dumps([{"start": 4, "end": 6, "text": "Then we cut the onions."},
                                      {"start": 0, "end": 4, "text": "First, wash your hands."}]))
    out = tmp_path / "minilm.parquet"
    proc = extract(transcript, "--extractor", "minilm", "--out", out)
    track = ShardFile(out).track("talk")
    assert printed_shape(proc.stdout) == track.values.shape == (2, 384)
    np.testing.assert_array_equal(track.times, [2.0, 5.0])  # sorted by start, centres
    np.testing.assert_allclose(np.linalg.norm(track.values, axis=1), 1.0, atol=1e-5)


def test_unknown_extractor_names_the_known_ones(video, tmp_path):
    proc = extract(video, "--extractor", "resnet", "--out", tmp_path / "x.parquet", rc=2)
    assert "unknown extractor 'resnet'" in proc.stderr and all(n in proc.stderr for n in names())


def test_option_the_extractor_does_not_take(tmp_path):
    transcript = tmp_path / "t.txt"
    transcript.write_text("one sentence\nanother\n")
    proc = extract(transcript, "--extractor", "minilm", "--fps", "2", "--out", tmp_path / "x.parquet", rc=2)
    assert "minilm does not take --fps" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "x.parquet").exists()


def test_missing_file_and_bad_suffix_are_usage_errors(video, tmp_path):
    assert "no such file" in extract(tmp_path / "nope.mp4", "--extractor", "colorhist", "--out", tmp_path / "x.parquet", rc=2).stderr
    assert "--out must end in" in extract(video, "--extractor", "colorhist", "--out", tmp_path / "x.csv", rc=2).stderr
    transcript = tmp_path / "talk.json"
    transcript.write_text('[{"start": 0, "end": 1, "text": "Hi."}]')
    assert "over the input" in extract(transcript, "--extractor", "minilm", "--out", tmp_path / "talk.npy", rc=2).stderr


def test_corrupt_video_fails_the_item(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 16)
    proc = extract(bad, "--extractor", "colorhist", "--out", tmp_path / "x.parquet", rc=1)
    assert "bad_media" in proc.stderr and not (tmp_path / "x.parquet").exists()


@pytest.mark.skipif(not JFK.exists(), reason=f"{JFK} absent (the ../shared/data folder is not here)")
def test_whisper_writes_sentences_beside_the_npy(tmp_path):
    out = tmp_path / "jfk.npy"
    proc = extract(JFK, "--extractor", "whisper", "--out", out)
    side = json.loads(out.with_suffix(".json").read_text())
    assert printed_shape(proc.stdout) == np.load(out).shape == (len(side["times"]), 0)
    assert "ask not what your country" in proc.stdout.lower()
    assert side["meta"]["language"] == "en" and side["meta"]["sentences"][0]["words"]
    extract(JFK, "--extractor", "whisper", "--out", tmp_path / "jfk.parquet")  # a [T, 0] track: sentences in meta
    again = ShardFile(tmp_path / "jfk.parquet").track("jfk")
    assert again.values.shape == (len(side["times"]), 0) and again.meta["sentences"] == side["meta"]["sentences"]
