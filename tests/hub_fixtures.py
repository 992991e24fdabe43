"""The BLiSS sample built once per test session for tests/test_bliss_build.py, test_data.py,
test_publish.py and test_train_eval.py (``python -m builders.bliss`` with its default local cluster of
worker processes into a temporary directory, ~20-30 s), plus a small hand-made dataset.

Every module calls ``built_bliss`` / ``built_bliss_hub``; the build is cached here, not per module,
so a session builds the sample once whichever of them run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from builders.core.base import update_build_record
from builders.core.writers import ConfigWriter
from builders.core.schema import bliss_features

_BUILT: dict[str, Path] = {}


def built_bliss(sample_dir: Path, base: Path) -> tuple[Path, Path]:
    """(hub, work) of the session's sample built by ``python -m builders.bliss --sample-dir`` (config
    colorhist-minilm); both read-only. Extraction runs in this process (--workers 0: 11 s where the
    default local cluster takes 20 s); the default engine builds the same sample in CI's own step
    (.ci/run), and test_bliss_build reruns this build on a local cluster."""
    if "hub" not in _BUILT:
        from builders import bliss

        out, work = base / "bliss-hub", base / "bliss-work"
        shutil.rmtree(out, ignore_errors=True)
        code = bliss.main(["--sample-dir", str(sample_dir), "--out", str(out), "--work", str(work), "--no-progress",
                           "--workers", "0"])
        assert code == 0
        _BUILT["hub"], _BUILT["work"] = out, work
    return _BUILT["hub"], _BUILT["work"]


def built_bliss_hub(sample_dir: Path, base: Path) -> Path:
    """hub/bliss-sample (config colorhist-minilm) built from the session's sample; read-only."""
    return built_bliss(sample_dir, base)[0]


def copy_hub(hub: Path, dest: Path) -> Path:
    shutil.copytree(hub, dest)
    return dest


def tiny_row(i: int, T: int, N: int, rng, dv: int = 6, dt: int = 5, summary: str = "a b. c d.") -> dict:
    """One BLiSS-schema example: T frames at 1 fps, N sentences of 2 s, labels and a thumbnail."""
    frames = rng.standard_normal((T, dv)).astype(np.float32)
    sents = [{"start": 2.0 * j, "end": 2.0 * j + 2.0, "text": f"sentence {j} word{j % 3}"} for j in range(N)]
    labels = np.zeros(T, np.int8)
    labels[:: max(1, T // 3)] = 1
    return {
        "id": f"v{i}_000", "video_id": f"v{i}", "clip_index": 0, "clip_start": 0.0, "clip_end": float(T),
        "duration": float(T), "title": "", "description": "", "streamer": "", "creative_fields": [], "tools": [],
        "frame_times": np.arange(T) + 0.5, "frames_vis": frames, "sentences": sents,
        "sentences_txt": rng.standard_normal((N, dt)).astype(np.float32),
        "frame_labels": labels, "sentence_labels": (np.arange(N) % 2).astype(np.int8),
        "keyframe_vis": np.flatnonzero(labels).astype(np.int32), "thumbnail_vis": frames[labels == 1],
        "summary": summary, "keywords": ["word1"],
    }


def tiny_bliss(out: Path, splits=("train", "validation", "test"), per_split: int = 3, seed: int = 0) -> Path:
    """A BLiSS-schema dataset (config vis-txt) with examples of different lengths, in parquet + wds."""
    rng = np.random.default_rng(seed)
    features = bliss_features("vis", 6, "txt", 5)
    with ConfigWriter(out, "vis-txt", features, rows_per_shard=2) as w:
        for s, split in enumerate(splits):
            for i in range(per_split):
                w.add(split, tiny_row(10 * s + i, T=6 + 3 * i, N=2 + i, rng=rng))
    update_build_record(out, "tiny-bliss", "vis-txt", {"features": features.to_dict()})
    return out


def tiny_hiersum(out: Path, per_split: int = 3, seed: int = 0, visual: str = "vis", dv: int = 6) -> Path:
    """A HierSum-schema dataset (config <visual>-txt): most-replayed frame_scores, steps; one video without a curve."""
    from builders.core.schema import hiersum_features

    rng = np.random.default_rng(seed)
    features = hiersum_features(visual, dv, "txt", 5)
    with ConfigWriter(out, f"{visual}-txt", features) as w:
        for s, split in enumerate(("train", "validation", "test")):
            for i in range(per_split):
                T, N, G = 20 + 5 * i, 4, 2
                scores = None if (split == "train" and i == 0) else rng.random(T).astype(np.float32)
                w.add(split, {
                    "id": f"h{s}{i}", "video_id": f"h{s}{i}", "url": "", "title": "", "description": "", "views": 0,
                    "duration": float(T), "frame_times": np.arange(T) + 0.5,
                    f"frames_{visual}": rng.standard_normal((T, dv)).astype(np.float32),
                    "sentences": [{"start": 5.0 * j, "end": 5.0 * j + 5.0, "text": f"s{j}"} for j in range(N)],
                    "sentences_txt": rng.standard_normal((N, 5)).astype(np.float32), "transcript_source": "manual",
                    "steps": ["a", "b"], "steps_txt": rng.standard_normal((G, 5)).astype(np.float32),
                    "global_source": "article", "article_url": "", "article_title": "",
                    "heatmap": [] if scores is None else [{"start": 0.0, "end": float(T), "value": 0.5}],
                    "frame_scores": scores,
                    "frame_labels": None if scores is None else (scores >= 0.15).astype(np.int8),
                })
    update_build_record(out, "hiersum", f"{visual}-txt", {"features": features.to_dict()})
    return out
