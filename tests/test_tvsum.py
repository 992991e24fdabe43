"""TVSum from the real ydata-tvsum50.mat (../shared/data), plus bad annotation files."""

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
from datasets import load_dataset

from builders import tvsum

MAT = Path(__file__).resolve().parents[2] / "shared/data/tvsum/ydata-tvsum50.mat"
needs_mat = pytest.mark.skipif(not MAT.exists(), reason=f"{MAT} absent (the ../shared/data folder is not here)")


@pytest.fixture(scope="module")
def videos():
    if not MAT.exists():
        pytest.skip(f"{MAT} absent")
    return tvsum.read_tvsum_mat(MAT)


@needs_mat
def test_reads_all_fifty_videos(videos):
    assert len(videos) == 50
    v = videos[0]
    assert (v.video_id, v.category, v.n_frames) == ("AwmHb44_ouw", "VT", 10597)
    assert v.title.startswith("#1306 How to change tires")
    assert v.user_anno.shape == (20, 10597) and set(np.unique(v.user_anno)) <= {1, 2, 3, 4, 5}
    assert np.allclose(v.user_anno.mean(0), v.gt_score, atol=1e-5)
    assert {x.category for x in videos} == set(tvsum.CATEGORIES)
    assert all(29.9 < x.fps < 30.01 or 23.9 < x.fps < 25.01 for x in videos)


@needs_mat
def test_annotation_grid_is_the_two_second_shots(videos):
    for v in videos:
        grid = tvsum.annotation_grid(v.user_anno)
        assert grid[0, 0] == 0 and grid[-1, 1] == v.n_frames - 1
        assert np.all(grid[1:, 0] == grid[:-1, 1] + 1)  # contiguous, covers every frame once
        seconds = (grid[:, 1] - grid[:, 0] + 1) / v.fps
        assert np.median(seconds) == pytest.approx(2.0, abs=0.05) and seconds.min() > 1.9
        for start, end in grid:  # every annotator's score is constant inside a shot
            assert np.all(v.user_anno[:, start:end + 1] == v.user_anno[:, start:start + 1])


@needs_mat
def test_user_summaries_respect_the_budget_and_prefer_high_scores(videos):
    v = videos[1]
    grid = tvsum.annotation_grid(v.user_anno)
    summaries = tvsum.user_summaries(v.user_anno, grid, 0.15)
    assert summaries.shape == v.user_anno.shape
    budget = int(np.floor(0.15 * v.n_frames))
    for user, summary in zip(v.user_anno, summaries):
        assert 0.8 * budget < summary.sum() <= budget
        assert user[summary == 1].mean() > user[summary == 0].mean() + 0.5


@needs_mat
def test_build_annotations_config_loads_offline(tmp_path, videos):
    code = tvsum.main(["--annotations", str(MAT), "--out", str(tmp_path / "hub"), "--no-progress"])
    assert code == 0
    ds = load_dataset(str(tmp_path / "hub"), "annotations", split="train")
    assert ds.num_rows == 50
    ex = ds[0]
    v = videos[0]
    assert ex["picks"][:3] == [0, 15, 30] and len(ex["picks"]) == len(range(0, v.n_frames, 15))
    assert np.allclose(ex["frame_times"][1], 15 / v.fps)
    assert np.allclose(ex["frame_scores"], (v.gt_score[::15] - 1) / 4, atol=1e-6)
    assert np.array(ex["user_scores"]).shape == (20, v.n_frames)
    assert np.array(ex["user_summary"]).shape == (20, v.n_frames)
    assert ex["change_points"] == ex["shot_grid"]
    assert sum(ex["n_frame_per_seg"]) == v.n_frames
    card = (tmp_path / "hub/README.md").read_text()
    assert "config_name: annotations" in card and "song2015tvsum" in card


@needs_mat
@pytest.mark.slow  # builds the 50 videos' annotations (7 s)
def test_umt_split_a_config_per_category_four_train_one_test(tmp_path, videos):
    from builders.tvsum.umt import UMT_TEST

    assert tvsum.main(["--annotations", str(MAT), "--split", "umt", "--out", str(tmp_path / "hub"), "--no-progress",
                       "--work", str(tmp_path / "work")]) == 0
    build = json.loads((tmp_path / "hub/build.json").read_text())
    assert sorted(build["configs"]) == sorted(f"annotations-umt-{c}" for c in tvsum.CATEGORIES)
    category = {v.video_id: v.category for v in videos}
    for c in tvsum.CATEGORIES:
        record = build["configs"][f"annotations-umt-{c}"]
        assert record["category"] == c and record["left_out_not_in_umt_split"] == []
        ds = load_dataset(str(tmp_path / "hub"), f"annotations-umt-{c}")
        assert {s: ds[s].num_rows for s in ds} == {"train": 4, "test": 1}  # UMT's 80/20 of the category's 5 videos
        assert ds["test"]["video_id"] == [UMT_TEST[c]]
        assert {category[v] for s in ds for v in ds[s]["video_id"]} == {c}
    assert UMT_TEST["VT"] == "J0nA4VgnoCo" and UMT_TEST["DS"] == "E11zDS9XGzg"  # TVSUM_SPLITS of TencentARC/UMT


def test_not_a_mat_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "notes.mat"
    bad.write_text("this is not HDF5")
    assert tvsum.main(["--annotations", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "not a MATLAB 7.3 (HDF5) file" in capsys.readouterr().err


def test_hdf5_without_tvsum50_names_what_it_found(tmp_path, capsys):
    bad = tmp_path / "other.mat"
    with h5py.File(bad, "w") as f:
        f["something"] = np.zeros(3)
    assert tvsum.main(["--annotations", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "no 'tvsum50' struct (found: something)" in capsys.readouterr().err


def test_missing_file_and_bad_proportion(tmp_path, capsys):
    assert tvsum.main(["--annotations", str(tmp_path / "nope.mat")]) == 2
    assert "not found" in capsys.readouterr().err
    assert tvsum.main(["--annotations", str(tmp_path / "nope.mat"), "--proportion", "1.5"]) == 2
    assert "--proportion" in capsys.readouterr().err


def _write_tvsum_mat(path, videos):
    """A ydata-tvsum50.mat look-alike: struct tvsum50 whose fields hold HDF5 object references."""
    with h5py.File(path, "w") as f:
        refs = f.create_group("#refs#")
        t = f.create_group("tvsum50")
        fields = {k: [] for k in ("video", "category", "title", "nframes", "length", "user_anno", "gt_score")}
        for i, v in enumerate(videos):
            def put(name, data):
                ds = refs.create_dataset(f"{name}{i}", data=data)
                fields[name].append(ds.ref)
            put("video", np.array([ord(c) for c in v["id"]], np.uint16)[:, None])
            put("category", np.array([ord(c) for c in "VT"], np.uint16)[:, None])
            put("title", np.array([ord(c) for c in v["id"]], np.uint16)[:, None])
            put("nframes", np.array([[float(v["n"])]]))
            put("length", np.array([[v["n"] / v["fps"]]]))
            put("user_anno", v["anno"].astype(np.float64))
            put("gt_score", v["anno"].mean(0, keepdims=True))
        for name, rs in fields.items():
            t.create_dataset(name, data=np.array(rs, dtype=h5py.ref_dtype)[:, None])


@pytest.mark.slow
def test_build_with_videos_extracts_googlenet_and_segments_with_kts(tmp_path):
    import torch
    from torchvision.models import googlenet

    from collectors.synthetic import write_video

    rng = np.random.default_rng(0)
    videos = []
    for vid, n in (("vidA", 300), ("-vidB", 240), ("vidC", 120)):  # YouTube ids may start with '-' (two TVSum ids do)
        colours = rng.integers(0, 256, (4, 3))  # four visually distinct scenes -> KTS should find the cuts
        frames = [np.full((64, 96, 3), colours[min(i * 4 // n, 3)], np.uint8) for i in range(n)]
        if vid != "vidC":  # vidC's video is missing: recorded, the others built
            write_video(tmp_path / "videos" / f"{vid}.mp4", frames, fps=30)
        anno = np.repeat(rng.integers(1, 6, (3, n // 60 + 1)), 60, axis=1)[:, :n]
        videos.append({"id": vid, "n": n, "fps": 30.0, "anno": anno})
    mat = tmp_path / "tiny.mat"
    _write_tvsum_mat(mat, videos)
    torch.manual_seed(0)
    weights = tmp_path / "googlenet.pth"
    torch.save(googlenet(weights=None, aux_logits=False, init_weights=True).state_dict(), weights)
    code = tvsum.main(["--annotations", str(mat), "--videos", str(tmp_path / "videos"), "--weights", f"googlenet={weights}",
                       "--out", str(tmp_path / "hub"), "--work", str(tmp_path / "work"), "--no-progress",
                       "--workers", "1"])
    assert code == 3
    record = json.loads((tmp_path / "hub" / "build.json").read_text())["configs"]["googlenet"]
    assert [(f["id"], f["kind"]) for f in record["failures"]["items"]] == [("vidC", "unavailable")]
    assert record["extraction_job"]["totals"]["items_run"] == 2
    ds = load_dataset(str(tmp_path / "hub"), "googlenet", split="train")
    assert ds["id"] == ["vidA", "-vidB"]  # the published id is TVSum's, whatever the job's item id
    ex = ds[0]
    assert ex["id"] == "vidA" and ex["picks"] == list(range(0, 300, 15))
    assert np.array(ex["frames_googlenet"]).shape == (20, 1024)
    cps = np.array(ex["change_points"])
    assert cps[0, 0] == 0 and cps[-1, 1] == 299 and np.all(cps[1:, 0] == cps[:-1, 1] + 1)
    assert np.array(ex["user_summary"]).shape == (3, 300)
    assert np.array(ex["user_summary"]).sum(1).max() <= 45  # floor(15% of 300)
