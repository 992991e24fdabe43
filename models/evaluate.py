"""Evaluate on a published dataset with the dataset's own protocol.

    python -m models.evaluate --dataset hub/tvsum --baseline human [--config NAME] [--split NAME] [--json]
    python -m models.evaluate --dataset hub/bliss-sample --baseline textrank --split test
    python -m models.evaluate --run runs/a2summ [--dataset hub/bliss-sample] [--split test] [--checkpoint best|last]
    python -m models.evaluate --dataset hub/qvhighlights --config annotations --split validation \
        --predictions val_preds.jsonl --format moment_detr           # another project's outputs, our protocol

``--baseline`` (a reference that needs no training), ``--run`` (a trained model: its
``checkpoint-best.pt``, chosen on validation) and ``--predictions FILE --format F`` (scores another
project wrote: Moment-DETR's submission jsonl, Mr.HiSum's / PGL-SUM's JSON, the eccv16 ``result.h5``;
``models.predictions``) are alternatives. A baseline evaluates every split
unless ``--split`` says; a run evaluates ``test`` unless ``--split`` says. The protocol follows the
dataset's columns (``models.protocols``):

Frame-importance datasets (TVSum, SumMe, eccv16 imports: columns ``user_summary`` and
``change_points``) use the eccv16 / Otani protocol: predicted scores at ``picks`` are spread to
every frame, averaged per shot, and a keyshot summary is chosen by knapsack within 15% of the
frames; keyshot F1 against each annotator's summary (mean over annotators for TVSum, max for
SumMe), and Kendall's tau / Spearman's rho against each annotator's frame scores (``user_scores``;
``user_summary`` where a dataset has no scores), averaged over annotators, then over videos.
``--keyshot-protocol dsnet|a2summ`` builds the keyshot summary as DSNet / A2Summ do instead
(``builders.labels.keyshots``); ``--rouge-order a2summ`` passes ROUGE's arguments in A2Summ's order.
Highlight datasets: QVHighlights by Moment-DETR's ``standalone_eval`` (HL mAP / HIT@1 at Fair,
Good, Very Good), YouTube Highlights by UMT's AP, Mr.HiSum by its solver's F1 and MAP50 / MAP15.

BLiSS-style datasets: ROUGE-1/2/L/Lsum of the selected sentences against ``summary``, A2Summ's
keyframe cosine of ``thumbnail_<visual>`` against the selected frames, F1 and accuracy of the
selected sentences / frames against the labels. Most-replayed datasets (HierSum's videos):
Mr.HiSum MAP at rho 50% / 15%. Selection never looks at the ground truth: the top ``--proportion``
(15%) of frames and of sentences, at least one (``models.selection``); ``--oracle-k`` instead keeps
as many as there are key items, A2Summ's released top-k, which reads the labels (not a fair
prediction; compare only with numbers computed the same way).

A run of a model that generates text (VDF, ``models.registry.SEQ2SEQ``) is evaluated by its own evaluator
(``models.vdf.evaluate``): summaries generated with beam search, corpus BLEU-1..4, ROUGE-1/2/L, METEOR and CIDEr
printed as its paper's tables (protocol ``generation``).

Reference baselines (``models.baselines``):
- ``human``: each annotator against the others (leave one out), the ceiling Otani et al. report
  (frame-importance datasets only: it needs several annotators);
- ``random``: independent uniform random scores per frame / sentence, averaged over ``--trials``;
- ``uniform``: frame-importance and most-replayed datasets: every frame equally important (a
  constant score; rank correlation is 0 by definition, the summary is what knapsack picks when
  every shot is worth the same); BLiSS-style: k evenly spaced frames and sentences;
- ``kmeans``: VSUMM-style, k-means on the frame (and sentence) features with k = the budget, the
  item nearest each centroid (on frame-importance datasets the chosen frames score 1, others 0);
- ``lead3`` (the first 3 sentences) and ``textrank`` (PageRank on the sentence-similarity graph,
  top by proportion): text only, BLiSS-style and news datasets;
- ``first``: the first frame as the cover / keyframe (then the frames in time order), news datasets.

News datasets (VMSMO, MM-AVS Daily Mail / CNN; MHMS Tables 1-6): ROUGE of the generated summary (a
model's) or of the selected sentences (a baseline's) against ``summary``, VMSMO's cover MAP and R10@1/2/5
of the frame scores at its 10 candidates, and Daily Mail's keyframe cosine of one chosen keyframe
against the article's images. News baselines choose one keyframe: ``uniform`` the middle frame,
``kmeans`` the frame nearest the mean (VSUMM with one cluster), ``random`` random scores.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from common import cli
from common.loading import load_object
from models import baselines as B
from models.data import (
    KEY_SENTENCES,
    Columns,
    DatasetError,
    ParquetSource,
    dataset_rows,
    resolve_columns,
    split_files,
)
from models.data import resolve_config as _resolve_config
from models.loader import Loader
from models.metrics.keyshot import keyshot_f_score
from models.metrics.rank import human_rank_correlation
from models.protocols import (
    FRAME_IMPORTANCE_COLUMNS,
    aggregate,
    annotator_scores,
    declared,
    detect,
    example_metrics,
    multimodal_example,
    news_example,
    oracle_k,
    protocol_columns,
    protocol_visual,
    score,
)
from models.predictions import FORMATS, PredictionError, match_rows, percent, read_predictions
from models.runs import RunError, load_run, passthrough_columns, predict
from models.selection import budget, indicator
from builders.labels.keyshots import PROTOCOLS

BASELINES = ("human", "random", "uniform", "kmeans", "lead3", "textrank", "first")
TEXT_ONLY = ("lead3", "textrank")

__all__ = ["BASELINES", "DatasetError", "evaluate_baseline", "evaluate_run", "load_split", "main"]


def load_split(dataset: str | Path, config: str | None, split: str | None):
    """The rows to evaluate: one split, or every split of the config concatenated.

    Reads the hub layout (``data/<config>/<split>-*.parquet``) directly, so a dataset evaluates
    whether or not its card is there.
    """
    from datasets import concatenate_datasets, load_dataset

    config = _resolve_config(dataset, config)
    if split is not None:
        files = {split: split_files(dataset, config, split)}
    else:
        data = Path(dataset) / "data" / config
        files = {s: str(data / f"{s}-*.parquet") for s in sorted({f.name.split("-")[0] for f in data.glob("*.parquet")})}
    try:
        dd = load_dataset("parquet", data_files=files)
    except Exception as e:  # a corrupt or truncated shard
        raise DatasetError(f"cannot read {dataset} config {config}: {type(e).__name__}: {e}") from e
    return config, dd[split] if split is not None else concatenate_datasets([dd[s] for s in dd])


def f1_mode_for(dataset: str | Path, config: str | None = None) -> str:
    """SumMe is scored against the best-matching annotator (max); every other dataset by the mean."""
    if "family" in declared(dataset, config):
        return "max" if declared(dataset, config)["family"] == "summe" else "mean"
    build = Path(dataset) / "build.json"
    name = json.loads(build.read_text()).get("dataset", "") if build.exists() else Path(dataset).name
    return "max" if "summe" in name.lower() else "mean"


def human_video(ex: dict, f1_mode: str) -> dict:
    """Each annotator's own summary against the other annotators, averaged over annotators."""
    users = np.asarray(ex["user_summary"])
    if len(users) < 2:
        raise DatasetError(f"{ex['id']}: the human reference needs at least two annotators")
    f1 = np.mean([keyshot_f_score(users[i], np.delete(users, i, axis=0), f1_mode) for i in range(len(users))])
    return {"f1": float(f1), **human_rank_correlation(annotator_scores(ex))}


def protocol_of(ds, dataset=None, config: str | None = None) -> str:
    """The dataset's protocol; when none fits, an error naming the frame-importance columns it lacks."""
    try:
        return detect(ds.column_names, dataset, config)
    except ValueError:
        missing = [c for c in FRAME_IMPORTANCE_COLUMNS if c not in ds.column_names]
        raise DatasetError(f"the frame-importance protocol needs columns {missing}; the dataset has: "
                           f"{', '.join(ds.column_names)} (other protocols: frame_scores + heatmap for most-replayed "
                           "curves; summary / thumbnail_* / sentence_labels / frame_labels for BLiSS-style datasets)") from None


def _frames_column(ds, asked: str | None) -> str:
    return resolve_columns(ds.column_names, video=asked, use_text=False).video


def _check_baseline(baseline: str, protocol: str) -> None:
    if protocol == "generation":
        raise DatasetError("this dataset's summaries are generated text (generation protocol): evaluate a trained "
                           "model's run (--run), the reference baselines select frames and sentences")
    if baseline not in BASELINES:
        raise DatasetError(f"unknown baseline {baseline!r}; choose from {', '.join(BASELINES)}")
    if baseline == "human" and protocol != "frame_importance":
        raise DatasetError("the human baseline needs several annotators' summaries (user_summary); "
                           f"this dataset is evaluated with the {protocol} protocol")
    if baseline in TEXT_ONLY and protocol not in ("multimodal", "news"):
        raise DatasetError(f"{baseline} selects sentences; the {protocol} protocol scores frames only")
    if baseline == "first" and protocol != "news":
        raise DatasetError("first (the first frame as the cover) is a baseline of news datasets (VMSMO, MM-AVS); "
                           f"this dataset is evaluated with the {protocol} protocol")


def _video_scores(baseline: str, n: int, features, k: int, rng, seed: int) -> np.ndarray:
    """Frame scores of a frame baseline (frame-importance and most-replayed protocols)."""
    if baseline == "random":
        return B.random_scores(n, rng)
    if baseline == "uniform":
        return np.full(n, 0.5)
    return indicator(B.kmeans_pick(features, k, seed), n).astype(np.float64)  # kmeans


def _multimodal_prediction(baseline: str, row: dict, cols: Columns, visual, proportion: float, oracle: bool,
                           rng, seed: int) -> dict:
    n_frames = len(row[cols.video])
    n_sent = len(row["sentences"]) if row.get("sentences") is not None else 0
    kv = budget(n_frames, proportion, oracle_k(row, "video", visual) if oracle else None)
    kt = budget(n_sent, proportion, oracle_k(row, "text", visual) if oracle else None)
    if baseline == "random":
        return {"video_scores": B.random_scores(n_frames, rng), "text_scores": B.random_scores(n_sent, rng)}
    if baseline == "uniform":
        return {"video_pick": B.uniform_pick(n_frames, kv), "text_pick": B.uniform_pick(n_sent, kt)}
    if baseline == "lead3":
        return {"text_pick": B.lead_pick(n_sent, 3)}
    text = row.get(cols.text) if cols.text else None
    if baseline == "textrank":
        if text is None:
            raise DatasetError("textrank needs sentence features: pass --text-features")
        return {"text_scores": B.textrank_scores(text)}
    pred = {"video_pick": B.kmeans_pick(row[cols.video], kv, seed)}  # kmeans
    if text is not None:
        pred["text_pick"] = B.kmeans_pick(text, kt, seed)
    return pred


def _news_prediction(baseline: str, row: dict, cols: Columns, proportion: float, rng, seed: int) -> dict:
    """A news baseline: the cover / keyframe as frame scores (one keyframe, MHMS Table 5), sentences as picks."""
    n_frames = len(row[cols.video])
    n_sent = len(row["sentences"]) if row.get("sentences") is not None else 0
    kt = budget(n_sent, proportion)
    if baseline == "random":
        return {"video_scores": B.random_scores(n_frames, rng), "text_scores": B.random_scores(n_sent, rng)}
    if baseline == "uniform":  # one evenly spaced frame is the middle one
        return {"video_scores": indicator(B.uniform_pick(n_frames, 1), n_frames).astype(np.float64),
                "text_pick": B.uniform_pick(n_sent, kt)}
    if baseline == "first":  # the first frame as the cover; the rest in time order
        return {"video_scores": -np.arange(n_frames, dtype=np.float64)}
    if baseline == "lead3":
        return {"text_pick": B.lead_pick(n_sent, 3)}
    text = row.get(cols.text) if cols.text else None
    if baseline == "textrank":
        if text is None:
            raise DatasetError("textrank needs sentence features: pass --text-features")
        return {"text_scores": B.textrank_scores(text)}
    pred = {"video_scores": indicator(B.kmeans_pick(row[cols.video], 1, seed), n_frames).astype(np.float64)}  # kmeans
    if text is not None and n_sent:
        pred["text_pick"] = B.kmeans_pick(text, kt, seed)
    return pred


def steps_of(row: dict) -> int | None:
    """How many scores a frame prediction of this row holds (None: the row has nothing to score)."""
    for name in ("picks", "frame_scores", "frame_labels"):
        if row.get(name) is not None:
            return len(row[name])
    if row.get("user_scores") is not None:
        return len(row["user_scores"][0])
    return None


def evaluate_baseline(ds, baseline: str, f1_mode: str, proportion: float = 0.15, trials: int = 10,
                      seed: int = 0, dataset=None, oracle: bool = False, video_features: str | None = None,
                      text_features: str | None = None, keyshots: str = "eccv16", rouge_order: str = "library") -> dict:
    """Mean over videos of the baseline's metrics, with the dataset's protocol."""
    protocol = protocol_of(ds, dataset)
    _check_baseline(baseline, protocol)
    rng = np.random.default_rng(seed)
    needs_frames = baseline == "kmeans" or protocol in ("multimodal", "news")
    cols = Columns(video=_frames_column(ds, video_features)) if needs_frames else None
    if protocol in ("multimodal", "news"):
        cols = resolve_columns(ds.column_names, video=cols.video, text=text_features, use_text=True)
    visual = protocol_visual(protocol, ds.column_names, cols.video if cols else None)
    names = protocol_columns(protocol, visual) + ["frame_scores", "frame_times"]
    names += [c for c in (cols.video, cols.text) if c] if cols else []
    per_video = []
    runs = trials if baseline == "random" else 1
    for row in dataset_rows(ds, names):
        if baseline == "human":
            per_video.append(human_video(row, f1_mode))
            continue
        results = []
        for _ in range(runs):
            if protocol == "multimodal":
                pred = _multimodal_prediction(baseline, row, cols, visual, proportion, oracle, rng, seed)
                results.append(multimodal_example(row, pred, visual, proportion, oracle, rouge_order))
                continue
            if protocol == "news":
                pred = _news_prediction(baseline, row, cols, proportion, rng, seed)
                results.append(news_example(row, pred, visual, proportion, rouge_order))
                continue
            n = steps_of(row)
            if n is None:  # e.g. a QVHighlights test query: no labels to score against
                continue
            feats = row.get(cols.video) if cols else None
            scores = _video_scores(baseline, n, feats, budget(n, proportion), rng, seed)
            results.append(example_metrics(protocol, row, {"video_scores": scores}, proportion=proportion,
                                           f1_mode=f1_mode, keyshots=keyshots))
        results = [r for r in results if r]
        if results:
            per_video.append(aggregate(results))
    if not per_video:
        raise DatasetError("no videos to evaluate")
    return aggregate(per_video)


def evaluate_predictions(path, fmt: str, dataset, config: str | None, split: str, proportion: float = 0.15,
                         f1_mode: str | None = None, keyshots: str = "eccv16") -> tuple[dict, dict]:
    """(metrics, facts) of another project's predictions file on one split, with the dataset's protocol."""
    config, ds = load_split(dataset, config, split)
    protocol = protocol_of(ds, dataset, config)
    key_column = FORMATS.get(fmt, "id")
    if key_column not in ds.column_names:
        raise DatasetError(f"--format {fmt} names its predictions by {key_column}, which {dataset} config {config} "
                           f"does not have")
    names = list(dict.fromkeys(protocol_columns(protocol) + [key_column]))
    rows = list(dataset_rows(ds, names))
    preds = match_rows(read_predictions(path, fmt), rows, key_column,
                       lambda r: any(r.get(c) is not None for c in ("user_scores", "frame_scores", "frame_labels",
                                                                       "user_summary")))
    mode = f1_mode or f1_mode_for(dataset, config)
    metrics, n = score(protocol, rows, preds, proportion=proportion, f1_mode=mode, keyshots=keyshots)
    if not n:
        raise DatasetError(f"no example of {dataset} {split} could be scored with the {protocol} protocol "
                           "(a split without labels?)")
    facts = {"dataset": str(dataset), "config": config, "split": split, "examples": n, "protocol": protocol,
             "predictions": str(path), "format": fmt, "keyshots": keyshots}
    return metrics, facts


def evaluate_run(run_dir, dataset=None, config: str | None = None, split: str = "test", checkpoint: str = "best",
                 proportion: float = 0.15, oracle: bool = False, f1_mode: str | None = None,
                 device: str = "cpu", keyshots: str = "eccv16", rouge_order: str = "library") -> tuple[dict, dict]:
    """(metrics, facts) of a trained run's checkpoint on one split, with the dataset's protocol."""
    seq2seq = _seq2seq_of(run_dir)
    if seq2seq:  # a text generator (VDF): generates summaries and scores them as its paper does
        return load_object(seq2seq["evaluate"])(run_dir, dataset, config, split, checkpoint, device)
    run_config, model, meta = load_run(run_dir, checkpoint, device)
    dataset = dataset or run_config["dataset"]
    if not Path(dataset).exists() and "/" not in str(dataset):
        raise DatasetError(f"--dataset {dataset} is not a directory")
    config, ds = load_split(dataset, config or run_config["config"], split)
    c = run_config["columns"]
    query = None if c.get("query") == KEY_SENTENCES else c.get("query")  # labels are training-only input
    cols = resolve_columns(ds.column_names, c["video"], c.get("text"), c.get("audio"), query, use_text=False)
    cols = Columns(video=cols.video, text=cols.text, audio=cols.audio, query=cols.query,  # no targets needed
                   passthrough=passthrough_columns(run_config["model"], ds.column_names, training=False))
    protocol = protocol_of(ds, dataset, config)
    visual = protocol_visual(protocol, ds.column_names, cols.video)
    batch_size = int(run_config.get("train", {}).get("batch_size") or 8)
    preds = predict(model, Loader(ParquetSource(ds, cols), min(batch_size, 16)).epoch(0), device)
    mode = f1_mode or f1_mode_for(dataset, config)
    rows = dataset_rows(ds, protocol_columns(protocol, visual))
    metrics, n = score(protocol, rows, preds, visual=visual, proportion=proportion, oracle=oracle, f1_mode=mode,
                       keyshots=keyshots, rouge_order=rouge_order)
    if not n:
        raise DatasetError(f"no example of {dataset} {split} could be scored with the {protocol} protocol")
    facts = {"dataset": str(dataset), "config": config, "split": split, "examples": n, "protocol": protocol,
             "model": run_config["model"], "checkpoint": checkpoint, "epoch": meta.get("epoch"), "f1_mode": mode}
    return metrics, facts


def _seq2seq_of(run_dir) -> dict | None:
    """The registry entry of a run whose model generates text (models.registry.SEQ2SEQ), else None."""
    from models.registry import SEQ2SEQ

    path = Path(run_dir) / "config.json"
    model = json.loads(path.read_text()).get("model") if path.is_file() else None
    return SEQ2SEQ.get(model)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=cli.prog("python -m models.evaluate"), description=__doc__.split("\n\n")[0])
    cli.add_version(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars (the data and model libraries' ones)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--baseline", choices=BASELINES, help="reference baseline to evaluate")
    what.add_argument("--run", type=Path, help="a training run directory (python -m models.train --out DIR)")
    what.add_argument("--predictions", type=Path, help="another project's predictions file (see --format)")
    p.add_argument("--format", choices=list(FORMATS), help="with --predictions: moment_detr (standalone_eval submission "
                   "jsonl), mrhisum (JSON {video_id: [score per second]}), eccv16h5 (result.h5 with <key>/score)")
    p.add_argument("--keyshot-protocol", choices=PROTOCOLS, default="eccv16",
                   help="how frame-importance datasets build keyshot summaries: eccv16 (default), dsnet, a2summ")
    p.add_argument("--rouge-order", choices=("library", "a2summ"), default="library",
                   help="ROUGE argument order: the library's documented one (default) or A2Summ's (swapped; "
                        "changes ROUGE-Lsum on multi-sentence texts)")
    p.add_argument("--dataset", type=Path, help="a published dataset directory (hub/<name>); default with --run: the run's")
    p.add_argument("--config", help="config name (needed when the dataset has several)")
    p.add_argument("--split", help="split to evaluate (default: every split for a baseline, test for a run)")
    p.add_argument("--checkpoint", default="best", help="with --run: best (default), last, or a file in the run")
    p.add_argument("--f1-mode", choices=("mean", "max"), help="combine F1 over annotators (default: max for SumMe, else mean)")
    p.add_argument("--proportion", type=float, default=0.15,
                   help="summary budget: fraction of frames (knapsack) or of frames / sentences kept (0.15)")
    p.add_argument("--oracle-k", action="store_true",
                   help="keep as many frames / sentences as there are key items (A2Summ's released top-k; reads the labels)")
    p.add_argument("--video-features", help="frames_* column for baselines that read features (default: the only one)")
    p.add_argument("--text-features", help="sentences_* column for baselines that read features (default: the only one)")
    p.add_argument("--trials", type=int, default=10, help="random baseline: trials averaged per video (10)")
    p.add_argument("--seed", type=int, default=0, help="random baseline: seed of its trials (0)")
    p.add_argument("--device", default="cpu", help="torch device for --run: cpu (default) or cuda")
    p.add_argument("--json", action="store_true", help="print one JSON object: metric name -> value")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.no_progress:
        cli.silence_progress()
    if args.dataset is not None and not args.dataset.is_dir():
        print(f"error: --dataset {args.dataset} is not a directory", file=sys.stderr)
        return 2
    if args.run is None and args.dataset is None:
        print(f"error: --{'predictions' if args.predictions else 'baseline'} needs --dataset", file=sys.stderr)
        return 2
    if (args.predictions is None) != (args.format is None):
        print("error: --predictions and --format go together", file=sys.stderr)
        return 2
    try:
        if args.predictions is not None:
            if args.split is None:
                raise DatasetError("--predictions needs --split: the split the predictions were made on")
            metrics, facts = evaluate_predictions(args.predictions, args.format, args.dataset, args.config, args.split,
                                                  args.proportion, args.f1_mode, args.keyshot_protocol)
            header = (f"predictions {args.predictions} ({args.format})  dataset {facts['dataset']}  config "
                      f"{facts['config']}  split {facts['split']}  examples {facts['examples']}  protocol {facts['protocol']}"
                      + (f"  keyshots {args.keyshot_protocol}" if facts["protocol"] in ("frame_importance", "mrhisum") else ""))
            if args.format == "moment_detr":  # standalone_eval's report: x100, two decimals, its names
                metrics = percent(metrics)
        elif args.run is not None:
            metrics, facts = evaluate_run(args.run, args.dataset, args.config, args.split or "test", args.checkpoint,
                                          args.proportion, args.oracle_k, args.f1_mode, args.device,
                                          args.keyshot_protocol, args.rouge_order)
            header = (f"run {args.run} ({facts['model']}, {facts['checkpoint']} checkpoint, epoch {facts['epoch']})  "
                      f"dataset {facts['dataset']}  config {facts['config']}  split {facts['split']}  "
                      f"examples {facts['examples']}  protocol {facts['protocol']}")
        else:
            config, ds = load_split(args.dataset, args.config, args.split)
            mode = args.f1_mode or f1_mode_for(args.dataset, config)
            metrics = evaluate_baseline(ds, args.baseline, mode, args.proportion, args.trials, args.seed,
                                        args.dataset, args.oracle_k, args.video_features, args.text_features,
                                        args.keyshot_protocol, args.rouge_order)
            protocol = protocol_of(ds, args.dataset, config)
            header = (f"dataset {args.dataset}  config {config}  split {args.split or 'all'}  videos {ds.num_rows}  "
                      f"baseline {args.baseline}  protocol {protocol}"
                      + (f"  F1 over annotators: {mode}" if protocol == "frame_importance" else ""))
    except (DatasetError, RunError, PredictionError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:  # no protocol fits the dataset's columns
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(metrics))
        return 0
    print(header + ("  (--oracle-k: k = true number of key items)" if args.oracle_k else ""))
    width, digits = max([18] + [len(k) for k in metrics]), 2 if args.format == "moment_detr" else 4
    per_metric = facts.get("digits", {}) if args.run is not None else {}  # e.g. VDF: as its paper's tables print
    for name, value in metrics.items():
        print(f"  {name:<{width}} {value:.{per_metric.get(name, digits)}f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
