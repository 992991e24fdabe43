"""Builders get their features from the sharded extraction job (extractors.run), then read them per item.

One job per build runs every extractor the build needs over its items, on the engine the user
chose (``--scheduler``, ``--workers``); its output under ``<work>/features`` is the cache: a rebuild
with the same items and configs does no extraction, a changed video or transcript is re-extracted,
and an interrupted build resumes from the finished shards. Thumbnail frames (a handful of images
per video, encoded in the builder's process) keep a small per-item cache of their own.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from collectors.records import ItemError, RawItem
from extractors.base import Extractor, FeatureTrack, config_hash
from extractors.store import files_fingerprint, load_track, save_track, stored_fingerprint, track_path

BUILDER_SHARD_SIZE = 4  # videos per task: small, so long videos spread over workers and a kill loses little


def add_job_arguments(p: argparse.ArgumentParser) -> None:
    """The engine flags every builder shares (see python -m extractors.run)."""
    g = p.add_argument_group("extraction job (python -m extractors.run)")
    where = g.add_mutually_exclusive_group()
    where.add_argument("--scheduler", help="extract on a running Dask scheduler (tcp://host:8786 or a scheduler file)")
    where.add_argument("--workers", type=int, help="worker processes of the local Dask cluster (default: one per "
                                                   "core, or per GPU with --device cuda; 0: inside this process)")
    g.add_argument("--shard-size", type=int, default=BUILDER_SHARD_SIZE,
                   help=f"videos per extraction task (default {BUILDER_SHARD_SIZE})")


def job_settings(args: argparse.Namespace) -> dict:
    """extractors.run.JobConfig fields from the builder's flags."""
    device = getattr(args, "device", "cpu")
    return {"scheduler": args.scheduler, "workers": args.workers, "shard_size": args.shard_size,
            "device": None if device == "cpu" else device}


class JobFeatures:
    """One extractor's features in the job's output: ``video(item)`` / ``text(item)`` per item.

    A failed item raises the ItemError the job recorded (kind and message); an item whose shard the
    job did not finish raises ItemError("error") that says to rerun.
    """

    def __init__(self, reader, dim: int, meta: dict):
        self.reader, self.dim, self.meta = reader, dim, meta

    def _track(self, item: RawItem) -> FeatureTrack:
        if not item.ok:  # failed before extraction (collection): not in the job's plan
            raise ItemError(item.error.get("kind", "error"), item.error.get("message", ""), item.id)
        return self.reader.track(item.id)

    def video(self, item: RawItem) -> FeatureTrack:
        return self._track(item)

    def text(self, item: RawItem) -> FeatureTrack:
        try:
            return self._track(item)
        except ItemError as e:  # no transcript is zero sentences for a builder, not a failed video
            if e.kind != "no_text":
                raise
            return FeatureTrack(np.zeros(0), np.zeros((0, self.dim), np.float32), self.meta)


def extract(items: list[RawItem], root: Path, extractors: dict[str, tuple[Extractor | None, dict]], job: dict,
            progress: bool = True) -> tuple[dict[str, JobFeatures], dict]:
    """Run (or resume) the job for ``{name: (driver instance or None, constructor options)}``.

    Returns per-name JobFeatures and a summary of the job's run record (run.json) for the build
    record: engine, totals, wall time, per-worker throughput. Dims and metas are the workers'
    instances' (the job reports them); for a name given without a driver instance (None) the
    job's config stands in for the meta, as before. Raises extractors.run.SetupError when the job
    cannot start.
    """
    from extractors.run import JobConfig, run_extraction

    options = {name: {k: v for k, v in opts.items() if v is not None} for name, (_, opts) in extractors.items()}
    result = run_extraction(items, options, root, job=JobConfig(progress=progress, **job))
    features = {name: JobFeatures(result.reader(name), result.dim(name), result.meta(name) if ex else result.config(name))
                for name, (ex, _) in extractors.items()}
    summary = {k: result.record[k] for k in ("run_id", "engine", "totals", "wall_seconds", "workers")}
    return features, summary


class CachedThumbnails:
    """Thumbnail-animation frames encoded in the builder's process, cached per item on disk.

    A cached track is reused only when the extractor config (its hash names the directory) and the
    thumbnail file (size and mtime) are what it was made from.
    """

    def __init__(self, root: Path, extractor: Extractor):
        self.root, self.ex = root, extractor
        self.hash = config_hash(extractor.config())

    def thumbnail(self, item: RawItem) -> FeatureTrack:
        from collectors.behance import load_thumbnail_frames

        path = item.media.get("thumbnail")
        if not path:
            raise ItemError("no_thumbnail", "item has no media['thumbnail']", item.id)
        cached = track_path(self.root, self.ex.name, self.hash, item.id, "thumbnail")
        fingerprint = files_fingerprint(path)
        if cached.exists() and stored_fingerprint(cached) == fingerprint:
            return load_track(cached)
        frames = load_thumbnail_frames(path)
        track = FeatureTrack(np.arange(len(frames), dtype=np.float64), self.ex.encode_images(frames), self.ex.meta())
        save_track(cached, item.id, track, self.hash, fingerprint)
        return track
