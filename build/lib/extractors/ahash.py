"""VMSMO's average hash of a frame: which video frame is the cover picture (weight-free).

VMSMO's release code (``preprocess/dataprocess.py`` of the DIMS repository) labels the cover frame
of a video as the frame whose average hash is nearest (Hamming distance) to the cover image's: an
image is resized to 128 x 64 (OpenCV ``resize``, bilinear), turned grey (``COLOR_BGR2GRAY``), and
each of its 8,192 pixels gives one bit, 1 where it is brighter than the image's mean.

Here the same steps run on RGB uint8 frames: bilinear resampling at pixel centres without
antialiasing (what OpenCV's INTER_LINEAR does; rounding may differ by one grey level on a few
pixels), grey by OpenCV's fixed-point weights (R 4899, G 9617, B 1868, / 2^14, rounded), bit = grey >
mean. The 8,192 bits are stored packed, 16 per value (each value an integer 0..65535, exact in
float32), so a frame is 512 numbers; :func:`unpack` gives the bits back and :func:`hamming` the
distances. Sampling: ``fps`` (default 1) or ``every_nth`` frame, as the other visual extractors.
"""

from __future__ import annotations

import numpy as np

from extractors.base import VisualExtractor, library_versions
from extractors.decode import sampling_rule

WIDTH, HEIGHT = 128, 64
BITS = WIDTH * HEIGHT
PACK = 16
DIM = BITS // PACK
GREY_WEIGHTS = (4899, 9617, 1868)  # OpenCV's BGR2GRAY in 14-bit fixed point (0.299, 0.587, 0.114)


def grey_thumbnails(frames: np.ndarray) -> np.ndarray:
    """uint8 RGB [B, H, W, 3] -> uint8 grey [B, 64, 128]: bilinear to 128 x 64, then OpenCV's grey weights."""
    import torch
    import torch.nn.functional as F

    x = torch.from_numpy(np.ascontiguousarray(frames, dtype=np.uint8)).permute(0, 3, 1, 2).float()
    x = F.interpolate(x, size=(HEIGHT, WIDTH), mode="bilinear", align_corners=False, antialias=False)
    rgb = x.round().clamp(0, 255).to(torch.int64)
    r, g, b = rgb[:, 0], rgb[:, 1], rgb[:, 2]
    grey = (r * GREY_WEIGHTS[0] + g * GREY_WEIGHTS[1] + b * GREY_WEIGHTS[2] + (1 << 13)) >> 14
    return grey.to(torch.uint8).numpy()


def average_hash_bits(frames: np.ndarray) -> np.ndarray:
    """uint8 RGB [B, H, W, 3] -> bool [B, 8192]: each grey pixel above its image's mean."""
    grey = grey_thumbnails(frames).reshape(len(frames), -1).astype(np.float64)
    return grey > grey.mean(axis=1, keepdims=True)


def pack(bits: np.ndarray) -> np.ndarray:
    """bool [B, 8192] -> float32 [B, 512]: 16 bits per value, most significant first."""
    bits = np.asarray(bits, dtype=np.uint8).reshape(len(bits), DIM, PACK)
    weights = (1 << np.arange(PACK - 1, -1, -1)).astype(np.int64)
    return (bits.astype(np.int64) @ weights).astype(np.float32)


def unpack(values: np.ndarray) -> np.ndarray:
    """float [B, 512] (as :func:`pack` wrote them) -> bool [B, 8192]."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != DIM:
        raise ValueError(f"packed hashes must be [B, {DIM}], got {v.shape}")
    if np.any(v != np.round(v)) or np.any((v < 0) | (v >= 1 << PACK)):
        raise ValueError(f"packed hashes must hold integers 0..{(1 << PACK) - 1}")
    ints = v.astype(np.int64)
    shifts = np.arange(PACK - 1, -1, -1)
    return ((ints[:, :, None] >> shifts) & 1).astype(bool).reshape(len(v), BITS)


def hamming(frames: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Hamming distance [B] of each packed frame hash [B, 512] to one packed reference hash [512]."""
    ref = unpack(np.asarray(reference).reshape(1, -1))[0]
    return (unpack(frames) != ref).sum(axis=1).astype(np.int64)


class AverageHash(VisualExtractor):
    """VMSMO's cover-matching hash, 8,192 bits packed into 512 values; weight-free."""

    name = "ahash"

    def __init__(self, fps: float | None = None, every_nth: int | None = None, batch_size: int = 64,
                 device: str = "cpu", weights=None):
        if weights is not None:
            raise ValueError(f"ahash has no weights (got weights={weights!r}); drop the weights option")
        self.fps, self.every_nth = sampling_rule(fps, every_nth)
        self.batch_size, self.device = int(batch_size), device

    @property
    def dim(self) -> int:
        return DIM

    def config(self) -> dict:
        return {"extractor": self.name, "fps": self.fps, "every_nth": self.every_nth,
                "hash": f"average hash: bilinear {WIDTH}x{HEIGHT}, OpenCV grey weights, bit = grey > mean "
                        f"(VMSMO dataprocess.py); {BITS} bits packed {PACK} per value"}

    def meta(self) -> dict:
        return {**self.config(), "dim": self.dim, "weights_sha256": None,
                "library_versions": library_versions("numpy", "torch", "av")}

    def encode_frames(self, frames: np.ndarray) -> np.ndarray:
        return pack(average_hash_bits(frames))
