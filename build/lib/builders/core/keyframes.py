"""Keyframe labels from reference pictures: per picture, the video frame most like it.

BLiSS labels a clip's keyframes from its thumbnail animation, Daily Mail's from the article's
images: for each reference picture, the frame whose feature has the highest cosine similarity to
the picture's (same extractor); the labels are the distinct frames found, sorted.
"""

from __future__ import annotations

import numpy as np


def keyframes(frames: np.ndarray, pictures: np.ndarray) -> np.ndarray:
    """Sorted distinct indices of the frames most similar (cosine) to each picture."""
    if len(frames) == 0 or len(pictures) == 0:
        return np.zeros(0, dtype=np.int32)
    f = frames / np.maximum(np.linalg.norm(frames, axis=1, keepdims=True), 1e-12)
    t = pictures / np.maximum(np.linalg.norm(pictures, axis=1, keepdims=True), 1e-12)
    return np.unique(np.argmax(t @ f.T, axis=1)).astype(np.int32)
