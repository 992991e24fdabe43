"""One recipe per model: A2Summ's defaults follow its released code; --hparam switches to the paper's form."""

import math

import pytest
import torch

from models.a2summ.model import A2Summ
from models.losses import focal_loss, inter_sample_loss, intra_sample_loss


def test_a2summ_defaults_are_the_released_codes():
    m = A2Summ(4, 3)
    assert (m.alpha, m.intra_pooling, m.directions) == (0.5, "mean", "mean")
    paper = A2Summ(4, 3, alpha=0.25, intra_pooling="pairs", directions="sum")
    assert (paper.alpha, paper.intra_pooling, paper.directions) == (0.25, "pairs", "sum")
    with pytest.raises(ValueError, match="directions"):
        A2Summ(4, 3, directions="both")


def test_directions_sum_is_twice_the_released_mean():
    torch.manual_seed(0)
    v, t = torch.randn(3, 8), torch.randn(3, 8)
    assert inter_sample_loss(v, t, 10.0, "sum") == pytest.approx(2 * float(inter_sample_loss(v, t, 10.0, "mean")))
    feats_v, feats_t = torch.eye(3)[None].repeat(1, 1, 1), torch.eye(3)[None]
    keys = torch.tensor([[True, False, False]])
    negs = torch.tensor([[False, True, True]])
    summed = intra_sample_loss(feats_v, feats_t, keys, keys, negs, negs, 10.0, "mean", "sum")
    averaged = intra_sample_loss(feats_v, feats_t, keys, keys, negs, negs, 10.0, "mean", "mean")
    assert float(summed) == pytest.approx(2 * math.log1p(2 * math.exp(-10.0)))  # positive cos 1, two negatives cos 0
    assert float(averaged) == pytest.approx(float(summed) / 2)


def test_the_released_focal_loss_is_alpha_one_half():
    # the released code: sigmoid stacked as two classes, focal per column, mean over both columns
    logits, y = torch.tensor([[2.0, -1.0, 0.5]]), torch.tensor([[1, 0, 1]])
    p = torch.sigmoid(logits)
    two = torch.stack([1 - p, p], -1)
    t = torch.nn.functional.one_hot(y, 2)
    p_t = two * t + (1 - two) * (1 - t)
    alpha_t = 0.25 * t + 0.75 * (1 - t)
    released = (-alpha_t * (1 - p_t) ** 2 * p_t.log()).mean()
    ours = focal_loss(logits, y, torch.ones_like(y, dtype=torch.bool), alpha=0.5)
    assert float(ours) == pytest.approx(float(released), rel=1e-5)
