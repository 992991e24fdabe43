"""One recipe per model: A2Summ's defaults follow its released code, CFSum's (no released code) our documented
choices; --hparam switches each to the paper's form (docs/training.md, "Where the defaults differ from the papers")."""

import json
import math

import pytest
import torch
from hub_fixtures import tiny_bliss

from models import train
from models.a2summ.model import A2Summ
from models.cfsum.model import raw_heads
from models.losses import focal_loss, inter_sample_loss, intra_sample_loss
from models.registry import build_model


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


# --- CFSum: saliency_loss (Eq. 8) and attend_before_projection (III-A) ---------------------------

DV, DA, DT = 6, 10, 5


def cfsum_batch(seed=0):
    gen = torch.Generator().manual_seed(seed)
    mask = torch.tensor([[True] * 7, [True] * 4 + [False] * 3])
    return {"video": torch.randn(2, 7, DV, generator=gen), "video_mask": mask,
            "audio": torch.randn(2, 7, DA, generator=gen), "audio_mask": mask.clone(),
            "text": torch.randn(2, 3, DT, generator=gen), "text_mask": torch.tensor([[True] * 3, [True, True, False]]),
            "frame_scores": torch.rand(2, 7, generator=gen)}


def cfsum(**hp):
    torch.manual_seed(0)
    hp = {"hidden": 16, "heads": 4, "dropout": 0.0, **hp}
    return build_model("cfsum", dict(video=DV, audio=DA, text=DT), **hp).eval()


def test_cfsum_saliency_loss_linear_is_eq8_on_the_linear_output():
    batch = cfsum_batch()
    default, linear = cfsum(), cfsum(saliency_loss="linear")
    assert default.saliency_loss == "sigmoid" and linear.saliency_loss == "linear"
    for p, q in zip(default.parameters(), linear.parameters(), strict=True):
        assert torch.equal(p, q)  # the same weights: only the loss differs
    out = default(batch)
    s, y, m = out["video_scores"].detach(), batch["frame_scores"], batch["video_mask"]
    by_sigmoid = default.loss(batch, out)[0].item()
    by_linear = linear.loss(batch, linear(batch))[0].item()
    assert by_sigmoid == pytest.approx(float(((torch.sigmoid(s) - y)[m] ** 2).mean()), rel=1e-5)
    assert by_linear == pytest.approx(float(((s - y)[m] ** 2).mean()), rel=1e-5)
    assert abs(by_linear - by_sigmoid) > 1e-3


def test_cfsum_attend_before_projection_attends_over_the_raw_features():
    default, raw = cfsum(), cfsum(attend_before_projection=True)
    assert default.encoders["video"].layer.attn.q.weight.shape == (16, 16)  # attention in C dims
    for name, width in (("video", DV), ("audio", DA), ("text", DT)):
        assert raw.encoders[name].attn.q.weight.shape == (width, width)  # attention in the feature's own dims
        assert raw.encoders[name].mlp[-1].weight.shape == (16, 16)  # then the MLP into C
    assert [raw.encoders[m].heads for m in ("video", "audio", "text")] == [3, 2, 1]  # largest divisors <= 4
    batch = cfsum_batch()
    with torch.no_grad():
        a, b = raw(batch)["video_scores"], default(batch)["video_scores"]
        noisy = dict(batch, video=batch["video"].masked_fill(~batch["video_mask"][..., None], 1e3))
        c = raw(noisy)["video_scores"]
    assert a.shape == b.shape == (2, 7) and not torch.allclose(a, b)
    assert torch.allclose(a[batch["video_mask"]], c[batch["video_mask"]], atol=1e-5)  # padding stays masked


def test_cfsum_heads_on_raw_features_are_the_largest_divisor_of_the_width():
    assert [raw_heads(w, 8) for w in (2048, 2816, 384, 6, 5, 7, 1)] == [8, 8, 8, 6, 5, 7, 1]
    with pytest.raises(ValueError, match="6-d features"):
        raw_heads(6, 0)


@pytest.mark.parametrize("hp, match", [(dict(saliency_loss="l2"), "saliency_loss must be 'sigmoid'"),
                                       (dict(attend_before_projection="yes"), "attend_before_projection must be true"),
                                       (dict(attend_before_projection=True, heads=0), "6-d features")])
def test_cfsum_bad_switch_values_are_clear_errors(hp, match):
    with pytest.raises(ValueError, match=match):
        cfsum(**hp)


def test_cfsum_switches_from_the_command_line(tmp_path, capsys):
    hub = tiny_bliss(tmp_path / "hub")
    out = tmp_path / "run"
    base = ["--model", "cfsum", "--dataset", str(hub), "--epochs", "1", "--batch-size", "2", "--hparam", "hidden=16"]
    assert train.main([*base, "--out", str(out), "--hparam", "saliency_loss=linear",
                       "--hparam", "attend_before_projection=true"]) == 0
    hp = json.loads((out / "config.json").read_text())["model_hparams"]
    assert hp["saliency_loss"] == "linear" and hp["attend_before_projection"] is True
    state = torch.load(out / "checkpoint-last.pt", weights_only=True)["model"]
    assert state["encoders.video.attn.q.weight"].shape == (6, 6)  # tiny_bliss: 6-d frames, 5-d sentences
    assert state["encoders.text.attn.q.weight"].shape == (5, 5)
    capsys.readouterr()
    assert train.main([*base, "--out", str(tmp_path / "bad"), "--hparam", "saliency_loss=l1"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: model 'cfsum': saliency_loss must be 'sigmoid'")
