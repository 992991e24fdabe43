"""ROUGE F-measures with stemming (A2Summ protocol): hand-computed n-grams, LCS, summary-level LCS."""

import pytest

from models.metrics.rouge import as_lines, corpus_rouge, rouge

PRED = "the cat sat on the mat"
REF = "the cat lay on the mat"


def test_hand_computed_rouge_1_2_l():
    r = rouge(PRED, REF)
    assert r["rouge1"] == pytest.approx(5 / 6)  # the x2, cat, on, mat match of 6 tokens each side
    assert r["rouge2"] == pytest.approx(3 / 5)  # "the cat", "on the", "the mat" of 5 bigrams
    assert r["rougeL"] == pytest.approx(5 / 6)  # LCS "the cat on the mat"
    assert r["rougeLsum"] == pytest.approx(5 / 6)  # one sentence each: same as ROUGE-L


def test_rouge_lsum_reads_sentences_from_newlines():
    sentences = ["on the mat", "the cat sat"]
    # ROUGE-L ignores sentences: LCS("the cat lay on the mat", "on the mat the cat sat") = 3 -> 3/6
    # ROUGE-Lsum: union of LCS per candidate sentence = {on the mat} + {the cat} = 5 -> 5/6
    r = rouge(sentences, REF)
    assert r["rougeL"] == pytest.approx(0.5)
    assert r["rougeLsum"] == pytest.approx(5 / 6)
    assert as_lines(sentences) == "on the mat\nthe cat sat"
    assert rouge(" ".join(sentences), REF)["rougeLsum"] == pytest.approx(0.5)  # a plain string is one sentence


def test_porter_stemming_offline():
    # cats -> cat, running -> run; "were" and "was" stay different: 3 of 4 tokens match
    assert rouge("the cats were running", "the cat was run")["rouge1"] == pytest.approx(0.75)


def test_empty_and_disjoint_texts_score_zero():
    assert rouge("", REF) == {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0, "rougeLsum": 0.0}
    assert rouge("dogs bark loudly", REF)["rouge1"] == 0.0


def test_corpus_is_mean_of_per_example_f():
    c = corpus_rouge([PRED, "dogs bark"], [REF, REF])
    assert c["rouge1"] == pytest.approx((5 / 6 + 0) / 2)
    with pytest.raises(ValueError):
        corpus_rouge([PRED], [])


def test_a2summ_order_swaps_target_and_prediction():
    pred, ref = "h c a h g", "e f g e c\na h b f a\ne c d h f"
    assert rouge(pred, ref, a2summ_order=True) == rouge(ref, pred)
    assert rouge(pred, ref)["rougeLsum"] != rouge(ref, pred)["rougeLsum"]  # Lsum is not symmetric


def test_cjk_rouge_counts_characters_by_hand():
    """卫健委通报最新情况 vs 卫健委今天通报情况: 7 of 9 characters shared (R-1 = 7/9), 4 of 8 bigrams
    (卫健 健委 通报 情况: R-2 = 1/2); rouge-score's own tokenizer sees no token at all in Chinese."""
    from collectors.transcripts import has_cjk
    from models.metrics.rouge import rouge

    got = rouge("卫健委通报最新情况", "卫健委今天通报情况", cjk=True)
    assert got["rouge1"] == pytest.approx(7 / 9) and got["rouge2"] == pytest.approx(0.5)
    assert rouge("卫健委通报最新情况", "卫健委今天通报情况")["rouge1"] == 0.0
    # other words as rouge-score tokenizes them (stemmed): cat sat 猫 vs the cat sat 猫 -> P 1, R 3/4, F 6/7
    assert rouge("Cats sat 猫", "the cat sat 猫", cjk=True)["rouge1"] == pytest.approx(6 / 7)
    assert has_cjk("a 猫") and not has_cjk(["plain", "text"])
