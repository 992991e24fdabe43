"""The bundled BLiSS sample: deterministic, the promised shape, and generated once."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from pathlib import Path

import numpy as np
import pytest

from builders.bliss import sample as bliss_sample
from builders.bliss.sample import MARKER, ensure_sample
from extractors.inputs import load_thumbnail_frames
from collectors.media import video_duration
from extractors.decode import iter_frame_batches, read_image

IDS = ["stream-01", "stream-02", "stream-03", "stream-04"]


def _json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def _durations(root: Path) -> dict[str, float]:
    return {vid: video_duration(root / vid / "video.mp4") for vid in IDS}


def test_layout_and_durations(bliss_sample_dir):
    root = bliss_sample_dir
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == IDS
    durations = _durations(root)
    for vid, d in durations.items():
        assert 360 <= d <= 720, (vid, d)
        assert d % 300 > 30, f"{vid}: the last clip should be a short but real one ({d} s)"
        for name in ("transcript.json", "metadata.json", "annotations.json"):
            assert (root / vid / name).is_file()
    assert len(set(durations.values())) == len(IDS), "lengths should differ"
    marker = _json(root / MARKER)
    on_disk = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and p.name != MARKER)
    assert marker["version"] == bliss_sample.SAMPLE_VERSION
    assert marker["files"] == on_disk


def test_transcripts_cover_the_video_and_straddle_clip_boundaries(bliss_sample_dir):
    for vid, duration in _durations(bliss_sample_dir).items():
        sentences = _json(bliss_sample_dir / vid / "transcript.json")
        starts = [s["start"] for s in sentences]
        assert starts == sorted(starts)
        for s in sentences:
            assert 2.0 <= s["end"] - s["start"] <= 12.0, s
            assert s["text"].strip()
        for a, b in zip(sentences, sentences[1:]):
            assert b["start"] > a["end"], "sentences are separated by gaps"
        assert sentences[0]["start"] < 10 and sentences[-1]["end"] > duration - 20
        for boundary in range(300, int(duration), 300):
            assert any(s["start"] < boundary < s["end"] for s in sentences), f"{vid}: nothing straddles {boundary} s"


def test_keywords_occur_in_their_clip(bliss_sample_dir):
    for vid, duration in _durations(bliss_sample_dir).items():
        sentences = _json(bliss_sample_dir / vid / "transcript.json")
        clips = _json(bliss_sample_dir / vid / "annotations.json")["clips"]
        assert [c["index"] for c in clips] == list(range(math.ceil(duration / 300)))
        for clip in clips:
            lo, hi = 300 * clip["index"], 300 * (clip["index"] + 1)
            words = set().union(*(_words(s["text"]) for s in sentences if s["start"] < hi and s["end"] > lo))
            assert 3 <= len(clip["keywords"]) <= 6
            assert len(set(clip["keywords"])) == len(clip["keywords"])
            missing = [k for k in clip["keywords"] if k.lower() not in words]
            assert not missing, f"{vid} clip {clip['index']}: keywords {missing} are not in its sentences"
            assert 1 <= len(re.findall(r"[.!?](\s|$)", clip["summary"])) <= 2, clip["summary"]


def test_metadata_and_splits(bliss_sample_dir):
    for vid in IDS:
        meta = _json(bliss_sample_dir / vid / "metadata.json")
        assert {"title", "description", "creative_fields", "tools", "streamer", "url"} <= set(meta)
        assert meta["url"].startswith("https://www.behance.net/videos/")
        assert meta["creative_fields"] and meta["tools"] and meta["title"] and meta["streamer"]
    splits = _json(bliss_sample_dir / "splits.json")
    assert {k: len(v) for k, v in splits.items()} == {"train": 2, "validation": 1, "test": 1}
    assert sorted(sum(splits.values(), [])) == IDS


def _block_means(frames: np.ndarray, b: int = 8) -> np.ndarray:
    n, h, w, c = frames.shape
    x = frames[:, : h // b * b, : w // b * b].astype(np.float32)
    return x.reshape(n, h // b, b, w // b, b, c).mean(axis=(2, 4)).reshape(n, -1)


def test_thumbnails_are_altered_video_frames_at_the_recorded_times(bliss_sample_dir):
    """The frame nearest (block-mean MSE, video sampled at 1 fps) to each thumbnail frame lies
    within 1 s of its recorded source time; yet the thumbnail is not a copy of that frame."""
    for vid, duration in _durations(bliss_sample_dir).items():
        times = json.loads((bliss_sample_dir / vid / "metadata.json").read_text())["thumbnail_source_times"]
        thumbs = load_thumbnail_frames(bliss_sample_dir / vid / "thumbnail")
        assert 4 <= len(thumbs) == len(times) <= 6
        assert times == sorted(times) and times[0] < duration / 4 and times[-1] > 3 * duration / 4
        batches = list(iter_frame_batches(bliss_sample_dir / vid / "video.mp4", fps=1.0, batch_size=128))
        video_t = np.concatenate([t for t, _ in batches])
        frames = np.concatenate([f for _, f in batches])
        feats = _block_means(frames)
        for thumb, t in zip(thumbs, times):
            assert thumb.shape == frames.shape[1:]
            dist = ((feats - _block_means(thumb[None])) ** 2).mean(axis=1)
            best = int(np.argmin(dist))
            assert abs(video_t[best] - t) <= 1.0, f"{vid}: thumbnail from {t} s matches {video_t[best]} s"
            assert np.abs(thumb.astype(int) - frames[best].astype(int)).mean() > 1.0


def test_generation_is_deterministic(bliss_sample_dir, tmp_path):
    again = ensure_sample(tmp_path / "again")
    first = sorted(p.relative_to(bliss_sample_dir) for p in bliss_sample_dir.rglob("*") if p.is_file())
    second = sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert first == second
    for rel in first:
        if rel.suffix in (".json", ".png") or rel.name == MARKER:
            assert (bliss_sample_dir / rel).read_bytes() == (again / rel).read_bytes(), rel
    for rel in first:
        if rel.suffix == ".png":
            assert np.array_equal(read_image(bliss_sample_dir / rel), read_image(again / rel))
    assert _durations(again) == _durations(bliss_sample_dir)


def test_second_call_does_not_regenerate(bliss_sample_dir):
    before = {p: p.stat().st_mtime_ns for p in bliss_sample_dir.rglob("*")}
    assert ensure_sample(bliss_sample_dir) == bliss_sample_dir
    assert {p: p.stat().st_mtime_ns for p in bliss_sample_dir.rglob("*")} == before


@pytest.fixture
def tiny_streams(monkeypatch):
    """One short stream, so the regeneration mechanics are tested in a second, not ten."""
    short = dataclasses.replace(bliss_sample.STREAMS[0], duration=100.0)
    monkeypatch.setattr(bliss_sample, "STREAMS", (short,))
    return short


def _siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p != path)


def test_partial_directory_is_regenerated(tmp_path, tiny_streams):
    target = tmp_path / "sample"
    (target / tiny_streams.id).mkdir(parents=True)
    (target / tiny_streams.id / "video.mp4").write_bytes(b"half a video")
    assert ensure_sample(target) == target
    assert (target / MARKER).is_file()
    assert 99 <= video_duration(target / tiny_streams.id / "video.mp4") <= 101
    assert _siblings(target) == [], "no temporary directory is left behind"


def test_old_marker_version_is_regenerated(tmp_path, tiny_streams):
    target = ensure_sample(tmp_path / "sample")
    (target / MARKER).write_text(json.dumps({"version": 0, "files": []}))
    (target / tiny_streams.id / "transcript.json").unlink()
    ensure_sample(target)
    assert json.loads((target / MARKER).read_text())["version"] == bliss_sample.SAMPLE_VERSION
    assert (target / tiny_streams.id / "transcript.json").is_file()


def test_force_regenerates(tmp_path, tiny_streams):
    target = ensure_sample(tmp_path / "sample")
    meta = target / tiny_streams.id / "metadata.json"
    meta.write_text("{}")
    assert ensure_sample(target) == target and meta.read_text() == "{}"  # marker says complete
    ensure_sample(target, force=True)
    assert json.loads(meta.read_text())["title"] == tiny_streams.title


def test_interrupted_generation_leaves_nothing(tmp_path, tiny_streams, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("collectors.synthetic.write_video", broken)  # the sample imports it when it writes
    target = tmp_path / "sample"
    with pytest.raises(KeyboardInterrupt):
        ensure_sample(target)
    assert not target.exists() and _siblings(target) == []


def test_refuses_to_replace_a_foreign_directory(tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "thesis.tex").write_text("precious")
    with pytest.raises(ValueError, match="not a BLiSS sample"):
        ensure_sample(target)
    assert (target / "thesis.tex").read_text() == "precious"


def test_default_location_follows_env(tmp_path, monkeypatch):
    monkeypatch.setenv("VSUMHUB_CACHE", str(tmp_path))
    assert bliss_sample.default_cache_dir() == tmp_path / "bliss-sample-v1"
    monkeypatch.delenv("VSUMHUB_CACHE")
    assert bliss_sample.default_cache_dir() == Path(os.path.expanduser("~")) / ".cache" / "vsumhub" / "bliss-sample-v1"
