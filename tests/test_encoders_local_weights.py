"""Encoders load local weights given by flag: random-weight instances of the real architectures."""

import json

import numpy as np
import pytest
from datasets import load_dataset

from builders import bliss
from extractors.base import MissingWeightsError
from extractors.registry import get_extractor
from test_bliss_build import write_raw_video


@pytest.fixture(scope="module")
def clip_checkpoint(tmp_path_factory):
    import open_clip
    import torch

    torch.manual_seed(0)
    model = open_clip.create_model("ViT-B-32-quickgelu", pretrained=None)
    path = tmp_path_factory.mktemp("clip") / "vit-b-32-random.pt"
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def roberta_dir(tmp_path_factory):
    """A 2-layer RoBERTa with random weights and a byte-level BPE tokenizer trained here."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaConfig, RobertaModel, RobertaTokenizerFast

    d = tmp_path_factory.mktemp("roberta")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(["the koala draws a red square with a pencil"] * 20, vocab_size=300,
                            special_tokens=["<s>", "<pad>", "</s>", "<unk>", "<mask>"])
    bpe.save_model(str(d))
    tok = RobertaTokenizerFast(vocab_file=str(d / "vocab.json"), merges_file=str(d / "merges.txt"))
    tok.save_pretrained(d)
    cfg = RobertaConfig(vocab_size=tok.vocab_size + 5, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=128, max_position_embeddings=140)
    RobertaModel(cfg).save_pretrained(d)
    return d


def test_clip_from_a_local_checkpoint_gives_512d_batch_invariant_features(clip_checkpoint):
    ex = get_extractor("clip", "visual", weights=clip_checkpoint)
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (4, 90, 160, 3), dtype=np.uint8)
    one = np.concatenate([ex.encode_frames(f[None]) for f in frames])
    batch = ex.encode_frames(frames)
    assert batch.shape == (4, 512) and batch.dtype == np.float32
    assert np.allclose(one, batch, atol=1e-4)
    meta = ex.meta()
    assert meta["dim"] == 512 and len(meta["weights_sha256"]) == 64 and meta["model"] == "ViT-B-32-quickgelu"


def test_roberta_from_a_local_directory_pools_per_sentence(roberta_dir):
    ex = get_extractor("roberta", "text", weights=roberta_dir)
    texts = ["the koala draws", "a red square with a pencil and more words", "red"]
    out = ex.encode_texts(texts)
    assert out.shape == (3, 64)
    alone = np.concatenate([ex.encode_texts([t]) for t in texts])
    assert np.allclose(out, alone, atol=1e-5)  # padding is masked out of the mean
    assert ex.encode_texts([]).shape == (0, 64)


def test_a_weights_path_that_does_not_exist_is_named(tmp_path):
    with pytest.raises(MissingWeightsError, match="does not exist"):
        get_extractor("clip", "visual", weights=tmp_path / "nope.pt")


@pytest.mark.slow
def test_raw_build_with_local_clip_and_roberta(tmp_path, clip_checkpoint, roberta_dir):
    raw = tmp_path / "raw"
    write_raw_video(raw, "v1", seconds=12, thumbnails=[np.full((32, 32, 3), 120, np.uint8)])
    code = bliss.main(["--source", "raw", "--input", str(raw), "--weights", f"clip={clip_checkpoint}",
                       "--weights", f"roberta={roberta_dir}", "--out", str(tmp_path / "hub"),
                       "--work", str(tmp_path / "work"), "--no-progress"])
    assert code == 0
    ex = load_dataset(str(tmp_path / "hub"), "clip-roberta", split="train")[0]
    assert np.array(ex["frames_clip"]).shape == (12, 512)
    assert np.array(ex["sentences_roberta"]).shape == (2, 64)
    record = json.loads((tmp_path / "hub/build.json").read_text())["configs"]["clip-roberta"]
    assert record["extractors"]["visual"]["weights_sha256"] and record["extractors"]["text"]["weights_sha256"]
