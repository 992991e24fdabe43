"""The front door: the vsumhub command, --help / --version of every entry point without heavy imports,
--no-progress reaching the libraries, and builds that declare their family and protocol."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from hub_fixtures import tiny_row

from builders.core.base import Builder, build
from builders.core.schema import bliss_features
from vsumhub import cli as front

ROOT = Path(__file__).resolve().parents[1]
MAT = ROOT.parent / "shared/data/tvsum/ydata-tvsum50.mat"
# Imported by --help would mean seconds of CPU before any output (numpy and pyarrow are a tenth of a second each).
HEAVY = ("torch", "datasets", "pandas", "scipy", "transformers", "dask", "distributed", "h5py", "sklearn",
         "matplotlib", "av", "open_clip", "sentence_transformers", "faster_whisper", "huggingface_hub", "PIL",
         "yt_dlp", "jinja2", "torchvision", "ctranslate2")
DATASETS = sorted(front.datasets())
ENTRY_POINTS = ([f"builders.{d}" for d in DATASETS]
                + ["builders.publish", "builders.export", "builders.bliss.sample", "extractors.run", "extractors.extract",
                   "extractors.list", "models.train", "models.evaluate", "vsumhub"])
PROBE = """
import contextlib, io, json, runpy, sys, time
sys.path.insert(0, {root!r})
out, t0 = io.StringIO(), time.process_time()
codes = []
for flag in ("--help", "--version"):
    sys.argv = [{module!r}, *{extra!r}, flag]
    with contextlib.redirect_stdout(out):
        try:
            runpy.run_module({module!r}, run_name="__main__", alter_sys=True)
        except SystemExit as e:
            codes.append(e.code)
    if flag == "--help":
        heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))
print(json.dumps({{"codes": codes, "heavy": heavy, "cpu": time.process_time() - t0, "out": out.getvalue()}}))
"""


def probe(module: str, *extra: str) -> dict:
    code = PROBE.format(root=str(ROOT), module=module, extra=list(extra), heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize("module", ENTRY_POINTS)
def test_help_and_version_import_nothing_heavy(module):
    """--help answers from the parser alone: what it imported is measured, not its wall time."""
    found = probe(module)
    assert found["codes"] == [0, 0], found["out"][-500:]
    assert "usage:" in found["out"] and f"vsumhub {front.cli.version()}" in found["out"]
    assert found["heavy"] == [], f"{module} --help imported {found['heavy']}"


def test_the_light_commands_spell_constants_as_the_modules_they_save_loading():
    from models import baselines, data, evaluate, protocols, train

    assert train.KEY_SENTENCES == data.KEY_SENTENCES and evaluate.BASELINES == baselines.BASELINES
    assert list(train.SELECTABLE) == list(protocols.SELECTABLE)


def test_every_bliss_source_answers_help_without_heavy_imports():
    for source in ("raw", "a2summ", "behance", "streamhover"):
        found = probe("builders.bliss", "--source", source)
        assert found["codes"] == [0, 0] and found["heavy"] == [], (source, found["heavy"])


def test_the_probe_sees_a_heavy_import(tmp_path):
    """The check above would catch an entry point that imports datasets before parsing."""
    found = probe("datasets.commands.datasets_cli")
    assert "datasets" in found["heavy"]


def run_vsumhub(*args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vsumhub", *args], capture_output=True, text=True, cwd=cwd or ROOT,
                          env=env, timeout=600)


def test_vsumhub_help_lists_every_command_and_each_is_its_modules_parser():
    top = run_vsumhub("--help")
    assert top.returncode == 0
    for command in ("build", "extract", "run", "publish", "export", "train", "evaluate", "list"):
        assert f"vsumhub {command}" in top.stdout
    for args, usage in ((["build", "tvsum", "--help"], "usage: vsumhub build tvsum"),
                        (["run", "--help"], "usage: vsumhub run"),
                        (["extract", "--help"], "usage: vsumhub extract"),
                        (["publish", "--help"], "usage: vsumhub publish"),
                        (["export", "--help"], "usage: vsumhub export")):
        done = run_vsumhub(*args)
        assert done.returncode == 0 and done.stdout.startswith(usage), (args, done.stdout[:200], done.stderr[-500:])
    assert "--annotations" in run_vsumhub("build", "tvsum", "--help").stdout  # the builder's own flags


def test_vsumhub_usage_errors_exit_2():
    assert run_vsumhub("frobnicate").returncode == 2
    unknown = run_vsumhub("build", "nosuchdataset")
    assert unknown.returncode == 2 and "unknown dataset 'nosuchdataset'" in unknown.stderr and "tvsum" in unknown.stderr
    assert run_vsumhub("build").returncode == 2
    assert run_vsumhub("list", "things").returncode == 2


def test_vsumhub_list_names_every_dataset_extractor_and_model():
    done = run_vsumhub("list")
    assert done.returncode == 0
    datasets = [d for d in (ROOT / "builders").iterdir() if (d / "__main__.py").is_file() and d.name not in front.NOT_DATASETS]
    assert len(datasets) >= 10 and all(f"\n{d.name} " in done.stdout for d in datasets)
    for extractor in ("clip", "colorhist", "minilm", "whisper"):
        assert f"\n{extractor} " in done.stdout
    for model in ("a2summ", "hiersum", "cfsum", "mhms", "vdf"):
        assert f"\n{model} " in done.stdout
    only = run_vsumhub("list", "models")
    assert only.returncode == 0 and "tvsum" not in only.stdout and "a2summ" in only.stdout


@pytest.mark.slow
@pytest.mark.skipif(not MAT.exists(), reason=f"{MAT} absent (the ../shared/data folder is not here)")
def test_a_real_build_and_evaluation_through_the_front_door(tmp_path):
    hub = tmp_path / "hub"
    built = run_vsumhub("build", "tvsum", "--annotations", str(MAT), "--out", str(hub), "--no-progress")
    assert built.returncode == 0, built.stderr[-2000:]
    record = json.loads((hub / "build.json").read_text())
    assert (record["family"], record["protocol"]) == ("tvsum", "frame_importance")
    assert "Family `tvsum`, evaluation protocol `frame_importance`" in (hub / "README.md").read_text()
    scored = run_vsumhub("evaluate", "--dataset", str(hub), "--baseline", "human", "--json")
    assert scored.returncode == 0, scored.stderr[-2000:]
    assert json.loads(scored.stdout)["kendall_tau"] == pytest.approx(0.177, abs=0.001)  # Otani et al.'s human tau
    assert "notice:" not in scored.stderr  # the build declares its protocol: nothing is guessed


def test_an_extraction_through_the_front_door(tmp_path):
    from collectors.synthetic import write_video

    video = write_video(tmp_path / "v.mp4", (np.full((36, 48, 3), (40 * i) % 256, np.uint8) for i in range(30)), fps=10)
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text(json.dumps({"id": "v", "source": "local", "media": {"video": str(video)}, "duration": 3.0,
                                    "status": "ok"}) + "\n")
    one = run_vsumhub("extract", str(video), "--extractor", "colorhist", "--out", str(tmp_path / "one.npy"),
                      "--no-progress")
    assert one.returncode == 0, one.stderr[-2000:]
    assert np.load(tmp_path / "one.npy").shape == (3, 256)
    job = run_vsumhub("run", "--manifest", str(manifest), "--extractors", "colorhist", "--out", str(tmp_path / "f"),
                      "--workers", "0", "--no-progress")
    assert job.returncode == 0, job.stderr[-2000:]
    assert json.loads((tmp_path / "f" / "run.json").read_text())["totals"]["ok"] == 1


def test_no_progress_reaches_the_libraries_and_their_workers(monkeypatch):
    from common import cli

    for variable in ("HF_HUB_DISABLE_PROGRESS_BARS", "HF_DATASETS_DISABLE_PROGRESS_BARS"):
        monkeypatch.delenv(variable, raising=False)
    import transformers.utils.logging as tlog
    from huggingface_hub.utils import are_progress_bars_disabled, enable_progress_bars

    enable_progress_bars()
    tlog.enable_progress_bar()
    try:
        cli.silence_progress()
        assert not tlog.is_progress_bar_enabled()  # the "Loading weights" bar of transformers
        assert are_progress_bars_disabled()
        assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"  # worker processes started later read it
    finally:
        enable_progress_bars()
        tlog.enable_progress_bar()


# ---------------------------------------------------------------- builds declare what training needs


class TinyStreams(Builder):
    """Six BLiSS-schema clips through the real runner: the build declares family and protocol."""

    name, source, input = "tiny-streams", "test", "rows"
    family, protocol = "bliss", "multimodal"

    def items(self):
        return (SimpleNamespace(id=f"v{i}", i=i) for i in range(6))

    def splits(self, item):
        return ("train", "train", "train", "validation", "test", "test")[item.i]

    def features(self, dims):
        return {"vis-txt": bliss_features("vis", 6, "txt", 5)}

    def examples(self, item, tracks):
        return [tiny_row(item.i, T=6 + item.i, N=2 + item.i % 3, rng=np.random.default_rng(item.i))]

    def card_facts(self):
        return {"pretty_name": "Tiny streams", "summary": "s", "sources": "s", "labels": "l", "license": "mit",
                "license_text": "MIT", "task_categories": ["summarization"], "citation": ""}


def test_a_renamed_build_trains_and_evaluates_identically(tmp_path, capsys):
    """The family (hyper-parameter defaults) and protocol come from build.json, never from the directory's
    name: a build moved to a directory named like another dataset trains and scores the same."""
    from models import evaluate, train

    hub = tmp_path / "hub" / "tiny-streams"
    assert build(TinyStreams(), hub, tmp_path / "work", progress=False).status == 0
    record = json.loads((hub / "build.json").read_text())
    assert record["family"] == "bliss" and record["configs"]["vis-txt"]["protocol"] == "multimodal"
    renamed = tmp_path / "elsewhere" / "summe-tvsum-my-streams"  # names that once picked other defaults
    shutil.copytree(hub, renamed)
    results = []
    for where in (hub, renamed):
        out = tmp_path / "runs" / where.name
        assert train.main(["--model", "a2summ", "--dataset", str(where), "--out", str(out), "--epochs", "1",
                           "--hparam", "hidden=16", "--hparam", "num_layers=1", "--no-progress"]) == 0
        config = json.loads((out / "config.json").read_text())
        capsys.readouterr()
        assert evaluate.main(["--run", str(out), "--json"]) == 0
        metrics = json.loads(capsys.readouterr().out)
        lines = [{k: v for k, v in json.loads(line).items() if "time" not in k and "second" not in k}
                 for line in (out / "metrics.jsonl").read_text().splitlines()]
        results.append(({k: config[k] for k in ("family", "train", "model_hparams", "protocol")}, lines, metrics))
    assert results[0][0]["family"] == "bliss" and results[0][0]["protocol"] == "multimodal"
    assert results[0] == results[1]


def test_an_older_build_without_declarations_is_read_by_the_old_rules_with_a_notice(tmp_path, capsys):
    from models.protocols import detect
    from models.runs import dataset_family

    hub = tmp_path / "tvsum-old"
    hub.mkdir()
    (hub / "build.json").write_text(json.dumps({"dataset": "tvsum-old", "configs": {"c": {}}}))
    assert dataset_family(hub, "c") == "tvsum"
    assert detect(["user_summary", "change_points", "n_frames"], hub, "c") == "frame_importance"
    err = capsys.readouterr().err
    assert err.count("notice:") == 2 and "declares no family" in err and "declares no protocol" in err
    dataset_family(hub, "c")
    assert capsys.readouterr().err == ""  # once per build


@pytest.mark.slow
def test_train_evaluate_publish_and_export_through_the_front_door(tmp_path):
    """The subcommands not walked above, each for real on a small build: train, evaluate --run, publish --dry-run
    (offline), export."""
    hub = tmp_path / "hub" / "tiny-streams"
    assert build(TinyStreams(), hub, tmp_path / "work", progress=False).status == 0
    run = tmp_path / "run"
    trained = run_vsumhub("train", "--model", "a2summ", "--dataset", str(hub), "--out", str(run), "--epochs", "1",
                          "--hparam", "hidden=16", "--hparam", "num_layers=1", "--no-progress")
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert json.loads((run / "config.json").read_text())["family"] == "bliss"
    scored = run_vsumhub("evaluate", "--run", str(run), "--json")
    assert scored.returncode == 0 and "keyframe_cos" in json.loads(scored.stdout), scored.stderr[-2000:]
    offline = {**os.environ, "HF_HUB_OFFLINE": "1"}
    preview = run_vsumhub("publish", str(hub), "--repo-id", "my-org/tiny-streams", "--dry-run", env=offline)
    assert preview.returncode == 0, preview.stderr[-2000:]
    assert "not compared with the Hub (offline)" in preview.stdout and "build.json" in preview.stdout
    exported = run_vsumhub("export", str(hub), "--config", "vis-txt", "--format", "a2summ", "--out", str(tmp_path / "a2"))
    assert exported.returncode == 0, exported.stderr[-2000:]
    assert (tmp_path / "a2" / "annotation" / "test.json").is_file() and (tmp_path / "a2" / "export.json").is_file()
    again = run_vsumhub("export", str(hub), "--config", "vis-txt", "--format", "a2summ", "--out", str(tmp_path / "a2"))
    assert again.returncode == 2 and len(again.stderr.strip().splitlines()) == 1  # a non-empty --out is refused
