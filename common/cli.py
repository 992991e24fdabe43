"""What every command line shares: ``--version``, and ``--no-progress`` reaching the libraries' own bars.

Entry points build their parser from light modules and import torch, datasets, dask and the rest only
after parsing, so ``--help`` and ``--version`` answer at once (tests/test_cli.py checks the imports).
"""

from __future__ import annotations

import os
import sys
from importlib import metadata

# Libraries whose bars --no-progress turns off: each one's switch, and the variable its worker processes read.
_BARS = (("huggingface_hub.utils", "disable_progress_bars", "HF_HUB_DISABLE_PROGRESS_BARS"),
         ("datasets.utils.logging", "disable_progress_bar", "HF_DATASETS_DISABLE_PROGRESS_BARS"),
         ("transformers.utils.logging", "disable_progress_bar", None))


_prog: str | None = None  # set by the vsumhub front door: usage lines then read "vsumhub build tvsum"


def prog(default: str) -> str:
    """The program name a parser shows: the module's ``python -m ...`` unless run through ``vsumhub``."""
    return _prog or default


def set_prog(name: str | None) -> None:
    global _prog
    _prog = name


def version() -> str:
    try:
        return metadata.version("vsumhub")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def add_version(parser) -> None:
    parser.add_argument("--version", action="version", version=f"vsumhub {version()}")


def silence_progress() -> None:
    """No bar from any library, in this process and in the worker processes it starts afterwards
    (transformers' "Loading weights" follows huggingface_hub's switch, read when it is imported)."""
    for _, _, variable in _BARS:
        if variable:
            os.environ[variable] = "1"
    for module, switch, _ in _BARS:
        if module in sys.modules:  # already imported: its switch; otherwise the variable is read on import
            getattr(sys.modules[module], switch)()
