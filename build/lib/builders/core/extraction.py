"""Where builders meet the extraction job (extractors.run): the one function that runs it for them.

A build declares its tracks (:class:`Track`: a registered extractor and its options, keyed by what
the dataset calls them: ``visual``, ``text``, ``thumbnail``...); :func:`extract` runs one job over
the manifest the builder wrote, on the engine the user chose (an extractors.run JobConfig), and returns a
:class:`TrackReader` per track. The job's output under ``<work>/features`` is the cache: a rebuild
with the same items and configs does no extraction, a changed video, transcript, thumbnail or
article is re-extracted, and an interrupted build resumes from the finished shards.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from collectors.records import ItemError
from extractors.base import FeatureTrack
from extractors.jobconfig import JobConfig

BUILDER_SHARD_SIZE = 4  # videos per task: small, so long videos spread over workers and a kill loses little
ABSENT_INPUT = ("no_thumbnail",)  # kinds that mean "the item has no such input", not "it is broken"


@dataclasses.dataclass(frozen=True)
class Track:
    """One track a build needs: ``extractor`` (a registry name) with constructor ``options``.

    ``column`` names the dataset column its vectors fill when the build record and the card
    should list its extractor (the ``visual`` / ``text`` encoders); the thumbnail and steps
    extractors name the model they run in ``options["encoder"]``. ``optional``: an item may lack
    this track's input (e.g. a news article without images): the job's ``no_thumbnail`` for it
    reads as zero rows instead of failing the item.
    """

    extractor: str
    options: dict = dataclasses.field(default_factory=dict)
    column: str | None = None
    optional: bool = False

    def models(self) -> set[str]:
        """The extractors whose weights this track uses (itself, and the encoder it wraps)."""
        return {self.extractor} | ({self.options["encoder"]} if "encoder" in self.options else set())

    def with_weights(self, weights: dict[str, str]) -> "Track":
        """This track with the local weights of ``weights`` (extractor name -> path) that it uses."""
        options = dict(self.options)
        if self.extractor in weights:
            options["weights"] = str(weights[self.extractor])
        if options.get("encoder") in weights:
            options["options"] = {**options.get("options", {}), "weights": str(weights[options["encoder"]])}
        return dataclasses.replace(self, options=options)


def builder_job(scheduler=None, workers: int | None = None, shard_size: int = BUILDER_SHARD_SIZE,
                device: str | None = "cpu") -> JobConfig:
    """The job a build runs: a scheduler address, or a local cluster of ``workers`` processes (None:
    one per core; 0: inside this process); ``shard_size`` items per task; ``device`` cpu or cuda.
    Raises extractors.run.SetupError for a setting the job cannot take."""
    return JobConfig(scheduler=scheduler, workers=workers, shard_size=shard_size,
                     device=None if device in (None, "cpu") else device)


class TrackReader:
    """One track's features in the job's output, an item at a time.

    ``track(id)`` raises the ItemError the job recorded for the item (kind and message), or
    ItemError("error") saying to rerun when its shard is not done. A text track of an item
    without a transcript is zero sentences, not a failure; so is an optional track's absent input.
    ``config`` comes from the job's plan;
    ``dim`` and ``meta`` from the extractor's instance on a worker (the job reports them).
    """

    def __init__(self, result, name: str, optional: bool = False):
        self.name, self.optional = name, optional
        self._reader = result.reader(name)
        self.modality = result.plan["extractors"][name]["modality"]
        self.config, self.dim, self.meta = result.config(name), result.dim(name), result.meta(name)

    def track(self, item_id: str) -> FeatureTrack:
        try:
            return self._reader.track(item_id)
        except ItemError as e:
            absent = (self.modality == "text" and e.kind == "no_text") or (self.optional and e.kind in ABSENT_INPUT)
            if not absent:
                raise
            return FeatureTrack(np.zeros(0), np.zeros((0, self.dim), np.float32), self.meta)


def extract(manifest: str | os.PathLike, root: str | os.PathLike, tracks: dict[str, Track], job: JobConfig,
            progress: bool = True) -> tuple[dict[str, TrackReader], dict]:
    """Run (or resume) one job for ``tracks`` over the manifest's ok items, output under ``root``.

    Returns a TrackReader per track key and the job's run record in brief (engine, totals, wall
    time, per-worker throughput) for the build record. Raises extractors.run.SetupError when the
    job cannot start (unknown extractor, missing weights, no workers).
    """
    from extractors.run import SetupError, run_extraction

    by_name: dict[str, str] = {}
    for key, t in tracks.items():
        if t.extractor in by_name:
            raise SetupError(f"tracks {by_name[t.extractor]!r} and {key!r} both use {t.extractor}: one track per extractor")
        by_name[t.extractor] = key
    options = {t.extractor: {k: v for k, v in t.options.items() if v is not None} for t in tracks.values()}
    result = run_extraction(Path(manifest), options, Path(root), job=dataclasses.replace(job, progress=progress))
    readers = {key: TrackReader(result, t.extractor, t.optional) for key, t in tracks.items()}
    summary = {k: result.record[k] for k in ("run_id", "engine", "totals", "wall_seconds", "workers")}
    return readers, summary
