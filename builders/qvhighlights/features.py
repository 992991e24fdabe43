"""Moment-DETR's released QVHighlights features, imported as released (``--features-dir DIR``).

Layout (``moment_detr_features.tar.gz``; read by Moment-DETR's ``start_end_dataset.py`` and UMT's
``datasets/qvhighlights.py``)::

    DIR/slowfast_features/<vid>.npz      features [clips, 2304]   SlowFast, one row per 2-s clip
    DIR/clip_features/<vid>.npz          features [clips, 512]    CLIP ViT-B/32 image, per 2-s clip
    DIR/clip_text_features/qid<qid>.npz  last_hidden_state [tokens, 512]   CLIP text tokens of the query
    DIR/pann_features/<vid>.npy          [clips, 2048]            PANN audio (UMT's copy; optional)

Config ``slowfast-clip`` (``slowfast-clip-pann`` with the audio): ``frames_slowfast``, ``frames_clip``,
``query_clip`` (the token rows, as Moment-DETR reads them: ``q_feat_type="last_hidden_state"``) and
``audio_pann``, not normalised (Moment-DETR L2-normalises at load time; UMT does not). A video keeps
the clips that its labels and every feature file have (Moment-DETR: "some features are slightly
longer than the others"). A missing or unreadable file fails its query with ``unavailable`` /
``bad_media``; the others are built.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from builders.core.base import Builder, BuildError
from builders.core.safe.arrays import item_read, load_array, read_npy, read_npz
from builders.qvhighlights.dataset import (
    Query,
    card_facts,
    check_video_splits,
    label_features,
    labels,
    read_queries,
    release_files,
    target_features,
)
from builders.core.schema import frames_column, vectors
from collectors.records import ItemError

VIDEO = {"slowfast": ("slowfast_features", 2304), "clip": ("clip_features", 512)}
TEXT_DIR, TEXT_KEY, TEXT_DIM = "clip_text_features", "last_hidden_state", 512
AUDIO_DIR, AUDIO_DIM = "pann_features", 2048


def _load(path: Path, key: str | None, qid: str) -> np.ndarray:
    """An array of a Moment-DETR feature file (``.npz`` member ``key``, or a ``.npy``), read safely."""
    if key:
        arrays = item_read(read_npz, path, "feature", qid, f"cannot read {key}")
        if key not in arrays:
            raise ItemError("bad_media", f"{path}: no array {key!r} (has: {', '.join(arrays) or 'none'})", qid)
        a = arrays[key]
    else:
        a = item_read(read_npy, path, "feature", qid, "cannot read the array")
    if a.ndim != 2 or a.dtype.kind not in "iuf" or not np.all(np.isfinite(a)):
        raise ItemError("bad_media", f"{path}: expected a finite [rows, dim] array, got {a.dtype}{list(a.shape)}", qid)
    return a.astype(np.float32)


class QVHighlightsReleased(Builder):
    """The release files with Moment-DETR's feature files (see the module docstring)."""

    family = "qvhighlights"
    protocol = "qvhighlights"
    name, source = "qvhighlights", "moment_detr_features"
    tool = "python -m builders.qvhighlights"

    def __init__(self, annotations, features_dir: Path):
        self.annotation_paths = list(annotations) if isinstance(annotations, (list, tuple)) else [annotations]
        self.dir = Path(features_dir)
        self.input = f"{', '.join(map(str, self.annotation_paths))} + {features_dir}"

    def prepare(self, ctx) -> None:
        missing = [d for d in [v[0] for v in VIDEO.values()] + [TEXT_DIR] if not (self.dir / d).is_dir()]
        if missing:
            raise BuildError(f"--features-dir {self.dir} lacks {', '.join(missing)} (Moment-DETR's feature layout: "
                             "slowfast_features/, clip_features/, clip_text_features/)")
        self.audio = (self.dir / AUDIO_DIR).is_dir()
        self.queries = read_queries(release_files(self.annotation_paths))
        check_video_splits(self.queries)

    def items(self):
        return self.queries

    def splits(self, item: Query) -> str:
        return item.split

    def config(self) -> str:
        return "slowfast-clip" + ("-pann" if self.audio else "")

    def features(self, dims: dict) -> dict:
        from datasets import Features

        cols = label_features()
        for name, (_, dim) in VIDEO.items():
            cols[frames_column(name)] = vectors(dim)
        if self.audio:
            cols["audio_pann"] = vectors(AUDIO_DIM)
        cols["query_clip"] = vectors(TEXT_DIM)
        return {self.config(): Features({**cols, **target_features()})}

    def examples(self, item: Query, tracks: dict) -> list[dict]:
        row = labels(item)
        vid = row["video_id"]
        arrays = {frames_column(name): _load(self.dir / folder / f"{vid}.npz", "features", item.id)
                  for name, (folder, _) in VIDEO.items()}
        if self.audio:
            arrays["audio_pann"] = load_array(self.dir / AUDIO_DIR / f"{vid}.npy", "PANN feature", item.id)
        for name, a in arrays.items():
            dim = AUDIO_DIM if name == "audio_pann" else VIDEO[name[len("frames_"):]][1]
            if a.shape[1] != dim:
                raise ItemError("bad_media", f"{vid}: {name} is {a.shape[1]}-d, expected {dim}", item.id)
        query = _load(self.dir / TEXT_DIR / f"qid{item.id}.npz", TEXT_KEY, item.id)
        if query.shape[1] != TEXT_DIM or len(query) == 0:
            raise ItemError("bad_media", f"qid{item.id}: {TEXT_KEY} is {list(query.shape)}, expected [tokens, {TEXT_DIM}]",
                            item.id)
        n = min([len(row["frame_times"])] + [len(a) for a in arrays.values()])
        if n == 0:
            raise ItemError("bad_media", f"{vid}: a feature file has no clip", item.id)
        row["frame_times"] = row["frame_times"][:n]
        for key in ("frame_scores", "frame_labels"):
            if row[key] is not None:
                row[key] = row[key][:n]
        return [{**row, **{k: a[:n] for k, a in arrays.items()}, "query_clip": query}]

    def count(self, row: dict) -> dict:
        return {"queries": 1, "frames": len(row["frame_times"]), "seconds": row["duration"]}

    def facts(self, config: str) -> dict:
        columns = {name: frames_column(name) for name in VIDEO} | {"text": "query_clip"}
        extractors = {
            "slowfast": {"extractor": "provided", "model": "SlowFast (Moment-DETR release, HERO feature extractor)",
                         "dim": 2304, "sampling": "per 2-s clip"},
            "clip": {"extractor": "provided", "model": "CLIP ViT-B/32 image (Moment-DETR release)", "dim": 512,
                     "sampling": "per 2-s clip"},
            "text": {"extractor": "provided", "model": "CLIP text tokens, last_hidden_state (Moment-DETR release)",
                     "dim": TEXT_DIM, "sampling": "per token"},
        }
        if self.audio:
            columns["audio"] = "audio_pann"
            extractors["audio"] = {"extractor": "provided", "model": "PANN (UMT's pann_features)", "dim": AUDIO_DIM,
                                   "sampling": "per 2-s clip"}
        return {"columns": columns, "extractors": extractors, "features_dir": str(self.dir),
                "clip_rule": "a video keeps the clips its labels and every feature file have; not normalised"}

    def card_facts(self) -> dict:
        return card_facts("features")
