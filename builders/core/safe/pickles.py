"""Load the pickled-dict ``.npy`` files (and plain pickles) that papers release, without trusting them.

``np.load(path, allow_pickle=True)`` runs whatever the pickle stream names: a downloaded
feature file can call ``os.system``. Here the stream is read by an unpickler whose
``find_class`` resolves only the globals numpy arrays and plain containers need, from a
fixed table (nothing is imported by name), so anything else raises ``UnsafePickleError``
before it is called. What the allowed globals allocate is bounded by the file's own size, checked
from the declared shape before numpy allocates (``ArraySizeError``): a tiny file cannot ask for
128 GiB. What the whole stream builds is bounded too (``expanded_size``, --max-pickle-bytes): one
object referenced 20,000 times costs 20,000 copies downstream, so it is counted 20,000 times.

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
import struct
import sys
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numpy.lib import format as npy_format

from builders.core import safe
from common.safefiles import UnsafeFileError, open_regular


class NpyDictError(UnsafeFileError):
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


class _Restricted:
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
        if nbytes > safe.LIMITS.max_array_bytes:
            raise ArraySizeError(f"{self.source}: {what} needs {nbytes} bytes, more than --max-array-bytes "
                                 f"{safe.LIMITS.max_array_bytes} (refused before allocating)")
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


class RestrictedUnpickler(_Restricted, pickle.Unpickler):
    __doc__ = _Restricted.__doc__


class SpilledArray(NamedTuple):
    """Where ``SpillFile.add`` put one array: its C-order bytes at ``offset``."""

    offset: int
    shape: tuple[int, ...]
    dtype: np.dtype


class SpillFile:
    """An append-only file of arrays (``add`` -> ``SpilledArray``, ``read`` back one at a time), so
    a pickled dict of gigabytes can be read while memory holds one array at a time. Removed on
    ``close``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._f = open(self.path, "w+b")
        self._end = 0

    def add(self, array: np.ndarray) -> SpilledArray:
        data = np.ascontiguousarray(array)
        self._f.seek(self._end)
        self._f.write(memoryview(data).cast("B") if data.size else b"")
        token = SpilledArray(self._end, tuple(data.shape), data.dtype)
        self._end += data.nbytes
        return token

    def read(self, token: SpilledArray) -> np.ndarray:
        self._f.seek(token.offset)
        n = math.prod(token.shape)
        return np.fromfile(self._f, dtype=token.dtype, count=n).reshape(token.shape) if n else np.zeros(token.shape, token.dtype)

    def close(self) -> None:
        self._f.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> SpillFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_SPENT = object()  # what the memo keeps of an array's raw bytes once the array is spilled
_BIG = 4096  # bytes objects longer than this are array data, never referenced twice by np.save


def _is_big(obj) -> bool:
    if isinstance(obj, (bytes, bytearray)):
        return len(obj) > _BIG
    return isinstance(obj, tuple) and any(isinstance(x, (bytes, bytearray)) and len(x) > _BIG for x in obj)


class SpillingUnpickler(_Restricted, pickle._Unpickler):
    """The restricted unpickler (pure-Python, so its opcodes can be hooked) that hands every numeric
    array to ``spill`` as soon as it is complete and keeps only an empty stand-in: memory holds one
    array and the dict's keys, whatever the file's size. The memo, which would keep every array's
    raw bytes alive, keeps a marker for them instead (np.save never refers back to them)."""

    dispatch = dict(pickle._Unpickler.dispatch)

    def __init__(self, file, spill, source: str = "<stream>") -> None:
        super().__init__(file, source=source)
        self.spill = spill
        self.spilled: dict[int, tuple[np.ndarray, SpilledArray]] = {}  # id(stand-in) -> (stand-in, token)
        frombuffer = ALLOWED_GLOBALS[("numpy._core.numeric", "_frombuffer")]
        self._guards[id(frombuffer)] = self._frombuffer
        self._real["frombuffer"] = frombuffer

    def token(self, array: np.ndarray) -> SpilledArray:
        """The spilled place of ``array``: spilled now (the stand-in emptied) unless it already was."""
        if id(array) not in self.spilled:
            token = self.spill(array.view(np.ndarray))
            np.ndarray.__setstate__(array, (1, (0,), array.dtype, False, b""))
            self.spilled[id(array)] = (array, token)
        return self.spilled[id(array)][1]

    def _frombuffer(self, *args):  # protocol 5 (np.save uses 4): the array views the stream's bytes
        array = self._real["frombuffer"](*args)
        if array.dtype.hasobject:
            return array
        stand_in = np.empty(0, array.dtype)
        self.spilled[id(stand_in)] = (stand_in, self.spill(array))
        return stand_in

    def load_build(self):
        inst = self.stack[-2]
        pickle._Unpickler.load_build(self)
        if isinstance(inst, self.array_type) and not inst.dtype.hasobject:
            self.token(inst)

    def _memoize(self, i: int) -> None:
        obj = self.stack[-1]
        self.memo[i] = _SPENT if _is_big(obj) else obj

    def load_put(self):
        i = int(self.readline()[:-1])
        if i < 0:
            raise ValueError("negative PUT argument")
        self._memoize(i)

    def load_binput(self):
        self._memoize(self.read(1)[0])

    def load_long_binput(self):
        i, = struct.unpack("<I", self.read(4))
        if i > sys.maxsize:
            raise ValueError("negative LONG_BINPUT argument")
        self._memoize(i)

    def load_memoize(self):
        self._memoize(len(self.memo))

    dispatch[pickle.BUILD[0]] = load_build
    dispatch[pickle.PUT[0]] = load_put
    dispatch[pickle.BINPUT[0]] = load_binput
    dispatch[pickle.LONG_BINPUT[0]] = load_long_binput
    dispatch[pickle.MEMOIZE[0]] = load_memoize


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


def load_npy_dict(path: str | Path, spill=None) -> dict[str, np.ndarray] | dict[str, SpilledArray]:
    """Read ``np.save(path, {str: ndarray}, allow_pickle=True)`` safely; raise on anything else.

    With ``spill`` (``SpillFile.add`` or any callable taking an array and returning a token) each
    array goes to ``spill`` as soon as the stream has built it and the dict maps keys to tokens:
    memory then holds one array at a time instead of the whole file (slower: a pure-Python unpickler).
    """
    path = Path(path)
    with open_regular(path) as f:
        try:
            shape, _, dtype = _read_header(f, path)
        except NpyDictError:
            raise
        except (ValueError, EOFError) as exc:
            raise NpyDictError(f"{path}: not a readable .npy file (truncated or corrupt header): {exc}") from None
        if not dtype.hasobject:
            raise NpyDictError(f"{path}: expected a pickled dict, found a plain {dtype} array of shape {shape}")
        try:
            unpickler = RestrictedUnpickler(f, source=str(path)) if spill is None else SpillingUnpickler(f, spill, str(path))
            obj = unpickler.load()
        except NpyDictError:  # unsafe globals, allocation bombs: already say what and where
            raise
        except (EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, IndexError, KeyError,
                struct.error) as exc:
            raise NpyDictError(f"{path}: truncated or corrupt pickle stream: {type(exc).__name__}: {exc}") from None
    expanded_size(obj, str(path), path.stat().st_size)
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
    if spill is not None:
        return {key: unpickler.token(value) for key, value in obj.items()}
    return {key: _plain(value) for key, value in obj.items()}


def _children(obj) -> list | None:
    if isinstance(obj, (list, tuple, set, frozenset)):
        return list(obj)
    if isinstance(obj, dict):
        return [*obj.keys(), *obj.values()]
    if isinstance(obj, np.ndarray) and obj.dtype.hasobject:
        return list(obj.flat)
    return None


def _own_size(obj) -> int:
    return sys.getsizeof(obj) + (obj.nbytes if isinstance(obj, np.ndarray) and not obj.dtype.hasobject else 0)


EXPANSION = 16  # a file may always build this many times its own size (Python objects are bigger than their pickles)


def expanded_size(root, source: str, file_bytes: int = 0) -> int:
    """The memory ``root`` takes once every shared reference is a copy of its own (what a builder that
    copies each sentence, row or list ends up holding), in one pass over the distinct objects (sizes
    memoised by identity, no recursion). ArraySizeError above --max-pickle-bytes or ``EXPANSION`` times
    the file's size, whichever is more (a 0.5 MB file that refers to one 500 kB utterance 20,000 times
    is refused; a 3 GB file of arrays is not), NpyDictError for a cycle or nesting deeper than
    --max-json-depth."""
    limit, max_depth = max(safe.LIMITS.max_pickle_bytes, EXPANSION * file_bytes), safe.LIMITS.max_json_depth
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack = [(root, 0, False)]
    while stack:
        obj, depth, done = stack.pop()
        key = id(obj)
        if done:
            on_path.discard(key)
            sizes[key] = _own_size(obj) + sum(sizes[id(c)] for c in _children(obj))
        elif key in sizes:
            continue
        elif (kids := _children(obj)) is None:
            sizes[key] = _own_size(obj)
        elif key in on_path:
            raise NpyDictError(f"{source}: a container that contains itself (refused)")
        elif depth >= max_depth:
            raise NpyDictError(f"{source}: containers nested deeper than --max-json-depth {max_depth} (refused)")
        else:
            on_path.add(key)
            stack.append((obj, depth, True))
            stack += [(c, depth + 1, False) for c in kids if id(c) not in sizes]
            continue
        if sizes[key] > limit:
            raise ArraySizeError(f"{source}: builds {sizes[key]}+ bytes once its shared references are expanded, "
                                 f"more than the limit of {limit} (--max-pickle-bytes, or {EXPANSION} x the file's size): "
                                 "a damaged or hostile file")
    return sizes[id(root)]


def _plain_tree(value, seen: dict | None = None):
    """``_plain`` through lists, tuples and dicts (a pickle may nest arrays anywhere); a shared object is
    converted once and stays shared (``expanded_size`` has bounded the nesting)."""
    seen = {} if seen is None else seen
    if id(value) in seen:
        return seen[id(value)]
    if isinstance(value, list):
        out = seen[id(value)] = []
        out += [_plain_tree(v, seen) for v in value]
    elif isinstance(value, tuple):
        out = seen[id(value)] = tuple(_plain_tree(v, seen) for v in value)
    elif isinstance(value, dict):
        out = seen[id(value)] = {}
        out.update((k, _plain_tree(v, seen)) for k, v in value.items())
    else:
        out = _plain(value)
    return out


def load_pickle(path: str | Path):
    """A plain pickle file (``pickle.dump(obj, f)``: lists, tuples, dicts, strings, numbers, numpy
    arrays and scalars) read with the restricted unpickler: anything else named in the stream raises
    UnsafePickleError before it is called; an allocation bigger than the file could hold (or than
    --max-array-bytes), or an object bigger than --max-pickle-bytes once shared references are
    expanded, ArraySizeError; a truncated or corrupt stream, NpyDictError; a FIFO or device,
    UnsafeFileError."""
    path = Path(path)
    with open_regular(path) as f:
        try:
            obj = RestrictedUnpickler(f, source=str(path)).load()
            size = f.tell()
        except NpyDictError:
            raise
        except (EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError, IndexError, KeyError) as exc:
            raise NpyDictError(f"{path}: truncated or corrupt pickle stream: {type(exc).__name__}: {exc}") from None
        except RecursionError:
            raise NpyDictError(f"{path}: a pickle stream nested too deep to read (refused)") from None
    expanded_size(obj, str(path), size)
    return _plain_tree(obj)
