"""How2's own release, reorganised into How2-MCLS as the MCLS paper describes (section 3.1).

Layout (How2's packages as unpacked; each folder can be given by its own flag)::

    INPUT/how2-300h-v1/data/{train,val,dev5}/text.id.en   "<segment id> <text>" per line: the English transcript
    INPUT/how2-300h-v1/data/{train,val,dev5}/text.id.pt   the same segments in Portuguese (the translation package)
    INPUT/how2-300h-v1/data/{train,val,dev5}/segments     "<segment id> <video id> <start> <end>" (Kaldi; optional)
    INPUT/text/sum_{train,cv,devtest}/tran.tok.txt        "<video id> <transcript>" (the summarization package)
    INPUT/text/sum_{train,cv,devtest}/desc.tok.txt        "<video id> <summary>"
    INPUT/video_action_features/<video id>.npy            [T, 2048] ResNeXt-101 3D features per 16 frames

(srvk/how2-dataset: ``reproduce/300h/sha1/300h`` lists the per-split text files, ``reproduce/300h/data/*/segments``
the segment lines; the ``sum_*/{tran,desc}.tok.txt`` files and ``video_action_features/`` are read that way by the
How2 summarization code that followed, e.g. MAST and VG-GPLMs.)

The reorganisation: How2-MCLS (config ``mcls``) takes the videos of the 300-hour translation data that have a
summary, each video's segments joined in time order (``segments`` start times, else the segment number) into a
Portuguese and a parallel English transcript, split as the translation data is (train / val / dev5 -> train /
validation / test); How2-MS (config ``ms``) takes the summarization training videos (``sum_train``) that are not
in How2-MCLS, with their English transcript. Translation videos without a summary are left out and counted.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from builders.core import safe
from builders.core.base import BuildError
from builders.how2_mcls.dataset import MCLS, MS, How2MCLSBuilder, Video
from collectors.records import ItemError

TRANSLATION_SPLITS = {"train": "train", "val": "validation", "dev5": "test"}  # How2 300h -> ours
SUMMARY_SPLITS = ("sum_train", "sum_cv", "sum_devtest")


def read_id_lines(path: Path) -> list[tuple[str, str, int]]:
    """(id, text, line number) of a "<id> <text>" file; a line without an id is a BuildError naming it."""
    try:
        lines = safe.read_text(path).splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise BuildError(f"cannot read {path}: {e}") from e
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        key, _, text = line.strip().partition(" ")
        if not key:
            raise BuildError(f"{path}:{n}: expected '<id> <text>'")
        out.append((key, text.strip(), n))
    return out


def read_segments(path: Path) -> dict[str, tuple[str, float]]:
    """segment id -> (video id, start seconds) from a Kaldi ``segments`` file ({} when there is none)."""
    if not path.is_file():
        return {}
    out = {}
    for n, line in enumerate(safe.read_text(path).splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        try:
            seg, video, start = parts[0], parts[1], float(parts[2])
        except (IndexError, ValueError):
            raise BuildError(f"{path}:{n}: expected '<segment id> <video id> <start> <end>'") from None
        out[seg] = (video, start)
    return out


def segment_order(seg: str, segments: dict) -> tuple[str, float]:
    """(video id, sort key) of a segment: its start time from ``segments``, else the number after the last '_'."""
    if seg in segments:
        return segments[seg]
    video, _, k = seg.rpartition("_")
    try:
        return video, float(k)
    except ValueError:
        raise BuildError(f"segment id {seg!r} is not <video id>_<number> and is not in the segments file") from None


def translation_videos(folder: Path) -> dict[str, tuple[str, str, str | None]]:
    """video id -> (How2 split, English transcript, problem) of one split folder, segments joined in order."""
    en, pt = folder / "text.id.en", folder / "text.id.pt"
    for f in (en, pt):
        if not f.is_file():
            raise BuildError(f"{f} not found (How2's 300h translation data: text.id.en and text.id.pt per split)")
    segments = read_segments(folder / "segments")
    texts: dict[str, dict[str, dict[str, str]]] = {"en": {}, "pt": {}}
    for lang, path in (("en", en), ("pt", pt)):
        for seg, text, n in read_id_lines(path):
            if seg in texts[lang]:
                raise BuildError(f"{path}:{n}: segment {seg} appears twice")
            texts[lang][seg] = text
    by_video: dict[str, list] = defaultdict(list)
    for seg in set(texts["en"]) | set(texts["pt"]):
        video, key = segment_order(seg, segments)
        by_video[video].append((key, seg))
    out = {}
    for video, segs in by_video.items():
        segs.sort()
        one_sided = [s for _, s in segs if (s in texts["en"]) != (s in texts["pt"])]
        problem = (f"{len(one_sided)} segment(s) only in one language (e.g. {one_sided[0]}): the transcripts are "
                   "not parallel") if one_sided else None
        out[video] = tuple(" ".join(texts[lang][s] for _, s in segs if s in texts[lang]) for lang in ("en", "pt")) + (problem,)
    return out


def summary_videos(folder: Path) -> dict[str, dict[str, tuple[str, str]]]:
    """sum split -> video id -> (transcript, summary) of How2's summarization package."""
    out = {}
    for split in SUMMARY_SPLITS:
        d = folder / split
        if not d.is_dir():
            continue
        trans = {k: t for k, t, _ in read_id_lines(d / "tran.tok.txt")} if (d / "tran.tok.txt").is_file() else {}
        desc = d / "desc.tok.txt"
        if not desc.is_file():
            raise BuildError(f"{desc} not found (How2's summaries: sum_*/desc.tok.txt)")
        out[split] = {k: (trans.get(k), s) for k, s, _ in read_id_lines(desc)}
    if not out:
        raise BuildError(f"{folder} holds none of {', '.join(SUMMARY_SPLITS)} (How2's summarization package)")
    return out


class How2Release(How2MCLSBuilder):
    """How2's translation and summarization packages and its video features, reorganised into How2-MCLS."""

    source = "how2"
    input_help = ("How2's folder: how2-300h-v1/data/{train,val,dev5}/ (translation), text/sum_*/ (summaries), "
                  "video_action_features/")
    source_label = ("How2 (Sanabria et al., 2018) as released: the 300-hour translation data "
                    "(`how2-300h-v1/data/{train,val,dev5}/text.id.{en,pt}`, `segments`), the summarization data "
                    "(`sum_{train,cv,devtest}/{tran,desc}.tok.txt`) and the video features (`video_action_features/`), "
                    "reorganised here into How2-MCLS as the MCLS paper's section 3.1 describes.")

    def __init__(self, input: Path, translation: Path | None = None, summaries: Path | None = None,
                 features: Path | None = None, videos: Path | None = None, few_shot="1000,3000"):
        super().__init__(input, features, videos, few_shot)
        self.translation_dir = Path(translation) if translation else self.root / "how2-300h-v1" / "data"
        self.summaries_dir = Path(summaries) if summaries else self.root / "text"

    @classmethod
    def add_arguments(cls, p) -> None:
        super().add_arguments(p)
        p.add_argument("--translation", type=Path, help="the folder of train/ val/ dev5/ with text.id.en, text.id.pt "
                                                        "(default: INPUT/how2-300h-v1/data)")
        p.add_argument("--summaries", type=Path, help="the folder of sum_train/ sum_cv/ sum_devtest/ "
                                                      "(default: INPUT/text)")

    def read(self) -> list[Video]:
        if not self.translation_dir.is_dir():
            raise BuildError(f"no translation folder {self.translation_dir}: pass --translation DIR (How2's "
                             "how2-300h-v1/data with train/ val/ dev5/)")
        if not self.summaries_dir.is_dir():
            raise BuildError(f"no summaries folder {self.summaries_dir}: pass --summaries DIR (the folder of sum_train/ ...)")
        summaries = summary_videos(self.summaries_dir)
        summary_of = {}
        for split, videos in summaries.items():
            for vid, (_, summary) in videos.items():
                summary_of.setdefault(vid, summary)
        out, self.left_out = [], {}
        for how2_split, ours in TRANSLATION_SPLITS.items():
            folder = self.translation_dir / how2_split
            if not folder.is_dir():
                raise BuildError(f"{folder} not found (How2's translation splits: {', '.join(TRANSLATION_SPLITS)})")
            videos = translation_videos(folder)
            missing = sorted(v for v in videos if v not in summary_of)
            self.left_out[how2_split] = {"videos": len(videos), "without_summary": len(missing)}
            for vid in sorted(set(videos) - set(missing)):
                en, pt, problem = videos[vid]
                out.append(Video(vid, MCLS, ours, how2_split, summary_of[vid], en, pt,
                                 ItemError("bad_transcript", f"{vid}: {problem}", vid) if problem else None))
        in_mcls = {v.id for v in out}
        support = summaries.get("sum_train", {})
        self.ms_left_out = sum(1 for vid in support if vid in in_mcls)
        out += [Video(vid, MS, "train", "sum_train", summary, transcript, None)
                for vid, (transcript, summary) in sorted(support.items()) if vid not in in_mcls]
        return out

    def source_facts(self) -> dict:
        return {"reorganisation": "mcls: translation videos with a summary, segments joined in time order, How2's "
                                  "translation splits; ms: sum_train videos not in mcls",
                "translation_splits": self.left_out, "ms_excluded_as_in_mcls": self.ms_left_out,
                "translation": str(self.translation_dir), "summaries": str(self.summaries_dir)}
