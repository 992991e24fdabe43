"""Whisper ASR: the sentence rule on hand-made segments, then the real tiny.en model on jfk.flac."""

from __future__ import annotations

import re
import time
from pathlib import Path

import av
import numpy as np
import pytest

from collectors.records import ItemError, RawItem
from collectors.synthetic import write_video
from extractors.base import MissingWeightsError
from collectors.transcripts import is_sentence_end
from extractors.whisper import Whisper, split_sentences

JFK = Path(__file__).resolve().parents[2] / "shared/data/speech/jfk.flac"
needs_jfk = pytest.mark.skipif(not JFK.exists(), reason=f"{JFK} absent (the ../shared/data folder is not here)")
PHRASE = "ask not what your country can do for you"


def words(*specs):
    return [{"start": s, "end": e, "word": w, "probability": 0.9} for w, s, e in specs]


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^a-z ]", " ", text.lower())).strip()


def frames(n):
    return (np.full((64, 96, 3), 40 * (i % 5), dtype=np.uint8) for i in range(n))


@pytest.mark.parametrize("word,end", [("country.", True), (" now?", True), ("Go!", True), ('it."', True), ("end.)", True),
                                      ("Mr.", False), ("Dr.", False), ("e.g.", False), ("J.", False), ("I.", True),
                                      ("well...", False), ("so…", False), ("3.5", False), ("you", False), ("好。", True)])
def test_sentence_end(word, end):
    assert is_sentence_end(word) is end


def test_sentences_flow_across_segments_and_split_at_punctuation():
    segs = [
        {"start": 0.0, "end": 3.0, "text": " Hello there. Mr. Smith", "words": words((" Hello", 0.0, 0.5), (" there.", 0.5, 1.0),
                                                                                      (" Mr.", 1.2, 1.5), (" Smith", 1.5, 3.0))},
        {"start": 3.0, "end": 5.0, "text": " is here! Yes", "words": words((" is", 3.0, 3.4), (" here!", 3.4, 4.0), (" Yes", 4.2, 5.0))},
    ]
    out = split_sentences(segs, duration=5.0)
    assert [s["text"] for s in out] == ["Hello there.", "Mr. Smith is here!", "Yes"]
    assert [(s["start"], s["end"]) for s in out] == [(0.0, 1.0), (1.2, 4.0), (4.2, 5.0)]
    assert out[1]["words"][0] == {"start": 1.2, "end": 1.5, "word": "Mr.", "probability": 0.9}


def test_unpunctuated_speech_splits_at_pauses_and_clamps_times():
    segs = [
        {"start": 0.0, "end": 2.0, "text": " no punctuation", "words": words((" no", 0.0, 1.0), (" punctuation", 1.0, 2.0))},
        {"start": 4.5, "end": 6.0, "text": " after a pause", "words": words((" after", 4.5, 5.0), (" a", 5.0, 5.0), (" pause", 5.2, 6.4))},
        {"start": 6.0, "end": 6.0, "text": " ", "words": []},
    ]
    out = split_sentences(segs, duration=6.2, offset=1.0)  # audio starts 1 s into the video
    assert [s["text"] for s in out] == ["no punctuation", "after a pause"]
    assert out[1]["start"] == 5.5 and out[1]["end"] == 7.2  # clamped to the audio's 6.2 s, then shifted


def test_zero_length_sentence_gets_the_minimum_length():
    out = split_sentences([{"start": 1.0, "end": 1.0, "text": " Yes.", "words": words((" Yes.", 1.0, 1.0))}], duration=2.0)
    assert out[0]["start"] == 1.0 and out[0]["end"] > 1.0


@pytest.fixture(scope="module")
def whisper():
    return Whisper()


@needs_jfk
def test_transcribes_jfk(whisper):
    t0 = time.perf_counter()
    tr = whisper.transcribe(JFK)
    print(f"tiny.en int8 transcribed {JFK.name} ({tr.duration:.1f} s) in {time.perf_counter() - t0:.2f} s")
    assert PHRASE in normalise(tr.text)
    assert tr.language == "en" and tr.duration == pytest.approx(11.0, abs=0.1)
    ws = [w for s in tr.sentences for w in s["words"]]
    assert len(ws) >= 20
    starts, ends = [w["start"] for w in ws], [w["end"] for w in ws]
    assert all(0 <= t <= 11.1 for t in starts + ends)
    assert starts == sorted(starts) and ends == sorted(ends)
    assert all(w["start"] <= w["end"] and 0 <= w["probability"] <= 1 for w in ws)
    assert all(s["start"] < s["end"] for s in tr.sentences)
    assert tr.sentences[-1]["text"].endswith("country.")
    assert tr.as_raw_transcript()[0].keys() == {"start", "end", "text"}


@needs_jfk
def test_extract_gives_sentence_centres_and_meta(whisper):
    track = whisper.extract(RawItem(id="jfk", source="test", media={"audio": str(JFK)}))
    sentences = track.meta["sentences"]
    assert track.values.shape == (len(sentences), 0) and len(track) >= 1
    np.testing.assert_allclose(track.times, [(s["start"] + s["end"]) / 2 for s in sentences])
    meta = track.meta
    assert meta["extractor"] == "whisper" and meta["model"] == "tiny.en" and meta["language"] == "en"
    assert re.fullmatch(r"[0-9a-f]{64}", meta["weights_sha256"])
    assert {"faster-whisper", "ctranslate2"} <= set(meta["library_versions"])
    assert "note" not in meta


@needs_jfk
def test_asr_through_a_video_container(whisper, tmp_path):
    """jfk.flac decoded with PyAV to 16 kHz mono, muxed as AAC next to H.264 video."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=16000)
    with av.open(str(JFK)) as c:
        chunks = [f.to_ndarray() for frame in c.decode(audio=0) for f in resampler.resample(frame)]
    chunks += [f.to_ndarray() for f in resampler.resample(None)]
    samples = np.concatenate(chunks, axis=1).reshape(-1)
    video = write_video(tmp_path / "jfk.mp4", frames(44), fps=4, audio=samples, sample_rate=16000)
    track = whisper.extract(RawItem(id="jfk-video", source="test", media={"video": str(video)}))
    text = " ".join(s["text"] for s in track.meta["sentences"])
    assert PHRASE in normalise(text)
    assert track.times.max() <= 11.1 and track.meta["duration"] == pytest.approx(11.0, abs=0.1)


def test_video_without_audio_is_no_audio(whisper, tmp_path):
    video = write_video(tmp_path / "mute.mp4", frames(8), fps=4)
    with pytest.raises(ItemError) as e:
        whisper.extract(RawItem(id="mute", source="test", media={"video": str(video)}))
    assert e.value.kind == "no_audio" and e.value.item_id == "mute" and "streams found: video" in e.value.message


def test_item_without_media_is_no_audio(whisper):
    with pytest.raises(ItemError) as e:
        whisper.extract(RawItem(id="empty", source="test"))
    assert e.value.kind == "no_audio"


def test_corrupt_file_is_bad_media(whisper, tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    with pytest.raises(ItemError) as e:
        whisper.extract(RawItem(id="bad", source="test", media={"video": str(bad)}))
    assert e.value.kind == "bad_media"


def test_silence_gives_an_empty_track(whisper, tmp_path):
    """Digital silence: Whisper alone would invent "You"; the track is empty and says why."""
    video = write_video(tmp_path / "silent.mp4", frames(12), fps=4, audio=np.zeros(3 * 16000, np.float32))
    track = whisper.extract(RawItem(id="silent", source="test", media={"video": str(video)}))
    assert len(track) == 0 and track.values.shape == (0, 0)
    assert track.meta["sentences"] == [] and "no_transcript" in track.meta["note"]


def test_weights_resolution_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("VSUMHUB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(MissingWeightsError, match=r"'small\.en'.*--weights"):
        Whisper(model="small.en")
    with pytest.raises(MissingWeightsError, match="does not exist"):
        Whisper(weights=tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingWeightsError, match="no model.bin"):
        Whisper(weights=tmp_path / "empty")
    with pytest.raises(ValueError, match="unknown Whisper size"):
        Whisper(model="huge.en")


def test_explicit_model_directory(whisper):
    explicit = Whisper(weights=whisper.path)
    assert explicit.meta()["weights_source"] == "explicit path"
    assert explicit.config()["weights_sha256"] == whisper.config()["weights_sha256"]


def test_a_cut_file_is_bad_media_not_a_short_transcript(whisper, tmp_path):
    """Issue 11 case 2: a faststart MP4 cut at half: Whisper must not transcribe the first 14 s as
    if they were the whole file."""
    from media_fixtures import cut_at_packet, faststart_mp4

    cut = cut_at_packet(faststart_mp4(tmp_path / "whole.mp4"), tmp_path / "cut.mp4")
    with pytest.raises(ItemError) as e:
        whisper.extract(RawItem(id="cut", source="test", media={"video": str(cut)}))
    assert e.value.kind == "bad_media" and "truncated: the audio stream ends at" in e.value.message
