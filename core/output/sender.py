"""The fixed-rate DMX sender: one thread per output, on an absolute schedule.

Tick ``k`` of a sender is due at ``t0 + k / rate`` on the monotonic clock; the
sender sleeps until that instant, never "for one period", so sleeping late
never accumulates into drift. At each tick it asks the source for the show's
DMX frames at *show time + latency* (the transport's position plus this
output's latency compensation), sends the universes that changed since they
were last sent, and re-sends every universe at least once per ``keepalive``
seconds so receivers that time out (sACN: 2.5 s) never blank.

A tick that starts more than half a period after it was due is *late*; when
the thread fell more than a whole period behind (the machine stalled), the
missed ticks are skipped, not sent in a burst. Jitter (start minus due time)
is kept for the last ``JITTER_WINDOW`` ticks for the p50/p99/max figures.

When the output cannot be opened or fails while sending, the sender closes
it, reports ``disconnected`` with the reason and tries again after a backoff
that doubles from 0.5 s to 8 s; once it opens again every universe is sent in
full on the next tick. Nothing here ever blocks the caller: ``start()``
returns at once, ``stop()`` waits at most one period plus the output's close.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from core.output.base import Output, OutputError, as_frame

JITTER_WINDOW = 16384

# states a sender reports
IDLE = "idle"
CONNECTING = "connecting"
CONNECTED = "connected"
DISCONNECTED = "disconnected"
STOPPED = "stopped"

FrameSource = Callable[[float], Mapping[int, object]]  # show seconds -> {universe: 512 values}


@dataclass(frozen=True)
class SenderStats:
    url: str
    state: str
    message: str
    rate: float
    ticks: int
    frames_sent: int  # universe frames put on the wire
    late_ticks: int
    skipped_ticks: int
    reconnects: int
    jitter_p50_ms: float
    jitter_p99_ms: float
    jitter_max_ms: float
    last_show_time: float | None

    def summary(self) -> str:
        return (f"{self.url}: {self.state}, {self.frames_sent} frames, {self.ticks} ticks at {self.rate:g} Hz, "
                f"jitter p50 {self.jitter_p50_ms:.3f} ms p99 {self.jitter_p99_ms:.3f} ms "
                f"max {self.jitter_max_ms:.3f} ms, {self.late_ticks} late, {self.skipped_ticks} skipped")


class Sender:
    """Sends the show's DMX to one output at a fixed rate from its own thread."""

    def __init__(
        self,
        output: Output,
        source: FrameSource,
        show_time: Callable[[], float],
        universes: list[int] | None = None,
        rate: float = 44.0,
        latency_ms: float = 0.0,
        keepalive: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        wait: Callable[[float], bool] | None = None,
        backoff: tuple[float, float] = (0.5, 8.0),
        on_state: Callable[["Sender", str, str], None] | None = None,
        on_tick: Callable[[float, float, dict[int, bytes]], None] | None = None,
        phase: float = 0.0,
    ):
        if rate <= 0:
            raise OutputError(f"{output.url}: the send rate must be positive")
        if output.max_rate:
            rate = min(rate, float(output.max_rate))
        if universes is not None and output.max_universes is not None and len(universes) > output.max_universes:
            raise OutputError(f"{output.url} carries {output.max_universes} universe(s), "
                              f"not {len(universes)}: add another output for the others")
        self.output = output
        self.source = source
        self.show_time = show_time
        self.universes = None if universes is None else [int(u) for u in universes]
        self.rate = float(rate)
        self.period = 1.0 / self.rate
        self.latency = float(latency_ms) / 1000.0
        # some interfaces keep no copy of the frame (Enttec Open DMX): they need every tick
        self.keepalive = min(float(keepalive), float(getattr(output, "refresh_interval", keepalive)))
        self._mono = monotonic
        self._stop = threading.Event()
        self._wait = wait or self._stop.wait
        self.backoff = backoff
        self.on_state = on_state
        self.on_tick = on_tick
        self.phase = float(phase)  # seconds after start of the first tick (spreads several senders)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.state = IDLE
        self.message = ""
        self.ticks = 0
        self.frames_sent = 0
        self.late_ticks = 0
        self.skipped_ticks = 0
        self.reconnects = 0
        self._jitter = np.zeros(JITTER_WINDOW, dtype=np.float64)
        self._jitter_n = 0
        self._last: dict[int, bytes] = {}
        self._last_sent_at: dict[int, float] = {}
        self._last_show_time: float | None = None
        self._is_open = False
        self._next_retry = 0.0
        self._retry_delay = backoff[0]
        self._retry_delay_shown = 0.0
        self._ever_opened = False

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name=f"dmx-sender {self.output.url}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self, ticks: int | None = None) -> None:
        """The sender loop (the thread's body); ``ticks`` bounds it, for tests."""
        t0 = self._mono() + self.phase
        k = 0
        try:
            while not self._stop.is_set() and (ticks is None or k < ticks):
                due = t0 + k * self.period
                now = self._mono()
                if now < due:
                    if self._wait(due - now):
                        break  # stop requested while sleeping
                    now = self._mono()
                lag = now - due
                if lag >= self.period:  # fell a whole period behind: skip the missed ticks
                    missed = int(lag // self.period)
                    with self._lock:
                        self.skipped_ticks += missed
                    k += missed
                self.tick(now, lag)  # the jitter is how late this tick really is
                k += 1
        finally:
            self._close()
            self._set_state(STOPPED, self.message)

    # ------------------------------------------------------------ one tick
    def tick(self, now: float, lag: float = 0.0) -> None:
        with self._lock:
            self.ticks += 1
            self._jitter[self._jitter_n % JITTER_WINDOW] = lag
            self._jitter_n += 1
            if lag > self.period / 2:
                self.late_ticks += 1
        if not self._is_open and not self._try_open(now):
            return
        t = float(self.show_time()) + self.latency
        try:
            frames = self.source(t)
        except Exception as exc:  # a broken show must not kill the thread: report it
            self._set_state(DISCONNECTED if not self._is_open else CONNECTED, f"show error: {exc}")
            return
        wanted = self.universes if self.universes is not None else sorted(frames)
        sent: dict[int, bytes] = {}
        stamp_show = getattr(self.output, "wants_show_time", False)
        try:
            for u in wanted:
                values = frames.get(u)
                data = as_frame(values) if values is not None else bytes(512)
                if data != self._last.get(u) or now - self._last_sent_at.get(u, -1e9) >= self.keepalive:
                    if stamp_show:  # a recorder that files frames under the show time they are for
                        self.output.send_at(u, data, t)
                    else:
                        self.output.send(u, data)
                    self._last[u] = data
                    self._last_sent_at[u] = now
                    sent[u] = data
            if sent:
                self.output.end_tick()
        except (OutputError, OSError) as exc:
            self._fail(now, exc)
            return
        with self._lock:
            self.frames_sent += len(sent)
            self._last_show_time = t
        if self.on_tick is not None:
            self.on_tick(now, t, sent)

    def _try_open(self, now: float) -> bool:
        if now < self._next_retry:
            return False
        self._set_state(CONNECTING, "")
        try:
            self.output.open()
        except (OutputError, OSError) as exc:
            self._schedule_retry(now)
            self._set_state(DISCONNECTED, f"{exc} (retrying in {self._retry_delay_shown:g} s)")
            return False
        if self._ever_opened:
            with self._lock:
                self.reconnects += 1
        self._ever_opened = True
        self._is_open = True
        self._retry_delay = self.backoff[0]
        self._last.clear()  # a fresh connection gets every universe in full
        self._last_sent_at.clear()
        self._set_state(CONNECTED, "")
        return True

    def _schedule_retry(self, now: float) -> None:
        self._retry_delay_shown = self._retry_delay
        self._next_retry = now + self._retry_delay
        self._retry_delay = min(self._retry_delay * 2, self.backoff[1])

    def _fail(self, now: float, exc: BaseException) -> None:
        self._close()
        self._schedule_retry(now)
        self._set_state(DISCONNECTED, f"{exc} (retrying in {self._retry_delay_shown:g} s)")

    def _close(self) -> None:
        if self._is_open:
            self._is_open = False
            try:
                self.output.close()
            except (OutputError, OSError):
                pass  # already gone: the state says disconnected

    def _set_state(self, state: str, message: str) -> None:
        changed = state != self.state or message != self.message
        self.state, self.message = state, message
        if changed and self.on_state is not None:
            self.on_state(self, state, message)

    # ------------------------------------------------------------ reading
    def stats(self) -> SenderStats:
        with self._lock:
            n = min(self._jitter_n, JITTER_WINDOW)
            j = self._jitter[:n] * 1000.0
            p50, p99, mx = (float(np.percentile(j, 50)), float(np.percentile(j, 99)), float(j.max())) if n else (0.0, 0.0, 0.0)
            return SenderStats(self.output.url, self.state, self.message, self.rate, self.ticks, self.frames_sent,
                               self.late_ticks, self.skipped_ticks, self.reconnects, p50, p99, mx,
                               self._last_show_time)
