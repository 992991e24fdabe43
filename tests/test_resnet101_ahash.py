"""ResNet-101 pool (random torchvision weights) and VMSMO's average hash: shapes, sampling, what the
features are, weights resolution, and the hash against a hand-made image."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torchvision.models import resnet101

from collectors.records import RawItem
from collectors.synthetic import index_frame, read_index, write_video
from extractors import ahash
from extractors.base import MissingWeightsError
from extractors.registry import get_extractor
from extractors.resnet101 import ResNet101


@pytest.fixture(scope="module")
def resnet_weights(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("resnet101") / "resnet101-random.pth"
    torch.save(resnet101(weights=None).state_dict(), path)
    return path


@pytest.fixture(scope="module")
def index_video(tmp_path_factory):
    """25 frames at 10 fps, frame k showing k."""
    path = tmp_path_factory.mktemp("video") / "index10.mp4"
    return write_video(path, (index_frame(k, 160, 96) for k in range(25)), fps=10)


def test_resnet101_gives_the_2048d_average_pool_of_the_sampled_frames(resnet_weights, index_video, monkeypatch):
    ext = get_extractor("resnet101", "visual", weights=str(resnet_weights), every_nth=20)
    seen = []
    encode = ext.encode_frames
    monkeypatch.setattr(ext, "encode_frames", lambda frames: seen.extend(frames) or encode(frames))
    track = ext.extract(RawItem(id="idx", source="test", media={"video": str(index_video)}))
    assert track.values.shape == (2, 2048) and track.values.dtype == np.float32
    assert [read_index(f) for f in seen] == [0, 20] and track.meta["picks"] == [0, 20]
    np.testing.assert_allclose(track.times, [0.0, 2.0])
    assert (track.values >= 0).all() and track.values.std() > 0  # after a ReLU and an average; not constant
    assert track.meta["dim"] == 2048 and len(track.meta["weights_sha256"]) == 64
    assert ext.config()["sampling"] == "every 20th frame"
    # the feature is torchvision's network up to the pool: the full model's logits = its fc(feature)
    with torch.device("meta"):  # no random initialisation: the file's tensors are assigned
        full = resnet101(weights=None)
    full.load_state_dict(torch.load(resnet_weights, weights_only=True), assign=True)
    x = torch.randn(2, 3, 64, 64)  # a small input is enough for the head (the pool is adaptive)
    with torch.inference_mode():
        torch.testing.assert_close(full.eval()(x), full.fc(ext.model(x)), rtol=1e-4, atol=1e-4)


def test_resnet101_weights_offline_and_bad_files_name_the_flag(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("VSUMHUB_OFFLINE", "1")
    with pytest.raises(MissingWeightsError, match=r"--weights resnet101=PATH"):
        ResNet101()
    with pytest.raises(MissingWeightsError, match="does not exist"):
        ResNet101(weights=tmp_path / "nope.pth")
    wrong = tmp_path / "wrong.pth"
    torch.save({"conv1.weight": torch.zeros(1)}, wrong)
    with pytest.raises(MissingWeightsError, match=r"loading failed.*--weights resnet101=PATH"):
        ResNet101(weights=wrong)
    with pytest.raises(ValueError, match="not both"):
        ResNet101(weights=wrong, fps=1.0, every_nth=10)


def test_average_hash_is_vmsmo_rule_on_a_hand_made_image():
    """Left half dark, right half bright: after resizing to 128 x 64 exactly the right half is above the mean."""
    img = np.zeros((96, 160, 3), np.uint8)
    img[:, 80:] = (200, 180, 160)
    bits = ahash.average_hash_bits(img[None])[0].reshape(64, 128)
    assert bits[:, 64:].all() and not bits[:, :64].any()
    # OpenCV's grey weights, rounded: (200, 180, 160) -> 0.299*200 + 0.587*180 + 0.114*160 = 183.8 -> 184
    assert ahash.grey_thumbnails(img[None])[0, 0, -1] == 184
    packed = ahash.pack(bits.reshape(1, -1))
    assert packed.shape == (1, 512) and packed.dtype == np.float32
    assert np.array_equal(ahash.unpack(packed)[0], bits.reshape(-1))  # exact round trip
    flipped = ahash.pack(~bits.reshape(1, -1))
    assert ahash.hamming(np.concatenate([packed, flipped]), packed[0]).tolist() == [0, 8192]
    with pytest.raises(ValueError, match="integers"):
        ahash.unpack(packed + 0.5)


def test_average_hash_track_finds_the_cover_frame(index_video, tmp_path):
    """The thumbnail extractor (a cover image through ahash) and the frame track share one rule: the cover
    saved from frame 20 is nearest (Hamming) to the frame sampled there."""
    from PIL import Image

    from extractors.inputs import ThumbnailFrames

    cover = tmp_path / "cover.jpg"
    Image.fromarray(index_frame(20, 320, 192)).save(cover, quality=80)  # another size, JPEG-compressed
    item = RawItem(id="idx", source="test", media={"video": str(index_video), "thumbnail": str(cover)})
    frames = get_extractor("ahash", "visual", every_nth=5).extract(item)
    cover_hash = ThumbnailFrames("ahash", {"every_nth": 5}).extract(item)
    assert frames.values.shape == (5, 512) and cover_hash.values.shape == (1, 512)
    distances = ahash.hamming(frames.values, cover_hash.values[0])
    assert int(np.argmin(distances)) == 4 and distances[4] < 100  # frame 20 = the 5th sample
    with pytest.raises(ValueError, match="no weights"):
        ahash.AverageHash(weights="x")


@pytest.mark.parametrize("fps, every_nth, text", [(2.0, None, "2 fps"), (None, 1, "every frame"), (None, 2, "every 2nd frame"),
                                                  (None, 11, "every 11th frame"), (None, 15, "every 15th frame"),
                                                  (None, 21, "every 21st frame"), (None, 103, "every 103rd frame")])
def test_sampling_is_said_in_english_in_both_imagenet_extractors(fps, every_nth, text):
    from extractors.imagenet import sampling_text

    assert sampling_text(fps, every_nth) == text
