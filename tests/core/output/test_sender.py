"""The fixed-rate sender: schedule without drift, changed/keep-alive sends, disconnects, latency."""

from __future__ import annotations

import random
import threading
import time

import numpy as np
import pytest

from core.output.base import OutputDisconnected, OutputError, OutputUnavailable
from core.output.sender import CONNECTED, DISCONNECTED, STOPPED, Sender


class SimClock:
    """Simulated monotonic time: waiting advances it, with a random oversleep like a real OS."""

    def __init__(self, oversleep: float = 0.0005, seed: int = 1, stall_every: int = 0, stall: float = 0.0):
        self.now = 1000.0
        self.rng = random.Random(seed)
        self.oversleep = oversleep
        self.waits = 0
        self.stall_every = stall_every
        self.stall = stall

    def __call__(self) -> float:
        return self.now

    def wait(self, seconds: float) -> bool:
        self.waits += 1
        self.now += seconds + self.rng.uniform(0, self.oversleep)
        if self.stall_every and self.waits % self.stall_every == 0:
            self.now += self.stall
        return False


class RecordingOutput:
    url = "test://rec"
    max_rate = None
    max_universes = None

    def __init__(self):
        self.sent: list[tuple[int, bytes]] = []
        self.ticks = 0
        self.opened = 0
        self.closed = 0
        self.fail_open = 0  # how many open() calls fail
        self.fail_send_after: int | None = None

    def open(self):
        if self.fail_open > 0:
            self.fail_open -= 1
            raise OutputUnavailable("test device: not plugged in")
        self.opened += 1

    def send(self, universe, frame):
        if self.fail_send_after is not None and len(self.sent) >= self.fail_send_after:
            self.fail_send_after = None
            raise OutputDisconnected("test device: unplugged")
        assert len(frame) == 512
        self.sent.append((universe, bytes(frame)))

    def end_tick(self):
        self.ticks += 1

    def close(self):
        self.closed += 1


def constant_source(values: dict[int, int]):
    frames = {u: np.full(512, v, np.uint8) for u, v in values.items()}
    return lambda t: frames


def test_schedule_has_no_drift_over_10000_ticks():
    clock = SimClock(oversleep=0.0008)
    starts: list[float] = []
    out = RecordingOutput()
    sender = Sender(out, constant_source({1: 0}), lambda: 0.0, rate=44.0, monotonic=clock, wait=clock.wait,
                    on_tick=lambda now, t, sent: starts.append(now))
    t0 = clock.now
    sender.run(ticks=10_000)
    starts_a = np.array(starts)
    assert len(starts_a) == 10_000
    due = t0 + np.arange(10_000) / 44.0
    lag = starts_a - due
    # every tick starts after it is due and within one oversleep of it: nothing accumulates
    assert lag.min() >= 0.0
    assert lag.max() <= 0.0008 + 1e-9
    assert abs(lag[-1000:].mean() - lag[:1000].mean()) < 0.0002
    st = sender.stats()
    assert st.ticks == 10_000 and st.late_ticks == 0 and st.skipped_ticks == 0
    assert st.jitter_max_ms <= 0.8 + 1e-6 and 0.0 < st.jitter_p50_ms < 0.8
    # a naive "sleep one period" loop would have drifted by 10000 * 0.4 ms = 4 s
    assert starts_a[-1] - t0 == pytest.approx(9999 / 44.0, abs=0.001)


def test_stalls_skip_missed_ticks_instead_of_bursting():
    clock = SimClock(oversleep=0.0, stall_every=100, stall=0.1)  # 100 ms stall every 100 waits
    starts: list[float] = []
    sender = Sender(RecordingOutput(), constant_source({1: 0}), lambda: 0.0, rate=50.0, monotonic=clock,
                    wait=clock.wait, on_tick=lambda now, t, sent: starts.append(now))
    sender.run(ticks=1000)
    st = sender.stats()
    assert st.skipped_ticks > 0
    assert st.late_ticks > 0
    gaps = np.diff(starts)
    assert gaps.min() > 0.0  # never two ticks at the same instant (no burst)
    assert np.percentile(gaps, 50) == pytest.approx(0.02, abs=1e-6)


def test_sends_changed_universes_and_keepalive():
    clock = SimClock(oversleep=0.0)
    t_start = clock.now

    def source(t):
        # universe 1 changes once, at 0.25 s; universe 2 never changes
        v = 5 if clock.now - t_start >= 0.25 else 0
        return {1: np.full(512, v, np.uint8), 2: np.full(512, 7, np.uint8)}

    out = RecordingOutput()
    log: list[tuple[float, list[int]]] = []
    sender = Sender(out, source, lambda: 0.0, rate=10.0, keepalive=1.0, monotonic=clock, wait=clock.wait,
                    on_tick=lambda now, t, sent: log.append((round(now - t_start, 3), sorted(sent))))
    sender.run(ticks=31)  # 0 .. 3 s
    sent_at = {t: us for t, us in log if us}
    assert sent_at[0.0] == [1, 2]  # the first tick sends everything
    assert sent_at[0.3] == [1]  # the change, alone
    assert sent_at[1.0] == [2]  # universe 2 kept alive once a second
    assert sent_at[1.3] == [1]
    assert sent_at[2.0] == [2] and sent_at[2.3] == [1] and sent_at[3.0] == [2]
    assert len(sent_at) == 7  # nothing else: unchanged universes are not re-sent every tick
    assert out.sent[2] == (1, bytes([5]) * 512)


def test_only_the_configured_universes_and_zero_for_unpatched():
    clock = SimClock(oversleep=0.0)
    out = RecordingOutput()
    sender = Sender(out, constant_source({1: 9, 2: 8}), lambda: 0.0, universes=[2, 5], monotonic=clock,
                    wait=clock.wait)
    sender.run(ticks=1)
    assert out.sent == [(2, bytes([8]) * 512), (5, bytes(512))]


def test_latency_compensation_samples_ahead():
    clock = SimClock(oversleep=0.0)
    asked: list[float] = []

    def source(t):
        asked.append(t)
        return {1: np.zeros(512, np.uint8)}

    sender = Sender(RecordingOutput(), source, lambda: 10.0, latency_ms=40, monotonic=clock, wait=clock.wait)
    sender.run(ticks=3)
    assert asked == [pytest.approx(10.04)] * 3


def test_unplug_and_replug_resumes_by_itself():
    clock = SimClock(oversleep=0.0)
    out = RecordingOutput()
    ticks = {"n": 0}

    def source(t):
        ticks["n"] += 1
        if ticks["n"] == 40:  # 1 s in: the cable is pulled, and stays out for two retries
            out.fail_send_after = len(out.sent)
            out.fail_open = 2
        return {1: np.full(512, ticks["n"] % 256, np.uint8)}

    states: list[str] = []
    sender = Sender(out, source, lambda: 0.0, rate=40.0, monotonic=clock, wait=clock.wait,
                    backoff=(0.5, 2.0), on_state=lambda s, st, msg: states.append((st, msg)))
    sender.run(ticks=200)  # 5 s at 40 Hz
    names = [s for s, _ in states]
    assert names[:2] == ["connecting", CONNECTED]
    down = names.index(DISCONNECTED)
    assert "unplugged" in states[down][1] and "retrying in 0.5 s" in states[down][1]
    # retries 0.5 s and 1.5 s after the failure find nothing plugged in, the one at 3.5 s works
    assert [m for s, m in states if s == DISCONNECTED][1].startswith("test device: not plugged in")
    assert names[-2:] == [CONNECTED, STOPPED]
    st = sender.stats()
    assert st.reconnects == 1 and out.opened == 2 and out.closed == 2
    assert st.ticks == 200  # the schedule never stopped while the device was away
    # 40 frames before the unplug, then 0.5 s of the 5 s after the reconnect at 4.5 s
    assert 58 <= st.frames_sent <= 62
    assert out.sent[-1][1][0] == ticks["n"] % 256 == 61  # the show is sampled only while connected


def test_disconnected_from_the_start_keeps_retrying_with_backoff():
    clock = SimClock(oversleep=0.0)
    out = RecordingOutput()
    out.fail_open = 10**6
    msgs: list[str] = []
    sender = Sender(out, constant_source({1: 1}), lambda: 0.0, rate=44.0, monotonic=clock, wait=clock.wait,
                    backoff=(0.5, 8.0), on_state=lambda s, st, m: msgs.append((st, m)))
    sender.run(ticks=44 * 30)  # 30 s
    # retries at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 23.5 s: backoff doubles up to 8 s
    attempts = [m for s, m in msgs if s == DISCONNECTED]
    assert len(attempts) == 7
    assert "retrying in 8 s" in attempts[-1]
    assert out.sent == []


def test_output_rate_is_capped_by_the_medium():
    out = RecordingOutput()
    out.max_rate = 44.0
    sender = Sender(out, constant_source({1: 0}), lambda: 0.0, rate=100.0)
    assert sender.rate == 44.0


def test_too_many_universes_for_an_output():
    out = RecordingOutput()
    out.max_universes = 1
    with pytest.raises(OutputError, match="carries 1 universe"):
        Sender(out, constant_source({1: 0}), lambda: 0.0, universes=[1, 2])


def test_broken_show_is_reported_not_fatal():
    clock = SimClock(oversleep=0.0)

    def source(t):
        raise ValueError("pattern exploded")

    sender = Sender(RecordingOutput(), source, lambda: 0.0, monotonic=clock, wait=clock.wait)
    sender.run(ticks=5)
    assert sender.stats().ticks == 5
    assert "pattern exploded" in sender.message


def test_real_thread_keeps_time_and_stops_quickly():
    out = RecordingOutput()
    starts: list[float] = []
    sender = Sender(out, constant_source({1: 3}), lambda: 0.0, rate=100.0,
                    on_tick=lambda now, t, sent: starts.append(now))
    sender.start()
    time.sleep(0.5)
    t = time.monotonic()
    sender.stop()
    assert time.monotonic() - t < 0.5
    assert not sender.running and out.closed == 1
    assert 40 <= len(starts) <= 60
    gaps = np.diff(starts)
    assert abs(np.median(gaps) - 0.01) < 0.002
    assert not [t for t in threading.enumerate() if t.name.startswith("dmx-sender")]  # the thread is gone


def test_a_recorder_can_file_frames_under_the_show_time(tmp_path):
    from core.output.base import open_output
    from core.output.filerec import load_recording

    clock = SimClock(oversleep=0.0)
    show = {"t": 12.0}

    def source(t):
        return {1: np.full(512, int(t * 10) % 256, np.uint8)}

    def show_time():
        show["t"] += 0.5
        return show["t"]

    out = open_output(f"file://{tmp_path}/s.dmxrec?stamp=show")
    Sender(out, source, show_time, latency_ms=100, monotonic=clock, wait=clock.wait).run(ticks=3)
    times, universes, data = load_recording(tmp_path / "s.dmxrec")
    assert times.tolist() == pytest.approx([12.6, 13.1, 13.6])  # show time + latency
    assert data[:, 0].tolist() == [126, 131, 136]
