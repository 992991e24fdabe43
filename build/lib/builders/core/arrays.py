"""Feature arrays as releases ship them: one ``.npy`` per video, read with a clear error for a bad file."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from collectors.records import ItemError


def load_array(path: Path, what: str, item_id: str, dim: int | None = None) -> np.ndarray:
    """A finite float32 [rows, D] array (D = ``dim`` when given); ItemError ``unavailable`` for a missing
    file, ``bad_media`` for anything else (not an array, pickled, wrong shape or width, NaN / inf)."""
    try:
        a = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise ItemError("unavailable", f"{what} file not found: {path}", item_id) from None
    except (OSError, ValueError) as e:
        raise ItemError("bad_media", f"{path}: not a numpy array file ({e})", item_id) from None
    if not isinstance(a, np.ndarray) or a.ndim != 2 or a.dtype.kind not in "iuf" or not np.all(np.isfinite(a)):
        shape = f"{a.dtype}{list(a.shape)}" if isinstance(a, np.ndarray) else type(a).__name__
        raise ItemError("bad_media", f"{path}: expected a finite [clips, dim] array, got {shape}", item_id)
    if dim is not None and a.shape[1] != dim:
        raise ItemError("bad_media", f"{path}: {what} rows are {a.shape[1]}-d, expected {dim}", item_id)
    return a.astype(np.float32)
