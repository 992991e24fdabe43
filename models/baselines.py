"""Reference baselines that need no training, for frames (video) and sentences (text).

Each returns either scores (higher = more important; the caller's selection rule picks the top)
or a selection of ``k`` indices (the caller's budget), sorted:

- ``random_scores``: i.i.d. uniform scores (a chance reference; average several trials);
- ``uniform_pick``: k evenly spaced items, the centre of each of k equal parts (the "uniform
  sampling" reference of keyframe extraction);
- ``kmeans_pick``: VSUMM (de Avila et al. 2011) style: k-means with k = the budget on the
  features, then the item nearest each centroid; on sentences it is the clustering extractive
  summarizer (Miller 2019) with sentence embeddings;
- ``lead_pick``: the first k sentences, Lead-3 with k = 3 (See et al. 2017 report it as the
  news baseline);
- ``textrank_scores``: TextRank (Mihalcea & Tarau 2004) on sentence features: a graph whose
  edge weights are the positive cosine similarities between sentences, PageRank with damping
  0.85; the caller keeps the top by proportion.
"""

from __future__ import annotations

import numpy as np

BASELINES = ("human", "random", "uniform", "kmeans", "lead3", "textrank", "first")  # models.evaluate --baseline

DAMPING = 0.85


def random_scores(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.random(n)


def uniform_pick(n: int, k: int) -> np.ndarray:
    """Centres of k equal parts of [0, n): floor((i + 1/2) n / k)."""
    k = min(k, n)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.floor((np.arange(k) + 0.5) * n / k).astype(np.int64))


def kmeans_pick(features: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """Indices of the items nearest each of k k-means centroids (distinct, sorted)."""
    from sklearn.cluster import KMeans

    x = np.asarray(features, dtype=np.float64)
    n = len(x)
    k = min(k, n, len(np.unique(x, axis=0)) if n else 0)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(x)
    d = ((x[:, None, :] - km.cluster_centers_[None]) ** 2).sum(-1)  # [n, k]
    picks = set()
    for c in np.argsort(d.min(0)):  # tightest clusters first; a frame serves one centroid
        for i in np.argsort(d[:, c], kind="stable"):
            if int(i) not in picks:
                picks.add(int(i))
                break
    return np.array(sorted(picks), dtype=np.int64)


def lead_pick(n: int, k: int = 3) -> np.ndarray:
    return np.arange(min(k, n), dtype=np.int64)


def textrank_scores(features: np.ndarray, damping: float = DAMPING, tol: float = 1e-10,
                    max_iter: int = 200) -> np.ndarray:
    """PageRank over the positive-cosine sentence graph (no self loops); uniform for one sentence."""
    x = np.asarray(features, dtype=np.float64)
    n = len(x)
    if n == 0:
        return np.zeros(0)
    unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    w = np.clip(unit @ unit.T, 0.0, None)
    np.fill_diagonal(w, 0.0)
    out = w.sum(1, keepdims=True)
    trans = np.where(out > 0, w / np.where(out > 0, out, 1.0), 1.0 / n)  # a sentence with no edge links everywhere
    p = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        nxt = (1 - damping) / n + damping * (trans.T @ p)
        if np.abs(nxt - p).sum() < tol:
            return nxt
        p = nxt
    return p
