"""Objects named ``module:attribute`` (extractor classes, model factories), imported on demand."""

from __future__ import annotations

import importlib


def load_object(spec: str):
    """The attribute ``spec`` = ``"package.module:name"`` names. Raises ValueError for a spec of
    another shape, ImportError / AttributeError when the module or the name is not there."""
    module, sep, name = spec.partition(":")
    if not (sep and module and name):
        raise ValueError(f"expected package.module:name, got {spec!r}")
    return getattr(importlib.import_module(module), name)
