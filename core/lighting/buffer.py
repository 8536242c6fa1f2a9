"""The composite buffer: the whole show sampled per capability, built in blocks and cached.

The show is sampled at ``sample_rate`` Hz (default 44); sample ``i`` is at
``i / sample_rate`` seconds. Samples are grouped in blocks of ``block_size``;
a block is built the first time anything asks for one of its samples (or
ahead of the playhead with :meth:`CompositeBuffer.prefetch`) by evaluating
every layer active in it and compositing them (:mod:`core.lighting.composite`).

Storage per block and capability: values ``[block, primitives, dims]`` as
uint16 (``round(v * 65535)``: exactly the 16-bit DMX resolution; discrete
capabilities store their index), and the presence mask ``[block, primitives]``
packed to bits. A 10-minute show of 500 primitives with intensity, colour,
position and strobe takes about 190 MB.

Edits invalidate only the blocks of the time they touch: moving a layer drops
the blocks under its old and new place, changing a pattern the blocks under
the layers that use it; tempo and patch changes drop everything.

:meth:`CompositeBuffer.sample` reads one instant: continuous capabilities are
interpolated linearly between the two nearest samples, discrete ones and the
presence masks hold the earlier sample.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import numpy as np

from core.lighting.capabilities import capabilities, capability
from core.lighting.composite import LayerSlice, composite
from core.lighting.errors import LayerError
from core.lighting.layers import Layer, z_order
from core.lighting.nodes.base import EvalContext
from core.lighting.patch import Patch
from core.lighting.pattern import PatternGraph
from core.lighting.show import Show
from core.time import TempoMap

SCALE = 65535.0


@dataclass
class _Block:
    values: dict[str, np.ndarray]  # cap -> uint16 [B, N, d]
    present: dict[str, np.ndarray]  # cap -> uint8 [B, ceil(N / 8)] (packed bits)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.values.values()) + sum(a.nbytes for a in self.present.values())


@dataclass
class BufferSample:
    """The show at one instant: per capability ``values[cap]`` [N, dims] float32 and ``present[cap]`` [N] bool."""

    time: float
    values: dict[str, np.ndarray]
    present: dict[str, np.ndarray]


class CompositeBuffer:
    def __init__(self, show: Show, block_size: int = 256, max_bytes: int | None = 512 * 1024 * 1024):
        if block_size < 2:
            raise ValueError("block_size must be at least 2")
        self.show = show
        self.block_size = int(block_size)
        self.max_bytes = max_bytes
        self._blocks: dict[int, _Block] = {}
        self._lock = threading.RLock()
        self.blocks_built = 0  # how many blocks were (re)built: for tests and statistics
        self._setup()

    def _setup(self) -> None:
        self.rate = float(self.show.sample_rate)
        self.rig = self.show.patch.rig()
        self.size = self.rig.size
        self.caps = self.show.capabilities_used()
        self._defaults = {name: np.broadcast_to(c.default_array, (self.size, c.dims)) for name, c in capabilities().items()}

    # ------------------------------------------------------------ geometry
    @property
    def bytes_cached(self) -> int:
        with self._lock:
            return sum(b.nbytes for b in self._blocks.values())

    @property
    def cached_blocks(self) -> list[int]:
        with self._lock:
            return sorted(self._blocks)

    def block_of_time(self, seconds: float) -> int:
        return max(0, math.floor(seconds * self.rate + 1e-9)) // self.block_size

    def _blocks_between(self, t0: float, t1: float) -> range:
        """Blocks holding samples with t0 <= time < t1."""
        first = max(0, math.ceil(t0 * self.rate - 1e-9))
        last = math.ceil(t1 * self.rate - 1e-9) - 1
        if last < first:
            return range(0)
        return range(first // self.block_size, last // self.block_size + 1)

    # ------------------------------------------------------------ building
    def _build(self, b: int) -> _Block:
        show, rate, bs = self.show, self.rate, self.block_size
        first = b * bs
        times = (first + np.arange(bs, dtype=np.float64)) / rate
        slices: list[LayerSlice] = []
        for i in z_order(show.layers):
            layer = show.layers[i]
            s0, s1 = layer.seconds(show.tempo)
            i0 = min(max(math.ceil(s0 * rate - 1e-9) - first, 0), bs)
            i1 = min(max(math.ceil(s1 * rate - 1e-9) - first, 0), bs)
            if i1 <= i0:
                continue
            t = times[i0:i1]
            ctx = EvalContext.for_times(self.rig, t, show.tempo, layer_start=s0)
            output = show.patterns[layer.pattern].evaluate(ctx)
            opacity = layer.opacity.evaluate(ctx.beats - float(layer.start_beat))
            slices.append(LayerSlice(i0, i1, layer.blend, opacity, output))
        arrays = composite(self.caps, bs, self.size, slices)
        values, present = {}, {}
        for name, arr in arrays.items():
            if capability(name).discrete:
                q = np.clip(np.rint(arr.values), 0, SCALE)
            else:
                q = np.floor(np.clip(arr.values, 0.0, 1.0) * SCALE + 0.5)
            values[name] = q.astype(np.uint16)
            present[name] = np.packbits(arr.present, axis=1)
        self.blocks_built += 1
        return _Block(values, present)

    def _get(self, b: int) -> _Block:
        # a built block is read without the lock (dict reads are atomic), so a sender
        # sampling the show never waits while the prefetcher builds the next block
        block = self._blocks.get(b)
        if block is not None:
            return block
        with self._lock:
            block = self._blocks.get(b)
            if block is None:
                block = self._build(b)
                self._blocks[b] = block
                self._evict(keep=b)
            return block

    def _evict(self, keep: int) -> None:
        if self.max_bytes is None:
            return
        total = sum(x.nbytes for x in self._blocks.values())
        for b in sorted(self._blocks, key=lambda k: -abs(k - keep)):
            if total <= self.max_bytes or b == keep:
                break
            total -= self._blocks.pop(b).nbytes

    def ensure(self, t0: float, t1: float) -> None:
        """Build every block with samples in [t0, t1]."""
        for b in range(self.block_of_time(t0), self.block_of_time(t1) + 1):
            self._get(b)

    def prefetch(self, playhead: float, seconds: float = 10.0) -> int:
        """Build the blocks from the playhead to ``seconds`` ahead; returns how many were missing."""
        with self._lock:
            missing = [b for b in range(self.block_of_time(playhead), self.block_of_time(playhead + seconds) + 1)
                       if b not in self._blocks]
        for b in missing:
            self._get(b)
        return len(missing)

    # ------------------------------------------------------------ invalidation
    def invalidate(self, t0: float | None = None, t1: float | None = None) -> int:
        """Drop cached blocks with samples in [t0, t1) (everything without arguments)."""
        with self._lock:
            if t0 is None or t1 is None:
                n = len(self._blocks)
                self._blocks.clear()
                return n
            dropped = [b for b in self._blocks_between(t0, t1) if b in self._blocks]
            for b in dropped:
                del self._blocks[b]
            return len(dropped)

    def _invalidate_layer(self, layer: Layer) -> None:
        s0, s1 = layer.seconds(self.show.tempo)
        self.invalidate(s0, s1)

    def add_layer(self, layer: Layer) -> None:
        with self._lock:
            self.show.add_layer(layer)
            self._setup_caps()
            self._invalidate_layer(layer)

    def remove_layer(self, index: int) -> Layer:
        with self._lock:
            layer = self.show.layers.pop(index)
            self._invalidate_layer(layer)
            return layer

    def replace_layer(self, index: int, layer: Layer) -> None:
        """Move, retime, re-blend... a layer: the blocks under its old and new place are rebuilt."""
        with self._lock:
            old = self.show.layers[index]
            if layer.pattern not in self.show.patterns:
                raise LayerError(f"layer on {layer.track!r} uses pattern {layer.pattern!r}, which does not exist")
            self.show.layers[index] = layer
            self._setup_caps()
            self._invalidate_layer(old)
            self._invalidate_layer(layer)

    def replace_pattern(self, graph: PatternGraph) -> None:
        with self._lock:
            graph.check(self.rig, self.show.tempo)
            self.show.patterns[graph.name] = graph
            self._setup_caps()
            for layer in self.show.layers:
                if layer.pattern == graph.name:
                    self._invalidate_layer(layer)

    def set_tempo(self, tempo: TempoMap) -> None:
        with self._lock:
            self.show.tempo = tempo
            self.invalidate()

    def set_patch(self, patch: Patch) -> None:
        with self._lock:
            self.show.patch = patch
            self._setup()
            self.invalidate()

    def _setup_caps(self) -> None:
        caps = self.show.capabilities_used()
        if caps != self.caps:  # a capability appeared or went: the stored arrays no longer match
            self.caps = caps
            self._blocks.clear()

    # ------------------------------------------------------------ reading
    def sample(self, seconds: float) -> BufferSample:
        """The show at ``seconds`` (clamped to >= 0)."""
        s = max(0.0, float(seconds)) * self.rate
        i = math.floor(s + 1e-9)
        f = np.float32(max(0.0, s - i))
        bs = self.block_size
        a = self._get(i // bs)
        b = a if (i + 1) // bs == i // bs else (self._get((i + 1) // bs) if f > 0 else a)
        ra, rb = i % bs, (i + 1) % bs if f > 0 else i % bs
        values, present = {}, {}
        for name, c in capabilities().items():
            if name not in a.values:
                values[name] = self._defaults[name]
                present[name] = np.zeros(self.size, dtype=bool)
                continue
            va = a.values[name][ra].astype(np.float32)
            if c.discrete:
                values[name] = va
            else:
                if f > 0:
                    vb = b.values[name][rb].astype(np.float32)
                    va = va + f * (vb - va)
                values[name] = va * np.float32(1.0 / SCALE)
            present[name] = np.unpackbits(a.present[name][ra], count=self.size).astype(bool)
        return BufferSample(float(seconds), values, present)
