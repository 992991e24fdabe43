"""collectors.behance_web: the page parsers on saved-shape pages, and crawls against a loopback
stand-in for behance.net (tests/behance_fixtures.py) where yt-dlp downloads HLS and MP4 for real."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from behance_fixtures import FIXTURES, SECONDS, TRANSCRIPT_A, UUID_A, UUID_B, UUID_C, BehanceServer, make_media
from collectors.behance import read_raw_dir
from collectors.behance_web import (
    CRAWL_MANIFEST,
    SELECTORS,
    CrawlOptions,
    crawl,
    list_livestreams,
    parse_listing,
    parse_livestream_page,
    parse_transcript,
)
from collectors.manifest import latest_items
from collectors.media import video_duration
from collectors.net import Net
from collectors.records import ItemError

HOST = "http://127.0.0.1:9"
PAGE_A = f"{HOST}/videos/{UUID_A}/Inking-a-city-skyline-live"
PAGE_B = f"{HOST}/videos/{UUID_B}/Speech-and-colour-studies"
FAST = CrawlOptions(net=Net(sleep=0, retries=2, timeout=5, backoff=0.05))


def page(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8").replace("http://__SERVER__", HOST)


def state_page(video: dict, head: str = "") -> str:
    return (f"<html><head>{head}</head><body><script type='application/json' id='beconfig-store_state'>"
            f"{json.dumps({'video': {'video': video}})}</script></body></html>")


MINIMAL = {"title": "T", "owners": [{"display_name": "S"}], "coverAnimation": {"url": "/a.gif"}}


# --- parsing ---------------------------------------------------------------------------------


def test_every_selector_says_how_sure_it_is():
    for name, sel in SELECTORS.items():
        assert sel.status in ("seen", "checked", "guessed") and sel.where and sel.evidence, name
    assert SELECTORS["video"].status == "guessed"  # no saved livestream page: the state paths are guesses


def test_listing_links_come_from_cards_and_from_the_page_state():
    urls = parse_listing(page("live.html"), f"{HOST}/live")
    assert urls == [PAGE_A, f"{HOST}/videos/{UUID_C}/Let-s-make-webcomics", PAGE_B]  # page order, each stream once
    # an absolute behance.net link is taken relative to the listing's host (a mirror or this server)


def test_a_listing_without_livestreams_is_a_parse_error_naming_the_selectors():
    with pytest.raises(ItemError) as e:
        parse_listing("<html><a href='/gallery/1/x'>a project</a></html>", f"{HOST}/live")
    assert e.value.kind == "parse_error"
    assert SELECTORS["listing_link"].where in e.value.message and "(seen)" in e.value.message


def test_a_state_page_gives_every_field_from_the_state():
    got = parse_livestream_page(page("livestream_state.html"), PAGE_A)
    assert (got.uuid, got.title, got.streamer) == (UUID_A, "Inking a city skyline, live", "Rosa Ilves")
    assert got.creative_fields == ["Illustration", "Graphic Design"] and got.tools == ["Procreate"]
    assert got.duration == 12.0 and got.description.startswith("Live ink session")
    assert got.cover == f"{HOST}/media/a/cover_808.jpg"  # the largest size of the covers dict
    assert got.cover_animation == f"{HOST}/media/a/animation.gif" and got.video == f"{HOST}/media/a/master.m3u8"
    assert got.transcript == f"{HOST}/media/a/transcript.json"
    assert got.found["title"] == "title" and got.found["video"] == "hls" and got.absent == {}


def test_an_opengraph_page_falls_back_and_lists_what_is_absent():
    got = parse_livestream_page(page("livestream_og.html"), PAGE_B)
    assert (got.title, got.streamer) == ("Speech and colour studies", "Kai Brandt")
    assert got.found["title"] == "og_title" and got.found["cover"] == "og_image"
    assert got.video == f"{HOST}/media/b/replay.mp4" and got.cover_animation == f"{HOST}/media/b/animation.mp4"
    assert got.transcript is None and got.tools == [] and got.description == ""
    assert set(got.absent) == {"description", "tools", "duration", "transcript"}  # recorded, not silently empty
    assert SELECTORS["transcript"].where in got.absent["transcript"]


def test_a_page_that_names_no_stream_gets_the_replay_file_of_its_uuid():
    got = parse_livestream_page(state_page(MINIMAL), PAGE_A)
    assert got.video == SELECTORS["replay_mp4"].where.format(uuid=UUID_A) and got.found["video"] == "replay_mp4"


@pytest.mark.parametrize("html,named", [
    ("<html><body>Sorry, something went wrong</body></html>", ["video.video", "og:title"]),  # no state, no tags
    (state_page({**MINIMAL, "title": 42}), ["'title'", "not a string"]),
    (state_page({k: v for k, v in MINIMAL.items() if k != "coverAnimation"}), ["coverAnimation.url"]),
    (state_page({**MINIMAL, "owners": []}), ["owners[0].display_name", "og:owners"]),
    (state_page({**MINIMAL, "tools": [{"title": "Procreate"}, {"id": 9}]}), ["tools[].title", "1 of 2 entries lack it"]),
    (state_page({**MINIMAL, "duration": "1:02:03"}), ["'duration'", "not a positive number"]),
    ("<script type='application/json' id='beconfig-store_state'>{oops</script>", ["beconfig-store_state", "not JSON"]),
])
def test_a_page_the_selectors_do_not_fit_is_a_parse_error_naming_them(html, named):
    with pytest.raises(ItemError) as e:
        parse_livestream_page(html, PAGE_A)
    assert e.value.kind == "parse_error"
    for text in named:
        assert text in e.value.message


def test_transcripts_json_utterances_and_webvtt():
    sentences = parse_transcript(json.dumps(TRANSCRIPT_A[::-1]).encode(), "t.json")
    assert sentences[0] == {"start": 0.6, "end": 3.0, "text": "Hi everyone, welcome back to the stream."}
    assert [s["start"] for s in sentences] == [0.6, 3.5, 7.2]  # sorted
    vtt = b"WEBVTT\n\n00:00:01.000 --> 00:00:03.500\nWe start with the sky.\n"
    assert parse_transcript(vtt, "t.vtt") == [{"start": 1.0, "end": 3.5, "text": "We start with the sky."}]
    for bad, expected in [(b'{"text": "x"}', "not a list"), (b'[{"display": "x"}]', "utterance 0"),
                          (b"<html>", "neither WebVTT nor JSON"),
                          (b'[{"display": "x", "offset": 5, "duration": -9}]', "ends before it starts")]:
        with pytest.raises(ItemError) as e:
            parse_transcript(bad, "t.json")
        assert e.value.kind == "bad_transcript" and expected in e.value.message


# --- crawling --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = BehanceServer(make_media(tmp_path_factory.mktemp("behance-media")))
    yield s
    s.close()


def test_a_crawl_of_three_livestreams(server, tmp_path):
    """A: rate-limited once, then crawled whole (HLS <= 480p, GIF animation, transcript); B: no
    transcript, waits for Whisper; C: removed, unavailable. A rerun fetches nothing again."""
    urls = list_livestreams(f"{server.base}/live", FAST.net)
    raw = tmp_path / "raw"
    stats = crawl(urls, raw, FAST, progress=False)
    assert (stats["ok"], stats["failed"]) == (2, {"unavailable": 1})
    items = {i.id: i for i in latest_items(raw / CRAWL_MANIFEST).values()}

    a = items[UUID_A]
    assert server.hits[f"/videos/{UUID_A}/Inking-a-city-skyline-live"] == 2  # 429 (Retry-After: 1), then the page
    assert a.ok and a.transcript_source == "provided" and len(a.transcript) == 3 and a.duration == pytest.approx(SECONDS, abs=0.2)
    d = raw / UUID_A
    assert sorted(p.name for p in d.iterdir()) == ["cover.jpg", "metadata.json", "thumbnail.gif", "transcript.json", "video.mp4"]
    assert video_duration(d / "video.mp4") == pytest.approx(SECONDS, abs=0.2)
    assert server.hits["/media/a/lo/seg005.ts"] == 1 and not any(p.startswith("/media/a/hi/seg") for p in server.hits)
    assert server.hits["/media/a/cover_404.jpg"] == 0  # the largest cover was taken
    meta = json.loads((d / "metadata.json").read_text())
    assert meta["streamer"] == "Rosa Ilves" and meta["tools"] == ["Procreate"] and meta["behance"]["found"]["video"] == "hls"

    b = items[UUID_B]
    assert b.ok and b.transcript == [] and "no transcript" in b.meta["asr_pending"]["why"]
    assert sorted(p.name for p in (raw / UUID_B).iterdir()) == ["cover.png", "metadata.json", "thumbnail.mp4", "video.mp4"]
    c = items[UUID_C]
    assert c.error["kind"] == "unavailable" and "404" in c.error["message"] and not (raw / UUID_C).exists()

    read = {i.id: i for i in read_raw_dir(raw).items}  # the raw layout: what --source raw builds
    assert set(read) == {UUID_A, UUID_B}
    assert read[UUID_A].ok and read[UUID_A].meta["clip_annotations"] is None  # unlabelled, not failed
    assert read[UUID_B].error["kind"] == "no_transcript"  # until Whisper writes transcript.json

    hits = sum(server.hits.values())
    again = crawl(urls, raw, FAST, progress=False)
    assert again["already"] == 3 and again["ok"] == 0 and sum(server.hits.values()) == hits


def test_a_stream_that_fails_midway_leaves_no_directory_and_is_crawled_again_on_retry(server, tmp_path):
    uuid = "0a0b0c0d-0e0f-4a1b-8c2d-3e4f5a6b7c8d"
    url = f"{server.base}/videos/{uuid}/Late-replay"
    server.pages[uuid] = state_page({**MINIMAL, "coverAnimation": {"url": "/media/b/animation.mp4"},
                                     "streams": {"mp4": "/media/late/replay.mp4"}}).encode()
    raw = tmp_path / "raw"
    assert crawl([url], raw, FAST, progress=False)["failed"] == {"unavailable": 1}  # the replay is not there yet
    assert not (raw / uuid).exists() and (raw / f".{uuid}.part" / "thumbnail.mp4").exists()
    assert read_raw_dir(raw) == ([], [])  # hidden: never read as a stream
    assert crawl([url], raw, FAST, progress=False)["already"] == 1  # failed, not retried by default

    server.files["late/replay.mp4"] = server.files["b/replay.mp4"]
    assert crawl([url], raw, FAST, progress=False, retry_failed=True)["ok"] == 1
    assert (raw / uuid / "video.mp4").exists() and not (raw / f".{uuid}.part").exists()
    assert [i.status for i in latest_items(raw / CRAWL_MANIFEST).values()] == ["ok"]  # the last record won


def test_a_listing_that_is_gone_is_unavailable(server):
    with pytest.raises(ItemError) as e:
        list_livestreams(f"{server.base}/no-such-listing", FAST.net)
    assert e.value.kind == "unavailable"


def test_a_cover_animation_that_is_not_an_animation_is_bad_thumbnail(server, tmp_path):
    uuid = "1a1b1c1d-1e1f-4a1b-8c2d-3e4f5a6b7c8d"
    server.pages[uuid] = state_page({**MINIMAL, "coverAnimation": {"url": "/media/a/transcript.json"}}).encode()
    crawl([f"{server.base}/videos/{uuid}/x"], tmp_path, FAST, progress=False)
    (item,) = latest_items(Path(tmp_path) / CRAWL_MANIFEST).values()
    assert item.error["kind"] == "bad_thumbnail" and "not a GIF, MP4 or WebP" in item.error["message"]
    assert item.title == "T" and item.meta["streamer"] == "S"  # what was known before the problem is kept
