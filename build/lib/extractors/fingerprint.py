"""What an extractor reads of an item, fingerprinted: the job stores it per item and re-extracts an
item whose input changed since (extractors.run)."""

from __future__ import annotations

import hashlib
import json

from collectors.records import RawItem
from common.files import files_fingerprint


AUDIO_MODALITIES = ("audio", "asr", "audio->text")  # they read media["audio"], else the video's audio
TEXT_MODALITIES = ("text", "steps")  # they read the manifest line itself, no media file


def input_path(item: RawItem, modality: str) -> str | None:
    """The media file an extractor of ``modality`` reads; None for text, or when the item has no such
    path or a malformed ``media`` field (RawItem.input_problems)."""
    if modality in TEXT_MODALITIES or item.input_problems(modality):
        return None
    if modality == "thumbnail":
        return item.media.get("thumbnail")
    if modality in AUDIO_MODALITIES:
        return item.media.get("audio") or item.media.get("video")
    return item.media.get("video")


def input_fingerprint(item: RawItem, modality: str) -> str:
    """What an extractor of ``modality`` reads of an item: the transcript or step texts, or the media files."""
    if modality == "text":
        return hashlib.sha1(json.dumps(item.transcript, sort_keys=True).encode()).hexdigest()
    if modality == "steps":
        return hashlib.sha1(json.dumps(global_steps(item), sort_keys=True).encode()).hexdigest()
    return files_fingerprint(input_path(item, modality))


def global_steps(item: RawItem) -> list[str]:
    """The item's global instruction: its article's steps, else its description's sentences."""
    from collectors.articles import global_instruction

    return global_instruction(item.article, item.description)[0]
