"""Where MHMS's pretrained text models come from: ``--weights NAME=PATH`` (a local model directory, or a
hub model name), else the name the registry gives for the dataset family; a name is looked up in the
local cache (vsumhub's, then downloaded unless offline). Offline without it, the error names the flag."""

from __future__ import annotations

import os
from pathlib import Path

from extractors.weights import explicit_path, resolve_hf_model, weights_flag

WHAT = {"bert": "the hierarchical BERT of text segmentation (section 3.3)",
        "bart": "the BART of text summarization (section 3.4)"}


def looks_like_path(value: str) -> bool:
    """A local path (it exists, starts with . / or ~, or has more slashes than an owner/name hub id)."""
    return os.path.exists(os.path.expanduser(value)) or value.startswith((".", "/", "~")) or value.count("/") > 1


def resolve(key: str, weights: dict | None, default: str) -> Path:
    """The local directory of model ``key`` (``bert`` / ``bart``): ``weights[key]`` or ``default``, a path or a
    hub name. Raises extractors.base.MissingWeightsError naming ``--weights key=PATH``."""
    value = str((weights or {}).get(key) or default)
    what = f"{key} weights, {WHAT.get(key, key)}"
    if looks_like_path(value):
        return explicit_path(value, what, weights_flag(key))
    return resolve_hf_model(value, None, what, weights_flag(key))
