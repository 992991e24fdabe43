"""Work ahead on a background thread: decoding, collation."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


class _Raised:
    """An error of the iterator on its way to the consumer (an item may itself be an exception)."""

    def __init__(self, error: BaseException):
        self.error = error


def prefetch(items: Iterable[T], depth: int = 2, stop: threading.Event | None = None,
             name: str = "vsumhub-prefetch") -> Iterator[T]:
    """Iterate ``items`` on a background thread, at most ``depth`` items ahead of the consumer.

    The thread owns ``items``: it runs and closes it (a generator must be closed by the thread
    that runs it). Its errors re-raise here as the same object. When the consumer stops early
    (break, close, an error of its own) ``stop`` is set: an iterator that watches it (pass your own
    Event) ends between its steps, and the thread ends at its next hand-over whatever the queue
    holds, so it never blocks on a full queue. The thread is gone when this generator is closed.
    """
    handoff: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = stop or threading.Event()

    def put(x) -> bool:
        while not stop.is_set():
            try:
                handoff.put(x, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            it = iter(items)
            try:
                for x in it:
                    if not put(x):
                        return
            finally:
                if hasattr(it, "close"):
                    it.close()
            put(_END)
        except BaseException as e:  # noqa: BLE001 - every failure belongs to the consumer
            put(_Raised(e))

    worker = threading.Thread(target=work, name=name, daemon=True)
    worker.start()
    try:
        while (x := handoff.get()) is not _END:
            if isinstance(x, _Raised):
                raise x.error
            yield x
    finally:
        stop.set()
        worker.join()
