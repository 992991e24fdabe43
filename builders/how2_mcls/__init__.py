"""How2-MCLS (Liu et al., EMNLP 2022): How2 videos reorganised for multimodal cross-lingual summarization, the
video and its Portuguese transcript -> an English summary, with English support data and low-resource subsets.

    python -m builders.how2_mcls --input HOW2_DIR                    # How2's release, reorganised (section 3.1)
    python -m builders.how2_mcls --source mcls --input MCLS_DATA     # the MCLS authors' reorganised files
    python -m builders.how2_mcls --input HOW2_DIR --videos VIDEOS/   # resnext3d features extracted here
    build(How2Release("how2/"), out="hub/how2-mcls")                  # from Python

Configs: ``mcls`` (train / validation / test as How2's translation data divides them), ``ms`` (English
video-summary support data, train only), ``mcls-1k`` / ``mcls-3k`` (the first 1,000 / 3,000 training videos by sha1
of the id: the low-resource variant of section 3.7; ``--few-shot`` sets the sizes; a size larger than the training videos is left out with a notice, recorded in build.json). Rows: ``id`` / ``video_id``,
``source_split``, ``transcript_pt``, ``transcript_en``, ``summary`` (texts as released: tokenised, lowercased),
``frames_resnext3d`` [T, 2048] (released per-video arrays, or our ``resnext3d`` extractor with ``--videos``, then
with ``frame_times``). A video whose files are missing or malformed is recorded with its kind; the others are built.
"""

from builders.core.base import run
from builders.how2_mcls.how2 import How2Release
from builders.how2_mcls.mcls import MCLSRelease

__all__ = ["How2Release", "MCLSRelease", "main"]


def main(argv=None) -> int:
    """Build; exit 0 when every video built, 3 when some failed (all recorded), 1 when none built, 2 on bad usage."""
    return run({"how2": How2Release, "mcls": MCLSRelease}, argv, prog="python -m builders.how2_mcls",
               description=__doc__.split("\n\n")[0])
