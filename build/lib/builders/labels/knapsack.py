"""Exact 0/1 knapsack: pick the shots of a keyshot summary (values = shot scores, weights = shot
lengths in frames, capacity = the frame budget).

Dynamic programming over integer capacities, one numpy row update per item, so the cost is
O(n_items * capacity) in C rather than in Python, and a boolean keep table of the same size for
the traceback.

Defined edge cases: items with value <= 0 are never chosen (they cannot raise the total);
zero-weight items with positive value are always chosen; zero capacity or no items gives [].

Ties: an item is taken only when it strictly beats the best total without it, and the traceback
runs from the last item back. So among equal-value optima the result leaves out later items in
favour of earlier ones (deciding from the last item backward). Deterministic for given inputs;
values that tie only up to float rounding resolve by whichever sum rounds higher.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def knapsack(values: Sequence[float], weights: Sequence[int], capacity: int) -> list[int]:
    """Sorted indices of the items of greatest total value whose total weight is <= capacity."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    w_raw = np.asarray(weights).reshape(-1)
    if len(v) != len(w_raw):
        raise ValueError(f"{len(v)} values but {len(w_raw)} weights")
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite")
    if len(w_raw) and not (np.issubdtype(w_raw.dtype, np.number) and np.all(w_raw == np.round(w_raw))):
        raise ValueError("weights must be integers")
    w = w_raw.astype(np.int64)
    if np.any(w < 0):
        raise ValueError("weights must be >= 0")
    if not (isinstance(capacity, (int, np.integer)) and capacity >= 0):
        raise ValueError(f"capacity must be an integer >= 0, got {capacity!r}")

    best = np.zeros(capacity + 1)  # best[c]: greatest value of the items so far within weight c
    keep = np.zeros((len(v), capacity + 1), dtype=bool)
    for k in range(len(v)):
        if v[k] <= 0 or w[k] > capacity:
            continue
        with_k = best[: capacity + 1 - w[k]] + v[k]  # best without k at c - w, plus k
        take = with_k > best[w[k]:]
        keep[k, w[k]:] = take
        best[w[k]:] = np.where(take, with_k, best[w[k]:])

    chosen = []
    c = capacity
    for k in range(len(v) - 1, -1, -1):
        if keep[k, c]:
            chosen.append(k)
            c -= int(w[k])
    return chosen[::-1]


def knapsack_ortools_dp(values: Sequence[int], weights: Sequence[int], capacity: int) -> list[int]:
    """The shots OR-tools' ``KNAPSACK_DYNAMIC_PROGRAMMING_SOLVER`` (default settings) packs: what DSNet and
    A2Summ call for their keyshots, reproduced without OR-tools.

    It is :func:`knapsack` on integer values, with two behaviours of OR-tools kept: when every item
    fits, all are packed (its problem reduction), zero-value ones included; and when the traceback
    finds no item that improves the remaining capacity, it packs item 0 if it fits (its
    ``selected_item_ids`` default to 0), even at value 0. Only zero-value items are affected.
    Checked against OR-tools 9.15 on 28,000 random integer instances with many ties.
    """
    v = np.asarray(values).reshape(-1)
    if len(v) and not (np.issubdtype(v.dtype, np.number) and np.all(v == np.round(v))):
        raise ValueError("values must be integers (OR-tools' knapsack takes int64 profits)")
    w = np.asarray(weights).reshape(-1)
    if len(w) and int(w.sum()) <= capacity and capacity >= 0 and np.all(w >= 0) and len(w) == len(v):
        return list(range(len(w)))
    chosen = knapsack(v, w, capacity)
    left = capacity - int(w[chosen].sum()) if chosen else capacity
    if left > 0 and (not chosen or chosen[0] > 0) and len(w) and w[0] <= left:
        chosen = [0] + chosen
    return chosen
