"""MHMS section 3.3: text segmentation with a hierarchical BERT (after Lukasik et al., which it cites).

Level one encodes each sentence alone with BERT, at most ``sentence_tokens`` (64) word-pieces, and keeps
its [CLS] vector; level two is another BERT encoder over the sequence of [CLS] vectors of an article
(at most ``max_sentences``, 128; its own position embeddings number the sentences), so sentences
relate to each other through its attention; a linear layer on each sentence's output gives the logit
that a segment ends after it. Both levels load the same checkpoint (section 3.3: "to use the BERT_BASE
checkpoint", 12 layers each, 24 in all), so the model class is whatever BERT-style encoder the
checkpoint holds (``AutoModel``): ``bert-base-uncased`` for English, a Chinese BERT for VMSMO.

Sentences after the 128th are not encoded; they belong to the article's last segment. Labels: the
paper pretrains on Wiki-727K; these datasets have no segment labels, so, as for the video side,
:func:`models.mhms.vts.pseudo_boundaries` of the published sentence vectors (KTS) are the targets.
"""

from __future__ import annotations

import torch
from torch import nn


class HierarchicalBert(nn.Module):
    def __init__(self, path, sentence_tokens: int = 64, max_sentences: int = 128, chunk: int = 64):
        super().__init__()
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        self.sentence_encoder = AutoModel.from_pretrained(str(path), local_files_only=True)
        self.article_encoder = AutoModel.from_pretrained(str(path), local_files_only=True)
        hidden = self.sentence_encoder.config.hidden_size
        limit = getattr(self.article_encoder.config, "max_position_embeddings", max_sentences)
        self.sentence_tokens, self.max_sentences, self.chunk = sentence_tokens, min(max_sentences, limit), chunk
        self.head = nn.Linear(hidden, 1)

    def encode_sentences(self, sentences: list[str]) -> torch.Tensor:
        """[CLS] vectors [S, H] of sentences, each cut to ``sentence_tokens`` word-pieces."""
        device = self.head.weight.device
        out = []
        for i in range(0, len(sentences), self.chunk):
            batch = self.tokenizer(sentences[i:i + self.chunk], truncation=True, max_length=self.sentence_tokens,
                                   padding=True, return_tensors="pt").to(device)
            out.append(self.sentence_encoder(**batch).last_hidden_state[:, 0])
        return torch.cat(out) if out else torch.zeros(0, self.head.in_features, device=device)

    def forward(self, articles: list[list[str]]) -> tuple[torch.Tensor, torch.Tensor]:
        """(boundary logits [B, N], mask [B, N]) for articles given as lists of sentences (N <= max_sentences)."""
        kept = [a[: self.max_sentences] for a in articles]
        n = max((len(a) for a in kept), default=0)
        device = self.head.weight.device
        mask = torch.zeros(len(kept), max(n, 1), dtype=torch.bool, device=device)
        for i, a in enumerate(kept):
            mask[i, : len(a)] = True
        cls = self.encode_sentences([s for a in kept for s in a])
        x = cls.new_zeros(len(kept), max(n, 1), cls.shape[-1])
        x[mask] = cls
        if n == 0:
            return x.new_zeros(len(kept), 1), mask
        h = self.article_encoder(inputs_embeds=x, attention_mask=mask.long()).last_hidden_state
        return self.head(h).squeeze(-1), mask
