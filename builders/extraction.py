"""Run extractors on items with an on-disk cache, so a rebuild skips what is already extracted."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from collectors.records import ItemError, RawItem
from extractors.base import Extractor, FeatureTrack, config_hash
from extractors.store import load_track, save_track, stored_fingerprint, track_path

class CachedExtraction:
    """Runs an extractor on items, keeping each track on disk so a rerun skips finished videos.

    A cached track is reused only when the extractor config (its hash names the directory) and
    the item's input (file sizes and mtimes, or the transcript text) are what it was made from.
    """

    def __init__(self, root: Path, extractor: Extractor):
        self.root, self.ex = root, extractor
        self.hash = config_hash(extractor.config())

    def _cached(self, item_id: str, track: str, fingerprint: str, compute) -> FeatureTrack:
        path = track_path(self.root, self.ex.name, self.hash, item_id, track)
        if path.exists() and stored_fingerprint(path) == fingerprint:
            return load_track(path)
        result = compute()
        save_track(path, item_id, result, self.hash, fingerprint)
        return result

    def video(self, item: RawItem) -> FeatureTrack:
        video = item.media.get("video")
        return self._cached(item.id, "video", files_fingerprint(video), lambda: self.ex.extract(item))

    def text(self, item: RawItem) -> FeatureTrack:
        blob = json.dumps(item.transcript, sort_keys=True)
        return self._cached(item.id, "transcript", hashlib.sha1(blob.encode()).hexdigest(), lambda: self.ex.extract(item))

    def thumbnail(self, item: RawItem) -> FeatureTrack:
        from collectors.behance import load_thumbnail_frames

        path = item.media.get("thumbnail")
        if not path:
            raise ItemError("no_thumbnail", "item has no media['thumbnail']", item.id)

        def compute():
            frames = load_thumbnail_frames(path)
            return FeatureTrack(np.arange(len(frames), dtype=np.float64), self.ex.encode_images(frames), self.ex.meta())

        return self._cached(item.id, "thumbnail", files_fingerprint(path), compute)


def files_fingerprint(path) -> str:
    """Cheap identity of a file or directory's files: names, sizes and modification times."""
    if not path:
        return ""
    p = Path(path)
    files = sorted(p.rglob("*")) if p.is_dir() else [p]
    parts = [f"{f.name}:{st.st_size}:{st.st_mtime_ns}" for f in files if f.is_file() and (st := f.stat())]
    return hashlib.sha1("|".join(parts).encode()).hexdigest()
