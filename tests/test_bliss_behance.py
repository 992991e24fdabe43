"""python -m builders.bliss --source behance end to end against the loopback behance.net stand-in:
crawl three livestreams, Whisper as a job for the one without a transcript, the unlabelled config,
keyframes from the crawled cover animations; then --source raw on the crawled directory once the
user has added annotations, and load_dataset on both hubs."""

from __future__ import annotations

import json

import pytest
from datasets import load_dataset

from behance_fixtures import JFK, KEYFRAMES_A, KEYFRAMES_B, PHRASE, UUID_A, UUID_B, UUID_C, BehanceServer, make_media
from builders.bliss import main

needs_jfk = pytest.mark.skipif(not JFK.exists(), reason=f"{JFK} absent (the ../shared/data folder is not here)")
ENCODERS = ["--visual", "colorhist", "--text", "minilm", "--workers", "0", "--no-progress"]
NET = ["--sleep", "0", "--retries", "2", "--timeout", "5"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = BehanceServer(make_media(tmp_path_factory.mktemp("behance-media")))
    yield s
    s.close()


def rows(hub, config):
    ds = load_dataset(str(hub), config)
    return {ex["video_id"]: ex for split in ds for ex in ds[split]}


@pytest.mark.slow
@needs_jfk
def test_crawl_build_then_annotate_and_build_raw(server, tmp_path):
    raw, work = tmp_path / "livestreams", tmp_path / "work"
    code = main(["--source", "behance", "--listing", f"{server.base}/live", "--raw-dir", str(raw),
                 "--out", str(tmp_path / "hub"), "--work", str(work), *NET, *ENCODERS])
    assert code == 3  # the removed stream failed, recorded; the other two built
    build = json.loads((tmp_path / "hub" / "build.json").read_text())
    assert list(build["configs"]) == ["colorhist-minilm-unlabelled"]  # a crawl has no annotations
    record = build["configs"]["colorhist-minilm-unlabelled"]
    assert record["labelled"] is False and "UNLABELLED" in record["labels_note"]
    assert {f["id"]: f["kind"] for f in record["failures"]["items"]} == {UUID_C: "unavailable"}
    assert record["crawl"]["ok"] == 2 and record["transcript_sources"] == {"provided": 1, "whisper": 1}
    assert record["asr_job"]["totals"]["items_run"] == 1  # Whisper ran for the stream without a transcript only
    assert "-unlabelled" in (tmp_path / "hub" / "README.md").read_text()

    got = rows(tmp_path / "hub", "colorhist-minilm-unlabelled")
    assert set(got) == {UUID_A, UUID_B}
    a, b = got[UUID_A], got[UUID_B]
    assert a["keyframe_colorhist"] == KEYFRAMES_A and b["keyframe_colorhist"] == KEYFRAMES_B  # from the cover animations
    assert [i for i, v in enumerate(a["frame_labels"]) if v] == KEYFRAMES_A
    assert len(a["thumbnail_colorhist"]) == len(KEYFRAMES_A)
    assert a["sentence_labels"] is None and a["summary"] is None and a["keywords"] is None  # unknown, not negative
    assert [s["text"] for s in a["sentences"]][0] == "Hi everyone, welcome back to the stream."
    assert PHRASE in " ".join(s["text"] for s in b["sentences"]).lower()
    assert (a["streamer"], a["tools"], b["streamer"]) == ("Rosa Ilves", ["Procreate"], "Kai Brandt")
    whisper_file = json.loads((raw / UUID_B / "transcript.json").read_text())
    assert whisper_file == b["sentences"] and json.loads((raw / UUID_B / "metadata.json").read_text())["transcript_source"] == "whisper"

    # The user annotates stream A; --source raw builds the crawled directory: A labelled, B still unlabelled.
    (raw / UUID_A / "annotations.json").write_text(json.dumps(
        {"clips": [{"index": 0, "keywords": ["skyline"], "summary": "The streamer inks a skyline."}]}))
    assert main(["--source", "raw", "--input", str(raw), "--out", str(tmp_path / "bliss"), "--work", str(work),
                 *ENCODERS]) == 0
    labelled, unlabelled = rows(tmp_path / "bliss", "colorhist-minilm"), rows(tmp_path / "bliss", "colorhist-minilm-unlabelled")
    assert set(labelled) == {UUID_A} and set(unlabelled) == {UUID_B}
    assert labelled[UUID_A]["sentence_labels"] == [0, 1, 0] and labelled[UUID_A]["keywords"] == ["skyline"]
    assert labelled[UUID_A]["keyframe_colorhist"] == KEYFRAMES_A


def test_bad_usage_is_one_line_and_exit_2(server, tmp_path, capsys):
    assert main(["--source", "behance", "--out", str(tmp_path)]) == 2
    assert "give --listing URL or --urls FILE" in capsys.readouterr().err
    assert main(["--source", "behance", "--urls", str(tmp_path / "missing.txt")]) == 2
    assert "does not exist" in capsys.readouterr().err
    code = main(["--source", "behance", "--listing", f"{server.base}/gone", "--work", str(tmp_path / "w"),
                 "--out", str(tmp_path / "hub"), *NET, *ENCODERS])
    assert code == 2 and "no livestream to crawl" in capsys.readouterr().err and not (tmp_path / "hub").exists()


def test_a_full_disk_stops_the_crawl_with_one_line_and_keeps_what_was_done(server, tmp_path, capsys, monkeypatch):
    import errno

    import collectors.behance_web as web

    def full(path, body):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(web, "_save", full)  # fault injection: the first file a stream writes
    urls = tmp_path / "urls.txt"
    urls.write_text(f"{server.base}/videos/{UUID_B}/Speech-and-colour-studies\n")
    code = main(["--source", "behance", "--urls", str(urls), "--raw-dir", str(tmp_path / "raw"),
                 "--work", str(tmp_path / "w"), "--out", str(tmp_path / "hub"), *NET, *ENCODERS])
    err = capsys.readouterr().err
    assert code == 2 and "No space left on device" in err and "rerun to go on" in err
    assert not (tmp_path / "hub").exists() and not (tmp_path / "raw" / UUID_B).exists()
    assert (tmp_path / "raw" / ".crawl.jsonl").read_text() == ""  # nothing claimed for the stream
