"""MHMS's Algorithm 1 (models.mhms.alignment) against exact optimal transport: a permutation solved by
scipy's linear_sum_assignment, a small linear program, the entropic solution's form, its gradient, padding."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.optimize import linear_sum_assignment, linprog

from models.mhms.alignment import CrossDomainAlignment, cosine_cost, frame_windows, ot_distance, ot_plan


def test_square_uniform_case_is_the_optimal_permutation():
    """With K = M and uniform weights the exact plan is a permutation matrix / n (Birkhoff): the proximal
    iterations of Algorithm 1 reach it."""
    rng = np.random.default_rng(0)
    cost = rng.random((6, 6))
    rows, cols = linear_sum_assignment(cost)
    plan = ot_plan(torch.from_numpy(cost), beta=0.05, outer=300).numpy()
    expected = np.zeros_like(cost)
    expected[rows, cols] = 1 / 6
    np.testing.assert_allclose(plan, expected, atol=1e-4)
    assert float(ot_distance(torch.from_numpy(cost), beta=0.05, outer=300)) == pytest.approx(cost[rows, cols].sum() / 6, abs=1e-5)


def test_rectangular_case_matches_the_linear_program():
    rng = np.random.default_rng(1)
    k, m = 3, 5
    cost = rng.random((k, m))
    a_eq = np.zeros((k + m, k * m))
    for i in range(k):
        a_eq[i, i * m:(i + 1) * m] = 1  # row sums: 1/k
    for j in range(m):
        a_eq[k + j, j::m] = 1  # column sums: 1/m
    lp = linprog(cost.ravel(), A_eq=a_eq, b_eq=np.r_[np.full(k, 1 / k), np.full(m, 1 / m)], bounds=(0, None), method="highs")
    got = ot_distance(torch.from_numpy(cost), beta=0.05, outer=500)
    assert lp.status == 0 and float(got) == pytest.approx(lp.fun, abs=1e-5)
    plan = ot_plan(torch.from_numpy(cost), beta=0.05, outer=500).numpy()
    np.testing.assert_allclose(plan.sum(1), 1 / k, atol=1e-6)
    np.testing.assert_allclose(plan.sum(0), 1 / m, atol=1e-9)  # the last update fixes the columns exactly


def test_one_outer_step_is_the_entropic_solution():
    """N = 1: T = diag(u) exp(-C / beta) diag(v) with the uniform marginals, the unique minimiser of eq. 12:
    log T + C / beta is a sum of a row and a column term (its double-centred residual vanishes)."""
    rng = np.random.default_rng(2)
    cost = torch.from_numpy(rng.random((4, 7)))
    plan = ot_plan(cost, beta=0.3, outer=1, inner=2000).numpy()
    np.testing.assert_allclose(plan.sum(1), 1 / 4, atol=1e-9)
    np.testing.assert_allclose(plan.sum(0), 1 / 7, atol=1e-9)
    z = np.log(plan) + cost.numpy() / 0.3
    residual = z - z.mean(1, keepdims=True) - z.mean(0, keepdims=True) + z.mean()
    assert np.abs(residual).max() < 1e-9
    blurred = ot_plan(cost, beta=3.0, outer=1, inner=2000).numpy()
    assert blurred.min() > plan.min()  # more entropy, a flatter plan


def test_distance_is_differentiable():
    torch.manual_seed(0)
    cost = torch.rand(2, 3, 4, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda c: ot_distance(c, beta=0.5, outer=5, inner=2), (cost,))
    x = torch.randn(1, 3, 8, dtype=torch.float64, requires_grad=True)
    y = torch.randn(1, 5, 8, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: ot_distance(cosine_cost(x, y), beta=0.5, outer=3), (x,))


def test_padding_changes_nothing_and_bad_arguments_are_refused():
    rng = np.random.default_rng(3)
    a, b = torch.from_numpy(rng.random((2, 3))), torch.from_numpy(rng.random((4, 5)))
    batch = torch.full((2, 4, 5), 7.0, dtype=torch.float64)
    batch[0, :2, :3], batch[1] = a, b
    mx = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=torch.bool)
    my = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    got = ot_distance(batch, 0.2, 30, 1, mx, my)
    assert float(got[0]) == pytest.approx(float(ot_distance(a, 0.2, 30)))
    assert float(got[1]) == pytest.approx(float(ot_distance(b, 0.2, 30)))
    assert float(ot_plan(batch, 0.2, 30, 1, mx, my)[0, 2:].abs().sum()) == 0.0  # no mass on padding
    with pytest.raises(ValueError, match="beta > 0"):
        ot_plan(a, beta=0.0)
    with pytest.raises(ValueError, match="at least one real point"):
        ot_plan(batch, 0.2, 3, 1, torch.zeros(2, 4, dtype=torch.bool), my)


def test_alignment_module_ranks_the_frame_that_matches_the_text():
    """Frames and tokens in one space: after a few steps of its loss, the labelled frame has the least WD."""
    torch.manual_seed(0)
    video = torch.randn(2, 6, 16)
    mask = torch.ones(2, 6, dtype=torch.bool)
    mask[1, 5] = False
    tokens = torch.randn(2, 4, 8)
    token_mask = torch.ones(2, 4, dtype=torch.bool)
    labels = torch.zeros(2, 6)
    labels[0, 2], labels[1, 4] = 1, 1
    module = CrossDomainAlignment(16, 8, hidden=32, window=1, outer=5)
    opt = torch.optim.Adam(module.parameters(), lr=1e-2)
    for _ in range(60):
        d = module.distances(video, mask, tokens, token_mask)
        loss = module.loss(d, mask, labels, torch.ones(2, dtype=torch.bool))
        opt.zero_grad()
        loss.backward()
        opt.step()
    d = module.distances(video, mask, tokens, token_mask)
    assert torch.isinf(d[1, 5]) and d[0].argmin() == 2 and d[1, :5].argmin() == 4
    windows, wmask = frame_windows(video, mask, 1)
    assert windows.shape == (2, 6, 3, 16) and not wmask[0, 0, 0] and wmask[0, 0, 1] and not wmask[1, 4, 2]
    assert float(module.loss(d, mask, labels, torch.zeros(2, dtype=torch.bool))) == 0.0
