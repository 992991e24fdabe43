"""QVHighlights (Lei et al., NeurIPS 2021): natural-language queries on 150-s YouTube segments, with
relevant windows and per-clip saliency from 3 annotators; the query-based highlight data CFSum reports.

See docs/datasets/qvhighlights.md (what it is, its inputs, flags, columns, labels, failures; the card's prose).
"""

from builders.core.base import run
from builders.qvhighlights.release import QVHighlights

__all__ = ["QVHighlights", "main"]


def main(argv=None) -> int:
    """Build; exit 0 when every query built, 3 when some failed (all recorded), 1 when none built, 2 on bad usage."""
    return run(QVHighlights, argv, prog="python -m builders.qvhighlights", description=__doc__.split("\n\n")[0])
