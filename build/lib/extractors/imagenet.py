"""What torchvision's ImageNet CNN extractors share: the checkpoint lookup, the preprocessing, the sampling text.

GoogLeNet (eccv16's pool5) and ResNet-101 (MHMS's pool) differ only in the network and its head.
Preprocessing takes its steps and numbers from the weights' own ``transforms()`` (shorter side 256,
bilinear with antialiasing, centre crop 224, ImageNet mean / std) and runs them on uint8 tensor batches
with torchvision's uint8 resize kernel, which reproduces PIL's resize (what those transforms do to a
PIL image, as in torchvision's ImageNet evaluation) to within one grey level on ~0.1% of values; the
float path the transforms take on a tensor differs from PIL on ~11% of values and is 10x slower on
720p frames.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from extractors.base import VisualExtractor, library_versions
from extractors.weights import explicit_path, missing, offline, weights_checksum, weights_flag

PREPROCESS = ("IMAGENET1K_V1 transforms: shorter side 256 (bilinear, antialias, uint8 kernel), centre crop 224, "
              "ImageNet mean/std")


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


def sampling_text(fps: float | None, every_nth: int | None) -> str:
    """'2 fps', 'every frame', 'every 2nd frame', 'every 15th frame', 'every 21st frame' (for cards and meta)."""
    if not every_nth:
        return f"{fps:g} fps"
    n = every_nth
    if n == 1:
        return "every frame"
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"every {n}{suffix} frame"


class ImageNetCNN(VisualExtractor):
    """A torchvision ImageNet classifier up to its pool. Subclasses set ``fps`` / ``every_nth`` and call
    ``_load`` in ``__init__``, and describe their network in ``model_description``."""

    model_description = ""
    preprocess_description = PREPROCESS

    def _load(self, weights, device: str, weights_enum, what: str, build) -> None:
        """The checkpoint (``torchvision_checkpoint``) through ``build(state_dict) -> network up to its pool``;
        a file that does not load is a MissingWeightsError naming the flag."""
        import torch

        self.device = torch.device(device)
        self.weights_enum = weights_enum
        self.transform = weights_enum.transforms()  # the numbers preprocess uses: sizes, mean, std
        flag = weights_flag(self.name)
        path = torchvision_checkpoint(weights_enum, weights, f"{what} (torchvision IMAGENET1K_V1)", flag)
        try:
            net = build(torch.load(path, map_location="cpu", weights_only=True))
        except Exception as e:  # unreadable file, another architecture: many types
            raise missing(f"{what} at {path}", "loading failed", flag, e) from e
        self.model = net.to(self.device).eval()
        self._sha = weights_checksum(path)

    @property
    def sampling(self) -> str:
        return sampling_text(self.fps, self.every_nth)

    def config(self) -> dict:
        return {"extractor": self.name, "model": self.model_description, "weights_sha256": self._sha,
                "fps": self.fps, "every_nth": self.every_nth, "sampling": self.sampling, "image_size": 224,
                "preprocess": self.preprocess_description}

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
