"""Where an extraction job runs: a Dask client on a local cluster we start, or on a running scheduler.

Default: an in-process ``LocalCluster``, one worker process per core, one thread each (a worker
runs one task at a time, with one FFmpeg decode thread when workers fill the cores; Dask starts
workers with OMP_NUM_THREADS=1, so torch uses one thread too). ``--workers N`` changes the count;
``--workers 0`` runs the tasks on one worker thread inside this process (no subprocesses: for
debugging, tiny inputs, and tests that patch code in the driver).

With ``--device cuda`` the local cluster has one worker per visible GPU, each started
with its own ``CUDA_VISIBLE_DEVICES`` and the resource ``GPU=1``; the job's tasks ask for
``resources={"GPU": 1}``, so a GPU never runs two tasks at once, and ``cuda`` inside a worker means
that worker's own GPU. Every worker must import this project and see the media and ``--out``
paths (a shared filesystem); models load once per worker process (extractors.shardtask).

One task decodes one video at a time, and decoding (every frame of the video, to sample 1 fps)
costs far more than CLIP's forward pass on a GPU (benchmarks/run_scaling.py). To keep a GPU busy,
run several tasks on each GPU worker: they share the worker's one model and overlap their
decoding. ``--tasks-per-gpu K`` does this for the local cluster; by hand, start each GPU worker with
``--nthreads K --resources GPU=K`` (tasks ask for GPU=1 each). Size K to the CPU cores per GPU.

Any running scheduler (``--scheduler tcp://host:8786``, or a scheduler file ``sched.json``):

1. By hand, one machine or many::

       dask scheduler --port 8786                       # prints tcp://HOST:8786
       # one worker per GPU, each seeing only its GPU:
       CUDA_VISIBLE_DEVICES=0 dask worker tcp://HOST:8786 --nworkers 1 --nthreads 1 --resources GPU=1 &
       CUDA_VISIBLE_DEVICES=1 dask worker tcp://HOST:8786 --nworkers 1 --nthreads 1 --resources GPU=1 &
       # CPU-only workers: dask worker tcp://HOST:8786 --nworkers 8 --nthreads 1
       python -m extractors.run --manifest m.jsonl --extractors clip --out features/ \\
           --scheduler tcp://HOST:8786 --device cuda

2. dask-cuda's ``LocalCUDACluster`` (``pip install dask-cuda``), one worker per GPU::

       from dask_cuda import LocalCUDACluster
       from distributed import Client
       from extractors.run import JobConfig, run_extraction
       cluster = LocalCUDACluster(threads_per_worker=1, resources={"GPU": 1})
       run_extraction("m.jsonl", {"clip": {}}, "features/", job=JobConfig(scheduler=Client(cluster), device="cuda"))

   or from a shell: ``dask cuda worker tcp://HOST:8786 --nthreads 1 --resources GPU=1`` per
   machine (it starts one worker per GPU and sets CUDA_VISIBLE_DEVICES for each).

3. SLURM with dask-jobqueue (``pip install dask-jobqueue``), one job per GPU::

       from dask_jobqueue import SLURMCluster
       cluster = SLURMCluster(queue="gpu", cores=8, processes=1, memory="48GB", walltime="12:00:00",
                              job_extra_directives=["--gres=gpu:1"],
                              worker_extra_args=["--nthreads", "1", "--resources", "GPU=1"])
       cluster.scale(jobs=8)
       run_extraction("m.jsonl", {"clip": {}}, "/shared/features", job=JobConfig(scheduler=cluster, device="cuda"))

   A job that SLURM preempts takes its worker with it: Dask re-runs its task elsewhere, and a
   rerun of the command after the whole allocation ends resumes from the finished shards.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path



def quiet_dask_logs() -> None:
    """Dask's INFO lines (every worker start and stop) drown a command's own; keep its warnings.

    The environment variable reaches worker processes started from here (they read it when they
    import distributed); a value the user set is kept.
    """
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    import distributed  # noqa: F401  (its import sets its loggers' levels: set ours after)

    for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.core",
                 "distributed.http.proxy", "distributed.worker"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("distributed.nanny", "distributed.deploy.spec", "tornado.application"):
        lg = logging.getLogger(name)  # a worker killed while it starts: one line, not a traceback each time
        if not any(isinstance(f, _NoTraceback) for f in lg.filters):
            lg.addFilter(_NoTraceback())
    scheduler_log = logging.getLogger("distributed.scheduler")
    if not any(isinstance(f, _RecomputedGather) for f in scheduler_log.filters):
        scheduler_log.addFilter(_RecomputedGather())


class _RecomputedGather(logging.Filter):
    """Drop the scheduler's ERROR "Couldn't gather keys: {key: 'queued'}": the client asked for a result
    that went down with a worker a moment earlier; the client waits for its recomputation (the
    job's results are never lost), so the line is noise, not an error."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Couldn't gather keys")


log = logging.getLogger("extractors.engine")


class _NoTraceback(logging.Filter):
    """Keep the record's line, drop its traceback (WorkerKeeper reports and handles the failure)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info:
            record.msg = f"{record.getMessage()}: {record.exc_info[0].__name__}: {record.exc_info[1]}"
            record.args, record.exc_info, record.exc_text = (), None, None
        return True


class EngineError(RuntimeError):
    """No usable workers (e.g. a GPU job with no worker declaring the GPU resource)."""


# Worker processes of our local clusters ignore Ctrl-C: the command stops them (extractors/workerinit.py).
WORKER_PRELOAD = ["extractors.workerinit"]


def gpu_worker_specs(gpus: list[str], tasks_per_gpu: int = 1) -> dict:
    """SpecCluster workers: one Nanny per GPU, each seeing only its own device, ``tasks_per_gpu`` at once."""
    from distributed import Nanny

    return {f"gpu-{g}": {"cls": Nanny, "options": {"nthreads": tasks_per_gpu, "resources": {"GPU": tasks_per_gpu},
                                                    "env": {"CUDA_VISIBLE_DEVICES": str(g)},
                                                    "preload": WORKER_PRELOAD}}
            for g in gpus}


def local_cluster(workers: int | None, gpu: bool, tasks_per_gpu: int = 1):
    from distributed import LocalCluster, Scheduler, SpecCluster

    if workers == 0:
        return LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0",
                            resources={"GPU": 1} if gpu else None)
    if not gpu:  # started empty, then scaled: a worker killed while it starts is replaced, not a traceback
        cluster = LocalCluster(n_workers=0, threads_per_worker=1, processes=True, dashboard_address=":0",
                               preload=WORKER_PRELOAD)
        cluster.scale(workers or os.cpu_count() or 1)
        return cluster
    if workers is None:
        import torch

        workers = torch.cuda.device_count()
        if workers == 0:
            raise EngineError("--device cuda but no CUDA device is visible here; pass --scheduler ADDRESS of a "
                              "cluster with GPU workers (see extractors/engine.py)")
    return SpecCluster(workers=gpu_worker_specs([str(i) for i in range(workers)], tasks_per_gpu),
                       scheduler={"cls": Scheduler, "options": {"dashboard_address": ":0"}})


def connect(scheduler=None, workers: int | None = None, gpu: bool = False, tasks_per_gpu: int = 1):
    """(client, things to close afterwards). ``scheduler``: None (local cluster), an address, a
    scheduler-file path, a Cluster object or a Client (which stays open)."""
    from distributed import Client

    if scheduler is None:
        cluster = local_cluster(workers, gpu, tasks_per_gpu)
        client = Client(cluster)
        from extractors.workerplugin import QuietCancellation

        client.register_plugin(QuietCancellation(), name="vsumhub-quiet-cancellation")
        return client, [_LocalShutdown(client, cluster)]
    if isinstance(scheduler, Client):
        return scheduler, []
    if not isinstance(scheduler, (str, os.PathLike)):  # a Cluster (LocalCUDACluster, SLURMCluster, ...)
        client = Client(scheduler)
    elif str(scheduler).endswith(".json") and Path(scheduler).exists():
        client = Client(scheduler_file=str(scheduler))
    else:
        client = Client(str(scheduler))
    return client, [client]


class _LocalShutdown:
    """Closing a local cluster we started, once the job is over and its output on disk.

    Workers are retired before the scheduler closes, or a worker's heartbeat in flight logs a
    CommClosedError traceback (dask/distributed#7105) over the command's report; the nannies that
    live in this process can still log a CancelledError while they stop, so their loggers are held
    at CRITICAL for the shutdown only, and so are the worker processes' (a heartbeat just after
    their retirement logs "Scheduler was unaware of this worker").
    """

    QUIET = ("distributed.nanny", "distributed.core", "distributed.worker", "distributed.scheduler")

    def __init__(self, client, cluster):
        self.client, self.cluster = client, cluster

    def close(self) -> None:
        loggers = [logging.getLogger(name) for name in self.QUIET]
        levels = [lg.level for lg in loggers]
        for lg in loggers:
            lg.setLevel(logging.CRITICAL)
        try:
            try:  # the workers' own shutdown races ("Scheduler was unaware of this worker") print to our terminal too
                self.client.run(_hush_shutdown_logs, self.QUIET)
                self.client.retire_workers(close_workers=True, remove=True)
            except Exception:  # noqa: BLE001 - best effort: closing the cluster stops them anyway
                pass
            self.client.close()
            self.cluster.close()
        finally:
            for lg, level in zip(loggers, levels):
                lg.setLevel(level)


def _hush_shutdown_logs(names) -> None:
    """Run on each worker of a local cluster as it is being shut down."""
    for name in names:
        logging.getLogger(name).setLevel(logging.CRITICAL)


def check_workers(client, gpu: bool, timeout: float = 120.0, keeper: WorkerKeeper | None = None) -> dict:
    """Wait for a worker (replacing dead ones meanwhile: ``keeper``); for a GPU job, insist that some
    worker declares the GPU resource."""
    deadline = time.monotonic() + timeout
    while not client.nthreads():
        if time.monotonic() > deadline:
            raise EngineError(f"no Dask worker came up within {timeout:g} s" + (keeper.story() if keeper else ""))
        if keeper:
            keeper.tick(0)
        time.sleep(0.5)
    workers = client.scheduler_info(n_workers=-1)["workers"]
    if gpu and not any(w.get("resources", {}).get("GPU") for w in workers.values()):
        raise EngineError(f"--device cuda but none of the {len(workers)} worker(s) declares a GPU resource: "
                          "start workers with --resources GPU=1 (see extractors/engine.py)")
    return workers


class WorkerKeeper:
    """Keeps the job's workers alive, and says when to give up (issue 26: a cluster losing workers).

    On our local cluster a Nanny restarts its worker process when it dies, but a worker killed
    while it starts makes its Nanny close for good (distributed.nanny.Nanny.instantiate), and the
    cluster never replaces it: after a few kills no worker is left and the job would wait forever.
    ``tick`` removes such closed nannies and has the cluster start new ones, at most
    ``max_restarts`` times per job, waiting 1, 2, 4 ... (at most 30) s between replacements while
    they keep dying (back to 1 s once every worker is up).
    On any cluster (``cluster`` None: one we did not start, nothing to replace), ``tick`` returns
    a one-line reason to stop once no worker has been alive for ``worker_wait`` seconds.
    """

    def __init__(self, cluster=None, max_restarts: int = 20, worker_wait: float = 120.0, address: str = ""):
        self.cluster, self.max_restarts, self.worker_wait, self.address = cluster, max_restarts, worker_wait, address
        self.restarts, self.next_restart, self.none_since, self.backoff = 0, 0.0, None, 1.0

    def _dead(self) -> list:
        from distributed.core import Status

        return [name for name, w in list(self.cluster.workers.items())
                if getattr(w, "status", None) in (Status.closed, Status.failed)]

    def tick(self, alive: int) -> str | None:
        now = time.monotonic()
        if alive:
            self.none_since = None
        if self.cluster is not None and alive >= len(self.cluster.worker_spec):
            self.backoff = 1.0  # all up again: the next loss is replaced at once
        elif self.none_since is None:
            self.none_since = now
        if self.cluster is not None and self.restarts < self.max_restarts and now >= self.next_restart:
            if dead := self._dead():
                self.restarts += len(dead)
                self.next_restart, self.backoff = now + self.backoff, min(2 * self.backoff, 30.0)
                log.warning("%d Dask worker(s) stopped for good after being killed; starting new ones "
                            "(%d of at most %d replacements)", len(dead), self.restarts, self.max_restarts)
                self.cluster.loop.add_callback(self._replace, dead)
        if self.none_since is not None and now - self.none_since > self.worker_wait:
            return f"no Dask worker alive for {self.worker_wait:g} s{self.story()}; rerun the same command to resume"
        return None

    async def _replace(self, dead: list) -> None:
        for name in dead:
            self.cluster.workers.pop(name, None)
        try:
            await self.cluster._correct_state()  # starts a worker for each spec without one
        except Exception as e:  # noqa: BLE001 - killed again while starting: the next tick replaces it
            log.warning("a new Dask worker failed to start (%s: %s); trying again later", type(e).__name__, e)

    def story(self) -> str:
        if self.cluster is None:
            return f" on {self.address or 'the scheduler'} (workers of a cluster we did not start are not replaced)"
        spent = "; the replacement budget (--max-restarts) is spent" if self.restarts >= self.max_restarts else ""
        return f" (workers replaced {self.restarts} time(s){spent})"
