"""ResNet-101 pool features (torchvision, ImageNet weights), 2048-d: the frame and image feature of MHMS.

MHMS (section 3.5) takes its image features from "a pre-trained ResNet-101"; VMSMO's own release
code used a ResNet of the same family (``resnet152_img.py``). This is torchvision's ResNet-101 with
``IMAGENET1K_V1`` weights; the feature is the global average pool's output (the 2048-d vector
before the 1000-class layer). MHMS pairs it with Faster R-CNN regions, which are not extracted here:
one vector per frame.

Sampling: ``fps`` (default 1) or ``every_nth`` decoded frame (recorded in ``meta["picks"]``), as the
GoogLeNet extractor samples. Preprocessing takes its steps and numbers from
``ResNet101_Weights.IMAGENET1K_V1.transforms()`` (shorter side 256, bilinear with antialiasing,
centre crop 224, ImageNet mean / std) and runs them on uint8 tensor batches, as extractors.googlenet
does (same kernels, same reasons).

Weights: ``weights=PATH`` (a state dict of torchvision's resnet101, e.g. the published
``resnet101-63fe2227.pth``), else torchvision's cache (``$TORCH_HOME/hub/checkpoints``), else a
download; offline without them a MissingWeightsError names ``--weights resnet101=PATH``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from extractors.base import VisualExtractor, library_versions
from extractors.weights import explicit_path, missing, offline, weights_checksum, weights_flag

DIM = 2048


def torchvision_checkpoint(weights_enum, weights, what: str, flag: str) -> Path:
    """Explicit path -> torchvision's cache ($TORCH_HOME/hub/checkpoints) -> download (not offline)."""
    import torch.hub

    if weights:
        return explicit_path(weights, what, flag)
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights_enum.url).name
    if cached.exists():
        return cached
    if offline():
        raise missing(what, f"not in the cache {cached.parent}", flag)
    try:
        torch.hub.load_state_dict_from_url(weights_enum.url, progress=False, check_hash=True)
    except Exception as e:  # network and hash errors surface as many types
        raise missing(what, f"not in the cache {cached.parent}", flag, e) from e
    return cached


class ResNet101(VisualExtractor):
    name = "resnet101"

    def __init__(self, weights=None, device: str = "cpu", fps: float | None = None, every_nth: int | None = None,
                 batch_size: int = 16):
        import torch
        from torchvision.models import ResNet101_Weights, resnet101

        if fps is not None and every_nth is not None:
            raise ValueError(f"give fps or every_nth, not both (fps={fps}, every_nth={every_nth})")
        if every_nth is not None and (int(every_nth) != every_nth or every_nth < 1):
            raise ValueError(f"every_nth must be a positive integer, got {every_nth}")
        if fps is None and every_nth is None:
            fps = 1.0
        if fps is not None and fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.fps, self.every_nth, self.batch_size = fps, every_nth, batch_size
        self.device = torch.device(device)
        self.weights_enum = ResNet101_Weights.IMAGENET1K_V1
        self.transform = self.weights_enum.transforms()
        what = "ResNet-101 weights (torchvision IMAGENET1K_V1)"
        path = torchvision_checkpoint(self.weights_enum, weights, what, weights_flag(self.name))
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            net = resnet101(weights=None)
            net.load_state_dict(state)
            net.fc = torch.nn.Identity()  # the 2048-d average pool
        except Exception as e:  # unreadable file, another architecture: many types
            raise missing(f"{what} at {path}", "loading failed", weights_flag(self.name), e) from e
        self.model = net.to(self.device).eval()
        self._sha = weights_checksum(path)

    @property
    def dim(self) -> int:
        return DIM

    @property
    def sampling(self) -> str:
        return f"every {self.every_nth}th frame" if self.every_nth else f"{self.fps:g} fps"

    def config(self) -> dict:
        return {"extractor": self.name, "model": "torchvision resnet101 IMAGENET1K_V1, global average pool",
                "weights_sha256": self._sha, "fps": self.fps, "every_nth": self.every_nth,
                "sampling": self.sampling, "image_size": 224,
                "preprocess": "IMAGENET1K_V1 transforms: shorter side 256 (bilinear, antialias, uint8 kernel), "
                              "centre crop 224, ImageNet mean/std"}

    def meta(self) -> dict:
        return {**self.config(), "dim": self.dim, "library_versions": library_versions("torch", "torchvision", "av")}

    def preprocess(self, frames: np.ndarray):
        import torch
        import torchvision.transforms.v2.functional as F

        t = self.transform
        x = torch.from_numpy(np.require(frames, np.uint8, ["C_CONTIGUOUS", "WRITEABLE"])).permute(0, 3, 1, 2)
        x = F.resize(x, t.resize_size, interpolation=t.interpolation, antialias=t.antialias)  # stays uint8
        x = F.center_crop(x, t.crop_size)
        return F.normalize(F.to_dtype(x, torch.float32, scale=True), t.mean, t.std).to(self.device)

    def encode_frames(self, frames: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.model(self.preprocess(frames)).float().cpu().numpy()
