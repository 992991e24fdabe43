"""The released files: mr_hisum.h5 + metadata.csv + mr_hisum_split.json (see builders.mrhisum)."""

from __future__ import annotations

from pathlib import Path

from builders.core.base import Builder, BuildError
from builders.mrhisum.dataset import FEATURE_DIM, Video, card_facts, h5_features, h5_row, read_metadata, read_splits
from builders.core.schema import frames_column


class MrHiSum(Builder):
    """The released h5 + metadata + split file: config ``annotations``, or ``yt8m`` with the features."""

    family = "mrhisum"
    protocol = "mrhisum"
    name, source = "mrhisum", "mrhisum"
    tool = "python -m builders.mrhisum"

    def __init__(self, h5: Path, metadata: Path, splits: Path | None = None):
        self.h5, self.metadata, self.splits_file = Path(h5), Path(metadata), splits and Path(splits)
        self.input = str(h5)

    @classmethod
    def add_arguments(cls, p) -> None:
        p.add_argument("--h5", type=Path, help="mr_hisum.h5 (gtscore, change_points, gt_summary[, features])")
        p.add_argument("--metadata", type=Path, required=True, help="metadata.csv")
        p.add_argument("--splits", type=Path, help="mr_hisum_split.json (without it every video is in train)")
        p.add_argument("--collect", action="store_true", help="fetch each video's most-replayed curve anew (no --h5)")
        p.add_argument("--info-json", type=Path, help="with --collect: saved <youtube_id>.info.json files instead of the web")
        p.add_argument("--limit", type=int, help="with --collect: the first N videos of the metadata")
        p.add_argument("--sleep", type=float, default=2.0, help="with --collect: seconds between requests (2)")

    @classmethod
    def from_args(cls, args) -> Builder:
        if args.collect:
            from builders.mrhisum.collect import MrHiSumCollect

            if args.h5 is not None:
                raise BuildError("--collect fetches the curves anew: give --h5 or --collect, not both")
            return MrHiSumCollect(args.metadata, args.splits, info_json=args.info_json, limit=args.limit, sleep=args.sleep)
        if args.h5 is None:
            raise BuildError("give --h5 mr_hisum.h5 (or --collect)")
        return cls(args.h5, args.metadata, args.splits)

    def prepare(self, ctx) -> None:
        from builders.eccv16 import open_h5

        self.meta = read_metadata(self.metadata)
        with open_h5(self.h5) as f:
            keys = [k for k in f.keys() if k.startswith("video_")]
            if not keys:
                raise BuildError(f"{self.h5} has no video_N groups: not mr_hisum.h5")
            self.with_features = sum(hasattr(f[k], "keys") and "features" in f[k] for k in keys) * 2 > len(keys)
        unknown = [k for k in keys if k not in self.meta]
        if unknown:
            raise BuildError(f"{self.h5} has videos that {self.metadata} does not list, e.g. {', '.join(unknown[:5])}")
        self.split_of = read_splits(self.splits_file, keys)
        self.keys = sorted((k for k in keys if k in self.split_of), key=lambda k: int(k.split("_")[-1]) if k.split("_")[-1].isdigit() else 0)
        self.in_no_split = len(keys) - len(self.keys)
        self.rules: dict[str, int] = {}

    def items(self):
        from builders.eccv16 import open_h5

        with open_h5(self.h5) as f:
            for key in self.keys:
                yield Video(key, self.meta[key], f[key])

    def splits(self, item) -> str:
        return self.split_of[item.id]

    def features(self, dims: dict) -> dict:
        return {"yt8m" if self.with_features else "annotations": h5_features(self.with_features)}

    def examples(self, item, tracks: dict) -> list[dict]:
        row, rule = h5_row(item, self.with_features)
        self.rules[rule] = self.rules.get(rule, 0) + 1
        return [row]

    def count(self, row: dict) -> dict:
        return {"frames": row["n_frames"], "seconds": float(row["n_frames"])}

    def facts(self, config: str) -> dict:
        facts = {"change_points_read_as": self.rules, "in_no_split": self.in_no_split,
                 "metadata": str(self.metadata), "splits_file": str(self.splits_file) if self.splits_file else None}
        if self.with_features:
            facts["columns"] = {"visual": frames_column("yt8m")}
            facts["extractors"] = {"visual": {"extractor": "provided", "model": "YouTube-8M frame features (Inception, "
                                              "PCA 1024, quantized), as in the h5", "dim": FEATURE_DIM, "sampling": "1 fps"}}
        return facts

    def card_facts(self) -> dict:
        return card_facts("h5")
