"""Peak memory of decoding does not grow with video duration.

The claim: decoding streams, so a long video is never held in memory whole. This benchmark
synthesizes a short and a long 1280x720 H.264 video (cached, reused on rerun), then, in a fresh
process per measurement (so the peak RSS is that measurement's own), decodes each at 1 fps
with ``iter_frame_batches`` and runs the colorhist extractor over it. The ratio of peaks
long/short should be ~1.0. For contrast it measures, on the short video only, the naive approach
that decodes every frame into a list first, and extrapolates that to the long one.

    python benchmarks/decode_memory.py --minutes-short 6 --minutes-long 60 --video-fps 2
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WIDTH, HEIGHT = 1280, 720
NAIVE_LIMIT_GB = 6.0  # never let the naive baseline take the machine down


def peak_rss_mib() -> float:
    """This process's peak RSS in MiB.

    Linux keeps ``ru_maxrss`` across fork + exec, so a child started by a big parent reports the
    parent's peak; VmHWM belongs to the process's own address space and starts fresh at exec.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def synthetic_frames(n: int, seed: int = 0):
    """Frames with real content (a drifting gradient, moving boxes, noise blocks) so H.264 works for it."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
    base = np.stack([x * 255 // WIDTH, y * 255 // HEIGHT, (x + y) * 255 // (WIDTH + HEIGHT)], axis=-1).astype(np.uint8)
    boxes = [(rng.integers(0, 256, 3), rng.integers(80, 240), rng.integers(1, 5) * 8) for _ in range(4)]
    for i in range(n):
        frame = np.roll(base, 16 * i, axis=1)
        for k, (colour, size, speed) in enumerate(boxes):
            bx = (speed * i * 3 + 200 * k) % (WIDTH - size)
            by = (speed * i + 150 * k) % (HEIGHT - size)
            frame[by : by + size, bx : bx + size] = colour
        for _ in range(6):
            bx, by = rng.integers(0, WIDTH - 48), rng.integers(0, HEIGHT - 48)
            frame[by : by + 48, bx : bx + 48] = rng.integers(0, 256, (48, 48, 3), dtype=np.uint8)
        yield frame


def synthesize(cache: Path, minutes: float, video_fps: float) -> tuple[Path, float | None]:
    """The cached video for (minutes, fps), written on first use; returns (path, seconds spent or None)."""
    from collectors.synthetic import write_video

    path = cache / f"synthetic_{minutes:g}min_{WIDTH}x{HEIGHT}_{video_fps:g}fps_v1.mp4"
    if path.exists():
        return path, None
    n = int(round(minutes * 60 * video_fps))
    print(f"synthesizing {path.name}: {n} frames ...", file=sys.stderr, flush=True)
    start = time.perf_counter()

    def progress(frames):
        for i, f in enumerate(frames):
            if i and i % max(1, n // 10) == 0:
                print(f"  {i}/{n} frames, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
            yield f

    write_video(path, progress(synthetic_frames(n)), fps=video_fps)
    return path, time.perf_counter() - start


def child(mode: str, path: str) -> dict:
    """One measurement in this (fresh) process; the parent reads the JSON it prints."""
    from collectors.media import open_video
    from extractors.decode import iter_frame_batches

    base = peak_rss_mib()
    start = time.perf_counter()
    if mode == "stream":
        frames = 0
        for times, batch in iter_frame_batches(path, fps=1, batch_size=32):
            frames += len(times)
    elif mode == "colorhist":
        from collectors.records import RawItem
        from extractors.colorhist import ColorHistogram

        track = ColorHistogram(fps=1, batch_size=32).extract(RawItem(id="bench", source="benchmark", media={"video": path}))
        frames = len(track)
    elif mode == "naive":
        container, stream = open_video(path)
        with container:
            every = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        frames = len(every)
    else:
        raise ValueError(f"unknown mode {mode!r}")
    return {"mode": mode, "frames": frames, "seconds": time.perf_counter() - start, "base_mib": base, "peak_mib": peak_rss_mib()}


def measure(mode: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes-short", type=float, default=6)
    ap.add_argument("--minutes-long", type=float, default=60)
    ap.add_argument("--video-fps", type=float, default=2, help="source frame rate of the synthetic videos")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "vsumhub-bench")
    ap.add_argument("--skip-naive", action="store_true")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0

    args.cache.mkdir(parents=True, exist_ok=True)
    videos = {}
    for label, minutes in (("short", args.minutes_short), ("long", args.minutes_long)):
        path, took = synthesize(args.cache, minutes, args.video_fps)
        videos[label] = (minutes, path)
        size = path.stat().st_size / 2**20
        how = f"synthesized in {took:.1f} s" if took is not None else "cached"
        print(f"{label}: {path} ({minutes:g} min, {size:.0f} MiB, {how})")

    rows = []
    for mode in ("stream", "colorhist"):
        for label in ("short", "long"):
            rows.append((label, videos[label][0], measure(mode, videos[label][1])))
    naive = None
    if not args.skip_naive:
        minutes, path = videos["short"]
        need_gb = minutes * 60 * args.video_fps * WIDTH * HEIGHT * 3 / 1e9
        if need_gb > NAIVE_LIMIT_GB:
            print(f"naive baseline skipped: it would need ~{need_gb:.1f} GB (limit {NAIVE_LIMIT_GB} GB)")
        else:
            naive = measure("naive", path)
            rows.append(("short", minutes, naive))

    print(f"\n{'mode':<10} {'video':>8} {'frames':>7} {'seconds':>8} {'base MiB':>9} {'peak MiB':>9}")
    for label, minutes, r in rows:
        print(f"{r['mode']:<10} {minutes:>6g} m {r['frames']:>7} {r['seconds']:>8.1f} {r['base_mib']:>9.0f} {r['peak_mib']:>9.0f}")

    ok = True
    print()
    for mode in ("stream", "colorhist"):
        short, long = (r for _, _, r in rows if r["mode"] == mode)
        ratio = long["peak_mib"] / short["peak_mib"]
        ok &= ratio < 1.2
        print(f"{mode}: peak({args.minutes_long:g} min) / peak({args.minutes_short:g} min) = {ratio:.3f}")
    if naive:
        scale = args.minutes_long / args.minutes_short
        guess = naive["base_mib"] + (naive["peak_mib"] - naive["base_mib"]) * scale
        print(f"naive (every frame in a list): {naive['peak_mib']:.0f} MiB at {args.minutes_short:g} min, "
              f"~{guess / 1024:.1f} GiB extrapolated to {args.minutes_long:g} min")
    print("PASS: does not grow with duration" if ok else "FAIL: peak memory grows with duration")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
