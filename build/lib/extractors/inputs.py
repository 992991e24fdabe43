"""What an extractor reads of an item, and extractors for its other inputs.

Most extractors read an item's video (visual), audio (audio, asr) or transcript (text). Two more
inputs are features of datasets too, and go through the extraction job like every other track:

- ``thumbnail``: every frame of the item's thumbnail animation (``media["thumbnail"]``: an
  animation file or a directory of images) through a visual extractor, one row per frame (``cover``:
  its first picture only, one row);
- ``steps``: the item's global instruction (:func:`collectors.articles.global_instruction`: its
  article's steps, else its description's sentences) through a text extractor, one row per step.

Each wraps the registered extractor it is given by name, sharing the worker's loaded model with
that extractor's own track (``extractors.shardtask.load_extractor``), so a job that extracts a
video's frames and its thumbnail with CLIP loads CLIP once per worker.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import numpy as np

from collectors.records import ItemError, RawItem
from extractors.base import Extractor, FeatureTrack
from extractors.decode import DecodeError, read_all_frames, read_image
from extractors.fingerprint import global_steps
from extractors.registry import entry, extractor_class

THUMBNAIL_INPUT = "media['thumbnail']: every frame of the thumbnail animation, in order"
STEPS_INPUT = "the global instruction: the article's steps, else the description's sentences"


def load_thumbnail_frames(path: str | os.PathLike) -> list[np.ndarray]:
    """The thumbnail animation's frames, RGB uint8 [H, W, 3], in order.

    `path` is a directory of images (sorted by file name) or one animation file. Raises
    ItemError(no_thumbnail) when there is nothing, ItemError(bad_thumbnail) when a file
    cannot be read. Animated WebP falls back to Pillow: FFmpeg's webp decoder reads still
    images only.
    """
    from collectors.behance import IMAGE_SUFFIXES, image_files

    p = Path(path)
    if p.is_dir():
        files = image_files(p)
        if not files:
            raise ItemError("no_thumbnail", f"{p} holds no image ({'/'.join(IMAGE_SUFFIXES)})")
        try:
            return [read_image(f) for f in files]
        except DecodeError as e:
            raise ItemError("bad_thumbnail", str(e)) from None
    if not p.is_file():
        raise ItemError("no_thumbnail", f"thumbnail not found: {p}")
    try:
        return read_all_frames(p)
    except DecodeError as e:
        if p.suffix.lower() in (".webp", ".gif"):
            try:
                return _pillow_frames(p)
            except (OSError, ValueError):
                pass
        raise ItemError("bad_thumbnail", f"{p}: {e}") from None


def _pillow_frames(path: Path) -> list[np.ndarray]:
    from PIL import Image, ImageSequence

    with Image.open(path) as im:
        return [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(im)]


def _encoder(name: str, modality: str, options: dict | None, device: str | None) -> Extractor:
    """The worker's instance of extractor ``name`` with ``options``, keyed as the job keys that
    extractor's own track (``device`` added when its constructor takes one), so both share it."""
    from extractors.shardtask import load_extractor

    target, options = entry(name, modality).target, dict(options or {})
    params = inspect.signature(extractor_class(name).__init__).parameters
    takes_device = "device" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
    if device and "device" not in options and takes_device:
        options["device"] = device
    return load_extractor(target, options)


class _Wrapped(Extractor):
    """An extractor of another input through a registered extractor (``encoder``) and its options."""

    input = ""
    encoder_modality = ""

    def __init__(self, encoder: str, options: dict | None = None, device: str | None = None):
        entry(encoder, self.encoder_modality)  # an unknown name fails here
        self._args = (encoder, self.encoder_modality, options, device)
        self._encoder: Extractor | None = None

    @property
    def encoder(self) -> Extractor:
        # Loaded on first use, not in __init__: the job builds this extractor under the lock of
        # its model cache, which loading the encoder through that cache takes again.
        if self._encoder is None:
            self._encoder = _encoder(*self._args)
        return self._encoder

    @property
    def dim(self) -> int:
        return self.encoder.dim

    def config(self) -> dict:
        return {"extractor": self.name, "input": self.input, "encoder": self.encoder.config()}

    def meta(self) -> dict:
        return {**self.config(), "dim": self.dim, "encoder": self.encoder.meta()}

    def extract(self, item: RawItem) -> FeatureTrack:
        """One row per frame / step of the input; its time is its number (the input has no clock)."""
        values = self.encode(self.read(item))
        return FeatureTrack(np.arange(len(values), dtype=np.float64), values, self.meta())


class ThumbnailFrames(_Wrapped):
    """A visual extractor applied to every frame of ``media["thumbnail"]``."""

    name = "thumbnail"
    modality = "thumbnail"
    input = THUMBNAIL_INPUT
    encoder_modality = "visual"

    def read(self, item: RawItem) -> list[np.ndarray]:
        if not item.media.get("thumbnail"):
            raise ItemError("no_thumbnail", "item has no media['thumbnail']", item.id)
        return load_thumbnail_frames(item.media["thumbnail"])

    def encode(self, frames: list[np.ndarray]) -> np.ndarray:
        return self.encoder.encode_images(frames)


class CoverPicture(ThumbnailFrames):
    """A visual extractor on the first picture of ``media["thumbnail"]`` only: a cover (VMSMO's), one row.
    Its own name, so one job can run it beside ``thumbnail`` with another encoder (e.g. a cover's
    features next to its average hash)."""

    name = "cover"

    def read(self, item: RawItem) -> list[np.ndarray]:
        return super().read(item)[:1]


class GlobalSteps(_Wrapped):
    """A text extractor applied to the item's global instruction."""

    name = "steps"
    modality = "steps"
    input = STEPS_INPUT
    encoder_modality = "text"

    def read(self, item: RawItem) -> list[str]:
        return global_steps(item)

    def encode(self, steps: list[str]) -> np.ndarray:
        return self.encoder.encode_texts(steps).reshape(len(steps), self.dim)
