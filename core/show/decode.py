"""Decode ahead of the transport on a worker thread (shared by the viewer and ``luma play``).

:class:`DecodeWorker` keeps a small buffer of decoded pictures for the frames
the transport will need next (the current one, then ``ahead`` frames in the
playing direction). Whoever shows frames asks :meth:`DecodeWorker.take` for
the frame that is due; when decoding falls behind, the worker skips to the
frame due now instead of finishing stale ones.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from core.render.frame_source import TimelineFrameSource
from core.show.transport import Transport


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
