"""MHMS's hyper-parameters (``models.registry``: a shared ``RECIPE`` and per-family overrides), each value with its
section of the paper; "ours" where the paper gives none.

64 word-pieces per sentence and 128 sentences, BERT-base at both levels (3.3); BART ``facebook/bart-large-cnn``
(5.1) for Daily Mail / CNN; for VMSMO, Chinese text, ``bert-base-chinese`` and ``fnlp/bart-base-chinese`` (ours:
the paper names only the English checkpoints); uniform OT weights (3.5). The paper gives no training settings (it
pretrains the modules apart, 5.1): batch 4, lr 1e-4, no weight decay, 10 epochs are ours; so are w_b, tau, beta,
the iteration counts, hidden sizes and the summary lengths. Only the news families have values.
"""

from models.registry import recipe

RECIPE = {
    "train": recipe(4, 1e-4, 0.0, 10),
    "model": {
        "sentence_tokens": 64, "max_sentences": 128,  # 3.3: "64 word-pieces per sentence and 128 sentences"
        "vts_window": 2, "tau": 0.5, "vts_channels": 64,  # 3.1: w_b shots each side, threshold tau (values ours)
        "hidden": 128, "text_tau": 0.5,  # 3.2 / 3.3: sizes and threshold not given (ours)
        "ot_beta": 0.5, "ot_outer": 20, "ot_inner": 1, "ot_window": 2,  # 3.5 Algorithm 1: beta, N, L not given (ours)
        "temperature": 0.1, "ot_weight": 1.0,  # 5.1: "OT loss as a regularization term to the matching loss" (ours)
    },
}
ENGLISH = {"bert": "bert-base-uncased",  # 3.3: "BERT_BASE checkpoint"
           "bart": "facebook/bart-large-cnn",  # 5.1: "bart-large-cnn"
           "max_source_tokens": 1024, "summary_mode": "segments", "max_summary_tokens": 80, "min_summary_tokens": 10}
CHINESE = {"bert": "bert-base-chinese", "bart": "fnlp/bart-base-chinese",  # Chinese text (ours)
           "max_source_tokens": 512, "summary_mode": "best", "max_summary_tokens": 40, "min_summary_tokens": 5}

FAMILIES = {
    "vmsmo": {"model": CHINESE},
    "dailymail": {"model": ENGLISH},
    "cnn": {"model": ENGLISH},
}
