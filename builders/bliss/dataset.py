"""What every BLiSS source shares: the clip length, the card, and the numbers a split's stats count."""

from __future__ import annotations

import numpy as np

from builders.core.schema import keyframe_column

CLIP_SECONDS = 300.0
TOOL = "python -m builders.bliss"  # the command every source is built with (python -m builders.bliss --source ...)
UNLABELLED_SUFFIX = "-unlabelled"  # the config of streams without annotations
UNLABELLED_NOTE = ("UNLABELLED: streams without annotations.json. sentence_labels, summary and keywords are null "
                   "(unknown, not negative); keyframes come from the stream's thumbnail animation.")

CITATION = """@inproceedings{he2023a2summ,
  title     = {Align and Attend: Multimodal Summarization with Dual Contrastive Losses},
  author    = {He, Bo and Wang, Jun and Qiu, Jielin and Bui, Trung and Shrivastava, Abhinav and Wang, Zhaowen},
  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)},
  year      = {2023}
}"""

COLUMNS = {
    "id": "clip id: `<video_id>_<clip_index:03d>` (the released clip id for the A2Summ import)",
    "video_id": "source livestream; no video spans two splits",
    "clip_index": "k: the clip covers seconds [300k, 300(k+1)) of the video",
    "clip_start": "clip start in the source video (s)",
    "clip_end": "clip end in the source video (s)",
    "duration": "clip length (s); the last clip of a video may be shorter than 300",
    "frame_times": "[T] time of each frame step (s from the clip start; step centres at 1 fps)",
    "sentences": "[N] transcript sentences with start/end (s from the clip start), clamped to the clip",
    "frame_labels": "[T] 1 = keyframe (most similar to a thumbnail-animation frame)",
    "sentence_labels": "[N] 1 = key sentence (contains an annotator keyword); null in `-unlabelled` configs",
    "summary": "abstractive summary written by the annotator for this clip; null in `-unlabelled` configs",
    "keywords": "annotator keywords for this clip; null in `-unlabelled` configs",
    "frames_*": "[T, D] visual features, one per frame step (see Encoders)",
    "sentences_*": "[N, D] text features, one per sentence (see Encoders)",
    "keyframe_*": "sorted distinct frame indices of the keyframes",
    "thumbnail_*": "[K, D] features of the thumbnail-animation frames",
    "title": "livestream title", "description": "livestream description", "streamer": "streamer",
    "creative_fields": "creative fields of the stream", "tools": "creative tools used",
}


CLIPPED_LABELS = (
    "- Clips: clip k covers [300k, 300(k+1)) s; the last clip is what remains, dropped if shorter than "
    "`--min-clip` seconds (10 by default).\n"
    "- Sentences: a sentence belongs to the clip containing its midpoint and is clamped to that clip, so a "
    "sentence that straddles a boundary appears once, where most of it is spoken.\n"
    "- Key sentences (`sentence_labels`): sentences that contain one of the clip's annotator keywords "
    "(case-insensitive, whole words).\n"
    "- Keyframes (`frame_labels`, `keyframe_<visual>`): for every frame of the video's thumbnail animation, "
    "the clip frame with the most similar visual feature (cosine). `thumbnail_<visual>` holds the "
    "thumbnail frames' own features, the reference for A2Summ's keyframe cosine metric.\n"
    "- Summary: written by the annotator for the clip.")

LABELS = {
    "sample": CLIPPED_LABELS,
    "raw": CLIPPED_LABELS,
    "behance": CLIPPED_LABELS,
    "a2summ": (
        "The labels are A2Summ's, as released; nothing was relabelled here.\n"
        "- Clips as released (`num_frame` frames at 1 fps): `frame_times[i] = i + 0.5`; `clip_index` is the "
        "trailing number of the clip id when a video's numbers start at 0, else the clip's position among its "
        "video's clips; `clip_start = 300 * clip_index`.\n"
        "- `sentences`: the released `sentence` with `sentence_time` as [start, end) seconds; an end past "
        "`num_frame` is clamped to it and an empty span is kept, as A2Summ's own data loader does (each repair "
        "is counted in build.json, `repairs`).\n"
        "- `sentence_labels` = `text_label`, `frame_labels` = `video_label`, `keyframe_clip` = the frames "
        "`video_label` marks, `thumbnail_clip` = the released keyframe features (`video_summ_clip`).\n"
        "- `summary` = `highlight` (a list of sentences joined with spaces, as A2Summ's ROUGE code joins them).\n"
        "- Not released, so empty: `keywords`, `title`, `description`, `streamer`, `creative_fields`, `tools`."
    ),
}

LICENSES = {
    "sample": "The sample is synthetic and released with the code (Apache-2.0).",
    "raw": "The livestreams are yours: state their license here before publishing (behance.net streams belong to "
           "their creators).",
    "behance": "Crawled from behance.net: the videos, transcripts and covers belong to their streamers (Behance's terms "
               "of use apply): state their license here before publishing.",
    "a2summ": "Unknown. Neither the A2Summ repository (github.com/boheumd/A2Summ) nor its paper states a license for "
              "the BLiSS features and annotations; the streams come from behance.net. Check with the authors before "
              "redistributing.",
}


def card_facts(source: str, unlabelled: bool = False) -> dict:
    """The card's facts for a build from `source`; `unlabelled` when some streams have no annotations."""
    sources = {
        "sample": "The bundled sample: synthetic livestreams (a canvas on which drawings grow, with scene changes), "
                  "their transcripts, annotations and thumbnail animations, generated deterministically by "
                  "`builders/bliss/sample.py`. It exists to exercise the whole pipeline offline; it is not real data.",
        "raw": "Livestream videos with transcripts, metadata, thumbnail animations and per-clip annotations in the "
               "layout of `docs/raw-layout.md`.",
        "behance": "Behance livestreams crawled from behance.net (collectors.behance_web): page metadata, the cover "
                   "image and cover animation, the video (yt-dlp), the transcript Behance provides or else a Whisper "
                   "transcript; written in the layout of `docs/raw-layout.md`, with annotations added by the user.",
        "a2summ": "The annotation and feature files released with A2Summ (He et al., CVPR 2023): CLIP frame features, "
                  "RoBERTa sentence features and ground-truth keyframe features as released; keywords were not released.",
    }
    return {
        "pretty_name": "BLiSS: Behance LiveStream Summarization" + (" (synthetic sample)" if source == "sample" else ""),
        "summary": "Livestream videos cut into 5-minute clips. Per clip: frame features at 1 fps, transcript sentences "
                   "with times and sentence features, key sentences, keyframes and an abstractive summary "
                   "(the BLiSS dataset of A2Summ, CVPR 2023).",
        "sources": sources[source],
        "labels": LABELS[source] + (f"\n- Configs ending in `{UNLABELLED_SUFFIX}`: {UNLABELLED_NOTE}" if unlabelled else ""),
        "license": "apache-2.0" if source == "sample" else "unknown",
        "license_text": LICENSES[source],
        "item_unit": "released clips" if source == "a2summ" else "source videos",
        "task_categories": ["summarization", "video-text-to-text"],
        "tags": ["video-summarization", "multimodal-summarization", "livestream"],
        "citation": CITATION,
        "columns": COLUMNS,
        "usage_columns": ["frame_times", "frames_*", "sentences", "sentences_*", "sentence_labels", "frame_labels", "summary"],
    }


def count(row: dict, visual: str) -> dict:
    """One example's frames, sentences, seconds, key sentences and keyframes (build.json stats)."""
    labels = row["sentence_labels"]  # null in an unlabelled config: no count rather than a false 0
    return {"frames": len(row["frame_times"]), "sentences": len(row["sentences"]), "seconds": float(row["duration"]),
            **({} if labels is None else {"key_sentences": int(np.sum(labels))}),
            "keyframes": len(row[keyframe_column(visual)])}
