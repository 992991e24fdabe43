"""3D ResNeXt-101: the real architecture with random weights, loaded strictly by path with the script's names.

The default run uses 32-px crops (the network is fully convolutional, the pooling global), about 12x
cheaper than 112 on CPU; the 112-px path runs in the slow test.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from collectors.records import ItemError, RawItem
from collectors.synthetic import write_video
from extractors.base import MissingWeightsError
from extractors.resnext3d import CHECKPOINT, MEAN, ResNeXt3D, _build_model, load_checkpoint, loop_pad


def frames(n: int, width: int = 96, height: int = 64):
    """Frames whose first pixel row encodes the frame number, on a moving gradient."""
    x = np.arange(width)[None, :, None]
    for i in range(n):
        f = np.broadcast_to(((x + 3 * i) % 256).astype(np.uint8), (height, width, 3)).copy()
        yield f


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A random-weight model saved as the script saved resnext-101-kinetics.pth: {"arch", "state_dict"} from
    DataParallel (``module.`` names), with BatchNorm statistics that are not the identity."""
    torch.manual_seed(0)
    model = _build_model()
    with torch.no_grad():
        for name, buf in model.named_buffers():
            if name.endswith("running_var"):
                buf.uniform_(0.5, 2.0)
    path = tmp_path_factory.mktemp("resnext3d") / CHECKPOINT
    torch.save({"arch": "resnext-101", "state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}}, path)
    return path


@pytest.fixture(scope="module")
def extractor(checkpoint):
    return ResNeXt3D(weights=checkpoint, crop=32, batch_size=2)


def test_parameter_names_and_sizes_follow_the_kinetics_checkpoint():
    state = _build_model().state_dict()
    for key in ("conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight", "layer1.0.bn2.running_var",
                "layer1.0.downsample.0.weight", "layer1.0.downsample.1.bias", "layer2.0.downsample.0.weight",
                "layer3.22.conv3.weight", "layer4.2.bn3.weight", "fc.weight", "fc.bias"):
        assert key in state, key
    assert not any(k.startswith(("layer1.1.downsample", "maxpool", "avgpool", "relu")) for k in state)
    assert state["conv1.weight"].shape == (64, 3, 7, 7, 7)
    assert state["layer1.0.conv2.weight"].shape == (128, 4, 3, 3, 3)  # 32 groups of 4 channels
    assert state["layer4.0.conv2.weight"].shape == (1024, 32, 3, 3, 3)
    assert state["layer4.0.downsample.0.weight"].shape == (2048, 1024, 1, 1, 1)
    assert state["fc.weight"].shape == (400, 2048)
    assert len([k for k in state if k.startswith("layer3.") and k.endswith(".conv1.weight")]) == 23
    assert sum(v.numel() for k, v in state.items() if "running" not in k and "num_batches" not in k) == 48_340_816


def test_shapes_at_16x112x112_follow_the_paper():
    """Shape propagation on the meta device: the last map is 1 x 4 x 4, pooled to 2048."""
    with torch.device("meta"):
        model = _build_model().eval()
    shapes = {}
    for name, child in model.named_children():
        child.register_forward_hook(lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape[1:])))
    with torch.inference_mode():
        out = model(torch.empty(2, 3, 16, 112, 112, device="meta"))
    assert tuple(out.shape) == (2, 2048)
    assert shapes["conv1"] == (64, 16, 56, 56) and shapes["maxpool"] == (64, 8, 28, 28)
    assert shapes["layer1"] == (256, 8, 28, 28) and shapes["layer2"] == (512, 4, 14, 14)
    assert shapes["layer3"] == (1024, 2, 7, 7) and shapes["layer4"] == (2048, 1, 4, 4)


def test_the_scripts_checkpoint_format_loads_strictly_and_nothing_else(tmp_path):
    small = lambda: _build_model(blocks=(1, 1, 1, 1))  # same names, fewer blocks: cheap to save and load
    torch.manual_seed(1)
    source = small()
    path = tmp_path / "small.pth"
    torch.save({"arch": "resnext-101", "state_dict": {f"module.{k}": v for k, v in source.state_dict().items()}}, path)
    target = small()
    load_checkpoint(target, path)
    assert all(torch.equal(v, target.state_dict()[k]) for k, v in source.state_dict().items())
    extra = {**source.state_dict(), "layer1.0.conv4.weight": torch.zeros(1)}
    torch.save(extra, tmp_path / "extra.pth")
    with pytest.raises(RuntimeError, match="Unexpected key"):
        load_checkpoint(small(), tmp_path / "extra.pth")
    missing = {k: v for k, v in source.state_dict().items() if k != "layer2.0.downsample.1.weight"}
    torch.save(missing, tmp_path / "missing.pth")
    with pytest.raises(RuntimeError, match="Missing key"):
        load_checkpoint(small(), tmp_path / "missing.pth")


def test_clips_of_16_frames_follow_the_scripts_range_rule(extractor, tmp_path):
    # 48 frames: the script's range(1, 48 - 15, 16) = [1, 17]: two clips, the one ending on the last frame dropped.
    video = write_video(tmp_path / "v48.mp4", frames(48), fps=24)
    clips = list(extractor.iter_clips(video))
    assert [round(t, 6) for t, _ in clips] == [round(8 / 24, 6), round(24 / 24, 6)]  # middle of [0, 16), [16, 32)
    assert all(c.shape == (16, 32, 32, 3) and c.dtype == np.uint8 for _, c in clips)
    assert not np.array_equal(clips[0][1][0], clips[0][1][1])  # consecutive frames, not one repeated
    # 49 frames: a frame follows the third clip, so it is kept.
    assert len(list(extractor.iter_clips(write_video(tmp_path / "v49.mp4", frames(49), fps=24)))) == 3


def test_a_video_of_16_frames_or_fewer_gives_one_loop_padded_clip(extractor, tmp_path):
    assert loop_pad([1, 2, 3], 7) == [1, 2, 3, 1, 2, 3, 1]
    (t, clip), = extractor.iter_clips(write_video(tmp_path / "v5.mp4", frames(5), fps=25))
    assert t == pytest.approx(2 / 25) and clip.shape == (16, 32, 32, 3)
    assert np.array_equal(clip[0], clip[5]) and np.array_equal(clip[4], clip[14])


def test_extract_gives_2048d_per_clip_with_the_sampling_rule_in_meta(extractor, tmp_path):
    video = write_video(tmp_path / "v.mp4", frames(40), fps=20)  # 40 frames: 2 clips
    track = extractor.extract(RawItem(id="v", source="test", media={"video": str(video)}))
    assert track.values.shape == (2, 2048) and track.values.dtype == np.float32
    assert np.allclose(track.times, [0.4, 1.2])
    assert np.isfinite(track.values).all() and not np.allclose(track.values[0], track.values[1])
    meta = track.meta
    assert meta["dim"] == 2048 and meta["frames_per_clip"] == 16 and "floor((n - 1) / 16)" in meta["sampling"]
    assert len(meta["weights_sha256"]) == 64 and meta["crop"] == 32
    # the clip encoder subtracts the Kinetics mean, no scaling: a clip of exactly the mean is all zeros in
    mean_clip = np.broadcast_to(np.round(MEAN).astype(np.uint8), (1, 16, 32, 32, 3))
    zeros = torch.zeros(1, 3, 16, 32, 32) + (torch.tensor(np.round(MEAN)) - torch.tensor(MEAN)).view(1, 3, 1, 1, 1)
    with torch.inference_mode():
        assert np.allclose(extractor.encode_clips(mean_clip), extractor.model(zeros.float()).numpy(), atol=1e-5)


def test_missing_weights_and_bad_items_are_clear_errors(extractor, tmp_path, monkeypatch):
    monkeypatch.setenv("VSUMHUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(MissingWeightsError) as info:
        ResNeXt3D()
    for part in (CHECKPOINT, "--weights resnext3d=PATH", "video-classification-3d-cnn-pytorch"):
        assert part in str(info.value)
    (tmp_path / "garbage.pth").write_bytes(b"not a checkpoint" * 64)
    with pytest.raises(MissingWeightsError, match="not a readable PyTorch checkpoint"):
        ResNeXt3D(weights=tmp_path / "garbage.pth")
    with pytest.raises(ItemError) as e:
        extractor.extract(RawItem(id="none", source="test"))
    assert e.value.kind == "no_video"
    (tmp_path / "bad.mp4").write_bytes(b"\x00" * 4096)
    with pytest.raises(ItemError) as e:
        extractor.extract(RawItem(id="bad", source="test", media={"video": str(tmp_path / "bad.mp4")}))
    assert e.value.kind == "bad_media"


@pytest.mark.slow
def test_full_size_112_through_the_registry(checkpoint, tmp_path):
    from extractors.registry import get_extractor

    video = write_video(tmp_path / "v.mp4", frames(40, 160, 120), fps=20)
    ext = get_extractor("resnext3d", weights=checkpoint)
    track = ext.extract(RawItem(id="v", source="test", media={"video": str(video)}))
    assert track.values.shape == (2, 2048) and track.meta["crop"] == 112
    direct = ext.encode_clips(np.stack([c for _, c in ext.iter_clips(video)]))
    assert np.allclose(direct, track.values, atol=1e-5)
