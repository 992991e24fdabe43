"""QVHighlights ``--collect`` offline: a loopback server stands in for YouTube (saved YouTube-shaped info
files point at it), yt-dlp downloads each segment's [start, end] for real, cut by imageio-ffmpeg's ffmpeg."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import time

import av
import numpy as np
import pytest
from datasets import load_dataset

from builders.core.base import Context
from builders.core.extraction import builder_job
from builders.qvhighlights import main
from builders.qvhighlights import QVHighlights
from builders.qvhighlights.collect import Segments
from collectors.media import video_duration
from collectors.records import ItemError
from collectors.synthetic import index_frame, read_index, write_video
from collectors.youtube import download_section
from tests.test_qvhighlights import write_release
from tests.test_youtube import INFO, NET, Server

imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
FPS, SECONDS, GOP = 10, 20, 20  # the served video: frame i shows i; a keyframe every 2 s
A, B, GONE = "ytAAAAAAAAA_5.0_11.0", "ytBBBBBBBBB_9_17", "ytGONE00001_0.0_6.0"  # cuts between keyframes; GONE 404s
BUILD = ["--visual", "colorhist", "--motion", "none", "--audio", "none", "--text", "minilm", "--sleep", "0",
         "--workers", "0"]


class RangeServer(Server):
    """The collector tests' server, answering byte ranges of /media/ files as a video host does (ffmpeg seeks
    with them: to its cut, and between the video and audio chunks of an mp4); /stall/ answers after 20 s."""

    def route(self, h, path):
        if path.startswith("/stall/"):  # a host that accepts and then says nothing for long
            time.sleep(20)
            return self.send(h, 200, b"late")
        name = path.split("/", 2)[-1]
        wanted = re.fullmatch(r"bytes=(\d+)-(\d*)", h.headers.get("Range") or "")
        if path.startswith("/media/") and name in self.files and wanted:
            body = self.files[name]
            first, last = int(wanted[1]), min(int(wanted[2] or len(body) - 1), len(body) - 1)
            return self.send(h, 206, body[first:last + 1], {"Content-Range": f"bytes {first}-{last}/{len(body)}",
                                                            "Accept-Ranges": "bytes", "Content-Type": "video/mp4"})
        return super().route(h, path)


def video_packets(path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for p in c.demux(video=0) if p.size)


def first_frame_index(path) -> int:
    with av.open(str(path)) as c:
        frame = next(c.decode(video=0))
        return read_index(frame.to_ndarray(format="rgb24"))


def query(qid: int, vid: str, seconds: int) -> dict:
    return {"qid": qid, "query": f"query {qid}", "duration": seconds, "vid": vid, "relevant_windows": [[0, 2]],
            "relevant_clip_ids": [0], "saliency_scores": [[4, 3, 2]]}


def info_file(server, folder, youtube_id: str, route: str = "/media/clip.mp4"):
    info = json.loads(INFO.read_text().replace("http://__SERVER__", server.base).replace("/media/clip.mp4", route))
    info.update(id=youtube_id, display_id=youtube_id, duration=SECONDS, webpage_url=f"https://www.youtube.com/watch?v={youtube_id}")
    (folder / f"{youtube_id}.info.json").write_text(json.dumps(info))


@pytest.fixture(scope="module")
def youtube(tmp_path_factory):
    root = tmp_path_factory.mktemp("qvh-collect")
    t = np.arange(SECONDS * 16000) / 16000
    clip = write_video(root / "clip.mp4", (index_frame(i) for i in range(SECONDS * FPS)), fps=FPS,
                       audio=(0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), gop=GOP)
    server = RangeServer({"clip.mp4": clip.read_bytes()})
    info = root / "info"
    info.mkdir()
    for vid in (A, B):
        info_file(server, info, vid.rsplit("_", 2)[0])
    info_file(server, info, "ytGONE00001", "/404/clip.mp4")
    info_file(server, info, "ytBUSY00001", "/429/clip.mp4")
    info_file(server, info, "ytSLOW00001", "/stall/clip.mp4")
    rel = write_release(root / "rel", {"train": [query(1, A, 6), query(2, B, 8), query(3, A, 6)],
                                       "val": [query(4, GONE, 6)]})
    yield server, info, rel
    server.close()


def test_collect_downloads_each_segment_and_builds_it_resumably(youtube, tmp_path, capsys):
    server, info, rel = youtube
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    args = ["--annotations", str(rel), "--collect", "--info-json", str(info), "--ffmpeg", ffmpeg,
            "--out", str(tmp_path / "hub"), "--work", str(tmp_path / "work"), *BUILD]
    assert main(args) == 3  # GONE is recorded, the others built
    media = tmp_path / "work" / "media"
    for vid, start, seconds in ((A, 5, 6), (B, 9, 8)):
        path = media / f"{vid}.mp4"
        # cut at the exact times (re-encoded at the cuts): a copy from the keyframe before (every GOP / FPS = 2 s)
        # would start 1 s early
        assert video_duration(path) == pytest.approx(seconds, abs=0.15)
        assert first_frame_index(path) == start * FPS
        assert video_packets(path) == seconds * FPS  # no frame from before the cut, kept for decoding as a copy keeps it
    record = json.loads((tmp_path / "hub" / "build.json").read_text())["configs"]["colorhist-minilm"]
    (failure,) = record["failures"]["items"]
    assert failure["id"].startswith("ytGONE00001") and failure["kind"] == "unavailable" and "404" in failure["message"]
    assert record["collected"]["downloaded"] == 2 and record["collected"]["ffmpeg"] == ffmpeg
    ds = load_dataset(str(tmp_path / "hub"), "colorhist-minilm", split="train")
    shapes = {e["qid"]: np.array(e["frames_colorhist"]).shape for e in ds}
    assert shapes == {1: (3, 256), 2: (4, 256), 3: (3, 256)}  # int(duration / 2) clips of each segment
    err = capsys.readouterr().err
    assert f"[1/3] {A}: downloaded" in err and f"{GONE}: FAILED unavailable" in err

    # a rerun fetches nothing that is there; a file cut short by a killed run is fetched again
    hits = server.hits["/media/clip.mp4"]
    assert main(args) == 3 and server.hits["/media/clip.mp4"] == hits
    assert f"{A}: already here" in capsys.readouterr().err
    data = (media / f"{B}.mp4").read_bytes()
    (media / f"{B}.mp4").write_bytes(data[: len(data) // 2])
    (media / f"{B}.mp4.part").write_bytes(b"left by a killed ffmpeg")
    assert main(args) == 3 and server.hits["/media/clip.mp4"] > hits
    assert video_duration(media / f"{B}.mp4") == pytest.approx(8, abs=0.15)
    assert not (media / f"{B}.mp4.part").exists() and first_frame_index(media / f"{B}.mp4") == 9 * FPS
    assert json.loads((tmp_path / "hub" / "build.json").read_text())["configs"]["colorhist-minilm"]["collected"] == {
        **record["collected"], "downloaded": 1, "present": 1}


def test_limit_takes_the_first_training_videos(youtube, tmp_path):
    server, info, rel = youtube
    builder = QVHighlights(rel, visual="colorhist", motion=None, audio=None, text="minilm",
                           collect=Segments(info_json=info, limit=1, net=NET))
    builder.prepare(Context(tmp_path / "hub", tmp_path / "work", builder_job(workers=0), False))
    assert list(builder.by_video) == [A] and [p.name for p in (tmp_path / "work" / "media").iterdir()] == [f"{A}.mp4"]
    items = builder.items()
    assert [i.meta["vid"] for i in items] == [A] and items[0].meta["qids"] == ["1", "3"]


def test_after_refusals_in_a_row_the_videos_left_are_not_tried(youtube, tmp_path, monkeypatch):
    server, info, _ = youtube
    monkeypatch.setattr("builders.qvhighlights.collect.STOP_AFTER_BLOCKED", 1)
    info_file(server, info, "ytBUSY00002", "/429/other.mp4")
    busy = ["ytBUSY00001_0_6", "ytBUSY00002_0_6"]
    rel = write_release(tmp_path / "rel", {"train": [query(1, busy[0], 6), query(2, busy[1], 6)]})
    segments = Segments(info_json=info, net=dataclasses.replace(NET, retries=0))
    builder = QVHighlights(rel, visual="colorhist", motion=None, audio=None, text="minilm", collect=segments)
    builder.prepare(Context(tmp_path / "hub", tmp_path / "work", builder_job(workers=0), False))
    assert [segments.errors[v].kind for v in busy] == ["rate_limited", "rate_limited"]
    assert segments.errors[busy[1]].message.startswith("not tried: YouTube refused the 1 downloads before it")
    assert server.hits["/429/other.mp4"] == 0 and segments.counts == {"downloaded": 0, "present": 0, "failed": 2}


def test_wrong_length_refusing_and_silent_hosts_fail_by_kind(youtube, tmp_path):
    server, info, _ = youtube
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    with pytest.raises(ItemError) as e:  # the annotation says 12 s; [4, 10] is 6 s
        download_section(str(info / "ytAAAAAAAAA.info.json"), tmp_path / "seg", 4, 10, NET, ffmpeg=ffmpeg, expected=12)
    assert e.value.kind == "bad_media" and "6.0 s long, expected 12.0 s" in e.value.message
    assert (tmp_path / "seg.mp4.bad").is_file() and not (tmp_path / "seg.mp4").exists()  # set aside: a rerun fetches anew
    with pytest.raises(ItemError) as e:  # 429 with Retry-After: 1, retried once (NET), then recorded
        download_section(str(info / "ytBUSY00001.info.json"), tmp_path / "busy", 0, 6, NET, ffmpeg=ffmpeg)
    assert e.value.kind == "rate_limited" and "(after 2 attempts)" in e.value.message
    t0 = time.perf_counter()
    with pytest.raises(ItemError) as e:  # a host that does not answer within NET.timeout: ffmpeg gives up too
        download_section(str(info / "ytSLOW00001.info.json"), tmp_path / "slow", 0, 6, NET, ffmpeg=ffmpeg)
    assert e.value.kind == "timeout" and not list(tmp_path.glob("slow.*"))
    assert time.perf_counter() - t0 < 10  # not the 20 s of the stall: yt-dlp alone gives ffmpeg no timeout
    with pytest.raises(ItemError) as e:  # the video ends before the segment starts
        download_section(str(info / "ytAAAAAAAAA.info.json"), tmp_path / "late", 30, 36, NET, ffmpeg=ffmpeg)
    assert e.value.kind == "unavailable" and "20 s long" in e.value.message


def test_no_ffmpeg_is_a_usage_error_before_any_download(youtube, tmp_path, monkeypatch, capsys):
    server, info, rel = youtube
    hits = sum(server.hits.values())
    base = ["--annotations", str(rel), "--collect", "--info-json", str(info), "--out", str(tmp_path / "hub"),
            "--work", str(tmp_path / "work"), *BUILD]
    assert main([*base, "--ffmpeg", str(tmp_path / "no-such-ffmpeg")]) == 2
    assert f"--ffmpeg {tmp_path / 'no-such-ffmpeg'} is not a file" in capsys.readouterr().err
    monkeypatch.setenv("PATH", str(tmp_path))  # no ffmpeg on PATH
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # and the package not installed
    assert main(base) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--ffmpeg PATH" in err[0] and "pip install imageio-ffmpeg" in err[0]
    assert sum(server.hits.values()) == hits and not (tmp_path / "work").exists() and not (tmp_path / "hub").exists()
    assert main(["--annotations", str(rel), "--limit", "2", "--out", str(tmp_path / "hub")]) == 2  # --limit needs --collect
    assert "--limit goes with --collect" in capsys.readouterr().err
    assert main(["--annotations", str(rel), "--collect", "--videos", str(tmp_path)]) == 2  # one media source
    assert "not allowed with argument" in capsys.readouterr().err


def test_net_flags_reach_the_collector(youtube):
    _, info, rel = youtube
    segments = Segments(info_json=info, sleep=0.5)
    assert dataclasses.astuple(segments.net)[:2] == (0.5, 3) and segments.ffmpeg
