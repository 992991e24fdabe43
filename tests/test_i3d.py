"""Inception-I3D: the real architecture with random weights, loaded by path with the pytorch-i3d names.

The network is fully convolutional with the final pooling clipped to the map, so the default run
uses 112x112 crops (about 4x cheaper than 224 on CPU); the 224 path runs in the slow test.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from collectors.records import ItemError, RawItem
from collectors.synthetic import write_video
from extractors.base import MissingWeightsError
from extractors.i3d import CHECKPOINT, I3D, _build_model, same_padding


def frames(n: int, width: int = 160, height: int = 96):
    """Moving gradient frames, so consecutive stacks differ."""
    x = np.arange(width)[None, :, None]
    for i in range(n):
        yield np.broadcast_to(((x + 4 * i) % 256).astype(np.uint8), (height, width, 3)).copy()


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A random-weight I3D saved as a bare state dict, as rgb_imagenet.pt is."""
    torch.manual_seed(0)
    model = _build_model()
    with torch.no_grad():
        for name, buf in model.named_buffers():
            if name.endswith("running_var"):
                buf.uniform_(0.5, 2.0)
    path = tmp_path_factory.mktemp("i3d") / CHECKPOINT
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def i3d(checkpoint):
    return I3D(weights=checkpoint, crop=112, batch_size=2)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    """4.2 s at 25 fps: 105 frames."""
    return write_video(tmp_path_factory.mktemp("i3d-media") / "v.mp4", frames(105), fps=25)


def test_parameter_names_follow_the_converted_kinetics_weights():
    state = _build_model().state_dict()
    for key in ("Conv3d_1a_7x7.conv3d.weight", "Conv3d_1a_7x7.bn.running_mean", "Conv3d_2c_3x3.bn.weight",
                "Mixed_3b.b0.conv3d.weight", "Mixed_3b.b1a.bn.running_var", "Mixed_3b.b1b.conv3d.weight",
                "Mixed_4f.b2a.conv3d.weight", "Mixed_5c.b2b.bn.bias", "Mixed_5c.b3b.conv3d.weight",
                "logits.conv3d.weight", "logits.conv3d.bias"):
        assert key in state
    assert not any(".b3a." in k or k.startswith("MaxPool") for k in state)  # pools have no parameters
    assert state["Conv3d_1a_7x7.conv3d.weight"].shape == (64, 3, 7, 7, 7)
    assert state["Mixed_5c.b1b.conv3d.weight"].shape == (384, 192, 3, 3, 3)
    assert state["logits.conv3d.weight"].shape == (400, 1024, 1, 1, 1)
    assert sum(v.numel() for k, v in state.items() if "running" not in k and "num_batches" not in k) == 12_697_264


def test_endpoint_shapes_follow_the_paper_at_64x224x224():
    """Shape propagation on the meta device: no compute, exact TF "same" arithmetic."""
    assert same_padding(224, 7, 2) == (2, 3) and same_padding(56, 3, 2) == (0, 1) and same_padding(8, 2, 2) == (0, 0)
    with torch.device("meta"):
        model = _build_model().eval()
    shapes = {}
    for name, child in model.named_children():
        child.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape[1:])))
    with torch.inference_mode():
        out = model(torch.empty(1, 3, 64, 224, 224, device="meta"))
    assert tuple(out.shape) == (1, 1024)
    assert shapes["Conv3d_1a_7x7"] == (64, 32, 112, 112)
    assert shapes["MaxPool3d_3a_3x3"] == (192, 32, 28, 28)
    assert shapes["Mixed_3c"] == (480, 32, 28, 28)
    assert shapes["MaxPool3d_4a_3x3"] == (480, 16, 14, 14)
    assert shapes["Mixed_4f"] == (832, 16, 14, 14)
    assert shapes["Mixed_5c"] == (1024, 8, 7, 7)


def test_saved_weights_load_back_by_path_strictly(checkpoint, i3d, tmp_path):
    reference = _build_model()
    reference.load_state_dict(torch.load(checkpoint, weights_only=True), strict=True)
    for key, value in reference.state_dict().items():
        assert torch.equal(value, i3d.model.state_dict()[key]), key
    state = torch.load(checkpoint, weights_only=True)
    state["Mixed_3b.b3a.conv3d.weight"] = torch.zeros(1)  # an unexpected name is an error, not ignored
    torch.save(state, tmp_path / "extra.pt")
    with pytest.raises(MissingWeightsError, match="do not load.*Unexpected key"):
        I3D(weights=tmp_path / "extra.pt")
    (tmp_path / "garbage.pt").write_bytes(b"not a checkpoint" * 64)
    with pytest.raises(MissingWeightsError, match="not a readable PyTorch checkpoint"):
        I3D(weights=tmp_path / "garbage.pt")


def test_stacks_of_64_frames_give_1024d_features_at_stack_centres(i3d, video):
    track = i3d.extract(RawItem(id="v", source="test", media={"video": str(video)}))
    # 105 frames: one full stack (frames 0-63) and a 41-frame tail (>= 32: padded with its last frame).
    assert track.values.shape == (2, 1024) and track.values.dtype == np.float32
    assert np.allclose(track.times, [32 / 25, (64 + 41 / 2) / 25])
    assert np.isfinite(track.values).all() and not np.allclose(track.values[0], track.values[1])
    assert track.meta["dim"] == 1024 and track.meta["frames_per_stack"] == 64 and track.meta["fps"] == 25
    assert len(track.meta["weights_sha256"]) == 64


def test_batch_size_does_not_change_values(i3d):
    stacks = np.random.default_rng(0).integers(0, 256, (2, 16, 48, 48, 3), dtype=np.uint8)
    single = np.concatenate([i3d.encode_stacks(s[None]) for s in stacks])
    assert np.allclose(single, i3d.encode_stacks(stacks), rtol=1e-4, atol=1e-5)


def test_two_second_clips_and_the_tail_rule(checkpoint, video, tmp_path):
    clips = I3D(weights=checkpoint, mode="clip2s", crop=112)
    stacks = list(clips.iter_stacks(video))
    # 105 frames in 50-frame clips: two full clips; the 5-frame tail (< 25) is dropped.
    assert [t for t, _ in stacks] == [1.0, 3.0]
    assert all(s.shape == (50, 112, 112, 3) for _, s in stacks)
    short = write_video(tmp_path / "short.mp4", frames(10), fps=25)
    (t, s), = clips.iter_stacks(short)  # shorter than half a clip, but the whole video: kept
    assert t == pytest.approx(0.2) and s.shape == (50, 112, 112, 3)
    assert np.array_equal(s[9], s[49])  # padded by repeating the last frame


def test_missing_weights_name_the_file_and_the_flag(tmp_path, monkeypatch):
    monkeypatch.setenv("VSUMHUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(MissingWeightsError) as info:
        I3D()
    for part in (CHECKPOINT, "--weights i3d=PATH", "pytorch-i3d", str(tmp_path / "empty-cache" / "i3d")):
        assert part in str(info.value)
    with pytest.raises(MissingWeightsError, match="does not exist"):
        I3D(weights=tmp_path / "nope.pt")
    with pytest.raises(ValueError, match="unknown I3D mode"):
        I3D(weights=tmp_path / "nope.pt", mode="stack16")


def test_items_without_a_readable_video_are_item_errors(i3d, tmp_path):
    with pytest.raises(ItemError) as info:
        i3d.extract(RawItem(id="none", source="test"))
    assert info.value.kind == "no_video"
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"\x00" * 2048)
    with pytest.raises(ItemError) as info:
        i3d.extract(RawItem(id="bad", source="test", media={"video": str(garbage)}))
    assert info.value.kind == "bad_media"


@pytest.mark.slow
def test_full_size_224_stack(checkpoint, video):
    track = I3D(weights=checkpoint).extract(RawItem(id="v", source="test", media={"video": str(video)}))
    assert track.values.shape == (2, 1024) and track.meta["crop"] == 224 and track.meta["short_side"] == 256
