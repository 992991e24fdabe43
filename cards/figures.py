"""One example of a built config drawn as people read these datasets: ``figures/<config>.png``.

The dataset card links the figure, so the Hub shows it on the dataset page. Panels follow the
columns the example has (one vocabulary across datasets, so one function draws them all):

- frame importance over time: ``frame_scores`` as a curve, ``frame_labels`` (or ``keyframe_*``)
  as shaded steps, ``user_summary`` (one row per annotator) as a strip under it;
- the transcript timeline: each sentence of ``sentences`` as a bar from its start to its end, key
  sentences (``sentence_labels``) in colour with their text below; ``steps`` (a global
  instruction) listed when present;
- texts (query, summary, transcripts) for a dataset whose text has no times (How2-MCLS), and a
  QVHighlights query under the figure's title;
- stills: the frames of the key moments (keyframes, else labelled frames, else the highest
  scores) decoded from the source video when it is at hand.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

MAX_STILLS = 6
TEXT_COLUMNS = ("query", "title", "summary", "transcript_en", "transcript_pt", "description")  # drawn as text
FONTS = ["DejaVu Sans", "Noto Sans CJK JP"]  # Latin from matplotlib's own font, then CJK (VMSMO's Chinese)


def font_family() -> list[str]:
    """The fonts every figure uses, registered once: matplotlib's DejaVu Sans, falling back per glyph
    to Noto Sans CJK (the ``noto-cjk-sans-jp-regular`` package, SIL OFL: every Han, kana and Hangul
    glyph), so a figure looks the same on any machine, whatever fonts its system has."""
    from matplotlib import font_manager

    import noto_cjk_sans_jp_regular as cjk

    path = str(cjk.FONT_PATH)
    if path not in {f.fname for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(path)
    return FONTS


class NothingToDraw(ValueError):
    """The example has no frame times, labels, sentences or steps (e.g. an h5 import without fps)."""
MAX_QUOTES = 4


def first_example(hub_dir: str | os.PathLike, config: str) -> tuple[str, dict] | None:
    """(split, row) of the first example of ``config`` (train first), read from its parquet shards."""
    data = Path(hub_dir) / "data" / config
    for split in ("train", "validation", "test"):
        for shard in sorted(data.glob(f"{split}-*.parquet")):
            batch = next(pq.ParquetFile(shard).iter_batches(batch_size=1), None)
            if batch is not None and batch.num_rows:
                return split, batch.to_pylist()[0]
    return None


def key_frames(row: dict) -> list[int]:
    """Indices of the example's key moments: keyframes, else labelled frames, else the top scores."""
    for name, value in row.items():
        if name.startswith("keyframe_") and value:
            return sorted(int(i) for i in value)
    if row.get("frame_labels"):
        picked = [i for i, v in enumerate(row["frame_labels"]) if v]
        if picked:
            return picked
    if row.get("frame_scores"):
        scores = np.asarray(row["frame_scores"], dtype=np.float64)
        return sorted(np.argsort(-scores, kind="stable")[:MAX_STILLS].tolist())
    return []


def _spread(indices: list[int], n: int) -> list[int]:
    """At most ``n`` of ``indices``, evenly spread over them."""
    if len(indices) <= n:
        return indices
    return [indices[round(k)] for k in np.linspace(0, len(indices) - 1, n)]


def _step(times: np.ndarray) -> float:
    return float(np.median(np.diff(times))) if len(times) > 1 else 1.0


def _runs(indices: list[int]) -> list[tuple[int, int]]:
    """Consecutive indices as (first, last) runs."""
    runs = []
    for i in indices:
        if runs and i == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


def _importance(ax, row: dict, times: np.ndarray, end: float) -> None:
    """Scores as a curve; labelled frames as shaded runs at least 1/100 of the clip wide, with a marker
    on each, so a few key frames in a long clip (BLiSS) stay visible."""
    step = _step(times)
    labels = row.get("frame_labels")
    keyframes = key_frames(row) if labels is None else [i for i, v in enumerate(labels) if v]
    keyframes = [i for i in keyframes if i < len(times)]
    least = end / 100
    for first, last in _runs(keyframes):
        left, right = times[first] - step / 2, times[last] + step / 2
        pad = max(0.0, least - (right - left)) / 2
        ax.axvspan(left - pad, right + pad, color="tab:orange", alpha=0.45, lw=0)
    scores = row.get("frame_scores")
    if scores is not None:
        ax.plot(times, scores, color="tab:blue", lw=1.2, label="frame_scores")
        ax.legend(loc="upper right", fontsize=8)
    if keyframes:
        top = float(np.nanmax(scores)) if scores is not None and len(scores) else 1.0
        ax.plot(times[keyframes], np.full(len(keyframes), top * 1.05), "v", color="tab:orange", ms=5)
    if scores is None:
        ax.set_ylim(0, 1.2)
        ax.set_yticks([])
    ax.set_ylabel("importance" if scores is not None else "key")
    ax.set_title(f"frame importance; shaded: {'frame_labels' if labels is not None else 'key frames'} "
                 f"({len(keyframes)} of {len(times)} frames)", fontsize=9, loc="left")


def _user_summaries(ax, row: dict, seconds: float) -> None:
    summary = np.asarray(row["user_summary"], dtype=np.float32)
    if summary.ndim == 1:
        summary = summary[None]
    ax.imshow(summary, aspect="auto", cmap="Greys", interpolation="nearest", extent=(0, seconds, len(summary), 0))
    shown = np.unique(np.linspace(0, len(summary) - 1, min(len(summary), 10)).round().astype(int))
    ax.set_yticks(shown + 0.5, [str(i + 1) for i in shown])  # one tick per annotator (at most 10), never 0.5
    ax.set_ylabel("annotator")
    ax.set_title(f"user_summary: {len(summary)} annotators' keyshots", fontsize=9, loc="left")


def _transcript(ax, row: dict, end: float) -> None:
    sentences = row.get("sentences") or []
    labels = row.get("sentence_labels") or [0] * len(sentences)
    for s, key in zip(sentences, labels):
        ax.plot([s["start"], s["end"]], [0, 0], lw=8 if key else 5, solid_capstyle="butt",
                color="tab:red" if key else "0.75")
    quotes = [s["text"] for s, key in zip(sentences, labels) if key][:MAX_QUOTES]
    timed = sum(1 for s in sentences if s.get("start") is not None)
    if sentences and not timed:  # an article: no clock, so its first sentences and the summary as text
        quotes = [s["text"] for s in sentences[:MAX_QUOTES - 1]] + ([f"summary: {row['summary']}"] if row.get("summary") else [])
    if not quotes and row.get("steps"):
        quotes = [f"step {i + 1}: {t}" for i, t in enumerate(row["steps"][:MAX_QUOTES])]
    text = "\n".join(f"- {textwrap.shorten(q, 150)}" for q in quotes)
    ax.text(0, -0.6, text, fontsize=7.5, va="top", ha="left", wrap=True)
    ax.set_ylim(-2.2, 0.6)
    ax.set_xlim(0, end)
    ax.set_yticks([])
    keys = sum(1 for k in labels if k)
    where = "on the timeline" if timed or not sentences else "without times (an article): the first ones"
    ax.set_title(f"sentences: {len(sentences)} {where}" + (f", {keys} key (red)" if keys else ""),
                 fontsize=9, loc="left")


def _texts(ax, row: dict) -> None:
    """The example's texts (query, title, summary, transcripts) for a dataset whose text has no times."""
    lines = []
    for name in TEXT_COLUMNS:
        value = row.get(name)
        if isinstance(value, str) and value.strip():
            lines.append(f"{name}: {textwrap.shorten(value, 170)}")
    ax.text(0, 1, "\n".join(lines), fontsize=8, va="top", ha="left", transform=ax.transAxes, wrap=True)
    ax.set_axis_off()
    ax.set_title("text", fontsize=9, loc="left")


def _has_texts(row: dict) -> bool:
    return any(isinstance(row.get(n), str) and row.get(n).strip() for n in TEXT_COLUMNS if n not in ("title", "query"))


def render_example(row: dict, path: str | os.PathLike, title: str = "",
                   stills: list[tuple[float, np.ndarray]] | None = None) -> Path:
    """Draw ``row`` (one example, as ``load_dataset`` returns it) into a PNG at ``path``.

    ``stills``: (time in s, RGB frame) pairs to show in a row under the timelines.
    """
    fig = draw_example(row, title, stills)
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png", metadata={"Software": None})  # no library version: the same bytes anywhere
    plt.close(fig)
    os.replace(tmp, path)
    return path


def draw_example(row: dict, title: str = "", stills: list[tuple[float, np.ndarray]] | None = None):
    """The figure of ``row`` (a matplotlib Figure; :func:`render_example` saves it)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    times = np.asarray(row.get("frame_times") or [], dtype=np.float64)
    end = float(row.get("duration") or (times[-1] + _step(times) / 2 if len(times) else 1.0))
    panels = []
    if len(times) and (row.get("frame_scores") is not None or row.get("frame_labels") is not None or key_frames(row)):
        panels.append("importance")
    if row.get("user_summary"):
        panels.append("users")
    if row.get("sentences") or row.get("steps"):
        panels.append("transcript")
    if "transcript" not in panels and _has_texts(row):
        panels.append("texts")
    stills = stills or []
    heights = {"importance": 1.6 if row.get("frame_scores") is not None else 0.9, "users": 1.0, "transcript": 1.8,
               "texts": 1.4}
    rows = [heights[p] for p in panels] + ([1.8] if stills else [])
    if not rows:
        raise NothingToDraw("the example has no frame times, labels, sentences, steps or texts to draw")
    query = row.get("query") if isinstance(row.get("query"), str) else None
    heading = title + (f"\nquery: {textwrap.shorten(query, 160)}" if query else "")
    with matplotlib.rc_context({"font.family": font_family()}):
        fig = plt.figure(figsize=(12, sum(rows) + 0.8 + 0.3 * heading.count("\n")), dpi=100, layout="constrained")
        grid = fig.add_gridspec(len(rows), max(len(stills), 1), height_ratios=rows)
        for k, panel in enumerate(panels):
            ax = fig.add_subplot(grid[k, :])
            if panel == "importance":
                _importance(ax, row, times, end)
            elif panel == "users":
                _user_summaries(ax, row, end)
            elif panel == "texts":
                _texts(ax, row)
                continue
            else:
                _transcript(ax, row, end)
            ax.set_xlim(0, end)
            ax.set_xlabel("seconds" if k == len(panels) - 1 else "")
        for k, (t, frame) in enumerate(stills):
            ax = fig.add_subplot(grid[len(panels), k])
            ax.imshow(frame)
            ax.set_axis_off()
            ax.set_title(f"{t:.1f} s", fontsize=8)
        fig.suptitle(heading, fontsize=11, x=0.01, ha="left")  # constrained layout keeps it above the panels
    return fig


def example_stills(row: dict, video: str | os.PathLike) -> list[tuple[float, np.ndarray]]:
    """Frames of the example's key moments from its source video (times in the example's own clock)."""
    from extractors.stills import frames_at

    times = row.get("frame_times") or []
    picked = [i for i in _spread(key_frames(row), MAX_STILLS) if i < len(times)]
    offset = float(row.get("clip_start") or 0.0)
    frames = frames_at(video, [offset + times[i] for i in picked], width=240)
    return [(times[i], f) for i, f in zip(picked, frames)]


def write_figure(hub_dir: str | os.PathLike, config: str, video_of=None) -> str | None:
    """Render ``figures/<config>.png`` from the config's first example; its path in the hub, or None
    when the config has no example or nothing in it to draw. ``video_of(video_id)``: the source
    video's path, if at hand."""
    found = first_example(hub_dir, config)
    if found is None:
        return None
    split, row = found
    stills = []
    video = video_of(row.get("video_id") or row.get("id")) if video_of else None
    if video and os.path.exists(video):
        from extractors.decode import DecodeError

        try:
            stills = example_stills(row, video)
        except DecodeError:
            stills = []  # the figure is still worth having without its stills
    name = f"figures/{config}.png"
    try:
        render_example(row, Path(hub_dir) / name, title=f"{config} / {split}: {row.get('id', '')}", stills=stills)
    except NothingToDraw:
        return None
    return name
