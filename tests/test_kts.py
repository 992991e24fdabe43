import itertools

import numpy as np
import pytest

from builders.labels.kts import (
    default_max_ncp,
    fixed_ncp,
    kts,
    segment,
    segments_from_change_points,
)


def _piecewise(seed, bounds=(60, 140, 200, 250), n=300, d=16, noise=0.3):
    rng = np.random.default_rng(seed)
    means = rng.normal(size=(len(bounds) + 1, d))
    labels = np.searchsorted(bounds, np.arange(n), side="right")
    return means[labels] + noise * rng.normal(size=(n, d))


def _scatter(x, cps):
    """Total within-segment sum of squared distances to the segment mean, straight from the definition."""
    edges = [0, *cps, len(x)]
    return sum(((x[a:b] - x[a:b].mean(axis=0)) ** 2).sum() for a, b in itertools.pairwise(edges))


@pytest.mark.parametrize("seed", range(5))
def test_piecewise_constant_signal_recovers_the_true_change_points(seed):
    x = _piecewise(seed)
    assert kts(x, 30, kernel="cosine").tolist() == [60, 140, 200, 250]
    # linear on unit-norm frames is the same kernel (centring does not change scatter)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    assert kts(unit, 30).tolist() == [60, 140, 200, 250]


def test_vmax_is_calibrated_for_unit_norm_frames_so_raw_features_need_a_larger_one():
    x = _piecewise(0)
    assert len(kts(x, 30)) > 4  # raw scale: the scatter per frame (~1.4) dwarfs the penalty
    assert kts(x, 30, vmax=float((x - x.mean(0)).var(0).sum())).tolist() == [60, 140, 200, 250]


def test_huge_vmax_gives_no_change_points():
    assert kts(_piecewise(1), 30, vmax=1e9).tolist() == []


def test_constant_features_give_no_change_points():
    assert kts(np.ones((50, 4)), 10).tolist() == []


@pytest.mark.parametrize("n", [1, 2, 5, 8, 10])
def test_fixed_ncp_matches_brute_force_over_all_change_point_sets(n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 3))
    for m in range(n):
        best = min(_scatter(x, c) for c in itertools.combinations(range(1, n), m))
        cps, cost = fixed_ncp(x, m)
        assert len(cps) == m and np.all(np.diff(cps) > 0)
        assert cost == pytest.approx(best, abs=1e-9)
        assert _scatter(x, cps.tolist()) == pytest.approx(best, abs=1e-9)


def test_fixed_ncp_cosine_is_linear_on_normalised_frames():
    x = np.random.default_rng(3).normal(size=(40, 5))
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    a, ca = fixed_ncp(x, 6, kernel="cosine")
    b, cb = fixed_ncp(unit, 6)
    assert a.tolist() == b.tolist() and ca == pytest.approx(cb)


def test_fixed_ncp_matches_ruptures_kernel_cpd_optimum():
    ruptures = pytest.importorskip("ruptures")
    for seed in range(3):
        x = np.random.default_rng(seed).normal(size=(60, 4))
        for m in (1, 3, 7):
            bkps = ruptures.KernelCPD(kernel="linear", min_size=1).fit(x).predict(n_bkps=m)
            _, cost = fixed_ncp(x, m)
            assert cost == pytest.approx(_scatter(x, bkps[:-1]), rel=1e-9)


def test_segments_cover_every_frame_exactly_once():
    x = _piecewise(2)
    cp, nfps = segments_from_change_points(kts(x, 30, kernel="cosine"), len(x))
    assert cp.dtype == np.int32 and nfps.dtype == np.int32
    assert cp[0, 0] == 0 and cp[-1, 1] == len(x) - 1
    assert np.all(cp[1:, 0] == cp[:-1, 1] + 1)
    assert nfps.sum() == len(x) and np.all(nfps == cp[:, 1] - cp[:, 0] + 1)


def test_segments_from_change_points_eccv16_rows():
    cp, nfps = segments_from_change_points([3, 7], 10)
    assert cp.tolist() == [[0, 2], [3, 6], [7, 9]] and nfps.tolist() == [3, 4, 3]
    cp, nfps = segments_from_change_points([], 4)
    assert cp.tolist() == [[0, 3]] and nfps.tolist() == [4]


def test_segment_maps_sampled_change_points_back_to_frames():
    x = _piecewise(0)  # change points at steps 60, 140, 200, 250
    cp, nfps = segment(x, n_frames=300 * 15 - 7, step=15, max_ncp=30)
    assert cp[:, 0].tolist() == [0, 900, 2100, 3000, 3750]
    assert cp[-1, 1] == 300 * 15 - 8 and nfps.sum() == 300 * 15 - 7
    cp, _ = segment(x, step=15, max_ncp=30)  # n_frames defaults to len * step
    assert cp[-1, 1] == 300 * 15 - 1


def test_default_max_ncp_rule():
    assert [default_max_ncp(n) for n in (1, 2, 3, 4, 10, 400)] == [0, 1, 1, 1, 2, 100]
    assert segment(np.ones((1, 3)))[0].tolist() == [[0, 0]]


def test_max_ncp_above_n_minus_one_is_clamped():
    x = np.arange(5, dtype=float)[:, None]
    assert kts(x, 100, vmax=0.0).tolist() == [1, 2, 3, 4]  # no penalty: every frame its own segment


@pytest.mark.parametrize("features, message", [
    (np.zeros((0, 3)), "at least one frame"),
    (np.zeros((5, 0)), "at least one frame"),
    (np.zeros(5), "2-D"),
    (np.array([[0.0], [np.nan]]), "NaN"),
    (np.array([[0.0], [np.inf]]), "NaN or infinite"),
])
def test_bad_features(features, message):
    with pytest.raises(ValueError, match=message):
        kts(features, 3)


@pytest.mark.parametrize("call, message", [
    (lambda x: kts(x, -1), "max_ncp"),
    (lambda x: kts(x, 2.5), "max_ncp"),
    (lambda x: kts(x, 2, vmax=float("nan")), "vmax"),
    (lambda x: kts(x, 2, kernel="rbf"), "kernel"),
    (lambda x: fixed_ncp(x, 10), "ncp"),
    (lambda x: segment(x, n_frames=36, step=4), "n_frames > 36"),
    (lambda x: segment(x, step=0), "step"),
    (lambda x: segments_from_change_points([0, 3], 10), "strictly increasing"),
    (lambda x: segments_from_change_points([5, 3], 10), "strictly increasing"),
    (lambda x: segments_from_change_points([10], 10), "strictly increasing"),
    (lambda x: segments_from_change_points([], 0), "n must be"),
])
def test_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call(np.ones((10, 2)))
