"""Whisper as an extraction job of its own, before a build's other tracks: the collector leaves the
items that need ASR in its manifest with ``meta["asr_pending"]`` (collectors.youtube.DEFER_ASR), this
job transcribes them on the user's engine (a cluster, GPUs), and their transcripts go back into
the manifest. HierSum and the Behance crawl (builders.bliss.behance) use it."""

from __future__ import annotations

from pathlib import Path

from builders.core.extraction import Track
from collectors.records import ItemError, write_manifest


def transcribe_pending(manifest: Path, ctx) -> dict | None:
    """Whisper, as an extraction job over a manifest of the videos collected without clean subtitles;
    their transcripts (or failures) go back into the manifest. Returns the job's summary, None if no
    video needed it. On GPU workers with --device cuda, like every other extractor."""
    from collectors.manifest import latest_items, update_manifest
    from collectors.youtube import finish_deferred_asr

    pending = [i for i in latest_items(manifest).values() if i.ok and "asr_pending" in i.meta]
    if not pending:
        return None
    asr = ctx.work / "asr"
    write_manifest(asr / "manifest.jsonl", pending)
    found, summary = ctx.extract(asr / "manifest.jsonl", asr, {"asr": Track("whisper")})
    heard = found["asr"]
    done = []
    for item in pending:
        try:
            track = heard.track(item.id)
            done.append(finish_deferred_asr(item, track.meta.get("sentences", []), track.meta.get("language"),
                                            heard.config))
        except ItemError as e:
            done.append(item.failed(e))
    update_manifest(manifest, done)
    return summary
