"""``python -m extractors.extract PATH --extractor NAME --out FILE``: one extractor on one file.

PATH is a video or audio file (it is both the item's video and its audio), or for a text
extractor a transcript: JSON ``[{start, end, text}]`` (or ``{"sentences": [...]}``, as
Whisper's sidecar has), or a .txt with one sentence per line whose time is the line's 0-based
index. Only the options the extractor's constructor takes are passed; giving another one is an
error, not a silent no-op. ``--weights NAME=PATH`` (as for extractors.run and the builders) gives
a path, or a model name for extractors that take ``model`` (sbert, whisper).

``--out FILE.parquet`` writes the track as a one-item shard of the extraction job
(``extractors.shardstore``; ``ShardFile(FILE).track(ID)`` reads it back); ``--out FILE.npy``
writes the values and ``FILE.json`` the times, config hash and meta. The item id is the file
name when it is a valid id, else a slug of it and a hash (``collectors.records.item_id``). Exit status: 0 done, 1 the item failed (its error kind is printed, e.g. bad_media),
2 a usage problem (unknown extractor, missing file, an option the extractor does not take,
weights not found). A progress bar shows on stderr when it is a terminal.
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import sys
from pathlib import Path

import numpy as np

from common import cli
from common.files import files_fingerprint, write_json
from common.safefiles import UnsafeFileError, json_loads, open_regular
from collectors.records import ItemError, RawItem, check_transcript
from collectors.records import item_id as records_item_id
from extractors.base import Extractor, FeatureTrack, UnknownExtractorError, config_hash
from extractors.registry import REGISTRY, entry, extractor_class, names
from extractors.weights import WEIGHT_SUFFIXES

OUT_SUFFIXES = (".parquet", ".npy")


class UsageError(Exception):
    """The command line asks for something that cannot work; exit status 2."""


def read_sentences(path: Path, item_id: str) -> list[dict]:
    """Transcript JSON or one-sentence-per-line text -> validated [{start, end, text}]."""
    try:
        with open_regular(path) as f:  # a FIFO named as a transcript would block the read forever
            text = f.read().decode("utf-8", errors="replace")
    except UnsafeFileError as e:
        raise ItemError("bad_transcript", str(e), item_id) from None
    if path.suffix.lower() == ".txt":
        sentences = [{"start": float(i), "end": float(i), "text": line.strip()}
                     for i, line in enumerate(text.splitlines()) if line.strip()]
    else:
        try:
            data = json_loads(text, str(path))
        except ValueError as e:  # not JSON, or nested / sized beyond the limits
            raise ItemError("bad_transcript", f"{path}: not JSON ({e})", item_id) from e
        if isinstance(data, dict):  # {"sentences": [...]}, or extract's own .json sidecar of a whisper run
            meta = data.get("meta")
            data = data.get("sentences", meta.get("sentences") if isinstance(meta, dict) else None)
        sentences = data
        if not isinstance(sentences, list):
            raise ItemError("bad_transcript", f"{path}: expected a list of {{start, end, text}}", item_id)
    sentences = check_transcript(sentences, item_id)
    if not sentences:
        raise ItemError("no_text", f"{path}: no sentences", item_id)
    return sentences


def build_item(path: Path, modality: str) -> RawItem:
    item_id = records_item_id(path.stem)
    if modality == "text":
        if path.suffix.lower() not in (".json", ".txt"):
            raise UsageError(f"a text extractor reads a transcript .json or .txt, got {path}")
        return RawItem(id=item_id, source="file", transcript=read_sentences(path, item_id), transcript_source="provided")
    return RawItem(id=item_id, source="file", media={"video": str(path), "audio": str(path)})


def looks_like_model_name(value) -> bool:
    """Not an existing path, and not shaped like one (absolute, ./, ~, or a weights file suffix)."""
    if value is None or Path(value).expanduser().exists():
        return False
    return not value.startswith(("/", ".", "~")) and not value.endswith(WEIGHT_SUFFIXES)


def constructor_options(cls: type, name: str, given: dict) -> dict:
    """``given`` (option -> value, None = not given), checked against the constructor's parameters."""
    params = inspect.signature(cls.__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    accepted = [p for p in params if p != "self" and params[p].kind is not inspect.Parameter.VAR_KEYWORD]
    options = {k: v for k, v in given.items() if v is not None}
    if "model" in params and looks_like_model_name(options.get("weights")):
        options["model"] = options.pop("weights")  # e.g. sbert's "org/name" or whisper's "small.en"
    for k in options:
        if k not in params and not takes_any:
            raise UsageError(f"extractor {name} does not take --{k} (its options: {', '.join(accepted) or 'none'})")
    return options


def attach_progress(ex: Extractor, item: RawItem):
    """A tqdm bar on stderr (terminals only): frames for visual extractors, seconds for Whisper."""
    from tqdm import tqdm

    from extractors.base import VisualExtractor

    if isinstance(ex, VisualExtractor):
        total = None
        if type(ex).extract is VisualExtractor.extract and not getattr(ex, "every_nth", None):  # duration x fps steps
            from collectors.media import DecodeError, video_duration

            try:
                duration = video_duration(item.media["video"])
                total = math.ceil(duration * ex.fps) if duration else None
            except (DecodeError, OSError, ValueError):  # a bad file fails properly in extract()
                total = None
        bar = tqdm(total=total, unit="frame", file=sys.stderr, disable=None, mininterval=1, desc=ex.name)
        encode = ex.encode_frames

        def counted(frames):
            out = encode(frames)
            bar.update(len(frames))
            return out

        ex.encode_frames = counted
        return bar
    if hasattr(ex, "on_progress"):
        bar = tqdm(total=None, unit="s", file=sys.stderr, disable=None, mininterval=1, desc=ex.name)

        def seconds(done: float, duration: float):
            bar.total = round(duration, 1)
            bar.n = round(done, 1)
            bar.refresh()

        ex.on_progress = seconds
        return bar
    return None


def write_track(out: Path, item: RawItem, track: FeatureTrack, cfg_hash: str, source: Path) -> None:
    fp = files_fingerprint(source)
    if out.suffix == ".parquet":
        from extractors.shardstore import ShardWriter

        writer = ShardWriter(out)
        writer.add(item.id, track, cfg_hash, fp)
        writer.commit()
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    sidecar = out.with_suffix(".json")
    doc = {"id": item.id, "config_hash": cfg_hash, "input_fingerprint": fp, "shape": list(track.values.shape),
           "dtype": str(track.values.dtype), "times": track.times.tolist(), "meta": track.meta}
    write_json(sidecar, doc, indent=None, newline=False)
    tmp = out.with_name(out.stem + ".part.npy")
    np.save(tmp, track.values)
    os.replace(tmp, out)  # the .npy last: when it exists, both files are complete


def meta_summary(meta: dict) -> str:
    """Scalars (long strings shortened) and the sizes of lists; library versions left out."""
    parts = []
    for k, v in meta.items():
        if isinstance(v, list):
            parts.append(f"{k}=[{len(v)}]" if v and isinstance(v[0], dict) else f"{k}={v}")
        elif isinstance(v, (str, int, float, bool)) or v is None:
            s = f"{v:.4g}" if isinstance(v, float) else str(v)
            if len(s) > 40 or (k.endswith("sha256") and v):
                s = s[:16] + "..."
            parts.append(f"{k}={s}")
    return " ".join(parts)


def report(out: Path, track: FeatureTrack) -> None:
    t, d = track.values.shape
    print(f"wrote {out}" + (f" (+ {out.with_suffix('.json')})" if out.suffix == ".npy" else ""))
    print(f"shape: ({t}, {d}) {track.values.dtype}")
    print(f"times: {track.times[0]:.3f} .. {track.times[-1]:.3f} s ({t} steps)" if t else "times: none (0 steps)")
    print(f"meta: {meta_summary(track.meta)}")
    for s in track.meta.get("sentences", [])[:5] if isinstance(track.meta.get("sentences"), list) else []:
        print(f"  [{s['start']:.2f}-{s['end']:.2f}] {s['text']}")
    if track.meta.get("note"):
        print(f"note: {track.meta['note']}")


def run(args) -> int:
    if args.extractor not in REGISTRY:
        raise UsageError(f"unknown extractor {args.extractor!r}; known: {', '.join(names())}")
    e = entry(args.extractor)
    path, out = Path(args.path), Path(args.out)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    if out.suffix not in OUT_SUFFIXES:
        raise UsageError(f"--out must end in {' or '.join(OUT_SUFFIXES)}, got {out}")
    if out.suffix == ".npy" and out.with_suffix(".json").resolve() == path.resolve():
        raise UsageError(f"--out {out} would write its sidecar over the input {path}: choose another name")
    from extractors.run import SetupError, parse_weights

    try:
        weights = parse_weights(args.weights)
    except SetupError as err:
        raise UsageError(str(err)) from err
    if set(weights) - {e.name}:
        raise UsageError(f"--weights for {', '.join(sorted(set(weights) - {e.name}))}, but --extractor is {e.name}")
    cls = extractor_class(e.name)
    options = constructor_options(cls, e.name, {"weights": weights.get(e.name), "fps": args.fps, "device": args.device})
    item = build_item(path, e.modality)
    try:
        ex = cls(**options)
    except (RuntimeError, ValueError, OSError, ImportError) as err:  # MissingWeightsError is a RuntimeError
        raise UsageError(f"cannot load extractor {e.name}: {err}") from err
    bar = attach_progress(ex, item)
    try:
        track = ex.extract(item)
    finally:
        if bar is not None:
            bar.close()
    write_track(out, item, track, config_hash(ex.config()), path)
    report(out, track)
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog=cli.prog("python -m extractors.extract"), description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_version(p)
    p.add_argument("path", help="video / audio file, or a transcript .json / .txt for text extractors")
    p.add_argument("--extractor", required=True, help=f"one of: {', '.join(names())}")
    p.add_argument("--weights", action="append", metavar="NAME=PATH",
                   help="local weights of the extractor (a file or model directory), or a model name for sbert / "
                        "whisper, e.g. clip=ViT-B-32.pt or whisper=small.en")
    p.add_argument("--fps", type=float, help="sampling rate for frame extractors")
    p.add_argument("--device", choices=["cpu", "cuda"], help="torch device for the model (default: the extractor's, cpu)")
    p.add_argument("--out", required=True, help="FILE.parquet, or FILE.npy (+ FILE.json)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (the model libraries' ones)")
    args = p.parse_args(argv)
    if args.no_progress:
        cli.silence_progress()
    try:
        return run(args)
    except (UsageError, UnknownExtractorError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ItemError as err:
        print(f"failed: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
