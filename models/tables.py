"""The seed papers' result tables as ``models.evaluate --table NAME`` prints a row of them: the paper's column
headers, in its order, each value in the paper's unit (``models.units``; "-" where the metric is absent).

Each entry: (paper and table, the dataset it reports, its columns as (header as printed, our metric name),
the ``--protocol`` it needs or None). docs/experiments.md gives the commands that reach each row.
"""

from __future__ import annotations

from models.units import printed

TVSUM_CATEGORIES = ("VT", "VU", "GA", "MS", "PK", "PR", "FM", "BK", "BT", "DS")  # CFSum Table I's column order

F1_TAU_RHO = (("F1", "f1"), ("τ", "kendall_tau"), ("ρ", "spearman_rho"))
ROUGE = (("R-1", "rouge1"), ("R-2", "rouge2"), ("R-L", "rougeL"))
COS = (("Cos(%)", "keyframe_cos"),)
MRHISUM = (("F1", "f1"), ("MAP ρ=50%", "map50"), ("MAP ρ=15%", "map15"))
COVER = (("MAP", "map"), ("R10@1", "r10@1"), ("R10@2", "r10@2"), ("R10@5", "r10@5"))
VDF = tuple((n, n) for n in ("BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "ROUGE-1", "ROUGE-2", "ROUGE-L", "METEOR", "CIDEr"))

TABLES = {
    "a2summ-1-cnn": ("A2Summ Table 1, CNN", ROUGE, None),
    "a2summ-1-dailymail": ("A2Summ Table 1, Daily Mail", ROUGE + COS, None),
    "a2summ-2": ("A2Summ Table 2, SumMe / TVSum", F1_TAU_RHO, None),
    "a2summ-3": ("A2Summ Table 3, BLiSS", ROUGE + COS, None),
    "a2summ-4": ("A2Summ Table 4, SumMe ablation", (("F1", "f1"),), None),
    "hiersum-2": ("HierSum Table 2, TVSum", (("F1 score", "f1"), ("τ", "kendall_tau"), ("ρ", "spearman_rho")), None),
    "hiersum-3": ("HierSum Table 3, BLiSS", ROUGE + COS, None),
    "hiersum-4": ("HierSum Table 4, Mr.HiSum", MRHISUM, None),
    "hiersum-5": ("HierSum Table 5, WikiHow Summaries", F1_TAU_RHO, None),
    "hiersum-6": ("HierSum Table 6, BLiSS cross-dataset", COS, None),
    "hiersum-7": ("HierSum Table 7, Mr.HiSum cross-dataset", MRHISUM, None),
    "cfsum-1": ("CFSum Table I, TVSum top-5 mAP", tuple((c, c) for c in TVSUM_CATEGORIES) + (("Avg.", "Avg."),),
                "tvsum-top5"),
    "cfsum-2": ("CFSum Table II, YouTube Highlights (one domain per run; the row is the six and their mean)",
                (("mAP", "mAP"),), None),
    "cfsum-3": ("CFSum Table III, QVHighlights (Saliency >= Very Good)",
                (("mAP", "HL-min-VeryGood-mAP"), ("HIT@1", "HL-min-VeryGood-Hit1")), None),
    "mhms-1": ("MHMS Table 1, VMSMO", ROUGE + COVER, None),
    "mhms-2": ("MHMS Table 2, VMSMO video", COVER, None),
    "mhms-3": ("MHMS Table 3, VMSMO text", ROUGE, None),
    "mhms-4-cnn": ("MHMS Table 4, CNN", ROUGE, None),
    "mhms-4-dailymail": ("MHMS Table 4, Daily Mail", ROUGE + COS, None),
    "mhms-5": ("MHMS Table 5, Daily Mail video", COS, None),
    "mhms-6": ("MHMS Table 6, Daily Mail text", ROUGE, None),
    "vdf-2": ("VDF Table 2, How2-MCLS", VDF, None),
    "vdf-3": ("VDF Table 3, How2-MCLS with How2-MS", VDF, None),
    "vdf-few-shot": ("VDF section 3.7, How2-MCLS 1k / 3k (configs mcls-1k, mcls-3k)", VDF, None),
}


def table_lines(name: str, metrics: dict) -> list[str]:
    """The table's title, its header (columns separated by " | ") and the row in the paper's units."""
    title, columns, _ = TABLES[name]
    row = [printed(key, metrics[key]) if key in metrics else "-" for _, key in columns]
    return [title, " | ".join(h for h, _ in columns), " | ".join(row)]
