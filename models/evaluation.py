"""Evaluation on a published dataset with its own protocol: baselines, training runs, other projects'
predictions. The command is ``python -m models.evaluate`` (:mod:`models.evaluate`, which parses its flags
before importing this)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from common.loading import load_object
from common.safefiles import read_json
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
    per_category,
    protocol_columns,
    protocol_visual,
    score,
    select,
)
from models.predictions import FORMATS, PredictionError, match_rows, read_predictions
from models.runs import RunError, load_run, model_entry, passthrough_columns, predict
from models.selection import budget, indicator
from models.tables import ASSEMBLED, TABLES, TVSUM_CATEGORIES, TableError, assemble, table_lines
from models.units import printed

BASELINES = B.BASELINES
TEXT_ONLY = ("lead3", "textrank")

__all__ = ["BASELINES", "DatasetError", "evaluate_baseline", "evaluate_run", "load_split", "run"]


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
    facts = declared(dataset, config)
    if "family" in facts:
        return "max" if facts["family"] == "summe" else "mean"
    build = Path(dataset) / "build.json"
    name = read_json(build).get("dataset", "") if build.exists() else Path(dataset).name
    return "max" if "summe" in name.lower() else "mean"


def human_video(ex: dict, f1_mode: str) -> dict:
    """Each annotator's own summary against the other annotators, averaged over annotators."""
    users = np.asarray(ex["user_summary"])
    if len(users) < 2:
        raise DatasetError(f"{ex['id']}: the human reference needs at least two annotators")
    f1 = np.mean([keyshot_f_score(users[i], np.delete(users, i, axis=0), f1_mode) for i in range(len(users))])
    return {"f1": float(f1), **human_rank_correlation(annotator_scores(ex))}


def protocol_of(ds, dataset=None, config: str | None = None, asked: str | None = None) -> str:
    """The dataset's protocol (or the one ``--protocol`` asks for); when none fits, an error naming the
    frame-importance columns it lacks."""
    if asked is not None:
        try:
            return select(asked, ds.column_names, dataset, config)
        except ValueError as e:
            raise DatasetError(str(e)) from None
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
    for name in ("picks", "frame_scores", "frame_labels", "frame_times"):
        if row.get(name) is not None:
            return len(row[name])
    if row.get("user_scores") is not None:
        return len(row["user_scores"][0])
    return None


def evaluate_baseline(ds, baseline: str, f1_mode: str, proportion: float = 0.15, trials: int = 10,
                      seed: int = 0, dataset=None, oracle: bool = False, video_features: str | None = None,
                      text_features: str | None = None, keyshots: str = "eccv16", rouge_order: str = "library",
                      protocol: str | None = None) -> dict:
    """Mean over videos of the baseline's metrics, with the dataset's protocol (or ``--protocol``'s)."""
    protocol = protocol_of(ds, dataset, asked=protocol)
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
    return per_category(aggregate(per_video)) if protocol == "tvsum_top5" else aggregate(per_video)


def evaluate_predictions(path, fmt: str, dataset, config: str | None, split: str, proportion: float = 0.15,
                         f1_mode: str | None = None, keyshots: str = "eccv16",
                         protocol: str | None = None) -> tuple[dict, dict]:
    """(metrics, facts) of another project's predictions file on one split, with the dataset's protocol."""
    config, ds = load_split(dataset, config, split)
    protocol = protocol_of(ds, dataset, config, protocol)
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
                 device: str = "cpu", keyshots: str = "eccv16", rouge_order: str = "library",
                 protocol: str | None = None) -> tuple[dict, dict]:
    """(metrics, facts) of a trained run's checkpoint on one split, with the dataset's protocol."""
    evaluator = _evaluator_of(run_dir)
    if evaluator:  # the model folder scores its runs itself (VDF: generates summaries, scores them as its paper does)
        return load_object(evaluator)(run_dir, dataset, config, split, checkpoint, device)
    run_config, model, meta = load_run(run_dir, checkpoint, device)
    same = dataset is None or Path(dataset).resolve() == Path(run_config["dataset"]).resolve()
    dataset = dataset or run_config["dataset"]
    if not Path(dataset).exists() and "/" not in str(dataset):
        raise DatasetError(f"--dataset {dataset} is not a directory")
    # another build (zero-shot): its own config (the only one unless --config says), not the run's config name
    config, ds = load_split(dataset, config or (run_config["config"] if same else None), split)
    c = run_config["columns"]
    query = None if c.get("query") == KEY_SENTENCES else c.get("query")  # labels are training-only input
    video, text = zero_shot_columns(run_dir, run_config, ds, dataset, config)
    cols = resolve_columns(ds.column_names, video, text, c.get("audio"), query, use_text=False)
    cols = Columns(video=cols.video, text=cols.text, audio=cols.audio, query=cols.query,  # no targets needed
                   passthrough=passthrough_columns(run_config["model"], ds.column_names, training=False))
    protocol = protocol_of(ds, dataset, config, protocol)
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


def _first_width(ds, column: str) -> int | None:
    for row in ds.select_columns([column]):
        value = row[column]
        if value is not None and len(value):
            return len(value[0])
    return None


def zero_shot_columns(run_dir, run_config: dict, ds, dataset, config: str) -> tuple[str, str | None]:
    """(video, text) columns of ``ds`` for a run trained elsewhere (zero-shot, HierSum Tables 6-7): the run's own
    columns where the dataset has them, else the dataset's only ``frames_*`` / ``sentences_*`` column; a dataset
    without text is evaluated on video alone. Feature widths must equal the run's: else a DatasetError naming
    both encoders (the column suffix: frames_<encoder>)."""
    c, dims = run_config["columns"], run_config.get("dims", {})
    chosen = {}
    for modality, prefix in (("video", "frames_"), ("text", "sentences_")):
        name = c.get(modality)
        if name is None:
            chosen[modality] = None
            continue
        if name not in ds.column_names:
            found = [x for x in ds.column_names if x.startswith(prefix)]
            if len(found) != 1 and (modality == "video" or found):
                raise DatasetError(f"run {run_dir} reads {name}; {dataset} config {config} has "
                                   f"{', '.join(found) or f'no {prefix}* column'}: pass a dataset with one {prefix}* column")
            name = found[0] if found else None
        chosen[modality] = name
        width = _first_width(ds, name) if name else None
        if name and modality in dims and width is not None and width != dims[modality]:
            raise DatasetError(
                f"run {run_dir} ({run_config['model']}) was trained on {modality} features {c[modality]} "
                f"({dims[modality]}-d, encoder {c[modality][len(prefix):]}); {dataset} config {config} has {name} "
                f"({width}-d, encoder {name[len(prefix):]}): build it with the run's encoder, or fine-tune "
                f"(models.train --init)")
    return chosen["video"], chosen["text"]


def _evaluator_of(run_dir) -> str | None:
    """The ``EVALUATE`` hook ("module:function") of a run's model folder (VDF's generation scoring), else None."""
    path = Path(run_dir) / "config.json"
    model = json.loads(path.read_text()).get("model") if path.is_file() else None
    folder = model_entry(model) if isinstance(model, str) else None
    return folder.evaluate if folder is not None else None


def _domain(dataset, config: str, split: str | None) -> str | None:
    """The YouTube Highlights domain of a config: build.json's record (``domain``), else its rows' ``domain`` column."""
    build = Path(dataset) / "build.json"
    record = read_json(build).get("configs", {}).get(config, {}) if build.is_file() else {}
    if record.get("domain"):
        return record["domain"]
    _, ds = load_split(dataset, config, split)
    found = set(ds.unique("domain")) if "domain" in ds.column_names else set()
    return found.pop() if len(found) == 1 else None


def table_part(table: str, metrics: dict, dataset, config: str, split: str | None, source: str) -> dict:
    """The columns of an ASSEMBLED table (models.tables) that one run, baseline or predictions file fills: CFSum
    Table I the TVSum categories its split holds, Table II its config's YouTube Highlights domain (read from the
    build, never from the run's directory name). Another dataset is a DatasetError naming it."""
    if table == "cfsum-1":  # --protocol tvsum-top5 already refused a dataset without TVSum's columns
        part = {c: metrics[c] for c in TVSUM_CATEGORIES if c in metrics}
        if not part:
            raise DatasetError(f"{source}: {dataset} config {config} has no TVSum category to fill cfsum-1's columns")
        return part
    family = declared(dataset, config).get("family")
    domain = _domain(dataset, config, split) if family in (None, "youtube_highlights") and "mAP" in metrics else None
    columns = {key for _, key in TABLES[table][1]}
    if domain not in columns:
        raise DatasetError(f"{source} is on {dataset} config {config} ({family or 'no declared family'}): --table "
                           f"{table} needs a YouTube Highlights domain config (builders.youtube_highlights)")
    return {domain: metrics["mAP"]}


def _check_runs(args) -> str | None:
    """The one-line error of several --run that cannot make one row, else None."""
    if len(args.run or []) < 2:
        return None
    if args.table not in ASSEMBLED:
        return (f"several --run make one row of a table with a run per column (--table {' or '.join(ASSEMBLED)}); "
                "evaluate other runs one at a time")
    if args.dataset is not None or args.config is not None:
        return "with several --run each run is evaluated on its own dataset and config: leave out --dataset / --config"
    return None


def run(args) -> int:
    """``python -m models.evaluate`` once its flags are parsed (models.evaluate): the header and the table, or one JSON.
    With an ASSEMBLED ``--table`` (CFSum Tables I-II) every ``--run`` fills its columns of one row."""
    if args.table and args.protocol is None:
        args.protocol = TABLES[args.table][2]  # e.g. cfsum-1 needs --protocol tvsum-top5
    if args.dataset is not None and not args.dataset.is_dir():
        print(f"error: --dataset {args.dataset} is not a directory", file=sys.stderr)
        return 2
    if args.run is None and args.dataset is None:
        print(f"error: --{'predictions' if args.predictions else 'baseline'} needs --dataset", file=sys.stderr)
        return 2
    if (args.predictions is None) != (args.format is None):
        print("error: --predictions and --format go together", file=sys.stderr)
        return 2
    problem = _check_runs(args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    headers, parts = [], []
    try:
        if args.predictions is not None:
            if args.split is None:
                raise DatasetError("--predictions needs --split: the split the predictions were made on")
            metrics, facts = evaluate_predictions(args.predictions, args.format, args.dataset, args.config, args.split,
                                                  args.proportion, args.f1_mode, args.keyshot_protocol, args.protocol)
            headers.append(f"predictions {args.predictions} ({args.format})  dataset {facts['dataset']}  config "
                           f"{facts['config']}  split {facts['split']}  examples {facts['examples']}  protocol "
                           f"{facts['protocol']}" + (f"  keyshots {args.keyshot_protocol}"
                                                     if facts["protocol"] in ("frame_importance", "mrhisum") else ""))
            parts.append((f"predictions {args.predictions}", metrics, facts["dataset"], facts["config"], args.split))
        elif args.run is not None:
            for run_dir in args.run:
                try:
                    metrics, facts = evaluate_run(run_dir, args.dataset, args.config, args.split or "test",
                                                  args.checkpoint, args.proportion, args.oracle_k, args.f1_mode,
                                                  args.device, args.keyshot_protocol, args.rouge_order, args.protocol)
                except (DatasetError, RunError) as e:
                    raise type(e)(f"run {run_dir}: {e}" if len(args.run) > 1 else str(e)) from None
                headers.append(f"run {run_dir} ({facts['model']}, {facts['checkpoint']} checkpoint, epoch "
                               f"{facts['epoch']})  dataset {facts['dataset']}  config {facts['config']}  split "
                               f"{facts['split']}  examples {facts['examples']}  protocol {facts['protocol']}")
                parts.append((f"run {run_dir}", metrics, facts["dataset"], facts["config"], facts["split"]))
        else:
            config, ds = load_split(args.dataset, args.config, args.split)
            mode = args.f1_mode or f1_mode_for(args.dataset, config)
            metrics = evaluate_baseline(ds, args.baseline, mode, args.proportion, args.trials, args.seed,
                                        args.dataset, args.oracle_k, args.video_features, args.text_features,
                                        args.keyshot_protocol, args.rouge_order, args.protocol)
            protocol = protocol_of(ds, args.dataset, config, args.protocol)
            headers.append(f"dataset {args.dataset}  config {config}  split {args.split or 'all'}  videos "
                           f"{ds.num_rows}  baseline {args.baseline}  protocol {protocol}"
                           + (f"  F1 over annotators: {mode}" if protocol == "frame_importance" else ""))
            parts.append((f"baseline {args.baseline}", metrics, args.dataset, config, args.split))
        if args.table in ASSEMBLED:  # each part fills its columns; Avg. over those filled
            metrics = assemble(args.table, [(source, table_part(args.table, m, dataset, config, split, source))
                                            for source, m, dataset, config, split in parts])
    except (DatasetError, RunError, PredictionError, TableError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except ValueError as e:  # no protocol fits the dataset's columns
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(metrics))
        return 0
    print("\n".join(headers) + ("  (--oracle-k: k = true number of key items)" if args.oracle_k else ""))
    if args.table:
        print("\n".join(table_lines(args.table, metrics)))
        return 0
    width = max([18] + [len(k) for k in metrics])
    for name, value in metrics.items():  # in the papers' units (models.units)
        print(f"  {name:<{width}} {printed(name, value)}")
    return 0
