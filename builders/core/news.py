"""What news-with-video datasets share (VMSMO, MM-AVS's Daily Mail and CNN): an article and its video,
a reference summary, and a picture to match (a cover, article images).

- The article is text without a clock. Its sentences are published in the shared ``sentences``
  column with ``start`` / ``end`` null (unknown, not zero: no sentence is aligned to any frame), and
  encoded through the extraction job as the item's article steps (``extractors.inputs.GlobalSteps``
  with the chosen text encoder), so a cluster encodes them with the frames.
- :func:`split_sentences` cuts an article into sentences: lines are paragraphs; inside a line a
  sentence ends at 。！？ (and what closes them) or at a word that ends one by the collectors' rule
  (``collectors.transcripts.is_sentence_end``: . ! ? not after an abbreviation or an initial).
- :func:`pick_candidates` is VMSMO's rule for the 10 candidate frames its cover metrics rank.
"""

from __future__ import annotations

import re

import numpy as np

from builders.core.extraction import Track
from builders.core.schema import sentence, sentences_column, vectors
from collectors.records import RawItem
from collectors.transcripts import CLOSERS, has_cjk, is_sentence_end

CJK_END = "。！？!?"
_CJK_SPLIT = re.compile(rf"(?<=[{CJK_END}])[{re.escape(CLOSERS)}”’」』]*")
CANDIDATES = 10  # VMSMO: one true cover among 10 frames (R10@k)


def _latin_sentences(line: str) -> list[str]:
    out, words = [], []
    for word in line.split():
        words.append(word)
        if is_sentence_end(word):
            out.append(" ".join(words))
            words = []
    if words:
        out.append(" ".join(words))
    return out


def split_sentences(text: str) -> list[str]:
    """The sentences of an article, in order, whitespace-normalised, none empty."""
    sentences = []
    for line in (text or "").splitlines():
        line = " ".join(line.split())
        if not line:
            continue
        if has_cjk(line):
            pieces, start = [], 0
            for m in _CJK_SPLIT.finditer(line):
                pieces.append(line[start:m.end()])
                start = m.end()
            pieces.append(line[start:])
            sentences += [s for p in pieces for s in _latin_sentences(p.strip()) if s]
        else:
            sentences += _latin_sentences(line)
    return sentences


def untimed(sentences: list[str]) -> list[dict]:
    """``sentences`` rows of an article: text with start / end null."""
    return [{"start": None, "end": None, "text": s} for s in sentences]


def article_item(item_id: str, source: str, title: str, sentences: list[str], media: dict, **fields) -> RawItem:
    """A RawItem whose article steps are the sentences (what the text track encodes)."""
    return RawItem(id=item_id, source=source, title=title, media=media,
                   article={"title": title, "steps": [{"text": s} for s in sentences]}, **fields)


def text_track(text: str, options: dict | None = None) -> Track:
    """The article sentences through text extractor ``text`` (one vector per sentence)."""
    return Track("steps", {"encoder": text, **({"options": options} if options else {})}, column=sentences_column(text))


def article_features(text: str, text_dim: int) -> dict:
    from datasets import List, Value

    return {
        "article": Value("string"),  # the article as released
        "sentences": List(sentence()),  # [N] its sentences, start / end null
        sentences_column(text): vectors(text_dim),  # [N, D]
        "summary": Value("string"),  # the reference summary (one sentence per line)
    }


def check_text_track(item_id: str, track, sentences: list[str]):
    """The sentence vectors, checked against the sentences (the job encodes the article steps)."""
    from collectors.records import ItemError

    if len(track) != len(sentences):
        raise ItemError("bad_media", f"{len(track)} sentence vectors for {len(sentences)} sentences", item_id)
    return np.asarray(track.values, np.float32)


def pick_candidates(n_frames: int, cover: int, k: int = CANDIDATES) -> tuple[np.ndarray, np.ndarray] | None:
    """VMSMO's candidates (DIMS ``batcher.py``, ``pick_arange``): k frames evenly spread over the video and
    the one nearest the cover frame as the positive. With step s = n / k, candidate j is frame
    ``int(s * j)``, except the last one, which is the last frame when ``int(s * (j + 1))`` reaches the end;
    the positive is the first candidate at the least distance from ``cover``. None when the video has
    fewer than k frames (DIMS leaves such samples out)."""
    if n_frames < k:
        return None
    step = n_frames / k
    picks = np.array([n_frames - 1 if int(step * (j + 1)) >= n_frames else int(step * j) for j in range(k)], np.int32)
    labels = np.zeros(k, np.int8)
    labels[int(np.argmin(np.abs(picks.astype(np.int64) - cover)))] = 1
    return picks, labels
