"""The summarizers (models.a2summ.model, models.hiersum.model, models.cfsum.model) on random padded batches: shapes,
padding, A2Summ's alignment mask, the losses on hand-computed cases, and short CPU training runs
on synthetic data where the labels are a simple function of the features."""

from __future__ import annotations

import math

import pytest
import torch

from models.a2summ.model import A2Summ, alignment_mask, segment_ids
from models.layers import MaskedAttention
from models.losses import expand_keys, focal_loss, hard_negatives, inter_sample_loss, intra_sample_loss
from models.registry import DEFAULTS, MODELS, build_model, defaults

DV, DT, DA, DQ = 16, 12, 10, 12
FEATURE_MODELS = sorted(set(MODELS) - {"mhms"})  # MHMS reads texts with pretrained BERT / BART: tests/test_mhms_*.py
SMALL = {"a2summ": dict(hidden=32, num_layers=2, heads=4, max_len=64),
         "hiersum": dict(hidden=32, num_layers=2, heads=4, max_len=64),
         "cfsum": dict(hidden=32, heads=4)}
DIMS = {"a2summ": dict(video=DV, text=DT), "hiersum": dict(video=DV, text=DT, query=DQ),
        "cfsum": dict(video=DV, audio=DA, query=DQ)}


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models: a second intra-op thread only adds contention (10x slower on a busy 2-core box)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def windows(t: int, n: int) -> list[tuple[int, int]]:
    """Sentence n's [start, end) frames: equal chunks, each one frame short (a gap frame), and the
    first sentence one frame longer than its chunk (overlapping the second's first frame)."""
    size = t / n
    out = [(round(i * size), max(round(i * size) + 1, round((i + 1) * size) - 1)) for i in range(n)]
    if n > 1:
        out[0] = (out[0][0], out[1][0] + 1)
    return out


def make_batch(gen, frames=(12, 9, 6), sentences=(4, 3, 2), *, label_fn=None, query_len=(3, 2, 1)) -> dict:
    """A padded batch in the models.data contract; padded feature slots hold random values."""
    b, t, n, q = len(frames), max(frames), max(sentences), max(query_len)
    video, text = torch.randn(b, t, DV, generator=gen), torch.randn(b, n, DT, generator=gen)
    batch = {
        "video": video, "video_mask": torch.arange(t)[None] < torch.tensor(frames)[:, None],
        "text": text, "text_mask": torch.arange(n)[None] < torch.tensor(sentences)[:, None],
        "audio": torch.randn(b, t, DA, generator=gen),
        "query": torch.randn(b, q, DQ, generator=gen),
        "query_mask": torch.arange(q)[None] < torch.tensor(query_len)[:, None],
        "align": torch.zeros(b, n, t, dtype=torch.bool), "ids": [f"clip{i}" for i in range(b)],
    }
    batch["audio_mask"] = batch["video_mask"].clone()
    for i, (ti, ni) in enumerate(zip(frames, sentences, strict=True)):
        for j, (s, e) in enumerate(windows(ti, ni)):
            batch["align"][i, j, s:e] = True
    label_fn = label_fn or (lambda x: x[..., 0] > 0)
    batch["frame_labels"] = (label_fn(video) & batch["video_mask"]).float()
    batch["sentence_labels"] = (label_fn(text) & batch["text_mask"]).float()
    batch["frame_scores"] = torch.sigmoid(3 * video[..., 0]) * batch["video_mask"]
    return batch


def build(name: str, **extra):
    torch.manual_seed(0)
    return build_model(name, DIMS[name], **{**SMALL[name], **extra}).eval()


def repad(batch: dict, gen) -> dict:
    """The same batch with every padded feature slot (and padded label) replaced by large noise."""
    out = dict(batch)
    for key in ("video", "text", "audio", "query"):
        mask_key = f"{key}_mask"
        noise = 100 * torch.randn(batch[key].shape, generator=gen)
        out[key] = torch.where(batch[mask_key][..., None], batch[key], noise)
    labels = (("frame_labels", "video_mask"), ("sentence_labels", "text_mask"), ("frame_scores", "video_mask"))
    for key, mask_key in labels:
        out[key] = torch.where(batch[mask_key], batch[key], torch.ones_like(batch[key]))
    return out


# --- shapes and padding -------------------------------------------------------------------------

@pytest.mark.parametrize("name", FEATURE_MODELS)
def test_forward_shapes_and_padding_does_not_change_real_outputs(name):
    gen = torch.Generator().manual_seed(1)
    batch = make_batch(gen)
    model = build(name)
    with torch.no_grad():
        out = model(batch)
        out2 = model(repad(batch, gen))
    b, t = batch["video_mask"].shape
    assert out["video_scores"].shape == (b, t)
    vm, tm = batch["video_mask"], batch["text_mask"]
    assert torch.isfinite(out["video_scores"]).all()
    torch.testing.assert_close(out["video_scores"][vm], out2["video_scores"][vm], atol=1e-5, rtol=1e-5)
    if name != "cfsum":
        assert out["text_scores"].shape == tm.shape
        torch.testing.assert_close(out["text_scores"][tm], out2["text_scores"][tm], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(out["cls_video"], out2["cls_video"], atol=1e-5, rtol=1e-5)
    loss, parts = model.loss(batch, out)
    loss2, _ = model.loss(repad(batch, gen), out2)
    assert loss.item() == pytest.approx(loss2.item(), rel=1e-5, abs=1e-6)
    assert parts["total"] == pytest.approx(loss.item())


@pytest.mark.parametrize("name", ["a2summ", "hiersum"])
def test_video_only_batches_run_the_video_branch(name):
    gen = torch.Generator().manual_seed(2)
    batch = {k: v for k, v in make_batch(gen).items() if k in ("video", "video_mask", "frame_labels", "ids")}
    model = build(name)
    out = model(batch)
    assert set(out) == {"video_scores", "video_features", "cls_video"}
    _, parts = model.loss(batch, out)
    assert set(parts) == {"cls_video", "total"}
    scores_only = {k: v for k, v in make_batch(gen).items() if k in ("video", "video_mask", "frame_scores")}
    video_only = A2Summ(DV, hidden=32, heads=4)
    _, parts = video_only.loss(scores_only, video_only(scores_only))
    assert set(parts) == {"mse", "total"}


def test_a2summ_batch_without_sentences():
    gen = torch.Generator().manual_seed(10)
    batch = make_batch(gen)
    batch.update(text=batch["text"][:, :0], text_mask=batch["text_mask"][:, :0], align=batch["align"][:, :0],
                 sentence_labels=batch["sentence_labels"][:, :0])
    model = build("a2summ")
    out = model(batch)
    assert out["text_scores"].shape == (3, 0) and out["video_scores"].shape == (3, 12)
    loss, _ = model.loss(batch, out)
    assert torch.isfinite(loss)


def test_cfsum_runs_with_any_modalities_present():
    gen = torch.Generator().manual_seed(3)
    batch = make_batch(gen)
    configs = [dict(video=DV), dict(video=DV, audio=DA), dict(video=DV, query=DQ), dict(video=DV, text=DT),
               dict(video=DV, audio=DA, query=DQ), dict(video=DV, audio=DA, text=DT)]
    outs = []
    for dims in configs:
        torch.manual_seed(0)
        model = build_model("cfsum", dims, hidden=32, heads=4).eval()
        with torch.no_grad():
            outs.append(model(batch)["video_scores"])
        assert outs[-1].shape == batch["video_mask"].shape
        assert torch.isfinite(outs[-1]).all()
    bad = dict(batch, audio=batch["audio"][:, :-1], audio_mask=batch["audio_mask"][:, :-1])
    with pytest.raises(ValueError, match="clip grid"):
        build_model("cfsum", dict(video=DV, audio=DA), hidden=32, heads=4)(bad)


def test_cfsum_fusion_weights_start_at_the_papers_values():
    model = build_model("cfsum", dict(video=DV, audio=DA, query=DQ))
    assert model.weights["video"].item() == 2.0 and model.weights["audio"].item() == 1.0
    assert model.weights["video"].requires_grad


# --- A2Summ alignment ---------------------------------------------------------------------------

def test_segment_ids_take_the_first_covering_sentence():
    align = torch.zeros(1, 3, 6, dtype=torch.bool)
    align[0, 0, 0:3] = True
    align[0, 1, 2:5] = True  # frame 2 is in sentences 0 and 1 -> segment 1
    align[0, 2, 5:6] = True  # sentence 2 is padding: frame 5 is in no real sentence
    video_mask = torch.tensor([[True] * 5 + [False]])
    text_mask = torch.tensor([[True, True, False]])
    video_seg, text_seg = segment_ids(align, video_mask, text_mask)
    assert video_seg.tolist() == [[1, 1, 1, 2, 2, 0]]
    assert text_seg.tolist() == [[1, 2, 0]]


def test_alignment_mask_blocks():
    video_mask = torch.tensor([[True, True, True, False]])
    text_mask = torch.tensor([[True, False]])
    align = torch.tensor([[[True, True, False, False], [False, False, True, True]]])
    a = alignment_mask(video_mask, text_mask, align)[0]
    assert a.shape == (1 + 4 + 1 + 2,) * 2
    v, t = slice(0, 5), slice(5, 8)
    assert a[v, v][:4, :4].all() and not a[v, v][:, 4].any()  # CLS_V + real frames global; padding never a key
    assert a[t, t][:2, :2].all() and not a[t, t][:, 2].any()
    assert not a[0, t].any() and not a[5, v].any()  # CLS tokens stay in their modality
    assert a[6, 1:3].tolist() == [True, True] and not a[6, 3:5].any()  # sentence 0 sees frames 0, 1 only
    assert a[1:3, 6].all() and not a[3, 6]
    assert not a[7].any()  # padded sentence attends to nothing
    assert (alignment_mask(video_mask, text_mask, None)[0, 6, 1:4]).all()  # no times: global across modalities


def test_masked_attention_fused_and_explicit_paths_agree_and_empty_rows_stay_zero():
    gen = torch.Generator().manual_seed(9)
    torch.manual_seed(0)
    attn = MaskedAttention(16, heads=4).eval()
    x, y = torch.randn(2, 5, 16, generator=gen), torch.randn(2, 3, 16, generator=gen)
    allowed = torch.rand(2, 5, 3, generator=gen) > 0.4
    allowed[0, 1] = False  # a query with no key at all
    fused = attn(x, y, allowed=allowed)
    explicit, weights = attn(x, y, allowed=allowed, return_weights=True)
    torch.testing.assert_close(fused, explicit, atol=1e-6, rtol=1e-5)
    assert (weights[~allowed[:, None].expand_as(weights)] == 0).all()
    torch.testing.assert_close(fused[0, 1], attn.out.bias)  # no key: zero update before the output projection
    x.requires_grad_(True)
    attn.train()(x, y, allowed=allowed).sum().backward()
    assert torch.isfinite(x.grad).all()


def test_a2summ_sentence_sees_only_frames_inside_its_segment():
    gen = torch.Generator().manual_seed(4)
    batch = make_batch(gen)
    model = build("a2summ")
    sample, sentence = 0, 1
    inside = torch.nonzero(batch["align"][sample, sentence]).flatten().tolist()
    outside = [t for t in range(int(batch["video_mask"][sample].sum())) if t not in inside]
    assert inside and outside

    def first_layer(b):
        x, allowed, n_video = model.embed(b)
        with torch.no_grad():
            y, weights = model.layers[0](x, allowed, n_video, return_weights=True)
        return y, weights, n_video

    y, weights, n_video = first_layer(batch)
    row = n_video + 1 + sentence
    assert (weights[sample, :, row, 1 + torch.tensor(outside)] == 0).all()
    assert (weights[sample, :, row, 1 + torch.tensor(inside)] > 0).all()
    assert (weights[sample, :, 0, n_video:] == 0).all()  # CLS_V never attends to text
    for frames, changes in ((outside, False), (inside, True)):
        changed = dict(batch, video=batch["video"].clone())
        changed["video"][sample, frames[0]] += 5.0
        y2, _, _ = first_layer(changed)
        assert not torch.equal(y[sample, 1 + frames[0]], y2[sample, 1 + frames[0]])  # the frame itself did change
        assert torch.allclose(y[sample, row], y2[sample, row], atol=1e-6) is not changes


# --- losses -------------------------------------------------------------------------------------

def test_focal_loss_matches_hand_computation():
    logits = torch.tensor([[0.0, 2.0, -1.0]])
    labels = torch.tensor([[1.0, 0.0, 1.0]])
    mask = torch.tensor([[True, True, False]])
    p0, p1 = 0.5, 1 / (1 + math.exp(-2.0))
    expected = (0.25 * (1 - p0) ** 2 * -math.log(p0) + 0.75 * p1**2 * -math.log(1 - p1)) / 2
    assert focal_loss(logits, labels, mask).item() == pytest.approx(expected, rel=1e-6)
    confident = focal_loss(torch.tensor([[30.0, -30.0]]), torch.tensor([[1.0, 0.0]]), mask[:, :2] | True)
    assert confident.item() < 1e-12


def test_inter_sample_loss_is_lower_for_matched_pairs():
    gen = torch.Generator().manual_seed(5)
    cls_video = torch.randn(6, 32, generator=gen)
    cls_text = cls_video + 0.1 * torch.randn(6, 32, generator=gen)
    scale = torch.tensor(1 / 0.07)
    matched = inter_sample_loss(cls_video, cls_text, scale)
    shuffled = inter_sample_loss(cls_video, cls_text.roll(1, dims=0), scale)
    assert matched.item() < 0.05
    assert shuffled.item() > 5.0


def test_expand_keys_grows_both_sides():
    labels = torch.zeros(1, 12, dtype=torch.bool)
    labels[0, 5] = True
    assert torch.nonzero(expand_keys(labels, 2)[0]).flatten().tolist() == [3, 4, 5, 6, 7]
    assert torch.equal(expand_keys(labels, 0), labels)


def test_hard_negatives_skip_the_expanded_key_set_and_padding():
    scores = torch.zeros(1, 20)
    for pos, value in {19: 100, 4: 50, 7: 49, 8: 48, 3: 47, 12: 40, 15: 39, 0: 38, 1: 37}.items():
        scores[0, pos] = value
    labels = torch.zeros(1, 20)
    labels[0, [5, 6]] = 1
    labels[0, 19] = 1  # a label on padding must not grow the key set
    mask = torch.arange(20)[None] < 18
    chosen = hard_negatives(scores, labels, mask, ratio=5, expansion=2)  # k = 18 // 5 = 3, keys grown to 3..8
    assert torch.nonzero(chosen[0]).flatten().tolist() == [0, 12, 15]
    real3, real5 = torch.ones(1, 3, dtype=torch.bool), torch.ones(1, 5, dtype=torch.bool)
    short = hard_negatives(torch.tensor([[3.0, 2.0, 1.0]]), torch.zeros(1, 3), real3, ratio=16, expansion=4)
    assert short.tolist() == [[True, False, False]]  # at least one negative
    none_left = hard_negatives(torch.rand(1, 5), torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0]]), real5, ratio=1, expansion=4)
    assert not none_left.any()


@pytest.mark.parametrize("pooling", ["pairs", "mean"])
def test_intra_sample_loss_prefers_key_frames_that_match_key_sentences(pooling):
    gen = torch.Generator().manual_seed(6)
    basis = torch.linalg.qr(torch.randn(16, 16, generator=gen))[0]
    video = basis[:8].clone()[None]  # frames 0..7, orthonormal
    text = torch.stack([basis[0], basis[1], basis[9]])[None]  # key sentence 0 = key frame 0's direction
    frame_keys = torch.tensor([[True] + [False] * 7])
    sentence_keys = torch.tensor([[True, False, False]])
    frame_negs, sentence_negs = torch.tensor([[False, True, True] + [False] * 5]), torch.tensor([[False, True, True]])
    scale = torch.tensor(10.0)
    keys_and_negs = (frame_keys, sentence_keys, frame_negs, sentence_negs)
    good = intra_sample_loss(video, text, *keys_and_negs, scale, pooling)
    bad = intra_sample_loss(video, text.roll(1, dims=1), *keys_and_negs, scale, pooling)
    expected = 2 * math.log1p(2 * math.exp(-10.0))  # both directions: positive cos 1, two negatives cos 0
    assert good.item() == pytest.approx(expected, rel=1e-5)
    assert bad.item() == pytest.approx(2 * math.log(3), rel=1e-5)  # key sentence now orthogonal to all: chance
    empty = intra_sample_loss(video, text, frame_keys & False, sentence_keys, frame_negs, sentence_negs, scale, pooling)
    assert empty.item() == 0.0


def test_hiersum_global_step_uses_the_query_and_video_loss_only():
    gen = torch.Generator().manual_seed(7)
    batch = make_batch(gen)
    model = build("hiersum")
    total, parts = model.global_step(batch)
    assert set(parts) == {"cls_video", "mse", "total"}
    total.backward()
    assert model.query_proj is None or model.query_proj[0].weight.grad is not None
    # the description replaces the subtitles: changing the subtitles changes nothing
    other = dict(batch, text=torch.randn(batch["text"].shape, generator=gen),
                 sentence_labels=1 - batch["sentence_labels"])
    assert model.global_step(other)[0].item() == pytest.approx(total.item())
    no_query = {k: v for k, v in batch.items() if k not in ("query", "query_mask")}
    with pytest.raises(ValueError, match="query"):
        model.global_step(no_query)


def test_hiersum_derives_key_frames_from_most_replayed_scores():
    model = build("hiersum")
    scores = torch.tensor([[0.1, 0.15, 0.5, 0.149]])
    assert model.frame_labels({"frame_scores": scores}).tolist() == [[0.0, 1.0, 1.0, 0.0]]
    assert model.frame_labels({"frame_scores": scores, "frame_labels": torch.zeros(1, 4)}).tolist() == [[0.0] * 4]


# --- registry -----------------------------------------------------------------------------------

def test_registry_builds_every_paper_default():
    gen = torch.Generator().manual_seed(8)
    batch = make_batch(gen, frames=(6, 5), sentences=(2, 1), query_len=(1, 1))
    for (name, family), cfg in DEFAULTS.items():
        assert {"batch_size", "lr", "weight_decay", "epochs"} <= set(cfg["train"]), (name, family)
        if name not in FEATURE_MODELS:  # MHMS's defaults build with tiny text models in tests/test_mhms_modules.py
            continue
        small_tables = {} if name == "cfsum" else {"max_len": 64}  # 5000-step position tables are slow to init
        model = build_model(name, DIMS[name], **cfg["model"], **small_tables).eval()
        with torch.no_grad():
            assert model(batch)["video_scores"].shape == (2, 6)
    assert defaults("a2summ", "bliss")["model"]["num_layers"] == 6
    assert defaults("a2summ", "summe")["model"]["lam"] == 3.0 and defaults("a2summ", "tvsum")["model"]["lam"] == 1.0
    assert defaults("hiersum", "mrhisum")["model"]["global_every"] == 5
    with pytest.raises(KeyError, match="known"):
        defaults("a2summ", "qvhighlights")
    with pytest.raises(ValueError, match="unknown model"):
        build_model("dsnet", {"video": 8})
    with pytest.raises(ValueError, match="modality"):
        build_model("a2summ", {"video": 8, "depth": 3})
    assert build_model("a2summ", {"video_dim": 8, "text_dim": None}).has_text is False


# --- learning on synthetic data -----------------------------------------------------------------

def synthetic(seed: int, n: int, frames=(14, 24), sentences=(3, 6)) -> list[dict]:
    """Batches of 4 whose labels are feature[0] > 0 (frames and sentences); scores follow feature[0]."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        t = torch.randint(frames[0], frames[1] + 1, (4,), generator=gen).tolist()
        s = torch.randint(sentences[0], sentences[1] + 1, (4,), generator=gen).tolist()
        out.append(make_batch(gen, frames=t, sentences=s, query_len=(2, 2, 2, 2)))
    return out


def auc(scores, labels, mask) -> float:
    """Probability that a random key position outscores a random other one (0.5 = chance)."""
    s, y = scores[mask], labels[mask] > 0.5
    pos, neg = s[y], s[~y]
    return (pos[:, None] > neg[None, :]).float().mean().item()


def train(model, batches, steps: int, lr: float = 3e-3) -> list[dict]:
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    history = []
    for step in range(steps):
        batch = batches[step % len(batches)]
        every = getattr(model, "global_every", 0)
        if every and step % (every + 1) == every:
            loss, parts = model.global_step(batch)
        else:
            loss, parts = model.loss(batch, model(batch))
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(parts)
    model.eval()
    return history


def evaluate(model, batches) -> dict:
    with torch.no_grad():
        outs = [(b, model(b)) for b in batches]
    result = {"video_auc": auc(torch.cat([o["video_scores"].flatten() for _, o in outs]),
                               torch.cat([b["frame_labels"].flatten() for b, _ in outs]),
                               torch.cat([b["video_mask"].flatten() for b, _ in outs]))}
    if "text_scores" in outs[0][1]:
        result["text_auc"] = auc(torch.cat([o["text_scores"].flatten() for _, o in outs]),
                                 torch.cat([b["sentence_labels"].flatten() for b, _ in outs]),
                                 torch.cat([b["text_mask"].flatten() for b, _ in outs]))
    return result


@pytest.mark.parametrize("name", FEATURE_MODELS)
def test_short_training_beats_random_on_held_out_synthetic_data(name):
    model = build(name, dropout=0.0) if name == "cfsum" else build(name, dropout=0.0, dropout_head=0.0, num_layers=1)
    train(model, synthetic(10, 8), steps=80)
    held_out = synthetic(11, 6)
    result = evaluate(model, held_out)
    labels, mask = (torch.cat([b[key].flatten() for b in held_out]) for key in ("frame_labels", "video_mask"))
    chance = auc(torch.rand(len(labels), generator=torch.Generator().manual_seed(0)), labels, mask)
    assert abs(chance - 0.5) < 0.1
    assert result["video_auc"] > 0.9, result
    if name != "cfsum":
        assert result["text_auc"] > 0.9, result


@pytest.mark.parametrize("name", FEATURE_MODELS)
def test_overfits_a_handful_of_examples(name):
    model = build(name, dropout=0.0) if name == "cfsum" else build(name, dropout=0.0, dropout_head=0.0, num_layers=1)
    batches = synthetic(12, 1)
    history = train(model, batches, steps=120)
    with torch.no_grad():
        out = model(batches[0])
    b = batches[0]
    if name == "cfsum":
        assert history[-1]["mse"] < 1e-3, history[-1]
        assert auc(out["video_scores"].flatten(), b["frame_labels"].flatten(), b["video_mask"].flatten()) == 1.0
        return
    last = [parts for parts in history if "cls_text" in parts][-1]  # the last subtitle-level step
    assert last["cls_video"] < 0.02 and last["cls_text"] < 0.02, last  # HierSum's MSE keeps focal off exactly 0
    vm, tm = b["video_mask"], b["text_mask"]
    assert ((out["video_scores"][vm] > 0).float() == b["frame_labels"][vm]).all()
    assert ((out["text_scores"][tm] > 0).float() == b["sentence_labels"][tm]).all()
