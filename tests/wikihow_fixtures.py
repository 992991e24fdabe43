"""A WikiHow Summaries release in the authors' layout (medhini/Instructional-Video-Summarization, datasets/):
wikihow_summ_annt.json, how_to_steps/<task>.json, pseudoGT_annts.json, and tiny videos in the download
script's layout (<task>/main_video.mp4) and flat (<YouTube id>.mp4) for the pseudo summaries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from collectors.synthetic import write_video

FPS = 10  # the tiny videos' frame rate: the annotation has one value per video frame


def _video(path: Path, seconds: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = (np.full((32, 32, 3), (23 * (i // FPS)) % 255, np.uint8) for i in range(seconds * FPS))
    write_video(path, frames, fps=FPS)


def write_wikihow_release(root: Path) -> dict:
    """Two annotated tasks (one without its video), one steps file missing, two pseudo summaries."""
    data, videos, pseudo_videos = root / "datasets", root / "wikihow_videos", root / "pseudoGT_videos"
    (data / "how_to_steps").mkdir(parents=True)
    seconds = {"Bake-Salmon": 6, "Boil-Eggs": 5, "No-Video": 4, "No-Steps": 4}
    annotations = {}
    for task, n in seconds.items():
        labels = np.zeros(n * FPS, int)
        labels[2 * FPS: 4 * FPS] = 1  # seconds 2-3 are the summary
        annotations[task] = labels.tolist()
        if task != "No-Video":
            _video(videos / task / "main_video.mp4", n)
        if task != "No-Steps":
            steps = {"video_url": f"https://www.youtube.com/embed/{task[:4]}ID12345?showinfo=0"}
            steps.update({str(k): {"text": f"{task} step {k}.", "img": None, "vid": None} for k in (2, 1, 10)})
            (data / "how_to_steps" / f"{task}.json").write_text(json.dumps(steps))
    (data / "wikihow_summ_annt.json").write_text(json.dumps(annotations))
    pseudo = {"abcdefghijk": {"machine_summary": [0, 1], "machine_summary_scores": [0.2, 0.9]},
              "lmnopqrstuv": {"machine_summary": [1, 0], "machine_summary_scores": [0.7, 0.1]}}
    for vid in pseudo:
        _video(pseudo_videos / f"{vid}.mp4", 8)
    (data / "pseudoGT_annts.json").write_text(json.dumps(pseudo))
    return {"data": data, "videos": videos, "pseudo_videos": pseudo_videos, "seconds": seconds}
