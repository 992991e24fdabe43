"""Behance livestreams (BLiSS) from the raw directory layout described in docs/raw-layout.md.

This module reads a directory that holds livestreams in that layout: the BLiSS media a user has,
the bundled sample (builders.bliss.sample), or what the Behance crawler wrote
(collectors.behance_web). A stream without ``annotations.json`` is read as unlabelled
(``meta["clip_annotations"] is None``): the builder publishes it in a config of its own. One bad item never stops a run: it comes
back as a failed RawItem with an error of a known kind, and the builder records it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple

from collectors.records import TRANSCRIPT_SOURCES, ItemError, RawItem, check_item_id, check_transcript

SOURCE = "behance"
CLIP_SECONDS = 300  # annotation clip k covers [300 k, 300 (k + 1)) seconds of the video
VIDEO_NAMES = ("video.mp4", "video.mkv", "video.webm", "video.mov")
THUMBNAIL_FILES = ("thumbnail.gif", "thumbnail.mp4", "thumbnail.webp")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
SPLIT_NAMES = ("train", "validation", "test")
_STR_FIELDS = ("title", "description", "streamer", "url")
_LIST_FIELDS = ("creative_fields", "tools")


class RawDir(NamedTuple):
    """What :func:`read_raw_dir` found: an item per video directory, and what it had to skip."""

    items: list[RawItem]
    skipped: list[dict]  # {"path": str, "reason": str}: entries that cannot be an item at all


def read_raw_dir(input_dir: str | os.PathLike) -> RawDir:
    """Read every ``<video_id>/`` directory of `input_dir` into a RawItem (sorted by id).

    Returns ``RawDir(items, skipped)``; unpack it as ``items, skipped = read_raw_dir(d)``.
    A video directory with bad content gives a failed item (``status="failed"``, ``error``
    ``{kind, message}``), never an exception. An entry whose name is not a safe id, or a
    stray file, cannot carry an item, so it is listed in ``skipped`` with the reason.
    Hidden entries (``.name``) and ``splits.json`` are ignored.
    Raises only when `input_dir` itself is not a directory.
    """
    root = Path(input_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"raw input directory not found: {root}")
    items, skipped = [], []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.name == "splits.json":
            continue
        if not entry.is_dir():
            skipped.append({"path": str(entry), "reason": "not a video directory (a stray file)"})
            continue
        try:
            check_item_id(entry.name)
        except ValueError as e:
            skipped.append({"path": str(entry), "reason": str(e)})
            continue
        items.append(read_item(entry))
    return RawDir(items, skipped)


def read_item(video_dir: str | os.PathLike) -> RawItem:
    """One video directory as a RawItem; a failed one names the file and the problem.

    The fields found before the first problem are kept on a failed item, so the record shows
    as much as is known (e.g. the video path of an item whose transcript is broken).
    """
    d = Path(video_dir)
    fields: dict[str, Any] = {"id": check_item_id(d.name), "source": SOURCE, "media": {}}
    try:
        _read_into(d, fields)
    except ItemError as e:
        return RawItem(**fields).failed(e)
    return RawItem(**fields)


def _read_into(d: Path, fields: dict) -> None:
    # Video: exists and PyAV reads its header (decoding it is the extractors' business).
    from collectors.media import DecodeError, video_duration  # PyAV: loaded once a stream is read

    video = next((d / n for n in VIDEO_NAMES if (d / n).is_file()), None)
    if video is None:
        raise ItemError("bad_media", f"no video file in {d} (looked for {', '.join(VIDEO_NAMES)})")
    fields["media"]["video"] = str(video)
    try:
        fields["duration"] = video_duration(video)
    except DecodeError as e:
        raise ItemError("bad_media", f"{video}: {e}") from None

    meta = _read_metadata(d / "metadata.json")
    fields.update({k: meta.pop(k) for k in ("title", "description", "url") if k in meta})
    meta.setdefault("creative_fields", [])
    meta.setdefault("tools", [])
    meta.setdefault("streamer", "")
    fields["meta"] = meta

    fields["transcript"] = _read_transcript(d / "transcript.json", fields.get("duration"))
    # Who made it: "provided" unless metadata.json says (the crawler writes "whisper" for its ASR transcripts).
    told = meta.get("transcript_source")
    fields["transcript_source"] = told if told in TRANSCRIPT_SOURCES else "provided"

    fields["media"]["thumbnail"] = str(find_thumbnail(d))

    # No annotations.json: an unlabelled stream (a fresh crawl), published in a config of its own.
    path = d / "annotations.json"
    meta["clip_annotations"] = _read_annotations(path, fields.get("duration")) if path.exists() else None


def _load_json(path: Path, missing_kind: str, bad_kind: str):
    if not path.is_file():
        raise ItemError(missing_kind, f"{path} is missing")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError is a ValueError
        raise ItemError(bad_kind, f"{path} is not valid JSON ({e})") from None


def _read_metadata(path: Path) -> dict:
    meta = _load_json(path, "bad_metadata", "bad_metadata")
    if not isinstance(meta, dict):
        raise ItemError("bad_metadata", f"{path} must hold an object, got {type(meta).__name__}")
    for key in _STR_FIELDS:
        if key in meta and not isinstance(meta[key], str):
            raise ItemError("bad_metadata", f"{path}: {key!r} must be a string, got {meta[key]!r}")
    for key in _LIST_FIELDS:
        value = meta.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ItemError("bad_metadata", f"{path}: {key!r} must be a list of strings, got {value!r}")
    return meta


def _read_transcript(path: Path, duration: float | None) -> list[dict]:
    data = _load_json(path, "no_transcript", "bad_transcript")
    if not isinstance(data, list):
        raise ItemError("bad_transcript", f"{path} must hold a list of sentences, got {type(data).__name__}")
    if not data:
        raise ItemError("no_transcript", f"{path} has no sentences")
    try:
        sentences = check_transcript(data)
    except ItemError as e:
        raise ItemError(e.kind, f"{path}: {e.message}") from None
    if duration is not None and sentences[-1]["start"] > duration + 1.0:
        s = sentences[-1]
        problem = f"sentence at {s['start']} s starts after the video ends ({duration:.1f} s)"
        raise ItemError("bad_transcript", f"{path}: {problem}: {s['text']!r}")
    return sentences


def find_thumbnail(video_dir: str | os.PathLike) -> Path:
    """The thumbnail: a ``thumbnail/`` directory holding at least one image, else an animation file."""
    d = Path(video_dir)
    frames_dir = d / "thumbnail"
    if frames_dir.is_dir():
        if not image_files(frames_dir):
            raise ItemError("no_thumbnail", f"{frames_dir} holds no image ({'/'.join(IMAGE_SUFFIXES)})")
        return frames_dir
    for name in THUMBNAIL_FILES:
        if (d / name).is_file():
            return d / name
    raise ItemError("no_thumbnail", f"no thumbnail in {d} (looked for thumbnail/ and {', '.join(THUMBNAIL_FILES)})")


def image_files(d: Path) -> list[Path]:
    """The images of a thumbnail directory, sorted by file name (their order in the animation)."""
    return sorted((p for p in d.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES), key=lambda p: p.name)


def _read_annotations(path: Path, duration: float | None) -> dict[int, dict]:
    data = _load_json(path, "bad_annotation", "bad_annotation")
    clips = data.get("clips") if isinstance(data, dict) else None
    if not isinstance(clips, list):
        raise ItemError("bad_annotation", f"{path} must hold an object with a 'clips' list")
    out: dict[int, dict] = {}
    for n, clip in enumerate(clips):
        where = f"{path}: clip entry {n}"
        if not isinstance(clip, dict):
            raise ItemError("bad_annotation", f"{where} is not an object: {clip!r}")
        index, keywords, summary = clip.get("index"), clip.get("keywords"), clip.get("summary")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise ItemError("bad_annotation", f"{where}: 'index' must be an integer >= 0, got {index!r}")
        if index in out:
            raise ItemError("bad_annotation", f"{where}: clip index {index} appears twice")
        if duration is not None and index * CLIP_SECONDS >= duration:
            raise ItemError(
                "bad_annotation",
                f"{where}: clip {index} starts at {index * CLIP_SECONDS} s, after the video ends ({duration:.1f} s)",
            )
        if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
            raise ItemError("bad_annotation", f"{where}: 'keywords' must be a list of strings, got {keywords!r}")
        if not isinstance(summary, str):
            raise ItemError("bad_annotation", f"{where}: 'summary' must be a string, got {summary!r}")
        out[index] = {"keywords": keywords, "summary": summary}
    return dict(sorted(out.items()))


def read_splits(input_dir: str | os.PathLike) -> dict[str, list[str]] | None:
    """The split plan of `input_dir`/splits.json, or None when there is none.

    Raises ValueError naming the problem: malformed JSON, an unknown split name, a video in
    two splits (or twice in one), or an id without a directory in `input_dir`. Videos missing
    from every split are allowed (the caller decides what to do with them).
    """
    root = Path(input_dir)
    path = root / "splits.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold an object {{split: [video ids]}}, got {type(data).__name__}")
    unknown = sorted(set(data) - set(SPLIT_NAMES))
    if unknown:
        raise ValueError(f"{path}: unknown split name(s) {unknown}; known: {list(SPLIT_NAMES)}")
    seen: dict[str, str] = {}
    for split, ids in data.items():
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError(f"{path}: split {split!r} must be a list of video ids (strings)")
        for vid in ids:
            if vid in seen:
                raise ValueError(f"{path}: video {vid!r} is in split {seen[vid]!r} and in split {split!r}")
            seen[vid] = split
    missing = sorted(v for v in seen if not (root / v).is_dir())
    if missing:
        raise ValueError(f"{path}: video id(s) with no directory in {root}: {missing}")
    return {split: list(data[split]) for split in SPLIT_NAMES if split in data}
