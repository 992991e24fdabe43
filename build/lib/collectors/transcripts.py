"""Subtitle files (YouTube json3, WebVTT, SRT) -> timed cues -> sentences, and when subtitles are "clean".

Cues are ``{start, end, text}`` in seconds, in file order, one per caption event; markup (``<c>``,
``<i>``, inline ``<00:00:01.234>`` word times, ``{\\an8}``) is removed and (in WebVTT) HTML entities decoded.

Rolling captions. YouTube's automatic WebVTT shows two lines at a time: every cue repeats the
line before it, then adds the new line (with inline word times), and a 10 ms cue in between holds
the finished line alone. A file rolls when it has inline word times, or when three quarters or more
of its cues start with the previous cue's last line; then each cue keeps only the lines that the previous
cue did not end with, and a cue left empty is dropped, so every spoken word appears once.
In json3 a caption line stays up until the next event (another line, or the line break that
automatic captions send when a line is complete) replaces it, so each cue ends where the next
event starts when they overlap: the same times YouTube's own WebVTT of the track has.

Sentence rule (:func:`to_sentences`). Cue texts are split into words; each word's times come from
its cue by character position (a word at characters [a, b) of a cue of n characters spanning
[s, e] runs from s + (e - s) a / n to s + (e - s) b / n), so a sentence boundary inside a cue gets
an interpolated time. A transcript is *punctuated* when at least one word in 50 ends a sentence
(:func:`is_sentence_end`, which the Whisper extractor shares: ``. ! ?`` except after titles, Latin
abbreviations and initials).
Punctuated: a sentence ends after such a word. Unpunctuated (most automatic captions): a sentence
ends at a cue boundary where the next cue starts 1.0 s or more after the last one ended. Either
way a sentence also ends before a cue that would make it longer than 20 s (a single longer cue
stays whole), before a non-speech tag (``[Music]``, ``(laughs)``, ``♪``), which becomes a
sentence of its own so it can be counted or dropped, and at a ``>>`` speaker change (the marker
is dropped). A sentence runs from its first word's start to its last word's end.

Clean rule (:func:`is_clean`), for choosing between subtitles and Whisper. Whisper and provided
transcripts are clean when they have speech. Manual subtitles are clean unless they have no speech
or half or more of their sentences are non-speech tags. Automatic captions are clean only when
they read like text, as Whisper's output does: punctuated (as above), cased (5 % or more of the
words start with a capital, "I" and its contractions not counted), at most 10 % tag sentences,
and, when the duration is known, spanning at least half of it (first start to last end: catches
a track that stops early).
"""

from __future__ import annotations

import html
import itertools
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

PAUSE_SECONDS = 1.0
MAX_SENTENCE_SECONDS = 20.0
WORDS_PER_SENTENCE_END = 50  # punctuated: at least one sentence end per this many words
MANUAL_MAX_TAG_SHARE = 0.5
AUTO_MAX_TAG_SHARE = 0.1
AUTO_MIN_CAPITAL_SHARE = 0.05
AUTO_MIN_SPAN = 0.5
SPEAKER_CHANGE = ">>"
ROLLING_SHARE = 0.75  # of consecutive cue pairs where the second starts with the first's last line
# Where a sentence ends (subtitles here, Whisper's words in extractors.whisper): see is_sentence_end.
SENTENCE_END = (".", "!", "?", "。", "！", "？")
CLOSERS = "\"')]}”’»"
# Kana and CJK ideographs (incl. compatibility ones): text whose sentences end at 。！？ and whose words are
# not space-separated (builders.core.news splits such articles, models.metrics.rouge scores them per character).
CJK_CHARACTER = "[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]"
_CJK = re.compile(CJK_CHARACTER)


def has_cjk(text: str | Sequence[str]) -> bool:
    """Whether a text (or any of several) holds a CJK character."""
    return bool(_CJK.search(text if isinstance(text, str) else "".join(text or "")))
ABBREVIATIONS = {"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "jr.", "sr.", "vs.", "e.g.", "i.e."}

FORMATS = {".json3": "json3", ".json": "json3", ".vtt": "vtt", ".srt": "srt"}

_MARKUP = re.compile(r"<[^>]*>|\{\\[^}]*\}")  # <c>, <i>, <00:00:01.234>, <v Name>, {\an8}
_INLINE_TIME = re.compile(r"<\d{1,2}:\d{2}(?::\d{2})?\.\d{3}>")
_VTT_TIME = re.compile(r"^(?:(\d+):)?([0-5]\d):([0-5]\d)\.(\d{3})$")
_SRT_TIME = re.compile(r"^(\d+):([0-5]\d):([0-5]\d)[,.](\d{1,3})$")
_TAG_PIECE = re.compile(r"\[[^\]]*\]|[♪♫]+")  # non-speech pieces inside a cue
_WHOLE_TAG = re.compile(r"\s*(?:\([^)]*\)|\[[^\]]*\]|[♪♫]+)(?:\s*(?:\([^)]*\)|\[[^\]]*\]|[♪♫]+))*\s*")
_I_WORDS = re.compile(r"^I(?:'|’|$)")


class TranscriptError(ValueError):
    """A subtitle file that cannot be parsed; says which file, which line (or event) and what is wrong."""

    def __init__(self, message: str, path: str | os.PathLike | None = None, line: int | None = None):
        self.message, self.path, self.line = message, None if path is None else str(path), line
        where = ":".join(str(p) for p in (self.path, line) if p is not None)
        super().__init__(f"{where}: {message}" if where else message)


# --- parsing -------------------------------------------------------------------------------


def is_sentence_end(word: str) -> bool:
    """A word that ends a sentence: ``. ! ?`` (or 。！？), closing quotes and brackets ignored, not an
    ellipsis, not a title or Latin abbreviation (Mr., e.g., ...), not a one-letter initial ("J." but not "I.")."""
    w = word.strip().rstrip(CLOSERS)
    if not w.endswith(SENTENCE_END) or w.endswith(("...", "…")):
        return False
    w = w.lstrip("\"'([{“‘«")
    initial = len(w) == 2 and w[0].isupper() and w[0] != "I"  # "J." but not "... than I."
    return not (initial or w.lower() in ABBREVIATIONS)


def parse_file(path: str | os.PathLike, fmt: str | None = None) -> list[dict]:
    """Cues of a subtitle file; the format comes from the suffix (.json3/.json, .vtt, .srt) unless given."""
    path = Path(path)
    fmt = fmt or FORMATS.get(path.suffix.lower())
    if fmt not in ("json3", "vtt", "srt"):
        raise TranscriptError(f"unknown subtitle format {path.suffix!r}; known: json3, vtt, srt", path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise TranscriptError(f"not UTF-8 text (byte {e.start})", path) from None
    return {"json3": parse_json3, "vtt": parse_vtt, "srt": parse_srt}[fmt](text, path)


def parse_json3(text: str, path=None) -> list[dict]:
    """YouTube's json3: ``events`` with ``tStartMs``, ``dDurationMs`` and ``segs[].utf8``.

    Events without ``segs`` (window definitions) and blank ones (the line breaks of automatic
    captions) carry no text and are skipped.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise TranscriptError(f"not valid JSON: {e.msg} (column {e.colno})", path, e.lineno) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("events"), list):
        raise TranscriptError("not a json3 subtitle file: no 'events' list at the top level", path)
    cues = []
    for i, ev in enumerate(doc["events"]):
        if not isinstance(ev, dict):
            raise TranscriptError(f"event {i} is not an object: {ev!r:.80}", path)
        if "segs" not in ev:
            continue
        start, dur = ev.get("tStartMs"), ev.get("dDurationMs", 0)
        if not _is_number(start) or start < 0 or not _is_number(dur) or dur < 0:
            raise TranscriptError(f"event {i} has a missing or bad tStartMs/dDurationMs: {ev!r:.120}", path)
        segs = ev["segs"]
        if not isinstance(segs, list) or not all(isinstance(s, dict) and isinstance(s.get("utf8", ""), str) for s in segs):
            raise TranscriptError(f"event {i} has malformed segs (want a list of {{utf8: str}}): {segs!r:.120}", path)
        words = " ".join("".join(s.get("utf8", "") for s in segs).split())
        cues.append({"start": start / 1000, "end": (start + dur) / 1000, "text": words})
    cues.sort(key=lambda c: c["start"])
    for cue, nxt in itertools.pairwise(cues):  # a line stays up until the next event (even a line break) replaces it
        if cue["start"] < nxt["start"] < cue["end"]:
            cue["end"] = nxt["start"]
    return [_rounded(c) for c in cues if c["text"]]


def parse_vtt(text: str, path=None) -> list[dict]:
    """WebVTT, including YouTube's rolling automatic captions (see the module docstring)."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not re.match(r"WEBVTT(?:$|[ \t])", lines[0]):
        raise TranscriptError(f"missing 'WEBVTT' header (the file starts with {lines[0][:40]!r})", path, 1)
    blocks = _blocks(lines, lambda s: s == "")  # a line holding one space is cue text in YouTube's files
    raw, inline_times = [], False
    for lineno, block in blocks[1:]:  # blocks[0] is the header
        if block[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        t = 0 if "-->" in block[0] else 1
        if t >= len(block) or "-->" not in block[t]:
            raise TranscriptError(f"cue without a timing line ('start --> end'): {block[0]!r:.80}", path, lineno)
        start, end = _timing(block[t], _VTT_TIME, "hh:mm:ss.ttt", path, lineno + t)
        inline_times = inline_times or any(_INLINE_TIME.search(s) for s in block[t + 1 :])
        raw.append((start, end, [html.unescape(_MARKUP.sub("", s)).strip() for s in block[t + 1 :]]))
    return _cues(raw, force_rolling=inline_times)


def parse_srt(text: str, path=None) -> list[dict]:
    """SubRip: numbered blocks of ``hh:mm:ss,mmm --> hh:mm:ss,mmm`` and text lines."""
    lines = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    raw = []
    for lineno, block in _blocks(lines, lambda s: not s.strip()):
        t = 1 if block[0].strip().isdigit() else 0
        if t >= len(block) or "-->" not in block[t]:
            got = block[t] if t < len(block) else "nothing"
            raise TranscriptError(f"expected a timing line 'hh:mm:ss,mmm --> hh:mm:ss,mmm', got {got!r:.80}", path, lineno + t)
        start, end = _timing(block[t], _SRT_TIME, "hh:mm:ss,mmm", path, lineno + t)
        raw.append((start, end, [_MARKUP.sub("", s).strip() for s in block[t + 1 :]]))
    return _cues(raw, force_rolling=False)


def _blocks(lines: list[str], blank) -> list[tuple[int, list[str]]]:
    """Runs of non-blank lines as (1-based line number of the first, lines)."""
    out, cur, first = [], [], 0
    for i, s in enumerate(lines, 1):
        if blank(s):
            if cur:
                out.append((first, cur))
            cur = []
        else:
            if not cur:
                first = i
            cur.append(s)
    if cur:
        out.append((first, cur))
    return out


def _timing(line: str, pattern: re.Pattern, shape: str, path, lineno: int) -> tuple[float, float]:
    left, _, right = line.partition("-->")
    right = right.split()  # settings follow the end time: "align:start position:0%"
    times = []
    for part in (left.strip(), right[0] if right else ""):
        m = pattern.match(part)
        if not m:
            raise TranscriptError(f"bad timestamp {part!r} (want {shape}) in {line.strip()!r}", path, lineno)
        h, mi, s, frac = m.groups()
        times.append(int(h or 0) * 3600 + int(mi) * 60 + int(s) + int(frac.ljust(3, "0")) / 1000)
    if times[1] < times[0]:
        raise TranscriptError(f"cue ends before it starts: {line.strip()!r}", path, lineno)
    return times[0], times[1]


def _cues(raw: list[tuple[float, float, list[str]]], force_rolling: bool) -> list[dict]:
    raw = [(s, e, [x for x in lines if x]) for s, e, lines in raw]
    if force_rolling or _looks_rolling(raw):
        raw = _drop_repeats(raw)
    return [_rounded({"start": s, "end": e, "text": " ".join(" ".join(lines).split())}) for s, e, lines in raw if lines]


def _looks_rolling(raw) -> bool:
    pairs = [(a[2], b[2]) for a, b in itertools.pairwise(raw) if a[2] and b[2]]
    return len(pairs) >= 2 and sum(b[0] == a[-1] for a, b in pairs) >= ROLLING_SHARE * len(pairs)


def _drop_repeats(raw):
    """Each cue without the leading lines that the previous cue ended with."""
    out, prev = [], []
    for start, end, lines in raw:
        k = next((k for k in range(min(len(prev), len(lines)), 0, -1) if lines[:k] == prev[-k:]), 0)
        if lines:
            prev = lines
        out.append((start, end, lines[k:]))
    return out


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _rounded(cue: dict) -> dict:
    return {"start": round(cue["start"], 3), "end": round(cue["end"], 3), "text": cue["text"]}


# --- sentences -----------------------------------------------------------------------------


def is_tag(text: str) -> bool:
    """A non-speech caption: only bracketed or parenthesised tags and music notes ([Music], (laughs), ♪)."""
    return bool(text.strip()) and _WHOLE_TAG.fullmatch(text) is not None


def to_sentences(cues: list[dict]) -> list[dict]:
    """Cues -> sentences ``{start, end, text}`` by the module's sentence rule."""
    tokens = [tok for i, cue in enumerate(cues) for tok in _tokens(cue, i)]
    words = [t["text"] for t in tokens if not t["tag"]]
    ends = sum(is_sentence_end(w) for w in words)
    punctuated = ends > 0 and ends * WORDS_PER_SENTENCE_END >= len(words)
    sentences, cur = [], []

    def close():
        if cur:
            sentences.append(_rounded({"start": cur[0]["start"], "end": cur[-1]["end"], "text": " ".join(t["text"] for t in cur)}))
            cur.clear()

    last_end = None
    for tok in tokens:
        if tok["first"]:
            cue = cues[tok["cue"]]
            if cur and not punctuated and cue["start"] - last_end >= PAUSE_SECONDS:
                close()
            if cur and cue["end"] - cur[0]["start"] > MAX_SENTENCE_SECONDS:
                close()
            last_end = cue["end"]
        if tok["tag"]:
            close()
            cur.append(tok)
            close()
        elif tok["text"] == SPEAKER_CHANGE:
            close()
        else:
            cur.append(tok)
            if punctuated and is_sentence_end(tok["text"]):
                close()
    close()
    return sentences


def _tokens(cue: dict, index: int) -> list[dict]:
    """Words and tags of one cue with times interpolated by character position."""
    text = " ".join(str(cue["text"]).split())
    start, end, n = float(cue["start"]), float(cue["end"]), max(len(text), 1)
    pieces = [(m.start(), m.end(), True) for m in _TAG_PIECE.finditer(text)] if not is_tag(text) else [(0, len(text), True)]
    spans, pos = [], 0
    for a, b, _ in pieces + [(len(text), len(text), False)]:
        spans += [(pos + m.start(), pos + m.end(), False) for m in re.finditer(r"\S+", text[pos:a])]
        if b > a:
            spans.append((a, b, True))
        pos = b
    toks = [{"text": text[a:b], "tag": tag, "cue": index, "first": False,
             "start": start + (end - start) * a / n, "end": start + (end - start) * b / n} for a, b, tag in spans]
    if toks:
        toks[0]["first"] = True
    return toks


# --- clean or not --------------------------------------------------------------------------


def is_clean(sentences: list[dict], source: str, duration: float | None = None) -> tuple[bool, str]:
    """Whether a transcript is good enough to keep instead of running Whisper: (clean, why), by the module's rule."""
    tags = sum(is_tag(s["text"]) for s in sentences)
    speech = [s for s in sentences if not is_tag(s["text"])]
    if not speech:
        return False, f"no speech ({len(sentences)} sentences, all non-speech tags)" if sentences else "no sentences"
    share = tags / len(sentences)
    if source in ("whisper", "provided"):
        return True, f"{source} transcript with speech"
    if source == "manual":
        if share >= MANUAL_MAX_TAG_SHARE:
            return False, f"manual subtitles mostly non-speech tags ({tags} of {len(sentences)} sentences)"
        return True, "manual subtitles with speech"
    if source != "auto":
        raise ValueError(f"unknown transcript source {source!r}; known: manual, auto, whisper, provided")
    words = [w for s in speech for w in s["text"].split()]
    ends = sum(is_sentence_end(w) for w in words)
    if not ends or ends * WORDS_PER_SENTENCE_END < len(words):
        return False, f"automatic captions without punctuation ({ends} sentence ends in {len(words)} words)"
    capitals = sum(w[:1].isupper() and not _I_WORDS.match(w) for w in words)
    if capitals < AUTO_MIN_CAPITAL_SHARE * len(words):
        return False, f"automatic captions without casing ({capitals} capitalised words of {len(words)})"
    if share > AUTO_MAX_TAG_SHARE:
        return False, f"automatic captions with many non-speech tags ({tags} of {len(sentences)} sentences)"
    if duration:
        span = speech[-1]["end"] - speech[0]["start"]
        if span < AUTO_MIN_SPAN * duration:
            return False, f"automatic captions span {span:.0f} s of a {duration:.0f} s video (< {AUTO_MIN_SPAN:.0%})"
    return True, "automatic captions with punctuation and casing"
