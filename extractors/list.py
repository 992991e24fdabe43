"""``python -m extractors.list``: the registered extractors as a table, without loading any model."""

from __future__ import annotations

import argparse
import shutil
import textwrap

from common import cli
from extractors.registry import REGISTRY, names

COLUMNS = ("name", "modality", "dim", "sampling", "weights", "summary")


def table(modality: str | None = None, width: int | None = None) -> str:
    """Fixed columns for the short fields; the long ones (weights, summary) wrap to the terminal."""
    rows = [[getattr(REGISTRY[n], c) for c in COLUMNS] for n in names(modality)]
    fixed = [max(len(c), *(len(r[i]) for r in rows)) if rows else len(c) for i, c in enumerate(COLUMNS[:4])]
    width = width or shutil.get_terminal_size((160, 24)).columns
    rest = max(24, (width - sum(fixed) - 2 * len(COLUMNS)) // 2)
    widths = fixed + [rest, rest]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(COLUMNS, widths)).rstrip()]
    for row in rows:
        cells = [[c] if i < 4 else textwrap.wrap(c, w) or [""] for i, (c, w) in enumerate(zip(row, widths))]
        for k in range(max(len(c) for c in cells)):
            lines.append("  ".join((c[k] if k < len(c) else "").ljust(w) for c, w in zip(cells, widths)).rstrip())
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=cli.prog("python -m extractors.list"), description=__doc__)
    cli.add_version(p)
    p.add_argument("--modality", choices=sorted({e.modality for e in REGISTRY.values()}), help="only this modality")
    args = p.parse_args(argv)
    print(table(args.modality))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
