"""The MCLS authors' reorganised How2-MCLS files, read as released (korokes/MCLS, ``data/demo_data`` shows the layout).

    INPUT/{train,val,test}_action.txt   one video id per line
    INPUT/{train,val,test}_art_pt.txt   the Portuguese transcript, the same line
    INPUT/{train,val,test}_art_en.txt   the English transcript
    INPUT/{train,val,test}_sum.txt      the English summary
    INPUT/pretrain_{action,art_en,sum}.txt   How2-MS (English only; optional)
    INPUT/video_action_features/<video id>.npy   [T, 2048]

Files of one prefix are read line by line together (their ``preprocess.py`` binarises each file in line order and
its data loader pairs line i of each); files of one prefix with different line counts stop the build.
"""

from __future__ import annotations

from pathlib import Path

from builders.core import safe
from builders.core.base import BuildError
from builders.how2_mcls.dataset import MCLS, MS, How2MCLSBuilder, Video

PREFIXES = {"train": (MCLS, "train"), "val": (MCLS, "validation"), "test": (MCLS, "test"), "pretrain": (MS, "train")}


def read_lines(path: Path) -> list[str]:
    try:
        return [line.strip() for line in safe.read_text(path).splitlines()]
    except (OSError, UnicodeDecodeError) as e:
        raise BuildError(f"cannot read {path}: {e}") from e


class MCLSRelease(How2MCLSBuilder):
    """The reorganised files of the MCLS repository (Baidu Netdisk download, demo in data/demo_data)."""

    source = "mcls"
    input_help = "the MCLS files: {train,val,test,pretrain}_{action,art_pt,art_en,sum}.txt and video_action_features/"
    source_label = ("The How2-MCLS files the MCLS authors released (korokes/MCLS: "
                    "`{train,val,test}_{action,art_pt,art_en,sum}.txt`, `pretrain_*` for How2-MS, "
                    "`video_action_features/`), derived by them from How2 (Sanabria et al., 2018); read as released.")

    def read(self) -> list[Video]:
        out = []
        for prefix, (part, split) in PREFIXES.items():
            kinds = ("action", "art_en", "sum") + (("art_pt",) if part == MCLS else ())
            files = {k: self.root / f"{prefix}_{k}.txt" for k in kinds}
            if not files["action"].is_file() and prefix == "pretrain":
                continue
            missing = [str(f) for f in files.values() if not f.is_file()]
            if missing:
                raise BuildError(f"missing {', '.join(missing)} (the MCLS layout: {prefix}_action.txt with "
                                 f"{', '.join(f'{prefix}_{k}.txt' for k in kinds[1:])})")
            lines = {k: read_lines(f) for k, f in files.items()}
            counts = {files[k].name: len(v) for k, v in lines.items()}
            if len(set(counts.values())) != 1:
                raise BuildError(f"{self.root}: the {prefix} files do not have one line per video: {counts}")
            for i, vid in enumerate(lines["action"]):
                if not vid:
                    raise BuildError(f"{files['action']}:{i + 1}: empty video id")
                out.append(Video(vid, part, split, prefix, lines["sum"][i], lines["art_en"][i],
                                 lines["art_pt"][i] if part == MCLS else None))
        return out
