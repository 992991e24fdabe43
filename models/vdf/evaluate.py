"""Evaluate a VDF run (models.vdf.stages; VDF's ``EVALUATE`` hook, called by ``models.evaluate --run``): generate the summaries of a split, score them as the paper's tables.

Metrics (Tables 2-3: BLEU-1..4, ROUGE-1/2/L, METEOR, CIDEr), under the paper's names and in its order, raw
(0..1, CIDEr as is); ``models.evaluate`` prints them as the paper does (x100, CIDEr as is: ``models.units``): BLEU, METEOR and CIDEr by the coco-caption scorers (``models.metrics.generation``: what nmtpytorch and
nlg-eval run, the tools the MCLS authors name), ROUGE-1/2/L F1 by ``rouge-score`` with stemming, mean over
summaries (``models.metrics.rouge``; the authors used another ROUGE package, so ROUGE may differ slightly).
Summaries come from beam search with the run's ``num_beams`` (6) and ``length_penalty`` (1.0) (section 3.2), at
most ``max_summary_len`` tokens. The run's model is its last stage: stage 3 (or stage 1 when only it was trained)
of a staged run, the run itself otherwise. The summaries are written to ``<run>/predictions-<split>.jsonl``.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from common.files import write_json
from models.data import DatasetError
from models.runs import BEST, CONFIG, LAST, RunError, load_checkpoint, load_weights
from models.vdf.model import VDF
from models.vdf.data import SOURCE_COLUMN, SUMMARY, VIDEO_COLUMN, Limits, TextVideoSplit, load_tokenizer, summary_batch

PAPER_NAMES = {"bleu1": "BLEU-1", "bleu2": "BLEU-2", "bleu3": "BLEU-3", "bleu4": "BLEU-4", "rouge1": "ROUGE-1",
               "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "meteor": "METEOR", "cider": "CIDEr"}


def final_stage(run_dir: Path, top: dict) -> tuple[str, Path, str]:
    """(stage, its directory, source language) of the model a run ends with."""
    if top.get("stages") == ["direct"]:
        return "direct", run_dir, "pt"
    for stage, source in (("3", "pt"), ("1", "en")):
        d = run_dir / f"stage{stage}"
        if (d / BEST).exists() or (d / LAST).exists():
            return stage, d, source
    raise RunError(f"{run_dir} has no trained summarizer: stage 2 trains an encoder only; train stage 1 or 3")


def load_vdf(run_dir, checkpoint: str = "best", device: str = "cpu") -> tuple[VDF, dict, dict]:
    """(model in eval mode, tokenizers {en, pt}, facts: stage, source, epoch, the run's config)."""
    run_dir = Path(run_dir)
    top = json.loads((run_dir / CONFIG).read_text())
    stage, d, source = final_stage(run_dir, top)
    path = d / {"best": BEST, "last": LAST}.get(checkpoint, checkpoint)
    if not path.exists():
        raise RunError(f"{d} has no checkpoint {path.name}; checkpoints: {', '.join(p.name for p in d.glob('*.pt')) or 'none'}")
    toks = {lang: load_tokenizer(run_dir / name) for lang, name in top["tokenizers"].items()}
    hp = top["model_hparams"]
    model = VDF(len(toks[source]), len(toks["en"]), shared=source == "en", **hp)
    state = load_checkpoint(path, hint="train again, or evaluate another --checkpoint")
    load_weights(model, state["model"], path, hint="train again, or evaluate another --checkpoint")
    return model.to(device).eval(), toks, {"stage": stage, "source": source, "epoch": state.get("epoch"), "config": top}


def score(hypotheses: list[str], references: list[str]) -> dict[str, float]:
    """{bleu1..4, rouge1, rouge2, rougeL, meteor, cider} in 0..1 (CIDEr as coco returns it). Without Java
    (METEOR) a RunError saying so: no table with a column missing or approximated."""
    from models.metrics.generation import MeteorUnavailable, bleu, cider, meteor
    from models.metrics.rouge import corpus_rouge

    rouge = corpus_rouge(hypotheses, references)
    out = {**bleu(hypotheses, references), "rouge1": rouge["rouge1"], "rouge2": rouge["rouge2"], "rougeL": rouge["rougeL"]}
    try:
        out["meteor"] = meteor(hypotheses, references)
    except MeteorUnavailable as e:
        raise RunError(f"{e} (the summaries are written; METEOR is part of the paper's table)") from e
    return {**out, "cider": cider(hypotheses, references)}


def as_paper(metrics: dict[str, float]) -> dict[str, float]:
    """The paper's names, in the tables' column order (values raw; the scale is models.units')."""
    return {PAPER_NAMES[k]: metrics[k] for k in PAPER_NAMES}


def evaluate_run(run_dir, dataset=None, config: str | None = None, split: str = "test", checkpoint: str = "best",
                 device: str = "cpu", batch_size: int = 8, **_ignored) -> tuple[dict, dict]:
    """(metrics under the paper's names, raw, facts) of a VDF run on one split."""
    model, toks, facts = load_vdf(run_dir, checkpoint, device)
    top, source = facts["config"], facts["source"]
    dataset, config = str(dataset or top["dataset"]), config or top["config"]
    hp, run_hp = top["model_hparams"], top["run_hparams"]
    limits = Limits(int(hp.get("max_text_len", 800)), int(hp.get("max_video_len", 1024)),
                    int(hp.get("max_summary_len", 200)), int(hp.get("video_dim", 2048)))
    rows = TextVideoSplit(dataset, config, split, [SOURCE_COLUMN[source], SUMMARY, VIDEO_COLUMN])
    if not len(rows):
        raise DatasetError(f"{rows.where} has no example to summarise")
    ids, hyps, refs = [], [], []
    for start in range(0, len(rows), batch_size):
        part = rows.take(range(start, min(start + batch_size, len(rows))))
        batch = summary_batch(part, SOURCE_COLUMN[source], toks[source], toks["en"], limits, with_labels=False)
        batch = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}
        out = model.generate(batch, num_beams=int(run_hp["num_beams"]), max_length=limits.summary + 1,
                             length_penalty=float(run_hp["length_penalty"]))
        hyps += [" ".join(t.split()) for t in toks["en"].batch_decode(out, skip_special_tokens=True)]
        refs += [r[SUMMARY] for r in part]
        ids += [r["id"] for r in part]
    predictions = Path(run_dir) / f"predictions-{split}.jsonl"
    predictions.write_text("".join(json.dumps({"id": i, "summary": h, "reference": r}) + "\n"
                                   for i, h, r in zip(ids, hyps, refs)), encoding="utf-8")
    metrics = as_paper(score(hyps, refs))
    write_json(Path(run_dir) / f"metrics-{split}.json", metrics)
    facts = {"dataset": dataset, "config": config, "split": split, "examples": len(hyps), "protocol": "generation",
             "model": f"vdf, {'stage ' + facts['stage'] if facts['stage'] != 'direct' else 'direct'}",
             "checkpoint": checkpoint, "epoch": facts["epoch"], "predictions": str(predictions)}
    return metrics, facts
