"""builders.export: each format round-trips (release fixture -> build -> export -> our importer -> the same rows),
exports are byte-for-byte deterministic, and bad input is one line, exit 2, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import yaml
from a2summ_fixtures import write_a2summ_release

from builders import bliss, eccv16, mrhisum, qvhighlights
from builders.export import Build, ExportError, main as export
from tests.test_eccv16 import full_video, write_h5
from tests.test_qvhighlights import write_release

QUIET = ["--no-progress"]


def built(main, out: Path, *argv) -> Path:
    assert main([*argv, "--out", str(out), "--work", str(out.parent / f"work-{out.name}"), *QUIET]) == 0
    return out


def rows(hub: Path, config: str) -> dict[str, tuple[str, dict]]:
    """id -> (split, row) of a build, vectors as the stored float32 arrays."""
    b = Build(hub, config)
    return {r["id"]: (s, r) for s in b.splits for r in b.rows(s)}


def same(a, b) -> bool:
    """Equal values; float32 arrays bit for bit."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def assert_same_rows(before: dict, after: dict, ignore=()) -> None:
    assert before.keys() == after.keys()
    for rid, (split, row) in before.items():
        split2, row2 = after[rid]
        assert split == split2, rid
        for key in row:
            if key not in ignore:
                assert same(row[key], row2[key]), (rid, key)


def files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def exported(hub: Path, config: str, fmt: str, out: Path, *extra) -> Path:
    assert export([str(hub), "--config", config, "--format", fmt, "--out", str(out), *extra]) == 0
    return out


def assert_deterministic(hub: Path, config: str, fmt: str, first: Path, *extra) -> None:
    again = exported(hub, config, fmt, first.parent / f"{first.name}-again", *extra)
    assert files(first) == files(again)


# ---------------------------------------------------------------- a2summ (BLiSS)


@pytest.fixture(scope="module")
def bliss_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("export-a2summ")
    release = write_a2summ_release(root / "release", np.random.default_rng(3), train_videos=4, test_videos=1,
                                   max_frames=8)
    return root, release, built(bliss.main, root / "hub", "--source", "a2summ", "--input", str(root / "release"))


def test_a2summ_round_trip_and_release_layout(bliss_build):
    root, release, hub = bliss_build
    before = rows(hub, "clip-roberta")
    assert {s for s, _ in before.values()} == {"train", "validation", "test"}
    out = exported(hub, "clip-roberta", "a2summ", root / "a2summ")
    # A2Summ's BLiSSDataset reads exactly these: the written features are the released ones, bit for bit
    for split, content in release.items():
        gt = json.loads((out / "annotation" / f"{split}.json").read_text())
        assert gt.keys() == content["annotation"].keys()  # validation folded back into train
        for stem in ("video_clip", "text_roberta", "video_summ_clip"):
            d = np.load(out / "feature" / f"{stem}_{split}.npy", allow_pickle=True).item()
            assert d.keys() == gt.keys() and all(same(d[k], content[stem][k]) for k in d)
        for clip_id, ann in gt.items():
            assert ann == content["annotation"][clip_id]  # sentence_time spans recovered exactly from the times
    again = built(bliss.main, root / "hub2", "--source", "a2summ", "--input", str(out))
    assert_same_rows(before, rows(again, "clip-roberta"))
    record = json.loads((out / "export.json").read_text())
    assert record["build"] == "hub" and record["format"] == "a2summ" and record["config"] == "clip-roberta"
    assert record["release_splits"]["train"]["from"] == ["train", "validation"]
    assert record["encoders"][1]["extractor"]["model"] == "RoBERTa (A2Summ release)"
    assert_deterministic(hub, "clip-roberta", "a2summ", out)


def test_a2summ_spans_follow_the_alignment_rule():
    from builders.export.a2summ import sentence_spans

    times = [0.5, 1.5, 2.5, 3.5]  # frames at 1 fps
    sents = [{"start": 0.0, "end": 2.0}, {"start": 1.2, "end": 1.4}, {"start": 1.5, "end": 3.5}, {"start": 3.0, "end": 9.0}]
    assert sentence_spans(times, sents) == [[0, 2], [1, 1], [1, 3], [3, 4]]  # start <= t < end; none -> empty


def test_a2summ_split_restricts_to_one_release_file(bliss_build, tmp_path):
    _, _, hub = bliss_build
    out = exported(hub, "clip-roberta", "a2summ", tmp_path / "x", "--split", "test")
    assert sorted(p.name for p in (out / "annotation").iterdir()) == ["test.json"]


def test_a2summ_keyframe_features_when_thumbnails_do_not_pair_with_keyframes():
    """Raw BLiSS builds: K thumbnail frames need not be K distinct keyframes; A2Summ needs num_keyframe rows."""
    from collections import Counter

    from builders.export.a2summ import clip

    frames = np.arange(12, dtype=np.float32).reshape(4, 3)
    row = {"id": "s_000", "video_id": "s", "frame_times": [0.5, 1.5, 2.5, 3.5], "frame_labels": [0, 1, 0, 1],
           "sentences": [{"start": 0.0, "end": 2.0, "text": "a"}], "sentence_labels": [1], "summary": "a",
           "frames_clip": frames, "sentences_roberta": np.ones((1, 2), np.float32),
           "thumbnail_clip": np.zeros((3, 3), np.float32)}  # 3 thumbnails, 2 distinct keyframes
    cols = {"visual": "frames_clip", "text": "sentences_roberta", "thumbnail": "thumbnail_clip", "images": None}
    counts = Counter()
    ann, arrays = clip(row, cols, counts)
    assert ann["num_keyframe"] == 2 and same(arrays["video_summ_clip"], frames[[1, 3]])
    assert ann["sentence_time"] == [[0, 2]] and counts == {"video_summ_from_keyframes": 1}
    row["frame_labels"] = None
    with pytest.raises(ExportError, match="frame_labels is null"):
        clip(row, cols, counts)


# ---------------------------------------------------------------- eccv16h5 (eccv16 imports, Mr.HiSum)


@pytest.fixture(scope="module")
def eccv16_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("export-eccv16")
    rng = np.random.default_rng(0)
    videos = {k: full_video(rng, n) for k, n in (("video_1", 100), ("video_2", 131), ("video_3", 90), ("video_10", 150))}
    videos["video_2"]["video_name"] = "Jumps"
    h5 = write_h5(root / "eccv16_dataset_tvsum_google_pool5.h5", videos)
    (root / "folds.json").write_text(json.dumps([{"train_keys": ["video_1", "video_2", "video_10"],
                                                  "test_keys": ["video_3"]}]))
    hub = built(eccv16.main, root / "hub", "--h5", str(h5), "--splits", str(root / "folds.json"))
    return root, videos, hub


def test_eccv16h5_round_trip(eccv16_build):
    root, videos, hub = eccv16_build
    out = exported(hub, "googlenet-split0", "eccv16h5", root / "e16")
    h5 = out / "eccv16_dataset_tvsum_google_pool5.h5"
    with h5py.File(h5) as f:
        assert list(f) == ["video_1", "video_2", "video_10", "video_3"]  # train then test, build order
        for key, video in videos.items():
            g = f[key]
            for name in ("features", "gtscore", "picks", "change_points", "n_frame_per_seg", "n_steps"):
                assert np.array_equal(g[name][()], video[name]), (key, name)
            assert g["features"].dtype == np.float32 and g["features"][()].tobytes() == video["features"].tobytes()
            assert np.array_equal(g["gtsummary"][()], video["gtsummary"]) and g["n_frames"][()] == video["n_frames"]
            assert np.array_equal(g["user_summary"][()], video["user_summary"])
        assert f["video_2/video_name"][()] == b"Jumps" and "video_name" not in f["video_1"]
    folds = json.loads((out / "tvsum_splits.json").read_text())
    assert folds == [{"train_keys": ["video_1", "video_2", "video_10"], "test_keys": ["video_3"]}]
    dsnet = yaml.safe_load((out / "tvsum_dsnet.yml").read_text())  # DSNet keys: the h5 path from its src/, then the video
    assert dsnet == [{k: [f"../datasets/{h5.name}/{v}" for v in keys] for k, keys in fold.items()} for fold in folds]
    again = built(eccv16.main, root / "hub2", "--h5", str(h5), "--splits", str(out / "tvsum_splits.json"))
    for config in ("googlenet", "googlenet-split0"):
        assert_same_rows(rows(hub, config), rows(again, config))
    assert_deterministic(hub, "googlenet-split0", "eccv16h5", out)


def test_eccv16h5_k_random_splits(eccv16_build, tmp_path):
    _, videos, hub = eccv16_build
    assert export([str(hub), "--config", "googlenet", "--format", "eccv16h5", "--out", str(tmp_path / "none")]) == 2
    assert not (tmp_path / "none").exists()  # the googlenet config has no test split: --splits K is needed
    out = exported(hub, "googlenet", "eccv16h5", tmp_path / "k", "--splits", "3", "--seed", "7")
    folds = json.loads((out / "tvsum_splits.json").read_text())
    assert len(folds) == 3
    for fold in folds:  # DSNet's random splits: 4 - round(0.8 * 4) = 1 test video, the others train
        assert len(fold["test_keys"]) == 1 and sorted(fold["train_keys"] + fold["test_keys"]) == sorted(videos)
    assert files(out) == files(exported(hub, "googlenet", "eccv16h5", tmp_path / "k2", "--splits", "3", "--seed", "7"))
    other = json.loads((exported(hub, "googlenet", "eccv16h5", tmp_path / "k3", "--splits", "3", "--seed", "8")
                        / "tvsum_splits.json").read_text())
    assert [f["test_keys"] for f in other] != [f["test_keys"] for f in folds]  # the seed decides the draws


@pytest.mark.slow
def test_tvsum_build_with_videos_as_eccv16h5(tmp_path):
    """TVSum from its annotation file and videos (GoogLeNet with random weights, KTS) -> eccv16h5 with 2 random
    folds -> our eccv16 importer: the same features, scores, shots and the 20-annotator-style user summaries."""
    import torch
    from torchvision.models import googlenet

    from builders import tvsum
    from collectors.synthetic import write_video
    from tests.test_tvsum import _write_tvsum_mat

    rng = np.random.default_rng(0)
    videos = []
    for vid, n in (("vidA", 120), ("-vidB", 90), ("vidC", 105)):
        colours = rng.integers(0, 256, (3, 3))
        write_video(tmp_path / "videos" / f"{vid}.mp4",
                    [np.full((32, 48, 3), colours[min(i * 3 // n, 2)], np.uint8) for i in range(n)], fps=30)
        videos.append({"id": vid, "n": n, "fps": 30.0, "anno": np.repeat(rng.integers(1, 6, (3, n // 30 + 1)), 30, axis=1)[:, :n]})
    _write_tvsum_mat(tmp_path / "tiny.mat", videos)
    torch.manual_seed(0)
    torch.save(googlenet(weights=None, aux_logits=False, init_weights=True).state_dict(), tmp_path / "g.pth")
    hub = built(tvsum.main, tmp_path / "hub", "--annotations", str(tmp_path / "tiny.mat"), "--videos",
                str(tmp_path / "videos"), "--weights", f"googlenet={tmp_path / 'g.pth'}", "--workers", "1")
    out = exported(hub, "googlenet", "eccv16h5", tmp_path / "e16", "--splits", "2")
    record = json.loads((out / "export.json").read_text())
    assert record["rules"]["gtsummary_counts"] == {"keyshots_of_frame_scores": 3}  # 3 users, no frame_labels
    h5 = out / record["files"]["h5"]
    again = built(eccv16.main, tmp_path / "hub2", "--h5", str(h5), "--splits", str(out / record["files"]["splits"]))
    mine = rows(again, "googlenet")
    for rid, (_, row) in rows(hub, "googlenet").items():
        _, row2 = mine[rid]
        for key in ("frames_googlenet", "frame_scores", "picks", "change_points", "n_frame_per_seg", "user_summary",
                    "n_frames", "title"):
            assert same(row[key], row2[key]), key
    for i in range(2):  # 3 - round(0.8 * 3) = 1 test video per split
        assert sorted(s for s, _ in rows(again, f"googlenet-split{i}").values()) == ["test", "train", "train"]


# ---------------------------------------------------------------- mrhisum (and Mr.HiSum as eccv16h5)

MRH = {"video_1": 40, "video_2": 33, "video_3": 25}


def write_mrhisum(root: Path, features: bool = True) -> Path:
    rng = np.random.default_rng(1)
    root.mkdir(parents=True, exist_ok=True)
    with h5py.File(root / "mr_hisum.h5", "w") as f:
        for i, (key, n) in enumerate(MRH.items()):
            g = f.create_group(key)
            g["gtscore"] = rng.random(n)
            cuts = [0, 10, 20, n]
            g["change_points"] = np.stack([cuts[:-1], np.array(cuts[1:]) - (i % 2)], axis=1)  # both conventions
            summary = np.zeros(n, np.float32)
            summary[10:15] = 1
            g["gt_summary"] = summary
            if features:
                g["features"] = rng.random((n + 1, 1024)).astype(np.float32)
    (root / "metadata.csv").write_text(
        "video_id,yt8m_file,random_id,youtube_id,duration,views,labels\n"
        + "".join(f"{k},train00{i},R{i}aA,yt{i}abcdefgh,{n}.5,{60000 + i},\"[{i}, 7]\"\n" for i, (k, n) in enumerate(MRH.items())))
    (root / "split.json").write_text(json.dumps({"train_keys": ["video_1"], "val_keys": ["video_2"], "test_keys": ["video_3"]}))
    return root


@pytest.fixture(scope="module")
def mrhisum_build(tmp_path_factory):
    root = write_mrhisum(tmp_path_factory.mktemp("export-mrhisum") / "release")
    hub = built(mrhisum.main, root.parent / "hub", "--h5", str(root / "mr_hisum.h5"), "--metadata",
                str(root / "metadata.csv"), "--splits", str(root / "split.json"))
    return root, hub


def test_mrhisum_round_trip(mrhisum_build):
    root, hub = mrhisum_build
    out = exported(hub, "yt8m", "mrhisum", root.parent / "mrh")
    with h5py.File(out / "mr_hisum.h5") as f, h5py.File(root / "mr_hisum.h5") as g:
        for key, n in MRH.items():
            assert f[key]["features"][()].tobytes() == g[key]["features"][:n].tobytes()  # Mr.HiSum: n = feature rows
            assert np.array_equal(f[key]["gt_summary"][()], g[key]["gt_summary"][()])
            cps = f[key]["change_points"][()]
            assert cps[-1, 1] == n and np.all(cps[1:, 0] == cps[:-1, 1])  # exclusive ends, as its loader reads them
    assert json.loads((out / "mr_hisum_split.json").read_text()) == json.loads((root / "split.json").read_text())
    again = built(mrhisum.main, root.parent / "hub2", "--h5", str(out / "mr_hisum.h5"), "--metadata",
                  str(out / "metadata.csv"), "--splits", str(out / "mr_hisum_split.json"))
    assert_same_rows(rows(hub, "yt8m"), rows(again, "yt8m"))
    assert_deterministic(hub, "yt8m", "mrhisum", out)


def test_mrhisum_build_as_eccv16h5(mrhisum_build):
    root, hub = mrhisum_build
    out = exported(hub, "yt8m", "eccv16h5", root.parent / "mrh-e16")
    h5 = out / "eccv16_dataset_mrhisum_google_pool5.h5"
    again = built(eccv16.main, root.parent / "hub3", "--h5", str(h5), "--splits", str(out / "mrhisum_dsnet.yml"))
    mine = rows(again, "googlenet-split0")
    for rid, (split, row) in rows(hub, "yt8m").items():
        split2, row2 = mine[rid]
        assert split2 == ("test" if split == "test" else "train")  # validation folded into the fold's train
        assert same(row["frames_yt8m"], row2["frames_googlenet"]) and same(row["frame_scores"], row2["frame_scores"])
        for key in ("picks", "change_points", "n_frame_per_seg", "user_summary", "n_frames"):
            assert same(row[key], row2[key]), key
        assert row2["frame_labels"] == row["user_summary"][0]  # gtsummary: the one ground-truth summary, at picks
    record = json.loads((out / "export.json").read_text())
    assert record["rules"]["gtsummary_counts"] == {"user_summary_row": 3}
    assert record["encoders"][0]["column"] == "frames_yt8m" and record["encoders"][0]["extractor"]["dim"] == 1024


# ---------------------------------------------------------------- moment_detr (QVHighlights)


def _query(qid: int, vid: str, clips: list[int], labelled: bool = True) -> dict:
    r = {"qid": qid, "query": f"query {qid}", "duration": 12, "vid": vid}
    if labelled:
        r.update(relevant_windows=[[2 * clips[0], 2 * clips[-1] + 2]], relevant_clip_ids=clips,
                 saliency_scores=[[4, 3, i % 5] for i in range(len(clips))])
    return r


@pytest.fixture(scope="module")
def qvh_build(tmp_path_factory):
    root = tmp_path_factory.mktemp("export-qvh")
    rel = write_release(root / "rel", {"train": [_query(1, "vidA_0.0_12.0", [1, 2]), _query(2, "vidA_0.0_12.0", [4]),
                                                 _query(3, "vidB_30.0_42.0", [0, 1, 2])],
                                       "val": [_query(5, "vidC_0.0_12.0", [3, 4])],
                                       "test": [_query(7, "vidD_0.0_12.0", [], labelled=False)]})
    feats = root / "features"
    rng = np.random.default_rng(0)
    for folder in ("slowfast_features", "clip_features", "clip_text_features"):
        (feats / folder).mkdir(parents=True)
    for vid in ("vidA_0.0_12.0", "vidB_30.0_42.0", "vidC_0.0_12.0", "vidD_0.0_12.0"):
        np.savez(feats / "slowfast_features" / f"{vid}.npz", features=rng.random((6, 2304)).astype(np.float32))
        np.savez(feats / "clip_features" / f"{vid}.npz", features=rng.random((6, 512)).astype(np.float32))
    for qid in (1, 2, 3, 5, 7):
        np.savez(feats / "clip_text_features" / f"qid{qid}.npz", last_hidden_state=rng.random((3 + qid, 512)).astype(np.float32))
    hub = built(qvhighlights.main, root / "hub", "--annotations", str(rel), "--features-dir", str(feats))
    return root, rel, feats, hub


def test_moment_detr_round_trip(qvh_build):
    root, rel, feats, hub = qvh_build
    out = exported(hub, "slowfast-clip", "moment_detr", root / "mdetr")
    for name in ("train", "val", "test"):
        mine = [json.loads(x) for x in (out / f"highlight_{name}_release.jsonl").read_text().splitlines()]
        theirs = [json.loads(x) for x in (rel / f"highlight_{name}_release.jsonl").read_text().splitlines()]
        assert mine == theirs  # the release lines themselves (12 == 12.0 in JSON numbers' values)
    for folder, key in (("slowfast_features", "features"), ("clip_features", "features")):
        for path in (feats / folder).iterdir():
            with np.load(path) as a, np.load(out / folder / path.name) as b:
                assert a[key].tobytes() == b[key].tobytes()
    with np.load(out / "clip_text_features" / "qid7.npz") as b, np.load(feats / "clip_text_features" / "qid7.npz") as a:
        assert a["last_hidden_state"].tobytes() == b["last_hidden_state"].tobytes()
    again = built(qvhighlights.main, root / "hub2", "--annotations", str(out), "--features-dir", str(out))
    assert_same_rows(rows(hub, "slowfast-clip"), rows(again, "slowfast-clip"))
    assert_deterministic(hub, "slowfast-clip", "moment_detr", out)


# ---------------------------------------------------------------- bad input


def _refused(capsys, tmp_path, argv, message) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    assert export(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written, no temporary left


def test_bad_input_is_one_line_exit_2_and_nothing_written(mrhisum_build, bliss_build, tmp_path, capsys):
    _, hub = mrhisum_build
    out = str(tmp_path / "out")
    _refused(capsys, tmp_path, [str(hub), "--config", "yt8m", "--format", "tfrecord", "--out", out], "unknown format")
    _refused(capsys, tmp_path, [str(hub), "--config", "nope", "--format", "mrhisum", "--out", out], "no config 'nope'")
    _refused(capsys, tmp_path, [str(tmp_path / "hub-missing"), "--config", "yt8m", "--format", "mrhisum", "--out", out],
             "no build at")
    _refused(capsys, tmp_path, [str(hub), "--config", "yt8m", "--format", "a2summ", "--out", out],
             "lacks sentence features (sentences_*), sentences")
    _refused(capsys, tmp_path, [str(hub), "--config", "yt8m", "--format", "moment_detr", "--out", out], "lacks")
    _refused(capsys, tmp_path, [str(bliss_build[2]), "--config", "clip-roberta", "--format", "mrhisum", "--out", out],
             "lacks frame_scores, change_points, user_summary, n_frames")
    _refused(capsys, tmp_path, [str(hub), "--config", "yt8m", "--format", "mrhisum", "--out", out, "--splits", "3"],
             "--splits K")
    _refused(capsys, tmp_path, [str(hub), "--config", "yt8m", "--format", "eccv16h5", "--out", out, "--splits", "0"],
             "at least 1")
    _refused(capsys, tmp_path, [str(hub), "--config", "yt8m", "--format", "eccv16h5", "--out", out, "--split", "dev"],
             "unknown split 'dev'")
    _refused(capsys, tmp_path, [str(hub), "--config", "yt8m", "--format", "mrhisum"], "--out")  # argparse: one line too
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "mine.txt").write_text("keep me")
    _refused(capsys, tmp_path, [str(hub), "--config", "yt8m", "--format", "mrhisum", "--out", str(tmp_path / "full")],
             "exists and is not empty")
    assert (tmp_path / "full" / "mine.txt").read_text() == "keep me"
    assert export([str(hub), "--config", "yt8m", "--format", "mrhisum", "--out", str(tmp_path / "full"), "--overwrite"]) == 0
    assert not (tmp_path / "full" / "mine.txt").exists() and (tmp_path / "full" / "mr_hisum.h5").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]  # no temporary or old directory left


def test_annotation_only_config_is_refused(tmp_path, capsys):
    root = write_mrhisum(tmp_path / "release", features=False)
    hub = built(mrhisum.main, tmp_path / "hub", "--h5", str(root / "mr_hisum.h5"), "--metadata", str(root / "metadata.csv"))
    for fmt in ("eccv16h5", "mrhisum"):
        assert export([str(hub), "--config", "annotations", "--format", fmt, "--out", str(tmp_path / "o")]) == 2
        assert "lacks frame features (frames_*)" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_row_the_format_cannot_carry_leaves_nothing(eccv16_build, tmp_path, capsys):
    """Rows are checked as they stream: a failure midway removes the temporary directory."""
    _, _, hub = eccv16_build
    assert export([str(hub), "--config", "googlenet", "--format", "mrhisum", "--out", str(tmp_path / "o")]) == 2
    assert "not one step per frame" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- a2summ (news: Daily Mail)


def test_greedy_rouge_oracle_picks_the_sentences_that_match_the_highlights():
    from rouge_score import rouge_scorer

    from builders.export.a2summ import oracle_labels

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=True)
    sentences = ["The weather was mild.", "A man was rescued from the river.", "Police said he was very lucky.",
                 "Shops opened late."]
    assert oracle_labels(sentences, "A man was rescued from the river. Police said he was lucky.", scorer) == [0, 1, 1, 0]
    assert oracle_labels(["Nothing alike.", "At all."], "zebra", scorer) == [1, 0]  # at least one: k >= 1 in A2Summ


@pytest.mark.slow
def test_dailymail_build_as_a2summ_msmo_layout(tmp_path):
    from builders.core.base import build
    from builders.core.extraction import builder_job
    from builders.mmavs import MMAVS
    from tests.test_mmavs import dailymail_release

    dailymail_release(tmp_path / "MM-AVS", n=6)
    build(MMAVS("dailymail", tmp_path / "MM-AVS", visual="colorhist", text="minilm"), out=tmp_path / "hub",
          work=tmp_path / "work", job=builder_job(workers=0), progress=False)
    before = rows(tmp_path / "hub", "colorhist-minilm")
    out = exported(tmp_path / "hub", "colorhist-minilm", "a2summ", tmp_path / "Daily_Mail")
    seen = set()
    for split in ("train", "test"):
        gt = json.loads((out / "annotation" / f"{split}.json").read_text())
        video = np.load(out / "feature" / f"video_resnet50_{split}.npy", allow_pickle=True).item()
        text = np.load(out / "feature" / f"text_roberta_{split}.npy", allow_pickle=True).item()
        summ = np.load(out / "feature" / f"video_summ_resnet50_{split}.npy", allow_pickle=True).item()
        for rid, ann in gt.items():
            split0, row = before[rid]
            assert (split0 == "test") == (split == "test")
            assert same(video[rid], row["frames_colorhist"]) and same(text[rid], row["sentences_minilm"])
            assert ann["article_sentence"] == [s["text"] for s in row["sentences"]] and ann["highlight"] == row["highlights"]
            assert sum(ann["video_label"]) == len(summ[rid])  # MSMODataset's assert
            assert sum(ann["text_label"]) >= 1 and len(ann["text_label"]) == len(row["sentences"])
            seen.add(rid)
    assert seen == set(before)
    record = json.loads((out / "export.json").read_text())
    text = record["encoders"][1]  # not RoBERTa: the file name A2Summ opens, the encoder recorded here
    assert text["file"] == "text_roberta" and text["column"] == "sentences_minilm"
    assert text["extractor"]["encoder"]["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert "Daily_Mail" in record["rules"]["layout"] and record["rules"]["counts"]["text_label_greedy_rouge_oracle"] == len(seen)
    assert_deterministic(tmp_path / "hub", "colorhist-minilm", "a2summ", out)


def test_gtsummary_without_labels_is_the_keyshot_summary_of_the_scores():
    """TVSum builds have 20 user summaries and no frame_labels: gtsummary is the 15% keyshot summary at picks."""
    from builders.export.eccv16h5 import gtsummary

    picks = list(range(0, 100, 10))
    scores = [0.1, 0.1, 0.1, 0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]  # the shot [30, 44] stands out, 15 frames = 15%
    row = {"picks": picks, "frame_labels": None, "user_summary": [[0] * 100, [1] * 100], "frame_scores": scores,
           "n_frames": 100, "change_points": [[0, 29], [30, 44], [45, 99]]}
    counts: dict = {}
    assert gtsummary(row, counts).tolist() == [0, 0, 0, 1, 1, 0, 0, 0, 0, 0]  # picks 30 and 40 lie in the chosen shot
    assert counts == {"keyshots_of_frame_scores": 1}


@pytest.mark.slow  # a fresh interpreter imports datasets: ~10 s on a busy machine
def test_the_module_runs_as_a_command(tmp_path):
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "builders.export", str(tmp_path / "nope"), "--config", "c", "--format",
                          "a2summ", "--out", str(tmp_path / "out")], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "no build at" in res.stderr
    assert not (tmp_path / "out").exists()
