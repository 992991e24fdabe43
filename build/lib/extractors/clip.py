"""CLIP image features with open_clip: ViT-B/32 with OpenAI weights (QuickGELU) by default, 512-d.

Preprocessing matches open_clip's own for these weights: resize the shorter side to 224
(bicubic, antialiased), centre crop 224x224, OpenAI mean/std. It runs on batched tensors
instead of PIL images. Features are the image tower's output (not normalised).
"""

from __future__ import annotations


import numpy as np

from extractors.base import TextExtractor, VisualExtractor, library_versions
from extractors.weights import cache_root, explicit_path, missing, weights_checksum, weights_flag

OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)


class ClipImage(VisualExtractor):
    name = "clip"

    def __init__(self, weights=None, fps: float = 1.0, device: str = "cpu", batch_size: int = 32,
                 model: str = "ViT-B-32-quickgelu", pretrained: str = "openai"):
        import open_clip
        import torch

        self.fps, self.batch_size, self.model_name, self.pretrained = fps, batch_size, model, pretrained
        self.device = torch.device(device)
        what = f"CLIP weights {model} ({pretrained})"
        if weights:
            path = explicit_path(weights, what, weights_flag(self.name))
            source = str(path)
        else:  # open_clip looks in its cache, then downloads (HF_HUB_OFFLINE=1 stops that)
            path, source = None, pretrained
        try:
            net, _, _ = open_clip.create_model_and_transforms(model, pretrained=source, cache_dir=str(cache_root() / "open_clip"))
        except Exception as e:  # download or checkpoint errors surface as many types
            raise missing(what, "loading failed" if path else "not in the cache", weights_flag(self.name), e) from e
        self.model = net.to(self.device).eval()
        self.size = int(self.model.visual.image_size[0] if isinstance(self.model.visual.image_size, (tuple, list)) else self.model.visual.image_size)
        self._sha = weights_checksum(path) if path else None

    @property
    def dim(self) -> int:
        return int(self.model.visual.output_dim)

    def config(self) -> dict:
        return {"extractor": self.name, "model": self.model_name, "pretrained": self.pretrained,
                "weights_sha256": self._sha, "fps": self.fps, "image_size": self.size,
                "preprocess": "shorter side to size (bicubic, antialias), centre crop, OpenAI mean/std"}

    def meta(self) -> dict:
        return {**self.config(), "dim": self.dim,
                "library_versions": library_versions("open_clip_torch", "torch", "torchvision", "av")}

    def preprocess(self, frames: np.ndarray):
        import torch
        import torchvision.transforms.v2.functional as F

        x = torch.from_numpy(np.require(frames, np.uint8, ["C_CONTIGUOUS", "WRITEABLE"])).permute(0, 3, 1, 2)
        x = F.resize(x, self.size, interpolation=F.InterpolationMode.BICUBIC, antialias=True)
        x = F.center_crop(x, [self.size, self.size])
        x = x.float().div_(255).clamp_(0, 1)
        return F.normalize(x, OPENAI_MEAN, OPENAI_STD).to(self.device)

    def encode_frames(self, frames: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.model.encode_image(self.preprocess(frames)).float().cpu().numpy()


class ClipText(TextExtractor):
    """CLIP's text tower (open_clip ViT-B/32, OpenAI weights): one 512-d vector per sentence, the projected
    end-of-text token (``encode_text``), as the query feature of QVHighlights-style datasets. Texts
    longer than CLIP's 77 tokens are cut (open_clip's tokenizer). The same checkpoint file as ``clip``."""

    name = "cliptext"

    def __init__(self, weights=None, device: str = "cpu", batch_size: int = 64,
                 model: str = "ViT-B-32-quickgelu", pretrained: str = "openai"):
        import open_clip
        import torch

        self.batch_size, self.model_name, self.pretrained = batch_size, model, pretrained
        self.device = torch.device(device)
        what = f"CLIP weights {model} ({pretrained})"
        path = explicit_path(weights, what, weights_flag(self.name)) if weights else None
        try:
            net, _, _ = open_clip.create_model_and_transforms(model, pretrained=str(path) if path else pretrained,
                                                              cache_dir=str(cache_root() / "open_clip"))
        except Exception as e:  # download or checkpoint errors surface as many types
            raise missing(what, "loading failed" if path else "not in the cache", weights_flag(self.name), e) from e
        self.model = net.to(self.device).eval()
        self.tokenizer = open_clip.get_tokenizer(model)
        self._sha = weights_checksum(path) if path else None

    @property
    def dim(self) -> int:
        return int(self.model.text_projection.shape[1])

    def config(self) -> dict:
        return {"extractor": self.name, "model": self.model_name, "pretrained": self.pretrained,
                "weights_sha256": self._sha, "sampling": "per sentence",
                "pooling": "end-of-text token, projected (open_clip encode_text), not normalised"}

    def meta(self) -> dict:
        return {**self.config(), "dim": self.dim, "library_versions": library_versions("open_clip_torch", "torch")}

    def encode_texts(self, texts) -> np.ndarray:
        import torch

        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = []
        with torch.inference_mode():
            for i in range(0, len(texts), self.batch_size):
                tokens = self.tokenizer(list(texts[i:i + self.batch_size])).to(self.device)
                out.append(self.model.encode_text(tokens).float().cpu().numpy())
        return np.concatenate(out)
