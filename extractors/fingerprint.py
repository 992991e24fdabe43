"""What an extractor reads of an item, fingerprinted: the job stores it per item and re-extracts an
item whose input changed since (extractors.run)."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import threading
import time

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


def current_fingerprint(item: RawItem, modality: str) -> str | None:
    """The item's input fingerprint as this process sees it now; None when its input is not visible
    here (a driver away from the workers' filesystem: a changed file goes unnoticed rather than
    every item looking changed)."""
    if modality in TEXT_MODALITIES:
        return input_fingerprint(item, modality)
    media = input_path(item, modality)
    if not media or not os.path.exists(media):
        return None
    return input_fingerprint(item, modality)


def fingerprints_within(items: list[RawItem], modality: str, timeout: float, threads: int = 8,
                        stalled_after: float = 1.0) -> tuple[dict[str, str | None], list[str]]:
    """({id: current_fingerprint} of the items whose input answered within ``timeout`` seconds in
    all, the ids of those that did not).

    A stat on a mount that stopped answering never returns and cannot be interrupted: the stats run
    on daemon threads, and the caller waits no longer than ``timeout`` for them (a rerun's check of
    what changed then trusts the recorded fingerprints of the items that did not answer, rather
    than leaving the workers idle). One thread does the stats while they answer (on a local disk
    more threads only contend: 50k stats took 3x the CPU on 8); each ``stalled_after`` seconds (an
    eighth of ``timeout`` if shorter) without an answer starts another, up to ``threads``, so the
    items behind a stuck one go on.
    """
    if modality in TEXT_MODALITIES:  # no file to stat
        return {i.id: input_fingerprint(i, modality) for i in items}, []
    if not items:
        return {}, []
    work: queue.SimpleQueue = queue.SimpleQueue()
    for item in items:
        work.put(item)
    results: dict[str, str | None] = {}
    finished, stop = threading.Event(), threading.Event()
    lock = threading.Lock()

    def run():
        while not stop.is_set():
            try:
                item = work.get_nowait()
            except queue.Empty:
                return
            try:
                fp = current_fingerprint(item, modality)
            except OSError:
                fp = None  # unreadable here: as if not visible
            with lock:
                results[item.id] = fp
                if len(results) == len(items):
                    finished.set()

    deadline, started, answered_before = time.monotonic() + timeout, 1, 0
    look = min(stalled_after, timeout / 8)  # a short timeout still leaves time for the other threads
    threading.Thread(target=run, daemon=True, name="vsumhub-fingerprint").start()
    finished.wait(look)
    while not finished.is_set() and (left := deadline - time.monotonic()) > 0:
        if len(results) == answered_before and started < threads:  # no answer since the last look: one more
            threading.Thread(target=run, daemon=True, name="vsumhub-fingerprint").start()
            started += 1
        answered_before = len(results)
        finished.wait(min(look, left))
    stop.set()
    with lock:
        answered = dict(results)
    return answered, [i.id for i in items if i.id not in answered]
