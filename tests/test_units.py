"""One unit rule for models.evaluate's table (--baseline, --predictions, --run): the papers' units; --json raw."""

import json

import pytest
from test_evaluate import _tiny_dataset

from models.evaluate import main, parse_args
from models.units import is_percent, printed


def table(capsys) -> dict[str, str]:
    lines = capsys.readouterr().out.splitlines()[1:]
    return dict(line.split() for line in lines)


@pytest.mark.parametrize("name, value, shown", [
    ("f1", 0.634, "63.40"), ("rougeLsum", 0.5247, "52.47"), ("keyframe_cos", 0.702, "70.20"), ("map50", 0.638, "63.80"),
    ("HL-min-VeryGood-mAP", 0.40556, "40.56"), ("tvsum_top5_mAP", 0.81, "81.00"), ("BLEU-4", 0.0512, "5.12"),
    ("kendall_tau", 0.137, "0.137"), ("spearman_rho", 0.165, "0.165"), ("map", 0.693, "0.693"),
    ("r10@1", 0.582, "0.582"), ("CIDEr", 1.234, "1.234"),
])
def test_each_metric_prints_as_its_paper_prints_it(name, value, shown):
    assert printed(name, value) == shown


def test_baseline_and_predictions_print_the_same_units_and_json_stays_raw(tmp_path, capsys):
    hub = _tiny_dataset(tmp_path / "hub")
    assert main(["--dataset", str(hub), "--baseline", "uniform", "--json"]) == 0
    raw = json.loads(capsys.readouterr().out)
    assert main(["--dataset", str(hub), "--baseline", "uniform"]) == 0
    shown = table(capsys)
    assert 0 <= raw["f1"] <= 1 and shown["f1"] == f"{100 * raw['f1']:.2f}" and shown["kendall_tau"] == "0.000"
    # the same constant scores as another project's prediction file (one per sampled frame): the same table
    preds = tmp_path / "preds.json"
    preds.write_text(json.dumps({"v": [0.5] * 5}))
    assert main(["--dataset", str(hub), "--split", "test", "--predictions", str(preds), "--format", "mrhisum"]) == 0
    assert table(capsys) == shown
    assert main(["--dataset", str(hub), "--split", "test", "--predictions", str(preds), "--format", "mrhisum",
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == raw


def test_help_says_json_keeps_raw_fractions(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    assert "raw value (fractions" in " ".join(capsys.readouterr().out.split())
