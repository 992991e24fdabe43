"""extractors.inputs: thumbnail frames and global steps as extractors of the job, and their fingerprints."""

import threading

import numpy as np
import pytest
from PIL import Image

from collectors.records import ItemError, RawItem
from extractors.base import UnknownExtractorError
from extractors.fingerprint import input_fingerprint
from extractors.inputs import GlobalSteps, ThumbnailFrames, load_thumbnail_frames
from extractors.registry import get_extractor
from extractors.shardtask import describe, load_extractor

ARTICLE = {"title": "Fold a plane", "url": "https://www.wikihow.com/Fold", "steps": [
    {"text": "Fold the paper in half.", "image": None, "clip": None},
    {"text": "Crease the wings.", "image": None, "clip": None}]}


@pytest.fixture
def thumbs(tmp_path):
    d = tmp_path / "thumbnail"
    d.mkdir()
    for k, colour in enumerate(((200, 30, 30), (30, 200, 30), (30, 30, 200))):
        Image.fromarray(np.full((24, 32, 3), colour, np.uint8)).save(d / f"{k:03d}.png")
    return d


def test_thumbnail_frames_through_the_visual_track_s_own_model(thumbs):
    ex = ThumbnailFrames("colorhist", {"fps": 1.0})
    track = ex.extract(RawItem(id="v", source="t", media={"thumbnail": str(thumbs)}))
    expected = get_extractor("colorhist", fps=1.0).encode_images(load_thumbnail_frames(thumbs))
    assert np.array_equal(track.values, expected) and list(track.times) == [0.0, 1.0, 2.0]
    assert ex.dim == 256 and ex.meta()["encoder"]["extractor"] == "colorhist"
    # the job's colorhist track with the same options has the very same instance on this worker
    assert ex.encoder is load_extractor("extractors.colorhist:ColorHistogram", {"fps": 1.0})


def test_thumbnail_problems_are_item_errors(thumbs, tmp_path):
    ex = ThumbnailFrames("colorhist")
    with pytest.raises(ItemError) as e:
        ex.extract(RawItem(id="v", source="t"))
    assert e.value.kind == "no_thumbnail"
    (tmp_path / "broken.gif").write_bytes(b"GIF89a not really")
    with pytest.raises(ItemError) as e:
        ex.extract(RawItem(id="v", source="t", media={"thumbnail": str(tmp_path / "broken.gif")}))
    assert e.value.kind == "bad_thumbnail"
    with pytest.raises(UnknownExtractorError):
        ThumbnailFrames("minilm")  # a text extractor cannot encode frames


def test_the_job_can_describe_a_wrapper_without_deadlocking_its_model_cache():
    """describe() builds the wrapper under the cache's lock; the wrapper loads its encoder through the
    same cache, so it must not do that in its constructor."""
    done = {}
    t = threading.Thread(target=lambda: done.update(d=describe("extractors.inputs:ThumbnailFrames",
                                                               {"encoder": "colorhist", "options": {"fps": 2.0}})),
                         daemon=True)
    t.start()
    t.join(60)
    assert not t.is_alive() and done["d"]["config"]["encoder"]["fps"] == 2.0
    other = describe("extractors.inputs:ThumbnailFrames", {"encoder": "colorhist", "options": {"fps": 1.0}})
    assert other["config_hash"] != done["d"]["config_hash"]  # a changed encoder config is a new directory


def test_global_steps_are_the_article_s_else_the_description_s():
    ex = GlobalSteps("minilm")
    with_article = RawItem(id="a", source="t", description="Ignore me.", article=ARTICLE)
    track = ex.extract(with_article)
    minilm = get_extractor("minilm")
    assert np.allclose(track.values, minilm.encode_texts(["Fold the paper in half.", "Crease the wings."]), atol=1e-6)
    described = ex.extract(RawItem(id="b", source="t", description="Fold it. Then throw it!\nSubscribe for more."))
    assert np.allclose(described.values, minilm.encode_texts(["Fold it.", "Then throw it!"]), atol=1e-6)
    assert ex.extract(RawItem(id="c", source="t")).values.shape == (0, 384)


def test_fingerprints_follow_what_each_extractor_reads(thumbs):
    item = RawItem(id="a", source="t", media={"thumbnail": str(thumbs)}, article=ARTICLE,
                   transcript=[{"start": 0.0, "end": 1.0, "text": "hi"}])
    before = {m: input_fingerprint(item, m) for m in ("thumbnail", "steps", "text")}
    (thumbs / "003.png").write_bytes((thumbs / "000.png").read_bytes())  # one more thumbnail frame
    item.transcript = [{"start": 0.0, "end": 1.0, "text": "hello"}]
    after = {m: input_fingerprint(item, m) for m in ("thumbnail", "steps", "text")}
    assert after["thumbnail"] != before["thumbnail"] and after["text"] != before["text"]
    assert after["steps"] == before["steps"]  # the steps do not read the transcript
    item.article = {**ARTICLE, "steps": ARTICLE["steps"][:1]}
    assert input_fingerprint(item, "steps") != before["steps"]
