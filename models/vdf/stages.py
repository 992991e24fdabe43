"""VDF's runs of the shared training loop (``models.train``): directly (the general scenario, Table 2) or the
triple-stage framework of section 2.3 (Table 3), each stage a run of its own with its checkpoints kept. What is
VDF's own is here: the vocabularies, each stage's network, batches (``models.vdf.data``) and loss (the KD loss of
stage 2), the encoder swap of stage 3; epochs, resuming, best selection, metrics.jsonl and curves are the loop's.

    python -m models.train --model vdf --dataset hub/how2-mcls --config mcls --out runs/vdf            # VDF
    python -m models.train --model vdf --dataset hub/how2-mcls --config mcls --out runs/vdf-ts --stage all
    python -m models.train --model vdf ... --stage 1 | 2 | 3            # one stage (the ones before must be there)

Stages (``--stage all`` runs 1, 2, 3 in order; every stage reads ``--config``'s validation split):

1. English multimodal summarization: VDF with an English encoder (sharing the decoder's vocabulary) on the
   support config (``ms``: How2-MS, ``--hparam support_config=NAME``), video + English transcript -> summary;
   validated on ``--config``'s validation split with the English transcripts. Run in ``OUT/stage1``.
2. Knowledge distillation on the parallel transcripts of ``--config``'s training split: a new Portuguese encoder
   (student) learns to give, at encoder layer ``kd_layer``, what the frozen stage-1 English encoder (teacher) gives
   for the English transcript, the teacher's sequence adaptively average-pooled to the Portuguese length
   (``torch.nn.functional.adaptive_avg_pool1d``, each transcript over its own tokens), smooth L1 (eq. 8-9).
   ``kd_layer`` = the number of encoder layers (default): encoder-level KD on the encoder output (VDF-TS-E);
   0: vocab-level KD on the token embeddings (VDF-TS-V); in between: a middle layer (Table 5). Run in ``OUT/stage2``.
3. The stage-1 model with the Portuguese encoder swapped in (the student's embeddings and layers up to
   ``kd_layer``, the teacher's above it, as the released code composes them), fine-tuned on ``--config``'s
   training split, video + Portuguese transcript -> summary (eq. 10-11). Run in ``OUT/stage3``.

Without ``--stage``: VDF trained on ``--config`` (Portuguese transcript + video -> English summary) in ``OUT``.

Each run directory holds what every run of ``models.train`` holds: ``config.json``, ``metrics.jsonl``, ``curves.png``,
``checkpoint-last.pt`` (resume: rerun the same command) and ``checkpoint-best.pt`` (lowest validation loss:
cross-entropy, or the KD loss in stage 2; the paper does not say how it selects). ``OUT/config.json`` names the run for ``models.evaluate --run OUT``, which
evaluates the last stage trained (or the direct run). The vocabularies (``OUT/tokenizer-en``, ``OUT/tokenizer-pt``)
are built once from the training texts and shared by every stage.

Hyper-parameters: ``models/vdf/defaults.py`` (section 3.2), then ``--epochs``,
``--batch-size``, ``--lr``, ``--weight-decay`` (every stage) and ``--hparam KEY=VALUE`` (``d_model``,
``encoder_layers``, ..., ``kd_layer``, ``support_config``, ``pretrained`` = an mBART hub name or local path).
Optimiser: Adam, constant learning rate (section 3.2); ``--grad-clip`` clips the gradient norm.
"""

from __future__ import annotations

import inspect
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.nn import functional as F

from common.files import sha256_file, write_json
from models.collate import to_device
from models.data import DatasetError, resolve_config, split_names
from models.loader import Loader
from models.runs import BEST, CONFIG, RunError, dataset_family, load_checkpoint
from models.training import Fit, parse_hparam
from models.vdf.model import VDF, parameter_count
from models.vdf.data import (
    SOURCE_COLUMN,
    SUMMARY,
    VIDEO_COLUMN,
    Limits,
    TextVideoSplit,
    bilingual_batch,
    load_tokenizer,
    summary_batch,
    word_tokenizer,
)

log = logging.getLogger("models.vdf.stages")

STAGES = ("1", "2", "3")
RUN_KEYS = {"kd_layer": None, "support_config": "ms", "num_beams": 6, "length_penalty": 1.0, "vocab_min_count": 1}
MODEL_KEYS = {k for k in inspect.signature(VDF.__init__).parameters if k not in ("self", "source_vocab", "target_vocab",
                                                                                  "shared", "_ignored")}
TOKENIZERS = {"en": "tokenizer-en", "pt": "tokenizer-pt"}


@dataclass
class Plan:
    """What every stage of one command shares."""

    out: Path
    dataset: str
    config: str
    family: str | None
    train: dict
    model: dict
    run: dict
    seed: int
    device: str
    grad_clip: float
    stop_after: int | None
    restart: bool
    argv: list = field(default_factory=list)

    @property
    def limits(self) -> Limits:
        m = self.model
        return Limits(int(m.get("max_text_len", 800)), int(m.get("max_video_len", 1024)),
                      int(m.get("max_summary_len", 200)), int(m.get("video_dim", 2048)))

    def identity(self) -> dict:
        return {"model": "vdf", "dataset": self.dataset, "config": self.config, "family": self.family,
                "train": {k: v for k, v in self.train.items() if k != "epochs"}, "model_hparams": self.model,
                "run_hparams": self.run, "seed": self.seed}


# ---------------------------------------------------------------- settings


def settings(args) -> Plan:
    from models.registry import UnlistedFamily, entry as model_folder

    config = resolve_config(args.dataset, args.config)
    family = args.family or dataset_family(args.dataset, config)
    try:
        entry = model_folder("vdf").defaults(family)
    except UnlistedFamily as e:
        log.warning("no VDF defaults for dataset family %r: using How2's (section 3.2)", family)
        entry = e.recipe
    train = dict(entry["train"])
    for key in ("batch_size", "lr", "weight_decay", "epochs"):
        if getattr(args, key, None) is not None:
            train[key] = getattr(args, key)
    model, run = dict(entry["model"]), {**RUN_KEYS, **entry.get("run", {})}
    for key, value in (parse_hparam(h) for h in args.hparam or []):
        if key in run:
            run[key] = value
        elif key in MODEL_KEYS:
            model[key] = value
        else:
            raise RunError(f"unknown VDF hyper-parameter {key!r}; known: {', '.join(sorted(MODEL_KEYS | set(run)))}")
    layers = int(model.get("encoder_layers", 4))
    run["kd_layer"] = layers if run["kd_layer"] is None else int(run["kd_layer"])
    if not 0 <= run["kd_layer"] <= layers:
        raise RunError(f"kd_layer must be 0 (vocab-level) .. {layers} (the encoder output), got {run['kd_layer']}")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise RunError("--device cuda but torch sees no GPU; use --device cpu")
    return Plan(Path(args.out), str(args.dataset), config, family, train, model, run, args.seed, args.device,
                float(args.grad_clip or 0.0), args.stop_after, args.restart, list(getattr(args, "argv", [])))


def stage_list(stage: str | None) -> list[str]:
    if stage is None:
        return ["direct"]
    if stage == "all":
        return list(STAGES)
    if stage not in STAGES:
        raise RunError(f"--stage must be 1, 2, 3 or all, got {stage!r}")
    return [stage]


def stage_dir(plan: Plan, stage: str) -> Path:
    return plan.out if stage == "direct" else plan.out / f"stage{stage}"


# ---------------------------------------------------------------- vocabularies


def tokenizers(plan: Plan, stages: list[str]) -> dict:
    """The English and Portuguese tokenizers of the run: loaded from OUT, else built (or taken from the weights)."""
    paths = {lang: plan.out / name for lang, name in TOKENIZERS.items()}
    if all(p.is_dir() for p in paths.values()):
        return {lang: load_tokenizer(p) for lang, p in paths.items()}
    if stages[0] not in ("direct", "1"):
        raise RunError(f"{plan.out} has no vocabularies: run --stage 1 (or --stage all) first")
    if plan.model.get("pretrained"):
        tok = load_tokenizer(plan.model["pretrained"])
        built = {"en": tok, "pt": tok}
    else:
        texts = {"en": [], "pt": []}
        mcls = TextVideoSplit(plan.dataset, plan.config, "train", [SOURCE_COLUMN["pt"], SUMMARY])
        texts["pt"] += mcls.texts(SOURCE_COLUMN["pt"])
        texts["en"] += mcls.texts(SUMMARY)
        if stages[0] == "1":
            support_config = resolve_config(plan.dataset, plan.run["support_config"])
            support = TextVideoSplit(plan.dataset, support_config, "train", [SOURCE_COLUMN["en"], SUMMARY])
            texts["en"] += support.texts(SOURCE_COLUMN["en"]) + support.texts(SUMMARY)
            texts["en"] += TextVideoSplit(plan.dataset, plan.config, "train", [SOURCE_COLUMN["en"]]).texts(SOURCE_COLUMN["en"])
        built = {lang: word_tokenizer(t, int(plan.run["vocab_min_count"])) for lang, t in texts.items()}
    for lang, tok in built.items():
        tok.save_pretrained(str(paths[lang]))
    return built


# ---------------------------------------------------------------- models of each stage


def make_vdf(plan: Plan, toks: dict, source: str) -> VDF:
    """VDF from ``source`` (en / pt) to English; the English encoder shares the decoder's vocabulary."""
    try:
        return VDF(len(toks[source]), len(toks["en"]), shared=source == "en", **plan.model)
    except ValueError as e:  # pretrained weights that are not there, sizes that do not fit
        raise RunError(str(e)) from e


def load_best(path: Path, what: str) -> dict:
    if not path.is_file():
        raise RunError(f"{what} is not there: {path} (run that stage first, e.g. --stage all)")
    return load_checkpoint(path, hint="run that stage again")


def transferred(kd_layer: int, layers: int):
    """Which Portuguese-encoder parameters come from the stage-2 student (the others from the stage-1 encoder)."""
    def from_student(key: str) -> bool:
        if key.startswith("embed_tokens."):
            return True
        if kd_layer >= 1 and key.startswith(("embed_positions.", "layernorm_embedding.")):
            return True
        if key.startswith("layers.") and int(key.split(".")[1]) < kd_layer:
            return True
        return kd_layer == layers and key.startswith("layer_norm.")
    return from_student


def stage3_model(plan: Plan, toks: dict) -> VDF:
    stage1 = load_best(stage_dir(plan, "1") / BEST, "the stage-1 model")["model"]
    student = load_best(stage_dir(plan, "2") / BEST, "the stage-2 Portuguese encoder")["model"]
    model = make_vdf(plan, toks, "pt")
    pick = transferred(plan.run["kd_layer"], len(model.encoder.layers))
    state = {k: v for k, v in stage1.items() if not k.startswith("encoder.")}
    state.update({f"encoder.{k}": (student[k] if pick(k) else stage1[f"encoder.{k}"]) for k in student})
    model.load_state_dict(state, strict=True)
    return model


# ---------------------------------------------------------------- losses


def kd_states(encoder, ids, mask, layer: int) -> torch.Tensor:
    """The states distilled at ``layer``: token embeddings (0), a middle layer's output, or the encoder output."""
    if layer == 0:
        return encoder.embed_tokens(ids)
    n = len(encoder.layers)
    out = encoder(input_ids=ids, attention_mask=mask, output_hidden_states=layer < n)
    return out.last_hidden_state if layer == n else out.hidden_states[layer]


def kd_loss(student, teacher, batch: dict, layer: int) -> torch.Tensor:
    """Smooth L1 between the student's Portuguese states and the teacher's English ones pooled to the same length."""
    with torch.no_grad():
        target = kd_states(teacher, batch["en_ids"], batch["en_mask"], layer)
    states = kd_states(student, batch["pt_ids"], batch["pt_mask"], layer)
    pairs_s, pairs_t = [], []
    for i in range(len(batch["ids"])):
        m, k = int(batch["pt_mask"][i].sum()), int(batch["en_mask"][i].sum())
        pairs_t.append(F.adaptive_avg_pool1d(target[i, :k].T[None], m)[0].T)  # [k, D] -> [m, D]
        pairs_s.append(states[i, :m])
    return F.smooth_l1_loss(torch.cat(pairs_s), torch.cat(pairs_t))


# ---------------------------------------------------------------- one stage


def _loaders(plan: Plan, train: TextVideoSplit, validation: TextVideoSplit | None, collate) -> tuple:
    bs = int(plan.train["batch_size"])
    return (Loader(train, bs, shuffle=True, seed=plan.seed, depth=2, collate=collate),
            Loader(validation, bs, depth=2, collate=collate) if validation is not None else None)


def mean_loss(module, loss, loader: Loader, device: str) -> dict:
    """The validation loss of a stage: its loss averaged over the examples."""
    module.eval()
    total, n = 0.0, 0
    with torch.no_grad():
        for batch in loader.epoch(0):
            total += float(loss(to_device(batch, device))) * len(batch["ids"])
            n += len(batch["ids"])
    return {"loss": total / max(n, 1)}


def stage_fit(plan: Plan, name: str, module, train: TextVideoSplit, validation, collate, loss, identity: dict) -> Fit:
    """A stage as a run of the shared loop: its config.json is the stage's identity and what it recorded."""
    if len(train) == 0:
        raise DatasetError(f"{train.where} has no example with the columns stage {name} needs")
    extra = {"stages": ["direct"], "tokenizers": TOKENIZERS} if name == "direct" else {}
    config = {**json.loads(json.dumps(identity, default=str)), **extra, "epochs": plan.train["epochs"],
              "device": plan.device, "argv": plan.argv, "parameters": parameter_count(module),
              "skipped": {"train": train.skipped, "validation": validation.skipped if validation else None}}
    part = "kd" if name == "2" else "ce"

    def step(batch, index):
        value = loss(batch)
        return value, {"total": value.item(), part: value.item()}

    train_loader, val_loader = _loaders(plan, train, validation, collate)
    return Fit(stage_dir(plan, name), config, module, train_loader, val_loader, step,
               lambda loader: mean_loss(module, loss, loader, plan.device), "" if name == "direct" else f"stage {name}")


def summary_stage(plan: Plan, name: str, model: VDF, toks: dict, source: str, train_config: str, identity: dict) -> Fit:
    cols = [SOURCE_COLUMN[source], SUMMARY, VIDEO_COLUMN]
    val = TextVideoSplit(plan.dataset, plan.config, "validation", cols) if _has_validation(plan) else None
    limits = plan.limits
    return stage_fit(plan, name, model, TextVideoSplit(plan.dataset, train_config, "train", cols), val,
                     lambda rows: summary_batch(rows, SOURCE_COLUMN[source], toks[source], toks["en"], limits),
                     lambda b: model.loss(b, model(b)), identity)


def kd_stage(plan: Plan, toks: dict, identity: dict) -> Fit:
    teacher = make_vdf(plan, toks, "en")
    teacher.load_state_dict(load_best(stage_dir(plan, "1") / BEST, "the stage-1 model")["model"])
    teacher = teacher.encoder.eval().requires_grad_(False).to(plan.device)
    student = make_vdf(plan, toks, "pt").encoder  # a new Portuguese encoder, same architecture (section 2.4)
    cols = [SOURCE_COLUMN["en"], SOURCE_COLUMN["pt"]]
    val = TextVideoSplit(plan.dataset, plan.config, "validation", cols) if _has_validation(plan) else None
    limits, layer = plan.limits, plan.run["kd_layer"]

    def loss(batch):
        teacher.eval()  # frozen: no dropout either
        return kd_loss(student, teacher, batch, layer)

    return stage_fit(plan, "2", student, TextVideoSplit(plan.dataset, plan.config, "train", cols), val,
                     lambda rows: bilingual_batch(rows, toks["en"], toks["pt"], limits), loss, identity)


def _has_validation(plan: Plan) -> bool:
    return "validation" in split_names(plan.dataset, plan.config)


def build_stage(plan: Plan, stage: str, toks: dict) -> Fit:
    identity = {**plan.identity(), "stage": stage, "vocab": {lang: len(t) for lang, t in toks.items()}}
    torch.manual_seed(plan.seed)
    if stage == "direct":
        return summary_stage(plan, stage, make_vdf(plan, toks, "pt"), toks, "pt", plan.config, identity)
    if stage == "1":  # the support data (How2-MS): a missing config names the configs there are
        support = resolve_config(plan.dataset, plan.run["support_config"])
        return summary_stage(plan, stage, make_vdf(plan, toks, "en"), toks, "en", support, identity)
    identity["stage1_checkpoint"] = _sha(stage_dir(plan, "1") / BEST, "the stage-1 model")
    if stage == "2":
        return kd_stage(plan, toks, identity)
    identity["stage2_checkpoint"] = _sha(stage_dir(plan, "2") / BEST, "the stage-2 Portuguese encoder")
    return summary_stage(plan, "3", stage3_model(plan, toks), toks, "pt", plan.config, identity)


def _sha(path: Path, what: str) -> str:
    if not path.is_file():
        raise RunError(f"{what} is not there: {path} (run that stage first, e.g. --stage all)")
    return sha256_file(path)


# ---------------------------------------------------------------- the runs of one command


def fits(args):
    """``models.train --model vdf``: the runs of the stages asked for, in order, each built when the ones before it
    are trained (``models.training.run`` trains each with ``train_fit``)."""
    plan = settings(args)
    stages = stage_list(getattr(args, "stage", None))
    direct = stages == ["direct"]
    plan.out.mkdir(parents=True, exist_ok=True)
    top = plan.out / CONFIG
    if top.exists() and not plan.restart:
        old = json.loads(top.read_text())
        if old.get("model") != "vdf" or (old.get("stages") == ["direct"]) != direct:
            kind = "a direct VDF run" if old.get("stages") == ["direct"] else "a staged VDF run" if old.get("model") == "vdf" \
                else f"a run of {old.get('model')}"
            raise RunError(f"{plan.out} holds {kind}; use another --out or --restart")
        if not direct and {k: old.get(k) for k in plan.identity()} != json.loads(json.dumps(plan.identity())):
            raise RunError(f"{plan.out} holds a different VDF run; use another --out or --restart")
    if plan.restart and stages[0] in ("direct", "1"):
        import shutil

        for name in TOKENIZERS.values():
            shutil.rmtree(plan.out / name, ignore_errors=True)
        if not direct:
            top.unlink(missing_ok=True)
    toks = tokenizers(plan, stages)
    if not direct:
        previous = json.loads(top.read_text()).get("stages", []) if top.exists() else []
        write_json(top, {**plan.identity(), "stages": sorted(set(previous) | set(stages)), "tokenizers": TOKENIZERS,
                         "argv": plan.argv})
    for stage in stages:
        yield build_stage(plan, stage, toks)
