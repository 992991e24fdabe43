"""Synthetic releases of VMSMO and MM-AVS in their real layouts (see builders.vmsmo / builders.mmavs for
the public code each layout was read from), with videos PyAV writes.

Every video is made of scenes of 1.2 s at 10 fps; a scene shows a block pattern of its own (random
blocks, seeded), so a cover picture or an article image cut from one scene is nearest, by average hash
and by colour histogram, to the frames of that scene.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from collectors.synthetic import write_hls, write_video

FPS = 10
SCENE_FRAMES = 12  # 1.2 s: no 2.5-fps step centre (0.2 + 0.4 k) falls on a scene boundary


def scene_image(seed: int, width: int = 128, height: int = 96) -> np.ndarray:
    """A pattern of 8 x 6 coloured blocks (seeded): distinct hashes and colour histograms per seed."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)
    return np.kron(blocks, np.ones((height // 6, width // 8, 1), np.uint8))


def scene_video(path: Path, seeds: list[int]) -> Path:
    frames = (scene_image(s) for s in seeds for _ in range(SCENE_FRAMES))
    return write_video(path, frames, fps=FPS)


def scene_at(seeds: list[int], t: float) -> int:
    """The seed of the scene on screen at t seconds."""
    return seeds[int(round(t * FPS, 6)) // SCENE_FRAMES]


# ---------------------------------------------------------------- VMSMO

ARTICLE_ZH = "国家卫健委今天通报了最新情况。专家表示风险总体可控！市民应当注意防护？请关注后续报道"


def vmsmo_sample(sid: str, title: str = "卫健委通报最新情况", content: str = ARTICLE_ZH) -> dict:
    """One sample with the fields of the DIMS repository's README (and its crawler's names)."""
    return {"id": sid, "content": content, "original_pictures": "无", "video_url": f"https://video.weibo.com/{sid}",
            "image_url": f"https://wx1.sinaimg.cn/{sid}.jpg", "publish_place": "无", "publish_time": "2020-03-01 12:00",
            "publish_tool": "微博 weibo.com", "up_num": 12, "retweet_num": 3, "comment_num": 4, "title": title}


def write_vmsmo(root: Path, samples: dict[str, dict], scenes: dict[str, list[int]], cover_scene: dict[str, int],
                crawler_names: set[str] = frozenset(), extra_lines: dict[str, list[str]] | None = None) -> Path:
    """``root/{train,valid,test}.json`` (train a JSON array, valid the crawler's {"weibo": [...]}, test JSON
    lines) and ``root/video/``, ``root/video_img/``: a video per sample of ``scenes`` and its cover, cut
    from scene ``cover_scene`` at another size and JPEG-compressed. ``samples``: split -> list of records."""
    (root / "video").mkdir(parents=True, exist_ok=True)
    (root / "video_img").mkdir(parents=True, exist_ok=True)
    for split, records in samples.items():
        path = root / {"train": "train.json", "validation": "valid.json", "test": "test.json"}[split]
        if split == "train":
            path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
        elif split == "validation":
            path.write_text(json.dumps({"user": {"id": "1642512402"}, "weibo": records}, ensure_ascii=False), encoding="utf-8")
        else:
            lines = [json.dumps(r, ensure_ascii=False) for r in records] + (extra_lines or {}).get(split, [])
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for sid, seeds in scenes.items():
        stem = f"20200301_{sid}" if sid in crawler_names else sid
        scene_video(root / "video" / f"{stem}.mp4", seeds)
        if sid in cover_scene:
            cover = Image.fromarray(scene_image(cover_scene[sid], 256, 192))
            cover.save(root / "video_img" / f"{stem}.jpg", quality=85)
    return root


# ---------------------------------------------------------------- MM-AVS

DM_ARTICLE = ("A man was rescued from the river on Sunday. Police said he was lucky.Officers arrived within "
              "minutes. Mr. Smith thanked them.The river was high after the storm.")


def write_dailymail_sample(folder: Path, seeds: list[int], images: list[int], highlights: list[str] | None = None,
                           article: str = DM_ARTICLE, title: str = "Man rescued from river") -> Path:
    """A sample folder as webScraper_dm.py writes it: title.txt, highlight.txt (one per line), article.txt
    (paragraphs back to back), video.mp4, img_caption.txt and 0.png.. (images cut from scenes)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "title.txt").write_text(title, encoding="utf-8")
    if highlights is not None:
        (folder / "highlight.txt").write_text("".join(h + "\n" for h in highlights), encoding="utf-8")
    (folder / "article.txt").write_text(article, encoding="utf-8")
    scene_video(folder / "video.mp4", seeds)
    with open(folder / "img_caption.txt", "a", encoding="utf-8") as captions:
        for k, seed in enumerate(images):
            Image.fromarray(scene_image(seed, 320, 240)).save(folder / f"{k}.png")
            captions.write(f"Caption of picture {k}\n")
    return folder


def write_cnn_sample(folder: Path, seeds: list[int], highlights: list[str], paragraphs: list[str],
                     title: str = "Storm hits the coast") -> Path:
    """A sample folder as webScraper_cnn.py writes it: title.txt, highlight.txt (each followed by "."),
    artitle.txt and artitle_section.txt (sic), video/segment1.ts, segment2.ts, ..."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "title.txt").write_text(title, encoding="utf-8")
    (folder / "highlight.txt").write_text("".join(h + "." for h in highlights), encoding="utf-8")
    (folder / "artitle.txt").write_text("".join(paragraphs), encoding="utf-8")
    (folder / "artitle_section.txt").write_text("".join(p + "\n" for p in paragraphs), encoding="utf-8")
    hls = write_hls(folder / "hls", (scene_image(s) for s in seeds for _ in range(SCENE_FRAMES)), fps=FPS,
                    segment_seconds=1.2)
    (folder / "video").mkdir()
    for k, seg in enumerate(sorted(hls.parent.glob("seg*.ts")), 1):
        seg.rename(folder / "video" / f"segment{k}.ts")
    for f in hls.parent.iterdir():
        f.unlink()
    hls.parent.rmdir()
    return folder
