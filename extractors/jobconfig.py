"""How an extraction job runs (not what it extracts), checked once before any cluster starts.

:class:`JobConfig` bundles the engine and per-item settings of ``extractors.run.run_extraction``;
:func:`check_options` checks extractor constructor options against the constructor's signature.
Both raise :class:`SetupError` (the command's exit status 2) with the flag to fix in the message.

Default item timeout (``item_timeout=None``): ``timeout_floor + timeout_per_second x duration``
seconds, from the item's ``duration`` in the manifest (600 s + 10 s per second of media: 10 min
for a short clip, 10 h 10 min for an hour-long video, generous for Whisper or CLIP on a CPU);
an item without a known duration gets ``timeout_unknown`` (2 h). A stalled read (a network mount
that stopped answering, a FIFO) then ends as a ``timeout`` failure instead of hanging the job.
``--item-timeout S`` replaces the formula with S seconds for every item.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import types
import typing
from typing import Any


class SetupError(Exception):
    """The job cannot start as asked (bad settings, unknown extractor, missing weights, no workers,
    unwritable output): the command's exit status 2."""


# field -> the command-line flag that sets it (for messages)
FLAGS = {"workers": "--workers", "shard_size": "--shard-size", "item_timeout": "--item-timeout",
         "item_retries": "item_retries", "task_retries": "task_retries", "max_attempts": "--max-attempts",
         "tasks_per_gpu": "--tasks-per-gpu", "log_every": "--log-every", "decode_threads": "--decode-threads",
         "device": "--device", "retry_failed": "--retry-failed", "progress": "--no-progress",
         "timeout_floor": "timeout_floor", "timeout_per_second": "timeout_per_second",
         "timeout_unknown": "timeout_unknown", "poison_after": "poison_after", "max_restarts": "--max-restarts",
         "worker_wait": "--worker-wait"}


@dataclasses.dataclass(frozen=True)
class JobConfig:
    """Engine and item settings of an extraction job (see the module docstring and extractors.run).

    ``scheduler``: None for a local cluster of ``workers`` processes (0: one thread in this
    process), else an address, a scheduler file, a Cluster or a Client. ``decode_threads``: FFmpeg
    threads per task (None: the local cluster's cores divided among its tasks; FFmpeg's choice on
    a given scheduler).
    """

    scheduler: Any = None
    workers: int | None = None
    device: str | None = None
    shard_size: int = 64
    retry_failed: bool = False
    item_timeout: float | None = None
    item_retries: int = 2
    task_retries: int = 2
    max_attempts: int = 3
    tasks_per_gpu: int = 1
    progress: bool = True
    log_every: float = 30.0
    decode_threads: int | None = None
    timeout_floor: float = 600.0
    timeout_per_second: float = 10.0
    timeout_unknown: float = 7200.0
    poison_after: int = 2  # worker deaths during one item (in one run) before it is recorded worker_lost
    max_restarts: int = 20  # local cluster: dead workers replaced at most this often per job (back-off 1..30 s)
    worker_wait: float = 120.0  # seconds with no worker alive before the job stops (exit 1, partial run.json)

    def __post_init__(self):
        ints = {"workers": 0, "shard_size": 1, "item_retries": 0, "task_retries": 0, "max_attempts": 1,
                "tasks_per_gpu": 1, "decode_threads": 0, "poison_after": 1, "max_restarts": 0}
        for name, least in ints.items():
            value = getattr(self, name)
            if value is None and name in ("workers", "decode_threads"):
                continue
            if not isinstance(value, int) or isinstance(value, bool):
                raise SetupError(f"{FLAGS[name]} must be an integer, got {value!r}")
            if value < least:
                raise SetupError(f"{FLAGS[name]} must be at least {least}, got {value}")
        seconds = {"item_timeout": True, "timeout_floor": True, "timeout_unknown": True,  # name: must be > 0
                   "log_every": False, "timeout_per_second": False, "worker_wait": True}
        for name, positive in seconds.items():
            value = getattr(self, name)
            if value is None and name == "item_timeout":
                continue
            if not _is_number(value) or not math.isfinite(value) or value < 0 or (positive and value == 0):
                least = "a positive" if positive else "a non-negative"
                raise SetupError(f"{FLAGS[name]} must be {least} finite number of seconds, got {value!r}")
        for name in ("retry_failed", "progress"):
            if not isinstance(getattr(self, name), bool):
                raise SetupError(f"{name} must be True or False, got {getattr(self, name)!r}")
        if self.device is not None and not isinstance(self.device, str):
            raise SetupError(f"--device must be a string such as cpu or cuda, got {self.device!r}")
        if self.device and self.device.startswith("cuda:"):
            raise SetupError(f"--device {self.device}: in the job each GPU worker sees only its own GPU, so pass "
                             "--device cuda (choose the GPUs with CUDA_VISIBLE_DEVICES, or start workers by hand: "
                             "see extractors/engine.py)")
        if self.scheduler is not None and self.workers is not None:
            raise SetupError("give a scheduler or a worker count, not both (--workers sizes the local cluster)")

    def timeout_for(self, duration) -> tuple[float, str]:
        """(seconds one item may take, how that was decided) for an item of ``duration`` seconds."""
        return item_timeout(duration, self.item_settings())

    def item_settings(self) -> dict:
        """What each task needs of this config (plain values: it travels to the workers)."""
        return {k: getattr(self, k) for k in ("item_timeout", "item_retries", "timeout_floor", "timeout_per_second",
                                              "timeout_unknown", "poison_after")}


def item_timeout(duration, settings: dict) -> tuple[float, str]:
    """The module docstring's rule, from JobConfig.item_settings() (what a task's spec carries)."""
    if settings.get("item_timeout") is not None:
        return float(settings["item_timeout"]), f"--item-timeout {settings['item_timeout']:g}"
    floor, per_second, unknown = (settings.get(k, getattr(JobConfig, k))
                                  for k in ("timeout_floor", "timeout_per_second", "timeout_unknown"))
    if _is_number(duration) and math.isfinite(duration) and duration > 0:
        return floor + per_second * float(duration), (f"default timeout {floor:g} s + {per_second:g} x the item's "
                                                      f"{float(duration):g} s; set --item-timeout to change it")
    return unknown, f"default timeout for an item of unknown duration, {unknown:g} s; set --item-timeout to change it"


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---------------------------------------------------------------- extractor options


def _fits(value, hint) -> bool:
    """Does ``value`` fit the annotation ``hint``? Plain types, unions and None are checked; anything
    more elaborate is accepted (the constructor is the judge)."""
    origin = typing.get_origin(hint)
    if hint is Any or hint is object:
        return True
    if origin is typing.Union or isinstance(hint, types.UnionType):
        return any(_fits(value, h) for h in typing.get_args(hint))
    if hint is type(None) or hint is None:
        return value is None
    if hint is float:
        return _is_number(value)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if origin in (tuple, list) or hint in (tuple, list):
        return isinstance(value, (tuple, list))  # JSON (a task's spec) has lists only
    if origin is dict or hint is dict:
        return isinstance(value, dict)
    if isinstance(hint, type) and hint.__module__ == "builtins":
        return isinstance(value, hint)
    return True


def _hint_name(hint) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def check_options(name: str, cls: type, options: dict) -> None:
    """SetupError for an option the constructor does not take or a value of the wrong type."""
    params = dict(inspect.signature(cls.__init__).parameters)
    params.pop("self", None)
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        takes = [k for k, p in params.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        for key in options:
            if key not in takes:
                raise SetupError(f"extractor {name}: unknown option {key!r} (it takes: {', '.join(takes) or 'none'})")
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # noqa: BLE001 - an annotation this Python cannot resolve: leave it to the constructor
        hints = {}
    for key, value in options.items():
        if key in hints and not _fits(value, hints[key]):
            raise SetupError(f"extractor {name}: option {key}={value!r} is {type(value).__name__}, "
                             f"expected {_hint_name(hints[key])}")
