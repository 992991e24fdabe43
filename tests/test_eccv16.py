"""builders.eccv16: the eccv16 h5 layout (TVSum-, SumMe-, OVP-like files) and split files -> hub configs."""

import hashlib
import json

import h5py
import numpy as np
import pytest
from datasets import load_dataset

from builders.eccv16 import default_name, main

TVSUM = "eccv16_dataset_tvsum_google_pool5.h5"
BASE = {"id", "video_id", "title", "category", "frame_scores", "frame_labels", "frames_googlenet"}
FULL = BASE | {"n_frames", "picks", "change_points", "n_frame_per_seg", "user_summary"}


def full_video(rng, n_frames, users=3):
    """One group in the full eccv16 layout: features every 15th frame, three KTS-like shots."""
    t = -(-n_frames // 15)
    cps = np.array([[0, 29], [30, 74], [75, n_frames - 1]])
    return {
        "features": rng.standard_normal((t, 1024)).astype(np.float32),
        "gtscore": rng.random(t).astype(np.float32),
        "gtsummary": (rng.random(t) > 0.5).astype(np.float32),
        "user_summary": (rng.random((users, n_frames)) > 0.7).astype(np.float32),
        "change_points": cps,
        "n_frame_per_seg": cps[:, 1] - cps[:, 0] + 1,
        "n_frames": n_frames,
        "picks": np.arange(t) * 15,
        "n_steps": t,
    }


def write_h5(path, videos):
    with h5py.File(path, "w") as f:
        for key, fields in videos.items():
            for name, value in fields.items():
                f.create_dataset(f"{key}/{name}", data=value)
    return path


@pytest.fixture
def tvsum(tmp_path):
    rng = np.random.default_rng(0)
    videos = {k: full_video(rng, n) for k, n in (("video_1", 100), ("video_2", 131), ("video_3", 90), ("video_10", 150))}
    return write_h5(tmp_path / TVSUM, videos), videos


def rows(out, config, split="train"):
    return {r["video_id"]: r for r in load_dataset(str(out), config, split=split)}


def build_json(out):
    return json.loads((out / "build.json").read_text())


def assert_same(row, video):
    assert np.array_equal(np.array(row["frames_googlenet"], dtype=np.float32), video["features"])
    assert np.array_equal(np.array(row["frame_scores"], dtype=np.float32), video["gtscore"])
    assert row["frame_labels"] == video["gtsummary"].astype(int).tolist()
    for key in ("user_summary", "change_points", "n_frame_per_seg", "picks"):
        if key in video:
            assert np.array_equal(np.array(row[key]), video[key]), key
    if "n_frames" in video:
        assert row["n_frames"] == video["n_frames"]


@pytest.mark.slow
def test_tvsum_like_file_round_trips_exactly(tvsum, tmp_path):
    h5, videos = tvsum
    out = tmp_path / "out"
    assert main(["--h5", str(h5), "--out", str(out)]) == 0
    ds = load_dataset(str(out), "googlenet", split="train")
    assert set(ds.features) == FULL  # no fps in the h5: no fps, frame_times, duration
    assert ds["video_id"] == ["video_1", "video_2", "video_3", "video_10"]  # natural order
    for row in ds:
        assert row["id"] == row["video_id"] and row["title"] == "" and row["category"] == ""
        assert_same(row, videos[row["video_id"]])
    build = build_json(out)
    assert build["dataset"] == "tvsum-eccv16" and list(build["configs"]) == ["googlenet"]
    rec = build["configs"]["googlenet"]
    assert rec["input_sha256"] == hashlib.sha256(h5.read_bytes()).hexdigest()
    assert rec["items"] == {"total": 4, "ok": 4, "failed": 0, "ids_by_split": {
        "train": ["video_1", "video_10", "video_2", "video_3"], "validation": [], "test": []}}
    assert rec["fps"]["value"] is None
    assert rec["stats"]["train"]["frames"] == 471
    readme = (out / "README.md").read_text()
    assert "Video Summarization with Long Short-term Memory" in readme and "license: unknown" in readme


def test_fps_fills_fps_frame_times_and_duration(tvsum, tmp_path):
    h5, videos = tvsum
    out = tmp_path / "out"
    assert main(["--h5", str(h5), "--out", str(out), "--fps", "25"]) == 0
    got = rows(out, "googlenet")
    assert set(next(iter(got.values()))) == FULL | {"fps", "frame_times", "duration"}
    for key, video in videos.items():
        assert got[key]["fps"] == 25.0 and got[key]["duration"] == video["n_frames"] / 25
        assert np.array_equal(got[key]["frame_times"], video["picks"] / 25)


def test_summe_like_titles_and_integral_float_indices(tmp_path):
    rng = np.random.default_rng(1)
    a, b = full_video(rng, 120), full_video(rng, 95)
    a["video_name"], b["video_name"] = np.bytes_("Air_Force_One"), "Base jumping"  # fixed-length bytes, vlen str
    a["picks"] = a["picks"].astype(np.float64)  # some files store indices as floats
    h5 = write_h5(tmp_path / "eccv16_dataset_summe_google_pool5.h5", {"video_1": a, "video_2": b})
    out = tmp_path / "out"
    assert main(["--h5", str(h5), "--out", str(out)]) == 0
    got = rows(out, "googlenet")
    assert got["video_1"]["title"] == "Air_Force_One" and got["video_2"]["title"] == "Base jumping"
    assert_same(got["video_1"], a)
    assert build_json(out)["configs"]["googlenet"]["h5"]["dtypes"]["picks"] == ["float64", "int64"]


def test_ovp_like_file_publishes_only_the_columns_it_has(tmp_path):
    rng = np.random.default_rng(2)
    videos = {f"video_{i}": {k: v for k, v in full_video(rng, 60 + 30 * i).items()
                             if k in ("features", "gtscore", "gtsummary")} for i in (1, 2)}
    h5 = write_h5(tmp_path / "eccv16_dataset_ovp_google_pool5.h5", videos)
    out = tmp_path / "out"
    assert main(["--h5", str(h5), "--out", str(out), "--fps", "30"]) == 0
    got = rows(out, "googlenet")
    assert set(got["video_1"]) == BASE | {"fps"}  # no picks / n_frames: no frame_times, no duration
    for key, video in videos.items():
        assert_same(got[key], video)
    assert build_json(out)["dataset"] == "ovp-eccv16"


def _dsnet_splits(folds):
    prefix = f"../datasets/{TVSUM}/"
    return json.dumps([{"train_keys": [prefix + k for k in tr], "test_keys": [prefix + k for k in te]} for tr, te in folds])


def _vasnet_splits(folds):
    return json.dumps([{"train_keys": tr, "test_keys": te} for tr, te in folds])


def _dsnet_yaml(folds):  # DSNet's own split files (splits/tvsum.yml) are YAML
    out = []
    for tr, te in folds:
        out.append("- test_keys:\n" + "".join(f"  - ../datasets/{TVSUM}/{k}\n" for k in te))
        out.append("  train_keys:\n" + "".join(f"  - ../datasets/{TVSUM}/{k}\n" for k in tr))
    return "".join(out)


FOLDS = [(["video_1", "video_2", "video_3"], ["video_10"]), (["video_10", "video_3"], ["video_1", "video_2"])]


@pytest.mark.parametrize("style, suffix", [(_dsnet_splits, ".json"), (_vasnet_splits, ".json"), (_dsnet_yaml, ".yml")])
def test_split_folds_become_configs(tvsum, tmp_path, style, suffix):
    h5, videos = tvsum
    splits = tmp_path / f"splits{suffix}"
    splits.write_text(style(FOLDS))
    out = tmp_path / "out"
    assert main(["--h5", str(h5), "--out", str(out), "--splits", str(splits)]) == 0
    assert set(rows(out, "googlenet")) == set(videos)
    for i, (train, test) in enumerate(FOLDS):
        ds = load_dataset(str(out), f"googlenet-split{i}")
        assert sorted(ds["train"]["video_id"]) == sorted(train) and sorted(ds["test"]["video_id"]) == sorted(test)
        assert_same(ds["test"][0], videos[ds["test"][0]["video_id"]])
    fold = build_json(out)["configs"]["googlenet-split1"]["fold"]
    assert fold["index"] == 1 and fold["splits_sha256"] == hashlib.sha256(splits.read_bytes()).hexdigest()
    assert "after its last '/'" in fold["rule"]


def test_bad_groups_are_recorded_failures_and_the_rest_import(tvsum, tmp_path):
    _, videos = tvsum
    videos["video_2"]["gtscore"] = videos["video_2"]["gtscore"][:-1]
    del videos["video_3"]["user_summary"]
    h5 = write_h5(tmp_path / "bad.h5", videos)
    splits = tmp_path / "splits.json"
    splits.write_text(_dsnet_splits(FOLDS))  # names eccv16_dataset_tvsum_google_pool5.h5: taken as bad.h5 renamed
    out = tmp_path / "out"
    assert main(["--h5", str(h5), "--out", str(out), "--splits", str(splits)]) == 3
    got = rows(out, "googlenet")
    assert sorted(got) == ["video_1", "video_10"]
    assert_same(got["video_1"], videos["video_1"])
    build = build_json(out)
    assert build["dataset"] == "bad-eccv16"
    rec = build["configs"]["googlenet"]
    assert {k: rec["items"][k] for k in ("total", "ok", "failed")} == {"total": 4, "ok": 2, "failed": 2}
    assert {(f["id"], f["kind"], f["key"]) for f in rec["failures"]["items"]} == {
        ("video_2", "bad_annotation", "gtscore"), ("video_3", "bad_annotation", "user_summary")}
    assert build["configs"]["googlenet-split1"]["fold"]["left_out_failed"] == ["video_2", "video_3"]
    assert list(rows(out, "googlenet-split1", "test")) == ["video_1"]


def _no_groups(path):
    with h5py.File(path, "w") as f:
        f.create_dataset("features", data=np.zeros((2, 1024), np.float32))
    return path


@pytest.mark.parametrize("make, message", [
    (lambda p: p, "h5 file not found"),
    (lambda p: (p.write_bytes(b""), p)[1], "is empty"),
    (lambda p: (p.write_text("video_1,features\n"), p)[1], "is not an HDF5 file"),
    (_no_groups, "has no video groups"),
])
def test_bad_h5_is_exit_2(tmp_path, capsys, make, message):
    h5 = make(tmp_path / TVSUM)
    assert main(["--h5", str(h5), "--out", str(tmp_path / "out")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("splits, message", [
    (None, "splits file not found"),
    (_vasnet_splits([(["video_1", "video_7"], ["video_99"])]), "not in eccv16_dataset_tvsum_google_pool5.h5: video_7 (fold 0), video_99"),
    (_vasnet_splits([(["video_1", "video_2"], ["video_2"])]), "fold 0 has video_2 in both train_keys and test_keys"),
    (json.dumps([{"train_keys": ["eccv16_dataset_tvsum_google_pool5/video_1", "eccv16_dataset_ovp_google_pool5/video_1"],
                  "test_keys": ["eccv16_dataset_tvsum_google_pool5/video_2"]}]), "several files"),
    (json.dumps([{"train_keys": ["video_1"], "test_keys": [], "val_keys": ["video_2"]}]), "besides train_keys"),
    ("{not json", "not a valid split file"),
])
def test_bad_splits_are_exit_2(tvsum, tmp_path, capsys, splits, message):
    h5, _ = tvsum
    path = tmp_path / "splits.json"
    if splits is not None:
        path.write_text(splits)
    assert main(["--h5", str(h5), "--out", str(tmp_path / "out"), "--splits", str(path)]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_key_few_videos_have_is_exit_2(tmp_path, capsys):
    rng = np.random.default_rng(3)
    videos = {f"video_{i}": full_video(rng, 90) for i in (1, 2)}
    del videos["video_2"]["picks"]
    h5 = write_h5(tmp_path / TVSUM, videos)
    assert main(["--h5", str(h5), "--out", str(tmp_path / "out")]) == 2
    assert "videos disagree on key 'picks': only 1 of 2 have it (video_1)" in capsys.readouterr().err


def test_rebuild_without_splits_drops_the_old_folds(tvsum, tmp_path):
    h5, _ = tvsum
    splits = tmp_path / "splits.json"
    splits.write_text(_vasnet_splits(FOLDS))
    out = tmp_path / "out"
    assert main(["--h5", str(h5), "--out", str(out), "--splits", str(splits)]) == 0
    assert (out / "data" / "googlenet-split1").is_dir()
    assert main(["--h5", str(h5), "--out", str(out)]) == 0
    assert list(build_json(out)["configs"]) == ["googlenet"]
    assert not (out / "data" / "googlenet-split0").exists() and not (out / "wds" / "googlenet-split1").exists()
    assert "googlenet-split" not in (out / "README.md").read_text()


def test_default_name():
    assert default_name("x/eccv16_dataset_tvsum_google_pool5.h5") == "tvsum-eccv16"
    assert default_name("eccv16_dataset_youtube_google_pool5.h5.custom") == "youtube-eccv16"
    assert default_name("My Data.h5") == "my-data-eccv16"
