"""Behance livestreams from the web: listing pages and livestream pages -> the raw layout of
docs/raw-layout.md, so ``builders.bliss`` builds what was crawled (``--source behance`` crawls and
builds; ``--source raw`` builds a crawled directory again, e.g. once annotations are added).

Per livestream (``https://www.behance.net/videos/<uuid>/<slug>``), into ``<raw>/<uuid>/``:
``metadata.json`` (title, description, streamer, creative fields, tools, URLs, and which selector
gave each field), ``cover.<ext>`` (the cover image), ``thumbnail.gif|mp4|webp`` (the cover
animation, from which BLiSS takes keyframes), ``transcript.json`` (the transcript Behance provides,
with its sentence times) and ``video.<ext>`` (HLS or MP4 through yt-dlp, <= 480p, as the YouTube
collector caps it). No ``annotations.json``: annotations are the user's to add, and a stream without
them is published unlabelled. A stream without a transcript keeps ``meta["asr_pending"]`` and gets
one from Whisper, run by the builder as an extraction job (builders.core.asr), as HierSum does.

Selectors. Every CSS selector, JSON path (JMESPath, into the page's embedded state) and URL rule
is in SELECTORS, each with its status and the evidence for it:

- ``seen``: read by public code written against the live site (scrapers, a browser extension),
  so the live site had it when that code was written; not checked against a page saved here.
- ``checked``: the shape is in a saved real page (a Behance profile page's state, 2022, kept in
  public code): only shapes of *projects and profiles*, on which several guesses lean.
- ``guessed``: no evidence for livestream pages. In particular the JSON paths inside a livestream
  page's state are guesses by analogy with project pages (``project.project`` there, ``video.video``
  here). Check one live page before a large crawl and correct the paths here.

No saved real livestream page was available when this module was written, and Behance ended
personal livestreaming in December 2024 (so says a public archiving tool's README; older replays and
Adobe Live streams may remain): the tests use pages
of the shape these selectors describe, not copies of real ones. A selector that finds nothing for a
required field (title, streamer, video, cover animation) fails the stream with ``parse_error``
naming the selectors tried; an optional field that is absent is listed in ``metadata.json``'s
``behance.absent`` with the selectors tried, never left as a silent empty value.

Network: pages, covers and transcripts go through collectors.net.fetch (pacing per host, retries
with backoff, Retry-After, failure kinds), the video through yt-dlp with the same policy
(collectors.youtube). A removed stream (HTTP 404 / 410) is ``unavailable``. Resumable: every
stream is one line of ``<raw>/.crawl.jsonl`` (collectors.manifest: a rerun skips done streams)
and is written in ``<raw>/.<uuid>.part/`` then renamed into place, so ``<raw>/`` only ever holds
whole streams (hidden entries are ignored by the raw reader).
"""

from __future__ import annotations

import dataclasses
import datetime
import html as html_lib
import json
import logging
import os
import re
import shutil
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urljoin

import jmespath
from selectolax.lexbor import LexborHTMLParser

from collectors import transcripts
from collectors.manifest import collect_all
from collectors.media import DecodeError, video_duration
from collectors.net import Net, fetch
from collectors.records import ItemError, RawItem, check_transcript, item_id
from common.files import write_json

log = logging.getLogger("collectors.behance_web")

SOURCE = "behance"
CRAWL_MANIFEST = ".crawl.jsonl"
SEEN, CHECKED, GUESSED = "seen", "checked", "guessed"


class Selector(NamedTuple):
    """Where a field is looked for: a CSS selector, a JMESPath into the page state (relative to the
    livestream object unless it is the ``video`` entry), a regex or a URL rule; how sure we are of
    it (SEEN / CHECKED / GUESSED, see the module docstring); and the evidence."""

    where: str
    status: str
    evidence: str


SELECTORS: dict[str, Selector] = {
    # --- every page -------------------------------------------------------------------------
    "state": Selector(
        "script#beconfig-store_state", SEEN,
        "the Redux state Behance embeds as <script type='application/json' id='beconfig-store_state'>; read by many "
        "public scrapers of project and profile pages (2022-2025)"),
    # --- listing pages (Behance Live, a creative field, a streamer's /livestreams or /videos) ----
    "listing_link": Selector(
        'a[href*="/videos/"]', SEEN,
        "links to livestream pages: HoverZoom's Behance plugin hooks a[href*='/videos/']; the Behance Archive Downloader "
        "(2024) reads the same links in a streamer's /livestreams grid"),
    "video_page_url": Selector(
        r"/videos/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})(?:/([A-Za-z0-9_%.~-]+))?", SEEN,
        "/videos/<uuid>/<slug>: the real URLs quoted in HoverZoom's plugin (tracking_source=to_replay / to_live); also "
        "searched in the page state's text, for listings whose links are not in the HTML"),
    # --- a livestream page -------------------------------------------------------------------
    "video": Selector(
        "video.video", GUESSED,
        "the livestream object in the state, by analogy with project pages, whose project sits at project.project (seen)"),
    "title": Selector("title", GUESSED, "the livestream's title"),
    "og_title": Selector('meta[property="og:title"]', SEEN, "read by a public scraper on real Behance project pages"),
    "description": Selector("description", GUESSED, "the livestream's description"),
    "og_description": Selector('meta[property="og:description"]', GUESSED, "standard OpenGraph"),
    "streamer": Selector(
        "owners[0].display_name", GUESSED,
        "projects' owners[].display_name (checked against a saved real profile page's state, 2022)"),
    "og_owners": Selector('meta[property="og:owners"]', SEEN, "read by a public scraper on real Behance project pages"),
    "creative_fields": Selector(
        "fields[].name", GUESSED, "projects' fields[] {id, name, slug, url} (checked against a saved real page)"),
    "tools": Selector("tools[].title", GUESSED, "the creative tools of the stream"),
    "duration": Selector("duration", GUESSED, "seconds"),
    "cover": Selector(
        "covers", GUESSED,
        "a {size: url} dict, as projects' covers (checked against a saved real page: '808', 'original', ...); the "
        "'original', else the largest size, is taken"),
    "og_image": Selector('meta[property="og:image"]', GUESSED, "standard OpenGraph"),
    "cover_animation": Selector(
        "coverAnimation.url", GUESSED,
        "the short animation a livestream card plays (BLiSS's 'thumbnail animation'): GIF, MP4 or WebP"),
    "hls": Selector("streams.hls", GUESSED, "an HLS playlist of the replay"),
    "mp4": Selector("streams.mp4", GUESSED, "an MP4 of the replay"),
    "replay_mp4": Selector(
        "https://livestream-videos-prod.s3-us-west-2.amazonaws.com/master-stream-{uuid}.mp4", SEEN,
        "HoverZoom's Behance plugin maps a replay page's uuid to this file; used when the page names no stream"),
    "transcript": Selector(
        "transcriptUrl", GUESSED,
        "the transcript's URL; its JSON is taken as a list of {display, offset, duration} utterances (seconds), the "
        "shape in which StreamHover (EMNLP 2021) released Behance transcripts, with a 'transcript url' per clip "
        "(checked against StreamHover's README); WebVTT is read too"),
}

COVER_IMAGE_TYPES = {b"\xff\xd8\xff": ".jpg", b"\x89PNG": ".png", b"GIF8": ".gif"}
MAX_ASSET_BYTES = 64 * 2**20  # a cover, an animation or a transcript larger than this is not one


@dataclasses.dataclass(frozen=True)
class CrawlOptions:
    """How to crawl: the network policy (``net``: pages, assets and yt-dlp), whether a stream
    without a transcript waits for Whisper (``defer_asr``, the builder's job) or fails
    ``no_transcript``, and the size cap of covers, animations and transcripts."""

    net: Net = Net(sleep=2.0)
    defer_asr: bool = True
    max_asset_bytes: int = MAX_ASSET_BYTES


@dataclasses.dataclass
class Livestream:
    """What a livestream page says; ``found`` names the selector that gave each field, ``absent``
    the selectors tried for each optional field that no selector found."""

    uuid: str
    url: str
    title: str
    description: str
    streamer: str
    creative_fields: list[str]
    tools: list[str]
    duration: float | None
    cover: str | None
    cover_animation: str
    video: str
    transcript: str | None
    found: dict[str, str]
    absent: dict[str, str]


# --- parsing ---------------------------------------------------------------------------------


def parse_error(field: str, tried: list[str], problem: str = "found nothing") -> ItemError:
    """A stream whose page lacks a field: the message names the field, each selector tried and its status."""
    where = "; ".join(f"{name} {SELECTORS[name].where!r} ({SELECTORS[name].status})" for name in tried)
    return ItemError("parse_error", f"{field}: {problem} at {where}")


def video_page_key(url: str) -> tuple[str, str] | None:
    """(uuid, slug) of a livestream page URL, None for any other URL."""
    m = re.search(SELECTORS["video_page_url"].where, url)
    return (m.group(1), m.group(2) or "") if m else None


def page_state(tree: LexborHTMLParser) -> dict | None:
    """The page's embedded state (SELECTORS['state']), None when the page has none; parse_error when it is not JSON."""
    node = tree.css_first(SELECTORS["state"].where)
    if node is None:
        return None
    try:
        state = json.loads(node.text(deep=True) or "null")
    except ValueError as e:
        raise parse_error("state", ["state"], f"not JSON ({e})") from None
    if not isinstance(state, dict):
        raise parse_error("state", ["state"], f"not an object ({type(state).__name__})")
    return state


def parse_listing(html: str, url: str) -> list[str]:
    """Livestream page URLs on a listing page, absolute, one per uuid, in page order (links first,
    then URLs found in the page state's text); parse_error when there is none."""
    tree = LexborHTMLParser(html)
    pattern = re.compile(SELECTORS["video_page_url"].where)
    hrefs = [a.attributes.get("href") or "" for a in tree.css(SELECTORS["listing_link"].where)]
    node = tree.css_first(SELECTORS["state"].where)
    state_text = (node.text(deep=True) if node else "").replace("\\/", "/").replace("\\u002F", "/")
    found: dict[str, str] = {}
    for candidate in [*hrefs, *(m.group(0) for m in pattern.finditer(state_text))]:
        m = pattern.search(candidate)
        if m and m.group(1) not in found:
            found[m.group(1)] = urljoin(url, f"/videos/{m.group(1)}/{m.group(2) or ''}".rstrip("/"))
    if not found:
        raise parse_error("livestream links", ["listing_link", "video_page_url"])
    return list(found.values())


def _meta(tree, name: str) -> str | None:
    node = tree.css_first(SELECTORS[name].where)
    value = html_lib.unescape((node.attributes.get("content") or "").strip()) if node else ""
    return value or None


def _path(obj: dict | None, name: str):
    return None if obj is None else jmespath.search(SELECTORS[name].where, obj)


def _text(video, tree, field: str, path: str, meta: str | None, found: dict) -> str | None:
    value = _path(video, path)
    if value is not None:
        if not isinstance(value, str):
            raise parse_error(field, [path], f"a {type(value).__name__}, not a string")
        if value.strip():
            found[field] = path
            return value.strip()
    if meta and (value := _meta(tree, meta)):
        found[field] = meta
        return value
    return None


def _strings(video, field: str, path: str, found: dict) -> list[str] | None:
    value = _path(video, path)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise parse_error(field, [path], f"not a list of strings: {value!r:.80}")
    where = SELECTORS[path].where
    if "[]" in where:  # a projection drops entries that lack the key: that would be a silent loss
        entries = jmespath.search(where.split("[]")[0], video)
        if isinstance(entries, list) and len(entries) != len(value):
            raise parse_error(field, [path], f"{len(entries) - len(value)} of {len(entries)} entries lack it")
    found[field] = path
    return value


def _largest_cover(covers) -> str | None:
    if not isinstance(covers, dict) or not covers:
        raise parse_error("cover", ["cover"], f"not a {{size: url}} object: {covers!r:.80}")
    if isinstance(covers.get("original"), str):
        return covers["original"]
    sizes = [(int(k), v) for k, v in covers.items() if str(k).isdigit() and isinstance(v, str)]
    return max(sizes)[1] if sizes else None


def parse_livestream_page(html: str, url: str) -> Livestream:
    """A livestream page -> Livestream; ItemError(parse_error) naming the selectors when a required
    field (title, streamer, cover animation) is missing or a field has the wrong type."""
    key = video_page_key(url)
    if key is None:
        raise parse_error("uuid", ["video_page_url"], f"not a livestream page URL: {url}")
    uuid = key[0]
    tree = LexborHTMLParser(html)
    state = page_state(tree)
    video = jmespath.search(SELECTORS["video"].where, state) if state is not None else None
    if video is not None and not isinstance(video, dict):
        raise parse_error("video", ["video"], f"a {type(video).__name__}, not an object")
    found: dict[str, str] = {}
    absent: dict[str, str] = {}

    def require(field, value, tried):
        if not value:
            raise parse_error(field, tried)
        return value

    def optional(field, value, tried):
        if value is None:
            absent[field] = "; ".join(f"{SELECTORS[t].where!r}" for t in tried) + ": nothing found"
        return value

    title = require("title", _text(video, tree, "title", "title", "og_title", found), ["video", "title", "og_title"])
    streamer = require("streamer", _text(video, tree, "streamer", "streamer", "og_owners", found),
                       ["video", "streamer", "og_owners"])
    description = optional("description", _text(video, tree, "description", "description", "og_description", found),
                           ["description", "og_description"])
    fields = optional("creative_fields", _strings(video, "creative_fields", "creative_fields", found), ["creative_fields"])
    tools = optional("tools", _strings(video, "tools", "tools", found), ["tools"])
    duration = _path(video, "duration")
    if duration is not None:
        if isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration <= 0:
            raise parse_error("duration", ["duration"], f"not a positive number of seconds: {duration!r}")
        found["duration"] = "duration"
    optional("duration", duration, ["duration"])

    covers = _path(video, "cover")
    cover = _largest_cover(covers) if covers is not None else None
    if cover:
        found["cover"] = "cover"
    elif cover := _meta(tree, "og_image"):
        found["cover"] = "og_image"
    optional("cover", cover, ["cover", "og_image"])

    animation = _path(video, "cover_animation")
    if animation is not None and not isinstance(animation, str):
        raise parse_error("cover animation", ["cover_animation"], f"a {type(animation).__name__}, not a URL")
    require("cover animation", animation, ["video", "cover_animation"])
    found["cover_animation"] = "cover_animation"

    stream = None
    for name in ("hls", "mp4"):
        value = _path(video, name)
        if value is not None and not isinstance(value, str):
            raise parse_error("video", [name], f"a {type(value).__name__}, not a URL")
        if value:
            stream, found["video"] = value, name
            break
    if stream is None:  # the page names no stream: the replay file of this uuid (a rule seen in public code)
        stream, found["video"] = SELECTORS["replay_mp4"].where.format(uuid=uuid), "replay_mp4"

    transcript = _path(video, "transcript")
    if transcript is not None and not isinstance(transcript, str):
        raise parse_error("transcript", ["transcript"], f"a {type(transcript).__name__}, not a URL")
    if transcript:
        found["transcript"] = "transcript"
    optional("transcript", transcript or None, ["transcript"])

    return Livestream(uuid=uuid, url=url, title=title, description=description or "", streamer=streamer,
                      creative_fields=fields or [], tools=tools or [], duration=float(duration) if duration else None,
                      cover=urljoin(url, cover) if cover else None, cover_animation=urljoin(url, animation),
                      video=urljoin(url, stream), transcript=urljoin(url, transcript) if transcript else None,
                      found=found, absent=absent)


def parse_transcript(body: bytes, url: str) -> list[dict]:
    """A transcript file -> sentences {start, end, text} (seconds). JSON: a list of utterances
    {display, offset, duration} (StreamHover's shape of Behance transcripts); WebVTT: cues joined
    into sentences as subtitles are (collectors.transcripts). ItemError(bad_transcript) otherwise."""
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff")
    if text.lstrip().startswith("WEBVTT"):
        try:
            return check_transcript(transcripts.to_sentences(transcripts.parse_vtt(text, url)))
        except transcripts.TranscriptError as e:
            raise ItemError("bad_transcript", f"{url}: {e}") from None
    try:
        data = json.loads(text)
    except ValueError as e:
        raise ItemError("bad_transcript", f"{url}: neither WebVTT nor JSON ({e})") from None
    if not isinstance(data, list):
        raise ItemError("bad_transcript", f"{url}: JSON {type(data).__name__}, not a list of utterances "
                                          f"(selector 'transcript' {SELECTORS['transcript'].where!r})")
    sentences = []
    for n, u in enumerate(data):
        if not isinstance(u, dict) or not {"display", "offset", "duration"} <= set(u):
            raise ItemError("bad_transcript", f"{url}: utterance {n} is not {{display, offset, duration}}: {u!r:.80}")
        try:
            start, length = float(u["offset"]), float(u["duration"])
        except (TypeError, ValueError):
            raise ItemError("bad_transcript", f"{url}: utterance {n} has non-numeric times: {u!r:.80}") from None
        if isinstance(u["display"], str) and u["display"].strip():
            sentences.append({"start": start, "end": start + length, "text": u["display"].strip()})
    return check_transcript(sentences)


# --- fetching one stream ---------------------------------------------------------------------


def _asset_suffix(body: bytes, animation: bool) -> str | None:
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return ".webp"
    if animation:
        return ".gif" if body[:4] == b"GIF8" else ".mp4" if body[4:8] == b"ftyp" else None
    return next((suffix for magic, suffix in COVER_IMAGE_TYPES.items() if body.startswith(magic)), None)


def _save(path: Path, body: bytes) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(body)
    os.replace(tmp, path)
    return path


def _fetch_assets(page: Livestream, stage: Path, o: CrawlOptions, meta: dict) -> Path:
    """Cover image (optional: a failure is recorded) and cover animation (required) into `stage`."""
    if page.cover:
        try:
            body = fetch(page.cover, o.net, max_bytes=o.max_asset_bytes, accept="image/*").body
            suffix = _asset_suffix(body, animation=False)
            if suffix is None:
                raise ItemError("bad_media", f"{page.cover}: not a JPEG, PNG, GIF or WebP image")
            meta["cover"] = _save(stage / f"cover{suffix}", body).name
        except ItemError as e:
            meta["absent"]["cover"] = f"{page.cover}: {e.kind}: {e.message}"
    try:
        body = fetch(page.cover_animation, o.net, max_bytes=o.max_asset_bytes).body
    except ItemError as e:
        raise ItemError("no_thumbnail" if e.kind == "unavailable" else e.kind,
                        f"cover animation {e.message}") from None
    suffix = _asset_suffix(body, animation=True)
    if suffix is None:
        raise ItemError("bad_thumbnail", f"{page.cover_animation}: not a GIF, MP4 or WebP animation "
                                         f"(starts {body[:12]!r})")
    return _save(stage / f"thumbnail{suffix}", body)


def _fetch_transcript(page: Livestream, o: CrawlOptions, meta: dict) -> list[dict] | None:
    """The provided transcript, None when the page has none (or its URL is gone: recorded)."""
    if page.transcript is None:
        return None
    try:
        body = fetch(page.transcript, o.net, max_bytes=o.max_asset_bytes).body
    except ItemError as e:
        if e.kind != "unavailable":
            raise
        meta["absent"]["transcript"] = e.message
        return None
    return parse_transcript(body, page.transcript) or None


def _download_video(url: str, stage: Path, o: CrawlOptions) -> Path:
    from collectors.youtube import download_media, fetch_info

    info = fetch_info(url, o.net)  # yt-dlp's generic extractor: an HLS playlist or a media file
    return download_media(info, stage / "video", True, o.net)


def write_metadata(d: Path, meta: dict) -> None:
    write_json(d / "metadata.json", meta)


def write_transcript(d: Path, sentences: list[dict], source: str) -> None:
    """transcript.json of a stream directory, and its source (provided / whisper) in metadata.json."""
    write_json(d / "transcript.json", [{"start": s["start"], "end": s["end"], "text": s["text"]} for s in sentences])
    meta = json.loads((d / "metadata.json").read_text(encoding="utf-8"))
    meta["transcript_source"] = source
    write_metadata(d, meta)


def collect_livestream(url: str, raw_dir: str | os.PathLike, options: CrawlOptions = CrawlOptions()) -> RawItem:
    """One livestream page -> its directory in `raw_dir` and a RawItem (ok, or failed with a kind).
    Never raises for a bad stream; the item keeps what was known before the problem."""
    raw_dir = Path(raw_dir)
    key = video_page_key(url)
    vid = key[0] if key else item_id(url)
    item = RawItem(id=vid, source=SOURCE, url=url, meta={"input": url})
    try:
        got = fetch(url, options.net, accept="text/html,*/*;q=0.5")
        page = parse_livestream_page(got.text(), url)
        item.title, item.description = page.title, page.description
        item.meta.update(streamer=page.streamer, creative_fields=page.creative_fields, tools=page.tools)
        stage = raw_dir / f".{vid}.part"
        stage.mkdir(parents=True, exist_ok=True)
        meta = {"title": page.title, "description": page.description, "creative_fields": page.creative_fields,
                "tools": page.tools, "streamer": page.streamer, "url": url,
                "behance": {"uuid": page.uuid, "found": page.found, "absent": dict(page.absent),
                            "cover_url": page.cover, "cover_animation_url": page.cover_animation,
                            "video_url": page.video, "transcript_url": page.transcript, "page_duration": page.duration,
                            "crawled_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}}
        thumbnail = _fetch_assets(page, stage, options, meta["behance"])
        sentences = _fetch_transcript(page, options, meta["behance"])
        if sentences is None and not options.defer_asr:
            raise ItemError("no_transcript", f"no transcript on the page ({SELECTORS['transcript'].where!r}) and no Whisper")
        video = _download_video(page.video, stage, options)
        try:
            duration = video_duration(video)
        except DecodeError as e:
            raise ItemError("bad_media", f"{page.video}: {e}") from None
        if sentences and duration is not None and sentences[-1]["start"] > duration + 1.0:
            raise ItemError("bad_transcript", f"{page.transcript}: a sentence starts at {sentences[-1]['start']} s, "
                                              f"after the video ends ({duration:.1f} s): are the times in seconds?")
        meta["transcript_source"] = "provided" if sentences else None
        write_metadata(stage, meta)
        if sentences:
            write_json(stage / "transcript.json", sentences)
        final = raw_dir / vid
        if final.exists():
            shutil.rmtree(final)
        os.replace(stage, final)
    except ItemError as e:
        return item.failed(e)
    item.duration = duration
    item.media = {"video": str(final / video.name), "thumbnail": str(final / thumbnail.name)}
    item.meta["behance"] = meta["behance"]
    if sentences:
        item.transcript, item.transcript_source = sentences, "provided"
    else:
        why = f"no transcript from the page ({meta['behance']['absent'].get('transcript', '')})"
        item.meta["asr_pending"] = {"why": why, "fallback": None}
    return item


def list_livestreams(listing_url: str, net: Net = Net(sleep=2.0), limit: int | None = None) -> list[str]:
    """The livestream page URLs of one listing page (the first page only: no scrolling); ItemError on failure."""
    got = fetch(listing_url, net, accept="text/html,*/*;q=0.5")
    urls = parse_listing(got.text(), got.url)
    return urls[:limit] if limit else urls


def crawl(urls: list[str], raw_dir: str | os.PathLike, options: CrawlOptions = CrawlOptions(), *,
          retry_failed: bool = False, progress: bool = True, stop_after_blocked: int | None = 10) -> dict:
    """Crawl livestream pages into `raw_dir` (resumably, ``raw_dir/.crawl.jsonl``); returns the run's
    counts ``{ok, already, skipped, failed: {kind: n}, stopped}`` (collectors.manifest.collect_all)."""
    raw_dir = Path(raw_dir)
    raw_dir.mkdir(parents=True, exist_ok=True)
    return collect_all(urls, raw_dir / CRAWL_MANIFEST, lambda url: (collect_livestream(url, raw_dir, options), None),
                       key=str, known_id=lambda url: (video_page_key(url) or (None,))[0], retry_failed=retry_failed,
                       progress=progress, stop_after_blocked=stop_after_blocked, site="Behance", unit="stream")
