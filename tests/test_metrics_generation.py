"""BLEU / CIDEr / METEOR the nlg-eval (coco-caption) way, offline: hand-computed cases, Java-missing error."""

import math

import pytest

from models.metrics import generation
from models.metrics.generation import MeteorUnavailable, bleu, cider, corpus, meteor


def test_bleu_hand_computed():
    # hyp "the cat sat on the mat" vs ref "the cat is on the mat", equal lengths (no brevity penalty):
    # p1 = 5/6, p2 = 3/5 ("the cat", "on the", "the mat"), p3 = 1/4 ("on the mat"), p4 = 0/3
    b = bleu(["the cat sat on the mat"], ["the cat is on the mat"])
    assert b["bleu1"] == pytest.approx(5 / 6)
    assert b["bleu2"] == pytest.approx((5 / 6 * 3 / 5) ** 0.5)  # 0.7071
    assert b["bleu3"] == pytest.approx(0.5)  # (5/6 * 3/5 * 1/4)^(1/3) = 0.125^(1/3)
    assert b["bleu4"] < 1e-3  # only coco's 1e-15 smoothing keeps it above 0


def test_bleu_brevity_penalty_is_corpus_level():
    # 3 words against 6 in total: BP = exp(1 - 6/3); every unigram correct
    assert bleu(["the cat sat"], ["the cat sat on the mat"])["bleu1"] == pytest.approx(math.exp(-1))


def test_cider_hand_computed():
    # 2 examples, every n-gram in one reference only: idf = log(2) for all. Example 1, hyp "a" vs ref "a b":
    # unigram cosine 1/sqrt(2), no higher n-grams; coco's length (bigram count) gap -1 -> e^(-1/72);
    # score = 10 * (1/sqrt(2) e^(-1/72)) / 4 = 1.7434. Example 2, "c d" vs "c d": 10 * (1 + 1) / 4 = 5.
    expected = (10 * (2 ** -0.5) * math.exp(-1 / 72) / 4 + 5) / 2
    assert cider(["a", "c d"], ["a b", "c d"]) == pytest.approx(expected)  # 3.3717


def test_cider_of_a_single_example_is_zero():
    assert cider(["the cat"], ["the cat"]) == 0.0  # idf = log(1/1) everywhere: CIDEr is a corpus metric


def test_meteor_hand_computed():
    # all 6 words match in 2 chunks ("on the mat", "the cat sat"): Fmean = 1,
    # Meteor 1.5 en penalty = 0.6 * (2/6)^0.2 = 0.48164 -> 0.51836
    assert meteor(["on the mat the cat sat"], ["the cat sat on the mat"]) == pytest.approx(1 - 0.6 * (2 / 6) ** 0.2)


def test_meteor_without_java_names_what_is_missing(monkeypatch):
    monkeypatch.setattr(generation.shutil, "which", lambda name: None)
    with pytest.raises(MeteorUnavailable, match="java"):
        meteor(["a"], ["a"])


def test_inputs_are_whitespace_normalised_and_checked():
    gts, res = corpus(["  the  cat\n"], [["a cat ", "the cat"]])
    assert gts == {0: ["a cat", "the cat"]} and res == {0: ["the cat"]}
    with pytest.raises(ValueError):
        corpus(["a"], [])
    with pytest.raises(ValueError):
        corpus(["a"], [[]])
