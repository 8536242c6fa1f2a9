from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import TimecodeError
from core.time import (
    RationalTime,
    TempoMap,
    as_rate,
    frame_to_pts,
    frames_to_seconds,
    frames_to_timecode,
    pts_to_frame,
    rescale_frames,
    seconds_to_frames,
    timecode_to_frames,
)

RATES = [Fraction(24000, 1001), Fraction(24), Fraction(25), Fraction(30000, 1001), Fraction(30),
         Fraction(50), Fraction(60000, 1001), Fraction(60)]
frames_st = st.integers(min_value=0, max_value=30 * 3600 * 60)


@pytest.mark.parametrize("text,expected", [
    ("23.976", Fraction(24000, 1001)), (29.97, Fraction(30000, 1001)), ("59.94", Fraction(60000, 1001)),
    ("24000/1001", Fraction(24000, 1001)), (25, Fraction(25)), ((30000, 1001), Fraction(30000, 1001)),
    (23.98, Fraction(24000, 1001)), ("12.5", Fraction(25, 2)),
])
def test_as_rate(text, expected):
    assert as_rate(text) == expected


@pytest.mark.parametrize("bad", [0, -25, "abc", "1/0", float("nan"), None, True])
def test_as_rate_rejects(bad):
    with pytest.raises(TimecodeError):
        as_rate(bad)


def test_known_drop_frame_values():
    r = Fraction(30000, 1001)
    assert frames_to_timecode(0, r) == "00:00:00;00"
    assert frames_to_timecode(1799, r) == "00:00:59;29"
    assert frames_to_timecode(1800, r) == "00:01:00;02"
    assert frames_to_timecode(17982, r) == "00:10:00;00"
    assert frames_to_timecode(107892, r) == "01:00:00;00"  # one hour of 29.97 DF is 107892 frames
    assert timecode_to_frames("00:01:00;02", r) == 1800
    assert timecode_to_frames("01:00:00;00", r) == 107892
    r60 = Fraction(60000, 1001)
    assert frames_to_timecode(3600, r60) == "00:01:00;04"
    assert frames_to_timecode(215784, r60) == "01:00:00;00"


def test_non_drop_values():
    assert frames_to_timecode(86400, 24) == "01:00:00:00"
    assert frames_to_timecode(25 * 3661 + 7, 25) == "01:01:01:07"
    # 23.976 counts 24 frames per timecode second
    assert frames_to_timecode(24, Fraction(24000, 1001)) == "00:00:01:00"
    assert frames_to_timecode(1800, Fraction(30000, 1001), drop=False) == "00:01:00:00"
    assert frames_to_timecode(-25, 25) == "-00:00:01:00"


@pytest.mark.parametrize("tc,rate", [("00:01:00;00", "29.97"), ("00:01:00;01", "29.97"), ("00:00:00:25", 25),
                                     ("00:60:00:00", 25), ("garbage", 25), ("00:00:00;00", 25)])
def test_bad_timecodes(tc, rate):
    with pytest.raises(TimecodeError):
        timecode_to_frames(tc, rate)


@settings(max_examples=300)
@given(frames=frames_st, rate=st.sampled_from(RATES), drop=st.booleans())
def test_timecode_round_trip(frames, rate, drop):
    drop = drop and rate in (Fraction(30000, 1001), Fraction(60000, 1001))
    tc = frames_to_timecode(frames, rate, drop)
    assert timecode_to_frames(tc, rate) == frames


@settings(max_examples=300)
@given(frames=frames_st, rate=st.sampled_from(RATES))
def test_drop_frame_is_monotonic_and_dense(frames, rate):
    if rate not in (Fraction(30000, 1001), Fraction(60000, 1001)):
        return
    a = timecode_to_frames(frames_to_timecode(frames, rate), rate)
    b = timecode_to_frames(frames_to_timecode(frames + 1, rate), rate)
    assert b == a + 1


@settings(max_examples=300)
@given(frames=st.integers(-10**9, 10**9), rate=st.sampled_from(RATES))
def test_seconds_frames_exact(frames, rate):
    s = frames_to_seconds(frames, rate)
    assert isinstance(s, Fraction)
    assert seconds_to_frames(s, rate) == frames
    assert seconds_to_frames(s, rate, "nearest") == frames
    assert seconds_to_frames(s, rate, "ceil") == frames


@settings(max_examples=200)
@given(frames=st.integers(0, 10**7), rate=st.sampled_from(RATES))
def test_float_seconds_snap_back(frames, rate):
    # A float computed from a frame index maps back to that index (no off-by-one from float error).
    assert seconds_to_frames(float(frames * rate.denominator) / rate.numerator, rate) == frames


def test_no_drift_over_a_long_show():
    rate = Fraction(30000, 1001)
    total = sum(frames_to_seconds(1, rate) for _ in range(10 * 3600 * 30))
    assert total == frames_to_seconds(10 * 3600 * 30, rate)
    assert seconds_to_frames(total, rate) == 10 * 3600 * 30
    # the float-ms approach drifts; ours does not
    naive = sum(1001 / 30000 for _ in range(10000))
    assert seconds_to_frames(naive, rate) == 10000


def test_rescale_and_pts():
    assert rescale_frames(25, 25, Fraction(30000, 1001)) == 29
    tb = Fraction(1, 90000)
    for f in range(0, 500, 7):
        pts = frame_to_pts(f, tb, Fraction(24000, 1001), start_pts=1234)
        assert pts_to_frame(pts, tb, Fraction(24000, 1001), start_pts=1234) == f


def test_rational_time():
    a = RationalTime(10, 25)
    b = RationalTime.from_timecode("00:00:01:00", 25)
    assert (a + b).frames == 35
    assert (b - a).seconds == Fraction(15, 25)
    assert b.rescaled_to(50).frames == 50
    assert a.to_timecode() == "00:00:00:10"
    with pytest.raises(TimecodeError):
        a + RationalTime(1, 24)


def test_tempo_map():
    tm = TempoMap(bpm=128, offset=Fraction(1, 2))
    assert tm.beats_to_seconds(0) == Fraction(1, 2)
    assert tm.beats_to_seconds(4) == Fraction(1, 2) + Fraction(4 * 60, 128)
    assert tm.seconds_to_beats(tm.beats_to_seconds(Fraction(7, 3))) == Fraction(7, 3)
    arr = tm.beats_to_seconds(np.arange(4, dtype=np.float64))
    assert np.allclose(arr, 0.5 + np.arange(4) * 60 / 128)
    assert tm.beat_to_frame(8, 25) == round((0.5 + 8 * 60 / 128) * 25)
    with pytest.raises(TimecodeError):
        TempoMap(bpm=0)
