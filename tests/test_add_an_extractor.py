"""docs/extractors.md's "Add an extractor" is a working extractor: its code blocks run as written, its command run
through extractors.run (one worker thread in this process) on the synthesized video, by class and by name."""

from __future__ import annotations

import dataclasses
import json
import re
import runpy
import shlex
from pathlib import Path

import numpy as np
import pytest

from extractors import run
from extractors.registry import REGISTRY, Entry

DOC = Path(__file__).resolve().parents[1] / "docs" / "extractors.md"


def section() -> str:
    text = DOC.read_text(encoding="utf-8")
    return text[text.index("## Add an extractor"):]


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    files = dict(re.findall(r"File `([\w/]+\.py)`:\n\n```python\n(.*?)```", section(), re.S))
    assert set(files) == {"edges.py", "make_manifest.py"}
    for name, code in files.items():
        (tmp_path / name).write_text(code)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))  # PYTHONPATH=.
    return tmp_path


def commands() -> list[list[str]]:
    block = re.search(r"```bash\n(.*?)```", section(), re.S).group(1)
    return [shlex.split(line.removeprefix("PYTHONPATH=. ")) for line in block.strip().splitlines()]


def test_the_documented_extractor_runs_by_class_and_by_name(workdir, monkeypatch):
    make, extract = commands()
    assert make == ["python", "make_manifest.py"] and extract[:3] == ["python", "-m", "extractors.run"]
    runpy.run_path(str(workdir / "make_manifest.py"), run_name="__main__")
    assert run.main(extract[3:] + ["--no-progress"]) == 0
    reader_code = re.findall(r"```python\n(.*?)```", section(), re.S)[2]
    scope: dict = {}
    exec(reader_code, scope)  # the documented read-back
    track = scope["track"]
    assert track.values.shape == (3, 16) and track.meta["extractor"] == "edges" and track.meta["dim"] == 16
    assert np.all(track.values >= 0) and track.values.max() > 0.05  # the bar's edges
    assert not np.allclose(track.values[0], track.values[2])  # the bar moved
    totals = json.loads((workdir / "features" / "run.json").read_text())["totals"]
    assert (totals["items"], totals["ok"], totals["frames_run"]) == (1, 1, 3)

    entry_code = re.findall(r"```python\n(.*?)```", section(), re.S)[-1]
    entry = eval(entry_code.strip().rstrip(","), {"Entry": Entry})  # the registry line, as documented
    assert entry.name == "edges" and entry.target == "extractors.edges:EdgeDensity"
    # the example lives in edges.py here, not extractors/edges.py: the same line with that module
    monkeypatch.setitem(REGISTRY, "edges", dataclasses.replace(entry, target="edges:EdgeDensity"))
    by_name = ["--manifest", "manifest.jsonl", "--extractors", "edges", "--out", "by-name", "--workers", "0", "--no-progress"]
    assert run.main(by_name) == 0
    again = run.FeatureReader("by-name", "edges").track("v1")
    np.testing.assert_array_equal(again.values, track.values)


def test_bad_extractor_names_and_options_are_usage_errors(workdir, capsys, monkeypatch):
    runpy.run_path(str(workdir / "make_manifest.py"), run_name="__main__")
    base = ["--manifest", "manifest.jsonl", "--out", "o", "--workers", "0", "--no-progress"]
    assert run.main(base + ["--extractors", "edges"]) == 2  # not registered by name: only by class
    assert "unknown extractor 'edges'" in capsys.readouterr().err
    assert run.main(base + ["--extractors", "edges:NoSuchClass"]) == 2
    assert "cannot import edges:NoSuchClass" in capsys.readouterr().err
    monkeypatch.setitem(REGISTRY, "edges", Entry("edges", "visual", "edges:EdgeDensity", "16", "", "none", ""))
    assert run.main(base + ["--extractors", "edges", "--option", "edges.grid=3"]) == 2  # not a constructor argument
    assert "grid" in capsys.readouterr().err
    assert not (workdir / "o" / "run.json").exists()
