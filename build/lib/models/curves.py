"""The training curves of a run as one PNG: train loss parts, train vs validation loss, validation metrics.

Drawn from ``metrics.jsonl`` after every epoch, so the picture is always the run so far. Needs
matplotlib (Agg backend, no display); without it the run goes on and says so once.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger("models.curves")
_WARNED = False


def plot_curves(metrics_path: Path, out_path: Path) -> bool:
    """Write the PNG; False (and one warning) when matplotlib is not installed."""
    global _WARNED
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        if not _WARNED:
            log.warning("matplotlib is not installed: no %s (pip install matplotlib)", out_path.name)
            _WARNED = True
        return False
    lines = [json.loads(line) for line in Path(metrics_path).read_text().splitlines() if line.strip()]
    if not lines:
        return False
    epochs = [m["epoch"] for m in lines]
    fig, (left, mid, right) = plt.subplots(1, 3, figsize=(15, 4))
    for key in sorted({k for m in lines for k in m["train"]}):
        left.plot(epochs, [m["train"].get(key, float("nan")) for m in lines], marker=".", label=key)
    left.set(title="train loss parts (mean per epoch)", xlabel="epoch")
    left.legend(fontsize=7)
    mid.plot(epochs, [m["train"].get("total", float("nan")) for m in lines], marker=".", label="train total")
    mid.plot(epochs, [(m.get("validation") or {}).get("loss", float("nan")) for m in lines], marker=".",
             label="validation loss")
    mid.set(title="loss", xlabel="epoch")
    mid.legend(fontsize=7)
    val_keys = sorted({k for m in lines for k, v in (m.get("validation") or {}).items()
                       if isinstance(v, float) and k != "loss"})
    for key in val_keys:
        right.plot(epochs, [(m.get("validation") or {}).get(key, float("nan")) for m in lines], marker=".", label=key)
    best = lines[-1].get("selection", {}).get("best_epoch")
    for ax in (mid, right):
        if best:
            ax.axvline(best, color="grey", linestyle=":", label=f"best (epoch {best})" if ax is right else None)
        ax.xaxis.get_major_locator().set_params(integer=True)
    left.xaxis.get_major_locator().set_params(integer=True)
    criterion = lines[-1].get("selection", {}).get("criterion", "")
    right.set_title(f"validation (best by {criterion})", fontsize=9)
    right.set_xlabel("epoch")
    if val_keys:
        right.legend(fontsize=7)
    fig.tight_layout()
    tmp = out_path.with_name(out_path.name + ".tmp.png")
    fig.savefig(tmp, dpi=80)
    plt.close(fig)
    tmp.replace(out_path)
    return True
