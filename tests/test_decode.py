"""Streaming decoder: the documented sampling rule, exactly, on frames that carry their own index."""

from __future__ import annotations

import threading
import time
from fractions import Fraction

import av
import numpy as np
import pytest

from collectors.records import ItemError, RawItem
from collectors.synthetic import index_frame, read_index, write_video
from extractors import decode
from extractors.base import VisualExtractor
from extractors.decode import (
    DecodeError,
    Sample,
    iter_frame_batches,
    iter_sample_batches,
    iter_sampled_frames,
    iter_samples,
)

MS = Fraction(1, 1000)


def decoded(path, fps, **kw):
    """[(time, index read back from the frame)] for every sampled step."""
    return [(t, read_index(f)) for t, f in iter_sampled_frames(path, fps=fps, **kw)]


def rule(frame_times, fps, end):
    """The documented rule, in exact arithmetic: step i (centre (i + 0.5)/fps < end) shows the last
    frame whose time (relative to the first) is at or before the centre."""
    rel = [t - frame_times[0] for t in frame_times]
    out, i = [], 0
    while (centre := Fraction(2 * i + 1, 2) / Fraction(fps)) < end:
        out.append((float(centre), max(k for k, t in enumerate(rel) if t <= centre)))
        i += 1
    return out


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="module")
def cfr10(media):
    """5 s at 10 fps: frame k shows index k at k/10 s."""
    return write_video(media / "cfr10.mp4", (index_frame(k) for k in range(50)), fps=10)


@pytest.mark.parametrize("fps", [1, 3])
def test_constant_rate_sampling_is_exact(cfr10, fps):
    times = [Fraction(k, 10) for k in range(50)]
    got = decoded(cfr10, fps)
    assert got == rule(times, fps, end=Fraction(5))
    assert [t for t, _ in got] == [(i + 0.5) / fps for i in range(len(got))]
    if fps == 1:
        assert got == [(0.5, 5), (1.5, 15), (2.5, 25), (3.5, 35), (4.5, 45)]


def test_ties_pick_the_frame_at_the_centre(media):
    """24 fps sampled at 3 fps: every centre (2i+1)/6 s is exactly frame 4(2i+1)'s timestamp.

    Regression: centres computed as (i + 0.5) * (1 / fps) in floats fell just short of the frame
    time and returned the previous frame."""
    path = write_video(media / "cfr24.mp4", (index_frame(k) for k in range(48)), fps=24)
    got = decoded(path, 3)
    assert [k for _, k in got] == [4 * (2 * i + 1) for i in range(6)]


def test_rate_above_video_rate_repeats_frames(cfr10):
    got = decoded(cfr10, 25)
    assert len(got) == 125
    assert got == rule([Fraction(k, 10) for k in range(50)], 25, end=Fraction(5))
    assert [k for _, k in got[:6]] == [0, 0, 1, 1, 1, 2]


@pytest.mark.parametrize("fps", [1, 2, 4])
def test_variable_frame_rate_is_exact(media, fps):
    pts = [0, 100, 150, 700, 1200, 1250, 2600, 3000]
    path = media / "vfr.mp4"
    if not path.exists():
        write_video(path, (index_frame(k) for k in range(len(pts))), fps=10, pts=pts, time_base=MS)
    times = [p * MS for p in pts]
    got = decoded(path, fps)
    # Up to the last frame's timestamp the rule is fully determined; after it the last frame
    # stays for one frame duration as the container estimates it (8 frames in 3.1 s: 0.39 s).
    want = rule(times, fps, end=times[-1] + Fraction(1, 10**6))
    assert got[: len(want)] == want
    tail = got[len(want) :]
    assert all(k == len(pts) - 1 and t < 3.5 for t, k in tail)


def test_times_are_relative_to_the_first_frame(media):
    """A stream whose first timestamp is 1.5 s: step times still start at 0.5 / fps."""
    pts = [1500 + 100 * k for k in range(20)]
    path = write_video(media / "offset.mp4", (index_frame(k) for k in range(20)), fps=10, pts=pts, time_base=MS)
    assert decoded(path, 1) == [(0.5, 5), (1.5, 15)]
    assert decoded(path, 4) == rule([p * MS for p in pts], 4, end=Fraction(2))


@pytest.mark.parametrize("batch_size", [1, 7, 32])
def test_batches_equal_the_unbatched_sequence(cfr10, batch_size):
    flat = list(iter_sampled_frames(cfr10, fps=10))
    batches = list(iter_frame_batches(cfr10, fps=10, batch_size=batch_size))
    assert all(len(t) == len(f) == batch_size for t, f in batches[:-1])
    assert 1 <= len(batches[-1][0]) <= batch_size
    times = np.concatenate([t for t, _ in batches])
    frames = np.concatenate([f for _, f in batches])
    assert times.dtype == np.float64 and frames.dtype == np.uint8
    np.testing.assert_array_equal(times, [t for t, _ in flat])
    np.testing.assert_array_equal(frames, np.stack([f for _, f in flat]))


def test_decode_size_keeps_aspect_when_one_side_is_none(media):
    path = write_video(media / "wide.mp4", (index_frame(k, 320, 192) for k in range(5)), fps=5)
    (_, f), *_ = iter_sampled_frames(path, fps=1, size=(160, None))
    assert f.shape == (96, 160, 3)
    (_, f), *_ = iter_sampled_frames(path, fps=1, size=(None, 48))
    assert f.shape == (48, 80, 3)
    (_, f), *_ = iter_sampled_frames(path, fps=1, size=(64, 64))
    assert f.shape == (64, 64, 3)


# --- bad input -------------------------------------------------------------------------------


def test_random_bytes_are_a_decode_error(media):
    path = media / "random.mp4"
    path.write_bytes(np.random.default_rng(0).bytes(20_000))
    with pytest.raises(DecodeError, match="cannot open as media"):
        list(iter_sampled_frames(path))


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_mp4_is_a_decode_error(cfr10, media, keep):
    """MP4 keeps its index (moov) at the end: a cut file cannot be opened, so no frames at all.

    Half the file loses the whole index (cannot open); 90% leaves a damaged index that shows only a
    codec-less data stream, reported as no video stream with the stream kinds found."""
    data = cfr10.read_bytes()
    path = media / f"cut{keep}.mp4"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(DecodeError, match="cannot open as media|no video stream \\(streams found: data\\)"):
        list(iter_sampled_frames(path))


def test_truncated_streamable_file_yields_the_frames_before_the_damage_then_fails(media):
    """Matroska needs no trailing index: a cut file decodes up to the cut without an FFmpeg error.

    The frames before the cut come out as a prefix of the whole file's, then the decoder compares
    what it decoded with the duration the file declares and says it is truncated, so a cut
    download never passes as a short video."""
    whole = write_video(media / "whole.mkv", (index_frame(k) for k in range(300)), fps=10)
    data = whole.read_bytes()
    cut = media / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    full = decoded(whole, 1)
    assert len(full) == 30
    part = []
    with pytest.raises(DecodeError, match=r"truncated: the video stream ends at \d+\.\d s of the 30\.0 s"):
        for t, rgb in iter_sampled_frames(cut, fps=1):
            part.append((t, read_index(rgb)))
    assert 0 < len(part) < len(full)
    assert part == full[: len(part)]


@pytest.mark.parametrize("codec,suffix", [("flac", ".flac"), ("aac", ".m4a")])
def test_audio_only_file_has_no_video_stream(media, codec, suffix):
    path = media / f"tone{suffix}"
    samples = 0.2 * np.sin(np.arange(16000) * 2 * np.pi * 440 / 16000)
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=16000)
        stream.layout = "mono"
        if codec == "flac":
            frame = av.AudioFrame.from_ndarray((samples * 32767).astype(np.int16)[None], format="s16", layout="mono")
        else:
            frame = av.AudioFrame.from_ndarray(samples.astype(np.float32)[None], format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 16000, 0
        for packet in [*stream.encode(frame), *stream.encode()]:
            out.mux(packet)
    with pytest.raises(DecodeError, match="no video stream \\(streams found: audio\\)"):
        list(iter_sampled_frames(path))


def test_missing_path_is_a_decode_error(media):
    with pytest.raises(DecodeError, match="file not found"):
        list(iter_frame_batches(media / "nowhere.mp4"))


class MeanColour(VisualExtractor):
    """Smallest real extractor: the mean RGB of each frame, to test the base ``extract``."""

    name = "meancolour"

    @property
    def dim(self):
        return 3

    def meta(self):
        return {"extractor": self.name}

    def encode_frames(self, frames):
        return frames.reshape(len(frames), -1, 3).mean(axis=1).astype(np.float32)


def test_extract_on_corrupt_video_is_bad_media(media):
    path = media / "corrupt.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + np.random.default_rng(1).bytes(5000))
    item = RawItem(id="broken-1", source="test", media={"video": str(path)})
    with pytest.raises(ItemError) as info:
        MeanColour().extract(item)
    assert info.value.kind == "bad_media"
    assert str(path) in info.value.message and info.value.item_id == "broken-1"


def test_extract_without_video_is_no_video():
    with pytest.raises(ItemError) as info:
        MeanColour().extract(RawItem(id="novideo", source="test"))
    assert info.value.kind == "no_video"


def test_extract_streams_a_good_video(cfr10):
    track = MeanColour().extract(RawItem(id="ok", source="test", media={"video": str(cfr10)}))
    np.testing.assert_array_equal(track.times, [0.5, 1.5, 2.5, 3.5, 4.5])
    assert track.values.shape == (5, 3)


# --- every Nth frame, frame indices ------------------------------------------------------------


def test_every_nth_takes_decoded_frames_0_n_2n(cfr10):
    """The eccv16 picks: range(0, n_frames, 15), each at its own timestamp."""
    got = list(iter_samples(cfr10, every_nth=15))
    assert [s.index for s in got] == list(range(0, 50, 15))
    assert [read_index(s.rgb) for s in got] == [s.index for s in got]
    assert [s.time for s in got] == [k / 10 for k in range(0, 50, 15)]
    assert [read_index(f) for _, f in iter_sampled_frames(cfr10, every_nth=1)] == list(range(50))


def test_every_nth_times_are_relative_and_follow_variable_rate(media):
    pts = [1500, 1600, 1650, 2200, 2700, 2750, 4100, 4500]
    path = write_video(media / "vfr-offset.mp4", (index_frame(k) for k in range(len(pts))), fps=10, pts=pts, time_base=MS)
    got = list(iter_samples(path, every_nth=3))
    assert [(s.index, read_index(s.rgb)) for s in got] == [(0, 0), (3, 3), (6, 6)]
    assert [s.time for s in got] == [0.0, 0.7, 2.6]


def test_rate_samples_name_the_frame_they_show(cfr10):
    got = list(iter_samples(cfr10, fps=3))
    assert [s.index for s in got] == [read_index(s.rgb) for s in got]
    assert [(s.time, s.index) for s in got] == decoded(cfr10, 3)


@pytest.mark.parametrize("kw", [{"fps": 1, "every_nth": 15}, {"every_nth": 0}, {"every_nth": 2.5}, {"fps": 0}])
def test_sampling_arguments_are_checked(cfr10, kw):
    with pytest.raises(ValueError):
        list(iter_samples(cfr10, **kw))
    with pytest.raises(ValueError):
        iter_sample_batches(cfr10, **kw)


@pytest.mark.parametrize("prefetch", [0, 1, 2])
def test_batches_carry_the_picks(cfr10, prefetch):
    batches = list(iter_sample_batches(cfr10, every_nth=4, batch_size=5, prefetch=prefetch))
    assert [len(b.index) for b in batches] == [5, 5, 3]
    index = np.concatenate([b.index for b in batches])
    assert index.dtype == np.int64 and index.tolist() == list(range(0, 50, 4))
    assert [read_index(f) for b in batches for f in b.frames] == index.tolist()
    np.testing.assert_array_equal(np.concatenate([b.times for b in batches]), index / 10)


def test_decoder_threads_do_not_change_the_frames(cfr10):
    one = list(iter_sample_batches(cfr10, fps=3, batch_size=8, threads=1))
    auto = list(iter_sample_batches(cfr10, fps=3, batch_size=8))
    for a, b in zip(one, auto, strict=True):
        np.testing.assert_array_equal(a.frames, b.frames)
        np.testing.assert_array_equal(a.index, b.index)


# --- decoding ahead on a thread ---------------------------------------------------------------


def test_prefetch_gives_the_same_batches(cfr10):
    ahead = list(iter_frame_batches(cfr10, fps=10, batch_size=7, prefetch=2))
    inline = list(iter_frame_batches(cfr10, fps=10, batch_size=7, prefetch=0))
    assert len(ahead) == len(inline) == 8
    for (ta, fa), (ti, fi) in zip(ahead, inline):
        np.testing.assert_array_equal(ta, ti)
        np.testing.assert_array_equal(fa, fi)


def decoders():
    return sum(t.name == "vsumhub-decode" for t in threading.enumerate())


def test_a_consumer_that_stops_early_leaves_no_thread(cfr10):
    before, threads = decoders(), threading.active_count()
    batches = iter_frame_batches(cfr10, fps=10, batch_size=4)
    next(batches)
    assert decoders() == before + 1  # the decoder runs ahead meanwhile
    batches.close()
    assert decoders() == before and threading.active_count() <= threads
    for _ in iter_sample_batches(cfr10, fps=10, batch_size=4):
        break
    assert decoders() == before and threading.active_count() <= threads
    unstarted = iter_frame_batches(cfr10)  # a generator never iterated starts no thread
    del unstarted
    assert decoders() == before and threading.active_count() <= threads


def test_open_errors_surface_in_the_consumer_with_the_same_message(media):
    path = media / "random-bytes.mp4"
    path.write_bytes(np.random.default_rng(5).bytes(20_000))
    with pytest.raises(DecodeError) as inline:
        list(iter_samples(path))
    before, threads = decoders(), threading.active_count()
    with pytest.raises(DecodeError) as ahead:
        list(iter_frame_batches(path, prefetch=2))
    assert str(ahead.value) == str(inline.value) and "cannot open as media" in str(ahead.value)
    assert decoders() == before and threading.active_count() <= threads


def fake_samples(n, produced, fail_at=None):
    """A stand-in decoder: n tiny samples, counting how many were made, optionally failing."""
    for k in range(n):
        if k == fail_at:
            raise DecodeError(f"decoding failed after {k} sampled frames (synthetic)")
        produced.append(k)
        yield Sample(k / 10, k, np.full((2, 2, 3), k % 256, np.uint8))


def test_errors_mid_stream_surface_after_the_good_batches(monkeypatch):
    produced = []
    monkeypatch.setattr(decode, "iter_samples", lambda *a, **kw: fake_samples(100, produced, fail_at=10))
    before, threads = decoders(), threading.active_count()
    got = []
    with pytest.raises(DecodeError, match=r"^decoding failed after 10 sampled frames \(synthetic\)$"):
        for b in iter_sample_batches("unused.mp4", batch_size=4):
            got.extend(b.index.tolist())
    assert got == list(range(8))  # the two full batches before the failure, then the error
    assert decoders() == before and threading.active_count() <= threads


def test_decoding_overlaps_the_consumer_and_stays_bounded(monkeypatch):
    """While the consumer holds batch 1 the worker decodes ahead, but only until the queue (2) is full
    and one more batch is stacked: 4 batches of samples at most, however long the video."""
    produced = []
    monkeypatch.setattr(decode, "iter_samples", lambda *a, **kw: fake_samples(10_000, produced))
    batches = iter_sample_batches("unused.mp4", batch_size=8, prefetch=2)
    first = next(batches)
    deadline = time.monotonic() + 10
    while len(produced) < 4 * 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert len(produced) == 4 * 8
    assert first.index.tolist() == list(range(8))
    assert next(batches).index.tolist() == list(range(8, 16))
    batches.close()
    assert len(produced) <= 6 * 8 and decoders() == 0


def test_extract_every_nth_records_the_picks(cfr10):
    ext = MeanColour()
    ext.every_nth = 15
    track = ext.extract(RawItem(id="picks", source="test", media={"video": str(cfr10)}))
    assert track.meta["picks"] == [0, 15, 30, 45]
    np.testing.assert_array_equal(track.times, [0.0, 1.5, 3.0, 4.5])
    assert "picks" not in MeanColour().extract(RawItem(id="rate", source="test", media={"video": str(cfr10)})).meta
