"""The "Add a dataset" page's example (docs/add-a-dataset.md, linked from the README) is a working builder: run
that very code block."""

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
from datasets import load_dataset

from builders.core.extraction import builder_job
from collectors.synthetic import write_video

PAGE = Path(__file__).resolve().parents[1] / "docs" / "add-a-dataset.md"


def example_module(tmp_path):
    section = PAGE.read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    assert len(code.splitlines()) < 60  # the page promises a builder in under 60 lines
    path = tmp_path / "scored_clips.py"
    path.write_text(code)
    spec = importlib.util.spec_from_file_location("scored_clips", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_worked_example_builds_and_records_a_bad_item(tmp_path):
    m = example_module(tmp_path)
    d = tmp_path / "clips"
    rng = np.random.default_rng(0)
    for vid in ("a", "b", "c"):
        write_video(d / f"{vid}.mp4", (rng.integers(0, 256, (32, 48, 3), dtype=np.uint8) for _ in range(12)), fps=4)
    (d / "scores.json").write_text(json.dumps({"a": [0.1, 0.9, 0.5], "b": [0.3, 0.2, 0.7, 0.1], "c": [1.0]}))
    out, work = tmp_path / "hub", tmp_path / "work"
    status = m.run(m.ScoredClips, ["--input", str(d), "--out", str(out), "--work", str(work), "--workers", "0",
                                   "--no-progress"])
    assert status == 3  # c has one score for three seconds: recorded, a and b built
    record = json.loads((out / "build.json").read_text())["configs"]["colorhist"]
    assert [(f["id"], f["kind"]) for f in record["failures"]["items"]] == [("c", "bad_annotation")]
    rows = {r["id"]: r for s in load_dataset(str(out), "colorhist").values() for r in s}
    assert set(rows) == {"a", "b"} and np.array(rows["a"]["frames_colorhist"]).shape == (3, 256)
    assert rows["b"]["frame_scores"] == [np.float32(x) for x in (0.3, 0.2, 0.7)]
    assert "Scored clips" in (out / "README.md").read_text()
    from builders.core.base import build

    again = build(m.ScoredClips(d), out, work, job=builder_job(workers=0), progress=False)  # the Python route
    assert again.status == 3 and again.records["colorhist"]["extraction_job"]["totals"]["items_run"] == 0
