"""Evaluate on a published dataset with the dataset's own protocol.

    python -m models.evaluate --dataset hub/tvsum --baseline human [--config NAME] [--split NAME] [--json]
    python -m models.evaluate --dataset hub/bliss-sample --baseline textrank --split test
    python -m models.evaluate --run runs/a2summ [--dataset hub/bliss-sample] [--split test] [--checkpoint best|last]
    python -m models.evaluate --table cfsum-2 --run runs/cfsum-dog --run runs/cfsum-gym ...   # a run per column
    python -m models.evaluate --dataset hub/qvhighlights --config annotations --split validation \
        --predictions val_preds.jsonl --format moment_detr           # another project's outputs, our protocol

``--baseline`` (a reference that needs no training), ``--run`` (a trained model: its
``checkpoint-best.pt``, chosen on validation) and ``--predictions FILE --format F`` (scores another
project wrote: Moment-DETR's submission jsonl, Mr.HiSum's / PGL-SUM's JSON, the eccv16 ``result.h5``;
``models.predictions``) are alternatives. A baseline evaluates every split
unless ``--split`` says; a run evaluates ``test`` unless ``--split`` says. The protocol follows the
dataset's columns (``models.protocols``):

Frame-importance datasets (TVSum, SumMe, eccv16 imports: columns ``user_summary`` and
``change_points``) use the eccv16 / Otani protocol: predicted scores at ``picks`` are spread to
every frame, averaged per shot, and a keyshot summary is chosen by knapsack within 15% of the
frames; keyshot F1 against each annotator's summary (mean over annotators for TVSum, max for
SumMe), and Kendall's tau / Spearman's rho against each annotator's frame scores (``user_scores``;
``user_summary`` where a dataset has no scores), averaged over annotators, then over videos.
``--keyshot-protocol dsnet|a2summ`` builds the keyshot summary as DSNet / A2Summ do instead
(``builders.labels.keyshots``); ``--rouge-order a2summ`` passes ROUGE's arguments in A2Summ's order.
Highlight datasets: QVHighlights by Moment-DETR's ``standalone_eval`` (HL mAP / HIT@1 at Fair,
Good, Very Good), YouTube Highlights by UMT's AP, Mr.HiSum by its solver's F1 and MAP50 / MAP15.
``--protocol tvsum-top5`` scores a TVSum build as CFSum Table I does (UMT's top-5 mAP on 2-second clips, per
category and ``Avg.``); without the flag a TVSum build keeps the keyshot F1 / tau / rho of A2Summ and HierSum.

BLiSS-style datasets: ROUGE-1/2/L/Lsum of the selected sentences against ``summary``, A2Summ's
keyframe cosine of ``thumbnail_<visual>`` against the selected frames, F1 and accuracy of the
selected sentences / frames against the labels. Most-replayed datasets (HierSum's videos):
Mr.HiSum MAP at rho 50% / 15%. Selection never looks at the ground truth: the top ``--proportion``
(15%) of frames and of sentences, at least one (``models.selection``); ``--oracle-k`` instead keeps
as many as there are key items, A2Summ's released top-k, which reads the labels (not a fair
prediction; compare only with numbers computed the same way).

A run of a model whose folder gives its own scoring (``EVALUATE``: VDF, a text generator, ``models.vdf.evaluate``)
is scored by it: summaries generated with beam search, corpus BLEU-1..4, ROUGE-1/2/L, METEOR and CIDEr
printed as its paper's tables (protocol ``generation``).

Reference baselines (``models.baselines``):
- ``human``: each annotator against the others (leave one out), the ceiling Otani et al. report
  (frame-importance datasets only: it needs several annotators);
- ``random``: independent uniform random scores per frame / sentence, averaged over ``--trials``;
- ``uniform``: frame-importance and most-replayed datasets: every frame equally important (a
  constant score; rank correlation is 0 by definition, the summary is what knapsack picks when
  every shot is worth the same); BLiSS-style: k evenly spaced frames and sentences;
- ``kmeans``: VSUMM-style, k-means on the frame (and sentence) features with k = the budget, the
  item nearest each centroid (on frame-importance datasets the chosen frames score 1, others 0);
- ``lead3`` (the first 3 sentences) and ``textrank`` (PageRank on the sentence-similarity graph,
  top by proportion): text only, BLiSS-style and news datasets;
- ``first``: the first frame as the cover / keyframe (then the frames in time order), news datasets.

News datasets (VMSMO, MM-AVS Daily Mail / CNN; MHMS Tables 1-6): ROUGE of the generated summary (a
model's) or of the selected sentences (a baseline's) against ``summary``, VMSMO's cover MAP and R10@1/2/5
of the frame scores at its 10 candidates, and Daily Mail's keyframe cosine of one chosen keyframe
against the article's images. News baselines choose one keyframe: ``uniform`` the middle frame,
``kmeans`` the frame nearest the mean (VSUMM with one cluster), ``random`` random scores.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from builders.labels.keyshots import PROTOCOLS
from common import cli
from models.baselines import BASELINES
from models.predictions import FORMATS
from models.tables import TABLES
from models.train import SELECTABLE


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=cli.prog("python -m models.evaluate"), description=__doc__.split("\n\n")[0])
    cli.add_version(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars (the data and model libraries' ones)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--baseline", choices=BASELINES, help="reference baseline to evaluate")
    what.add_argument("--run", type=Path, action="append",
                      help="a training run directory (python -m models.train --out DIR); repeated with --table cfsum-1 "
                           "or cfsum-2, each run fills its TVSum category / YouTube Highlights domain of one row")
    what.add_argument("--predictions", type=Path, help="another project's predictions file (see --format)")
    p.add_argument("--format", choices=list(FORMATS), help="with --predictions: moment_detr (standalone_eval submission "
                   "jsonl), mrhisum (JSON {video_id: [score per second]}), eccv16h5 (result.h5 with <key>/score)")
    p.add_argument("--protocol", choices=list(SELECTABLE),
                   help="a protocol the columns do not select: tvsum-top5 (CFSum Table I: UMT's top-5 mAP on 2-second "
                        "clips, per category and Avg., on a TVSum build; its default is the keyshot F1 / tau / rho)")
    p.add_argument("--table", choices=list(TABLES),
                   help="print the metrics as a row of that paper table: its headers, order and units (models.tables; "
                        "docs/experiments.md); cfsum-1 / cfsum-2 take a --run per category / domain, Avg. is the mean "
                        "of the columns filled (a missing one prints '-'); with --json their row's raw fractions")
    p.add_argument("--keyshot-protocol", choices=PROTOCOLS, default="eccv16",
                   help="how frame-importance datasets build keyshot summaries: eccv16 (default), dsnet, a2summ")
    p.add_argument("--rouge-order", choices=("library", "a2summ"), default="library",
                   help="ROUGE argument order: the library's documented one (default) or A2Summ's (swapped; "
                        "changes ROUGE-Lsum on multi-sentence texts)")
    p.add_argument("--dataset", type=Path, help="a published dataset directory (hub/<name>); default with --run: the run's")
    p.add_argument("--config", help="config name (needed when the dataset has several)")
    p.add_argument("--split", help="split to evaluate (default: every split for a baseline, test for a run)")
    p.add_argument("--checkpoint", default="best", help="with --run: best (default), last, or a file in the run")
    p.add_argument("--f1-mode", choices=("mean", "max"), help="combine F1 over annotators (default: max for SumMe, else mean)")
    p.add_argument("--proportion", type=float, default=0.15,
                   help="summary budget: fraction of frames (knapsack) or of frames / sentences kept (0.15)")
    p.add_argument("--oracle-k", action="store_true",
                   help="keep as many frames / sentences as there are key items (A2Summ's released top-k; reads the labels)")
    p.add_argument("--video-features", help="frames_* column for baselines that read features (default: the only one)")
    p.add_argument("--text-features", help="sentences_* column for baselines that read features (default: the only one)")
    p.add_argument("--trials", type=int, default=10, help="random baseline: trials averaged per video (10)")
    p.add_argument("--seed", type=int, default=0, help="random baseline: seed of its trials (0)")
    p.add_argument("--device", default="cpu", help="torch device for --run: cpu (default) or cuda")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: metric name -> raw value (fractions, 0..1; CIDEr as is). Without it "
                        "the metrics print in the papers' units: x100 (two decimals) except Kendall / Spearman, "
                        "VMSMO's MAP / R10@k and CIDEr (three decimals; models.units)")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.no_progress:
        cli.silence_progress()
    from models.evaluation import run  # torch, datasets: once the flags are parsed

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
