"""The one way builders read release files: nothing in a downloaded file is trusted.

- regular files only (``check_regular`` / ``open_regular``): a FIFO, socket or device is refused at
  once, naming the file, before anything opens it;
- JSON / JSON lines (``read_json``, ``json_loads``): size and nesting checked before parsing;
- ``.npy`` / ``.npz`` (``arrays``): the header's shape and dtype checked against the limit before numpy
  allocates; no pickles;
- HDF5 (``h5``): no external links or soft links that leave the file, no external storage, no
  virtual datasets; each dataset's size checked before it is read;
- pickles (``pickles``): a restricted unpickler (no code runs), arrays bounded by the file's bytes,
  and the whole object bounded by the size it has once shared references are expanded.

A violation is an ``UnsafeFileError`` (a ValueError) naming the file: a builder turns it into the
item's failure (``bad_media`` / ``bad_annotation``) when one item's file is at fault, or into one
``error:`` line and exit 2 when it is a file every item needs.

The limits are flags every builder takes (``add_arguments``, called by ``builders.core.base.parser``);
``LIMITS`` holds the ones in force (``using`` sets them for a block).
"""

from __future__ import annotations

import contextlib
import dataclasses

from common.safefiles import MAX_JSON_BYTES, MAX_JSON_DEPTH, UnsafeFileError, check_regular, open_regular

GiB = 1 << 30


@dataclasses.dataclass(frozen=True)
class Limits:
    max_array_bytes: int = 2 * GiB  # one array read from a .npy / .npz / h5 dataset / pickle
    max_pickle_bytes: int = 4 * GiB  # everything one pickle builds, shared references counted each time
    max_json_bytes: int = MAX_JSON_BYTES  # one JSON document or release text file
    max_json_depth: int = MAX_JSON_DEPTH  # nesting of JSON arrays / objects
    max_annotated_duration: float = 24 * 3600.0  # seconds an annotation may give a video (arrays are sized from it)


LIMITS = Limits()

FLAGS = {  # field -> (flag, help)
    "max_array_bytes": ("--max-array-bytes", "largest array read from a release file (.npy, .npz, h5, pickle)"),
    "max_pickle_bytes": ("--max-pickle-bytes", "most a release pickle may build, shared references counted each time"),
    "max_json_bytes": ("--max-json-bytes", "largest JSON / text release file"),
    "max_json_depth": ("--max-json-depth", "deepest nesting of JSON arrays and objects"),
    "max_annotated_duration": ("--max-annotated-duration", "longest video duration (s) an annotation may give"),
}


def current() -> Limits:
    return LIMITS


def set_limits(limits: Limits) -> None:
    global LIMITS
    LIMITS = limits


@contextlib.contextmanager
def using(**changes):
    """The limits changed for a block (tests, a library call): ``with using(max_json_depth=10): ...``."""
    before = LIMITS
    set_limits(dataclasses.replace(before, **changes))
    try:
        yield LIMITS
    finally:
        set_limits(before)


def add_arguments(p) -> None:
    """The limit flags, as an argument group of the builder's parser."""
    g = p.add_argument_group("reading release files safely (every builder; docs/reliability.md)")
    for f in dataclasses.fields(Limits):
        flag, text = FLAGS[f.name]
        g.add_argument(flag, dest=f.name, type=int if f.type in ("int", int) else float, default=f.default,
                       metavar="N", help=f"{text} (default {f.default:g})")


def from_args(args) -> Limits:
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(Limits) if hasattr(args, f.name)}
    for name, value in values.items():
        if not value > 0:
            raise ValueError(f"{FLAGS[name][0]} must be positive, got {value}")
    return Limits(**values)


def read_json(path, what: str = ""):
    """A JSON release file within the limits in force."""
    from common.safefiles import read_json as read

    return read(path, LIMITS.max_json_depth, LIMITS.max_json_bytes)


def json_loads(text, source: str):
    from common.safefiles import json_loads as loads

    return loads(text, source, LIMITS.max_json_depth, LIMITS.max_json_bytes)


def read_text(path, encoding: str = "utf-8") -> str:
    """A regular text file within the JSON size limit."""
    from common.safefiles import read_text as read

    return read(path, LIMITS.max_json_bytes, encoding)


__all__ = ["GiB", "LIMITS", "Limits", "UnsafeFileError", "add_arguments", "check_regular", "current", "from_args",
           "json_loads", "open_regular", "read_json", "read_text", "set_limits", "using"]
