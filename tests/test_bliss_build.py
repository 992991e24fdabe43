"""`python -m builders.bliss` end to end: the sample, keyframes, bad input, the A2Summ import."""

import io
import json
import re
import shutil
import tarfile

import numpy as np
import pytest
from datasets import load_dataset
from hub_fixtures import built_bliss
from PIL import Image

from wds_checks import assert_wds_readable

from builders import bliss
from collectors.synthetic import write_video
from extractors.decode import iter_sampled_frames


def run_build(tmp_path, *args, workers: str | None = "0"):
    """One build; extraction runs inside this process (--workers 0) unless ``workers`` says otherwise:
    the sample build below runs the default local cluster of worker processes, and one test a
    scheduler by address."""
    out, work = tmp_path / "hub", tmp_path / "work"
    engine = ["--workers", workers] if workers is not None and "--scheduler" not in args else []
    code = bliss.main([*args, *engine, "--out", str(out), "--work", str(work), "--no-progress"])
    return code, out, work


@pytest.fixture(scope="module")
def sample_build(bliss_sample_dir, tmp_path_factory):
    """The session's sample build (tests/hub_fixtures.py: extraction in-process, shared with
    test_data, test_publish and test_train_eval); it exited 0. Read-only: copy what a test changes."""
    out, work = built_bliss(bliss_sample_dir, tmp_path_factory.getbasetemp())
    return 0, out, work


def test_sample_build_loads_offline_with_counts_as_recorded(sample_build):
    code, out, _ = sample_build
    assert code == 0
    build = json.loads((out / "build.json").read_text())
    record = build["configs"]["colorhist-minilm"]
    assert record["failures"]["items"] == []
    ds = load_dataset(str(out), "colorhist-minilm")
    assert set(ds) == {"train", "validation", "test"}
    for split in ds:
        assert ds[split].num_rows == record["splits"][split]["num_examples"] == record["stats"][split]["examples"]
    assert sum(ds[s].num_rows for s in ds) == 9  # 2 + 2 + 2 + 3 clips of the four sample streams
    assert list(ds["train"].features)[:3] == ["id", "video_id", "clip_index"]  # schema order kept
    videos = {s: set(ds[s]["video_id"]) for s in ds}
    assert not (videos["train"] & videos["test"]) and not (videos["train"] & videos["validation"])
    assert not (videos["validation"] & videos["test"])


def test_sample_rows_are_consistent(sample_build):
    _, out, _ = sample_build
    ds = load_dataset(str(out), "colorhist-minilm")
    for split in ds:
        for ex in ds[split]:
            frames = np.array(ex["frames_colorhist"], dtype=np.float32)
            T = len(ex["frame_times"])
            assert frames.shape == (T, 256)
            assert T == round(ex["duration"])  # 1 fps
            assert np.allclose(ex["frame_times"], np.arange(T) + 0.5)
            assert len(ex["frame_labels"]) == T and sum(ex["frame_labels"]) == len(ex["keyframe_colorhist"]) >= 1
            assert all(0 <= k < T for k in ex["keyframe_colorhist"])
            N = len(ex["sentences"])
            assert np.array(ex["sentences_minilm"]).shape == (N, 384) and len(ex["sentence_labels"]) == N
            for s in ex["sentences"]:
                assert 0.0 <= s["start"] <= s["end"] <= ex["duration"]
            assert ex["clip_start"] == 300 * ex["clip_index"] and ex["clip_end"] - ex["clip_start"] == ex["duration"]
            # key sentences are exactly those containing a keyword
            for s, label in zip(ex["sentences"], ex["sentence_labels"]):
                has = any(re.search(rf"\b{re.escape(k)}\b", s["text"], re.IGNORECASE) for k in ex["keywords"])
                assert bool(label) == has
            assert ex["summary"] and ex["keywords"]
            assert np.array(ex["thumbnail_colorhist"]).shape[1] == 256


def test_sample_has_a_short_last_clip_and_straddling_sentences_once(sample_build, bliss_sample_dir):
    _, out, _ = sample_build
    ds = load_dataset(str(out), "colorhist-minilm")
    rows = [ex for s in ds for ex in ds[s]]
    assert any(ex["duration"] < 300 for ex in rows) and any(ex["duration"] == 300 for ex in rows)
    for vid_dir in sorted(p for p in bliss_sample_dir.iterdir() if p.is_dir()):
        transcript = json.loads((vid_dir / "transcript.json").read_text())
        straddling = [s for s in transcript if int(s["start"] // 300) != int(s["end"] // 300)]
        assert straddling, vid_dir.name
        published = [s["text"] for ex in rows if ex["video_id"] == vid_dir.name for s in ex["sentences"]]
        for s in straddling:
            assert published.count(s["text"]) == transcript_count(transcript, s["text"])


def transcript_count(transcript, text):
    return sum(1 for s in transcript if s["text"] == text)


def test_sample_keyframes_follow_the_rule_on_the_published_features(sample_build):
    """keyframe_<visual>: per thumbnail frame, the clip frame with the highest cosine, recomputed here."""
    _, out, _ = sample_build
    ds = load_dataset(str(out), "colorhist-minilm")
    for ex in (ex for s in ds for ex in ds[s]):
        frames = np.array(ex["frames_colorhist"], np.float64)
        thumbs = np.array(ex["thumbnail_colorhist"], np.float64)
        assert len(thumbs) >= 4  # the sample's animations have 4 to 6 frames
        sims = (thumbs / np.linalg.norm(thumbs, axis=1, keepdims=True)) @ (frames / np.linalg.norm(frames, axis=1, keepdims=True)).T
        expected = sorted({int(np.argmax(row)) for row in sims})
        assert ex["keyframe_colorhist"] == expected


def test_webdataset_tars_hold_the_same_rows(sample_build):
    _, out, _ = sample_build
    ds = load_dataset(str(out), "colorhist-minilm", split="train")
    by_id = {ex["id"]: ex for ex in ds}
    found = {}
    for tar in (out / "wds/colorhist-minilm").glob("train-*.tar.gz"):
        with tarfile.open(tar) as tf:
            for m in tf.getmembers():
                key, ext = m.name.split(".", 1)
                found.setdefault(key, {})[ext] = tf.extractfile(m).read()
    assert set(found) == set(by_id)
    for key, files in found.items():
        frames = np.load(io.BytesIO(files["frames_colorhist.npy"]))
        assert np.array_equal(frames, np.array(by_id[key]["frames_colorhist"], dtype=np.float32))
        assert json.loads(files["json"])["summary"] == by_id[key]["summary"]
    assert_wds_readable(out)


def test_card_describes_the_build(sample_build):
    _, out, _ = sample_build
    card = (out / "README.md").read_text()
    build = json.loads((out / "build.json").read_text())
    assert card.startswith("---\n") and "config_name: colorhist-minilm" in card
    assert "dataset_info:" in card and "license: apache-2.0" in card and "task_categories:" in card
    sha = build["configs"]["colorhist-minilm"]["extractors"]["text"]["weights_sha256"]
    assert len(sha) == 64 and sha[:16] in card
    assert "@inproceedings{he2023a2summ" in card
    n_train = build["configs"]["colorhist-minilm"]["splits"]["train"]["num_examples"]
    assert f"| train | {n_train} |" in card
    assert str(out) not in card and str(out.parent) not in card  # the build machine's directories stay home
    assert 'load_dataset("path/to/bliss-sample", "colorhist-minilm")' in card


def test_card_sizes_are_the_arrow_sizes_load_dataset_reads(sample_build):
    import yaml

    _, out, _ = sample_build
    meta = yaml.safe_load((out / "README.md").read_text().split("---\n")[1])
    (info,) = meta["dataset_info"]
    ds = load_dataset(str(out), "colorhist-minilm")
    sizes = {s["name"]: s["num_bytes"] for s in info["splits"]}
    assert sizes == {split: ds[split].data.nbytes for split in ds}
    parquet = sum(p.stat().st_size for p in (out / "data/colorhist-minilm").glob("*.parquet"))
    assert info["download_size"] == parquet < info["dataset_size"] == sum(sizes.values())


def test_card_shows_one_example_drawn_with_stills_of_its_video(sample_build):
    _, out, _ = sample_build
    record = json.loads((out / "build.json").read_text())["configs"]["colorhist-minilm"]
    assert record["figure"] == "figures/colorhist-minilm.png"
    figure = Image.open(out / record["figure"])
    assert figure.width > 800 and figure.height > 500  # timelines, transcript and a row of stills
    assert "](figures/colorhist-minilm.png)" in (out / "README.md").read_text()


def test_rerun_reuses_extracted_features_and_gives_the_same_dataset(sample_build, bliss_sample_dir, tmp_path):
    _, out, shared_work = sample_build
    work = shutil.copytree(shared_work, tmp_path / "work")  # copy2 keeps the mtimes; the shared build stays as built
    cached = sorted(work.rglob("*.parquet"))
    mtimes = [p.stat().st_mtime_ns for p in cached]
    out2 = tmp_path / "again"
    code = bliss.main(["--sample-dir", str(bliss_sample_dir), "--out", str(out2), "--work", str(work), "--no-progress",
                       "--workers", "1"])  # a local cluster; the shared build ran in-process
    assert code == 0
    assert [p.stat().st_mtime_ns for p in cached] == mtimes  # nothing re-extracted, on another engine too
    a = load_dataset(str(out), "colorhist-minilm", split="test")
    b = load_dataset(str(out2), "colorhist-minilm", split="test")
    assert a["id"] == b["id"] and a["frames_colorhist"] == b["frames_colorhist"]


@pytest.mark.slow
def test_build_on_a_running_scheduler_equals_the_local_build(sample_build, bliss_sample_dir, tmp_path):
    """--scheduler ADDRESS: the extraction job runs on someone else's cluster; the dataset is the same."""
    from distributed import LocalCluster

    _, out, _ = sample_build
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        code, out2, work2 = run_build(tmp_path, "--sample-dir", str(bliss_sample_dir), "--scheduler",
                                      cluster.scheduler_address, "--shard-size", "3")
        worker_pids = {nanny.process.pid for nanny in cluster.workers.values()}
    assert code == 0
    job = json.loads((out2 / "build.json").read_text())["configs"]["colorhist-minilm"]["extraction_job"]
    assert job["engine"]["scheduler"] == cluster.scheduler_address
    assert {w["pid"] for w in job["workers"].values()} <= worker_pids
    assert job["totals"]["items_run"] == 12  # 4 videos x (colorhist, minilm, thumbnail), none in this process
    plan = json.loads((work2 / "features" / "plan.json").read_text())
    assert [len(s["items"]) for s in plan["shards"]] == [3, 1]
    for split in ("train", "validation", "test"):
        a = load_dataset(str(out), "colorhist-minilm", split=split)
        b = load_dataset(str(out2), "colorhist-minilm", split=split)
        assert a["id"] == b["id"]
        assert a["frames_colorhist"] == b["frames_colorhist"] and a["sentences_minilm"] == b["sentences_minilm"]


# ------------------------------------------------------------------ keyframes, exactly


def _coloured_frame(second: int, sub: int) -> np.ndarray:
    """Distinct colour layouts per second (so colour histograms differ), constant within a second."""
    rng = np.random.default_rng(second)
    frame = np.zeros((96, 128, 3), np.uint8)
    for _ in range(6):
        y, x = rng.integers(0, 80), rng.integers(0, 110)
        frame[y:y + 24, x:x + 32] = rng.integers(0, 256, 3)
    return frame


def write_raw_video(root, vid, seconds=40, fps=5, thumbnails=None, transcript=None, annotations=None):
    d = root / vid
    d.mkdir(parents=True)
    write_video(d / "video.mp4", (_coloured_frame(i // fps, i % fps) for i in range(seconds * fps)), fps=fps)
    transcript = transcript if transcript is not None else [
        {"start": 1.0, "end": 4.0, "text": "I start with the red square."},
        {"start": 6.0, "end": 9.5, "text": "Now some blue."},
    ]
    (d / "transcript.json").write_text(json.dumps(transcript))
    (d / "metadata.json").write_text(json.dumps({"title": vid, "description": "", "creative_fields": [], "tools": [],
                                                 "streamer": "t", "url": ""}))
    (d / "annotations.json").write_text(json.dumps(annotations or {"clips": [{"index": 0, "keywords": ["red"], "summary": "red"}]}))
    if thumbnails is not None:
        (d / "thumbnail").mkdir()
        for k, img in enumerate(thumbnails):
            Image.fromarray(img).save(d / "thumbnail" / f"{k:03d}.png")
    return d


def test_thumbnail_frame_that_copies_clip_frame_k_labels_frame_k(tmp_path):
    raw = tmp_path / "raw"
    d = write_raw_video(raw, "exact", thumbnails=[])
    decoded = [f for _, f in iter_sampled_frames(d / "video.mp4", fps=1)]
    for k, idx in enumerate((7, 23)):
        Image.fromarray(decoded[idx]).save(d / "thumbnail" / f"{k:03d}.png")
    code, out, _ = run_build(tmp_path, "--source", "raw", "--input", str(raw), "--visual", "colorhist", "--text", "minilm")
    assert code == 0
    ex = load_dataset(str(out), "colorhist-minilm", split="train")[0]
    assert ex["keyframe_colorhist"] == [7, 23]
    assert [i for i, v in enumerate(ex["frame_labels"]) if v] == [7, 23]
    assert ex["sentence_labels"] == [1, 0]


# ------------------------------------------------------------------ bad input


def test_bad_items_are_recorded_and_the_others_built(tmp_path, bliss_sample_dir, capsys):
    raw = tmp_path / "raw"
    good = [np.full((96, 128, 3), c, np.uint8) for c in (30, 200)]
    write_raw_video(raw, "good", thumbnails=good)
    corrupt = write_raw_video(raw, "corrupt", thumbnails=good)
    (corrupt / "video.mp4").write_bytes(b"\x00\x01 not a video" * 1000)
    write_raw_video(raw, "backwards", thumbnails=good,
                    transcript=[{"start": 1.0, "end": 2.0, "text": "fine"}, {"start": 9.0, "end": 3.0, "text": "ends first"}])
    write_raw_video(raw, "nothumb", thumbnails=None)
    code, out, _ = run_build(tmp_path, "--source", "raw", "--input", str(raw), "--visual", "colorhist", "--text", "minilm")
    assert code == 3
    record = json.loads((out / "build.json").read_text())["configs"]["colorhist-minilm"]
    fails = {f["id"]: f for f in record["failures"]["items"]}
    assert record["failures"]["by_kind"] == {"bad_media": 1, "bad_transcript": 1, "no_thumbnail": 1}
    assert fails["corrupt"]["kind"] == "bad_media" and "video.mp4" in fails["corrupt"]["message"]
    assert fails["backwards"]["kind"] == "bad_transcript" and "sentence 1" in fails["backwards"]["message"]
    assert fails["nothumb"]["kind"] == "no_thumbnail"
    printed = capsys.readouterr().out
    for vid in ("corrupt", "backwards", "nothumb"):
        assert f"{vid}: {fails[vid]['kind']}" in printed
    ds = load_dataset(str(out), "colorhist-minilm")
    assert [ex["video_id"] for s in ds for ex in ds[s]] == ["good"]


def test_video_that_breaks_during_decoding_is_bad_media(tmp_path):
    raw = tmp_path / "raw"
    d = write_raw_video(raw, "truncated", thumbnails=[np.zeros((8, 8, 3), np.uint8)])
    data = (d / "video.mp4").read_bytes()
    good = write_raw_video(raw, "fine", thumbnails=[np.zeros((8, 8, 3), np.uint8)])
    # Keep the header (moov first? no: x264+mp4 writes moov at the end) -> garble the middle instead.
    mid = len(data) // 2
    (d / "video.mp4").write_bytes(data[:mid] + bytes(len(data) - mid))
    code, out, _ = run_build(tmp_path, "--source", "raw", "--input", str(raw), "--visual", "colorhist", "--text", "minilm")
    record = json.loads((out / "build.json").read_text())["configs"]["colorhist-minilm"]
    ids_ok = {v for ids in record["items"]["ids_by_split"].values() for v in ids}
    assert "fine" in ids_ok and good.name == "fine"
    # Either the frames before the damage are built, or the item is a recorded bad_media failure: never silent.
    if "truncated" not in ids_ok:
        assert {f["id"]: f["kind"] for f in record["failures"]["items"]}["truncated"] == "bad_media"
        assert code == 3


def test_unknown_visual_name_is_a_clear_usage_error(tmp_path, capsys):
    code, out, _ = run_build(tmp_path, "--visual", "resnet9000")
    assert code == 2
    err = capsys.readouterr().err
    assert "unknown visual extractor 'resnet9000'" in err and "colorhist" in err and "clip" in err
    assert not (out / "build.json").exists()


@pytest.mark.parametrize("flag, name, expected", [("--visual", "clip", "--weights clip=PATH"), ("--text", "roberta", "--weights roberta=PATH")])
def test_missing_weights_offline_names_the_flag(tmp_path, monkeypatch, capsys, bliss_sample_dir, flag, name, expected):
    monkeypatch.setenv("VSUMHUB_CACHE", str(tmp_path / "empty-cache"))
    code, out, _ = run_build(tmp_path, "--sample-dir", str(bliss_sample_dir), flag, name)
    assert code == 2
    err = capsys.readouterr().err
    assert expected in err and "not found" in err


def test_missing_input_dir_for_raw(tmp_path, capsys):
    code, _, _ = run_build(tmp_path, "--source", "raw")
    assert code == 2 and "the following arguments are required: --input" in capsys.readouterr().err


# ------------------------------------------------------------------ A2Summ release


def test_a2summ_import_round_trips(tmp_path):
    from a2summ_fixtures import write_a2summ_release

    release = write_a2summ_release(tmp_path / "release", np.random.default_rng(7))
    code, out, _ = run_build(tmp_path, "--source", "a2summ", "--input", str(tmp_path / "release"))
    assert code == 0
    ds = load_dataset(str(out), "clip-roberta")
    seen = 0
    for split in ds:
        for ex in ds[split]:
            src_split = "test" if split == "test" else "train"
            content = release[src_split]
            assert np.array_equal(np.array(ex["frames_clip"], np.float32), content["video_clip"][ex["id"]])
            assert np.array_equal(np.array(ex["sentences_roberta"], np.float32), content["text_roberta"][ex["id"]])
            assert np.array_equal(np.array(ex["thumbnail_clip"], np.float32), content["video_summ_clip"][ex["id"]])
            ann = content["annotation"][ex["id"]]
            assert ex["frame_labels"] == ann["video_label"] and ex["sentence_labels"] == ann["text_label"]
            assert [s["text"] for s in ex["sentences"]] == ann["sentence"] and ex["summary"] == ann["highlight"]
            seen += 1
    assert seen == sum(len(release[s]["annotation"]) for s in ("train", "test"))
    assert "validation" in ds
    record = json.loads((out / "build.json").read_text())["configs"]["clip-roberta"]
    for split in ds:
        assert record["stats"][split]["examples"] == ds[split].num_rows
        assert record["stats"][split]["videos"] == len(set(ds[split]["video_id"]))
        assert record["stats"][split]["seconds"] == sum(ds[split]["duration"])
    frames = sum(a["num_frame"] for c in release.values() for a in c["annotation"].values())
    assert sum(s["frames"] for s in record["stats"].values()) == frames


def test_changed_transcript_is_re_encoded_not_served_from_the_cache(tmp_path):
    raw = tmp_path / "raw"
    d = write_raw_video(raw, "v", thumbnails=[np.full((8, 8, 3), 90, np.uint8)])
    args = ["--source", "raw", "--input", str(raw), "--visual", "colorhist", "--text", "minilm"]
    assert run_build(tmp_path, *args)[0] == 0
    transcript = json.loads((d / "transcript.json").read_text())
    transcript[1]["text"] = "A completely different sentence about red paint."
    (d / "transcript.json").write_text(json.dumps(transcript))
    code, out, _ = run_build(tmp_path, *args)
    assert code == 0
    ex = load_dataset(str(out), "colorhist-minilm", split="train")[0]
    assert ex["sentences"][1]["text"].startswith("A completely different")
    from extractors.registry import get_extractor

    expected = get_extractor("minilm").encode_texts([s["text"] for s in ex["sentences"]])
    assert np.allclose(np.array(ex["sentences_minilm"], np.float32), expected, atol=1e-5)
    assert ex["sentence_labels"] == [1, 1]


def test_a2summ_release_with_a_missing_or_unsafe_file_is_a_clear_error(tmp_path, capsys):
    import os

    from a2summ_fixtures import write_a2summ_release

    release = tmp_path / "release"
    write_a2summ_release(release, np.random.default_rng(3))
    (release / "feature" / "text_roberta_test.npy").unlink()
    code, out, _ = run_build(tmp_path, "--source", "a2summ", "--input", str(release))
    assert code == 2 and "text_roberta_test.npy" in capsys.readouterr().err
    assert not (out / "data").exists() or not any((out / "data").iterdir())  # nothing half-written

    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    np.save(release / "feature" / "text_roberta_test.npy", {"x": Evil()}, allow_pickle=True)
    code, _, _ = run_build(tmp_path, "--source", "a2summ", "--input", str(release))
    assert code == 2 and "refusing to unpickle" in capsys.readouterr().err
    assert not (tmp_path / "pwned").exists()
