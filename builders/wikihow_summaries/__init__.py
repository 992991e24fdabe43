"""WikiHow Summaries (Narasimhan et al., "TL;DW?", ECCV 2022; HierSum ref. [38], Table 5) in its released layout,
with TL;DW's pseudo summaries as a training config.

    python -m builders.wikihow_summaries --input DIR --videos VIDEOS [--pseudo-videos PVIDEOS] [--visual clip]

Layout of the authors' repository (medhini/Instructional-Video-Summarization, ``datasets/``)::

    DIR/wikihow_summ_annt.json      {task: [0/1 per frame of the video, at its own frame rate]}
    DIR/how_to_steps/<task>.json    {"video_url": URL, "1": {"text", "img", "vid"}, "2": ...}  (the article's steps)
    DIR/pseudoGT_annts.json         {YouTube id: {"machine_summary": [0/1 per segment], "machine_summary_scores": [...]}}
                                    (optional: segments of 32 frames at 8 fps, i.e. 4 s, as its loader reads them)

Videos: ``VIDEOS/<task>.mp4`` or, as the download script writes them, ``VIDEOS/<task>/main_video.mp4``; the pseudo
summaries' videos ``PVIDEOS/<YouTube id>.mp4``. A task without its video or steps file is a recorded failure.

Configs (frames at 1 fps by ``--visual``, CLIP by default, as HierSum extracts them for this dataset):

- ``wikihow-<visual>``: every annotated task, split ``test`` (the benchmark is a test set). Rows: ``id`` (the task),
  ``video_id`` (YouTube id from the steps file), ``url``, ``title`` (the task, words), ``steps`` (the article's step
  texts in order: the global instruction), ``fps`` and ``n_frames`` of the video, ``frame_times``,
  ``frames_<visual>``, ``user_summary`` [1, n_frames] (the released per-frame annotation), ``frame_labels`` (it at
  the frame times).
- ``pseudo-<visual>`` (with ``pseudoGT_annts.json``): the pseudo summaries, split ``train``; ``frame_labels`` /
  ``frame_scores`` are the segment's ``machine_summary`` / ``machine_summary_scores`` at the frame times.

Evaluation (``models.protocols`` ``wikihow``, chosen by this build's card tag ``wikihow-summaries``): HierSum Table 5
/ TL;DW: the top 55% of the frames by predicted score are the summary, spread to every video frame; F1 of its overlap
with ``user_summary`` (TL;DW's ``evaluate_summary``), Kendall's tau / Spearman's rho of the prediction against it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from datasets import Features, List, Value

from builders.core.base import Builder, BuildError, run
from builders.core.extraction import Track
from builders.core.schema import frames_column, vectors
from collectors.records import ItemError, RawItem, item_id, safe_id
from extractors.base import UnknownExtractorError
from extractors.registry import entry

ANNOTATIONS, STEPS, PSEUDO = "wikihow_summ_annt.json", "how_to_steps", "pseudoGT_annts.json"
PSEUDO_SEGMENT_SECONDS = 32 / 8  # the pseudo summaries' loader: 32 frames per segment at 8 fps
SUMMARY_PROPORTION = 0.55  # HierSum section 4.5 / TL;DW: the top 55% of the frames
CITATION = """@inproceedings{narasimhan2022tldw,
  title     = {TL;DW? Summarizing Instructional Videos with Task Relevance and Cross-Modal Saliency},
  author    = {Narasimhan, Medhini and Nagrani, Arsha and Sun, Chen and Rubinstein, Michael and Darrell, Trevor and
               Rohrbach, Anna and Schmid, Cordelia},
  booktitle = {Proceedings of the European Conference on Computer Vision (ECCV)},
  year      = {2022}
}"""


def read_json(path: Path, what: str):
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BuildError(f"{path} not found ({what})") from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise BuildError(f"cannot read {path} ({what}): {e}") from e


def youtube_id(url: str) -> str:
    """The id of a YouTube URL as the steps files give it (``.../embed/<id>?showinfo=0``, ``watch?v=<id>``)."""
    url = str(url or "")
    if "v=" in url:
        return url.split("v=", 1)[1].split("&")[0]
    return url.rstrip("/").split("/")[-1].split("?")[0]


def read_steps(path: Path, task: str) -> tuple[str, list[str]]:
    """(video URL, step texts in step order) of one task's how_to_steps file; ItemError when unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ItemError("bad_annotation", f"{task}: no steps file {path.name}", task) from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ItemError("bad_annotation", f"{task}: {path.name} is not JSON ({e})", task) from None
    keys = sorted((k for k in data if k.isdigit()), key=int)
    if not isinstance(data, dict) or "video_url" not in data or not keys:
        raise ItemError("bad_annotation", f"{task}: {path.name} needs video_url and numbered steps", task)
    return data["video_url"], [str((data[k] or {}).get("text") or "").strip() for k in keys]


def video_fps(path: str) -> float:
    import av

    try:
        with av.open(path) as container:
            rate = container.streams.video[0].average_rate
    except (av.error.FFmpegError, IndexError, OSError) as e:
        raise ItemError("bad_media", f"cannot read the frame rate of {path}: {e}") from None
    if not rate:
        raise ItemError("bad_media", f"{path} declares no frame rate")
    return float(rate)


def binary(values, what: str, item: str) -> np.ndarray:
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        a = None
    if a is None or a.ndim != 1 or len(a) == 0 or not np.all(np.isfinite(a)):
        raise ItemError("bad_annotation", f"{item}: {what} must be a non-empty list of numbers", item)
    return a


class WikiHowSummaries(Builder):
    """The WikiHow Summaries test set (and TL;DW's pseudo summaries) as released by the authors."""

    name, source = "wikihow-summaries", "tldw-release"
    family = "wikihow"  # HierSum Table 1's WikiHow column

    def declared(self, config: str) -> dict:
        """The test config is scored by Table 5's protocol; the pseudo summaries (train only) by none."""
        return {"family": self.family, "protocol": "wikihow" if config.startswith("wikihow") else None}

    def __init__(self, input: Path, videos: Path, pseudo_videos: Path | None = None, visual: str = "clip"):
        for flag, d in (("--videos", videos), ("--pseudo-videos", pseudo_videos)):
            if d is not None and not Path(d).is_dir():
                raise BuildError(f"{flag} {d} is not a directory")
        try:
            entry(visual, "visual")
        except UnknownExtractorError as e:
            raise BuildError(str(e)) from e
        self.root, self.videos_dir = Path(input), Path(videos)
        self.pseudo_dir = Path(pseudo_videos) if pseudo_videos is not None else None
        self.visual, self.input = visual, str(input)

    @classmethod
    def add_arguments(cls, p) -> None:
        p.add_argument("--input", type=Path, required=True,
                       help=f"the release's datasets/ folder: {ANNOTATIONS}, {STEPS}/ [, {PSEUDO}]")
        p.add_argument("--videos", type=Path, required=True,
                       help="the WikiHow videos: VIDEOS/<task>.mp4 or VIDEOS/<task>/main_video.mp4 (the download script's)")
        p.add_argument("--pseudo-videos", type=Path, help=f"the pseudo summaries' videos <YouTube id>.mp4 (with {PSEUDO})")
        p.add_argument("--visual", default="clip", help="frame extractor at 1 fps (default clip, as HierSum)")

    def prepare(self, ctx) -> None:
        annotations = read_json(self.root / ANNOTATIONS, "the WikiHow Summaries annotations")
        if not isinstance(annotations, dict) or not annotations:
            raise BuildError(f"{self.root / ANNOTATIONS}: expected {{task: [0/1 per frame]}}")
        if not (self.root / STEPS).is_dir():
            raise BuildError(f"{self.root / STEPS} not found (extract datasets/how_to_steps.tar.gz of the release)")
        self.annotations = annotations
        self.pseudo = {}
        if (self.root / PSEUDO).is_file():
            if self.pseudo_dir is None:
                raise BuildError(f"{self.root / PSEUDO} is there: pass --pseudo-videos DIR (its <YouTube id>.mp4)")
            self.pseudo = read_json(self.root / PSEUDO, "the pseudo summaries")

    def tracks(self) -> dict:
        return {"visual": Track(self.visual, {"fps": 1.0}, column=frames_column(self.visual))}

    def configs(self) -> list[str]:
        return [f"wikihow-{self.visual}"] + ([f"pseudo-{self.visual}"] if self.pseudo else [])

    def _task_video(self, task: str) -> Path | None:
        for path in (self.videos_dir / f"{task}.mp4", self.videos_dir / task / "main_video.mp4"):
            if path.is_file():
                return path
        return None

    def items(self):
        for task in sorted(self.annotations):
            path = self._task_video(task)
            item = RawItem(id=item_id(task), source="wikihow", media={"video": str(path or "")},
                           meta={"task": task, "part": "wikihow"})
            yield item if path else item.failed(ItemError("unavailable", f"{task}: no video {task}.mp4 or "
                                                          f"{task}/main_video.mp4 in {self.videos_dir}", task))
        for vid in sorted(self.pseudo):
            path = self.pseudo_dir / f"{vid}.mp4"
            item = RawItem(id=item_id(f"pseudo-{vid}"), source="youtube", url=f"https://www.youtube.com/watch?v={vid}",
                           media={"video": str(path)}, meta={"video_id": vid, "part": "pseudo"})
            yield item if path.is_file() else item.failed(ItemError("unavailable", f"{vid}: no video {path}", vid))

    def splits(self, item) -> dict[str, str]:
        return {self.configs()[0]: "test"} if item.meta["part"] == "wikihow" else {self.configs()[1]: "train"}

    def features(self, dims: dict) -> dict:
        common = {"id": Value("string"), "video_id": Value("string"), "url": Value("string"), "title": Value("string"),
                  "fps": Value("float64"), "n_frames": Value("int32"), "frame_times": List(Value("float64")),
                  frames_column(self.visual): vectors(dims["visual"]), "frame_labels": List(Value("int8"))}
        out = {self.configs()[0]: Features({**common, "steps": List(Value("string")),
                                            "user_summary": List(List(Value("int8")))})}
        if self.pseudo:
            out[self.configs()[1]] = Features({**common, "frame_scores": List(Value("float32"))})
        return out

    def examples(self, item, tracks: dict) -> list[dict]:
        track = tracks["visual"]
        times, values = np.asarray(track.times, np.float64), np.asarray(track.values, np.float32)
        if len(times) == 0:
            raise ItemError("bad_media", f"{item.id}: no frame decoded", item.id)
        fps = video_fps(item.media["video"])
        if item.meta["part"] == "wikihow":
            return [self._wikihow_row(item.meta["task"], times, values, fps)]
        return [self._pseudo_row(item.meta["video_id"], times, values, fps)]

    def _wikihow_row(self, task: str, times, values, fps: float) -> dict:
        labels = binary(self.annotations[task], "the annotation", task)
        url, steps = read_steps(self.root / STEPS / f"{task}.json", task)
        at = np.minimum((times * fps).astype(np.int64), len(labels) - 1)
        return {"id": safe_id(task), "video_id": youtube_id(url), "url": url, "title": task.replace("-", " "),
                "fps": fps, "n_frames": len(labels), "frame_times": times, frames_column(self.visual): values,
                "frame_labels": (labels[at] > 0).astype(np.int8), "steps": steps,
                "user_summary": (labels > 0).astype(np.int8)[None]}

    def _pseudo_row(self, vid: str, times, values, fps: float) -> dict:
        ann = self.pseudo[vid] if isinstance(self.pseudo[vid], dict) else {}
        labels = binary(ann.get("machine_summary"), "machine_summary", vid)
        scores = binary(ann.get("machine_summary_scores", labels), "machine_summary_scores", vid)
        if len(scores) != len(labels):
            raise ItemError("bad_annotation", f"{vid}: {len(scores)} scores for {len(labels)} segments", vid)
        seg = np.minimum((times / PSEUDO_SEGMENT_SECONDS).astype(np.int64), len(labels) - 1)
        return {"id": safe_id(f"pseudo-{vid}"), "video_id": vid, "url": f"https://www.youtube.com/watch?v={vid}",
                "title": "", "fps": fps, "n_frames": int(round(times[-1] * fps)) + 1, "frame_times": times,
                frames_column(self.visual): values, "frame_labels": (labels[seg] > 0).astype(np.int8),
                "frame_scores": scores[seg].astype(np.float32)}

    def count(self, row: dict) -> dict:
        return {"frames": len(row["frame_times"]), "key_frames": int(np.sum(row["frame_labels"]))}

    def facts(self, config: str) -> dict:
        facts = {"frames": {"extractor": self.visual, "fps": 1.0}, "summary_proportion": SUMMARY_PROPORTION}
        if config.startswith("pseudo"):
            facts["segment_seconds"] = PSEUDO_SEGMENT_SECONDS
        return facts

    def card_facts(self) -> dict:
        return {
            "pretty_name": "WikiHow Summaries (TL;DW?) with its pseudo summaries",
            "item_unit": "videos",
            "summary": "WikiHow how-to videos with one summary per video, found by matching the article's step images "
                       "and clips to the video (Narasimhan et al., ECCV 2022), the HierSum Table 5 test set; with "
                       "TL;DW's pseudo summaries of COIN / CrossTask videos for training.",
            "sources": f"The authors' release (`{ANNOTATIONS}`, `{STEPS}/`, `{PSEUDO}`); frames encoded here at 1 fps.",
            "labels": ("- `user_summary`: the released per-frame 0/1 summary of the video (its own frame rate).\n"
                       "- `frame_labels`: that summary at the frame times; pseudo config: the 4-s segment's "
                       "`machine_summary` (`frame_scores`: its `machine_summary_scores`).\n"
                       "- Evaluation (HierSum Table 5): the top 55% of the frames are the summary."),
            "license": "other",
            "license_text": "Annotations and steps from the TL;DW release (wikiHow content under its own terms); the "
                            "videos belong to their owners. Use for research and cite the paper.",
            "task_categories": ["summarization"],
            "tags": ["video-summarization", "instructional-videos", "wikihow-summaries"],
            "citation": CITATION,
            "usage_columns": ["frame_times", "frames_*", "frame_labels", "user_summary", "steps"],
            "columns": {"user_summary": "[1, n_frames] the released per-frame summary (0/1)",
                        "frame_labels": "[T] the summary at the frame times", "steps": "the article's steps, in order"},
        }


def main(argv=None) -> int:
    return run(WikiHowSummaries, argv, prog="python -m builders.wikihow_summaries", description=__doc__.split("\n\n")[0])
