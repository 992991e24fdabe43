"""Evaluate on a published dataset with the dataset's own protocol.

    python -m models.evaluate --dataset hub/tvsum --baseline human [--config NAME] [--split NAME] [--json]

Frame-importance datasets (TVSum, SumMe, eccv16 imports: columns ``user_summary`` and
``change_points``) use the eccv16 / Otani protocol: predicted scores at ``picks`` are spread to
every frame, averaged per shot, and a keyshot summary is chosen by knapsack within 15% of the
frames; keyshot F1 against each annotator's summary (mean over annotators for TVSum, max for
SumMe), and Kendall's tau / Spearman's rho against each annotator's frame scores (``user_scores``;
``user_summary`` where a dataset has no scores), averaged over annotators, then over videos.

Reference baselines:
- ``human``: each annotator against the others (leave one out), the ceiling Otani et al. report;
- ``random``: independent uniform random scores per sampled frame, averaged over ``--trials``;
- ``uniform``: every frame equally important (a constant score). Rank correlation is 0 by
  definition (all ties); the summary is what knapsack picks when every shot is worth the same.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from builders.keyshots import keyshot_summary, upsample_scores
from models.metrics.keyshot import keyshot_f_score
from models.metrics.rank import human_rank_correlation, rank_correlation

BASELINES = ("human", "random", "uniform")
FRAME_IMPORTANCE_COLUMNS = ("user_summary", "change_points", "n_frames")


class DatasetError(ValueError):
    """The dataset cannot be evaluated as asked (missing config, split or column)."""


def load_split(dataset: str | Path, config: str | None, split: str | None):
    """The rows to evaluate: one split, or every split of the config concatenated.

    Reads the hub layout (``data/<config>/<split>-*.parquet``) directly, so a dataset evaluates
    whether or not its card is there.
    """
    from datasets import concatenate_datasets, load_dataset

    data = Path(dataset) / "data"
    names = sorted(p.name for p in data.iterdir() if p.is_dir()) if data.is_dir() else []
    if not names:
        raise DatasetError(f"{dataset} is not a published dataset: no data/<config>/ directories")
    if config is None:
        if len(names) != 1:
            raise DatasetError(f"{dataset} has configs {names}: choose one with --config")
        config = names[0]
    elif config not in names:
        raise DatasetError(f"{dataset} has no config {config!r}; configs: {', '.join(names)}")
    splits = sorted({f.name.split("-")[0] for f in (data / config).glob("*.parquet")})
    files = {s: str(data / config / f"{s}-*.parquet") for s in splits}
    if split is not None and split not in files:
        raise DatasetError(f"{dataset} config {config} has no split {split!r}; splits: {', '.join(splits)}")
    dd = load_dataset("parquet", data_files=files if split is None else {split: files[split]})
    return config, dd[split] if split is not None else concatenate_datasets([dd[s] for s in dd])


def require_columns(ds, columns, what: str) -> None:
    missing = [c for c in columns if c not in ds.column_names]
    if missing:
        raise DatasetError(f"{what} needs columns {missing}; the dataset has: {', '.join(ds.column_names)}")


def f1_mode_for(dataset: str | Path) -> str:
    """SumMe is scored against the best-matching annotator (max); every other dataset by the mean."""
    build = Path(dataset) / "build.json"
    name = json.loads(build.read_text()).get("dataset", "") if build.exists() else Path(dataset).name
    return "max" if "summe" in name.lower() else "mean"


def _annotator_scores(ex) -> np.ndarray:
    scores = ex.get("user_scores")
    return np.asarray(scores if scores is not None and len(scores) else ex["user_summary"], dtype=np.float64)


def evaluate_video(step_scores: np.ndarray, ex: dict, f1_mode: str, proportion: float) -> dict:
    """Metrics of predicted scores at ``ex['picks']`` for one video."""
    n = int(ex["n_frames"])
    change_points = np.asarray(ex["change_points"])
    picks = np.asarray(ex["picks"]) if "picks" in ex and ex["picks"] is not None else np.arange(len(step_scores)) * 15
    summary = keyshot_summary(step_scores, change_points, n, picks, proportion)
    users = np.asarray(ex["user_summary"])
    out = {"f1": keyshot_f_score(summary, users, f1_mode)}
    out.update(rank_correlation(upsample_scores(step_scores, picks, n), _annotator_scores(ex)))
    return out


def human_video(ex: dict, f1_mode: str) -> dict:
    """Each annotator's own summary against the other annotators, averaged over annotators."""
    users = np.asarray(ex["user_summary"])
    if len(users) < 2:
        raise DatasetError(f"{ex['id']}: the human reference needs at least two annotators")
    f1 = np.mean([keyshot_f_score(users[i], np.delete(users, i, axis=0), f1_mode) for i in range(len(users))])
    return {"f1": float(f1), **human_rank_correlation(_annotator_scores(ex))}


def evaluate_baseline(ds, baseline: str, f1_mode: str, proportion: float = 0.15, trials: int = 10,
                      seed: int = 0) -> dict:
    """Mean over videos of the baseline's metrics."""
    require_columns(ds, FRAME_IMPORTANCE_COLUMNS, "the frame-importance protocol")
    rng = np.random.default_rng(seed)
    per_video = []
    for ex in ds.with_format("numpy"):
        n_steps = len(ex["picks"]) if "picks" in ex else len(ex["frame_scores"])
        if baseline == "human":
            per_video.append(human_video(ex, f1_mode))
        elif baseline == "uniform":
            per_video.append(evaluate_video(np.full(n_steps, 0.5), ex, f1_mode, proportion))
        elif baseline == "random":
            runs = [evaluate_video(rng.random(n_steps), ex, f1_mode, proportion) for _ in range(trials)]
            per_video.append({k: float(np.mean([r[k] for r in runs])) for k in runs[0]})
        else:
            raise DatasetError(f"unknown baseline {baseline!r}; choose from {', '.join(BASELINES)}")
    if not per_video:
        raise DatasetError("no videos to evaluate")
    return {k: float(np.mean([v[k] for v in per_video])) for k in per_video[0]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", required=True, type=Path, help="a published dataset directory (hub/<name>)")
    p.add_argument("--config", help="config name (needed when the dataset has several)")
    p.add_argument("--split", help="split to evaluate (default: every split)")
    p.add_argument("--baseline", choices=BASELINES, required=True, help="reference baseline to evaluate")
    p.add_argument("--f1-mode", choices=("mean", "max"), help="combine F1 over annotators (default: max for SumMe, else mean)")
    p.add_argument("--proportion", type=float, default=0.15, help="summary budget as a fraction of frames (0.15)")
    p.add_argument("--trials", type=int, default=10, help="random baseline: trials averaged per video (10)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object: metric name -> value")
    args = p.parse_args(argv)
    if not args.dataset.is_dir():
        print(f"error: --dataset {args.dataset} is not a directory", file=sys.stderr)
        return 2
    try:
        config, ds = load_split(args.dataset, args.config, args.split)
        mode = args.f1_mode or f1_mode_for(args.dataset)
        metrics = evaluate_baseline(ds, args.baseline, mode, args.proportion, args.trials, args.seed)
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(metrics))
        return 0
    print(f"dataset {args.dataset}  config {config}  split {args.split or 'all'}  videos {ds.num_rows}  "
          f"baseline {args.baseline}  F1 over annotators: {mode}")
    for name, value in metrics.items():
        print(f"  {name:<14} {value:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
