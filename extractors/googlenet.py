"""GoogLeNet pool5 features (torchvision, ImageNet weights), 1024-d: the visual feature of the eccv16 benchmarks.

Sampling: every 15th decoded frame by default (frames 0, 15, 30, ...: the ``picks`` of the eccv16
TVSum/SumMe files; they are recorded in the track's ``meta["picks"]``), or ``fps`` when given.

Preprocessing takes its steps and numbers from torchvision's ``GoogLeNet_Weights.IMAGENET1K_V1.transforms()``:
resize the shorter side to 256 (bilinear, antialiased), centre crop 224x224, scale to [0, 1], normalise
with the ImageNet mean/std. It runs on uint8 tensor batches with torchvision's uint8 resize kernel,
which reproduces PIL's resize (what those transforms do to a PIL image, as in torchvision's ImageNet
evaluation) to within one grey level on ~0.1% of values; the float path the transforms take on a
tensor differs from PIL on ~11% of values and is 10x slower on 720p frames. The network is
built with ``transform_input=True``, as ``googlenet(weights=IMAGENET1K_V1)`` builds it: these weights
were ported from the original (Inception v1) model, which expects inputs scaled as (x - 0.5) / 0.5,
so the model's first step maps the ImageNet-normalised input back to that scaling. Dropping it (or
normalising twice) silently gives different features. Features are the global average pool's output,
before dropout and the classifier. They are torchvision's GoogLeNet, not the model the eccv16 h5
features were computed with: the same architecture and layer, not the same numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from extractors.base import VisualExtractor, library_versions
from extractors.weights import explicit_path, missing, offline, weights_checksum, weights_flag


class GoogLeNet(VisualExtractor):
    name = "googlenet"

    def __init__(self, weights=None, device: str = "cpu", fps: float | None = None, every_nth: int | None = 15,
                 batch_size: int = 32):
        import torch
        from torchvision.models import GoogLeNet_Weights, googlenet

        if fps is not None:  # a rate replaces the every-15th-frame default
            every_nth = None
        if fps is not None and fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        if fps is None and (every_nth is None or every_nth < 1):
            raise ValueError(f"every_nth must be a positive integer, got {every_nth}")
        self.fps, self.every_nth, self.batch_size = fps, every_nth, batch_size
        self.device = torch.device(device)
        self.weights_enum = GoogLeNet_Weights.IMAGENET1K_V1
        self.transform = self.weights_enum.transforms()  # the numbers preprocess uses: sizes, mean, std
        path = self._resolve(weights)
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            net = googlenet(weights=None, aux_logits=False, transform_input=True, init_weights=False)
            net.fc = torch.nn.Identity()  # pool5: the 1024-d average pool, dropout is a no-op in eval
            # The published file also holds the auxiliary heads and the 1000-class layer; pool5 needs neither.
            net.load_state_dict({k: v for k, v in state.items() if not k.startswith(("aux1.", "aux2.", "fc."))})
        except Exception as e:  # unreadable file, wrong architecture: many types
            raise missing(f"GoogLeNet weights at {path}", "loading failed", weights_flag(self.name), e) from e
        self.model = net.to(self.device).eval()
        self._sha = weights_checksum(path)

    def _resolve(self, weights) -> Path:
        """Explicit path -> torchvision's cache ($TORCH_HOME/hub/checkpoints) -> download (not offline)."""
        import torch.hub

        what = "GoogLeNet weights (torchvision IMAGENET1K_V1)"
        if weights:
            return explicit_path(weights, what, weights_flag(self.name))
        url = self.weights_enum.url
        cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(url).name
        if cached.exists():
            return cached
        if offline():
            raise missing(what, f"not in the cache {cached.parent}", weights_flag(self.name))
        try:
            torch.hub.load_state_dict_from_url(url, progress=False, check_hash=True)
        except Exception as e:  # network and hash errors surface as many types
            raise missing(what, f"not in the cache {cached.parent}", weights_flag(self.name), e) from e
        return cached

    @property
    def dim(self) -> int:
        return 1024

    @property
    def sampling(self) -> str:
        if not self.every_nth:
            return f"{self.fps:g} fps"
        n = self.every_nth
        return "every frame" if n == 1 else f"every {n}{'th' if n % 100 in (11, 12, 13) else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')} frame"

    def config(self) -> dict:
        return {"extractor": self.name, "model": "torchvision googlenet IMAGENET1K_V1, pool5",
                "weights_sha256": self._sha, "fps": self.fps, "every_nth": self.every_nth,
                "sampling": self.sampling, "image_size": 224,
                "preprocess": "IMAGENET1K_V1 transforms: shorter side 256 (bilinear, antialias, uint8 kernel), "
                              "centre crop 224, ImageNet mean/std; transform_input=True"}

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
