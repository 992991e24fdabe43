"""Datasets, one package each (``python -m builders.<name>``); the machinery they share is in
``builders.core``, the label algorithms in ``builders.labels``."""
