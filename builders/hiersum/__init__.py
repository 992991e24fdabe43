"""HierSum's instructional videos: WikiHow / EHow YouTube videos with subtitles, most-replayed
curves and the linked article's steps as the global instruction (HierSum, section 4.2).

See docs/datasets/hiersum.md (what it is, its inputs, flags, columns, labels, failures; the card's prose).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collectors.youtube import Options

import dataclasses
import hashlib
import json
import logging
from collections import Counter
from pathlib import Path

import numpy as np

from builders.core import safe
from cards.pages import ref
from builders.core.asr import transcribe_pending
from builders.core.base import Builder, BuildError, run
from builders.core.extraction import Track
from builders.core.schema import config_name, frames_column, hiersum_features, sentences_column
from builders.core.splits import assign_splits
from collectors.net import Net
from collectors.records import ItemError, RawItem
from common.files import write_json
from extractors.base import UnknownExtractorError
from extractors.registry import entry, names

log = logging.getLogger("builders.hiersum")

IMPORTANT = 0.15  # HierSum: a most-replayed score >= 0.15 counts as important


def heatmap_at(heatmap: list[dict], times: np.ndarray) -> np.ndarray | None:
    """The most-replayed curve (piecewise constant over its markers) at ``times``; None without a curve.

    A time before the first marker takes the first value, after the last the last value.
    """
    if not heatmap:
        return None
    starts = np.array([h["start"] for h in heatmap], dtype=np.float64)
    values = np.array([h["value"] for h in heatmap], dtype=np.float32)
    order = np.argsort(starts)
    idx = np.clip(np.searchsorted(starts[order], times, side="right") - 1, 0, len(order) - 1)
    return values[order][idx]


class ArticleSource:
    """Finds and fetches the article a video links (cached on disk), honouring an optional mirror."""

    def __init__(self, cache: Path, mirrors: dict[str, str], net: Net):
        self.cache, self.mirrors, self.net = cache, mirrors, net

    def for_item(self, item: RawItem) -> tuple[dict | None, str | None]:
        """(article or None, the fetch errors if its linked articles could not be had) for a video."""
        from collectors.articles import article_urls_in_description

        urls = article_urls_in_description(item.description)
        if not urls:
            return None, None
        problems = []
        for url in urls:
            try:
                return self.fetch(url), None
            except ItemError as e:
                problems.append(f"{url}: {e.kind}: {e.message}")
        return None, "; ".join(problems)

    def fetch(self, url: str) -> dict:
        from collectors.articles import fetch_article, parser_for

        path = self.cache / f"{hashlib.sha1(url.encode()).hexdigest()[:16]}.json"
        if path.exists():
            return json.loads(path.read_text())
        fetch_url = url
        for prefix, mirror in self.mirrors.items():
            if url.startswith(prefix):
                fetch_url = mirror + url[len(prefix):]
        article = dict(fetch_article(fetch_url, parser=parser_for(url), net=self.net))
        article["url"] = url
        self.cache.mkdir(parents=True, exist_ok=True)
        write_json(path, article)
        return article


def video_row(item: RawItem, video, text, steps_vec: np.ndarray, steps: list[str], global_source: str,
              article: dict | None, visual_name: str, text_name: str) -> dict:
    scores = heatmap_at(item.heatmap, video.times)
    return {
        "id": item.id, "video_id": item.id, "url": item.url, "title": item.title, "description": item.description,
        "views": item.views, "duration": float(item.duration or len(video) / video.meta.get("fps", 1.0)),
        "frame_times": video.times,
        frames_column(visual_name): video.values.astype(np.float32),
        "sentences": item.transcript,
        sentences_column(text_name): text.values.astype(np.float32).reshape(len(item.transcript), text.dim),
        "transcript_source": item.transcript_source or "",
        "steps": steps,
        f"steps_{text_name}": steps_vec.astype(np.float32),
        "global_source": global_source,
        "article_url": (article or {}).get("url", ""),
        "article_title": (article or {}).get("title", ""),
        "heatmap": [{"start": h["start"], "end": h["end"], "value": h["value"]} for h in item.heatmap],
        "frame_scores": scores,
        "frame_labels": None if scores is None else (scores >= IMPORTANT).astype(np.int8),
    }


def card_facts() -> dict:
    return {
        "pretty_name": "HierSum instructional videos (WikiHow / EHow)",
        "summary": ref("hiersum", "What it is"),
        "sources": ref("hiersum", "Input"),
        "labels": ref("hiersum", "Labels"),
        "license": "other",
        "license_name": "source-terms",
        "license_link": "https://www.youtube.com/static?template=terms",
        "license_text": ref("hiersum", "License"),
        "task_categories": ["summarization", "video-text-to-text"],
        "tags": ["video-summarization", "instructional-video", "most-replayed"],
        "citation": ref("hiersum", "Citation"),
        "usage_columns": ["frame_times", "frames_*", "sentences", "steps", "frame_scores", "frame_labels"],
        "columns": ref("hiersum", "Column meanings"),
    }


class HierSum(Builder):
    """Instructional videos collected from YouTube (channels, URLs or saved info files), their
    articles, and the job's frames, sentences and steps."""

    family = "wikihow"
    protocol = "most_replayed"
    name, source = "hiersum", "youtube"

    def __init__(self, channels: list[str] = (), urls: Path | None = None, info_json: Path | None = None, *,
                 limit: int | None = None, visual: str = "clip", text: str = "minilm", whisper: bool = True,
                 options: Options | None = None, article_mirrors: dict | None = None):
        if not (channels or urls or info_json):
            raise BuildError("give --channel, --urls or --info-json")
        for path, flag in ((urls, "--urls"), (info_json, "--info-json")):
            if path is not None and not Path(path).exists():
                raise BuildError(f"{flag} {path} does not exist")
        try:
            entry(visual, "visual")
            entry(text, "text")
        except UnknownExtractorError as e:
            raise BuildError(str(e)) from e
        self.channels, self.urls, self.info_json, self.limit = list(channels), urls, info_json, limit
        self.visual, self.text, self.whisper = visual, text, whisper
        from collectors.youtube import Options  # yt-dlp: loaded once the command line is parsed

        self.options = options or Options(need_media=True, min_views=50000)
        self.mirrors = dict(article_mirrors or {})

    @classmethod
    def add_arguments(cls, p) -> None:
        src = p.add_argument_group("inputs (at least one)")
        src.add_argument("--channel", action="append", help="a channel or playlist URL (repeatable)")
        src.add_argument("--urls", type=Path, help="a file of video URLs or ids, one per line")
        src.add_argument("--info-json", type=Path, help="a directory of saved yt-dlp .info.json files")
        p.add_argument("--min-views", type=int, default=50000, help="keep videos with at least this many views (50000)")
        p.add_argument("--require-heatmap", action="store_true", help="a video without a most-replayed curve fails")
        p.add_argument("--max-duration", type=float, help="skip videos longer than this (s)")
        p.add_argument("--limit", type=int, help="at most this many videos per channel")
        p.add_argument("--visual", default="clip", help=f"visual extractor: {', '.join(names('visual'))} (default clip, "
                                                        "ViT-B/32 at 1 fps)")
        p.add_argument("--text", default="minilm", help=f"text extractor: {', '.join(names('text'))} (default minilm: "
                                                        "Sentence-BERT all-MiniLM-L6-v2)")
        p.add_argument("--no-whisper", action="store_true", help="never transcribe; keep unclean subtitles")
        p.add_argument("--cookies", type=Path, help="a cookies.txt for YouTube (yt-dlp's cookiefile)")
        p.add_argument("--sleep", type=float, default=2.0, help="seconds between requests (2)")
        p.add_argument("--retries", type=int, default=3, help="more attempts on transient network errors (3)")
        p.add_argument("--timeout", type=float, default=30.0, help="per-request timeout (s)")
        p.add_argument("--article-mirror", action="append", metavar="PREFIX=URL",
                       help="fetch article URLs starting with PREFIX from URL instead (an archive or a local copy)")

    @classmethod
    def from_args(cls, args) -> "HierSum":
        if any("=" not in m for m in args.article_mirror or []):
            raise BuildError("--article-mirror takes PREFIX=URL")
        from collectors.youtube import Options

        net = Net(sleep=args.sleep, retries=args.retries, timeout=args.timeout, cookies=args.cookies)
        options = Options(need_media=True, min_views=args.min_views, require_heatmap=args.require_heatmap,
                          max_duration=args.max_duration, net=net)
        return cls(args.channel or [], args.urls, args.info_json, limit=args.limit, visual=args.visual, text=args.text,
                   whisper=not args.no_whisper, options=options,
                   article_mirrors=dict(m.split("=", 1) for m in args.article_mirror or []))

    def _inputs(self) -> list:
        from collectors.youtube import list_videos

        inputs: list = []
        for channel in self.channels:
            try:
                inputs += list_videos(channel, self.limit, self.options.net)
            except ItemError as e:  # no listing, nothing to collect from it: the input is unusable as given
                raise BuildError(f"--channel {channel} cannot be listed: {e.kind}: {e.message}") from e
        if self.urls:
            inputs += [line.strip() for line in safe.read_text(self.urls).splitlines()
                       if line.strip() and not line.startswith("#")]
        if self.info_json:
            inputs += sorted(str(p) for p in Path(self.info_json).glob("*.info.json"))
        return inputs

    def prepare(self, ctx) -> None:
        """Collect (resumably), transcribe what needs Whisper, fetch the articles the videos link."""
        from collectors.youtube import DEFER_ASR, collect, latest_items

        inputs = self._inputs()
        if not inputs:
            raise BuildError("no videos to build: " + "; ".join(
                [f"--channel {c} lists none" for c in self.channels] + ([f"--urls {self.urls} has no URL"] if self.urls else [])
                + ([f"--info-json {self.info_json} has no *.info.json file"] if self.info_json else [])))
        self.input = f"{len(inputs)} inputs"
        manifest = ctx.work / "manifest.jsonl"
        options = dataclasses.replace(self.options, whisper=DEFER_ASR if self.whisper else None)
        self.collected = collect(inputs, manifest, ctx.work / "media", options, progress=ctx.progress)
        self.asr_job = transcribe_pending(manifest, ctx)
        self.all_items = sorted(latest_items(manifest).values(), key=lambda i: i.id)
        ok = [i for i in self.all_items if i.ok]
        self.split_of = assign_splits([i.id for i in ok])
        articles = ArticleSource(ctx.work / "articles", self.mirrors, self.options.net)
        self.unreachable = {}
        for item in ok:  # the article is the item's global instruction: the job encodes its steps
            item.article, self.unreachable[item.id] = articles.for_item(item)
        self.sources, self.article_errors = Counter(), []

    def tracks(self) -> dict[str, Track]:
        return {"visual": Track(self.visual, {"fps": 1.0}, column=frames_column(self.visual)),
                "text": Track(self.text, column=sentences_column(self.text)),
                "steps": Track("steps", {"encoder": self.text})}

    def items(self) -> list[RawItem]:
        return self.all_items

    def splits(self, item: RawItem) -> str:
        return self.split_of[item.id]

    def features(self, dims: dict) -> dict:
        return {config_name(self.visual, self.text): hiersum_features(self.visual, dims["visual"], self.text, dims["text"])}

    def examples(self, item: RawItem, tracks: dict) -> list[dict]:
        from collectors.articles import global_instruction

        steps, global_source = global_instruction(item.article, item.description)
        row = video_row(item, tracks["visual"], tracks["text"], tracks["steps"].values, steps, global_source,
                        item.article, self.visual, self.text)
        self.sources.update([f"transcript:{item.transcript_source}", f"global:{global_source}"])
        if self.unreachable[item.id]:  # linked, but unreachable: the description stands in, and the record says why
            self.article_errors.append({"id": item.id, "message": self.unreachable[item.id]})
        return [row]

    def count(self, row: dict) -> dict:
        return {"frames": len(row["frame_times"]), "sentences": len(row["sentences"]), "seconds": row["duration"],
                "with_heatmap": int(row["frame_scores"] is not None)}

    def facts(self, config: str) -> dict:
        return {"collect": self.collected, "text_sources": dict(self.sources), "article_errors": self.article_errors,
                "asr_job": self.asr_job}

    def card_facts(self) -> dict:
        return card_facts()

    def finish(self, out: Path) -> list[str]:
        return [f"  collect: {self.collected}"]


def main(argv=None) -> int:
    return run(HierSum, argv)

