"""models.data / models.collate: alignment from times, padding, parquet == wds, columns by name, errors."""

import numpy as np
import pytest
import torch
from hub_fixtures import built_bliss_hub, tiny_bliss, tiny_row

from models.collate import align_mask, collate
from models.data import (
    KEY_SENTENCES,
    DatasetError,
    available_columns,
    iter_rows,
    open_split,
    resolve_columns,
)
from models.loader import Loader

CONFIG = "colorhist-minilm"


@pytest.fixture(scope="session")
def bliss_hub(bliss_sample_dir, tmp_path_factory):
    return built_bliss_hub(bliss_sample_dir, tmp_path_factory.getbasetemp())


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return tiny_bliss(tmp_path_factory.mktemp("tiny") / "hub")


def test_alignment_comes_from_times_not_positions():
    frame_times = np.arange(8) + 0.5  # 0.5 .. 7.5
    a = align_mask(frame_times, np.array([[2.0, 5.0]]))
    assert frame_times[a[0]].tolist() == [2.5, 3.5, 4.5]
    # start is inclusive, end exclusive; an empty or inverted sentence covers nothing
    b = align_mask(np.array([1.0, 2.0, 3.0]), np.array([[1.0, 3.0], [2.0, 2.0], [3.0, 1.0]]))
    assert b.tolist() == [[True, True, False], [False, False, False], [False, False, False]]
    # irregular frame times: the window decides, not the index
    c = align_mask(np.array([0.0, 4.9, 5.0, 100.0]), np.array([[4.0, 6.0]]))
    assert c.tolist() == [[False, True, True, False]]


def _example(ex_id, T, N, dv=3, dt=2, start=0.0):
    return {"id": ex_id, "video": np.ones((T, dv), np.float32), "frame_times": np.arange(T) + 0.5,
            "text": np.full((N, dt), 2.0, np.float32), "sentence_times": np.array([[start, start + 2.0]] * N),
            "frame_labels": np.ones(T, np.float32), "sentence_labels": np.ones(N, np.float32)}


def test_padding_masks_and_zero_padding():
    b = collate([_example("a", 3, 1), _example("b", 5, 2, start=1.0)])
    assert b["ids"] == ["a", "b"]
    assert b["video"].shape == (2, 5, 3) and b["text"].shape == (2, 2, 2) and b["align"].shape == (2, 2, 5)
    assert b["video_mask"].tolist() == [[True] * 3 + [False] * 2, [True] * 5]
    assert b["text_mask"].tolist() == [[True, False], [True, True]]
    assert b["video"][0, 3:].abs().sum() == 0 and b["text"][0, 1:].abs().sum() == 0
    assert b["frame_labels"][0].tolist() == [1, 1, 1, 0, 0] and b["sentence_labels"][0].tolist() == [1, 0]
    assert not b["align"][0, 1].any() and not b["align"][0, :, 3:].any()  # padding aligns with nothing
    assert b["align"][1, 0].tolist() == [False, True, True, False, False]  # [1, 3) holds 1.5 and 2.5
    assert b["align"][0, 0].tolist() == [True, True, False, False, False]  # [0, 2) holds 0.5 and 1.5
    assert b["video"].dtype == torch.float32 and b["align"].dtype == torch.bool
    assert b["frame_labels"].dtype == torch.float32


def test_parquet_and_wds_give_the_same_batches(bliss_hub):
    cols = resolve_columns(available_columns(bliss_hub, CONFIG, "train"))
    assert cols.video == "frames_colorhist" and cols.text == "sentences_minilm"
    assert set(cols.targets) == {"frame_labels", "sentence_labels"}
    for split in ("train", "validation", "test"):
        pq = list(Loader(open_split(bliss_hub, CONFIG, split, cols, "parquet"), batch_size=2).epoch(0))
        wd = list(Loader(open_split(bliss_hub, CONFIG, split, cols, "wds"), batch_size=2).epoch(0))
        assert len(pq) == len(wd) >= 1
        for a, b in zip(pq, wd):
            assert a.keys() == b.keys() and a["ids"] == b["ids"]
            for k in a:
                if k != "ids":
                    assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), (split, k)
    b = pq[0]
    T, N = b["video"].shape[1], b["text"].shape[1]
    assert b["align"].shape == (len(b["ids"]), N, T) and b["align"].any()


def test_batches_match_the_rows(bliss_hub):
    cols = resolve_columns(available_columns(bliss_hub, CONFIG, "validation"))
    batch = next(Loader(open_split(bliss_hub, CONFIG, "validation", cols), batch_size=8).epoch(0))
    rows = list(iter_rows(bliss_hub, CONFIG, "validation", ["id", "frame_times", "sentences", "frames_colorhist"]))
    assert batch["ids"] == [r["id"] for r in rows]
    for i, row in enumerate(rows):
        T, N = len(row["frame_times"]), len(row["sentences"])
        assert int(batch["video_mask"][i].sum()) == T and int(batch["text_mask"][i].sum()) == N
        assert torch.equal(batch["video"][i, :T], torch.tensor(row["frames_colorhist"]))
        s = row["sentences"][0]
        inside = (row["frame_times"] >= s["start"]) & (row["frame_times"] < s["end"])
        assert batch["align"][i, 0, :T].numpy().tolist() == inside.tolist()


def test_missing_column_names_it_and_lists_the_columns(bliss_hub, tiny):
    for fmt in ("parquet", "wds"):
        available = available_columns(bliss_hub, CONFIG, "train", fmt)
        with pytest.raises(DatasetError) as e:
            resolve_columns(available, video="frames_clip")
        msg = str(e.value)
        assert "'frames_clip'" in msg and "--video-features" in msg and "frames_colorhist" in msg and "sentences_minilm" in msg
        with pytest.raises(DatasetError, match=r"'sentences_roberta' \(asked by --text-features\).*sentences_minilm"):
            resolve_columns(available, text="sentences_roberta")
        with pytest.raises(DatasetError, match="'audio_pann'.*columns: .*frames_colorhist"):
            resolve_columns(available, audio="audio_pann")
    with pytest.raises(DatasetError, match="no split 'dev'; splits: test, train, validation"):
        open_split(tiny, "vis-txt", "dev", resolve_columns(available_columns(tiny, "vis-txt", "train")))


def test_features_are_chosen_by_name(tiny):
    """Any [L, D] column can be the query; video-only reading needs no sentence columns."""
    available = available_columns(tiny, "vis-txt", "train")
    cols = resolve_columns(available, video="frames_vis", text="sentences_txt", query="thumbnail_vis")
    b = next(Loader(open_split(tiny, "vis-txt", "train", cols), batch_size=3).epoch(0))
    rows = list(iter_rows(tiny, "vis-txt", "train", ["id", "thumbnail_vis"]))
    assert b["query"].shape[2] == 6 and b["query_mask"].sum(1).tolist() == [len(r["thumbnail_vis"]) for r in rows]
    assert torch.equal(b["query"][0, :3], torch.tensor(rows[0]["thumbnail_vis"]))
    video_only = resolve_columns(available, use_text=False)
    b = next(Loader(open_split(tiny, "vis-txt", "train", video_only), batch_size=3).epoch(0))
    assert "text" not in b and "align" not in b and "sentence_labels" not in b and b["frame_labels"].shape == (3, 12)


def test_key_sentences_query_is_the_labelled_sentences(tiny):
    cols = resolve_columns(available_columns(tiny, "vis-txt", "train"), query=KEY_SENTENCES)
    b = next(Loader(open_split(tiny, "vis-txt", "train", cols), batch_size=3).epoch(0))
    for i in range(3):
        keys = b["text"][i][b["sentence_labels"][i].bool()]
        assert torch.equal(b["query"][i][b["query_mask"][i]], keys)


def test_shuffle_depends_on_seed_and_epoch_only(tiny):
    cols = resolve_columns(available_columns(tiny, "vis-txt", "train"))
    src = open_split(tiny, "vis-txt", "train", cols)
    ids = lambda loader, e: [i for b in loader.epoch(e) for i in b["ids"]]
    a, b = Loader(src, 1, shuffle=True, seed=3), Loader(src, 1, shuffle=True, seed=3)
    assert ids(a, 0) == ids(b, 0) and ids(a, 5) == ids(b, 5)
    assert sorted(ids(a, 0)) == sorted(ids(Loader(src, 1), 0))
    assert len({tuple(ids(a, e)) for e in range(8)}) > 1


def test_worker_processes_give_the_thread_batches(tiny):
    cols = resolve_columns(available_columns(tiny, "vis-txt", "train"))
    src = open_split(tiny, "vis-txt", "train", cols)
    thread, pool = Loader(src, 2, shuffle=True, seed=1), Loader(src, 2, shuffle=True, seed=1, workers=2)
    for epoch in (2, 3):  # the workers persist; each epoch's order still reaches them
        a, b = list(thread.epoch(epoch)), list(pool.epoch(epoch))
        assert [x["ids"] for x in a] == [y["ids"] for y in b]
        assert all(torch.equal(x["align"], y["align"]) and torch.equal(x["video"], y["video"]) for x, y in zip(a, b))
    assert [x["ids"] for x in thread.epoch(2)] != [x["ids"] for x in thread.epoch(3)]


def test_null_targets_are_left_out_when_labeled(tmp_path):
    from builders.core.writers import ConfigWriter
    from builders.core.schema import bliss_features

    rng = np.random.default_rng(0)
    with ConfigWriter(tmp_path / "hub", "vis-txt", bliss_features("vis", 6, "txt", 5)) as w:
        for i in range(3):
            row = tiny_row(i, 6, 2, rng)
            if i == 1:
                row["frame_labels"] = None
            w.add("train", row)
    cols = resolve_columns(available_columns(tmp_path / "hub", "vis-txt", "train"))
    for fmt in ("parquet", "wds"):
        src = open_split(tmp_path / "hub", "vis-txt", "train", cols, fmt, labeled=True)
        got = [i for b in Loader(src, 2).epoch(0) for i in b["ids"]]
        assert got == ["v0_000", "v2_000"] and src.skipped == 1
        with pytest.raises(DatasetError, match="null"):
            list(Loader(open_split(tmp_path / "hub", "vis-txt", "train", cols, fmt), 2).epoch(0))


def test_stream_shuffle_is_seeded_and_starts_before_the_buffer_fills():
    import random

    from models.loader import shuffled

    consumed = []

    def stream():
        for i in range(1000):
            consumed.append(i)
            yield i

    it = shuffled(stream(), buffer=256, rng=random.Random("0-1"))
    next(it)
    assert len(consumed) <= 16  # the first item comes out early
    rest = list(it)
    assert len(rest) == 999 and len(set(rest)) == 999
    assert list(shuffled(range(50), 8, random.Random(3))) == list(shuffled(range(50), 8, random.Random(3)))
