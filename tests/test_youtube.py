"""The YouTube collector offline: a loopback HTTP server stands in for YouTube, yt-dlp downloads from it for real.

YouTube-only fields (heatmap, chapters, subtitle tracks) come from a saved info file shaped like
real YouTube info (tests/fixtures/youtube), whose subtitle and format URLs point at the server.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import ClassVar

import av
import numpy as np
import pytest
import yt_dlp
from yt_dlp.extractor.common import InfoExtractor
from yt_dlp.utils import DownloadError, ExtractorError

from collectors.net import Net
from collectors.records import RawItem, read_manifest
from collectors.synthetic import index_frame, write_video
from collectors.youtube import (
    Options,
    collect,
    collect_video,
    error_kind,
    fetch_info,
    item_id,
    latest_items,
    list_videos,
    load_info,
    subtitle_candidates,
)
from tests.loopback import LoopbackServer

FIXTURES = Path(__file__).parent / "fixtures"
SUBS = FIXTURES / "subtitles"
INFO = FIXTURES / "youtube" / "paper_airplane.info.json"
JFK = Path(__file__).resolve().parents[2] / "shared/data/speech/jfk.flac"
needs_jfk = pytest.mark.skipif(not JFK.exists(), reason=f"{JFK} absent (the ../shared/data folder is not here)")
NET = Net(sleep=0, retries=1, timeout=1.0, backoff=0.05)  # fast, still bounded retries
FAST = Options(net=NET)
PHRASE = "ask not what your country"
TYPES = {".mp4": "video/mp4", ".json3": "application/json", ".vtt": "text/vtt", ".srt": "application/x-subrip", ".html": "text/html"}


class Server(LoopbackServer):
    """Loopback HTTP: /media/<file>, /subs/<fixture>, /404/..., /429/... (Retry-After: 1), /once429/<route>
    (429 on the first request, then the route), /slow/... (3 s, past the 1 s timeout), /toggle/<route> (404 while down)."""

    def __init__(self, files: dict[str, bytes]):
        self.down, self.seen = True, set()
        super().__init__(files)

    def route(self, h, path):
        if path.startswith("/once429/") and path not in self.seen:
            self.seen.add(path)
            return self.send(h, 429, b"", {"Retry-After": "0"})
        if path.startswith(("/once429/", "/toggle/")) and not (path.startswith("/toggle/") and self.down):
            return self.route(h, "/" + path.split("/", 2)[2])
        if path.startswith("/429/"):
            return self.send(h, 429, b"Too Many Requests", {"Retry-After": "1"})
        if path.startswith("/slow/"):
            time.sleep(3)
            return self.send(h, 200, b"late")
        name = path.split("/", 2)[-1]
        if path.startswith("/media/") and name in self.files:
            return self.send(h, 200, self.files[name], {"Content-Type": TYPES.get(Path(name).suffix, "")})
        if path.startswith("/page/") and name.endswith(".html"):
            page = f'<html><head><title>{name}</title></head><body><video controls><source src="/media/{name[:-5]}.mp4" ' \
                   f'type="video/mp4"></video></body></html>'
            return self.send(h, 200, page.encode(), {"Content-Type": "text/html"})
        if path.startswith("/subs/") and (SUBS / name).is_file():
            return self.send(h, 200, (SUBS / name).read_bytes(), {"Content-Type": TYPES.get(Path(name).suffix, "")})
        return self.send(h, 404, b"Not Found")


def jfk_samples() -> np.ndarray:
    resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
    with av.open(str(JFK)) as c:
        chunks = [f.to_ndarray() for frame in c.decode(audio=0) for f in resampler.resample(frame)]
    chunks += [f.to_ndarray() for f in resampler.resample(None)]
    return np.concatenate(chunks, axis=1).reshape(-1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("served")
    clip = write_video(d / "clip.mp4", (index_frame(i) for i in range(20)), fps=10, audio=np.zeros(32000, np.float32))
    files = {"clip.mp4": clip.read_bytes()}
    if JFK.exists():
        files["jfk.mp4"] = write_video(d / "jfk.mp4", (index_frame(i) for i in range(44)), fps=4, audio=jfk_samples(),
                                       sample_rate=16000).read_bytes()
    s = Server(files)
    yield s
    s.close()


@pytest.fixture(scope="module")
def whisper():
    pytest.importorskip("faster_whisper")
    from extractors.whisper import Whisper

    return Whisper()


def make_info(server, tmp_path, vid="Xq3Ok-Hn0aE", **changes) -> Path:
    """The fixture info with URLs on the server, a new id, and top-level fields changed (None deletes)."""
    info = json.loads(INFO.read_text().replace("http://__SERVER__", server.base))
    info.update(id=vid, display_id=vid, webpage_url=f"https://www.youtube.com/watch?v={vid}")
    for k, v in changes.items():
        if v is None:
            info.pop(k, None)
        else:
            info[k] = v
    path = tmp_path / f"{vid}.info.json"
    path.write_text(json.dumps(info))
    return path


def sub_track(server, *names):
    return [{"ext": n.rsplit(".", 1)[1], "url": f"{server.base}/{n}?fmt={n.rsplit('.', 1)[1]}", "name": "English"} for n in names]


# --- info ------------------------------------------------------------------------------------


def test_saved_info_loads_as_yt_dlp_load_info_json_does(server, tmp_path):
    path = make_info(server, tmp_path)
    info = load_info(path)
    expected = yt_dlp.YoutubeDL.sanitize_info(json.loads(path.read_text()), remove_private_keys=True)
    assert info == expected and "requested_subtitles" not in info  # clean_infojson dropped the None / private keys
    assert fetch_info(str(path)) == info


def test_heatmap_chapters_fields_and_manual_subtitles(server, tmp_path):
    item, skipped = collect_video(make_info(server, tmp_path), tmp_path / "out", FAST)
    assert skipped is None and item.ok, item.error
    assert (item.id, item.source, item.url) == ("Xq3Ok-Hn0aE", "youtube", "https://www.youtube.com/watch?v=Xq3Ok-Hn0aE")
    assert item.title == "How to Make a Paper Airplane" and item.views == 1283645 and item.duration == 17
    assert len(item.heatmap) == 100 and item.heatmap[0] == {"start": 0.0, "end": 0.17, "value": 0.2502}
    assert item.heatmap[35]["value"] == 1.0 and item.heatmap[-1]["end"] == 17.0
    assert item.meta["chapters"][1] == {"start": 7.0, "end": 14.0, "title": "Folding"}
    assert item.meta["channel"] == "wikiHow" and item.meta["upload_date"] == "20190314"
    # manual English wins over automatic captions; json3 is the format taken
    assert item.transcript_source == "manual" and item.meta["transcript"]["lang"] == "en"
    assert [s["text"] for s in item.transcript] == ["Hi, I'm Sarah from wikiHow.", "Today we're going to fold a paper airplane.",
                                                   "First, take a sheet of paper.", "Fold it in half, lengthwise."]
    assert item.meta["transcript"]["tags_dropped"] == 1  # [Music]
    assert Path(item.meta["subtitles_tried"][0]["file"]).name == "Xq3Ok-Hn0aE.en.json3"
    assert server.hits["/subs/manual.en.json3"] >= 1 and not item.media
    assert load_info(item.meta["info_json"])["id"] == "Xq3Ok-Hn0aE"


def test_auto_captions_prefer_en_orig_and_unclean_ones_are_kept_without_whisper(server, tmp_path):
    item, _ = collect_video(make_info(server, tmp_path, vid="autoOnly001", subtitles={}), tmp_path / "out", FAST)
    assert item.ok and item.transcript_source == "auto"
    assert item.meta["transcript"]["lang"] == "en-orig" and item.meta["transcript"]["clean"] is False
    assert "without punctuation" in item.meta["transcript"]["why"]
    assert item.transcript == [{"start": 0.16, "end": 5.03, "text": "so today we're going to show you how to fold a paper airplane"},
                               {"start": 6.8, "end": 9.12, "text": "first take a sheet of paper"}]
    assert server.hits["/404/auto.en.json3"] == 0  # the plain "en" track was never needed


@pytest.mark.parametrize("offered,taken", [(["manual.en.srt", "manual.en.vtt"], ".vtt"), (["manual.en.srt"], ".srt"),
                                           (["manual.en.vtt", "manual.en.json3"], ".json3")])
def test_subtitle_format_preference(server, tmp_path, offered, taken):
    subs = {"en": sub_track(server, *(f"subs/{n}" for n in offered)) + [{"ext": "ttml", "url": f"{server.base}/404/x.ttml"}]}
    item, _ = collect_video(make_info(server, tmp_path, vid=f"fmt{taken[1:]}", subtitles=subs), tmp_path / "out", FAST)
    assert item.ok and Path(item.meta["subtitles_tried"][0]["file"]).suffix == taken
    assert item.transcript[0]["text"] == "Hi, I'm Sarah from wikiHow."


def test_subtitle_candidates_order():
    f = [{"ext": "json3", "url": "u"}]
    info = {"language": "en", "subtitles": {"en-GB": f, "live_chat": [{"ext": "json", "url": "u"}], "en": f, "de": f},
            "automatic_captions": {"en": f, "en-orig": f, "fr": f, "de": [{"ext": "ttml", "url": "u"}]}}
    assert [(s, k) for s, k, _ in subtitle_candidates(info, ("en", "de"))] == [
        ("manual", "en"), ("manual", "en-GB"), ("manual", "de"), ("auto", "en-orig")]
    # a German video: its English automatic track is a machine translation, never taken
    german = {"language": "de", "automatic_captions": {"en": f, "de-orig": f}}
    assert subtitle_candidates(german, ("en",)) == []
    assert [k for _, k, _ in subtitle_candidates(german, ("en", "de"))] == ["de-orig"]
    assert [k for _, k, _ in subtitle_candidates({"automatic_captions": {"en": f}}, ("en",))] == ["en"]  # language unknown


# --- filters and requirements ----------------------------------------------------------------


def test_min_views_and_max_duration_skip(server, tmp_path):
    path = make_info(server, tmp_path)
    assert collect_video(path, tmp_path / "out", Options(min_views=2_000_000, net=NET)) == (None, "views: 1283645 < min_views 2000000")
    assert collect_video(path, tmp_path / "out", Options(max_duration=10, net=NET)) == (None, "duration: 17 s > max_duration 10 s")
    unknown = make_info(server, tmp_path, vid="noViews0001", view_count=None)
    assert collect_video(unknown, tmp_path / "out", Options(min_views=1, net=NET)).skipped == "views: unknown (min_views 1)"
    assert not (tmp_path / "out").exists()  # nothing downloaded for a skipped video


def test_require_heatmap(server, tmp_path):
    item, _ = collect_video(make_info(server, tmp_path, vid="noHeatmap01", heatmap=None), tmp_path / "out",
                            Options(require_heatmap=True, net=NET))
    assert item.status == "failed" and item.error["kind"] == "no_heatmap"
    assert item.title and item.views == 1283645 and item.heatmap == []  # what was known is kept
    assert collect_video(make_info(server, tmp_path), tmp_path / "out", Options(require_heatmap=True, net=NET)).item.ok


def test_listing_entries_are_filtered_before_any_request(tmp_path):
    entries = list_videos(str(FIXTURES / "youtube" / "wikihow_videos.flat.json"))
    assert [(e["id"], e.get("view_count"), e.get("duration")) for e in entries] == [
        ("Xq3Ok-Hn0aE", 1283645, 17.0), ("b5nMIYq0Yr8", 48211, 125.0), ("-3kPq9aZt1U", 230114, 1820.0)]
    assert all(e["url"].startswith("https://www.youtube.com/watch?v=") and e["title"] for e in entries)
    # the two entries outside the filters never reach youtube.com (the test has no network)
    stats = collect(entries[1:], tmp_path / "manifest.jsonl", options=Options(min_views=50_000, max_duration=600, net=NET), progress=False)
    assert stats == {"ok": 0, "already": 0, "skipped": {"views": 1, "duration": 1}, "failed": {}, "stopped": None}
    assert list_videos(str(FIXTURES / "youtube" / "wikihow_videos.flat.json"), limit=1)[0]["id"] == "Xq3Ok-Hn0aE"


def test_a_malformed_info_dict_is_bad_metadata(server, tmp_path):
    info = json.loads(make_info(server, tmp_path).read_text())
    info["heatmap"] = [{"value": 1.0}]  # no start_time / end_time
    item, _ = collect_video(info, tmp_path / "out", FAST)
    assert item.id == "Xq3Ok-Hn0aE" and item.error["kind"] == "bad_metadata" and "start_time" in item.error["message"]
    item, _ = collect_video(str(tmp_path / "missing.info.json"), tmp_path / "out", FAST)
    assert item.error["kind"] == "bad_metadata" and "cannot read the info JSON" in item.error["message"]


def test_unsafe_youtube_ids_become_safe_item_ids():
    assert item_id("Xq3Ok-Hn0aE") == "Xq3Ok-Hn0aE"
    safe = item_id("-3kPq9aZt1U")
    assert safe.startswith("3kPq9aZt1U-") and safe == item_id("-3kPq9aZt1U") and safe != item_id("_3kPq9aZt1U")


# --- transcripts: malformed, Whisper -----------------------------------------------------------


def test_malformed_vtt_is_bad_transcript(server, tmp_path):
    subs = {"en": sub_track(server, "subs/bad_timestamp.vtt")}
    item, _ = collect_video(make_info(server, tmp_path, vid="badVtt00001", subtitles=subs), tmp_path / "out", FAST)
    assert item.error["kind"] == "bad_transcript" and "bad_timestamp" not in item.error["message"]
    assert ":6: bad timestamp '00:00:02,000'" in item.error["message"]
    assert (tmp_path / "out" / "badVtt00001" / "badVtt00001.en.vtt.bad").is_file()  # set aside: a retry downloads afresh


def test_no_subtitles_and_no_whisper_is_no_transcript(server, tmp_path):
    info = make_info(server, tmp_path, vid="noSubs00001", subtitles={}, automatic_captions={})
    item, _ = collect_video(info, tmp_path / "out", FAST)
    assert item.error == {"kind": "no_transcript", "message": "no subtitles in en; no Whisper given"}


@needs_jfk
def test_whisper_when_the_subtitles_are_not_clean(server, tmp_path, whisper):
    formats = json.loads(make_info(server, tmp_path).read_text())["formats"]
    for f in formats:
        f["url"] = f["url"].replace("/media/clip.mp4", "/media/jfk.mp4")
    path = make_info(server, tmp_path, vid="jfkSpeech01", subtitles={}, formats=formats, duration=11)
    item, _ = collect_video(path, tmp_path / "out", Options(whisper=whisper, net=NET))
    assert item.ok and item.transcript_source == "whisper", item.error
    assert PHRASE in " ".join(s["text"] for s in item.transcript).lower()
    assert Path(item.media["audio"]).name == "jfkSpeech01.audio.m4a"  # format 139, the small audio
    assert item.meta["subtitles_tried"][0]["lang"] == "en-orig" and not item.meta["subtitles_tried"][0]["clean"]
    assert item.meta["whisper"]["model"] == "tiny.en" and item.meta["transcript"]["lang"] == "en"


@needs_jfk
def test_generic_extractor_downloads_a_direct_media_url(server, tmp_path, whisper):
    url = f"{server.base}/media/jfk.mp4"
    item, _ = collect_video(url, tmp_path / "out", Options(need_media=True, whisper=whisper, net=NET))
    assert item.ok and item.source == "web" and item.id == "jfk" and item.meta["extractor"] == "generic", item.error
    assert Path(item.media["video"]).read_bytes() == server.files["jfk.mp4"]
    assert item.transcript_source == "whisper" and PHRASE in " ".join(s["text"] for s in item.transcript).lower()


def test_generic_extractor_finds_the_video_in_a_page(server):
    info = fetch_info(f"{server.base}/page/clip.html", NET)
    assert [f["url"] for f in info["formats"]] == [f"{server.base}/media/clip.mp4"]


# --- network failures --------------------------------------------------------------------------


def test_404_is_unavailable(server, tmp_path):
    item, _ = collect_video(f"{server.base}/404/gone.mp4", tmp_path / "out", FAST)
    assert item.error["kind"] == "unavailable" and "HTTP Error 404" in item.error["message"]
    assert item.meta["input"] == f"{server.base}/404/gone.mp4" and item.id.startswith("url-")


def test_429_is_retried_then_rate_limited(server, tmp_path):
    t0 = time.perf_counter()
    item, _ = collect_video(f"{server.base}/429/busy.mp4", tmp_path / "out", FAST)
    assert item.error["kind"] == "rate_limited" and "(after 2 attempts)" in item.error["message"]
    assert server.hits["/429/busy.mp4"] == 2 and time.perf_counter() - t0 >= 1.0  # Retry-After: 1 was honoured


def test_a_429_on_subtitles_is_retried_and_succeeds(server, tmp_path):
    subs = {"en": sub_track(server, "once429/subs/manual.en.json3")}
    item, _ = collect_video(make_info(server, tmp_path, vid="flaky429001", subtitles=subs), tmp_path / "out", FAST)
    assert item.ok and item.transcript_source == "manual"
    assert server.hits["/once429/subs/manual.en.json3"] == 2


def test_a_404_subtitle_fails_the_item(server, tmp_path):
    subs = {"en": sub_track(server, "404/manual.en.json3")}
    item, _ = collect_video(make_info(server, tmp_path, vid="sub404aaaaa", subtitles=subs), tmp_path / "out", FAST)
    assert item.error["kind"] == "unavailable" and "subtitles 'en'" in item.error["message"]


def test_a_slow_server_is_timeout(server, tmp_path):
    t0 = time.perf_counter()
    item, _ = collect_video(f"{server.base}/slow/late.mp4", tmp_path / "out", FAST)
    assert item.error["kind"] == "timeout" and server.hits["/slow/late.mp4"] == 2
    assert time.perf_counter() - t0 < 6


class FailingIE(InfoExtractor):
    """Raises what YouTube's extractor raises, so yt-dlp wraps it exactly as in a real run."""

    _VALID_URL = r"failing:(?P<id>\w+)"
    MESSAGES: ClassVar[dict[str, str]] = {
        "private": "Private video. Sign in if you've been granted access to this video. Use --cookies-from-browser or "
                   "--cookies for the authentication. See  https://github.com/yt-dlp/yt-dlp/wiki/FAQ#how-do-i-pass-cookies-to-yt-dlp"
                   "  for how to manually pass cookies",
        "removed": "Video unavailable. This video has been removed by the uploader",
        "policy": "This video has been removed for violating YouTube's policy on hate speech.",
        "terminated": "Video unavailable. This video is no longer available because the YouTube account associated with "
                      "this video has been terminated.",
        "age": "Sign in to confirm your age. This video may be inappropriate for some users. Use --cookies-from-browser "
               "or --cookies for the authentication.",
        "bot": "Sign in to confirm you’re not a bot. Use --cookies-from-browser or --cookies for the authentication.",
        "botascii": "Sign in to confirm you're not a bot. This helps protect our community.",
        "session": "This content isn't available, try again later. The current session has been rate-limited by YouTube "
                   "for up to an hour.",
        "members": "Join this channel to get access to members-only content like this video, and other exclusive perks.",
        "blocked": "All player responses are invalid. Your IP is likely being blocked by Youtube",
        "formats": "Requested format is not available. Use --list-formats for a list of available formats",
        "other": "Unable to extract yt initial data; please report this issue on  https://github.com/yt-dlp/yt-dlp/issues",
    }

    def _real_extract(self, url):
        vid = self._match_id(url)
        if vid == "geo":
            self.raise_geo_restricted("The uploader has not made this video available in your country", countries=["US"])
        raise ExtractorError(self.MESSAGES[vid], expected=True, video_id=vid)


@pytest.mark.parametrize("case,kind", [
    ("private", "private"), ("removed", "unavailable"), ("policy", "unavailable"), ("terminated", "unavailable"),
    ("age", "age_restricted"), ("bot", "bot_check"), ("botascii", "bot_check"), ("session", "rate_limited"),
    ("members", "private"), ("geo", "geo_blocked"), ("blocked", "blocked"), ("formats", "bad_media"), ("other", "error")])
def test_error_kind_of_real_yt_dlp_errors(case, kind):
    with yt_dlp.YoutubeDL({"quiet": True, "no_warnings": True, "logger": _Silent()}) as ydl:
        ydl.add_info_extractor(FailingIE())
        with pytest.raises(DownloadError) as e:
            ydl.extract_info(f"failing:{case}", download=False, ie_key="Failing")
    got, message = error_kind(e.value)
    assert got == kind and message.startswith(f"[Failing] {case}: ")
    assert error_kind(e.value.exc_info[1])[0] == kind  # the ExtractorError itself maps the same


class _Silent:
    def debug(self, msg):
        pass

    info = warning = error = debug


# --- collect: resumable manifest ---------------------------------------------------------------


def test_collect_records_failures_resumes_and_retries(server, tmp_path):
    manifest = tmp_path / "manifest.jsonl"
    toggled = {"en": sub_track(server, "toggle/subs/manual.en.json3")}
    inputs = [
        str(make_info(server, tmp_path)),                                            # ok, manual subtitles
        str(make_info(server, tmp_path, vid="autoOnly002", subtitles={})),          # ok, automatic captions
        str(make_info(server, tmp_path, vid="noHeatmap02", heatmap=None)),          # no_heatmap
        str(make_info(server, tmp_path, vid="badVtt00002", subtitles={"en": sub_track(server, "subs/bad_timestamp.vtt")})),
        str(make_info(server, tmp_path, vid="toggled0001", subtitles=toggled)),     # 404 now, served later
        f"{server.base}/404/missing.mp4",
        str(make_info(server, tmp_path, vid="fewViews001", view_count=10)),         # skipped
    ]
    stats = collect(inputs, manifest, options=Options(require_heatmap=True, min_views=1000, net=NET), progress=False)
    assert stats == {"ok": 2, "already": 0, "skipped": {"views": 1}, "failed": {"no_heatmap": 1, "bad_transcript": 1,
                                                                                  "unavailable": 2}, "stopped": None}
    items = list(read_manifest(manifest))
    assert [i.id for i in items if i.ok] == ["Xq3Ok-Hn0aE", "autoOnly002"]
    assert {i.id: i.error["kind"] for i in items if not i.ok} == {
        "noHeatmap02": "no_heatmap", "badVtt00002": "bad_transcript", "toggled0001": "unavailable",
        items[-1].id: "unavailable"}
    assert (tmp_path / "media" / "Xq3Ok-Hn0aE" / "Xq3Ok-Hn0aE.en.json3").is_file()  # media/ next to the manifest

    # a rerun does nothing: no request, no new line (a line torn by a crash is dropped first)
    with open(manifest, "a") as f:
        f.write('{"id": "torn", "sour')
    hits = sum(server.hits.values())
    again = collect(inputs, manifest, options=Options(require_heatmap=True, min_views=1000, net=NET), progress=False)
    assert again == {"ok": 0, "already": 6, "skipped": {"views": 1}, "failed": {}, "stopped": None}
    assert sum(server.hits.values()) == hits and len(list(read_manifest(manifest))) == 6

    # --retry-failed: the failed ones run again; the toggled one now succeeds and replaces its record
    server.down = False
    retried = collect(inputs, manifest, options=Options(require_heatmap=True, min_views=1000, net=NET), retry_failed=True, progress=False)
    assert retried["ok"] == 1 and retried["already"] == 2 and sum(retried["failed"].values()) == 3
    final = latest_items(manifest)
    assert len(list(read_manifest(manifest))) == 6  # rewritten: one record per input
    assert final[inputs[4]].ok and final[inputs[4]].transcript_source == "manual"
    assert not final[inputs[3]].ok and final[inputs[3]].error["kind"] == "bad_transcript"


def test_collect_stops_when_youtube_keeps_refusing(server, tmp_path, capsys):
    urls = [f"{server.base}/429/refuse{i}.mp4" for i in range(4)]
    stats = collect(urls, tmp_path / "m.jsonl", options=Options(net=dataclasses.replace(NET, retries=0)), stop_after_blocked=2)  # with the progress bar
    assert stats["failed"] == {"rate_limited": 2} and "2 failures in a row" in stats["stopped"]
    assert [i.error["kind"] for i in read_manifest(tmp_path / "m.jsonl")] == ["rate_limited"] * 2
    assert server.hits["/429/refuse2.mp4"] == 0
    assert "ok=0 skipped=0 failed: rate_limited=2" in capsys.readouterr().err  # tqdm, on stderr


def test_collect_takes_info_dicts_and_skips_a_video_already_done_under_another_input(server, tmp_path):
    manifest = tmp_path / "m.jsonl"
    path = make_info(server, tmp_path, vid="dictInput01")
    assert collect([json.loads(path.read_text())], manifest, options=FAST, progress=False)["ok"] == 1
    stats = collect([str(path)], manifest, options=FAST, progress=False)  # same video, given as a path this time
    assert stats["ok"] == 0 and stats["already"] == 1
    assert [i.id for i in read_manifest(manifest)] == ["dictInput01"]
    assert isinstance(next(read_manifest(manifest)), RawItem)
