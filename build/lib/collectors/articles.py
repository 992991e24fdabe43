"""Instruction articles (wikiHow, eHow): fetching, video <-> article linking, the global instruction.

HierSum (sec. 4.2) pairs each instructional video with the article it was made from and uses the
article's steps as the video's global instruction, or the YouTube description when there is no
article. The site parsers live in `collectors.wikihow` and `collectors.ehow`, on the `Article`
record and cleaning helpers of `collectors.article_html`; this module sits above them: a polite
fetcher whose failures are `ItemError`s of known kinds, the parser for each site, and the linking
in both directions (the article embeds the video; the video's description links the article).
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from collectors.article_html import YOUTUBE_URL, Article, ArticleError, clean_text, normalize_article_url, unique
from collectors.ehow import parse_ehow
from collectors.net import USER_AGENT, Net, fetch
from collectors.records import ItemError
from collectors.wikihow import parse_wikihow

# ---------------------------------------------------------------------------------------------
# Fetching

ARTICLE_NET = Net(timeout=20.0, backoff=1.0)  # pages answer faster than yt-dlp's requests


def fetch_html(
    url: str,
    net: Net = ARTICLE_NET,
    *,
    max_wait: float = 60.0,
    session: urllib.request.OpenerDirector | None = None,
    user_agent: str = USER_AGENT,
) -> tuple[str, str]:
    """GET a page politely (collectors.net.fetch: pacing, retries, Retry-After, failure kinds);
    returns ``(html, final_url)`` (after redirects). Raises ItemError as :func:`collectors.net.fetch`."""
    got = fetch(url, net, max_wait=max_wait, session=session, user_agent=user_agent, accept="text/html,*/*;q=0.5")
    return got.text(), got.url


def parser_for(url: str) -> Callable[[str, str], Article]:
    """The site parser for an article URL (wikihow.com or ehow.com); ValueError otherwise."""
    host = urlsplit(url).hostname or ""
    if host == "wikihow.com" or host.endswith(".wikihow.com"):
        return parse_wikihow
    if host == "ehow.com" or host.endswith(".ehow.com"):
        return parse_ehow
    raise ValueError(f"no article parser for {url!r}: pass parser= (known sites: wikihow.com, ehow.com)")


def fetch_article(
    url: str,
    *,
    parser: Callable[[str, str], Article] | None = None,
    net: Net = ARTICLE_NET,
    max_wait: float = 60.0,
    session: urllib.request.OpenerDirector | None = None,
    user_agent: str = USER_AGENT,
) -> Article:
    """Fetch and parse one article; every failure is an ItemError of a known kind.

    `parser` defaults to the one for the URL's site (`parser_for`); pass one for mirrors or a
    local server. HTTP failures map as in `fetch_html`; a page without steps (ArticleError)
    becomes ItemError("no_text") naming the page and what is missing.
    """
    parse = parser or parser_for(url)
    html, final_url = fetch_html(url, net, max_wait=max_wait, session=session, user_agent=user_agent)
    try:
        return parse(html, final_url)
    except ArticleError as e:
        raise ItemError("no_text", str(e)) from None


# ---------------------------------------------------------------------------------------------
# Linking videos and articles, both ways

_ARTICLE_URL = re.compile(
    r"(?:https?://)?(?:www\.|m\.)?"
    r"(?:(?P<wikihow>wikihow\.com)/(?P<title>[^\s/?#<>\"')\]]+)"
    r"|(?P<ehow>ehow\.com)/(?P<path>(?:[a-z-]+_\d+_[^\s/?#<>\"')\]]+\.html|\d{5,}/[^\s/?#<>\"')\]]+)))",
    re.IGNORECASE,
)
# wikiHow paths that are pages of the site, not articles.
_WIKIHOW_NOT_ARTICLES = {"main-page", "index.php", "api.php", "video", "images", "forum", "author", "quizzes", "games"}


def youtube_ids_in_description(text: str) -> list[str]:
    """YouTube video ids linked in a text (watch, youtu.be, embed, shorts, live), first-seen order."""
    return unique(m.group(1) for m in YOUTUBE_URL.finditer(text or ""))


def article_urls_in_description(text: str) -> list[str]:
    """wikiHow / eHow article URLs in a text, normalized (normalize_article_url), first-seen order.

    wikiHow articles are one path segment without a namespace (``Special:``, ``Category:``...);
    eHow articles are ``/how_123_slug.html``-style or ``/12345678/slug`` pages.
    """
    found = []
    for m in _ARTICLE_URL.finditer(text or ""):
        if m.group("wikihow"):
            title = m.group("title").rstrip(".,;:!")
            if not title or ":" in title or title.lower() in _WIKIHOW_NOT_ARTICLES:
                continue
            found.append(normalize_article_url(f"https://www.wikihow.com/{title}"))
        else:
            found.append(normalize_article_url(f"https://www.ehow.com/{m.group('path').rstrip('.,;!')}"))
    return unique(found)


def link_videos_articles(videos: Iterable[dict], articles: Iterable[Article]) -> dict[str, Article]:
    """Pair videos (``{id, description}``) with articles, using both directions of links.

    Evidence: the article embeds the video (``youtube_ids``), and the video's description links
    the article's URL. Precedence when they disagree, strongest first:

    1. both directions agree: an article the description links that also embeds the video;
    2. the description's first linked article among those given: a video is made for one
       article and its uploader names it ("Read more: ..."), while sites reuse one video
       on several related articles, so an embed alone is the weaker evidence;
    3. the first article (in the given order) that embeds the video.

    Videos with no evidence are left out of the result.
    """
    articles = list(articles)
    by_url = {}
    for a in articles:
        by_url.setdefault(normalize_article_url(a["url"]), a)
    embedders: dict[str, list[Article]] = {}
    for a in articles:
        for vid in a.get("youtube_ids", []):
            embedders.setdefault(vid, []).append(a)

    linked = {}
    for video in videos:
        vid = video["id"]
        described = [by_url[u] for u in article_urls_in_description(video.get("description") or "") if u in by_url]
        embedding = embedders.get(vid, [])
        both = [a for a in described if any(a is e for e in embedding)]
        choice = (both or described or embedding or [None])[0]
        if choice is not None:
            linked[vid] = choice
    return linked


# ---------------------------------------------------------------------------------------------
# Global instruction

_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|be|co|ly|org|net)/\S*", re.IGNORECASE)
_TIMESTAMP = re.compile(r"^\(?\d{1,2}(?::\d{2}){1,2}\)?\s*[-–—:|.]?\s*")
_EDGE_HASHTAGS = re.compile(r"^(?:\s*#\w+)+|(?:\s*#\w+)+\s*$")
_BOILERPLATE = re.compile(
    r"subscribe"
    r"|^(?:follow (?:us|me|our)|(?:like|share)\s+(?:and|this|the video|us|our)|read more|learn more|watch more|"
    r"see more|get more|for more (?:info|information|videos|tips|how|details)|visit (?:us|our|my)|"
    r"check out (?:our|my|the full|more)|music\s*(?::|by)|credits?\s*:|copyright|©|all rights reserved)"
    r"|\b(?:facebook|twitter|instagram|tiktok|pinterest|patreon)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“'(A-Z0-9])")


def description_steps(description: str) -> list[str]:
    """A YouTube description as a list of instruction sentences.

    Rule, per line: drop URLs; drop a leading chapter timestamp (``0:45 Fold...`` keeps
    ``Fold...``); drop hashtags at either end of the line and the ``#`` of inline ones
    (``#howto`` often stands for words in the sentence); then drop the line if it is boilerplate
    (mentions "subscribe"; starts with a promotion such as "follow us", "like and...", "read more",
    "learn more", "watch more", "visit our", "check out our", "music by", "credits:", "copyright";
    names a social network) or has no letters left. Remaining lines are split into sentences.
    """
    sentences = []
    for line in (description or "").splitlines():
        line = _URL.sub(" ", line)
        line = _TIMESTAMP.sub("", line.strip())
        line = _EDGE_HASHTAGS.sub("", line)
        line = re.sub(r"#(\w+)", r"\1", line)
        line = clean_text(line).strip(" -–—|:•*")
        if not re.search(r"[^\W\d_]", line) or _BOILERPLATE.search(line):
            continue
        sentences.extend(s for s in (clean_text(s) for s in _SENTENCE_END.split(line)) if s)
    return sentences


def global_instruction(article: Article | None, description: str) -> tuple[list[str], str]:
    """The video's global instruction: ``(texts, source)``.

    The article's step texts (source "article") when it has any; otherwise the YouTube
    description split by `description_steps` (source "description"), possibly empty.
    """
    if article:
        texts = [s["text"] for s in article.get("steps", []) if s.get("text")]
        if texts:
            return texts, "article"
    return description_steps(description), "description"
