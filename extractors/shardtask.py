"""One (shard, extractor) task as it runs on a Dask worker: extract every item, write, then mark done.

- Models load once per worker process: :func:`load_extractor` keeps instances in a module-level
  cache keyed by (class, options), so the tasks that follow on that worker reuse the model.
- One bad item never fails its shard: each item ends ok or failed with a kind (the extractor's
  ItemError kind, ``bad_metadata`` for a malformed manifest field, ``oom``, ``timeout`` (every item
  has one: ``--item-timeout``, or derived from its duration, extractors.jobconfig), or ``error``)
  and a message. Transient errors (OSError other
  than a missing or unreadable file, or :class:`TransientError`) are retried a few times in place.
- The shard file is streamed to a temporary name and renamed; ``<shard>.stats.json`` is written
  last and is the completion marker. A journal of started items tells a task that is re-run after
  its worker died which item was being extracted; an item during which workers died
  ``poison_after`` times in one run is recorded as failed instead of killing workers forever.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

from collectors.records import ItemError, RawItem
from common.loading import load_object
from extractors.base import Extractor, FeatureTrack, config_hash
from extractors.fingerprint import input_fingerprint
from extractors.jobconfig import item_timeout
from extractors.shardstore import ShardFile, ShardWriter, output_problem, shard_path, write_json

PROGRESS_TOPIC = "vsumhub-extraction"
PERMANENT_OS_ERRORS = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)
_MODELS: collections.OrderedDict[tuple, Extractor] = collections.OrderedDict()
_MAX_MODELS = 4
_LOCK = threading.Lock()


class TransientError(Exception):
    """Raise from an extractor for a failure worth retrying as is (a flaky mount, a busy device)."""


class ItemTimeout(Exception):
    """An item took longer than its timeout (raised in the caller, and inside the timed thread)."""


def load_extractor(target: str, options: dict) -> Extractor:
    """The worker's instance of ``target`` built with ``options``, loaded on first use only."""
    key = (target, json.dumps(options, sort_keys=True, default=str))
    with _LOCK:
        if key in _MODELS:
            _MODELS.move_to_end(key)
            return _MODELS[key]
        ex = load_object(target)(**options)
        _MODELS[key] = ex
        while len(_MODELS) > _MAX_MODELS:
            _MODELS.popitem(last=False)
        return ex


def describe(target: str, options: dict) -> dict:
    """Config, its hash, meta and dim of an extractor, computed where it runs (so its model is now
    cached there, and the driver never loads a model just to learn its dim and meta)."""
    ex = load_extractor(target, options)
    cfg = ex.config()
    return {"name": ex.name, "modality": ex.modality, "config": cfg, "config_hash": config_hash(cfg),
            "meta": json.loads(json.dumps(ex.meta(), default=str)), "dim": int(ex.dim)}


def is_transient(e: BaseException) -> bool:
    return isinstance(e, TransientError) or (isinstance(e, OSError) and not isinstance(e, PERMANENT_OS_ERRORS))


def classify(e: BaseException) -> tuple[str, str]:
    """(kind, message) of a failed item."""
    if isinstance(e, ItemError):
        return e.kind, e.message
    if isinstance(e, ItemTimeout):
        return "timeout", str(e)
    if isinstance(e, MemoryError) or type(e).__name__ == "OutOfMemoryError" or "out of memory" in str(e).lower():
        return "oom", f"{type(e).__name__}: {e}".strip()[:2000]
    return "error", f"{type(e).__name__}: {e}"[:2000]


def call_with_timeout(fn, arg, timeout: float | None, grace: float = 5.0, how: str = ""):
    """fn(arg), or ItemTimeout after ``timeout`` seconds (``how``: where that number came from).

    The call runs on its own daemon thread; on timeout that thread gets an ItemTimeout raised
    inside it at its next Python instruction (between decoded batches), which ends it cleanly. A
    call stuck in native code (an open() on a stalled mount) cannot be interrupted: it is abandoned
    and reported as stuck, its ItemTimeout still pending for when the native call returns; being a
    daemon thread, it holds up neither the task nor the process's exit.
    """
    if not timeout:
        return fn(arg)
    box: dict = {}

    def target():
        try:
            box["value"] = fn(arg)
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread below
            box["error"] = e

    t = threading.Thread(target=target, daemon=True, name="vsumhub-item")
    t.start()
    t.join(timeout)
    if t.is_alive():
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(t.ident), ctypes.py_object(ItemTimeout))
        t.join(min(grace, timeout))  # it ends at its next Python instruction, unless stuck in native code
        stuck = t.is_alive()
        raise ItemTimeout(f"extraction took longer than {timeout:g} s ({how or 'item timeout'})"
                          + ("; it is stuck in a read or native code and was abandoned" if stuck else ""))
    if "error" in box:
        raise box["error"]
    return box["value"]


def extract_item(ex: Extractor, modality: str, item: RawItem) -> FeatureTrack:
    if modality == "text" and not item.transcript:
        raise ItemError("no_text", "item has no transcript sentences", item.id)
    track = ex.extract(item)
    if not isinstance(track, FeatureTrack):
        raise TypeError(f"{type(ex).__name__}.extract returned {type(track).__name__}, not a FeatureTrack")
    return track


def _free_accelerator_memory() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


class Journal:
    """Append-only record of items started and ended, per run: unmatched starts are worker deaths."""

    def __init__(self, path: Path, run_id: str):
        self.path, self.run_id = path, run_id

    def deaths(self) -> collections.Counter:
        count: collections.Counter = collections.Counter()
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:  # a line cut short by the death itself
                    continue
                if rec.get("run") == self.run_id:
                    count[rec["item"]] += 1 if rec["event"] == "start" else -1
        return +count

    def log(self, item_id: str, event: str) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"run": self.run_id, "item": item_id, "event": event}) + "\n")

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink(missing_ok=True)


def worker_info() -> dict:
    info = {"address": None, "pid": os.getpid(), "host": socket.gethostname(),
            "gpu": os.environ.get("CUDA_VISIBLE_DEVICES")}
    try:
        from distributed import get_worker

        info["address"] = get_worker().address
    except (ImportError, ValueError):
        pass
    return info


def _emitter():
    """Per-item progress events to the driver (a no-op outside a Dask worker)."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return lambda msg: None
    return lambda msg: worker.log_event(PROGRESS_TOPIC, msg)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def summary(stats: dict) -> dict:
    """What a task returns to the driver: the stats without the per-item inputs."""
    return {k: v for k, v in stats.items() if k != "inputs"}


def cancel_marker(out, run_id: str) -> Path:
    """The file whose existence tells the tasks of run ``run_id`` to stop (the job was interrupted or
    stopped). A task on a cluster the job did not start outlives the driver's cancellation (Dask cannot
    stop a running thread): it checks this between items and before it writes its shard. A file in
    --out, which every worker sees already, rather than a scheduler-side Event, which would not outlive
    the driver's client."""
    return Path(out) / ".vsumhub-cancelled" / run_id


class Cancelled(Exception):
    """This task's run was cancelled: it stops without writing its shard."""


def run_shard(spec: dict) -> dict:
    """Extract one shard for one extractor (see the module docstring); returns its stats summary.

    ``spec["redo"]``: None for the whole shard, or the ids to re-extract in a done shard (failed or
    changed items); the other items keep their rows and failures as they are. When the output
    cannot be written (a full disk, a read-only directory, permissions) the task returns
    ``{"output_error": one line}`` instead of raising: no retry can help, the driver stops the job.
    """
    try:
        return _run_shard(spec)
    except Cancelled:
        path = shard_path(spec["out"], spec["extractor"], spec["config_hash"], spec["shard"])
        Journal(path.with_name(f"{spec['shard']}.journal"), spec["run_id"]).remove()
        return {"cancelled": True, "extractor": spec["extractor"], "shard": spec["shard"]}
    except OSError as e:
        path = shard_path(spec["out"], spec["extractor"], spec["config_hash"], spec["shard"])
        if (problem := output_problem(e, path.parent)) is None:
            raise
        Journal(path.with_name(f"{spec['shard']}.journal"), spec["run_id"]).remove()  # a write failed, no death
        return {"output_error": problem, "extractor": spec["extractor"], "shard": spec["shard"]}


def _run_shard(spec: dict) -> dict:
    t0 = time.time()
    out, name, cfg_hash, shard = Path(spec["out"]), spec["extractor"], spec["config_hash"], spec["shard"]
    path = shard_path(out, name, cfg_hash, shard)
    stats_path = path.with_name(f"{shard}.stats.json")
    old_stats = _read_json(stats_path)
    current = bool(old_stats) and old_stats.get("shard_key") == spec["key"] and path.exists()
    redo = set(spec["redo"]) if spec.get("redo") is not None and current else None
    if current and old_stats.get("run_id") == spec["run_id"]:
        # Done in this run: a duplicate of a finished task, or Dask recomputing a result lost with
        # its worker. (A shard done in an earlier run is sent again only when the driver found it
        # damaged, or for its redo items.)
        return {**summary(old_stats), "already_done": True}
    options, modality = spec["options"], spec["modality"]
    ex = _configured(load_extractor(spec["target"], options), spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    journal = Journal(path.with_name(f"{shard}.journal"), spec["run_id"])
    deaths = journal.deaths()
    old = ShardFile(path) if redo is not None else None
    old_failures = {f["id"]: f for f in old_stats["failures"]} if redo is not None else {}
    emit, worker = _emitter(), worker_info()
    failures, inputs, frames, frames_run, items_run, busy = [], {}, 0, 0, 0, 0.0
    writer = ShardWriter(path)
    cancelled = cancel_marker(out, spec["run_id"])
    try:
        for raw in spec["items"]:
            if cancelled.exists():
                raise Cancelled
            item = RawItem.from_dict(raw)
            if redo is not None and item.id not in redo:  # keep as it was
                inputs[item.id] = old_stats["inputs"].get(item.id, "")
                if item.id in old.index:
                    table = old.table(item.id)
                    writer.add_table(table)
                    frames += len(table["times"][0].values)
                else:
                    failures.append(old_failures[item.id])
                continue
            t = time.time()
            if problem := item.input_problems(modality):  # a malformed field: this item's failure only
                fp, track, err = "", None, ("bad_transcript" if modality == "text" else "bad_metadata", problem)
            elif deaths[item.id] >= spec.get("poison_after", 2):
                fp, track, err = _fingerprint(item, modality, spec), None, ("worker_lost", (
                    f"the worker process died {deaths[item.id]} times while extracting this item: the item may crash "
                    "the decoder or the model or need too much memory, or the workers were killed for another "
                    "reason, so it may not be the item's fault; a plain rerun tries it again"))
            else:
                journal.log(item.id, "start")
                fp, track, err = _extract_with_retries(ex, spec, modality, item)
                journal.log(item.id, "end")
            inputs[item.id] = fp
            dt = time.time() - t
            busy += dt
            items_run += 1
            if err:
                failures.append({"id": item.id, "kind": err[0], "message": err[1],
                                 **({"deaths": deaths[item.id]} if err[0] == "worker_lost" else {})})
            else:
                writer.add(item.id, track, cfg_hash, fp)
                frames += len(track)
                frames_run += len(track)
            emit({"run": spec["run_id"], "extractor": name, "shard": shard, "item": item.id,
                  "kind": err[0] if err else None, "frames": 0 if err else len(track), "seconds": dt,
                  "worker": worker["address"]})
        if cancelled.exists():
            raise Cancelled
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    items = len(spec["items"])
    stats = {
        "shard": shard, "extractor": name, "config_hash": cfg_hash, "shard_key": spec["key"],
        "plan_generation": spec.get("generation"), "version": (old_stats or {}).get("version", 0) + 1 if redo is not None else 1,
        "items": items, "ok": items - len(failures),
        "failed": dict(collections.Counter(f["kind"] for f in failures)), "failures": failures,
        "frames": frames, "seconds": round(time.time() - t0, 3), "extract_seconds": round(busy, 3),
        "items_run": items_run, "frames_run": frames_run,
        "redone": sorted(redo) if redo is not None else None,
        "worker": worker, "run_id": spec["run_id"], "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "inputs": inputs,
    }
    write_json(stats_path, stats)  # last: the shard is done
    journal.remove()
    return summary(stats)


def _configured(ex: Extractor, spec: dict) -> Extractor:
    """Apply the job's run settings that do not change the features (FFmpeg decode threads)."""
    if spec.get("decode_threads") is not None and hasattr(ex, "decode_threads"):
        ex.decode_threads = int(spec["decode_threads"])
    return ex


def _fingerprint(item: RawItem, modality: str, spec: dict) -> str:
    """The item's input fingerprint, within its timeout (a stat on a stalled mount never returns)."""
    try:
        return call_with_timeout(lambda it: input_fingerprint(it, modality), item, item_timeout(item.duration, spec)[0])
    except (ItemTimeout, OSError):
        return ""


def _extract_with_retries(ex: Extractor, spec: dict, modality: str, item: RawItem):
    """(input fingerprint, track, None) or (fingerprint, None, (kind, message)).

    The fingerprint (a stat of the media) is taken inside the timed call too: on a stalled mount
    even stat() never returns. After a timeout whose thread is stuck in native code the next items
    reuse the same model: the abandoned thread has an ItemTimeout pending, raised at its first
    Python instruction once the native call returns, so it never runs the extractor's Python code
    again, and what it may still be inside (a read of its own media, a kernel reading the weights)
    does not write to the model. Loading a fresh copy per stuck item instead kept every copy alive
    (the stuck thread holds a reference): 5 stuck items left 6 models in one worker.
    """
    retries = spec.get("item_retries", 2)
    timeout, how = item_timeout(item.duration, spec)
    seen: dict = {}

    def fingerprint_and_extract(it):
        seen["fp"] = input_fingerprint(it, modality)
        return extract_item(ex, modality, it)

    for attempt in range(retries + 1):
        try:
            track = call_with_timeout(fingerprint_and_extract, item, timeout, how=how)
            return seen["fp"], track, None
        except Exception as e:  # noqa: BLE001 - every item ends ok or with a recorded kind
            if is_transient(e) and attempt < retries:
                time.sleep(min(0.5 * 2 ** attempt, 10.0))
                continue
            kind, message = classify(e)
            if kind == "oom":
                _free_accelerator_memory()
            if is_transient(e):
                message += f" (transient error; gave up after {attempt + 1} attempts)"
            return seen.get("fp", ""), None, (kind, message)
