"""ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum F-measures, with Porter stemming, via ``rouge-score``.

Protocol: A2Summ's ``calc_text_rouge`` (BLiSS, CNN, Daily Mail; reused by HierSum for BLiSS):
``rouge_scorer.RougeScorer(..., use_stemmer=True)``, F-measure per example, and the corpus number
is the mean of the per-example F (A2Summ averages per batch, then over batches; equal when batches
are equal-sized). Values are in 0..1; papers print them x100. A2Summ's "R-L" is ROUGE-Lsum.
MHMS and VDF report ROUGE F1 too and are scored the same way here.

ROUGE-Lsum is the summary-level LCS: it needs the sentences of both texts separated by newlines.
A2Summ got them with ``split_summaries=True``, i.e. nltk's punkt sentence splitter, whose data
cannot be downloaded here (and is not needed): we take the sentences the datasets already have.
A text given as a list of sentences is joined with "\\n"; a string is used as is, its newlines
marking the sentences, so a multi-sentence string without newlines counts as ONE sentence for
ROUGE-Lsum (ROUGE-1/2/L do not care). Split abstractive references into sentences before calling.

We call ``score(target=reference, prediction=prediction)``, the library's documented order.
A2Summ's code passes them swapped. F is symmetric for ROUGE-1/2/L but not for ROUGE-Lsum when a
text has several sentences (the union-LCS hits are counted per target sentence), so
``a2summ_order=True`` swaps them back to reproduce A2Summ's numbers exactly.

Offline: rouge-score's tokenizer is a regex and its stemmer is nltk's PorterStemmer code; neither
loads nltk data.

Chinese (VMSMO): rouge-score's tokenizer keeps only [a-z0-9] and would score Chinese text as empty.
``cjk=True`` counts every CJK character as a token (the character-level ROUGE of Chinese
summarization, LCSTS's convention; DIMS scored VMSMO on an unpublished ROUGE server) and the rest as
rouge-score does (lower case, Porter stems).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from collectors.transcripts import CJK_CHARACTER

ROUGE_TYPES = ("rouge1", "rouge2", "rougeL", "rougeLsum")

_SCORER = None
_CJK_SCORER = None
_CJK = re.compile(f"({CJK_CHARACTER})")


class CharTokenizer:
    """CJK characters one token each; everything between them as rouge-score's default tokenizer (stemmed)."""

    def __init__(self):
        from rouge_score.tokenizers import DefaultTokenizer

        self._words = DefaultTokenizer(use_stemmer=True)

    def tokenize(self, text: str) -> list[str]:
        tokens = []
        for piece in _CJK.split(text):
            tokens += [piece] if _CJK.fullmatch(piece) else self._words.tokenize(piece)
        return tokens


def _scorer(cjk: bool = False):
    """One rouge_score RougeScorer per tokenizer, made on first use (its import pulls in nltk, about a second)."""
    global _SCORER, _CJK_SCORER
    from rouge_score import rouge_scorer

    if cjk:
        if _CJK_SCORER is None:
            _CJK_SCORER = rouge_scorer.RougeScorer(list(ROUGE_TYPES), tokenizer=CharTokenizer())
        return _CJK_SCORER
    if _SCORER is None:
        _SCORER = rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)
    return _SCORER




def as_lines(text: str | Sequence[str]) -> str:
    """One sentence per line, as ROUGE-Lsum reads them; a string passes through unchanged."""
    if isinstance(text, str):
        return text
    return "\n".join(" ".join(s.split()) for s in text if s.strip())


def rouge(prediction: str | Sequence[str], reference: str | Sequence[str], a2summ_order: bool = False,
          cjk: bool = False) -> dict[str, float]:
    """F-measures {rouge1, rouge2, rougeL, rougeLsum} of one prediction against one reference
    (``cjk``: Chinese characters as tokens, see the module docstring)."""
    target, pred = as_lines(reference), as_lines(prediction)
    if a2summ_order:
        target, pred = pred, target
    scores = _scorer(cjk).score(target, pred)
    return {name: float(scores[name].fmeasure) for name in ROUGE_TYPES}


def corpus_rouge(predictions: Sequence, references: Sequence, a2summ_order: bool = False) -> dict[str, float]:
    """Mean over examples of the per-example F-measures (A2Summ's corpus number)."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    if not predictions:
        raise ValueError("no examples to score")
    per = [rouge(p, r, a2summ_order) for p, r in zip(predictions, references)]
    return {name: float(np.mean([s[name] for s in per])) for name in ROUGE_TYPES}
