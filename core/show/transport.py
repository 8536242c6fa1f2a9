"""The transport: one master clock for video preview, audio and DMX output.

The clock is a monotonic-time anchor: at ``anchor_time`` the position was
``anchor_frame`` (in exact rational frames) and it advances at ``rate * speed``
frames per second. The current frame is always computed from the anchor, never
by adding up ticks, so it cannot drift however long the show runs; every
consumer (viewer, DMX sender) asks the same transport.

J/K/L shuttle: L plays forward and doubles the speed on each press (up to 8x),
J the same backwards, K stops. Playback can be bounded by a range: reaching the
end stops exactly on its last frame (or loops).
"""

from __future__ import annotations

import math
import threading
import time
from fractions import Fraction
from typing import Callable

from core.time import RateLike, as_rate, frames_to_timecode

SHUTTLE_SPEEDS = (1, 2, 4, 8)


class Transport:
    def __init__(self, rate: RateLike, clock: Callable[[], float] = time.monotonic):
        self.rate = as_rate(rate)
        self._clock = clock
        self._lock = threading.Lock()
        self._anchor_frame = Fraction(0)
        self._anchor_time = clock()
        self._speed = Fraction(0)
        self.start_frame = 0
        self.end_frame: int | None = None  # last playable frame (inclusive)
        self.loop = False

    # ------------------------------------------------------------ state
    @property
    def speed(self) -> Fraction:
        return self._speed

    @property
    def playing(self) -> bool:
        return self._speed != 0

    def _position(self, now: float) -> Fraction:
        # float seconds from the monotonic clock -> exact fraction of a frame
        elapsed = Fraction(now - self._anchor_time)
        return self._anchor_frame + elapsed * self.rate * self._speed

    def _bounded(self, now: float, commit: bool = True) -> Fraction:
        """Exact position at ``now`` within the play range (stops or wraps at its ends).

        Called with the lock held; reaching a range end while playing (not
        looping) re-anchors there with speed 0, so the transport stops.
        """
        pos = self._position(now)
        lo = self.start_frame
        hi = self.end_frame
        if self._speed > 0 and hi is not None and pos >= hi + 1:
            if self.loop and hi >= lo:
                span = hi - lo + 1
                return lo + (pos - lo) % span
            if commit:
                self._anchor_frame, self._anchor_time, self._speed = Fraction(hi), now, Fraction(0)
            return Fraction(hi)
        if self._speed < 0 and pos < lo:
            if self.loop and hi is not None and hi >= lo:
                span = hi - lo + 1
                return lo + (pos - lo) % span
            if commit:
                self._anchor_frame, self._anchor_time, self._speed = Fraction(lo), now, Fraction(0)
            return Fraction(lo)
        return pos

    def frame(self) -> int:
        """The frame showing now (bounded by the play range); stops at the range end."""
        with self._lock:
            return math.floor(self._bounded(self._clock()))

    def position(self) -> Fraction:
        """The exact position now in frames, between frames while playing (for DMX and audio)."""
        with self._lock:
            return self._bounded(self._clock())

    def position_at(self, clock_value: float) -> Fraction:
        """Where the transport will be (or was) at a reading of its clock, without changing it."""
        with self._lock:
            return self._bounded(float(clock_value), commit=False)

    def time(self) -> float:
        """The position now in seconds (continuous, not snapped to a frame)."""
        return float(self.position() / self.rate)

    def now(self) -> float:
        """The current reading of the master clock."""
        return self._clock()

    def set_clock(self, clock: Callable[[], float]) -> None:
        """Follow another clock (the audio device's) from here on, without a jump in position."""
        with self._lock:
            old = self._clock()
            pos = self._position(old)
            self._clock = clock
            self._anchor_frame, self._anchor_time = pos, clock()

    def seconds(self) -> Fraction:
        return Fraction(self.frame()) / self.rate

    def timecode(self) -> str:
        return frames_to_timecode(self.frame(), self.rate)

    # ------------------------------------------------------------ control
    def _reanchor(self, frame: Fraction | None = None, speed: Fraction | None = None) -> None:
        now = self._clock()
        pos = self._position(now) if frame is None else Fraction(frame)
        self._anchor_frame = pos
        self._anchor_time = now
        if speed is not None:
            self._speed = Fraction(speed)

    def seek(self, frame: int) -> None:
        with self._lock:
            self._reanchor(Fraction(max(0, int(frame))))

    def play(self, speed: int | Fraction = 1) -> None:
        # start playing from the frame shown now (keeps frame-exact position when paused)
        current = self.frame()
        with self._lock:
            if speed > 0 and self.end_frame is not None and current >= self.end_frame and not self.loop:
                current = self.start_frame
            self._reanchor(Fraction(current), Fraction(speed))

    def pause(self) -> None:
        current = self.frame()
        with self._lock:
            self._reanchor(Fraction(current), Fraction(0))

    def toggle(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play(1)

    def shuttle(self, direction: int) -> None:
        """J (-1), K (0), L (+1) semantics."""
        if direction == 0:
            self.pause()
            return
        s = self._speed
        if s != 0 and (s > 0) == (direction > 0):
            mag = abs(s)
            nxt = next((v for v in SHUTTLE_SPEEDS if v > mag), SHUTTLE_SPEEDS[-1])
            self.play(direction * nxt)
        else:
            self.play(direction)

    def step(self, frames: int) -> None:
        current = self.frame()
        with self._lock:
            self._reanchor(Fraction(max(0, current + int(frames))), Fraction(0))

    def set_range(self, start: int, end: int | None) -> None:
        with self._lock:
            self.start_frame = max(0, int(start))
            self.end_frame = None if end is None else int(end)
