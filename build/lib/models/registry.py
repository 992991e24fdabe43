"""The summarizers by name, and each paper's per-dataset hyper-parameters.

``DEFAULTS[(model, family)]`` = ``{"train": {...}, "model": {...}}``: ``train`` is for the loop
(batch_size, lr, weight_decay, epochs, and HierSum's scheduler / warmup_epochs), ``model`` goes to
``build_model(name, dims, **model)``. Sources, per entry:
- A2Summ: appendix B (batch, lr, weight decay, epochs, L, r, beta, lambda, expansion 4); the
  hidden size and dropouts, which the paper does not give, from the authors' ``config.py``.
  Appendix B lists SumMe / TVSum as "weight decay of 1e-3 and 1e-5 ... lambda of 3 and 1 for the
  SumMe and TVSum datasets, respectively": SumMe 1e-3 / 3, TVSum 1e-5 / 1 (the config agrees).
- HierSum: Table 1 (batch, epochs, lr, scheduler, warmup, global step m, beta, lambda); hidden
  512 (Sec. 5: "our model was trained with a larger hidden size of 512"). Weight decay, L, r are
  not given: A2Summ's values for TVSum and BLiSS, TVSum's for Mr.HiSum and WikiHow.
- CFSum: Sec. IV-A (Adam, lr 1e-3, weight decay 1e-4, 500 epochs for TVSum / YouTube Highlights,
  100 for QVHighlights, 8 heads, w_tv / w_ta 2.0 / 1.0). Batch size and hidden size are not
  given: 32 and 256 are our choices.
- MHMS (``MHMS_*`` below, each value with its section; "ours" where the paper gives none): 64
  word-pieces per sentence and 128 sentences, BERT-base at both levels (3.3); BART
  ``facebook/bart-large-cnn`` (5.1) for Daily Mail / CNN; for VMSMO, Chinese text, ``bert-base-chinese``
  and ``fnlp/bart-base-chinese`` (ours: the paper names only the English checkpoints); uniform OT
  weights (3.5). The paper gives no training settings (it pretrains the modules apart, 5.1): batch 4,
  lr 1e-4, no weight decay, 10 epochs are ours; so are w_b, tau, beta, the iteration counts, hidden
  sizes and the summary lengths.

Summarizers that generate text (``SEQ2SEQ``: VDF) have their own trainer and evaluator, named here, and their
defaults in ``SEQ2SEQ_DEFAULTS``:
- VDF: section 3.2 (4-layer, 512-d, 8-head encoder and decoder plus one forget fusion encoder layer and one
  cascaded fusion decoder layer, text cut to 800 and video to 1024, 50 epochs, batch 8, Adam at 1.5e-4, beam 6,
  length penalty 1, 2048-d video). Not in the paper, from the authors' code: feed-forward width 2048, dropout 0.1,
  no weight decay, summaries cut to / generated up to 200 tokens; KD at the encoder output (``kd_layer`` None = the
  last encoder layer, VDF-TS-E; 0 is VDF-TS-V).
"""

from __future__ import annotations

from models.a2summ.model import A2Summ
from models.cfsum.model import CFSum
from models.hiersum.model import HierSum
from models.mhms.model import MHMS

MODELS = {"a2summ": A2Summ, "hiersum": HierSum, "cfsum": CFSum, "mhms": MHMS}

A2SUMM_VIDEO = {"hidden": 128, "num_layers": 2, "ratio": 16, "beta": 0.1, "expansion": 4,
                "dropout_input": 0.1, "dropout": 0.5, "dropout_head": 0.5}
A2SUMM_NEWS = {"hidden": 256, "num_layers": 2, "ratio": 8, "expansion": 4,
               "dropout_input": 0.1, "dropout": 0.1, "dropout_head": 0.5}
A2SUMM_BLISS = {"hidden": 128, "num_layers": 6, "ratio": 4, "beta": 0.01, "lam": 0.001, "expansion": 4,
                "dropout_input": 0.1, "dropout": 0.1, "dropout_head": 0.5}
HIERSUM = {"hidden": 512, "expansion": 4, "dropout_input": 0.1, "dropout": 0.1, "dropout_head": 0.5}
CFSUM = {"hidden": 256, "heads": 8, "w_video": 2.0, "w_audio": 1.0}
MHMS_ALL = {
    "sentence_tokens": 64, "max_sentences": 128,  # 3.3: "64 word-pieces per sentence and 128 sentences"
    "vts_window": 2, "tau": 0.5, "vts_channels": 64,  # 3.1: w_b shots each side, threshold tau (values ours)
    "hidden": 128, "text_tau": 0.5,  # 3.2 / 3.3: sizes and threshold not given (ours)
    "ot_beta": 0.5, "ot_outer": 20, "ot_inner": 1, "ot_window": 2,  # 3.5 Algorithm 1: beta, N, L not given (ours)
    "temperature": 0.1, "ot_weight": 1.0,  # 5.1: "OT loss as a regularization term to the matching loss" (ours)
}
MHMS_EN = {**MHMS_ALL, "bert": "bert-base-uncased",  # 3.3: "BERT_BASE checkpoint"
           "bart": "facebook/bart-large-cnn",  # 5.1: "bart-large-cnn"
           "max_source_tokens": 1024, "summary_mode": "segments", "max_summary_tokens": 80, "min_summary_tokens": 10}
MHMS_ZH = {**MHMS_ALL, "bert": "bert-base-chinese", "bart": "fnlp/bart-base-chinese",  # Chinese text (ours)
           "max_source_tokens": 512, "summary_mode": "best", "max_summary_tokens": 40, "min_summary_tokens": 5}


def _train(batch_size, lr, weight_decay, epochs, **extra) -> dict:
    return {"batch_size": batch_size, "lr": lr, "weight_decay": weight_decay, "epochs": epochs, **extra}


DEFAULTS = {
    ("a2summ", "bliss"): {"train": _train(64, 1e-3, 1e-7, 50), "model": {**A2SUMM_BLISS}},
    ("a2summ", "tvsum"): {"train": _train(4, 1e-3, 1e-5, 300), "model": {**A2SUMM_VIDEO, "lam": 1.0}},
    ("a2summ", "summe"): {"train": _train(4, 1e-3, 1e-3, 300), "model": {**A2SUMM_VIDEO, "lam": 3.0}},
    ("a2summ", "dailymail"): {"train": _train(4, 2e-4, 1e-7, 100),
                              "model": {**A2SUMM_NEWS, "beta": 0.001, "lam": 0.001}},
    ("a2summ", "cnn"): {"train": _train(4, 2e-4, 1e-5, 100), "model": {**A2SUMM_NEWS, "beta": 0.0, "lam": 0.0}},
    ("hiersum", "tvsum"): {
        "train": _train(2, 1e-3, 1e-5, 100, scheduler="cosine", warmup_epochs=5),
        "model": {**HIERSUM, "num_layers": 2, "ratio": 16, "beta": 0.1, "lam": 1.0, "global_every": 2}},
    ("hiersum", "bliss"): {
        "train": _train(64, 1e-3, 1e-7, 50, scheduler=None, warmup_epochs=0),
        "model": {**HIERSUM, "num_layers": 6, "ratio": 4, "beta": 0.01, "lam": 0.001, "global_every": 2}},
    ("hiersum", "mrhisum"): {
        "train": _train(32, 1e-4, 1e-5, 300, scheduler="cosine", warmup_epochs=55),
        "model": {**HIERSUM, "num_layers": 2, "ratio": 16, "beta": 1.0, "lam": 1.0, "global_every": 5}},
    ("hiersum", "wikihow"): {
        "train": _train(32, 1e-3, 1e-5, 300, scheduler="cosine", warmup_epochs=25),
        "model": {**HIERSUM, "num_layers": 2, "ratio": 16, "beta": 1.0, "lam": 1.0, "global_every": 2}},
    ("cfsum", "tvsum"): {"train": _train(32, 1e-3, 1e-4, 500), "model": {**CFSUM}},
    ("cfsum", "youtube_highlights"): {"train": _train(32, 1e-3, 1e-4, 500), "model": {**CFSUM}},
    ("cfsum", "qvhighlights"): {"train": _train(32, 1e-3, 1e-4, 100), "model": {**CFSUM}},
    ("mhms", "vmsmo"): {"train": _train(4, 1e-4, 0.0, 10), "model": {**MHMS_ZH}},
    ("mhms", "dailymail"): {"train": _train(4, 1e-4, 0.0, 10), "model": {**MHMS_EN}},
    ("mhms", "cnn"): {"train": _train(4, 1e-4, 0.0, 10), "model": {**MHMS_EN}},
}

SEQ2SEQ = {"vdf": {"train": "models.vdf.train:run", "evaluate": "models.vdf.evaluate:evaluate_run"}}
SEQ2SEQ_DEFAULTS = {
    ("vdf", "how2"): {
        "train": _train(8, 1.5e-4, 0.0, 50),
        "model": {"d_model": 512, "encoder_layers": 4, "decoder_layers": 4, "heads": 8, "ffn_dim": 2048, "dropout": 0.1,
                  "video_dim": 2048, "max_text_len": 800, "max_video_len": 1024, "max_summary_len": 200},
        "run": {"num_beams": 6, "length_penalty": 1.0, "kd_layer": None, "support_config": "ms"}},
}

DIM_KEYS = ("video", "text", "audio", "query")


def build_model(name: str, dims: dict, **hparams):
    """``MODELS[name](video_dim=..., text_dim=..., ...)`` from ``dims`` ({"video": 512, "text": 768, ...};
    ``"video_dim"``-style keys work too; absent or None = modality not used), plus ``hparams``."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")
    kwargs = {}
    for key, value in dims.items():
        base = key.removesuffix("_dim")
        if base not in DIM_KEYS:
            raise ValueError(f"unknown modality {key!r} in dims; expected {', '.join(DIM_KEYS)}")
        kwargs[f"{base}_dim"] = None if value is None else int(value)
    if kwargs.get("video_dim") is None:
        raise ValueError("dims must give the video feature size ('video')")
    return MODELS[name](**kwargs, **hparams)


def defaults(name: str, family: str) -> dict:
    """``DEFAULTS[(name, family)]``, with an error naming the families the paper gives values for."""
    if (name, family) not in DEFAULTS:
        known = sorted(f for m, f in DEFAULTS if m == name)
        raise KeyError(f"no paper defaults for model {name!r} on {family!r}; known: {', '.join(known) or 'none'}")
    return DEFAULTS[(name, family)]
