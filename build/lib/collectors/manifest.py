"""A resumable collection: one manifest.jsonl line per collected input, the last line of an input wins.

Every collector that crawls (YouTube through yt-dlp, Behance pages) runs its inputs through
:func:`collect_all`: each finished item is appended at once (one line, flushed and fsynced); a rerun
skips inputs whose last record is ok, and failed ones unless ``retry_failed``; a retried input's new
record is appended, and the manifest is rewritten atomically at the end with the last record per
input, so a crash in between leaves both lines and the last one wins. A torn last line (a write cut
by a crash) is dropped on the next read. One collection per manifest at a time.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from tqdm import tqdm

from collectors.records import RawItem, read_manifest, write_manifest

log = logging.getLogger("collectors.manifest")

BLOCKED_KINDS = ("bot_check", "rate_limited")

# collect_one(input) -> (item or None, why it was skipped or None)
CollectOne = Callable[[object], "tuple[RawItem | None, str | None]"]


def update_manifest(manifest_path: str | os.PathLike, items: Iterable[RawItem]) -> None:
    """Append new records of already collected items (the last record wins), then compact."""
    manifest_path = Path(manifest_path)
    with open(manifest_path, "a", encoding="utf-8") as f:
        for item in items:
            f.write(item.to_json() + "\n")
        f.flush()
        os.fsync(f.fileno())
    _compact(manifest_path)


def _compact(manifest_path: Path) -> None:
    """Rewrite the manifest with one record per input (the last) when some input has several."""
    latest = latest_items(manifest_path)
    if len(latest) < _count_lines(manifest_path):
        write_manifest(manifest_path, latest.values())


def _key(item: RawItem) -> str:
    return item.meta.get("input") or item.id


def _repair_tail(path: Path) -> None:
    """Drop a torn last line (a write cut by a crash) so the manifest reads and appends cleanly."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
        f.seek(0)
        data = f.read()
        keep = data.rfind(b"\n") + 1
        log.warning("%s: dropping a partial last line (%d bytes) left by an interrupted run", path, len(data) - keep)
        f.truncate(keep)


def latest_items(manifest_path: str | os.PathLike) -> dict[str, RawItem]:
    """The last record of each input in a manifest (the last-wins reading), in first-seen order."""
    path = Path(manifest_path)
    if not path.is_file():
        return {}
    _repair_tail(path)
    out: dict[str, RawItem] = {}
    for item in read_manifest(path):
        out[_key(item)] = item
    return out


def collect_all(inputs: Iterable, manifest_path: str | os.PathLike, collect_one: CollectOne, *,
                key: Callable[[object], str], known_id: Callable[[object], str | None] = lambda src: None,
                retry_failed: bool = False, progress: bool = True, stop_after_blocked: int | None = 10,
                site: str = "the site", unit: str = "item") -> dict:
    """Collect many inputs into manifest.jsonl, resumably (see the module docstring); returns the run's counts.

    `key(input)` is what identifies an input in the manifest (the item's ``meta["input"]``);
    `known_id(input)` its item id when known without fetching (an input whose id is already ok
    is not collected again). After `stop_after_blocked` consecutive bot_check / rate_limited
    failures the run stops (`site` is refusing this client) and says so in ``stopped``.
    Returns ``{ok, already, skipped: {reason: n}, failed: {kind: n}, stopped}``.
    """
    manifest_path = Path(manifest_path)
    previous = latest_items(manifest_path)
    ok_ids = {it.id for it in previous.values() if it.ok}
    stats = {"ok": 0, "already": 0, "skipped": Counter(), "failed": Counter(), "stopped": None}
    todo = []
    for src in inputs:
        prev = previous.get(key(src))
        if (prev is not None and (prev.ok or not retry_failed)) or known_id(src) in ok_ids:
            stats["already"] += 1
        else:
            todo.append(src)
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    blocked_run = 0
    with open(manifest_path, "a", encoding="utf-8") as f, \
            tqdm(total=len(todo), desc="collect", unit=unit, file=sys.stderr, disable=not progress) as bar:
        for src in todo:
            item, skipped = collect_one(src)
            if item is None:
                stats["skipped"][skipped.split(":")[0]] += 1
            elif item.ok and item.id in ok_ids:  # the same item reached through another input
                stats["already"] += 1
            else:
                f.write(item.to_json() + "\n")
                f.flush()
                os.fsync(f.fileno())
                if item.ok:
                    stats["ok"] += 1
                    ok_ids.add(item.id)
                else:
                    stats["failed"][item.error["kind"]] += 1
                blocked_run = blocked_run + 1 if not item.ok and item.error["kind"] in BLOCKED_KINDS else 0
            bar.set_postfix_str(_progress_text(stats), refresh=False)
            bar.update()
            if stop_after_blocked and blocked_run >= stop_after_blocked:
                stats["stopped"] = (f"{blocked_run} failures in a row of kinds {'/'.join(BLOCKED_KINDS)}: {site} is "
                                    "refusing this client; wait, or pass cookies, then rerun (done items are kept)")
                log.error("collect stopped: %s", stats["stopped"])
                break
    _compact(manifest_path)  # a retried input has two records: keep the last
    return {**stats, "skipped": dict(stats["skipped"]), "failed": dict(stats["failed"])}


def _count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def _progress_text(stats: dict) -> str:
    failed = " ".join(f"{k}={n}" for k, n in sorted(stats["failed"].items()))
    return f"ok={stats['ok']} skipped={sum(stats['skipped'].values())}" + (f" failed: {failed}" if failed else "")
