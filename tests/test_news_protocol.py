"""The news protocol (MHMS Tables 1-6) on hand-made rows: VMSMO's cover ranking at its 10 candidates,
ROUGE of a generated summary or of picked sentences, Daily Mail's keyframe cosine of one keyframe."""

from __future__ import annotations

import numpy as np
import pytest

from models.protocols import aggregate, detect, main_metric, news_example, protocol_visual


def vmsmo_row():
    return {"id": "s1", "frame_times": np.arange(15) * 0.4 + 0.2, "summary": "卫健委通报最新情况",
            "sentences": [{"start": None, "end": None, "text": t} for t in ("卫健委今天通报情况。", "专家表示可控。")],
            "candidates": np.array([0, 1, 3, 4, 6, 7, 9, 10, 12, 14]), "candidate_labels": np.eye(10, dtype=np.int8)[4]}


def test_detects_news_datasets_before_the_multimodal_protocol():
    assert detect(["id", "summary", "sentences", "frames_x", "candidates", "candidate_labels", "frame_labels"]) == "news"
    assert detect(["id", "summary", "frames_r", "images_r", "frame_labels"]) == "news"
    assert detect(["id", "summary", "frames_r", "thumbnail_r", "frame_labels"]) == "multimodal"
    assert protocol_visual("news", ["frames_a", "images_a", "frames_b", "images_b"], "frames_b") == "b"
    assert protocol_visual("news", ["frames_a", "images_a"]) == "a" and protocol_visual("frame_importance", []) is None


def test_cover_ranking_at_the_candidates():
    scores = np.zeros(15)
    scores[[6, 3]] = [0.8, 0.9]  # candidate frame 3 ranks first, the cover's candidate (frame 6) second
    got = news_example(vmsmo_row(), {"video_scores": scores}, visual=None)
    assert got["map"] == pytest.approx(0.5) and got["r10@1"] == 0.0 and got["r10@2"] == 1.0 and got["r10@5"] == 1.0
    assert "rouge1" not in got  # no text predicted
    with pytest.raises(ValueError, match="14 frame scores for 15 frames"):
        news_example(vmsmo_row(), {"video_scores": np.zeros(14)}, visual=None)


def test_rouge_of_generated_text_or_of_picked_sentences_chinese_by_character():
    generated = news_example(vmsmo_row(), {"summary_text": "卫健委通报最新情况"}, visual=None)
    assert generated["rouge1"] == pytest.approx(1.0)
    picked = news_example(vmsmo_row(), {"text_pick": np.array([0])}, visual=None)
    # 卫健委今天通报情况。 vs 卫健委通报最新情况: 7 shared characters of 9 and 9
    assert picked["rouge1"] == pytest.approx(7 / 9)
    lines = news_example({"summary": "A man was rescued\nPolice said he was lucky"},
                         {"summary_text": "police said he was lucky\na man was rescued"}, visual=None)
    assert lines["rouge1"] == pytest.approx(1.0) and lines["rougeL"] < 1.0  # order matters to the LCS over the text


def test_keyframe_cosine_of_one_chosen_frame_against_the_images():
    row = {"id": "d", "summary": "x.", "frame_times": [0.5, 1.5, 2.5],
           "frames_r": np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), "images_r": np.array([[0.0, 2.0], [3.0, 0.0]])}
    assert news_example(row, {"video_pick": [2]}, "r")["keyframe_cos"] == pytest.approx(np.sqrt(0.5))
    assert news_example(row, {"video_scores": [0.1, 0.9, 0.3]}, "r")["keyframe_cos"] == pytest.approx(1.0)  # top frame
    assert "keyframe_cos" not in news_example({**row, "images_r": np.zeros((0, 2))}, {"video_pick": [0]}, "r")
    per = [news_example(row, {"video_pick": [2]}, "r"), news_example(row, {"video_pick": [0]}, "r")]
    assert main_metric("news", aggregate(per))[0] == "mean(keyframe_cos)"
    assert main_metric("news", {"rougeLsum": 0.2, "map": 0.6}) == ("mean(rougeLsum, map)", pytest.approx(0.4))
    assert main_metric("news", {})[1] is None
