"""Plays a timeline in the viewer: decode ahead on a worker, show on time, drop when late.

The GUI thread never decodes: a :class:`DecodeWorker` thread decodes the
frames the transport will need next into a small buffer; a precise timer on
the GUI thread asks the transport which frame is due and shows it if it is
ready. When decoding falls behind, the worker jumps to the frame that is due
now and the frames in between are counted as dropped.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer, Signal

from core.render.frame_source import TimelineFrameSource
from core.show.transport import Transport
from core.timeline.model import Timeline


class DecodeWorker(threading.Thread):
    def __init__(self, source: TimelineFrameSource, transport: Transport, ahead: int = 6):
        super().__init__(name="luma-decode", daemon=True)
        self.source = source
        self.transport = transport
        self.ahead = ahead
        self.buffer: OrderedDict[int, np.ndarray] = OrderedDict()
        self.cond = threading.Condition()
        self._stopping = False
        self._generation = 0
        self.decoded = 0
        self.error: str | None = None

    def _wanted(self) -> list[int]:
        cur = self.transport.frame()
        speed = self.transport.speed
        if speed == 0:
            return [cur]
        step = 1 if speed > 0 else -1
        hi = self.transport.end_frame
        out = []
        for k in range(self.ahead):
            f = cur + step * k
            if f < 0 or (hi is not None and f > hi):
                break
            out.append(f)
        return out

    def run(self) -> None:
        while True:
            with self.cond:
                if self._stopping:
                    return
                wanted = self._wanted()
                # forget frames that are no longer useful
                keep = set(wanted)
                for f in [f for f in self.buffer if f not in keep]:
                    del self.buffer[f]
                target = next((f for f in wanted if f not in self.buffer), None)
                if target is None:
                    self.cond.wait(0.005)
                    continue
                generation = self._generation
            try:
                rgb = self.source.frame(target)
                self.error = None
            except Exception as exc:  # keep playing; the controller shows the error
                self.error = f"frame {target}: {exc}"
                rgb = None
            with self.cond:
                if generation == self._generation and rgb is not None:
                    self.buffer[target] = rgb
                    self.decoded += 1
                    self.cond.notify_all()

    def take(self, frame: int) -> np.ndarray | None:
        with self.cond:
            return self.buffer.get(frame)

    def invalidate(self) -> None:
        with self.cond:
            self._generation += 1
            self.buffer.clear()
            self.cond.notify_all()

    def stop(self) -> None:
        with self.cond:
            self._stopping = True
            self.cond.notify_all()
        self.join(timeout=2)


class PlaybackController(QObject):
    """Drives a viewer from a timeline through the transport."""

    frameShown = Signal(int)
    playingChanged = Signal(bool)
    errorChanged = Signal(str)

    def __init__(self, timeline: Timeline, viewer, parent: QObject | None = None,
                 preview_height: int | None = None):
        super().__init__(parent)
        self.timeline = timeline
        self.viewer = viewer
        self.transport = Transport(timeline.rate)
        self.transport.seek(timeline.playhead)
        self.source = TimelineFrameSource(timeline, preview_height=preview_height)
        self.worker = DecodeWorker(self.source, self.transport)
        self.worker.start()
        self._explicit_range: tuple[int, int | None] | None = None
        self.dropped = 0
        self.shown = 0
        self.last_shown: int | None = None
        self._was_playing = False
        self._last_error = ""
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(max(2, int(500 / float(timeline.rate))))  # twice per frame
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        timeline.changed.connect(self._on_timeline_changed)

    # ------------------------------------------------------------ control
    def play(self, speed: int = 1) -> None:
        self._update_range()
        self.transport.play(speed)
        self._notify_wake()

    def pause(self) -> None:
        self.transport.pause()
        self._notify_wake()
        self.tick()

    def toggle(self) -> None:
        self.pause() if self.transport.playing else self.play()

    def shuttle(self, direction: int) -> None:
        self._update_range()
        self.transport.shuttle(direction)
        self._notify_wake()

    def seek(self, frame: int) -> None:
        frame = max(0, int(frame))
        self.transport.seek(frame)
        self.timeline.set_playhead(frame)
        self._notify_wake()

    def step(self, frames: int) -> None:
        self.transport.step(frames)
        self.timeline.set_playhead(self.transport.frame())
        self._notify_wake()

    def set_play_range(self, start: int, end: int | None) -> None:
        """Bound playback (inclusive end); None plays to the end of the sequence."""
        self._explicit_range = (start, end)
        self.transport.set_range(start, end)

    def _update_range(self) -> None:
        if self._explicit_range is None:
            self.transport.set_range(0, max(0, self.timeline.duration - 1))

    def _notify_wake(self) -> None:
        with self.worker.cond:
            self.worker.cond.notify_all()

    def _on_timeline_changed(self, _touched) -> None:
        self.worker.invalidate()
        self.last_shown = None
        self._update_range()

    # ------------------------------------------------------------ GUI tick
    def tick(self) -> None:
        frame = self.transport.frame()
        playing = self.transport.playing
        if frame != self.timeline.playhead:
            self.timeline.set_playhead(frame)
        if frame != self.last_shown:
            rgb = self.worker.take(frame)
            if rgb is not None:
                if playing and self.last_shown is not None:
                    gap = abs(frame - self.last_shown) - 1
                    if gap > 0 and abs(self.transport.speed) <= 1:
                        self.dropped += gap
                self.viewer.set_frame(rgb, frame)
                self.last_shown = frame
                self.shown += 1
                self.frameShown.emit(frame)
        if playing != self._was_playing:
            self._was_playing = playing
            self.playingChanged.emit(playing)
            if not playing:
                self.timeline.save_playhead()
        err = self.worker.error or ""
        if err != self._last_error:
            self._last_error = err
            self.errorChanged.emit(err)

    def close(self) -> None:
        self.timer.stop()
        self.worker.stop()
        self.source.close()
        try:
            self.timeline.changed.disconnect(self._on_timeline_changed)
        except (TypeError, ValueError, RuntimeError):
            pass
