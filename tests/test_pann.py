"""PANN CNN14: the real architecture with random weights, saved and loaded in the released checkpoint's format."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from collectors.records import ItemError, RawItem
from collectors.synthetic import write_video
from extractors.audio import decode_audio
from extractors.base import MissingWeightsError
from extractors.pann import (CHECKPOINT, PANN, _build_model, checkpoint_state_dict, hz_to_mel, mel_filterbank,
                             mel_to_hz)


def blank_frames(n: int):
    return (np.full((32, 48, 3), 60, np.uint8) for _ in range(n))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A random-weight CNN14 (full size, 80.8M parameters, 327 MB) as {"model": state_dict}, front end included."""
    torch.manual_seed(0)
    model = _build_model()
    with torch.no_grad():  # non-trivial BatchNorm statistics, so a mix-up of names would show
        for name, buf in model.named_buffers():
            if name.endswith("running_mean"):
                buf.normal_(0, 0.1)
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 2.0)
        model.melW.mul_(1.5)  # differs from the computed one: loading must take the checkpoint's
    path = tmp_path_factory.mktemp("pann") / CHECKPOINT
    torch.save({"model": checkpoint_state_dict(model)}, path)
    return path


@pytest.fixture(scope="module")
def pann(checkpoint):
    return PANN(weights=checkpoint, batch_size=8)


@pytest.fixture(scope="module")
def tone_video(tmp_path_factory):
    """5.3 s: a 440 Hz tone, then noise from 2 s on (16 kHz AAC)."""
    sr = 16000
    t = np.arange(int(5.3 * sr)) / sr
    audio = 0.3 * np.sin(2 * np.pi * 440 * t)
    audio[2 * sr :] = np.random.default_rng(0).normal(0, 0.1, len(audio) - 2 * sr)
    path = tmp_path_factory.mktemp("pann-media") / "tone.mp4"
    return write_video(path, blank_frames(53), fps=10, audio=audio.astype(np.float32), sample_rate=sr)


def test_the_released_layout_has_the_published_names_and_size():
    state = checkpoint_state_dict(_build_model())
    for key in ("bn0.weight", "conv_block1.conv1.weight", "conv_block1.bn1.running_mean", "conv_block6.bn2.weight",
                "fc1.weight", "fc_audioset.weight", "logmel_extractor.melW",
                "spectrogram_extractor.stft.conv_real.weight", "spectrogram_extractor.stft.conv_imag.weight"):
        assert key in state
    assert state["logmel_extractor.melW"].shape == (513, 64)
    assert state["spectrogram_extractor.stft.conv_real.weight"].shape == (513, 1, 1024)
    assert state["fc_audioset.weight"].shape == (527, 2048)
    params = sum(v.numel() for k, v in state.items() if "running" not in k and "num_batches" not in k
                 and not k.startswith(("logmel", "spectrogram")))
    assert params == 80_753_615  # CNN14's parameter count in the PANNs paper


def test_mel_scale_and_filterbank_match_librosa_slaney_defaults():
    assert np.allclose(hz_to_mel([0, 500, 1000, 6400]), [0, 7.5, 15, 42])  # linear, then 27 mels per 6.4x
    f = np.array([50.0, 999.0, 1000.0, 3000.0, 14000.0])
    assert np.allclose(mel_to_hz(hz_to_mel(f)), f)
    w = mel_filterbank()
    assert w.shape == (64, 513) and w.dtype == np.float32 and (w >= 0).all()
    # Values from librosa 0.11.0: librosa.filters.mel(sr=32000, n_fft=1024, n_mels=64, fmin=50, fmax=14000).
    assert np.isclose(w[0, 2], 0.0042890897) and np.isclose(w[0, 3], 0.0150118135)
    assert np.isclose(w[20, 40], 0.005957746) and np.isclose(w[63, 440], 0.0004470707)
    assert np.isclose(w[31].max(), 0.0073262905) and w[31].argmax() == 71
    assert [np.flatnonzero(w[i])[[0, -1]].tolist() for i in (0, 10, 31, 63)] == [[2, 5], [19, 22], [68, 75], [401, 447]]
    # Slaney normalisation: every triangle has unit area in Hz, up to sampling on the 31.25 Hz grid
    # (coarse for the lowest filters, ~54 Hz wide; within 0.5% once they span 10+ bins).
    area = w.sum(axis=1) * (32000 / 1024)
    assert np.all(np.abs(area - 1) < 0.06) and np.all(np.abs(area[32:] - 1) < 5e-3)
    # Peaks rise monotonically; nothing below 50 Hz or above 14 kHz.
    assert np.all(np.diff(w.argmax(axis=1)) >= 0)
    hz = np.linspace(0, 16000, 513)
    assert not w[:, (hz < 50) | (hz > 14000)].any()


def test_extract_gives_one_2048d_embedding_per_2s_chunk(pann, tone_video):
    item = RawItem(id="tone", source="test", media={"video": str(tone_video)})
    emb, tags = pann.extract_with_tags(item)
    assert emb.values.shape == (3, 2048) and tags.values.shape == (3, 527)
    # Two full chunks, then the 1.3 s tail (kept: at least half a chunk), timed at its own centre.
    tail = len(decode_audio(tone_video, 32000)) - 2 * 64000
    assert emb.times.tolist() == [1.0, 3.0, 4.0 + tail / 64000]
    assert np.array_equal(emb.times, tags.times)
    assert ((tags.values > 0) & (tags.values < 1)).all()
    assert not np.allclose(emb.values[0], emb.values[1])  # tone vs noise
    assert emb.meta["dim"] == 2048 and tags.meta["dim"] == 527 and emb.meta["model"] == "Cnn14"
    assert emb.meta["sample_rate"] == 32000 and emb.meta["hop"] == 320 and len(emb.meta["weights_sha256"]) == 64
    assert np.array_equal(pann.extract(item).values, emb.values)


def test_batch_size_does_not_change_values(pann):
    waves = np.random.default_rng(1).normal(0, 0.1, (8, 11200)).astype(np.float32)  # 8 x 0.35 s
    single = np.concatenate([pann.encode_waveforms(w[None])[0] for w in waves])
    batched, _ = pann.encode_waveforms(waves)
    assert np.allclose(single, batched, rtol=1e-4, atol=1e-6)


def test_the_checkpoint_mel_matrix_replaces_the_computed_one(pann):
    assert torch.allclose(pann.model.melW, 1.5 * torch.from_numpy(mel_filterbank().T))


def test_a_different_stft_or_a_missing_name_does_not_load(tmp_path):
    bad_stft = {"spectrogram_extractor.stft.conv_real.weight": torch.zeros(257, 1, 512)}
    renamed = {"fc_1.weight": torch.zeros(2048, 2048)}  # strict loading names what is missing
    for i, (bad, why) in enumerate(((bad_stft, "Hann STFT"), (renamed, "Missing key"))):
        torch.save({"model": bad}, tmp_path / f"bad{i}.pth")
        with pytest.raises(MissingWeightsError, match=f"do not load.*{why}"):
            PANN(weights=tmp_path / f"bad{i}.pth")
    (tmp_path / "garbage.pth").write_bytes(b"not a checkpoint" * 64)
    with pytest.raises(MissingWeightsError, match="not a readable PyTorch checkpoint"):
        PANN(weights=tmp_path / "garbage.pth")


def test_missing_weights_name_the_file_the_source_and_the_flag(tmp_path, monkeypatch):
    monkeypatch.setenv("VSUMHUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(MissingWeightsError) as info:
        PANN()
    message = str(info.value)
    for part in (CHECKPOINT, "zenodo", "--weights pann=PATH", str(tmp_path / "empty-cache" / "pann")):
        assert part in message
    with pytest.raises(MissingWeightsError, match="does not exist"):
        PANN(weights=tmp_path / "nope.pth")


def test_weights_in_the_cache_are_found(checkpoint, pann, tmp_path, monkeypatch):
    (tmp_path / "pann").mkdir()
    (tmp_path / "pann" / CHECKPOINT).symlink_to(checkpoint)
    monkeypatch.setenv("VSUMHUB_CACHE", str(tmp_path))
    assert PANN().meta()["weights_sha256"] == pann.meta()["weights_sha256"]


def test_a_video_without_audio_is_an_item_error_no_audio(pann, tmp_path):
    silent = write_video(tmp_path / "silent.mp4", blank_frames(10), fps=10)
    with pytest.raises(ItemError) as info:
        pann.extract(RawItem(id="silent", source="test", media={"video": str(silent)}))
    assert info.value.kind == "no_audio"
    with pytest.raises(ItemError) as info:
        pann.extract(RawItem(id="none", source="test"))
    assert info.value.kind == "no_audio"
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00" * 2048)
    with pytest.raises(ItemError) as info:
        pann.extract(RawItem(id="bad", source="test", media={"audio": str(garbage)}))
    assert info.value.kind == "bad_media"


def test_a_cut_file_is_bad_media_not_a_short_track(pann, tmp_path):
    """Issue 11 case 2: a faststart MP4 cut at half decodes to 14 s of its declared 30 s: bad_media."""
    from media_fixtures import cut_at_packet, faststart_mp4

    cut = cut_at_packet(faststart_mp4(tmp_path / "whole.mp4"), tmp_path / "cut.mp4")
    with pytest.raises(ItemError) as e:
        pann.extract(RawItem(id="cut", source="test", media={"video": str(cut)}))
    assert e.value.kind == "bad_media" and "truncated: the audio stream ends at" in e.value.message
