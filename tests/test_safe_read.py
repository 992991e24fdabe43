"""Hostile release files (issue 26): HDF5 that reads other files, size bombs (h5, .npy, .npz, pickle,
JSON durations), deeply nested JSON, FIFOs and devices where a release file should be, a build
directory that points out of itself for publish. Each case fails the item with its kind, or the
build with one line and exit 2; nothing is read from outside the file, nothing huge is allocated."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

import h5py
import numpy as np
import pytest

from builders.core import safe
from builders.core.safe import UnsafeFileError
from builders.core.safe.arrays import load_array, read_npy, read_npz
from builders.core.safe.jsonstream import StreamedObject
from builders.core.safe.pickles import ArraySizeError, load_pickle
from collectors.records import ItemError, read_manifest

ROOT = Path(__file__).resolve().parents[1]
TIB = 1 << 40


def within(seconds: float, fn, *args):
    """``fn(*args)``'s result or exception, or AssertionError when it has not returned in ``seconds``
    (a read blocked on a FIFO: the daemon thread is left behind, the test fails instead of hanging)."""
    box = {}

    def call():
        try:
            box["value"] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - handed back to the test
            box["error"] = e

    t = threading.Thread(target=call, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"{getattr(fn, '__name__', fn)} still blocked after {seconds} s"
    if "error" in box:
        raise box["error"]
    return box.get("value")


def npy_header_only(path: Path, shape, dtype="<f4") -> Path:
    """A valid .npy header declaring ``shape`` with (almost) no data after it: a size bomb."""
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": dtype, "fortran_order": False, "shape": tuple(shape)})
        f.write(b"\0" * 64)
    return path


# ---------------------------------------------------------------- Mr.HiSum h5: one bad video, or a bad file

N = {"video_1": 30, "video_2": 33, "video_3": 25, "video_4": 28}


def mrhisum_release(root: Path, hostile) -> Path:
    """Mr.HiSum's three files (as tests/test_mrhisum.py writes them), ``hostile(h5_file, root)`` applied."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    with h5py.File(root / "mr_hisum.h5", "w") as f:
        for key, n in N.items():
            g = f.create_group(key)
            g["gtscore"] = rng.random(n)
            g["change_points"] = np.array([[0, 9], [10, 19], [20, n - 1]])
            summary = np.zeros(n, np.float32)
            summary[10:15] = 1
            g["gt_summary"] = summary
            g["features"] = rng.random((n, 1024)).astype(np.float32)
        hostile(f, root)
    (root / "metadata.csv").write_text(
        "video_id,yt8m_file,random_id,youtube_id,duration,views,labels\n"
        + "".join(f"{k},train00{i},R{i}aA,yt{i}abcdefgh,{n},{600 + i},\"[{i}]\"\n" for i, (k, n) in enumerate(N.items())))
    (root / "split.json").write_text(json.dumps({"train_keys": ["video_1", "video_2", "video_4"], "test_keys": ["video_3"]}))
    return root


def build_mrhisum(root: Path, *extra: str) -> int:
    from builders.mrhisum import main

    return main(["--h5", str(root / "mr_hisum.h5"), "--metadata", str(root / "metadata.csv"), "--splits",
                 str(root / "split.json"), "--out", str(root / "hub"), "--work", str(root / "work"), "--no-progress",
                 *extra])


def failures(hub: Path) -> dict[str, dict]:
    record = json.loads((hub / "build.json").read_text())
    return {f["id"]: f for c in record["configs"].values() for f in c["failures"]["items"]}


def test_h5_external_storage_virtual_data_and_size_bomb_fail_their_video(tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(33, dtype="<f8").tobytes())  # the bytes a hostile gtscore would publish

    def hostile(f, root):
        del f["video_2/gtscore"]
        f.create_dataset("video_2/gtscore", shape=(33,), dtype="<f8", external=[(str(secret), 0, 33 * 8)])
        layout = h5py.VirtualLayout(shape=(25,), dtype="f8")
        layout[:] = h5py.VirtualSource(str(secret), "x", shape=(25,))
        del f["video_3/gtscore"]
        f["video_3"].create_virtual_dataset("gtscore", layout)
        del f["video_1/features"]  # 1 TiB declared, a few bytes on disk (chunked, never written)
        f.create_dataset("video_1/features", shape=(TIB // 4096, 1024), dtype="f4", chunks=(1, 1024))

    root = mrhisum_release(tmp_path / "rel", hostile)
    assert build_mrhisum(root) == 3  # video_4 built; nothing read from the secret, nothing huge allocated
    failed = failures(root / "hub")
    assert {k: f["kind"] for k, f in failed.items()} == dict.fromkeys(["video_1", "video_2", "video_3"], "bad_annotation")
    assert "stores its data in other files" in failed["video_2"]["message"] and str(secret) in failed["video_2"]["message"]
    assert "virtual dataset" in failed["video_3"]["message"]
    assert "--max-array-bytes" in failed["video_1"]["message"] and "refused before reading" in failed["video_1"]["message"]


def test_h5_values_of_the_wrong_kind_fail_their_video_without_a_traceback(tmp_path):
    """Three of the Mr.HiSum h5 cases that traced back: strings or a compound type as gtscore, a video
    that is a dataset instead of a group."""

    def hostile(f, root):
        del f["video_1/gtscore"]
        f["video_1/gtscore"] = np.array([b"a"] * 30)
        del f["video_2/gtscore"]
        f["video_2/gtscore"] = np.zeros(33, dtype=[("a", "f4"), ("b", "i4")])
        del f["video_3"]
        f["video_3"] = np.ones(3)

    root = mrhisum_release(tmp_path / "rel", hostile)
    assert build_mrhisum(root) == 3
    failed = failures(root / "hub")
    assert {k: f["kind"] for k, f in failed.items()} == dict.fromkeys(["video_1", "video_2", "video_3"], "bad_annotation")
    assert "gtscore holds |S1, not numbers" in failed["video_1"]["message"]
    assert "not numbers" in failed["video_2"]["message"] and "a dataset, not a group" in failed["video_3"]["message"]


def test_h5_external_or_dangling_link_refuses_the_file_in_one_line(tmp_path, capsys):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["x"] = np.arange(30.0)

    def external(f, root):
        del f["video_1/gtscore"]
        f["video_1/gtscore"] = h5py.ExternalLink(str(other), "/x")

    root = mrhisum_release(tmp_path / "ext", external)
    assert build_mrhisum(root) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ") and "/video_1/gtscore is an external link" in err
    assert not (root / "hub").exists()

    def dangling(f, root):
        f["video_1/extra"] = h5py.SoftLink("/nowhere")

    root = mrhisum_release(tmp_path / "soft", dangling)
    assert build_mrhisum(root) == 2
    assert "soft link to /nowhere, which is not in the file" in capsys.readouterr().err


def test_h5_limit_is_a_flag(tmp_path, capsys):
    root = mrhisum_release(tmp_path / "rel", lambda f, root: None)
    assert build_mrhisum(root, "--max-array-bytes", "1000") == 1  # every features array is 120+ kB
    assert all("--max-array-bytes 1000" in f["message"] for f in failures(root / "hub").values())
    assert build_mrhisum(root, "--max-array-bytes", "0") == 2
    assert "--max-array-bytes must be positive" in capsys.readouterr().err


# ---------------------------------------------------------------- .npy / .npz feature files


def test_npy_header_declaring_a_huge_array_is_refused_before_allocating(tmp_path):
    path = npy_header_only(tmp_path / "v.npy", (1 << 28, 1024))  # 1 TiB of float32
    with pytest.raises(ItemError) as e:
        load_array(path, "video feature", "v")
    assert e.value.kind == "bad_media" and "--max-array-bytes" in e.value.message and str(path) in e.value.message
    small = npy_header_only(tmp_path / "s.npy", (100, 1024))  # under the limit, but the file holds 64 bytes
    with pytest.raises(ItemError, match="holds 64"):
        load_array(small, "video feature", "s")
    np.save(tmp_path / "ok.npy", np.ones((3, 4), np.float32))
    assert load_array(tmp_path / "ok.npy", "video feature", "ok", dim=4).shape == (3, 4)


def test_npz_member_declaring_a_huge_array_is_refused(tmp_path):
    import zipfile

    header = tmp_path / "m.npy"
    npy_header_only(header, (1 << 30, 2304))
    with zipfile.ZipFile(tmp_path / "v.npz", "w") as z:
        z.write(header, "features.npy")
    with pytest.raises(UnsafeFileError, match=r"v\.npz\[features\.npy\]: declares"):
        read_npz(tmp_path / "v.npz")
    np.savez(tmp_path / "ok.npz", features=np.ones((2, 3)))
    assert read_npz(tmp_path / "ok.npz")["features"].shape == (2, 3)


def test_fifo_or_device_as_a_feature_file_fails_the_item_at_once(tmp_path):
    fifo = tmp_path / "v.npy"
    os.mkfifo(fifo)
    with pytest.raises(ItemError) as e:
        within(5, load_array, fifo, "video feature", "v")
    assert e.value.kind == "bad_media" and "a FIFO, not a regular file" in e.value.message and str(fifo) in e.value.message
    zero = tmp_path / "z.npy"
    zero.symlink_to("/dev/zero")
    with pytest.raises(UnsafeFileError, match="a character device"):
        within(5, read_npy, zero)


# ---------------------------------------------------------------- MM-AVS segments


def test_fifo_or_dev_zero_segment_fails_the_sample_without_filling_the_disk(tmp_path):
    from builders.mmavs import join_segments

    good = tmp_path / "segment1.ts"
    good.write_bytes(b"\x47" * 188 * 10)
    fifo = tmp_path / "segment2.ts"
    os.mkfifo(fifo)
    dest = tmp_path / "work" / "media" / "x.ts"
    with pytest.raises(ItemError) as e:
        within(5, join_segments, [good, fifo], dest)
    assert e.value.kind == "bad_media" and "a FIFO, not a regular file" in e.value.message and str(fifo) in e.value.message
    zero = tmp_path / "segment3.ts"
    zero.symlink_to("/dev/zero")
    with pytest.raises(ItemError, match="a character device"):
        within(5, join_segments, [good, zero], dest)
    assert not dest.parent.exists() or not any(dest.parent.iterdir())  # nothing written, no temporary file
    assert join_segments([good, good], dest).stat().st_size == 2 * 188 * 10


# ---------------------------------------------------------------- pickles


def test_pickle_that_references_one_utterance_20000_times_stops_the_import(tmp_path, capsys):
    """StreamHover's case: a 0.5 MB file that would become 10 GB of sentences."""
    from builders.bliss import main

    u = {"display": "x" * 500_000, "offset": 0.0, "duration": 6.5}
    clip = ([u] * 20_000, "summary", [0], 1, 0, "title", "https://www.behance.net/videos/v1", "https://example.org/t")
    d = tmp_path / "release"
    d.mkdir()
    for split in ("train", "val", "test"):
        with open(d / f"Behance_{split}.pkl", "wb") as f:
            pickle.dump([clip], f, protocol=3)
    assert (d / "Behance_train.pkl").stat().st_size < 1 << 20
    with pytest.raises(ArraySizeError, match="once its shared references are expanded"):
        load_pickle(d / "Behance_train.pkl")
    assert main(["--source", "streamhover", "--input", str(d), "--text", "minilm", "--workers", "0", "--no-progress",
                 "--out", str(tmp_path / "hub"), "--work", str(tmp_path / "work")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "Behance_train.pkl: builds" in err and "--max-pickle-bytes" in err


def test_pickle_nesting_cycles_and_limit(tmp_path):
    deep = []
    for _ in range(150):
        deep = [deep]
    for name, obj, message in (("deep", deep, "nested deeper than --max-json-depth"),):
        (tmp_path / f"{name}.pkl").write_bytes(pickle.dumps(obj))
        with pytest.raises(UnsafeFileError, match=message):
            load_pickle(tmp_path / f"{name}.pkl")
    loop = [1]
    loop.append(loop)
    (tmp_path / "loop.pkl").write_bytes(pickle.dumps(loop))
    with pytest.raises(UnsafeFileError, match="contains itself"):
        load_pickle(tmp_path / "loop.pkl")
    shared = ["y" * 1000]
    (tmp_path / "ok.pkl").write_bytes(pickle.dumps([shared] * 100))  # 1.3 kB, 100+ kB expanded
    out = load_pickle(tmp_path / "ok.pkl")
    assert out == [["y" * 1000]] * 100 and out[0] is out[1]  # a shared list stays shared
    with safe.using(max_pickle_bytes=50_000), pytest.raises(ArraySizeError, match="--max-pickle-bytes, or 16 x"):
        load_pickle(tmp_path / "ok.pkl")


# ---------------------------------------------------------------- JSON


def test_deeply_nested_json_line_fails_that_query_and_the_rest_builds(tmp_path):
    from builders.qvhighlights import main

    from test_qvhighlights import record, write_release

    folder = write_release(tmp_path / "rel", {"train": [record(1), "[" * 100_000, record(3, duration=1e12)],
                                               "val": [record(4, vid="v_60.0_210.0")]})
    assert main(["--annotations", str(folder), "--out", str(tmp_path / "hub"), "--work", str(tmp_path / "w"),
                 "--no-progress"]) == 3
    failed = failures(tmp_path / "hub")
    assert set(failed) == {"line-train-2", "3"} and {f["kind"] for f in failed.values()} == {"bad_annotation"}
    assert "nested 100000 deep, deeper than the limit of 100" in failed["line-train-2"]["message"]
    assert "longer than --max-annotated-duration 86400" in failed["3"]["message"]


def test_deeply_nested_release_json_or_build_json_is_one_line(tmp_path, capsys):
    """A2Summ's annotation/train.json nested 100,000 deep: one line, exit 2 (was a RecursionError)."""
    from builders.bliss import main

    d = tmp_path / "a2summ"
    (d / "annotation").mkdir(parents=True)
    (d / "annotation" / "train.json").write_text("[" * 100_000)
    (d / "annotation" / "test.json").write_text("{}")
    assert main(["--source", "a2summ", "--input", str(d), "--out", str(tmp_path / "hub"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "train.json: JSON nested 100000 deep" in err
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text('{"id": "a", "source": "x"}\n' + "[" * 100_000 + "\n")
    with pytest.raises(ValueError, match=r"manifest.jsonl:2: malformed manifest line: .*nested 100000 deep"):
        list(read_manifest(manifest))
    with safe.using(max_json_depth=2), pytest.raises(UnsafeFileError, match="nested 3 deep"):
        safe.json_loads('{"a": [[1]], "b": "[[[[[["}', "x.json")  # brackets inside strings do not count


def test_a_streamed_object_gives_what_json_load_gives_one_value_at_a_time(tmp_path):
    """builders.core.safe.jsonstream: the keys (with their video_id) in file order, then the same
    (key, value) pairs json.load makes: floats as floats, unicode, nested lists; a repeated key keeps
    its last value, as json.load does (at its last place, where json.load keeps its first)."""
    doc = {"c1": {"video_id": "v1", "t": [[0, 1.5], [1.5, 3.0]], "s": ["héllo", "日本"], "x": None, "b": True},
           "c2": {"num_frame": 3, "video_id": "v2"}, "c3": ["not", "an", "object"], "c4": {"video_id": 7}}
    path = tmp_path / "train.json"
    path.write_text(json.dumps(doc, ensure_ascii=False)[:-1] + ', "c2": {"video_id": "v9"}}', encoding="utf-8")
    streamed = StreamedObject(path, field="video_id")
    assert streamed.keys == {"c1": "v1", "c2": "v9", "c3": None, "c4": None} and len(streamed) == 4
    items = list(streamed.items())
    assert dict(items) == json.loads(path.read_text(encoding="utf-8"))
    assert [k for k, _ in items] == ["c1", "c3", "c4", "c2"]  # a repeated key comes at its last place


@pytest.mark.parametrize("text, message", [
    ("[1, 2]", "expected a JSON object keyed by clip id, found list"),
    ('"x"', "expected a JSON object keyed by clip id, found str"),
    ("", "not valid JSON"),
    ('{"a": 1,,}', "not valid JSON"),
    ('{"a": [1, 2', "not valid JSON"),
    ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", "JSON nested 100001 deep, deeper than the limit of 100"),
    ("[" * 100_000, "JSON nested 100000 deep"),
])
def test_a_bad_streamed_object_is_one_error_naming_the_file(tmp_path, text, message):
    """Never a RecursionError or a blow-up: ijson's path-building parsers turn 100,000 levels into
    gigabytes, so the first pass counts depth on basic_parse events."""
    path = tmp_path / "train.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as e:
        StreamedObject(path, field="video_id")
    assert str(path) in str(e.value)
    path.write_text('{"a": 1, "b": 2}')
    with safe.using(max_json_bytes=4), pytest.raises(UnsafeFileError, match="16 bytes, more than the limit of 4"):
        StreamedObject(path)


# ---------------------------------------------------------------- publish


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink", "fifo"])
def test_publish_dry_run_refuses_files_outside_the_build(tmp_path, how):
    from hub_fixtures import tiny_bliss

    hub = tiny_bliss(tmp_path / "hub")
    outside = tmp_path / "secret.parquet"
    outside.write_bytes(b"PAR1 not for the Hub")
    record = json.loads((hub / "build.json").read_text())
    record["card"], record["dataset"] = {"pretty_name": "t"}, "tiny-bliss"
    record["configs"]["vis-txt"]["splits"] = {  # what a builder records (tiny_bliss records only the features)
        split: {kind: sorted(p.relative_to(hub).as_posix() for p in (hub / folder / "vis-txt").glob(f"{split}-*{ext}"))
                for kind, folder, ext in (("parquet", "data", ".parquet"), ("wds", "wds", ".tar"))}
        for split in ("train", "validation", "test")}
    for split in record["configs"]["vis-txt"]["splits"].values():
        split.update(num_examples=3, num_bytes=1)
    shards = record["configs"]["vis-txt"]["splits"]["train"]["parquet"]
    target = hub / shards[0]
    if how == "absolute":  # one more shard, named by where it is
        shards.append(str(outside))
        shown = str(outside)
    elif how == "dotdot":
        shards.append(f"{Path(shards[0]).parent}/../../../secret.parquet")
        shown = "../"
    elif how == "symlink":
        target.unlink()
        target.symlink_to(outside)
        shown = "outside the build directory"
    else:
        target.unlink()
        os.mkfifo(target)
        shown = "a FIFO, not a regular file"
    (hub / "build.json").write_text(json.dumps(record))
    env = {k: v for k, v in os.environ.items() if k != "HF_TOKEN"}
    env.update(HF_ENDPOINT="http://127.0.0.1:9", HF_HOME=str(tmp_path / "hf"), PYTHONPATH=str(ROOT))
    env.pop("HF_HUB_OFFLINE", None)
    env.pop("TRANSFORMERS_OFFLINE", None)
    result = subprocess.run([sys.executable, "-m", "builders.publish", str(hub), "--repo-id", "org/tiny", "--dry-run"],
                            env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 2, result.stderr[-2000:]
    err = result.stderr.strip()
    assert err.count("\n") == 0 and err.startswith("error: ") and shown in err and "refusing to publish" in err
    assert "secret" not in result.stdout
