"""GoogLeNet pool5 on a random-weight torchvision GoogLeNet: shapes, picks, preprocessing, weights resolution."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.models import GoogLeNet_Weights, googlenet

from collectors.records import RawItem
from collectors.synthetic import index_frame, read_index, write_video
from extractors.base import MissingWeightsError
from extractors.googlenet import GoogLeNet
from extractors.registry import get_extractor


@pytest.fixture(scope="module")
def state_dict_path(tmp_path_factory):
    torch.manual_seed(0)
    model = googlenet(weights=None, aux_logits=False, init_weights=True)
    path = tmp_path_factory.mktemp("googlenet") / "googlenet-random.pth"
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def extractor(state_dict_path):
    return GoogLeNet(weights=state_dict_path)


@pytest.fixture(scope="module")
def index_video(tmp_path_factory):
    """46 frames at 30 fps, frame k showing k: every 15th frame is 0, 15, 30, 45."""
    path = tmp_path_factory.mktemp("video") / "index30.mp4"
    return write_video(path, (index_frame(k, 160, 96) for k in range(46)), fps=30)


def test_every_15th_frame_gives_1024d_pool5_and_the_picks(extractor, index_video, monkeypatch):
    seen = []
    encode = extractor.encode_frames
    monkeypatch.setattr(extractor, "encode_frames", lambda frames: seen.extend(frames) or encode(frames))
    track = extractor.extract(RawItem(id="idx", source="test", media={"video": str(index_video)}))
    assert track.values.shape == (4, 1024) and track.values.dtype == np.float32
    assert np.isfinite(track.values).all()
    assert track.meta["picks"] == [0, 15, 30, 45]
    assert [read_index(f) for f in seen] == [0, 15, 30, 45]  # the frames the model saw
    np.testing.assert_allclose(track.times, np.array([0, 15, 30, 45]) / 30)
    meta = track.meta
    assert meta["dim"] == 1024 and meta["sampling"] == "every 15th frame" and meta["every_nth"] == 15
    assert len(meta["weights_sha256"]) == 64 and {"torch", "torchvision", "av"} <= set(meta["library_versions"])


@pytest.mark.slow
def test_batch_size_does_not_change_features(extractor, index_video, monkeypatch):
    item = RawItem(id="idx", source="test", media={"video": str(index_video)})
    monkeypatch.setattr(extractor, "batch_size", 1)
    one = extractor.extract(item)
    monkeypatch.setattr(extractor, "batch_size", 16)
    many = extractor.extract(item)
    np.testing.assert_array_equal(one.times, many.times)
    np.testing.assert_allclose(one.values, many.values, rtol=1e-4, atol=1e-4)


def test_fps_replaces_every_nth(state_dict_path, index_video):
    ext = get_extractor("googlenet", "visual", weights=state_dict_path, fps=1.0)
    assert isinstance(ext, GoogLeNet) and ext.every_nth is None and ext.config()["sampling"] == "1 fps"
    track = ext.extract(RawItem(id="idx", source="test", media={"video": str(index_video)}))
    np.testing.assert_array_equal(track.times, [0.5, 1.5])
    assert "picks" not in track.meta
    assert ext.config() != GoogLeNet(weights=state_dict_path).config()


def test_preprocess_follows_the_weights_transforms(extractor):
    """The IMAGENET1K_V1 transforms applied to PIL images (torchvision's evaluation path): the uint8
    resize kernel agrees up to one grey level, on few values, even on noise (the worst case)."""
    frames = np.random.default_rng(0).integers(0, 256, (2, 120, 200, 3), dtype=np.uint8)
    transform = GoogLeNet_Weights.IMAGENET1K_V1.transforms()
    ref = torch.stack([transform(Image.fromarray(f)) for f in frames])
    x = extractor.preprocess(frames)
    assert x.shape == ref.shape == (2, 3, 224, 224) and x.dtype == torch.float32
    levels = ((x - ref).abs() * torch.tensor(transform.std).view(1, 3, 1, 1) * 255).round()
    assert levels.max() <= 1 and (levels > 0).float().mean() < 0.01


def test_pool5_with_transform_input(extractor, state_dict_path):
    """Same numbers as torchvision's own network built as for IMAGENET1K_V1 (transform_input=True),
    read at the global average pool."""
    frames = np.random.default_rng(1).integers(0, 256, (2, 120, 200, 3), dtype=np.uint8)
    ref = googlenet(weights=None, aux_logits=False, transform_input=True, init_weights=False)
    ref.load_state_dict(torch.load(state_dict_path, weights_only=True))
    pooled = []
    ref.avgpool.register_forward_hook(lambda m, i, out: pooled.append(out.flatten(1)))
    with torch.inference_mode():
        ref.eval()(extractor.preprocess(frames))
    assert extractor.model.transform_input
    np.testing.assert_allclose(extractor.encode_frames(frames), pooled[0].numpy(), rtol=1e-5, atol=1e-5)


def test_weights_come_from_torchvisions_cache(state_dict_path, tmp_path, monkeypatch):
    checkpoints = tmp_path / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / "googlenet-1378be20.pth").write_bytes(state_dict_path.read_bytes())
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ext = GoogLeNet()
    assert ext.meta()["weights_sha256"] == GoogLeNet(weights=state_dict_path).meta()["weights_sha256"]


def test_offline_without_weights_names_the_flag(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(MissingWeightsError, match="offline mode is on.*Pass --weights googlenet=PATH"):
        GoogLeNet()
    with pytest.raises(MissingWeightsError, match="--weights googlenet=.*nope.pth does not exist"):
        GoogLeNet(weights=tmp_path / "nope.pth")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(MissingWeightsError, match="loading failed"):
        GoogLeNet(weights=junk)
