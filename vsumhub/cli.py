"""vsumhub: one front door to every entry point of the project.

    vsumhub build <dataset> [flags]          python -m builders.<dataset>   (vsumhub list datasets)
    vsumhub extract FILE --extractor NAME    python -m extractors.extract   (one file, one extractor)
    vsumhub run --manifest M --extractors .. python -m extractors.run       (the sharded extraction job)
    vsumhub publish hub/<name> --repo-id ..  python -m builders.publish
    vsumhub export hub/<name> --format ..    python -m builders.export
    vsumhub train --model M --dataset D      python -m models.train
    vsumhub evaluate --dataset D ...         python -m models.evaluate
    vsumhub list [datasets|extractors|models]

Each subcommand is its module's own parser (``vsumhub train --help`` is ``python -m models.train
--help``), and exits with its status. Nothing heavy is imported before a subcommand's arguments are parsed.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import sys
from pathlib import Path

from common import cli

# subcommand -> (module whose main(argv) it runs, one line for the listing)
COMMANDS = {
    "extract": ("extractors.extract", "features of one media or transcript file"),
    "run": ("extractors.run", "the extraction job: extractors over a manifest, sharded on Dask"),
    "publish": ("builders.publish", "push a build to the Hugging Face Hub (--dry-run lists what would go)"),
    "export": ("builders.export", "write a build in the layout the authors' code reads"),
    "train": ("models.train", "train a summarizer on a build"),
    "evaluate": ("models.evaluate", "evaluate a run, a baseline or predictions with the dataset's protocol"),
}
LISTS = ("datasets", "extractors", "models")
NOT_DATASETS = ("core", "labels", "export")  # builders' sub-packages that are machinery, not datasets


def _summary(init: Path) -> str:
    """The first sentence of a package's docstring, read without importing it."""
    doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
    return " ".join(doc.split("\n\n")[0].split())


def datasets() -> dict[str, str]:
    """Every dataset builder (a package under builders/) and what it is."""
    import builders

    root = Path(builders.__file__).parent
    return {d.name: _summary(d / "__init__.py") for d in sorted(root.iterdir())
            if (d / "__init__.py").is_file() and d.name not in NOT_DATASETS}


def models() -> dict[str, str]:
    """Every summarizer: the model folders models.registry finds (models/<name>/ declaring NETWORK), and what it is."""
    import importlib

    from models.registry import entries

    return {name: _summary(Path(importlib.import_module(e.package).__file__)) for name, e in entries().items()}


def _table(rows: dict[str, str]) -> str:
    width = max(map(len, rows), default=0)
    return "\n".join(f"{name.ljust(width)}  {text}" for name, text in rows.items())


def list_command(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="vsumhub list", description="what vsumhub can build, extract and train")
    p.add_argument("what", nargs="?", choices=LISTS, help="one kind (default: all three)")
    args = p.parse_args(argv)
    for what in [args.what] if args.what else LISTS:
        if not args.what:
            print(f"{what}:")
        if what == "extractors":
            from extractors.list import table

            print(table())
        else:
            print(_table(datasets() if what == "datasets" else models()))
        if not args.what and what != LISTS[-1]:
            print()
    return 0


def _run(module: str, argv: list[str], prog: str) -> int:
    try:
        main = importlib.import_module(module).main
    except ModuleNotFoundError as e:
        if e.name != module:
            raise
        print(f"error: {prog} is not available in this version of vsumhub ({module} is missing)", file=sys.stderr)
        return 2
    cli.set_prog(prog)
    try:
        status = main(argv)
    except SystemExit as e:  # a parser that exits (--help, a usage error) rather than returning
        status = e.code
    finally:
        cli.set_prog(None)
    return int(status or 0) if not isinstance(status, str) else 2


def build_command(argv: list[str]) -> int:
    known = datasets()
    if not argv or argv[0].startswith("-"):
        p = argparse.ArgumentParser(prog="vsumhub build", description="build a dataset: vsumhub build <dataset> [flags]; "
                                    "vsumhub build <dataset> --help lists its flags",
                                    formatter_class=argparse.RawDescriptionHelpFormatter,
                                    epilog="datasets:\n" + "\n".join(f"  {line}" for line in _table(known).splitlines()))
        p.add_argument("dataset", choices=list(known), metavar="dataset")
        p.parse_args(argv)  # prints the help, or the error for a missing dataset
        return 2
    if argv[0] not in known:
        print(f"error: unknown dataset {argv[0]!r}; choose from {', '.join(known)}", file=sys.stderr)
        return 2
    return _run(f"builders.{argv[0]}", argv[1:], f"vsumhub build {argv[0]}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="vsumhub", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="commands:\n" + __doc__.split("\n\n")[1] + "\n\n" + __doc__.split("\n\n")[2])
    cli.add_version(p)
    p.add_argument("command", choices=["build", *COMMANDS, "list"], metavar="command",
                   help="build, extract, run, publish, export, train, evaluate or list")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the command's own flags (vsumhub COMMAND --help)")
    return p


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:  # the subcommand's own parser sees every flag, --help included
        return _run(COMMANDS[argv[0]][0], argv[1:], f"vsumhub {argv[0]}")
    if argv and argv[0] == "build":
        return build_command(argv[1:])
    if argv and argv[0] == "list":
        return list_command(argv[1:])
    try:
        parser().parse_args(argv)  # --help, --version, or an unknown command: argparse says it
    except SystemExit as e:
        return int(e.code or 0)
    return 2
