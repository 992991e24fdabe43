"""``--collect``: each QVHighlights segment downloaded from YouTube, then built as ``--videos`` builds
(:class:`Segments`, which ``QVHighlights(annotations, collect=Segments(...))`` runs in its prepare).

A ``vid`` is ``<youtube id>_<start>_<end>``: the video's info is fetched by the YouTube collector
(or read from ``--info-json DIR/<youtube id>.info.json``) and only seconds [start, end] are
downloaded (collectors.youtube.download_section: yt-dlp's download ranges, cut at exactly those
times by ffmpeg, video <= 480p) to ``<work>/media/<vid>.<ext>``. The same extraction job and
configs as ``--videos`` follow. yt-dlp cuts with the ffmpeg program: ``--ffmpeg PATH``, else
``ffmpeg`` on PATH, else the one the ``imageio-ffmpeg`` package ships; with none, nothing is
downloaded (exit 2).

Resumable: a segment whose file is there and lasts the annotated ``duration`` (within 2 s) is not
fetched again; a partial file of a killed run is removed and fetched anew. Polite: the collector's
pacing (``--sleep`` s between requests, jittered), retries with backoff and Retry-After; after 10
refusals in a row (rate_limited / bot_check) the videos left are not tried and fail with that kind.
A video that cannot be had fails with the collector's kind (``unavailable``, ``private``,
``rate_limited``, ``bad_media``, ...), recorded in build.json; the others are built.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

from builders.core.base import BuildError
from builders.qvhighlights.dataset import labels, parse_vid
from collectors.manifest import BLOCKED_KINDS
from collectors.net import Net
from collectors.records import ItemError

TOLERANCE = 2.0  # s: a segment file this close to the annotated duration is complete
STOP_AFTER_BLOCKED = 10
SPLIT_ORDER = {"train": 0, "validation": 1, "test": 2}


def find_ffmpeg(flag: str | Path | None) -> str:
    """The ffmpeg program yt-dlp will cut with: ``--ffmpeg``, else ffmpeg on PATH, else imageio-ffmpeg's."""
    if flag is not None:
        if not Path(flag).is_file():
            raise BuildError(f"--ffmpeg {flag} is not a file")
        return str(flag)
    found = shutil.which("ffmpeg")
    if found:
        return found
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        raise BuildError("--collect needs the ffmpeg program: give --ffmpeg PATH, put ffmpeg on PATH, or "
                         "pip install imageio-ffmpeg") from None


def _valid(q) -> bool:
    try:
        labels(q)
        return True
    except ItemError:
        return False


class Segments:
    """The segments of a build's videos, downloaded from YouTube into ``<work>/media`` (``QVHighlights(collect=...)``)."""

    def __init__(self, *, ffmpeg: str | Path | None = None, info_json: Path | None = None, limit: int | None = None,
                 net: Net | None = None, sleep: float = 2.0, cookies: Path | None = None):
        if info_json is not None and not Path(info_json).is_dir():
            raise BuildError(f"--info-json {info_json} is not a directory")
        if limit is not None and limit < 1:
            raise BuildError(f"--limit must be at least 1, got {limit}")
        self.ffmpeg = find_ffmpeg(ffmpeg)  # before anything is read or downloaded
        self.info_json, self.limit = info_json, limit
        try:
            self.net = net or Net(sleep=sleep, cookies=cookies)
        except ValueError as e:
            raise BuildError(str(e)) from None
        self.files, self.errors = {}, {}
        self.counts = {"downloaded": 0, "present": 0, "failed": 0}

    def fetch(self, by_video: dict[str, list], media: Path, progress: bool) -> list[str]:
        """Download the segments of `by_video` ({vid: its queries}) into `media`; returns the vids tried (the
        first `limit`, train before validation before test; none whose queries are all malformed)."""
        self.media = Path(media)
        vids = [v for v in sorted(by_video, key=lambda v: SPLIT_ORDER[by_video[v][0].split])  # stable
                if any(_valid(q) for q in by_video[v])]  # a video whose queries are all malformed: no download
        vids = vids[: self.limit] if self.limit else vids
        refused, last = 0, None
        for n, vid in enumerate(vids, 1):
            t0 = time.monotonic()
            if refused >= STOP_AFTER_BLOCKED:
                self.errors[vid] = ItemError(last.kind, f"not tried: YouTube refused the {refused} downloads before it "
                                                        "in a row; rerun later (the segments downloaded are kept)")
                said = f"not tried ({last.kind})"
            else:
                try:
                    path, fetched = self._segment(vid, float(by_video[vid][0].record["duration"]))
                    self.files[vid] = path
                    self.counts["downloaded" if fetched else "present"] += 1
                    said, refused = ("downloaded" if fetched else "already here"), 0
                except ItemError as e:
                    self.errors[vid] = last = e
                    refused = refused + 1 if e.kind in BLOCKED_KINDS else 0
                    said = f"FAILED {e.kind}: {e.message}"
            if vid in self.errors:
                self.counts["failed"] += 1
            if progress:
                print(f"qvhighlights --collect [{n}/{len(vids)}] {vid}: {said} ({time.monotonic() - t0:.1f} s)",
                      file=sys.stderr, flush=True)
        return vids

    def _segment(self, vid: str, duration: float) -> tuple[Path, bool]:
        from collectors.youtube import download_section

        try:
            youtube_id, start, end = parse_vid(vid)
        except ValueError:
            raise ItemError("bad_annotation", f"vid {vid!r} is not <youtube id>_<start>_<end>") from None
        if not (0 <= start < end) or "/" in vid or vid.startswith("."):
            raise ItemError("bad_annotation", f"vid {vid!r}: not a segment [start, end] of a YouTube video")
        source = (str(Path(self.info_json) / f"{youtube_id}.info.json") if self.info_json
                  else f"https://www.youtube.com/watch?v={youtube_id}")
        return download_section(source, self.media / vid, start, end, self.net, ffmpeg=self.ffmpeg,
                                expected=duration, tolerance=TOLERANCE)

    def file(self, vid: str) -> Path:
        """The segment downloaded for `vid`; its ItemError when it could not be had."""
        if vid in self.errors:
            raise self.errors[vid]
        return self.files[vid]

    def facts(self) -> dict:
        return {**self.counts, "media": str(self.media), "ffmpeg": self.ffmpeg, "limit": self.limit,
                "info_json": str(self.info_json) if self.info_json else None}
