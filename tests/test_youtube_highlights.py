"""YouTube Highlights in UMT's layout: synthetic files written the way UMT's dataset code reads them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import load_dataset

from builders.youtube_highlights import main
from cards.pages import resolve
from models.evaluate import main as evaluate
from models.metrics.highlight import youtube_highlights_ap

STATIC_PY = '''# a file shaped like UMT's datasets/utils/static.py (only the literal is read, never run)
import os
YOUTUBE_SPLITS = {
    'dog': {'train': ['dogA', 'dogB', 'dogBroken'], 'val': ['dogC', 'dogGone']},
    'parkour': {'train': ['parA'], 'val': ['parB', 'parNoOpt']},
}
TVSUM_SPLITS = {'BK': {'train': ['x'], 'val': ['y']}}
'''


@pytest.fixture(scope="module")
def umt(tmp_path_factory):
    root = tmp_path_factory.mktemp("youtube")
    rng = np.random.default_rng(0)
    (root / "video_features").mkdir()
    (root / "audio_features").mkdir()
    anno = {}
    for vid, clips in {"dogA": 12, "dogB": 9, "dogC": 10, "parA": 8, "parB": 11, "parNoOpt": 6, "dogBroken": 5}.items():
        match = rng.integers(-1, 2, clips).tolist()
        anno[vid] = {"match": match, "domain": vid[:3]}
        np.save(root / "video_features" / f"{vid}_rgb.npy", rng.random((clips, 6)).astype(np.float32))
        if vid != "parNoOpt":
            np.save(root / "video_features" / f"{vid}_opt.npy", rng.random((clips + 1, 4)).astype(np.float32))
        np.save(root / "audio_features" / f"{vid}.npy", rng.random((clips - 1 if vid == "dogA" else clips, 5)))
    anno["dogBroken"]["match"] = ["high", "low"]
    (root / "youtube_anno.json").write_text(json.dumps(anno))
    (root / "static.py").write_text(STATIC_PY)
    out = root / "hub"
    assert main(["--input", str(root), "--splits", str(root / "static.py"), "--out", str(out),
                 "--work", str(root / "work"), "--no-progress"]) == 3
    return root


def test_a_config_per_domain_with_umt_features(umt):
    dog = load_dataset(str(umt / "hub"), "dog")
    assert {s: dog[s].num_rows for s in dog} == {"train": 2, "test": 1}
    a = dog["train"].filter(lambda e: e["video_id"] == "dogA")[0]
    anno = json.loads((umt / "youtube_anno.json").read_text())["dogA"]["match"]
    rgb, opt = np.load(umt / "video_features/dogA_rgb.npy"), np.load(umt / "video_features/dogA_opt.npy")
    assert len(a["frame_times"]) == 11  # the audio has 11 clips: min(video 12, audio 11, labels 12), as UMT cuts
    np.testing.assert_allclose(np.array(a["frames_umt"]), np.concatenate([rgb[:11], opt[:11]], axis=1), rtol=1e-6)
    assert a["frame_labels"] == [int(m > 0) for m in anno[:11]] and a["match"] == anno[:11]
    assert a["frame_times"][:2] == [1.0, 3.0] and a["domain"] == "dog"
    parkour = load_dataset(str(umt / "hub"), "parkour")
    assert parkour["train"].num_rows == 1 and parkour["test"].num_rows == 1
    build = json.loads((umt / "hub/build.json").read_text())
    failures = {f["id"]: f["kind"] for f in build["configs"]["dog"]["failures"]["items"]}
    assert failures == {"parNoOpt": "unavailable", "dogBroken": "bad_annotation"}
    assert build["configs"]["dog"]["left_out_not_in_annotations"] == ["dogGone"]
    assert "Sun, Min" in resolve(build["card"]["citation"]) and "highlight-detection" in build["card"]["tags"]


def test_evaluated_with_umts_ap(umt, tmp_path, capsys):
    test = load_dataset(str(umt / "hub"), "dog", split="test")[0]
    pred = np.linspace(1, 0, len(test["frame_labels"]))
    path = tmp_path / "preds.json"
    path.write_text(json.dumps({"dogC": pred.tolist()}))
    assert evaluate(["--dataset", str(umt / "hub"), "--config", "dog", "--split", "test", "--predictions", str(path),
                     "--format", "mrhisum", "--json"]) == 0  # a {video_id: scores} JSON
    assert json.loads(capsys.readouterr().out) == {"mAP": pytest.approx(youtube_highlights_ap(pred, test["frame_labels"]))}
    assert evaluate(["--dataset", str(umt / "hub"), "--config", "dog", "--baseline", "random", "--json"]) == 0
    assert 0 <= json.loads(capsys.readouterr().out)["mAP"] <= 1


def test_a_json_split_file_and_bad_inputs(umt, tmp_path, capsys):
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps({"parkour": {"train": ["parA"], "val": ["parB"]}}))
    assert main(["--input", str(umt), "--splits", str(splits), "--out", str(tmp_path / "hub"), "--no-progress",
                 "--work", str(tmp_path / "w")]) == 0
    assert load_dataset(str(tmp_path / "hub"), "parkour", split="test").num_rows == 1
    bad = tmp_path / "bad.json"
    for content, message in ((json.dumps({"cats": {"train": []}}), "unknown domain 'cats'"),
                             (json.dumps({"dog": {"train": ["a"], "val": ["a"]}}), "listed twice"),
                             ("x = 1\n", "defines no YOUTUBE_SPLITS")):
        bad = bad.with_suffix(".py" if content.startswith("x") else ".json")
        bad.write_text(content)
        assert main(["--input", str(umt), "--splits", str(bad), "--out", str(tmp_path / "o")]) == 2
        assert message in capsys.readouterr().err
    assert main(["--input", str(tmp_path), "--splits", str(splits), "--out", str(tmp_path / "o")]) == 2
    assert "youtube_anno.json not found" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_our_extractors_on_the_videos(umt, tmp_path):
    from builders.core.base import build
    from builders.core.extraction import builder_job
    from builders.youtube_highlights import YouTubeHighlights
    from collectors.synthetic import write_video

    videos = tmp_path / "videos"
    videos.mkdir()
    for vid, seconds in (("dogA", 20), ("dogC", 8)):  # dogA: 10 clips of video for 12 labels; dogB: no file
        colours = np.random.default_rng(len(vid) + seconds).integers(0, 255, (seconds // 2, 3))
        write_video(videos / f"{vid}.mp4", (np.broadcast_to(colours[i // 20], (32, 48, 3)).astype(np.uint8).copy()
                                            for i in range(seconds * 10)), fps=10)
    splits = tmp_path / "splits.json"
    splits.write_text(json.dumps({"dog": {"train": ["dogA", "dogB"], "val": ["dogC"]}}))
    built = build(YouTubeHighlights(umt, splits, videos, visual="colorhist", motion=None, audio=None),
                  out=tmp_path / "hub", work=tmp_path / "work", job=builder_job(workers=0), progress=False)
    assert built.status == 3 and [f["kind"] for f in built.records["dog-colorhist"]["failures"]["items"]] == ["unavailable"]
    a = load_dataset(str(tmp_path / "hub"), "dog-colorhist", split="train")[0]
    anno = json.loads((umt / "youtube_anno.json").read_text())["dogA"]["match"]
    assert np.array(a["frames_colorhist"]).shape == (10, 256) and a["frame_times"][-1] == 19.0
    assert a["frame_labels"] == [int(m > 0) for m in anno[:10]]  # labels cut to the clips the video has
    assert "frames_umt" not in a
    with pytest.raises(Exception, match="--motion colorhist"):
        build(YouTubeHighlights(umt, splits, videos, visual="colorhist", motion="colorhist", audio=None),
              out=tmp_path / "x", work=tmp_path / "w2", job=builder_job(workers=0), progress=False)
