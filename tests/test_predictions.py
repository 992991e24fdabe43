"""models.evaluate --predictions: other projects' output files scored with our protocols."""

from __future__ import annotations

import json

import numpy as np
import pytest

from builders.core.base import build
from builders.qvhighlights import QVHighlights
from models.evaluate import main
from tests.test_qvhighlights import record, write_release


@pytest.fixture(scope="module")
def qvh(tmp_path_factory):
    """Two labelled validation queries of 5 clips (10 s), one train and one test query."""
    root = tmp_path_factory.mktemp("qvh")
    q1 = record(1, vid="a_0.0_10.0", duration=10)  # user_scores: [0,4,1,0,0], [0,3,4,0,0], [0,2,0,4,0]
    q2 = {**record(2, vid="b_0.0_10.0", duration=10), "relevant_clip_ids": [0], "saliency_scores": [[4, 4, 4]],
          "relevant_windows": [[0, 2]]}
    folder = write_release(root / "rel", {"train": [record(9, vid="c_0.0_10.0", duration=10)], "val": [q1, q2],
                                          "test": [record(3, vid="t_0.0_10.0", duration=10, labelled=False)]})
    assert build(QVHighlights(folder), out=root / "hub", work=root / "work", progress=False).status == 0
    return root


def submission(path, preds: dict, extra: str = ""):
    lines = [json.dumps({"qid": q, "query": "q", "vid": "v", "pred_relevant_windows": [[0, 2, 0.9]],
                         "pred_saliency_scores": s}) for q, s in preds.items()]
    path.write_text("\n".join(lines) + "\n" + extra)
    return path


def run(qvh, preds_path, *extra, split="validation"):
    return main(["--dataset", str(qvh / "hub"), "--config", "annotations", "--split", split,
                 "--predictions", str(preds_path), "--format", "moment_detr", *extra])


def test_moment_detr_submission_scored_as_standalone_eval(qvh, tmp_path, capsys):
    # q1 ranks clips 1, 2, 3, 0, 4. Very Good (>= 4) positives: annotator 0 clip 1 (rank 1: AP 1), annotator 1
    # clip 2 (rank 2: AP 1/2), annotator 2 clip 3 (rank 3: AP 1/3) -> 0.6111; HIT@1: clip 1 is Very Good for
    # annotator 0 -> 1. q2: only clip 0 is positive for all three, predicted last -> AP 1/5 each, HIT@1 0.
    # Over both: mAP (0.6111 + 0.2) / 2 = 0.40556 -> 40.56; HIT@1 0.5 -> 50.0 (printed; --json keeps fractions).
    path = submission(tmp_path / "val_preds.jsonl", {1: [0.1, 0.9, 0.8, 0.2, 0.0], 2: [0.0, 0.5, 0.6, 0.7, 0.8]})
    assert run(qvh, path, "--json") == 0
    metrics = json.loads(capsys.readouterr().out)
    assert list(metrics) == ["HL-min-Fair-mAP", "HL-min-Fair-Hit1", "HL-min-Good-mAP", "HL-min-Good-Hit1",
                             "HL-min-VeryGood-mAP", "HL-min-VeryGood-Hit1"]
    assert metrics["HL-min-VeryGood-mAP"] == pytest.approx((11 / 18 + 0.2) / 2) and metrics["HL-min-VeryGood-Hit1"] == 0.5
    # Fair (>= 2): q1 positives a0 {1}, a1 {1, 2}, a2 {1, 3} -> AP 1, 1, (1 + 2/3) / 2 -> mean 0.9444; q2 as above 0.2
    assert metrics["HL-min-Fair-mAP"] == pytest.approx((((1 + 1 + 5 / 6) / 3) + 0.2) / 2)
    assert run(qvh, path) == 0
    out = capsys.readouterr().out
    assert "protocol qvhighlights" in out and "HL-min-VeryGood-mAP  40.56" in out


def test_a_shorter_prediction_is_zero_padded_and_a_longer_one_cut_for_map_only(qvh, tmp_path, capsys):
    full = submission(tmp_path / "a.jsonl", {1: [0.1, 0.9, 0.8, 0.0, 0.0], 2: [0.9, 0.0, 0.0, 0.0, 0.0]})
    odd = submission(tmp_path / "b.jsonl", {1: [0.1, 0.9, 0.8], 2: [0.9, 0.0, 0.0, 0.0, 0.0, 7.0, 7.0]})
    results = []
    for path in (full, odd):
        assert run(qvh, path, "--json") == 0
        results.append(json.loads(capsys.readouterr().out))
    assert all(results[0][k] == results[1][k] for k in results[0] if k.endswith("mAP"))
    # HIT@1 takes the argmax of the whole prediction (standalone_eval): q2's top clip lies past the video -> a miss
    assert results[0]["HL-min-VeryGood-Hit1"] == 1.0 and results[1]["HL-min-VeryGood-Hit1"] == 0.5


@pytest.mark.parametrize("preds, extra, message", [
    ({1: [0.1] * 5}, "", "1 of 2 qids of this split have no prediction, e.g. 2"),
    ({1: [0.1] * 5, 2: [0.1] * 5, 77: [0.1] * 5}, "", "1 predicted qid(s) are not in this split, e.g. 77"),
    ({1: [0.1] * 5, 2: [0.1] * 5}, "{broken\n", "val_preds.jsonl:3: not JSON"),
    ({1: [0.1] * 5, 2: [0.1] * 5}, '{"qid": 1, "pred_saliency_scores": [1]}\n', "qid 1 was predicted before"),
    ({1: [0.1] * 5, 2: ["x"] * 5}, "", "scores must be a list of numbers"),
    ({1: [0.1] * 5, 2: [float("nan")] * 5}, "", "NaN or infinite"),
])
def test_bad_submissions_are_one_line_errors(qvh, tmp_path, capsys, preds, extra, message):
    path = submission(tmp_path / "val_preds.jsonl", preds, extra)
    assert run(qvh, path) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_the_test_split_has_no_labels_to_score(qvh, tmp_path, capsys):
    path = submission(tmp_path / "test_preds.jsonl", {3: [0.5] * 5})
    assert run(qvh, path, split="test") == 2
    assert "could be scored" in capsys.readouterr().err
    assert main(["--dataset", str(qvh / "hub"), "--predictions", str(path)]) == 2  # --format missing
    assert main(["--dataset", str(qvh / "hub"), "--predictions", str(path), "--format", "moment_detr"]) == 2  # --split
    assert "--predictions needs --split" in capsys.readouterr().err


def test_rouge_order_a2summ_swaps_the_arguments_on_the_command_line(tmp_path, capsys):
    from builders.core.base import update_build_record
    from builders.core.schema import bliss_features
    from builders.core.writers import ConfigWriter
    from tests.hub_fixtures import tiny_row

    # lead3 picks "sentence 0 word0", "sentence 1 word1", "sentence 2 word2"; the summary has two sentences
    hub, features, rng = tmp_path / "hub", bliss_features("vis", 6, "txt", 5), np.random.default_rng(0)
    with ConfigWriter(hub, "vis-txt", features) as w:
        w.add("test", tiny_row(0, T=8, N=3, rng=rng, summary="sentence 0 word1 word2. word0 sentence 2."))
    update_build_record(hub, "tiny-bliss", "vis-txt", {"features": features.to_dict()})
    results = {}
    for order in ("library", "a2summ"):
        assert main(["--dataset", str(hub), "--baseline", "lead3", "--split", "test", "--rouge-order", order,
                     "--json"]) == 0
        results[order] = json.loads(capsys.readouterr().out)
    lib, a2 = results["library"], results["a2summ"]
    assert lib["rouge1"] == a2["rouge1"] and lib["rougeL"] == a2["rougeL"]  # symmetric F
    # summary-level LCS counts hits per target sentence: 7/8 with the summary as target, 3/4 swapped (A2Summ)
    assert lib["rougeLsum"] == pytest.approx(0.875) and a2["rougeLsum"] == pytest.approx(0.75)
