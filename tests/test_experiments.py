"""docs/experiments.md: each paper table's command, run on a small build, prints the paper's header (names, order)
and its units (x100 with two decimals, or fractions with three). Values are not asserted.

The headers below are typed from the papers' text copies (/work/shared/papers), independently of models.tables.
"""

import pytest
from hub_fixtures import tiny_bliss
from test_mrhisum import release  # noqa: F401  (the Mr.HiSum release fixture)
from test_predictions import qvh, submission  # noqa: F401
from test_tvsum_top5 import tiny_tvsum
from test_wikihow_summaries import built  # noqa: F401
from test_youtube_highlights import umt  # noqa: F401

from models.evaluate import main as evaluate

P, F = "%", "fraction"
PAPER = {  # table -> [(header, unit)] as the paper prints it
    "a2summ-2": [("F1", P), ("τ", F), ("ρ", F)],
    "a2summ-4": [("F1", P)],
    "hiersum-2": [("F1 score", P), ("τ", F), ("ρ", F)],
    "cfsum-1": [(c, P) for c in ("VT", "VU", "GA", "MS", "PK", "PR", "FM", "BK", "BT", "DS", "Avg.")],
    "a2summ-3": [("R-1", P), ("R-2", P), ("R-L", P), ("Cos(%)", P)],
    "hiersum-3": [("R-1", P), ("R-2", P), ("R-L", P), ("Cos(%)", P)],
    "hiersum-6": [("Cos(%)", P)],
    "hiersum-4": [("F1", P), ("MAP ρ=50%", P), ("MAP ρ=15%", P)],
    "hiersum-7": [("F1", P), ("MAP ρ=50%", P), ("MAP ρ=15%", P)],
    "cfsum-2": [(d, P) for d in ("Dog", "Gym", "Par", "Ska", "Ski", "Sur", "Avg.")],
    "cfsum-3": [("mAP", P), ("HIT@1", P)],
    "mhms-1": [("R-1", P), ("R-2", P), ("R-L", P), ("MAP", F), ("R10@1", F), ("R10@2", F), ("R10@5", F)],
    "mhms-2": [("MAP", F), ("R10@1", F), ("R10@2", F), ("R10@5", F)],
    "mhms-3": [("R-1", P), ("R-2", P), ("R-L", P)],
    "a2summ-1-dailymail": [("R-1", P), ("R-2", P), ("R-L", P), ("Cos(%)", P)],
    "mhms-4-dailymail": [("R-1", P), ("R-2", P), ("R-L", P), ("Cos(%)", P)],
    "mhms-5": [("Cos(%)", P)],
    "mhms-6": [("R-1", P), ("R-2", P), ("R-L", P)],
    "hiersum-5": [("F1", P), ("τ", F), ("ρ", F)],
    "a2summ-1-cnn": [("R-1", P), ("R-2", P), ("R-L", P)],
    "mhms-4-cnn": [("R-1", P), ("R-2", P), ("R-L", P)],
}


def check_row(capsys, table: str, *argv) -> None:
    capsys.readouterr()
    assert evaluate([*map(str, argv), "--table", table]) == 0
    lines = capsys.readouterr().out.splitlines()
    header, row = lines[-2].split(" | "), lines[-1].split(" | ")
    assert header == [h for h, _ in PAPER[table]]
    assert any(v != "-" for v in row), row  # the small build scores at least one column
    for value, (_, unit) in zip(row, PAPER[table]):
        if value != "-":
            assert len(value.split(".")[1]) == (2 if unit == P else 3), (table, value)


@pytest.mark.parametrize("table", ["a2summ-2", "a2summ-4", "hiersum-2", "cfsum-1"])
def test_tvsum_tables(table, tmp_path, capsys):
    check_row(capsys, table, "--dataset", tiny_tvsum(tmp_path / "hub"), "--baseline", "random")


@pytest.mark.parametrize("table", ["a2summ-3", "hiersum-3", "hiersum-6"])
def test_bliss_tables(table, tmp_path, capsys):
    check_row(capsys, table, "--dataset", tiny_bliss(tmp_path / "hub"), "--split", "test", "--baseline", "random")


@pytest.mark.slow  # builds a release first
@pytest.mark.parametrize("table", ["hiersum-4", "hiersum-7"])
def test_mrhisum_tables(table, release, capsys):  # noqa: F811
    check_row(capsys, table, "--dataset", release / "hub", "--split", "test", "--baseline", "random")


@pytest.mark.slow  # builds a release first
def test_youtube_highlights_table(umt, capsys):  # noqa: F811
    check_row(capsys, "cfsum-2", "--dataset", umt / "hub", "--config", "dog", "--split", "test", "--baseline", "random")


@pytest.fixture(scope="module")
def domain_runs(umt, tmp_path_factory):  # noqa: F811
    """CFSum trained 1 epoch on the tiny build's two domains (dog, parkour), and on a BLiSS-schema build."""
    import shutil

    from models.train import main as train

    root = tmp_path_factory.mktemp("cfsum-runs")
    tiny = ["--model", "cfsum", "--epochs", "1", "--batch-size", "2", "--hparam", "hidden=16", "--no-progress"]
    for name, config in (("a", "dog"), ("b", "parkour")):  # run names that say nothing of the domain
        assert train([*tiny, "--dataset", str(umt / "hub"), "--config", config, "--out", str(root / name)]) == 0
    shutil.copytree(root / "a", root / "a-again")  # a second run of the dog domain
    assert train([*tiny, "--dataset", str(tiny_bliss(root / "bliss")), "--out", str(root / "bliss-run")]) == 0
    return root


def _json(capsys, *argv) -> dict:
    import json

    capsys.readouterr()
    assert evaluate([*map(str, argv), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _error(capsys, *argv) -> str:
    capsys.readouterr()
    assert evaluate([*map(str, argv)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


@pytest.mark.slow  # trains three 1-epoch runs on the release built first (5 s)
def test_cfsum_table_ii_is_assembled_from_a_run_per_domain(domain_runs, capsys):
    a, b = domain_runs / "a", domain_runs / "b"
    dog, par = _json(capsys, "--run", a)["mAP"], _json(capsys, "--run", b)["mAP"]
    assert dog != par  # so a value in the wrong column shows
    raw = _json(capsys, "--table", "cfsum-2", "--run", b, "--run", a)  # any order: each run fills its domain's column
    assert raw == {"dog": pytest.approx(dog), "parkour": pytest.approx(par), "Avg.": pytest.approx((dog + par) / 2)}
    check_row(capsys, "cfsum-2", "--run", a, "--run", b)
    capsys.readouterr()
    assert evaluate(["--table", "cfsum-2", "--run", str(a), "--run", str(b)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum(ln.startswith("run ") for ln in lines) == 2  # one header line per run, then the table
    assert lines[-1].split(" | ") == [f"{100 * dog:.2f}", "-", f"{100 * par:.2f}", "-", "-", "-",
                                      f"{100 * (dog + par) / 2:.2f}"]
    assert lines[-3] == "note: Avg. is over the 2 of 6 columns present (Dog, Par); a missing column is '-'"
    assert _json(capsys, "--table", "cfsum-2", "--run", a) == {"dog": pytest.approx(dog), "Avg.": pytest.approx(dog)}


@pytest.mark.slow  # shares the runs above
def test_runs_that_cannot_make_one_row_are_one_line_errors(domain_runs, capsys):
    a, bliss = domain_runs / "a", domain_runs / "bliss-run"
    err = _error(capsys, "--table", "cfsum-2", "--run", a, "--run", domain_runs / "b", "--run", domain_runs / "a-again")
    assert f"run {a} and run {domain_runs / 'a-again'} both fill cfsum-2's column Dog" in err
    err = _error(capsys, "--table", "cfsum-2", "--run", a, "--run", bliss)
    assert f"run {bliss} is on " in err and "needs a YouTube Highlights domain config" in err
    assert "needs TVSum's columns" in _error(capsys, "--table", "cfsum-1", "--run", a)
    assert "several --run make one row" in _error(capsys, "--table", "cfsum-3", "--run", a, "--run", a)
    assert "several --run make one row" in _error(capsys, "--run", a, "--run", a)
    assert "leave out --dataset / --config" in _error(capsys, "--table", "cfsum-2", "--run", a, "--run", a,
                                                      "--config", "dog")


@pytest.mark.slow  # builds a release first
def test_qvhighlights_table(qvh, tmp_path, capsys):  # noqa: F811
    path = submission(tmp_path / "val_preds.jsonl", {1: [0.1, 0.9, 0.8, 0.2, 0.0], 2: [0.0, 0.5, 0.6, 0.7, 0.8]})
    check_row(capsys, "cfsum-3", "--dataset", qvh / "hub", "--config", "annotations", "--split", "validation",
              "--predictions", path, "--format", "moment_detr")


@pytest.fixture(scope="module")
def vmsmo(tmp_path_factory):
    from builders.core.base import build
    from builders.core.extraction import builder_job
    from builders.vmsmo import VMSMO
    from test_vmsmo import vmsmo_release

    root = tmp_path_factory.mktemp("vmsmo-tables")
    build(VMSMO(vmsmo_release(root / "VMSMO"), visual="colorhist", text="minilm"), out=root / "hub",
          work=root / "work", job=builder_job(workers=0), progress=False)
    return root / "hub"


@pytest.mark.slow  # builds a release first
@pytest.mark.parametrize("table, baseline", [("mhms-1", "first"), ("mhms-2", "first"), ("mhms-3", "lead3")])
def test_vmsmo_tables(table, baseline, vmsmo, capsys):
    check_row(capsys, table, "--dataset", vmsmo, "--split", "train", "--baseline", baseline)


@pytest.fixture(scope="module")
def dailymail(tmp_path_factory):
    from builders.core.base import build
    from builders.core.extraction import builder_job
    from builders.mmavs import MMAVS
    from test_mmavs import dailymail_release

    root = tmp_path_factory.mktemp("dailymail-tables")
    dailymail_release(root / "MM-AVS")
    build(MMAVS("dailymail", root / "MM-AVS", visual="colorhist", text="minilm"), out=root / "hub",
          work=root / "work", job=builder_job(workers=0), progress=False)
    return root / "hub"


@pytest.mark.slow  # builds a release first
@pytest.mark.parametrize("table", ["a2summ-1-dailymail", "mhms-4-dailymail", "mhms-5", "mhms-6"])
def test_dailymail_tables(table, dailymail, capsys):
    check_row(capsys, table, "--dataset", dailymail, "--baseline", "uniform")


@pytest.fixture(scope="module")
def cnn(tmp_path_factory):
    from builders.core.base import build
    from builders.core.extraction import builder_job
    from builders.mmavs import MMAVS
    from news_fixtures import write_cnn_sample

    root = tmp_path_factory.mktemp("cnn-tables")
    paragraphs = ["Storm hits the coast. Thousands lose power.", "Officials urge caution."]
    for k in range(3):
        write_cnn_sample(root / "cnn" / str(240 + k), [50 + k, 60 + k, 70 + k], ["Storm hits", "Power is out"], paragraphs)
    build(MMAVS("cnn", root / "cnn", visual="colorhist", text="minilm"), out=root / "hub", work=root / "work",
          job=builder_job(workers=0), progress=False)
    return root / "hub"


@pytest.mark.slow  # builds a release first
@pytest.mark.parametrize("table", ["a2summ-1-cnn", "mhms-4-cnn"])
def test_cnn_tables(table, cnn, capsys):
    check_row(capsys, table, "--dataset", cnn, "--baseline", "lead3")


@pytest.mark.slow
def test_wikihow_table(built, capsys):  # noqa: F811
    root, _ = built
    check_row(capsys, "hiersum-5", "--dataset", root / "hub", "--config", "wikihow-colorhist", "--baseline", "random")


def test_every_table_of_models_tables_is_checked_here_or_in_another_file():
    from models.tables import TABLES

    elsewhere = {"vdf-2", "vdf-3", "vdf-few-shot"}  # tests/test_vdf_train.py (they train VDF on its small build)
    assert set(TABLES) == set(PAPER) | elsewhere and not set(PAPER) & elsewhere
