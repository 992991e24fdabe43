"""Load the pickled-dict ``.npy`` files that papers release, without trusting them.

``np.load(path, allow_pickle=True)`` runs whatever the pickle stream names: a downloaded
feature file can call ``os.system``. Here the stream is read by an unpickler whose
``find_class`` resolves only the globals numpy arrays and plain containers need, from a
fixed table (nothing is imported by name), so anything else raises ``UnsafePickleError``
before it is called.

What ``np.save(path, {key: array}, allow_pickle=True)`` references (checked with numpy 2.4,
protocols 2-5; numpy 1.x writes the same names under ``numpy.core``):

- ``numpy._core.multiarray._reconstruct`` / ``numpy.core.multiarray._reconstruct``
- ``numpy.ndarray``, ``numpy.dtype``
- ``numpy._core.multiarray.scalar`` / ``numpy.core.multiarray.scalar`` (numpy scalars)
- ``numpy._core.numeric._frombuffer`` / ``numpy.core.numeric._frombuffer`` (protocol 5 only)
- ``builtins`` dict, list, tuple, set, frozenset, int, float, str, bytes, bool, complex and
  ``collections.OrderedDict`` (``__builtin__`` is read as ``builtins`` for Python 2 streams).
"""

from __future__ import annotations

import collections
import pickle
from pathlib import Path

import numpy as np
from numpy.lib import format as npy_format


class NpyDictError(ValueError):
    """The file is not a readable pickled dict of arrays (truncated, plain array, wrong shape)."""


class UnsafePickleError(NpyDictError):
    """The pickle stream names a global outside the allow-list; nothing was called."""


def _numpy_core_function(module: str, name: str):
    """The function from numpy's private core, wherever this numpy keeps it."""
    for prefix in ("numpy._core", "numpy.core"):
        try:
            mod = __import__(f"{prefix}.{module}", fromlist=[name])
        except ImportError:
            continue
        if hasattr(mod, name):
            return getattr(mod, name)
    raise ImportError(f"numpy has no {module}.{name}")


def _allowed_globals() -> dict[tuple[str, str], object]:
    table: dict[tuple[str, str], object] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("collections", "OrderedDict"): collections.OrderedDict,
    }
    for module, name in (("multiarray", "_reconstruct"), ("multiarray", "scalar"), ("numeric", "_frombuffer")):
        obj = _numpy_core_function(module, name)
        for prefix in ("numpy._core", "numpy.core"):
            table[(f"{prefix}.{module}", name)] = obj
    for builtin in (dict, list, tuple, set, frozenset, int, float, str, bytes, bool, complex):
        table[("builtins", builtin.__name__)] = builtin
        table[("__builtin__", builtin.__name__)] = builtin
    return table


ALLOWED_GLOBALS: dict[tuple[str, str], object] = _allowed_globals()


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves globals from ``ALLOWED_GLOBALS`` only."""

    def __init__(self, file, source: str = "<stream>") -> None:
        # latin1 is what numpy uses for Python 2 streams; Python 3 streams carry no byte strings as str.
        super().__init__(file, encoding="latin1")
        self.source = source

    def find_class(self, module: str, name: str):
        try:
            return ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self.source}: refusing to unpickle global {module}.{name} "
                "(only numpy arrays and plain containers are allowed)"
            ) from None


def _read_header(f, path: Path) -> tuple[tuple[int, ...], bool, np.dtype]:
    version = npy_format.read_magic(f)
    if version == (1, 0):
        return npy_format.read_array_header_1_0(f)
    if version == (2, 0):
        return npy_format.read_array_header_2_0(f)
    raise NpyDictError(f"{path}: unsupported .npy format version {version}")


def load_npy_dict(path: str | Path) -> dict[str, np.ndarray]:
    """Read ``np.save(path, {str: ndarray}, allow_pickle=True)`` safely; raise on anything else."""
    path = Path(path)
    with open(path, "rb") as f:
        try:
            shape, _, dtype = _read_header(f, path)
        except NpyDictError:
            raise
        except (ValueError, EOFError) as exc:
            raise NpyDictError(f"{path}: not a readable .npy file (truncated or corrupt header): {exc}") from None
        if not dtype.hasobject:
            raise NpyDictError(f"{path}: expected a pickled dict, found a plain {dtype} array of shape {shape}")
        try:
            obj = RestrictedUnpickler(f, source=str(path)).load()
        except UnsafePickleError:
            raise
        except (EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, IndexError) as exc:
            raise NpyDictError(f"{path}: truncated or corrupt pickle stream: {type(exc).__name__}: {exc}") from None
    if isinstance(obj, np.ndarray) and obj.dtype.hasobject and obj.shape == ():
        obj = obj.item()
    if not isinstance(obj, dict):
        raise NpyDictError(f"{path}: expected a pickled dict, found {type(obj).__name__}")
    for key, value in obj.items():
        if not isinstance(key, str):
            raise NpyDictError(f"{path}: expected str keys, found {type(key).__name__} key {key!r}")
        if not isinstance(value, np.ndarray) or value.dtype.hasobject:
            kind = f"{value.dtype} array" if isinstance(value, np.ndarray) else type(value).__name__
            raise NpyDictError(f"{path}: expected a numeric array for key {key!r}, found {kind}")
    return dict(obj)
