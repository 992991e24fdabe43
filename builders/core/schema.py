"""The Hugging Face schema of published examples. Column names mean the same in every dataset.

Vectors are ``List(List(float32, length=D))`` (not Array2D), so any parquet reader sees plain
nested lists and ``datasets`` gives ``[T][D]`` per row. All times are seconds from the start of
the example (the clip); ``clip_start`` places the clip in its source video.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: datasets loads after the command line is parsed
    from datasets import Features, List

NULL_COLUMNS = "null_columns"  # json key of a webdataset sample: its array columns that are null (builders.core.writers)

SPLITS = ("train", "validation", "test")
DEFAULT_ROWS_PER_SHARD = 200  # examples per parquet shard and per tar (builders.core.writers)


def sentence() -> dict:
    """One transcript sentence: ``{start, end, text}``, seconds."""
    from datasets import Value

    return {"start": Value("float64"), "end": Value("float64"), "text": Value("string")}


def vectors(dim: int, dtype: str = "float32") -> List:
    from datasets import List, Value

    return List(List(Value(dtype), length=dim))


def frames_column(visual: str) -> str:
    return f"frames_{visual}"


def sentences_column(text: str) -> str:
    return f"sentences_{text}"


def keyframe_column(visual: str) -> str:
    return f"keyframe_{visual}"


def thumbnail_column(visual: str) -> str:
    return f"thumbnail_{visual}"


def config_name(visual: str, text: str) -> str:
    return f"{visual}-{text}"


def bliss_features(visual: str, visual_dim: int, text: str, text_dim: int) -> Features:
    """Columns of a BLiSS-style example (one 5-minute clip of a livestream)."""
    from datasets import Features, List, Value

    return Features(
        {
            "id": Value("string"),  # <video_id>_<clip_index:03d>; the released clip id for --source a2summ
            "video_id": Value("string"),
            "clip_index": Value("int32"),
            "clip_start": Value("float64"),  # seconds into the source video
            "clip_end": Value("float64"),
            "duration": Value("float64"),  # clip_end - clip_start
            "title": Value("string"),
            "description": Value("string"),
            "streamer": Value("string"),
            "creative_fields": List(Value("string")),
            "tools": List(Value("string")),
            "frame_times": List(Value("float64")),  # [T] step centres, 1 fps: 0.5, 1.5, ...
            frames_column(visual): vectors(visual_dim),  # [T, D]
            "sentences": List(sentence()),  # [N], times inside [0, duration]
            sentences_column(text): vectors(text_dim),  # [N, D]
            "frame_labels": List(Value("int8")),  # [T] 1 = keyframe
            "sentence_labels": List(Value("int8")),  # [N] 1 = key sentence
            keyframe_column(visual): List(Value("int32")),  # sorted distinct frame indices
            thumbnail_column(visual): vectors(visual_dim),  # [K, D] thumbnail-animation frames
            "summary": Value("string"),
            "keywords": List(Value("string")),
        }
    )


def transcript_summary_features(text: str, text_dim: int) -> Features:
    """Columns of a transcript-only livestream clip (StreamHover): BLiSS's text columns, no frames."""
    from datasets import Features, List, Value

    return Features(
        {
            "id": Value("string"),  # <video_id>_<clip_index:03d>
            "video_id": Value("string"),
            "clip_index": Value("int32"),
            "clip_start": Value("float64"),
            "clip_end": Value("float64"),
            "duration": Value("float64"),
            "title": Value("string"),
            "url": Value("string"),
            "transcript_url": Value("string"),
            "sentences": List(sentence()),  # [N] times from the clip start
            sentences_column(text): vectors(text_dim),  # [N, D]
            "sentence_labels": List(Value("int8")),  # [N] 1 = in the extractive summary
            "summary": Value("string"),
        }
    )


# Columns stored as .npy arrays in webdataset samples; everything else goes into <key>.json.
def array_columns(features: Features) -> list[str]:
    from datasets import List, Value

    return [
        name
        for name, f in features.items()
        if isinstance(f, List) and (isinstance(f.feature, List) or (isinstance(f.feature, Value) and f.feature.dtype != "string"))
    ]


def frame_score_features(visual: str | None = None, visual_dim: int | None = None,
                         user_scores: bool = True) -> Features:
    """Columns of a frame-importance dataset (TVSum, SumMe and the eccv16 h5 files).

    Frame indices refer to the original video's frames; ``picks`` are the sampled frames that
    ``frame_times``, ``frame_scores`` and ``frames_<visual>`` describe (every 15th frame in the
    eccv16 convention). ``change_points`` rows are inclusive frame ranges covering 0..n_frames-1.
    """
    from datasets import Features, List, Value

    cols = {
        "id": Value("string"),
        "video_id": Value("string"),
        "title": Value("string"),
        "category": Value("string"),
        "n_frames": Value("int32"),
        "fps": Value("float64"),
        "duration": Value("float64"),
        "picks": List(Value("int32")),  # [T] sampled frame indices
        "frame_times": List(Value("float64")),  # [T] picks / fps
        "frame_scores": List(Value("float32")),  # [T] ground-truth importance at picks, 0..1
    }
    if visual:
        cols[frames_column(visual)] = vectors(visual_dim)  # [T, D]
    cols.update({
        "change_points": List(List(Value("int32"), length=2)),  # [S, 2] shots, inclusive frame ranges
        "n_frame_per_seg": List(Value("int32")),  # [S]
        "user_summary": List(List(Value("int8"))),  # [U, n_frames] each annotator's keyshot summary
    })
    if user_scores:
        cols["user_scores"] = List(List(Value("float32")))  # [U, n_frames] each annotator's raw scores
        cols["gt_score"] = List(Value("float32"))  # [n_frames] mean annotator score, as in the source
        cols["shot_grid"] = List(List(Value("int32"), length=2))  # [G, 2] the annotation shots
    return Features(cols)


def hiersum_features(visual: str, visual_dim: int, text: str, text_dim: int) -> Features:
    """Columns of an instructional video with two text levels (HierSum): subtitles and steps.

    ``frame_scores`` is YouTube's most-replayed curve at the frame times and ``frame_labels`` its
    >= 0.15 threshold (HierSum's rule); both are null for a video without the curve.
    """
    from datasets import Features, List, Value

    return Features({
        "id": Value("string"),
        "video_id": Value("string"),
        "url": Value("string"),
        "title": Value("string"),
        "description": Value("string"),
        "views": Value("int64"),
        "duration": Value("float64"),
        "frame_times": List(Value("float64")),  # [T]
        frames_column(visual): vectors(visual_dim),  # [T, D]
        "sentences": List(sentence()),  # [N] local level: subtitles / ASR
        sentences_column(text): vectors(text_dim),  # [N, D]
        "transcript_source": Value("string"),  # manual | auto | whisper
        "steps": List(Value("string")),  # [G] global level: article steps or description sentences
        f"steps_{text}": vectors(text_dim),  # [G, D]
        "global_source": Value("string"),  # article | description
        "article_url": Value("string"),
        "article_title": Value("string"),
        "heatmap": List({"start": Value("float64"), "end": Value("float64"), "value": Value("float32")}),
        "frame_scores": List(Value("float32")),  # [T] most-replayed at frame_times, or null
        "frame_labels": List(Value("int8")),  # [T] frame_scores >= 0.15, or null
    })
