"""HierSum: A2Summ with the parent-child schedule (model.py) and Table 1's defaults (defaults.py)."""

NETWORK = "models.hiersum.model:HierSum"
