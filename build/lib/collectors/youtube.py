"""YouTube videos (or anything yt-dlp extracts) as RawItems: info, most-replayed heatmap, transcript, media.

yt-dlp is used as a library, never as a subprocess. An info dict is what yt-dlp writes to
``.info.json``: :func:`fetch_info` gets one from the web (``extract_info(process=False)``, then
``sanitize_info``), :func:`load_info` reads a saved one exactly as ``yt-dlp --load-info-json``
does, and every download (subtitles, audio, video) re-processes that dict with
``YoutubeDL.process_ie_result``, which is what ``download_with_info_file`` runs, minus its
fallback of re-extracting from ``webpage_url`` (it would reach the network behind our back).
YouTube's format and caption URLs in an info dict expire after about six hours: collect from a
URL, or re-fetch, for anything older.

Transcript. Subtitle tracks are tried in this order: manual tracks in ``languages`` (the video's
own language first, exact code before regional variants such as ``en-GB``), then automatic
captions in the original language (``<lang>-orig``; a plain ``<lang>`` automatic track only when
the video's language is that language or unknown, since otherwise it is a machine translation).
A track is downloaded by yt-dlp in the first of json3, vtt, srt it offers, parsed and split into
sentences by :mod:`collectors.transcripts`, and the first *clean* track wins. With none clean, the
audio (``bestaudio[abr<=64]``, or the video when ``need_media``) goes to the given Whisper
extractor (transcript_source "whisper"). Without Whisper, or when Whisper hears nothing, the first
unclean track is kept and ``meta["transcript"]["clean"]`` says so; with no track at all the item
fails with ``no_transcript``. ``whisper=DEFER_ASR`` leaves the transcription to a later extraction
job (builders.hiersum runs Whisper as one, on the cluster): the item keeps its audio or video,
``meta["asr_pending"]`` (why, and the unclean track to fall back on), and no transcript until
:func:`finish_deferred_asr` gives it one. A subtitle file that does not parse fails the item with
``bad_transcript``: it means a broken download or parser, which Whisper would only hide.
Non-speech tags ([Music]) are dropped from the stored transcript.

Sections. ``download_media(..., section=(start, end))`` downloads only those seconds: yt-dlp's
``download_ranges``, cut at exactly those times (``force_keyframes_at_cuts``: ffmpeg re-encodes,
so no frame from before the cut rides along as it would in a stream copy), formats merged to mp4.
That needs the ffmpeg program (``ffmpeg=PATH``, else the one on PATH), which is given ``timeout``
per read; it runs quiet, so when it fails the chosen formats' URLs are asked for one byte to learn
the failure's kind (an HTTP refusal, a timeout).
:func:`download_section` adds resumability: a file of the expected length is kept without a request.

Filters and failures. ``min_views`` and ``max_duration`` select videos: one outside them is
*skipped* (``collect_video`` returns ``Collected(None, reason)``, nothing is recorded; a flat
listing entry is skipped before its info is fetched when the listing has the numbers, and an
unknown view count counts as too few). ``require_heatmap`` is a requirement of the dataset, so a
video without the most-replayed curve *fails* with ``no_heatmap`` and shows in the failure counts.
Every other problem fails the item with a kind from :func:`error_kind`.

Network. Every request has ``socket_timeout``; yt-dlp retries file downloads, fragments and
extractor requests ``retries`` times with exponential backoff; on top, extraction is retried on
``rate_limited`` and ``timeout`` and downloads on ``rate_limited`` (yt-dlp already retried their
timeouts), sleeping ``backoff * 2**attempt`` s or the server's Retry-After (capped at 120 s).
``sleep`` s (jittered up to twice that) pass between requests and before downloads.

Resume (:func:`collect`, on collectors.manifest.collect_all). Each finished item is appended to
manifest.jsonl at once (one line, flushed and fsynced). A rerun skips inputs whose last record is
ok, and failed ones unless ``retry_failed``; a retried input's new record is appended, and the
manifest is rewritten atomically at the end with the last record per input, so a crash in between
leaves both lines and the last one wins. One ``collect`` per manifest at a time.
"""

from __future__ import annotations

import contextvars
import copy
import dataclasses
import glob
import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import yt_dlp
from yt_dlp.extractor import get_info_extractor
from yt_dlp.networking.exceptions import HTTPError, RequestError
from yt_dlp.postprocessor.ffmpeg import FFmpegPostProcessor
from yt_dlp.utils import GeoRestrictedError, YoutubeDLError

from collectors import transcripts
from collectors.manifest import BLOCKED_KINDS, collect_all, latest_items, update_manifest  # noqa: F401  (re-exported)
from collectors.media import DecodeError, video_duration
from collectors.net import Net
from common.files import write_json
from collectors.records import ItemError, RawItem, check_transcript, item_id

log = logging.getLogger("collectors.youtube")

SUB_FORMATS = ("json3", "vtt", "srt")  # preference order; all parsed by collectors.transcripts
AUDIO_FORMAT = "ba[abr<=?64]/wa/w/w*"  # small: speech for Whisper, not music
MAX_HEIGHT = 480
TRANSIENT = ("rate_limited", "timeout")
MAX_BACKOFF = 120.0

# error_kind: the first row whose pattern occurs in the message (case-insensitive) gives the kind.
# The messages are YouTube's, as yt-dlp words them; the order matters ("Private video. Sign in if
# you've been granted access" is private, "Video unavailable. This video is private" too).
ERROR_TABLE: tuple[tuple[str, str], ...] = (
    ("bot_check", r"confirm you(?:'|’)re not a bot|captcha|unusual traffic"),
    ("rate_limited", r"HTTP Error 429|Too Many Requests|rate-limited|try again later"),
    ("private", r"private video|video is private|members[- ]only|join this channel"),
    ("age_restricted", r"confirm your age|age-restricted|inappropriate for some users"),
    ("geo_blocked", r"available in your country|from your location|geo[- ]?restrict"),
    ("bad_media", r"requested format is not available|no video formats found"),
    ("unavailable", (r"video unavailable|has been removed|no longer available|account .*terminated|"
                     r"isn't available|is not available|does not exist|HTTP Error (?:404|410)")),
    ("blocked", r"HTTP Error 403|IP is likely being blocked"),
    ("timeout", r"timed out|timeout"),
)
HTTP_KINDS = {429: "rate_limited", 404: "unavailable", 410: "unavailable", 403: "blocked"}


class Collected(NamedTuple):
    """What :func:`collect_video` made of one input: an item (ok or failed), or why it was skipped."""

    item: RawItem | None
    skipped: str | None = None


# --- errors and retries --------------------------------------------------------------------


def _chain(exc: BaseException):
    """The exception and what caused it: yt-dlp keeps the original in exc_info or cause."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        inner = getattr(exc, "exc_info", None)
        exc = (inner[1] if isinstance(inner, tuple) and len(inner) > 1 else None) or getattr(exc, "cause", None) \
            or exc.__cause__ or exc.__context__


def error_kind(exc: BaseException) -> tuple[str, str]:
    """(kind, message) for an exception from yt-dlp or the network: by ERROR_TABLE on the message, then by
    what caused it (geo restriction, HTTP status, a socket timeout), else "error"."""
    if isinstance(exc, ItemError):
        return exc.kind, exc.message
    message = " ".join(str(exc).split()).removeprefix("ERROR: ")[:500] or exc.__class__.__name__
    for kind, pattern in ERROR_TABLE:
        if re.search(pattern, message, re.IGNORECASE):
            return kind, message
    for e in _chain(exc):
        if isinstance(e, GeoRestrictedError):
            return "geo_blocked", message
        if isinstance(e, HTTPError) and e.status in HTTP_KINDS:
            return HTTP_KINDS[e.status], message
        if isinstance(e, TimeoutError):  # socket.timeout too
            return "timeout", message
    return "error", message


def retry_after(exc: BaseException) -> float | None:
    """Seconds from an HTTP Retry-After header in the exception's chain (the seconds form only)."""
    for e in _chain(exc):
        if isinstance(e, HTTPError):
            value = (e.response.headers.get("Retry-After") or "").strip() if e.response is not None else ""
            if value.isdigit():
                return float(value)
    return None


def _retrying(fn, what: str, retries: int, backoff: float, kinds: tuple[str, ...] = TRANSIENT):
    """fn(), retried on errors of `kinds` with exponential backoff; any failure left becomes an ItemError."""
    for attempt in range(retries + 1):
        try:
            return fn()
        except ItemError:
            raise
        except (YoutubeDLError, RequestError, OSError) as e:
            kind, message = error_kind(e)
            if kind in kinds and attempt < retries:
                delay = min(max(retry_after(e) or 0.0, backoff * 2**attempt), MAX_BACKOFF)
                log.info("%s: %s (%s); retry %d/%d in %.1f s", what, kind, message, attempt + 1, retries, delay)
                time.sleep(delay)
                continue
            tries = f" (after {attempt + 1} attempts)" if attempt else ""
            raise ItemError(kind, f"{what}: {message}{tries}") from e


class _YtdlpLog:
    """yt-dlp's messages go to logging, never onto the progress bar; its errors come back as exceptions."""

    def __init__(self, expected: tuple[str, ...] = ()):
        self.expected = ("ffmpeg not found", *expected)  # warnings that are no news here

    def debug(self, msg):
        log.debug(msg)

    info = debug
    error = debug

    def warning(self, msg):
        (log.debug if any(e in msg for e in self.expected) else log.warning)(msg)


def ydl_params(net: Net, **extra) -> dict:
    """YoutubeDL options with the module's network policy; `extra` adds or overrides options."""

    def expo(n):
        return min(net.backoff * 2**n, MAX_BACKOFF)

    retries, sleep = net.retries, net.sleep
    params = {
        "logger": _YtdlpLog(), "quiet": True, "noprogress": True, "no_color": True, "noplaylist": True,
        "socket_timeout": net.timeout, "retries": retries, "fragment_retries": retries, "extractor_retries": retries,
        "file_access_retries": retries, "retry_sleep_functions": {"http": expo, "fragment": expo, "extractor": expo},
        "sleep_interval_requests": sleep, "sleep_interval": sleep, "max_sleep_interval": 2 * sleep,
        "sleep_interval_subtitles": sleep,
    }
    if net.cookies:
        params["cookiefile"] = str(net.cookies)
    return {**params, **extra}


# --- info ----------------------------------------------------------------------------------


def load_info(path: str | os.PathLike) -> dict:
    """A saved ``.info.json``, read as ``yt-dlp --load-info-json`` reads it (``sanitize_info``, private keys dropped)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ItemError("bad_metadata", f"{path}: cannot read the info JSON ({e})") from e
    if isinstance(data, list) and len(data) == 1:
        data = data[0]
    if not isinstance(data, dict) or not data.get("id"):
        raise ItemError("bad_metadata", f"{path}: not a yt-dlp info dict (an object with an 'id')")
    return yt_dlp.YoutubeDL.sanitize_info(data, remove_private_keys=True)


def fetch_info(url_or_id: str, net: Net = Net()) -> dict:
    """One video's info dict from a URL, a YouTube id or a saved ``.info.json`` path; ItemError on failure."""
    src = str(url_or_id)
    if src.endswith(".json") and "://" not in src:  # a saved info file
        return load_info(src)
    params = ydl_params(net)

    def once():
        with yt_dlp.YoutubeDL(params) as ydl:
            info = ydl.extract_info(src, download=False, process=False)
            if info.get("_type") in ("url", "url_transparent"):  # a page that points at the video
                info = ydl.process_ie_result(info, download=False)
            if info.get("_type", "video") != "video":
                raise ItemError("bad_metadata", f"{src} is a {info['_type']}, not one video: list it with list_videos")
            return ydl.sanitize_info(info, remove_private_keys=True)

    return _retrying(once, f"fetching the info of {src}", net.retries, net.backoff)


def list_videos(url: str, limit: int | None = None, net: Net = Net()) -> list[dict]:
    """Videos of a channel tab or playlist, listed flat: no request per video.

    `url` may also be a saved listing, the JSON of ``yt-dlp -J --flat-playlist URL`` (a saved
    playlist ``.info.json`` has no entries: yt-dlp's clean_infojson drops them). Entries are
    ``{_type: "url", id, url, title}`` plus ``view_count`` and ``duration`` when the listing shows
    them; :func:`collect` takes them as inputs. A channel's tabs are listed in turn.
    """
    params = ydl_params(net, extract_flat="in_playlist", noplaylist=False, playlistend=limit)

    def flat(ydl, info, depth=0):
        for e in info.get("entries") or []:
            if not e:
                continue
            if e.get("_type") == "playlist":
                yield from flat(ydl, e, depth + 1)
            elif e.get("ie_key") == "YoutubeTab" and depth < 2:  # a channel's Videos / Shorts / Live tab
                yield from flat(ydl, ydl.extract_info(e["url"], download=False), depth + 1)
            elif e.get("url") or e.get("id"):
                out = {"_type": "url", "id": e.get("id"), "url": e.get("url") or e.get("webpage_url"), "title": e.get("title")}
                out.update({k: e[k] for k in ("view_count", "duration", "ie_key") if e.get(k) is not None})
                yield out

    def once():
        with yt_dlp.YoutubeDL(params) as ydl:
            if url.endswith(".json") and Path(url).is_file():
                info = json.loads(Path(url).read_text(encoding="utf-8"))
            else:
                info = ydl.extract_info(url, download=False)
            entries = list(flat(ydl, info))
        return entries[:limit] if limit else entries

    return _retrying(once, f"listing {url}", net.retries, net.backoff)


def heatmap(info: dict) -> list[dict]:
    """yt-dlp's most-replayed curve ({start_time, end_time, value}, ~100 points) as {start, end, value} in seconds."""
    return [{"start": float(h["start_time"]), "end": float(h["end_time"]), "value": float(h["value"])}
            for h in info.get("heatmap") or [] if h.get("value") is not None]


def chapters(info: dict) -> list[dict]:
    return [{"start": float(c["start_time"]), "end": float(c["end_time"]), "title": c.get("title") or ""}
            for c in info.get("chapters") or []]


def input_key(source) -> str:
    """What identifies an input in the manifest (``meta["input"]``): its URL, path or id."""
    if isinstance(source, dict):
        return str(source.get("url") or source.get("webpage_url") or source.get("original_url") or source.get("id"))
    return str(source)


def known_id(source) -> str | None:
    """The item id an input will get, when it is known without fetching anything."""
    if isinstance(source, dict):
        return item_id(source["id"]) if source.get("id") else None
    vid = get_info_extractor("Youtube").get_temp_id(str(source))
    return item_id(vid) if vid else None


# --- subtitles and media -------------------------------------------------------------------


def subtitle_candidates(info: dict, languages: Iterable[str] = ("en",)) -> list[tuple[str, str, list[dict]]]:
    """(source "manual"/"auto", track key, formats we parse) in the order of the module's rule."""
    video_lang = (info.get("language") or "").split("-")[0] or None
    langs = sorted(dict.fromkeys(languages), key=lambda lang: lang != video_lang)
    manual, auto = info.get("subtitles") or {}, info.get("automatic_captions") or {}
    found = []
    for lang in langs:
        keys = [k for k in manual if k == lang] + sorted(k for k in manual if k.startswith(lang + "-"))
        found += [("manual", k, manual[k]) for k in keys]
    for lang in langs:
        if f"{lang}-orig" in auto:
            found.append(("auto", f"{lang}-orig", auto[f"{lang}-orig"]))
        elif lang in auto and video_lang in (None, lang):
            found.append(("auto", lang, auto[lang]))
    found = [(src, key, [f for f in fmts if f.get("ext") in SUB_FORMATS]) for src, key, fmts in found]
    return [c for c in found if c[2]]


def download_subtitle(info: dict, source: str, key: str, formats: list[dict], path_base: Path, net: Net) -> Path:
    """One subtitle track downloaded by yt-dlp (json3 > vtt > srt) to ``<path_base>.<key>.<ext>``; reused when present."""
    sub = {k: v for k, v in info.items() if k not in ("formats", "url", "requested_formats")}
    sub["subtitles"] = {key: formats} if source == "manual" else {}
    sub["automatic_captions"] = {key: formats} if source == "auto" else {}
    params = ydl_params(net, outtmpl=f"{path_base}.%(ext)s", skip_download=True, ignore_no_formats_error=True,
                        logger=_YtdlpLog(("No video formats found", "Requested format is not available")),
                        writesubtitles=source == "manual", writeautomaticsub=source == "auto",
                        subtitleslangs=[re.escape(key)], subtitlesformat="/".join(SUB_FORMATS))

    def once():
        with yt_dlp.YoutubeDL(params) as ydl:
            done = ydl.process_ie_result(copy.deepcopy(sub), download=True)
        path = ((done.get("requested_subtitles") or {}).get(key) or {}).get("filepath")
        if not path or not Path(path).is_file():
            raise ItemError("no_transcript", f"yt-dlp wrote no file for the {source} subtitles {key!r}")
        return Path(path)

    return _retrying(once, f"downloading the {source} subtitles {key!r}", net.retries, net.backoff, ("rate_limited",))


def media_format(video: bool, merge: bool | None = None) -> str:
    """Size-capped formats: <= 480p video with audio (merged only when ffmpeg is there), or small audio."""
    if not video:
        return AUDIO_FORMAT
    h = MAX_HEIGHT
    single = f"b[height<=?{h}]/w"
    merge = shutil.which("ffmpeg") is not None if merge is None else merge
    return f"bv*[height<=?{h}]+ba/{single}" if merge else single


def download_media(info: dict, path_base: Path, video: bool, net: Net, *,
                   section: tuple[float, float] | None = None, ffmpeg: str | os.PathLike | None = None) -> Path:
    """The video (<= 480p) or audio of an info dict downloaded by yt-dlp to ``<path_base>.<ext>``; reused when present.

    ``section=(start, end)`` downloads only those seconds (yt-dlp's ``download_ranges``), cut at
    exactly those times (``force_keyframes_at_cuts``: ffmpeg re-encodes the section, to mp4 when
    formats are merged); that needs the ffmpeg program, ``ffmpeg`` (a path) or the one on PATH.
    """
    extra = {}
    if section is not None:
        extra = {"download_ranges": yt_dlp.utils.download_range_func(None, [tuple(map(float, section))]),
                 "force_keyframes_at_cuts": True, "merge_output_format": "mp4",
                 # yt-dlp gives ffmpeg no timeout: without one a stalled server stalls the collection for good
                 "external_downloader_args": {"ffmpeg_i": ["-rw_timeout", str(int(net.timeout * 1_000_000))]}}
        if ffmpeg is not None:
            extra["ffmpeg_location"] = str(ffmpeg)
    merge = (ffmpeg is not None or shutil.which("ffmpeg") is not None) if section is not None else None
    params = ydl_params(net, format=media_format(video, merge), outtmpl=f"{path_base}.%(ext)s", **extra)

    def download():
        if ffmpeg is not None:  # FFmpegFD.available() reads this, not the params (yt-dlp's CLI sets it too)
            FFmpegPostProcessor._ffmpeg_location.set(str(ffmpeg))
        with yt_dlp.YoutubeDL(params) as ydl:
            return ydl.process_ie_result(copy.deepcopy(info), download=True)

    def once():
        try:
            done = contextvars.copy_context().run(download)  # the ffmpeg location stays inside this call
        except YoutubeDLError as e:
            if section is not None and "exited with code" in str(e):
                raise _refusal(info, net, params["format"]) or e
            raise
        files = [d.get("filepath") for d in done.get("requested_downloads") or []]
        if not files or not all(f and Path(f).is_file() for f in files):
            raise ItemError("bad_media", f"yt-dlp reported no downloaded file for format {params['format']!r}")
        return Path(files[0])

    what = "downloading the " + ("video" if video else "audio")
    if section is not None:
        what += f" from {section[0]:g} to {section[1]:g} s"
    return _retrying(once, what, net.retries, net.backoff, ("rate_limited",))


def _refusal(info: dict, net: Net, format: str) -> RequestError | None:
    """Why a section download failed, when the server refused it or did not answer: ffmpeg (quiet) says only
    its exit code, so the chosen formats' URLs are asked for their first byte, with yt-dlp's headers and cookies."""
    with yt_dlp.YoutubeDL(ydl_params(net, format=format)) as ydl:
        chosen = ydl.process_ie_result(copy.deepcopy(info), download=False)
        for fmt in chosen.get("requested_formats") or [chosen]:
            headers = {**(fmt.get("http_headers") or {}), "Range": "bytes=0-0"}
            try:
                ydl.urlopen(yt_dlp.networking.Request(fmt["url"], headers=headers)).close()
            except RequestError as e:  # an HTTP status, a timeout, a refused connection: error_kind tells which
                return e
    return None


SECTION_EXTS = (".mp4", ".mkv", ".webm", ".m4a", ".mov")  # what a finished download is named <base><ext>
SECTION_FILE = re.compile(r"\.(?:f[\w-]+\.)?(?:temp\.)?(?:mp4|mkv|webm|m4a|mov)(?:\.part|\.ytdl)?")  # and its leftovers


def _section_files(path_base: Path) -> list[Path]:
    """Files yt-dlp may have left at ``<path_base>.<ext>``: the media, a ``.part`` of it, per-format pieces."""
    prefix = path_base.name
    return [p for p in path_base.parent.glob(glob.escape(prefix) + ".*") if SECTION_FILE.fullmatch(p.name[len(prefix):])]


def _seconds(path: Path) -> float | None:
    try:
        return video_duration(path)
    except DecodeError:
        return None


def download_section(source, path_base: Path, start: float, end: float, net: Net = Net(), *,
                     ffmpeg: str | os.PathLike | None = None, expected: float | None = None,
                     tolerance: float = 2.0) -> tuple[Path, bool]:
    """Seconds [start, end] of one video (a URL, YouTube id or saved ``.info.json``: see :func:`fetch_info`) at
    ``<path_base>.<ext>``, as (path, downloaded now?). A file already there whose duration is within
    `tolerance` s of `expected` (default end - start) is kept without a request; any other file there
    (a partial one from a killed run) is removed and the section downloaded (:func:`download_media`).
    A download of the wrong length fails ``bad_media`` and is set aside as ``<file>.bad``."""
    expected = float(end - start if expected is None else expected)
    for path in _section_files(path_base):
        if path.name[len(path_base.name):] not in SECTION_EXTS:  # a .part or a per-format piece: not a finished file
            continue
        seconds = _seconds(path)
        if seconds is not None and abs(seconds - expected) <= tolerance:
            return path, False
    for path in _section_files(path_base):
        path.unlink()
    path_base.parent.mkdir(parents=True, exist_ok=True)
    info = fetch_info(source, net)
    if info.get("duration") and start >= info["duration"]:
        raise ItemError("unavailable", f"the video is {info['duration']:g} s long: nothing from {start:g} s")
    path = download_media(info, path_base, True, net, section=(start, end), ffmpeg=ffmpeg)
    seconds = _seconds(path)
    if seconds is None or abs(seconds - expected) > tolerance:
        bad = path.with_name(path.name + ".bad")
        path.replace(bad)
        got = "unreadable" if seconds is None else f"{seconds:.1f} s long"
        raise ItemError("bad_media", f"the downloaded section is {got}, expected {expected:.1f} s (kept as {bad.name})")
    return path, True


# --- one video -----------------------------------------------------------------------------


def _skip_reason(views, duration, min_views, max_duration, listing: bool = False) -> str | None:
    if min_views is not None:
        if views is None and not listing:
            return f"views: unknown (min_views {min_views})"
        if views is not None and views < min_views:
            return f"views: {views} < min_views {min_views}"
    if max_duration is not None and duration is not None and duration > max_duration:
        return f"duration: {duration:.0f} s > max_duration {max_duration:.0f} s"
    return None


def _source_name(info: dict | None, key: str) -> str:
    ie = (info or {}).get("extractor_key") or ("Youtube" if get_info_extractor("Youtube").get_temp_id(key) else "")
    return "youtube" if ie.startswith("Youtube") else "web"


DEFER_ASR = "defer"  # whisper=DEFER_ASR: transcribe later, as an extraction job (see the module docstring)


@dataclasses.dataclass(frozen=True)
class Options:
    """What to collect of a video and how: keep videos with at least ``min_views`` views and at most
    ``max_duration`` s (others are skipped, not failed); ``require_heatmap`` fails a video without
    the most-replayed curve; subtitles in ``languages``; ``need_media`` downloads the video (else only
    the audio when Whisper needs it); ``whisper`` (a Whisper, DEFER_ASR or None) transcribes videos
    without clean subtitles; ``save_info`` keeps the info JSON; ``net`` is the network policy."""

    need_media: bool = False
    min_views: int | None = None
    require_heatmap: bool = False
    max_duration: float | None = None
    languages: tuple[str, ...] = ("en",)
    whisper: object = None
    save_info: bool = True
    net: Net = Net()


def collect_video(source, out_dir: str | os.PathLike, options: Options = Options()) -> Collected:
    """One video (URL, YouTube id, info dict, listing entry or ``.info.json`` path) -> Collected(item, skipped).

    Files go to ``out_dir/<id>/``: ``<id>.info.json`` (when `save_info`), subtitles
    ``<id>.<lang>.<ext>``, ``<id>.<ext>`` (video, when `need_media`) and ``<id>.audio.<ext>``
    (audio for Whisper). `whisper` is an ``extractors.whisper.Whisper`` (anything with
    ``transcribe(path)`` returning its Transcript). Never raises for a bad video: the item comes
    back failed, with the fields known before the problem.
    """
    o, key = options, input_key(source)
    listing = isinstance(source, dict) and source.get("_type") in ("url", "url_transparent")
    if listing and (reason := _skip_reason(source.get("view_count"), source.get("duration"), o.min_views, o.max_duration, True)):
        return Collected(None, reason)
    try:
        if isinstance(source, dict) and not listing:
            info = yt_dlp.YoutubeDL.sanitize_info(dict(source), remove_private_keys=True)
        else:
            info = fetch_info(source["url"] if listing else source, o.net)
    except ItemError as e:
        vid = known_id(source) or f"url-{hashlib.sha1(key.encode()).hexdigest()[:12]}"
        return Collected(RawItem(id=vid, source=_source_name(None, key), url=key, meta={"input": key}).failed(e))

    try:
        if reason := _skip_reason(info.get("view_count"), info.get("duration"), o.min_views, o.max_duration):
            return Collected(None, reason)
        item = _item(info, key)
    except (KeyError, TypeError, ValueError) as e:  # a hand-made or truncated info dict
        vid = known_id(source) or f"url-{hashlib.sha1(key.encode()).hexdigest()[:12]}"
        err = ItemError("bad_metadata", f"malformed info dict ({e.__class__.__name__}: {e})")
        return Collected(RawItem(id=vid, source=_source_name(None, key), url=key, meta={"input": key}).failed(err))
    try:
        _fill(item, info, Path(out_dir) / item.id, o)
    except ItemError as e:
        return Collected(item.failed(e))
    return Collected(item)


def _item(info: dict, key: str) -> RawItem:
    return RawItem(
        id=item_id(info["id"]), source=_source_name(info, key), url=info.get("webpage_url") or info.get("original_url") or key,
        title=info.get("title") or "", description=info.get("description") or "", duration=info.get("duration"),
        views=info.get("view_count"), heatmap=heatmap(info),
        meta={"input": key, "video_id": info["id"], "extractor": info.get("extractor"), "chapters": chapters(info),
              **{k: info[k] for k in ("channel", "channel_id", "upload_date", "language", "tags", "categories",
                                      "like_count", "live_status") if info.get(k) is not None}},
    )


def _fill(item: RawItem, info: dict, folder: Path, o: Options) -> None:
    """Transcript and media of `item`, in place; raises ItemError."""
    need_media, languages, whisper, net = o.need_media, o.languages, o.whisper, o.net
    if o.require_heatmap and not item.heatmap:
        raise ItemError("no_heatmap", "no most-replayed heatmap (YouTube shows it only for videos with enough views)")
    if info.get("live_status") in ("is_live", "is_upcoming"):
        raise ItemError("unavailable", f"a {info['live_status'].replace('_', ' ')} stream: collect it after it ends")
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / item.id
    if o.save_info:
        write_json(folder / f"{item.id}.info.json", info, indent=None, newline=False)
        item.meta["info_json"] = str(folder / f"{item.id}.info.json")

    chosen, unclean, tried = None, None, []
    item.meta["subtitles_tried"] = tried  # filled as tracks are tried, so a failed item shows them too
    for source, key, formats in subtitle_candidates(info, languages):
        path = download_subtitle(info, source, key, formats, base, net)
        try:
            sentences = check_transcript(transcripts.to_sentences(transcripts.parse_file(path)), item.id)
        except transcripts.TranscriptError as e:  # set aside, so that a retry downloads it afresh
            path.replace(path.with_name(path.name + ".bad"))
            raise ItemError("bad_transcript", f"{e} (kept as {path.name}.bad)") from e
        clean, why = transcripts.is_clean(sentences, source, item.duration)
        tried.append({"source": source, "lang": key, "file": str(path), "clean": clean, "why": why})
        found = {"sentences": sentences, "source": source, "lang": key, "clean": clean, "why": why}
        if clean:
            chosen = found
            break
        unclean = unclean or found

    if need_media:
        item.media["video"] = str(download_media(info, base, True, net))
    if chosen is None and whisper is not None:
        if "video" not in item.media:
            item.media["audio"] = str(download_media(info, Path(f"{base}.audio"), False, net))
        why = "; ".join(t["why"] for t in tried) or "no subtitles"
        if isinstance(whisper, str):  # DEFER_ASR
            item.meta["asr_pending"] = {"why": why, "fallback": unclean}
            item.transcript, item.transcript_source = [], None
            return
        heard = whisper.transcribe(item.media.get("video") or item.media["audio"])
        if heard.sentences:
            chosen = _whisper_choice(heard.as_raw_transcript(), heard.language, why, item.id)
            item.meta["whisper"] = whisper.config() if hasattr(whisper, "config") else {}
    chosen = chosen or unclean
    if chosen is None:
        has = "; ".join(t["why"] for t in tried) or f"no subtitles in {', '.join(languages)}"
        raise ItemError("no_transcript", has + ("; Whisper heard no speech" if whisper is not None else "; no Whisper given"))
    _set_transcript(item, chosen)


def _whisper_choice(sentences: list[dict], language, why: str, item_id: str) -> dict:
    return {"sentences": check_transcript(sentences, item_id), "source": "whisper", "lang": language, "clean": True,
            "why": f"Whisper, since: {why}"}


def _set_transcript(item: RawItem, chosen: dict) -> None:
    speech = [s for s in chosen["sentences"] if not transcripts.is_tag(s["text"])]
    item.transcript, item.transcript_source = speech, chosen["source"]
    item.meta["transcript"] = {"lang": chosen["lang"], "clean": chosen["clean"], "why": chosen["why"],
                               "tags_dropped": len(chosen["sentences"]) - len(speech)}


def finish_deferred_asr(item: RawItem, sentences: list[dict], language: str | None, whisper_config: dict) -> RawItem:
    """The item collected with ``whisper=DEFER_ASR``, given what Whisper heard (sentences with
    start, end, text); the same choice as the inline path: Whisper's sentences, else the unclean
    track, else ItemError("no_transcript")."""
    pending = item.meta.pop("asr_pending")
    chosen = None
    if sentences:
        raw = [{"start": s["start"], "end": s["end"], "text": s["text"]} for s in sentences]
        chosen = _whisper_choice(raw, language, pending["why"], item.id)
        item.meta["whisper"] = whisper_config
    chosen = chosen or pending["fallback"]
    if chosen is None:
        raise ItemError("no_transcript", f"{pending['why']}; Whisper heard no speech", item.id)
    _set_transcript(item, chosen)
    return item


def collect(inputs: Iterable, manifest_path: str | os.PathLike, out_dir: str | os.PathLike | None = None,
            options: Options = Options(), *, retry_failed: bool = False, progress: bool = True,
            stop_after_blocked: int | None = 10) -> dict:
    """Collect many videos into manifest.jsonl, resumably (collectors.manifest.collect_all); returns the run's counts.

    `inputs` are anything :func:`collect_video` takes (e.g. :func:`list_videos` entries), each
    collected with `options`. Files go to `out_dir` (default: ``media/`` next to the manifest). After
    `stop_after_blocked` consecutive bot_check / rate_limited failures the run stops (YouTube
    is refusing this client) and says so in ``stopped``.
    Returns ``{ok, already, skipped: {reason: n}, failed: {kind: n}, stopped}``.
    """
    out_dir = Path(out_dir) if out_dir else Path(manifest_path).parent / "media"
    return collect_all(inputs, manifest_path, lambda src: collect_video(src, out_dir, options), key=input_key,
                       known_id=known_id, retry_failed=retry_failed, progress=progress,
                       stop_after_blocked=stop_after_blocked, site="YouTube", unit="video")
