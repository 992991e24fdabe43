"""Load the pickled-dict ``.npy`` files (and plain pickles) that papers release, without trusting them.

``np.load(path, allow_pickle=True)`` runs whatever the pickle stream names: a downloaded
feature file can call ``os.system``. Here the stream is read by an unpickler whose
``find_class`` resolves only the globals numpy arrays and plain containers need, from a
fixed table (nothing is imported by name), so anything else raises ``UnsafePickleError``
before it is called. What the allowed globals allocate is bounded by the file's own size, checked
from the declared shape before numpy allocates (``ArraySizeError``): a tiny file cannot ask for
128 GiB.

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
import math
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


class ArraySizeError(NpyDictError):
    """The stream asks for more memory than its file can hold data for (an allocation bomb); nothing
    was allocated."""


def _remaining(file) -> int | None:
    """Bytes left in a seekable stream (None when it cannot tell)."""
    try:
        pos = file.tell()
        end = file.seek(0, 2)
        file.seek(pos)
        return end - pos
    except (AttributeError, OSError, ValueError):
        return None


class RestrictedUnpickler(pickle.Unpickler):
    """An unpickler that resolves globals from ``ALLOWED_GLOBALS`` only, and bounds what they allocate.

    Every array the stream builds carries its data in the stream, so a file can never need more
    memory for arrays (or ``bytes(n)``, or a numpy scalar) than it has bytes left to read: each
    such request is checked against that budget from its declared shape and dtype *before* numpy
    allocates (a 181-byte file declaring a 128 GiB array is refused, not attempted). An object
    array's state must list exactly the elements its shape declares (numpy crashes otherwise).
    """

    def __init__(self, file, source: str = "<stream>", max_bytes: int | None = None) -> None:
        # latin1 is what numpy uses for Python 2 streams; Python 3 streams carry no byte strings as str.
        super().__init__(file, encoding="latin1")
        self.source = source
        self.file_bytes = _remaining(file) if max_bytes is None else max_bytes
        self.budget = float("inf") if self.file_bytes is None else self.file_bytes
        self.array_type = self._guarded_array_type()
        reconstruct = ALLOWED_GLOBALS[("numpy._core.multiarray", "_reconstruct")]
        scalar = ALLOWED_GLOBALS[("numpy._core.multiarray", "scalar")]
        self._guards = {id(np.ndarray): _NdarrayToken(self), id(reconstruct): self._reconstruct,
                        id(scalar): self._scalar, id(bytes): self._bytes}
        self._real = {"reconstruct": reconstruct, "scalar": scalar}

    def find_class(self, module: str, name: str):
        try:
            obj = ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self.source}: refusing to unpickle global {module}.{name} "
                "(only numpy arrays and plain containers are allowed)"
            ) from None
        return self._guards.get(id(obj), obj)

    # -- the budget ------------------------------------------------------------------------------

    def charge(self, nbytes: int, what: str) -> None:
        if nbytes > self.budget:
            held = "an unknown number of" if self.file_bytes is None else f"the {self.file_bytes}"
            raise ArraySizeError(f"{self.source}: {what} needs {nbytes} bytes, more than {held} bytes left in the "
                                 "file could hold (refused before allocating: a damaged or hostile file)")
        self.budget -= nbytes

    def _dtype(self, dtype) -> np.dtype:
        try:
            return np.dtype(dtype.decode("latin1") if isinstance(dtype, bytes) else dtype)
        except (TypeError, ValueError) as e:
            raise NpyDictError(f"{self.source}: not a numpy dtype: {dtype!r} ({e})") from None

    def _elements(self, shape) -> tuple[tuple[int, ...], int]:
        shape = (shape,) if isinstance(shape, int) else shape
        if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise NpyDictError(f"{self.source}: not an array shape: {shape!r}")
        return shape, math.prod(shape)

    def charge_array(self, shape, dtype) -> None:
        shape, n = self._elements(shape)
        dtype = self._dtype(dtype)
        self.charge(n * dtype.itemsize, f"an array of shape {shape} {dtype} ({n} elements)")

    # -- the allocating globals, bounded -------------------------------------------------------------

    def _reconstruct(self, subtype, shape, dtype):
        if not isinstance(subtype, _NdarrayToken):
            raise UnsafePickleError(f"{self.source}: refusing to reconstruct {subtype!r} (only numpy.ndarray)")
        self.charge_array(shape, dtype)
        return self._real["reconstruct"](self.array_type, shape, dtype)

    def _scalar(self, dtype, *args):
        dtype = self._dtype(dtype)
        self.charge(dtype.itemsize, f"a {dtype} scalar")
        return self._real["scalar"](dtype, *args)

    def _bytes(self, *args):
        if args and isinstance(args[0], int) and not isinstance(args[0], bool):
            self.charge(args[0], f"bytes({args[0]})")
        return bytes(*args)

    def _guarded_array_type(self) -> type:
        unpickler = self

        class GuardedArray(np.ndarray):
            """An array whose pickled state is checked before numpy reads it (load_npy_dict returns plain arrays)."""

            def __setstate__(self, state):
                if not isinstance(state, tuple) or len(state) not in (4, 5):
                    raise NpyDictError(f"{unpickler.source}: not an array state")
                shape, dtype, _fortran, raw = state[-4:]
                shape, n = unpickler._elements(shape)
                dtype = unpickler._dtype(dtype)
                if dtype.hasobject and (not isinstance(raw, list) or len(raw) != n):
                    listed = len(raw) if isinstance(raw, list) else type(raw).__name__
                    raise ArraySizeError(f"{unpickler.source}: an object array of shape {shape} declares {n} elements, "
                                         f"more than (or other than) the {listed} its state lists")
                unpickler.charge(n * dtype.itemsize, f"an array of shape {shape} {dtype} ({n} elements)")
                super().__setstate__(state)

        return GuardedArray


class _NdarrayToken:
    """What ``numpy.ndarray`` resolves to in a restricted stream: the subtype argument of
    ``_reconstruct`` (np.save's way), and a bounded constructor if the stream calls it directly."""

    def __init__(self, unpickler: RestrictedUnpickler):
        self.unpickler = unpickler

    def __call__(self, shape, dtype=float, *args, **kwargs):
        self.unpickler.charge_array(shape, dtype)
        return np.ndarray(shape, dtype, *args, **kwargs)

    def __repr__(self) -> str:
        return "numpy.ndarray"


def _plain(value):
    """A plain ndarray for the unpickler's guarded subclass (the same memory, no copy)."""
    return value.view(np.ndarray) if isinstance(value, np.ndarray) and type(value) is not np.ndarray else value


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
        except NpyDictError:  # unsafe globals, allocation bombs: already say what and where
            raise
        except (EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, IndexError) as exc:
            raise NpyDictError(f"{path}: truncated or corrupt pickle stream: {type(exc).__name__}: {exc}") from None
    obj = _plain(obj)
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
    return {key: _plain(value) for key, value in obj.items()}


def _plain_tree(value, depth: int = 0):
    """``_plain`` through lists, tuples and dicts (a pickle may nest arrays anywhere)."""
    if depth > 64:
        return value
    if isinstance(value, list):
        return [_plain_tree(v, depth + 1) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain_tree(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return {k: _plain_tree(v, depth + 1) for k, v in value.items()}
    return _plain(value)


def load_pickle(path: str | Path):
    """A plain pickle file (``pickle.dump(obj, f)``: lists, tuples, dicts, strings, numbers, numpy
    arrays and scalars) read with the restricted unpickler: anything else named in the stream raises
    UnsafePickleError before it is called; an allocation bigger than the file could hold,
    ArraySizeError; a truncated or corrupt stream, NpyDictError."""
    path = Path(path)
    with open(path, "rb") as f:
        try:
            obj = RestrictedUnpickler(f, source=str(path)).load()
        except NpyDictError:
            raise
        except (EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
            raise NpyDictError(f"{path}: truncated or corrupt pickle stream: {type(exc).__name__}: {exc}") from None
    return _plain_tree(obj)
