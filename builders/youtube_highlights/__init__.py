"""YouTube Highlights (Sun et al., ECCV 2014) in the layout UMT distributes: six domains, per video a
highlight label per clip, a train / test split per domain; a config per domain, as CFSum trains.

See docs/datasets/youtube_highlights.md (what it is, its inputs, flags, columns, labels, failures; the card's prose).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cards.pages import ref
from builders.core.base import Builder, BuildError, run, video_in
from builders.core.clips import clip_feature_tracks
from builders.core import safe
from builders.core.safe.arrays import load_array
from builders.core.schema import frames_column, vectors
from collectors.records import ItemError, RawItem, item_id, safe_id

DOMAINS = ("dog", "gymnastics", "parkour", "skating", "skiing", "surfing")
CLIP_SECONDS = 2.0
SPLITS = {"train": "train", "val": "test"}  # UMT's names -> ours


class Video(NamedTuple):
    id: str
    domain: str
    split: str
    annotation: object


def read_splits(path: Path) -> dict[str, dict[str, list[str]]]:
    """domain -> {train, test} video ids, from UMT's static.py (the YOUTUBE_SPLITS literal) or a JSON."""
    path = Path(path)
    try:
        text = safe.read_text(path)
    except (OSError, UnicodeDecodeError) as e:
        raise BuildError(f"cannot read the split file {path}: {e}") from e
    if path.suffix == ".py":
        data = None
        try:
            for node in ast.parse(text).body:
                if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "YOUTUBE_SPLITS" for t in node.targets):
                    data = ast.literal_eval(node.value)
        except (SyntaxError, ValueError) as e:
            raise BuildError(f"{path}: YOUTUBE_SPLITS is not a literal dict ({e})") from e
        if data is None:
            raise BuildError(f"{path} defines no YOUTUBE_SPLITS (UMT's datasets/utils/static.py does)")
    else:
        try:
            data = safe.json_loads(text, str(path))
        except ValueError as e:
            raise BuildError(f"{path} is not JSON: {e}") from e
    if not isinstance(data, dict) or not data:
        raise BuildError(f"{path}: expected {{domain: {{train: [...], val: [...]}}}}")
    out, seen = {}, {}
    for domain, parts in data.items():
        if domain not in DOMAINS:
            raise BuildError(f"{path}: unknown domain {domain!r}; YouTube Highlights has {', '.join(DOMAINS)}")
        if not isinstance(parts, dict) or set(parts) - set(SPLITS) or not all(
                isinstance(v, list) and all(isinstance(x, str) for x in v) for v in parts.values()):
            raise BuildError(f"{path}: domain {domain} must map train / val to lists of video ids")
        out[domain] = {SPLITS[k]: list(v) for k, v in parts.items()}
        for split, ids in out[domain].items():
            for vid in ids:
                if vid in seen:
                    raise BuildError(f"{path}: video {vid} is listed twice ({seen[vid]} and {domain}/{split})")
                seen[vid] = f"{domain}/{split}"
    return out


class YouTubeHighlights(Builder):
    """UMT's YouTube Highlights files: a config per domain, with UMT's features when they are there."""

    family = "youtube_highlights"
    protocol = "highlights"
    name, source = "youtube-highlights", "umt"

    def __init__(self, input: Path, splits: Path, videos: Path | None = None, visual: str = "clip",
                 motion: str | None = "i3d", audio: str | None = "pann"):
        if videos is not None and not Path(videos).is_dir():
            raise BuildError(f"--videos {videos} is not a directory")
        self.root, self.splits_file = Path(input), Path(splits)
        self.videos_dir = Path(videos) if videos is not None else None
        self.encoders = {"visual": visual, "motion": motion, "audio": audio}
        self.input = str(input)

    @classmethod
    def add_arguments(cls, p) -> None:
        p.add_argument("--input", type=Path, required=True, help="UMT's data/youtube: youtube_anno.json [+ video_features/, "
                                                                 "audio_features/]")
        p.add_argument("--splits", type=Path, required=True,
                       help="UMT's datasets/utils/static.py (YOUTUBE_SPLITS) or a JSON {domain: {train, val}}")
        p.add_argument("--videos", type=Path, help="directory of <video id>.mp4: our features per 2-s clip instead of UMT's")
        p.add_argument("--visual", default="clip", help="with --videos: frame extractor at each clip centre (default clip)")
        p.add_argument("--motion", default="i3d", help="with --videos: clip extractor (default i3d; 'none' to leave out)")
        p.add_argument("--audio", default="pann", help="with --videos: audio extractor on 2-s chunks (default pann; 'none')")

    @classmethod
    def from_args(cls, args) -> "YouTubeHighlights":
        return cls(args.input, args.splits, args.videos, args.visual, None if args.motion == "none" else args.motion,
                   None if args.audio == "none" else args.audio)

    def prepare(self, ctx) -> None:
        anno = self.root / "youtube_anno.json"
        if not anno.is_file():
            raise BuildError(f"{anno} not found (UMT's YouTube Highlights layout: youtube_anno.json, video_features/, "
                             "audio_features/)")
        try:
            self.annotations = safe.read_json(anno)
        except (OSError, UnicodeDecodeError, ValueError) as e:
            raise BuildError(f"cannot read {anno}: {e}") from e
        if not isinstance(self.annotations, dict):
            raise BuildError(f"{anno}: expected an object keyed by video id")
        self.domains = read_splits(self.splits_file)
        self.video_features = self.videos_dir is None and (self.root / "video_features").is_dir()
        self.audio_features = self.videos_dir is None and (self.root / "audio_features").is_dir()
        self.dims: dict[str, int] = {}
        if self.video_features or self.audio_features:
            self.dims = self._dims()
        self.left_out = {d: sorted(v for ids in parts.values() for v in ids if v not in self.annotations)
                         for d, parts in self.domains.items()}

    def _dims(self) -> dict[str, int]:
        """Feature widths from the first video that has its files (every video must match them)."""
        for domain, parts in self.domains.items():
            for vid in parts.get("train", []) + parts.get("test", []):
                try:
                    dims = {}
                    if self.video_features:
                        dims["video"] = sum(load_array(self.root / "video_features" / f"{vid}_{k}.npy", k, vid).shape[1]
                                            for k in ("rgb", "opt"))
                    if self.audio_features:
                        dims["audio"] = load_array(self.root / "audio_features" / f"{vid}.npy", "audio", vid).shape[1]
                    return dims
                except ItemError:
                    continue
        raise BuildError(f"{self.root}: no video has readable feature files")

    def tracks(self) -> dict:
        if self.videos_dir is None:
            return {}
        e = self.encoders
        return clip_feature_tracks(e["visual"], e["motion"], e["audio"], CLIP_SECONDS)

    def config(self, domain: str) -> str:
        return domain if self.videos_dir is None else "-".join([domain] + [v for v in self.encoders.values() if v])

    def items(self):
        for domain, parts in self.domains.items():
            for split, ids in parts.items():
                for vid in ids:
                    if vid not in self.annotations:
                        continue
                    if self.videos_dir is None:
                        yield Video(vid, domain, split, self.annotations[vid])
                        continue
                    path, missing = video_in(self.videos_dir, vid)
                    item = RawItem(id=item_id(vid), source="youtube", url=f"https://www.youtube.com/watch?v={vid}",
                                   media={"video": str(path)}, meta={"video_id": vid, "domain": domain, "split": split})
                    yield item.failed(missing) if missing else item

    def splits(self, item) -> dict[str, str]:
        if isinstance(item, RawItem):
            return {self.config(item.meta["domain"]): item.meta["split"]}
        return {self.config(item.domain): item.split}

    def features(self, dims: dict) -> dict:
        from datasets import Features, List, Value

        cols = {"id": Value("string"), "video_id": Value("string"), "domain": Value("string"),
                "duration": Value("float64"), "frame_times": List(Value("float64"))}
        if "video" in self.dims:
            cols[frames_column("umt")] = vectors(self.dims["video"])
        if "audio" in self.dims:
            cols["audio_umt"] = vectors(self.dims["audio"])
        for key, track in self.tracks().items():
            cols[track.column] = vectors(dims[key])
        cols.update({"match": List(Value("float32")), "frame_labels": List(Value("int8"))})
        return {self.config(d): Features(cols) for d in self.domains}

    def examples(self, item, tracks: dict) -> list[dict]:
        if isinstance(item, RawItem):
            vid, domain = item.meta["video_id"], item.meta["domain"]
            item = Video(vid, domain, item.meta["split"], self.annotations[vid])
            arrays = {self.tracks()[k].column: np.asarray(t.values, np.float32) for k, t in tracks.items()}
            return self._row(item, arrays)
        return self._row(item, self._umt_arrays(item))

    def _row(self, item: Video, arrays: dict) -> list[dict]:
        ann = item.annotation
        match = ann.get("match") if isinstance(ann, dict) else None
        try:
            match = np.asarray(match, dtype=np.float64)
        except (TypeError, ValueError):
            match = None
        if match is None or match.ndim != 1 or len(match) == 0 or not np.all(np.isfinite(match)):
            raise ItemError("bad_annotation", f"{item.id}: 'match' must be a non-empty list of numbers, one per clip", item.id)
        n = min([len(match)] + [len(a) for a in arrays.values()])  # UMT keeps the clips every input has
        if n == 0:
            raise ItemError("bad_media", f"{item.id}: a feature track has no clip", item.id)
        times = (np.arange(n) + 0.5) * CLIP_SECONDS
        return [{"id": safe_id(item.id), "video_id": item.id, "domain": item.domain, "duration": n * CLIP_SECONDS,
                 "frame_times": times, **{k: a[:n] for k, a in arrays.items()},
                 "match": match[:n].astype(np.float32), "frame_labels": (match[:n] > 0).astype(np.int8)}]

    def _umt_arrays(self, item: Video) -> dict:
        """UMT's feature files of one video (none when the input has no feature folders)."""
        arrays = {}
        if "video" in self.dims:
            rgb = load_array(self.root / "video_features" / f"{item.id}_rgb.npy", "rgb", item.id)
            opt = load_array(self.root / "video_features" / f"{item.id}_opt.npy", "optical flow", item.id)
            n = min(len(rgb), len(opt))
            arrays[frames_column("umt")] = np.concatenate([rgb[:n], opt[:n]], axis=1)
        if "audio" in self.dims:
            arrays["audio_umt"] = load_array(self.root / "audio_features" / f"{item.id}.npy", "audio", item.id)
        for name, a in arrays.items():
            expected = self.dims["video" if name.startswith("frames_") else "audio"]
            if a.shape[1] != expected:
                raise ItemError("bad_media", f"{item.id}: {name} is {a.shape[1]}-d, the other videos {expected}-d", item.id)
        return arrays

    def count(self, row: dict) -> dict:
        return {"frames": len(row["frame_times"]), "seconds": row["duration"],
                "highlight_clips": int(np.sum(row["frame_labels"]))}

    def facts(self, config: str) -> dict:
        domain = config.split("-")[0]  # the domain models.evaluate --table cfsum-2 fills with a run of this config
        facts = {"domain": domain, "splits_file": str(self.splits_file), "clip_seconds": CLIP_SECONDS,
                 "left_out_not_in_annotations": self.left_out.get(domain, [])}
        columns, extractors = {}, {}
        if "video" in self.dims:
            columns["visual"] = frames_column("umt")
            extractors["visual"] = {"extractor": "provided", "model": "UMT's video features: <id>_rgb.npy and "
                                    "<id>_opt.npy concatenated per clip", "dim": self.dims["video"], "sampling": "per clip"}
        if "audio" in self.dims:
            columns["audio"] = "audio_umt"
            extractors["audio"] = {"extractor": "provided", "model": "UMT's audio features (<id>.npy)",
                                   "dim": self.dims["audio"], "sampling": "per clip"}
        return {**facts, **({"columns": columns, "extractors": extractors} if columns else {})}

    def card_facts(self) -> dict:
        return {
            "pretty_name": "YouTube Highlights",
            "item_unit": "videos",
            "summary": ref("youtube_highlights", "What it is"),
            "sources": [ref("youtube_highlights", "Input"),
                        *([ref("youtube_highlights", "Input with videos")] if self.videos_dir is not None else [])],
            "labels": ref("youtube_highlights", "Labels"),
            "license": "other",
            "license_name": "youtube-highlights-research",
            "license_link": "https://github.com/aliensunmin/DomainSpecificHighlight",  # the annotations' release
            "license_text": ref("youtube_highlights", "License"),
            "task_categories": ["video-classification", "summarization"],
            "tags": ["video-summarization", "highlight-detection", "youtube-highlights"],
            "citation": ref("youtube_highlights", "Citation"),
            "usage_columns": ["frame_times", "frames_*", "audio_*", "frame_labels"],
            "columns": ref("youtube_highlights", "Column meanings"),
        }


def main(argv=None) -> int:
    return run(YouTubeHighlights, argv)

