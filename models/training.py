"""The training loop every model trains through (``train_fit``), and what sets a run up: the command
is ``python -m models.train`` (:mod:`models.train`, which parses its flags before importing this)."""

from __future__ import annotations

import json
import logging
import math
import time
import inspect
from dataclasses import asdict, dataclass, replace
from typing import Callable
from pathlib import Path

import numpy as np
import torch

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
from models.registry import UnlistedFamily
from models.protocols import select, main_metric, protocol_columns, protocol_visual, score
from models.runs import (
    BEST,
    CONFIG,
    CURVES,
    LAST,
    METRICS,
    RESUME_HINT,
    RESUME_KEYS,
    RunError,
    add_predictions,
    clear_run,
    dataset_family,
    different_run,
    load_checkpoint,
    load_weights,
    make_model,
    model_class,
    model_entry,
    passthrough_columns,
    rng_state,
    save,
    set_rng_state,
    truncate_metrics,
)

log = logging.getLogger("models.train")

GENERIC = {"batch_size": 4, "lr": 1e-3, "weight_decay": 1e-5, "epochs": 50, "scheduler": None, "warmup_epochs": 0}
# May differ when a run is resumed ("workers": the loader workers of runs from before --loader-workers).
RESUMABLE_CHANGES = ("epochs", "device", "loader_workers", "workers", "stop_after", "argv")
# What a run learns once it has started: not part of its identity either.
RECORDED = ("dims", "skipped", "parameters", "stages", "tokenizers", "init_from")


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
    folder = model_entry(args.model)
    if folder is not None:
        try:  # no family: the recipe of a folder that has one for every family, else the generic settings
            entry = folder.defaults(family) if family or not folder.families() else None
        except UnlistedFamily as e:
            log.warning("%s", e.args[0])
            entry = e.recipe
        except KeyError as e:
            log.warning("%s; using generic training settings", e.args[0])
            entry = None
        if entry:
            train.update(entry.get("train", {}))
            model.update(entry.get("model", {}))
            source = folder.source(family)
    for key in ("batch_size", "lr", "weight_decay", "epochs"):
        if getattr(args, key) is not None:
            train[key] = getattr(args, key)
    if getattr(args, "init_config", None):  # fine-tuning: the architecture of the run it starts from
        model.update(args.init_config["model_hparams"])
        source += f"; model hyper-parameters of --init {args.init}"
    model.update(dict(parse_hparam(h) for h in args.hparam or []))
    return train, model, source


def init_run(args) -> dict | None:
    """The config of the ``--init`` run (None without it); a run of another model is an error."""
    if getattr(args, "init", None) is None:
        return None
    path = Path(args.init) / CONFIG
    if not path.is_file() or not (Path(args.init) / BEST).is_file():
        raise RunError(f"--init {args.init} is not a finished training run (needs {CONFIG} and {BEST})")
    config = json.loads(path.read_text())
    if config.get("model") != args.model:
        raise RunError(f"--init {args.init} is a run of {config.get('model')}, not {args.model}: "
                       f"fine-tuning starts from the same model's weights")
    return config


def load_init(model, args, dims: dict) -> dict:
    """Copy the ``--init`` run's best weights into ``model``; features of another width are an error naming both."""
    old = args.init_config
    for modality, width in dims.items():
        was = old.get("dims", {}).get(modality)
        if was is not None and was != width:
            raise RunError(f"--init {args.init} was trained on {modality} features {old['columns'][modality]} "
                           f"({was}-d); {args.dataset} gives {width}-d: fine-tuning needs features of the same encoder")
    state = load_checkpoint(Path(args.init) / BEST, hint="train that run again, or start without --init")
    load_weights(model, state["model"], Path(args.init) / BEST, "its weights do not fit this model")
    return {"run": str(args.init), "checkpoint": BEST, "epoch": state.get("epoch"), "dataset": old.get("dataset")}


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
    if text_col is None:  # a video-only build (Mr.HiSum's release): no subtitles, no description; docs/training.md
        log.info("%s on a video-only dataset: no text and no parent step (global_every 0)", model_spec)
        return None
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
    args.init_config = init_run(args)
    train_hp, model_hp, source = hyperparameters(args, family)
    if hasattr(model_class(args.model), "global_step") and ":" not in args.model and cols.query is None:
        if any(parse_hparam(h)[0] == "global_every" and parse_hparam(h)[1] for h in args.hparam or []):
            raise DatasetError(f"--hparam global_every: {args.model}'s parent step needs a global description "
                               f"(--query-features COLUMN); {args.dataset} has no text column")
        model_hp["global_every"] = 0  # nothing to stand in for the global description
    if args.weights:
        if ":" in args.model or "weights" not in inspect.signature(model_class(args.model).__init__).parameters:
            raise RunError(f"--weights: model {args.model} loads no pretrained weights")
        model_hp["weights"] = {**model_hp.get("weights", {}), **parse_weights(args.weights)}
    has_val = "validation" in split_names(args.dataset, config_name, args.format)
    try:
        protocol = select(args.protocol, available, args.dataset, config_name)
    except ValueError as e:
        if args.protocol:
            raise RunError(str(e)) from None
        protocol = None
    return cols, {
        "model": args.model, "dataset": str(args.dataset), "config": config_name, "format": args.format,
        "family": family, "defaults_from": source, "columns": asdict(cols), "train": train_hp,
        "model_hparams": model_hp, "seed": args.seed, "protocol": protocol,
        "keyframe_visual": protocol_visual(protocol, available, cols.video),
        "validation": has_val, "epochs": train_hp["epochs"], "device": args.device, "loader_workers": args.loader_workers,
        "stop_after": args.stop_after, "argv": args.argv, "init": str(args.init) if args.init else None,
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
    keep = {k: v for k, v in config.items() if k not in RESUMABLE_CHANGES and k not in RECORDED}
    keep["train"] = {k: v for k, v in config["train"].items() if k != "epochs"}
    return json.loads(json.dumps(keep, default=str))  # as config.json holds it (tuples -> lists)


# ---------------------------------------------------------------- one epoch


def model_step(model):
    """The training step of a network with ``loss(batch, model(batch))``: ``step(batch, index)`` -> (loss, parts).
    HierSum-style models (``global_step``) get a global batch after every m subtitle batches, counted over the
    whole run (``index`` = the batch's place in the run), so the schedule holds when an epoch has fewer than m + 1."""
    every = int(getattr(model, "global_every", 0) or 0) if hasattr(model, "global_step") else 0

    def step(batch, index):
        if every and (index + 1) % (every + 1) == 0:
            loss, parts = model.global_step(batch)
            return loss, {f"global_{k}": v for k, v in parts.items()}
        return model.loss(batch, model(batch))

    return step


def train_epoch(model, optimizer, loader: Loader, epoch: int, device: str, grad_clip: float,
                seen: int = 0, step=None) -> tuple[dict, dict]:
    """(mean loss parts, timing) of one pass; ``step(batch, index)`` gives a batch's loss (default ``model_step``),
    ``seen`` = batches trained before this epoch."""
    model.train()
    step = step or model_step(model)
    sums: dict[str, list] = {}
    wait = step_time = 0.0
    steps = 0
    t_next = time.perf_counter()
    for i, batch in enumerate(loader.epoch(epoch)):
        t_got = time.perf_counter()
        wait += t_got - t_next
        loss, parts = step(to_device(batch, device), seen + i)
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
    protocol = config.get("protocol")
    if criterion in (None, "metric") and protocol:
        value = main_metric(protocol, val)[1]
        if value is not None or criterion == "metric":
            return "metric", value
    if criterion in (None, "loss") and ("loss" in val or criterion == "loss"):
        return "loss", -val["loss"] if "loss" in val else None
    return "last", None


# ---------------------------------------------------------------- the loop


@dataclass
class Fit:
    """One run of the training loop: what it trains (``module``, saved and resumed), on what, where (``out``), and
    how a batch gives its loss (``step(batch, index)`` -> (loss, parts)) and the validation split its metrics
    (``validate(loader)`` -> {"loss", protocol metrics}). A model folder's ``TRAINING.fits(args)`` yields these
    (VDF: one per stage); ``config`` is the run's config.json, its ``identity`` decides whether ``out`` is resumed."""

    out: Path
    config: dict
    module: torch.nn.Module
    train: Loader
    validation: Loader | None
    step: Callable
    validate: Callable
    name: str = ""  # printed before each epoch's line ("stage 2")


def prepare_out(out: Path, config: dict, restart: bool) -> dict | None:
    """The checkpoint to resume from (None = fresh start); refuses to mix two different runs."""
    out.mkdir(parents=True, exist_ok=True)
    if restart:
        clear_run(out)
    if (out / CONFIG).exists():
        old = json.loads((out / CONFIG).read_text())
        if identity(old) != identity(config):
            raise different_run(out, identity(old), identity(config))
    if not (out / LAST).exists():
        return None
    return load_checkpoint(out / LAST, keys=RESUME_KEYS, hint=RESUME_HINT)


def train_fit(fit: Fit, args) -> bool:
    """Train (or resume) one run in ``fit.out``: Adam, the learning rate per epoch by the run's schedule, the best
    epoch on validation kept, every epoch's line in metrics.jsonl; True when ``--stop-after`` ended it early."""
    out, config, model = fit.out, fit.config, fit.module
    resume = prepare_out(out, config, args.restart)
    tp, epochs = config["train"], int(config["epochs"])
    model.to(args.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=float(tp["lr"]), weight_decay=float(tp["weight_decay"]))
    done, best, criterion, seen = 0, {"epoch": None, "value": None}, None, 0
    if resume is not None:
        load_weights(model, resume["model"], out / LAST, RESUME_HINT)
        optimizer.load_state_dict(resume["optimizer"])
        set_rng_state(resume["rng"])
        done, best, criterion, seen = resume["epoch"], resume["best"], resume.get("criterion"), resume.get("batches", 0)
        truncate_metrics(out / METRICS, done)
        if done < epochs:
            print(f"resuming {out} after epoch {done}")
    write_json(out / CONFIG, config)
    if done >= epochs:
        print(f"{out}: already trained {done} of {epochs} epochs; best epoch {best['epoch']}")
        return False
    for ran, epoch in enumerate(range(done, epochs), start=1):
        factor = lr_factor(epoch, epochs, tp.get("scheduler"), int(tp.get("warmup_epochs") or 0))
        for group in optimizer.param_groups:
            group["lr"] = float(tp["lr"]) * factor
        parts, timing = train_epoch(model, optimizer, fit.train, epoch, args.device, args.grad_clip, seen, fit.step)
        seen += timing["steps"]
        val = fit.validate(fit.validation) if fit.validation is not None else {}
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
        _report(line, epochs, fit.name)
        if args.stop_after and ran >= args.stop_after and epoch + 1 < epochs:
            print(f"stopped after epoch {epoch + 1} (--stop-after {args.stop_after}); rerun the same command to resume")
            return True
    print(f"trained {out}: best epoch {best['epoch']} by {sel['criterion']} on validation; "
          f"{out / BEST}, {out / LAST}, {out / METRICS}")
    return False


def fits(args):
    """The one run of a network on ``--config`` (every model but those whose folder gives ``TRAINING``)."""
    cols, config = setup(args)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise RunError("--device cuda but torch sees no GPU; use --device cpu")
    prepare_out(args.out, config, args.restart)  # a different run in --out: said before any data is read
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
    if args.init is not None:  # a resumed run's own weights replace these (train_fit)
        config["init_from"] = load_init(model, args, config["dims"])
    config["skipped"] = {"train": train_src.skipped}
    yield Fit(args.out, config, model, loader, val_loader, model_step(model),
              lambda val: validate(model, val, config, args.device, args.proportion))


def run(args) -> int:
    """Every run the model trains by (one; VDF's stages: one per stage), each through ``train_fit``."""
    folder = model_entry(args.model)
    staged = folder is not None and folder.training is not None
    if args.stage is not None and not staged:
        raise RunError(f"--stage is for the staged models (vdf), not {args.model}")
    if args.init is not None and staged:
        raise RunError(f"--init is for the models trained as one run, not {args.model} (see its --stage)")
    for fit in (load_object(folder.training + ":fits") if staged else fits)(args):
        if train_fit(fit, args):
            break
    return 0


def _criterion_name(config: dict, val: dict, criterion: str) -> str:
    if criterion == "metric":
        return main_metric(config["protocol"], val)[0]
    return {"loss": "validation loss", "last": "last epoch (no validation metric or loss)"}[criterion]


def _report(line: dict, epochs: int, name: str = "") -> None:
    val = line["validation"]
    shown = " ".join(f"{k} {v:.4f}" for k, v in val.items() if isinstance(v, float))
    t = line["time"]
    print(f"{name + ' ' if name else ''}epoch {line['epoch']}/{epochs}  train {line['train'].get('total', float('nan')):.4f}  "
          f"{shown}  best {line['selection']['best_epoch']}  {t['seconds']:.1f} s  {t['steps_per_s']:.2f} steps/s  "
          f"data wait {100 * t['data_wait_fraction']:.1f}%", flush=True)
