"""A dataset's page, docs/datasets/<name>.md, is the one prose source of its card.

A builder's ``card_facts()`` names sections of its page instead of holding prose: a value
``{"page": "tvsum", "section": "Labels"}`` (or a list of such values and plain strings, joined by
newlines) is replaced, when the card is rendered, by that section's text; ``columns`` may name a
section whose table lists `` `column` `` and its meaning. Editing the page changes the card.

Pages are found in the source checkout (``docs/datasets`` beside this package) or, in an installed
package, where pyproject's ``data-files`` put them (``<prefix>/share/vsumhub/datasets``).
"""

from __future__ import annotations

import re
import sysconfig
from functools import lru_cache
from pathlib import Path

SHARE = Path("share", "vsumhub", "datasets")  # pyproject [tool.setuptools.data-files]
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


class PageError(LookupError):
    """A page or a section a card names does not exist."""


def page_dirs():
    """Where pages may be, in order: the source checkout, then an installed package's data files (looked up
    only when the one before has no page)."""
    yield Path(__file__).resolve().parents[1] / "docs" / "datasets"
    yield Path(sysconfig.get_path("data")) / SHARE
    yield Path(__file__).resolve().parents[1] / SHARE  # pip install --target DIR puts data files in DIR
    try:
        from importlib.metadata import PackageNotFoundError, distribution

        for f in distribution("vsumhub").files or ():
            if str(f).endswith(".md") and SHARE.as_posix() in str(f):
                yield Path(f.locate()).resolve().parent
                return
    except (ImportError, PackageNotFoundError):
        pass


def page_path(name: str) -> Path:
    for d in page_dirs():
        if (d / f"{name}.md").is_file():
            return d / f"{name}.md"
    raise PageError(f"no page docs/datasets/{name}.md (looked in {', '.join(map(str, page_dirs()))})")


@lru_cache(maxsize=64)
def _sections(path: Path, mtime: float) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    heads, fence = [], False
    for i, line in enumerate(lines):
        fence ^= line.startswith("```")
        m = None if fence else HEADING.match(line)
        if m:
            heads.append((i, len(m.group(1)), m.group(2)))
    out = {}
    for k, (i, level, title) in enumerate(heads):
        end = next((j for j, lv, _ in heads[k + 1:] if lv <= level), len(lines))
        if title in out:
            raise PageError(f"{path}: two sections are called {title!r}")
        out[title] = "\n".join(lines[i + 1:end]).strip()
    return out


def sections(name: str) -> dict[str, str]:
    """Every section of page ``name`` by its heading (text up to the next heading of the same or a higher level)."""
    path = page_path(name)
    return _sections(path, path.stat().st_mtime)


def section(name: str, title: str) -> str:
    found = sections(name)
    if title not in found:
        raise PageError(f"docs/datasets/{name}.md has no section {title!r} (it has: {', '.join(found)})")
    return found[title]


def ref(name: str, title: str) -> dict:
    """What ``card_facts()`` stores in place of prose: resolved by :func:`resolve` when the card is rendered."""
    return {"page": name, "section": title}


def resolve(value) -> str:
    """A card value as text: a plain string as it is, a section reference as the section's text, a list joined."""
    if isinstance(value, list):
        return "\n".join(resolve(v) for v in value)
    if isinstance(value, dict) and "page" in value:
        return section(value["page"], value["section"])
    return value


def code_blocks(text: str) -> str:
    """The fenced blocks of ``text`` (a Citation section's bibtex entries), blank-line separated, or
    ``text`` when it has none."""
    blocks = re.findall(r"```[^\n]*\n(.*?)\n```", text, re.S)
    return "\n\n".join(blocks) if blocks else text


def columns(value) -> dict[str, str]:
    """Column meanings: a dict as it is; a section reference read as a table whose first cell is
    `` `column` `` and whose last is the meaning; a list merged in order."""
    if isinstance(value, list):
        out = {}
        for v in value:
            out.update(columns(v))
        return out
    if not (isinstance(value, dict) and "page" in value):
        return dict(value or {})
    out = {}
    for line in resolve(value).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")] if line.lstrip().startswith("|") else []
        if len(cells) >= 2 and re.fullmatch(r"`[^`]+`", cells[0]):
            out[cells[0].strip("`")] = cells[-1]
    if not out:
        raise PageError(f"docs/datasets/{value['page']}.md section {value['section']!r} has no `column` | meaning table")
    return out


def prose(card: dict) -> dict:
    """The card with its prose resolved from the pages: what the templates render."""
    out = dict(card)
    for key in ("summary", "sources", "labels", "license_text", "citation"):
        if key in out:
            out[key] = resolve(out[key])
    if "citation" in out:
        out["citation"] = code_blocks(out["citation"])
    if "columns" in out:
        out["columns"] = columns(out["columns"])
    return out
