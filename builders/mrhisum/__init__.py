"""Mr.HiSum (Sul et al., NeurIPS 2023 Datasets and Benchmarks): 31,892 YouTube-8M videos whose frame
importance is YouTube's most-replayed curve, aggregated from 50,000+ viewers per video.

    python -m builders.mrhisum --h5 mr_hisum.h5 --metadata metadata.csv --splits mr_hisum_split.json
    python -m builders.mrhisum --collect --metadata metadata.csv [--splits ...] [--info-json DIR] [--limit N]
    build(MrHiSum("mr_hisum.h5", "metadata.csv", "mr_hisum_split.json"), out="hub/mrhisum")   # from Python

Release (Mr.HiSum repository: ``model/mrhisum_dataset.py``, ``dataset/DATASET.md``, README):

- ``mr_hisum.h5``: a group per video (``video_1`` ...) with ``gtscore`` [n] (the curve, 0..1, one value per
  second), ``change_points`` [S, 2] (KTS shots), ``gt_summary`` [n] (0/1 knapsack summary at 15%; the
  README calls it ``gtsummary``, the loader reads ``gt_summary``: both are accepted) and, once the user
  adds them from YouTube-8M with the repository's ``preprocess.py``, ``features`` [n, 1024] (YouTube-8M
  frame features, 1 fps);
- ``metadata.csv``: ``video_id, yt8m_file, random_id, youtube_id, duration, views, labels``;
- ``mr_hisum_split.json``: ``{train_keys, val_keys, test_keys}`` (27,892 / 2,000 / 2,000).

Rows (config ``annotations``, or ``yt8m`` when the h5 holds the features): ``id`` = ``video_id`` =
``video_N``; ``youtube_id``, ``yt8m_file``, ``random_id``, ``views``, ``labels`` (YouTube-8M class ids),
``duration`` from the metadata; ``n_frames`` = len(gtscore), ``fps`` = 1, ``picks`` = 0..n-1,
``frame_times`` = picks (gtscore[k] is the curve at instant k s); ``frame_scores`` = gtscore;
``change_points`` as inclusive frame ranges (the file's rows are read as inclusive when consecutive rows
touch as end + 1 = next start, as exclusive when end = next start, and converted; the rule found is
in build.json), ``n_frame_per_seg``; ``user_summary`` [1, n] = gt_summary; ``frames_yt8m`` [n, 1024].

``--collect`` fetches each ``youtube_id``'s curve anew with the YouTube collector (info only, no media)
and aligns it as Mr.HiSum's ``align_most_replayed`` does: second k takes marker floor(k * 1000 /
marker duration in ms), at most the last marker, for k < int(duration). Config ``collected``: the
curve (``heatmap``) and ``frame_scores``; a video without the curve fails ``no_heatmap``.
"""

from builders.core.base import run
from builders.mrhisum.release import MrHiSum


def main(argv=None) -> int:
    """Build; exit 0 when every video built, 3 when some failed (all recorded), 1 when none built, 2 on bad usage."""
    return run(MrHiSum, argv, prog="python -m builders.mrhisum", description=__doc__.split("\n\n")[0])
