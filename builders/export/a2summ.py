"""``--format a2summ``: BLiSS-style builds as A2Summ's ``BLiSSDataset`` (``datasets.py``) reads them.

    OUT/annotation/{train,test}.json        {clip_id: {video_id, num_frame, num_keyframe, num_sentence, sentence,
                                              sentence_time, text_label, video_label, highlight}}
    OUT/feature/video_clip_{split}.npy      {clip_id: [num_frame, D] float32}      frames_<visual>
    OUT/feature/text_roberta_{split}.npy    {clip_id: [num_sentence, D] float32}   sentences_<text>
    OUT/feature/video_summ_clip_{split}.npy {clip_id: [num_keyframe, D] float32}   keyframe features

Rules (also in export.json ``rules``):

- ``sentence_time[j] = [s, e]``: the frames i with ``start_j <= frame_times[i] < end_j`` are exactly
  ``s <= i < e`` (the builders' and models' alignment rule, ``models.collate.align_mask``; frame times
  increase, so they are consecutive). A sentence covering no frame gets the empty span ``[s, s]`` with
  s the number of frames before its start (A2Summ's mask is then empty, as ours).
- Release splits: A2Summ trains on ``train`` and evaluates on ``test``; it has no validation split. The
  build's ``validation`` clips are written to ``train`` (folded back: the released train split is the
  union), ``test`` to ``test``. Our A2Summ importer carves the same validation again (its
  ``VALIDATION_RULE`` depends only on the train videos and the fraction).
- ``video_label`` = ``frame_labels``, ``num_keyframe`` = their sum; ``video_summ_clip`` = the
  ``thumbnail_<visual>`` rows when there is one per keyframe (as an A2Summ import has), else the frame
  features at the keyframes (counted in export.json).
- Features go to the file names A2Summ opens whatever their encoder (``video_clip``, ``text_roberta``);
  the encoders are recorded in export.json, the only place for them.
- The pickled dicts are ``np.save(path, dict, allow_pickle=True)`` (numpy's fixed pickle protocol 3), as
  the authors wrote them; the annotation JSON has sorted keys. A pickled dict is one object, so one
  release split's features are held in memory while its file is written (A2Summ loads them whole too).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from builders.export import Build, ExportError, export_record

RELEASE_SPLIT = {"train": "train", "validation": "train", "test": "test"}
TIME_RULE = ("sentence_time [s, e]: the frames i with start <= frame_times[i] < end are s <= i < e "
             "(models.collate.align_mask); no frame: [s, s], s = frames with frame_times < start")
SPLIT_RULE = "release train = build train + validation (A2Summ has no validation split), release test = build test"
SUMM_RULE = ("video_summ_clip = thumbnail_<visual> when it has one row per keyframe (frame_labels == 1), "
             "else frames_<visual> at the keyframes")


def columns(build: Build) -> dict:
    visual = build.column("visual", "frames_")
    text = build.column("text", "sentences_")
    thumb = f"thumbnail_{visual[len('frames_'):]}" if visual else None
    return {"visual": visual, "text": text, "thumbnail": thumb if thumb in build.columns else None}


def check(build: Build) -> None:
    c = columns(build)
    build.require("a2summ", {"frame features (frames_*)": c["visual"], "sentence features (sentences_*)": c["text"],
                             "frame_times": "frame_times", "sentences": "sentences", "frame_labels": "frame_labels",
                             "sentence_labels": "sentence_labels", "summary": "summary", "video_id": "video_id"})


def sentence_spans(frame_times, sentences) -> list[list[int]]:
    """Frame spans [s, e) of the sentences by the alignment rule (see the module docstring)."""
    times = np.asarray(frame_times, np.float64)
    spans = []
    for j, s in enumerate(sentences):
        if s["start"] is None or s["end"] is None:
            raise ExportError(f"sentence {j} has no time; A2Summ's BLiSS layout needs timed sentences")
        a, b = (int(np.searchsorted(times, s[k], side="left")) for k in ("start", "end"))
        spans.append([a, max(a, b)])
    return spans


def clip(row: dict, c: dict, rules: Counter) -> tuple[dict, dict]:
    """(annotation, {stem: features}) of one build row."""
    rid = row["id"]
    for key in ("frame_labels", "sentence_labels", "summary"):
        if row[key] is None:
            raise ExportError(f"row {rid}: {key} is null (an unlabelled config); A2Summ's annotation needs it")
    frames, text = row[c["visual"]], row[c["text"]]
    labels = np.asarray(row["frame_labels"], np.int64)
    if frames is None or text is None or len(frames) != len(row["frame_times"]) or len(labels) != len(frames) \
            or len(text) != len(row["sentences"]) or len(row["sentence_labels"]) != len(text):
        raise ExportError(f"row {rid}: frames, frame_times, frame_labels, sentences and their features disagree in length")
    keys = np.flatnonzero(labels == 1)
    thumb = row[c["thumbnail"]] if c["thumbnail"] else None
    if thumb is not None and len(thumb) == len(keys):
        summ = thumb
        rules["video_summ_from_thumbnails"] += 1
    else:
        summ = frames[keys]
        rules["video_summ_from_keyframes"] += 1
    ann = {"video_id": row["video_id"], "num_frame": len(frames), "num_keyframe": len(keys),
           "num_sentence": len(text), "sentence": [s["text"] for s in row["sentences"]],
           "sentence_time": sentence_spans(row["frame_times"], row["sentences"]),
           "text_label": [int(x) for x in row["sentence_labels"]], "video_label": [int(x) for x in labels],
           "highlight": row["summary"]}
    arrays = {"video_clip": np.ascontiguousarray(frames, np.float32), "text_roberta": np.ascontiguousarray(text, np.float32),
              "video_summ_clip": np.ascontiguousarray(summ, np.float32)}
    return ann, arrays


def write(build: Build, out: Path, split=None, **_) -> dict:
    c = columns(build)
    rules: Counter = Counter()
    (out / "annotation").mkdir()
    (out / "feature").mkdir()
    written = {}
    for release in ("train", "test"):
        parts = [s for s in build.splits if RELEASE_SPLIT[s] == release]
        if not parts:
            continue
        annotations, features = {}, {"video_clip": {}, "text_roberta": {}, "video_summ_clip": {}}
        for part in parts:
            for row in build.rows(part):
                if row["id"] in annotations:
                    raise ExportError(f"clip id {row['id']} appears twice in release split {release}")
                annotations[row["id"]], arrays = clip(row, c, rules)
                for stem, a in arrays.items():
                    features[stem][row["id"]] = a
        (out / "annotation" / f"{release}.json").write_text(json.dumps(annotations, sort_keys=True, ensure_ascii=False),
                                                            encoding="utf-8")
        for stem, d in features.items():
            with open(out / "feature" / f"{stem}_{release}.npy", "wb") as f:
                np.save(f, dict(sorted(d.items())), allow_pickle=True)
        written[release] = {"clips": len(annotations), "from": parts}
    encoders = [{"file": "video_clip / video_summ_clip", **build.encoder(c["visual"])},
                {"file": "text_roberta", **build.encoder(c["text"])}]
    return export_record(build, "a2summ", split, {"sentence_time": TIME_RULE, "splits": SPLIT_RULE,
                                                  "video_summ": SUMM_RULE, "counts": dict(sorted(rules.items()))},
                         encoders, release_splits=written)
