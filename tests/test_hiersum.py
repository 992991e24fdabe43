"""builders.hiersum end to end against a loopback server: info files, subtitles, media, an article."""

import json

import numpy as np
import pytest
from datasets import load_dataset

from wds_checks import assert_wds_readable

from builders import hiersum
from test_youtube import PHRASE, FIXTURES, Server, make_info, needs_jfk, server  # noqa: F401  (the module-scoped loopback server)

ARTICLE = FIXTURES / "articles" / "wikihow_repot_houseplant.html"


@pytest.fixture(scope="module")
def article_server(server):  # noqa: F811
    server.files["Make-a-Paper-Airplane"] = ARTICLE.read_bytes()
    return server


def run(tmp_path, info_dir, *extra, whisper: bool = False):
    return hiersum.main(["--info-json", str(info_dir), "--out", str(tmp_path / "hub"), "--work", str(tmp_path / "work"),
                         "--visual", "colorhist", "--text", "minilm", "--no-progress",
                         "--sleep", "0", "--retries", "1", "--timeout", "2", "--min-views", "50000",
                         *([] if whisper else ["--no-whisper"]),
                         "--workers", "0", *extra])  # extraction inside this process: quick to start


@pytest.fixture
def info_dir(article_server, tmp_path):
    d = tmp_path / "info"
    d.mkdir()
    make_info(article_server, d)  # Xq3Ok-Hn0aE: manual subtitles, heatmap, links the article
    make_info(article_server, d, vid="noHeatmap01", heatmap=None,
              description="Quick tips for folding.\nSubscribe for more! https://www.youtube.com/@wikihow")
    make_info(article_server, d, vid="fewViews001", view_count=1200)
    broken = json.loads(make_info(article_server, d, vid="brokenMedia").read_text())
    for f in broken["formats"]:
        f["url"] = f["url"].replace("/media/clip.mp4", "/404/clip.mp4")
    (d / "brokenMedia.info.json").write_text(json.dumps(broken))
    return d


def test_build_from_info_files(tmp_path, info_dir, article_server):
    mirror = f"https://www.wikihow.com={article_server.base}/media"
    code = run(tmp_path, info_dir, "--article-mirror", mirror)
    assert code == 3  # brokenMedia failed, recorded; the others built
    record = json.loads((tmp_path / "hub/build.json").read_text())["configs"]["colorhist-minilm"]
    assert {f["id"]: f["kind"] for f in record["failures"]["items"]} == {"brokenMedia": "unavailable"}
    assert record["collect"]["skipped"] == {"views": 1}  # fewViews001 below --min-views: skipped, not failed
    assert_wds_readable(tmp_path / "hub")
    ds = load_dataset(str(tmp_path / "hub"), "colorhist-minilm")
    rows = {ex["id"]: ex for s in ds for ex in ds[s]}
    assert set(rows) == {"Xq3Ok-Hn0aE", "noHeatmap01"}

    ex = rows["Xq3Ok-Hn0aE"]
    assert ex["global_source"] == "article" and ex["article_url"] == "https://www.wikihow.com/Make-a-Paper-Airplane"
    assert len(ex["steps"]) >= 3 and np.array(ex["steps_minilm"]).shape == (len(ex["steps"]), 384)
    assert ex["transcript_source"] == "manual" and ex["sentences"][0]["text"] == "Hi, I'm Sarah from wikiHow."
    assert np.array(ex["sentences_minilm"]).shape == (len(ex["sentences"]), 384)
    T = len(ex["frame_times"])
    assert np.array(ex["frames_colorhist"]).shape == (T, 256) and T == 2  # the served clip is 2 s long
    heat = ex["heatmap"]
    for t, score in zip(ex["frame_times"], ex["frame_scores"]):
        marker = next(h for h in heat if h["start"] <= t < h["end"])
        assert score == pytest.approx(marker["value"])
    assert ex["frame_labels"] == [int(s >= 0.15) for s in ex["frame_scores"]]

    other = rows["noHeatmap01"]
    assert other["frame_scores"] is None and other["frame_labels"] is None
    assert other["global_source"] == "description" and other["steps"] == ["Quick tips for folding."]
    card = (tmp_path / "hub/README.md").read_text()
    assert "hiersum" in card.lower() and "author = {Beedu, Apoorva and Essa, Irfan}" in card
    assert "license: other" in card and "license_name: source-terms" in card and "license_link: https://" in card
    check_webdataset_loads(tmp_path / "hub", "colorhist-minilm", record, rows)


def check_webdataset_loads(hub, config, record, parquet_rows):
    """The tars load with the datasets webdataset loader, streaming or not, inferring the types or
    given them: every sample has the same members, whether its video has a most-replayed curve or not."""
    from builders.core.schema import NULL_COLUMNS
    from builders.core.writers import wds_features

    features = record["features"]
    for split, facts in record["splits"].items():
        files = {split: [str(hub / f) for f in facts["wds"]]}
        for streaming in (False, True):
            for given in (None, wds_features(datasets_features(features))):
                ds = load_dataset("webdataset", data_files=files, split=split, streaming=streaming, features=given)
                samples = {ex["json"]["id"]: ex for ex in ds}
                assert sorted(samples) == record["items"]["ids_by_split"][split]
                assert len(samples) == facts["num_examples"]
                for vid, ex in samples.items():
                    members = {k for k in ex if not k.startswith("__")}
                    # one .npy per [N, D] vector column; small arrays packed in json
                    assert members == {"json"} | {f"{c}.npy" for c in ("frames_colorhist", "sentences_minilm", "steps_minilm")}
                    row = parquet_rows[vid]
                    nulls = set(ex["json"][NULL_COLUMNS].split())
                    assert nulls == {c for c in ("frame_scores", "frame_labels") if row[c] is None}
                    for column, dtype in (("frame_scores", np.float32), ("frame_labels", np.int8), ("frame_times", np.float64)):
                        assert (ex["json"][column] is None) == (row[column] is None)
                        got = np.asarray(ex["json"][column] or [], dtype=dtype)  # inferred float64 reads back exactly
                        want = np.zeros(0, dtype) if row[column] is None else np.asarray(row[column], dtype=dtype)
                        assert got.shape == want.shape and np.array_equal(got, want)
                    got = np.asarray(ex["frames_colorhist.npy"], dtype=np.float64)
                    assert np.allclose(got, np.asarray(row["frames_colorhist"], dtype=np.float64).reshape(got.shape))
                    assert ex["json"]["title"] == row["title"]


def datasets_features(d):
    from datasets import Features

    return Features.from_dict(d)


def test_rerun_collects_nothing_again(tmp_path, info_dir, article_server):
    mirror = f"https://www.wikihow.com={article_server.base}/media"
    run(tmp_path, info_dir, "--article-mirror", mirror)
    hits = sum(article_server.hits.values())
    run(tmp_path, info_dir, "--article-mirror", mirror)
    record = json.loads((tmp_path / "hub/build.json").read_text())["configs"]["colorhist-minilm"]
    assert record["collect"]["ok"] == 0 and record["collect"]["already"] == 3  # 2 ok + 1 failed not retried
    assert sum(article_server.hits.values()) == hits  # no request at all: media, subtitles and the article cached


def test_article_that_404s_falls_back_to_the_description(tmp_path, info_dir, article_server):
    code = run(tmp_path, info_dir, "--article-mirror", f"https://www.wikihow.com={article_server.base}/404")
    assert code == 3
    ds = load_dataset(str(tmp_path / "hub"), "colorhist-minilm")
    ex = next(ex for s in ds for ex in ds[s] if ex["id"] == "Xq3Ok-Hn0aE")
    assert ex["global_source"] == "description" and ex["steps"][0].startswith("Learn how to fold")
    record = json.loads((tmp_path / "hub/build.json").read_text())["configs"]["colorhist-minilm"]
    assert [e["id"] for e in record["article_errors"]] == ["Xq3Ok-Hn0aE"]
    assert "unavailable" in record["article_errors"][0]["message"]
    assert record["text_sources"]["global:description"] == 2


@needs_jfk
def test_whisper_runs_as_an_extraction_job_for_videos_without_clean_subtitles(tmp_path, article_server):
    """jfkSpeech01 has only unclean automatic captions: the collector defers it, Whisper runs as a
    job, the transcript lands in the manifest and the dataset; a rerun transcribes nothing again."""
    d = tmp_path / "info"
    d.mkdir()
    formats = json.loads(make_info(article_server, tmp_path).read_text())["formats"]
    for f in formats:
        f["url"] = f["url"].replace("/media/clip.mp4", "/media/jfk.mp4")
    make_info(article_server, d, vid="jfkSpeech01", subtitles={}, formats=formats, duration=11)
    make_info(article_server, d)  # Xq3Ok-Hn0aE: clean manual subtitles, no Whisper needed
    mirror = f"https://www.wikihow.com={article_server.base}/media"
    assert run(tmp_path, d, "--article-mirror", mirror, whisper=True) == 0

    from collectors.youtube import latest_items

    items = {i.id: i for i in latest_items(tmp_path / "work" / "manifest.jsonl").values()}
    jfk = items["jfkSpeech01"]
    assert jfk.ok and jfk.transcript_source == "whisper" and "asr_pending" not in jfk.meta
    assert PHRASE in " ".join(s["text"] for s in jfk.transcript).lower()
    assert jfk.meta["whisper"]["model"] == "tiny.en" and jfk.meta["transcript"]["why"].startswith("Whisper, since:")
    assert items["Xq3Ok-Hn0aE"].transcript_source == "manual"

    record = json.loads((tmp_path / "hub/build.json").read_text())["configs"]["colorhist-minilm"]
    assert record["asr_job"]["totals"]["items_run"] == 1  # only the video that needed it
    assert record["text_sources"]["transcript:whisper"] == 1
    ds = load_dataset(str(tmp_path / "hub"), "colorhist-minilm")
    row = next(ex for s in ds for ex in ds[s] if ex["id"] == "jfkSpeech01")
    assert row["transcript_source"] == "whisper" and PHRASE in " ".join(x["text"] for x in row["sentences"]).lower()
    assert all(0 <= x["start"] <= x["end"] <= 11.5 for x in row["sentences"])

    assert run(tmp_path, d, "--article-mirror", mirror, whisper=True) == 0
    again = json.loads((tmp_path / "hub/build.json").read_text())["configs"]["colorhist-minilm"]
    assert again["asr_job"] is None and again["collect"]["already"] == 2


def test_an_empty_input_is_a_usage_error_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "info").mkdir()
    assert hiersum.main(["--info-json", str(tmp_path / "info"), "--out", str(tmp_path / "hub"),
                         "--work", str(tmp_path / "work"), "--workers", "0", "--no-progress"]) == 2
    assert "no videos" in capsys.readouterr().err
    assert not (tmp_path / "hub").exists()


def test_a_channel_that_cannot_be_listed_is_a_usage_error(tmp_path, article_server, capsys):
    code = hiersum.main(["--channel", f"{article_server.base}/404/channel", "--out", str(tmp_path / "hub"),
                         "--work", str(tmp_path / "work"), "--sleep", "0", "--retries", "0", "--timeout", "2",
                         "--workers", "0", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot be listed: unavailable" in err and "Traceback" not in err
    assert not (tmp_path / "hub").exists()


def test_bad_usage(tmp_path, capsys):
    assert hiersum.main(["--out", str(tmp_path)]) == 2
    assert "give --channel, --urls or --info-json" in capsys.readouterr().err
    assert hiersum.main(["--info-json", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert hiersum.main(["--info-json", str(tmp_path), "--article-mirror", "nonsense"]) == 2
