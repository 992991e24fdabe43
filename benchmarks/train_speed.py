"""Training steps per second on CPU for each registry model, and the share of step time spent
waiting for data, on BLiSS-shaped batches read the way models.train reads them.

The claim: data loading is not the bottleneck (goal: < 10% of step time waiting for the next
batch). The case: a synthetic dataset written by builders.core.writers in the BLiSS schema at BLiSS's
sizes (5-minute clips at 1 fps: T = 300 frames of CLIP 512-d; N = 20-40 sentences of RoBERTa
768-d, 4-second sentences), read from parquet with the prefetch thread, from the webdataset tars,
and from parquet with DataLoader worker processes. Each model has its paper's BLiSS
hyper-parameters (the model folders' defaults, models.registry.DEFAULTS; CFSum, which has no BLiSS entry, its TVSum ones) and
the batch size given here (CPU-sized; the papers use 64 on a GPU), and again small (hidden 32,
one layer), where a step is cheap and waiting for data would show most. One warm-up epoch of the
model and one pass of each loader alone (worker processes persist across epochs, as in training),
then a timed epoch per loader through models.training.train_epoch, the trainer's own loop and timers. The loaders
alone (no model) are timed too: the batches per second they can deliver.

    python benchmarks/train_speed.py [--clips 32] [--batch-size 4] [--models a2summ,hiersum,cfsum] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from builders.core.writers import ConfigWriter
from builders.core.schema import bliss_features
from models.data import (
    KEY_SENTENCES,
    available_columns,
    open_split,
    resolve_columns,
)
from models.loader import Loader
from models.training import train_epoch

CONFIG = "clip-roberta"


def write_dataset(out: Path, clips: int, seed: int = 0) -> Path:
    """``clips`` BLiSS-shaped training clips (300 frames x 512, 20-40 sentences x 768)."""
    rng = np.random.default_rng(seed)
    features = bliss_features("clip", 512, "roberta", 768)
    with ConfigWriter(out, CONFIG, features, rows_per_shard=16) as w:
        for i in range(clips):
            T, N = 300, int(rng.integers(20, 41))
            starts = np.sort(rng.uniform(0, T - 4, N))
            frames = rng.standard_normal((T, 512)).astype(np.float32)
            labels = (rng.random(T) < 0.02).astype(np.int8)
            labels[0] = 1
            w.add("train", {
                "id": f"v{i:03d}_000", "video_id": f"v{i:03d}", "clip_index": 0, "clip_start": 0.0, "clip_end": 300.0,
                "duration": 300.0, "title": "", "description": "", "streamer": "", "creative_fields": [], "tools": [],
                "frame_times": np.arange(T) + 0.5, "frames_clip": frames,
                "sentences": [{"start": float(s), "end": float(s) + 4.0, "text": f"sentence {j}"} for j, s in enumerate(starts)],
                "sentences_roberta": rng.standard_normal((N, 768)).astype(np.float32),
                "frame_labels": labels, "sentence_labels": (rng.random(N) < 0.3).astype(np.int8),
                "keyframe_clip": np.flatnonzero(labels).astype(np.int32), "thumbnail_clip": frames[labels == 1],
                "summary": "a summary.", "keywords": [],
            })
    return out


def loaders(hub: Path, batch_size: int, query: str | None = None) -> dict[str, Loader]:
    cols = resolve_columns(available_columns(hub, CONFIG, "train"), query=query)
    return {
        "parquet+thread": Loader(open_split(hub, CONFIG, "train", cols, "parquet", labeled=True), batch_size, shuffle=True),
        "wds+thread": Loader(open_split(hub, CONFIG, "train", cols, "wds", labeled=True), batch_size, shuffle=True),
        "parquet+2 workers": Loader(open_split(hub, CONFIG, "train", cols, "parquet", labeled=True), batch_size,
                                    shuffle=True, workers=2),
    }


def loader_rate(loader: Loader) -> float:
    """Batches per second the loader delivers with nothing else running (second epoch)."""
    list(loader.epoch(0))
    t = time.perf_counter()
    n = sum(1 for _ in loader.epoch(1))
    return n / (time.perf_counter() - t)


def model_entry(name: str) -> tuple[dict, str]:
    from models.registry import DEFAULTS

    for family in ("bliss", "tvsum"):
        if (name, family) in DEFAULTS:
            return dict(DEFAULTS[(name, family)]["model"]), family
    return {}, "constructor defaults"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clips", type=int, default=32, help="training clips (one epoch = clips / batch-size steps)")
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--models", help="comma-separated registry names (default: all)")
    p.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch intra-op threads")
    p.add_argument("--small", action=argparse.BooleanOptionalAction, default=True,
                   help="also time each model at hidden 32, one layer, where data waits weigh most (default on)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    try:
        from models.registry import MODELS, build_model
    except ImportError as e:
        print(f"models.registry is not available ({e}): no model to time; loader rates only")
        MODELS, build_model = {}, None
    names = args.models.split(",") if args.models else list(MODELS)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        hub = write_dataset(Path(tmp) / "hub", args.clips)
        print(f"{args.clips} BLiSS-shaped clips (T 300 x 512, N 20-40 x 768) written in {time.perf_counter() - t:.1f} s; "
              f"batch {args.batch_size}; torch threads {args.threads}; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} CPUs")
        print("\nloaders alone (no model):")
        for mode, loader in loaders(hub, args.batch_size).items():
            print(f"  {mode:<18} {loader_rate(loader):8.1f} batches/s")
        print(f"\n{'model':<9} {'hyper-parameters':<34} {'loader':<18} {'steps/s':>8} {'data wait':>10}")
        variants = [(name, False) for name in names] + ([(name, True) for name in names] if args.small else [])
        for name, small in variants:
            hp, source = model_entry(name)
            if small:  # cheap steps: the hardest case for the loaders
                hp.update(hidden=32, **({"num_layers": 1} if "num_layers" in hp else {}))
                source = "small"
            parent = hasattr(MODELS[name], "global_step")  # HierSum: key sentences as the global description
            torch.manual_seed(0)
            model = build_model(name, {"video": 512, "text": 768, **({"query": 768} if parent else {})}, **hp)
            opt = torch.optim.Adam(model.parameters(), lr=1e-4)
            desc = f"{source}: C={hp.get('hidden', '-')} L={hp.get('num_layers', '-')}"
            ls = loaders(hub, args.batch_size, KEY_SENTENCES if parent else None)
            train_epoch(model, opt, ls["parquet+thread"], 0, "cpu", 0.0)  # warm-up: the model's first steps
            for mode, loader in ls.items():
                for _ in loader.epoch(0):  # warm-up: page cache, worker processes (they persist)
                    pass
                _, timing = train_epoch(model, opt, loader, 1, "cpu", 0.0)
                print(f"{name:<9} {desc:<34} {mode:<18} {timing['steps_per_s']:8.2f} "
                      f"{100 * timing['data_wait_fraction']:9.1f}%", flush=True)


if __name__ == "__main__":
    main()
