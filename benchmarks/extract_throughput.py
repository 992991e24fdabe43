"""Throughput of visual extraction: the full pipeline against the model alone, and against the naive way.

The claim: decoding runs on its own thread, overlapped with the model, so the pipeline (decode +
preprocess + model, ``extractor.extract``) runs at nearly the model's own rate: goal >= 90% of the
model alone on pre-decoded, pre-processed tensors. For contrast, the naive pipeline of the popular
per-video scripts: every frame decoded and converted to RGB in order, then the model on one frame at
a time, nothing overlapped. (Those scripts keep every frame in a list first; this one keeps only the
sampled frames, because all 3600 frames of 720p are 10 GB: the time is the same, the memory is not.)

Extractors at their default rates: clip at 1 fps, googlenet every 15th frame, resnext3d on every frame in
16-frame clips (its "frames" are the frames its clips cover; model only = the network on decoded, cropped
clips), real architectures with random weights (nothing downloads; speed does not depend on the weight values). The video is
synthesized once (moving boxes, a drifting gradient and noise blocks, so H.264 does real work) and
cached. Everything runs in this process, one mode after the other, with torch's default threads.

    python benchmarks/extract_throughput.py --minutes 2 --extractors clip googlenet
    python benchmarks/extract_throughput.py --minutes 0.25 --extractors resnext3d
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.decode_memory import synthesize

VIDEO_FPS = 30
LABELS = {
    "decode": "decode only (sampled frames to RGB)",
    "model": "model only (preprocessed tensors)",
    "preprocess+model": "preprocess + model (decoded frames)",
    "pipeline": "pipeline: extract(), decoding ahead",
    "pipeline-1-thread": "pipeline, decoder on 1 FFmpeg thread",
    "inline": "pipeline without prefetch (inline)",
    "naive": "naive: decode all, then frame by frame",
}


def random_weights(name: str, cache: Path) -> Path:
    """A state_dict of the real architecture with random weights, saved once."""
    import torch

    path = cache / f"{name}-random-v1.pt"
    if not path.exists():
        torch.manual_seed(0)
        if name == "clip":
            import open_clip

            model = open_clip.create_model("ViT-B-32-quickgelu", pretrained=None)
        elif name == "resnext3d":
            from extractors.resnext3d import _build_model

            model = _build_model()
        else:
            from torchvision.models import googlenet

            model = googlenet(weights=None, aux_logits=False, init_weights=True)
        torch.save(model.state_dict(), path)
    return path


def make_extractor(name: str, weights: Path):
    if name == "clip":
        from extractors.clip import ClipImage

        return ClipImage(weights=weights)
    if name == "resnext3d":
        from extractors.resnext3d import ResNeXt3D

        return ResNeXt3D(weights=weights)
    from extractors.googlenet import GoogLeNet

    return GoogLeNet(weights=weights)


def forward(ext, x):
    """The model alone on a preprocessed batch."""
    return ext.model.encode_image(x) if hasattr(ext.model, "encode_image") else ext.model(x)


def rate_of(ext) -> dict:
    return {"every_nth": ext.every_nth} if getattr(ext, "every_nth", None) else {"fps": ext.fps}


def cpu_seconds() -> float:
    """CPU time of this process, all threads (torch's, FFmpeg's, the decode thread)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def modes(ext, video: Path) -> tuple[dict, int]:
    """Mode (a key of LABELS) -> callable returning how many frames it encoded (or decoded); and that number."""
    import torch

    from collectors.records import RawItem
    from collectors.media import open_video
    from extractors.decode import iter_sample_batches

    rate = rate_of(ext)
    batches = list(iter_sample_batches(video, batch_size=ext.batch_size, prefetch=0, **rate))
    n = sum(len(b.times) for b in batches)
    picks = set(np.concatenate([b.index for b in batches]).tolist())
    with torch.inference_mode():
        inputs = [ext.preprocess(b.frames) for b in batches]
        forward(ext, inputs[0])  # warm-up: the backend builds its kernels for this shape
    item = RawItem(id="bench", source="benchmark", media={"video": str(video)})

    def decode_only():
        return sum(len(b.times) for b in iter_sample_batches(video, batch_size=ext.batch_size, prefetch=0, **rate))

    def model_only():
        with torch.inference_mode():
            return sum(len(forward(ext, x)) for x in inputs)

    def preprocess_and_model():
        return sum(len(ext.encode_frames(b.frames)) for b in batches)

    def loop(**kw):
        return lambda: sum(len(ext.encode_frames(b.frames))
                           for b in iter_sample_batches(video, batch_size=ext.batch_size, **rate, **kw))

    def naive():
        container, stream = open_video(video)
        kept = []
        with container:
            for k, frame in enumerate(container.decode(stream)):
                rgb = frame.to_ndarray(format="rgb24")  # every frame converted, as cv2's read() does
                if k in picks:
                    kept.append(rgb)
        with torch.inference_mode():
            return sum(len(ext.encode_frames(rgb[None])) for rgb in kept)

    return {
        "decode": decode_only,
        "model": model_only,
        "preprocess+model": preprocess_and_model,
        "pipeline": lambda: len(ext.extract(item)),
        "pipeline-1-thread": loop(threads=1),
        "inline": loop(prefetch=0),
        "naive": naive,
    }, n


def clip_modes(ext, video: Path) -> tuple[dict, int]:
    """The modes for an extractor of 16-frame clips (resnext3d): every frame decoded; counts are the frames
    the kept clips cover. "preprocess+model" and "pipeline-1-thread" do not apply (the decoder scales and the
    clips are cut as frames arrive); "inline" decodes in the caller's thread."""
    import torch

    from collectors.media import open_video
    from collectors.records import RawItem
    from extractors.resnext3d import CLIP

    clips = [c for _, c in ext.iter_clips(video)]
    n = CLIP * len(clips)
    batches = [np.stack(clips[i:i + ext.batch_size]) for i in range(0, len(clips), ext.batch_size)]
    ext.encode_clips(batches[0][:1])  # warm-up
    item = RawItem(id="bench", source="benchmark", media={"video": str(video)})

    def decode_only():
        return CLIP * sum(1 for _ in ext.iter_clips(video))

    def model_only():
        return CLIP * sum(len(ext.encode_clips(b)) for b in batches)

    def inline():
        return CLIP * sum(len(ext.encode_clips(c[None])) for _, c in ext.iter_clips(video))

    def naive():  # the script's way without its JPEG round trip: every frame at full size, scaled one by one
        container, stream = open_video(video)
        with container:
            small = [ext.prepare(f.to_ndarray(format="rgb24")[None])[0] for f in container.decode(stream)]
        with torch.inference_mode():
            return CLIP * sum(len(ext.encode_clips(np.stack(small[i:i + CLIP])[None]))
                              for i in range(0, CLIP * len(clips), CLIP))

    return {"decode": decode_only, "model": model_only, "pipeline": lambda: CLIP * len(ext.extract(item)),
            "inline": inline, "naive": naive}, n


def run(name: str, video: Path, cache: Path, rounds: int) -> list[tuple[str, int, float, float]]:
    """Each mode ``rounds`` times, interleaved; the fastest round of each (the least disturbed)."""
    ext = make_extractor(name, random_weights(name, cache))
    todo, n = (clip_modes if name == "resnext3d" else modes)(ext, video)
    best: dict[str, tuple[int, float, float]] = {}
    for r in range(rounds):
        for mode, fn in todo.items():
            start, cpu = time.perf_counter(), cpu_seconds()
            frames = fn()
            wall, cpu = time.perf_counter() - start, cpu_seconds() - cpu
            assert frames == n, f"{mode}: {frames} frames, expected {n}"
            print(f"  [{name} round {r + 1}/{rounds}] {LABELS[mode]}: {frames / wall:.2f} fps", file=sys.stderr, flush=True)
            if mode not in best or wall < best[mode][1]:
                best[mode] = (frames, wall, cpu)
    return [(mode, *best[mode]) for mode in todo]


def main(argv=None) -> int:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=2)
    ap.add_argument("--extractors", nargs="+", default=["clip", "googlenet"], choices=["clip", "googlenet", "resnext3d"])
    ap.add_argument("--rounds", type=int, default=3, help="repeat every mode, keep its fastest round (default 3)")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "vsumhub-bench")
    args = ap.parse_args(argv)

    args.cache.mkdir(parents=True, exist_ok=True)
    video, took = synthesize(args.cache, args.minutes, VIDEO_FPS)
    how = f"synthesized in {took:.1f} s" if took is not None else "cached"
    print(f"video: {video} ({args.minutes:g} min, 1280x720, {VIDEO_FPS} fps, {video.stat().st_size / 2**20:.0f} MiB, {how})")
    print(f"torch {torch.__version__}, CPU: torch.get_num_threads() = {torch.get_num_threads()} (default), "
          f"{os.cpu_count()} cores; best of {args.rounds} interleaved rounds")

    ok = True
    for name in args.extractors:
        load = os.getloadavg()[0]
        rows = run(name, video, args.cache, args.rounds)
        print(f"\n{name} (load average {load:.1f} before, {os.getloadavg()[0]:.1f} after)")
        print(f"  {'mode':<40} {'frames':>6} {'seconds':>8} {'fps':>7} {'CPU ms/frame':>13}")
        for mode, n, wall, cpu in rows:
            print(f"  {LABELS[mode]:<40} {n:>6} {wall:>8.2f} {n / wall:>7.2f} {1000 * cpu / n:>13.0f}")
        fps = {mode: n / wall for mode, n, wall, _ in rows}
        ratio = fps["pipeline"] / fps["model"]
        ok &= ratio >= 0.9
        print(f"  pipeline / model only = {ratio:.2f} (goal >= 0.90); pipeline / naive = {fps['pipeline'] / fps['naive'] :.2f}")
        # With every core busy, overlap cannot beat the CPU budget: the model's share of all the work.
        cpu = {mode: c / n for mode, n, _, c in rows}
        if "preprocess+model" not in cpu:  # clip extractors: decoding and cropping happen in the pipeline only
            continue
        print(f"  CPU-bound ceiling of pipeline / model only: model CPU / (decode + preprocess + model CPU) = "
              f"{cpu['model'] / (cpu['decode'] + cpu['preprocess+model']):.2f}")
    print("\nPASS: pipeline >= 90% of the model alone" if ok else "\nBELOW GOAL: pipeline < 90% of the model alone")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
