"""One vocabulary of flags: every flag of every command has help text, the builders share theirs,
and an unknown flag is an error on every command (the sample generator's included)."""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = {  # module -> argv that reaches its parser
    "builders.bliss": [], "builders.tvsum": [], "builders.eccv16": [], "builders.hiersum": [],
    "builders.qvhighlights": [], "builders.youtube_highlights": [], "builders.mrhisum": [],
    "builders.bliss.sample": [], "extractors.run": [], "extractors.extract": [], "extractors.list": [],
    "models.train": [], "models.evaluate": [], "builders.vmsmo": [], "builders.mmavs": [], "builders.how2_mcls": [],
    "builders.wikihow_summaries": [],
}
BUILDER_FLAGS = {"--out", "--work", "--name", "--scheduler", "--workers", "--shard-size", "--device", "--weights",
                 "--rows-per-shard", "--no-progress", "--max-array-bytes", "--max-pickle-bytes", "--max-json-bytes",
                 "--max-json-depth", "--max-annotated-duration"}


class _Parser(Exception):
    def __init__(self, parser):
        self.parser = parser


def parser_of(monkeypatch, module: str, argv: list[str]) -> argparse.ArgumentParser:
    """The parser a command builds, caught where it parses its arguments (nothing runs)."""

    def caught(self, args=None, namespace=None):
        raise _Parser(self)

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", caught)
    with pytest.raises(_Parser) as got:
        importlib.import_module(module).main(argv)
    return got.value.parser


def flags(parser) -> dict[str, str | None]:
    return {a.option_strings[-1]: a.help for a in parser._actions
            if a.option_strings and not isinstance(a, argparse._HelpAction)}


@pytest.mark.parametrize("module, argv", [*COMMANDS.items(), ("builders.bliss", ["--source", "raw"]),
                                          ("builders.bliss", ["--source", "a2summ"]),
                                          ("builders.bliss", ["--source", "behance"]),
                                          ("builders.bliss", ["--source", "streamhover"]),
                                          ("builders.how2_mcls", ["--source", "mcls"])])
def test_every_flag_has_help(monkeypatch, module, argv):
    found = flags(parser_of(monkeypatch, module, argv))
    assert found and [f for f, text in found.items() if not (text or "").strip()] == []


@pytest.mark.parametrize("module, argv", [("builders.bliss", []), ("builders.bliss", ["--source", "a2summ"]),
                                          ("builders.bliss", ["--source", "behance"]),
                                          ("builders.bliss", ["--source", "streamhover"]),
                                          ("builders.tvsum", []), ("builders.eccv16", []), ("builders.hiersum", []),
                                          ("builders.qvhighlights", []), ("builders.youtube_highlights", []),
                                          ("builders.mrhisum", []), ("builders.vmsmo", []), ("builders.mmavs", []),
                                          ("builders.how2_mcls", []), ("builders.how2_mcls", ["--source", "mcls"]),
                                          ("builders.wikihow_summaries", [])])
def test_builders_share_one_set_of_flags(monkeypatch, module, argv):
    assert BUILDER_FLAGS <= set(flags(parser_of(monkeypatch, module, argv)))


def test_one_spelling_for_the_budget_and_the_weights(monkeypatch):
    train, evaluate = (flags(parser_of(monkeypatch, m, [])) for m in ("models.train", "models.evaluate"))
    assert "--proportion" in train and "--proportion" in evaluate and "--ratio" not in train
    assert "--loader-workers" in train and "--workers" not in train  # --workers means Dask workers elsewhere
    for module in ("extractors.run", "extractors.extract", "builders.tvsum"):
        found = parser_of(monkeypatch, module, [])
        weights = next(a for a in found._actions if "--weights" in a.option_strings)
        assert weights.metavar == "NAME=PATH"
    assert not any(f.endswith("-weights") and f != "--weights" for m in COMMANDS for f in flags(parser_of(monkeypatch, m, [])))


@pytest.mark.parametrize("module", sorted(COMMANDS))
def test_an_unknown_flag_is_an_error(module, capsys):
    try:
        status = importlib.import_module(module).main(["--bogus"])
    except SystemExit as e:  # argparse's own exit
        status = e.code
    err = capsys.readouterr().err
    assert status == 2 and "error:" in err  # the unknown flag, or a required one missing first
    if module in ("builders.bliss", "builders.bliss.sample", "builders.hiersum", "extractors.list"):  # no required flag
        assert "unrecognized arguments: --bogus" in err


def test_the_sample_command_refuses_an_unknown_flag():
    """``python -m builders.bliss.sample --bogus`` (it used to print the sample's directory and exit 0)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "builders.bliss.sample", "--bogus"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "unrecognized arguments: --bogus" in proc.stderr and not proc.stdout
