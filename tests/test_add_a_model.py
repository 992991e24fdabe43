"""docs/add-a-model.md is a working model folder: its code blocks written as files, its commands run as printed
(on a small BLiSS-schema build instead of hub/bliss-sample)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from hub_fixtures import tiny_bliss

from models import evaluate, registry, train

DOC = Path(__file__).resolve().parents[1] / "docs" / "add-a-model.md"


def doc_files() -> dict[str, str]:
    text = DOC.read_text(encoding="utf-8")
    return dict(re.findall(r"File `([\w/]+\.py)`:\n\n```python\n(.*?)```", text, re.S))


def doc_commands() -> list[list[str]]:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"## Train and evaluate it.*?```bash\n(.*?)```", text, re.S).group(1)
    return [shlex.split(line.removeprefix("PYTHONPATH=. ")) for line in block.strip().splitlines()]


@pytest.fixture
def folder(tmp_path, monkeypatch):
    files = doc_files()
    assert set(files) == {"tinysum/__init__.py", "tinysum/model.py", "tinysum/defaults.py"}
    for name, code in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))  # PYTHONPATH=.
    return tmp_path


def run_doc(argv: list[str], hub: Path, root: Path) -> int:
    assert argv[:2] == ["python", "-m"]
    args = [str(hub) if a == "hub/bliss-sample" else str(root / a) if a.startswith("runs/") else a for a in argv[3:]]
    return {"models.train": train.main, "models.evaluate": evaluate.main}[argv[2]](args)


def test_the_documented_folder_trains_with_its_defaults_and_evaluates(folder, tmp_path, capsys):
    hub = tiny_bliss(tmp_path / "tiny-bliss")
    commands = doc_commands()
    assert [c[2] for c in commands] == ["models.train", "models.evaluate", "models.train"]
    assert run_doc(commands[0], hub, tmp_path) == 0
    config = json.loads((tmp_path / "runs/tinysum/config.json").read_text())
    assert config["family"] == "bliss" and config["defaults_from"] == "tinysum.defaults FAMILIES['bliss']"
    assert config["train"] == {"batch_size": 2, "lr": 1e-3, "weight_decay": 0.0, "epochs": 2,  # recipe, bliss, --epochs
                               "scheduler": None, "warmup_epochs": 0}  # the loop's own defaults
    assert config["model_hparams"] == {"hidden": 16, "dropout": 0.1}
    lines = [json.loads(x) for x in (tmp_path / "runs/tinysum/metrics.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in lines] == [1, 2] and {"frame_labels", "sentence_labels", "total"} <= set(lines[0]["train"])
    capsys.readouterr()
    assert run_doc(commands[1], hub, tmp_path) == 0
    printed = capsys.readouterr().out
    assert "(tinysum, best checkpoint" in printed and "protocol multimodal" in printed and "rougeLsum" in printed
    assert run_doc(commands[2], hub, tmp_path) == 0  # the bare factory: generic settings, the network's defaults
    bare = json.loads((tmp_path / "runs/bare/config.json").read_text())
    assert bare["defaults_from"] == "generic defaults" and bare["model_hparams"] == {} and bare["train"]["batch_size"] == 4


def test_another_family_gets_the_recipe_and_a_folder_dropped_in_a_package_is_found(folder, tmp_path, capsys):
    e = registry.entry("tinysum")
    with pytest.raises(registry.UnlistedFamily) as said:  # UNLISTED = "recipe": said (train logs it), then the recipe
        e.defaults("tvsum")
    assert said.value.recipe == {"train": {"batch_size": 4, "lr": 1e-3, "weight_decay": 0.0, "epochs": 30},
                                 "model": {"hidden": 32, "dropout": 0.1}}
    assert e.defaults("bliss")["model"] == {"hidden": 16, "dropout": 0.1}
    zoo = tmp_path / "zoo"  # "dropping a folder": a package's sub-folders that declare NETWORK are models
    (zoo / "tiny").mkdir(parents=True)
    (zoo / "__init__.py").write_text("")
    (zoo / "empty").mkdir()
    (zoo / "empty" / "__init__.py").write_text('"""not a model: no NETWORK"""\n')
    (zoo / "tiny" / "__init__.py").write_text(doc_files()["tinysum/__init__.py"])
    found = registry.discover(zoo, "zoo")
    assert list(found) == ["tiny"] and found["tiny"].network == "tinysum.model:TinySum"


def test_model_names_that_are_no_model_are_usage_errors(folder, tmp_path, capsys):
    hub = tiny_bliss(tmp_path / "tiny-bliss")
    for name, said in (("tinysumm", "unknown model 'tinysumm'"), ("json", "declares no NETWORK"),
                       ("tinysum.model:nothing", "cannot load model factory")):
        assert train.main(["--model", name, "--dataset", str(hub), "--out", str(tmp_path / "x")]) == 2
        assert said in capsys.readouterr().err
