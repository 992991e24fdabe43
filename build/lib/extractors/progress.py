"""Progress of an extraction job (items done / total, frames per second, failures by kind) and its
end-of-run summary table.

Workers send one small event per item (Dask's ``log_event``; the driver subscribes to the topic).
Events are keyed by (extractor, shard, item), so an item extracted again after its worker died
counts once. A terminal gets a tqdm bar; a log file gets a line every ``interval`` seconds.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import Counter

log = logging.getLogger("extractors.run")


class Progress:
    def __init__(self, total: int, run_id: str, enabled: bool = True, interval: float = 30.0, stream=None):
        self.total, self.run_id, self.interval = total, run_id, interval
        self.stream = stream or sys.stderr
        self.t0 = self._last_log = time.time()
        self._items: dict[tuple, tuple[str | None, int]] = {}
        self._lock = threading.Lock()
        self.enabled = enabled and total > 0
        self.bar = None
        if self.enabled and self.stream.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="item", file=self.stream, desc="extract", mininterval=0.5)

    def on_event(self, event) -> None:
        """Handler for Client.subscribe_topic: event is (timestamp, message)."""
        msg = event[1] if isinstance(event, tuple) else event
        if not isinstance(msg, dict) or msg.get("run") != self.run_id:
            return  # an event of an earlier run's straggler
        with self._lock:
            self._items[(msg["extractor"], msg["shard"], msg["item"])] = (msg["kind"], int(msg["frames"]))

    def snapshot(self) -> tuple[int, int, Counter]:
        with self._lock:
            values = list(self._items.values())
        return len(values), sum(f for _, f in values), Counter(k for k, _ in values if k)

    def line(self) -> str:
        done, frames, failed = self.snapshot()
        rate = frames / max(time.time() - self.t0, 1e-9)
        fails = ", ".join(f"{k} {n}" for k, n in sorted(failed.items())) or "none"
        pct = f" ({100 * done / self.total:.0f}%)" if self.total else ""
        return f"{done}/{self.total} items{pct}, {frames} frames, {rate:.1f} frames/s, failed: {fails}"

    def refresh(self) -> None:
        if not self.enabled:
            return
        done, frames, failed = self.snapshot()
        if self.bar is not None:
            self.bar.n = done
            post = {"frames/s": f"{frames / max(time.time() - self.t0, 1e-9):.1f}"}
            post.update({k: n for k, n in sorted(failed.items())})
            self.bar.set_postfix(post, refresh=False)
            self.bar.refresh()
        elif time.time() - self._last_log >= self.interval:
            self._last_log = time.time()
            log.info("extract: %s", self.line())

    def close(self, quiet: bool = False) -> None:
        """End the bar (or log the last line, unless ``quiet``: an interrupted job says so itself)."""
        if self.bar is not None:
            self.refresh()
            self.bar.close()
        elif self.enabled and not quiet:
            log.info("extract: %s", self.line())


def summary_table(record: dict) -> str:
    """The end-of-run report: one line per extractor, failures by kind, per-worker throughput."""
    head = f"{'extractor':<12} {'config':<12} {'shards':>6} {'run':>4} {'done':>5} {'items':>6} {'ok':>6} {'failed':>6} {'frames':>9}"
    lines = [head, "-" * len(head)]
    for name, e in record["extractors"].items():
        lines.append(f"{name:<12} {e['config_hash']:<12} {e['shards']:>6} {e['shards_run']:>4} {e['shards_done_before']:>5} "
                     f"{e['items']:>6} {e['ok']:>6} {e['failed']:>6} {e['frames']:>9}")
    t = record["totals"]
    lines.append(f"this run: {t['tasks_run']} task(s), {t['items_run']} item(s), {t['frames_run']} frames in "
                 f"{record['wall_seconds']:.1f} s ({t['frames_per_second']:.1f} frames/s)")
    by_kind = record["failures"]["by_kind"]
    if by_kind:
        lines.append("failures by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(by_kind.items())))
        for f in record["failures"]["items"][:20]:
            lines.append(f"  {f['extractor']} {f['id']}: {f['kind']}: {f['message'][:160]}")
        if len(record["failures"]["items"]) > 20:
            lines.append(f"  ... {len(record['failures']['items']) - 20} more in run.json")
    for err in record["shard_errors"]:
        lines.append(f"INCOMPLETE {err['extractor']} {err['shard']}: {err['error'][:200]} (rerun to resume)")
    for addr, w in sorted(record["workers"].items()):
        lines.append(f"worker {addr} (pid {w['pid']}{', gpu ' + str(w['gpu']) if w.get('gpu') else ''}): "
                     f"{w['tasks']} task(s), {w['items']} item(s), {w['frames']} frames, {w['frames_per_second']:.1f} frames/s")
    return "\n".join(lines)
