"""BLiSS (A2Summ, CVPR 2023): livestreams cut into 5-minute clips with frames, sentences, key
sentences, keyframes and an abstractive summary; published as a Hugging Face dataset + webdataset shards.

See docs/datasets/bliss.md (its five sources, flags, columns, labels, splits, failures; the card's prose).
"""

from __future__ import annotations

from builders.core.base import run
from builders.bliss.a2summ import BlissA2Summ
from builders.bliss.behance import BlissBehance
from builders.bliss.raw import BlissRaw
from builders.bliss.sample import BlissSample
from builders.bliss.streamhover import StreamHover

SOURCES = {"sample": BlissSample, "raw": BlissRaw, "a2summ": BlissA2Summ, "behance": BlissBehance,
           "streamhover": StreamHover}


def main(argv=None) -> int:
    """Build; exit 0 when every item built, 3 when some failed (all recorded), 1 when none built, 2 on bad usage."""
    return run(SOURCES, argv, prog="python -m builders.bliss", description=__doc__.split("\n\n")[0])
