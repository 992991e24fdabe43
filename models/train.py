"""Train a summarizer on a published dataset; the checkpoint is chosen on the validation split.

    python -m models.train --model a2summ --dataset hub/bliss-sample --config colorhist-minilm --out runs/a2summ
        [--epochs N] [--device cpu|cuda] [--seed S] [--batch-size B] [--lr LR] [--weight-decay WD]
        [--video-features frames_clip] [--text-features sentences_roberta] [--audio-features COL]
        [--query-features COL | key_sentences] [--hparam KEY=VALUE ...] [--family NAME]
        [--format parquet|wds] [--loader-workers N] [--stop-after K] [--restart] [--init RUN]

Hyper-parameters: the paper's values for (model, dataset family) from the model folder's defaults
(``models/<model>/defaults.py``: its recipe with the family's overrides; the family comes from the
dataset's name, e.g. bliss-sample -> bliss, or ``--family``), then the flags. Optimiser: Adam with L2 weight decay (A2Summ's and CFSum's code), the learning rate set per
epoch by the entry's schedule (linear warm-up for ``warmup_epochs``, then cosine when
``scheduler`` is "cosine", else constant).

Only the ``train`` and ``validation`` splits are opened; the test split is never read. After every
epoch the model scores the validation split with the dataset's protocol (``models.protocols``) and
the best epoch so far is kept as ``checkpoint-best.pt``: by the protocol's main metric (higher is
better; ties keep the earlier epoch); by the validation loss when the split lacks the columns
for that metric (e.g. no summary / thumbnails, no most-replayed curve); by the last epoch when
the dataset has no validation split (said in metrics.jsonl). Examples whose targets are null are
left out of training and validation loss (counted in config.json).

Resume: rerun the same command with the same ``--out``; the run continues after the last
finished epoch from ``checkpoint-last.pt`` (weights, optimiser, every RNG, best so far). The batch
order of an epoch depends only on (seed, epoch), so a resumed run reproduces an uninterrupted one
exactly. ``--stop-after K`` ends this invocation after K epochs, as an interruption (or a job time
limit) would. A different configuration in the same ``--out`` is an error unless ``--restart``.

HierSum's parent-child schedule: after every ``global_every`` (m) subtitle batches (counted over
the run, not per epoch) the next batch trains ``model.global_step`` (the global description as the text, video loss only). The global
description is ``--query-features`` (default: ``steps_<text encoder>`` when the dataset has it, else
``key_sentences``, the key sentences' features: what HierSum does on BLiSS).

Every model trains through the same loop (``train_fit``: one ``Fit`` per run). A model folder whose training is
more than one run of its network gives the runs (``TRAINING``): VDF (``--model vdf``) trains directly or, with
``--stage 1|2|3|all``, by the triple-stage framework, each stage a run of this loop with its own batches and loss
(``models.vdf.stages``); see docs/training.md.

Fine-tuning (HierSum Tables 6-7): ``--init RUN`` starts from RUN's ``checkpoint-best.pt`` (a run of the same model,
trained on features of the same widths), with RUN's model hyper-parameters as defaults; a fresh optimiser.

Exit status: 0 trained (or already complete), 2 bad usage (unknown model or column, missing split,
a different run in --out).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from common import cli

KEY_SENTENCES = "key_sentences"  # models.data.KEY_SENTENCES, said here so --help loads no data library
SELECTABLE = ("tvsum-top5",)  # models.protocols.SELECTABLE: the protocols --protocol names


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=cli.prog("python -m models.train"), description=__doc__.split("\n\n")[0])
    cli.add_version(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bars (the data and model libraries' ones)")
    p.add_argument("--model", required=True, help="a model folder: a2summ, hiersum, cfsum, mhms, vdf (models/<name>/), or your own "
                   "(its package, e.g. mypkg.tiny); or package.module:factory (docs/add-a-model.md)")
    p.add_argument("--dataset", required=True, help="a published dataset directory (hub/<name>) or a hub repo id")
    p.add_argument("--config", help="config name (needed when the dataset has several)")
    p.add_argument("--out", required=True, type=Path, help="run directory (resumed when it holds this run)")
    p.add_argument("--epochs", type=int, help="epochs (default: the paper's for this model and dataset family)")
    p.add_argument("--batch-size", type=int, help="examples per step (default: the paper's)")
    p.add_argument("--lr", type=float, help="learning rate (default: the paper's)")
    p.add_argument("--weight-decay", type=float, help="Adam L2 weight decay (default: the paper's)")
    p.add_argument("--hparam", action="append", metavar="KEY=VALUE", help="model hyper-parameter (JSON value), repeatable")
    p.add_argument("--family", help="dataset family for the paper defaults (default: from the dataset name)")
    p.add_argument("--video-features", help="frames_* column (default: the dataset's only one)")
    p.add_argument("--text-features", help="sentences_* column (default: the dataset's only one, if any)")
    p.add_argument("--audio-features", help="audio feature column [A, D]")
    p.add_argument("--query-features", help=f"query / global description column [Q, D], or {KEY_SENTENCES}")
    p.add_argument("--weights", action="append", metavar="NAME=PATH",
                   help="pretrained part NAME of the model from a local directory or a hub name, repeatable "
                        "(mhms: --weights bert=PATH --weights bart=PATH); offline, a part not at hand is an error naming it")
    p.add_argument("--format", choices=("parquet", "wds"), default="parquet", help="read parquet (default) or stream wds tars")
    p.add_argument("--loader-workers", type=int, default=0,
                   help="DataLoader worker processes that collate batches (0: a prefetch thread)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1")
    p.add_argument("--seed", type=int, default=0, help="seed of initialisation, shuffling and dropout (0)")
    p.add_argument("--grad-clip", type=float, default=0.0, help="clip the gradient norm (0: off)")
    p.add_argument("--proportion", type=float, default=0.15,
                   help="summary budget of validation: fraction of frames / sentences kept (0.15), as in models.evaluate")
    p.add_argument("--protocol", choices=list(SELECTABLE),
                   help="validation protocol the columns do not select (tvsum-top5: CFSum Table I), as models.evaluate")
    p.add_argument("--stop-after", type=int, help="stop this invocation after K epochs (resume by rerunning)")
    p.add_argument("--init", type=Path, metavar="RUN",
                   help="fine-tune: start from RUN's best weights (a run of the same model, features of the same widths; "
                        "its model hyper-parameters are the defaults, --hparam still overrides); HierSum Tables 6-7")
    p.add_argument("--restart", action="store_true", help="discard what --out holds and start over")
    p.add_argument("--stage", choices=("1", "2", "3", "all"),
                   help="VDF's triple-stage training (section 2.3): one stage, or all three in order, each kept in "
                        "OUT/stage<k>; without it VDF trains directly on --config")
    args = p.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    return args


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    if args.no_progress:
        cli.silence_progress()
    from models.data import DatasetError  # torch, datasets: once the flags are parsed
    from models.runs import RunError
    from models.training import run

    try:
        return run(args)
    except (DatasetError, RunError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
