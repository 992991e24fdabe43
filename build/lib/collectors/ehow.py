"""eHow article pages -> Article records (title, steps with picture, embedded videos).

All selectors are in SELECTORS: when eHow changes its markup, fix them there. eHow articles
are written as "Things You'll Need", then "Step 1", "Step 2"... headings each followed by
its paragraphs and picture, then "Tips" / "Warnings"; older and list-style pages number
their steps as an ordered list instead. Both shapes are read, headings first. eHow steps
have no clips of their own; videos are YouTube iframes.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser

from collectors.article_html import (
    Article,
    ArticleError,
    Step,
    absolute_url,
    clean_text,
    node_text,
    normalize_article_url,
    unique,
    youtube_id,
)

SELECTORS = {
    "title": "h1",
    "og_title": 'meta[property="og:title"]',
    "canonical": 'link[rel="canonical"]',
    "body": ("article", "main", "#article-content", "body"),  # tried in order: the first present
    "heading": "h2, h3, h4",
    "list": "ol",
    "list_outside": ("nav", "header", "footer", "aside", "li"),  # an ol under these is not the steps
    "junk": "script, style, noscript, figcaption, aside, .image-credit, .ad",
    "image": "img",
    "youtube": 'iframe[src*="youtube"], iframe[data-src*="youtube"]',
}
STEP_HEADING = re.compile(r"^\s*step\s*\d+\s*[:.\-–—]?\s*(.*)$", re.IGNORECASE | re.DOTALL)
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def parse_ehow(html: str, url: str) -> Article:
    """Parse an eHow article page; `url` is where it came from (resolves relative links).

    Steps are the "Step N" headings with the content up to the next heading (a heading's own
    words after "Step N" start the step text), else the items of the article's first ordered
    list. Raises ArticleError naming the page when it has no title or no step with text.
    """
    tree = LexborHTMLParser(html)
    title = _title(tree)
    if not title:
        raise ArticleError(url, f"title ({SELECTORS['title']!r} or {SELECTORS['og_title']!r})")
    body = next((n for sel in SELECTORS["body"] if (n := tree.css_first(sel))), None)
    steps = (_heading_steps(body, url) or _list_steps(body, url)) if body else []
    if not steps:
        raise ArticleError(url, f"steps ('Step N' {SELECTORS['heading']!r} headings or an {SELECTORS['list']!r} list)")
    canonical = tree.css_first(SELECTORS["canonical"])
    page_url = absolute_url(url, canonical.attributes.get("href") if canonical else None) or url
    frames = tree.css(SELECTORS["youtube"])
    ids = unique(youtube_id(f.attributes.get("src") or f.attributes.get("data-src")) for f in frames)
    return Article(title=title, steps=steps, youtube_ids=ids, url=normalize_article_url(page_url))


def _title(tree) -> str:
    heading = tree.css_first(SELECTORS["title"])
    if heading and (title := node_text(heading)):
        return title
    meta = tree.css_first(SELECTORS["og_title"])
    return clean_text(re.sub(r"\s*\|\s*eHow\s*$", "", meta.attributes.get("content") or "")) if meta else ""


def _heading_steps(body, page_url: str) -> list[Step]:
    steps = []
    for heading in body.css(SELECTORS["heading"]):
        m = STEP_HEADING.match(node_text(heading))
        if not m:
            continue
        lead = clean_text(m.group(1))
        parts, image = [lead + "." if lead and lead[-1] not in ".!?:" else lead], None
        for node in _following(heading):
            if node.tag in _HEADINGS or node.css_first(SELECTORS["heading"]):
                break
            image = image or _picture(node, page_url)
            parts.append(node_text(node, drop=SELECTORS["junk"]))
        text = clean_text(" ".join(p for p in parts if p))
        if text:
            steps.append(Step(text=text, image=image, clip=None))
    return steps


def _following(node):
    """Element siblings after `node`; from its wrapper's siblings when it is wrapped alone."""
    while (
        _next_element(node) is None and node.parent is not None and node.parent.tag not in ("body", "article", "main")
    ):
        node = node.parent
    sib = _next_element(node)
    while sib is not None:
        yield sib
        sib = _next_element(sib)


def _next_element(node):
    sib = node.next
    while sib is not None and sib.tag.startswith(("-", "!")):  # text and comment nodes
        sib = sib.next
    return sib


def _list_steps(body, page_url: str) -> list[Step]:
    for ol in body.css(SELECTORS["list"]):
        if _inside(ol, SELECTORS["list_outside"]):
            continue
        items = [li for li in ol.iter() if li.tag == "li"]
        if len(items) < 2:
            continue
        steps = []
        for li in items:
            image = _picture(li, page_url)
            text = node_text(li, drop=SELECTORS["junk"])
            if text:
                steps.append(Step(text=text, image=image, clip=None))
        if steps:
            return steps
    return []


def _inside(node, tags) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.tag in tags:
            return True
        parent = parent.parent
    return False


def _picture(node, page_url: str) -> str | None:
    imgs = [node] if node.tag == "img" else node.css(SELECTORS["image"])
    for img in imgs:
        src = img.attributes.get("data-src") or img.attributes.get("src")
        if url := absolute_url(page_url, src):
            return url
    return None
