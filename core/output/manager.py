"""Runs a project's outputs: one sender per enabled output, plus the buffer prefetcher.

:class:`OutputManager` turns :class:`~core.output.config.OutputConfig` entries
into senders that follow one show clock, starts and stops them together and
collects their counters. A bad URL is reported for that output and the
others still play; an unplugged device is not an error here, its sender
keeps retrying and reports ``disconnected``.

:class:`BufferPrefetcher` keeps the composite buffer built ahead of the
playhead from a background thread, so a sender never has to build a block
while it is due to send.
"""

from __future__ import annotations

import threading
from typing import Callable

from core.lighting.buffer import CompositeBuffer
from core.output.base import OutputContext, OutputError, open_output
from core.output.config import OutputConfig
from core.output.sender import FrameSource, Sender, SenderStats


class OutputManager:
    def __init__(
        self,
        source: FrameSource,
        show_time: Callable[[], float],
        context: OutputContext | None = None,
        on_state: Callable[[Sender, str, str], None] | None = None,
        on_tick: Callable[[Sender, float, float, dict[int, bytes]], None] | None = None,
    ):
        self.source = source
        self.show_time = show_time
        self.context = context or OutputContext()
        self.on_state = on_state
        self.on_tick = on_tick
        self.senders: list[Sender] = []
        self.errors: list[str] = []

    def start(self, configs: list[OutputConfig]) -> list[str]:
        """Start a sender for each enabled output; returns the outputs that could not be set up."""
        self.stop()
        self.senders = []
        self.errors = []
        for cfg in configs:
            if not cfg.enabled:
                continue
            try:
                cfg.validate()
                output = open_output(cfg.url, self.context)
                sender = Sender(output, self.source, self.show_time, universes=cfg.universes or None,
                                rate=cfg.rate, latency_ms=cfg.latency_ms, on_state=self.on_state)
            except OutputError as exc:
                self.errors.append(str(exc))
                continue
            if self.on_tick is not None:
                sender.on_tick = (lambda s: lambda now, t, sent: self.on_tick(s, now, t, sent))(sender)
            self.senders.append(sender)
        # senders that tick at the same instant would queue behind each other for the interpreter:
        # spread their schedules over one period
        for i, s in enumerate(self.senders):
            s.phase = i * s.period / len(self.senders)
            s.start()
        return list(self.errors)

    def stop(self) -> None:
        for s in self.senders:
            s._stop.set()
        for s in self.senders:
            s.stop()  # the stopped senders stay listed: their counters are the final figures

    def stats(self) -> list[SenderStats]:
        return [s.stats() for s in self.senders]

    @property
    def running(self) -> bool:
        return any(s.running for s in self.senders)


class BufferPrefetcher:
    """Builds the composite buffer ``ahead`` seconds past the show clock, in the background."""

    def __init__(self, buffer: CompositeBuffer, show_time: Callable[[], float], ahead: float = 10.0,
                 interval: float = 0.25):
        self.buffer = buffer
        self.show_time = show_time
        self.ahead = ahead
        self.interval = interval
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="lighting-prefetch", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.buffer.prefetch(max(0.0, self.show_time()), self.ahead)
            except Exception as exc:  # reported to the caller, the senders keep the last good frames
                self.error = str(exc)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
