"""What every BLiSS source shares: the clip length, the card, and the numbers a split's stats count."""

from __future__ import annotations

import numpy as np

from builders.core.schema import keyframe_column
from cards.pages import ref

CLIP_SECONDS = 300.0
TOOL = "python -m builders.bliss"  # the command every source is built with (python -m builders.bliss --source ...)
UNLABELLED_SUFFIX = "-unlabelled"  # the config of streams without annotations
UNLABELLED_NOTE = ("UNLABELLED: streams without annotations.json. sentence_labels, summary and keywords are null "
                   "(unknown, not negative); keyframes come from the stream's thumbnail animation.")


def card_facts(source: str, unlabelled: bool = False) -> dict:
    """The card's facts for a build from `source`; `unlabelled` when some streams have no annotations. The
    prose is docs/datasets/bliss.md's sections."""
    labels = ref("bliss", "Labels: a2summ" if source == "a2summ" else "Labels: clipped sources")
    return {
        "pretty_name": "BLiSS: Behance LiveStream Summarization" + (" (synthetic sample)" if source == "sample" else ""),
        "summary": ref("bliss", "What it is"),
        "sources": ref("bliss", f"Source: {source}"),
        "labels": [labels, *([ref("bliss", "Labels: unlabelled streams")] if unlabelled else [])],
        "license": "apache-2.0" if source == "sample" else "unknown",
        "license_text": ref("bliss", f"License: {source}"),
        "item_unit": "released clips" if source == "a2summ" else "source videos",
        "task_categories": ["summarization", "video-text-to-text"],
        "tags": ["video-summarization", "multimodal-summarization", "livestream"],
        "citation": ref("bliss", "Citation"),
        "columns": ref("bliss", "Column meanings"),
        "usage_columns": ["frame_times", "frames_*", "sentences", "sentences_*", "sentence_labels", "frame_labels", "summary"],
    }


def count(row: dict, visual: str) -> dict:
    """One example's frames, sentences, seconds, key sentences and keyframes (build.json stats)."""
    labels = row["sentence_labels"]  # null in an unlabelled config: no count rather than a false 0
    return {"frames": len(row["frame_times"]), "sentences": len(row["sentences"]), "seconds": float(row["duration"]),
            **({} if labels is None else {"key_sentences": int(np.sum(labels))}),
            "keyframes": len(row[keyframe_column(visual)])}
