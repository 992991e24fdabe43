"""Synthetic How2 releases in the real layouts (builders.how2_mcls): How2's own packages and the MCLS authors' files.

Texts are lowercased and tokenised as How2's are, made from a topic per video so that a summarizer has something
to learn: the English transcript talks about the topic, the Portuguese one is its word-by-word translation, the
summary names the topic. Feature rows are 2048-d with a topic-dependent mean.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

TOPICS = {"soil": "solo", "guitar": "violão", "onion": "cebola", "paint": "tinta", "knot": "nó", "bread": "pão"}
EN_PT = {"today": "hoje", "we": "nós", "talk": "falamos", "about": "sobre", "the": "o", "first": "primeiro",
         "you": "você", "need": "precisa", "good": "bom", "then": "então", "add": "adicione", "more": "mais", ".": "."}
SEGMENTS = [["today", "we", "talk", "about", "the", "{t}", "."], ["first", "you", "need", "good", "{t}", "."],
            ["then", "add", "more", "{t}", "."], ["the", "{t}", "."]]


def texts(topic: str, n_segments: int = 3) -> tuple[list[str], list[str], str]:
    """(English segments, Portuguese segments, summary) of a video about ``topic``."""
    en = [" ".join(w.replace("{t}", topic) for w in SEGMENTS[i % len(SEGMENTS)]) for i in range(n_segments)]
    pt = [" ".join(TOPICS[topic] if w == "{t}" else EN_PT[w] for w in SEGMENTS[i % len(SEGMENTS)]) for i in range(n_segments)]
    return en, pt, f"learn about {topic} in this free video ."


def features(topic: str, rows: int, rng) -> np.ndarray:
    mean = np.zeros(2048, np.float32)
    mean[list(TOPICS).index(topic) * 100:(list(TOPICS).index(topic) + 1) * 100] = 1.0
    return (mean + 0.1 * rng.standard_normal((rows, 2048))).astype(np.float32)


def write_how2_release(root: Path, n_train: int = 8, n_val: int = 2, n_dev5: int = 3, n_ms: int = 5, seed: int = 0) -> dict:
    """How2's packages under ``root``; returns what a correct reorganisation finds.

    Planted: a dev5 video without a summary (left out), a train video whose Portuguese lacks a segment
    (bad_transcript), a train video without its feature file (unavailable), an ms video whose features are 100-d
    (bad_media), a video id starting with '-' and holding '_', and segment numbers whose text order (_10 before
    _2) is not their time order.
    """
    rng = np.random.default_rng(seed)
    topics = list(TOPICS)
    plan, expect = {}, {"mcls": {"train": [], "validation": [], "test": []}, "ms": [], "pt": {}, "en": {}, "summary": {}}
    counts = {"train": n_train, "val": n_val, "dev5": n_dev5}
    k = 0
    for split, n in counts.items():
        for i in range(n):
            vid = f"-x{split}_{i}Ab" if (split, i) == ("train", 0) else f"{split}{i:02d}vid{k:03d}"
            plan[vid] = (split, topics[k % len(topics)])
            k += 1
    by_split = {s: [v for v, (split, _) in plan.items() if split == s] for s in counts}
    no_summary, one_sided, no_features = by_split["dev5"][-1], by_split["train"][3], by_split["train"][5]
    long_one = by_split["train"][1]
    feats, data = root / "video_action_features", root / "how2-300h-v1" / "data"
    feats.mkdir(parents=True)
    sums = {"train": [], "val": [], "dev5": []}
    for split in counts:
        (data / split).mkdir(parents=True)
    lines = {(s, f): [] for s in counts for f in ("text.id.en", "text.id.pt", "segments")}
    for vid, (split, topic) in plan.items():
        n_seg = 12 if vid == long_one else 3  # 12 segments: _10 and _11 sort before _2 as text
        en, pt, summary = texts(topic, n_seg)
        order = list(rng.permutation(n_seg))  # files list segments in any order; times give the order
        for j in order:
            seg = f"{vid}_{j}"
            lines[(split, "text.id.en")].append(f"{seg} {en[j]}")
            if not (vid == one_sided and j == 1):
                lines[(split, "text.id.pt")].append(f"{seg} {pt[j]}")
            lines[(split, "segments")].append(f"{seg} {vid} {5.0 * j + 0.25:.2f} {5.0 * j + 4.5:.2f}")
        if vid != no_summary:
            sums[split].append((vid, " ".join(en), summary))
        if vid != no_features:
            np.save(feats / f"{vid}.npy", features(topic, int(rng.integers(3, 9)), rng))
        if vid not in (no_summary,):
            ours = {"train": "train", "val": "validation", "dev5": "test"}[split]
            if vid not in (one_sided, no_features):
                expect["mcls"][ours].append(vid)
            expect["pt"][vid], expect["en"][vid], expect["summary"][vid] = " ".join(pt), " ".join(en), summary
    for (split, name), rows in lines.items():
        (data / split / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    for i in range(n_ms):  # summarization-only videos: How2-MS
        vid, topic = f"ms{i:02d}vid", topics[i % len(topics)]
        en, _, summary = texts(topic)
        sums["train"].append((vid, " ".join(en), summary))
        if i == n_ms - 1:  # a feature file of the wrong width: bad_media
            np.save(feats / f"{vid}.npy", np.zeros((4, 100), np.float32))
            expect["bad_width"] = vid
            continue
        np.save(feats / f"{vid}.npy", features(topic, int(rng.integers(3, 9)), rng))
        expect["ms"].append(vid)
        expect["en"][vid], expect["summary"][vid] = " ".join(en), summary
    for split, folder in (("train", "sum_train"), ("val", "sum_cv"), ("dev5", "sum_devtest")):
        d = root / "text" / folder
        d.mkdir(parents=True)
        (d / "tran.tok.txt").write_text("".join(f"{v} {t}\n" for v, t, _ in sums[split]), encoding="utf-8")
        (d / "desc.tok.txt").write_text("".join(f"{v} {s}\n" for v, _, s in sums[split]), encoding="utf-8")
    expect.update(no_summary=no_summary, one_sided=one_sided, no_features=no_features, long=long_one)
    return expect


def write_mcls_release(root: Path, n_train: int = 6, n_val: int = 2, n_test: int = 2, n_pretrain: int = 4,
                       seed: int = 1) -> dict:
    """The MCLS authors' layout: {prefix}_{action,art_en,art_pt,sum}.txt + video_action_features/ (no trailing
    newline at the end of the files, as in their demo data)."""
    rng = np.random.default_rng(seed)
    topics = list(TOPICS)
    feats = root / "video_action_features"
    feats.mkdir(parents=True)
    expect = {}
    k = 0
    for prefix, n in (("train", n_train), ("val", n_val), ("test", n_test), ("pretrain", n_pretrain)):
        ids, en_l, pt_l, sum_l = [], [], [], []
        for _ in range(n):
            vid, topic = f"{prefix}{k:03d}Xy", topics[k % len(topics)]
            k += 1
            en, pt, summary = texts(topic)
            ids.append(vid), en_l.append(" ".join(en)), pt_l.append(" ".join(pt)), sum_l.append(summary)
            np.save(feats / f"{vid}.npy", features(topic, int(rng.integers(3, 9)), rng))
        expect[prefix] = ids
        files = {"action": ids, "art_en": en_l, "sum": sum_l, **({} if prefix == "pretrain" else {"art_pt": pt_l})}
        for kind, rows in files.items():
            (root / f"{prefix}_{kind}.txt").write_text("\n".join(rows), encoding="utf-8")
    return expect
