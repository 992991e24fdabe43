"""wikiHow article pages -> Article records (title, steps with picture and clip, embedded videos).

All selectors are in SELECTORS: when wikiHow changes its markup, fix them there. They follow
the live pages (2026 layout) and the public parsers that read them (pywikihow, scrapy spiders):
each method or part is a ``div.section.steps`` holding ``ol.steps_list_2``; a step ``li`` holds
the picture (``div.mwimg``) or a looping step video next to the text (``div.step``: a bold
``b.whb`` headline, then details and bullet lists); the "Video" section embeds the YouTube video
as an iframe whose URL sits in ``data-src`` until it is scrolled into view.
"""

from __future__ import annotations

from urllib.parse import quote

from selectolax.lexbor import LexborHTMLParser

from collectors.article_html import (
    Article,
    ArticleError,
    Step,
    absolute_url,
    node_text,
    normalize_article_url,
    unique,
    youtube_id,
)

SELECTORS = {
    "title": "h1#section_0, h1.title_lg, h1.title_md, h1.title_sm, h1.firstHeading",
    "canonical": 'link[rel="canonical"]',
    "step": "div.section.steps ol.steps_list_2 > li",
    "step_text": "div.step",
    # inside div.step: reference markers and their pop-ups, scripts, the "download as PDF" box
    "step_junk": "sup, script, style, noscript, .ts_popup, #pdf_steps_cta_b, .green_box_cta",
    "step_image": "div.mwimg img",
    "step_video": "video[data-src]",
    "youtube": 'iframe[src*="youtube"], iframe[data-src*="youtube"]',
}
# A step video's data-src is a path under this root (WH.video's cdnRoot in wikiHow's own JS).
VIDEO_ROOT = "https://www.wikihow.com/video"
# Lazy-load placeholder some layouts put in src while the real picture waits in data-src.
_PLACEHOLDERS = ("/skins/WikiHow/images/WH_logo.svg",)


def parse_wikihow(html: str, url: str) -> Article:
    """Parse a wikiHow article page; `url` is where it came from (resolves relative links).

    Steps of every method / part in page order, each ``{text, image, clip}``: the text is the
    bold headline followed by the details and bullets (references and widgets removed). Raises
    ArticleError naming the page when it has no title or no step with text.
    """
    tree = LexborHTMLParser(html)
    heading = tree.css_first(SELECTORS["title"])
    title = node_text(heading) if heading else ""
    if not title:
        raise ArticleError(url, f"title ({SELECTORS['title']!r})")
    canonical = tree.css_first(SELECTORS["canonical"])
    page_url = absolute_url(url, canonical.attributes.get("href") if canonical else None) or url

    steps = [step for li in tree.css(SELECTORS["step"]) if (step := _step(li, url))]
    if not steps:
        raise ArticleError(url, f"steps ({SELECTORS['step']!r} with a {SELECTORS['step_text']!r})")
    frames = tree.css(SELECTORS["youtube"])
    ids = unique(youtube_id(f.attributes.get("src") or f.attributes.get("data-src")) for f in frames)
    return Article(title=title, steps=steps, youtube_ids=ids, url=normalize_article_url(page_url))


def _step(li, page_url: str) -> Step | None:
    body = li.css_first(SELECTORS["step_text"])
    text = node_text(body, drop=SELECTORS["step_junk"]) if body else ""
    if not text:
        return None
    video = li.css_first(SELECTORS["step_video"])
    clip = _clip_url(video.attributes.get("data-src")) if video else None
    # A video step's picture is its poster: the other imgs next to it may be player controls.
    image = (
        absolute_url(page_url, video.attributes.get("data-poster") or video.attributes.get("poster")) if video else None
    )
    return Step(text=text, image=image or _first_picture(li, page_url), clip=clip)


def _first_picture(li, page_url: str) -> str | None:
    for img in li.css(SELECTORS["step_image"]):
        src = img.attributes.get("data-src") or img.attributes.get("src")
        if src and not src.endswith(_PLACEHOLDERS):
            return absolute_url(page_url, src)
    return None


def _clip_url(src: str | None) -> str | None:
    if not src or not src.strip():
        return None
    src = src.strip()
    if src.startswith(("http://", "https://")):
        return src
    return VIDEO_ROOT + quote(src if src.startswith("/") else "/" + src)
