import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builders.labels.keyshots import keyshot_summary, shot_scores, upsample_scores
from builders.labels.kts import segments_from_change_points


def test_hand_computed_tiny_case():
    # 10 frames, scores at picks 0, 2, 4, 6, 8:
    #   frames   0   1   2   3   4   5   6   7   8   9
    #   score   .1  .1  .9  .9  .2  .2  .4  .4  .8  .8
    # shots [0, 2], [3, 6], [7, 9] (lengths 3, 4, 3):
    #   means (.1+.1+.9)/3 = .3667, (.9+.2+.2+.4)/4 = .425, (.4+.8+.8)/3 = .6667
    # budget floor(0.65 * 10) = 6 frames: {0, 2} weighs 6, worth 1.033; {1, 2} weighs 7 (too much);
    # {1} alone .425, {2} alone .667. So shots 0 and 2.
    step_scores = [0.1, 0.9, 0.2, 0.4, 0.8]
    picks = [0, 2, 4, 6, 8]
    cp = np.array([[0, 2], [3, 6], [7, 9]])
    frames = upsample_scores(step_scores, picks, 10)
    assert frames.tolist() == pytest.approx([0.1, 0.1, 0.9, 0.9, 0.2, 0.2, 0.4, 0.4, 0.8, 0.8])
    assert shot_scores(frames, cp).tolist() == pytest.approx([1.1 / 3, 1.7 / 4, 2.0 / 3])
    summary = keyshot_summary(step_scores, cp, 10, picks, proportion=0.65)
    assert summary.dtype == np.uint8
    assert summary.tolist() == [1, 1, 1, 0, 0, 0, 0, 1, 1, 1]
    # budget floor(0.5 * 10) = 5: only one shot fits, the best mean is shot 2
    assert keyshot_summary(step_scores, cp, 10, picks, proportion=0.5).tolist() == [0] * 7 + [1] * 3


def test_tail_after_the_last_pick_takes_the_last_score():
    assert upsample_scores([1.0, 2.0], [0, 15], 40).tolist() == [1.0] * 15 + [2.0] * 25


def test_integral_float_picks_are_accepted():
    assert upsample_scores([1.0, 2.0], np.array([0.0, 2.0]), 3).tolist() == [1.0, 1.0, 2.0]


def test_frames_before_the_first_pick_take_the_first_score():
    assert upsample_scores([3.0, 5.0], [2, 4], 6).tolist() == [3.0, 3.0, 3.0, 3.0, 5.0, 5.0]


def test_the_long_shot_with_the_best_mean_loses_to_shorter_ones_worth_more():
    # shot 0: 6 frames at 1.0; shots 1 and 2: 3 frames at .8 and .7; budget 6 frames.
    # Taking shot 0 alone is worth 1.0; shots 1 + 2 together are worth 1.5.
    frames = [1.0] * 6 + [0.8] * 3 + [0.7] * 3 + [0.0] * 8
    cp = np.array([[0, 5], [6, 8], [9, 11], [12, 19]])
    summary = keyshot_summary(frames, cp, 20, np.arange(20), proportion=0.3)
    assert summary.tolist() == [0] * 6 + [1] * 6 + [0] * 8


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 400), st.integers(1, 20), st.floats(0, 1), st.data())
def test_summary_never_exceeds_the_budget_and_is_whole_shots(n_frames, step, proportion, data):
    picks = np.arange(0, n_frames, step)
    scores = data.draw(st.lists(st.floats(0, 1), min_size=len(picks), max_size=len(picks)))
    cps = sorted(data.draw(st.sets(st.integers(1, n_frames - 1), max_size=30)) if n_frames > 1 else [])
    cp, _ = segments_from_change_points(cps, n_frames)
    summary = keyshot_summary(scores, cp, n_frames, picks, proportion)
    assert summary.sum() <= int(proportion * n_frames)
    for start, end in cp:
        assert len(set(summary[start:end + 1].tolist())) == 1


@pytest.mark.parametrize("call, message", [
    (lambda: upsample_scores([1.0], [0, 1], 5), "one score per pick"),
    (lambda: upsample_scores([], [], 5), "at least one pick"),
    (lambda: upsample_scores([1.0, 2.0], [0, 5], 5), "strictly increasing"),
    (lambda: upsample_scores([1.0, 2.0], [3, 3], 5), "strictly increasing"),
    (lambda: upsample_scores([1.0], [0.5], 5), "integer"),
    (lambda: upsample_scores([np.nan], [0], 5), "finite"),
    (lambda: upsample_scores([1.0], [0], 0), "n_frames"),
    (lambda: shot_scores([1.0] * 5, [[0, 2], [2, 4]]), "non-overlapping"),
    (lambda: shot_scores([1.0] * 5, [[0, 5]]), "inside"),
    (lambda: shot_scores([1.0] * 5, [[3, 2]]), "ordered"),
    (lambda: shot_scores([1.0] * 5, [0, 4]), "rows"),
    (lambda: keyshot_summary([1.0], [[0, 4]], 5, [0], proportion=1.5), "proportion"),
])
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_dsnet_truncates_shot_scores_so_close_shots_tie():
    # shots [0-9] mean 0.5001, [10-19] mean 0.5004, [20-99] 0.1; budget floor(15% of 100) = 15: one of the two first
    scores = np.r_[np.full(10, 0.5001), np.full(10, 0.5004), np.full(80, 0.1)]
    cps = np.array([[0, 9], [10, 19], [20, 99]])
    eccv16 = keyshot_summary(scores, cps, 100, np.arange(100))
    dsnet = keyshot_summary(scores, cps, 100, np.arange(100), protocol="dsnet")
    assert eccv16[10:20].all() and not eccv16[:10].any()  # the higher mean
    assert dsnet[:10].all() and not dsnet[10:20].any()  # int(1000 * mean) = 500 for both: the tie goes to the earlier shot


def test_a2summ_rounds_the_budget():
    # 90 frames: floor(13.5) = 13 frames (eccv16, DSNet) cannot hold the 14-frame shot; round(13.5) = 14 (A2Summ) can
    scores, cps = np.r_[np.full(14, 0.9), np.full(76, 0.1)], np.array([[0, 13], [14, 89]])
    assert not keyshot_summary(scores, cps, 90, np.arange(90), protocol="dsnet").any()
    assert keyshot_summary(scores, cps, 90, np.arange(90), protocol="a2summ").sum() == 14
    with pytest.raises(ValueError, match="unknown keyshot protocol"):
        keyshot_summary(scores, cps, 90, np.arange(90), protocol="vasnet")


def test_dsnet_scores_frames_before_the_first_pick_zero():
    # picks from frame 10: eccv16 gives frames 0-9 the first score (shots 0 and 1 tie at 0.9: the earlier wins);
    # DSNet gives them 0, so shot 1 wins
    picks, cps = np.arange(10, 40, 10), np.array([[0, 9], [10, 19], [20, 39]])
    assert keyshot_summary([0.9, 0.1, 0.1], cps, 40, picks, proportion=0.25).nonzero()[0].tolist() == list(range(10))
    dsnet = keyshot_summary([0.9, 0.1, 0.1], cps, 40, picks, proportion=0.25, protocol="dsnet")
    assert dsnet.nonzero()[0].tolist() == list(range(10, 20))
