"""Reading a file someone else made without trusting it: regular files only, JSON of bounded size and depth.

The layers above all read through these (builders through ``builders.core.safe``, which adds arrays,
HDF5 and pickles): a FIFO or a device named as a release file would block a read forever or never end
(``/dev/zero``), and ``json.loads('[' * 100000)`` is a ``RecursionError`` traceback, not a message.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

MAX_JSON_DEPTH = 100  # nesting of arrays / objects; release and manifest files nest < 10 deep
MAX_JSON_BYTES = 2 << 30  # one JSON document (a JSON lines file is checked line by line)


class UnsafeFileError(ValueError):
    """A file that cannot be read safely (not a regular file, too deep, too big, not what it claims);
    the message names the file and says why in one line."""


def file_kind(mode: int) -> str:
    return ("a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a socket"
            if stat.S_ISSOCK(mode) else "a character device" if stat.S_ISCHR(mode) else "a block device"
            if stat.S_ISBLK(mode) else "not a regular file")


def check_regular(path: str | os.PathLike) -> os.stat_result:
    """The file's stat (symlinks followed) when it is a regular file; UnsafeFileError for a FIFO, socket,
    device or directory (refused before any open: opening a FIFO blocks until a writer comes);
    FileNotFoundError as usual for a missing file."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeFileError(f"{path}: {file_kind(st.st_mode)}, not a regular file: refused")
    return st


def open_regular(path: str | os.PathLike, mode: str = "rb", encoding: str | None = None):
    """``open(path, mode)`` for reading a regular file only. Opened with O_NONBLOCK and checked again on
    the open descriptor, so a file swapped for a FIFO between the stat and the open cannot block."""
    if any(c in mode for c in "wax+"):
        raise ValueError(f"open_regular reads only, not mode {mode!r}")
    check_regular(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFileError(f"{path}: {file_kind(st.st_mode)}, not a regular file: refused")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return open(fd, mode, encoding=encoding if "b" not in mode else None, closefd=True)
    except BaseException:
        os.close(fd)
        raise


def open_within(path: str | os.PathLike, max_bytes: int):
    """open_regular(path), refused from its size before anything is read when over ``max_bytes``."""
    f = open_regular(path)
    size = os.fstat(f.fileno()).st_size
    if size > max_bytes:
        f.close()
        raise UnsafeFileError(f"{path}: {size} bytes, more than the limit of {max_bytes} (a damaged or hostile "
                              "file, or raise the limit)")
    return f


def read_bytes(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The bytes of a regular file no bigger than ``max_bytes`` (refused from its size before reading)."""
    with open_within(path, max_bytes) as f:
        return f.read(max_bytes + 1)[:max_bytes]


def read_text(path: str | os.PathLike, max_bytes: int = MAX_JSON_BYTES, encoding: str = "utf-8") -> str:
    """A regular text file of at most ``max_bytes``; UnicodeDecodeError as ``str.decode`` raises it."""
    return read_bytes(path, max_bytes).decode(encoding)


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def json_depth(text: str, chunk: int = 1 << 24) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets inside strings not counted), in
    linear time without recursion (numpy over chunks of the text with its strings blanked)."""
    import numpy as np

    data = _STRING.sub('""', text).encode("utf-8", "surrogatepass")
    depth = deepest = 0
    for start in range(0, len(data), chunk):
        b = np.frombuffer(data, np.uint8, min(chunk, len(data) - start), start)
        steps = ((b == 91) | (b == 123)).astype(np.int64) - ((b == 93) | (b == 125))  # [ { minus ] }
        if steps.any():
            levels = depth + np.cumsum(steps)
            deepest, depth = max(deepest, int(levels.max())), int(levels[-1])
    return deepest


def json_loads(text: str | bytes, source: str = "<json>", max_depth: int = MAX_JSON_DEPTH,
               max_bytes: int = MAX_JSON_BYTES):
    """``json.loads`` with a size and a nesting limit checked first: a ValueError (UnsafeFileError)
    naming ``source`` instead of a RecursionError or a memory blow-up. Malformed JSON raises
    json.JSONDecodeError as json.loads does."""
    if len(text) > max_bytes:
        raise UnsafeFileError(f"{source}: a JSON text of {len(text)} bytes, more than the limit of {max_bytes}")
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if text.count("[") + text.count("{") > max_depth and (depth := json_depth(text)) > max_depth:
        raise UnsafeFileError(f"{source}: JSON nested {depth} deep, deeper than the limit of {max_depth} "
                              "(a damaged or hostile file)")
    try:
        return json.loads(text)
    except RecursionError:  # a limit above what this interpreter's stack allows
        raise UnsafeFileError(f"{source}: JSON nested too deep for this interpreter (lower the depth limit)") from None


def read_json(path: str | os.PathLike, max_depth: int = MAX_JSON_DEPTH, max_bytes: int = MAX_JSON_BYTES,
              encoding: str = "utf-8"):
    """A JSON file, regular and within the limits; UnsafeFileError / JSONDecodeError name the file."""
    return json_loads(read_text(path, max_bytes, encoding), str(Path(path)), max_depth, max_bytes)
