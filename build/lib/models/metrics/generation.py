"""BLEU-1..4, METEOR and CIDEr of generated summaries, the How2 way (VDF / MCLS Table 2 and 3).

VDF names no scoring tool; this follows the How2 summarization convention, nlg-eval's
``compute_metrics`` (Sharma et al. 2017), which runs the coco-caption scorers that
``pycocoevalcap`` (1.2, PyPI) ships:

- texts are only whitespace-normalised (nlg-eval strips each line; How2 text is already tokenised
  and lowercased): no PTB tokenizer, no lowercasing here;
- BLEU-n: coco's ``Bleu(4)``: corpus-level (n-gram counts and lengths summed over the corpus),
  brevity penalty with the "closest" reference length, 1e-15 / 1e-9 smoothing of the precisions;
- CIDEr: coco's ``Cider`` (the CIDEr-D form: clipped tf-idf, x10, a sigma = 6 Gaussian penalty
  on the length gap, which coco counts in bigrams), document frequencies taken from the evaluated
  references, so it is a corpus metric (a one-example corpus has zero idf and scores 0);
- METEOR: Meteor 1.5 (``meteor-1.5.jar`` shipped in pycocoevalcap with its English paraphrase
  table), run as coco-caption runs it (``-stdio -l en -norm``), the corpus score from the jar's
  aggregated statistics (not a mean of sentence scores). It needs a Java runtime; without ``java``
  on PATH or without the jar, ``meteor`` raises ``MeteorUnavailable`` naming what is missing. There
  is no approximation (nltk's meteor_score needs WordNet data and differs from Meteor 1.5).

BLEU and METEOR come back in 0..1 (papers print x100); CIDEr as coco returns it (VDF prints 1.064).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path


class MeteorUnavailable(RuntimeError):
    """METEOR cannot run here (no Java runtime, or pycocoevalcap's jar is missing)."""


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def corpus(hypotheses: Sequence[str], references: Sequence) -> tuple[dict, dict]:
    """coco-caption's (gts, res) dicts; a reference is one string or a list of strings."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} references")
    if not hypotheses:
        raise ValueError("no examples to score")
    gts, res = {}, {}
    for i, (hyp, refs) in enumerate(zip(hypotheses, references)):
        refs = [refs] if isinstance(refs, str) else list(refs)
        if not refs:
            raise ValueError(f"example {i} has no reference")
        gts[i] = [_clean(r) for r in refs]
        res[i] = [_clean(hyp)]
    return gts, res


# pycocoevalcap is imported where it is used, so the other metric families work without it.
def bleu(hypotheses: Sequence[str], references: Sequence) -> dict[str, float]:
    """Corpus BLEU-1..4 as coco-caption computes them: {bleu1, bleu2, bleu3, bleu4}."""
    from pycocoevalcap.bleu.bleu import Bleu

    scores, _ = Bleu(4).compute_score(*corpus(hypotheses, references), verbose=0)
    return {f"bleu{n}": float(s) for n, s in enumerate(scores, start=1)}


def cider(hypotheses: Sequence[str], references: Sequence) -> float:
    """Corpus CIDEr (coco-caption's CIDEr-D, x10 scale)."""
    from pycocoevalcap.cider.cider import Cider

    score, _ = Cider().compute_score(*corpus(hypotheses, references))
    return float(score)


def meteor_jar() -> Path:
    """Path of Meteor 1.5 inside pycocoevalcap, or ``MeteorUnavailable`` saying what is missing."""
    try:
        import pycocoevalcap.meteor.meteor as coco_meteor
    except ImportError as e:
        raise MeteorUnavailable("METEOR needs the pycocoevalcap package (pip install pycocoevalcap==1.2)") from e
    jar = Path(coco_meteor.__file__).with_name("meteor-1.5.jar")
    if not jar.is_file() or not (jar.parent / "data" / "paraphrase-en.gz").is_file():
        raise MeteorUnavailable(f"pycocoevalcap's Meteor 1.5 jar or its data/paraphrase-en.gz is missing next to {jar}")
    if shutil.which("java") is None:
        raise MeteorUnavailable("METEOR runs meteor-1.5.jar and needs a Java runtime: no `java` on PATH "
                                "(e.g. apt-get install openjdk-17-jre-headless)")
    return jar


def meteor(hypotheses: Sequence[str], references: Sequence) -> float:
    """Corpus METEOR from Meteor 1.5, driven line by line as pycocoevalcap's ``Meteor`` does."""
    gts, res = corpus(hypotheses, references)
    jar = meteor_jar()
    cmd = ["java", "-jar", "-Xmx2G", jar.name, "-", "-", "-stdio", "-l", "en", "-norm"]
    with tempfile.TemporaryFile() as err, subprocess.Popen(
        cmd, cwd=jar.parent, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err
    ) as proc:

        def send(line: str) -> None:
            proc.stdin.write((line.replace("\n", " ") + "\n").encode())
            proc.stdin.flush()

        def read() -> str:
            answer = proc.stdout.readline().decode().strip()
            if not answer:
                err.seek(0)
                tail = err.read().decode(errors="replace")[-2000:]
                raise MeteorUnavailable(f"meteor-1.5.jar stopped answering: {tail}")
            return answer

        try:
            stats = []
            for i in gts:  # SCORE ||| ref 1 ||| ... ||| ref n ||| hypothesis  ->  sufficient statistics
                refs = " ||| ".join(_clean(r.replace("|||", "")) for r in gts[i])
                send(f"SCORE ||| {refs} ||| {_clean(res[i][0].replace('|||', ''))}")
                stats.append(read())
            send(" ||| ".join(["EVAL", *stats]))  # -> one score per segment, then the corpus score
            for _ in stats:
                read()
            return float(read())
        finally:
            proc.kill()


def generation_scores(hypotheses: Sequence[str], references: Sequence) -> dict[str, float]:
    """{bleu1..bleu4, meteor, cider} of a corpus (VDF's Table 2 columns besides ROUGE)."""
    return {**bleu(hypotheses, references), "meteor": meteor(hypotheses, references), "cider": cider(hypotheses, references)}
