"""How2-MCLS (Liu et al., EMNLP 2022): How2 videos reorganised for multimodal cross-lingual summarization, the
video and its Portuguese transcript -> an English summary, with English support data and low-resource subsets.

See docs/datasets/how2_mcls.md (what it is, its inputs, flags, columns, labels, failures; the card's prose).
"""

from builders.core.base import run
from builders.how2_mcls.how2 import How2Release
from builders.how2_mcls.mcls import MCLSRelease

__all__ = ["How2Release", "MCLSRelease", "main"]


def main(argv=None) -> int:
    """Build; exit 0 when every video built, 3 when some failed (all recorded), 1 when none built, 2 on bad usage."""
    return run({"how2": How2Release, "mcls": MCLSRelease}, argv, prog="python -m builders.how2_mcls",
               description=__doc__.split("\n\n")[0])
