"""Play a project's show without a window: video decoded, audio heard, DMX sent, all on one clock.

:class:`ShowPlayer` is what ``luma play`` runs, and what a test or benchmark
drives in-process. It builds the same pieces the main window uses (the
transport, the read-ahead decoder, the composite buffer and its prefetcher,
one sender per output, the sequence audio when there is an output device)
and plays from ``start`` for ``duration`` seconds. A presenter thread stands
in for the viewer: it takes the decoded picture of the frame that is due and
"presents" it, so decoding is real load and late frames are really late.

The report says, per output, frames sent and the tick jitter, and how far
the show time of each DMX frame was from the time of the video frame on
screen at the moment it was sent (``dmx time - video frame time``; with both
perfectly on the clock it lies in ``[0, one frame)``).
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np

from core.errors import LumaError
from core.lighting.buffer import CompositeBuffer
from core.lighting.store import load_show
from core.output.base import OutputContext
from core.output.config import OutputConfig, output_context
from core.output.manager import BufferPrefetcher, OutputManager
from core.output.sender import Sender, SenderStats
from core.output.source import ShowDmxSource
from core.project import Project
from core.show.transport import Transport
from core.timeline.model import Timeline, list_sequences


@dataclass
class PlayReport:
    start: float
    wall_seconds: float
    rate: float
    video_presented: int
    video_late: int  # frames presented after the next one was already due
    video_skipped: int  # frames never presented because decoding fell behind
    audio: str
    outputs: list[SenderStats]
    offset_ms: dict[str, float] | None  # p50 / p99 / min / max of dmx time - video frame time
    cpu_percent: float
    errors: list[str] = field(default_factory=list)

    @property
    def frame_ms(self) -> float:
        return 1000.0 / self.rate

    def lines(self) -> list[str]:
        out = [f"played {self.wall_seconds:.2f} s from {self.start:.3f} s at {self.rate:g} fps; "
               f"CPU {self.cpu_percent:.0f}% of one core",
               f"video: {self.video_presented} frames presented, {self.video_late} late, "
               f"{self.video_skipped} skipped",
               f"audio: {self.audio}"]
        for s in self.outputs:
            out.append(f"output {s.url}: {s.state}{' (' + s.message + ')' if s.message else ''}; "
                       f"{s.frames_sent} frames sent in {s.ticks} ticks at {s.rate:g} Hz; "
                       f"jitter p50 {s.jitter_p50_ms:.3f} ms, p99 {s.jitter_p99_ms:.3f} ms, "
                       f"max {s.jitter_max_ms:.3f} ms; late ticks {s.late_ticks}, skipped {s.skipped_ticks}")
        if self.offset_ms:
            o = self.offset_ms
            out.append(f"video/DMX offset (dmx time - video frame time): p50 {o['p50']:.2f} ms, "
                       f"p99 {o['p99']:.2f} ms, min {o['min']:.2f} ms, max {o['max']:.2f} ms "
                       f"(one frame = {self.frame_ms:.2f} ms)")
        else:
            out.append("video/DMX offset: not measured (needs video and at least one output)")
        out.extend(f"error: {e}" for e in self.errors)
        return out

    def to_dict(self) -> dict:
        return {
            "start": self.start, "wall_seconds": self.wall_seconds, "rate": self.rate,
            "video_presented": self.video_presented, "video_late": self.video_late,
            "video_skipped": self.video_skipped, "audio": self.audio,
            "outputs": [asdict(s) for s in self.outputs], "offset_ms": self.offset_ms,
            "cpu_percent": self.cpu_percent, "errors": self.errors,
        }


class ShowPlayer:
    def __init__(self, project: Project, outputs: list[OutputConfig], start: float = 0.0,
                 duration: float | None = None, video: bool = True, audio: bool = True,
                 video_log: str | os.PathLike | None = None, preview_height: int | None = None,
                 context: OutputContext | None = None):
        self.project = project
        self.configs = outputs
        self.start = max(0.0, float(start))
        self.duration = duration
        self.want_video = video
        self.want_audio = audio
        self.video_log = Path(video_log) if video_log else None
        self.preview_height = preview_height
        self.context = context
        self.errors: list[str] = []
        self._stop = threading.Event()
        self.presented: list[tuple[float, int]] = []  # (monotonic time, sequence frame)
        self._ticks: list[tuple[float, float, float]] = []  # (monotonic, dmx show time, latency)
        self._ticks_lock = threading.Lock()

    def stop(self) -> None:
        self._stop.set()

    # ------------------------------------------------------------ run
    def run(self, on_progress: Callable[[float], None] | None = None) -> PlayReport:
        project = self.project
        timeline = Timeline(project) if list_sequences(project) else None
        rate = Fraction(timeline.rate) if timeline is not None else Fraction(25)
        transport = Transport(rate)
        start_frame = math.floor(Fraction(self.start) * rate)
        transport.seek(start_frame)
        if timeline is not None and timeline.duration > 0:
            end_frame = timeline.duration - 1
        else:
            end_frame = None
        if self.duration is not None:
            last = start_frame + max(1, math.ceil(Fraction(self.duration) * rate)) - 1
            end_frame = last if end_frame is None else min(end_frame, last)
        transport.set_range(start_frame, end_frame)

        show = load_show(project)
        buffer = CompositeBuffer(show)
        source = ShowDmxSource(buffer)
        buffer.prefetch(self.start, 10.0)  # the first seconds are ready before the first tick
        prefetcher = BufferPrefetcher(buffer, transport.time)
        context = self.context or output_context(project)
        manager = OutputManager(source, transport.time, context, on_tick=self._on_tick)

        audio_state = "off (--no-audio)" if not self.want_audio else "none: the sequence has no audio"
        audio_out = None
        if self.want_audio and timeline is not None and timeline.audio_tracks():
            from core.show.audio import AudioOutput, AudioUnavailable, SequenceAudio

            mix = SequenceAudio(timeline)
            mix.load()
            self.errors.extend(mix.errors)
            if mix.has_audio:
                audio_out = AudioOutput(mix, transport)
                try:
                    audio_out.start()
                    audio_state = "playing through PortAudio; its stream time is the master clock"
                except AudioUnavailable as exc:
                    audio_out = None
                    audio_state = f"none: {exc}"

        worker = source_v = presenter = None
        if self.want_video and timeline is not None and timeline.duration > 0:
            from core.render.frame_source import TimelineFrameSource
            from core.show.decode import DecodeWorker

            source_v = TimelineFrameSource(timeline, preview_height=self.preview_height)
            worker = DecodeWorker(source_v, transport)
            worker.start()
            presenter = threading.Thread(target=self._present, args=(transport, worker), name="luma-present",
                                         daemon=True)
            if self.video_log is not None:
                self.video_log.mkdir(parents=True, exist_ok=True)
            # the first picture is decoded before the clock starts, as a viewer shows it before play
            deadline = time.monotonic() + 10.0
            while worker.take(start_frame) is None and worker.error is None and time.monotonic() < deadline:
                time.sleep(0.002)

        self.errors.extend(manager.start(self.configs))
        cpu0, wall0 = time.process_time(), time.monotonic()
        prefetcher.start()
        transport.play(1)
        if presenter is not None:
            presenter.start()
        try:
            limit = self.duration if self.duration is not None else math.inf
            while not self._stop.is_set():
                elapsed = time.monotonic() - wall0
                if not transport.playing or elapsed >= limit:
                    break
                if on_progress is not None:
                    on_progress(elapsed)
                self._stop.wait(0.05)
        finally:
            transport.pause()
            self._stop.set()
            wall = time.monotonic() - wall0
            cpu = time.process_time() - cpu0
            if presenter is not None:
                presenter.join(2.0)
            manager.stop()
            prefetcher.stop()
            if audio_out is not None:
                audio_out.stop()
            if worker is not None:
                worker.stop()
            if source_v is not None:
                source_v.close()
        if worker is not None and worker.error:
            self.errors.append(worker.error)
        if prefetcher.error:
            self.errors.append(f"lighting: {prefetcher.error}")
        for s in manager.stats():
            if s.state != "connected" and s.message:
                self.errors.append(f"{s.url}: {s.message}")
        late, skipped = self._video_counts()
        return PlayReport(self.start, wall, float(rate), len(self.presented), late, skipped, audio_state,
                          manager.stats(), self._offsets(float(rate)), 100.0 * cpu / max(wall, 1e-9),
                          self.errors)

    # ------------------------------------------------------------ presenter
    def _present(self, transport: Transport, worker) -> None:
        last = None
        log = None
        if self.video_log is not None:
            log = open(self.video_log / "frames.jsonl", "w", encoding="utf-8")
        try:
            while not self._stop.is_set():
                frame = transport.frame()
                if frame != last:
                    rgb = worker.take(frame)
                    if rgb is not None:
                        now = time.monotonic()
                        self.presented.append((now, frame))
                        last = frame
                        if log is not None:
                            self._log_frame(log, now, frame, rgb)
                        continue
                with worker.cond:
                    worker.cond.wait(0.002)
        finally:
            if log is not None:
                log.close()

    def _log_frame(self, log, now: float, frame: int, rgb: np.ndarray) -> None:
        import cv2

        name = f"{frame:06d}.png"
        cv2.imwrite(str(self.video_log / name), np.ascontiguousarray(rgb[:, :, ::-1]))
        log.write(json.dumps({"t": now, "frame": frame, "image": name}) + "\n")

    # ------------------------------------------------------------ measures
    def _on_tick(self, sender: Sender, now: float, show_time: float, sent) -> None:
        with self._ticks_lock:
            self._ticks.append((now, show_time, sender.latency))

    def _video_counts(self) -> tuple[int, int]:
        if len(self.presented) < 2:
            return 0, 0
        frames = np.array([f for _, f in self.presented])
        steps = np.diff(frames)
        return int((steps > 1).sum()), int(np.clip(steps - 1, 0, None).sum())

    def _offsets(self, rate: float) -> dict[str, float] | None:
        with self._ticks_lock:
            ticks = np.array(self._ticks, dtype=np.float64).reshape(-1, 3)
        if not len(ticks) or not self.presented:
            return None
        shown = np.array(self.presented, dtype=np.float64)
        idx = np.searchsorted(shown[:, 0], ticks[:, 0], side="right") - 1
        ok = idx >= 0
        if not ok.any():
            return None
        video_time = shown[idx[ok], 1] / rate
        dmx_time = ticks[ok, 1] - ticks[ok, 2]
        off = (dmx_time - video_time) * 1000.0
        return {"p50": float(np.percentile(off, 50)), "p99": float(np.percentile(off, 99)),
                "min": float(off.min()), "max": float(off.max()), "samples": float(len(off))}


def parse_outputs(urls: list[str], latency_ms: float = 0.0, rate: float = 44.0) -> list[OutputConfig]:
    if not urls:
        raise LumaError("give at least one --output URL (e.g. file:///tmp/show.dmxrec or artnet://127.0.0.1)")
    configs = []
    for url in urls:
        cfg = OutputConfig(url, latency_ms=latency_ms, rate=rate)
        cfg.validate()
        configs.append(cfg)
    return configs
