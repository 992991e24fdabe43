"""A2Summ's hyper-parameters per dataset family (``models.registry``: ``FAMILIES[family]`` = {"train", "model"}).

Sources: appendix B (batch, lr, weight decay, epochs, L, r, beta, lambda, expansion 4); the hidden size and
dropouts, which the paper does not give, from the authors' ``config.py``. Appendix B lists SumMe / TVSum as
"weight decay of 1e-3 and 1e-5 ... lambda of 3 and 1 for the SumMe and TVSum datasets, respectively": SumMe
1e-3 / 3, TVSum 1e-5 / 1 (the config agrees). No recipe for other families: the paper gives none (a family not
listed trains with the generic settings and the network's own defaults, said in the log).
"""

from models.registry import recipe

VIDEO = {"hidden": 128, "num_layers": 2, "ratio": 16, "beta": 0.1, "expansion": 4,
         "dropout_input": 0.1, "dropout": 0.5, "dropout_head": 0.5}
NEWS = {"hidden": 256, "num_layers": 2, "ratio": 8, "expansion": 4,
        "dropout_input": 0.1, "dropout": 0.1, "dropout_head": 0.5}
BLISS = {"hidden": 128, "num_layers": 6, "ratio": 4, "beta": 0.01, "lam": 0.001, "expansion": 4,
         "dropout_input": 0.1, "dropout": 0.1, "dropout_head": 0.5}

FAMILIES = {
    "bliss": {"train": recipe(64, 1e-3, 1e-7, 50), "model": BLISS},
    "tvsum": {"train": recipe(4, 1e-3, 1e-5, 300), "model": {**VIDEO, "lam": 1.0}},
    "summe": {"train": recipe(4, 1e-3, 1e-3, 300), "model": {**VIDEO, "lam": 3.0}},
    "dailymail": {"train": recipe(4, 2e-4, 1e-7, 100), "model": {**NEWS, "beta": 0.001, "lam": 0.001}},
    "cnn": {"train": recipe(4, 2e-4, 1e-5, 100), "model": {**NEWS, "beta": 0.0, "lam": 0.0}},
}
