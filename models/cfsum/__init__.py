"""CFSum: the coarse-fine fusion network (model.py) and its defaults with their sources (defaults.py)."""

NETWORK = "models.cfsum.model:CFSum"
