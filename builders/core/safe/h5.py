"""HDF5 release files read without following them out of the file.

HDF5 can make a dataset read bytes of another file: an external link (``/etc/passwd`` via another
h5), a soft link to a path that is not in the file, external storage (``external=[("/etc/passwd",
0, 33)]``: the dataset's bytes *are* that file), or a virtual dataset mapping other files. ``open_h5``
refuses a file with any link that leaves it (every link is visited once, without following it);
``read`` refuses external storage and virtual datasets, and an array bigger than the limit, before
reading a byte of it.
"""

from __future__ import annotations

import math
import os

import numpy as np

from builders.core import safe
from common.safefiles import UnsafeFileError, check_regular


def open_h5(path: str | os.PathLike):
    """The file opened read-only, if it is a regular HDF5 file whose links all stay inside it.
    FileNotFoundError for a missing file, UnsafeFileError otherwise (naming the file and the link)."""
    import h5py

    st = check_regular(path)
    if st.st_size == 0:
        raise UnsafeFileError(f"{path} is empty (0 bytes), not an HDF5 file")
    if not h5py.is_hdf5(path):
        raise UnsafeFileError(f"{path} is not an HDF5 file")
    try:
        f = h5py.File(path, "r")
    except OSError as e:
        raise UnsafeFileError(f"{path} cannot be read as HDF5: {e}") from None
    try:
        check_links(f, path)
    except BaseException:
        f.close()
        raise
    return f


def check_links(f, path) -> None:
    """UnsafeFileError for the first external link, or soft link to nothing in the file. Links are
    listed without following any; soft links are resolved only once no external link is left."""
    import h5py

    links: list[tuple[str, object]] = []
    try:
        f.visititems_links(lambda name, link: links.append((name, link)))
    except (KeyError, RuntimeError, OSError) as e:
        raise UnsafeFileError(f"{path}: its links cannot be listed ({e})") from None
    for name, link in links:
        if isinstance(link, h5py.ExternalLink):
            raise UnsafeFileError(f"{path}: /{name} is an external link to {link.filename}:{link.path}: refused "
                                  "(a release file must not read other files)")
    for name, link in links:
        if isinstance(link, h5py.SoftLink) and f.get(name) is None:
            raise UnsafeFileError(f"{path}: /{name} is a soft link to {link.path}, which is not in the file: refused")


def dataset(group, key: str, source: str = ""):
    """``group[key]`` if it is a dataset reached by a link inside the file, else None (missing, a group)."""
    import h5py

    link = group.get(key, getlink=True)
    if link is None:
        return None
    if isinstance(link, h5py.ExternalLink):
        raise UnsafeFileError(f"{source or group.file.filename}: {group.name}/{key} is an external link: refused")
    node = group.get(key)
    return node if isinstance(node, h5py.Dataset) else None


def check(dset, source: str = "") -> int:
    """The bytes ``dset`` holds, if it may be read: its data in this file (no external storage, not
    virtual), no bigger than --max-array-bytes. UnsafeFileError otherwise."""
    def where() -> str:  # an object's name costs a search of the file: only for the message
        return f"{source or dset.file.filename}: {dset.name or '(an object reference)'}"

    if dset.external:
        files = ", ".join(str(e[0]) for e in dset.external)
        raise UnsafeFileError(f"{where()} stores its data in other files ({files}): refused")
    if dset.is_virtual:
        raise UnsafeFileError(f"{where()} is a virtual dataset (its data lives in other files): refused")
    nbytes = math.prod(dset.shape) * dset.dtype.itemsize if dset.shape is not None else 0
    if nbytes > safe.LIMITS.max_array_bytes:
        raise UnsafeFileError(f"{where()} declares {dset.dtype}{list(dset.shape)}, {nbytes} bytes, more than "
                              f"--max-array-bytes {safe.LIMITS.max_array_bytes} (refused before reading)")
    return nbytes


def read(dset, source: str = "") -> np.ndarray:
    """The whole dataset as an array, after ``check``."""
    check(dset, source)
    return np.asarray(dset[()])
