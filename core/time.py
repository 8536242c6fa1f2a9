"""Frame-exact time.

Timeline positions are integer frame counts at a rational rate (24000/1001,
25, 30000/1001 ...). Seconds are :class:`fractions.Fraction` so that no
conversion ever accumulates float error: ``frames_to_seconds(n, r)`` is exact,
and ``seconds_to_frames(frames_to_seconds(n, r), r) == n`` for every n.

SMPTE timecode is supported in non-drop form for every rate and in drop-frame
form for 29.97 (30000/1001) and 59.94 (60000/1001). Drop-frame skips frame
*numbers* (not frames): 2 (or 4 at 59.94) at the start of every minute except
every tenth minute.

Lighting time (seconds or beats) converts through :class:`TempoMap`; all time
conversions of the project live in this module.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Union

from core.errors import TimecodeError

RateLike = Union[Fraction, int, float, str, tuple]
SecondsLike = Union[Fraction, int, float, str, Decimal]

#: Rates editors meet, keyed by the float they are often written as.
COMMON_RATES: dict[str, Fraction] = {
    "23.976": Fraction(24000, 1001),
    "24": Fraction(24),
    "25": Fraction(25),
    "29.97": Fraction(30000, 1001),
    "30": Fraction(30),
    "48": Fraction(48),
    "50": Fraction(50),
    "59.94": Fraction(60000, 1001),
    "60": Fraction(60),
    "119.88": Fraction(120000, 1001),
    "120": Fraction(120),
}

DROP_FRAME_RATES = (Fraction(30000, 1001), Fraction(60000, 1001))

_SNAP = Fraction(1, 10**6)  # float inputs within a millionth of a frame snap to it


def as_rate(value: RateLike) -> Fraction:
    """Return a frame rate as an exact Fraction.

    Accepts a Fraction, an int, a ``(num, den)`` tuple, a string ``"24000/1001"``
    or ``"29.97"``, or a float; floats and decimal strings near an NTSC rate
    snap to the exact 1001-denominator rate.
    """
    if isinstance(value, Fraction):
        rate = value
    elif isinstance(value, bool):
        raise TimecodeError(f"frame rate {value!r} is not a number")
    elif isinstance(value, int):
        rate = Fraction(value)
    elif isinstance(value, tuple) and len(value) == 2:
        try:
            rate = Fraction(int(value[0]), int(value[1]))
        except (ValueError, ZeroDivisionError, TypeError) as exc:
            raise TimecodeError(f"frame rate {value!r} is not a valid fraction") from exc
    elif isinstance(value, (float, str)):
        text = value.strip() if isinstance(value, str) else repr(value)
        try:
            if "/" in text:
                num, den = text.split("/", 1)
                rate = Fraction(int(num), int(den))
            else:
                f = float(text)
                if not math.isfinite(f):
                    raise ValueError(text)
                rate = _snap_float_rate(f)
        except (ValueError, ZeroDivisionError) as exc:
            raise TimecodeError(f"frame rate {value!r} is not a number") from exc
    else:
        raise TimecodeError(f"frame rate {value!r} has an unsupported type")
    if rate <= 0:
        raise TimecodeError(f"frame rate must be positive, got {value!r}")
    return rate


def _snap_float_rate(f: float) -> Fraction:
    for exact in COMMON_RATES.values():
        if abs(float(exact) - f) < 0.005:
            return exact
    for base in (24, 30, 60, 120):  # other NTSC-style rates
        ntsc = Fraction(base * 1000, 1001)
        if abs(float(ntsc) - f) < 0.005:
            return ntsc
    return Fraction(f).limit_denominator(1001)


def _as_fraction(seconds: SecondsLike) -> tuple[Fraction, bool]:
    """(exact value, came_from_float)."""
    if isinstance(seconds, Fraction):
        return seconds, False
    if isinstance(seconds, bool):
        raise TimecodeError(f"time {seconds!r} is not a number")
    if isinstance(seconds, int):
        return Fraction(seconds), False
    if isinstance(seconds, Decimal):
        return Fraction(seconds), False
    if isinstance(seconds, str):
        try:
            return Fraction(seconds.strip()), False
        except (ValueError, ZeroDivisionError) as exc:
            raise TimecodeError(f"time {seconds!r} is not a number") from exc
    try:
        f = float(seconds)
    except (TypeError, ValueError) as exc:
        raise TimecodeError(f"time {seconds!r} is not a number") from exc
    if not math.isfinite(f):
        raise TimecodeError(f"time {seconds!r} is not finite")
    return Fraction(f), True


def frames_to_seconds(frames: int, rate: RateLike) -> Fraction:
    """Exact start time in seconds of frame ``frames``."""
    return Fraction(int(frames)) / as_rate(rate)


def seconds_to_frames(seconds: SecondsLike, rate: RateLike, rounding: str = "floor") -> int:
    """Frame index at ``seconds``.

    ``rounding``: ``"floor"`` (the frame being shown at that instant, the
    default), ``"nearest"`` (ties go up) or ``"ceil"``. Float inputs that lie
    within a millionth of a frame of an integer snap to it, so a float that was
    computed from a frame index maps back to that index.
    """
    value, was_float = _as_fraction(seconds)
    x = value * as_rate(rate)
    if was_float:
        n = round(x)
        if abs(x - n) < _SNAP:
            return int(n)
    if rounding == "floor":
        return math.floor(x)
    if rounding == "ceil":
        return math.ceil(x)
    if rounding == "nearest":
        return math.floor(x + Fraction(1, 2))
    raise ValueError(f"rounding must be floor, nearest or ceil, not {rounding!r}")


def rescale_frames(frames: int, from_rate: RateLike, to_rate: RateLike, rounding: str = "floor") -> int:
    """Frame index at ``to_rate`` that shows the instant of ``frames`` at ``from_rate``."""
    return seconds_to_frames(frames_to_seconds(frames, from_rate), to_rate, rounding)


def pts_to_frame(pts: int, time_base: Fraction, rate: RateLike, start_pts: int = 0) -> int:
    """Frame index of a decoded frame from its presentation timestamp (nearest)."""
    seconds = Fraction(int(pts) - int(start_pts)) * Fraction(time_base)
    return seconds_to_frames(seconds, rate, "nearest")


def frame_to_pts(frame: int, time_base: Fraction, rate: RateLike, start_pts: int = 0) -> int:
    """Presentation timestamp (in ``time_base`` units) of frame ``frame`` (nearest)."""
    seconds = frames_to_seconds(frame, rate)
    return int(start_pts) + math.floor(seconds / Fraction(time_base) + Fraction(1, 2))


@dataclass(frozen=True)
class RationalTime:
    """A frame count at a rate, like OpenTimelineIO's RationalTime but integer."""

    frames: int
    rate: Fraction

    def __post_init__(self) -> None:
        object.__setattr__(self, "frames", int(self.frames))
        object.__setattr__(self, "rate", as_rate(self.rate))

    @classmethod
    def from_seconds(cls, seconds: SecondsLike, rate: RateLike, rounding: str = "floor") -> "RationalTime":
        return cls(seconds_to_frames(seconds, rate, rounding), as_rate(rate))

    @classmethod
    def from_timecode(cls, tc: str, rate: RateLike) -> "RationalTime":
        return cls(timecode_to_frames(tc, rate), as_rate(rate))

    @property
    def seconds(self) -> Fraction:
        return frames_to_seconds(self.frames, self.rate)

    def rescaled_to(self, rate: RateLike, rounding: str = "floor") -> "RationalTime":
        return RationalTime(rescale_frames(self.frames, self.rate, rate, rounding), as_rate(rate))

    def to_timecode(self, drop: bool | None = None) -> str:
        return frames_to_timecode(self.frames, self.rate, drop)

    def _check(self, other: "RationalTime") -> None:
        if not isinstance(other, RationalTime):
            raise TypeError(f"cannot combine RationalTime with {type(other).__name__}")
        if other.rate != self.rate:
            raise TimecodeError(f"cannot combine times at {self.rate} and {other.rate} fps; rescale first")

    def __add__(self, other: "RationalTime") -> "RationalTime":
        self._check(other)
        return RationalTime(self.frames + other.frames, self.rate)

    def __sub__(self, other: "RationalTime") -> "RationalTime":
        self._check(other)
        return RationalTime(self.frames - other.frames, self.rate)

    def __lt__(self, other: "RationalTime") -> bool:
        return self.seconds < other.seconds

    def __le__(self, other: "RationalTime") -> bool:
        return self.seconds <= other.seconds


# --------------------------------------------------------------------- timecode


def timecode_base(rate: RateLike) -> int:
    """Nominal frames per timecode second (30 for 29.97, 24 for 23.976)."""
    return int(math.floor(as_rate(rate) + Fraction(1, 2)))


def is_drop_frame_rate(rate: RateLike) -> bool:
    return as_rate(rate) in DROP_FRAME_RATES


def _drop_count(rate: Fraction) -> int:
    return timecode_base(rate) // 15  # 2 at 29.97, 4 at 59.94


def frames_to_timecode(frames: int, rate: RateLike, drop: bool | None = None) -> str:
    """SMPTE timecode of a frame index.

    ``drop=None`` uses drop-frame for 29.97/59.94 and non-drop otherwise.
    Drop-frame timecode is written with ``;`` before the frames field.
    Hours are not wrapped at 24.
    """
    rate = as_rate(rate)
    if drop is None:
        drop = is_drop_frame_rate(rate)
    if drop and not is_drop_frame_rate(rate):
        raise TimecodeError(f"drop-frame timecode exists only at 29.97 and 59.94 fps, not {float(rate):g}")
    frames = int(frames)
    sign = "-" if frames < 0 else ""
    frames = abs(frames)
    fps = timecode_base(rate)
    if drop:
        d = _drop_count(rate)
        per_min = fps * 60 - d
        per_10min = fps * 600 - 9 * d
        tens, rem = divmod(frames, per_10min)
        frames += 9 * d * tens
        if rem >= d:
            frames += d * ((rem - d) // per_min)
    ff = frames % fps
    total_s = frames // fps
    ss = total_s % 60
    mm = (total_s // 60) % 60
    hh = total_s // 3600
    sep = ";" if drop else ":"
    return f"{sign}{hh:02d}:{mm:02d}:{ss:02d}{sep}{ff:02d}"


_TC_RE = re.compile(r"^\s*(-?)(\d+):(\d{1,2}):(\d{1,2})([:;.,])(\d{1,3})\s*$")


def timecode_to_frames(tc: str, rate: RateLike, drop: bool | None = None) -> int:
    """Frame index of an SMPTE timecode string.

    A ``;``, ``.`` or ``,`` before the frames field means drop-frame; ``drop``
    overrides that when given. Invalid fields (frames >= the nominal rate, a
    dropped frame number) raise :class:`TimecodeError`.
    """
    rate = as_rate(rate)
    m = _TC_RE.match(tc) if isinstance(tc, str) else None
    if not m:
        raise TimecodeError(f"{tc!r} is not a timecode (expected HH:MM:SS:FF)")
    sign, hh, mm, ss, sep, ff = m.groups()
    hh, mm, ss, ff = int(hh), int(mm), int(ss), int(ff)
    if drop is None:
        drop = sep in ";.,"
    if drop and not is_drop_frame_rate(rate):
        raise TimecodeError(f"{tc}: drop-frame timecode exists only at 29.97 and 59.94 fps")
    fps = timecode_base(rate)
    if mm >= 60 or ss >= 60 or ff >= fps:
        raise TimecodeError(f"{tc}: a field is out of range for {float(rate):g} fps")
    frames = ((hh * 60 + mm) * 60 + ss) * fps + ff
    if drop:
        d = _drop_count(rate)
        if ss == 0 and ff < d and mm % 10 != 0:
            raise TimecodeError(f"{tc}: frame numbers 0-{d - 1} are skipped at this minute in drop-frame")
        total_min = hh * 60 + mm
        frames -= d * (total_min - total_min // 10)
    return -frames if sign else frames


# ------------------------------------------------------------------ tempo map


@dataclass(frozen=True)
class TempoMap:
    """Constant tempo: beat 0 falls at ``offset`` seconds, ``bpm`` beats a minute.

    Beat grids detected from audio replace this later; the interface
    (``beats_to_seconds`` / ``seconds_to_beats``, scalar or numpy arrays) stays.
    """

    bpm: Fraction = Fraction(120)
    offset: Fraction = Fraction(0)
    beats_per_bar: int = 4

    def __post_init__(self) -> None:
        bpm, _ = _as_fraction(self.bpm)
        off, _ = _as_fraction(self.offset)
        if bpm <= 0:
            raise TimecodeError(f"tempo must be positive, got {self.bpm!r} BPM")
        object.__setattr__(self, "bpm", bpm)
        object.__setattr__(self, "offset", off)

    @property
    def seconds_per_beat(self) -> Fraction:
        return Fraction(60) / self.bpm

    def beats_to_seconds(self, beats):
        """Seconds of a beat position. Fractions stay exact; numpy arrays vectorise."""
        if isinstance(beats, (int, Fraction)):
            return self.offset + Fraction(beats) * self.seconds_per_beat
        return float(self.offset) + beats * float(self.seconds_per_beat)

    def seconds_to_beats(self, seconds):
        if isinstance(seconds, (int, Fraction)):
            return (Fraction(seconds) - self.offset) / self.seconds_per_beat
        return (seconds - float(self.offset)) / float(self.seconds_per_beat)

    def beat_to_frame(self, beats, rate: RateLike, rounding: str = "nearest") -> int:
        return seconds_to_frames(self.beats_to_seconds(Fraction(beats)), rate, rounding)
