"""Cross-dataset transfer (HierSum Tables 6-7): models.evaluate --run RUN --dataset OTHER (zero-shot) and
models.train --init RUN (fine-tune); features of another width and a run of another model are one-line errors."""

import json

import pytest
import torch
from hub_fixtures import tiny_hiersum

from models import evaluate, train

SMALL = ["--hparam", "hidden=16", "--hparam", "num_layers=1", "--hparam", "heads=2", "--epochs", "1",
         "--batch-size", "2"]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A HierSum run on one instructional build (6-d frames_vis)."""
    root = tmp_path_factory.mktemp("transfer")
    hub = tiny_hiersum(root / "wikihow", seed=0)
    run = root / "run"
    assert train.main(["--model", "hiersum", "--dataset", str(hub), "--out", str(run), *SMALL]) == 0
    return root, hub, run


def one_line_error(capsys) -> str:
    lines = [ln for ln in capsys.readouterr().err.replace("\r", "\n").splitlines()
             if ln.strip() and not ln.startswith(("Generating ", "notice: "))]  # progress bars; old-build notices
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


@pytest.mark.slow  # trains the source run once (~20 s on this machine)
def test_zero_shot_on_another_build_prints_its_protocol_in_percent(source, capsys):
    root, _, run = source
    other = tiny_hiersum(root / "other", seed=1)
    capsys.readouterr()
    assert evaluate.main(["--run", str(run), "--dataset", str(other), "--split", "test", "--json"]) == 0
    raw = json.loads(capsys.readouterr().out)
    assert {"map50", "map15"} <= set(raw) and 0 <= raw["map50"] <= 1
    assert evaluate.main(["--run", str(run), "--dataset", str(other), "--split", "test"]) == 0
    out = capsys.readouterr().out
    assert f"dataset {other}" in out and f"map50              {100 * raw['map50']:.2f}" in out


@pytest.mark.slow  # trains the source run once (~20 s on this machine)
def test_zero_shot_on_features_of_another_width_names_both_encoders(source, capsys):
    root, _, run = source
    other = tiny_hiersum(root / "inception", seed=2, visual="inception", dv=8)
    capsys.readouterr()
    assert evaluate.main(["--run", str(run), "--dataset", str(other), "--split", "test"]) == 2
    err = one_line_error(capsys)
    assert "frames_vis (6-d, encoder vis)" in err and "frames_inception (8-d, encoder inception)" in err


@pytest.mark.slow  # trains the source run once (~20 s on this machine)
def test_fine_tune_starts_from_the_runs_weights_and_architecture(source, tmp_path, capsys):
    root, _, run = source
    target = tiny_hiersum(root / "target", seed=3)
    out = tmp_path / "tuned"
    # no --hparam: the architecture (hidden 16, one layer) comes from the --init run; zero epochs of training
    # would leave its weights, so compare the weights of the first layer before any step
    assert train.main(["--model", "hiersum", "--dataset", str(target), "--out", str(out), "--init", str(run),
                       "--epochs", "1", "--batch-size", "2", "--lr", "0"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["model_hparams"]["hidden"] == 16 and config["init_from"]["run"] == str(run)
    before = torch.load(run / "checkpoint-best.pt", weights_only=True)["model"]
    after = torch.load(out / "checkpoint-last.pt", weights_only=True)["model"]
    assert all(torch.equal(before[k], after[k]) for k in before)  # lr 0: fine-tuning kept the weights it started from
    # resuming the same command is the same run (init_from is not part of its identity)
    assert train.main(["--model", "hiersum", "--dataset", str(target), "--out", str(out), "--init", str(run),
                       "--epochs", "1", "--batch-size", "2", "--lr", "0"]) == 0


@pytest.mark.slow  # trains the source run once (~20 s on this machine)
def test_init_from_a_run_of_another_model_or_other_features_is_one_line(source, tmp_path, capsys):
    root, hub, run = source
    capsys.readouterr()
    assert train.main(["--model", "a2summ", "--dataset", str(hub), "--out", str(tmp_path / "a"), "--init", str(run),
                       *SMALL]) == 2
    assert "is a run of hiersum, not a2summ" in one_line_error(capsys)
    other = tiny_hiersum(root / "wide", seed=4, visual="inception", dv=8)
    assert train.main(["--model", "hiersum", "--dataset", str(other), "--out", str(tmp_path / "b"), "--init", str(run),
                       "--epochs", "1"]) == 2
    assert "frames_vis (6-d)" in one_line_error(capsys)
    assert train.main(["--model", "hiersum", "--dataset", str(hub), "--out", str(tmp_path / "c"), "--init",
                       str(tmp_path / "nowhere")]) == 2
    assert "not a finished training run" in one_line_error(capsys)


def test_unknown_model_lists_every_model_vdf_included(tmp_path, capsys):
    hub = tiny_hiersum(tmp_path / "hub")
    assert train.main(["--model", "nope", "--dataset", str(hub), "--out", str(tmp_path / "r")]) == 2
    err = one_line_error(capsys)
    assert "a2summ, cfsum, hiersum, mhms, vdf" in err  # every model folder, vdf too
