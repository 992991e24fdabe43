"""RawItem: one source video as the collectors hand it on (one JSON line of manifest.jsonl).

Collectors never raise for a bad item: they return a RawItem with ``status="failed"`` and an
``error`` of a known kind, so a run records every failure and still builds everything else.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

from common.safefiles import json_loads

SCHEMA_VERSION = 1

# Every failure is one of these kinds; `message` says the specifics.
ERROR_KINDS = (
    "unavailable",
    "private",
    "age_restricted",
    "geo_blocked",
    "bot_check",
    "blocked",
    "rate_limited",
    "timeout",
    "no_heatmap",
    "no_transcript",
    "bad_transcript",
    "no_thumbnail",
    "bad_thumbnail",
    "bad_media",
    "no_video",
    "no_audio",
    "no_text",
    "bad_metadata",
    "bad_annotation",
    "parse_error",  # a page did not hold what a selector looks for (the message names the selector)
    "missing_weights",
    "oom",
    "error",
)

TRANSCRIPT_SOURCES = ("manual", "auto", "whisper", "provided")

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
_UNSAFE, _UNSAFE_RUNS = re.compile(r"[^A-Za-z0-9_-]"), re.compile(r"[^A-Za-z0-9_-]+")


class ItemError(Exception):
    """A problem with one item, of a known kind; the job (or the build) records it and moves on.

    ``details`` go into the record too (e.g. the eccv16 importer's ``key``: the h5 key at fault).
    """

    def __init__(self, kind: str, message: str, item_id: str | None = None, **details):
        if kind not in ERROR_KINDS:
            raise ValueError(f"unknown error kind {kind!r}; known: {', '.join(ERROR_KINDS)}")
        self.kind = kind
        self.message = message
        self.item_id = item_id
        self.details = details
        super().__init__(f"{item_id}: {kind}: {message}" if item_id else f"{kind}: {message}")

    def as_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message, **self.details}


def check_item_id(item_id: str) -> str:
    """Ids become file names and webdataset keys: letters, digits, '_' and '-' only."""
    if not isinstance(item_id, str) or not _SAFE_ID.match(item_id):
        raise ValueError(
            f"item id {item_id!r} is not filesystem-safe: use 1-128 characters from "
            "[A-Za-z0-9_-], starting with a letter or digit"
        )
    return item_id


def safe_id(text: str, collapse: bool = False) -> str:
    """``text`` with every character outside [A-Za-z0-9_-] replaced by "_" (each run of them by one
    "_" with ``collapse``): a webdataset key or file name. Never empty."""
    return (_UNSAFE_RUNS if collapse else _UNSAFE).sub("_", str(text)) or "_"


def item_id(text: str) -> str:
    """A valid item id (:func:`check_item_id`) for any text: the text itself when it is one, else a
    slug of it and a hash of the whole, so two texts never share an id (YouTube ids may start with '-')."""
    try:
        return check_item_id(text)
    except ValueError:
        slug = safe_id(text, collapse=True).strip("_-")[:100] or "v"
        return f"{slug}-{hashlib.sha1(str(text).encode()).hexdigest()[:8]}"


def check_transcript(sentences: Iterable[dict], item_id: str | None = None) -> list[dict]:
    """Validate and normalise a transcript: a list of {start, end, text} in seconds.

    Raises ItemError(bad_transcript) naming the first bad sentence; sorts by start time.
    """
    out = []
    for i, s in enumerate(sentences):
        if not isinstance(s, dict) or not {"start", "end", "text"} <= set(s):
            raise ItemError("bad_transcript", f"sentence {i} is not an object with start, end and text: {s!r}", item_id)
        try:
            start, end = float(s["start"]), float(s["end"])
        except (TypeError, ValueError):
            raise ItemError("bad_transcript", f"sentence {i} has non-numeric times: {s!r}", item_id) from None
        if not (math.isfinite(start) and math.isfinite(end)):
            raise ItemError("bad_transcript", f"sentence {i} has non-finite times: {s!r}", item_id)
        if start < 0:
            raise ItemError("bad_transcript", f"sentence {i} starts before 0 s (start={start})", item_id)
        if end < start:
            raise ItemError(
                "bad_transcript", f"sentence {i} ends before it starts (start={start}, end={end}): {s['text']!r}", item_id
            )
        if not isinstance(s["text"], str):
            raise ItemError("bad_transcript", f"sentence {i} text is not a string: {s!r}", item_id)
        out.append({"start": start, "end": end, "text": s["text"]})
    out.sort(key=lambda s: (s["start"], s["end"]))
    return out


@dataclasses.dataclass
class RawItem:
    id: str
    source: str
    url: str = ""
    title: str = ""
    description: str = ""
    duration: float | None = None
    media: dict[str, str] = dataclasses.field(default_factory=dict)
    transcript: list[dict] = dataclasses.field(default_factory=list)
    transcript_source: str | None = None
    heatmap: list[dict] = dataclasses.field(default_factory=list)
    article: dict | None = None
    views: int | None = None
    meta: dict[str, Any] = dataclasses.field(default_factory=dict)
    status: str = "ok"
    error: dict | None = None
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self):
        check_item_id(self.id)
        if self.status not in ("ok", "failed"):
            raise ValueError(f"{self.id}: status must be 'ok' or 'failed', got {self.status!r}")
        if self.status == "failed" and not (isinstance(self.error, dict) and isinstance(self.error.get("kind"), str)):
            raise ValueError(f"{self.id}: a failed item needs an error {{kind, message}}, got {self.error!r:.60}")
        if self.transcript_source is not None and self.transcript_source not in TRANSCRIPT_SOURCES:
            raise ValueError(f"{self.id}: transcript_source must be one of {TRANSCRIPT_SOURCES}")

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def failed(self, err: ItemError) -> "RawItem":
        """This item, marked failed with `err` (the record of what went wrong)."""
        return dataclasses.replace(self, status="failed", error=err.as_dict())

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    def input_problems(self, modality: str) -> str | None:
        """What is malformed in the fields an extractor of ``modality`` reads (None: nothing).

        A manifest line with such a field still reads (its id is fine); the job records the item as
        failed (bad_metadata / bad_transcript) and extracts its neighbours as usual.
        """
        def what(value) -> str:
            article = "an" if type(value).__name__[0] in "aeiou" else "a"
            return f"{article} {type(value).__name__} ({value!r:.60})"

        if modality == "text":
            if not isinstance(self.transcript, list):
                return f"transcript is {what(self.transcript)}, not a list of {{start, end, text}}"
            try:
                check_transcript(self.transcript, self.id)
            except ItemError as e:
                return e.message
            return None
        if not isinstance(self.media, dict):
            return f"media is {what(self.media)}, not an object of paths"
        for key, value in self.media.items():
            if value is not None and not isinstance(value, str):
                return f"media[{key!r}] is {what(value)}, not a path"
            if value and "\x00" in value:  # the OS refuses it (ValueError, not an OSError)
                return f"media[{key!r}] holds a NUL character, not a path ({value!r:.60})"
        return None

    @classmethod
    def from_dict(cls, d: dict) -> "RawItem":
        if not isinstance(d, dict):
            raise ValueError(f"a JSON {type(d).__name__}, not an object (one RawItem per line)")
        if "id" not in d or "source" not in d:
            raise ValueError(f"no {'id' if 'id' not in d else 'source'!r} field (every RawItem has an id and a source)")
        version = d.get("schema_version", SCHEMA_VERSION)
        if version > SCHEMA_VERSION:
            raise ValueError(
                f"manifest item {d.get('id')!r} has schema_version {version}, newer than this code ({SCHEMA_VERSION}): upgrade"
            )
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def read_manifest(path: str | os.PathLike) -> Iterator[RawItem]:
    """Items of a manifest.jsonl; the line number is in the error for a malformed line."""
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield RawItem.from_dict(json_loads(line, f"{path}:{lineno}"))
            except (json.JSONDecodeError, TypeError, ValueError) as e:
                raise ValueError(f"{path}:{lineno}: malformed manifest line: {e}") from e


def write_manifest(path: str | os.PathLike, items: Iterable[RawItem]) -> int:
    """Write a whole manifest atomically (temporary name, then rename); returns the count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    n = 0
    with open(tmp, "w", encoding="utf-8") as f:
        for item in items:
            f.write(item.to_json() + "\n")
            n += 1
    os.replace(tmp, path)
    return n
