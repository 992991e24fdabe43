"""RoBERTa sentence vectors as A2Summ used them: distilroberta-base, mean of last hidden states.

Pooling: the mean of the last layer's hidden states over the sentence's tokens (attention
mask applied, <s> and </s> included), not normalised, 768-d.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from extractors.base import TextExtractor, library_versions
from extractors.weights import missing, resolve_hf_model, weights_checksum, weights_flag

DEFAULT_MODEL = "distilroberta-base"


class Roberta(TextExtractor):
    name = "roberta"

    def __init__(self, weights=None, device: str = "cpu", batch_size: int = 32, model: str = DEFAULT_MODEL, max_length: int = 128):
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.model_name = model
        self.path = resolve_hf_model(model, weights, "RoBERTa weights", weights_flag(self.name))
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.max_length = max_length
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
            self.model = AutoModel.from_pretrained(str(self.path), local_files_only=True).to(self.device).eval()
        except OSError as e:
            raise missing(f"RoBERTa weights at {self.path}", "files missing or unreadable", weights_flag(self.name), e) from e
        self._sha = weights_checksum(self.path)

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    def config(self) -> dict:
        return {"extractor": self.name, "model": self.model_name, "weights_sha256": self._sha,
                "pooling": "masked mean of last hidden states", "max_length": self.max_length, "sampling": "per sentence"}

    def meta(self) -> dict:
        return {**self.config(), "dim": self.dim, "library_versions": library_versions("transformers", "torch")}

    def encode_texts(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), self.batch_size):
                batch = self.tokenizer(list(texts[i : i + self.batch_size]), padding=True, truncation=True,
                                       max_length=self.max_length, return_tensors="pt").to(self.device)
                hidden = self.model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                out.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).float().cpu().numpy())
        return np.concatenate(out).astype(np.float32)
