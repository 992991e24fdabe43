"""One extraction job at a time per output directory: ``<out>/.vsumhub-run.lock``, held while it runs.

Two jobs on one ``--out`` would redo each other's shards and write plan generations over each
other. The lock is an advisory ``flock`` on that file, which the kernel drops however its process
ends, plus the file's content: who holds it (host, pid, since when, the command), for the message
a second job gets. A lock file left behind (a job killed on a filesystem without working flock)
that names this host and a process that is gone is stale and is taken over. One naming another
host cannot be checked from here: the job refuses and says which file to delete once no job runs
there any more. A job that ends (finished, failed or interrupted) removes the file.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import socket
import sys
import time
from pathlib import Path

log = logging.getLogger("extractors.run")
LOCK_NAME = ".vsumhub-run.lock"


class LockHeld(Exception):
    """Another job holds the output directory's lock; the message says who."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _holder(fd: int) -> dict | None:
    try:
        text = os.pread(fd, 65536, 0).decode("utf-8", "replace")
        doc = json.loads(text) if text.strip() else None
    except (OSError, ValueError):
        return {"host": "?", "pid": "?", "since": "?", "command": "(unreadable lock file)"}
    return doc if isinstance(doc, dict) else None


def _who(holder: dict) -> str:
    return (f"pid {holder.get('pid')} on host {holder.get('host')}, since {holder.get('since')}"
            f" ({holder.get('command', '?')})")


class OutputLock:
    """``with OutputLock(out):`` (or ``acquire`` / ``release``). OSError (a read-only or full disk)
    propagates from ``acquire``: creating and writing this file is the job's first write to ``--out``."""

    def __init__(self, out):
        self.path = Path(out) / LOCK_NAME
        self.fd: int | None = None

    def acquire(self) -> OutputLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            flocked = True
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _holder(fd) or {}
                os.close(fd)
                raise LockHeld(f"{self.path.parent} is in use by another extraction job: {_who(holder)}; wait for it "
                               "to finish or use another --out") from None
            except OSError as e:
                if e.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):
                    os.close(fd)
                    raise
                flocked = False  # no flock on this filesystem: the file's content is all there is
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the holder removed the file while we opened it: start again on the new one
        holder = _holder(fd)
        if holder:
            here, pid = holder.get("host") == socket.gethostname(), holder.get("pid")
            # With the flock ours, no process on this host holds the lock; without flock, a live pid may.
            if not here or (not flocked and (not isinstance(pid, int) or _alive(pid))):
                os.close(fd)
                clear = (f"if no job runs on {holder.get('host')} any more, delete {self.path}" if not here else
                         f"if pid {pid} is no extraction job, delete {self.path}")
                raise LockHeld(f"{self.path.parent} is in use by another extraction job: {_who(holder)}; {clear}")
            log.warning("taking over the stale lock %s of %s: no process holds it any more", self.path, _who(holder))
        try:
            mine = json.dumps({"host": socket.gethostname(), "pid": os.getpid(),
                               "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                               "command": " ".join(sys.argv)[:300]}).encode()
            os.ftruncate(fd, 0)
            if os.pwrite(fd, mine, 0) != len(mine):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path))
        except OSError:
            os.close(fd)
            with contextlib.suppress(OSError):
                self.path.unlink()
            raise
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            if os.fstat(self.fd).st_ino == os.stat(self.path).st_ino:
                self.path.unlink()
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()

