"""colorhist: a weight-free 16x4x4 HSV histogram, checked against colorsys and on real decoding."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from collectors.records import RawItem
from collectors.synthetic import write_video
from extractors.colorhist import ColorHistogram, color_histograms, hsv_bins
from extractors.registry import get_extractor


def solid(rgb, h=90, w=160):
    return np.broadcast_to(np.array(rgb, dtype=np.uint8), (h, w, 3)).copy()


def by_hue(hist):
    """[256] -> mass per hue bin [16] (the index is hue-major)."""
    return hist.reshape(16, 4, 4).sum(axis=(1, 2))


def cosine(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_shape_dtype_and_l1_normalised():
    frames = np.random.default_rng(0).integers(0, 256, (5, 90, 160, 3), dtype=np.uint8)
    h = ColorHistogram().encode_frames(frames)
    assert h.shape == (5, 256) and h.dtype == np.float32
    assert (h >= 0).all()
    np.testing.assert_allclose(h.sum(axis=1), 1.0, atol=1e-6)
    assert ColorHistogram().encode_frames(frames[:0]).shape == (0, 256)


@pytest.mark.parametrize(
    "rgb,hue_bin",
    [((255, 0, 0), 0), ((255, 0, 42), 0), ((255, 42, 0), 0), ((0, 255, 0), 5), ((0, 0, 255), 11)],
)
def test_primaries_land_in_their_hue_bin(rgb, hue_bin):
    """Hue bins are 22.5 degrees centred on 0: red (also 350 and 10 degrees) is bin 0, green 5, blue 11."""
    h = color_histograms(solid(rgb)[None])[0]
    assert by_hue(h)[hue_bin] == pytest.approx(1.0)


def test_pure_red_is_one_bin():
    h = color_histograms(solid((255, 0, 0))[None])[0]
    assert h[0 * 16 + 3 * 4 + 3] == 1.0  # hue 0, saturation bin 3, value bin 3
    assert np.count_nonzero(h) == 1


@pytest.mark.parametrize("rgb,val_bin", [((0, 0, 0), 0), ((128, 128, 128), 2), ((255, 255, 255), 3)])
def test_greys_have_no_saturation(rgb, val_bin):
    h = color_histograms(solid(rgb)[None])[0].reshape(16, 4, 4)
    assert h[0, 0, val_bin] == 1.0


def test_bins_match_colorsys():
    """Vectorised HSV agrees with the standard library's per-pixel conversion."""
    px = np.random.default_rng(1).integers(0, 256, (3000, 3), dtype=np.uint8)
    ours = hsv_bins(px)
    ref = []
    for r, g, b in px / 255.0:
        hh, s, v = colorsys.rgb_to_hsv(r, g, b)
        ref.append(((int(np.floor(hh * 16 + 0.5)) % 16) * 4 + min(int(s * 4), 3)) * 4 + min(int(v * 4), 3))
    assert np.mean(ours == np.array(ref)) > 0.999  # only float ties on a bin edge may differ


def test_batch_size_does_not_change_values(tmp_path):
    rng = np.random.default_rng(2)
    frames = [rng.integers(0, 256, (72, 128, 3), dtype=np.uint8) for _ in range(12)]
    path = write_video(tmp_path / "v.mp4", frames, fps=4)
    item = RawItem(id="v", source="test", media={"video": str(path)})
    one = ColorHistogram(batch_size=1, fps=4).extract(item)
    many = ColorHistogram(batch_size=16, fps=4).extract(item)
    np.testing.assert_array_equal(one.times, many.times)
    np.testing.assert_array_equal(one.values, many.values)


def test_extract_gives_one_step_per_second(tmp_path):
    """4.2 s at 10 fps: 1 fps steps whose centre is inside the video: 0.5, 1.5, 2.5, 3.5."""
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (255, 255, 255)]
    frames = (solid(colours[k // 10], 96, 256) for k in range(42))
    path = write_video(tmp_path / "c.mp4", frames, fps=10)
    track = ColorHistogram().extract(RawItem(id="c", source="test", media={"video": str(path)}))
    assert len(track) == 4 and track.dim == 256 and track.values.dtype == np.float32
    np.testing.assert_array_equal(track.times, [0.5, 1.5, 2.5, 3.5])
    assert track.meta["extractor"] == "colorhist" and track.meta["dim"] == 256
    # Each second is one solid colour (through H.264): its hue bin dominates.
    assert [int(np.argmax(by_hue(h))) for h in track.values] == [0, 5, 11, 3]


def test_different_colours_differ_and_same_frame_matches():
    rng = np.random.default_rng(3)
    noise = rng.integers(-30, 31, (90, 160, 3))
    reddish = np.clip(np.array([200, 40, 40]) + noise, 0, 255).astype(np.uint8)
    bluish = np.clip(np.array([40, 60, 200]) + noise, 0, 255).astype(np.uint8)
    h = ColorHistogram().encode_frames(np.stack([reddish, bluish, reddish]))
    assert cosine(h[0], h[1]) < 0.1
    assert cosine(h[0], h[2]) == pytest.approx(1.0, abs=1e-6)


def test_histogram_is_size_invariant():
    """Thumbnails come in any size: a 2x-resized image has (nearly) the same histogram."""
    rng = np.random.default_rng(4)
    blocks = rng.integers(0, 256, (4, 5, 3), dtype=np.uint8)
    img = np.repeat(np.repeat(blocks, 32, axis=0), 32, axis=1)  # 128 x 160, blocks of colour
    nearest = np.repeat(np.repeat(img, 2, axis=0), 2, axis=1)
    bilinear = np.asarray(Image.fromarray(img).resize((320, 256), Image.BILINEAR))
    odd = img[:53, :37]
    ext = ColorHistogram()
    h = ext.encode_images([img, nearest, bilinear, odd])
    assert h.shape == (4, 256)
    np.testing.assert_allclose(h[1], h[0], atol=1e-6)  # pixel replication: exactly the same
    assert np.abs(h[2] - h[0]).sum() < 0.12  # interpolation only blends block edges (~0.07)
    np.testing.assert_allclose(h.sum(axis=1), 1.0, atol=1e-6)


@settings(max_examples=40, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 3), st.integers(1, 9), st.integers(1, 9), st.just(3))))
def test_any_frames_give_distributions(frames):
    h = color_histograms(frames)
    assert h.shape == (frames.shape[0], 256)
    assert (h >= 0).all()
    np.testing.assert_allclose(h.sum(axis=1), 1.0, atol=1e-6)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="RGB frames"):
        color_histograms(np.zeros((2, 8, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        color_histograms(np.zeros((1, 8, 8, 3), dtype=np.float32))


def test_weights_are_refused_and_device_accepted():
    with pytest.raises(ValueError, match="colorhist has no weights"):
        ColorHistogram(weights="model.pt")
    assert ColorHistogram(device="cuda").dim == 256


def test_config_meta_and_registry():
    ext = get_extractor("colorhist", fps=2.0)
    assert isinstance(ext, ColorHistogram)
    assert ext.config() == {"extractor": "colorhist", "bins": [16, 4, 4], "fps": 2.0, "decode_size": [160, None]}
    meta = ext.meta()
    assert meta["dim"] == 256 and meta["weights_sha256"] is None
    assert {"numpy", "av"} <= set(meta["library_versions"])
    assert {k: meta[k] for k in ext.config()} == ext.config()
