import json

import pytest

from collectors.records import ItemError, RawItem, check_item_id, check_transcript, read_manifest, write_manifest


def test_manifest_round_trip(tmp_path):
    items = [
        RawItem(id="v1", source="behance", title="t", duration=12.5, media={"video": "a.mp4"},
                transcript=[{"start": 0.0, "end": 1.0, "text": "hi"}], transcript_source="provided"),
        RawItem(id="v2", source="behance").failed(ItemError("bad_media", "cannot open")),
    ]
    path = tmp_path / "manifest.jsonl"
    assert write_manifest(path, items) == 2
    back = list(read_manifest(path))
    assert back == items
    assert back[1].status == "failed" and back[1].error == {"kind": "bad_media", "message": "cannot open"}


def test_malformed_manifest_line_names_the_line(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(RawItem(id="ok", source="x").to_dict()) + "\n{not json\n")
    with pytest.raises(ValueError, match=r"m.jsonl:2: malformed"):
        list(read_manifest(path))


@pytest.mark.parametrize("line, message", [
    ("[1, 2, 3]", "a JSON list, not an object"),
    ('"just a string"', "a JSON str, not an object"),
    ("null", "a JSON NoneType, not an object"),
    ('{"source": "x"}', "no 'id'"),
])
def test_a_line_that_is_json_but_not_an_item_names_the_line(tmp_path, line, message):
    """Issue 11 case 3: such a line is a usage error naming the line (ValueError), never an AttributeError."""
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps(RawItem(id="ok", source="x").to_dict()) + "\n" + line + "\n")
    with pytest.raises(ValueError, match=rf"m.jsonl:2: malformed manifest line: .*{message}"):
        list(read_manifest(path))


def test_malformed_fields_are_the_items_own_problem():
    """A field of the wrong type does not make the line unreadable: the item reads, and says what is
    wrong with the fields an extractor would use (the job records it as that item's failure)."""
    item = RawItem.from_dict({"id": "a", "source": "x", "media": "/x.mp4"})
    assert item.input_problems("visual") == "media is a str ('/x.mp4'), not an object of paths"
    item = RawItem.from_dict({"id": "b", "source": "x", "media": {"video": 42, "audio": "a.m4a"}})
    assert item.input_problems("visual") == "media['video'] is an int (42), not a path"
    assert item.input_problems("audio") == "media['video'] is an int (42), not a path"
    item = RawItem.from_dict({"id": "c", "source": "x", "transcript": "hello"})
    assert item.input_problems("text") == "transcript is a str ('hello'), not a list of {start, end, text}"
    assert item.input_problems("visual") is None  # a visual extractor does not read the transcript
    item = RawItem.from_dict({"id": "d", "source": "x", "transcript": [{"start": 1, "end": 0, "text": "x"}]})
    assert "sentence 0 ends before it starts" in item.input_problems("text")
    assert RawItem(id="e", source="x", media={"video": "v.mp4"}).input_problems("visual") is None


@pytest.mark.parametrize("bad", ["", "a/b", "../x", "a.b", "-x", "x" * 200])
def test_unsafe_ids_are_refused(bad):
    with pytest.raises(ValueError, match="not filesystem-safe"):
        check_item_id(bad)


def test_transcript_checks_name_the_sentence():
    with pytest.raises(ItemError, match=r"sentence 1 ends before it starts") as e:
        check_transcript([{"start": 0, "end": 1, "text": "a"}, {"start": 5, "end": 4, "text": "b"}], "vid")
    assert e.value.kind == "bad_transcript" and e.value.item_id == "vid"
    with pytest.raises(ItemError, match="non-numeric"):
        check_transcript([{"start": "x", "end": 1, "text": "a"}])
    assert [s["start"] for s in check_transcript([{"start": 3, "end": 4, "text": "b"}, {"start": 1, "end": 2, "text": "a"}])] == [1.0, 3.0]


def test_failed_item_needs_an_error_and_kinds_are_known():
    with pytest.raises(ValueError):
        RawItem(id="v", source="x", status="failed")
    with pytest.raises(ValueError, match="unknown error kind"):
        ItemError("weird", "x")
