"""TVSum (Song et al., CVPR 2015) from the released annotation file ``ydata-tvsum50.mat``.

See docs/datasets/tvsum.md (what it is, its configs, columns, labels; the card's prose).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cards.pages import ref
from builders.core.base import Builder, BuildError, run, video_in
from builders.core.extraction import Track
from builders.labels.keyshots import keyshot_summary
from builders.labels.kts import segment
from builders.core.schema import frame_score_features, frames_column
from collectors.records import RawItem, item_id

from .umt import umt_split

STEP = 15  # eccv16: features and picks every 15th frame
SPLITS = ("train", "umt")  # --split: one train split, or UMT's per-category split (builders/tvsum/umt.py)
CATEGORIES = {
    "VT": "changing Vehicle Tire", "VU": "getting Vehicle Unstuck", "GA": "Grooming an Animal",
    "MS": "Making Sandwich", "PK": "ParKour", "PR": "PaRade", "FM": "Flash Mob gathering",
    "BK": "BeeKeeping", "BT": "attempting Bike Tricks", "DS": "Dog Show",
}


@dataclass
class TVSumVideo:
    video_id: str
    title: str
    category: str
    n_frames: int
    duration: float
    user_anno: np.ndarray  # [20, n_frames] 1..5
    gt_score: np.ndarray  # [n_frames]

    @property
    def fps(self) -> float:
        return self.n_frames / self.duration


def read_tvsum_mat(path: str | Path) -> list[TVSumVideo]:
    """The 50 videos of ydata-tvsum50.mat (MATLAB 7.3 = HDF5), with clear errors for other files."""
    from builders.core.safe import UnsafeFileError
    from builders.core.safe.h5 import open_h5, read

    path = Path(path)
    try:
        f = open_h5(path)  # a regular file whose links stay in it (UnsafeFileError is a ValueError)
    except FileNotFoundError:
        raise FileNotFoundError(f"TVSum annotation file not found: {path}") from None
    except UnsafeFileError as e:
        raise UnsafeFileError(f"{e}: not a MATLAB 7.3 (HDF5) file such as ydata-tvsum50.mat") from None
    with f:
        if "tvsum50" not in f:
            raise ValueError(f"{path} has no 'tvsum50' struct (found: {', '.join(f.keys())})")
        t = f["tvsum50"]
        fields = ("video", "category", "title", "nframes", "length", "user_anno", "gt_score")
        missing = [k for k in fields if k not in t]
        if missing:
            raise ValueError(f"{path}: tvsum50 lacks fields {missing}")

        refs = {field: read(t[field]) for field in fields}  # object references into the file

        def value(field, i):
            return read(f[refs[field][i, 0]])  # external storage / virtual data refused

        def text(field, i):
            return "".join(chr(c) for c in value(field, i).flatten())

        videos = []
        for i in range(t["video"].shape[0]):
            anno = np.asarray(value("user_anno", i), dtype=np.float32)
            n = int(value("nframes", i).item())
            if anno.shape[1] != n:
                raise ValueError(f"{path}: video {i} has user_anno {anno.shape} but nframes {n}")
            videos.append(TVSumVideo(text("video", i), text("title", i), text("category", i), n,
                                     float(value("length", i).item()), anno,
                                     np.asarray(value("gt_score", i), dtype=np.float32).reshape(-1)))
    return videos


def annotation_grid(user_anno: np.ndarray) -> np.ndarray:
    """The annotation shots [S, 2] (inclusive frame ranges): boundaries where any annotator's score changes."""
    n = user_anno.shape[1]
    starts = np.concatenate([[0], np.flatnonzero((np.diff(user_anno, axis=1) != 0).any(axis=0)) + 1])
    ends = np.concatenate([starts[1:] - 1, [n - 1]])
    return np.stack([starts, ends], axis=1).astype(np.int32)


def user_summaries(user_anno: np.ndarray, change_points: np.ndarray, proportion: float = 0.15) -> np.ndarray:
    """Each annotator's keyshot summary [U, n_frames]: knapsack on their shot scores (eccv16)."""
    n = user_anno.shape[1]
    every_frame = np.arange(n)
    return np.stack([keyshot_summary(u, change_points, n, every_frame, proportion) for u in user_anno]).astype(np.int8)


def example(video: TVSumVideo, change_points: np.ndarray, picks: np.ndarray, proportion: float,
            features: tuple[str, np.ndarray] | None = None) -> dict:
    picks = np.asarray(picks, dtype=np.int64)
    row = {
        "id": video.video_id, "video_id": video.video_id, "title": video.title,
        "category": video.category, "n_frames": video.n_frames, "fps": video.fps, "duration": video.duration,
        "picks": picks.astype(np.int32),
        "frame_times": picks / video.fps,
        "frame_scores": ((video.gt_score[picks] - 1.0) / 4.0).astype(np.float32),
    }
    if features:
        row[features[0]] = features[1]
    row.update({
        "change_points": change_points,
        "n_frame_per_seg": (change_points[:, 1] - change_points[:, 0] + 1).astype(np.int32),
        "user_summary": user_summaries(video.user_anno, change_points, proportion),
        "user_scores": video.user_anno,
        "gt_score": video.gt_score,
        "shot_grid": annotation_grid(video.user_anno),
    })
    return row


def card_facts() -> dict:
    """The card's metadata; its prose is docs/datasets/tvsum.md's sections."""
    return {
        "pretty_name": "TVSum: Summarizing Web Videos Using Titles",
        "summary": ref("tvsum", "What it is"),
        "sources": ref("tvsum", "Input"),
        "labels": ref("tvsum", "Labels"),
        "license": "cc-by-3.0",
        "license_text": ref("tvsum", "License"),
        "task_categories": ["summarization", "video-classification"],
        "tags": ["video-summarization", "tvsum"],
        "citation": ref("tvsum", "Citation"),
        "usage_columns": ["picks", "frames_*", "frame_scores", "change_points", "user_summary", "user_scores"],
        "columns": ref("tvsum", "Columns"),
    }


class TVSum(Builder):
    """TVSum from its annotation file; with a directory of its videos, GoogLeNet features and KTS shots too."""

    family = "tvsum"
    protocol = "frame_importance"
    name = source = "tvsum"

    def __init__(self, annotations: Path, videos: Path | None = None, proportion: float = 0.15, split: str = "train"):
        if not 0 < proportion < 1:
            raise BuildError(f"--proportion must be in (0, 1), got {proportion}")
        if split not in SPLITS:
            raise BuildError(f"--split must be one of {', '.join(SPLITS)}, got {split!r}")
        self.split = split
        if videos is not None and not Path(videos).is_dir():
            raise BuildError(f"--videos {videos} is not a directory")
        self.annotations, self.videos_dir, self.proportion = Path(annotations), videos and Path(videos), proportion
        self.input = str(annotations)

    @classmethod
    def add_arguments(cls, p) -> None:
        p.add_argument("--annotations", type=Path, required=True, help="ydata-tvsum50.mat")
        p.add_argument("--videos", type=Path, help="directory of <video_id>.mp4 (adds GoogLeNet features and KTS shots)")
        p.add_argument("--proportion", type=float, default=0.15, help="summary budget as a fraction of frames (0.15)")
        p.add_argument("--split", choices=SPLITS, default="train",
                       help="train: every video in one train split (default); umt: UMT's split as CFSum Table I "
                            "trains, a config <annotations|googlenet>-umt-<category> per category, 4 videos train, "
                            "1 test")

    def prepare(self, ctx) -> None:
        try:
            videos = read_tvsum_mat(self.annotations)
        except (FileNotFoundError, ValueError) as e:
            raise BuildError(str(e)) from e
        self.videos = {item_id(v.video_id): v for v in videos}  # two TVSum ids start with '-' or '_'

    def tracks(self) -> dict:
        if self.videos_dir is None:
            return {}
        return {"visual": Track("googlenet", {"every_nth": STEP}, column=frames_column("googlenet"))}

    def items(self) -> list[RawItem]:
        """One item per video; with --videos a missing file is an unavailable item (recorded)."""
        out = []
        for key, video in self.videos.items():
            item = RawItem(id=key, source="tvsum", meta={"video_id": video.video_id})
            if self.videos_dir is not None:
                path, missing = video_in(self.videos_dir, video.video_id)
                item.media["video"] = str(path)
                if missing:
                    item = item.failed(missing)
            out.append(item)
        return out

    def base_config(self) -> str:
        return "annotations" if self.videos_dir is None else "googlenet"

    def splits(self, item) -> str | dict[str, str]:
        if self.split == "train":
            return "train"
        video = self.videos[item.id]
        placed = umt_split(video.video_id, video.category)
        return {f"{self.base_config()}-umt-{video.category}": placed} if placed else {}  # unlisted: left out

    def features(self, dims: dict) -> dict:
        features = (frame_score_features() if self.videos_dir is None
                    else frame_score_features("googlenet", dims["visual"]))
        if self.split == "train":
            return {self.base_config(): features}
        return {f"{self.base_config()}-umt-{c}": features for c in CATEGORIES}

    def examples(self, item: RawItem, tracks: dict) -> list[dict]:
        """One video's example: on the annotation grid, or on KTS shots of its GoogLeNet features."""
        video = self.videos[item.id]
        if "visual" not in tracks:
            return [example(video, annotation_grid(video.user_anno), np.arange(0, video.n_frames, STEP), self.proportion)]
        track = tracks["visual"]
        picks = np.asarray(track.meta["picks"], dtype=np.int64)
        keep = picks < video.n_frames  # a decoder may see a frame more or less than the annotation count
        picks, values = picks[keep], track.values[keep]
        change_points, _ = segment(values, n_frames=video.n_frames, step=STEP)
        return [example(video, change_points, picks, self.proportion, (frames_column("googlenet"), values))]

    def count(self, row: dict) -> dict:
        return {"frames": row["n_frames"], "seconds": row["duration"]}

    def facts(self, config: str) -> dict:
        if self.split == "train":
            return {"proportion": self.proportion}
        category = config.rsplit("-", 1)[1]
        left_out = sorted(v.video_id for v in self.videos.values()
                          if v.category == category and umt_split(v.video_id, v.category) is None)
        return {"proportion": self.proportion, "split": "umt (TencentARC/UMT TVSUM_SPLITS: 4 train, 1 test)",
                "category": category, "left_out_not_in_umt_split": left_out}

    def card_facts(self) -> dict:
        return card_facts()


def main(argv=None) -> int:
    return run(TVSum, argv)

