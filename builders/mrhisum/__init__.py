"""Mr.HiSum (Sul et al., NeurIPS 2023 Datasets and Benchmarks): 31,892 YouTube-8M videos whose frame
importance is YouTube's most-replayed curve, aggregated from 50,000+ viewers per video.

See docs/datasets/mrhisum.md (what it is, its inputs, flags, columns, labels, failures; the card's prose).
"""

from builders.core.base import run
from builders.mrhisum.release import MrHiSum


def main(argv=None) -> int:
    """Build; exit 0 when every video built, 3 when some failed (all recorded), 1 when none built, 2 on bad usage."""
    return run(MrHiSum, argv, prog="python -m builders.mrhisum", description=__doc__.split("\n\n")[0])
