import pytest

from builders.core.splits import assign_splits


def test_hash_split_is_deterministic_video_disjoint_and_covers_all_splits():
    ids = [f"video-{i:02d}" for i in range(20)]
    a = assign_splits(ids)
    assert a == assign_splits(list(reversed(ids)))  # depends only on the set of ids
    assert sorted(a) == sorted(ids)
    counts = {s: sum(1 for v in a.values() if v == s) for s in ("train", "validation", "test")}
    assert counts == {"train": 16, "validation": 2, "test": 2}


def test_three_videos_give_one_per_split():
    a = assign_splits(["a", "b", "c"])
    assert sorted(a.values()) == ["test", "train", "validation"]


def test_given_splits_are_kept_and_unlisted_videos_train():
    a = assign_splits(["a", "b", "c"], {"test": ["a"], "validation": ["b"]})
    assert a == {"a": "test", "b": "validation", "c": "train"}


@pytest.mark.parametrize("given, message", [
    ({"dev": ["a"]}, "unknown split 'dev'"),
    ({"train": ["a"], "test": ["a"]}, "listed in both"),
])
def test_bad_given_splits(given, message):
    with pytest.raises(ValueError, match=message):
        assign_splits(["a"], given)
