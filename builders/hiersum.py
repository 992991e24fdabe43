"""HierSum's instructional videos: WikiHow / EHow YouTube videos with subtitles, most-replayed
curves and the linked article's steps as the global instruction (HierSum, section 4.2).

    python -m builders.hiersum --channel https://www.youtube.com/@wikihow/videos [--min-views 50000]
    python -m builders.hiersum --urls urls.txt           # one video URL or id per line
    python -m builders.hiersum --info-json DIR           # saved yt-dlp .info.json files (offline re-use)

Per video: frames at 1 fps, subtitle sentences (local level; Whisper where subtitles are missing
or not clean), the article's steps or else the description's sentences (global level), each
encoded, the most-replayed curve at the frame times as ``frame_scores`` and ``frame_labels =
frame_scores >= 0.15``, and the source of each text. Collection, extraction and writing are
resumable: rerun the same command and finished work is skipped.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from builders.extraction import add_job_arguments, extract, job_settings
from builders.writers import ConfigWriter, publish_record, report_failures, write_json
from builders.schema import SPLITS, config_name, frames_column, hiersum_features, sentences_column
from builders.splits import assign_splits
from collectors.records import ItemError, RawItem
from extractors.engine import quiet_dask_logs

log = logging.getLogger("builders.hiersum")

IMPORTANT = 0.15  # HierSum: a most-replayed score >= 0.15 counts as important
CITATION = """@article{hiersum,
  title  = {HierSum: A Global and Local Attention Mechanism for Video Summarization},
  note   = {instructional WikiHow / EHow videos with most-replayed statistics; see the paper for authors and venue}
}"""


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

    def __init__(self, cache: Path, mirrors: dict[str, str], net: dict):
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
        article = dict(fetch_article(fetch_url, parser=parser_for(url), **self.net))
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
        "summary": "Instructional YouTube videos from the WikiHow and EHow channels with subtitle sentences (local "
                   "level), the linked article's steps or the video description (global level), frame features and "
                   "YouTube's most-replayed curve as frame importance (HierSum, section 4.2).",
        "sources": "YouTube videos collected with yt-dlp (info, subtitles, most-replayed heatmap, media); articles "
                   "fetched from wikihow.com / ehow.com pages the descriptions link.",
        "labels": (
            "- `sentences`: manual subtitles, else automatic ones in the original language when clean, else a Whisper "
            "transcript (`transcript_source`).\n"
            "- `steps`: the linked article's steps (`global_source` = article), else the description's sentences "
            "without links and channel boilerplate (description).\n"
            "- `frame_scores`: the most-replayed curve (about 100 markers, piecewise constant) at each frame time; "
            "`frame_labels` = frame_scores >= 0.15 (HierSum's threshold); null for videos without the curve."
        ),
        "license": "other",
        "license_text": "Videos, subtitles and articles belong to their owners (YouTube terms, wikiHow CC BY-NC-SA); "
                        "the dataset publishes features and annotations for research.",
        "task_categories": ["summarization", "video-text-to-text"],
        "tags": ["video-summarization", "instructional-video", "most-replayed"],
        "citation": CITATION,
        "usage_columns": ["frame_times", "frames_*", "sentences", "steps", "frame_scores", "frame_labels"],
        "columns": {
            "frames_*": "[T, D] visual features at 1 fps (see Encoders)",
            "sentences_*": "[N, D] one vector per subtitle sentence",
            "steps_*": "[G, D] one vector per global step",
            "sentences": "[N] subtitle / ASR sentences with start, end (s)",
            "steps": "[G] global instruction: article steps or description sentences",
            "frame_scores": "[T] most-replayed value at the frame times (0..1), null without the curve",
            "frame_labels": "[T] frame_scores >= 0.15",
            "heatmap": "the most-replayed curve as collected",
        },
    }


def _inputs(args) -> list:
    from collectors.youtube import list_videos

    inputs: list = []
    for channel in args.channel or []:
        inputs += list_videos(channel, limit=args.limit)
    if args.urls:
        inputs += [line.strip() for line in args.urls.read_text().splitlines() if line.strip() and not line.startswith("#")]
    if args.info_json:
        inputs += sorted(str(p) for p in args.info_json.glob("*.info.json"))
    return inputs


def transcribe_pending(manifest: Path, args) -> dict | None:
    """Whisper, as an extraction job, for the videos collected without clean subtitles; their
    transcripts (or failures) go back into the manifest. Returns the job's summary, None if no
    video needed it. On GPU workers with --device cuda, like every other extractor."""
    from collectors.youtube import finish_deferred_asr, latest_items, update_manifest

    pending = [i for i in latest_items(manifest).values() if i.ok and "asr_pending" in i.meta]
    if not pending:
        return None
    found, summary = extract(pending, args.work / "asr", {"whisper": (None, {})}, job_settings(args),
                             not args.no_progress)
    heard = found["whisper"]
    done = []
    for item in pending:
        try:
            track = heard.video(item)
            done.append(finish_deferred_asr(item, track.meta.get("sentences", []), track.meta.get("language"),
                                            heard.meta))
        except ItemError as e:
            done.append(item.failed(e))
    update_manifest(manifest, done)
    return summary


def build(args) -> tuple[str, dict]:
    from collectors.youtube import DEFER_ASR, collect, latest_items
    from extractors.registry import get_extractor
    from tqdm import tqdm

    t0 = time.time()
    net = {"sleep": args.sleep, "retries": args.retries, "timeout": args.timeout}
    # This process encodes the global steps (a few sentences per video) on the CPU; the job's
    # workers build their own extractors from these options, on --device.
    vopts, topts = {"weights": args.visual_weights, "fps": 1.0}, {"weights": args.text_weights}
    visual = get_extractor(args.visual, "visual", device="cpu", **vopts)
    text = get_extractor(args.text, "text", device="cpu", **topts)
    inputs = _inputs(args)
    manifest = args.work / "manifest.jsonl"
    collected = collect(inputs, manifest, args.work / "media", need_media=True, min_views=args.min_views,
                        require_heatmap=args.require_heatmap, max_duration=args.max_duration,
                        whisper=None if args.no_whisper else DEFER_ASR,
                        cookies=args.cookies, progress=not args.no_progress, **net)
    asr_job = transcribe_pending(manifest, args)
    items = sorted(latest_items(manifest).values(), key=lambda i: i.id)
    failures = [{"id": i.id, **i.error} for i in items if not i.ok]
    ok = [i for i in items if i.ok]
    articles = ArticleSource(args.work / "articles", dict(m.split("=", 1) for m in args.article_mirror or []),
                             {"timeout": args.timeout, "retries": args.retries, "sleep": args.sleep})
    config = config_name(visual.name, text.name)
    features = hiersum_features(visual.name, visual.dim, text.name, text.dim)
    split_of = assign_splits([i.id for i in ok])
    found, job_record = extract(ok, args.work / "features", {args.visual: (visual, vopts), args.text: (text, topts)},
                                job_settings(args), not args.no_progress)
    vfeat, tfeat = found[args.visual], found[args.text]
    stats: dict[str, Counter] = {}
    sources = Counter()
    article_errors: list[dict] = []
    with ConfigWriter(args.out, config, features) as writer:
        for item in tqdm(ok, desc=f"hiersum {config}", unit="video", disable=args.no_progress, file=sys.stderr):
            from collectors.articles import global_instruction

            article, why = articles.for_item(item)
            steps, global_source = global_instruction(article, item.description)
            try:
                vtrack, ttrack = vfeat.video(item), tfeat.text(item)
            except ItemError as e:
                failures.append({"id": item.id, "kind": e.kind, "message": e.message})
                continue
            row = video_row(item, vtrack, ttrack, text.encode_texts(steps), steps, global_source, article,
                            visual.name, text.name)
            split = split_of[item.id]
            writer.add(split, row)
            s = stats.setdefault(split, Counter())
            s.update(examples=1, videos=1, frames=len(vtrack), sentences=len(item.transcript), seconds=row["duration"],
                     with_heatmap=int(row["frame_scores"] is not None))
            sources.update([f"transcript:{item.transcript_source}", f"global:{global_source}"])
            if why:  # linked, but unreachable: the description stands in, and the record says why
                article_errors.append({"id": item.id, "message": why})
    record = {
        "features": features.to_dict(),
        "columns": {"visual": frames_column(visual.name), "text": sentences_column(text.name)},
        "extractors": {"visual": visual.meta(), "text": text.meta()},
        "splits": writer.facts,
        "stats": {s: dict(c) for s, c in stats.items()},
        "collect": collected,
        "text_sources": dict(sources),
        "article_errors": article_errors,
        "items": {"total": len(items), "ok": len(items) - len(failures), "failed": len(failures),
                  "ids_by_split": {s: sorted(v for v, sp in split_of.items() if sp == s) for s in SPLITS}},
        "failures": {"by_kind": dict(Counter(f["kind"] for f in failures)), "items": failures},
        "timings": {"total": round(time.time() - t0, 3)},
        "extraction_job": job_record,
        "asr_job": asr_job,
        "source": "youtube", "input": f"{len(inputs)} inputs",
        "built_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    return config, record


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m builders.hiersum", description=__doc__.split("\n\n")[0])
    src = p.add_argument_group("inputs (at least one)")
    src.add_argument("--channel", action="append", help="a channel or playlist URL (repeatable)")
    src.add_argument("--urls", type=Path, help="a file of video URLs or ids, one per line")
    src.add_argument("--info-json", type=Path, help="a directory of saved yt-dlp .info.json files")
    p.add_argument("--out", type=Path, default=Path("hub/hiersum"))
    p.add_argument("--work", type=Path, default=Path("work/hiersum"), help="manifest, media, articles, features")
    p.add_argument("--min-views", type=int, default=50000, help="keep videos with at least this many views (50000)")
    p.add_argument("--require-heatmap", action="store_true", help="a video without a most-replayed curve fails")
    p.add_argument("--max-duration", type=float, help="skip videos longer than this (s)")
    p.add_argument("--limit", type=int, help="at most this many videos per channel")
    p.add_argument("--visual", default="clip", help="visual extractor (default clip, ViT-B/32 at 1 fps)")
    p.add_argument("--text", default="minilm", help="text extractor (default minilm: Sentence-BERT all-MiniLM-L6-v2)")
    p.add_argument("--visual-weights", type=Path)
    p.add_argument("--text-weights", type=Path)
    p.add_argument("--device", default="cpu", help="torch device for the encoders (cpu, or cuda: one GPU per worker)")
    p.add_argument("--no-whisper", action="store_true", help="never transcribe; keep unclean subtitles")
    p.add_argument("--cookies", type=Path, help="a cookies.txt for YouTube (yt-dlp's cookiefile)")
    p.add_argument("--sleep", type=float, default=2.0, help="seconds between requests (2)")
    p.add_argument("--retries", type=int, default=3)
    p.add_argument("--timeout", type=float, default=30.0, help="per-request timeout (s)")
    p.add_argument("--article-mirror", action="append", metavar="PREFIX=URL",
                   help="fetch article URLs starting with PREFIX from URL instead (an archive or a local copy)")
    p.add_argument("--no-progress", action="store_true")
    add_job_arguments(p)
    return p.parse_args(argv)


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    quiet_dask_logs()
    from extractors.base import MissingWeightsError, UnknownExtractorError
    from extractors.run import SetupError

    if not (args.channel or args.urls or args.info_json):
        print("error: give --channel, --urls or --info-json", file=sys.stderr)
        return 2
    for path, flag in ((args.urls, "--urls"), (args.info_json, "--info-json")):
        if path is not None and not path.exists():
            print(f"error: {flag} {path} does not exist", file=sys.stderr)
            return 2
    if any("=" not in m for m in args.article_mirror or []):
        print("error: --article-mirror takes PREFIX=URL", file=sys.stderr)
        return 2
    try:
        config, record = build(args)
    except (UnknownExtractorError, MissingWeightsError, SetupError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    publish_record(args.out, "hiersum", config, record, card_facts(), "vsumhub builders.hiersum")
    n = sum(f["num_examples"] for f in record["splits"].values())
    print(f"built {args.out} config {config}: {n} videos; collect: {record['collect']}")
    return report_failures(record, n)


if __name__ == "__main__":
    sys.exit(main())
