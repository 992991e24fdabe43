"""builders.core.base: the runner's record, failures, exit status and configs, on a builder without extraction."""

import json
from types import SimpleNamespace

import pytest
from datasets import Features, Value, load_dataset

from builders.core.base import Builder, BuildError, build, run
from collectors.records import ItemError

FEATURES = Features({"id": Value("string"), "video_id": Value("string"), "x": Value("int32")})


class Toy(Builder):
    """Items 0..n-1; the ones in ``bad`` fail; item i is in config "all" and, when even, in "even"."""

    name, source, input = "toy", "toy", "numbers"

    def __init__(self, n: int = 4, bad: tuple = (), broken_input: bool = False, crash_at: int | None = None):
        self.n, self.bad, self.broken_input, self.crash_at = n, set(bad), broken_input, crash_at

    @classmethod
    def add_arguments(cls, p):
        p.add_argument("--n", type=int, default=4, help="how many items")

    def prepare(self, ctx):
        if self.broken_input:
            raise BuildError("the numbers file is unreadable")

    def items(self):
        return (SimpleNamespace(id=f"v{i}", i=i) for i in range(self.n))

    def splits(self, item):
        return {"all": "test" if item.i == 0 else "train", **({"even": "train"} if item.i % 2 == 0 else {})}

    def features(self, dims):
        return {"all": FEATURES, "even": FEATURES}

    def examples(self, item, tracks):
        if item.i == self.crash_at:
            raise RuntimeError("a bug, not a bad item")
        if item.i in self.bad:
            raise ItemError("bad_annotation", f"item {item.i} is odd", item.id, line=item.i)
        return [{"id": item.id, "video_id": item.id, "x": item.i}, {"id": f"{item.id}b", "video_id": item.id, "x": -item.i}]

    def count(self, row):
        return {"sum": row["x"]}

    def facts(self, config):
        return {"config_fact": config}

    def card_facts(self):
        return {"pretty_name": "Toy", "summary": "s", "sources": "s", "labels": "l", "license": "mit",
                "license_text": "MIT", "task_categories": ["summarization"], "citation": ""}


def test_records_failures_stats_and_configs(tmp_path):
    result = build(Toy(bad=(3,)), tmp_path / "hub", tmp_path / "work", progress=False)
    assert result.status == 3
    build_json = json.loads((tmp_path / "hub" / "build.json").read_text())
    rec = build_json["configs"]["all"]
    assert rec["items"] == {"total": 4, "ok": 3, "failed": 1,
                            "ids_by_split": {"train": ["v1", "v2"], "validation": [], "test": ["v0"]}}
    assert rec["failures"]["items"] == [{"id": "v3", "kind": "bad_annotation", "message": "item 3 is odd", "line": 3}]
    assert rec["stats"]["train"] == {"videos": 2, "examples": 4, "sum": 0}  # 1 - 1 + 2 - 2
    assert rec["config_fact"] == "all" and build_json["configs"]["even"]["config_fact"] == "even"
    assert build_json["tool"] == "python -m test_builder_base" and "extraction_job" not in rec
    assert load_dataset(str(tmp_path / "hub"), "even", split="train")["id"] == ["v0", "v0b", "v2", "v2b"]
    assert any("v3: bad_annotation: item 3 is odd" in line for line in result.lines)


def test_exit_status_when_nothing_or_everything_is_built(tmp_path):
    assert build(Toy(bad=(0, 1)), tmp_path / "a", tmp_path / "w", progress=False).status == 3
    assert build(Toy(n=2, bad=(0, 1)), tmp_path / "b", tmp_path / "w", progress=False).status == 1
    assert build(Toy(n=2), tmp_path / "c", tmp_path / "w", progress=False).status == 0


def test_a_crash_leaves_the_earlier_build_whole(tmp_path):
    out = tmp_path / "hub"
    build(Toy(), out, tmp_path / "w", progress=False)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    with pytest.raises(RuntimeError, match="a bug"):
        build(Toy(crash_at=2), out, tmp_path / "w", progress=False)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before  # no staging left, old configs intact


def test_cli_usage_errors_are_one_line_and_exit_2(tmp_path, capsys):
    class Broken(Toy):
        def __init__(self, n: int = 4):
            super().__init__(n, broken_input=True)

    assert run(Broken, ["--out", str(tmp_path / "o"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err == "error: the numbers file is unreadable\n" and not (tmp_path / "o").exists()
    assert run(Toy, ["--out", str(tmp_path / "o"), "--weights", "clip=/x.pt"]) == 2
    assert "--weights for clip, which this build does not use" in capsys.readouterr().err
    assert run(Toy, ["--weights", "clip"]) == 2 and "NAME=PATH" in capsys.readouterr().err
    assert run(Toy, ["--n", "2", "--out", str(tmp_path / "o"), "--no-progress"]) == 0  # own flags reach the builder
    assert json.loads((tmp_path / "o" / "build.json").read_text())["configs"]["all"]["items"]["total"] == 2
