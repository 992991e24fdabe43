"""QVHighlights (Lei et al., NeurIPS 2021): natural-language queries on 150-s YouTube segments, with
relevant windows and per-clip saliency from 3 annotators; the query-based highlight data CFSum reports.

    python -m builders.qvhighlights --annotations DIR_OR_FILES            # config "annotations": no media
    python -m builders.qvhighlights --annotations DIR --videos DIR        # + CLIP / I3D / PANN per 2-s clip, CLIP query text
    python -m builders.qvhighlights --annotations DIR --collect [--limit N]  # segments downloaded from YouTube, then as --videos
    python -m builders.qvhighlights --annotations DIR --features-dir DIR  # Moment-DETR's released features, as released
    build(QVHighlights("highlight_files/"), out="hub/qvhighlights")     # from Python

The release files (Moment-DETR repository, ``data/``) are ``highlight_{train,val,test}_release.jsonl``,
one query a line: ``qid``, ``query``, ``vid`` (``<youtube id>_<start>_<end>``: the segment of the
YouTube video, seconds), ``duration`` (120..150 s: a segment ends at its video's end), and for train /
val ``relevant_windows`` ([start, end] s), ``relevant_clip_ids`` (2-s clip indices) and
``saliency_scores`` (per relevant clip, 3 annotators, 0..4). Test has no labels; a test file that has
them (Moment-DETR's later ``highlight_test_with_gt.jsonl``) is read with them. Splits: train,
validation (the ``val`` file), test; no video is in two of them (checked).

Rows (one per query), in the shared vocabulary:

- ``id`` = str(qid); ``qid``, ``query``; ``video_id`` = vid; ``youtube_id``, ``clip_start``, ``clip_end``
  (the segment in the YouTube video); ``duration``;
- ``frame_times``: centres of the 2-s clips (1, 3, 5, ... s); ``int(duration / 2)`` clips (Moment-DETR's
  ``mk_gt_scores``) without features, else as many as every feature track has (UMT cuts the same way);
- ``user_scores`` [3, int(duration / 2)]: each annotator's score of every clip, 0 outside
  ``relevant_clip_ids`` (Moment-DETR's ``mk_gt_scores``, transposed): the evaluation's ground truth,
  always the full segment;
- ``frame_scores`` [T] = mean of the 3 scores / 4 (UMT's ``sum / 12``), ``frame_labels`` [T] = 1 on
  ``relevant_clip_ids``; ``relevant_windows``, ``relevant_clip_ids`` as released; all null on test.

A query whose record is malformed is a ``bad_annotation`` failure naming it; the others are built.
A missing, unreadable or unrecognised release file stops the build (exit 2). ``--collect``: see
builders.qvhighlights.collect.
"""

from builders.core.base import run
from builders.qvhighlights.release import QVHighlights

__all__ = ["QVHighlights", "main"]


def main(argv=None) -> int:
    """Build; exit 0 when every query built, 3 when some failed (all recorded), 1 when none built, 2 on bad usage."""
    return run(QVHighlights, argv, prog="python -m builders.qvhighlights", description=__doc__.split("\n\n")[0])
