"""Scale, measured: synthetic releases with the real shapes at several sizes, each stage run in its own
subprocess, its wall time, CPU time and peak RSS recorded, and the growth ratio between sizes printed
(a ratio is robust to this shared machine's noise; the absolute times are not). Issue 25; results in
docs/scaling.md.

    python benchmarks/scale.py bliss --sizes 1/16 1/4 [--work DIR] [--keep]
    python benchmarks/scale.py mrhisum --sizes 1/16 1/4 1
    python benchmarks/scale.py job --items 10000 100000
    ... [--json results.json]

- ``bliss``: BLiSS as A2Summ released it (13,303 clips: 300 x 512 CLIP frames, ~40 x 768 RoBERTa
  sentences, ~10 x 512 keyframes, 628 videos of 5-minute clips; float32: ~10 GB at full size), at a
  fraction of the clips. Stages: ``import`` (builders.bliss.a2summ.iter_a2summ, every clip, arrays),
  ``build`` (``python -m builders.bliss --source a2summ``: the import plus the parquet and tar writing),
  ``load`` (models.data.load_parquet of every split: load_dataset's Arrow cache), ``loader`` (one epoch
  of the train split batched as ``models.train --model a2summ`` batches it: models.loader.Loader, batch
  64, shuffled, without the model), ``train`` with ``--train`` (one epoch of ``python -m models.train
  --model a2summ`` on the CPU; its data-wait share), ``publish`` (``python -m
  builders.publish --dry-run`` against the Hub stand-in of tests/hub_server.py on 127.0.0.1).
- ``mrhisum``: mr_hisum.h5 with 31,892 videos at full size, each 120-300 s (uniform: Mr.HiSum's
  videos are YouTube-8M videos of 2-5 minutes), 1024-d float32 features per second; stage ``build``.
- ``job``: extractors.run on N items of a trivial extractor (reads the item's 16-byte media file)
  with 2 local workers (``--job-workers``; 0 runs the tasks on threads of the driver, so its RSS
  is an upper bound of the driver's), shards of 64: ``plan`` (plan_shards of the items), ``run`` (the whole job:
  driver wall and driver peak RSS, per item) and ``rerun`` with everything done; run.json / plan.json
  sizes.

Peak RSS is the stage process's own VmHWM (without its children: the job's driver apart from its Dask
workers), reported by the stage itself; CPU seconds are ``os.wait4``'s for the stage's process tree.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractors.base import Extractor, FeatureTrack  # noqa: E402

BLISS_CLIPS, BLISS_VIDEOS, BLISS_TEST = 13_303, 628, 0.15
MRHISUM_VIDEOS = 31_892


# ---------------------------------------------------------------- measuring


def measure(argv: list[str], env: dict | None = None, cwd: Path = ROOT) -> dict:
    """Run ``argv``; its wall and CPU seconds, peak RSS (MB) and output. Raises when it fails."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True)
    out = p.stdout.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    if p.returncode not in (0, 3):  # 3: some items failed, all recorded
        raise RuntimeError(f"{' '.join(map(str, argv))} exited {p.returncode}:\n{out[-3000:]}")
    found = [json.loads(line[6:]) for line in out.splitlines() if line.startswith("SCALE ")]
    return {"wall": round(wall, 2), "cpu": round(usage.ru_utime + usage.ru_stime, 2),
            **(found[-1] if found else {"rss_mb": None}), "output": out}


def stage(name: str, **args) -> list[str]:
    """argv of one in-process stage of this file (``_stage`` below), in a fresh interpreter."""
    return [sys.executable, str(Path(__file__).resolve()), "_stage", name, json.dumps(args)]


def peak_rss_mb() -> float:
    """This process's peak RSS since its exec (VmHWM). Not ru_maxrss: a child that Python starts with
    vfork inherits its parent's peak there (Linux keeps signal->maxrss across exec), so a child of a
    big parent would report the parent's size."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


_ANON_PEAK = [0.0]


def watch_anonymous_memory(every: float = 0.02) -> None:
    """Sample this process's anonymous RSS (RssAnon: heap, arrays; not the pages of memory-mapped
    files such as load_dataset's Arrow cache, which VmHWM counts although the kernel can drop them)
    on a daemon thread; report() gives its peak."""
    def sample():
        while True:
            for line in Path("/proc/self/status").read_text().splitlines():
                if line.startswith("RssAnon:"):
                    _ANON_PEAK[0] = max(_ANON_PEAK[0], int(line.split()[1]) / 1024)
            time.sleep(every)

    threading.Thread(target=sample, daemon=True, name="scale-anon-rss").start()


def report(extra: dict) -> None:
    """The stage's own figures for measure(): its peak RSS and peak anonymous RSS (this process,
    without its children)."""
    extra["rss_mb"] = peak_rss_mb()
    extra["anon_mb"] = round(_ANON_PEAK[0], 1)
    print("SCALE " + json.dumps(extra), flush=True)


def module(name: str, *args: str) -> list[str]:
    """argv that runs ``python -m name args`` and then reports its peak RSS (the ``_module`` stage)."""
    return [sys.executable, str(Path(__file__).resolve()), "_module", name, *map(str, args)]


def du_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 2**20, 1)


# ---------------------------------------------------------------- BLiSS as A2Summ released it


def synth_bliss(root: Path, clips: int, seed: int = 0) -> dict:
    """An A2Summ BLiSS release of ``clips`` clips (see the module docstring), written as the authors
    did (json.dump, np.save of a dict), one feature file in memory at a time."""
    rng = np.random.default_rng(seed)
    videos = max(2, round(clips * BLISS_VIDEOS / BLISS_CLIPS))
    per_video = np.full(videos, clips // videos)
    per_video[: clips % videos] += 1
    split_of_video = {v: ("test" if v < max(1, round(videos * BLISS_TEST)) else "train") for v in range(videos)}
    anns = {"train": {}, "test": {}}
    for v, n in enumerate(per_video):
        video_id = f"{1000000 + v * 7919}"
        for c in range(n):
            frames = 300 if c < n - 1 else int(rng.integers(30, 301))
            sentences = int(np.clip(rng.poisson(40 * frames / 300), 1, frames))
            cuts = np.sort(rng.choice(np.arange(1, frames), size=sentences - 1, replace=False))
            bounds = [0, *map(int, cuts), frames]
            label = np.zeros(frames, int)
            label[rng.choice(frames, size=min(frames, max(1, int(rng.poisson(10)))), replace=False)] = 1
            anns[split_of_video[v]][f"{video_id}_{c}"] = {
                "video_id": video_id, "num_frame": frames, "num_keyframe": int(label.sum()), "num_sentence": sentences,
                "sentence": [" ".join(f"w{int(x)}" for x in rng.integers(0, 5000, 10)) for _ in range(sentences)],
                "sentence_time": [[bounds[j], bounds[j + 1]] for j in range(sentences)],
                "text_label": [int(x) for x in rng.random(sentences) < 0.2], "video_label": label.tolist(),
                "highlight": " ".join(f"w{int(x)}" for x in rng.integers(0, 5000, 49)),
            }
    (root / "annotation").mkdir(parents=True, exist_ok=True)
    (root / "feature").mkdir(parents=True, exist_ok=True)
    for split, clip_anns in anns.items():
        (root / "annotation" / f"{split}.json").write_text(json.dumps(clip_anns))
        for stem, rows, dim in (("video_clip", "num_frame", 512), ("text_roberta", "num_sentence", 768),
                                ("video_summ_clip", "num_keyframe", 512)):
            features = {k: rng.random((a[rows], dim), dtype=np.float32) for k, a in clip_anns.items()}
            np.save(root / "feature" / f"{stem}_{split}.npy", features, allow_pickle=True)
            del features
    return {"clips": clips, "videos": videos, "train": len(anns["train"]), "test": len(anns["test"]),
            "release_mb": du_mb(root)}




def bliss(fraction: Fraction, work: Path, train: bool = False) -> dict:
    clips = max(16, round(BLISS_CLIPS * fraction))
    release, out, runs = work / "release", work / "hub" / "bliss", work / "runs"
    t0 = time.perf_counter()
    facts = synth_bliss(release, clips)
    facts["synth_s"] = round(time.perf_counter() - t0, 1)
    env = {"HF_HOME": str(work / "hf"), "HF_DATASETS_CACHE": str(work / "hf" / "datasets"), "HF_HUB_OFFLINE": "1"}
    stages = {"import": measure(stage("import", release=str(release)))}
    stages["build"] = measure(module("builders.bliss", "--source", "a2summ", "--input", release, "--out", out,
                                     "--work", work / "work", "--no-progress"), env)
    facts["parquet_mb"], facts["wds_mb"] = du_mb(out / "data"), du_mb(out / "wds")
    stages["load"] = measure(stage("load", dataset=str(out), config="clip-roberta"), env)
    stages["loader"] = measure(stage("loader", dataset=str(out), config="clip-roberta"), env)
    if train:
        stages["train"] = measure(module("models.train", "--model", "a2summ", "--dataset", out, "--config", "clip-roberta",
                                         "--out", runs, "--epochs", "1"), env)
        epoch = json.loads((runs / "metrics.jsonl").read_text().splitlines()[-1])
        stages["train"].update({k: epoch["time"][k] for k in ("steps", "seconds", "data_wait_fraction")})
    stages["publish"] = publish_dry_run(out, env)
    return {"facts": facts, "stages": stages}


def publish_dry_run(out: Path, env: dict) -> dict:
    sys.path.insert(0, str(ROOT / "tests"))
    from hub_server import HubServer, User

    with HubServer(tokens={"tok": User("bench", orgs=["org"])}) as hub:
        env = {**env, "HF_ENDPOINT": hub.url, "HF_TOKEN": "tok", "HF_HUB_DISABLE_XET": "1", "HF_HUB_OFFLINE": "0"}
        return measure(module("builders.publish", out, "--repo-id", "org/bliss", "--dry-run"), env)


# ---------------------------------------------------------------- Mr.HiSum


def synth_mrhisum(root: Path, videos: int, seed: int = 0) -> dict:
    """mr_hisum.h5 + metadata.csv + mr_hisum_split.json as the Mr.HiSum repository lays them out."""
    import h5py

    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    keys = [f"video_{i + 1}" for i in range(videos)]
    lines = ["video_id,yt8m_file,random_id,youtube_id,duration,views,labels\n"]
    with h5py.File(root / "mr_hisum.h5", "w") as f:
        for i, key in enumerate(keys):
            n = int(rng.integers(120, 301))
            g = f.create_group(key)
            g["gtscore"] = rng.random(n)
            cuts = np.sort(rng.choice(np.arange(1, n), size=max(1, n // 20), replace=False))
            starts, ends = np.r_[0, cuts], np.r_[cuts, n]
            g["change_points"] = np.stack([starts, ends - 1], axis=1)
            summary = np.zeros(n, np.float32)
            summary[: max(1, int(0.15 * n))] = 1
            g["gt_summary"] = summary
            g["features"] = rng.random((n, 1024), dtype=np.float32)
            lines.append(f"{key},train{i % 3844:04d},R{i}aA,yt{i:09d},{n},{50000 + i},\"[{i % 3862}]\"\n")
    (root / "metadata.csv").write_text("".join(lines))
    test = max(1, round(videos * 2000 / MRHISUM_VIDEOS))
    (root / "split.json").write_text(json.dumps({"train_keys": keys[2 * test:], "val_keys": keys[:test],
                                                 "test_keys": keys[test:2 * test]}))
    return {"videos": videos, "release_mb": du_mb(root)}


def mrhisum(fraction: Fraction, work: Path) -> dict:
    videos = max(8, round(MRHISUM_VIDEOS * fraction))
    release = work / "release"
    t0 = time.perf_counter()
    facts = synth_mrhisum(release, videos)
    facts["synth_s"] = round(time.perf_counter() - t0, 1)
    stages = {"build": measure(module("builders.mrhisum", "--h5", release / "mr_hisum.h5", "--metadata",
                                      release / "metadata.csv", "--splits", release / "split.json",
                                      "--out", work / "hub", "--work", work / "work", "--no-progress"))}
    facts["parquet_mb"], facts["wds_mb"] = du_mb(work / "hub" / "data"), du_mb(work / "hub" / "wds")
    return {"facts": facts, "stages": stages}


# ---------------------------------------------------------------- the extraction job


class Tiny(Extractor):
    """Reads the item's media file (a few bytes) into one 8-d vector: every second is the job's own."""

    name = "tiny"
    modality = "visual"
    dim = 8

    def __init__(self, device: str = "cpu"):
        self.device = device

    def config(self) -> dict:
        return {"extractor": self.name}

    def meta(self) -> dict:
        return self.config()

    def extract(self, item) -> FeatureTrack:
        data = Path(item.media["video"]).read_bytes()
        return FeatureTrack(np.zeros(1), np.frombuffer(data.ljust(32, b"\0")[:32], np.float32)[None], {})


def job_items(media: Path, n: int) -> list:
    from collectors.records import RawItem

    items = []
    for i in range(n):
        path = media / f"{i // 1000:03d}" / f"m{i:06d}.bin"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(i.to_bytes(16, "little"))
        items.append(RawItem(id=f"m{i:06d}", source="bench", media={"video": str(path)}))
    return items


def job(n: int, work: Path, workers: int = 2) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    job_items(work / "media", n)
    stages = {"plan": measure(stage("plan", work=str(work), n=n)),
              "run": measure(stage("job", work=str(work), n=n, workers=workers)),
              "rerun": measure(stage("job", work=str(work), n=n, workers=workers))}
    out = work / "out"
    facts = {"items": n, "plan_json_kb": round((out / "plan.json").stat().st_size / 1024, 1),
             "run_json_kb": round((out / "run.json").stat().st_size / 1024, 1)}
    return {"facts": facts, "stages": stages}


# ---------------------------------------------------------------- in-process stages


def _stage(name: str, args: dict) -> None:
    if name == "import":
        from builders.bliss.a2summ import iter_a2summ

        failures: list = []
        n = sum(1 for _ in iter_a2summ(args["release"], failures=failures, arrays=True))
        assert n > 0 and not failures, failures[:3]
        report({"clips": n})
    elif name == "load":
        from models.data import load_parquet, split_names

        rows = 0
        for split in split_names(args["dataset"], args["config"]):
            rows += len(load_parquet(args["dataset"], args["config"], split))
        report({"rows": rows})
    elif name == "loader":  # one epoch of the train split as models.train batches it, without the model
        from models.loader import Loader
        from models.data import open_split
        from models.train import parse_args
        from models.training import setup

        train_args = parse_args(["--model", "a2summ", "--dataset", args["dataset"], "--config", args["config"],
                                 "--out", os.devnull])
        cols, config = setup(train_args)
        source = open_split(args["dataset"], config["config"], "train", cols, "parquet", labeled=True)
        loader = Loader(source, int(config["train"]["batch_size"]), shuffle=True, seed=0)
        t0, batches = time.perf_counter(), sum(1 for _ in loader.epoch(0))
        report({"epoch_s": round(time.perf_counter() - t0, 2), "batches": batches, "examples": len(source)})
    elif name == "plan":
        from extractors.plan import plan_shards

        items = job_items(Path(args["work"]) / "media", args["n"])
        t0 = time.perf_counter()
        shards = plan_shards(items, 64)
        report({"plan_s": round(time.perf_counter() - t0, 3), "shards": len(shards)})
    elif name == "job":
        from extractors.run import JobConfig, run_extraction

        items = job_items(Path(args["work"]) / "media", args["n"])
        t0 = time.perf_counter()
        r = run_extraction(items, {"benchmarks.scale:Tiny": {}}, Path(args["work"]) / "out",
                           job=JobConfig(workers=args["workers"], shard_size=64, progress=False))
        wall = time.perf_counter() - t0
        report({"job_s": round(wall, 2), "ms_per_item": round(1000 * wall / args["n"], 3), "exit": r.exit_code,
                "ok": r.record["totals"].get("ok"), "tasks_run": r.record["totals"]["tasks_run"]})
    else:
        raise SystemExit(f"unknown stage {name}")


# ---------------------------------------------------------------- the tables


def table(kind: str, results: dict[str, dict]) -> str:
    """Per size: each stage's wall, CPU, peak RSS; then the growth between consecutive sizes."""
    sizes = list(results)
    lines = [f"### {kind}", "", "| size | stage | wall s | CPU s | peak RSS MB | peak anon MB | notes |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for size in sizes:
        facts = results[size]["facts"]
        for name, s in results[size]["stages"].items():
            notes = {k: v for k, v in s.items() if k not in ("wall", "cpu", "rss_mb", "anon_mb", "output")}
            lines.append(f"| {size} | {name} | {s['wall']} | {s['cpu']} | {s['rss_mb']} | {s.get('anon_mb')} | "
                         f"{json.dumps(notes)[:200]} |")
        lines.append(f"| {size} | (facts) | | | | | {json.dumps(facts)} |")
    for a, b in zip(sizes, sizes[1:]):
        ratio = float(Fraction(b) / Fraction(a))
        lines += ["", f"Growth {a} -> {b} (size x{ratio:g}):", "",
                  "| stage | wall x | CPU x | RSS x | anon x |", "| --- | --- | --- | --- | --- |"]
        for name, s in results[b]["stages"].items():
            r = results[a]["stages"][name]
            anon = f"{s['anon_mb'] / max(r['anon_mb'], 1e-9):.2f}" if s.get("anon_mb") and r.get("anon_mb") else "-"
            lines.append(f"| {name} | {s['wall'] / max(r['wall'], 1e-9):.2f} | {s['cpu'] / max(r['cpu'], 1e-9):.2f} "
                         f"| {s['rss_mb'] / max(r['rss_mb'], 1e-9):.2f} | {anon} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("_stage", "_module"):
        watch_anonymous_memory()
    if argv and argv[0] == "_stage":
        _stage(argv[1], json.loads(argv[2]))
        return 0
    if argv and argv[0] == "_module":
        import runpy

        sys.argv = [argv[1], *argv[2:]]
        try:
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        report({"exit": code})
        return code
    p = argparse.ArgumentParser(prog="python benchmarks/scale.py", description=__doc__.split("\n\n")[0])
    p.add_argument("what", choices=("bliss", "mrhisum", "job"))
    p.add_argument("--sizes", nargs="+", default=["1/16", "1/4"], help="fractions of the full size (bliss, mrhisum)")
    p.add_argument("--items", nargs="+", type=int, default=[10_000, 100_000], help="items of the job")
    p.add_argument("--job-workers", type=int, default=2, help="job: local Dask workers (0: threads in the driver)")
    p.add_argument("--work", type=Path, default=ROOT / "work" / "scale", help="where releases and outputs go")
    p.add_argument("--train", action="store_true", help="bliss: also one real epoch of models.train (CPU: slow)")
    p.add_argument("--keep", action="store_true", help="keep each size's files (default: removed after it)")
    p.add_argument("--json", type=Path, help="append the results to this JSON file")
    args = p.parse_args(argv)
    results = {}
    sizes = args.sizes if args.what != "job" else [str(n) for n in args.items]
    for size in sizes:
        work = args.work / args.what / size.replace("/", "_")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        if args.what == "bliss":
            results[size] = bliss(Fraction(size), work, args.train)
        elif args.what == "mrhisum":
            results[size] = mrhisum(Fraction(size), work)
        else:
            results[size] = job(int(size), work, args.job_workers)
        for s in results[size]["stages"].values():
            s.pop("output", None)
        print(json.dumps({size: results[size]}), flush=True)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(table(args.what, results))
    if args.json:
        old = json.loads(args.json.read_text()) if args.json.exists() else {}
        old.setdefault(args.what, {}).update(results)
        args.json.write_text(json.dumps(old, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
