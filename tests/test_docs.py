"""The documentation holds together: every dataset has its page, every relative link lands on a file (and an
anchor on a heading), and a card's prose is its page's text, in a source checkout and in an installed package."""

from __future__ import annotations

import json
import re
import shutil
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
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    unlisted = [n for n in names if f"](docs/datasets/{n}.md)" not in readme]
    assert not unlisted, f"the README's table of datasets does not link {unlisted}"


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


def every_card() -> dict[str, dict]:
    """Every builder's card facts, in each variant its sources give (built without building)."""
    from builders.bliss.dataset import card_facts as bliss
    from builders.bliss.streamhover import StreamHover
    from builders.eccv16 import card_facts as eccv16
    from builders.hiersum import card_facts as hiersum
    from builders.how2_mcls.how2 import How2Release
    from builders.how2_mcls.mcls import MCLSRelease
    from builders.mmavs import card_facts as mmavs
    from builders.mrhisum.dataset import card_facts as mrhisum
    from builders.qvhighlights.dataset import card_facts as qvhighlights
    from builders.tvsum import card_facts as tvsum
    from builders.vmsmo import card_facts as vmsmo
    from builders.youtube_highlights import YouTubeHighlights

    cards = {f"bliss-{s}": bliss(s, unlabelled=True) for s in ("sample", "raw", "behance", "a2summ")}
    cards["streamhover"] = StreamHover.card_facts(None)
    cards |= {f"eccv16-{n}": eccv16(f"eccv16_dataset_{n}_google_pool5", cols, fps)
              for n, cols, fps in (("summe", ("picks",), None), ("ovp", (), 25.0), ("tvsum", ("picks",), None))}
    cards |= {"hiersum": hiersum(), "tvsum": tvsum(), "vmsmo": vmsmo("resnet101", "roberta")}
    cards |= {f"mmavs-{s}": mmavs(s) for s in ("dailymail", "cnn")}
    cards |= {f"mrhisum-{s}": mrhisum(s) for s in ("h5", "collect")}
    cards |= {f"qvhighlights-{s}": qvhighlights(s) for s in ("annotations", "videos", "collect", "features")}
    for videos in (None, Path("videos")):
        yh = YouTubeHighlights.__new__(YouTubeHighlights)
        yh.videos_dir = videos
        cards[f"youtube_highlights-{videos}"] = yh.card_facts()
    cards |= {f"how2_mcls-{c.source}": c.card_facts(c.__new__(c)) for c in (How2Release, MCLSRelease)}
    return cards


def test_every_card_is_made_of_its_page_and_stands_alone():
    """Each builder's card prose resolves to sections of its page (a renamed heading breaks it here), and
    carries no link relative to the docs: a card is read on the Hub, away from them."""
    cards = every_card()
    assert len(cards) == 23
    for name, facts in cards.items():
        refs = json.dumps(facts).count('"page": ')
        assert refs >= 5, f"{name}: its prose is not from its page"
        card = prose(facts)
        text = "\n".join(card[k] for k in ("summary", "sources", "labels", "license_text", "citation"))
        text += "\n".join(card["columns"].values())
        relative = [t for t in re.findall(r"\]\(([^)\s]+)\)", text) if not re.match(r"[a-z]+:", t)]
        assert not relative, f"{name}: the card would link {relative}"
        assert card["citation"].lstrip().startswith("@") and len(card["columns"]) >= 5
    assert "`n_frames`, `change_points`" in prose(cards["eccv16-summe"])["labels"]  # the file's own facts too
    assert "gygli2014creating" in prose(cards["eccv16-summe"])["citation"]
    assert "Daily Mail" in prose(cards["mmavs-dailymail"])["license_text"] and \
        "images" not in prose(cards["mmavs-cnn"])["labels"]


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
    card = render_card(json.loads(json.dumps(build)))  # as build.json stores it (one of an older version: no family)
    page = sections("tvsum")
    assert page["What it is"].splitlines()[0] in card and page["License"] in card
    assert "@inproceedings{song2015tvsum," in card and "```bibtex\n@inproceedings" in card  # the block's content
    assert "| `picks` | `List(int32)` | [T] sampled frame indices (every 15th frame) |" in card  # the page's table
    assert "ref(" not in card and "'page'" not in card
    assert "This build declares no family or evaluation protocol." in card


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
    wheels, target, source = tmp_path / "wheels", tmp_path / "site", tmp_path / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(  # setuptools builds in the tree: a copy keeps ours clean
        ".git", "build", "dist", "hub", "work", "runs", "features", "*.egg-info", "__pycache__", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels),
                    str(source)], check=True, cwd=tmp_path, capture_output=True)
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
