"""MHMS's modules one at a time (models/mhms/): video temporal segmentation, visual summarization per
segment, the hierarchical BERT and BART with tiny random-initialised transformers configs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from extractors.base import MissingWeightsError
from models.mhms.pretrained import resolve
from models.mhms.visual import VisualSummarizer
from models.mhms.vts import VideoTemporalSegmentation, pseudo_boundaries, segments_from_boundaries


def scenes(lengths, dim=8, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([np.repeat(rng.normal(size=(1, dim)), n, 0) + 0.01 * rng.normal(size=(n, dim)) for n in lengths])


def test_pseudo_boundaries_are_the_scene_changes_and_vts_learns_them():
    x = scenes([5, 7, 4])
    target = pseudo_boundaries(x)
    assert np.flatnonzero(target).tolist() == [4, 11]  # after shot 4 and after shot 11
    assert segments_from_boundaries(target, 16) == [(0, 5), (5, 12), (12, 16)]
    assert segments_from_boundaries(np.ones(3), 3) == [(0, 1), (1, 2), (2, 3)] and segments_from_boundaries([], 0) == []
    torch.manual_seed(0)
    vts = VideoTemporalSegmentation(8, window=2, channels=8, hidden=16)
    video = torch.tensor(np.stack([x, scenes([9, 7], seed=1)]), dtype=torch.float32)
    mask = torch.ones(2, 16, dtype=torch.bool)
    targets = torch.tensor(np.stack([target, pseudo_boundaries(video[1].numpy())]))
    opt = torch.optim.Adam(vts.parameters(), lr=1e-2)
    for _ in range(150):
        loss = vts.loss(vts(video, mask), targets, mask)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert vts.segments(vts(video, mask), mask, 0.5) == [[(0, 5), (5, 12), (12, 16)], [(0, 9), (9, 16)]]
    short = mask.clone()
    short[1, 12:] = False
    assert vts(video, short).shape == (2, 16) and vts.segments(vts(video, short), short)[1][-1][1] == 12


def test_visual_summarizer_scores_each_segment_on_its_own():
    """Attention and the LSTMs never look past a segment: changing frames of another segment (or padding)
    leaves a segment's scores as they were."""
    torch.manual_seed(0)
    model = VisualSummarizer(6, hidden=8).eval()
    video = torch.randn(1, 10, 6)
    mask = torch.ones(1, 10, dtype=torch.bool)
    segs = [[(0, 4), (4, 10)]]
    base = model(video, mask, segs)
    other = video.clone()
    other[0, 4:] = torch.randn(6, 6)
    changed = model(other, mask, segs)
    assert torch.allclose(base[0, :4], changed[0, :4]) and not torch.allclose(base[0, 4:], changed[0, 4:])
    alone = model(video[:, :4], mask[:, :4], [[(0, 4)]])
    assert torch.allclose(base[0, :4], alone[0])  # the same scores as the segment alone
    assert model.keyframes(base, segs) == [[int(base[0, :4].argmax()), 4 + int(base[0, 4:].argmax())]]
    padded = torch.cat([video, torch.zeros(1, 3, 6)], 1)
    pmask = torch.cat([mask, torch.zeros(1, 3, dtype=torch.bool)], 1)
    out = model(padded, pmask, segs)
    assert torch.allclose(out[0, :10], base[0]) and torch.isinf(out[0, 10:]).all()


def test_visual_summarizer_learns_the_labelled_frame():
    torch.manual_seed(0)
    model = VisualSummarizer(6, hidden=16)
    video = torch.randn(2, 8, 6)
    mask = torch.ones(2, 8, dtype=torch.bool)
    labels = torch.zeros(2, 8)
    labels[0, 5] = labels[1, 2] = 1
    segs = [[(0, 3), (3, 8)], [(0, 8)]]
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(80):
        loss = model.loss(model(video, mask, segs), labels, mask, torch.ones(2, dtype=torch.bool))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model.keyframes(model(video, mask, segs), segs) == [[int(model(video, mask, segs)[0, :3].argmax()), 5], [2]]
    assert float(model.loss(model(video, mask, segs), labels, mask, torch.zeros(2, dtype=torch.bool))) == 0.0


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from tests.tiny_text_models import tiny_weights

    return tiny_weights(tmp_path_factory.mktemp("tiny"))


def test_hierarchical_bert_encodes_64_word_pieces_per_sentence_and_128_sentences(tiny):
    from models.mhms.textseg import HierarchicalBert

    model = HierarchicalBert(tiny["bert"], sentence_tokens=64, max_sentences=128).eval()
    long = " ".join(f"word{i}" for i in range(300))
    cut = model.tokenizer.decode(model.tokenizer(long, truncation=True, max_length=64)["input_ids"][1:-1])
    with torch.no_grad():
        a, b = model.encode_sentences([long, cut])
        assert torch.allclose(a, b, atol=1e-5)  # nothing after the 64th word-piece counts
        logits, mask = model([["one.", "two.", "three."], [f"s{i}." for i in range(140)]])
    assert logits.shape == (2, 128) and mask.sum(1).tolist() == [3, 128]
    assert model.sentence_encoder is not model.article_encoder  # two levels, each from the checkpoint


def test_bart_summarizer_learns_a_summary_and_generates(tiny):
    from models.mhms.textsum import BartSummarizer

    torch.manual_seed(0)
    model = BartSummarizer(tiny["bart"], max_source_tokens=64, max_target_tokens=16)
    source, target = ["a man was rescued from the river on sunday"], ["man rescued"]
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = model.loss(source, target).item()
    for _ in range(40):
        loss = model.loss(source, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert model.loss(source, target).item() < first / 4
    model.eval()
    assert model.generate(source, max_new_tokens=6) == ["man rescued"]  # it has learnt the one pair
    emb, mask = model.token_embeddings(["man rescued", ""])
    assert emb.shape[:2] == mask.shape and mask[0].sum() == 4  # [CLS] man rescued [SEP]


def test_pretrained_parts_by_path_or_name_and_the_offline_error(tiny, monkeypatch, tmp_path):
    monkeypatch.setenv("VSUMHUB_CACHE", str(tmp_path / "cache"))
    assert resolve("bert", {"bert": str(tiny["bert"])}, "bert-base-uncased") == tiny["bert"]
    with pytest.raises(MissingWeightsError, match=r"--weights bart=PATH") as e:
        resolve("bart", None, "facebook/bart-large-cnn")
    assert "facebook/bart-large-cnn" in str(e.value) and "offline" in str(e.value)
    with pytest.raises(MissingWeightsError, match="does not exist"):
        resolve("bert", {"bert": str(tmp_path / "nowhere")}, "x")


def test_registry_defaults_build_mhms_and_padding_changes_no_output(tiny):
    """Every MHMS family default is a valid hyper-parameter set; the whole model at evaluation gives the same
    summaries, picks and real-frame scores whatever the padding holds."""
    from models.registry import DEFAULTS, build_model

    small = {"hidden": 8, "vts_channels": 4, "max_summary_tokens": 4, "min_summary_tokens": 1, "num_beams": 1,
             "ot_outer": 3, "max_source_tokens": 64}
    weights = {"bert": str(tiny["bert"]), "bart": str(tiny["bart"])}
    for (name, family), cfg in DEFAULTS.items():
        if name == "mhms":
            assert cfg["model"]["sentence_tokens"] == 64 and cfg["model"]["max_sentences"] == 128  # section 3.3
            build_model(name, {"video": 6, "text": 5}, **{**cfg["model"], **small, "weights": weights})
    torch.manual_seed(0)
    model = build_model("mhms", {"video": 6, "text": 5}, **{**DEFAULTS[("mhms", "dailymail")]["model"], **small,
                                                           "weights": weights}).eval()
    video = torch.randn(2, 9, 6)
    mask = torch.arange(9)[None] < torch.tensor([9, 6])[:, None]
    extra = [{"sentences": [{"text": "a man was rescued."}, {"text": "police said so."}]},
             {"sentences": [{"text": "the storm hit the coast."}]}]
    batch = {"ids": ["a", "b"], "video": video, "video_mask": mask, "extra": extra}
    with torch.no_grad():
        out = model(batch)
        noisy = model({**batch, "video": torch.where(mask[..., None], video, 100 * torch.randn(2, 9, 6))})
    assert out["summary_text"] == noisy["summary_text"] and all(len(s.splitlines()) >= 1 for s in out["summary_text"])
    assert [p.tolist() for p in out["video_pick"]] == [p.tolist() for p in noisy["video_pick"]]
    torch.testing.assert_close(out["video_scores"][mask], noisy["video_scores"][mask])
    assert int(out["video_pick"][1][0]) < 6 and torch.isinf(out["video_scores"][1, 6:]).all()
    with pytest.raises(ValueError, match="bert=... and bart"):
        build_model("mhms", {"video": 6}, weights={"clip": "x"})
