"""New BLiSS-style data from behance.net: ``--source behance`` crawls livestreams and builds them.

    python -m builders.bliss --source behance --listing https://www.behance.net/live --raw-dir livestreams/
    python -m builders.bliss --source behance --urls streams.txt --raw-dir livestreams/
    python -m builders.bliss --source raw --input livestreams/        # again, once annotations.json are added

``prepare`` crawls the listings' and the file's livestreams into the raw directory
(collectors.behance_web: polite, resumable, failures by kind), runs Whisper as an extraction job
for the streams whose page gave no transcript (builders.core.asr, as HierSum does) and writes their
transcript.json, then builds the raw directory exactly as ``--source raw`` does
(builders.bliss.raw). A crawl has no annotations: its streams are published in the
``<visual>-<text>-unlabelled`` config until the user adds annotations.json files. The crawl's
failures (a removed stream: unavailable; a page the selectors do not fit: parse_error; ...) are
recorded in build.json with the build's own.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from builders.core import safe
from builders.core.asr import transcribe_pending
from builders.core.base import BuildError
from builders.bliss.raw import BlissRaw
from collectors.net import Net
from collectors.records import ItemError


class BlissBehance(BlissRaw):
    """Livestreams crawled from behance.net (listing pages and livestream URLs), built as raw input."""

    name, source, tool = "behance-livestreams", "behance", "python -m builders.bliss --source behance"

    def __init__(self, listing: list[str] = (), urls: Path | None = None, raw_dir: Path | None = None, *,
                 limit: int | None = None, visual: str = "clip", text: str = "roberta", fps: float = 1.0,
                 min_clip: float = 10.0, whisper: bool = True, retry_failed: bool = False, net: Net = Net(sleep=2.0)):
        if not (listing or urls):
            raise BuildError("give --listing URL or --urls FILE")
        if urls is not None and not Path(urls).is_file():
            raise BuildError(f"--urls {urls} does not exist")
        super().__init__(Path(raw_dir or "."), visual, text, fps, min_clip)
        self.listing, self.urls, self.raw_dir, self.limit = list(listing), urls, raw_dir, limit
        self.whisper, self.retry_failed, self.net = whisper, retry_failed, net

    @classmethod
    def add_arguments(cls, p) -> None:
        src = p.add_argument_group("inputs (at least one)")
        src.add_argument("--listing", action="append", help="a listing page: Behance Live, a creative field's "
                         "livestreams, a streamer's /livestreams or /videos (repeatable; its first page only)")
        src.add_argument("--urls", type=Path, help="a file of livestream page URLs (https://www.behance.net/videos/"
                         "<uuid>/<slug>), one per line")
        p.add_argument("--raw-dir", type=Path, help="where the crawl writes the raw layout (default: <work>/raw); "
                       "add annotations.json there, then build it with --source raw --input DIR")
        p.add_argument("--limit", type=int, help="at most this many livestreams per listing page")
        p.add_argument("--no-whisper", action="store_true", help="never transcribe: a stream without a transcript "
                       "fails no_transcript")
        p.add_argument("--retry-failed", action="store_true", help="crawl again the streams that failed before")
        p.add_argument("--sleep", type=float, default=2.0, help="seconds between requests to one host (2)")
        p.add_argument("--retries", type=int, default=3, help="more attempts on transient network errors (3)")
        p.add_argument("--timeout", type=float, default=30.0, help="per-request timeout (s)")
        cls.add_encoder_arguments(p, "clip", "roberta")

    @classmethod
    def from_args(cls, args) -> "BlissBehance":
        try:
            net = Net(sleep=args.sleep, retries=args.retries, timeout=args.timeout)
        except ValueError as e:
            raise BuildError(str(e)) from e
        return cls(args.listing or [], args.urls, args.raw_dir, limit=args.limit, visual=args.visual, text=args.text,
                   fps=args.fps, min_clip=args.min_clip, whisper=not args.no_whisper, retry_failed=args.retry_failed,
                   net=net)

    def _inputs(self) -> list[str]:
        """Livestream URLs: each listing's, then the file's (duplicates kept once). A listing that
        cannot be read is recorded in ``listing_errors``; with nothing to crawl at all, BuildError."""
        from collectors.behance_web import list_livestreams

        urls, self.listing_errors = [], []
        for listing in self.listing:
            try:
                urls += list_livestreams(listing, self.net, self.limit)
            except ItemError as e:
                self.listing_errors.append({"listing": listing, **e.as_dict()})
        if self.urls:
            urls += [line.strip() for line in safe.read_text(self.urls).splitlines()
                     if line.strip() and not line.lstrip().startswith("#")]
        if not urls:
            problems = "; ".join(f"{e['listing']}: {e['kind']}: {e['message']}" for e in self.listing_errors)
            raise BuildError(f"no livestream to crawl{': ' + problems if problems else ''}")
        return list(dict.fromkeys(urls))

    def prepare(self, ctx) -> None:
        """Crawl, transcribe what needs Whisper, then read the raw directory with the crawl's failures."""
        from collectors.behance import read_raw_dir
        from collectors.behance_web import CRAWL_MANIFEST, CrawlOptions, crawl, write_transcript
        from collectors.manifest import latest_items

        raw = Path(self.raw_dir or ctx.work / "raw")
        self.input_dir, self.input = raw, str(raw)
        urls = self._inputs()
        try:
            self.crawled = crawl(urls, raw, CrawlOptions(net=self.net), retry_failed=self.retry_failed,
                                 progress=ctx.progress)
        except OSError as e:  # a full disk, a vanished mount: every next stream would fail the same way
            raise BuildError(f"the crawl into {raw} stopped: {e}; streams done so far are kept, rerun to go on") from e
        manifest = raw / CRAWL_MANIFEST
        self.asr_job = transcribe_pending(manifest, ctx) if self.whisper else None
        records = latest_items(manifest)
        for rec in records.values():  # Whisper's transcripts into the raw layout (again after a crash in between)
            if rec.ok and rec.transcript_source == "whisper" and not (raw / rec.id / "transcript.json").exists():
                write_transcript(raw / rec.id, rec.transcript, "whisper")
        self.raw_items, self.skipped = read_raw_dir(raw)
        items = {i.id: i for i in self.raw_items}
        for rec in records.values():  # the crawl's word on what it crawled: its failures, and streams left without ASR
            if not rec.ok:
                items[rec.id] = rec
            elif "asr_pending" in rec.meta:
                items[rec.id] = rec.failed(ItemError("no_transcript", f"{rec.meta['asr_pending']['why']}; --no-whisper"))
        self.raw_items = sorted(items.values(), key=lambda i: i.id)
        self.plan()

    def facts(self, config: str) -> dict:
        sources = Counter(i.transcript_source for i in self.raw_items if i.ok)
        return {**super().facts(config), "crawl": self.crawled, "listing_errors": self.listing_errors,
                "transcript_sources": dict(sources), "asr_job": self.asr_job}

    def finish(self, out: Path) -> list[str]:
        return [f"  crawl into {self.input_dir}: {self.crawled}",
                f"  add annotations.json per stream there, then: python -m builders.bliss --source raw --input {self.input_dir}"]
