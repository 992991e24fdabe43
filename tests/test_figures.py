"""Card figures: stills at given times, and one example drawn panel by panel."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from cards.figures import NothingToDraw, first_example, key_frames, render_example, write_figure
from collectors.synthetic import write_video
from extractors.decode import DecodeError
from extractors.stills import frames_at

FPS = 5


@pytest.fixture(scope="module")
def counting_video(tmp_path_factory):
    """8 s at 5 fps; frame i is uniformly grey at level 6 * i (so a still tells which frame it is)."""
    path = tmp_path_factory.mktemp("stills") / "count.mp4"
    frames = (np.full((64, 96, 3), 6 * i, np.uint8) for i in range(8 * FPS))
    return write_video(path, frames, FPS, crf=0)


def _frame_index(rgb: np.ndarray) -> int:
    return int(round(rgb.mean() / 6))


def test_stills_are_the_frames_on_screen_at_the_times(counting_video):
    times = [0.1, 3.05, 7.9, 2.0, 0.0]
    got = [_frame_index(f) for f in frames_at(counting_video, times, width=48)]
    assert got == [0, 15, 39, 10, 0]  # last frame at or before each time; order as asked


def test_a_still_past_the_end_is_the_last_frame(counting_video):
    (frame,) = frames_at(counting_video, [100.0], width=48)
    assert _frame_index(frame) == 8 * FPS - 1
    assert frame.shape == (32, 48, 3)  # width as asked, height keeps the 96x64 aspect


def test_stills_of_a_file_that_is_not_video_is_a_decode_error(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    with pytest.raises(DecodeError):
        frames_at(bad, [1.0])


def test_key_frames_prefer_keyframes_then_labels_then_scores():
    assert key_frames({"keyframe_clip": [7, 2], "frame_labels": [1, 0, 0]}) == [2, 7]
    assert key_frames({"frame_labels": [0, 1, 0, 1]}) == [1, 3]
    assert key_frames({"frame_scores": [0.1, 0.9, 0.5, 0.8, 0.0, 0.2, 0.3, 0.4]}) == [1, 2, 3, 5, 6, 7]
    assert key_frames({"frame_times": [0.5]}) == []


def _bliss_row(key: int = 1) -> dict:
    return {
        "id": "v1_000", "video_id": "v1", "clip_start": 2.0, "duration": 6.0,
        "frame_times": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5],
        "frame_labels": [0, 1, 0, 0, 1, 0],
        "keyframe_clip": [1, 4],
        "sentences": [{"start": 0.0, "end": 2.0, "text": "we sketch the outline"},
                      {"start": 2.5, "end": 5.5, "text": "now the shading of the lantern"}],
        "sentence_labels": [0, key],
    }


def _red_pixels(path) -> int:
    a = np.asarray(Image.open(path).convert("RGB")).astype(int)
    return int(((abs(a[..., 0] - 214) < 20) & (abs(a[..., 1] - 39) < 20) & (abs(a[..., 2] - 40) < 20)).sum())


def test_key_sentences_are_drawn_in_colour(tmp_path):
    with_key = render_example(_bliss_row(key=1), tmp_path / "key.png")
    without = render_example(_bliss_row(key=0), tmp_path / "nokey.png")
    assert _red_pixels(with_key) > 100
    assert _red_pixels(without) == 0


def test_each_kind_of_column_adds_its_panel(tmp_path):
    base = _bliss_row()
    heights = {}
    for name, row in {
        "transcript only": {k: base[k] for k in ("id", "duration", "sentences", "sentence_labels")},
        "with frames": base,
        "with annotators": {**base, "user_summary": [[0, 1, 1, 0, 0, 0], [1, 1, 0, 0, 0, 0]]},
    }.items():
        heights[name] = Image.open(render_example(row, tmp_path / f"{name}.png")).height
    assert heights["transcript only"] < heights["with frames"] < heights["with annotators"]


def test_an_example_with_nothing_to_draw_is_refused_and_gets_no_figure(tmp_path):
    with pytest.raises(NothingToDraw):
        render_example({"id": "x"}, tmp_path / "x.png")
    hub = tmp_path / "hub"
    _write_config(hub, "bare", rows=[{"id": "x", "picks": [0, 15]}])  # an eccv16 import without --fps
    assert write_figure(hub, "bare") is None and not (hub / "figures").exists()


def _write_config(hub, config="clip-roberta", rows=None):
    rows = rows or [_bliss_row()]
    d = hub / "data" / config
    d.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), d / "train-00000-of-00001.parquet")


def test_figure_of_a_config_with_its_source_video(tmp_path, counting_video):
    hub = tmp_path / "hub"
    _write_config(hub)
    assert first_example(hub, "clip-roberta")[0] == "train"
    plain = write_figure(hub, "clip-roberta")
    h_plain = Image.open(hub / plain).height
    asked = []
    name = write_figure(hub, "clip-roberta", video_of=lambda vid: asked.append(vid) or counting_video)
    assert name == "figures/clip-roberta.png" and asked == ["v1"]
    assert Image.open(hub / name).height > h_plain  # the stills row is there
    assert not list((hub / "figures").glob(".*.tmp"))


def test_figure_without_examples_or_with_a_broken_video(tmp_path):
    hub = tmp_path / "hub"
    (hub / "data" / "empty").mkdir(parents=True)
    assert write_figure(hub, "empty") is None
    _write_config(hub)
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    assert write_figure(hub, "clip-roberta", video_of=lambda vid: broken) == "figures/clip-roberta.png"


def _every_builders_example() -> dict[str, dict]:
    """One example per builder, with the columns it writes (builders.core.schema and each builder's features)."""
    rng = np.random.default_rng(0)
    t300 = (np.arange(300) + 0.5).tolist()
    bliss_labels = [1 if i in (40, 41, 150, 260) else 0 for i in range(300)]
    scores = rng.random(75).round(3).tolist()
    zh = [{"start": None, "end": None, "text": t} for t in ("台风“山竹”今日登陆广东，多地停课。", "气象部门发布红色预警。")]
    return {
        "bliss": {"id": "s_000", "duration": 300.0, "frame_times": t300, "frame_labels": bliss_labels,
                  "keyframe_colorhist": [40, 150, 260], "sentences": [{"start": 10.0 * i, "end": 10.0 * i + 8, "text": f"step {i}"}
                                                                     for i in range(30)],
                  "sentence_labels": [i % 7 == 0 for i in range(30)], "summary": "a sketch of a lantern"},
        "eccv16": {"id": "video_1", "duration": 150.0, "frame_times": list(np.arange(75) * 2.0 + 1), "frame_scores": scores,
                   "user_summary": rng.integers(0, 2, (20, 75)).tolist()},
        "tvsum": {"id": "AwmHb44_ouw", "duration": 150.0, "frame_times": list(np.arange(75) * 2.0 + 1),
                  "frame_scores": scores, "user_summary": rng.integers(0, 2, (20, 75)).tolist(), "title": "Car tires"},
        "hiersum": {"id": "h", "duration": 150.0, "frame_times": list(np.arange(75) * 2.0 + 1), "frame_scores": scores,
                    "frame_labels": [int(s > 0.7) for s in scores], "steps": ["Fill the pot.", "Boil the water."],
                    "sentences": [{"start": 5.0 * i, "end": 5.0 * i + 4, "text": f"say {i}"} for i in range(30)],
                    "sentence_labels": [int(i < 3) for i in range(30)]},
        "how2_mcls": {"id": "how2", "duration": 60.0, "frame_times": list(np.arange(30) * 2.0 + 1),
                      "transcript_pt": "hoje vamos aprender a afinar um violão", "transcript_en": "today we tune a guitar",
                      "summary": "learn how to tune a guitar in this free video"},
        "mmavs": {"id": "dm", "duration": 30.0, "sentences": [{"start": None, "end": None, "text": "A storm hit."}],
                  "summary": "Storm hits the coast."},
        "mrhisum": {"id": "yt8m", "duration": 150.0, "frame_times": list(np.arange(75) * 2.0 + 1), "frame_scores": scores,
                    "frame_labels": [int(s > 0.8) for s in scores], "user_summary": [[int(s > 0.8) for s in scores]]},
        "qvhighlights": {"id": "qid9769", "query": "A woman in a red coat walks her dog along a snowy street at dusk",
                         "duration": 150.0, "frame_times": list(np.arange(75) * 2.0 + 1), "frame_scores": scores,
                         "frame_labels": [int(10 <= i < 20) for i in range(75)]},
        "vmsmo": {"id": "zh1", "duration": 40.0, "frame_times": list(np.arange(40) + 0.5),
                  "keyframe_googlenet": [12], "sentences": zh, "summary": "台风山竹登陆广东", "title": "台风来了"},
        "youtube_highlights": {"id": "dogA", "duration": 60.0, "frame_times": list(np.arange(30) * 2.0 + 1),
                               "frame_labels": [int(5 <= i < 9) for i in range(30)]},
    }


@pytest.mark.parametrize("builder", sorted(_every_builders_example()))
def test_every_builders_figure_is_drawn_with_its_glyphs_and_no_empty_panel(builder, tmp_path):
    import warnings

    import matplotlib.pyplot as plt

    from cards.figures import draw_example

    row = _every_builders_example()[builder]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = draw_example(row, title=f"config / train: {row['id']}")
        fig.canvas.draw()
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == []  # VMSMO's Chinese included: the CJK font comes from a package
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        drawn = ax.lines + ax.patches + ax.images + ax.collections + [t for t in ax.texts if t.get_text().strip()]
        assert drawn, f"{builder}: an empty panel ({ax.get_title()})"
    heading = fig._suptitle.get_window_extent(renderer)
    for ax in fig.axes:  # the figure's title above every panel's title, never across it
        assert not heading.overlaps(ax.title.get_window_extent(renderer)), builder
    if builder == "qvhighlights":
        assert "query: A woman in a red coat" in fig._suptitle.get_text()
    if builder == "mrhisum":
        users = next(ax for ax in fig.axes if ax.get_ylabel() == "annotator")
        assert [t.get_text() for t in users.get_yticklabels()] == ["1"]  # one annotator: one tick
    if builder == "bliss":
        importance = fig.axes[0]
        widths = [p.get_window_extent(renderer).width for p in importance.patches]
        assert len(widths) == 3 and min(widths) >= 5  # 3 runs of key frames, each visible (pixels)
    plt.close(fig)
    assert render_example(row, tmp_path / "f.png").stat().st_size > 10_000
