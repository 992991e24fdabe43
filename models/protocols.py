"""Each dataset's own evaluation protocol, applied to per-example predictions.

A prediction for one example is a dict with any of ``video_scores`` [T] / ``text_scores`` [N]
(higher = more important) and ``video_pick`` / ``text_pick`` (chosen indices; when absent they
come from the scores by ``models.selection``). Protocols, chosen from the dataset's columns:

- ``frame_importance`` (``user_summary``, ``change_points``, ``n_frames``: TVSum, SumMe, eccv16):
  keyshot F1 by knapsack within 15% + Kendall / Spearman (eccv16 and Otani, see
  ``models.evaluate``). Main metric: ``f1``.
- ``most_replayed`` (``frame_scores`` with a ``heatmap`` column, or a card tagged
  ``most-replayed``: the HierSum videos): Mr.HiSum MAP at rho 50% / 15% of the predicted frame
  scores against the curve (``frame_times`` give the fps), plus frame F1 / accuracy of the top 15%
  against ``frame_labels``. Examples with a null curve are skipped. Main metric: ``map50``.
- ``multimodal`` (BLiSS-style: ``summary``, ``thumbnail_<visual>``, ``sentence_labels``,
  ``frame_labels``): ROUGE-1/2/L/Lsum of the selected sentences (in time order, one per line)
  against ``summary`` split into sentences at . ! ? (rouge.py wants the reference's sentences for
  ROUGE-Lsum); A2Summ's BLiSS keyframe cosine of ``thumbnail_<v>`` against the selected frames
  among the clip's ``frames_<v>``; F1 and accuracy of the selected sentences / frames against the
  labels. Examples with an empty summary or no thumbnail frames are skipped for that metric.
  Main metric: the mean of ``rougeLsum`` and ``keyframe_cos`` (A2Summ's text and video headline
  numbers), whichever exist; else the mean of the label F1s.
- ``qvhighlights`` (``user_scores`` with ``relevant_windows``: QVHighlights): Moment-DETR's
  ``standalone_eval`` highlight metrics, HL mAP and HIT@1 with a clip positive at saliency >= 2
  (Fair), 3 (Good), 4 (Very Good), named as it names them (``HL-min-VeryGood-mAP``, ...; values
  0..1 here, x100 in its report). Queries without labels (test) are skipped. Main metric:
  ``HL-min-VeryGood-mAP``, the number CFSum reports.
- ``highlights`` (a card tagged ``highlight-detection`` with ``frame_labels`` and no
  ``user_scores``: YouTube Highlights): UMT's per-video trapezoid AP over all clips ranked,
  ``mAP``. Main metric: ``mAP``.
- ``generation`` (a card tagged ``abstractive-summarization`` with a ``summary`` column: How2-MCLS): summaries
  generated as text, scored by corpus BLEU-1..4, ROUGE-1/2/L, METEOR and CIDEr (the model's evaluator, e.g.
  ``models.vdf.evaluate``; no frame or sentence selection). Main metric: ``ROUGE-L``.
- ``tvsum_top5`` (chosen by ``--protocol tvsum-top5``, never detected: a TVSum build's default stays the
  frame-importance protocol of A2Summ / HierSum): CFSum Table I, UMT's top-5 mAP
  (``models.metrics.highlight.tvsum_top5_map``) on 2-second clips (CFSum section IV: clip k = frames of seconds
  [2k, 2k + 2)); a clip's predicted score is the mean of the prediction spread to every frame, an annotator's the
  mean of their frame scores (constant within TVSum's 2-second shots). Reported per category (``VT`` ... ``DS``,
  the mean over that category's videos) and ``Avg.``, the mean of the categories present (Table I's columns).
  Main metric: ``Avg.``.
- ``wikihow`` (a card tagged ``wikihow-summaries`` with ``user_summary``: WikiHow Summaries, HierSum Table 5):
  TL;DW's protocol: the top 55% of the sampled frames by predicted score are the summary, spread to every video
  frame (each frame, at its centre, takes its nearest sample); F1 of its overlap with the per-frame ``user_summary``
  (TL;DW's ``evaluate_summary``: 1 when the summary is empty), and Kendall / Spearman of the spread scores
  against it. Main metric: ``f1``.
- ``mrhisum`` (a card tagged ``most-replayed`` with the frame-importance columns: Mr.HiSum): the
  frame-importance keyshot F1 (its one ground-truth summary) plus MAP at rho 50% / 15% of the
  predicted scores against ``frame_scores`` (the curve). Main metric: ``map50``.

- ``news`` (``summary`` with ``candidate_labels`` or ``images_<visual>``: VMSMO, MM-AVS Daily Mail /
  CNN; MHMS Tables 1-6): ROUGE-1/2/L/Lsum of the text summary against ``summary`` (one reference
  sentence per line; Chinese scored on characters, ``models.metrics.rouge``), the summary being the
  generated text (``summary_text``) or else the selected article sentences in order; VMSMO's cover
  ranking, ``map`` and ``r10@1/2/5`` (``models.metrics.cover``) of the frame scores at the 10
  ``candidates``; and Daily Mail's keyframe cosine (``dailymail_keyframe_cosine``) of the chosen
  keyframe (``video_pick``, else the top-scoring frame: MHMS outputs one) against ``images_<visual>``.
  Main metric: the mean of ``rougeLsum`` and ``map`` / ``keyframe_cos``, whichever exist.

The corpus number of a metric is the mean over the examples that have it.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np

from builders.labels.keyshots import keyshot_summary, upsample_scores
from common.safefiles import read_json
from models.metrics.highlight import qvhighlights_hit1, qvhighlights_map, youtube_highlights_ap
from models.metrics.keyframe import bliss_keyframe_cosine
from models.metrics.keyshot import f_score, keyshot_f_score
from models.metrics.mrhisum import mrhisum_map
from models.metrics.rank import rank_correlation
from models.metrics.rouge import rouge
from models.tables import TVSUM_CATEGORIES
from models.selection import PROPORTION, budget, indicator, top_k

FRAME_IMPORTANCE_COLUMNS = ("user_summary", "change_points", "n_frames")
PROTOCOLS = ("frame_importance", "most_replayed", "multimodal", "qvhighlights", "highlights", "mrhisum", "news",
             "generation", "tvsum_top5", "wikihow")
WIKIHOW_PROPORTION = 0.55  # HierSum section 4.5, after TL;DW: the top 55% of the frames
SELECTABLE = {"tvsum-top5": "tvsum_top5"}  # --protocol NAME -> a protocol detect() never picks on its own
CLIP_SECONDS = 2.0
MAIN = {"frame_importance": "f1", "most_replayed": "map50", "multimodal": "mean(rougeLsum, keyframe_cos)",
        "qvhighlights": "HL-min-VeryGood-mAP", "highlights": "mAP", "mrhisum": "map50",
        "news": "mean(rougeLsum, map | keyframe_cos)", "generation": "ROUGE-L", "tvsum_top5": "Avg.", "wikihow": "f1"}
MEAN_OF = {  # protocols whose main number is the mean of the metrics present, from the first group that has any
    "multimodal": (("rougeLsum", "keyframe_cos"), ("sentence_f1", "frame_f1")),
    "news": (("rougeLsum", "map", "keyframe_cos"),),
}
RANK_METRICS = ("kendall_tau", "spearman_rho")  # the keys models.metrics.rank.rank_correlation returns
COVER_KS = (1, 2, 5)  # MHMS Table 1: R10@1, R10@2, R10@5
SALIENCY_LEVELS = {"Fair": 2, "Good": 3, "VeryGood": 4}  # Moment-DETR's gt_saliency_score_min per name


def card_tags(dataset) -> list[str]:
    build = Path(dataset) / "build.json"
    if not build.exists():
        return []
    return list(read_json(build).get("card", {}).get("tags", []))


def declared(dataset, config: str | None = None) -> dict:
    """What a build declares for training and evaluation in build.json: ``family`` and ``protocol``
    (the config's record first, then the build's); empty for a build made before builders declared them."""
    build = Path(dataset or ".") / "build.json"
    if not build.is_file():
        return {}
    record = read_json(build)
    found = {k: record[k] for k in ("family", "protocol") if k in record}
    found.update({k: v for k, v in record.get("configs", {}).get(config, {}).items() if k in ("family", "protocol")})
    return found


_NOTICED: set = set()


def notice_undeclared(dataset, what: str, guess) -> None:
    """One line, once per build and fact: an older build is read by the old rules."""
    if (str(dataset), what) not in _NOTICED:
        _NOTICED.add((str(dataset), what))
        print(f"notice: {dataset} declares no {what} in build.json (built by an older vsumhub): "
              f"{guess!r} inferred from its {'name' if what == 'family' else 'columns'}; rebuild to declare it",
              file=sys.stderr)


def detect(columns, dataset=None, config: str | None = None) -> str:
    """The protocol the build declares; for older builds, the one its columns call for (module docstring)."""
    protocol = declared(dataset, config).get("protocol") if dataset is not None else None
    if protocol:
        return protocol
    protocol = detect_from_columns(columns, dataset)
    if dataset is not None and (Path(dataset) / "build.json").is_file():
        notice_undeclared(dataset, "protocol", protocol)
    return protocol


def detect_from_columns(columns, dataset=None) -> str:
    """The protocol a dataset's columns call for (see the module docstring): the rule for builds that
    declare none."""
    columns = set(columns)
    tags = card_tags(dataset or ".")
    if {"user_scores", "relevant_windows"} <= columns:
        return "qvhighlights"
    if "wikihow-summaries" in tags and {"user_summary", "frame_times", "n_frames"} <= columns:
        return "wikihow"
    if set(FRAME_IMPORTANCE_COLUMNS) <= columns:
        return "mrhisum" if "most-replayed" in tags and "frame_scores" in columns else "frame_importance"
    if "highlight-detection" in tags and "frame_labels" in columns:
        return "highlights"
    if "frame_scores" in columns and ("heatmap" in columns or "most-replayed" in tags):
        return "most_replayed"
    if "summary" in columns and ("candidate_labels" in columns or any(c.startswith("images_") for c in columns)):
        return "news"
    if "abstractive-summarization" in tags and "summary" in columns:
        return "generation"
    if columns & {"summary", "sentence_labels", "frame_labels"} or any(c.startswith("thumbnail_") for c in columns):
        return "multimodal"
    raise ValueError(f"no evaluation protocol fits columns {sorted(columns)}: expected {list(FRAME_IMPORTANCE_COLUMNS)}, "
                     "frame_scores + heatmap, or summary / thumbnail_* / sentence_labels / frame_labels")


REFERENCE_PICTURES = {"multimodal": "thumbnail_", "news": "images_"}  # what a protocol scores keyframes against


def protocol_visual(protocol: str | None, columns, video_column: str | None = None) -> str | None:
    """The visual encoder v with both ``frames_v`` and the protocol's reference pictures (``thumbnail_v``:
    multimodal, ``images_v``: news), the model's own first; None for a protocol that scores no keyframes."""
    prefix = REFERENCE_PICTURES.get(protocol)
    if prefix is None:
        return None
    columns = set(columns)
    names = sorted(c[len(prefix):] for c in columns if c.startswith(prefix) and f"frames_{c[len(prefix):]}" in columns)
    preferred = video_column[len("frames_"):] if video_column and video_column.startswith("frames_") else None
    return preferred if preferred in names else (names[0] if names else None)


def reference_sentences(summary: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", summary.strip()) if s]


def _picks(pred: dict, modality: str, n: int, proportion: float, k: int | None) -> np.ndarray | None:
    if pred.get(f"{modality}_pick") is not None:
        return np.asarray(pred[f"{modality}_pick"], dtype=np.int64)
    scores = pred.get(f"{modality}_scores")
    if scores is None:
        return None
    if len(scores) != n:
        raise ValueError(f"{len(scores)} {modality} scores for {n} items")
    return top_k(scores, budget(n, proportion, k))


def _length(pred: dict, modality: str) -> int:
    scores = pred.get(f"{modality}_scores")
    return 0 if scores is None else len(scores)


def _label_metrics(prefix: str, picks: np.ndarray, labels) -> dict:
    labels = np.asarray(labels, dtype=np.int8)
    chosen = indicator(picks, len(labels))
    return {f"{prefix}_f1": f_score(chosen, labels), f"{prefix}_accuracy": float(np.mean(chosen == labels))}


def oracle_k(row: dict, modality: str, visual: str | None) -> int | None:
    """The true number of key items (for ``--oracle-k`` only)."""
    if modality == "text" and row.get("sentence_labels") is not None:
        return int(np.sum(row["sentence_labels"]))
    if modality == "video":
        if visual and row.get(f"keyframe_{visual}") is not None:
            return len(row[f"keyframe_{visual}"])
        if row.get("frame_labels") is not None:
            return int(np.sum(row["frame_labels"]))
    return None


def multimodal_example(row: dict, pred: dict, visual: str | None, proportion: float = PROPORTION, oracle: bool = False,
                       rouge_order: str = "library") -> dict:
    out = {}
    n_sent = len(row["sentences"]) if row.get("sentences") is not None else _length(pred, "text")
    text = _picks(pred, "text", n_sent, proportion, oracle_k(row, "text", visual) if oracle else None)
    if text is not None:
        if row.get("summary") and row.get("sentences") is not None:
            chosen = [row["sentences"][i]["text"] for i in text]
            out.update(rouge(chosen, reference_sentences(row["summary"]), a2summ_order=rouge_order == "a2summ"))
        if row.get("sentence_labels") is not None:
            out.update(_label_metrics("sentence", text, row["sentence_labels"]))
    n_frames = len(row["frame_times"]) if row.get("frame_times") is not None else _length(pred, "video")
    video = _picks(pred, "video", n_frames, proportion, oracle_k(row, "video", visual) if oracle else None)
    if video is not None:
        thumbs = row.get(f"thumbnail_{visual}") if visual else None
        if thumbs is not None and len(thumbs):
            out["keyframe_cos"] = bliss_keyframe_cosine(np.asarray(thumbs), np.asarray(row[f"frames_{visual}"]), video)
        if row.get("frame_labels") is not None:
            out.update(_label_metrics("frame", video, row["frame_labels"]))
    return out


def news_example(row: dict, pred: dict, visual: str | None, proportion: float = PROPORTION,
                 rouge_order: str = "library") -> dict:
    """One news sample's metrics (see ``news`` in the module docstring); {} for what it cannot score."""
    from models.metrics.cover import average_precision, recall_at_k
    from models.metrics.keyframe import dailymail_keyframe_cosine
    from collectors.transcripts import has_cjk

    out = {}
    reference = row.get("summary")
    if reference and reference.strip():
        refs = [r for r in reference.splitlines() if r.strip()] if "\n" in reference.strip() else reference_sentences(reference)
        hyp = None
        if pred.get("summary_text") is not None:
            hyp = [h for h in str(pred["summary_text"]).splitlines() if h.strip()] or [""]
        elif row.get("sentences") is not None:
            picks = _picks(pred, "text", len(row["sentences"]), proportion, None)
            if picks is not None:
                hyp = [row["sentences"][i]["text"] for i in np.sort(picks)]
        if hyp is not None:
            out.update(rouge(hyp, refs, a2summ_order=rouge_order == "a2summ", cjk=has_cjk(reference)))
    scores = pred.get("video_scores")
    n_frames = len(row["frame_times"]) if row.get("frame_times") is not None else (0 if scores is None else len(scores))
    if scores is not None and len(scores) != n_frames:
        raise ValueError(f"{row.get('id')}: {len(scores)} frame scores for {n_frames} frames")
    candidates, labels = row.get("candidates"), row.get("candidate_labels")
    if scores is not None and candidates is not None and labels is not None:
        at = np.asarray(scores, dtype=np.float64)[np.asarray(candidates, dtype=np.int64)]
        n = len(at)
        out["map"] = average_precision(at, labels)
        out.update({f"r{n}@{k}": recall_at_k(at, labels, k) for k in COVER_KS})
    images = row.get(f"images_{visual}") if visual else None
    if images is not None and len(images) and n_frames:
        pick = pred.get("video_pick")
        if pick is None and scores is not None:
            pick = top_k(scores, 1)
        if pick is not None:
            frames = np.asarray(row[f"frames_{visual}"])
            out["keyframe_cos"] = dailymail_keyframe_cosine(np.asarray(images), frames[np.asarray(pick, dtype=np.int64)])
    return out


def most_replayed_example(row: dict, pred: dict, proportion: float = PROPORTION) -> dict:
    gt = row.get("frame_scores")
    scores = pred.get("video_scores")
    if gt is None or scores is None:
        return {}
    times = np.asarray(row.get("frame_times") if row.get("frame_times") is not None else [], dtype=np.float64)
    fps = 1.0 / float(np.median(np.diff(times))) if len(times) > 1 else 1.0
    out = mrhisum_map(np.asarray(scores), np.asarray(gt), fps)
    if row.get("frame_labels") is not None:
        out.update(_label_metrics("frame", _picks(pred, "video", len(gt), proportion, None), row["frame_labels"]))
    return out


def annotator_scores(ex) -> np.ndarray:
    scores = ex.get("user_scores")
    return np.asarray(scores if scores is not None and len(scores) else ex["user_summary"], dtype=np.float64)


def frame_importance_example(step_scores: np.ndarray, ex: dict, f1_mode: str, proportion: float,
                             keyshots: str = "eccv16") -> dict:
    """Keyshot F1 and rank correlation of predicted scores at ``ex['picks']`` for one video;
    ``keyshots`` names how the keyshot summary is built (builders.labels.keyshots.PROTOCOLS)."""
    n = int(ex["n_frames"])
    change_points = np.asarray(ex["change_points"])
    picks = np.asarray(ex["picks"]) if ex.get("picks") is not None else np.arange(len(step_scores)) * 15
    if len(step_scores) != len(picks):
        raise ValueError(f"{ex.get('id')}: {len(step_scores)} scores for {len(picks)} sampled frames (picks)")
    summary = keyshot_summary(step_scores, change_points, n, picks, proportion, keyshots)
    out = {"f1": keyshot_f_score(summary, np.asarray(ex["user_summary"]), f1_mode)}
    out.update(rank_correlation(upsample_scores(step_scores, picks, n), annotator_scores(ex)))
    return out


def qvhighlights_example(row: dict, pred: dict) -> dict:
    """Moment-DETR's highlight metrics of one query (empty without labels or scores)."""
    scores, gt = pred.get("video_scores"), row.get("user_scores")
    if scores is None or gt is None:
        return {}
    gt = np.asarray(gt, dtype=np.float64)
    out = {}
    for name, level in SALIENCY_LEVELS.items():
        out[f"HL-min-{name}-mAP"] = qvhighlights_map(scores, gt, level)
        out[f"HL-min-{name}-Hit1"] = qvhighlights_hit1(scores, gt, level)
    return out


def highlights_example(row: dict, pred: dict) -> dict:
    """UMT's YouTube Highlights AP of one video, the prediction cut to the labelled clips."""
    scores, labels = pred.get("video_scores"), row.get("frame_labels")
    if scores is None or labels is None:
        return {}
    if len(scores) != len(labels):
        raise ValueError(f"{row.get('id')}: {len(scores)} clip scores for {len(labels)} labelled clips")
    return {"mAP": youtube_highlights_ap(np.asarray(scores), np.asarray(labels))}


def clip_means(values: np.ndarray, fps: float, seconds: float = CLIP_SECONDS) -> np.ndarray:
    """Mean of per-frame ``values`` [..., n_frames] over clips of ``seconds`` ([..., n_clips])."""
    values = np.asarray(values, dtype=np.float64)
    clip = (np.arange(values.shape[-1]) / (fps * seconds)).astype(np.int64)
    sums = np.stack([np.bincount(clip, weights=v) for v in values.reshape(-1, values.shape[-1])])
    return (sums / np.bincount(clip)).reshape(*values.shape[:-1], -1)


def tvsum_top5_example(row: dict, pred: dict) -> dict:
    """CFSum Table I for one video: {its category: UMT's top-5 mAP on 2-second clips}."""
    from models.metrics.highlight import tvsum_top5_map

    scores, users = pred.get("video_scores"), row.get("user_scores")
    if scores is None or users is None or not row.get("category"):
        return {}
    n = int(row["n_frames"])
    picks = np.asarray(row["picks"]) if row.get("picks") is not None else np.arange(len(scores))
    if len(scores) != len(picks):
        raise ValueError(f"{row.get('id')}: {len(scores)} scores for {len(picks)} sampled frames (picks)")
    fps = float(row.get("fps") or 30.0)
    clips = clip_means(upsample_scores(np.asarray(scores), picks, n), fps)
    return {row["category"]: tvsum_top5_map(clips, clip_means(np.asarray(users), fps))}


def wikihow_example(row: dict, pred: dict) -> dict:
    """HierSum Table 5 for one video: F1 of the top 55% of the frames, tau / rho, against the per-frame summary."""
    scores, gt = pred.get("video_scores"), row.get("user_summary")
    if scores is None or gt is None or not len(gt):
        return {}
    times, gt = np.asarray(row["frame_times"], np.float64), np.asarray(gt[0], np.float64)
    if len(scores) != len(times):
        raise ValueError(f"{row.get('id')}: {len(scores)} scores for {len(times)} frames")
    nearest = np.searchsorted((times[1:] + times[:-1]) / 2, (np.arange(len(gt)) + 0.5) / float(row["fps"]))  # frame centres
    chosen = indicator(top_k(scores, budget(len(times), WIKIHOW_PROPORTION)), len(times))[nearest]
    overlap = float(np.sum(chosen * gt))
    if gt.sum() == 0:
        f1 = 1.0
    else:
        p, r = overlap / max(chosen.sum(), 1e-8), overlap / gt.sum()
        f1 = 0.0 if p + r == 0 else 2 * p * r / (p + r)
    return {"f1": f1, **rank_correlation(np.asarray(scores, np.float64)[nearest], gt[None])}


def per_category(metrics: dict) -> dict:
    """Table I's columns: the categories present in its order, then ``Avg.`` (their mean)."""
    cats = {c: metrics[c] for c in TVSUM_CATEGORIES if c in metrics}
    return {**cats, "Avg.": float(np.mean(list(cats.values())))} if cats else {}


def mrhisum_example(row: dict, pred: dict, proportion: float = PROPORTION, keyshots: str = "eccv16") -> dict:
    """Mr.HiSum's solver: keyshot F1 against its ground-truth summary and MAP50 / MAP15 against the curve."""
    scores = pred.get("video_scores")
    if scores is None or row.get("frame_scores") is None:
        return {}
    out = frame_importance_example(np.asarray(scores), row, "mean", proportion, keyshots)
    for name in RANK_METRICS:  # rank correlation against the one 0/1 summary means little
        out.pop(name, None)
    out.update(mrhisum_map(np.asarray(scores), np.asarray(row["frame_scores"]), 1.0))
    return out


def aggregate(per_example: list[dict]) -> dict:
    """Mean of each metric over the examples that have it, keys in first-seen order."""
    keys: list[str] = []
    for m in per_example:
        keys += [k for k in m if k not in keys]
    return {k: float(np.mean([m[k] for m in per_example if k in m])) for k in keys}


def main_metric(protocol: str, metrics: dict) -> tuple[str, float | None]:
    """(name, value) of the number checkpoints are chosen by; value None when it cannot be computed."""
    if protocol in MEAN_OF:
        for group in MEAN_OF[protocol]:  # the first group with any metric present
            parts = [k for k in group if k in metrics]
            if parts:
                return f"mean({', '.join(parts)})", float(np.mean([metrics[k] for k in parts]))
        return MAIN[protocol], None
    name = MAIN[protocol]
    return name, metrics.get(name)


def protocol_columns(protocol: str, visual: str | None = None) -> list[str]:
    """The row columns a protocol reads (those a dataset lacks are simply absent)."""
    cols = {
        "frame_importance": ["id", "n_frames", "change_points", "picks", "user_summary", "user_scores"],
        "most_replayed": ["id", "frame_times", "frame_scores", "frame_labels"],
        "multimodal": ["id", "frame_times", "sentences", "summary", "sentence_labels", "frame_labels"],
        "qvhighlights": ["id", "qid", "user_scores"],
        "highlights": ["id", "frame_labels"],
        "mrhisum": ["id", "n_frames", "change_points", "picks", "user_summary", "frame_scores"],
        "news": ["id", "frame_times", "sentences", "summary", "candidates", "candidate_labels"],
        "tvsum_top5": ["id", "n_frames", "fps", "picks", "user_scores", "category"],
        "wikihow": ["id", "n_frames", "fps", "frame_times", "user_summary"],
    }[protocol]
    if protocol == "multimodal" and visual:
        cols += [f"frames_{visual}", f"thumbnail_{visual}", f"keyframe_{visual}"]
    if protocol == "news" and visual:
        cols += [f"frames_{visual}", f"images_{visual}"]
    return cols


def example_metrics(protocol: str, row: dict, pred: dict, *, visual: str | None = None, proportion: float = PROPORTION,
                    oracle: bool = False, f1_mode: str = "mean", keyshots: str = "eccv16",
                    rouge_order: str = "library") -> dict:
    """One example's metrics under ``protocol`` ({} when it cannot be scored, e.g. no labels)."""
    if protocol == "frame_importance":
        return frame_importance_example(np.asarray(pred["video_scores"]), row, f1_mode, proportion, keyshots)
    if protocol == "most_replayed":
        return most_replayed_example(row, pred, proportion)
    if protocol == "qvhighlights":
        return qvhighlights_example(row, pred)
    if protocol == "highlights":
        return highlights_example(row, pred)
    if protocol == "mrhisum":
        return mrhisum_example(row, pred, proportion, keyshots)
    if protocol == "news":
        return news_example(row, pred, visual, proportion, rouge_order)
    if protocol == "tvsum_top5":
        return tvsum_top5_example(row, pred)
    if protocol == "wikihow":
        return wikihow_example(row, pred)
    return multimodal_example(row, pred, visual, proportion, oracle, rouge_order)


def score(protocol: str, rows, preds: dict, **options) -> tuple[dict, int]:
    """(corpus metrics, number of examples scored) of predictions keyed by example id; ``options`` as
    :func:`example_metrics` takes them."""
    per = []
    for row in rows:
        pred = preds.get(row["id"])
        if pred is None:
            continue
        m = example_metrics(protocol, row, pred, **options)
        if m:
            per.append(m)
    metrics = aggregate(per)
    return (per_category(metrics) if protocol == "tvsum_top5" else metrics), len(per)


def select(name: str | None, columns, dataset=None, config: str | None = None) -> str:
    """The protocol ``--protocol NAME`` asks for (checked against the columns), else the detected one."""
    if name is None:
        return detect(columns, dataset, config)
    if name not in SELECTABLE:
        raise ValueError(f"unknown --protocol {name!r}; choose from {', '.join(SELECTABLE)}")
    protocol = SELECTABLE[name]
    missing = [c for c in ("user_scores", "n_frames", "category") if c not in set(columns)]
    if missing:
        raise ValueError(f"--protocol {name} (CFSum Table I) needs TVSum's columns {missing}")
    return protocol
