"""How ``models.evaluate`` prints a metric: in the unit the seed papers print it.

One rule for ``--run``, ``--predictions`` and ``--baseline``: every metric is a percentage (x100, two
decimals: F1, ROUGE, keyframe Cos(%), Mr.HiSum MAP, HL mAP / HIT@1, top-5 mAP, BLEU, METEOR, label F1 /
accuracy) except the ones the papers print as fractions (three decimals): Kendall's tau and Spearman's rho
(A2Summ Table 2, HierSum Tables 2 and 5), VMSMO's cover MAP and R10@k (MHMS Tables 1, 2 and 7) and CIDEr
(VDF Tables 2-3). ``--json`` prints the raw values (fractions) whatever the unit.
"""

from __future__ import annotations

import math
import re

AS_IS = {"kendall_tau", "spearman_rho", "map", "CIDEr"}
AS_IS_PATTERN = re.compile(r"r\d+@\d+$")  # VMSMO's R_n@k (n = its candidates)


def is_percent(name: str) -> bool:
    return name not in AS_IS and not AS_IS_PATTERN.match(name)


def printed(name: str, value: float) -> str:
    """``value`` (a raw fraction) as the papers print metric ``name``."""
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return str(value)
    return f"{100 * value:.2f}" if is_percent(name) else f"{value:.3f}"


def unit(name: str) -> str:
    return "%" if is_percent(name) else "fraction"
