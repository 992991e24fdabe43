"""Small synthetic releases in exactly A2Summ's BLiSS layout, for the importer's tests and end-to-end tests.

``make_a2summ_release`` draws the content; ``write_a2summ_split`` writes one split the way the
authors did (``json.dump`` + ``np.save(path, dict, allow_pickle=True)``), so a test can corrupt the
drawn content and write it again.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

FEATURE_STEMS = ("video_clip", "text_roberta", "video_summ_clip")


def _clip(rng: np.random.Generator, video_id: str, num_frame: int, visual_dim: int, text_dim: int, dtype) -> dict:
    num_sentence = int(rng.integers(1, min(4, num_frame) + 1))
    cuts = np.sort(rng.choice(np.arange(1, num_frame), size=num_sentence - 1, replace=False)) if num_sentence > 1 else []
    bounds = [0, *map(int, cuts), num_frame]
    video_label = (rng.random(num_frame) < 0.3).astype(int)
    video_label[int(rng.integers(num_frame))] = 1
    keyframes = np.flatnonzero(video_label)
    frames = rng.standard_normal((num_frame, visual_dim)).astype(dtype)
    annotation = {
        "video_id": video_id,
        "num_frame": num_frame,
        "num_keyframe": len(keyframes),
        "num_sentence": num_sentence,
        "sentence": [f"sentence {j} of {video_id} {rng.integers(1000)}" for j in range(num_sentence)],
        "sentence_time": [[bounds[j], bounds[j + 1]] for j in range(num_sentence)],
        "text_label": [int(x) for x in rng.integers(0, 2, num_sentence)],
        "video_label": [int(x) for x in video_label],
        "highlight": f"what happened in {video_id}",
    }
    features = {
        "video_clip": frames,
        "text_roberta": rng.standard_normal((num_sentence, text_dim)).astype(dtype),
        "video_summ_clip": frames[keyframes].copy(),
    }
    return {"annotation": annotation, **features}


def make_a2summ_release(
    rng: np.random.Generator,
    *,
    train_videos: int = 5,
    test_videos: int = 2,
    clips_per_video: tuple[int, int] = (2, 3),
    max_frames: int = 12,
    visual_dim: int = 512,
    text_dim: int = 768,
    dtype=np.float32,
) -> dict[str, dict[str, dict]]:
    """``{split: {"annotation": {clip_id: ann}, "<feature stem>": {clip_id: array}}}``.

    Video ids are distinct random digit strings (so their sha1 order is arbitrary); clip ids are
    ``<video_id>_<n>``; the last clip of a video is shorter, as in a real livestream.
    """
    ids = rng.choice(10**6, size=train_videos + test_videos, replace=False)
    video_ids = {"train": [f"{i:06d}" for i in ids[:train_videos]], "test": [f"{i:06d}" for i in ids[train_videos:]]}
    release = {}
    for split, videos in video_ids.items():
        out = {"annotation": {}, **{stem: {} for stem in FEATURE_STEMS}}
        for video_id in videos:
            n_clips = int(rng.integers(clips_per_video[0], clips_per_video[1] + 1))
            for n in range(n_clips):
                num_frame = max_frames if n < n_clips - 1 else int(rng.integers(3, max_frames + 1))
                clip = _clip(rng, video_id, num_frame, visual_dim, text_dim, dtype)
                clip_id = f"{video_id}_{n}"
                for key, value in clip.items():
                    out[key][clip_id] = value
        release[split] = out
    return release


def write_a2summ_split(root: str | Path, split: str, content: dict[str, dict], *, flat: bool = False) -> None:
    """Write one split; ``flat`` puts everything directly under ``root`` instead of annotation/ and feature/."""
    root = Path(root)
    ann_dir, feat_dir = (root, root) if flat else (root / "annotation", root / "feature")
    ann_dir.mkdir(parents=True, exist_ok=True)
    feat_dir.mkdir(parents=True, exist_ok=True)
    with open(ann_dir / f"{split}.json", "w", encoding="utf-8") as f:
        json.dump(content["annotation"], f)
    for stem in FEATURE_STEMS:
        np.save(feat_dir / f"{stem}_{split}.npy", content[stem], allow_pickle=True)


def write_a2summ_release(root: str | Path, rng: np.random.Generator, *, flat: bool = False, **kwargs) -> dict[str, dict[str, dict]]:
    """Draw a release (``make_a2summ_release(rng, **kwargs)``), write it under ``root``, return what was written."""
    release = make_a2summ_release(rng, **kwargs)
    for split, content in release.items():
        write_a2summ_split(root, split, content, flat=flat)
    return release
