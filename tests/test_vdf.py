"""VDF's fusions against their equations (section 2.2, figure 3), gates pinned at 0 and 1, and the whole model on a
tiny random MBartConfig: shapes, loss, where the video can enter, generation by transformers' beam search."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from models.vdf.model import VDF, CascadedFusion, ForgetGateFusion, video_batch


def _data(seed=0, b=2, n=5, t=4, d=6, dv=5):
    g = torch.Generator().manual_seed(seed)
    text, video = torch.randn(b, n, d, generator=g), torch.randn(b, t, dv, generator=g)
    mask = torch.ones(b, t, dtype=torch.bool)
    mask[1, 3:] = False
    return text, video, mask


def _attend(query, video, mask):
    scores = query @ video.transpose(1, 2) / 8
    return torch.softmax(scores.masked_fill(~mask[:, None], float("-inf")), -1) @ video


@pytest.fixture
def fgf():
    torch.manual_seed(0)
    return ForgetGateFusion(6, 5).eval()


def test_fgf_is_eq_4_with_the_forget_gate_of_the_released_code(fgf):
    text, video, mask = _data()
    v_att = _attend(text @ fgf.query.weight.T, video, mask)
    memory = v_att @ fgf.memory.weight.T + fgf.memory.bias
    gate = torch.sigmoid(torch.cat([text, v_att], -1) @ fgf.forget.weight.T)
    expected = text + torch.cat([text, memory * gate], -1) @ fgf.fuse.weight.T + fgf.fuse.bias
    assert torch.allclose(fgf(text, video, mask), expected, atol=1e-5)
    weights = fgf.weights(text, video, mask)
    assert torch.allclose(weights @ video, v_att, atol=1e-6) and torch.allclose(weights.sum(-1), torch.ones(2, 5))
    assert torch.allclose(fgf.gate(text, weights, video), gate, atol=1e-6) and ((gate > 0) & (gate < 1)).all()


@pytest.mark.parametrize("value", [0.0, 1.0])
def test_fgf_gate_fixed_at_0_or_1_gives_what_the_equation_says(fgf, monkeypatch, value):
    text, video, mask = _data()
    monkeypatch.setattr(fgf, "gate", lambda t, w, v: torch.full(t.shape[:2] + v.shape[2:], value))
    v_att = _attend(text @ fgf.query.weight.T, video, mask)
    kept = value * (v_att @ fgf.memory.weight.T + fgf.memory.bias)  # F = 0: nothing of the video; F = 1: all of M
    expected = text + torch.cat([text, kept], -1) @ fgf.fuse.weight.T + fgf.fuse.bias
    out = fgf(text, video, mask)
    assert torch.allclose(out, expected, atol=1e-5)
    other = fgf(text, video * 3 + 1, mask)  # another video
    assert torch.allclose(out, other) == (value == 0.0)  # closed gate: the video cannot reach the text


def test_padded_video_rows_change_nothing(fgf):
    text, video, mask = _data()
    noisy = video.clone()
    noisy[1, 3:] = 1e3
    assert torch.allclose(fgf(text, video, mask), fgf(text, noisy, mask))
    torch.manual_seed(1)
    cf = CascadedFusion(6, 5).eval()
    assert torch.allclose(cf(text, text * 0.5, video, mask), cf(text, text * 0.5, noisy, mask))


@pytest.fixture
def cascaded():
    torch.manual_seed(2)
    cf = CascadedFusion(6, 5).eval()
    with torch.no_grad():
        cf.norm.weight.uniform_(0.5, 1.5), cf.norm.bias.uniform_(-0.5, 0.5)
    return cf


def test_cascaded_fusion_is_eq_6_and_7(cascaded):
    c_x, video, mask = _data(1)
    c_y = torch.randn_like(c_x)
    s = c_x + c_y
    h = F.layer_norm(s, (6,), cascaded.norm.weight, cascaded.norm.bias)
    c_v = _attend(h @ cascaded.query.weight.T, video, mask)  # the fused text context is the query (eq. 6)
    expected = torch.cat([h, c_v], -1) @ cascaded.merge.weight.T + cascaded.merge.bias + s  # eq. 7
    assert torch.allclose(cascaded(c_x, c_y, video, mask), expected, atol=1e-5)
    assert torch.allclose(cascaded(c_y, c_x, video, mask), expected, atol=1e-5)  # C_X + C_Y: the sum is what counts
    assert not torch.allclose(cascaded(c_x, c_y * 0, video, mask), expected, atol=1e-3)  # C_Y is used


def test_cascaded_fusion_residual_and_video_path(cascaded):
    c_x, video, mask = _data(2)
    c_y = torch.randn_like(c_x)
    with torch.no_grad():
        cascaded.merge.weight[:, 6:] = 0  # the video's columns of W closed: C_M no longer depends on the video
    assert torch.allclose(cascaded(c_x, c_y, video, mask), cascaded(c_x, c_y, video * 5 - 2, mask))
    with torch.no_grad():
        cascaded.merge.weight.zero_(), cascaded.merge.bias.zero_()  # W = 0, b = 0: C_M is the residual C_X + C_Y
    assert torch.allclose(cascaded(c_x, c_y, video, mask), c_x + c_y)


def tiny(shared=False, seed=0, **kw):
    torch.manual_seed(seed)
    return VDF(30 if not shared else 25, 25, d_model=16, encoder_layers=2, decoder_layers=1, heads=2, ffn_dim=32,
               video_dim=12, max_text_len=20, max_video_len=8, max_summary_len=10, dropout=0.0, shared=shared, **kw).eval()


def batch(seed=0):
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(4, 30, (2, 7), generator=g)
    ids[:, -1] = 2
    attention = torch.ones(2, 7, dtype=torch.bool)
    ids[1, 5:], attention[1, 5:] = 1, False
    video, video_mask = video_batch([torch.randn(6, 12, generator=g), torch.randn(3, 12, generator=g)], 8, 12)
    labels = torch.randint(4, 25, (2, 6), generator=g)
    labels[0, -1], labels[1, 4] = 2, 2
    labels[1, 5] = -100
    dec = torch.cat([torch.full((2, 1), 2), labels[:, :-1].clamp(min=0)], 1)
    dec[1, 5] = 1
    return {"input_ids": ids, "attention_mask": attention, "video": video, "video_mask": video_mask, "labels": labels,
            "decoder_input_ids": dec, "decoder_attention_mask": dec != 1}


def test_vdf_on_a_tiny_mbart_config_trains_and_the_video_enters_only_through_the_fusions():
    model, b = tiny(), batch()
    logits = model(b)
    assert logits.shape == (2, 6, 25)
    model.train()
    loss = model.loss(b, model(b))
    loss.backward()
    for name in ("encoder.layers.0.fc1.weight", "decoder.layers.0.encoder_attn.q_proj.weight", "fgf.forget.weight",
                 "fgf.memory.weight", "fusion_encoder.linear1.weight", "fusion_decoder.fusion.query.weight",
                 "video_positions.weight"):
        assert dict(model.named_parameters())[name].grad.abs().sum() > 0, name
    model.eval()
    other = {**b, "video": b["video"] * 2 + 1}
    assert not torch.allclose(model(b), model(other), atol=1e-4)
    with torch.no_grad():  # close both fusions' video paths: the summary no longer depends on the video
        model.fusion_decoder.fusion.merge.weight[:, 16:] = 0
    model.fgf.gate = lambda t, w, v: torch.zeros(t.shape[:2] + v.shape[2:])
    assert torch.allclose(model(b), model(other), atol=1e-5)


def test_shared_embeddings_and_the_summary_does_not_leak_into_the_past():
    model = tiny(shared=True)
    assert model.encoder.embed_tokens is model.decoder.embed_tokens and model.lm_head.weight is model.decoder.embed_tokens.weight
    b = batch()
    b["input_ids"] = b["input_ids"].clamp(max=24)
    later = {**b, "decoder_input_ids": b["decoder_input_ids"].clone()}
    later["decoder_input_ids"][:, 3:] = 7  # change the future: logits of positions < 3 stay (causal decoding)
    assert torch.allclose(model(b)[:, :3], model(later)[:, :3], atol=1e-5)
    assert not torch.allclose(model(b)[:, 3:], model(later)[:, 3:], atol=1e-4)


def test_generation_is_beam_search_per_example_and_greedy_with_one_beam():
    model, b = tiny(seed=3), batch(1)
    with torch.no_grad():
        model.final_logits_bias[0, 2] = -20.0  # no </s>: every summary runs to max_length, so whole rows compare
    out = model.generate(b, num_beams=3, max_length=8)
    assert out.shape == (2, 8) and (out[:, 0] == 2).all()  # decoding starts from </s>, as mBART / fairseq
    alone = {k: v[:1] for k, v in b.items()}
    alone["video"], alone["video_mask"] = alone["video"][:, :6], alone["video_mask"][:, :6]
    assert model.generate(alone, num_beams=3, max_length=8)[0].tolist() == out[0].tolist()  # batch-independent
    greedy = model.generate(b, num_beams=1, max_length=6)
    prefix = torch.full((2, 1), 2)
    for _ in range(5):
        step = model({**b, "decoder_input_ids": prefix, "decoder_attention_mask": torch.ones_like(prefix, dtype=torch.bool)})
        prefix = torch.cat([prefix, step[:, -1].argmax(-1, keepdim=True)], 1)
    assert torch.equal(greedy, prefix)
    scores = model.generate(b, num_beams=3, max_length=8, output_scores=True, return_dict_in_generate=True)
    assert torch.equal(scores.sequences, out)


def test_video_batch_pads_cuts_and_checks_widths():
    video, mask = video_batch([torch.ones(5, 3), torch.ones(2, 3)], 4, 3)
    assert video.shape == (2, 4, 3) and mask.sum(1).tolist() == [4, 2] and video[1, 2:].abs().sum() == 0
    with pytest.raises(ValueError, match=r"\[T, 3\]"):
        video_batch([torch.ones(2, 4)], 4, 3)


def test_pretrained_mbart_weights_load_by_local_path(tmp_path):
    from transformers import MBartConfig, MBartForConditionalGeneration

    torch.manual_seed(5)
    base = MBartForConditionalGeneration(MBartConfig(
        vocab_size=40, d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=64))
    base.save_pretrained(tmp_path / "mbart")
    saved = base.state_dict()
    small = {"video_dim": 12, "max_video_len": 8, "max_text_len": 60, "max_summary_len": 20}
    model = VDF(30, 25, pretrained=str(tmp_path / "mbart"), **small).eval()
    for ours, theirs in (("encoder.layers.0.fc1.weight", "model.encoder.layers.0.fc1.weight"),
                         ("decoder.layers.0.encoder_attn.k_proj.weight", "model.decoder.layers.0.encoder_attn.k_proj.weight"),
                         ("decoder.embed_tokens.weight", "model.shared.weight"), ("lm_head.weight", "model.shared.weight")):
        assert torch.equal(model.state_dict()[ours], saved[theirs]), ours
    # a source language of its own gets its own copy of the table (stage 3 replaces it); English shares it
    assert model.encoder.embed_tokens is not model.decoder.embed_tokens
    assert torch.equal(model.encoder.embed_tokens.weight, model.decoder.embed_tokens.weight)
    shared = VDF(25, 25, shared=True, pretrained=str(tmp_path / "mbart"), **small)
    assert shared.encoder.embed_tokens.weight is shared.decoder.embed_tokens.weight
    assert model(batch()).shape == (2, 6, 40)
    with pytest.raises(ValueError, match="no MBart weights"):
        VDF(30, 25, pretrained=str(tmp_path / "nothing"))
    with pytest.raises(ValueError, match="has 64 positions"):
        VDF(30, 25, pretrained=str(tmp_path / "mbart"), **{**small, "max_text_len": 800})
    with pytest.raises(ValueError, match="fewer than the vocabularies"):
        VDF(50, 25, pretrained=str(tmp_path / "mbart"), **small)
