"""models.train --model vdf on a small How2-MCLS build: direct VDF, the triple-stage framework (stage by stage and
all at once, each stage's checkpoints kept), the knowledge-distillation loss, the encoder swap of stage 3, and
models.evaluate --run printing the paper's metrics; docs/experiments.md's VDF tables (vdf-2, vdf-3, vdf-few-shot)
run by their commands, each row under the paper's header in its units."""

from __future__ import annotations

import json

import pytest
import torch
from torch.nn import functional as F

from builders.core.base import build
from builders.core.extraction import builder_job
from builders.how2_mcls import How2Release
from models import evaluate, train
from models.vdf.model import VDF
from models.vdf.stages import Plan, kd_loss, stage3_model, transferred
from tests.how2_fixtures import write_how2_release

TINY = ["--hparam", "d_model=16", "--hparam", "encoder_layers=2", "--hparam", "decoder_layers=1", "--hparam", "heads=2",
        "--hparam", "ffn_dim=32", "--hparam", "num_beams=2", "--hparam", "max_summary_len=12"]
PAPER_COLUMNS = ["BLEU-1", "BLEU-2", "BLEU-3", "BLEU-4", "ROUGE-1", "ROUGE-2", "ROUGE-L", "METEOR", "CIDEr"]


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    root = tmp_path_factory.mktemp("how2-vdf")
    expect = write_how2_release(root / "how2", n_train=10, n_ms=6)
    # --few-shot 4 fits the tiny release (config mcls-4); 1000, the paper's 1k, does not: left out with a notice
    build(How2Release(root / "how2", few_shot="4,1000"), out=root / "hub", work=root / "work",
          job=builder_job(workers=0), progress=False)
    return root / "hub", expect


def vdf_train(hub, out, *extra):
    return train.main(["--model", "vdf", "--dataset", str(hub), "--config", "mcls", "--out", str(out), *TINY, *extra])


def check_table(capsys, run, table: str) -> None:
    """``models.evaluate --run RUN --table TABLE``: VDF's header (Tables 2-3), x100 with two decimals, CIDEr three."""
    capsys.readouterr()
    assert evaluate.main(["--run", str(run), "--table", table]) == 0
    header, row = (line.split(" | ") for line in capsys.readouterr().out.splitlines()[-2:])
    assert header == PAPER_COLUMNS
    assert [len(v.split(".")[1]) for v in row] == [2] * 8 + [3]


@pytest.mark.slow
def test_direct_vdf_trains_and_resumes(hub, tmp_path, capsys):
    hub, _ = hub
    out = tmp_path / "vdf"
    assert vdf_train(hub, out, "--epochs", "1") == 0
    assert {p.name for p in out.iterdir()} >= {"config.json", "metrics.jsonl", "checkpoint-best.pt", "checkpoint-last.pt",
                                               "tokenizer-en", "tokenizer-pt"}
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "vdf" and config["stages"] == ["direct"] and config["train"]["lr"] == 1.5e-4
    assert config["model_hparams"]["d_model"] == 16 and config["run_hparams"]["num_beams"] == 2
    assert vdf_train(hub, out, "--epochs", "2") == 0  # more epochs: resumed after epoch 1, not restarted
    assert "resuming" in capsys.readouterr().out
    lines = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [x["epoch"] for x in lines] == [1, 2] and all(x["validation"]["loss"] > 0 for x in lines)
    assert vdf_train(hub, out, "--epochs", "2", "--hparam", "dropout=0.2") == 2  # another run in the same --out
    assert "differs in: model_hparams" in capsys.readouterr().err
    whole = tmp_path / "whole"  # interrupted after epoch 1 and resumed == two epochs in one go, bit for bit
    assert vdf_train(hub, whole, "--epochs", "2") == 0
    resumed = torch.load(out / "checkpoint-last.pt", weights_only=True)["model"]
    for key, value in torch.load(whole / "checkpoint-last.pt", weights_only=True)["model"].items():
        assert torch.equal(value, resumed[key]), key


@pytest.mark.slow
def test_evaluate_prints_the_papers_metrics_and_writes_the_summaries(hub, tmp_path, capsys, monkeypatch):
    hub, expect = hub
    out = tmp_path / "vdf"
    assert vdf_train(hub, out, "--epochs", "1") == 0
    capsys.readouterr()
    assert evaluate.main(["--run", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "protocol generation" in printed and f"examples {len(expect['mcls']['test'])}" in printed
    assert [line.split()[0] for line in printed.splitlines()[1:]] == PAPER_COLUMNS
    predictions = [json.loads(x) for x in (out / "predictions-test.jsonl").read_text().splitlines()]
    assert sorted(p["id"] for p in predictions) == sorted(expect["mcls"]["test"])
    assert all(p["reference"] == expect["summary"][p["id"]] for p in predictions)
    assert json.loads((out / "metrics-test.json").read_text())["METEOR"] >= 0
    check_table(capsys, out, "vdf-2")  # VDF Table 2 as a row (docs/experiments.md)
    assert evaluate.main(["--dataset", str(hub), "--config", "mcls", "--baseline", "random"]) == 2
    assert "generation protocol" in capsys.readouterr().err
    (out / "predictions-test.jsonl").unlink()
    monkeypatch.setenv("PATH", str(tmp_path / "no-java-here"))  # METEOR's Java is gone: an error, no partial table
    assert evaluate.main(["--run", str(out)]) == 2
    err = capsys.readouterr().err
    assert "Java runtime" in err and "summaries are written" in err and (out / "predictions-test.jsonl").exists()


def test_stages_need_the_stages_before_them_and_runs_do_not_mix(hub, tmp_path, capsys):
    hub, _ = hub
    assert vdf_train(hub, tmp_path / "ts", "--stage", "2", "--epochs", "1") == 2
    assert "run --stage 1" in capsys.readouterr().err
    assert vdf_train(hub, tmp_path / "ts", "--stage", "1", "--epochs", "1") == 0
    assert vdf_train(hub, tmp_path / "ts", "--stage", "3", "--epochs", "1") == 2
    assert "stage-2" in capsys.readouterr().err
    assert vdf_train(hub, tmp_path / "ts", "--epochs", "1") == 2  # a direct run into a staged run's directory
    assert "staged VDF run" in capsys.readouterr().err
    assert vdf_train(hub, tmp_path / "ts", "--stage", "2", "--epochs", "1", "--hparam", "kd_layer=3") == 2
    assert "kd_layer must be 0" in capsys.readouterr().err
    assert train.main(["--model", "a2summ", "--dataset", str(hub), "--out", str(tmp_path / "x"), "--stage", "1"]) == 2


def test_pretrained_weights_and_tokenizer_by_local_path(hub, tmp_path):
    """--hparam pretrained=DIR: an MBart checkpoint and its tokenizer saved with save_pretrained, no download."""
    from datasets import load_dataset
    from transformers import MBartConfig, MBartForConditionalGeneration

    from models.vdf.data import word_tokenizer

    hub, _ = hub
    rows = load_dataset(str(hub), "mcls", split="train")
    tok = word_tokenizer(list(rows["transcript_pt"]) + list(rows["transcript_en"]) + list(rows["summary"]))
    torch.manual_seed(0)
    MBartForConditionalGeneration(MBartConfig(
        vocab_size=len(tok), d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=1026)
    ).save_pretrained(tmp_path / "mbart")
    tok.save_pretrained(str(tmp_path / "mbart"))
    out = tmp_path / "vdf"
    assert vdf_train(hub, out, "--epochs", "1", "--hparam", f"pretrained={tmp_path / 'mbart'}") == 0
    state = torch.load(out / "checkpoint-best.pt", weights_only=True)["model"]
    assert state["decoder.embed_tokens.weight"].shape == (len(tok), 16) and "fgf.forget.weight" in state
    assert (out / "tokenizer-pt" / "tokenizer.json").read_text() == (tmp_path / "mbart" / "tokenizer.json").read_text()


def tiny_pair():
    torch.manual_seed(0)
    kw = dict(d_model=16, encoder_layers=2, decoder_layers=1, heads=2, ffn_dim=32, video_dim=8, max_text_len=20,
              max_video_len=8, max_summary_len=10)
    return VDF(25, 25, shared=True, **kw), VDF(30, 25, **kw).encoder, kw


@pytest.mark.parametrize("layer", [0, 1, 2])
def test_kd_loss_is_smooth_l1_to_the_teachers_states_pooled_to_the_portuguese_length(layer):
    stage1, student, _ = tiny_pair()
    teacher = stage1.encoder.eval().requires_grad_(False)
    student.eval()
    en = torch.tensor([[5, 6, 7, 8, 9, 10, 2], [5, 6, 7, 2, 1, 1, 1]])
    pt = torch.tensor([[11, 12, 13, 2], [11, 12, 2, 1]])
    batch = {"ids": ["a", "b"], "en_ids": en, "en_mask": en != 1, "pt_ids": pt, "pt_mask": pt != 1}
    loss = kd_loss(student, teacher, batch, layer)

    def states(enc, ids, mask):
        if layer == 0:
            return enc.embed_tokens(ids)
        out = enc(input_ids=ids, attention_mask=mask, output_hidden_states=True)
        return out.last_hidden_state if layer == 2 else out.hidden_states[layer]

    t, s = states(teacher, en, en != 1), states(student, pt, pt != 1)
    # example a: 7 English tokens averaged into 4 windows; example b: 4 into 3 (adaptive pooling's windows)
    windows = {0: [(0, 2), (1, 4), (3, 6), (5, 7)], 1: [(0, 2), (1, 3), (2, 4)]}
    target = torch.cat([torch.stack([t[i, a:b].mean(0) for a, b in windows[i]]) for i in (0, 1)])
    expected = F.smooth_l1_loss(torch.cat([s[0, :4], s[1, :3]]), target)
    assert torch.allclose(loss, expected, atol=1e-6)
    loss.backward()
    grads = {k for k, p in student.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert "embed_tokens.weight" in grads and (("layers.1.fc1.weight" in grads) == (layer == 2))
    assert (("layer_norm.weight" in grads) == (layer == 2)) and all(p.grad is None for p in teacher.parameters())


@pytest.mark.parametrize("layer", [0, 1, 2])
def test_stage3_swaps_in_the_distilled_encoder_as_the_released_code_composes_it(tmp_path, layer):
    stage1, student, kw = tiny_pair()
    with torch.no_grad():
        for p in student.parameters():
            p.add_(1.0)  # make every student tensor differ from the stage-1 encoder's
    (tmp_path / "stage1").mkdir(), (tmp_path / "stage2").mkdir()
    torch.save({"model": stage1.state_dict()}, tmp_path / "stage1" / "checkpoint-best.pt")
    torch.save({"model": student.state_dict()}, tmp_path / "stage2" / "checkpoint-best.pt")
    plan = Plan(tmp_path, "hub", "mcls", "how2", {}, kw, {"kd_layer": layer}, 0, "cpu", 0.0, None, False)
    model = stage3_model(plan, {"en": range(25), "pt": range(30)})
    pick = transferred(layer, 2)
    for key, value in model.encoder.state_dict().items():
        source = student.state_dict()[key] if pick(key) else stage1.encoder.state_dict()[key]
        assert torch.equal(value, source), key
    taken = {k for k in model.encoder.state_dict() if pick(k)}
    assert ("layers.0.fc1.weight" in taken) == (layer >= 1) and ("layers.1.fc1.weight" in taken) == (layer == 2)
    assert ("layer_norm.weight" in taken) == (layer == 2) and "embed_tokens.weight" in taken
    for name in ("decoder.layers.0.fc1.weight", "fgf.forget.weight", "fusion_decoder.fusion.merge.weight", "lm_head.weight"):
        assert torch.equal(model.state_dict()[name], stage1.state_dict()[name]), name
    assert model.encoder.embed_tokens.weight.shape == (30, 16)  # the Portuguese vocabulary


@pytest.mark.slow
def test_all_three_stages_run_two_epochs_and_evaluate_prints_the_papers_metrics(hub, tmp_path, capsys):
    """The issue's "done": --stage all on a small build, two epochs each, every stage's checkpoints kept."""
    hub, expect = hub
    for kd, out in (("2", tmp_path / "ts-e"), ("0", tmp_path / "ts-v")):  # encoder-level and vocab-level KD
        assert train.main(["--model", "vdf", "--dataset", str(hub), "--config", "mcls-4", "--out", str(out), "--stage",
                           "all", "--epochs", "2", "--hparam", f"kd_layer={kd}", *TINY]) == 0
        for stage in ("stage1", "stage2", "stage3"):
            names = {p.name for p in (out / stage).iterdir()}
            assert {"checkpoint-best.pt", "checkpoint-last.pt", "metrics.jsonl", "config.json"} <= names, stage
            assert len((out / stage / "metrics.jsonl").read_text().splitlines()) == 2
        assert json.loads((out / "config.json").read_text())["stages"] == ["1", "2", "3"]
        stage1 = json.loads((out / "stage1" / "config.json").read_text())
        assert stage1["stage"] == "1" and stage1["skipped"]["train"] == 0
        assert json.loads((out / "stage2" / "config.json").read_text())["stage1_checkpoint"]
        capsys.readouterr()
        assert evaluate.main(["--run", str(out)]) == 0
        printed = capsys.readouterr().out
        assert "vdf, stage 3" in printed and [line.split()[0] for line in printed.splitlines()[1:]] == PAPER_COLUMNS
    assert train.main(["--model", "vdf", "--dataset", str(hub), "--config", "mcls-4", "--out", str(tmp_path / "ts-e"),
                       "--stage", "all", "--epochs", "2", "--hparam", "kd_layer=2", *TINY]) == 0
    assert "already trained 2 of 2" in capsys.readouterr().out  # rerun: nothing redone


@pytest.mark.slow
def test_table_vdf_3_is_the_triple_stage_run_with_how2_ms(hub, tmp_path, capsys):
    """docs/experiments.md, VDF Table 3 (MS-augmented MCLS, VDF-TS): ``--stage all`` (stage 1 on How2-MS), then
    ``--table vdf-3``."""
    hub, _ = hub
    out = tmp_path / "vdf-ts"
    assert train.main(["--model", "vdf", "--dataset", str(hub), "--config", "mcls", "--stage", "all", "--out",
                       str(out), "--epochs", "1", *TINY]) == 0
    stage1 = json.loads((out / "stage1" / "config.json").read_text())
    assert stage1["run_hparams"]["support_config"] == "ms"  # stage 1 trains on How2-MS
    assert json.loads((out / "stage3" / "config.json").read_text())["config"] == "mcls"
    check_table(capsys, out, "vdf-3")


@pytest.mark.slow
def test_table_vdf_few_shot_on_the_subset_a_tiny_release_has(hub, tmp_path, capsys):
    """docs/experiments.md, VDF sec. 3.7: a ``--few-shot`` config (here mcls-4; the paper's 1k does not fit the
    tiny release and was left out), ``--stage all`` on it, then ``--table vdf-few-shot``."""
    hub, _ = hub
    configs = json.loads((hub / "build.json").read_text())["configs"]
    assert sorted(configs) == ["mcls", "mcls-4", "ms"] and configs["mcls"]["few_shot_left_out"]["sizes"] == [1000]
    out = tmp_path / "vdf-4"
    assert train.main(["--model", "vdf", "--dataset", str(hub), "--config", "mcls-4", "--stage", "all", "--out",
                       str(out), "--epochs", "1", *TINY]) == 0
    assert json.loads((out / "stage3" / "config.json").read_text())["config"] == "mcls-4"
    check_table(capsys, out, "vdf-few-shot")
