"""BLiSS (A2Summ): livestreams cut into 5-minute clips with frames, sentences, key sentences,
keyframes and an abstractive summary; published as a Hugging Face dataset + webdataset shards.

    python -m builders.bliss                                  # the bundled sample -> hub/bliss-sample
    python -m builders.bliss --source raw --input DIR         # your own livestreams (docs/raw-layout.md)
    python -m builders.bliss --source a2summ --input DIR      # the files A2Summ released

Labels (per clip):
- key sentences: a sentence that contains one of the clip's annotator keywords (case-insensitive,
  whole words; a multi-word keyword matches as a phrase);
- keyframes: for every frame of the video's thumbnail animation, the clip frame whose visual
  feature is most similar to it (cosine); ``frame_labels`` marks them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import re
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from builders import a2summ as a2summ_source
from builders.clips import Clip, assign_sentences, fixed_clips, frame_indices
from builders.extraction import CachedThumbnails, add_job_arguments, extract, job_settings
from builders.writers import ConfigWriter, update_build_record
from builders.schema import (
    SPLITS,
    bliss_features,
    config_name,
    frames_column,
    keyframe_column,
    sentences_column,
    thumbnail_column,
)
from builders.splits import assign_splits
from cards.render import write_card
from collectors.records import ItemError, RawItem, write_manifest
from extractors.base import Extractor, FeatureTrack, MissingWeightsError, UnknownExtractorError
from extractors.registry import entry, get_extractor, names
from extractors.engine import quiet_dask_logs
from extractors.run import SetupError

log = logging.getLogger("builders.bliss")

CLIP_SECONDS = 300.0
DEFAULTS = {  # source -> (visual, text, dataset name)
    "sample": ("colorhist", "minilm", "bliss-sample"),
    "raw": ("clip", "roberta", "bliss"),
    "a2summ": ("clip", "roberta", "bliss"),
}

CITATION = """@inproceedings{he2023a2summ,
  title     = {Align and Attend: Multimodal Summarization with Dual Contrastive Losses},
  author    = {He, Bo and Wang, Jun and Qiu, Jielin and Bui, Trung and Shrivastava, Abhinav and Wang, Zhaowen},
  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},
  year      = {2023}
}"""

COLUMNS = {
    "id": "clip id: `<video_id>_<clip_index:03d>` (the released clip id for the A2Summ import)",
    "video_id": "source livestream; no video spans two splits",
    "clip_index": "k: the clip covers seconds [300k, 300(k+1)) of the video",
    "clip_start": "clip start in the source video (s)",
    "clip_end": "clip end in the source video (s)",
    "duration": "clip length (s); the last clip of a video may be shorter than 300",
    "frame_times": "[T] time of each frame step (s from the clip start; step centres at 1 fps)",
    "sentences": "[N] transcript sentences with start/end (s from the clip start), clamped to the clip",
    "frame_labels": "[T] 1 = keyframe (most similar to a thumbnail-animation frame)",
    "sentence_labels": "[N] 1 = key sentence (contains an annotator keyword)",
    "summary": "abstractive summary written by the annotator for this clip",
    "keywords": "annotator keywords for this clip",
    "frames_*": "[T, D] visual features, one per frame step (see Encoders)",
    "sentences_*": "[N, D] text features, one per sentence (see Encoders)",
    "keyframe_*": "sorted distinct frame indices of the keyframes",
    "thumbnail_*": "[K, D] features of the thumbnail-animation frames",
    "title": "livestream title", "description": "livestream description", "streamer": "streamer",
    "creative_fields": "creative fields of the stream", "tools": "creative tools used",
}


def card_facts(source: str) -> dict:
    sources = {
        "sample": "The bundled sample: synthetic livestreams (a canvas on which drawings grow, with scene changes), "
                  "their transcripts, annotations and thumbnail animations, generated deterministically by "
                  "`builders/bliss_sample.py`. It exists to exercise the whole pipeline offline; it is not real data.",
        "raw": "Livestream videos with transcripts, metadata, thumbnail animations and per-clip annotations in the "
               "layout of `docs/raw-layout.md`.",
        "a2summ": "The annotation and feature files released with A2Summ (He et al., CVPR 2023): CLIP frame features, "
                  "RoBERTa sentence features and ground-truth keyframe features as released; keywords were not released.",
    }
    return {
        "pretty_name": "BLiSS: Behance LiveStream Summarization" + (" (synthetic sample)" if source == "sample" else ""),
        "summary": "Livestream videos cut into 5-minute clips. Per clip: frame features at 1 fps, transcript sentences "
                   "with times and sentence features, key sentences, keyframes and an abstractive summary "
                   "(the BLiSS dataset of A2Summ, CVPR 2023).",
        "sources": sources[source],
        "labels": (
            "- Clips: clip k covers [300k, 300(k+1)) s; the last clip is what remains, dropped if shorter than "
            "`--min-clip` seconds (10 by default).\n"
            "- Sentences: a sentence belongs to the clip containing its midpoint and is clamped to that clip, so a "
            "sentence that straddles a boundary appears once, where most of it is spoken.\n"
            "- Key sentences (`sentence_labels`): sentences that contain one of the clip's annotator keywords "
            "(case-insensitive, whole words).\n"
            "- Keyframes (`frame_labels`, `keyframe_<visual>`): for every frame of the video's thumbnail animation, "
            "the clip frame with the most similar visual feature (cosine). `thumbnail_<visual>` holds the "
            "thumbnail frames' own features, the reference for A2Summ's keyframe cosine metric.\n"
            "- Summary: written by the annotator for the clip."
        ),
        "license": "cc-by-nc-4.0" if source != "sample" else "apache-2.0",
        "license_text": "The sample is synthetic and released with the code (Apache-2.0)." if source == "sample" else
                        "BLiSS videos and transcripts come from behance.net; use them for research under the terms "
                        "of the original release (CC BY-NC 4.0 as published by the A2Summ authors).",
        "task_categories": ["summarization", "video-text-to-text"],
        "tags": ["video-summarization", "multimodal-summarization", "livestream"],
        "citation": CITATION,
        "columns": COLUMNS,
        "usage_columns": ["frame_times", "frames_*", "sentences", "sentences_*", "sentence_labels", "frame_labels", "summary"],
    }


# ---------------------------------------------------------------- labels


def keyword_pattern(keywords: list[str]) -> re.Pattern | None:
    words = [re.escape(k.strip().lower()) for k in keywords if k.strip()]
    if not words:
        return None
    words = [w.replace(r"\ ", r"\s+") for w in words]
    return re.compile(r"(?<!\w)(?:" + "|".join(sorted(words, key=len, reverse=True)) + r")(?!\w)", re.IGNORECASE)


def sentence_labels(texts: list[str], keywords: list[str]) -> np.ndarray:
    pattern = keyword_pattern(keywords)
    return np.array([1 if pattern and pattern.search(t) else 0 for t in texts], dtype=np.int8)


def keyframes(frames: np.ndarray, thumbnails: np.ndarray) -> np.ndarray:
    """Sorted distinct indices of the frames most similar (cosine) to each thumbnail frame."""
    if len(frames) == 0 or len(thumbnails) == 0:
        return np.zeros(0, dtype=np.int32)
    f = frames / np.maximum(np.linalg.norm(frames, axis=1, keepdims=True), 1e-12)
    t = thumbnails / np.maximum(np.linalg.norm(thumbnails, axis=1, keepdims=True), 1e-12)
    return np.unique(np.argmax(t @ f.T, axis=1)).astype(np.int32)


# ---------------------------------------------------------------- one video -> clip rows


def clip_rows(item: RawItem, video: FeatureTrack, text: FeatureTrack, thumbs: np.ndarray,
              visual: str, text_name: str, min_clip: float) -> tuple[list[dict], dict]:
    """The examples (one per annotated clip) of one video, and facts about what was left out."""
    fps = video.meta.get("fps", 1.0)
    duration = len(video) / fps
    clips, dropped_seconds = fixed_clips(duration, CLIP_SECONDS, min_clip)
    per_clip = assign_sentences(item.transcript, clips)
    annotations = item.meta.get("clip_annotations", {})
    rows, unannotated = [], []
    for clip, sentences in zip(clips, per_clip):
        ann = annotations.get(clip.index) or annotations.get(str(clip.index))
        if ann is None:
            unannotated.append(clip.index)
            continue
        rows.append(_clip_row(item, clip, sentences, ann, video, text, thumbs, visual, text_name))
    n_assigned = sum(len(s) for s in per_clip)
    facts = {"dropped_seconds": dropped_seconds, "unannotated_clips": len(unannotated),
             "sentences_outside_clips": len(item.transcript) - n_assigned}
    return rows, facts


def _clip_row(item, clip: Clip, sentences, ann, video, text, thumbs, visual, text_name) -> dict:
    idx = frame_indices(video.times, clip)
    frames = video.values[idx].astype(np.float32)
    sent_idx = [i for i, _ in sentences]
    sents = [s for _, s in sentences]
    keywords = [str(k) for k in ann.get("keywords", [])]
    kf = keyframes(frames, thumbs)
    labels = np.zeros(len(idx), dtype=np.int8)
    labels[kf] = 1
    meta = item.meta
    return {
        "id": f"{item.id}_{clip.index:03d}",
        "video_id": item.id,
        "clip_index": clip.index,
        "clip_start": clip.start,
        "clip_end": clip.end,
        "duration": clip.duration,
        "title": item.title,
        "description": item.description,
        "streamer": str(meta.get("streamer", "")),
        "creative_fields": [str(x) for x in meta.get("creative_fields", [])],
        "tools": [str(x) for x in meta.get("tools", [])],
        "frame_times": video.times[idx] - clip.start,
        frames_column(visual): frames,
        "sentences": sents,
        sentences_column(text_name): text.values[sent_idx].astype(np.float32).reshape(len(sent_idx), text.dim),
        "frame_labels": labels,
        "sentence_labels": sentence_labels([s["text"] for s in sents], keywords),
        keyframe_column(visual): kf,
        thumbnail_column(visual): thumbs.astype(np.float32),
        "summary": str(ann.get("summary", "")),
        "keywords": keywords,
    }


# ---------------------------------------------------------------- the build


def _count(stats: dict, split: str, row: dict, visual: str) -> None:
    """Add one example to its split's counts (frames, sentences, seconds, labels)."""
    s = stats.setdefault(split, {"videos": 0, "examples": 0, "frames": 0, "sentences": 0, "seconds": 0.0,
                                 "key_sentences": 0, "keyframes": 0})
    s["examples"] += 1
    s["frames"] += len(row["frame_times"])
    s["sentences"] += len(row["sentences"])
    s["seconds"] += float(row["duration"])
    s["key_sentences"] += int(np.sum(row["sentence_labels"]))
    s["keyframes"] += len(row[keyframe_column(visual)])


def build_from_items(items: list[RawItem], splits_given, out: Path, work: Path, visual: tuple[Extractor, dict],
                     text: tuple[Extractor, dict], min_clip: float, rows_per_shard: int, job: dict,
                     progress: bool = True) -> dict:
    """Extract (the sharded job), clip, label and write one config from RawItems; returns the build record.

    ``visual`` / ``text``: (this process's instance, its constructor options for the workers);
    ``job``: run_extraction's engine arguments (builders.extraction.job_settings).
    """
    from tqdm import tqdm

    t0 = time.time()
    (visual, vopts), (text, topts) = visual, text
    config = config_name(visual.name, text.name)
    features = bliss_features(visual.name, visual.dim, text.name, text.dim)
    split_of = assign_splits([i.id for i in items], splits_given)
    found, job_record = extract(items, work / "features", {visual.name: (visual, vopts), text.name: (text, topts)},
                                job, progress)
    vfeat, tfeat = found[visual.name], found[text.name]
    thumbnails = CachedThumbnails(work / "thumbnails", visual)
    timings = Counter(extract=time.time() - t0)
    failures = [{"id": i.id, **i.error} for i in items if not i.ok]
    stats: dict[str, dict] = {}
    left_out = Counter()
    frames_done = 0
    ok_items = [i for i in items if i.ok]
    bar = tqdm(ok_items, desc=f"bliss {config}", unit="video", disable=not progress, file=sys.stderr)
    with ConfigWriter(out, config, features, rows_per_shard=rows_per_shard) as writer:
        for item in bar:
            try:
                vtrack, ttrack = vfeat.video(item), tfeat.text(item)
                t = time.time()
                thumbs = thumbnails.thumbnail(item)
                timings["thumbnails"] += time.time() - t
                rows, facts = clip_rows(item, vtrack, ttrack, thumbs.values, visual.name, text.name, min_clip)
            except ItemError as e:
                failures.append({"id": item.id, "kind": e.kind, "message": e.message})
                log.warning("%s failed: %s: %s", item.id, e.kind, e.message)
                bar.set_postfix(failed=len(failures))
                continue
            split = split_of[item.id]
            for row in rows:
                writer.add(split, row)
                _count(stats, split, row, visual.name)
            if rows:
                stats[split]["videos"] += 1
            left_out.update(facts)
            frames_done += len(vtrack)
            bar.set_postfix(frames=frames_done, fps=f"{frames_done / max(time.time() - t0, 1e-9):.0f}", failed=len(failures))
        t = time.time()
    timings["write"] += time.time() - t
    failed_ids = {f["id"] for f in failures}
    return {
        "features": features.to_dict(),
        "columns": {"visual": frames_column(visual.name), "text": sentences_column(text.name)},
        "extractors": {"visual": visual.meta(), "text": text.meta()},
        "splits": writer.facts,
        "stats": stats,
        "left_out": dict(left_out),
        "items": {"total": len(items), "ok": len(items) - len(failed_ids), "failed": len(failed_ids),
                  "ids_by_split": {s: sorted(v for v, sp in split_of.items() if sp == s and v not in failed_ids)
                                   for s in SPLITS}},
        "failures": {"by_kind": dict(Counter(f["kind"] for f in failures)), "items": failures},
        "timings": {k: round(v, 3) for k, v in timings.items()} | {"total": round(time.time() - t0, 3)},
        "extraction_job": job_record,
    }


def build_a2summ(input_dir: Path, out: Path, rows_per_shard: int) -> dict:
    """Import the A2Summ release (features as released: CLIP 512-d, RoBERTa 768-d), streaming."""
    t0 = time.time()
    failures: list[dict] = []
    stats: dict[str, dict] = {}
    videos: dict[str, set] = {}
    with ConfigWriter(out, config_name("clip", "roberta"), a2summ_source.FEATURES, rows_per_shard=rows_per_shard) as writer:
        for split, row in a2summ_source.iter_a2summ(input_dir, failures=failures, arrays=True):
            writer.add(split, row)
            _count(stats, split, row, "clip")
            videos.setdefault(split, set()).add(row["video_id"])
    for split, ids in videos.items():
        stats[split]["videos"] = len(ids)
    n = sum(s["examples"] for s in stats.values())
    provided = {"extractor": "provided", "sampling": "as released"}
    return {
        "features": a2summ_source.FEATURES.to_dict(),
        "columns": {"visual": "frames_clip", "text": "sentences_roberta"},
        "extractors": {"visual": {**provided, "model": "CLIP (A2Summ release)", "dim": 512},
                       "text": {**provided, "model": "RoBERTa (A2Summ release)", "dim": 768}},
        "splits": writer.facts,
        "stats": stats,
        "validation_rule": a2summ_source.VALIDATION_RULE,
        "items": {"total": n + len(failures), "ok": n, "failed": len(failures)},
        "failures": {"by_kind": dict(Counter(f["kind"] for f in failures)), "items": failures},
        "timings": {"total": round(time.time() - t0, 3)},
    }


def load_extractors(visual: str, text: str, visual_weights, text_weights, fps: float):
    """((instance, options), (instance, options)): the instances encode thumbnails here, on the CPU;
    the job's workers build their own from the options, on the job's device."""
    vopts, topts = {"weights": visual_weights, "fps": fps}, {"weights": text_weights}
    v = get_extractor(visual, "visual", device="cpu", **vopts)
    t = get_extractor(text, "text", device="cpu", **topts)
    return (v, vopts), (t, topts)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m builders.bliss", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--source", choices=sorted(DEFAULTS), default="sample",
                   help="sample (default: the bundled synthetic sample), raw (a directory in docs/raw-layout.md), "
                        "a2summ (the files A2Summ released)")
    p.add_argument("--input", type=Path, help="input directory for --source raw / a2summ")
    p.add_argument("--out", type=Path, help="output directory (default: hub/<name>)")
    p.add_argument("--name", help="dataset name (default: bliss-sample for the sample, bliss otherwise)")
    p.add_argument("--visual", help=f"visual extractor: {', '.join(names('visual'))} "
                                    "(default: colorhist for the sample, clip otherwise)")
    p.add_argument("--text", help=f"text extractor: {', '.join(names('text'))} "
                                  "(default: minilm for the sample, roberta otherwise)")
    p.add_argument("--visual-weights", type=Path, help="local weights for the visual extractor (e.g. an open_clip checkpoint)")
    p.add_argument("--text-weights", type=Path, help="local weights for the text extractor (a model directory)")
    p.add_argument("--device", default="cpu",
                   help="torch device for the encoders: cpu (default) or cuda (each extraction worker uses its own GPU)")
    p.add_argument("--fps", type=float, default=1.0, help="frames per second sampled from the videos (default 1)")
    p.add_argument("--min-clip", type=float, default=10.0,
                   help="drop a video's last clip when shorter than this many seconds (default 10)")
    p.add_argument("--rows-per-shard", type=int, default=200, help="examples per parquet shard / tar (default 200)")
    p.add_argument("--work", type=Path, help="work directory for the manifest and feature cache (default: work/<name>)")
    p.add_argument("--sample-dir", type=Path, help="where the sample is generated (default: ~/.cache/vsumhub/bliss-sample-v1)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_job_arguments(p)
    return p.parse_args(argv)


def main(argv=None) -> int:
    """Build; exit 0 when every item built, 3 when some failed (all recorded), 1 when none built, 2 on bad usage."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    quiet_dask_logs()
    dv, dt, dname = DEFAULTS[args.source]
    name = args.name or dname
    out = args.out or Path("hub") / name
    work = args.work or Path("work") / name
    visual, text = args.visual or dv, args.text or dt
    t0 = time.time()
    try:
        entry(visual, "visual")
        entry(text, "text")
        if args.source != "sample" and args.input is None:
            raise ValueError(f"--source {args.source} needs --input DIR")
        if args.input is not None and not args.input.is_dir():
            raise ValueError(f"--input {args.input} is not a directory")
        if args.source == "a2summ" and (visual, text) != ("clip", "roberta") and (args.visual or args.text):
            raise ValueError("--source a2summ publishes the released CLIP + RoBERTa features; --visual/--text do not apply")
    except (UnknownExtractorError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    if args.source == "a2summ":
        from builders.safe_pickle import NpyDictError

        try:
            record = build_a2summ(args.input, out, args.rows_per_shard)
        except (FileNotFoundError, NpyDictError, json.JSONDecodeError) as e:  # a whole-release problem, not one clip's
            print(f"error: {e}", file=sys.stderr)
            return 2
        config, input_desc = config_name("clip", "roberta"), str(args.input)
    else:
        from collectors.behance import read_raw_dir, read_splits

        if args.source == "sample":
            from builders.bliss_sample import ensure_sample

            input_dir = ensure_sample(args.sample_dir)
            input_desc = "bundled sample (builders/bliss_sample.py)"
        else:
            input_dir, input_desc = args.input, str(args.input)
        try:
            ext_v, ext_t = load_extractors(visual, text, args.visual_weights, args.text_weights, args.fps)
        except MissingWeightsError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        items, skipped = read_raw_dir(input_dir)
        for entry_ in skipped:
            log.warning("skipped %s: %s", entry_["path"], entry_["reason"])
        try:
            splits_given = read_splits(input_dir)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        write_manifest(work / "manifest.jsonl", items)
        try:
            record = build_from_items(items, splits_given, out, work, ext_v, ext_t, args.min_clip, args.rows_per_shard,
                                      job_settings(args), progress=not args.no_progress)
        except SetupError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        config = config_name(visual, text)
        record["skipped_inputs"] = skipped
    record.update(source=args.source, input=input_desc,
                  built_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    update_build_record(out, name, config, record, card=card_facts(args.source), tool="vsumhub builders.bliss")
    write_card(out, load_path=str(out))
    _report(out, config, record, time.time() - t0)
    if record["items"]["ok"] == 0:
        return 1
    return 3 if record["failures"]["items"] else 0


def _report(out: Path, config: str, record: dict, seconds: float) -> None:
    print(f"built {out} config {config} in {seconds:.1f} s")
    for split, facts in record["splits"].items():
        print(f"  {split:<10} {facts['num_examples']:>6} examples  {len(facts['parquet'])} parquet shard(s)  {len(facts['wds'])} tar(s)")
    fails = record["failures"]["items"]
    if fails:
        print(f"  {len(fails)} item(s) FAILED (recorded in {out / 'build.json'}):")
        for f in fails:
            print(f"    {f['id']}: {f['kind']}: {f['message']}")


if __name__ == "__main__":
    sys.exit(main())
