"""The show as DMX frames for any instant: what every sender and the DMX monitor read.

:class:`ShowDmxSource` samples the composite buffer at a show time and renders
the DMX frame of every patched universe (a vectorised lookup, well under a
millisecond for a large rig). Several senders ticking at nearly the same time
share one render: results are kept for the last few distinct instants
(rounded to 0.1 ms). The source is safe to call from several threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from core.lighting.buffer import CompositeBuffer
from core.lighting.dmx import DmxRenderer

_CACHE = 8


class ShowDmxSource:
    def __init__(self, buffer: CompositeBuffer, renderer: DmxRenderer | None = None, grand_master: float = 1.0):
        self.buffer = buffer
        self.renderer = renderer or DmxRenderer(buffer.rig)
        self.grand_master = float(grand_master)
        self.blackout = False
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[int, float, bool], dict[int, np.ndarray]] = OrderedDict()
        self.renders = 0

    @property
    def universes(self) -> list[int]:
        return list(self.renderer.universes)

    def set_grand_master(self, level: float) -> None:
        with self._lock:
            self.grand_master = float(np.clip(level, 0.0, 1.0))
            self._cache.clear()

    def set_blackout(self, on: bool) -> None:
        with self._lock:
            self.blackout = bool(on)
            self._cache.clear()

    def invalidate(self) -> None:
        """Forget cached frames (after an edit changed the show)."""
        with self._lock:
            self._cache.clear()

    def frame(self, seconds: float) -> np.ndarray:
        """uint8 [universes, 512] at ``seconds`` (rows in the order of :attr:`universes`)."""
        frames = self(seconds)
        if not frames:
            return np.zeros((0, 512), dtype=np.uint8)
        return np.stack([frames[u] for u in self.renderer.universes])

    def __call__(self, seconds: float) -> dict[int, np.ndarray]:
        with self._lock:
            key = (round(max(0.0, seconds) * 10000), self.grand_master, self.blackout)
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
            gm = 0.0 if self.blackout else self.grand_master
        frame = self.renderer.render(self.buffer.sample(max(0.0, seconds)), gm)
        frame.setflags(write=False)
        out = {u: frame[i] for i, u in enumerate(self.renderer.universes)}
        with self._lock:
            self.renders += 1
            self._cache[key] = out
            while len(self._cache) > _CACHE:
                self._cache.popitem(last=False)
        return out
