"""A2Summ (He et al., CVPR 2023): the network (model.py) and its defaults with their sources (defaults.py)."""

NETWORK = "models.a2summ.model:A2Summ"
