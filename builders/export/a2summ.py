"""``--format a2summ``: BLiSS-style builds as A2Summ's ``BLiSSDataset`` (``datasets.py``) reads them, and
news builds (MM-AVS's Daily Mail and CNN, ``builders.mmavs``) as its ``MSMODataset`` reads them.

BLiSS-style (a build with timed ``sentences``)::

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
News (a build with an ``article``; put OUT at A2Summ's ``data/Daily_Mail`` or ``data/CNN``)::

    OUT/annotation/{train,test}.json              {id: {article_sentence, highlight, text_label[, video_label]}}
    OUT/feature/video_resnet50_{split}.npy        {id: [T, D] float32}   frames_<visual>
    OUT/feature/text_roberta_{split}.npy          {id: [N, D] float32}   sentences_<text>
    OUT/feature/video_summ_resnet50_{split}.npy   {id: [K, D] float32}   Daily Mail only: the article's images

- ``highlight`` = the build's ``highlights`` (a list: A2Summ's ``calc_text_rouge`` joins it with spaces).
- ``text_label`` = ``sentence_labels`` when the build has them; MM-AVS builds have none, and A2Summ
  does not say how its labels were made, so (a choice, docs/export.md) they are the greedy oracle of
  extractive news summarization (SummaRuNNer, Nallapati et al., AAAI 2017) scored as BertSum's
  ``greedy_selection`` (ROUGE-1 F + ROUGE-2 F; here rouge_score, stemmed, against the highlights, no
  3-sentence cap): add the sentence that most raises the score, until none does; at least one sentence
  (A2Summ takes top-k with k = the number of labels).
- Daily Mail (``build.json`` ``subset``, else a build with image features): ``video_label`` =
  ``frame_labels``, ``video_summ`` = the image features when there is one per keyframe, else the frames
  at the keyframes; a sample without images gets all-zero labels and no keyframe rows (counted). CNN
  has neither, as A2Summ's loader expects.

Both:

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
ORACLE_RULE = ("greedy ROUGE oracle (SummaRuNNer; BertSum's greedy_selection score): add the sentence that most raises ROUGE-1 F + ROUGE-2 F "
               "(rouge_score, stemmed) against the highlights until none does; at least one")
NEWS_SUMM_RULE = ("video_label = frame_labels (zeros without images); video_summ_resnet50 = images_<visual> when one "
                  "per keyframe, else frames_<visual> at the keyframes")
SUMM_RULE = ("video_summ_clip = thumbnail_<visual> when it has one row per keyframe (frame_labels == 1), "
             "else frames_<visual> at the keyframes")


def columns(build: Build) -> dict:
    visual = build.column("visual", "frames_")
    text = build.column("text", "sentences_")
    name = visual[len("frames_"):] if visual else ""
    thumb, images = f"thumbnail_{name}", f"images_{name}"
    return {"visual": visual, "text": text, "thumbnail": thumb if thumb in build.columns else None,
            "images": images if images in build.columns else None}


def is_news(build: Build) -> bool:
    return "article" in build.columns


def is_dailymail(build: Build) -> bool:
    subset = build.facts.get("subset")
    return subset == "dailymail" if subset else columns(build)["images"] is not None


def check(build: Build) -> None:
    c = columns(build)
    if is_news(build):
        build.require("a2summ", {"frame features (frames_*)": c["visual"], "sentence features (sentences_*)": c["text"],
                                 "sentences": "sentences", "summary": "summary"})
        if is_dailymail(build):
            build.require("a2summ", {"image features (images_*)": c["images"], "frame_labels": "frame_labels"})
        return
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


def key_features(frames, keys, pictures, kind: str, rules: Counter):
    """``video_summ``: the reference pictures' features when there is one per keyframe (A2Summ pairs them),
    else the frames at the keyframes; the rule taken is counted."""
    if pictures is not None and len(pictures) == len(keys):
        rules[f"video_summ_from_{kind}"] += 1
        return pictures
    rules["video_summ_from_keyframes"] += 1
    return frames[keys]


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
    summ = key_features(frames, keys, row[c["thumbnail"]] if c["thumbnail"] else None, "thumbnails", rules)
    ann = {"video_id": row["video_id"], "num_frame": len(frames), "num_keyframe": len(keys),
           "num_sentence": len(text), "sentence": [s["text"] for s in row["sentences"]],
           "sentence_time": sentence_spans(row["frame_times"], row["sentences"]),
           "text_label": [int(x) for x in row["sentence_labels"]], "video_label": [int(x) for x in labels],
           "highlight": row["summary"]}
    arrays = {"video_clip": np.ascontiguousarray(frames, np.float32), "text_roberta": np.ascontiguousarray(text, np.float32),
              "video_summ_clip": np.ascontiguousarray(summ, np.float32)}
    return ann, arrays


def oracle_labels(sentences: list[str], reference: str, scorer) -> list[int]:
    """Greedy ROUGE-1 + ROUGE-2 F oracle (see the module docstring): 1 = chosen sentence."""
    chosen: list[int] = []
    best = -1.0
    while len(chosen) < len(sentences):
        scores = []
        for j in range(len(sentences)):
            if j not in chosen:
                r = scorer.score(reference, " ".join(sentences[i] for i in sorted(chosen + [j])))
                scores.append((r["rouge1"].fmeasure + r["rouge2"].fmeasure, -j))
        score, j = max(scores)
        if score <= best and chosen:
            break
        chosen.append(-j)
        best = score
    return [int(i in chosen) for i in range(len(sentences))]


def news_clip(row: dict, c: dict, dailymail: bool, rules: Counter, scorer) -> tuple[dict, dict]:
    rid = row["id"]
    frames, text = row[c["visual"]], row[c["text"]]
    sentences = [s["text"] for s in row["sentences"]]
    if frames is None or text is None or len(text) != len(sentences) or not sentences:
        raise ExportError(f"row {rid}: the sentences and their features disagree (or there are none)")
    highlight = row.get("highlights") or (row["summary"] or "")
    if row.get("sentence_labels") is not None:
        labels = [int(x) for x in row["sentence_labels"]]
        rules["text_label_from_sentence_labels"] += 1
    else:
        reference = " ".join(highlight) if isinstance(highlight, list) else highlight
        labels = oracle_labels(sentences, reference, scorer)
        rules["text_label_greedy_rouge_oracle"] += 1
    ann = {"article_sentence": sentences, "highlight": highlight, "text_label": labels}
    arrays = {"video_resnet50": np.ascontiguousarray(frames, np.float32), "text_roberta": np.ascontiguousarray(text, np.float32)}
    if dailymail:
        if row["frame_labels"] is None:
            video_label = np.zeros(len(frames), np.int64)
            rules["dailymail_without_images"] += 1
        else:
            video_label = np.asarray(row["frame_labels"], np.int64)
        keys = np.flatnonzero(video_label == 1)
        summ = key_features(frames, keys, row[c["images"]], "images", rules)
        ann["video_label"] = [int(x) for x in video_label]
        arrays["video_summ_resnet50"] = np.ascontiguousarray(summ, np.float32).reshape(len(keys), frames.shape[1])
    return ann, arrays


def write(build: Build, out: Path, split=None, **_) -> dict:
    c = columns(build)
    rules: Counter = Counter()
    news, dailymail, scorer = is_news(build), is_dailymail(build), None
    if news and "sentence_labels" not in build.columns:
        from rouge_score import rouge_scorer

        scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=True)
    stems = (["video_resnet50", "text_roberta"] + (["video_summ_resnet50"] if dailymail else [])) if news else \
        ["video_clip", "text_roberta", "video_summ_clip"]
    (out / "annotation").mkdir()
    (out / "feature").mkdir()
    written = {}
    for release in ("train", "test"):
        parts = [s for s in build.splits if RELEASE_SPLIT[s] == release]
        if not parts:
            continue
        annotations, features = {}, {stem: {} for stem in stems}
        for part in parts:
            for row in build.rows(part):
                if row["id"] in annotations:
                    raise ExportError(f"clip id {row['id']} appears twice in release split {release}")
                annotations[row["id"]], arrays = (news_clip(row, c, dailymail, rules, scorer) if news
                                                  else clip(row, c, rules))
                for stem, a in arrays.items():
                    features[stem][row["id"]] = a
        (out / "annotation" / f"{release}.json").write_text(json.dumps(annotations, sort_keys=True, ensure_ascii=False),
                                                            encoding="utf-8")
        for stem, d in features.items():
            with open(out / "feature" / f"{stem}_{release}.npy", "wb") as f:
                np.save(f, dict(sorted(d.items())), allow_pickle=True)
        written[release] = {"clips": len(annotations), "from": parts}
    encoders = [{"file": " / ".join(s for s in stems if s != "text_roberta"), **build.encoder(c["visual"])},
                {"file": "text_roberta", **build.encoder(c["text"])}]
    if news and dailymail:
        encoders.append({"file": "video_summ_resnet50", **build.encoder(c["images"])})
    rules_used = ({"layout": "news (MSMODataset, " + ("Daily_Mail" if dailymail else "CNN") + ")", "splits": SPLIT_RULE,
                   "text_label": ORACLE_RULE if scorer else "sentence_labels", "video_summ": NEWS_SUMM_RULE if dailymail else None}
                  if news else {"layout": "BLiSS (BLiSSDataset)", "sentence_time": TIME_RULE, "splits": SPLIT_RULE,
                                "video_summ": SUMM_RULE})
    return export_record(build, "a2summ", split, {**rules_used, "counts": dict(sorted(rules.items()))},
                         encoders, release_splits=written)
