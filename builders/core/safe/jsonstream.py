"""A release's big JSON object read as a stream: one value in memory at a time.

A2Summ's ``annotation/train.json`` maps ~11,000 clip ids to their sentences, times and per-frame
labels; loaded whole it is ~18 KB of Python objects a clip (406 MB at BLiSS's full size), held for
the whole import. :class:`StreamedObject` reads it twice with ijson instead: a first pass checks
the file (a regular file within ``--max-json-bytes``, nested no deeper than ``--max-json-depth``,
an object at the top) and keeps each key with one field of its value; ``items()`` then builds one
value at a time. The first pass uses ijson's ``basic_parse`` only: its other parsers build a
path string per event, which a file nested 100,000 deep turns into gigabytes.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from builders.core import safe
from common.safefiles import UnsafeFileError, open_within

_TYPES = {"start_array": "list", "string": "str", "number": "number", "boolean": "bool", "null": "NoneType"}


class StreamedObject:
    """The top-level JSON object of ``path``: ``keys`` (in file order, each with the string its value
    holds under ``field``, else None) and ``items()``, its (key, value) pairs built one at a time.

    ValueError (UnsafeFileError for the limits) names the file; a key given twice keeps its last
    value, as ``json.load`` does (at its last place in ``items()``, where json.load keeps its first).
    """

    def __init__(self, path: str | os.PathLike, field: str | None = None):
        self.path = Path(path)
        self.keys: dict[str, str | None] = {}
        self._count: Counter = Counter()
        self._scan(field)

    def _open(self):
        return open_within(self.path, safe.current().max_json_bytes)

    def _scan(self, field: str | None) -> None:
        import ijson

        limit = safe.current().max_json_depth
        depth = deepest = 0
        key = value_of = first = None
        with self._open() as f:
            try:
                for event, value in ijson.basic_parse(f, use_float=True):
                    first = first or event
                    if event in ("start_map", "start_array"):
                        depth += 1
                        deepest = max(deepest, depth)
                    elif event in ("end_map", "end_array"):
                        depth -= 1
                    elif first != "start_map":  # not an object: only its depth is read on (the worse error wins)
                        pass
                    elif depth == 1 and event == "map_key":
                        key = value
                        self.keys[key] = None
                        self._count[key] += 1
                    elif depth == 2 and event == "map_key":
                        value_of = value
                        continue
                    elif depth == 2 and field is not None and value_of == field and event == "string":
                        self.keys[key] = value
                    value_of = None
            except ijson.JSONError as e:
                if deepest <= limit:
                    raise ValueError(f"{self.path}: not valid JSON ({str(e).splitlines()[0]})") from None
        if deepest > limit:
            raise UnsafeFileError(f"{self.path}: JSON nested {deepest} deep, deeper than the limit of {limit} "
                                  "(a damaged or hostile file)")
        if first != "start_map":
            raise ValueError(f"{self.path}: expected a JSON object keyed by clip id, found "
                             f"{_TYPES.get(first, 'nothing') if first else 'nothing'}")

    def __len__(self) -> int:
        return len(self.keys)

    def items(self) -> Iterator[tuple[str, object]]:
        """(key, value) in file order, one value built at a time (a repeated key: its last value, at its last place)."""
        import ijson

        seen: Counter = Counter()
        with self._open() as f:
            try:
                for key, value in ijson.kvitems(f, "", use_float=True):
                    seen[key] += 1
                    if seen[key] == self._count[key]:
                        yield key, value
            except ijson.JSONError as e:  # changed since the first pass
                raise UnsafeFileError(f"{self.path}: not valid JSON any more ({str(e).splitlines()[0]}): changed "
                                      "while it was read?") from None
