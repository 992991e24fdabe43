"""Imports flow one way: common -> collectors -> extractors -> cards -> builders -> models -> vsumhub (the front
door), without circles.

Every import of every module is read from its source (ast), the ones inside functions too: a lazy
import is still a dependency. A module may import its own package and the packages below it; the
module graph has no cycle (a package's ``__init__`` importing its own submodules is not one).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("common", "collectors", "extractors", "cards", "builders", "models", "vsumhub")  # bottom first


def modules() -> dict[str, Path]:
    out = {}
    for package in LAYERS:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def imports(path: Path, name: str, known: dict[str, Path]) -> set[str]:
    """The project modules ``name`` (at ``path``) imports, anywhere in its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package upwards
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # import a.b.c names module a.b.c, or its closest package
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(path, name, known) for name, path in known.items()}


def layer(module: str) -> int:
    return LAYERS.index(module.split(".")[0])


def upward(g: dict[str, set[str]]) -> list[str]:
    return sorted(f"{a} imports {b}" for a, targets in g.items() for b in targets if layer(b) > layer(a))


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), a package's own __init__
    edges to its submodules left out."""
    edges = {a: {b for b in bs if not b.startswith(a + ".")} for a, bs in g.items()}
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_every_layer_has_modules_and_the_graph_is_read():
    g = graph()
    assert {m.split(".")[0] for m in g} == set(LAYERS)
    assert "collectors.transcripts" in g["extractors.whisper"]  # the sentence rule, from below
    assert "builders.labels.keyshots" in g["models.protocols"]


def test_no_module_imports_a_layer_above_its_own():
    assert upward(graph()) == []


def test_no_import_circles():
    assert cycles(graph()) == []


def test_the_checks_catch_what_they_are_for(tmp_path):
    """An upward import and a circle, as the checks see them."""
    g = {"collectors.a": {"extractors.b"}, "extractors.b": {"extractors.c"}, "extractors.c": {"extractors.b"},
         "builders.p": {"builders.p.x"}, "builders.p.x": {"builders.p"}}
    assert upward(g) == ["collectors.a imports extractors.b"]
    assert cycles(g) == [["extractors.b", "extractors.c"]]
    lazy = tmp_path / "m.py"
    lazy.write_text("def f():\n    from extractors.whisper import Whisper\n    import builders.tvsum\n")
    known = {"extractors.whisper": lazy, "builders.tvsum": lazy, "builders": lazy}
    assert imports(lazy, "collectors.m", known) == {"extractors.whisper", "builders.tvsum"}


@pytest.mark.parametrize("package", ["common"])
def test_the_bottom_layer_imports_no_project_package(package):
    g = graph()
    assert not {b for a, bs in g.items() if a.split(".")[0] == package for b in bs if b.split(".")[0] != package}


def test_the_builders_machinery_imports_no_dataset():
    """builders.core and builders.labels serve every dataset: none of them reaches into one."""
    machinery = ("builders.core", "builders.labels")
    g = graph()
    found = sorted(f"{a} imports {b}" for a, bs in g.items() if a.startswith(machinery) for b in bs
                   if b.startswith("builders.") and not b.startswith(machinery))
    assert found == []


def test_every_dataset_is_one_package():
    """A dataset is a package builders/<name>/ run as python -m builders.<name> (its __main__), never a
    module beside it; the only modules directly in builders/ are the commands publish and export."""
    root = ROOT / "builders"
    modules = sorted(p.stem for p in root.glob("*.py") if p.name != "__init__.py")
    assert set(modules) <= {"publish", "export"}, modules
    for d in root.iterdir():
        if (d / "__init__.py").is_file() and d.name not in ("core", "labels"):
            assert (d / "__main__.py").is_file(), f"builders/{d.name} has no __main__.py"
