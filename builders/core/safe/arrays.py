"""Feature arrays as releases ship them (``.npy`` per video, ``.npz`` with named arrays), read without
trusting their headers: the declared shape and dtype are checked against the limit and against the
bytes the file holds before numpy allocates (a 128-byte file declaring a 1 TiB array is refused)."""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format

from builders.core import safe
from collectors.records import ItemError
from common.safefiles import UnsafeFileError, open_regular


def _header(f, source) -> tuple[tuple[int, ...], bool, np.dtype]:
    try:
        version = npy_format.read_magic(f)
        if version == (1, 0):
            return npy_format.read_array_header_1_0(f)
        if version == (2, 0):
            return npy_format.read_array_header_2_0(f)
    except (ValueError, EOFError, SyntaxError) as e:
        raise UnsafeFileError(f"{source}: not a .npy array (bad header: {e})") from None
    raise UnsafeFileError(f"{source}: unsupported .npy format version {version}")


def check_header(shape, dtype: np.dtype, held: int | None, source) -> int:
    """The bytes an array of ``shape`` / ``dtype`` needs, if within the limit and the ``held`` bytes the
    file has for it; UnsafeFileError otherwise (nothing allocated)."""
    if dtype.hasobject:
        raise UnsafeFileError(f"{source}: a pickled object array, not numbers (refused: pickles can run code)")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > safe.LIMITS.max_array_bytes:
        raise UnsafeFileError(f"{source}: declares a {dtype}{list(shape)} array of {nbytes} bytes, more than "
                              f"--max-array-bytes {safe.LIMITS.max_array_bytes} (refused before allocating)")
    if held is not None and nbytes > held:
        raise UnsafeFileError(f"{source}: declares a {dtype}{list(shape)} array of {nbytes} bytes but holds "
                              f"{held} (truncated or hostile)")
    return nbytes


def read_npy(path: str | os.PathLike) -> np.ndarray:
    """One ``.npy`` array (no pickles), its header checked first."""
    with open_regular(path) as f:
        shape, _, dtype = _header(f, path)
        check_header(shape, dtype, os.fstat(f.fileno()).st_size - f.tell(), path)
        f.seek(0)
        return npy_format.read_array(f, allow_pickle=False)


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` (by name, without ``.npy``), each member's header checked first."""
    with open_regular(path) as f:
        try:
            zf = zipfile.ZipFile(f)
        except zipfile.BadZipFile as e:
            raise UnsafeFileError(f"{path}: not an .npz archive ({e})") from None
        out = {}
        with zf:
            for info in zf.infolist():
                source = f"{path}[{info.filename}]"
                with zf.open(info) as m:
                    shape, _, dtype = _header(m, source)
                    check_header(shape, dtype, info.file_size - m.tell(), source)
                with zf.open(info) as m:
                    out[info.filename.removesuffix(".npy")] = npy_format.read_array(m, allow_pickle=False)
        return out


def item_read(read, path: Path, what: str, item_id: str, unreadable: str = "not a numpy array file"):
    """``read(path)`` for one item: ItemError ``unavailable`` for a missing file, ``bad_media`` for anything
    else (not a regular file, too big for the limit, not an array file), each naming the file."""
    try:
        return read(path)
    except FileNotFoundError:
        raise ItemError("unavailable", f"{what} file not found: {path}", item_id) from None
    except UnsafeFileError as e:
        raise ItemError("bad_media", str(e), item_id) from None
    except (OSError, ValueError, EOFError) as e:
        raise ItemError("bad_media", f"{path}: {unreadable} ({e})", item_id) from None


def load_array(path: Path, what: str, item_id: str, dim: int | None = None) -> np.ndarray:
    """A finite float32 [rows, D] array (D = ``dim`` when given); ItemError ``unavailable`` for a missing
    file, ``bad_media`` for anything else (not a regular file, not an array, pickled, too big for the
    limit, wrong shape or width, NaN / inf)."""
    return checked(item_read(read_npy, path, what, item_id), path, what, item_id, dim)


def checked(a, path, what: str, item_id: str, dim: int | None = None) -> np.ndarray:
    """``a`` as finite float32 [rows, D]; ItemError ``bad_media`` naming ``path`` otherwise."""
    if not isinstance(a, np.ndarray) or a.ndim != 2 or a.dtype.kind not in "iuf" or not np.all(np.isfinite(a)):
        shape = f"{a.dtype}{list(a.shape)}" if isinstance(a, np.ndarray) else type(a).__name__
        raise ItemError("bad_media", f"{path}: expected a finite [clips, dim] array, got {shape}", item_id)
    if dim is not None and a.shape[1] != dim:
        raise ItemError("bad_media", f"{path}: {what} rows are {a.shape[1]}-d, expected {dim}", item_id)
    return a.astype(np.float32)
