"""Mr.HiSum's most-replayed curves fetched anew for each ``youtube_id`` of its metadata (``--collect``),
so a user can rebuild or extend the labels; see builders.mrhisum for the rows and the alignment rule.

Each video's info is fetched with collectors.youtube (info only: no media, no subtitles) and its
curve cached under ``<work>/curves/<youtube_id>.json``, so a rerun fetches only what is missing or
failed. Failures keep their collector kind (``unavailable``, ``private``, ``rate_limited``, ...);
a video without the curve is ``no_heatmap``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from builders.core.base import Builder, BuildError
from builders.mrhisum.dataset import card_facts, common_columns, read_metadata, read_splits
from collectors.records import ItemError, safe_id
from common.files import write_json

def heatmap_feature():
    """The most-replayed markers as the collector gives them: ``{start, end, value}``."""
    from datasets import List, Value

    return List({"start": Value("float64"), "end": Value("float64"), "value": Value("float32")})


def align_curve(heatmap: list[dict], duration: float) -> np.ndarray:
    """Mr.HiSum's ``align_most_replayed``: second k (k < int(duration)) takes marker floor(k * 1000 / marker
    milliseconds), capped at the last marker."""
    markers = sorted(heatmap, key=lambda h: h["start"])
    marker_ms = round((markers[0]["end"] - markers[0]["start"]) * 1000)
    if marker_ms <= 0:
        raise ItemError("bad_metadata", f"most-replayed markers of {marker_ms} ms")
    values = np.array([h["value"] for h in markers], dtype=np.float32)
    bins = np.minimum(np.arange(int(duration)) * 1000 // marker_ms, len(values) - 1)
    return values[bins]


@dataclass(frozen=True)
class Wanted:
    id: str  # video_N
    meta: dict


class MrHiSumCollect(Builder):
    """Config ``collected``: the metadata's videos with their curve fetched anew."""

    family, protocol = "mrhisum", "most_replayed"  # the curve, no keyshot summary: scored as HierSum scores it
    name, source = "mrhisum", "youtube"
    tool = "python -m builders.mrhisum --collect"

    def __init__(self, metadata: Path, splits: Path | None = None, *, info_json: Path | None = None,
                 limit: int | None = None, sleep: float = 2.0):
        if info_json is not None and not Path(info_json).is_dir():
            raise BuildError(f"--info-json {info_json} is not a directory")
        self.metadata, self.splits_file, self.info_json = Path(metadata), splits and Path(splits), info_json
        self.limit, self.sleep = limit, sleep
        self.input = str(metadata)

    def prepare(self, ctx) -> None:
        meta = read_metadata(self.metadata)
        ids = list(meta)[: self.limit] if self.limit else list(meta)
        self.split_of = read_splits(self.splits_file, ids)
        self.wanted = [Wanted(i, meta[i]) for i in ids if i in self.split_of]
        self.cache = ctx.work / "curves"
        from collectors.net import Net

        self.net = Net(sleep=self.sleep)
        self.fetched = {"cached": 0, "fetched": 0}

    def items(self):
        return self.wanted

    def splits(self, item) -> str:
        return self.split_of[item.id]

    def features(self, dims: dict) -> dict:
        from datasets import Features

        return {"collected": Features({**common_columns(), "heatmap": heatmap_feature()})}

    def curve(self, youtube_id: str) -> list[dict]:
        """The video's markers: from the cache, else from the collector (ItemError with its kind)."""
        from collectors.youtube import fetch_info, heatmap

        cached = self.cache / f"{safe_id(youtube_id)}.json"
        if cached.is_file():
            self.fetched["cached"] += 1
            import json

            return json.loads(cached.read_text())
        source = str(Path(self.info_json) / f"{youtube_id}.info.json") if self.info_json else youtube_id
        markers = heatmap(fetch_info(source, self.net))
        if not markers:
            raise ItemError("no_heatmap", f"{youtube_id} has no most-replayed curve (too few views, or removed)")
        write_json(cached, markers)
        self.fetched["fetched"] += 1
        return markers

    def examples(self, item: Wanted, tracks: dict) -> list[dict]:
        try:
            markers = self.curve(item.meta["youtube_id"])
        except ItemError as e:
            raise ItemError(e.kind, f"{item.meta['youtube_id']}: {e.message}", item.id) from None
        duration = item.meta["duration"] if math.isfinite(item.meta["duration"]) else markers[-1]["end"]
        scores = align_curve(markers, duration)
        n = len(scores)
        if n == 0:
            raise ItemError("bad_metadata", f"duration {duration} s gives no second to score", item.id)
        picks = np.arange(n, dtype=np.int32)
        return [{"id": safe_id(item.id), "video_id": item.id, **item.meta, "n_frames": n, "fps": 1.0, "picks": picks,
                 "frame_times": picks.astype(np.float64), "frame_scores": scores, "heatmap": markers}]

    def count(self, row: dict) -> dict:
        return {"frames": row["n_frames"], "seconds": float(row["n_frames"])}

    def facts(self, config: str) -> dict:
        return {"curves": dict(self.fetched), "metadata": str(self.metadata),
                "info_json": str(self.info_json) if self.info_json else None}

    def card_facts(self) -> dict:
        return card_facts("collect")
