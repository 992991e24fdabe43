"""BLiSS (A2Summ, CVPR 2023): livestreams cut into 5-minute clips with frames, sentences, key
sentences, keyframes and an abstractive summary; published as a Hugging Face dataset + webdataset shards.

    python -m builders.bliss                                  # the bundled sample -> hub/bliss-sample
    python -m builders.bliss --source raw --input DIR         # your own livestreams (docs/raw-layout.md)
    python -m builders.bliss --source a2summ --input DIR      # the files A2Summ released
    python -m builders.bliss --source behance --listing URL   # crawl new livestreams from behance.net
    python -m builders.bliss --source streamhover --input DIR # StreamHover's released transcripts and summaries

One module per source, each a builder on builders.core.base: ``sample`` (builders.bliss.sample),
``raw`` (builders.bliss.raw: the labels are defined there), ``a2summ`` (builders.bliss.a2summ),
``behance`` (builders.bliss.behance: a crawl, then built as raw), ``streamhover``
(builders.bliss.streamhover: transcripts only, its own dataset).
From Python: ``build(BlissRaw("livestreams/", visual="clip"), out="hub/bliss")``.
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
