"""Checkpoints that are not what they claim (issue 26): truncated, empty, foreign or crafted files are
one line naming the file and exit 2, in models.evaluate and on resume in models.train (which says how
to go on: --restart); what training saves loads with torch.load(weights_only=True)."""

from __future__ import annotations


import pytest
import torch
from hub_fixtures import tiny_bliss

from models import evaluate, train
from models.runs import BEST, LAST, RESUME_KEYS, RunError, load_checkpoint

TINY = ["--model", "tiny_summ:build", "--batch-size", "2", "--lr", "0.05"]


class Payload:
    """What a crafted pickle would run on load (never, with weights_only=True)."""

    def __reduce__(self):
        return (print, ("code ran",))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt")
    hub = tiny_bliss(root / "hub")
    out = root / "run"
    assert train.main([*TINY, "--dataset", str(hub), "--epochs", "2", "--out", str(out)]) == 0
    return hub, out


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: "), err
    return err


def test_saved_checkpoints_load_with_weights_only(run_dir):
    _, out = run_dir
    state = torch.load(out / LAST, weights_only=True)  # raises for anything but tensors and plain values
    assert set(RESUME_KEYS) <= set(state)
    assert set(load_checkpoint(out / LAST, keys=RESUME_KEYS)) == set(state)


@pytest.mark.parametrize("damage", ["truncated", "empty", "foreign", "code", "no_model", "wrong_shapes", "fifo"])
def test_a_broken_best_checkpoint_is_one_line_in_evaluate(run_dir, tmp_path, capsys, damage):
    import os
    import shutil

    _, good = run_dir
    run = tmp_path / "run"
    shutil.copytree(good, run)
    path = run / BEST
    data = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "foreign":
        path.write_text("a text file renamed .pt\n")
    elif damage == "code":
        torch.save({"model": Payload()}, path)
    elif damage == "no_model":
        torch.save({"epoch": 3}, path)
    elif damage == "wrong_shapes":
        torch.save({"model": {"nonsense.weight": torch.zeros(2)}}, path)
    else:
        path.unlink()
        os.mkfifo(path)
    assert evaluate.main(["--run", str(run)]) == 2
    err = one_error_line(capsys)
    assert str(path) in err and "code ran" not in err
    assert {"truncated": "truncated or not a torch file", "empty": "is empty (0 bytes)",
            "foreign": "truncated or not a torch file", "code": "not a vsumhub checkpoint (it asks to load code",
            "no_model": "no model (it holds epoch)", "wrong_shapes": "holds weights of another model",
            "fifo": "a FIFO, not a regular file"}[damage] in err


def test_resume_from_a_truncated_last_checkpoint_names_it_and_restart_goes_on(run_dir, tmp_path, capsys):
    import shutil

    hub, good = run_dir
    run = tmp_path / "run"
    shutil.copytree(good, run)
    data = (run / LAST).read_bytes()
    (run / LAST).write_bytes(data[:100])
    args = [*TINY, "--dataset", str(hub), "--epochs", "3", "--out", str(run)]
    assert train.main(args) == 2
    err = one_error_line(capsys)
    assert str(run / LAST) in err and "--restart" in err
    assert train.main([*args, "--restart"]) == 0
    assert torch.load(run / LAST, weights_only=True)["epoch"] == 3


def test_load_checkpoint_names_a_missing_file(tmp_path):
    with pytest.raises(RunError, match=f"checkpoint {tmp_path / 'x.pt'} is not there; do this"):
        load_checkpoint(tmp_path / "x.pt", hint="do this")
