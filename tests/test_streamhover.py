"""python -m builders.bliss --source streamhover: StreamHover's release in its real layout
(Behance_{train,val,test}.pkl: pickled lists of 8-tuples, as its README and src/data.py describe),
read with the restricted unpickler, into BLiSS's text columns."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest
from datasets import load_dataset

from builders.bliss import main
from builders.core.safe.pickles import UnsafePickleError, load_pickle

ARGS = ["--text", "minilm", "--workers", "0", "--no-progress"]


def utterances(start: float, texts: list[str]) -> list[dict]:
    return [{"display": t, "offset": start + 20.0 * i, "duration": 6.5} for i, t in enumerate(texts)]


def clip(video, k, texts, picked, start=None, summary="The streamer paints a fox."):
    start = 300.0 * k if start is None else start
    return (utterances(start, texts), summary, picked, video, k, f"Fox painting {video}",
            f"https://www.behance.net/videos/v{video}", f"https://example.org/transcripts/{video}_{k}.json")


def release(tmp_path, extra_train=()):
    """Two videos in train (video 16: clips 0 and 1 with video-time offsets; video 3: clip 2 with
    clip-time offsets), one in val, one in test; protocol 3, as Python 3.6 wrote it."""
    d = tmp_path / "release"
    d.mkdir()
    train = [clip(16, 0, ["Hi chat, today a fox.", "I start with the ears.", "Orange first."], [1]),
             clip(16, 1, ["Now the tail.", "A darker orange here.", "Done with the tail."], [0, 2]),
             clip(3, 2, ["Back from the break.", "Let me fix the eyes."], [1], start=np.float64(0.0)),
             *extra_train]
    parts = {"train": train, "val": [clip(21, 0, ["Welcome.", "Sketching a heron."], [1])],
             "test": [clip(40, 0, ["Hello.", "Inking the outline."], [0])]}
    for split, data in parts.items():
        with open(d / f"Behance_{split}.pkl", "wb") as f:
            pickle.dump(data, f, protocol=3)
    return d


def test_release_imports_into_bliss_text_columns(tmp_path):
    bad = (utterances(0.0, ["x"]), "s", [5], 99, 0, "t", "u", "v")  # an index past the transcript
    twice = clip(16, 1, ["again"], [0])  # clip 1 of video 16 repeated
    code = main(["--source", "streamhover", "--input", str(release(tmp_path, [bad, twice])),
                 "--out", str(tmp_path / "hub"), "--work", str(tmp_path / "work"), *ARGS])
    assert code == 3
    record = json.loads((tmp_path / "hub" / "build.json").read_text())["configs"]["minilm"]
    fails = {f["id"]: f for f in record["failures"]["items"]}
    assert {i: f["kind"] for i, f in fails.items()} == {"Behance_train_pkl-3": "bad_annotation",
                                                       "Behance_train_pkl-4": "bad_annotation"}
    assert "extractive summary [5]" in fails["Behance_train_pkl-3"]["message"]
    assert "appears twice" in fails["Behance_train_pkl-4"]["message"]
    assert record["offsets"] == {"video": 4, "clip": 1}  # clip 0s fit both readings: counted as video times

    ds = load_dataset(str(tmp_path / "hub"), "minilm")
    assert {s: sorted(ds[s]["id"]) for s in ds} == {"train": ["16_000", "16_001", "3_002"], "validation": ["21_000"],
                                                   "test": ["40_000"]}
    rows = {ex["id"]: ex for s in ds for ex in ds[s]}
    second = rows["16_001"]
    assert second["clip_start"] == 300.0 and second["duration"] == 46.5  # video 16's last clip: its last utterance's end
    assert rows["16_000"]["duration"] == 300.0
    assert second["sentences"][1] == {"start": 20.0, "end": 26.5, "text": "A darker orange here."}  # video -> clip time
    assert rows["3_002"]["sentences"][1]["start"] == 20.0  # clip-time offsets kept
    assert second["sentence_labels"] == [1, 0, 1] and rows["16_000"]["sentence_labels"] == [0, 1, 0]
    assert second["summary"] == "The streamer paints a fox." and second["transcript_url"].endswith("16_1.json")
    assert np.array(second["sentences_minilm"]).shape == (3, 384)
    assert "StreamHover" in (tmp_path / "hub" / "README.md").read_text()


class Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_an_unsafe_or_missing_release_file_stops_the_import(tmp_path, capsys, monkeypatch):
    d = release(tmp_path)
    monkeypatch.chdir(tmp_path)
    with open(d / "Behance_val.pkl", "wb") as f:
        pickle.dump([Exploit()], f)
    with pytest.raises(UnsafePickleError):
        load_pickle(d / "Behance_val.pkl")
    assert main(["--source", "streamhover", "--input", str(d), "--out", str(tmp_path / "hub"), *ARGS]) == 2
    assert "refusing to unpickle global posix.system" in capsys.readouterr().err
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "hub").exists()
    (d / "Behance_test.pkl").unlink()
    assert main(["--source", "streamhover", "--input", str(d), "--out", str(tmp_path / "hub"), *ARGS]) == 2
    assert "Behance_test.pkl not found" in capsys.readouterr().err
