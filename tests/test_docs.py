"""The documentation holds together: every dataset has its page, every relative link lands on a file (and an
anchor on a heading), and a card's prose is its page's text, in a source checkout and in an installed package."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cards.pages import PageError, columns, prose, ref, section, sections
from cards.render import render_card

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def dataset_packages() -> list[str]:
    """builders/<name>/ that declare a dataset card (core, labels and commands such as export do not)."""
    return sorted(p.name for p in (ROOT / "builders").iterdir()
                  if p.is_dir() and any("def card_facts" in f.read_text() for f in p.rglob("*.py"))
                  and p.name != "core")


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks (a link in a code sample is not a link)."""
    out, fence = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
        elif not fence:
            out.append(line)
    return out


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation but '-' and '_' dropped, spaces to '-', repeats numbered."""
    seen, out = {}, set()
    for line in prose_lines(path.read_text(encoding="utf-8")):
        m = re.match(r"#{1,6}\s+(.*?)\s*$", line)
        if m:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-")
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            out.add(slug if n == 0 else f"{slug}-{n}")
    return out


def test_every_dataset_package_has_its_page():
    names = dataset_packages()
    assert {"bliss", "tvsum", "eccv16", "qvhighlights", "mmavs"} <= set(names)  # the scan finds the datasets
    missing = [n for n in names if not (ROOT / "docs" / "datasets" / f"{n}.md").is_file()]
    assert not missing, f"no docs/datasets/<name>.md for {missing}"
    pages = {p.stem for p in (ROOT / "docs" / "datasets").glob("*.md")}
    assert pages <= set(names), f"pages without a dataset package: {pages - set(names)}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc):
    broken = []
    for line in prose_lines(doc.read_text(encoding="utf-8")):
        for target in LINK.findall(line):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            dest = (doc.parent / path).resolve() if path else doc
            if not dest.exists():
                broken.append(f"{target}: no such file")
            elif not (ROOT in dest.parents or dest == ROOT):
                broken.append(f"{target}: outside the repository")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{target}: no heading #{anchor} in {dest.name}")
    assert not broken, f"{doc.relative_to(ROOT)}: " + "; ".join(broken)


def test_the_link_check_catches_what_it_should(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# A `title`: here\n\n[ok](#a-title-here) [gone](missing.md)\n\n```\n[in code](nowhere.md)\n```\n")
    assert anchors(page) == {"a-title-here"}
    found = [t for line in prose_lines(page.read_text()) for t in LINK.findall(line)]
    assert found == ["#a-title-here", "missing.md"]


def test_every_literal_page_reference_names_a_section():
    """A heading renamed on a page breaks the card that names it: every ref("page", "section") in the builders."""
    refs = set()
    for path in (ROOT / "builders").rglob("*.py"):
        refs |= set(re.findall(r'ref\("([a-z0-9_]+)", "([^"]+)"\)', path.read_text()))
    assert len(refs) > 40
    for name, title in sorted(refs):
        assert section(name, title).strip(), f"docs/datasets/{name}.md section {title!r} is empty"


def test_a_card_is_made_of_its_page():
    build = {"dataset": "tvsum", "tool": "vsumhub test", "configs": {}, "card": {
        "pretty_name": "TVSum", "license": "cc-by-3.0", "task_categories": ["summarization"],
        "summary": ref("tvsum", "What it is"), "sources": ref("tvsum", "Input"), "labels": ref("tvsum", "Labels"),
        "license_text": ref("tvsum", "License"), "citation": ref("tvsum", "Citation"),
        "columns": ref("tvsum", "Columns"), "usage_columns": ["picks"]}}
    build["configs"]["annotations"] = {
        "splits": {"train": {"num_bytes": 10, "num_examples": 1}}, "stats": {}, "source": "tvsum",
        "built_at": "now", "items": {"ok": 1, "total": 1}, "failures": {"by_kind": {}}, "columns": {},
        "features": {"id": {"dtype": "string", "_type": "Value"}, "picks": {"feature": {"dtype": "int32",
                     "_type": "Value"}, "_type": "List"}}}
    card = render_card(json.loads(json.dumps(build)))  # as build.json stores it
    page = sections("tvsum")
    assert page["What it is"].splitlines()[0] in card and page["License"] in card
    assert "@inproceedings{song2015tvsum," in card and "```bibtex\n@inproceedings" in card  # the block's content
    assert "| `picks` | `List(int32)` | [T] sampled frame indices (every 15th frame) |" in card  # the page's table
    assert "ref(" not in card and "'page'" not in card


def test_page_values_and_their_errors():
    assert prose({"summary": ["a", ref("tvsum", "License")], "columns": {"x": "y"}})["summary"].startswith("a\nTVSum")
    assert columns([{"x": "given"}, ref("tvsum", "Columns")])["gt_score"].startswith("[n_frames]")
    with pytest.raises(PageError, match="no section 'Nope'"):
        section("tvsum", "Nope")
    with pytest.raises(PageError, match="no page docs/datasets/nope.md"):
        section("nope", "What it is")
    with pytest.raises(PageError, match="no `column` | meaning table"):
        columns(ref("tvsum", "License"))


@pytest.mark.slow
def test_an_installed_package_renders_cards_from_its_pages(tmp_path):
    """The wheel ships the pages; a card rendered from the installed package has the page's text, and editing the
    installed page changes the card."""
    wheels, target = tmp_path / "wheels", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels),
                    str(ROOT)], check=True, cwd=tmp_path, capture_output=True)
    wheel = next(wheels.glob("vsumhub-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, cwd=tmp_path, capture_output=True)
    render = ("import cards.pages as p, builders.tvsum as t; assert p.__file__.startswith(%r), p.__file__; "
              "print(p.prose(t.card_facts())['license_text'])" % str(target))
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}

    def license_text():
        return subprocess.run([sys.executable, "-c", render], check=True, cwd=tmp_path, env=env,
                              capture_output=True, text=True).stdout.strip()

    assert license_text() == section("tvsum", "License")
    installed = next(target.rglob("share/vsumhub/datasets/tvsum.md"))
    installed.write_text(installed.read_text().replace("TVSum videos are under", "EDITED: TVSum videos are under"))
    assert license_text().startswith("EDITED: TVSum videos are under")
