"""Deterministic train / validation / test assignment by video, so no video spans two splits."""

from __future__ import annotations

import hashlib

from builders.core.schema import SPLITS

DEFAULT_FRACTIONS = {"train": 0.8, "validation": 0.1, "test": 0.1}


def _rank_key(video_id: str) -> str:
    return hashlib.sha1(video_id.encode()).hexdigest()


def assign_splits(video_ids: list[str], given: dict[str, list[str]] | None = None,
                  fractions: dict[str, float] = DEFAULT_FRACTIONS) -> dict[str, str]:
    """video id -> split.

    With ``given`` (e.g. a splits.json) every listed video keeps its split and unlisted ones go
    to train. Otherwise videos are ordered by sha1 of their id; the first round(f * n) go to
    test, the next to validation (each at least one once there are 3 or more videos), the rest
    to train. The result depends only on the set of ids.
    """
    if given is not None:
        out = {}
        for split, ids in given.items():
            if split not in SPLITS:
                raise ValueError(f"unknown split {split!r} in splits; expected {SPLITS}")
            for vid in ids:
                if vid in out and out[vid] != split:
                    raise ValueError(f"video {vid!r} is listed in both {out[vid]!r} and {split!r}")
                out[vid] = split
        return {vid: out.get(vid, "train") for vid in video_ids}
    ordered = sorted(set(video_ids), key=_rank_key)
    n = len(ordered)
    n_test = max(1 if n >= 3 else 0, round(fractions["test"] * n))
    n_val = max(1 if n >= 3 else 0, round(fractions["validation"] * n))
    out = {}
    for i, vid in enumerate(ordered):
        out[vid] = "test" if i < n_test else "validation" if i < n_test + n_val else "train"
    return out
