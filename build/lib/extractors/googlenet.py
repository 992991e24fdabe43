"""GoogLeNet pool5 features (torchvision, ImageNet weights), 1024-d: the visual feature of the eccv16 benchmarks.

Sampling: every 15th decoded frame by default (frames 0, 15, 30, ...: the ``picks`` of the eccv16
TVSum/SumMe files; they are recorded in the track's ``meta["picks"]``), or ``fps`` when given.

Preprocessing takes its steps and numbers from torchvision's ``GoogLeNet_Weights.IMAGENET1K_V1.transforms()``
(resize the shorter side to 256, centre crop 224x224, scale to [0, 1], normalise with the ImageNet
mean/std) on uint8 batches: ``extractors.imagenet`` says why, and ResNet-101 shares it. The network is
built with ``transform_input=True``, as ``googlenet(weights=IMAGENET1K_V1)`` builds it: these weights
were ported from the original (Inception v1) model, which expects inputs scaled as (x - 0.5) / 0.5,
so the model's first step maps the ImageNet-normalised input back to that scaling. Dropping it (or
normalising twice) silently gives different features. Features are the global average pool's output,
before dropout and the classifier. They are torchvision's GoogLeNet, not the model the eccv16 h5
features were computed with: the same architecture and layer, not the same numbers.
"""

from __future__ import annotations

from extractors.imagenet import PREPROCESS, ImageNetCNN


class GoogLeNet(ImageNetCNN):
    name = "googlenet"
    model_description = "torchvision googlenet IMAGENET1K_V1, pool5"
    preprocess_description = PREPROCESS + "; transform_input=True"

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

        def build(state):
            net = googlenet(weights=None, aux_logits=False, transform_input=True, init_weights=False)
            net.fc = torch.nn.Identity()  # pool5: the 1024-d average pool, dropout is a no-op in eval
            # The published file also holds the auxiliary heads and the 1000-class layer; pool5 needs neither.
            net.load_state_dict({k: v for k, v in state.items() if not k.startswith(("aux1.", "aux2.", "fc."))})
            return net

        self._load(weights, device, GoogLeNet_Weights.IMAGENET1K_V1, "GoogLeNet weights", build)

    @property
    def dim(self) -> int:
        return 1024
