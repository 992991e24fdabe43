"""A2Summ's BLiSS release -> clip-roberta examples, and the restricted loader for its pickled .npy files."""

from __future__ import annotations

import copy
import hashlib
import io
import os
import pickle
from pathlib import Path

import numpy as np
import pytest
from a2summ_fixtures import make_a2summ_release, write_a2summ_release, write_a2summ_split
from datasets import Dataset
from numpy.lib import format as npy_format

from builders.bliss.a2summ import (
    FEATURES,
    clip_indices,
    iter_a2summ,
    read_a2summ,
    safe_id,
    validation_videos,
)
from builders.core.safe.pickles import NpyDictError, UnsafePickleError, load_npy_dict

# ---------------------------------------------------------------- safe_pickle


class _Evil:
    """Runs a shell command when unpickled by plain pickle."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _EvalEvil:
    def __reduce__(self):
        return (eval, ("__import__('os').getcwd()",))


def _write_raw_npy(path, pickle_bytes):
    """An object-array .npy whose pickle stream is exactly ``pickle_bytes``."""
    with open(path, "wb") as f:
        npy_format.write_array_header_1_0(f, {"descr": "|O", "fortran_order": False, "shape": ()})
        f.write(pickle_bytes)


def test_round_trip_of_np_save_dict(tmp_path):
    rng = np.random.default_rng(0)
    written = {
        "a_0": rng.standard_normal((4, 5)).astype(np.float32),
        "a_1": rng.standard_normal((2, 3)).astype(np.float16),
        "b_0": rng.standard_normal((3, 2)),
        "empty": np.zeros((0, 7), np.float32),
    }
    np.save(tmp_path / "d.npy", written, allow_pickle=True)
    read = load_npy_dict(tmp_path / "d.npy")
    assert read.keys() == written.keys()
    for key, value in written.items():
        assert read[key].dtype == value.dtype and np.array_equal(read[key], value)


def test_numpy1_module_paths_are_accepted(tmp_path):
    """Files made with numpy 1.x (protocol 3) name numpy.core.multiarray, not numpy._core."""
    written = {"x": np.arange(6, dtype=np.float32).reshape(2, 3), "s": np.float32(2.5)}
    stream = pickle.dumps(np.asanyarray({"x": written["x"]}), protocol=3)
    old = stream.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    assert b"numpy.core.multiarray" in old and b"numpy._core" not in old
    _write_raw_npy(tmp_path / "old.npy", old)
    assert np.array_equal(load_npy_dict(tmp_path / "old.npy")["x"], written["x"])


def test_malicious_pickle_is_refused_and_not_run(tmp_path):
    marker = tmp_path / "pwned"
    np.save(tmp_path / "evil.npy", {"clip_0": _Evil(marker)}, allow_pickle=True)
    with pytest.raises(UnsafePickleError) as err:
        load_npy_dict(tmp_path / "evil.npy")
    assert "evil.npy" in str(err.value) and "system" in str(err.value)  # posix.system on Linux
    assert isinstance(err.value, ValueError)
    assert not marker.exists()


def test_builtins_eval_is_refused(tmp_path):
    np.save(tmp_path / "eval.npy", {"k": _EvalEvil()}, allow_pickle=True)
    with pytest.raises(UnsafePickleError, match=r"builtins\.eval"):
        load_npy_dict(tmp_path / "eval.npy")


def test_plain_array_npy_is_an_error(tmp_path):
    np.save(tmp_path / "plain.npy", np.zeros((3, 4), np.float32))
    with pytest.raises(NpyDictError, match="expected a pickled dict"):
        load_npy_dict(tmp_path / "plain.npy")


@pytest.mark.parametrize("keep", [0, 5, 40, 0.5, -1])
def test_truncated_file_is_a_clear_error(tmp_path, keep):
    np.save(tmp_path / "d.npy", {"a": np.ones((50, 8), np.float32)}, allow_pickle=True)
    data = (tmp_path / "d.npy").read_bytes()
    cut = int(len(data) * keep) if isinstance(keep, float) else (keep if keep >= 0 else len(data) + keep)
    (tmp_path / "cut.npy").write_bytes(data[:cut])
    with pytest.raises(NpyDictError, match="cut.npy"):
        load_npy_dict(tmp_path / "cut.npy")


@pytest.mark.parametrize(
    "obj, message",
    [
        ([np.zeros(2)], "expected a pickled dict"),
        ({1: np.zeros(2)}, "str keys"),
        ({"a": [1.0, 2.0]}, "numeric array"),
        ({"a": np.array([{"nested": 1}], dtype=object)}, "numeric array"),
    ],
)
def test_top_level_must_be_dict_of_str_to_array(tmp_path, obj, message):
    np.save(tmp_path / "x.npy", np.asanyarray(obj, dtype=object) if isinstance(obj, list) else obj, allow_pickle=True)
    with pytest.raises(NpyDictError, match=message):
        load_npy_dict(tmp_path / "x.npy")


def test_unpickler_needs_no_extra_globals_for_saved_dicts():
    """Every global np.save references for a dict of float arrays is on the allow-list, at protocols 2-5."""
    from builders.core.safe.pickles import RestrictedUnpickler

    d = {"a": np.ones((2, 2), np.float32), "b": np.ones(3, np.float16), "c": np.ones(1), "s": np.float64(1)}
    for protocol in (3, 4, 5):
        out = RestrictedUnpickler(io.BytesIO(pickle.dumps(np.asanyarray(d), protocol=protocol))).load().item()
        assert all(np.array_equal(out[k], v) for k, v in d.items())


class _Call:
    """Pickles as ``fn(*args)`` (and ``obj.__setstate__(state)`` when given): how a crafted file reads."""

    def __init__(self, fn, *args, state=None):
        self.fn, self.args, self.state = fn, args, state

    def __reduce__(self):
        return (self.fn, self.args) if self.state is None else (self.fn, self.args, self.state)


def _bombs():
    from numpy._core.multiarray import _reconstruct, scalar

    huge = (2**17, 2**17)  # 128 GiB of float64
    return {
        "ndarray": _Call(np.ndarray, huge, "f8"),  # the 181-byte file
        "reconstruct": _Call(_reconstruct, np.ndarray, huge, b"f"),
        "setstate": _Call(_reconstruct, np.ndarray, (0,), b"b", state=(1, huge, np.dtype("f8"), False, b"x")),
        "bytes": _Call(bytes, 2**40),
        "scalar": _Call(scalar, np.dtype("V2000000000")),
    }


@pytest.mark.parametrize("bomb", ["ndarray", "reconstruct", "setstate", "bytes", "scalar"])
def test_allocation_bomb_is_refused_before_allocating(tmp_path, bomb):
    """Issue 11 case 5: a tiny file declaring a huge array (or bytes, or scalar) is refused from its
    declared size, before any allocation: a NpyDictError naming the file, not a MemoryError."""
    stream = pickle.dumps(_bombs()[bomb], protocol=4)
    path = tmp_path / "video_clip_train.npy"
    _write_raw_npy(path, stream)
    assert path.stat().st_size < 400
    with pytest.raises(NpyDictError, match=r"video_clip_train\.npy: .*(bytes|elements).* more than"):
        load_npy_dict(path)


def test_object_array_state_with_a_short_list_is_refused(tmp_path):
    """An object array whose state declares more elements than its list holds crashes numpy
    (segmentation fault) or allocates the declared size: refused before numpy sees it. Run in a
    child process, so a crash fails this test instead of ending the test session."""
    import subprocess
    import sys

    from numpy._core.multiarray import _reconstruct

    crafted = _Call(_reconstruct, np.ndarray, (0,), b"b", state=(1, (2**14, 2**10), np.dtype("O"), False, [1]))
    path = tmp_path / "x.npy"
    _write_raw_npy(path, pickle.dumps(crafted, protocol=4))
    code = ("import sys; from builders.core.safe.pickles import load_npy_dict, NpyDictError\n"
            "try:\n    load_npy_dict(sys.argv[1])\nexcept NpyDictError as e:\n    print(e); sys.exit(7)")
    res = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 7, (res.returncode, res.stderr[-1000:])
    assert "x.npy" in res.stdout and "16777216 elements" in res.stdout


def test_saved_dicts_of_any_size_still_load(tmp_path):
    """The bound is what the file can hold: real arrays (their bytes are in the file) always fit."""
    written = {"big": np.ones((300, 512), np.float32), "empty": np.zeros((0, 3)), "f16": np.ones((7, 3), np.float16)}
    np.save(tmp_path / "d.npy", written, allow_pickle=True)
    read = load_npy_dict(tmp_path / "d.npy")
    assert read.keys() == written.keys()
    assert all(type(read[k]) is np.ndarray and read[k].dtype == v.dtype and np.array_equal(read[k], v)
               for k, v in written.items())


def test_allocation_bomb_in_a_release_is_a_one_line_error(tmp_path):
    """The A2Summ import (python -m builders.bliss --source a2summ) with the bomb as a feature file:
    exit 2 and one line naming the file."""
    import subprocess
    import sys

    root = tmp_path / "release"
    write_a2summ_release(root, np.random.default_rng(7), train_videos=3, test_videos=1)
    bomb = next(root.rglob("video_clip_train.npy"))
    _write_raw_npy(bomb, pickle.dumps(_bombs()["ndarray"], protocol=4))
    with pytest.raises(NpyDictError, match="video_clip_train.npy"):
        read_a2summ(root)
    res = subprocess.run([sys.executable, "-m", "builders.bliss", "--source", "a2summ", "--input", str(root),
                          "--out", str(tmp_path / "hub"), "--work", str(tmp_path / "work"), "--no-progress"],
                         capture_output=True, text=True, timeout=300, cwd=Path(__file__).resolve().parents[1])
    assert res.returncode == 2, res.stderr[-2000:]
    assert res.stderr.count("\n") == 1 and "video_clip_train.npy" in res.stderr and "Traceback" not in res.stderr


# ---------------------------------------------------------------- a2summ import


def _by_id(examples):
    return {ex["id"]: (split, ex) for split, rows in examples.items() for ex in rows}


@pytest.fixture
def release(tmp_path):
    root = tmp_path / "release"
    written = write_a2summ_release(root, np.random.default_rng(7), train_videos=5, test_videos=2)
    return root, written


def test_values_round_trip_exactly(release):
    root, written = release
    examples, failures = read_a2summ(root)
    assert failures == []
    got = _by_id(examples)
    n_written = sum(len(c["annotation"]) for c in written.values())
    assert len(got) == n_written
    for release_split, content in written.items():
        for clip_id in content["annotation"]:
            split, ex = got[clip_id]
            assert split in ((release_split,) if release_split == "test" else ("train", "validation"))
            columns = [("video_clip", "frames_clip"), ("text_roberta", "sentences_roberta"), ("video_summ_clip", "thumbnail_clip")]
            for stem, column in columns:
                arr = np.asarray(ex[column], dtype=np.float32)
                assert np.array_equal(arr, content[stem][clip_id])
                assert np.array_equal(np.asarray(ex[column]), content[stem][clip_id].astype(np.float64))
    # through Arrow with the published schema: still the same float32 values
    for split, rows in examples.items():
        if not rows:
            continue
        ds = Dataset.from_list(rows, features=FEATURES)
        for row in ds:
            src = next(c for c in written.values() if row["id"] in c["annotation"])
            assert np.array_equal(np.asarray(row["frames_clip"], np.float32), src["video_clip"][row["id"]])
            assert np.array_equal(np.asarray(row["sentences_roberta"], np.float32), src["text_roberta"][row["id"]])


def test_array_mode_yields_the_same_values(release):
    root, _ = release
    examples, _ = read_a2summ(root)
    lists = _by_id(examples)
    for split, ex in iter_a2summ(root, arrays=True):
        assert lists[ex["id"]][0] == split
        for column in ("frames_clip", "sentences_roberta", "thumbnail_clip"):
            assert ex[column].dtype == np.float32 and ex[column].ndim == 2
            assert ex[column].tolist() == lists[ex["id"]][1][column]


def test_mapping_of_times_labels_and_text(release):
    root, written = release
    examples, _ = read_a2summ(root)
    anns = {k: v for c in written.values() for k, v in c["annotation"].items()}
    for _split, ex in _by_id(examples).values():
        assert list(ex) == list(FEATURES)
        ann = anns[ex["id"]]
        t = ann["num_frame"]
        assert ex["video_id"] == ann["video_id"]
        assert ex["duration"] == t
        assert ex["frame_times"] == [i + 0.5 for i in range(t)]
        assert ex["sentences"] == [
            {"start": float(s), "end": float(e), "text": text} for (s, e), text in zip(ann["sentence_time"], ann["sentence"])
        ]
        assert all(0 <= s["start"] < s["end"] <= ex["duration"] for s in ex["sentences"])
        assert ex["frame_labels"] == ann["video_label"]
        assert ex["sentence_labels"] == ann["text_label"]
        assert ex["keyframe_clip"] == [i for i, v in enumerate(ann["video_label"]) if v]
        assert len(ex["thumbnail_clip"]) == ann["num_keyframe"] == len(ex["keyframe_clip"])
        assert ex["summary"] == ann["highlight"]
        n = int(ex["id"].rsplit("_", 1)[1])
        assert (ex["clip_index"], ex["clip_start"], ex["clip_end"]) == (n, 300.0 * n, 300.0 * n + t)
        assert ex["keywords"] == ex["creative_fields"] == ex["tools"] == []
        assert ex["title"] == ex["description"] == ex["streamer"] == ""


def test_validation_is_carved_by_video_deterministically(release):
    root, written = release
    examples, _ = read_a2summ(root, validation_fraction=0.4)
    videos = {split: {ex["video_id"] for ex in rows} for split, rows in examples.items()}
    assert videos["validation"] and videos["train"]
    assert not videos["train"] & videos["validation"]
    assert not videos["test"] & (videos["train"] | videos["validation"])
    train_videos = {a["video_id"] for a in written["train"]["annotation"].values()}
    train_videos = sorted(train_videos, key=lambda v: hashlib.sha1(v.encode()).hexdigest())
    assert videos["validation"] == set(train_videos[:2])  # round(0.4 * 5) = 2
    again, _ = read_a2summ(root, validation_fraction=0.4)
    assert [ex["id"] for ex in again["validation"]] == [ex["id"] for ex in examples["validation"]]


def test_validation_rule_edges():
    assert validation_videos(["a"], 0.5) == set()
    assert len(validation_videos(["a", "b"], 0.1)) == 1  # at least one
    assert validation_videos(["a", "b"], 0.0) == set()
    assert len(validation_videos([str(i) for i in range(10)], 0.25)) == 3  # 2.5 rounds half up
    assert len(validation_videos(["a", "b", "c"], 0.9)) == 2  # never all of train
    assert validation_videos(["a", "b", "c"], 0.5, exclude=["a", "b"]) == set()
    with pytest.raises(ValueError):
        validation_videos(["a", "b"], 1.0)


def _corrupt(written, clip_id, how):
    c = copy.deepcopy(written["train"])
    ann = c["annotation"][clip_id]
    if how == "sentence_count":
        ann["sentence"].append("one too many")
    elif how == "frame_rows":
        c["video_clip"][clip_id] = c["video_clip"][clip_id][:-1]
    elif how == "backward_span":
        ann["sentence_time"][0] = [3, 2]
    elif how == "highlight_number":
        ann["highlight"] = 42
    elif how == "missing_text_features":
        del c["text_roberta"][clip_id]
    elif how == "video_label_length":
        ann["video_label"].append(0)
    elif how == "text_label_length":
        ann["text_label"] = ann["text_label"][:-1]
    elif how == "keyframe_count":
        ann["num_keyframe"] += 1
    elif how == "thumbnail_width":
        c["video_summ_clip"][clip_id] = c["video_summ_clip"][clip_id][:, :100]
    elif how == "nan_features":
        c["video_clip"][clip_id][0, 0] = np.nan
    elif how == "no_video_id":
        del ann["video_id"]
    return c


@pytest.mark.parametrize(
    "how, kind",
    [
        ("sentence_count", "bad_annotation"),
        ("backward_span", "bad_annotation"),
        ("highlight_number", "bad_annotation"),
        ("video_label_length", "bad_annotation"),
        ("text_label_length", "bad_annotation"),
        ("keyframe_count", "bad_annotation"),
        ("no_video_id", "bad_annotation"),
        ("frame_rows", "bad_media"),
        ("missing_text_features", "bad_media"),
        ("thumbnail_width", "bad_media"),
        ("nan_features", "bad_media"),
    ],
)
def test_bad_clip_is_a_failure_and_the_rest_import(release, how, kind):
    root, written = release
    bad = sorted(written["train"]["annotation"])[1]
    write_a2summ_split(root, "train", _corrupt(written, bad, how))
    examples, failures = read_a2summ(root)
    assert [(f["id"], f["kind"]) for f in failures] == [(bad, kind)]
    assert failures[0]["message"]
    got = _by_id(examples)
    all_ids = {k for c in written.values() for k in c["annotation"]}
    assert set(got) == all_ids - {bad}


def test_unsafe_id_is_sanitized_and_collision_is_a_failure(tmp_path):
    written = make_a2summ_release(np.random.default_rng(3), train_videos=2, test_videos=1, clips_per_video=(2, 2))
    train = written["train"]
    src = sorted(train["annotation"])[0]
    video = train["annotation"][src]["video_id"]
    for new in (f"{video}/x_5", f"{video}:x_5"):  # both become <video>_x_5
        for key in train:
            train[key][new] = copy.deepcopy(train[key][src])
    for split, content in written.items():
        write_a2summ_split(tmp_path, split, content)
    examples, failures = read_a2summ(tmp_path)
    got = _by_id(examples)
    assert got[f"{video}_x_5"][1]["video_id"] == video
    # two clips numbered 5 in one video: the whole video falls back to ranks of the sorted raw ids
    assert [got[i][1]["clip_index"] for i in (f"{video}_x_5", f"{video}_0", f"{video}_1")] == [0, 2, 3]
    assert [(f["id"], f["kind"]) for f in failures] == [(f"{video}:x_5", "bad_annotation")]
    assert "collides" in failures[0]["message"]
    assert all(safe_id(i) == i for i in got)


def test_clip_index_falls_back_to_rank_without_trailing_numbers():
    annotations = {
        "train": {"v1_b": {"video_id": "v1"}, "v1_a": {"video_id": "v1"}, "v2_7": {"video_id": "v2"}},
        "test": {"v1_c": {"video_id": "v1"}, "v2_3": {"video_id": "v2"}, "solo": {"video_id": "solo"}},
    }
    index, rules = clip_indices(annotations)
    # v2's numbers are the only ones and do not start at 0: they are not positions, so v2 is ranked too
    assert index == {"v1_a": 0, "v1_b": 1, "v1_c": 2, "v2_3": 0, "v2_7": 1, "solo": 0}
    assert rules == {"position": 3}


def test_clip_index_keeps_per_video_numbers_with_gaps():
    annotations = {"train": {"a_0": {"video_id": "a"}, "a_2": {"video_id": "a"}, "b_2": {"video_id": "b"}},
                   "test": {"b_3": {"video_id": "b"}}}
    index, rules = clip_indices(annotations)
    assert index == {"a_0": 0, "a_2": 2, "b_2": 2, "b_3": 3}  # numbers recur across videos: each video counts its own
    assert rules == {"trailing_number": 2}


def test_running_clip_numbers_become_positions_within_the_video():
    annotations = {"train": {"1008": {"video_id": "a"}, "1009": {"video_id": "a"}, "1011": {"video_id": "b"}},
                   "test": {"1010": {"video_id": "a"}}}
    index, rules = clip_indices(annotations)
    assert index == {"1008": 0, "1009": 1, "1010": 2, "1011": 0}  # not clip_index 1008 (clip_start 302,400 s)
    assert rules == {"position": 2}


def test_flat_layout_and_missing_file_error(tmp_path):
    write_a2summ_release(tmp_path / "flat", np.random.default_rng(1), train_videos=2, test_videos=1, flat=True)
    examples, failures = read_a2summ(tmp_path / "flat")
    assert failures == [] and sum(map(len, examples.values())) > 0
    (tmp_path / "flat" / "video_summ_clip_test.npy").unlink()
    with pytest.raises(FileNotFoundError) as err:
        read_a2summ(tmp_path / "flat")
    assert str(tmp_path / "flat" / "feature" / "video_summ_clip_test.npy") in str(err.value)
    assert str(tmp_path / "flat" / "video_summ_clip_test.npy") in str(err.value)


def test_float16_features_become_exact_float32(tmp_path):
    written = write_a2summ_release(tmp_path, np.random.default_rng(2), train_videos=2, test_videos=1, dtype=np.float16)
    examples, failures = read_a2summ(tmp_path)
    assert failures == []
    for _split, ex in _by_id(examples).values():
        src = next(c for c in written.values() if ex["id"] in c["annotation"])
        assert np.array_equal(np.asarray(ex["frames_clip"], np.float32), src["video_clip"][ex["id"]].astype(np.float32))


def test_malicious_feature_file_is_refused(release):
    root, written = release
    marker = root / "pwned"
    features = dict(written["test"]["text_roberta"])
    features[next(iter(features))] = _Evil(marker)
    np.save(root / "feature" / "text_roberta_test.npy", features, allow_pickle=True)
    with pytest.raises(UnsafePickleError, match="text_roberta_test.npy"):
        read_a2summ(root)
    assert not marker.exists()



def test_what_a2summs_loader_accepts_is_imported_repaired_and_counted(tmp_path, capsys):
    """A highlight given as a list, an empty sentence span, a span past num_frame, and running-number
    clip ids: A2Summ's own loader reads all of them; so does the import, counting each repair."""
    import json

    from builders import bliss
    from datasets import load_dataset

    rng = np.random.default_rng(7)
    written = make_a2summ_release(rng, train_videos=3, test_videos=1)
    renamed, running = {}, 1000
    for split in ("train", "test"):
        content = written[split]
        mapping = {}
        for clip_id in sorted(content["annotation"]):
            mapping[clip_id] = str(running)  # ids that count across the release, not within a video
            running += 1
        renamed[split] = {stem: {mapping[c]: v for c, v in content[stem].items()} for stem in content}
    train = renamed["train"]["annotation"]
    listed, empty, past = sorted(train)[:3]
    train[listed]["highlight"] = ["First sentence.", "Second one."]
    train[empty]["sentence_time"][0] = [1, 1]
    train[past]["sentence_time"][-1] = [train[past]["sentence_time"][-1][0], train[past]["num_frame"] + 4]
    for split, content in renamed.items():
        write_a2summ_split(tmp_path / "release", split, content)

    out = tmp_path / "hub"
    assert bliss.main(["--source", "a2summ", "--input", str(tmp_path / "release"), "--out", str(out),
                       "--work", str(tmp_path / "work"), "--no-progress"]) == 0
    record = json.loads((out / "build.json").read_text())["configs"]["clip-roberta"]
    assert record["failures"]["items"] == []
    assert record["repairs"] == {"empty_sentence_span_kept": 1, "highlight_list_joined": 1, "sentence_end_clamped": 1}
    rows = {r["id"]: r for s in ("train", "validation", "test") if s in record["splits"]
            for r in load_dataset(str(out), "clip-roberta", split=s)}
    assert rows[listed]["summary"] == "First sentence. Second one."
    assert rows[empty]["sentences"][0]["start"] == rows[empty]["sentences"][0]["end"] == 1.0
    assert rows[past]["sentences"][-1]["end"] == rows[past]["duration"]
    by_video: dict[str, list] = {}
    for r in rows.values():
        by_video.setdefault(r["video_id"], []).append((int(r["id"]), r["clip_index"], r["clip_start"]))
    for clips in by_video.values():  # positions within each video, in the order of the running numbers
        assert [(k, 300.0 * k) for k in range(len(clips))] == [(i, start) for _, i, start in sorted(clips)]
    assert record["clip_index_rule"] == {"position": len(by_video)}
    card = (out / "README.md").read_text()
    assert "released clips built" in card and "source videos" not in card
    assert "license: unknown" in card and "cc-by-nc" not in card.lower()
    assert "as released; nothing was relabelled" in card
