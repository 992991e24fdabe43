"""Weight-free HSV colour histogram: a cheap visual feature that needs no model and runs anywhere.

Per frame, every pixel falls in one of 16 hue x 4 saturation x 4 value bins (joint, hue-major:
index = 16 * hue_bin + 4 * sat_bin + val_bin); the 256 counts are divided by the pixel count, so the
vector sums to 1 whatever the image size. Hue bins are centred on 0 degrees (bin 0 is red from
-11.25 to 11.25 degrees) so reds on both sides of the wrap-around share a bin. Greys (saturation 0)
have hue 0 by convention; their saturation bin 0 keeps them apart from reds.
"""

from __future__ import annotations

import numpy as np

from extractors.base import VisualExtractor, library_versions

HUE_BINS, SAT_BINS, VAL_BINS = 16, 4, 4


def hsv_bins(rgb: np.ndarray) -> np.ndarray:
    """uint8 RGB [..., 3] -> int64 joint bin index [...] in [0, 256).

    Saturation and value bins use exact integer arithmetic on the uint8 values, so a pixel never
    changes bin because of float rounding; only hue needs floats.
    """
    x = rgb.astype(np.int32)
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    mx = x.max(axis=-1)
    d = mx - x.min(axis=-1)
    val_bin = (mx * VAL_BINS) >> 8  # 0..255 -> 0..3
    sat_bin = np.minimum((d * SAT_BINS) // np.maximum(mx, 1), SAT_BINS - 1)  # s = d / max
    # Hue in sixths of a turn, [0, 6): the usual hexcone formula, with greys (d == 0) at 0.
    dd = np.maximum(d, 1).astype(np.float32)
    h6 = np.where(
        mx == r,
        np.mod((g - b) / dd, 6.0),
        np.where(mx == g, (b - r) / dd + 2.0, (r - g) / dd + 4.0),
    )
    h6 = np.where(d > 0, h6, 0.0)
    hue_bin = np.floor(h6 * (HUE_BINS / 6.0) + 0.5).astype(np.int64) % HUE_BINS
    return (hue_bin * SAT_BINS + sat_bin) * VAL_BINS + val_bin


def color_histograms(frames: np.ndarray) -> np.ndarray:
    """uint8 RGB [B, H, W, 3] -> float32 [B, 256], each row L1-normalised."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected RGB frames [B, H, W, 3], got shape {frames.shape}")
    if frames.dtype != np.uint8:
        raise ValueError(f"expected uint8 frames, got {frames.dtype}")
    n, dim = frames.shape[0], HUE_BINS * SAT_BINS * VAL_BINS
    pixels = frames.shape[1] * frames.shape[2]
    if n == 0:
        return np.zeros((0, dim), dtype=np.float32)
    if pixels == 0:
        raise ValueError(f"frames have no pixels: shape {frames.shape}")
    # One bincount for the whole batch: offset each frame's bins by 256 * frame index.
    idx = hsv_bins(frames).reshape(n, -1) + (np.arange(n, dtype=np.int64) * dim)[:, None]
    counts = np.bincount(idx.ravel(), minlength=n * dim).reshape(n, dim)
    return (counts / pixels).astype(np.float32)


class ColorHistogram(VisualExtractor):
    """HSV colour histogram, 256-d, L1-normalised; the baseline feature every build can afford."""

    name = "colorhist"
    bins = (HUE_BINS, SAT_BINS, VAL_BINS)

    def __init__(self, fps: float = 1.0, batch_size: int = 32, device: str = "cpu", weights=None):
        if weights is not None:
            raise ValueError(f"colorhist has no weights (got weights={weights!r}); drop the weights option")
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.fps = float(fps)
        self.batch_size = int(batch_size)
        self.device = device  # accepted so every extractor shares one signature; numpy runs on CPU
        # Small frames are plenty for a histogram and keep decoding cheap; height follows the aspect.
        self.decode_size = (160, None)

    @property
    def dim(self) -> int:
        return HUE_BINS * SAT_BINS * VAL_BINS

    def config(self) -> dict:
        return {
            "extractor": self.name,
            "bins": list(self.bins),
            "fps": self.fps,
            "decode_size": list(self.decode_size),
        }

    def meta(self) -> dict:
        return {
            **self.config(),
            "dim": self.dim,
            "weights_sha256": None,
            "library_versions": library_versions("numpy", "av"),
        }

    def encode_frames(self, frames: np.ndarray) -> np.ndarray:
        return color_histograms(frames)
