"""Audio decoding: rate conversion, length, timing of chunks, and the two failure kinds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from collectors.synthetic import write_video
from extractors.audio import NoAudioError, decode_audio, iter_audio_chunks
from extractors.decode import DecodeError

JFK = Path(__file__).parents[2] / "shared/data/speech/jfk.flac"
SR_IN, SECONDS = 16000, 5.3
AAC_FRAME = 1024  # samples at the source rate


def tone(seconds: float, hz: float = 440.0, sr: int = SR_IN) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def blank_frames(n: int):
    return (np.full((32, 48, 3), 60, np.uint8) for _ in range(n))


@pytest.fixture(scope="module")
def sine_mp4(tmp_path_factory):
    """5.3 s of 440 Hz at 16 kHz as AAC in an MP4 (H.264 video alongside)."""
    path = tmp_path_factory.mktemp("audio") / "sine.mp4"
    return write_video(path, blank_frames(int(SECONDS * 10)), fps=10, audio=tone(SECONDS), sample_rate=SR_IN)


def test_aac_sine_decodes_at_32k_with_its_length_and_pitch(sine_mp4):
    x = decode_audio(sine_mp4, 32000)
    assert x.dtype == np.float32 and x.ndim == 1
    expected = SECONDS * 32000
    # Observed: the decoder drops the 1024 priming samples (edit list) and keeps the padding of the
    # last AAC frame, so the length is the input's plus under one AAC frame (2048 samples at 32 kHz).
    assert expected <= len(x) < expected + AAC_FRAME * 2
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    peak_hz = np.argmax(spectrum) * 32000 / len(x)
    assert abs(peak_hz - 440) < 2
    # The first sample is time 0: the priming is gone, the tone starts at once at its amplitude.
    assert np.abs(x[: 32000 // 100]).max() > 0.3


def test_decoded_samples_line_up_with_the_source(sine_mp4):
    x = decode_audio(sine_mp4, SR_IN)
    src = tone(SECONDS)
    err = [np.abs(x[2000 + lag : 60000 + lag] - src[2000:60000]).max() for lag in (-1, 0, 1)]
    assert err[1] < 0.01 and min(err[0], err[2]) > 0.05  # no offset, not even one sample


def test_chunks_cover_the_audio_and_follow_the_tail_rule(sine_mp4):
    whole = decode_audio(sine_mp4, 32000)
    chunks = list(iter_audio_chunks(sine_mp4, 32000, chunk_seconds=2.0))
    # 5.3 s: two full chunks and a 1.3 s tail (>= half a chunk: kept, zero-padded).
    assert [t for t, _ in chunks] == [0.0, 2.0, 4.0]
    assert all(c.shape == (64000,) and c.dtype == np.float32 for _, c in chunks)
    joined = np.concatenate([c for _, c in chunks])
    assert np.array_equal(joined[: len(whole)], whole)
    assert not joined[len(whole) :].any()
    unpadded = list(iter_audio_chunks(sine_mp4, 32000, chunk_seconds=2.0, pad=False))
    assert [len(c) for _, c in unpadded] == [64000, 64000, len(whole) - 128000]
    # 3 s chunks: the 2.3 s tail is kept; 4 s chunks: the 1.3 s tail (< 2 s) is dropped.
    assert [t for t, _ in iter_audio_chunks(sine_mp4, 32000, chunk_seconds=3.0)] == [0.0, 3.0]
    assert [t for t, _ in iter_audio_chunks(sine_mp4, 32000, chunk_seconds=4.0)] == [0.0]


def test_audio_shorter_than_half_a_chunk_still_gives_one_chunk(tmp_path):
    path = write_video(tmp_path / "short.mp4", blank_frames(5), fps=10, audio=tone(0.5), sample_rate=SR_IN)
    chunks = list(iter_audio_chunks(path, 32000, chunk_seconds=2.0))
    assert len(chunks) == 1 and chunks[0][0] == 0.0 and chunks[0][1].shape == (64000,)


def test_a_video_without_audio_is_no_audio(tmp_path):
    path = write_video(tmp_path / "silent.mp4", blank_frames(10), fps=10)
    with pytest.raises(NoAudioError, match="no audio stream"):
        decode_audio(path, 32000)
    with pytest.raises(NoAudioError):
        next(iter_audio_chunks(path, 32000, 2.0))


def test_corrupt_and_missing_files_are_decode_errors(tmp_path, sine_mp4):
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(sine_mp4.read_bytes()[:3000])
    garbage = tmp_path / "garbage.m4a"
    garbage.write_bytes(np.random.default_rng(0).bytes(4096))
    for path in (truncated, garbage, tmp_path / "missing.wav"):
        with pytest.raises(DecodeError) as info:
            decode_audio(path, 32000)
        assert not isinstance(info.value, NoAudioError)


def test_stereo_downmix_is_the_channel_mean_and_channels_are_kept_on_request():
    if not JFK.exists():
        pytest.skip(f"shared data not present: {JFK} (the repo's ../shared)")
    stereo = decode_audio(JFK, 16000, mono=False)
    mono = decode_audio(JFK, 16000)
    assert stereo.shape[0] == 2 and stereo.shape[1] == len(mono)
    assert np.allclose(mono, stereo.mean(axis=0), atol=1e-6)


def test_jfk_flac_decodes_to_11_seconds_at_16k():
    if not JFK.exists():
        pytest.skip(f"shared data not present: {JFK} (the repo's ../shared)")
    x = decode_audio(JFK, 16000)
    assert abs(len(x) - 176000) <= 160  # 11 s (44.1 kHz stereo FLAC in the file)
    assert 0.05 < np.abs(x).max() <= 1.0


def test_a_cut_file_with_its_index_in_front_is_truncated_not_short(tmp_path):
    """Issue 11 case 2: the index still declares 30 s; the audio stream ends near 14 s. The decoder
    yields what is there, then says truncated (the video decoder's container-duration rule)."""
    from media_fixtures import cut_at_packet, faststart_mp4

    whole = faststart_mp4(tmp_path / "whole.mp4")
    assert len(decode_audio(whole, 16000)) / 16000 == pytest.approx(30.0, abs=0.1)
    cut = cut_at_packet(whole, tmp_path / "cut.mp4")
    chunks = []
    with pytest.raises(DecodeError, match=r"truncated: the audio stream ends at 1\d\.\d s of the 30\.0 s the file declares"):
        for start, _ in iter_audio_chunks(cut, 32000, 2.0):
            chunks.append(start)
    assert 5 <= len(chunks) <= 8  # what was there came out first
    with pytest.raises(DecodeError, match="truncated"):
        decode_audio(cut, 16000)
