"""What a training run leaves in its directory, and how to get a model back from it.

    runs/<name>/config.json          what was trained on what: model, hyper-parameters, dataset, columns, dims
    runs/<name>/metrics.jsonl        one line per epoch: train loss parts, validation metrics, selection
    runs/<name>/curves.png           the training curves
    runs/<name>/checkpoint-last.pt   everything to resume: weights, optimizer, scheduler, RNG, epoch, best
    runs/<name>/checkpoint-best.pt   the weights chosen on the validation split, with their epoch and metrics

A model is named by its folder (``a2summ``, ``hiersum``, ``cfsum``, ``mhms``, ``vdf``: ``models/<name>/``, found by
``models.registry``; a folder elsewhere by its dotted path) or, for a bare architecture, by ``package.module:factory``
with ``factory(dims, **hparams)`` returning a module that follows the same interface (``forward(batch)``,
``loss(batch, outputs)``).
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
from pathlib import Path

import numpy as np
import torch

from common.loading import load_object
from common.safefiles import read_json
from models.collate import to_device

CONFIG, METRICS, CURVES = "config.json", "metrics.jsonl", "curves.png"
LAST, BEST = "checkpoint-last.pt", "checkpoint-best.pt"
FAMILIES = {  # substring of the dataset name -> the family a model folder's defaults are keyed by
    "bliss": "bliss", "tvsum": "tvsum", "summe": "summe", "mrhisum": "mrhisum", "hiersum": "wikihow",
    "wikihow": "wikihow", "dailymail": "dailymail", "daily-mail": "dailymail", "cnn": "cnn",
    "qvhighlights": "qvhighlights", "youtube-highlights": "youtube_highlights", "vmsmo": "vmsmo",
    "how2": "how2",
}


class RunError(ValueError):
    """A model or run directory that cannot be used as asked."""


def registry():
    try:
        return importlib.import_module("models.registry")
    except ImportError as e:
        raise RunError(f"models.registry is not available ({e}); name a model as package.module:factory") from e


def model_entry(spec: str):
    """The model folder (``models.registry.Entry``) a name or dotted package path names; None for module:factory."""
    if ":" in spec:
        return None
    try:
        return registry().entry(spec)
    except KeyError as e:
        raise RunError(e.args[0]) from None


def model_class(spec: str):
    """The class (a model folder's network) or factory (module:factory) a model spec names."""
    if ":" in spec:
        try:
            return load_object(spec)
        except (ImportError, AttributeError, ValueError) as e:
            raise RunError(f"cannot load model factory {spec!r}: {e}") from e
    return model_entry(spec).network_class()


def make_model(spec: str, dims: dict, hparams: dict) -> torch.nn.Module:
    from extractors.base import MissingWeightsError

    if ":" in spec:
        return model_class(spec)(dims, **hparams)
    model_entry(spec)
    try:
        return registry().build_model(spec, dims, **hparams)
    # an unknown or bad hyper-parameter; pretrained parts (MHMS's BERT / BART) not at hand: the message names --weights
    except (TypeError, ValueError, MissingWeightsError) as e:
        raise RunError(f"model {spec!r}: {e}") from e


def passthrough_columns(spec: str, available, training: bool) -> tuple[str, ...]:
    """The dataset columns a model reads as they are (its folder's ``PASSTHROUGH_INPUTS``, and at training its
    ``PASSTHROUGH_TARGETS``; a module:factory's ``passthrough_inputs`` / ``passthrough_targets``), those the
    dataset has."""
    e = model_entry(spec)
    if e is None:
        cls = model_class(spec)
        inputs, targets = getattr(cls, "passthrough_inputs", ()), getattr(cls, "passthrough_targets", ())
    else:
        inputs, targets = e.passthrough_inputs, e.passthrough_targets
    names = tuple(inputs) + (tuple(targets) if training else ())
    return tuple(n for n in dict.fromkeys(names) if n in set(available))


def dataset_family(dataset, config: str | None = None) -> str | None:
    """The family of a dataset (for the paper defaults), as its build declares it; for older builds,
    from its build record's name or its path (with a one-line notice)."""
    from models.protocols import declared, notice_undeclared

    facts = declared(dataset, config)
    if "family" in facts:
        return facts["family"]
    family = family_from_name(dataset)
    if (Path(dataset) / "build.json").is_file():
        notice_undeclared(dataset, "family", family)
    return family


def family_from_name(dataset) -> str | None:
    """The old rule: a substring of the build's name or directory."""
    build = Path(dataset) / "build.json"
    try:
        name = read_json(build).get("dataset", "") if build.exists() else ""
    except (ValueError, AttributeError) as e:  # not JSON, too deep or too big, not an object
        raise RunError(f"{build} is not a readable build record ({e})") from None
    name = f"{name} {Path(str(dataset)).name}".lower()
    return next((fam for key, fam in FAMILIES.items() if key in name), None)


def save(obj: dict, path: Path) -> None:
    """torch.save under a temporary name, then rename: a crash never leaves half a checkpoint."""
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


RESUME_HINT = "rerun with --restart to start the run over (its checkpoints and metrics are cleared), or put back a good copy"
RESUME_KEYS = ("model", "optimizer", "rng", "epoch", "best", "criterion", "batches")


def load_checkpoint(path, device: str = "cpu", keys: tuple[str, ...] = ("model",), hint: str = "") -> dict:
    """A checkpoint this tool wrote, loaded with ``torch.load(weights_only=True)`` (tensors and plain
    values only: a crafted file cannot run code). A missing, empty, truncated or foreign file, or one
    without ``keys``, is a RunError of one line naming the file, ending with ``hint`` (how to go on)."""
    from common.safefiles import UnsafeFileError, check_regular

    path = Path(path)
    then = f"; {hint}" if hint else ""
    try:
        size = check_regular(path).st_size
    except FileNotFoundError:
        raise RunError(f"checkpoint {path} is not there{then}") from None
    except (OSError, UnsafeFileError) as e:
        raise RunError(f"checkpoint {e}{then}") from None
    if size == 0:
        raise RunError(f"checkpoint {path} is empty (0 bytes): a run cut short while saving, or not a checkpoint{then}")
    try:
        state = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as e:  # weights_only refused a global: not a checkpoint of ours
        first = str(e).strip().splitlines()
        why = next((line.strip() for line in first if "GLOBAL" in line or "Unsupported" in line), first[0] if first else "")
        raise RunError(f"checkpoint {path} is not a vsumhub checkpoint (it asks to load code or objects: "
                       f"{why[:200]}){then}") from None
    except (RuntimeError, EOFError, OSError, ValueError, TypeError, KeyError, AttributeError, IndexError,
            MemoryError, UnicodeDecodeError) as e:
        raise RunError(f"checkpoint {path} cannot be read, truncated or not a torch file "
                       f"({type(e).__name__}: {str(e).strip().splitlines()[0][:200] if str(e).strip() else ''}){then}") from None
    missing = [k for k in keys if not isinstance(state, dict) or k not in state]
    if missing:
        got = ", ".join(map(str, list(state)[:8])) if isinstance(state, dict) else type(state).__name__
        raise RunError(f"checkpoint {path} is not a vsumhub checkpoint: no {', '.join(missing)} (it holds {got}){then}")
    return state


def load_weights(model: torch.nn.Module, state: dict, path, hint: str = "") -> None:
    """``model.load_state_dict(state)``; weights of another model or shape are a RunError naming the file."""
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError, KeyError) as e:
        first = str(e).strip().splitlines()
        raise RunError(f"checkpoint {path} holds weights of another model ({first[0][:200] if first else type(e).__name__}"
                       f"){f'; {hint}' if hint else ''}") from None


def load_run(run_dir, checkpoint: str = "best", device: str = "cpu") -> tuple[dict, torch.nn.Module, dict]:
    """(config, model in eval mode with the checkpoint's weights, checkpoint meta)."""
    run_dir = Path(run_dir)
    if not (run_dir / CONFIG).exists():
        raise RunError(f"{run_dir} is not a training run: no {CONFIG} (train with python -m models.train --out {run_dir})")
    path = run_dir / {"best": BEST, "last": LAST}.get(checkpoint, checkpoint)
    if not path.exists():
        have = sorted(p.name for p in run_dir.glob("*.pt")) or ["none"]
        raise RunError(f"{run_dir} has no checkpoint {path.name}; checkpoints: {', '.join(have)}")
    config = json.loads((run_dir / CONFIG).read_text())
    state = load_checkpoint(path, device, hint="train again, or evaluate another --checkpoint")
    model = make_model(config["model"], config["dims"], config["model_hparams"]).to(device)
    load_weights(model, state["model"], path, hint="train again, or evaluate another --checkpoint")
    model.eval()
    return config, model, {k: v for k, v in state.items() if k not in ("model", "optimizer", "scheduler", "rng")}


def add_predictions(out: dict, batch: dict, outputs: dict) -> dict:
    """Store id -> {"video_scores": [T], "text_scores": [N]} (sigmoid of the logits, padding removed), and a
    generating model's per-example ``summary_text`` (str) and ``video_pick`` (frame indices) as given."""
    for key, mask_key in (("video_scores", "video_mask"), ("text_scores", "text_mask")):
        if key not in outputs or mask_key not in batch:
            continue
        scores = torch.sigmoid(outputs[key].detach().float()).cpu().numpy()
        mask = batch[mask_key].cpu().numpy()
        for i, ex_id in enumerate(batch["ids"]):
            out.setdefault(ex_id, {})[key] = scores[i][mask[i]].astype(np.float64)
    for key in ("summary_text", "video_pick"):
        for i, ex_id in enumerate(batch["ids"] if key in outputs else []):
            out.setdefault(ex_id, {})[key] = outputs[key][i]
    return out


@torch.no_grad()
def predict(model: torch.nn.Module, batches, device: str = "cpu") -> dict[str, dict]:
    """Scores of every example in ``batches`` by id (the model in eval mode)."""
    model.eval()
    out: dict = {}
    for batch in batches:
        batch = to_device(batch, device)
        add_predictions(out, batch, model(batch))
    return out


def clear_run(out: Path) -> None:
    """``--restart``: forget what a run directory holds (checkpoints, metrics, curves, config)."""
    for name in (LAST, BEST, METRICS, CURVES, CONFIG):
        (out / name).unlink(missing_ok=True)


def different_run(out: Path, old: dict, new: dict) -> RunError:
    """The error for a run directory that holds another run: the identity keys (``old`` vs ``new``) that differ."""
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return RunError(f"{out} holds a different run (differs in: {', '.join(keys)}); use another --out or --restart")


def truncate_metrics(path: Path, done: int) -> None:
    """Drop lines of epochs after the checkpoint (written before a crash cut the epoch short)."""
    if path.exists():
        lines = [ln for ln in path.read_text().splitlines() if ln.strip() and json.loads(ln)["epoch"] <= done]
        path.write_text("".join(ln + "\n" for ln in lines))


def rng_state() -> dict:
    """Every RNG a training step may touch, in a form ``torch.load(weights_only=True)`` accepts."""
    import random

    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {"torch": torch.get_rng_state(), "python": random.getstate(),
             "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), int(pos), int(has_gauss), float(gauss)]}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    import random

    torch.set_rng_state(state["torch"])
    random.setstate(_tuples(state["python"]))
    kind, keys, pos, has_gauss, gauss = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _tuples(x):
    return tuple(_tuples(v) for v in x) if isinstance(x, (list, tuple)) else x
