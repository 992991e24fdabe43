"""wikiHow / eHow articles: parsing the fixtures, linking videos both ways, the global instruction,
and fetch_article against a loopback HTTP server (statuses, retries, timeouts)."""

from __future__ import annotations

import http.server
import threading
import time
from pathlib import Path

import pytest

from collectors.articles import (
    ArticleError,
    article_urls_in_description,
    description_steps,
    fetch_article,
    global_instruction,
    link_videos_articles,
    normalize_article_url,
    parser_for,
    youtube_ids_in_description,
)
from collectors.ehow import parse_ehow
from collectors.net import Net
from collectors.records import ItemError
from collectors.wikihow import parse_wikihow

FIXTURES = Path(__file__).parent / "fixtures" / "articles"
WH = "https://www.wikihow.com"


def read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def repot():
    return parse_wikihow(read("wikihow_repot_houseplant.html"), f"{WH}/Repot-a-Houseplant")


@pytest.fixture(scope="module")
def cold_brew():
    return parse_wikihow(read("wikihow_cold_brew_no_video.html"), f"{WH}/Make-Cold-Brew-Coffee")


@pytest.fixture(scope="module")
def lantern():
    return parse_ehow(read("ehow_paper_lantern.html"), "https://www.ehow.com/how_2101234_make-paper-lantern.html")


# --- parsing -------------------------------------------------------------------------------------


def test_wikihow_article_with_sections_images_clip_and_video(repot):
    assert repot["title"] == "How to Repot a Houseplant"
    assert repot["url"] == f"{WH}/Repot-a-Houseplant"
    assert len(repot["steps"]) == 6  # 2 + 2 + 2 steps over three parts; ads inside the <ol> are not steps
    first = repot["steps"][0]["text"]
    assert first.startswith("Pick a pot one size up. Choose a pot about 5 cm (2 in) wider than the old one")
    assert first.endswith("Scrub a used pot with soapy water first.")  # bullets are part of the step
    assert "[1]" not in first and "Research source" not in first  # reference markers removed
    assert "PDF" not in repot["steps"][-1]["text"]  # the download widget is not a step
    images = [s["image"] for s in repot["steps"]]
    assert images[0] == f"{WH}/images/thumb/1/1a/Repot-a-Houseplant-Step-1.jpg/v4-460px-Repot-a-Houseplant-Step-1.jpg"
    assert images[1] == f"{WH}/images/thumb/2/2b/Repot-a-Houseplant-Step-2.jpg/v4-460px-Repot-a-Houseplant-Step-2.jpg"
    assert images[2].endswith(
        "/Repot-a-Houseplant-Step-3.jpg/v4-460px-Repot-a-Houseplant-Step-3.jpg"
    )  # a video step's picture is its poster
    assert all(images)
    clips = [s["clip"] for s in repot["steps"]]
    assert clips == [None, None, f"{WH}/video/4/4a/Repot%20a%20Houseplant%20Step%203.360p.mp4", None, None, None]
    # The embedded video only: the youtu.be link in the references and the related-article
    # preview videos are not the article's video.
    assert repot["youtube_ids"] == ["Xq3vR8tLm0A"]


def test_wikihow_article_without_video(cold_brew):
    assert cold_brew["title"] == "How to Make Cold Brew Coffee"
    assert [s["text"].split(".")[0] for s in cold_brew["steps"]] == [
        "Grind the beans coarsely",
        "Steep for 12 to 18 hours",
        "Strain and dilute",
    ]
    # Lazy-loaded pictures: the real one is in data-src, the logo in src is a placeholder.
    assert cold_brew["steps"][0]["image"] == (
        f"{WH}/images/thumb/3/3c/Make-Cold-Brew-Coffee-Step-1.jpg/aid55-v4-728px-Make-Cold-Brew-Coffee-Step-1.jpg"
    )
    assert cold_brew["steps"][2]["image"] is None
    assert all(s["clip"] is None for s in cold_brew["steps"])
    assert cold_brew["youtube_ids"] == []


def test_ehow_article_with_step_headings_and_embed(lantern):
    assert lantern["title"] == "How to Make a Paper Lantern"
    assert lantern["url"] == "https://www.ehow.com/how_2101234_make-paper-lantern.html"
    texts = [s["text"] for s in lantern["steps"]]
    assert len(texts) == 4  # "Things You'll Need" and "Tips" are not steps; the related <ol> is ignored
    assert texts[0] == "Fold the sheet in half lengthwise and crease it firmly."
    assert (
        texts[1] == "Draw a line 2 cm from the open edges. The slits stop at this line, so the lantern keeps its rim."
    )
    assert texts[2] == "Cut the slits. Cut from the fold to the line every 2 cm."  # words in the heading lead
    assert "Image Credit" not in " ".join(texts)
    assert (
        lantern["steps"][0]["image"]
        == "https://img.ehowcdn.com/750x/cdn.ehow.com/images/a04/ab/cd/make-paper-lantern-step-1.jpg"
    )
    assert lantern["steps"][1]["image"] == "https://www.ehow.com/images/a04/ab/ce/make-paper-lantern-step-2.jpg"
    assert lantern["steps"][3]["image"] is None
    assert all(s["clip"] is None for s in lantern["steps"])
    assert lantern["youtube_ids"] == ["Lp7aN2cKx9E"]


def test_ehow_numbered_list_fallback():
    html = """<html><head><title>x</title></head><body><nav><ol><li>Home</li><li>Crafts</li></ol></nav>
    <article><h1>How to Press Flowers</h1><p>Intro.</p>
    <ol><li><img src="/p1.jpg"> Pick flowers on a dry morning.</li><li>Lay them between sheets of paper.</li>
    <li>Stack heavy books on top for two weeks.</li></ol>
    <iframe data-src="https://www.youtube-nocookie.com/embed/Ab3dEf6hIj0"></iframe></article></body></html>"""
    article = parse_ehow(html, "https://www.ehow.com/13718302/press-flowers")
    assert [s["text"] for s in article["steps"]] == [
        "Pick flowers on a dry morning.",
        "Lay them between sheets of paper.",
        "Stack heavy books on top for two weeks.",
    ]
    assert article["steps"][0]["image"] == "https://www.ehow.com/p1.jpg"
    assert article["youtube_ids"] == ["Ab3dEf6hIj0"]


def test_page_missing_its_steps_raises_article_error():
    url = f"{WH}/Tie-a-Bowline-Knot"
    with pytest.raises(ArticleError) as err:
        parse_wikihow(read("wikihow_no_steps.html"), url)
    assert isinstance(err.value, ValueError)
    assert url in str(err.value) and "steps" in str(err.value)
    with pytest.raises(ArticleError, match="steps"):
        parse_ehow(
            "<html><body><article><h1>How to X</h1><p>No steps here.</p></article></body></html>",
            "https://www.ehow.com/1",
        )
    with pytest.raises(ArticleError, match="title"):
        parse_wikihow("<html><body><p>nothing</p></body></html>", f"{WH}/Empty")


def test_parser_for_picks_the_site():
    assert parser_for(f"{WH}/Repot-a-Houseplant") is parse_wikihow
    assert parser_for("https://m.wikihow.com/Repot-a-Houseplant") is parse_wikihow
    assert parser_for("https://www.ehow.com/how_1_x.html") is parse_ehow
    with pytest.raises(ValueError, match="parser="):
        parser_for("http://127.0.0.1:1/page")


# --- linking -------------------------------------------------------------------------------------


def test_youtube_ids_in_description():
    text = (
        "Full video: https://www.youtube.com/watch?v=Xq3vR8tLm0A&t=10s\n"
        "Short: https://youtu.be/Lp7aN2cKx9E?si=abc, again youtu.be/Lp7aN2cKx9E\n"
        "Shorts https://youtube.com/shorts/Ab3dEf6hIj0 and embed www.youtube.com/embed/Zz1Yy2Xx3Ww.\n"
        "Not a video: https://www.youtube.com/user/WikiHow and https://youtu.be/tooshort"
    )
    assert youtube_ids_in_description(text) == ["Xq3vR8tLm0A", "Lp7aN2cKx9E", "Ab3dEf6hIj0", "Zz1Yy2Xx3Ww"]
    assert youtube_ids_in_description("") == []


def test_article_urls_in_description():
    text = (
        "Read more: https://www.wikihow.com/Repot-a-Houseplant.\n"
        "Mobile: https://m.wikihow.com/Make-Cold-Brew-Coffee?utm_source=youtube\n"
        "See also wikihow.com/Repot-a-Houseplant (same article) and https://www.wikihow.com/Category:Gardening,\n"
        "https://www.wikihow.com/Special:Randomizer, https://www.wikihow.com/Main-Page\n"
        "eHow: http://www.ehow.com/how_2101234_make-paper-lantern.html and https://www.ehow.com/13718302/press-flowers\n"
        "Other: https://www.ehow.com/crafts and https://example.com/Repot-a-Houseplant"
    )
    assert article_urls_in_description(text) == [
        f"{WH}/Repot-a-Houseplant",
        f"{WH}/Make-Cold-Brew-Coffee",
        "https://www.ehow.com/how_2101234_make-paper-lantern.html",
        "https://www.ehow.com/13718302/press-flowers",
    ]


def test_normalize_article_url():
    assert normalize_article_url("http://m.wikihow.com/Fold-a-Shirt%3F/?x=1#Steps") == f"{WH}/Fold-a-Shirt?"
    assert normalize_article_url("wikihow.com/Fold-a-Shirt") == f"{WH}/Fold-a-Shirt"


def test_link_videos_articles_both_ways(repot, cold_brew, lantern):
    videos = [
        {"id": "Xq3vR8tLm0A", "description": "Repot without the mess."},  # embedded by the repot article only
        {
            "id": "Cb9rEw2Coff",
            "description": "Smooth coffee.\nRead more: https://www.wikihow.com/Make-Cold-Brew-Coffee",
        },
        {
            "id": "Lp7aN2cKx9E",
            "description": "Paper lanterns! https://www.ehow.com/how_2101234_make-paper-lantern.html",
        },
        {"id": "Nothing0000", "description": "No links at all."},
    ]
    linked = link_videos_articles(videos, [repot, cold_brew, lantern])
    assert linked["Xq3vR8tLm0A"] is repot  # the article embeds the video
    assert linked["Cb9rEw2Coff"] is cold_brew  # the description links the article
    assert linked["Lp7aN2cKx9E"] is lantern  # both directions
    assert "Nothing0000" not in linked


def test_link_precedence_when_evidence_disagrees(repot, cold_brew):
    reused = dict(cold_brew, youtube_ids=["Xq3vR8tLm0A"])  # another article reuses the repot video
    # The description names its article: it beats an article that only embeds the video.
    described = {"id": "Xq3vR8tLm0A", "description": f"Read more: {WH}/Make-Cold-Brew-Coffee"}
    assert link_videos_articles([described], [repot, cold_brew])["Xq3vR8tLm0A"] is cold_brew
    # Both directions agreeing beats the description's first link.
    two_links = {"id": "Xq3vR8tLm0A", "description": f"{WH}/Repot-a-Houseplant and {WH}/Make-Cold-Brew-Coffee"}
    assert link_videos_articles([two_links], [repot, reused])["Xq3vR8tLm0A"] is repot
    flipped = {"id": "Xq3vR8tLm0A", "description": f"{WH}/Make-Cold-Brew-Coffee and {WH}/Repot-a-Houseplant"}
    assert link_videos_articles([flipped], [repot, reused])["Xq3vR8tLm0A"] is reused
    # Embeds only: the first article in the given order.
    silent = {"id": "Xq3vR8tLm0A", "description": ""}
    assert link_videos_articles([silent], [reused, repot])["Xq3vR8tLm0A"] is reused


# --- global instruction -------------------------------------------------------------------------

DESCRIPTION = """Roots circling the pot? Here is how to move your plant to a bigger one. #plants #howto
0:00 Pick a pot one size up
0:21 Tip the plant out. Loosen the roots!
Read more: https://www.wikihow.com/Repot-a-Houseplant
Subscribe to wikiHow for more videos: https://www.youtube.com/wikihow?sub_confirmation=1
Follow us on Instagram: https://www.instagram.com/wikihow
This #howto video shows every step.
#wikiHow #gardening
"""


def test_global_instruction_prefers_the_article(repot):
    texts, source = global_instruction(repot, DESCRIPTION)
    assert source == "article"
    assert texts == [s["text"] for s in repot["steps"]]


def test_global_instruction_falls_back_to_the_description(repot):
    expected = [
        "Roots circling the pot?",
        "Here is how to move your plant to a bigger one.",
        "Pick a pot one size up",
        "Tip the plant out.",
        "Loosen the roots!",
        "This howto video shows every step.",
    ]
    assert global_instruction(None, DESCRIPTION) == (expected, "description")
    assert global_instruction(dict(repot, steps=[]), DESCRIPTION) == (expected, "description")
    assert description_steps(DESCRIPTION) == expected
    assert global_instruction(None, "") == ([], "description")
    assert global_instruction(None, "https://wikihow.com/X\n#tags #only") == ([], "description")


# --- fetching from a loopback server -------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass

    def do_GET(self):
        hits = self.server.hits
        with self.server.lock:
            hits[self.path] = hits.get(self.path, 0) + 1
            n = hits[self.path]
        route = self.path.split("?")[0]
        if route == "/wiki/Repot-a-Houseplant":
            self._send(200, read("wikihow_repot_houseplant.html"))
        elif route == "/wiki/no-steps":
            self._send(200, read("wikihow_no_steps.html"))
        elif route == "/gone":
            self._send(410, "gone")
        elif route == "/forbidden":
            self._send(403, "no")
        elif route == "/challenge":
            self._send(403, "<html>Just a moment...</html>", {"cf-mitigated": "challenge"})
        elif route == "/flaky":  # rate limited once, then fine
            if n == 1:
                self._send(429, "slow down", {"Retry-After": "0"})
            else:
                self._send(200, read("wikihow_cold_brew_no_video.html"))
        elif route == "/limited":
            self._send(429, "slow down", {"Retry-After": "0"})
        elif route == "/limited-long":
            self._send(429, "come back in an hour", {"Retry-After": "3600"})
        elif route == "/broken":
            self._send(503, "maintenance")
        elif route == "/slow":
            time.sleep(1.0)
            self._send(200, read("wikihow_cold_brew_no_video.html"))
        else:
            self._send(404, "not found")

    def _send(self, status, body, headers=None):
        data = body.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


@pytest.fixture(scope="module")
def server():
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.hits, srv.lock = {}, threading.Lock()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


FAST = Net(timeout=2.0, retries=2, backoff=0.01, sleep=0.0)


def test_fetch_article_parses_a_page(server):
    _, base = server
    article = fetch_article(f"{base}/wiki/Repot-a-Houseplant", parser=parse_wikihow, net=FAST)
    assert article["title"] == "How to Repot a Houseplant"
    assert article["url"] == f"{WH}/Repot-a-Houseplant"  # the canonical link, not the mirror
    assert len(article["steps"]) == 6 and article["youtube_ids"] == ["Xq3vR8tLm0A"]
    # a relative picture resolves against where the page was fetched from
    assert article["steps"][1]["image"].startswith(f"{base}/images/thumb/2/2b/")


@pytest.mark.parametrize(
    "path, kind",
    [("/missing", "unavailable"), ("/gone", "unavailable"), ("/forbidden", "blocked"), ("/challenge", "bot_check")],
)
def test_fetch_article_maps_statuses(server, path, kind):
    srv, base = server
    with pytest.raises(ItemError) as err:
        fetch_article(base + path, parser=parse_wikihow, net=FAST)
    assert err.value.kind == kind and path in err.value.message
    assert srv.hits[path] == 1  # not retried


def test_fetch_article_retries_a_429_then_parses(server):
    srv, base = server
    article = fetch_article(f"{base}/flaky", parser=parse_wikihow, net=FAST)
    assert article["title"] == "How to Make Cold Brew Coffee"
    assert srv.hits["/flaky"] == 2


def test_fetch_article_rate_limited_after_retries(server):
    srv, base = server
    with pytest.raises(ItemError) as err:
        fetch_article(f"{base}/limited", parser=parse_wikihow, net=FAST)
    assert err.value.kind == "rate_limited"
    assert srv.hits["/limited"] == 3  # 1 + retries
    start = time.monotonic()
    with pytest.raises(ItemError, match="Retry-After 3600") as err:
        fetch_article(f"{base}/limited-long", parser=parse_wikihow, net=FAST)
    assert err.value.kind == "rate_limited" and srv.hits["/limited-long"] == 1
    assert time.monotonic() - start < 1.0  # did not wait an hour


def test_fetch_article_server_errors_after_retries(server):
    srv, base = server
    with pytest.raises(ItemError) as err:
        fetch_article(f"{base}/broken", parser=parse_wikihow, net=FAST)
    assert err.value.kind == "error" and "503" in err.value.message
    assert srv.hits["/broken"] == 3


def test_fetch_article_timeout(server):
    srv, base = server
    start = time.monotonic()
    with pytest.raises(ItemError) as err:
        fetch_article(f"{base}/slow", parser=parse_wikihow, net=Net(timeout=0.2, retries=1, backoff=0.01, sleep=0.0))
    assert err.value.kind == "timeout"
    assert srv.hits["/slow"] == 2
    assert time.monotonic() - start < 1.5


def test_fetch_article_page_without_steps_is_no_text(server):
    _, base = server
    with pytest.raises(ItemError) as err:
        fetch_article(f"{base}/wiki/no-steps", parser=parse_wikihow, net=FAST)
    assert err.value.kind == "no_text" and "steps" in err.value.message


def test_fetch_article_is_polite_between_requests(server):
    _, base = server
    url = f"{base}/wiki/Repot-a-Houseplant"
    start = time.monotonic()
    fetch_article(url, parser=parse_wikihow, net=Net(timeout=2.0, retries=0, sleep=0.3))
    fetch_article(url, parser=parse_wikihow, net=Net(timeout=2.0, retries=0, sleep=0.3))
    assert time.monotonic() - start >= 0.29


def test_fetch_article_needs_a_parser_for_unknown_sites(server):
    _, base = server
    with pytest.raises(ValueError, match="parser="):
        fetch_article(f"{base}/wiki/Repot-a-Houseplant", net=FAST)
