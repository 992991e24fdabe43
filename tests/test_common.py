"""common: atomic JSON, file identities, module:name loading, the prefetch thread."""

import hashlib
import json
import os
import threading
import time

import numpy as np
import pytest

from common.files import files_fingerprint, sha256_file, write_json
from common.loading import load_object
from common.threads import prefetch


def test_write_json_replaces_whole_and_converts_numpy(tmp_path):
    path = tmp_path / "sub" / "a.json"
    write_json(path, {"old": 1})
    write_json(path, {"n": np.int64(3), "x": np.float32(0.5), "a": np.arange(3), "p": tmp_path, "é": "ü"})
    assert json.loads(path.read_text(encoding="utf-8")) == {"n": 3, "x": 0.5, "a": [0, 1, 2], "p": str(tmp_path), "é": "ü"}
    assert path.read_text(encoding="utf-8").endswith("}\n") and "ü" in path.read_text(encoding="utf-8")
    assert [p.name for p in path.parent.iterdir()] == ["a.json"]


def test_write_json_failure_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "a.json"
    write_json(path, {"good": True})

    class Boom:
        def __str__(self):
            raise RuntimeError("cannot serialise")

    with pytest.raises(RuntimeError, match="cannot serialise"):
        write_json(path, {"bad": Boom()})
    assert json.loads(path.read_text()) == {"good": True}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_write_json_on_a_full_disk_leaves_no_temporary(tmp_path, monkeypatch):
    from pathlib import Path

    def full(self, *a, **k):
        Path.write_bytes(self, b"{\"half")  # part of the file reached the disk, then:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(OSError, match="No space"):
        write_json(tmp_path / "a.json", {"x": 1})
    assert list(tmp_path.iterdir()) == []


def test_write_json_formats(tmp_path):
    write_json(tmp_path / "c.json", {"b": 1, "a": 2}, indent=None, newline=False, sort_keys=True)
    assert (tmp_path / "c.json").read_text() == '{"a": 2, "b": 1}'


def test_sha256_and_fingerprints(tmp_path):
    f = tmp_path / "w.bin"
    f.write_bytes(b"x" * (3 << 20))
    assert sha256_file(f) == hashlib.sha256(b"x" * (3 << 20)).hexdigest()
    d = tmp_path / "frames"
    d.mkdir()
    (d / "0.png").write_bytes(b"a")
    before, one = files_fingerprint(d), files_fingerprint(f)
    st = f.stat()  # a file: its name, size and mtime (one stat), as stored by jobs before
    assert one == hashlib.sha1(f"w.bin:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()
    assert before == hashlib.sha1(f"0.png:1:{(d / '0.png').stat().st_mtime_ns}".encode()).hexdigest()
    assert files_fingerprint(d) == before and files_fingerprint(None) == ""
    (d / "1.png").write_bytes(b"b")
    assert files_fingerprint(d) != before
    os.utime(f, ns=(1, 1))
    assert files_fingerprint(f) != one
    assert files_fingerprint(tmp_path / "missing") == hashlib.sha1(b"").hexdigest()


def test_load_object():
    assert load_object("common.files:write_json") is write_json
    with pytest.raises(ValueError, match="package.module:name"):
        load_object("common.files")
    with pytest.raises(ImportError):
        load_object("common.nope:x")
    with pytest.raises(AttributeError):
        load_object("common.files:nope")


def _prefetch_threads() -> int:
    return sum(t.name == "test-prefetch" for t in threading.enumerate())


def test_prefetch_gives_every_item_in_order_and_reraises_the_same_error():
    assert list(prefetch(range(50), depth=3, name="test-prefetch")) == list(range(50))
    err = RuntimeError("bad shard")

    def boom():
        yield 1
        raise err

    it = prefetch(boom(), name="test-prefetch")
    assert next(it) == 1
    with pytest.raises(RuntimeError) as caught:
        next(it)
    assert caught.value is err
    assert list(prefetch([ValueError("an item, not an error")]))[0].args == ("an item, not an error",)


def test_prefetch_stopped_early_ends_its_thread_even_with_a_full_queue():
    """The consumer leaves after one item while the worker is blocked on a full queue and still has its
    end marker to hand over: closing must end the thread (a plain put would block forever)."""
    closed = threading.Event()

    def items():
        try:
            yield from range(5)  # the queue (depth 1) fills at once; the worker then waits to put
        finally:
            closed.set()

    it = prefetch(items(), depth=1, name="test-prefetch")
    assert next(it) == 0
    time.sleep(0.2)  # the worker has run ahead and is waiting on the full queue
    it.close()
    assert _prefetch_threads() == 0 and closed.is_set()  # joined, and the source generator was closed


def test_prefetch_stopped_after_the_last_item_ends_its_thread():
    it = prefetch(range(2), depth=1, name="test-prefetch")
    assert next(it) == 0
    time.sleep(0.2)  # the worker has put 1 and waits to put its end marker into the full queue
    it.close()
    assert _prefetch_threads() == 0


def test_prefetch_stop_event_reaches_a_watching_iterator():
    stop = threading.Event()
    produced = []

    def watching():
        for i in range(10_000):
            if stop.is_set():
                return
            produced.append(i)
            yield i

    it = prefetch(watching(), depth=1, stop=stop, name="test-prefetch")
    next(it)
    it.close()
    assert stop.is_set() and len(produced) < 10 and _prefetch_threads() == 0
