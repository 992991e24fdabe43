"""The Article record and the HTML cleaning the site parsers share (collectors.wikihow, collectors.ehow).

The parsers keep their own selectors; these helpers only clean what they find. collectors.articles
(fetching, linking, the global instruction) sits above the parsers and picks one per site.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypedDict
from urllib.parse import unquote, urljoin, urlsplit


class Step(TypedDict):
    text: str
    image: str | None  # absolute URL of the step's picture
    clip: str | None  # absolute URL of the step's own short video (wikiHow whvid), if any


class Article(TypedDict):
    title: str
    steps: list[Step]
    youtube_ids: list[str]  # videos the page embeds (iframes), in page order
    url: str  # canonical URL, see normalize_article_url


class ArticleError(ValueError):
    """A page that parsed but lacks what an article needs (its steps, its title).

    `fetch_article` turns it into ItemError("no_text"): the page is there, its text is not.
    """

    def __init__(self, url: str, missing: str):
        self.url = url
        self.missing = missing
        super().__init__(f"{url}: no {missing} found on the page (the site layout may have changed)")


# ---------------------------------------------------------------------------------------------
# Shared parsing helpers (the site modules keep their selectors; these only clean what they find)

_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?)\]])")
_YOUTUBE_ID = r"([A-Za-z0-9_-]{11})(?![A-Za-z0-9_-])"
YOUTUBE_URL = re.compile(
    r"(?:https?://)?(?:www\.|m\.|music\.)?(?:youtube(?:-nocookie)?\.com/(?:watch\?(?:[^\s#]*&)?v=|embed/|shorts/|live/|v/)"
    r"|youtu\.be/)" + _YOUTUBE_ID
)


def clean_text(text: str) -> str:
    """Collapse whitespace; no space before punctuation (HTML inline tags leave such gaps)."""
    return _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(text.split()))


def node_text(node, drop: str | None = None) -> str:
    """Visible text of a selectolax node, after removing the nodes matching `drop` (in place)."""
    if drop:
        for junk in node.css(drop):
            junk.decompose()
    return clean_text(node.text(separator=" "))


def absolute_url(page_url: str, src: str | None) -> str | None:
    """`src` resolved against the page; None for empty values and inline data: URIs."""
    if not src or not src.strip() or src.strip().startswith("data:"):
        return None
    return urljoin(page_url, src.strip())


def youtube_id(url: str | None) -> str | None:
    """The 11-character id of a YouTube watch / embed / short / youtu.be URL, else None."""
    m = YOUTUBE_URL.search(url or "")
    return m.group(1) if m else None


def unique(items: Iterable[str]) -> list[str]:
    """Items without repeats, first occurrence order (pages and descriptions repeat links)."""
    return list(dict.fromkeys(i for i in items if i))


def normalize_article_url(url: str) -> str:
    """One spelling per article, so links from descriptions and pages compare equal.

    https, ``www.`` host (mobile ``m.`` folded in), path unquoted, no query, fragment or
    trailing slash. The path keeps its case: wikiHow titles are case-sensitive.
    """
    parts = urlsplit(url if "://" in url else "https://" + url)
    host = (parts.hostname or "").lower()
    for prefix in ("www.", "m."):
        host = host.removeprefix(prefix)
    path = unquote(parts.path).rstrip("/")
    return f"https://www.{host}{path}"
