"""Speed of builders.labels.knapsack against the pure-Python knapsack of the eccv16 evaluation code.

The claim: one numpy row update per item makes the exact keyshot knapsack fast enough to run on
every video of every evaluation. The case: a 10,000-frame video cut into 500 shots (random
lengths, at least 1 frame), random shot scores, a 15% budget (capacity 1,500). The baseline is
the textbook list-of-lists DP with a Python loop over items and capacities, as the eccv16 code
does it (written here from the textbook recurrence). Both must reach the same optimal value.

    python benchmarks/knapsack_speed.py --frames 10000 --shots 500 --proportion 0.15 --repeats 3
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from builders.labels.knapsack import knapsack


def naive_knapsack(values, weights, capacity):
    """table[k][c]: best value of the first k items within weight c; Python loops throughout."""
    n = len(values)
    table = [[0.0] * (capacity + 1) for _ in range(n + 1)]
    for k in range(1, n + 1):
        v, w = values[k - 1], weights[k - 1]
        above, row = table[k - 1], table[k]
        for c in range(capacity + 1):
            row[c] = above[c]
            if w <= c and above[c - w] + v > row[c]:
                row[c] = above[c - w] + v
    chosen, c = [], capacity
    for k in range(n, 0, -1):
        if table[k][c] != table[k - 1][c]:
            chosen.append(k - 1)
            c -= weights[k - 1]
    return sorted(chosen)


def _best_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--shots", type=int, default=500)
    parser.add_argument("--proportion", type=float, default=0.15)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    weights = (rng.multinomial(args.frames - args.shots, np.ones(args.shots) / args.shots) + 1).tolist()
    values = rng.random(args.shots).tolist()
    capacity = math.floor(args.proportion * args.frames)

    fast, chosen = _best_time(lambda: knapsack(values, weights, capacity), args.repeats)
    slow, chosen_naive = _best_time(lambda: naive_knapsack(values, weights, capacity), args.repeats)
    total = sum(values[i] for i in chosen)
    total_naive = sum(values[i] for i in chosen_naive)
    assert sum(weights[i] for i in chosen) <= capacity
    assert abs(total - total_naive) < 1e-9, (total, total_naive)

    print(f"{args.frames} frames, {args.shots} shots, capacity {capacity}: best of {args.repeats}")
    print(f"  builders.labels.knapsack  {fast * 1e3:9.2f} ms  ({len(chosen)} shots, value {total:.6f})")
    print(f"  naive Python DP    {slow * 1e3:9.2f} ms  ({len(chosen_naive)} shots, value {total_naive:.6f})")
    print(f"  speed-up           {slow / fast:9.1f}x")


if __name__ == "__main__":
    main()
