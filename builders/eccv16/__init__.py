"""Import the eccv16 h5 files (Zhang et al., ECCV 2016) and their split files into the hub schema.

See docs/datasets/eccv16.md (the h5 layout, the column mapping, folds, failures; the card's prose).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: datasets loads after the command line is parsed
    from datasets import Features

import logging
import math
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import NamedTuple

import numpy as np

from builders.core import safe
from builders.core.safe import UnsafeFileError
from builders.core.safe import h5 as safe_h5
from builders.core.base import Builder, BuildError, run
from cards.pages import ref
from builders.core.schema import frame_score_features, frames_column
from collectors.records import ItemError, safe_id
from common.files import sha256_file, write_json

log = logging.getLogger("builders.eccv16")

VISUAL, DIM = "googlenet", 1024
CONFIG = VISUAL
REQUIRED = ("features", "gtscore", "gtsummary")
OPTIONAL = ("n_frames", "picks", "change_points", "n_frame_per_seg", "user_summary")  # one column each
CHECKED = ("n_steps", "video_name")  # read and checked, not columns of their own
ALWAYS = ("id", "video_id", "title", "category", "frame_scores", frames_column(VISUAL))
FOLD_RULE = (
    "googlenet-split{i} is fold i (0-based, in file order) of the --splits file: train = its train_keys, "
    "test = its test_keys; a key is the text after its last '/' (DSNet writes '<dir>/<file>.h5/video_1'); "
    "keys must name videos of this h5, no key may be in both lists; videos that failed to import are left out"
)
SOURCES = {  # dataset in the file name -> (pretty name, its own citation)
    "tvsum": ("TVSum", ref("tvsum", "Citation")),
    "summe": ("SumMe", ref("eccv16", "Citation: SumMe")),
    "ovp": ("OVP (Open Video Project, VSUMM)", ref("eccv16", "Citation: OVP and YouTube (VSUMM)")),
    "youtube": ("YouTube (VSUMM)", ref("eccv16", "Citation: OVP and YouTube (VSUMM)")),
}


class InputError(BuildError):
    """The input as a whole is unusable (exit 2): not an eccv16 h5, bad split file."""


def bad(key: str, message: str) -> ItemError:
    """One video group is inconsistent: a bad_annotation failure whose record names the h5 key at fault."""
    return ItemError("bad_annotation", f"{key}: {message}", key=key)


def file_stem(path: str | Path) -> str:
    """File name without ``.h5`` / ``.hdf5`` (and DSNet's ``.custom``), as split keys name it."""
    name = Path(str(path)).name
    for suffix in (".custom", ".h5", ".hdf5"):
        name = name.removesuffix(suffix)
    return name


def default_name(h5: str | Path) -> str:
    """``eccv16_dataset_tvsum_google_pool5.h5`` -> ``tvsum-eccv16``; any other file: its slug + ``-eccv16``."""
    stem = file_stem(h5)
    m = re.fullmatch(r"eccv16_dataset_(.+?)_google_pool5", stem)
    slug = re.sub(r"[^a-z0-9]+", "-", (m.group(1) if m else stem).lower()).strip("-")
    return f"{slug or 'dataset'}-eccv16"


def open_h5(path: Path):
    """The h5 opened read-only through builders.core.safe.h5 (regular file, no link out of it); InputError
    (one line, exit 2) for a missing, empty, foreign or unsafe file."""
    try:
        return safe_h5.open_h5(path)
    except FileNotFoundError:
        raise InputError(f"h5 file not found: {path}") from None
    except UnsafeFileError as e:
        raise InputError(f"{e} (expected e.g. eccv16_dataset_tvsum_google_pool5.h5)") from None


def _natural(key: str):
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", key)]


def video_keys(f, path: Path) -> list[str]:
    """The video groups in natural order (video_2 before video_10)."""
    import h5py

    keys = sorted((k for k, v in f.items() if isinstance(v, h5py.Group)), key=_natural)
    if not keys:
        raise InputError(f"{path} has no video groups (expected one group per video: video_1, video_2, ...)")
    if not any(k in f[v] for v in keys for k in REQUIRED):
        raise InputError(f"{path} is not an eccv16 file: no group holds {', '.join(REQUIRED)} "
                         f"(groups: {_some(keys)})")
    return keys


def _some(names, n: int = 8) -> str:
    names = list(names)
    return ", ".join(names[:n]) + (f", ... ({len(names)} in all)" if len(names) > n else "")


def column_keys(f, keys: list[str]) -> tuple[str, ...]:
    """The optional keys that become columns: those most videos carry (a video without one then fails)."""
    columns = []
    for key in OPTIONAL:
        holders = [v for v in keys if key in f[v]]
        if holders and 2 * len(holders) <= len(keys):
            raise InputError(f"videos disagree on key {key!r}: only {len(holders)} of {len(keys)} have it "
                             f"({_some(holders)}); every video of an eccv16 file carries the same keys")
        if holders:
            columns.append(key)
    return tuple(columns)


def eccv16_features(columns: tuple[str, ...], fps: bool) -> Features:
    """The schema variant of one file: the frame-score columns it can fill, plus ``frame_labels``."""
    from datasets import Features, List, Value

    keep = set(ALWAYS) | set(columns)
    if fps:
        keep.add("fps")
        keep |= {"frame_times"} if "picks" in columns else set()
        keep |= {"duration"} if "n_frames" in columns else set()
    cols = {}
    for name, feature in frame_score_features(VISUAL, DIM, user_scores=False).items():
        if name in keep:
            cols[name] = feature
        if name == "frame_scores":
            cols["frame_labels"] = List(Value("int8"))  # [T] as in bliss_features: 1 = step in the summary
    return Features(cols)


def _read(group, key: str) -> np.ndarray:
    node = safe_h5.dataset(group, key)
    if node is None:
        raise bad(key, "is a group, expected an array")
    try:
        return safe_h5.read(node)
    except UnsafeFileError as e:
        raise bad(key, str(e)) from None
    except (OSError, TypeError, ValueError) as e:
        raise bad(key, f"cannot be read: {e}") from e


def _ints(a: np.ndarray, key: str) -> np.ndarray:
    """int32 values; integral floats pass (some files store indices as floats)."""
    if a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(a == np.round(a)):
        a = a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise bad(key, f"must hold integers, got dtype {a.dtype}")
    if a.size and (a.min() < 0 or a.max() > np.iinfo(np.int32).max):
        raise bad(key, "holds negative or too large values")
    return a.astype(np.int32)


def _binary(a: np.ndarray, key: str) -> np.ndarray:
    if a.dtype.kind not in "biuf" or not np.isin(a, (0, 1)).all():
        raise bad(key, f"must hold only 0 and 1 (dtype {a.dtype})")
    return a.astype(np.int8)


def _shape(a: np.ndarray, key: str, shape: tuple, meaning: str) -> None:
    """``shape`` entries: an int to match, None for any length."""
    if a.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, a.shape)):
        raise bad(key, f"has shape {a.shape}, expected {meaning}")


def _text(a: np.ndarray, key: str) -> str:
    value = a.item() if a.size == 1 else None
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError as e:
            raise bad(key, f"is not UTF-8 text: {e}") from e
    if isinstance(value, str):
        return value
    raise bad(key, f"expected one string, got dtype {a.dtype} shape {a.shape}")


def video_row(group, key: str, columns: tuple[str, ...], fps: float | None) -> dict:
    """One example from one video group; raises ItemError(bad_annotation) naming the key at fault."""
    for k in REQUIRED + columns:
        if k not in group:
            raise bad(k, "missing" + (" (the other videos of the file have it)" if k in columns else ""))
    features = _read(group, "features")
    _shape(features, "features", (None, DIM), f"[n_steps, {DIM}] (GoogLeNet pool5)")
    if features.dtype.kind != "f":
        raise bad("features", f"must be floats, got dtype {features.dtype}")
    t = len(features)
    if t == 0:
        raise bad("features", "has no steps")
    gtscore, gtsummary = _read(group, "gtscore"), _read(group, "gtsummary")
    _shape(gtscore, "gtscore", (t,), f"[{t}] (one score per feature step)")
    if gtscore.dtype.kind not in "iuf":
        raise bad("gtscore", f"must be numbers, got dtype {gtscore.dtype}")
    _shape(gtsummary, "gtsummary", (t,), f"[{t}] (one label per feature step)")
    row = {
        "id": safe_id(key), "video_id": key, "title": "", "category": "",
        "frame_scores": gtscore.astype(np.float32), "frame_labels": _binary(gtsummary, "gtsummary"),
        frames_column(VISUAL): features.astype(np.float32),
    }
    if "video_name" in group:
        row["title"] = _text(_read(group, "video_name"), "video_name")
    if "n_steps" in group:
        n_steps = _ints(_read(group, "n_steps"), "n_steps")
        if n_steps.size != 1 or int(n_steps.item()) != t:
            raise bad("n_steps", f"is {n_steps.tolist()}, but features have {t} steps")
    n_frames = None
    if "n_frames" in columns:
        n = _ints(_read(group, "n_frames"), "n_frames")
        if n.size != 1 or n.item() < 1:
            raise bad("n_frames", f"expected one count >= 1, got {n.tolist()}")
        n_frames = row["n_frames"] = int(n.item())
    if "picks" in columns:
        picks = _ints(_read(group, "picks"), "picks")
        _shape(picks, "picks", (t,), f"[{t}] (one frame index per feature step)")
        if np.any(np.diff(picks) <= 0) or (n_frames is not None and picks[-1] >= n_frames):
            below = f" below n_frames = {n_frames}" if n_frames is not None else ""
            raise bad("picks", f"must be increasing frame indices{below}")
        row["picks"] = picks
    if "change_points" in columns:
        cps = _ints(_read(group, "change_points"), "change_points")
        _shape(cps, "change_points", (None, 2), "[n_segments, 2] (inclusive frame ranges)")
        row["change_points"] = cps
    if "n_frame_per_seg" in columns:
        nfps = _ints(_read(group, "n_frame_per_seg"), "n_frame_per_seg")
        segments = len(row["change_points"]) if "change_points" in row else None
        _shape(nfps, "n_frame_per_seg", (segments,), f"[{segments}] (one count per change_points row)")
        row["n_frame_per_seg"] = nfps
    if "user_summary" in columns:
        users = _read(group, "user_summary")
        _shape(users, "user_summary", (None, n_frames), f"[n_users, n_frames = {n_frames}]")
        row["user_summary"] = _binary(users, "user_summary")
    if fps is not None:
        row["fps"] = fps
        if "picks" in row:
            row["frame_times"] = row["picks"] / fps
        if n_frames is not None:
            row["duration"] = n_frames / fps
    return row


def _load_folds(path: Path) -> list[dict[str, list[str]]]:
    """The split file's folds as {train: [entries], test: [entries]}, structure checked."""
    if not path.is_file():
        raise InputError(f"splits file not found: {path}")
    try:
        if path.suffix.lower() in (".yml", ".yaml"):
            import yaml

            folds = yaml.safe_load(safe.read_text(path))
        else:
            folds = safe.read_json(path)
    except Exception as e:  # json / yaml / unicode errors all mean the same: not a split file
        raise InputError(f"{path} is not a valid split file: {e}") from e
    if not isinstance(folds, list) or not folds:
        raise InputError(f"{path}: expected a non-empty list of folds [{{'train_keys': [...], 'test_keys': [...]}}]")
    out = []
    for i, fold in enumerate(folds):
        if not isinstance(fold, dict) or not {"train_keys", "test_keys"} <= set(fold):
            raise InputError(f"{path}: fold {i} is not an object with train_keys and test_keys")
        extra = sorted(set(fold) - {"train_keys", "test_keys"})
        if extra:
            raise InputError(f"{path}: fold {i} has fields {extra} besides train_keys / test_keys; "
                             "this importer publishes train and test only")
        for split in ("train", "test"):
            entries = fold[f"{split}_keys"]
            if not isinstance(entries, list) or not all(isinstance(k, str) for k in entries):
                raise InputError(f"{path}: fold {i} {split}_keys must be a list of strings")
        out.append({"train": fold["train_keys"], "test": fold["test_keys"]})
    return out


def read_splits(path: Path, keys: list[str], h5: Path) -> list[dict[str, list[str]]]:
    """Folds [{train: [...], test: [...]}] naming videos of this h5; InputError on anything doubtful."""
    folds = _load_folds(path)
    files = {file_stem(e.rpartition("/")[0]) if "/" in e else file_stem(h5)
             for fold in folds for entries in fold.values() for e in entries}
    if len(files) > 1:  # checked first: the same video_N of two files would pass every check below
        raise InputError(f"{path} names videos of several files ({_some(sorted(files))}): augmented / transfer "
                         f"splits mix datasets, and this importer publishes one h5 file ({h5.name})")
    if files and files != {file_stem(h5)}:
        log.warning("%s names the file %s, not %s: taken as the same file renamed", path, files.pop(), h5.name)
    known, unknown, out = set(keys), {}, []
    for i, fold in enumerate(folds):
        parsed = {s: [e.rpartition("/")[2] for e in entries] for s, entries in fold.items()}
        for split, names in parsed.items():
            dup = sorted((k for k, c in Counter(names).items() if c > 1), key=_natural)
            if dup:
                raise InputError(f"{path}: fold {i} lists {_some(dup)} more than once in {split}_keys")
            for name in names:
                if name not in known:
                    unknown.setdefault(name, i)
        both = sorted(set(parsed["train"]) & set(parsed["test"]), key=_natural)
        if both:
            raise InputError(f"{path}: fold {i} has {_some(both)} in both train_keys and test_keys")
        out.append(parsed)
    if unknown:
        raise InputError(f"{path} names videos that are not in {h5.name}: "
                         + _some(f"{k} (fold {unknown[k]})" for k in sorted(unknown, key=_natural)))
    return out


def card_facts(name: str, columns: tuple[str, ...], fps: float | None) -> dict:
    dataset = next((k for k in SOURCES if k in name), None)
    pretty, citation = SOURCES.get(dataset, (name, None))
    missing = [k for k in OPTIONAL if k not in columns]
    facts = [  # this file's own: which keys it lacks, which frame rate was given
        *([f"- Not in this file, so not published: {', '.join(f'`{k}`' for k in missing)} "
           "(frame counts in the table above are 0 without `n_frames`)."] if missing else []),
        f"- `fps` = {fps} for every video (given with --fps, not in the file); `frame_times` = picks / fps, "
        "`duration` = n_frames / fps." if fps is not None else
        "- No `fps`, `frame_times` or `duration`: the h5 has no frame rate (rebuild with --fps F to add them)."]
    return {
        "pretty_name": f"{pretty} (eccv16 GoogLeNet features)",
        "summary": ref("eccv16", "What it is"),
        "sources": ref("eccv16", "Input"),
        "labels": [ref("eccv16", "Labels"), *facts],
        "license": "unknown",
        "license_text": ref("eccv16", "License"),
        "task_categories": ["summarization"],
        "tags": ["video-summarization", "eccv16"] + ([dataset] if dataset else []),
        "citation": [ref("eccv16", "Citation: eccv16"), *([citation] if citation else [])],
        "usage_columns": ["picks", "frames_*", "frame_scores", "frame_labels", "change_points", "user_summary"],
        "columns": ref("eccv16", "Column meanings"),
    }


class Group(NamedTuple):
    """One video of the file: its h5 key and group (readable while the builder iterates its items)."""

    id: str
    group: object


FAMILIES = ("tvsum", "summe")


class Eccv16(Builder):
    """An eccv16 h5 file (and its split folds): config ``googlenet`` plus ``googlenet-split{i}`` per fold."""

    protocol = "frame_importance"
    source = "eccv16"

    def __init__(self, h5: Path, splits: Path | None = None, fps: float | None = None, family: str | None = None):
        if fps is not None and not (math.isfinite(fps) and fps > 0):
            raise BuildError(f"--fps must be a positive number, got {fps}")
        self.h5, self.splits_file, self.fps = Path(h5), splits and Path(splits), fps
        self.name, self.input = default_name(h5), str(h5)
        # the file names the dataset (eccv16_dataset_summe_google_pool5.h5); --family says it for any other name
        self.family = family or next((f for f in FAMILIES if f in self.name), None)

    @classmethod
    def add_arguments(cls, p) -> None:
        p.add_argument("--h5", type=Path, required=True, help="eccv16_dataset_<name>_google_pool5.h5")
        p.add_argument("--splits", type=Path, help="split folds: JSON or YAML list of {train_keys, test_keys}")
        p.add_argument("--fps", type=float, help="frame rate of every video; adds fps, frame_times, duration")
        p.add_argument("--family", choices=FAMILIES, help="which dataset the file holds, for the training defaults "
                       "(default: from the file name, eccv16_dataset_<tvsum|summe>_google_pool5.h5)")

    def prepare(self, ctx) -> None:
        """The file's videos, columns and folds, checked before anything is written."""
        with open_h5(self.h5) as f:
            self.keys = video_keys(f, self.h5)
            self.columns = column_keys(f, self.keys)
        self.folds = read_splits(self.splits_file, self.keys, self.h5) if self.splits_file is not None else []
        self.configs = [CONFIG] + [f"{CONFIG}-split{i}" for i in range(len(self.folds))]
        self.membership = [{k: s for s, ks in fold.items() for k in ks} for fold in self.folds]
        self.ids, self.dtypes, self.ignored, self.scores, self.failed = {}, {}, Counter(), [], set()

    def items(self):
        with open_h5(self.h5) as f:
            for key in self.keys:
                yield Group(key, f[key])

    def splits(self, item: Group) -> dict[str, str]:
        return {c: s for c, s in zip(self.configs, ["train"] + [m.get(item.id) for m in self.membership]) if s}

    def features(self, dims: dict) -> dict:
        features = eccv16_features(self.columns, self.fps is not None)
        return {c: features for c in self.configs}

    def examples(self, item: Group, tracks: dict) -> list[dict]:
        key, group = item
        self.ignored.update(k for k in group if k not in REQUIRED + OPTIONAL + CHECKED)
        for k in group:
            if k in REQUIRED + OPTIONAL + CHECKED and hasattr(group[k], "dtype"):
                self.dtypes.setdefault(k, set()).add(str(group[k].dtype))
        try:
            row = video_row(group, key, self.columns, self.fps)
            if row["id"] in self.ids:
                raise bad("id", f"id {row['id']!r} is also the id of {self.ids[row['id']]}")
        except ItemError:
            self.failed.add(key)
            raise
        self.ids[row["id"]] = key
        self.scores.append((float(row["frame_scores"].min()), float(row["frame_scores"].max())))
        return [row]

    def count(self, row: dict) -> dict:
        return {"steps": len(row["frame_scores"]), **({"frames": row["n_frames"]} if "n_frames" in row else {}),
                **({"seconds": row["duration"]} if "duration" in row else {})}

    def facts(self, config: str) -> dict:
        facts = {
            "columns": {"visual": frames_column(VISUAL)},
            "extractors": {"visual": {
                "extractor": "provided", "model": "GoogLeNet pool5 (eccv16 release, Zhang et al. 2016)", "dim": DIM,
                "sampling": "every 15th frame (picks)" if "picks" in self.columns else "as released (the file has no picks)",
            }},
            "h5": {"keys": list(REQUIRED + self.columns), "dtypes": {k: sorted(v) for k, v in self.dtypes.items()},
                   "ignored_keys": dict(self.ignored),
                   "frame_scores_range": [min(s[0] for s in self.scores), max(s[1] for s in self.scores)]
                   if self.scores else None},
            "fps": {"value": self.fps, "given_by": "--fps"} if self.fps is not None else
                   {"value": None, "note": "the h5 has no frame rate: fps, frame_times, duration not published"},
            "input_sha256": sha256_file(self.h5),
        }
        if config != CONFIG:
            i = self.configs.index(config) - 1
            fold = self.folds[i]
            facts["fold"] = {
                "index": i, "rule": FOLD_RULE, "splits_file": str(self.splits_file),
                "splits_sha256": sha256_file(self.splits_file),
                "train_keys": len(fold["train"]), "test_keys": len(fold["test"]),
                "left_out_failed": sorted((k for k in fold["train"] + fold["test"] if k in self.failed), key=_natural),
                "in_no_split": sorted((k for k in self.keys if k not in self.membership[i]), key=_natural),
            }
        return facts

    def card_facts(self) -> dict:
        return card_facts(self.name, self.columns, self.fps)

    def finish(self, out: Path) -> list[str]:
        if self.ignored:
            log.info("keys outside the eccv16 layout, not published: %s", dict(self.ignored))
        stale = drop_stale_configs(out, self.configs)
        return ([f"  removed configs of an earlier build: {', '.join(stale)}"] if stale else []) + (
            ["  no --fps: fps, frame_times and duration left out (the h5 has no frame rate)"] if self.fps is None else [])


def drop_stale_configs(out: Path, keep: list[str]) -> list[str]:
    """Remove this builder's configs that the new build no longer has (e.g. folds of an older split file)."""
    path = out / "build.json"
    if not path.exists():
        return []
    build = safe.read_json(path)
    stale = [c for c in build.get("configs", {}) if c not in keep and re.fullmatch(rf"{CONFIG}(-split\d+)?", c)]
    for c in stale:
        for kind in ("data", "wds"):
            shutil.rmtree(out / kind / c, ignore_errors=True)
        del build["configs"][c]
    if stale:
        write_json(path, build)
    return stale


def main(argv=None) -> int:
    return run(Eccv16, argv)

