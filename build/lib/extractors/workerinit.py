"""Preloaded (Dask's ``preload``) into the worker processes of the local clusters extractors.run starts.

A terminal's Ctrl-C reaches the whole foreground process group, workers included. The command
stops its workers itself (one line, a partial run.json, exit 130), so its worker processes ignore
SIGINT rather than each printing a KeyboardInterrupt traceback. Imported in the worker process's
main thread, before the worker connects; a worker inside the command's own process (--workers 0)
never loads it.
"""

from __future__ import annotations

import signal
import threading


def ignore_sigint() -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


ignore_sigint()


def dask_setup(worker) -> None:  # noqa: ARG001 - Dask's preload hook; the import above did the work
    ignore_sigint()
