"""Compositing layers into per-capability arrays (the second level of combination).

Layers are applied bottom to top. For every capability a layer writes, on the
primitives it writes and the samples where it is active::

    blended = blend(below, top)          where something lies below,
            = top                        where nothing does (any mode)
    out     = below + opacity * (blended - below)

``below`` is what the lower layers produced, or the capability's default
where none of them wrote it (so a first layer with opacity 0.5 over nothing
mixes halfway with the default: black, dark, centre position). Blend modes:
Replace ``t``, Add ``min(b + t, 1)``, Multiply ``b * t``, Screen
``1 - (1 - b)(1 - t)``, Max ``max(b, t)`` (HTP), Min ``min(b, t)``.

Discrete capabilities (gobo) do not mix: the layer's value replaces what is
below wherever its opacity is at least 0.5. A primitive's capability is
*present* where a layer with opacity > 0 (discrete: >= 0.5) wrote it; where it
is not, the DMX renderer uses the fixture's own default for that channel.
Opacity is clamped to 0..1, so the output stays within 0..1 whenever the layer
values do (the Apply nodes clip them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.lighting.capabilities import capability
from core.lighting.layers import BlendMode
from core.lighting.pattern import LayerOutput


def blend(mode: BlendMode, below: np.ndarray, top: np.ndarray) -> np.ndarray:
    """Blend two arrays of values in 0..1 (broadcasting)."""
    if mode is BlendMode.REPLACE:
        return np.broadcast_to(top, np.broadcast_shapes(below.shape, top.shape))
    if mode is BlendMode.ADD:
        return np.minimum(below + top, 1.0)
    if mode is BlendMode.MULTIPLY:
        return below * top
    if mode is BlendMode.SCREEN:
        return 1.0 - (1.0 - below) * (1.0 - top)
    if mode is BlendMode.MAX:
        return np.maximum(below, top)
    if mode is BlendMode.MIN:
        return np.minimum(below, top)
    raise ValueError(f"unknown blend mode {mode!r}")


@dataclass
class LayerSlice:
    """One layer's contribution to a block: samples [start, stop) of the block."""

    start: int
    stop: int
    blend: BlendMode
    opacity: np.ndarray  # [stop - start]
    output: LayerOutput


@dataclass
class CapArrays:
    values: np.ndarray  # [T, N, dims] float32
    present: np.ndarray  # [T, N] bool


def composite(caps: list[str], samples: int, size: int, slices: list[LayerSlice]) -> dict[str, CapArrays]:
    """Composite ``slices`` (bottom to top) into arrays for ``caps``; other capabilities are ignored."""
    out: dict[str, CapArrays] = {}
    for name in caps:
        cap = capability(name)
        values = np.empty((samples, size, cap.dims), dtype=np.float32)
        values[...] = cap.default_array
        out[name] = CapArrays(values, np.zeros((samples, size), dtype=bool))
    for sl in slices:
        if sl.stop <= sl.start or sl.output.empty:
            continue
        op = np.clip(np.asarray(sl.opacity, dtype=np.float32), 0.0, 1.0)
        opaque, visible = bool((op == 1.0).all()), bool((op > 0.0).all())
        rows = slice(sl.start, sl.stop)
        for name, cv in sl.output.caps.items():
            arrays = out.get(name)
            if arrays is None:
                continue
            cap = capability(name)
            k = len(cv.indices)
            cols = slice(None) if k == size else cv.indices  # the whole rig: no fancy indexing
            below = arrays.values[rows, cols]  # (T', k, d)
            top = np.broadcast_to(cv.values, below.shape)
            need_had = cap.discrete or sl.blend is not BlendMode.REPLACE or not visible
            had = arrays.present[rows, cols] if need_had else None  # (T', k)
            if cap.discrete:
                take = (op >= 0.5)[:, None]
                arrays.values[rows, cols] = np.where(take[..., None], top, below)
                arrays.present[rows, cols] = had | take
                continue
            mixed = blend(sl.blend, below, top)
            covered = had is None or bool(had.all())
            if sl.blend is not BlendMode.REPLACE and not covered:
                mixed = np.where(had[..., None], mixed, top)
            if opaque:
                arrays.values[rows, cols] = mixed
            else:
                arrays.values[rows, cols] = below + op[:, None, None] * (mixed - below)
            if visible:
                arrays.present[rows, cols] = True
            elif not covered:
                arrays.present[rows, cols] = had | (op > 0.0)[:, None]
    return out
