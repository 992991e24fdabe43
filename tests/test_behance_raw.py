"""collectors.behance: the raw BLiSS layout into RawItems; bad input gives failed items, not exceptions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from collectors.behance import read_raw_dir, read_splits
from extractors.inputs import load_thumbnail_frames
from collectors.records import ItemError, RawItem, check_transcript
from collectors.synthetic import write_video
from collectors.media import video_duration

IDS = ["stream-01", "stream-02", "stream-03", "stream-04"]


def _json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def test_reads_the_sample(bliss_sample_dir):
    items, skipped = read_raw_dir(bliss_sample_dir)
    assert skipped == []
    assert [i.id for i in items] == IDS
    for item in items:
        d = bliss_sample_dir / item.id
        meta = _json(d / "metadata.json")
        assert item.ok and item.error is None, item.error
        assert item.source == "behance"
        assert item.media == {"video": str(d / "video.mp4"), "thumbnail": str(d / "thumbnail")}
        assert item.duration == pytest.approx(video_duration(d / "video.mp4"))
        assert item.transcript == check_transcript(_json(d / "transcript.json"))
        assert item.transcript_source == "provided"
        assert (item.title, item.description, item.url) == (meta["title"], meta["description"], meta["url"])
        for key in ("creative_fields", "tools", "streamer", "thumbnail_source_times"):
            assert item.meta[key] == meta[key]
        clips = _json(d / "annotations.json")["clips"]
        assert item.meta["clip_annotations"] == {c["index"]: {"keywords": c["keywords"], "summary": c["summary"]} for c in clips}
        assert all(isinstance(k, int) for k in item.meta["clip_annotations"])
        assert RawItem.from_dict(json.loads(item.to_json())).id == item.id  # serialisable


@pytest.fixture
def raw_dir(tmp_path, bliss_sample_dir):
    """A writable input dir with two videos; tests break stream-01 and expect stream-02 to stay ok."""
    root = tmp_path / "raw"
    for vid in ("stream-01", "stream-02"):
        shutil.copytree(bliss_sample_dir / vid, root / vid)
    return root


def _edit_json(path: Path, change):
    data = _json(path)
    change(data)
    path.write_text(json.dumps(data))


def _swap_times(data):
    data[3]["start"], data[3]["end"] = data[3]["end"], data[3]["start"]


CASES = {
    "missing video": (lambda d: (d / "video.mp4").unlink(), "bad_media", "no video file"),
    "unreadable video": (lambda d: (d / "video.mp4").write_bytes(b"\x00garbage" * 100), "bad_media", "video.mp4"),
    "missing transcript": (lambda d: (d / "transcript.json").unlink(), "no_transcript", "transcript.json is missing"),
    "empty transcript": (lambda d: (d / "transcript.json").write_text("[]"), "no_transcript", "no sentences"),
    "transcript not json": (lambda d: (d / "transcript.json").write_text("[{"), "bad_transcript", "not valid JSON"),
    "transcript not a list": (lambda d: (d / "transcript.json").write_text('{"a": 1}'), "bad_transcript", "list of sentences"),
    "end before start": (lambda d: _edit_json(d / "transcript.json", _swap_times), "bad_transcript", "sentence 3 ends before it starts"),
    "sentence without text": (
        lambda d: _edit_json(d / "transcript.json", lambda t: t[0].pop("text")),
        "bad_transcript",
        "sentence 0 is not an object with start, end and text",
    ),
    "sentence after the video": (
        lambda d: _edit_json(d / "transcript.json", lambda t: t.append({"start": 5000, "end": 5003, "text": "bye"})),
        "bad_transcript",
        "starts after the video ends",
    ),
    "missing thumbnail": (lambda d: shutil.rmtree(d / "thumbnail"), "no_thumbnail", "no thumbnail in"),
    "empty thumbnail dir": (
        lambda d: [p.unlink() for p in (d / "thumbnail").iterdir()],
        "no_thumbnail",
        "holds no image",
    ),
    "missing metadata": (lambda d: (d / "metadata.json").unlink(), "bad_metadata", "metadata.json is missing"),
    "metadata not json": (lambda d: (d / "metadata.json").write_text("title: koala"), "bad_metadata", "not valid JSON"),
    "metadata not an object": (lambda d: (d / "metadata.json").write_text("[]"), "bad_metadata", "must hold an object"),
    "tools not a list": (
        lambda d: _edit_json(d / "metadata.json", lambda m: m.update(tools="Photoshop")),
        "bad_metadata",
        "'tools' must be a list of strings",
    ),
    "annotations not json": (lambda d: (d / "annotations.json").write_text("{clips"), "bad_annotation", "not valid JSON"),
    "annotations without clips": (lambda d: (d / "annotations.json").write_text("{}"), "bad_annotation", "'clips' list"),
    "duplicate clip index": (
        lambda d: _edit_json(d / "annotations.json", lambda a: a["clips"].append(dict(a["clips"][0]))),
        "bad_annotation",
        "clip index 0 appears twice",
    ),
    "clip past the end": (
        lambda d: _edit_json(d / "annotations.json", lambda a: a["clips"].append({"index": 7, "keywords": [], "summary": ""})),
        "bad_annotation",
        "clip 7 starts at 2100 s, after the video ends",
    ),
    "keywords not a list": (
        lambda d: _edit_json(d / "annotations.json", lambda a: a["clips"][1].update(keywords="koala")),
        "bad_annotation",
        "'keywords' must be a list of strings",
    ),
    "negative clip index": (
        lambda d: _edit_json(d / "annotations.json", lambda a: a["clips"][0].update(index=-1)),
        "bad_annotation",
        "'index' must be an integer >= 0",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_fails_only_that_item(raw_dir, case):
    breaker, kind, expected = CASES[case]
    breaker(raw_dir / "stream-01")
    items, skipped = read_raw_dir(raw_dir)
    assert skipped == []
    broken, good = items
    assert broken.id == "stream-01" and broken.status == "failed"
    assert broken.error["kind"] == kind
    assert expected in broken.error["message"]
    assert str(raw_dir / "stream-01") in broken.error["message"], "the message names the file or directory"
    assert good.id == "stream-02" and good.ok
    RawItem.from_dict(json.loads(broken.to_json()))  # a failed item is still a valid manifest line


def test_a_stream_without_annotations_is_unlabelled_not_failed(raw_dir):
    (raw_dir / "stream-01" / "annotations.json").unlink()  # a fresh crawl: annotations are the user's to add
    unlabelled, labelled = read_raw_dir(raw_dir).items
    assert unlabelled.ok and unlabelled.meta["clip_annotations"] is None
    assert unlabelled.transcript and unlabelled.media["thumbnail"]  # everything else is read as before
    assert labelled.ok and labelled.meta["clip_annotations"]
    assert RawItem.from_dict(json.loads(unlabelled.to_json())).meta["clip_annotations"] is None


def test_failed_item_keeps_what_was_read(raw_dir):
    shutil.rmtree(raw_dir / "stream-01" / "thumbnail")
    item = read_raw_dir(raw_dir).items[0]
    assert item.error["kind"] == "no_thumbnail"
    assert item.media["video"].endswith("video.mp4") and item.transcript and item.title


def test_other_containers_and_thumbnail_animations(raw_dir):
    d = raw_dir / "stream-01"
    (d / "video.mp4").rename(d / "video.mkv")  # the name is a hint; PyAV probes the content
    frames = load_thumbnail_frames(d / "thumbnail")
    shutil.rmtree(d / "thumbnail")
    images = [Image.fromarray(f) for f in frames]
    images[0].save(d / "thumbnail.gif", save_all=True, append_images=images[1:], duration=200)
    item = read_raw_dir(raw_dir).items[0]
    assert item.ok, item.error
    assert item.media == {"video": str(d / "video.mkv"), "thumbnail": str(d / "thumbnail.gif")}
    assert len(load_thumbnail_frames(item.media["thumbnail"])) == len(frames)


def test_skips_entries_that_cannot_be_items(raw_dir):
    shutil.copytree(raw_dir / "stream-02", raw_dir / "bad name!")
    (raw_dir / "notes.txt").write_text("hello")
    (raw_dir / ".DS_Store").write_text("")
    items, skipped = read_raw_dir(raw_dir)
    assert [i.id for i in items] == ["stream-01", "stream-02"]
    assert sorted(Path(s["path"]).name for s in skipped) == ["bad name!", "notes.txt"]
    assert all(s["reason"] for s in skipped)


def test_missing_input_dir_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_raw_dir(tmp_path / "nope")


# --- thumbnails -------------------------------------------------------------------------------


def _solid(value: int) -> np.ndarray:
    return np.full((24, 32, 3), value, np.uint8)


def test_thumbnail_dir_frames_in_file_name_order(tmp_path):
    d = tmp_path / "thumbnail"
    d.mkdir()
    for name, value in (("010.png", 200), ("002.jpg", 50), ("003.webp", 120)):
        Image.fromarray(_solid(value)).save(d / name, quality=95)
    (d / "notes.txt").write_text("not an image")
    frames = load_thumbnail_frames(d)
    assert [round(float(f.mean()), -1) for f in frames] == [50, 120, 200]
    assert all(f.dtype == np.uint8 and f.shape == (24, 32, 3) for f in frames)


@pytest.mark.parametrize("suffix", [".gif", ".webp", ".mp4"])
def test_thumbnail_animation_files(tmp_path, suffix):
    path = tmp_path / f"thumbnail{suffix}"
    values = [0, 80, 160, 240]
    if suffix == ".mp4":
        write_video(path, (_solid(v) for v in values), fps=2)
    else:  # FFmpeg reads animated GIF; animated WebP needs the Pillow fallback
        images = [Image.fromarray(_solid(v)) for v in values]
        images[0].save(path, save_all=True, append_images=images[1:], duration=100, lossless=True)
    frames = load_thumbnail_frames(path)
    assert len(frames) == len(values)
    assert [f.mean() for f in frames] == pytest.approx(values, abs=6)


def test_thumbnail_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ItemError) as e:
        load_thumbnail_frames(tmp_path / "empty")
    assert e.value.kind == "no_thumbnail"
    with pytest.raises(ItemError) as e:
        load_thumbnail_frames(tmp_path / "nothing.gif")
    assert e.value.kind == "no_thumbnail"
    bad = tmp_path / "bad"
    bad.mkdir()
    Image.fromarray(_solid(10)).save(bad / "000.png")
    (bad / "001.png").write_bytes(b"not a png")
    with pytest.raises(ItemError) as e:
        load_thumbnail_frames(bad)
    assert e.value.kind == "bad_thumbnail" and "001.png" in e.value.message
    (tmp_path / "broken.gif").write_bytes(b"GIF89a broken")
    with pytest.raises(ItemError) as e:
        load_thumbnail_frames(tmp_path / "broken.gif")
    assert e.value.kind == "bad_thumbnail" and "broken.gif" in e.value.message


# --- splits -----------------------------------------------------------------------------------


def test_read_splits_of_the_sample(bliss_sample_dir):
    splits = read_splits(bliss_sample_dir)
    assert splits == _json(bliss_sample_dir / "splits.json")
    assert sorted(sum(splits.values(), [])) == IDS


def test_no_splits_file_is_none(raw_dir):
    assert read_splits(raw_dir) is None


@pytest.mark.parametrize(
    "content, message",
    [
        ("{train: [", "not valid JSON"),
        ('["stream-01"]', "must hold an object"),
        ('{"train": ["stream-01"], "dev": ["stream-02"]}', "unknown split name(s) ['dev']"),
        ('{"train": ["stream-01"], "test": ["stream-01"]}', "'stream-01' is in split 'train' and in split 'test'"),
        ('{"train": ["stream-01", "stream-01"]}', "'stream-01' is in split 'train' and in split 'train'"),
        ('{"train": ["stream-01"], "test": ["stream-09"]}', "no directory"),
        ('{"train": "stream-01"}', "must be a list of video ids"),
    ],
)
def test_malformed_splits(raw_dir, content, message):
    (raw_dir / "splits.json").write_text(content)
    with pytest.raises(ValueError) as e:
        read_splits(raw_dir)
    assert message in str(e.value) and "splits.json" in str(e.value)
