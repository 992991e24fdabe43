"""Mr.HiSum: the release layout (mr_hisum.h5 + metadata.csv + split json, written here as the repository's
loader reads it), the curves collected anew from saved info files, and its evaluation by prediction files."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest
from datasets import load_dataset

from wds_checks import assert_wds_readable

from builders.mrhisum import main
from builders.mrhisum.collect import align_curve
from cards.pages import resolve
from models.evaluate import main as evaluate
from models.metrics.mrhisum import mrhisum_map

N = {"video_1": 40, "video_2": 33, "video_3": 25, "video_4": 30}


def shots(n: int, cuts, exclusive: bool) -> np.ndarray:
    starts, ends = np.r_[0, cuts], np.r_[cuts, n]
    return np.stack([starts, ends if exclusive else ends - 1], axis=1)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("mrhisum")
    rng = np.random.default_rng(0)
    with h5py.File(root / "mr_hisum.h5", "w") as f:
        for i, (key, n) in enumerate(N.items()):
            g = f.create_group(key)
            g["gtscore"] = rng.random(n)
            g["change_points"] = shots(n, [10, 20], exclusive=i % 2 == 0)  # both conventions, detected per video
            summary = np.zeros(n, np.float32)
            summary[10:15] = 1
            g["gt_summary"] = summary
            g["features"] = rng.random((n + 1, 1024)).astype(np.float32)  # YT8M runs a second longer
        f["video_4/gtscore"][3] = np.nan  # a broken video
    (root / "metadata.csv").write_text(
        "video_id,yt8m_file,random_id,youtube_id,duration,views,labels\n"
        + "".join(f"{k},train00{i},R{i}aA,yt{i}abcdefgh,{n},{60000 + i},\"[{i}, 7]\"\n" for i, (k, n) in enumerate(N.items())))
    (root / "split.json").write_text(json.dumps({"train_keys": ["video_1", "video_4"], "val_keys": ["video_2"],
                                                 "test_keys": ["video_3"]}))
    out = root / "hub"
    code = main(["--h5", str(root / "mr_hisum.h5"), "--metadata", str(root / "metadata.csv"), "--splits",
                 str(root / "split.json"), "--out", str(out), "--work", str(root / "work"), "--no-progress"])
    assert code == 3  # video_4 failed, the others built
    return root


def test_the_release_layout_builds_and_loads(release):
    ds = load_dataset(str(release / "hub"), "yt8m")
    assert {s: ds[s].num_rows for s in ds} == {"train": 1, "validation": 1, "test": 1}
    assert_wds_readable(release / "hub")
    ex = ds["validation"][0]
    with h5py.File(release / "mr_hisum.h5") as f:
        np.testing.assert_allclose(ex["frame_scores"], f["video_2/gtscore"][()], rtol=1e-6)
        np.testing.assert_array_equal(np.array(ex["frames_yt8m"]), f["video_2/features"][:33])
    assert ex["youtube_id"] == "yt1abcdefgh" and ex["labels"] == [1, 7] and ex["views"] == 60001
    assert ex["change_points"] == [[0, 9], [10, 19], [20, 32]]  # video_2 stored inclusive rows
    assert ds["train"][0]["change_points"] == [[0, 9], [10, 19], [20, 39]]  # video_1 stored exclusive ends
    assert ex["n_frame_per_seg"] == [10, 10, 13] and np.flatnonzero(ex["user_summary"][0]).tolist() == list(range(10, 15))
    record = json.loads((release / "hub/build.json").read_text())
    facts = record["configs"]["yt8m"]
    assert facts["change_points_read_as"] == {"exclusive": 2, "inclusive": 1}
    assert facts["failures"]["items"][0]["id"] == "video_4" and "gtscore" in facts["failures"]["items"][0]["message"]
    assert "Sul, Jinhwan" in resolve(record["card"]["citation"]) and record["card"]["license"] == "cc-by-4.0"


def test_mrhisum_predictions_are_scored_by_its_solver_protocol(release, tmp_path, capsys):
    rng = np.random.default_rng(1)
    pred = rng.random(33)
    path = tmp_path / "preds.json"
    path.write_text(json.dumps({"video_2": pred.tolist()}))
    assert evaluate(["--dataset", str(release / "hub"), "--split", "validation", "--predictions", str(path),
                     "--format", "mrhisum", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    with h5py.File(release / "mr_hisum.h5") as f:
        expected = mrhisum_map(pred, f["video_2/gtscore"][()])
    assert metrics["map50"] == pytest.approx(expected["map50"]) and metrics["map15"] == pytest.approx(expected["map15"])
    assert 0 <= metrics["f1"] <= 1
    assert sorted(metrics) == ["f1", "map15", "map50"]  # no rank correlation against the one 0/1 summary
    # the same scores as a result.h5 (eccv16h5): <key>/score, keys with a path as DSNet writes them
    with h5py.File(tmp_path / "result.h5", "w") as f:
        f["../mr_hisum.h5/video_2/score"] = pred
        f["../mr_hisum.h5/video_2/machine_summary"] = np.zeros(33)
    assert evaluate(["--dataset", str(release / "hub"), "--split", "validation", "--predictions",
                     str(tmp_path / "result.h5"), "--format", "eccv16h5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == metrics
    # a prediction of the wrong length is an error naming the video
    path.write_text(json.dumps({"video_2": pred[:30].tolist()}))
    assert evaluate(["--dataset", str(release / "hub"), "--split", "validation", "--predictions", str(path),
                     "--format", "mrhisum"]) == 2
    assert "30 scores for 33" in capsys.readouterr().err


@pytest.mark.slow
def test_hiersum_trains_on_the_video_only_release_and_prints_table_4(release, tmp_path, capsys):
    """HierSum Table 4: the release has no text, so HierSum trains video-only (no parent step; docs/training.md)."""
    from models.train import main as train

    run = tmp_path / "hiersum"
    small = ["--hparam", "hidden=16", "--hparam", "num_layers=1", "--hparam", "heads=2", "--epochs", "1"]
    assert train(["--model", "hiersum", "--dataset", str(release / "hub"), "--out", str(run), *small]) == 0
    config = json.loads((run / "config.json").read_text())
    assert config["model_hparams"]["global_every"] == 0 and config["columns"]["text"] is None
    assert config["family"] == "mrhisum" and config["protocol"] == "mrhisum"
    capsys.readouterr()
    assert evaluate(["--run", str(run), "--split", "test"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    assert [r[0] for r in rows] == ["f1", "map50", "map15"]  # Table 4: F1, MAP rho=50%, MAP rho=15%, in percent
    assert all(len(r[1].split(".")[1]) == 2 and 0 <= float(r[1]) <= 100 for r in rows)
    # asking for the parent step without any text is refused in one line
    assert train(["--model", "hiersum", "--dataset", str(release / "hub"), "--out", str(tmp_path / "x"), *small,
                  "--hparam", "global_every=5"]) == 2
    assert "needs a global description" in capsys.readouterr().err


def test_align_curve_follows_align_most_replayed():
    # 100 markers of 1.7 s: second k -> marker floor(k * 1000 / 1700); past the last marker -> the last
    markers = [{"start": 1.7 * i, "end": 1.7 * (i + 1), "value": i / 100} for i in range(100)]
    curve = align_curve(markers, 172.9)
    assert len(curve) == 172
    assert curve[0] == 0.0 and curve[2] == pytest.approx(0.01) and curve[169] == pytest.approx(0.99)
    assert curve[171] == pytest.approx(0.99)


def test_collect_from_saved_info_files(release, tmp_path):
    info = tmp_path / "info"
    info.mkdir()
    markers = [{"start_time": 0.4 * i, "end_time": 0.4 * (i + 1), "value": (i % 10) / 10} for i in range(100)]
    (info / "yt0abcdefgh.info.json").write_text(json.dumps({"id": "yt0abcdefgh", "title": "t", "heatmap": markers}))
    (info / "yt1abcdefgh.info.json").write_text(json.dumps({"id": "yt1abcdefgh", "title": "no curve"}))
    args = ["--collect", "--metadata", str(release / "metadata.csv"), "--info-json", str(info), "--limit", "3",
            "--out", str(tmp_path / "hub"), "--work", str(tmp_path / "work"), "--no-progress"]
    assert main(args) == 3
    ds = load_dataset(str(tmp_path / "hub"), "collected", split="train")
    assert ds.num_rows == 1 and ds[0]["video_id"] == "video_1" and len(ds[0]["frame_scores"]) == 40
    assert ds[0]["frame_scores"][:4] == pytest.approx([0.0, 0.2, 0.5, 0.7])  # second k -> marker floor(k / 0.4)
    failures = {f["id"]: f["kind"] for f in
                json.loads((tmp_path / "hub/build.json").read_text())["configs"]["collected"]["failures"]["items"]}
    assert failures == {"video_2": "no_heatmap", "video_3": "bad_metadata"}  # no curve; no info file
    (info / "yt0abcdefgh.info.json").unlink()  # a rerun takes the cached curve, fetches nothing again
    assert main(args) == 3
    assert json.loads((tmp_path / "hub/build.json").read_text())["configs"]["collected"]["curves"] == \
        {"cached": 1, "fetched": 0}


def test_bad_inputs_exit_2(release, tmp_path, capsys):
    meta = str(release / "metadata.csv")
    assert main(["--metadata", meta, "--out", str(tmp_path / "o")]) == 2  # neither --h5 nor --collect
    assert main(["--h5", str(release / "mr_hisum.h5"), "--collect", "--metadata", meta, "--out", str(tmp_path / "o")]) == 2
    bad = tmp_path / "m.csv"
    bad.write_text("video_id,youtube_id\nvideo_1,x\n")
    assert main(["--h5", str(release / "mr_hisum.h5"), "--metadata", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert main(["--h5", str(tmp_path / "none.h5"), "--metadata", meta, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "give --h5 or --collect, not both" in err and "lacks columns" in err and "h5 file not found" in err
    assert not (tmp_path / "o").exists()


def test_keyshot_protocol_flag_changes_how_the_summary_is_built(release, tmp_path, capsys):
    # video_2: shots [0-9], [10-19], [20-32]; ground-truth summary frames 10-14. At --proportion 0.3 the budget is
    # floor(9.9) = 9 frames for eccv16 / DSNet (no 10-frame shot fits: F1 0) and round(9.9) = 10 for A2Summ
    # (shot [10-19]: precision 5/10, recall 5/5, F1 2/3).
    pred = np.r_[np.full(10, 0.1), np.full(10, 0.9), np.full(13, 0.2)]
    path = tmp_path / "preds.json"
    path.write_text(json.dumps({"video_2": pred.tolist()}))
    f1 = {}
    for protocol in ("eccv16", "dsnet", "a2summ"):
        assert evaluate(["--dataset", str(release / "hub"), "--split", "validation", "--predictions", str(path),
                         "--format", "mrhisum", "--proportion", "0.3", "--keyshot-protocol", protocol, "--json"]) == 0
        f1[protocol] = json.loads(capsys.readouterr().out)["f1"]
    assert f1 == {"eccv16": 0.0, "dsnet": 0.0, "a2summ": pytest.approx(2 / 3)}
