"""QVHighlights with media (synthetic segments with sound) through the extraction job, CFSum trained on the
result, and Moment-DETR's released feature files imported as released."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import load_dataset

from builders.core.base import build
from builders.core.extraction import builder_job
from builders.qvhighlights import QVHighlights, main
from collectors.synthetic import write_video
from models.evaluate import main as evaluate
from models.train import main as train
from tests.test_qvhighlights import write_release

SECONDS = 12  # 6 clips of 2 s
VIDS = {"vidA_0.0_12.0": "train", "vidB_30.0_42.0": "train", "vidC_0.0_12.0": "val"}


def segment(path, seed: int):
    """A 12-s segment at 10 fps with a tone whose pitch depends on the seed: colour changes every 2 s."""
    rng = np.random.default_rng(seed)
    colours = rng.integers(0, 255, (SECONDS // 2, 3))
    frames = (np.broadcast_to(colours[i // 20], (48, 64, 3)).astype(np.uint8).copy() for i in range(SECONDS * 10))
    t = np.arange(SECONDS * 16000) / 16000
    return write_video(path, frames, fps=10, audio=(0.3 * np.sin(2 * np.pi * (300 + 50 * seed) * t)).astype(np.float32),
                       sample_rate=16000)


def query(qid: int, vid: str, clips: list[int]) -> dict:
    return {"qid": qid, "query": f"the colour changes {qid}", "duration": SECONDS, "vid": vid,
            "relevant_windows": [[2 * clips[0], 2 * clips[-1] + 2]], "relevant_clip_ids": clips,
            "saliency_scores": [[4, 3, 4 - i % 3] for i in range(len(clips))]}


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    root = tmp_path_factory.mktemp("qvh-media")
    (root / "videos").mkdir()
    for i, vid in enumerate(VIDS):
        segment(root / "videos" / f"{vid}.mp4", i)
    rel = write_release(root / "rel", {
        "train": [query(1, "vidA_0.0_12.0", [1, 2]), query(2, "vidA_0.0_12.0", [4]), query(3, "vidB_30.0_42.0", [0, 1, 2]),
                  query(4, "vidMissing_0.0_12.0", [1]), {**query(6, "vidB_30.0_42.0", [1]), "relevant_clip_ids": [9]},
                  '{"query": "a line without qid or vid"}'],
        "val": [query(5, "vidC_0.0_12.0", [3, 4])],
    })
    return root, rel


def test_videos_give_features_per_2s_clip_and_cfsum_trains_two_epochs(media, tmp_path, capsys):
    root, rel = media
    built = build(QVHighlights(rel, root / "videos", visual="colorhist", motion=None, audio=None, text="minilm"),
                  out=tmp_path / "hub", work=tmp_path / "work", job=builder_job(workers=0), progress=False)
    assert built.status == 3  # vidMissing has no file, two queries are malformed: each recorded, the rest built
    record = built.records["colorhist-minilm"]
    failures = {f["id"]: f for f in record["failures"]["items"]}
    missing = next(f for i, f in failures.items() if i.startswith("vidMissing_0_0_12_0-"))
    assert missing["kind"] == "unavailable" and len(failures) == 3
    assert failures["query-6"]["kind"] == "bad_annotation" and "relevant_clip_ids" in failures["query-6"]["message"]
    assert failures["query-line-train-6"]["kind"] == "bad_annotation"
    ds = load_dataset(str(tmp_path / "hub"), "colorhist-minilm")
    assert {s: ds[s].num_rows for s in ds} == {"train": 3, "validation": 1}  # one row per query
    ex = ds["train"].filter(lambda e: e["qid"] == 2)[0]
    assert ex["frame_times"] == [1.0, 3.0, 5.0, 7.0, 9.0, 11.0]
    assert np.array(ex["frames_colorhist"]).shape == (6, 256) and np.array(ex["query_minilm"]).shape == (1, 384)
    assert ex["frame_labels"] == [0, 0, 0, 0, 1, 0] and np.array(ex["user_scores"]).shape == (3, 6)
    # each 2-s clip has its own colour: the frame features of neighbouring clips differ
    frames = np.array(ex["frames_colorhist"])
    assert all(not np.allclose(frames[i], frames[i + 1]) for i in range(5))
    # two queries of one video share its frames but not their query vectors
    q1 = ds["train"].filter(lambda e: e["qid"] == 1)[0]
    assert q1["frames_colorhist"] == ex["frames_colorhist"] and q1["query_minilm"] != ex["query_minilm"]

    out = tmp_path / "run"
    assert train(["--model", "cfsum", "--dataset", str(tmp_path / "hub"), "--config", "colorhist-minilm",
                  "--video-features", "frames_colorhist", "--query-features", "query_minilm", "--epochs", "2",
                  "--batch-size", "2", "--hparam", "hidden=32", "--out", str(out), "--seed", "0"]) == 0
    epochs = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [e["epoch"] for e in epochs] == [1, 2]
    config = json.loads((out / "config.json").read_text())
    assert config["protocol"] == "qvhighlights" and config["family"] == "qvhighlights"
    assert config["train"]["lr"] == 1e-3 and config["train"]["weight_decay"] == 1e-4  # CFSum's QVHighlights settings
    assert "HL-min-VeryGood-mAP" in epochs[-1]["validation"]
    assert evaluate(["--run", str(out), "--split", "validation", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert 0 <= metrics["HL-min-VeryGood-mAP"] <= 1 and set(metrics) >= {"HL-min-Fair-Hit1", "HL-min-Good-mAP"}


def test_released_features_are_imported_as_released(media, tmp_path):
    _, rel = media
    feats = tmp_path / "features"
    rng = np.random.default_rng(0)
    for folder in ("slowfast_features", "clip_features", "clip_text_features"):
        (feats / folder).mkdir(parents=True)
    for vid, clips in {"vidA_0.0_12.0": 7, "vidB_30.0_42.0": 6, "vidC_0.0_12.0": 6}.items():  # vidA: one clip too many
        np.savez(feats / "slowfast_features" / f"{vid}.npz", features=rng.random((clips, 2304)).astype(np.float32))
        np.savez(feats / "clip_features" / f"{vid}.npz", features=rng.random((clips, 512)).astype(np.float32))
    for qid in (1, 2, 3, 5):
        np.savez(feats / "clip_text_features" / f"qid{qid}.npz", last_hidden_state=rng.random((4 + qid, 512)),
                 pooler_output=rng.random(512))
    assert main(["--annotations", str(rel), "--features-dir", str(feats), "--out", str(tmp_path / "hub"),
                 "--work", str(tmp_path / "w"), "--no-progress"]) == 3  # qid 4's video has no feature file; 2 bad lines
    ds = load_dataset(str(tmp_path / "hub"), "slowfast-clip", split="train")
    ex = ds.filter(lambda e: e["qid"] == 2)[0]
    with np.load(feats / "slowfast_features" / "vidA_0.0_12.0.npz") as f:
        np.testing.assert_array_equal(np.array(ex["frames_slowfast"]), f["features"][:6])  # cut to the 6 labelled clips
    with np.load(feats / "clip_text_features" / "qid2.npz") as f:
        np.testing.assert_allclose(np.array(ex["query_clip"]), f["last_hidden_state"], rtol=1e-6)
    record = json.loads((tmp_path / "hub/build.json").read_text())
    facts = record["configs"]["slowfast-clip"]
    assert {(f["id"], f["kind"]) for f in facts["failures"]["items"]} == {
        ("4", "unavailable"), ("6", "bad_annotation"), ("line-train-6", "bad_annotation")}
    assert facts["extractors"]["slowfast"]["dim"] == 2304 and "as released" in (tmp_path / "hub/README.md").read_text()


@pytest.mark.slow
def test_clip_i3d_pann_and_clip_text_with_random_weights(media, tmp_path):
    """The features CFSum uses, on the real architectures with random weights (about three minutes on 2 busy cores)."""
    import open_clip
    import torch

    from extractors.i3d import CHECKPOINT as I3D_FILE
    from extractors.i3d import _build_model as i3d_model
    from extractors.pann import CHECKPOINT as PANN_FILE
    from extractors.pann import _build_model as pann_model
    from extractors.pann import checkpoint_state_dict

    root, rel = media
    torch.manual_seed(0)
    torch.save(open_clip.create_model("ViT-B-32-quickgelu", pretrained=None).state_dict(), tmp_path / "clip.pt")
    torch.save(i3d_model().state_dict(), tmp_path / I3D_FILE)
    torch.save({"model": checkpoint_state_dict(pann_model())}, tmp_path / PANN_FILE)
    code = main(["--annotations", str(rel), "--videos", str(root / "videos"), "--out", str(tmp_path / "hub"),
                 "--work", str(tmp_path / "w"), "--workers", "0", "--no-progress",
                 "--weights", f"clip={tmp_path / 'clip.pt'}", "--weights", f"cliptext={tmp_path / 'clip.pt'}",
                 "--weights", f"i3d={tmp_path / I3D_FILE}", "--weights", f"pann={tmp_path / PANN_FILE}"])
    assert code == 3
    ex = load_dataset(str(tmp_path / "hub"), "clip-i3d-pann-cliptext", split="validation")[0]
    assert np.array(ex["frames_clip"]).shape == (6, 512) and np.array(ex["frames_i3d"]).shape == (6, 1024)
    assert np.array(ex["audio_pann"]).shape == (6, 2048) and np.array(ex["query_cliptext"]).shape == (1, 512)
    out = tmp_path / "run"
    assert train(["--model", "cfsum", "--dataset", str(tmp_path / "hub"), "--video-features", "frames_clip",
                  "--audio-features", "audio_pann", "--query-features", "query_cliptext", "--epochs", "2",
                  "--batch-size", "2", "--hparam", "hidden=32", "--out", str(out)]) == 0
    assert len((out / "metrics.jsonl").read_text().splitlines()) == 2
