"""MHMS (Qiu et al., "Multimodal hierarchical multimedia summarization"): its five modules as one model.

    python -m models.train --model mhms --dataset hub/vmsmo --out runs/mhms-vmsmo \
        [--weights bert=bert-base-chinese --weights bart=PATH]

Section 3's pipeline, each module in its own file:
1. video temporal segmentation (``vts.py``, 3.1): boundary logits between shots (frames), scenes where
   sigmoid > tau;
2. visual summarization (``visual.py``, 3.2): an attention encoder-decoder per scene scores its frames;
   each scene's best frame is a keyframe candidate;
3. text segmentation (``textseg.py``, 3.3): a hierarchical BERT cuts the article into segments;
4. text summarization (``textsum.py``, 3.4): BART writes one summary candidate per segment;
5. cross-domain alignment (``alignment.py``, 3.5): Algorithm 1's OT distance between frames and a
   summary's tokens picks the (keyframe, summary) pair with the least distance.

Outputs at evaluation: ``summary_text`` (``summary_mode`` "segments": the candidates in article order,
one per line; "best": the candidate of the best pair), ``video_pick`` (the keyframe of the best pair:
the cover / keyframe MHMS outputs), and ``video_scores`` (a logit per frame to rank frames, e.g.
VMSMO's 10 candidates: the alignment logit to the final summary, -WD / temperature, plus the visual
summarization logit; the paper does not say how frames outside the keyframe candidates rank).

Training (one loss, the modules' own terms weighted by ``loss_weights``): VTS on KTS pseudo-boundaries
of the frames, visual summarization and alignment on ``frame_labels`` (cover / keyframes; videos
without labels skip both), text segmentation on KTS pseudo-boundaries of the published sentence
vectors, BART on the reference ``summary``. The paper trains the modules apart, on other data (5.1);
here they train together on the dataset. The model reads the sentence texts and the reference summary
from the dataset (``passthrough`` columns), never at evaluation the summary or the labels.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from models.mhms.alignment import CrossDomainAlignment
from models.mhms.pretrained import resolve
from models.mhms.textseg import HierarchicalBert
from models.mhms.textsum import BartSummarizer
from models.mhms.visual import VisualSummarizer
from models.mhms.vts import VideoTemporalSegmentation, pseudo_boundaries, segments_from_boundaries

LOSS_WEIGHTS = {"vts": 1.0, "visual": 1.0, "textseg": 1.0, "summary": 1.0, "alignment": 1.0}
SUMMARY_MODES = ("segments", "best")


class MHMS(nn.Module):
    required_targets = ()  # no example is left out for a null target: each loss term skips what it lacks

    def __init__(self, video_dim: int, text_dim: int | None = None, audio_dim: int | None = None,
                 query_dim: int | None = None, *, weights: dict | None = None, bert: str = "bert-base-uncased",
                 bart: str = "facebook/bart-large-cnn", sentence_tokens: int = 64, max_sentences: int = 128,
                 vts_window: int = 2, vts_channels: int = 64, hidden: int = 128, tau: float = 0.5,
                 text_tau: float = 0.5, ot_window: int = 2, ot_beta: float = 0.5, ot_outer: int = 20, ot_inner: int = 1,
                 temperature: float = 0.1, ot_weight: float = 1.0, max_source_tokens: int = 1024,
                 max_summary_tokens: int = 64, min_summary_tokens: int = 0, num_beams: int | None = None,
                 summary_mode: str = "segments", loss_weights: dict | None = None):
        super().__init__()
        if summary_mode not in SUMMARY_MODES:
            raise ValueError(f"summary_mode must be one of {SUMMARY_MODES}, got {summary_mode!r}")
        if set(weights or {}) - {"bert", "bart"}:
            raise ValueError(f"MHMS loads --weights bert=... and bart=...; got {', '.join(sorted(weights))}")
        unknown = set(loss_weights or {}) - set(LOSS_WEIGHTS)
        if unknown:
            raise ValueError(f"unknown loss_weights {sorted(unknown)}; known: {', '.join(LOSS_WEIGHTS)}")
        self.tau, self.text_tau, self.temperature = tau, text_tau, temperature
        self.summary_mode, self.num_beams = summary_mode, num_beams
        self.max_summary_tokens, self.min_summary_tokens = max_summary_tokens, min_summary_tokens
        self.loss_weights = {**LOSS_WEIGHTS, **(loss_weights or {})}
        self.vts = VideoTemporalSegmentation(video_dim, vts_window, vts_channels, hidden)
        self.visual = VisualSummarizer(video_dim, hidden)
        self.textseg = HierarchicalBert(resolve("bert", weights, bert), sentence_tokens, max_sentences)
        self.summarizer = BartSummarizer(resolve("bart", weights, bart), max_source_tokens, max_summary_tokens * 4)
        token_dim = self.summarizer.model.get_input_embeddings().embedding_dim
        self.alignment = CrossDomainAlignment(video_dim, token_dim, 2 * hidden, ot_window, ot_beta, ot_outer, ot_inner,
                                              temperature, ot_weight)
        self._pseudo: dict[tuple[str, str], np.ndarray] = {}  # (kind, example id) -> KTS targets (same every epoch)

    # ------------------------------------------------------------ inputs

    @staticmethod
    def _extra(batch: dict) -> list[dict]:
        return batch.get("extra") or [{} for _ in batch["ids"]]

    @staticmethod
    def articles(batch: dict) -> list[list[str]]:
        return [[s["text"] for s in (e.get("sentences") or [])] for e in MHMS._extra(batch)]

    def _frame_labels(self, batch: dict) -> tuple[torch.Tensor, torch.Tensor]:
        video = batch["video"]
        labels = video.new_zeros(video.shape[:2])
        has = torch.zeros(len(video), dtype=torch.bool, device=video.device)
        for i, e in enumerate(self._extra(batch)):
            y = e.get("frame_labels")
            if y is not None and len(y):
                y = torch.as_tensor(np.asarray(y, np.float32)[: video.shape[1]], device=video.device)
                labels[i, : len(y)] = y
                has[i] = True
        return labels, has

    def _targets(self, kind: str, batch: dict, features: torch.Tensor, lengths: list[int]) -> torch.Tensor:
        out = features.new_zeros(features.shape[:2])
        for i, (ex_id, n) in enumerate(zip(batch["ids"], lengths)):
            key = (kind, ex_id)
            if key not in self._pseudo:
                self._pseudo[key] = pseudo_boundaries(features[i, :n].detach().float().cpu().numpy())
            out[i, :n] = torch.as_tensor(self._pseudo[key], device=features.device)
        return out

    # ------------------------------------------------------------ the pipeline

    def forward(self, batch: dict) -> dict:
        video, vmask = batch["video"], batch["video_mask"]
        vts_logits = self.vts(video, vmask)
        scenes = self.vts.segments(vts_logits.detach(), vmask, self.tau)
        frame_logits = self.visual(video, vmask, scenes)
        articles = self.articles(batch)
        out = {"vts_logits": vts_logits, "frame_logits": frame_logits, "scenes": scenes}
        if any(articles):
            out["textseg_logits"], out["textseg_mask"] = self.textseg(articles)
        if not self.training:
            out.update(self.summarize(batch, out, articles))
        return out

    def text_segments(self, out: dict, articles: list[list[str]]) -> list[list[str]]:
        """Each article cut where the hierarchical BERT says a segment ends; sentences past its limit join the last."""
        if "textseg_logits" not in out:
            return [[] for _ in articles]
        cut = (torch.sigmoid(out["textseg_logits"]) > self.text_tau).cpu().numpy()
        texts = []
        for i, sentences in enumerate(articles):
            n = min(len(sentences), self.textseg.max_sentences)
            spans = segments_from_boundaries(cut[i], n)
            if spans and len(sentences) > n:
                spans[-1] = (spans[-1][0], len(sentences))
            texts.append([" ".join(sentences[s:e]) for s, e in spans])
        return texts

    @torch.no_grad()
    def summarize(self, batch: dict, out: dict, articles: list[list[str]]) -> dict:
        """Summary candidates per text segment, keyframes per scene, and the best-aligned pair (section 3.5)."""
        video, vmask = batch["video"], batch["video_mask"]
        segments = self.text_segments(out, articles)
        flat = [s for segs in segments for s in segs]
        generated = self.summarizer.generate(flat, self.max_summary_tokens, self.min_summary_tokens, self.num_beams)
        candidates, k = [], 0
        for segs in segments:
            candidates.append(generated[k:k + len(segs)])
            k += len(segs)
        keyframes = self.visual.keyframes(out["frame_logits"], out["scenes"])
        summaries, picks, finals = [], [], []
        for i, cands in enumerate(candidates):
            cands = [c for c in cands if c.strip()]  # a segment's summary may come out empty
            if not cands:
                summaries.append("")
                picks.append(np.array(keyframes[i][:1], dtype=np.int64))
                finals.append("")
                continue
            emb, mask = self.summarizer.token_embeddings(cands)
            n = len(cands)
            d = self.alignment.distances(video[i:i + 1].expand(n, -1, -1), vmask[i:i + 1].expand(n, -1), emb, mask)
            pair = d[:, keyframes[i]]  # [candidates, keyframes]
            c, kf = divmod(int(torch.argmin(pair)), pair.shape[1])
            picks.append(np.array([keyframes[i][kf]], dtype=np.int64))
            final = cands[c] if self.summary_mode == "best" else "\n".join(cands)
            summaries.append(final)
            finals.append(final)
        scores = out["frame_logits"].clone()
        texts = [t for t in finals if t.strip()]
        if texts:
            rows = [i for i, t in enumerate(finals) if t.strip()]
            emb, mask = self.summarizer.token_embeddings([finals[i] for i in rows])
            d = self.alignment.distances(video[rows], vmask[rows], emb, mask)
            scores[rows] = scores[rows] + (-d / self.temperature).masked_fill(~vmask[rows], float("-inf"))
        return {"summary_text": summaries, "video_pick": picks, "video_scores": scores, "text_candidates": candidates}

    # ------------------------------------------------------------ training

    def loss(self, batch: dict, outputs: dict) -> tuple[torch.Tensor, dict]:
        video, vmask = batch["video"], batch["video_mask"]
        lengths = vmask.sum(1).tolist()
        parts = {"vts": self.vts.loss(outputs["vts_logits"], self._targets("vts", batch, video, lengths), vmask)}
        labels, has = self._frame_labels(batch)
        parts["visual"] = self.visual.loss(outputs["frame_logits"], labels, vmask, has)
        if "textseg_logits" in outputs and "text" in batch:
            tmask = outputs["textseg_mask"]
            n = tmask.shape[1]
            text = batch["text"][:, :n]
            targets = self._targets("text", batch, text, [int(x) for x in tmask.sum(1).tolist()])
            parts["textseg"] = self.vts.loss(outputs["textseg_logits"], targets[:, : outputs["textseg_logits"].shape[1]], tmask)
        summaries = [e.get("summary") for e in self._extra(batch)]
        articles = self.articles(batch)
        rows = [i for i, s in enumerate(summaries) if s and s.strip() and articles[i]]
        if rows:
            parts["summary"] = self.summarizer.loss([" ".join(articles[i]) for i in rows], [summaries[i] for i in rows])
            emb, mask = self.summarizer.token_embeddings([summaries[i] for i in rows])
            d = self.alignment.distances(video[rows], vmask[rows], emb, mask)
            parts["alignment"] = self.alignment.loss(d, vmask[rows], labels[rows], has[rows])
        total = sum(self.loss_weights[k] * v for k, v in parts.items())
        return total, {"total": total.item(), **{k: v.item() for k, v in parts.items()}}
