"""The Dask worker plugin our local clusters get (a module of its own: importing distributed costs
half a second, which ``--help`` should not pay)."""

from __future__ import annotations

import logging

from distributed.diagnostics.plugin import WorkerPlugin


class QuietCancellation(WorkerPlugin):
    """Worker plugin for the local clusters we start (their workers print to our terminal): a task the
    job cancels (it stops on a full disk, or on Ctrl-C) makes each worker log "Async instruction ...
    ended with CancelledError" at WARNING; that logger keeps its errors only."""

    def setup(self, worker) -> None:
        logging.getLogger("distributed.worker.state_machine").setLevel(logging.ERROR)
