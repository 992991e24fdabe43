"""The seed papers' result tables as ``models.evaluate --table NAME`` prints a row of them: the paper's column
headers, in its order, each value in the paper's unit (``models.units``; "-" where the metric is absent).

Each entry: (paper and table, the dataset it reports, its columns as (header as printed, our metric name),
the ``--protocol`` it needs or None). docs/experiments.md gives the commands that reach each row.
"""

from __future__ import annotations

from models.units import printed

TVSUM_CATEGORIES = ("VT", "VU", "GA", "MS", "PK", "PR", "FM", "BK", "BT", "DS")  # CFSum Table I's column order
# CFSum Table II's columns: (header, the domain as builders.youtube_highlights names it)
YOUTUBE_DOMAINS = (("Dog", "dog"), ("Gym", "gymnastics"), ("Par", "parkour"), ("Ska", "skating"), ("Ski", "skiing"),
                   ("Sur", "surfing"))

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
    "cfsum-2": ("CFSum Table II, YouTube Highlights mAP", YOUTUBE_DOMAINS + (("Avg.", "Avg."),), None),
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

# Tables whose row is one training run per column (a TVSum category, a YouTube Highlights domain) and Avg. their mean:
# ``models.evaluate --table NAME --run A --run B ...`` assembles it (models.evaluation.table_part: each run's part).
ASSEMBLED = ("cfsum-1", "cfsum-2")


class TableError(ValueError):
    """Runs that cannot make one row (two runs fill the same column)."""


def assemble(name: str, parts: list[tuple[str, dict]]) -> dict:
    """One row of an ASSEMBLED table from (source, {column key: raw value}) pairs: each source fills its columns,
    ``Avg.`` is the mean of the filled columns (those present: a missing column prints "-"), in the table's order."""
    _, columns, _ = TABLES[name]
    keys = [key for _, key in columns if key != "Avg."]
    filled: dict = {}
    owner: dict = {}
    for source, part in parts:
        for key, value in part.items():
            if key in owner:
                header = next(h for h, k in columns if k == key)
                raise TableError(f"{owner[key]} and {source} both fill {name}'s column {header}: one run per column")
            owner[key], filled[key] = source, value
    row = {key: filled[key] for key in keys if key in filled}
    return {**row, "Avg.": sum(row.values()) / len(row)} if row else {}


def table_lines(name: str, metrics: dict) -> list[str]:
    """The table's title, its header (columns separated by " | ") and the row in the paper's units. An ASSEMBLED
    row with columns missing says before its header that its Avg. is over the columns present."""
    title, columns, _ = TABLES[name]
    row = [printed(key, metrics[key]) if key in metrics else "-" for _, key in columns]
    lines = [title]
    present = [h for h, key in columns if key in metrics and key != "Avg."]
    if name in ASSEMBLED and "Avg." in metrics and len(present) < len(columns) - 1:
        lines.append(f"note: Avg. is over the {len(present)} of {len(columns) - 1} columns present "
                     f"({', '.join(present)}); a missing column is '-'")
    return lines + [" | ".join(h for h, _ in columns), " | ".join(row)]
