"""VDF (Liu et al., EMNLP 2022): the network (model.py), its text + video batches (data.py), its runs of the shared
training loop (stages.py: direct, or the triple-stage framework) and its generation evaluation (evaluate.py)."""

NETWORK = "models.vdf.model:VDF"
TRAINING = "models.vdf.stages"
EVALUATE = "models.vdf.evaluate:evaluate_run"
