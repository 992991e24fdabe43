"""Subtitle parsing (json3, WebVTT incl. YouTube's rolling auto captions, SRT), sentences, the clean rule."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.transcripts import (
    TranscriptError,
    is_clean,
    is_tag,
    parse_file,
    parse_json3,
    parse_srt,
    parse_vtt,
    to_sentences,
)

SUBS = Path(__file__).parent / "fixtures" / "subtitles"

# The hand-made manual track, as each format carries it.
MANUAL_TEXTS = ["Hi, I'm Sarah from wikiHow.", "Today we're going to fold a paper airplane.", "[Music]",
                "First, take a sheet of paper. Fold it", "in half, lengthwise."]
AUTO_TEXTS = ["so today we're going to show you", "how to fold a paper airplane", "first take a sheet of paper"]


def texts(cues):
    return [c["text"] for c in cues]


def test_manual_json3():
    cues = parse_file(SUBS / "manual.en.json3")
    assert texts(cues) == MANUAL_TEXTS  # the "\n" inside a seg became a space
    assert [(c["start"], c["end"]) for c in cues] == [(0, 3.2), (3.2, 7.5), (7.5, 10), (10, 14), (14, 17)]


def test_auto_json3_skips_window_and_line_break_events():
    cues = parse_file(SUBS / "auto.en-orig.json3")
    assert texts(cues) == AUTO_TEXTS
    # a line ends where the next event (its line break) starts: the same times as YouTube's vtt
    assert [(c["start"], c["end"]) for c in cues] == [(0.16, 2.47), (2.48, 5.03), (6.8, 9.12)]


def test_manual_vtt_strips_markup_notes_and_styles():
    cues = parse_file(SUBS / "manual.en.vtt")
    assert texts(cues) == [MANUAL_TEXTS[0], "Today we're going to fold a paper airplane & fly it.", *MANUAL_TEXTS[2:]]
    assert cues[-1] == {"start": 14.0, "end": 17.0, "text": "in half, lengthwise."}  # mm:ss.ttt without hours


def test_rolling_auto_vtt_has_each_word_once():
    raw = (SUBS / "auto.en-orig.vtt").read_text()
    assert raw.count("how to fold a paper airplane") == 2 and raw.count("-->") == 6  # as YouTube writes it
    cues = parse_file(SUBS / "auto.en-orig.vtt")
    assert texts(cues) == AUTO_TEXTS
    assert [(c["start"], c["end"]) for c in cues] == [(0.16, 2.47), (2.48, 5.03), (6.8, 9.11)]
    words = " ".join(texts(cues)).split()
    assert words.count("fold") == 1 and words.count("today") == 1 and len(words) == 19


def test_rolling_without_inline_times_is_detected():
    text = "WEBVTT\n\n" + "\n".join(
        f"00:00:0{i}.000 --> 00:00:0{i + 1}.000\n{prev}\n{line}\n" for i, (prev, line) in
        enumerate([(" ", "one two"), ("one two", "three four"), ("three four", "five six")]))
    assert texts(parse_vtt(text)) == ["one two", "three four", "five six"]


def test_plain_vtt_keeps_a_repeated_line():
    text = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nNo.\n\n00:00:01.000 --> 00:00:02.000\nNo.\n\n00:00:02.000 --> 00:00:03.000\nYes.\n"
    assert texts(parse_vtt(text)) == ["No.", "No.", "Yes."]


def test_srt_with_crlf_and_markup():
    cues = parse_file(SUBS / "manual.en.srt")
    assert texts(cues) == MANUAL_TEXTS
    assert cues[1] == {"start": 3.2, "end": 7.5, "text": "Today we're going to fold a paper airplane."}


def test_the_three_formats_agree():
    assert parse_file(SUBS / "manual.en.json3") == parse_file(SUBS / "manual.en.srt")
    assert to_sentences(parse_file(SUBS / "auto.en-orig.json3"))[0]["text"] == \
        to_sentences(parse_file(SUBS / "auto.en-orig.vtt"))[0]["text"]


# --- malformed files name the problem ---------------------------------------------------------


def test_vtt_bad_timestamp():
    with pytest.raises(TranscriptError) as e:
        parse_file(SUBS / "bad_timestamp.vtt")
    assert e.value.line == 6 and "bad timestamp '00:00:02,000'" in str(e.value)
    assert str(e.value).startswith(str(SUBS / "bad_timestamp.vtt") + ":6:")
    assert isinstance(e.value, ValueError)


def test_vtt_without_header():
    with pytest.raises(TranscriptError, match=r"^page.vtt:1: missing 'WEBVTT' header.*<!DOCTYPE html>"):
        parse_vtt("<!DOCTYPE html><html>consent.youtube.com</html>", "page.vtt")


def test_vtt_cue_without_timing_line():
    with pytest.raises(TranscriptError, match=r"^x.vtt:6: cue without a timing line"):
        parse_vtt("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nfine\n\nlost text\nmore text\n", "x.vtt")


def test_cue_ending_before_it_starts():
    with pytest.raises(TranscriptError, match=r"x.srt:2: cue ends before it starts"):
        parse_srt("1\n00:00:05,000 --> 00:00:01,000\nbackwards\n", "x.srt")


def test_srt_missing_timing_line():
    with pytest.raises(TranscriptError) as e:
        parse_file(SUBS / "missing_timing.srt")
    assert e.value.line == 6 and "expected a timing line" in str(e.value) and "General Kenobi." in str(e.value)


def test_json3_bad_event():
    with pytest.raises(TranscriptError, match=r"event 1 has a missing or bad tStartMs"):
        parse_file(SUBS / "bad_event.json3")


def test_json3_not_json_and_not_json3():
    with pytest.raises(TranscriptError, match=r"^t.json3:3: not valid JSON"):
        parse_json3('{"events": [\n{"tStartMs": 0,\n oops}]}', "t.json3")
    with pytest.raises(TranscriptError, match="no 'events' list"):
        parse_json3('{"wireMagic": "pb3"}', "t.json3")
    with pytest.raises(TranscriptError, match="malformed segs"):
        parse_json3('{"events": [{"tStartMs": 0, "dDurationMs": 5, "segs": "text"}]}')


def test_unknown_suffix_and_bad_encoding(tmp_path):
    with pytest.raises(TranscriptError, match="unknown subtitle format '.ttml'"):
        parse_file(tmp_path / "x.ttml")
    (tmp_path / "x.srt").write_bytes(b"1\n00:00:00,000 --> 00:00:01,000\n\xff\xfe\n")
    with pytest.raises(TranscriptError, match="not UTF-8"):
        parse_file(tmp_path / "x.srt")


def test_empty_files_have_no_cues():
    assert parse_vtt("WEBVTT\n") == [] and parse_srt("") == [] and parse_json3('{"events": []}') == []


# --- sentences ---------------------------------------------------------------------------------


def test_punctuated_sentences_split_inside_cues_by_character_position():
    s = to_sentences(parse_file(SUBS / "manual.en.srt"))
    assert [x["text"] for x in s] == ["Hi, I'm Sarah from wikiHow.", "Today we're going to fold a paper airplane.", "[Music]",
                                      "First, take a sheet of paper.", "Fold it in half, lengthwise."]
    # "First, take a sheet of paper." is the first 29 of the cue's 37 characters, spanning 10-14 s
    assert s[3]["start"] == 10.0 and s[3]["end"] == pytest.approx(10 + 4 * 29 / 37, abs=1e-3)
    assert s[4]["start"] == pytest.approx(10 + 4 * 30 / 37, abs=1e-3) and s[4]["end"] == 17.0


def test_unpunctuated_sentences_split_at_pauses():
    s = to_sentences(parse_file(SUBS / "auto.en-orig.vtt"))
    assert s == [{"start": 0.16, "end": 5.03, "text": "so today we're going to show you how to fold a paper airplane"},
                 {"start": 6.8, "end": 9.11, "text": "first take a sheet of paper"}]  # 1.77 s pause >= 1.0 s


def test_unpunctuated_sentences_are_capped_at_20_seconds():
    cues = [{"start": 3.0 * i, "end": 3.0 * i + 2.9, "text": f"words of cue {i}"} for i in range(14)]  # 0.1 s gaps
    s = to_sentences(cues)
    assert all(x["end"] - x["start"] <= 20 for x in s)
    assert [x["text"].count("cue") for x in s] == [6, 6, 2]  # a 7th cue would end at 20.9 s
    assert " ".join(x["text"] for x in s) == " ".join(c["text"] for c in cues)


def test_punctuated_text_ignores_pauses_and_abbreviations():
    cues = [{"start": 0, "end": 2, "text": "Mr. Smith folds"}, {"start": 5, "end": 7, "text": "the paper. Then"},
            {"start": 7, "end": 9, "text": "he throws it!"}]
    assert [x["text"] for x in to_sentences(cues)] == ["Mr. Smith folds the paper.", "Then he throws it!"]


def test_tags_and_speaker_changes_end_sentences():
    cues = [{"start": 0, "end": 2, "text": "so we begin [Music] and then"}, {"start": 2, "end": 4, "text": ">> who are you"},
            {"start": 4, "end": 6, "text": "(laughs)"}]
    s = to_sentences(cues)
    assert [x["text"] for x in s] == ["so we begin", "[Music]", "and then", "who are you", "(laughs)"]
    assert s[1]["start"] == pytest.approx(2 * 12 / 28, abs=1e-3)


def test_is_tag():
    assert is_tag("[Music]") and is_tag("[Applause] [Music]") and is_tag("(laughs)") and is_tag("♪ ♪")
    assert not is_tag("♪ la la la ♪") and not is_tag("[Music] hello") and not is_tag("")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 5), st.floats(0, 8), st.lists(st.sampled_from(["a", "b.", "c?", "[Music]", ">>", "Dr."]),
                                                                          min_size=1, max_size=6)), min_size=1, max_size=12))
def test_sentences_keep_every_word_in_order_within_their_cues(spec):
    cues, t = [], 0.0
    for gap, length, words in spec:
        cues.append({"start": t + gap, "end": t + gap + length, "text": " ".join(words)})
        t += gap + length
    s = to_sentences(cues)
    spoken = [w for c in cues for w in c["text"].split() if w != ">>"]
    assert " ".join(x["text"] for x in s).split() == spoken
    assert all(x["start"] <= x["end"] for x in s)
    assert all(a["end"] <= b["start"] + 1e-3 for a, b in itertools.pairwise(s))  # times are rounded to ms
    if s:
        assert s[0]["start"] >= cues[0]["start"] - 1e-3 and s[-1]["end"] <= cues[-1]["end"] + 1e-3


# --- clean or not ------------------------------------------------------------------------------


def test_manual_subtitles_are_clean_unless_mostly_tags():
    s = to_sentences(parse_file(SUBS / "manual.en.vtt"))
    assert is_clean(s, "manual") == (True, "manual subtitles with speech")
    music = [{"start": i, "end": i + 1, "text": "[Music]"} for i in range(3)] + [{"start": 3, "end": 4, "text": "Hello."}]
    ok, why = is_clean(music, "manual")
    assert not ok and "mostly non-speech tags (3 of 4" in why
    assert is_clean(music[:3], "manual") == (False, "no speech (3 sentences, all non-speech tags)")
    assert is_clean([], "manual") == (False, "no sentences")


def test_auto_captions_need_punctuation_casing_few_tags_and_coverage():
    unpunctuated = to_sentences(parse_file(SUBS / "auto.en-orig.json3"))
    ok, why = is_clean(unpunctuated, "auto")
    assert not ok and why == "automatic captions without punctuation (0 sentence ends in 19 words)"
    good = to_sentences(parse_file(SUBS / "manual.en.json3"))
    speech = [x for x in good if not is_tag(x["text"])]
    assert is_clean(speech, "auto", duration=20) == (True, "automatic captions with punctuation and casing")
    lower = [dict(x, text=x["text"].lower()) for x in speech]
    assert "without casing" in is_clean(lower, "auto")[1]
    assert "many non-speech tags (1 of 5" in is_clean(good, "auto")[1]
    assert "span 17 s of a 60 s video" in is_clean(speech, "auto", duration=60)[1]


def test_whisper_and_provided_are_clean_with_speech():
    assert is_clean([{"start": 0, "end": 1, "text": "hello"}], "whisper")[0]
    assert is_clean([{"start": 0, "end": 1, "text": "hello"}], "provided")[0]
    with pytest.raises(ValueError, match="unknown transcript source"):
        is_clean([{"start": 0, "end": 1, "text": "hello"}], "ocr")
