"""3D ResNeXt-101 (Hara et al., CVPR 2018) trained on Kinetics-400: 2048-d per 16 frames, the How2 / VDF video feature.

The network is written here from the paper (table 1 of "Can Spatiotemporal 3D CNNs Retrace the History of 2D
CNNs and ImageNet?"): conv1 7x7x7 (stride 1, 2, 2) with 64 channels, a 3x3x3 max pool (stride 2), then
ResNeXt bottleneck blocks [3, 4, 23, 3] of cardinality 32 (1x1x1 -> grouped 3x3x3 -> 1x1x1, expansion 2:
widths 128/256, 256/512, 512/1024, 1024/2048), projection shortcuts (type B) where the shape changes,
BatchNorm after every convolution. Parameter names follow the public Kinetics checkpoint
``resnext-101-kinetics.pth`` (kenshohara/video-classification-3d-cnn-pytorch, ``models/resnext.py``),
whose ``state_dict`` (saved from DataParallel: ``module.`` prefixes, removed on load) loads with
strict=True: ``conv1.weight``, ``bn1.running_mean``, ``layer3.22.conv2.weight``, ``layer1.0.downsample.0.weight``,
``layer1.0.downsample.1.bias``, ``fc.weight``, ...

Feature: the output of the global average pool (the script's ``--mode feature``, ``last_fc=False``), 2048-d.
At 16 x 112 x 112 the last map is 1 x 4 x 4 and the script's AvgPool3d((1, 4, 4)) is exactly the mean
taken here.

Input, as that script prepares it (``main.py``, ``classify.py``, ``dataset.py``): every decoded frame at the
video's own rate (it dumps all frames with ffmpeg), the shorter side scaled to 112 (bilinear; here by the
decoder), a 112 x 112 centre crop, RGB in 0..255 minus the Kinetics mean (114.7748, 107.7354, 99.4750), no
division. Clips are 16 consecutive frames, non-overlapping, from the first frame; a clip is kept when at
least one frame follows it (the script's ``range(1, n - 15, 16)``): n frames give floor((n - 1) / 16) clips.
A clip's time is the middle of [first frame, frame after the clip). A video of 16 frames or fewer, for which
the script has no clip, gets one clip of its frames repeated in order (its ``LoopPadding``), timed at the
middle of its frames. Differences from the script: frames are not written to JPEG and read back, so values
differ slightly from the released How2 features.

``crop`` other than 112 exists for tests and quick looks only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from extractors.base import VisualExtractor, library_versions
from extractors.i3d import centre_crop
from extractors.weights import load_local_model, read_state_dict, weights_flag

CHECKPOINT = "resnext-101-kinetics.pth"
SOURCE = ("the pretrained models linked from kenshohara/video-classification-3d-cnn-pytorch on GitHub "
          "(ResNeXt-101, Kinetics)")
CLIP, CROP = 16, 112
MEAN = (114.7748, 107.7354, 99.4750)  # the script's mean.get_mean(), on the 0..255 scale
BLOCKS, CARDINALITY, EXPANSION = (3, 4, 23, 3), 32, 2
SAMPLING = ("16 consecutive decoded frames per clip at the video's own frame rate, non-overlapping from the first "
            "frame; a clip is kept when a frame follows it (floor((n - 1) / 16) clips of n frames); time = middle of "
            "[first frame, frame after the clip); a video of <= 16 frames: one loop-padded clip")


def _build_model(classes: int = 400, blocks=BLOCKS, cardinality: int = CARDINALITY):
    import torch
    from torch import nn

    class Bottleneck(nn.Module):
        """1x1x1 -> grouped 3x3x3 (stride here) -> 1x1x1, each with BatchNorm; ReLU after the sum."""

        def __init__(self, cin: int, planes: int, stride: int = 1, downsample=None):
            super().__init__()
            mid = cardinality * (planes // 32)
            self.conv1 = nn.Conv3d(cin, mid, kernel_size=1, bias=False)
            self.bn1 = nn.BatchNorm3d(mid)
            self.conv2 = nn.Conv3d(mid, mid, kernel_size=3, stride=stride, padding=1, groups=cardinality, bias=False)
            self.bn2 = nn.BatchNorm3d(mid)
            self.conv3 = nn.Conv3d(mid, planes * EXPANSION, kernel_size=1, bias=False)
            self.bn3 = nn.BatchNorm3d(planes * EXPANSION)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = downsample

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    class ResNeXt3D(nn.Module):
        """RGB [B, 3, T, H, W] (0..255 minus the mean) -> pooled features [B, 2048]; ``fc`` only loads checkpoints."""

        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv3d(3, 64, kernel_size=7, stride=(1, 2, 2), padding=3, bias=False)
            self.bn1 = nn.BatchNorm3d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool3d(kernel_size=3, stride=2, padding=1)
            cin = 64
            for i, (planes, n) in enumerate(zip((128, 256, 512, 1024), blocks), start=1):
                stride = 1 if i == 1 else 2
                layers = []
                for b in range(n):
                    down = None
                    if b == 0 and (stride != 1 or cin != planes * EXPANSION):  # shortcut type B: projection
                        down = nn.Sequential(nn.Conv3d(cin, planes * EXPANSION, kernel_size=1, stride=stride, bias=False),
                                             nn.BatchNorm3d(planes * EXPANSION))
                    layers.append(Bottleneck(cin, planes, stride if b == 0 else 1, down))
                    cin = planes * EXPANSION
                setattr(self, f"layer{i}", nn.Sequential(*layers))
            self.fc = nn.Linear(cardinality * 32 * EXPANSION, classes)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return torch.flatten(x.mean(dim=(2, 3, 4)), 1)

    return ResNeXt3D()


def load_checkpoint(model, path: Path) -> None:
    """The script's checkpoint ({"arch", "state_dict"} with ``module.`` names) or a bare state dict, strictly."""
    model.load_state_dict(read_state_dict(path), strict=True)


def loop_pad(frames: list, size: int = CLIP) -> list:
    """The script's LoopPadding: repeat the frames in order until there are ``size``."""
    return [frames[i % len(frames)] for i in range(size)]


class ResNeXt3D(VisualExtractor):
    """3D ResNeXt-101 (Kinetics) features, 2048-d per 16-frame clip at the native frame rate, 112 px."""

    name = "resnext3d"

    def __init__(self, weights=None, device: str = "cpu", batch_size: int = 8, crop: int = CROP):
        import torch

        self.batch_size, self.crop = int(batch_size), int(crop)
        if self.batch_size < 1 or self.crop < 16:
            raise ValueError(f"batch_size must be >= 1 and crop >= 16, got {batch_size} and {crop}")
        self.device = torch.device(device)
        self.model, self._sha = load_local_model(weights, ("resnext3d", CHECKPOINT), f"ResNeXt-101 3D weights ({CHECKPOINT})",
                                                 SOURCE, weights_flag(self.name), _build_model, load_checkpoint, self.device)

    @property
    def dim(self) -> int:
        return 2048

    def config(self) -> dict:
        return {"extractor": self.name, "model": "ResNeXt-101-3D (cardinality 32, shortcut B, Kinetics-400)",
                "weights_sha256": self._sha, "frames_per_clip": CLIP, "short_side": self.crop, "crop": self.crop,
                "sampling": SAMPLING,
                "preprocess": f"shorter side to {self.crop} (decoder scaling, bilinear), centre crop, RGB 0..255 minus "
                              f"mean {list(MEAN)}", "pooling": "global average after layer4 (2048-d)"}

    def meta(self) -> dict:
        return {**self.config(), "dim": self.dim, "library_versions": library_versions("torch", "av", "numpy")}

    def encode_clips(self, clips: np.ndarray) -> np.ndarray:
        """uint8 RGB clips [B, T, H, W, 3] (already cropped) -> float32 [B, 2048]."""
        import torch

        x = torch.from_numpy(np.require(clips, np.uint8, ["C_CONTIGUOUS", "WRITEABLE"])).to(self.device)
        x = x.permute(0, 4, 1, 2, 3).float() - torch.tensor(MEAN, device=self.device).view(1, 3, 1, 1, 1)
        with torch.inference_mode():
            return self.model(x).float().cpu().numpy()

    def prepare(self, frames: np.ndarray) -> np.ndarray:
        """uint8 RGB [N, H, W, 3] of one size -> [N, crop, crop, 3]: shorter side to ``crop`` unless already, then centre."""
        if min(frames.shape[1:3]) != self.crop:
            import torch
            import torchvision.transforms.v2.functional as F

            x = torch.from_numpy(np.require(frames, np.uint8, ["C_CONTIGUOUS", "WRITEABLE"])).permute(0, 3, 1, 2)
            frames = F.resize(x, self.crop, antialias=True).permute(0, 2, 3, 1).numpy()
        return centre_crop(frames, self.crop)

    def encode_frames(self, frames: np.ndarray) -> np.ndarray:
        """Frames [T, H, W, 3] are one clip (loop-padded or cut to 16 frames) -> [1, 2048]."""
        frames = list(self.prepare(np.asarray(frames)))
        return self.encode_clips(np.stack(loop_pad(frames) if len(frames) < CLIP else frames[:CLIP])[None])

    def encode_images(self, images) -> np.ndarray:
        """Each image as a still clip of 16 frames -> [K, 2048]."""
        if not len(images):
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate([self.encode_clips(np.repeat(self.prepare(np.asarray(img)[None]), CLIP, axis=0)[None])
                               for img in images])

    def _decode_size(self, video) -> tuple[int | None, int | None]:
        from collectors.media import open_video

        container, stream = open_video(video)
        w, h = stream.codec_context.width, stream.codec_context.height
        container.close()
        return (self.crop, None) if w <= h else (None, self.crop)

    def iter_clips(self, video):
        """Yield (time, uint8 [16, crop, crop, 3]) per clip, holding one clip of cropped frames."""
        from contextlib import closing

        from extractors.decode import iter_samples

        frames, times, emitted = [], [], 0
        with closing(iter_samples(video, every_nth=1, size=self._decode_size(video), threads=self.decode_threads)) as samples:
            for s in samples:
                if len(frames) == CLIP:  # a frame follows the clip: keep it (the script's range rule)
                    yield (times[0] + s.time) / 2, np.stack(frames)
                    frames, times, emitted = [], [], emitted + 1
                frames.append(centre_crop(s.rgb, self.crop).copy())
                times.append(s.time)
        if not emitted and frames:
            yield (times[0] + times[-1]) / 2, np.stack(loop_pad(frames) if len(frames) < CLIP else frames)

    def extract(self, item):
        from extractors.base import clip_track

        return clip_track(item, self.iter_clips, self.encode_clips, self.batch_size, self.meta())
