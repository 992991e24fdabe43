"""The release files alone (config ``annotations``), or with the videos: CLIP / I3D / PANN per 2-s clip
and the query encoded by CLIP's text tower, through the extraction job (see builders.qvhighlights)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from builders.core.base import Builder, BuildError, video_in
from builders.core.extraction import Track
from builders.qvhighlights.dataset import (
    CLIP_SECONDS,
    CONFIG,
    Query,
    card_facts,
    check_video_splits,
    label_features,
    labels,
    parse_vid,
    read_queries,
    release_files,
    target_features,
)
from builders.core.clips import clip_feature_tracks
from builders.qvhighlights.collect import Segments
from builders.core.schema import vectors
from collectors.records import ItemError, RawItem, item_id


class QVHighlights(Builder):
    """The annotation files alone (config ``annotations``), or with the videos (config of the encoders)."""

    family = "qvhighlights"
    protocol = "qvhighlights"
    name = "qvhighlights"
    source = "qvhighlights"
    tool = "python -m builders.qvhighlights"

    def __init__(self, annotations, videos: Path | None = None, visual: str = "clip", motion: str = "i3d",
                 audio: str = "pann", text: str = "cliptext", collect: Segments | None = None):
        self.annotation_paths = list(annotations) if isinstance(annotations, (list, tuple)) else [annotations]
        if videos is not None and not Path(videos).is_dir():
            raise BuildError(f"--videos {videos} is not a directory")
        self.videos_dir = Path(videos) if videos is not None else None
        self.collect = collect  # the segments downloaded into <work>/media instead of read from --videos
        if collect is not None:
            self.tool = "python -m builders.qvhighlights --collect"
        self.encoders = {"visual": visual, "motion": motion, "audio": audio, "text": text}
        self.input = ", ".join(map(str, self.annotation_paths))

    @classmethod
    def add_arguments(cls, p) -> None:
        p.add_argument("--annotations", type=Path, nargs="+", required=True,
                       help="the directory of highlight_{train,val,test}_release.jsonl, or the files")
        src = p.add_mutually_exclusive_group()
        src.add_argument("--videos", type=Path, help="directory of <vid>.mp4 (the 150-s segments): adds features per 2-s clip")
        src.add_argument("--features-dir", type=Path,
                         help="Moment-DETR's released features (slowfast_features/, clip_features/, clip_text_features/)")
        p.add_argument("--visual", default="clip", help="frame extractor at one frame per 2-s clip (default clip)")
        p.add_argument("--motion", default="i3d", help="clip extractor on 2-s clips (default i3d; 'none' to leave out)")
        p.add_argument("--audio", default="pann", help="audio extractor on 2-s chunks (default pann; 'none' to leave out)")
        p.add_argument("--text", default="cliptext", help="query encoder (default cliptext: CLIP's text tower)")
        g = p.add_argument_group("--collect: download each segment from YouTube (see builders.qvhighlights.collect)")
        src.add_argument("--collect", action="store_true",
                         help="download each <vid>'s [start, end] from YouTube into <work>/media (needs ffmpeg)")
        g.add_argument("--ffmpeg", type=Path, help="the ffmpeg program (default: ffmpeg on PATH, else imageio-ffmpeg's)")
        g.add_argument("--info-json", type=Path, help="saved <youtube id>.info.json files instead of fetching the info")
        g.add_argument("--limit", type=int, help="the first N videos (train, then val, then test): try a few")
        g.add_argument("--sleep", type=float, default=2.0, help="seconds between requests to YouTube (default 2)")
        g.add_argument("--cookies", type=Path, help="a browser cookies.txt export for yt-dlp (YouTube's bot checks)")

    @classmethod
    def from_args(cls, args) -> "Builder":
        if args.features_dir is not None:
            from builders.qvhighlights.features import QVHighlightsReleased

            return QVHighlightsReleased(args.annotations, args.features_dir)
        motion = None if args.motion == "none" else args.motion
        audio = None if args.audio == "none" else args.audio
        if args.collect:
            collect = Segments(ffmpeg=args.ffmpeg, info_json=args.info_json, limit=args.limit, sleep=args.sleep,
                               cookies=args.cookies)
            return cls(args.annotations, None, args.visual, motion, audio, args.text, collect=collect)
        given = [f for f in ("ffmpeg", "info_json", "limit", "cookies") if getattr(args, f) is not None]
        if given:
            raise BuildError(f"--{given[0].replace('_', '-')} goes with --collect")
        return cls(args.annotations, args.videos, args.visual, motion, audio, args.text)

    def prepare(self, ctx) -> None:
        self.files = release_files(self.annotation_paths)
        if not self.files:
            raise BuildError("no release files given")
        self.queries = read_queries(self.files)
        check_video_splits(self.queries)
        self.input = ", ".join(str(f) for f in self.files.values())
        self.by_video: dict[str, list[Query]] = defaultdict(list)
        for q in self.queries:
            if isinstance(q.record.get("vid"), str):
                self.by_video[q.record["vid"]].append(q)
        if self.collect is not None:  # downloaded now, so items() finds them as --videos would
            tried = self.collect.fetch(self.by_video, ctx.work / "media", ctx.progress)
            self.by_video = {vid: self.by_video[vid] for vid in tried}

    @property
    def with_media(self) -> bool:
        return self.videos_dir is not None or self.collect is not None

    def video_file(self, vid: str) -> Path:
        """The segment's file; ItemError when there is none (recorded as the video's failure)."""
        if self.collect is not None:
            return self.collect.file(vid)
        path, missing = video_in(self.videos_dir, vid)
        if missing:
            raise missing
        return path

    # -- without media: one item per query
    def tracks(self) -> dict:
        if not self.with_media:
            return {}
        e = self.encoders
        tracks = clip_feature_tracks(e["visual"], e["motion"], e["audio"], CLIP_SECONDS)
        tracks["text"] = Track(e["text"], column=f"query_{e['text']}")
        return tracks

    def items(self):
        """Without media: the queries. With media: one item per video carrying its valid queries; a query
        that does not validate is an item of its own, failed with its kind (so it is recorded, not lost)."""
        if not self.with_media:
            return self.queries
        out, placed = [], set()
        for vid, queries in sorted(self.by_video.items()):
            good = []
            for q in queries:
                placed.add(q.id)
                try:
                    labels(q)
                    good.append(q)
                except ItemError as e:
                    out.append(RawItem(id=item_id(f"query-{q.id}"), source="qvhighlights", meta={"split": q.split}).failed(e))
            if not good:
                continue
            duration = float(good[0].record["duration"])
            try:
                path, error = self.video_file(vid), None
            except ItemError as e:
                path, error = None, e
            item = RawItem(id=item_id(vid), source="qvhighlights", url=f"https://www.youtube.com/watch?v={parse_vid(vid)[0]}",
                           duration=duration, media={"video": str(path)} if path else {},
                           transcript_source="provided",
                           transcript=[{"start": 0.0, "end": 1.0, "text": q.record["query"]} for q in good],
                           meta={"vid": vid, "qids": [q.id for q in good], "split": good[0].split})
            out.append(item.failed(error) if error else item)
        for q in self.queries:  # lines without a usable vid
            if q.id not in placed and not isinstance(q.record.get("vid"), str):
                try:
                    labels(q)
                except ItemError as e:
                    out.append(RawItem(id=item_id(f"query-{q.id}"), source="qvhighlights", meta={"split": q.split}).failed(e))
        return out

    def splits(self, item) -> str:
        return item.split if isinstance(item, Query) else item.meta["split"]

    def config(self) -> str:
        if not self.with_media:
            return CONFIG
        return "-".join(v for v in self.encoders.values() if v)

    def features(self, dims: dict) -> dict:
        from datasets import Features

        cols = label_features()
        for key, track in self.tracks().items():
            cols[track.column] = vectors(dims[key])
        return {self.config(): Features({**cols, **target_features()})}

    def examples(self, item, tracks: dict) -> list[dict]:
        if isinstance(item, Query):
            return [labels(item)]
        return self._video_rows(item, tracks)

    def _video_rows(self, item: RawItem, tracks: dict) -> list[dict]:
        """One row per query of the video: the clip tracks cut to their common length, the query vector."""
        clip_tracks = {k: t for k, t in tracks.items() if k != "text"}
        rows = []
        queries = {q.id: q for q in self.by_video[item.meta["vid"]]}
        text = tracks["text"]
        if len(text) != len(item.meta["qids"]):
            raise ItemError("bad_media", f"{len(text)} query vectors for {len(item.meta['qids'])} queries", item.id)
        for i, qid in enumerate(item.meta["qids"]):
            row = labels(queries[qid])  # validated in items()
            n = min([len(row["frame_times"])] + [len(t) for t in clip_tracks.values()])
            if n == 0:
                raise ItemError("bad_media", f"{item.meta['vid']}: no 2-s clip in every feature track", item.id)
            row["frame_times"] = row["frame_times"][:n]
            for key in ("frame_scores", "frame_labels"):
                if row[key] is not None:
                    row[key] = row[key][:n]
            for key, t in clip_tracks.items():
                row[self.tracks()[key].column] = np.asarray(t.values[:n], np.float32)
            row[self.tracks()["text"].column] = np.asarray(text.values[i:i + 1], np.float32)
            rows.append(row)
        return rows

    def count(self, row: dict) -> dict:
        return {"queries": 1, "frames": len(row["frame_times"]), "seconds": row["duration"],
                "labelled": int(row["user_scores"] is not None)}

    def facts(self, config: str) -> dict:
        facts = {"release_files": {s: str(p) for s, p in self.files.items()}, "clip_seconds": CLIP_SECONDS}
        if self.with_media:
            facts["clip_rule"] = ("one frame per 2-s clip at its centre (visual), 2-s clips (motion, audio); rows keep "
                                  "the clips every track has; user_scores keeps the whole segment")
        if self.collect is not None:
            facts["collected"] = self.collect.facts()
        return facts

    def card_facts(self) -> dict:
        return card_facts("collect" if self.collect else "videos" if self.with_media else "annotations")
