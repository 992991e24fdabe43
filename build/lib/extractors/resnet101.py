"""ResNet-101 pool features (torchvision, ImageNet weights), 2048-d: the frame and image feature of MHMS.

MHMS (section 3.5) takes its image features from "a pre-trained ResNet-101"; VMSMO's own release
code used a ResNet of the same family (``resnet152_img.py``). This is torchvision's ResNet-101 with
``IMAGENET1K_V1`` weights; the feature is the global average pool's output (the 2048-d vector
before the 1000-class layer). MHMS pairs it with Faster R-CNN regions, which are not extracted here:
one vector per frame.

Sampling: ``fps`` (default 1) or ``every_nth`` decoded frame (recorded in ``meta["picks"]``), as the
GoogLeNet extractor samples. Preprocessing takes its steps and numbers from
``ResNet101_Weights.IMAGENET1K_V1.transforms()`` (shorter side 256, bilinear with antialiasing,
centre crop 224, ImageNet mean / std), run on uint8 batches as for GoogLeNet (``extractors.imagenet``).

Weights: ``weights=PATH`` (a state dict of torchvision's resnet101, e.g. the published
``resnet101-63fe2227.pth``), else torchvision's cache (``$TORCH_HOME/hub/checkpoints``), else a
download; offline without them a MissingWeightsError names ``--weights resnet101=PATH``.
"""

from __future__ import annotations

from extractors.decode import sampling_rule
from extractors.imagenet import ImageNetCNN

DIM = 2048


class ResNet101(ImageNetCNN):
    name = "resnet101"
    model_description = "torchvision resnet101 IMAGENET1K_V1, global average pool"

    def __init__(self, weights=None, device: str = "cpu", fps: float | None = None, every_nth: int | None = None,
                 batch_size: int = 16):
        import torch
        from torchvision.models import ResNet101_Weights, resnet101

        self.fps, self.every_nth = sampling_rule(fps, every_nth)
        self.batch_size = batch_size

        def build(state):
            net = resnet101(weights=None)
            net.load_state_dict(state)
            net.fc = torch.nn.Identity()  # the 2048-d average pool
            return net

        self._load(weights, device, ResNet101_Weights.IMAGENET1K_V1, "ResNet-101 weights", build)

    @property
    def dim(self) -> int:
        return DIM
