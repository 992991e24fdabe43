"""The 5-minute clipping rule: boundaries, the last short clip, straddling sentences."""

import numpy as np
import pytest

from builders.core.clips import Clip, assign_sentences, fixed_clips, frame_indices


def test_full_clips_and_last_short_clip():
    clips, dropped = fixed_clips(780.0, 300.0, min_last=10.0)
    assert [(c.index, c.start, c.end) for c in clips] == [(0, 0, 300), (1, 300, 600), (2, 600, 780)]
    assert dropped == 0.0


def test_exact_multiple_has_no_empty_clip():
    clips, dropped = fixed_clips(600.0, 300.0)
    assert [(c.start, c.end) for c in clips] == [(0, 300), (300, 600)]
    assert dropped == 0.0


def test_remainder_shorter_than_min_last_is_dropped_and_reported():
    clips, dropped = fixed_clips(605.0, 300.0, min_last=10.0)
    assert len(clips) == 2
    assert dropped == pytest.approx(5.0)
    clips, dropped = fixed_clips(605.0, 300.0, min_last=5.0)
    assert len(clips) == 3 and dropped == 0.0


def test_short_video_is_one_clip_and_empty_video_none():
    assert fixed_clips(42.0)[0] == [Clip(0, 0.0, 42.0)]
    assert fixed_clips(0.0) == ([], 0.0)


def test_frames_belong_to_the_clip_containing_their_time():
    times = np.arange(700) + 0.5
    clips, _ = fixed_clips(700.0)
    parts = [frame_indices(times, c) for c in clips]
    assert [len(p) for p in parts] == [300, 300, 100]
    assert np.array_equal(np.concatenate(parts), np.arange(700))  # every frame exactly once


def test_straddling_sentence_goes_to_the_clip_of_its_midpoint_and_is_clamped():
    clips, _ = fixed_clips(700.0)
    sentences = [
        {"start": 290.0, "end": 304.0, "text": "mostly in clip 0"},  # midpoint 297
        {"start": 296.0, "end": 310.0, "text": "mostly in clip 1"},  # midpoint 303
        {"start": 295.0, "end": 305.0, "text": "midpoint on the boundary"},  # midpoint 300 -> later clip
        {"start": 10.0, "end": 12.0, "text": "inside"},
        {"start": 699.0, "end": 720.0, "text": "runs past the end"},  # midpoint 709.5: no clip
    ]
    per_clip = assign_sentences(sentences, clips)
    assert [i for i, _ in per_clip[0]] == [0, 3]
    assert [i for i, _ in per_clip[1]] == [1, 2]
    assert per_clip[2] == []
    s0 = dict(per_clip[0])[0]
    assert (s0["start"], s0["end"]) == (290.0, 300.0)  # clamped, clip-relative
    s1 = dict(per_clip[1])[1]
    assert (s1["start"], s1["end"]) == (0.0, 10.0)
    for clip, sents in zip(clips, per_clip):
        for _, s in sents:
            assert 0.0 <= s["start"] <= s["end"] <= clip.duration
