"""Text + video batches for VDF from a published How2-MCLS-style dataset, and the word vocabularies.

A split is read memory-mapped (``models.data.load_parquet``); a batch takes its rows from Arrow and tokenises them
then. Columns by name: the source text (``transcript_pt`` or ``transcript_en``), ``summary`` (the English target),
the video features (``frames_resnext3d`` by default). Rows whose source text or summary is null or empty are left
out and counted (``skipped``).

Vocabularies: the paper builds them on How2 without pre-trained embeddings (section 3.2), as the released code's
``dict.all_en`` (English transcripts and summaries) and ``dict.src_pt`` (Portuguese transcripts) do. Here they
are word-level ``tokenizers`` models over the training texts (How2 text is already tokenised: split on spaces),
with mBART's special ids (``<s>`` 0, ``<pad>`` 1, ``</s>`` 2, ``<unk>`` 3), saved with the run as
``PreTrainedTokenizerFast`` folders. With pre-trained weights the tokenizer comes with them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from models.data import DatasetError, dataset_rows, load_parquet
from models.vdf.model import video_batch

SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")  # ids 0..3, mBART's
VIDEO_COLUMN, SUMMARY = "frames_resnext3d", "summary"
SOURCE_COLUMN = {"en": "transcript_en", "pt": "transcript_pt"}


def word_tokenizer(texts, min_count: int = 1):
    """A word-level tokenizer trained on ``texts`` (split on whitespace), ``</s>`` appended to every text."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.train_from_iterator(texts, trainers.WordLevelTrainer(min_frequency=min_count, special_tokens=list(SPECIALS)))
    if [tok.token_to_id(s) for s in SPECIALS] != [0, 1, 2, 3]:
        raise RuntimeError("the word tokenizer did not put the special tokens first")
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 2)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", pad_token="<pad>", eos_token="</s>",
                                   unk_token="<unk>")


def load_tokenizer(path: str | Path):
    from transformers import AutoTokenizer

    from extractors.weights import offline

    return AutoTokenizer.from_pretrained(str(path), local_files_only=offline())


def encode(tokenizer, texts: list[str], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids [B, L], mask [B, L]) of texts cut to ``max_len`` tokens (their </s> kept)."""
    enc = tokenizer(list(texts), truncation=True, max_length=max_len, padding=True, return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"].bool()


@dataclass
class Limits:
    """Lengths the paper truncates to (section 3.2: text 800, video 1024); summaries to ``summary``."""

    text: int = 800
    video: int = 1024
    summary: int = 200
    video_dim: int = 2048


class TextVideoSplit:
    """One split of a config: rows with the ``needed`` columns non-empty, read a batch at a time."""

    def __init__(self, dataset, config: str, split: str, needed: list[str], fmt: str = "parquet"):
        if fmt != "parquet":
            raise DatasetError("VDF reads the parquet shards (--format parquet)")
        ds = load_parquet(dataset, config, split)
        missing = [c for c in needed if c not in ds.column_names]
        if missing:
            raise DatasetError(f"{dataset} config {config} split {split} has no column {missing[0]!r}; "
                               f"columns: {', '.join(ds.column_names)}")
        texts = [c for c in needed if c != VIDEO_COLUMN and c != "id"]
        keep = np.ones(len(ds), dtype=bool)
        for col in texts:
            values = ds.data.column(col).to_pylist()
            keep &= np.array([bool(v and v.strip()) for v in values], dtype=bool)
        self.ds, self.needed = ds, ["id"] + [c for c in needed if c != "id"]
        self.rows = np.flatnonzero(keep)
        self.skipped = int((~keep).sum())
        self.where = f"{dataset} config {config} split {split}"

    def __len__(self) -> int:
        return len(self.rows)

    def take(self, positions) -> list[dict]:
        return list(dataset_rows(self.ds.select([int(self.rows[p]) for p in positions]), self.needed, chunk=len(positions)))

    def texts(self, column: str) -> list[str]:
        values = self.ds.data.column(column).to_pylist()
        return [values[i] for i in self.rows]


def summary_batch(rows: list[dict], source: str, src_tok, tgt_tok, limits: Limits, with_labels: bool = True) -> dict:
    """Encoder input (source text + video) and, with labels, the teacher-forced decoder input and targets."""
    ids, mask = encode(src_tok, [r[source] for r in rows], limits.text)
    video, video_mask = video_batch([np.asarray(r[VIDEO_COLUMN], np.float32).reshape(-1, limits.video_dim) for r in rows],
                                    limits.video, limits.video_dim)
    out = {"ids": [r["id"] for r in rows], "input_ids": ids, "attention_mask": mask, "video": video,
           "video_mask": video_mask}
    if with_labels:
        labels, label_mask = encode(tgt_tok, [r[SUMMARY] for r in rows], limits.summary)
        start = tgt_tok.convert_tokens_to_ids(tgt_tok.eos_token)  # decoding starts from </s> (mBART, fairseq)
        dec = torch.cat([torch.full((len(rows), 1), start), labels[:, :-1]], dim=1)
        out.update(labels=labels.masked_fill(~label_mask, -100), decoder_input_ids=dec,
                   decoder_attention_mask=torch.cat([torch.ones(len(rows), 1, dtype=torch.bool), label_mask[:, :-1]], 1))
    return out


def bilingual_batch(rows: list[dict], en_tok, pt_tok, limits: Limits) -> dict:
    """The parallel transcripts of stage 2 (no video, no summary)."""
    en, en_mask = encode(en_tok, [r[SOURCE_COLUMN["en"]] for r in rows], limits.text)
    pt, pt_mask = encode(pt_tok, [r[SOURCE_COLUMN["pt"]] for r in rows], limits.text)
    return {"ids": [r["id"] for r in rows], "en_ids": en, "en_mask": en_mask, "pt_ids": pt, "pt_mask": pt_mask}

