"""Evaluation metrics, each computed the way the paper that reports it computes it.

One module per family; every function scores one example (video, query, sample) unless its name
says corpus, and the caller averages over the test set as the protocol says. ``PROTOCOLS`` maps
each metric to the paper / released code it follows (the README lists it).
"""

from models.metrics.cover import average_precision, cover_metrics, recall_at_k
from models.metrics.generation import MeteorUnavailable, bleu, cider, generation_scores, meteor
from models.metrics.highlight import (
    qvhighlights_gt_scores,
    qvhighlights_hit1,
    qvhighlights_map,
    tvsum_top5_map,
    youtube_highlights_ap,
)
from models.metrics.keyframe import bliss_keyframe_cosine, dailymail_keyframe_cosine
from models.metrics.keyshot import keyshot_f_score
from models.metrics.mrhisum import mrhisum_map
from models.metrics.rank import human_rank_correlation, rank_correlation
from models.metrics.rouge import corpus_rouge, rouge

PROTOCOLS = {
    "keyshot F1": "Zhang et al. 2016 eccv16 protocol: F1 as DSNet / A2Summ get_summ_f1score (mean: TVSum, max: SumMe); "
                  "keyshots built the eccv16 way, or as DSNet / A2Summ build them (builders.labels.keyshots.PROTOCOLS); "
                  "A2Summ Table 2, HierSum",
    "Kendall tau / Spearman rho": "Otani et al. CVPR 2019: per annotator, frame level, averaged over annotators "
                                  "then videos; A2Summ Table 2, HierSum",
    "Human tau / rho": "Otani et al. CVPR 2019 leave-one-out: each annotator against every other one",
    "ROUGE-1/2/L/Lsum": "rouge-score with Porter stemming, mean of per-example F (A2Summ calc_text_rouge; "
                        "A2Summ's R-L is ROUGE-Lsum); A2Summ, HierSum, MHMS, VDF",
    "keyframe cosine (BLiSS)": "A2Summ calc_video_cos: min-max normalised cosine vs all clip frames, "
                               "greedy one-to-one matching; A2Summ, HierSum",
    "keyframe cosine (Daily Mail)": "A2Summ calc_video_cos: raw cosine, greedy one-to-one matching; A2Summ Table 1, MHMS",
    "MAP rho=50% / 15%": "Mr.HiSum Solver.evaluate: 5-second clip means, top-rho GT clips positive, "
                         "sklearn average precision; HierSum Table 4",
    "TVSum top-5 mAP": "UMT datasets/tvsum.py: per annotator, above-median clips positive, top-5 trapezoid AP; CFSum Table I",
    "YouTube Highlights mAP": "UMT datasets/youtube.py: all clips ranked, trapezoid AP; CFSum Table II",
    "QVHighlights mAP / HIT@1 (>= Very Good)": "Moment-DETR standalone_eval HL-min-VeryGood (as UMT); CFSum Table III",
    "cover MAP / R10@k": "VMSMO (DIMS) metrics.py: AP and recall@k over 10 candidate frames; MHMS Table 1-2",
    "BLEU-1..4 / METEOR / CIDEr": "nlg-eval (coco-caption scorers from pycocoevalcap 1.2, Meteor 1.5 jar); "
                                  "How2 convention, VDF Table 2-3",
}

__all__ = [
    "PROTOCOLS",
    "MeteorUnavailable",
    "average_precision",
    "bleu",
    "bliss_keyframe_cosine",
    "cider",
    "corpus_rouge",
    "cover_metrics",
    "dailymail_keyframe_cosine",
    "generation_scores",
    "human_rank_correlation",
    "keyshot_f_score",
    "meteor",
    "mrhisum_map",
    "qvhighlights_gt_scores",
    "qvhighlights_hit1",
    "qvhighlights_map",
    "rank_correlation",
    "recall_at_k",
    "rouge",
    "tvsum_top5_map",
    "youtube_highlights_ap",
]
