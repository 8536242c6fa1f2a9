"""Plays a timeline in the viewer: decode ahead on a worker, show on time, drop when late.

The GUI thread never decodes: a :class:`DecodeWorker` thread decodes the
frames the transport will need next into a small buffer; a precise timer on
the GUI thread asks the transport which frame is due and shows it if it is
ready. When decoding falls behind, the worker jumps to the frame that is due
now and the frames in between are counted as dropped.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from core.render.frame_source import TimelineFrameSource
from core.show.audio import AudioPlayback
from core.show.decode import DecodeWorker
from core.show.transport import Transport
from core.timeline.model import Timeline


class PlaybackController(QObject):
    """Drives a viewer from a timeline through the transport."""

    frameShown = Signal(int)
    playingChanged = Signal(bool)
    errorChanged = Signal(str)
    audioChanged = Signal(str)  # what the sound is doing, in words

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
        # the sequence's sound; once its stream runs, its clock is the transport's master clock
        self.audio = AudioPlayback(timeline, self.transport)
        self._audio_status = ""
        self._explicit_range: tuple[int, int | None] | None = None
        self._content_end: int | None = None  # last frame of other content (the lighting show)
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
        if speed == 1:
            self.audio.start()  # first time: opens the device (or says once why it cannot)
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

    def set_content_end(self, frame: int | None) -> None:
        """Play on to ``frame`` when something else (the lighting show) lasts longer than the sequence."""
        self._content_end = None if frame is None else max(0, int(frame))
        self._update_range()

    def _update_range(self) -> None:
        if self._explicit_range is None:
            self.transport.set_range(0, max(0, self.timeline.duration - 1, self._content_end or 0))

    def _notify_wake(self) -> None:
        with self.worker.cond:
            self.worker.cond.notify_all()

    def _on_timeline_changed(self, _touched) -> None:
        self.audio.reload()
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
        if self.audio.status != self._audio_status:
            self._audio_status = self.audio.status
            self.audioChanged.emit(self._audio_status)
        err = self.worker.error or ""
        if err != self._last_error:
            self._last_error = err
            self.errorChanged.emit(err)

    def close(self) -> None:
        self.timer.stop()
        self.audio.close()
        self.worker.stop()
        self.source.close()
        try:
            self.timeline.changed.disconnect(self._on_timeline_changed)
        except (TypeError, ValueError, RuntimeError):
            pass
