"""Files written whole or not at all, and cheap identities of files."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import uuid
from pathlib import Path


def temp_name(path: str | os.PathLike) -> Path:
    """A temporary sibling no other process uses (pid + random), renamed over ``path`` when complete."""
    path = Path(path)
    return path.with_name(f".{path.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")


def write_json(path: str | os.PathLike, obj, *, indent: int | None = 2, sort_keys: bool = False,
               ensure_ascii: bool = False, newline: bool = True) -> Path:
    """JSON written under a temporary name and renamed: readers see the old file or the new one,
    never half of one. A failed write (unserialisable value, full disk) leaves no temporary file.

    numpy scalars and arrays become numbers and lists, paths strings, anything else its ``str``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        text = json.dumps(obj, indent=indent, sort_keys=sort_keys, ensure_ascii=ensure_ascii, default=_plain)
        tmp.write_text(text + ("\n" if newline else ""), encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _plain(o):
    if hasattr(o, "tolist") and type(o).__module__ == "numpy":  # numpy scalar or array, without importing numpy
        return o.tolist()
    return str(o)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def files_fingerprint(path: str | os.PathLike | None) -> str:
    """Cheap identity of a file, or of a directory's files: names, sizes and modification times
    (sha1). "" for no path; a missing path fingerprints as no files."""
    if not path:
        return ""
    p = Path(path)
    try:  # one stat for the common case, a file (a job's rerun fingerprints every done item's media)
        st = p.stat()
    except OSError:
        st = None
    if st is not None and stat.S_ISREG(st.st_mode):
        parts = [f"{p.name}:{st.st_size}:{st.st_mtime_ns}"]
    else:
        files = sorted(p.rglob("*")) if st is not None and stat.S_ISDIR(st.st_mode) else []
        parts = [f"{f.name}:{st.st_size}:{st.st_mtime_ns}" for f in files if f.is_file() and (st := f.stat())]
    return hashlib.sha1("|".join(parts).encode()).hexdigest()
