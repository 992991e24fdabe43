"""``python -m extractors.run``: apply extractors to a manifest as a sharded, resumable Dask job.

    python -m extractors.run --manifest manifest.jsonl --extractors clip,roberta --out features/ \\
        [--scheduler tcp://host:8786 | --workers N] [--device cuda] [--shard-size 64] \\
        [--retry-failed] [--weights NAME=PATH ...] [--fps F] [--option NAME.KEY=VALUE ...] \\
        [--item-timeout SECONDS] [--max-restarts N] [--worker-wait SECONDS]

Writes, under ``--out`` (while a job runs it holds ``.vsumhub-run.lock`` there: extractors.outlock):

- ``plan.json``: the shards (the manifest's ok items sorted by id, ``--shard-size`` each) and the
  extractor configs with their config hashes, saved before any work starts (extractors.plan);
- ``<extractor>/<config_hash>/<shard>.parquet``: one row per ok item (extractors.shardstore);
- ``<extractor>/<config_hash>/<shard>.stats.json``: written last, the shard's completion marker:
  items, ok, failures by kind with per-item messages, frames, seconds, worker;
- ``run.json``: totals, failures by kind, wall time, per-worker throughput of the last run.

One task per (shard, extractor). A rerun does only the shards without a current stats file (or whose
parquet file no longer reads back: its footer and row count are checked), and re-extracts the
items of done shards whose media changed since; ``--retry-failed`` also re-runs the failed items
of done shards, leaving every other row and every other shard file as it was. A changed extractor
config gets a new config-hash directory. Every item has a timeout (``--item-timeout``, or derived
from its duration: extractors.jobconfig). Killing the command loses at most the shards in flight;
Ctrl-C stops it with a partial run.json; killing a worker loses nothing (Dask re-runs its task or
recomputes its lost result, and a task killed by dead workers more than Dask allows is resubmitted
up to ``--max-attempts`` times; an item during which workers died twice is recorded ``worker_lost``,
which a plain rerun redoes). Workers of the local cluster that stay dead are replaced (at most
``--max-restarts``, with back-off: extractors.engine.WorkerKeeper); with no worker alive for
``--worker-wait`` seconds the job stops with one line, exit 1. What each fault gives: docs/reliability.md.

Where it runs (local cluster, ``dask scheduler`` / ``dask worker``, dask-cuda, SLURM): see
extractors/engine.py. Exit status: 0 all items ok (or nothing to extract), 3 some items failed
(all recorded), 1 some shards did not complete (rerun to resume), 2 a usage or setup problem
(bad flags or options, unreadable manifest or plan, --out in use, unwritable or full), 130
interrupted (Ctrl-C at any moment; rerun to resume). Exit 1 also when no worker was left (--worker-wait).

From Python (what the builders call)::

    result = run_extraction("manifest.jsonl", {"clip": {"fps": 1.0}}, "features/", job=JobConfig(workers=2))
    result.dim("clip"), result.meta("clip")  # as the workers' instances report them (no model loaded here)
    reader = result.reader("clip")           # or FeatureReader("features/", "clip")
    track = reader.track(item_id)            # FeatureTrack, or ItemError(kind) for a failed item
"""

from __future__ import annotations

import os
import signal
import sys


def _exit_on_sigint(message: str):
    """A SIGINT handler that writes one line and exits 130 at once (no traceback, never exit -2)."""
    def handler(signum, frame):  # noqa: ARG001 - signal handler signature
        os.write(2, (message + "\n").encode())
        os._exit(130)
    return handler


EARLY = "interrupted before extraction started; rerun the same command to resume"
if __name__ == "__main__":  # Ctrl-C while the imports below run (a second or more on a busy machine)
    signal.signal(signal.SIGINT, _exit_on_sigint(EARLY))

import argparse  # noqa: E402 - after the handler above
import collections
import contextlib
import dataclasses
import inspect
import json
import logging
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

from collectors.records import ItemError, RawItem, read_manifest
from common import cli
from common.loading import load_object
from extractors.base import FeatureTrack, UnknownExtractorError
from extractors.engine import EngineError, WorkerKeeper, check_workers, connect, quiet_dask_logs
from extractors.jobconfig import JobConfig, SetupError, check_options
from extractors.outlock import LockHeld, OutputLock
from extractors.plan import load_plan, new_plan, plan_shards, save_plan
from extractors.progress import Progress, summary_table
from extractors.registry import REGISTRY, names
from extractors.fingerprint import fingerprints_within, input_path
from extractors.shardstore import ShardFile, output_problem, shard_path, shard_problem, write_json
from extractors.shardtask import PROGRESS_TOPIC, cancel_marker, describe, run_shard, summary

log = logging.getLogger("extractors.run")
FIX_OUTPUT = "free space or fix the permissions, then rerun the same command to resume"


# ---------------------------------------------------------------- what to run


def resolve(extractors: dict | Iterable[str], device: str | None = None) -> dict[str, dict]:
    """{name: {"target", "options", "modality"}}: a registry name, or "module:Class" for an unregistered class.

    ``device`` is added to the options of every extractor whose constructor takes it. Options are
    checked against the constructor (extractors.jobconfig.check_options) here, in the driver, so a
    typo is a SetupError before any cluster starts.
    """
    if not isinstance(extractors, dict):
        extractors = {name: {} for name in extractors}
    out = {}
    for name, options in extractors.items():
        target = REGISTRY[name].target if name in REGISTRY else name if ":" in name else None
        if target is None:
            raise SetupError(f"unknown extractor {name!r}; known: {', '.join(names())} (or module:Class)")
        try:
            cls = load_object(target)
        except (ImportError, AttributeError, ValueError) as e:
            raise SetupError(f"extractor {name}: cannot import {target}: {e}") from e
        if options is not None and not isinstance(options, dict):
            raise SetupError(f"extractor {name}: options must be a dict of constructor arguments, got {options!r}")
        options = {k: (str(v) if isinstance(v, os.PathLike) else v) for k, v in (options or {}).items()}
        params = inspect.signature(cls.__init__).parameters
        if device and "device" not in options and ("device" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())):
            options["device"] = device
        check_options(name, cls, options)
        out[cls.name if ":" in name else name] = {"target": target, "options": options, "modality": cls.modality}
    return out


def local_decode_threads(workers: dict) -> int:
    """FFmpeg threads per task on a cluster of this machine: its cores shared by the tasks that run at once."""
    running = sum(w.get("nthreads", 1) for w in workers.values()) or 1
    return max(1, (os.cpu_count() or 1) // running)


def _uses_gpu(options: dict) -> bool:
    return str(options.get("device") or "").startswith("cuda")


# ---------------------------------------------------------------- planning what is left to do


def _stats(out: Path, name: str, cfg_hash: str, shard: str) -> dict | None:
    path = shard_path(out, name, cfg_hash, shard).with_name(f"{shard}.stats.json")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def _todo(out: Path, plan: dict, name: str, ex: dict, by_id: dict[str, RawItem], job: JobConfig,
          seen: dict[str, dict]):
    """(tasks' redo sets: None = whole shard, or ids), plus the done shards' stats.

    A done shard's items are redone when their input changed since extraction: their media are
    stat'ed here, under the item timeout (``seen`` caches the answers per modality across
    extractors); media that do not answer in time (a stalled mount) keep their recorded fingerprints.
    """
    todo, done = {}, {}
    for shard in plan["shards"]:
        stats = _stats(out, name, ex["config_hash"], shard["id"])
        path = shard_path(out, name, ex["config_hash"], shard["id"])
        if not stats or stats.get("shard_key") != shard["key"] or not path.exists():
            todo[shard["id"]] = None
            continue
        if problem := shard_problem(path, stats.get("ok", -1)):  # damaged since (a copy cut short, a bad disk)
            log.warning("%s %s was done but %s: extracting it again", name, shard["id"], problem)
            todo[shard["id"]] = None
            continue
        done[shard["id"]] = stats
    now = _current_fingerprints(plan, done, ex["modality"], by_id, job, seen)
    for shard in plan["shards"]:
        if (stats := done.get(shard["id"])) is None:
            continue
        recorded = stats.get("inputs", {})
        redo = {i for i in shard["items"] if now.get(i) is not None and recorded.get(i) != now[i]}
        if redo:
            log.info("%s %s: %d item(s) changed since extraction: %s", name, shard["id"], len(redo), ", ".join(sorted(redo)[:5]))
        # items lost only to dying workers are redone by a plain rerun; other failures with --retry-failed
        redo |= {f["id"] for f in stats["failures"] if job.retry_failed or f["kind"] == "worker_lost"}
        if redo:
            todo[shard["id"]] = sorted(redo)
    return todo, done


def _current_fingerprints(plan: dict, done: dict, modality: str, by_id: dict[str, RawItem], job: JobConfig,
                          seen: dict[str, dict]) -> dict[str, str | None]:
    """{id: fingerprint now, None when not visible here or not answering} of the done shards' items."""
    answers = seen.setdefault(modality, {})
    items = [by_id[i] for s in plan["shards"] if s["id"] in done for i in s["items"] if i not in answers]
    if items:
        timeout = min(job.timeout_for(i.duration)[0] for i in items)
        found, silent = fingerprints_within(items, modality, timeout)
        answers.update(found)
        answers.update(dict.fromkeys(silent))
        if silent:
            first = input_path(by_id[silent[0]], modality)
            log.warning("the media of %d done item(s) did not answer within %g s (the item timeout; first: %s, a "
                        "stalled mount?): their recorded fingerprints are trusted for this run, and a rerun once "
                        "the files answer checks them again", len(silent), timeout, first)
    return answers


def _remove_leftovers(out: Path, plan: dict, name: str, cfg_hash: str) -> None:
    """Temporary files of killed tasks, once their shard is done (a shard in flight keeps its own)."""
    for shard in plan["shards"]:
        stats = _stats(out, name, cfg_hash, shard["id"])
        if stats and stats.get("shard_key") == shard["key"]:
            for leftover in shard_path(out, name, cfg_hash, shard["id"]).parent.glob(f".{shard['id']}.*.tmp"):
                leftover.unlink(missing_ok=True)


def _remove_stale_shards(out: Path, plan: dict, name: str, cfg_hash: str) -> None:
    """Shard files of an earlier plan that this one has no shard for (after a new --shard-size, or
    fewer items): readers never used them, and with them gone the directory has one row per item."""
    current = {s["id"] for s in plan["shards"]}
    directory = shard_path(out, name, cfg_hash, "x").parent
    for path in [*directory.glob("shard-*.parquet"), *directory.glob("shard-*.stats.json"),
                 *directory.glob("shard-*.journal")]:
        if path.name.split(".")[0] not in current:
            with contextlib.suppress(OSError):
                path.unlink()


def _sweep(out: Path, wanted: dict) -> None:
    """Every temporary file and journal of the job, once no worker of it is alive (a local cluster we
    closed after a stop: tasks it killed mid-write leave them)."""
    dirs = [out] + [out / name / ex["config_hash"] for name, ex in wanted.items()]
    for d in dirs:
        for leftover in [*d.glob(".*.tmp"), *d.glob("*.journal")]:
            with contextlib.suppress(OSError):
                leftover.unlink()


# ---------------------------------------------------------------- running


@dataclasses.dataclass
class RunResult:
    out: Path
    plan: dict
    config_hashes: dict[str, str]
    record: dict  # what run.json holds
    described: dict[str, dict] = dataclasses.field(default_factory=dict)  # name: what describe reported

    @property
    def complete(self) -> bool:
        return not self.record["shard_errors"]

    @property
    def failures(self) -> list[dict]:
        return self.record["failures"]["items"]

    @property
    def exit_code(self) -> int:
        return 1 if not self.complete else 3 if self.failures else 0

    def reader(self, name: str) -> FeatureReader:
        return FeatureReader(self.out, name, self.config_hashes[name], plan=self.plan)

    def dim(self, name: str) -> int:
        """The extractor's vector size, as its instance on a worker reported it (0 for ASR)."""
        return self.described[name]["dim"]

    def meta(self, name: str) -> dict:
        """The extractor's meta (config plus provenance), as its instance on a worker reported it."""
        return self.described[name]["meta"]

    def config(self, name: str) -> dict:
        return self.described[name]["config"]


def run_extraction(source: str | os.PathLike | Iterable[RawItem], extractors: dict | Iterable[str], out,
                   job: JobConfig | None = None) -> RunResult:
    """Run (or resume) the job; see the module docstring. ``source``: a manifest path or RawItems.

    ``extractors``: {name: constructor options} (e.g. ``{"clip": {"weights": PATH, "fps": 1}}``) or
    names. ``job``: how it runs (extractors.jobconfig.JobConfig; the defaults without it). Raises
    SetupError when the job cannot start; everything that can be checked in this process (the
    settings, the extractor options, the manifest) is checked before a cluster starts.
    """
    job = job or JobConfig()
    if not isinstance(job, JobConfig):
        raise SetupError(f"job must be a JobConfig, got {type(job).__name__}")
    t0 = time.time()
    out = Path(out)
    manifest = None if not isinstance(source, (str, os.PathLike)) else str(source)
    try:
        items = list(read_manifest(source)) if manifest else list(source)
    except (OSError, ValueError) as e:
        raise SetupError(f"cannot read the manifest: {e}") from e
    by_id = {i.id: i for i in items if i.ok}
    if not by_id:
        log.warning("%s: nothing to extract", "the manifest has no items" if not items else
                    f"none of its {len(items)} item(s) is ok")
    wanted = resolve(extractors, job.device)
    try:  # duplicate ids, a damaged plan.json: found now, not after a cluster started
        shards = plan_shards(items, job.shard_size)
        load_plan(out)
    except (OSError, ValueError) as e:
        raise SetupError(str(e)) from None
    gpu = any(_uses_gpu(e["options"]) for e in wanted.values())
    run_id = uuid.uuid4().hex[:12]
    lock = OutputLock(out)
    try:  # also the check that --out is writable, before any cluster starts
        lock.acquire()
    except LockHeld as e:
        raise SetupError(str(e)) from None
    except OSError as e:
        raise SetupError(f"--out {out}: {output_problem(e, out) or e}") from None
    try:
        return _run(items, shards, by_id, manifest, wanted, gpu, out, run_id, job, t0)
    finally:
        lock.release()


def _run(items, shards, by_id, manifest, wanted, gpu, out, run_id, job, t0) -> RunResult:
    """run_extraction once the job holds --out: start or reach the cluster, plan, execute, record."""
    try:
        client, to_close = connect(job.scheduler, job.workers, gpu, job.tasks_per_gpu)
    except (EngineError, OSError, ValueError) as e:
        raise SetupError(f"cannot start or reach the Dask cluster: {e}") from e
    cluster = next((getattr(t, "cluster", None) for t in to_close), None)
    keeper = WorkerKeeper(cluster, job.max_restarts, job.worker_wait, address=client.scheduler.address)
    try:
        try:
            found = check_workers(client, gpu, timeout=job.worker_wait, keeper=keeper)
        except EngineError as e:
            raise SetupError(f"cannot start or reach the Dask cluster: {e}") from None
        engine = {"scheduler": client.scheduler.address, "workers": len(found), "device": job.device or "cpu",
                  "decode_threads": job.decode_threads}
        if engine["decode_threads"] is None:
            engine["decode_threads"] = local_decode_threads(found) if job.scheduler is None else 0
        _describe(client, wanted, job, keeper)
        plan_extractors = {name: {k: ex[k] for k in ("target", "options", "modality", "config", "config_hash")}
                           for name, ex in wanted.items()}
        try:
            plan, change = save_plan(out, new_plan(items, job.shard_size, manifest, plan_extractors, shards))
        except ValueError as e:
            raise SetupError(str(e)) from e
        except OSError as e:
            if (problem := output_problem(e, out)) is None:
                raise
            raise SetupError(f"{problem}; {FIX_OUTPUT}") from None
        if change:
            log.warning("the shard plan changed since the last run: %s (plan generation %d)", change, plan["generation"])
        for name, ex in wanted.items():
            _remove_stale_shards(out, plan, name, ex["config_hash"])
        state = _execute(client, out, plan, wanted, by_id, run_id, job, engine["decode_threads"], keeper)
    finally:
        for thing in to_close:
            thing.close()
    if state["interrupted"] or state["output_error"] or state["stopped"]:
        if job.scheduler is None:  # our workers are gone: what their killed tasks left is garbage
            _sweep(out, wanted)
        _collect_finished(out, state)  # shards that finished while we stopped
    for name, ex in wanted.items():
        _remove_leftovers(out, plan, name, ex["config_hash"])
    record = _record(out, plan, wanted, state["done"], state["results"], state["errors"], run_id)
    record.update(engine=engine, plan_change=change, wall_seconds=round(time.time() - t0, 3))
    record["totals"]["frames_per_second"] = round(record["totals"]["frames_run"] / max(record["wall_seconds"], 1e-9), 2)
    if state["interrupted"]:
        record["interrupted"] = True
    if state["stopped"]:
        record["stopped"] = state["stopped"]
    if problem := state["output_error"]:
        record["output_error"] = problem
    try:
        write_json(out / "run.json", record)
    except OSError as e:
        if (problem := problem or output_problem(e, out)) is None:
            raise
    if problem:
        raise SetupError(f"{problem}; {FIX_OUTPUT}")
    if state["interrupted"]:
        raise JobInterrupted(record)
    if state["stopped"]:
        raise JobStopped(record)
    described = {n: {k: e[k] for k in ("dim", "meta", "config", "config_hash")} for n, e in wanted.items()}
    return RunResult(out, plan, {n: e["config_hash"] for n, e in wanted.items()}, record, described)


def _describe(client, wanted: dict, job: JobConfig, keeper: WorkerKeeper | None = None) -> None:
    """Add each extractor's config, hash, meta and dim to ``wanted``, computed where it runs (which
    also loads each model on a worker once); all at once, so several models load side by side."""
    described = {name: client.submit(describe, ex["target"], ex["options"], pure=False, retries=job.task_retries,
                                     resources={"GPU": 1} if _uses_gpu(ex["options"]) else None)
                 for name, ex in wanted.items()}
    try:
        _wait_alive(client, list(described.values()), keeper)
        for name, ex in wanted.items():
            try:
                ex.update(described[name].result())
            except Exception as e:  # MissingWeightsError, bad options, import errors on the worker
                raise SetupError(f"cannot load extractor {name}: {type(e).__name__}: {e}") from e
    finally:  # read once: a held result would be recomputed (the model reloaded) whenever its worker dies
        for fut in described.values():
            fut.release()


def _wait_alive(client, futures: list, keeper: WorkerKeeper | None) -> None:
    """Wait for ``futures`` while dead workers are replaced; SetupError once none is left (--worker-wait)."""
    from distributed import wait

    while keeper is not None:
        try:
            wait(futures, timeout=1.0)
            return
        except TimeoutError:
            if stopped := keeper.tick(len(client.nthreads())):
                raise SetupError(f"cannot start or reach the Dask cluster: {stopped}") from None


MIN_WINDOW = 64  # tasks in flight at least (4 per worker thread when there are more threads)


def _execute(client, out, plan, wanted, by_id, run_id, job: JobConfig, decode_threads: int,
             keeper: WorkerKeeper | None = None) -> dict:
    """Submit the tasks of what is left to do and wait for them. Returns the state the record is made
    from: results, errors, the done shards' stats, and whether the job was interrupted (Ctrl-C) or
    stopped on an output error (its remaining tasks are cancelled then)."""
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    shards = {s["id"]: s for s in plan["shards"]}
    specs, done, seen = [], {}, {}
    for name, ex in wanted.items():
        todo, done[name] = _todo(out, plan, name, ex, by_id, job, seen)
        for sid, redo in todo.items():  # what a task is; its items are added when it is submitted
            specs.append({"out": str(out), "extractor": name, "target": ex["target"], "options": ex["options"],
                          "modality": ex["modality"], "config_hash": ex["config_hash"], "shard": sid,
                          "key": shards[sid]["key"], "generation": plan["generation"], "run_id": run_id, "redo": redo,
                          "decode_threads": decode_threads, **job.item_settings()})
    state = {"results": {}, "errors": [], "done": done, "specs": specs, "run_id": run_id, "interrupted": False,
             "output_error": None, "stopped": None}
    keeper = keeper or WorkerKeeper(None, job.max_restarts, job.worker_wait)
    checked = 0.0
    results, errors = state["results"], state["errors"]
    total = sum(len(shards[s["shard"]]["items"]) if s["redo"] is None else len(s["redo"]) for s in specs)
    bar = Progress(total, run_id, enabled=job.progress, interval=job.log_every)
    client.subscribe_topic(PROGRESS_TOPIC, bar.on_event)

    def submit(spec, attempt):
        task = {**spec, "items": [by_id[i].to_dict() for i in shards[spec["shard"]]["items"]]}
        return client.submit(run_shard, task, key=f"extract-{spec['extractor']}-{spec['shard']}-{run_id}-{attempt}",
                             resources={"GPU": 1} if _uses_gpu(spec["options"]) else None,
                             retries=job.task_retries, pure=False)

    # A window of tasks in flight, refilled as they end: the driver (and a local cluster's scheduler,
    # which lives in it) holds a few hundred tasks' items, not every task's (100k items: 1,563 tasks).
    window = max(MIN_WINDOW, 4 * sum(client.nthreads().values()))
    pending = collections.deque(specs)
    attempts: Counter = Counter()
    futures = {}

    def refill():
        while pending and len(futures) < window:
            spec = pending.popleft()
            fut = submit(spec, 0)
            futures[fut] = spec
            ac.add(fut)

    try:
        ac = as_completed()
        refill()
        while not ac.is_empty() and state["output_error"] is None and state["stopped"] is None:
            batch = ac.next_batch(block=False)
            if not batch:
                time.sleep(0.2)
                bar.refresh()
                if time.monotonic() - checked > 1.0:  # dead workers replaced, or a stop after --worker-wait
                    checked = time.monotonic()
                    if stopped := keeper.tick(len(client.nthreads())):
                        log.error("%s", stopped)
                        state["stopped"] = stopped
                continue
            for fut in batch:
                if fut.status not in ("finished", "error", "cancelled"):
                    # 'lost' / 'pending': its result went down with a worker after the task finished and
                    # Dask is computing it again. Never a failure: wait for the new result.
                    ac.add(fut)
                    continue
                spec = futures.pop(fut)
                tid = (spec["extractor"], spec["shard"])
                try:
                    outcome = fut.result()  # waits, should the result be lost again meanwhile
                    if "output_error" in outcome:  # a full disk, a read-only directory: no rerun helps yet
                        state["output_error"] = outcome["output_error"]
                    elif "cancelled" not in outcome:  # (a cancelled task wrote nothing: never counted)
                        results[tid] = outcome
                except Exception as exc:  # noqa: BLE001 - the task's error, KilledWorker, cancellation
                    attempts[tid] += 1
                    if isinstance(exc, KilledWorker) and attempts[tid] < job.max_attempts:
                        log.warning("%s %s: workers died running it (%s); resubmitting (attempt %d of %d)",
                                    *tid, exc, attempts[tid] + 1, job.max_attempts)
                        nf = submit(spec, attempts[tid])
                        futures[nf] = spec
                        ac.add(nf)
                    else:
                        log.error("%s %s did not complete: %s: %s", *tid, type(exc).__name__, exc)
                        errors.append({"extractor": tid[0], "shard": tid[1], "error": f"{type(exc).__name__}: {exc}"})
                fut.release()
            refill()
            bar.refresh()
    except KeyboardInterrupt:  # Ctrl-C: stop here, say so once (main), keep what is done
        state["interrupted"] = True
    finally:
        bar.close(quiet=state["interrupted"])
        if state["interrupted"] or state["output_error"] or state["stopped"]:
            _mark_cancelled(out, run_id)  # running tasks stop between items and write nothing
            client.cancel(list(futures))
        client.unsubscribe_topic(PROGRESS_TOPIC)
    return state


def _mark_cancelled(out: Path, run_id: str) -> None:
    """Tell this run's running tasks to stop (extractors.shardtask.cancel_marker); markers older than a
    day are removed (no task of theirs can still run)."""
    marker = cancel_marker(out, run_id)
    with contextlib.suppress(OSError):
        marker.parent.mkdir(exist_ok=True)
        marker.touch()
        for old in marker.parent.iterdir():
            if time.time() - old.stat().st_mtime > 86400:
                old.unlink()


def _collect_finished(out: Path, state: dict) -> None:
    """Results of this run's tasks that finished on disk but never reached us (the job stopped first)."""
    for spec in state["specs"]:
        tid = (spec["extractor"], spec["shard"])
        if tid not in state["results"]:
            stats = _stats(out, spec["extractor"], spec["config_hash"], spec["shard"])
            if stats and stats.get("shard_key") == spec["key"] and stats.get("run_id") == state["run_id"]:
                state["results"][tid] = summary(stats)


class JobInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the job; ``record`` is the partial run.json it wrote. Rerun to resume."""

    def __init__(self, record: dict):
        self.record = record
        extractors = record["extractors"].values()
        self.total = sum(e["shards"] for e in extractors)
        self.done = sum(e["shards"] - e["shards_incomplete"] for e in extractors)
        super().__init__(f"interrupted: {self.done} of {self.total} shards done; rerun the same command to resume")


class JobStopped(SetupError):
    """The job stopped because no worker was left to run it (``record``: the partial run.json). Exit 1
    from this command; a SetupError for callers (the builders: one line, exit 2)."""

    def __init__(self, record: dict):
        self.record = record
        super().__init__(record["stopped"])


def _record(out, plan, wanted, done, results, errors, run_id) -> dict:
    """run.json: the state of the whole output after this run, and what this run did."""
    extractors, failures, workers = {}, [], defaultdict(lambda: Counter())
    worker_info = {}
    run_tasks = run_items = run_frames = 0
    for name, ex in wanted.items():
        e = {"config_hash": ex["config_hash"], "shards": len(plan["shards"]), "shards_run": 0,
             "shards_done_before": 0, "shards_incomplete": 0, "items": 0, "ok": 0, "failed": 0, "frames": 0}
        for shard in plan["shards"]:
            sid = shard["id"]
            stats = results.get((name, sid)) or done[name].get(sid)
            if stats is None:
                e["shards_incomplete"] += 1
                continue
            if (name, sid) in results:  # run by this run (a result recomputed after a worker died included)
                e["shards_run"] += 1
                run_tasks += 1
                n, frames = stats["items_run"], stats["frames_run"]
                run_items += n
                run_frames += frames
                w = stats["worker"]
                key = w.get("address") or f"{w['host']}:{w['pid']}"
                worker_info[key] = {k: w.get(k) for k in ("pid", "host", "gpu")}
                workers[key].update(tasks=1, items=n, frames=frames)
                workers[key]["seconds_x1000"] += int(1000 * stats["extract_seconds"])
            else:
                e["shards_done_before"] += 1
            e["items"] += stats["items"]
            e["ok"] += stats["ok"]
            e["failed"] += stats["items"] - stats["ok"]
            e["frames"] += stats["frames"]
            failures += [{"extractor": name, "shard": sid, **f} for f in stats["failures"]]
        extractors[name] = e
    per_worker = {}
    for key, c in workers.items():
        seconds = c["seconds_x1000"] / 1000
        per_worker[key] = {**worker_info[key], "tasks": c["tasks"], "items": c["items"], "frames": c["frames"],
                           "busy_seconds": round(seconds, 3), "frames_per_second": round(c["frames"] / max(seconds, 1e-9), 2)}
    return {
        "run_id": run_id, "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "out": str(out),
        "plan_generation": plan["generation"], "extractors": extractors,
        "totals": {"tasks_run": run_tasks, "items_run": run_items, "frames_run": run_frames,
                   "items": sum(e["items"] for e in extractors.values()), "ok": sum(e["ok"] for e in extractors.values()),
                   "failed": len(failures), "shards_incomplete": sum(e["shards_incomplete"] for e in extractors.values())},
        "failures": {"by_kind": dict(Counter(f["kind"] for f in failures)), "items": failures},
        "shard_errors": errors,
        "workers": per_worker,
    }


# ---------------------------------------------------------------- reading the output


class FeatureReader:
    """One extractor's features in a job's output, one item at a time (one shard file open at once).

    ``track(id)`` returns the item's FeatureTrack, or raises the ItemError it failed with (kind and
    message as recorded), or ItemError("error") when its shard has not been extracted (yet).
    """

    def __init__(self, out, extractor: str, config_hash: str | None = None, plan: dict | None = None):
        self.out = Path(out)
        self.plan = plan or load_plan(self.out)
        if self.plan is None:
            raise FileNotFoundError(f"{self.out / 'plan.json'} not found: run python -m extractors.run first")
        if config_hash is None:
            if extractor not in self.plan.get("extractors", {}):
                raise KeyError(f"{extractor!r} is not in {self.out / 'plan.json'} (has: {', '.join(self.plan.get('extractors', {}))})")
            config_hash = self.plan["extractors"][extractor]["config_hash"]
        self.extractor, self.config_hash = extractor, config_hash
        self.shard_of = {i: s["id"] for s in self.plan["shards"] for i in s["items"]}
        self._keys = {s["id"]: s["key"] for s in self.plan["shards"]}
        self._stats: dict[str, dict | None] = {}
        self._open: tuple[str, ShardFile] | None = None

    def stats(self, shard: str) -> dict | None:
        """The shard's stats if it is done and current for the plan, else None."""
        if shard not in self._stats:
            s = _stats(self.out, self.extractor, self.config_hash, shard)
            self._stats[shard] = s if s and s.get("shard_key") == self._keys[shard] else None
        return self._stats[shard]

    def failures(self) -> dict[str, dict]:
        return {f["id"]: {"kind": f["kind"], "message": f["message"]}
                for s in self._keys if (st := self.stats(s)) for f in st["failures"]}

    def _file(self, shard: str) -> ShardFile:
        if self._open is None or self._open[0] != shard:
            self._open = (shard, ShardFile(shard_path(self.out, self.extractor, self.config_hash, shard)))
        return self._open[1]

    def track(self, item_id: str) -> FeatureTrack:
        shard = self.shard_of.get(item_id)
        if shard is None:
            raise KeyError(f"{item_id!r} is not in the plan of {self.out}")
        stats = self.stats(shard)
        if stats is None:
            raise ItemError("error", f"no {self.extractor} features: {shard} is not extracted; rerun python -m "
                                     f"extractors.run --out {self.out} to resume", item_id)
        for f in stats["failures"]:
            if f["id"] == item_id:
                raise ItemError(f["kind"], f["message"], item_id)
        return self._file(shard).track(item_id)

    def __iter__(self) -> Iterator[tuple[str, FeatureTrack]]:
        """(id, track) of every ok item of the done shards, in id order."""
        for shard in self._keys:
            if self.stats(shard) is not None:
                yield from self._file(shard)


def read_features(out, extractor: str, config_hash: str | None = None) -> Iterator[tuple[str, FeatureTrack]]:
    """Stream (item id, FeatureTrack) of one extractor's output: memory is one track at a time."""
    return iter(FeatureReader(out, extractor, config_hash))


# ---------------------------------------------------------------- command line


def parse_weights(pairs: list[str] | None) -> dict[str, str]:
    out = {}
    for pair in pairs or []:
        name, sep, path = pair.partition("=")
        if not sep or not name or not path:
            raise SetupError(f"--weights takes NAME=PATH, got {pair!r}")
        out[name] = path
    return out


def parse_options(pairs: list[str] | None) -> dict[str, dict]:
    """``NAME.KEY=VALUE`` -> {NAME: {KEY: VALUE}}; VALUE is read as JSON when it parses (numbers, true, null)."""
    out: dict[str, dict] = {}
    for pair in pairs or []:
        lhs, sep, value = pair.partition("=")
        name, dot, key = lhs.rpartition(".")
        if not sep or not dot or not name or not key:
            raise SetupError(f"--option takes NAME.KEY=VALUE (e.g. clip.batch_size=64), got {pair!r}")
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            parsed = value
        out.setdefault(name, {})[key] = parsed
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=cli.prog("python -m extractors.run"), description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    cli.add_version(p)
    p.add_argument("--manifest", required=True, type=Path, help="manifest.jsonl (collectors' RawItems)")
    p.add_argument("--extractors", required=True, help=f"comma-separated: {', '.join(names())}")
    p.add_argument("--out", required=True, type=Path, help="output directory (plan, shards, run.json)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--scheduler", help="address of a running Dask scheduler (tcp://host:8786) or a scheduler file")
    where.add_argument("--workers", type=int, help="worker processes of the local cluster (default: one per core, or per GPU; "
                            "0: one worker thread in this process)")
    p.add_argument("--device", help="torch device for the models: cpu (default) or cuda (one GPU per worker)")
    p.add_argument("--shard-size", type=int, default=64, help="items per shard (default 64)")
    p.add_argument("--retry-failed", action="store_true", help="also re-run the failed items of done shards")
    p.add_argument("--weights", nargs="+", action="extend", metavar="NAME=PATH", help="local weights per extractor")
    p.add_argument("--fps", type=float, help="frames per second for the visual extractors (their default otherwise)")
    p.add_argument("--option", nargs="+", action="extend", metavar="NAME.KEY=VALUE",
                   help="a constructor option of one extractor, e.g. clip.batch_size=64 googlenet.every_nth=15")
    p.add_argument("--item-timeout", type=float,
                   help="seconds one item may take before it fails with kind timeout (default: 600 + 10 x the "
                        "item's duration in seconds, 7200 when its duration is unknown)")
    p.add_argument("--decode-threads", type=int,
                   help="FFmpeg threads per task (default: cores / tasks at once on the local cluster, "
                        "FFmpeg's choice with --scheduler)")
    p.add_argument("--tasks-per-gpu", type=int, default=1,
                   help="local cluster with --device cuda: tasks (videos decoding) at once per GPU, sharing its model")
    p.add_argument("--max-attempts", type=int, default=3, help="submissions of a task whose workers keep dying (default 3)")
    p.add_argument("--max-restarts", type=int, default=20,
                   help="local cluster: dead workers replaced at most this many times per job (default 20)")
    p.add_argument("--worker-wait", type=float, default=120.0,
                   help="seconds with no worker alive before the job stops with exit 1 (default 120)")
    p.add_argument("--log-every", type=float, default=30.0, help="seconds between progress lines when not on a terminal")
    p.add_argument("--no-progress", action="store_true", help="no progress bar or progress lines (nor the libraries' bars)")
    args = p.parse_args(argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _exit_on_sigint(EARLY))  # until the job can stop cleanly (below)
    if args.no_progress:
        cli.silence_progress()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet_dask_logs()
    try:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, _first_interrupt)
        if not args.manifest.is_file():
            raise SetupError(f"no such manifest: {args.manifest}")
        chosen = [n.strip() for n in args.extractors.split(",") if n.strip()]
        weights = parse_weights(args.weights)
        extra = parse_options(args.option)
        if unknown := sorted(set(weights) - set(chosen)) or sorted(set(extra) - set(chosen)):
            raise SetupError(f"--weights / --option for {', '.join(unknown)}, which is not in --extractors")
        options = {}
        for name in chosen:
            options[name] = {"weights": weights[name]} if name in weights else {}
            options[name].update(extra.get(name, {}))
            if args.fps is not None and name in REGISTRY and REGISTRY[name].modality == "visual":
                options[name]["fps"] = args.fps
        job = JobConfig(scheduler=args.scheduler, workers=args.workers, device=args.device, shard_size=args.shard_size,
                        retry_failed=args.retry_failed, item_timeout=args.item_timeout, max_attempts=args.max_attempts,
                        tasks_per_gpu=args.tasks_per_gpu, decode_threads=args.decode_threads,
                        progress=not args.no_progress, log_every=args.log_every, max_restarts=args.max_restarts,
                        worker_wait=args.worker_wait)
        result = run_extraction(args.manifest, options, args.out, job=job)
    except JobStopped as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except (SetupError, UnknownExtractorError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except JobInterrupted as e:
        print(e, file=sys.stderr)
        return 130
    except KeyboardInterrupt:  # before any shard was submitted
        print("interrupted before extraction started; rerun the same command to resume", file=sys.stderr)
        return 130
    print(summary_table(result.record))
    print(f"wrote {args.out / 'run.json'}")
    return result.exit_code


def _first_interrupt(signum, frame):  # noqa: ARG001 - signal handler signature
    """The job stops cleanly on a first Ctrl-C (KeyboardInterrupt: a partial run.json); a second one
    while it stops ends the command at once, one line too (the next run removes what it left)."""
    signal.signal(signal.SIGINT, _exit_on_sigint("interrupted again while stopping: stopped at once; "
                                                 "rerun the same command to resume"))
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGINT, _exit_on_sigint("interrupted while shutting down; the job's output is on disk"))
    code = main()  # (main sets its own handlers)
    signal.signal(signal.SIGINT, _exit_on_sigint("interrupted while shutting down; the job's output is on disk"))
    # Leave without the interpreter's finalization: it resets SIGINT to the default first, and a Ctrl-C
    # then ends the command with exit -2. The job closed its cluster and wrote everything already.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
