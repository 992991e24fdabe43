"""models.train and models.evaluate --run / --baseline end to end: files, resume, selection on
validation (test never read), baselines and selection rules, bad input."""

import json
import shutil

import numpy as np
import pytest
import torch
from hub_fixtures import built_bliss_hub, tiny_bliss

from models import evaluate, train
from models.baselines import kmeans_pick, lead_pick, textrank_scores, uniform_pick
from models.protocols import main_metric, multimodal_example
from models.selection import budget, top_k

CONFIG = "colorhist-minilm"
TINY = ["--model", "tiny_summ:build", "--batch-size", "2", "--lr", "0.05"]


@pytest.fixture(scope="session")
def bliss_hub(bliss_sample_dir, tmp_path_factory):
    return built_bliss_hub(bliss_sample_dir, tmp_path_factory.getbasetemp())


def run_train(*argv) -> int:
    return train.main([str(a) for a in argv])


def run_eval_json(capsys, *argv) -> dict:
    capsys.readouterr()
    assert evaluate.main([*(str(a) for a in argv), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def metric_lines(run_dir) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def weights(path) -> dict:
    return torch.load(path, weights_only=True)["model"]


# ---------------------------------------------------------------- end to end


def test_train_then_evaluate_run_end_to_end(bliss_hub, tmp_path, capsys):
    out = tmp_path / "runs" / "a2summ"
    assert run_train("--model", "a2summ", "--dataset", bliss_hub, "--config", CONFIG, "--out", out, "--epochs", 2,
                     "--batch-size", 2, "--hparam", "hidden=16", "--hparam", "num_layers=1", "--seed", 1) == 0
    for name in ("config.json", "metrics.jsonl", "curves.png", "checkpoint-last.pt", "checkpoint-best.pt"):
        assert (out / name).exists(), name
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    config = json.loads((out / "config.json").read_text())
    assert config["family"] == "bliss" and config["protocol"] == "multimodal"
    assert config["model_hparams"]["hidden"] == 16 and config["model_hparams"]["ratio"] == 4  # flag over paper default
    assert config["dims"] == {"video": 256, "text": 384}
    lines = metric_lines(out)
    assert [m["epoch"] for m in lines] == [1, 2]
    for m in lines:
        assert {"cls_video", "cls_text", "total"} <= set(m["train"])
        assert {"loss", "rouge1", "rougeLsum", "keyframe_cos", "sentence_f1", "frame_f1"} <= set(m["validation"])
        assert 0 <= m["time"]["data_wait_fraction"] < 1
    m = run_eval_json(capsys, "--run", out, "--dataset", bliss_hub, "--split", "test")
    assert set(m) == {"rouge1", "rouge2", "rougeL", "rougeLsum", "keyframe_cos", "sentence_f1", "sentence_accuracy",
                      "frame_f1", "frame_accuracy"}
    assert all(0.0 <= v <= 1.0 for v in m.values())
    assert evaluate.main(["--run", str(out)]) == 0  # the run's dataset, split test, a table
    table = capsys.readouterr().out
    assert "split test" in table and "examples 3" in table and "keyframe_cos" in table
    oracle = run_eval_json(capsys, "--run", out, "--oracle-k")
    assert oracle.keys() == m.keys()


def test_resume_equals_an_uninterrupted_run(bliss_hub, tmp_path):
    whole, split = tmp_path / "whole", tmp_path / "split"
    common = [*TINY, "--dataset", bliss_hub, "--epochs", 4, "--seed", 7]
    assert run_train(*common, "--out", whole) == 0
    assert run_train(*common, "--out", split, "--stop-after", 2) == 0
    assert [m["epoch"] for m in metric_lines(split)] == [1, 2]
    assert torch.load(split / "checkpoint-last.pt", weights_only=True)["epoch"] == 2
    assert run_train(*common, "--out", split) == 0  # same command: resumes at epoch 3
    strip = lambda lines: [{k: v for k, v in m.items() if k != "time"} for m in lines]
    assert strip(metric_lines(split)) == strip(metric_lines(whole))
    for name in ("checkpoint-last.pt", "checkpoint-best.pt"):
        a, b = weights(whole / name), weights(split / name)
        assert all(torch.equal(a[k], b[k]) for k in a), name
    assert run_train(*common, "--out", split) == 0  # complete: nothing more to do
    assert len(metric_lines(split)) == 4


def test_same_seed_same_run_different_seed_different_run(bliss_hub, tmp_path):
    common = [*TINY, "--dataset", bliss_hub, "--epochs", 1]
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        assert run_train(*common, "--seed", seed, "--out", tmp_path / name) == 0
    a, b, c = (weights(tmp_path / n / "checkpoint-last.pt") for n in "abc")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_checkpoint_is_chosen_on_validation_and_test_is_never_read(bliss_hub, tmp_path, capsys):
    hub = shutil.copytree(bliss_hub, tmp_path / "hub")
    for f in (hub / "data" / CONFIG).glob("test-*.parquet"):
        f.write_bytes(b"not a parquet file")
    for f in (hub / "wds" / CONFIG).glob("test-*.tar.gz"):
        f.unlink()
    out = tmp_path / "run"
    for fmt in ("parquet", "wds"):
        assert run_train(*TINY, "--dataset", hub, "--epochs", 4, "--out", out, "--format", fmt, "--restart") == 0
    lines = metric_lines(out)
    values = [main_metric("multimodal", m["validation"])[1] for m in lines]
    best = int(np.argmax(values)) + 1  # first maximum: ties keep the earlier epoch
    assert lines[-1]["selection"]["best_epoch"] == best
    assert lines[-1]["selection"]["criterion"] == "mean(rougeLsum, keyframe_cos)"
    assert torch.load(out / "checkpoint-best.pt", weights_only=True)["epoch"] == best
    capsys.readouterr()
    assert evaluate.main(["--run", str(out)]) == 2  # the corrupt test split is read only now
    assert "cannot read" in capsys.readouterr().err


def test_without_validation_split_the_last_epoch_is_kept(tmp_path):
    hub = tiny_bliss(tmp_path / "hub", splits=("train", "test"))
    assert run_train(*TINY, "--dataset", hub, "--epochs", 2, "--out", tmp_path / "run") == 0
    last = metric_lines(tmp_path / "run")[-1]
    assert last["validation"] == {} and last["selection"]["best_epoch"] == 2
    assert last["selection"]["criterion"].startswith("last epoch")


def test_without_a_protocol_the_validation_loss_selects(tmp_path):
    """frame_scores of unknown origin (no heatmap, no annotators): no metric, so validation loss decides."""
    from datasets import Features, List, Value

    from builders.core.writers import ConfigWriter
    from builders.core.schema import vectors

    rng = np.random.default_rng(0)
    features = Features({"id": Value("string"), "frames_vis": vectors(4), "frame_scores": List(Value("float32"))})
    with ConfigWriter(tmp_path / "hub", "vis", features) as w:
        for split in ("train", "validation"):
            for i in range(3):
                w.add(split, {"id": f"{split}{i}", "frames_vis": rng.standard_normal((5, 4)).astype(np.float32),
                              "frame_scores": rng.random(5).astype(np.float32)})
    out = tmp_path / "run"
    assert run_train(*TINY, "--dataset", tmp_path / "hub", "--epochs", 3, "--out", out) == 0
    lines = metric_lines(out)
    assert lines[-1]["selection"]["criterion"] == "validation loss"
    assert lines[-1]["selection"]["best_epoch"] == int(np.argmin([m["validation"]["loss"] for m in lines])) + 1


def test_parent_child_schedule_calls_global_step(bliss_hub, tmp_path):
    out = tmp_path / "run"
    assert run_train("--model", "tiny_summ:build", "--batch-size", 2, "--hparam", "global_every=2", "--query-features",
                     "key_sentences", "--dataset", bliss_hub, "--epochs", 3, "--out", out) == 0
    # 4 train clips, 2 batches an epoch; counted over the run: batches 3 and 6 are global (epochs 2 and 3)
    lines = metric_lines(out)
    assert "global_total" not in lines[0]["train"] and "total" in lines[0]["train"]
    assert "global_total" in lines[1]["train"] and "global_total" in lines[2]["train"]
    assert "total" in lines[1]["train"] and "total" in lines[2]["train"]
    config = json.loads((out / "config.json").read_text())
    assert config["columns"]["query"] == "key_sentences"


@pytest.mark.slow
def test_real_models_train_and_evaluate(bliss_hub, tmp_path, capsys):
    """Every feature-only registry model: one epoch on the sample, then evaluated on test (HierSum with its parent
    step). MHMS needs pretrained BERT / BART: tests/test_vmsmo.py and tests/test_mmavs.py train it with tiny ones."""
    from models.registry import MODELS

    for name in sorted(set(MODELS) - {"mhms"}):
        out = tmp_path / name
        assert run_train("--model", name, "--dataset", bliss_hub, "--out", out, "--epochs", 1, "--batch-size", 2,
                         "--hparam", "hidden=16", *(["--hparam", "num_layers=1"] if name != "cfsum" else [])) == 0
        m = run_eval_json(capsys, "--run", out)
        assert "keyframe_cos" in m, name


# ---------------------------------------------------------------- bad input


def test_bad_input_is_a_clear_error(bliss_hub, tmp_path, capsys):
    base = ["--dataset", str(bliss_hub), "--out", str(tmp_path / "r"), "--epochs", "1"]
    assert train.main(["--model", "nope", *base]) == 2
    assert "unknown model 'nope'; choose from a2summ" in capsys.readouterr().err
    assert train.main([*TINY, *base, "--text-features", "sentences_roberta"]) == 2
    err = capsys.readouterr().err
    assert "no column 'sentences_roberta' (asked by --text-features)" in err and "sentences_minilm" in err
    assert train.main([*TINY, *base, "--config", "clip-roberta"]) == 2
    assert "no config 'clip-roberta'; configs: colorhist-minilm" in capsys.readouterr().err
    assert train.main(["--model", "mod_that_does_not_exist:build", *base]) == 2
    assert "cannot load model factory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert evaluate.main(["--run", str(tmp_path / "empty")]) == 2
    assert "not a training run: no config.json" in capsys.readouterr().err
    assert train.main([*TINY, *base]) == 0
    (tmp_path / "r" / "checkpoint-best.pt").unlink()
    capsys.readouterr()
    assert evaluate.main(["--run", str(tmp_path / "r")]) == 2
    assert "has no checkpoint checkpoint-best.pt; checkpoints: checkpoint-last.pt" in capsys.readouterr().err
    assert train.main([*TINY, *base, "--lr", "0.5"]) == 2  # a different run in the same --out
    assert "holds a different run (differs in: train)" in capsys.readouterr().err
    assert train.main([*TINY, *base, "--lr", "0.5", "--restart"]) == 0
    with pytest.raises(SystemExit):  # --run and --baseline are alternatives
        evaluate.main(["--run", str(tmp_path / "r"), "--baseline", "random", "--dataset", str(bliss_hub)])


# ---------------------------------------------------------------- baselines and selection


def test_selection_rule_never_reads_labels():
    assert [budget(n) for n in (0, 1, 3, 6, 7, 20, 100)] == [0, 1, 1, 1, 1, 3, 15]
    assert budget(10, k=4) == 4 and budget(3, k=9) == 3
    assert top_k([0.1, 0.9, 0.9, 0.5], 2).tolist() == [1, 2] and top_k([1, 1, 1], 2).tolist() == [0, 1]
    row = {"sentences": [{"start": 0, "end": 1, "text": t} for t in ("a", "b", "c", "d", "e", "f", "g")],
           "sentence_labels": np.array([1, 1, 1, 1, 0, 0, 0]), "summary": "g."}
    pred = {"text_scores": np.array([0, 0, 0, 0, 0, 0, 1.0])}
    m = multimodal_example(row, pred, visual=None)
    assert m["sentence_f1"] == 0.0 and m["rouge1"] == 1.0  # keeps "g" (its score), whatever the labels say
    m = multimodal_example(row, pred, visual=None, oracle=True)  # k = 4 true key sentences
    assert m["sentence_f1"] == pytest.approx(2 * (3 / 4) / 2)  # picks g + a, b, c (ties -> earlier)


def test_baseline_functions():
    assert lead_pick(10).tolist() == [0, 1, 2] and lead_pick(2).tolist() == [0, 1]
    assert uniform_pick(10, 2).tolist() == [2, 7] and uniform_pick(3, 5).tolist() == [0, 1, 2]
    x = np.array([[0, 0], [0.1, 0], [10, 10], [10.2, 10], [10.1, 10.05]], dtype=float)
    assert kmeans_pick(x, 2).tolist() == [0, 4] or kmeans_pick(x, 2).tolist() == [1, 4]
    # TextRank: a sentence similar to both others ranks first; an orthogonal pair ties
    s = textrank_scores(np.array([[1, 0, 0], [0.7, 0.7, 0], [0, 1, 0]], dtype=float))
    assert s.argmax() == 1 and s[0] == pytest.approx(s[2]) and s.sum() == pytest.approx(1.0)


def test_bliss_baselines_evaluate(tmp_path, capsys):
    hub = tiny_bliss(tmp_path / "hub")
    for name in ("random", "uniform", "kmeans", "lead3", "textrank"):
        m = run_eval_json(capsys, "--dataset", hub, "--baseline", name, "--split", "test", "--trials", "2")
        assert "rouge1" in m and "sentence_f1" in m, name
        assert ("keyframe_cos" in m) == (name not in ("lead3", "textrank")), name
    # lead3 on the test clips: N = 2, 3, 4 sentences, labels 0 1 0 1: F1 of [0..min(3, N)) against them
    m = run_eval_json(capsys, "--dataset", hub, "--baseline", "lead3", "--split", "test")
    f1 = [2 * 0.5 * 1 / 1.5, 2 * (1 / 3) * 1 / (4 / 3), 2 * (1 / 3) * 0.5 / (5 / 6)]
    assert m["sentence_f1"] == pytest.approx(np.mean(f1))
    assert evaluate.main(["--dataset", str(hub), "--baseline", "human"]) == 2
    assert "human baseline needs several annotators" in capsys.readouterr().err


def test_most_replayed_dataset_trains_hiersum_style_and_scores_map(tmp_path, capsys):
    """HierSum's videos: null curves are left out, the steps are the query, Mr.HiSum MAP selects."""
    from hub_fixtures import tiny_hiersum

    hub = tiny_hiersum(tmp_path / "hub")
    out = tmp_path / "run"
    assert run_train("--model", "tiny_summ:build", "--hparam", "global_every=1", "--query-features", "steps_txt",
                     "--dataset", hub, "--epochs", 2, "--batch-size", 1, "--out", out) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["protocol"] == "most_replayed" and config["skipped"] == {"train": 1}
    lines = metric_lines(out)
    assert lines[0]["selection"]["criterion"] == "map50" and "global_total" in lines[0]["train"]
    m = run_eval_json(capsys, "--run", out)
    assert set(m) == {"map50", "map15", "frame_f1", "frame_accuracy"}
    for name in ("random", "uniform", "kmeans"):
        b = run_eval_json(capsys, "--dataset", hub, "--baseline", name, "--split", "test", "--trials", "2")
        assert set(b) == set(m), name
    capsys.readouterr()
    assert evaluate.main(["--dataset", str(hub), "--baseline", "lead3"]) == 2
    assert "lead3 selects sentences" in capsys.readouterr().err


def test_frame_importance_dataset_run_and_kmeans_use_the_keyshot_protocol(tmp_path, capsys):
    """A TVSum-style dataset with features: a run and the kmeans baseline are scored by keyshot F1 + rank correlation."""
    from builders.core.writers import ConfigWriter
    from builders.core.schema import frame_score_features

    rng = np.random.default_rng(0)
    features = frame_score_features("vis", 4, user_scores=False)
    with ConfigWriter(tmp_path / "hub", "vis", features) as w:
        for split in ("train", "validation", "test"):
            for i in range(2):
                picks = np.arange(0, 60, 3)
                users = (rng.random((3, 60)) < 0.2).astype(np.int8)
                w.add(split, {"id": f"{split}{i}", "video_id": f"{split}{i}", "title": "", "category": "", "n_frames": 60,
                              "fps": 30.0, "duration": 2.0, "picks": picks, "frame_times": picks / 30.0,
                              "frame_scores": rng.random(20).astype(np.float32),
                              "frames_vis": rng.standard_normal((20, 4)).astype(np.float32),
                              "change_points": np.array([[s, s + 9] for s in range(0, 60, 10)], np.int32),
                              "n_frame_per_seg": np.full(6, 10, np.int32), "user_summary": users})
    out = tmp_path / "run"
    assert run_train(*TINY, "--dataset", tmp_path / "hub", "--epochs", 2, "--out", out) == 0
    assert metric_lines(out)[-1]["selection"]["criterion"] == "f1"
    m = run_eval_json(capsys, "--run", out)
    assert set(m) == {"f1", "kendall_tau", "spearman_rho"}
    k = run_eval_json(capsys, "--dataset", tmp_path / "hub", "--baseline", "kmeans", "--split", "test")
    assert set(k) == {"f1", "kendall_tau", "spearman_rho"}
