"""MHMS section 3.4: abstractive summaries by BART (``transformers``), one per text segment.

The checkpoint is a sequence-to-sequence model and its tokenizer (``AutoModelForSeq2SeqLM``):
``facebook/bart-large-cnn`` as section 5.1 says (406M parameters, fine-tuned on CNN / Daily Mail), or
a Chinese BART for VMSMO. Training is teacher-forced cross-entropy of the reference summary given the
article (cut to ``max_source_tokens``); :meth:`generate` writes the summary candidates with the
checkpoint's own generation settings (beams, length penalty, no-repeat n-grams) except the lengths,
which the registry gives per dataset family.
"""

from __future__ import annotations

import torch
from torch import nn


class BartSummarizer(nn.Module):
    def __init__(self, path, max_source_tokens: int = 1024, max_target_tokens: int = 256):
        super().__init__()
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.model = AutoModelForSeq2SeqLM.from_pretrained(str(path), local_files_only=True)
        limit = getattr(self.model.config, "max_position_embeddings", max_source_tokens)
        self.max_source_tokens, self.max_target_tokens = min(max_source_tokens, limit), max_target_tokens

    @property
    def device(self):
        return next(self.model.parameters()).device

    def _encode(self, texts: list[str], limit: int):
        return self.tokenizer(texts, truncation=True, max_length=limit, padding=True, return_tensors="pt",
                              return_token_type_ids=False).to(self.device)  # a BERT tokenizer (Chinese BARTs) makes them

    def loss(self, sources: list[str], targets: list[str]) -> torch.Tensor:
        """Mean token cross-entropy of ``targets`` given ``sources`` (teacher forcing)."""
        enc = self._encode(sources, self.max_source_tokens)
        labels = self.tokenizer(text_target=targets, truncation=True, max_length=self.max_target_tokens, padding=True,
                                return_tensors="pt").input_ids.to(self.device)
        labels = labels.masked_fill(labels == self.tokenizer.pad_token_id, -100)
        return self.model(**enc, labels=labels).loss

    @torch.no_grad()
    def generate(self, sources: list[str], max_new_tokens: int, min_new_tokens: int = 0, num_beams: int | None = None) -> list[str]:
        if not sources:
            return []
        enc = self._encode(sources, self.max_source_tokens)
        options = {"max_new_tokens": max_new_tokens, "min_new_tokens": min(min_new_tokens, max_new_tokens)}
        if num_beams:
            options["num_beams"] = num_beams
        ids = self.model.generate(**enc, **options)
        return [" ".join(t.split()) for t in self.tokenizer.batch_decode(ids, skip_special_tokens=True)]

    def token_embeddings(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """The texts' word-piece embeddings [B, M, D] (BART's input table, detached) and their mask [B, M]."""
        enc = self._encode([t if t.strip() else self.tokenizer.unk_token or "." for t in texts], self.max_target_tokens)
        with torch.no_grad():
            emb = self.model.get_input_embeddings()(enc.input_ids)
        return emb, enc.attention_mask.bool()
