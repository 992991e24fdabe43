"""PANN CNN14 audio embeddings (Kong et al. 2020), 2048-d per 2-second chunk: the UMT / CFSum audio feature.

Written here from the paper and the released model's layout, so the published checkpoint
``Cnn14_mAP=0.431.pth`` loads by parameter name without panns-inference (which downloads at
import), torchaudio or librosa. Front end, as the checkpoint was trained: mono 32 kHz, STFT with a
1024-sample periodic Hann window and hop 320 (centred, reflect padding), power spectrum, 64 Slaney
mel bins from 50 Hz to 14 kHz, 10*log10 with floor 1e-10 (no top_db), then BatchNorm over mel
bins (``bn0``). The checkpoint's own mel matrix is used when it carries one.

Chunking: non-overlapping 2-second chunks of the item's audio (``extractors.audio``), time = the
chunk's centre (1.0, 3.0, ...). A final partial chunk of at least half a chunk is kept and encoded
at its own length (the network takes any length, so no zeros dilute its pooling); a shorter one
is dropped unless it is all the audio there is. Inputs shorter than 0.31 s are zero-padded to
0.31 s, the least that survives CNN14's five 2x time poolings.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from extractors.base import Extractor, FeatureTrack, library_versions
from extractors.weights import load_local_model, read_state_dict, weights_flag

SAMPLE_RATE, WINDOW, HOP, MEL_BINS, FMIN, FMAX = 32000, 1024, 320, 64, 50.0, 14000.0
CLASSES = 527  # AudioSet
CHANNELS = (64, 128, 256, 512, 1024, 2048)
CHECKPOINT = "Cnn14_mAP=0.431.pth"
SOURCE = "the PANNs release on Zenodo (record 3987831, https://zenodo.org/record/3987831)"
MIN_SAMPLES = 31 * HOP  # 32 STFT frames: the time axis survives five 2x poolings
FRONTEND_KEYS = ("spectrogram_extractor.stft.conv_real.weight", "spectrogram_extractor.stft.conv_imag.weight",
                 "logmel_extractor.melW")


# -- mel filterbank, as librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax) with its defaults --------

def hz_to_mel(f):
    """Slaney's mel scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above (27 mels per 6.4x)."""
    f = np.asarray(f, dtype=np.float64)
    lin = f / (200.0 / 3)
    log = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, log, lin)


def mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), m * (200.0 / 3))


def mel_filterbank(sr: int = SAMPLE_RATE, n_fft: int = WINDOW, n_mels: int = MEL_BINS,
                   fmin: float = FMIN, fmax: float = FMAX) -> np.ndarray:
    """float32 [n_mels, n_fft // 2 + 1]: triangles evenly spaced in Slaney mels, each of unit area in Hz."""
    fft_hz = np.linspace(0.0, sr / 2.0, n_fft // 2 + 1)
    edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths[:-1, None]
    falling = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges[2:] - edges[:-2]))[:, None]  # Slaney area normalisation
    return weights.astype(np.float32)


def stft_kernels(n_fft: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """The released front end's conv weights [n_fft // 2 + 1, 1, n_fft]: periodic Hann x DFT (real, imag)."""
    n = np.arange(n_fft)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * n / n_fft)
    phase = -2 * np.pi * np.outer(np.arange(n_fft // 2 + 1), n) / n_fft
    return ((np.cos(phase) * window)[:, None, :].astype(np.float32),
            (np.sin(phase) * window)[:, None, :].astype(np.float32))


# -- the network ------------------------------------------------------------------------------

def _build_model():
    import torch
    from torch import nn
    from torch.nn import functional as F

    class ConvBlock(nn.Module):
        def __init__(self, cin: int, cout: int):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn1, self.bn2 = nn.BatchNorm2d(cout), nn.BatchNorm2d(cout)

        def forward(self, x, pool: int):
            x = F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))))
            return F.avg_pool2d(x, pool) if pool > 1 else x

    class Cnn14(nn.Module):
        """waveform [B, n] at 32 kHz -> (embedding [B, 2048], clip-wise AudioSet probabilities [B, 527])."""

        def __init__(self):
            super().__init__()
            self.register_buffer("window", torch.hann_window(WINDOW, periodic=True), persistent=False)
            self.register_buffer("melW", torch.from_numpy(mel_filterbank().T.copy()), persistent=False)
            self.bn0 = nn.BatchNorm2d(MEL_BINS)
            for i, (cin, cout) in enumerate(zip((1,) + CHANNELS[:-1], CHANNELS), 1):
                setattr(self, f"conv_block{i}", ConvBlock(cin, cout))
            self.fc1 = nn.Linear(CHANNELS[-1], CHANNELS[-1])
            self.fc_audioset = nn.Linear(CHANNELS[-1], CLASSES)

        def logmel(self, wave):
            spec = torch.stft(wave, WINDOW, HOP, window=self.window, center=True, pad_mode="reflect",
                              return_complex=True)
            power = spec.real.square() + spec.imag.square()  # [B, freq, frames]
            mel = power.transpose(1, 2) @ self.melW  # [B, frames, mel]
            return 10.0 * torch.log10(mel.clamp(min=1e-10))

        def forward(self, wave):
            x = self.logmel(wave)[:, None]  # [B, 1, frames, mel]
            x = self.bn0(x.transpose(1, 3)).transpose(1, 3)  # normalise each mel bin
            for i in range(1, 7):
                x = getattr(self, f"conv_block{i}")(x, pool=2 if i < 6 else 1)
            x = x.mean(dim=3)  # over frequency
            x = x.max(dim=2).values + x.mean(dim=2)  # over time
            emb = F.relu(self.fc1(x))
            return emb, torch.sigmoid(self.fc_audioset(emb))

    return Cnn14()


def checkpoint_state_dict(model) -> dict:
    """The model's parameters in the released checkpoint's layout, front-end tensors included."""
    import torch

    real, imag = stft_kernels()
    state = dict(model.state_dict())
    state[FRONTEND_KEYS[0]], state[FRONTEND_KEYS[1]] = torch.from_numpy(real), torch.from_numpy(imag)
    state[FRONTEND_KEYS[2]] = model.melW.detach().cpu().clone()
    return state


def load_checkpoint(model, path: Path) -> None:
    """Load a released-format checkpoint ({"model": state_dict}, or a bare state dict), strictly.

    The front end runs on torch.stft, so the checkpoint's STFT kernels are only checked to be the
    same 1024-point Hann DFT (a mismatch means a different model config); its mel matrix replaces
    the computed one.
    """
    import torch

    state = read_state_dict(path, trusted_pickle=True)
    for key, expected in zip(FRONTEND_KEYS[:2], stft_kernels()):
        if key in state:
            got = state.pop(key).float()
            if tuple(got.shape) != expected.shape or (got - torch.from_numpy(expected)).abs().max() > 1e-3:
                raise ValueError(f"{path}: {key} is not a {WINDOW}-point Hann STFT: a different CNN14 config")
    if FRONTEND_KEYS[2] in state:
        mel = state.pop(FRONTEND_KEYS[2]).float()
        if tuple(mel.shape) != tuple(model.melW.shape):
            raise ValueError(f"{path}: mel matrix has shape {tuple(mel.shape)}, expected {tuple(model.melW.shape)}")
        model.melW.copy_(mel)
    model.load_state_dict(state, strict=True)


# -- the extractor ----------------------------------------------------------------------------

class PANN(Extractor):
    """CNN14 ``fc1`` embeddings (2048-d) per 2-second chunk; :meth:`extract_with_tags` adds the 527 AudioSet tags."""

    name = "pann"
    modality = "audio"

    def __init__(self, weights=None, device: str = "cpu", chunk_seconds: float = 2.0, batch_size: int = 16):
        import torch

        if chunk_seconds <= 0:
            raise ValueError(f"chunk_seconds must be positive, got {chunk_seconds}")
        self.chunk_seconds, self.batch_size = float(chunk_seconds), int(batch_size)
        self.device = torch.device(device)
        self.model, self._sha = load_local_model(weights, ("pann", CHECKPOINT), f"PANN CNN14 weights ({CHECKPOINT})", SOURCE,
                                                 weights_flag(self.name), _build_model, load_checkpoint, self.device)

    @property
    def dim(self) -> int:
        return int(self.model.fc1.out_features)

    def config(self) -> dict:
        return {"extractor": self.name, "model": "Cnn14", "weights_sha256": self._sha, "sample_rate": SAMPLE_RATE,
                "window": WINDOW, "hop": HOP, "mel_bins": MEL_BINS, "fmin": FMIN, "fmax": FMAX,
                "chunk_seconds": self.chunk_seconds, "mono": "mean of channels",
                "tail": "kept at own length if >= half a chunk, else dropped"}

    def meta(self) -> dict:
        return {**self.config(), "dim": self.dim, "output": "embedding (fc1)",
                "library_versions": library_versions("torch", "av", "numpy")}

    def encode_waveforms(self, waves: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """float32 mono 32 kHz [B, n] -> (embeddings [B, 2048], clip-wise tag probabilities [B, 527])."""
        import torch

        x = torch.as_tensor(np.asarray(waves, dtype=np.float32)).reshape(len(waves), -1)
        if x.shape[1] < MIN_SAMPLES:
            x = torch.nn.functional.pad(x, (0, MIN_SAMPLES - x.shape[1]))
        with torch.inference_mode():
            emb, tags = self.model(x.to(self.device))
        return emb.float().cpu().numpy(), tags.float().cpu().numpy()

    def extract_with_tags(self, item) -> tuple[FeatureTrack, FeatureTrack]:
        """(embeddings [n_chunks, 2048], AudioSet tag probabilities [n_chunks, 527]) at the same times."""
        from collectors.records import ItemError
        from extractors.audio import NoAudioError, iter_audio_chunks
        from extractors.decode import DecodeError

        media = item.media.get("audio") or item.media.get("video")
        if not media:
            raise ItemError("no_audio", "item has no media['audio'] or media['video']", item.id)
        times, embs, tags, batch = [], [], [], []

        def flush():
            if batch:
                e, t = self.encode_waveforms(np.stack(batch))
                embs.append(e)
                tags.append(t)
                batch.clear()

        try:
            for start, samples in iter_audio_chunks(media, SAMPLE_RATE, self.chunk_seconds, pad=False):
                if batch and len(samples) != len(batch[0]):
                    flush()  # the short tail runs on its own
                batch.append(samples)
                times.append(start + len(samples) / (2 * SAMPLE_RATE))
                if len(batch) == self.batch_size:
                    flush()
            flush()
        except NoAudioError as e:
            raise ItemError("no_audio", f"{media}: {e}", item.id) from e
        except DecodeError as e:
            raise ItemError("bad_media", f"{media}: {e}", item.id) from e
        if not times:
            raise ItemError("no_audio", f"{media}: the audio stream holds no samples", item.id)
        meta = self.meta()
        tag_meta = {**meta, "dim": CLASSES, "output": "clipwise_output (sigmoid, AudioSet classes)"}
        return (FeatureTrack(times, np.concatenate(embs), meta), FeatureTrack(times, np.concatenate(tags), tag_meta))

    def extract(self, item) -> FeatureTrack:
        return self.extract_with_tags(item)[0]
