"""Train a summarizer on a published dataset; the checkpoint is chosen on the validation split.

    python -m models.train --model a2summ --dataset hub/bliss-sample --config colorhist-minilm --out runs/a2summ
        [--epochs N] [--device cpu|cuda] [--seed S] [--batch-size B] [--lr LR] [--weight-decay WD]
        [--video-features frames_clip] [--text-features sentences_roberta] [--audio-features COL]
        [--query-features COL | key_sentences] [--hparam KEY=VALUE ...] [--family NAME]
        [--format parquet|wds] [--loader-workers N] [--stop-after K] [--restart]

Hyper-parameters: the paper's values for (model, dataset family) from ``models.registry.DEFAULTS``
(the family comes from the dataset's name, e.g. bliss-sample -> bliss, or ``--family``), then the
flags. Optimiser: Adam with L2 weight decay (A2Summ's and CFSum's code), the learning rate set per
epoch by the entry's schedule (linear warm-up for ``warmup_epochs``, then cosine when
``scheduler`` is "cosine", else constant).

Only the ``train`` and ``validation`` splits are opened; the test split is never read. After every
epoch the model scores the validation split with the dataset's protocol (``models.protocols``) and
the best epoch so far is kept as ``checkpoint-best.pt``: by the protocol's main metric (higher is
better; ties keep the earlier epoch); by the validation loss when the split lacks the columns
for that metric (e.g. no summary / thumbnails, no most-replayed curve); by the last epoch when
the dataset has no validation split (said in metrics.jsonl). Examples whose targets are null are
left out of training and validation loss (counted in config.json).

Resume: rerun the same command with the same ``--out``; the run continues after the last
finished epoch from ``checkpoint-last.pt`` (weights, optimiser, every RNG, best so far). The batch
order of an epoch depends only on (seed, epoch), so a resumed run reproduces an uninterrupted one
exactly. ``--stop-after K`` ends this invocation after K epochs, as an interruption (or a job time
limit) would. A different configuration in the same ``--out`` is an error unless ``--restart``.

HierSum's parent-child schedule: after every ``global_every`` (m) subtitle batches (counted over
the run, not per epoch) the next batch trains ``model.global_step`` (the global description as the text, video loss only). The global
description is ``--query-features`` (default: ``steps_<text encoder>`` when the dataset has it, else
``key_sentences``, the key sentences' features: what HierSum does on BLiSS).

VDF (``--model vdf``) generates summaries: it has its own trainer (``models.vdf.train``, named by
``models.registry.SEQ2SEQ``) with ``--stage 1|2|3|all`` for the triple-stage framework; see docs/training.md.

Exit status: 0 trained (or already complete), 2 bad usage (unknown model or column, missing split,
a different run in --out).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
import inspect
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from common import cli
from common.files import write_json
from common.loading import load_object
from models.collate import to_device
from models.curves import plot_curves
from models.data import (
    KEY_SENTENCES,
    DatasetError,
    available_columns,
    iter_rows,
    open_split,
    resolve_columns,
    resolve_config,
    split_names,
)
from models.loader import Loader
from models.protocols import detect, main_metric, protocol_columns, protocol_visual, score
from models.runs import (
    BEST,
    CONFIG,
    CURVES,
    LAST,
    METRICS,
    RunError,
    add_predictions,
    clear_run,
    dataset_family,
    different_run,
    make_model,
    model_class,
    passthrough_columns,
    registry,
    rng_state,
    save,
    set_rng_state,
    truncate_metrics,
)

log = logging.getLogger("models.train")

GENERIC = {"batch_size": 4, "lr": 1e-3, "weight_decay": 1e-5, "epochs": 50, "scheduler": None, "warmup_epochs": 0}
# May differ when a run is resumed ("workers": the loader workers of runs from before --loader-workers).
RESUMABLE_CHANGES = ("epochs", "device", "loader_workers", "workers", "stop_after", "argv")


def parse_hparam(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise RunError(f"--hparam takes KEY=VALUE, got {text!r}")
    key, _, value = text.partition("=")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def hyperparameters(args, family: str | None) -> tuple[dict, dict, str]:
    """(train settings, model hyper-parameters, where the defaults came from)."""
    train, model, source = dict(GENERIC), {}, "generic defaults"
    if ":" not in args.model:
        try:
            entry = registry().defaults(args.model, family) if family else None
        except KeyError as e:
            log.warning("%s; using generic training settings", e.args[0])
            entry = None
        if entry:
            train.update(entry.get("train", {}))
            model.update(entry.get("model", {}))
            source = f"models.registry.DEFAULTS[({args.model!r}, {family!r})]"
    for key in ("batch_size", "lr", "weight_decay", "epochs"):
        if getattr(args, key) is not None:
            train[key] = getattr(args, key)
    model.update(dict(parse_hparam(h) for h in args.hparam or []))
    return train, model, source


def default_query(model_spec: str, args, available: list[str], text_col: str | None) -> str | None:
    """HierSum's global description when not given: steps_<text encoder>, else the key sentences."""
    if args.query_features or ":" in model_spec or not hasattr(model_class(model_spec), "global_step"):
        return args.query_features
    suffix = text_col[len("sentences_"):] if text_col else None
    if suffix and f"steps_{suffix}" in available:
        return f"steps_{suffix}"
    if text_col and "sentence_labels" in available:
        log.info("no global description column: HierSum's parent step uses the key sentences (%s)", KEY_SENTENCES)
        return KEY_SENTENCES
    raise DatasetError(f"{model_spec}'s parent step needs a global description: pass --query-features COLUMN; "
                       f"columns: {', '.join(available)}")


def lr_factor(epoch: int, epochs: int, scheduler: str | None, warmup: int) -> float:
    """Learning-rate multiplier of epoch (0-based): linear warm-up, then cosine or constant."""
    if warmup and epoch < warmup:
        return (epoch + 1) / warmup
    if scheduler == "cosine":
        return 0.5 * (1 + math.cos(math.pi * (epoch - warmup) / max(1, epochs - warmup)))
    if scheduler not in (None, "none", "constant"):
        raise RunError(f"unknown scheduler {scheduler!r}; expected cosine or none")
    return 1.0


# ---------------------------------------------------------------- setup


def setup(args) -> tuple:
    """(columns, the run's config): dataset, columns, hyper-parameters, protocol resolved; nothing trained."""
    model_class(args.model)  # unknown model -> RunError before any data is read
    config_name = resolve_config(args.dataset, args.config)
    if "train" not in split_names(args.dataset, config_name, args.format):
        raise DatasetError(f"{args.dataset} config {config_name} has no train split"
                           f"; splits: {', '.join(split_names(args.dataset, config_name, args.format)) or 'none'}")
    available = available_columns(args.dataset, config_name, "train", args.format)
    text_first = resolve_columns(available, args.video_features, args.text_features, args.audio_features)
    query = default_query(args.model, args, available, text_first.text)
    cols = resolve_columns(available, args.video_features, args.text_features, args.audio_features, query)
    cols = model_columns(args.model, cols, available)
    family = args.family or dataset_family(args.dataset, config_name)
    train_hp, model_hp, source = hyperparameters(args, family)
    if args.weights:
        if ":" in args.model or "weights" not in inspect.signature(model_class(args.model).__init__).parameters:
            raise RunError(f"--weights: model {args.model} loads no pretrained weights")
        model_hp["weights"] = {**model_hp.get("weights", {}), **parse_weights(args.weights)}
    has_val = "validation" in split_names(args.dataset, config_name, args.format)
    try:
        protocol = detect(available, args.dataset, config_name)
    except ValueError:
        protocol = None
    return cols, {
        "model": args.model, "dataset": str(args.dataset), "config": config_name, "format": args.format,
        "family": family, "defaults_from": source, "columns": asdict(cols), "train": train_hp,
        "model_hparams": model_hp, "seed": args.seed, "protocol": protocol,
        "keyframe_visual": protocol_visual(protocol, available, cols.video),
        "validation": has_val, "epochs": train_hp["epochs"], "device": args.device, "loader_workers": args.loader_workers,
        "stop_after": args.stop_after, "argv": args.argv,
    }


def model_columns(spec: str, cols, available):
    """The columns with what the model reads as it is (``passthrough``) and, when it says which targets it
    requires (``required_targets``), only those left as targets (so no example is dropped for the others)."""
    passthrough = passthrough_columns(spec, available, training=True)
    required = None if ":" in spec else getattr(model_class(spec), "required_targets", None)
    targets = cols.targets if required is None else tuple(t for t in cols.targets if t in required)
    return replace(cols, passthrough=passthrough, targets=targets)


def parse_weights(items) -> dict[str, str]:
    """``--weights NAME=PATH`` (repeatable) -> {name: path or hub name}: the form of extractors.run and the
    builders (not imported from there: extractors.run brings Dask along)."""
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise RunError(f"--weights takes NAME=PATH (e.g. --weights bart=models/bart-large-cnn), got {item!r}")
        out[name.strip()] = value.strip()
    return out


def identity(config: dict) -> dict:
    """What must match for a run directory to be resumed (epochs may be extended)."""
    keep = {k: v for k, v in config.items() if k not in RESUMABLE_CHANGES and k not in ("dims", "skipped")}
    keep["train"] = {k: v for k, v in config["train"].items() if k != "epochs"}
    return json.loads(json.dumps(keep, default=str))  # as config.json holds it (tuples -> lists)


# ---------------------------------------------------------------- one epoch


def train_epoch(model, optimizer, loader: Loader, epoch: int, device: str, grad_clip: float,
                seen: int = 0) -> tuple[dict, dict]:
    """(mean loss parts, timing) of one pass. HierSum-style models get a global batch after every m
    subtitle batches, counted over the whole run (``seen`` = batches trained before this epoch), so
    the schedule holds even when an epoch has fewer than m + 1 batches."""
    model.train()
    every = int(getattr(model, "global_every", 0) or 0) if hasattr(model, "global_step") else 0
    sums: dict[str, list] = {}
    wait = step_time = 0.0
    steps = 0
    t_next = time.perf_counter()
    for i, batch in enumerate(loader.epoch(epoch)):
        t_got = time.perf_counter()
        wait += t_got - t_next
        batch = to_device(batch, device)
        if every and (seen + i + 1) % (every + 1) == 0:
            loss, parts = model.global_step(batch)
            parts = {f"global_{k}": v for k, v in parts.items()}
        else:
            loss, parts = model.loss(batch, model(batch))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        for k, v in parts.items():
            sums.setdefault(k, []).append(float(v))
        steps += 1
        t_next = time.perf_counter()
        step_time += t_next - t_got
    if not steps:
        raise DatasetError("the train split has no usable example (all targets null?)")
    total = wait + step_time
    timing = {"steps": steps, "seconds": round(total, 3), "steps_per_s": round(steps / total, 3),
              "data_wait_fraction": round(wait / total, 4)}
    return {k: float(np.mean(v)) for k, v in sums.items()}, timing


@torch.no_grad()
def validate(model, loader: Loader, config: dict, device: str, proportion: float) -> dict:
    """Validation loss and the protocol's metrics on the validation split."""
    model.eval()
    preds, losses, weights = {}, [], []
    for batch in loader.epoch(0):
        batch = to_device(batch, device)
        outputs = model(batch)
        add_predictions(preds, batch, outputs)
        try:
            loss, _ = model.loss(batch, outputs)
            losses.append(float(loss))
            weights.append(len(batch["ids"]))
        except ValueError:  # the split lacks the targets of the loss
            pass
    out = {}
    if losses:
        out["loss"] = float(np.average(losses, weights=weights))
    if config["protocol"]:
        visual = config["keyframe_visual"]
        rows = iter_rows(config["dataset"], config["config"], "validation",
                         protocol_columns(config["protocol"], visual), config["format"])
        metrics, n = score(config["protocol"], rows, preds, visual=visual, proportion=proportion)
        out.update(metrics)
        out["examples_scored"] = n
    return out


def selection_value(config: dict, val: dict, criterion: str | None) -> tuple[str, float | None]:
    """(criterion, value to maximise). The first validation fixes the criterion for the run: the
    main metric if it can be computed, else -loss, else "last"; a later epoch where the fixed
    criterion has no value (None) does not count as an improvement."""
    if criterion in (None, "metric") and config["protocol"]:
        value = main_metric(config["protocol"], val)[1]
        if value is not None or criterion == "metric":
            return "metric", value
    if criterion in (None, "loss") and ("loss" in val or criterion == "loss"):
        return "loss", -val["loss"] if "loss" in val else None
    return "last", None


# ---------------------------------------------------------------- the run


def prepare_out(out: Path, config: dict, restart: bool) -> dict | None:
    """The checkpoint to resume from (None = fresh start); refuses to mix two different runs."""
    out.mkdir(parents=True, exist_ok=True)
    if restart:
        clear_run(out)
    if not (out / LAST).exists():
        if (out / CONFIG).exists() and not restart:
            old = json.loads((out / CONFIG).read_text())
            if identity(old) != identity(config):
                raise different_run(out, identity(old), identity(config))
        return None
    old = json.loads((out / CONFIG).read_text())
    if identity(old) != identity(config):
        raise different_run(out, identity(old), identity(config))
    return torch.load(out / LAST, map_location="cpu", weights_only=True)


def run(args) -> int:
    seq2seq = getattr(registry(), "SEQ2SEQ", {})
    if args.model in seq2seq:  # a text generator (VDF): its own trainer and stages
        return load_object(seq2seq[args.model]["train"])(args)
    if args.stage is not None:
        raise RunError(f"--stage is for the staged models ({', '.join(seq2seq) or 'none'}), not {args.model}")
    cols, config = setup(args)
    out = args.out
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise RunError("--device cuda but torch sees no GPU; use --device cpu")
    resume = prepare_out(out, config, args.restart)
    train_src = open_split(args.dataset, config["config"], "train", cols, args.format, labeled=True)
    tp = config["train"]
    loader = Loader(train_src, int(tp["batch_size"]), shuffle=True, seed=args.seed, workers=args.loader_workers)
    val_loader = None
    if config["validation"]:
        val_src = open_split(args.dataset, config["config"], "validation", cols, args.format, labeled=True)
        val_loader = Loader(val_src, int(tp["batch_size"]), workers=0)
    first = next(iter(train_src), None)
    if first is None:
        raise DatasetError(f"the train split of {args.dataset} has no example with all of {list(cols.targets)}")
    config["dims"] = cols.dims_of(first)
    torch.manual_seed(args.seed)
    model = make_model(args.model, config["dims"], config["model_hparams"]).to(args.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=float(tp["lr"]), weight_decay=float(tp["weight_decay"]))
    done, best, criterion, seen = 0, {"epoch": None, "value": None}, None, 0
    if resume is not None:
        model.load_state_dict(resume["model"])
        optimizer.load_state_dict(resume["optimizer"])
        set_rng_state(resume["rng"])
        done, best, criterion, seen = resume["epoch"], resume["best"], resume["criterion"], resume["batches"]
        truncate_metrics(out / METRICS, done)
        print(f"resuming {out} after epoch {done}")
    config["skipped"] = {"train": train_src.skipped}
    write_json(out / CONFIG, config)
    epochs = int(tp["epochs"])
    if done >= epochs:
        print(f"{out}: already trained {done} of {epochs} epochs; best epoch {best['epoch']}")
        return 0
    for ran, epoch in enumerate(range(done, epochs), start=1):
        factor = lr_factor(epoch, epochs, tp.get("scheduler"), int(tp.get("warmup_epochs") or 0))
        for group in optimizer.param_groups:
            group["lr"] = float(tp["lr"]) * factor
        parts, timing = train_epoch(model, optimizer, loader, epoch, args.device, args.grad_clip, seen)
        seen += timing["steps"]
        val = validate(model, val_loader, config, args.device, args.proportion) if val_loader is not None else {}
        criterion, value = selection_value(config, val, criterion)
        improved = criterion == "last" or (value is not None and (best["value"] is None or value > best["value"]))
        if improved:
            best = {"epoch": epoch + 1, "value": value}
            save({"model": model.state_dict(), "epoch": epoch + 1, "validation": val, "criterion": criterion}, out / BEST)
        sel = {"criterion": _criterion_name(config, val, criterion), "value": value,
               "best_epoch": best["epoch"], "best_value": best["value"], "improved": improved}
        line = {"epoch": epoch + 1, "lr": optimizer.param_groups[0]["lr"], "train": parts, "validation": val,
                "selection": sel, "time": timing}
        with open(out / METRICS, "a") as f:
            f.write(json.dumps(line) + "\n")
        save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "rng": rng_state(),
              "epoch": epoch + 1, "batches": seen, "best": best, "criterion": criterion}, out / LAST)
        plot_curves(out / METRICS, out / CURVES)
        _report(line, epochs)
        if args.stop_after and ran >= args.stop_after and epoch + 1 < epochs:
            print(f"stopped after epoch {epoch + 1} (--stop-after {args.stop_after}); rerun the same command to resume")
            return 0
    print(f"trained {out}: best epoch {best['epoch']} by {sel['criterion']} on validation; "
          f"{out / BEST}, {out / LAST}, {out / METRICS}")
    return 0


def _criterion_name(config: dict, val: dict, criterion: str) -> str:
    if criterion == "metric":
        return main_metric(config["protocol"], val)[0]
    return {"loss": "validation loss", "last": "last epoch (no validation metric or loss)"}[criterion]


def _report(line: dict, epochs: int) -> None:
    val = line["validation"]
    shown = " ".join(f"{k} {v:.4f}" for k, v in val.items() if isinstance(v, float))
    t = line["time"]
    print(f"epoch {line['epoch']}/{epochs}  train {line['train'].get('total', float('nan')):.4f}  {shown}  "
          f"best {line['selection']['best_epoch']}  {t['seconds']:.1f} s  {t['steps_per_s']:.2f} steps/s  "
          f"data wait {100 * t['data_wait_fraction']:.1f}%", flush=True)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=cli.prog("python -m models.train"), description=__doc__.split("\n\n")[0])
    cli.add_version(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars (the data and model libraries' ones)")
    p.add_argument("--model", required=True, help="a2summ, hiersum, cfsum, mhms, vdf (models.registry), or package.module:factory")
    p.add_argument("--dataset", required=True, help="a published dataset directory (hub/<name>) or a hub repo id")
    p.add_argument("--config", help="config name (needed when the dataset has several)")
    p.add_argument("--out", required=True, type=Path, help="run directory (resumed when it holds this run)")
    p.add_argument("--epochs", type=int, help="epochs (default: the paper's for this model and dataset family)")
    p.add_argument("--batch-size", type=int, help="examples per step (default: the paper's)")
    p.add_argument("--lr", type=float, help="learning rate (default: the paper's)")
    p.add_argument("--weight-decay", type=float, help="Adam L2 weight decay (default: the paper's)")
    p.add_argument("--hparam", action="append", metavar="KEY=VALUE", help="model hyper-parameter (JSON value), repeatable")
    p.add_argument("--family", help="dataset family for the paper defaults (default: from the dataset name)")
    p.add_argument("--video-features", help="frames_* column (default: the dataset's only one)")
    p.add_argument("--text-features", help="sentences_* column (default: the dataset's only one, if any)")
    p.add_argument("--audio-features", help="audio feature column [A, D]")
    p.add_argument("--query-features", help=f"query / global description column [Q, D], or {KEY_SENTENCES}")
    p.add_argument("--weights", action="append", metavar="NAME=PATH",
                   help="pretrained part NAME of the model from a local directory or a hub name, repeatable "
                        "(mhms: --weights bert=PATH --weights bart=PATH); offline, a part not at hand is an error naming it")
    p.add_argument("--format", choices=("parquet", "wds"), default="parquet", help="read parquet (default) or stream wds tars")
    p.add_argument("--loader-workers", type=int, default=0,
                   help="DataLoader worker processes that collate batches (0: a prefetch thread)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1")
    p.add_argument("--seed", type=int, default=0, help="seed of initialisation, shuffling and dropout (0)")
    p.add_argument("--grad-clip", type=float, default=0.0, help="clip the gradient norm (0: off)")
    p.add_argument("--proportion", type=float, default=0.15,
                   help="summary budget of validation: fraction of frames / sentences kept (0.15), as in models.evaluate")
    p.add_argument("--stop-after", type=int, help="stop this invocation after K epochs (resume by rerunning)")
    p.add_argument("--restart", action="store_true", help="discard what --out holds and start over")
    p.add_argument("--stage", choices=("1", "2", "3", "all"),
                   help="VDF's triple-stage training (section 2.3): one stage, or all three in order, each kept in "
                        "OUT/stage<k>; without it VDF trains directly on --config")
    args = p.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    if args.no_progress:
        cli.silence_progress()
    try:
        return run(args)
    except (DatasetError, RunError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
