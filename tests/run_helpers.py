"""Test-only extractors for tests/test_run.py, importable by the Dask workers (same sys.path).

Their tracks are a pure function of the item id, so a test can tell a row from a duplicate or a
mix-up; markers in a directory count how often each item was really extracted.
"""

from __future__ import annotations

import glob
import hashlib
import os
import signal
import stat
import threading
import time
import uuid
from pathlib import Path

import numpy as np

from collectors.records import ItemError
from extractors.base import Extractor, FeatureTrack, TextExtractor


def expected_values(item_id: str, steps: int = 4, dim: int = 8) -> np.ndarray:
    seed = int(hashlib.sha1(item_id.encode()).hexdigest()[:8], 16)
    return np.random.default_rng(seed).standard_normal((steps, dim)).astype(np.float32)


class Fake(Extractor):
    """Sleeps ``delay`` seconds per item (in small steps, like a decode loop), returns a known track."""

    name = "fake"
    modality = "visual"

    def __init__(self, delay: float = 0.0, marker_dir: str | None = None, device: str = "cpu"):
        self.delay, self.marker_dir, self.device = delay, marker_dir, device

    def config(self) -> dict:
        return {"extractor": self.name, "steps": 4, "dim": 8}

    def meta(self) -> dict:
        return {**self.config(), "dim": 8}

    @property
    def dim(self) -> int:
        return 8

    def mark(self, item_id: str) -> int:
        """Record one call for item_id; returns how many calls there were before this one."""
        if not self.marker_dir:
            return 0
        before = len(list(Path(self.marker_dir).glob(f"{item_id}.*")))
        (Path(self.marker_dir) / f"{item_id}.{uuid.uuid4().hex}").touch()
        return before

    def work(self, item) -> FeatureTrack:
        end = time.time() + self.delay
        while time.time() < end:
            time.sleep(0.02)
        return FeatureTrack(np.arange(4) + 0.5, expected_values(item.id), self.meta())

    def extract(self, item) -> FeatureTrack:
        self.mark(item.id)
        return self.work(item)


def calls(marker_dir, item_id: str) -> int:
    return len(list(Path(marker_dir).glob(f"{item_id}.*")))


class FlakyOnce(Fake):
    """Fails with a transient OSError the first time it sees each item."""

    name = "flakyonce"

    def extract(self, item):
        if self.mark(item.id) == 0:
            raise OSError(5, "Input/output error (flaky mount)")
        return self.work(item)


class AlwaysFails(Fake):
    """A permanent error on every item."""

    name = "alwaysfails"

    def extract(self, item):
        self.mark(item.id)
        raise RuntimeError("model exploded")


class AlwaysOSError(Fake):
    """A transient-looking error that never goes away."""

    name = "alwaysoserror"

    def extract(self, item):
        self.mark(item.id)
        raise OSError(5, "Input/output error (mount gone)")


class ByKind(Fake):
    """Fails by the item id's prefix: oom-*, noaudio-*, slow-*, crash-*; others are fine."""

    name = "bykind"

    def extract(self, item):
        self.mark(item.id)
        if item.id.startswith("oom"):
            raise MemoryError("cannot allocate 40 GiB")
        if item.id.startswith("noaudio"):
            raise ItemError("no_audio", "no audio stream", item.id)
        if item.id.startswith("slow"):
            self.delay = 30.0
            try:
                return self.work(item)
            finally:
                self.delay = 0.0
        if item.id.startswith("crash"):
            os._exit(1)  # a segfault in a decoder, as the worker sees it
        return self.work(item)


class Counted(Fake):
    """Leaves a ``load-<pid>-<random>`` marker per construction: models load once per worker process."""

    name = "counted"

    def __init__(self, marker_dir: str, device: str = "cpu"):
        (Path(marker_dir) / f"load-{os.getpid()}-{uuid.uuid4().hex}").touch()
        super().__init__(delay=0.05, device=device)


class FlakyLoad(Fake):
    """Its constructor fails with OSError the first time in each process (weights on a flaky mount)."""

    name = "flakyload"

    def __init__(self, marker_dir: str, device: str = "cpu"):
        marker = Path(marker_dir) / f"load-{os.getpid()}"
        if not marker.exists():
            marker.touch()
            raise OSError(5, "Input/output error reading weights")
        super().__init__(marker_dir=None, device=device)


class FakeText(TextExtractor):
    """One known vector per sentence, without loading a language model."""

    name = "faketext"

    def __init__(self, device: str = "cpu"):
        self.device = device

    def config(self) -> dict:
        return {"extractor": self.name, "dim": 8}

    def meta(self) -> dict:
        return self.config()

    @property
    def dim(self) -> int:
        return 8

    def encode_texts(self, texts):
        return np.stack([expected_values(t, 1)[0] for t in texts]) if texts else np.zeros((0, 8), np.float32)


class DiesAfterItem(Fake):
    """Kills its own worker (SIGKILL) right after the shard of an item in ``kill`` is marked done.

    ``kill``: {item id: glob of that shard's stats file}. The task has returned by then, so its
    result lives only in the dead worker's memory: Dask recomputes it. Once per item (a marker).
    """

    name = "diesafter"

    def __init__(self, kill: dict, marker_dir: str, delay: float = 0.0, device: str = "cpu"):
        super().__init__(delay=delay, marker_dir=marker_dir, device=device)
        self.kill = kill

    def extract(self, item):
        track = super().extract(item)
        if item.id in self.kill:
            try:
                os.close(os.open(Path(self.marker_dir) / f"killed-{item.id}", os.O_CREAT | os.O_EXCL))
            except FileExistsError:
                return track
            threading.Thread(target=self._die_after, args=(self.kill[item.id],), daemon=True).start()
        return track

    @staticmethod
    def _die_after(stats_glob: str) -> None:
        deadline = time.time() + 60
        while not glob.glob(stats_glob) and time.time() < deadline:
            time.sleep(0.002)
        time.sleep(0.03)  # the task returns and reports its result
        os.kill(os.getpid(), signal.SIGKILL)


class Stalls(Fake):
    """Blocks in a native call when an item's video is a FIFO, as a read from a network mount that
    stopped answering does: ``open`` waits for a writer that never comes, and no exception raised
    into the thread can interrupt it."""

    name = "stalls"

    def __init__(self, loads_dir: str | None = None, **options):
        super().__init__(**options)
        if loads_dir:  # one file per model copy this process built
            (Path(loads_dir) / f"load.{os.getpid()}.{uuid.uuid4().hex}").touch()

    def extract(self, item):
        self.mark(item.id)
        path = item.media.get("video")
        if path and stat.S_ISFIFO(os.stat(path).st_mode):
            with open(path, "rb") as f:
                f.read()
        return self.work(item)


class CrashesTwice(Fake):
    """Kills its worker process (os._exit) the first two times it sees an item whose id starts with
    crash, then extracts it: a worker that died for reasons other than the item itself."""

    name = "crashestwice"

    def extract(self, item):
        if item.id.startswith("crash") and self.mark(item.id) < 2:
            os._exit(1)
        return self.work(item)
