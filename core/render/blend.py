"""Layers and how they combine: blend modes, alpha over, premultiplied mixes.

A :class:`Layer` is a picture placed on the output canvas: straight (not
premultiplied) sRGB-encoded float32 colour for a box of the canvas, an
optional alpha for that box (None = opaque everywhere in the box; outside the
box the layer is transparent) and a scalar opacity. Keeping the box small
means a picture-in-picture costs its own size, not the canvas's.

Blend modes (``core.timeline.props.BLEND_MODES``), ``b`` below, ``t`` top,
both sRGB-encoded 0..1 (what editors expect of these modes):

=========  =============================================
normal     ``t``
add        ``min(b + t, 1)``
screen     ``1 - (1 - b)(1 - t)``
multiply   ``b * t``
overlay    ``2bt`` where ``b < 0.5``, else ``1 - 2(1 - b)(1 - t)``
=========  =============================================

and the result is composited with the layer's alpha ``a`` (alpha times
opacity): ``out = b * (1 - a) + blend(b, t) * a``. The canvas underneath is
always opaque (the background is black).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from core.errors import LumaError

__all__ = ["Layer", "BLEND_FUNCS", "blend_values", "composite", "mix", "over", "Box"]

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 on the canvas (x1, y1 exclusive)


def _screen(b: np.ndarray, t: np.ndarray) -> np.ndarray:
    return 1.0 - (1.0 - b) * (1.0 - t)


def _overlay(b: np.ndarray, t: np.ndarray) -> np.ndarray:
    low = 2.0 * b * t
    high = 1.0 - 2.0 * (1.0 - b) * (1.0 - t)
    return np.where(b < 0.5, low, high).astype(np.float32, copy=False)


BLEND_FUNCS = {
    "normal": lambda b, t: t,
    "add": lambda b, t: np.minimum(b + t, 1.0),
    "screen": _screen,
    "multiply": lambda b, t: b * t,
    "overlay": _overlay,
}


def blend_values(mode: str, below: np.ndarray, top: np.ndarray) -> np.ndarray:
    """``blend(below, top)`` of a mode, before alpha (see the module docstring)."""
    try:
        fn = BLEND_FUNCS[mode]
    except KeyError:
        raise LumaError(f"unknown blend mode {mode!r} (one of {', '.join(BLEND_FUNCS)})") from None
    return fn(below, top)


@dataclass
class Layer:
    """Straight colour ``rgb`` (bh x bw x 3 float32) covering ``box`` of the canvas."""

    rgb: np.ndarray
    alpha: np.ndarray | None
    box: Box
    opacity: float = 1.0
    meta: dict = field(default_factory=dict)

    @property
    def opaque(self) -> bool:
        """Fully opaque inside its box."""
        return self.alpha is None and self.opacity >= 1.0

    def covers(self, width: int, height: int) -> bool:
        return self.box == (0, 0, width, height)

    def alpha_array(self) -> np.ndarray:
        """Alpha times opacity for the box, as an array."""
        x0, y0, x1, y1 = self.box
        if self.alpha is None:
            return np.full((y1 - y0, x1 - x0), np.float32(self.opacity), np.float32)
        if self.opacity >= 1.0:
            return self.alpha
        return self.alpha * np.float32(self.opacity)

    def expanded(self, box: Box) -> tuple[np.ndarray, np.ndarray]:
        """(rgb, alpha*opacity) over a larger ``box`` that contains this layer's box."""
        X0, Y0, X1, Y1 = box
        x0, y0, x1, y1 = self.box
        if box == self.box:
            return self.rgb, self.alpha_array()
        rgb = np.zeros((Y1 - Y0, X1 - X0, 3), np.float32)
        alpha = np.zeros((Y1 - Y0, X1 - X0), np.float32)
        rgb[y0 - Y0:y1 - Y0, x0 - X0:x1 - X0] = self.rgb
        alpha[y0 - Y0:y1 - Y0, x0 - X0:x1 - X0] = self.alpha_array()
        return rgb, alpha

    def shifted(self, dx: int, dy: int, width: int, height: int) -> "Layer | None":
        """The layer moved by whole pixels, cut to the canvas (None when nothing is left)."""
        x0, y0, x1, y1 = self.box
        nx0, ny0, nx1, ny1 = x0 + dx, y0 + dy, x1 + dx, y1 + dy
        cx0, cy0, cx1, cy1 = max(nx0, 0), max(ny0, 0), min(nx1, width), min(ny1, height)
        if cx0 >= cx1 or cy0 >= cy1:
            return None
        sl = (slice(cy0 - ny0, cy1 - ny0), slice(cx0 - nx0, cx1 - nx0))
        alpha = None if self.alpha is None else self.alpha[sl]
        return Layer(self.rgb[sl], alpha, (cx0, cy0, cx1, cy1), self.opacity, dict(self.meta))


def union(a: Box, b: Box) -> Box:
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def _unpremultiply(prem: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    safe = np.where(alpha > 1e-6, alpha, 1.0).astype(np.float32, copy=False)
    return prem / safe[..., None]


def mix(a: Layer | None, b: Layer | None, w, width: int, height: int) -> Layer | None:
    """Premultiplied mix ``a * (1 - w) + b * w`` (colour and alpha).

    ``w`` is a number or an array broadcastable to the canvas (H x W, 1 x W or H x 1),
    in canvas coordinates."""
    if a is None and b is None:
        return None
    scalar = np.ndim(w) == 0
    if a is None or b is None:
        only = a if a is not None else b
        if scalar:
            k = float(w) if b is not None else 1.0 - float(w)
            return Layer(only.rgb, only.alpha, only.box, only.opacity * k, dict(only.meta))
        x0, y0, x1, y1 = only.box
        warr = np.broadcast_to(np.asarray(w, np.float32), (height, width))[y0:y1, x0:x1]
        k = warr if b is not None else 1.0 - warr
        return Layer(only.rgb, only.alpha_array() * k, only.box, 1.0, dict(only.meta))
    box = union(a.box, b.box)
    if scalar and a.box == b.box and a.opaque and b.opaque:  # one pass (cv2: multi-threaded)
        w = float(w)
        rgb = cv2.addWeighted(np.ascontiguousarray(a.rgb), 1.0 - w, np.ascontiguousarray(b.rgb), w, 0.0)
        return Layer(rgb, None, box, 1.0, dict(b.meta))
    ra, aa = a.expanded(box)
    rb, ab = b.expanded(box)
    if scalar:
        wa, wb = np.float32(1.0 - w), np.float32(w)
    else:
        x0, y0, x1, y1 = box
        wb = np.broadcast_to(np.asarray(w, np.float32), (height, width))[y0:y1, x0:x1]
        wa = 1.0 - wb
    pa = aa * wa
    pb = ab * wb
    alpha = (pa + pb).astype(np.float32, copy=False)
    prem = ra * pa[..., None] + rb * pb[..., None]
    return Layer(_unpremultiply(prem, alpha), alpha, box, 1.0, dict(b.meta))


def over(top: Layer | None, bottom: Layer | None) -> Layer | None:
    """``top`` over ``bottom`` (normal alpha compositing of two layers)."""
    if top is None or bottom is None:
        return top if bottom is None else bottom
    box = union(top.box, bottom.box)
    rt, at = top.expanded(box)
    rb, ab = bottom.expanded(box)
    below = ab * (1.0 - at)
    alpha = (at + below).astype(np.float32, copy=False)
    prem = rt * at[..., None] + rb * below[..., None]
    return Layer(_unpremultiply(prem, alpha), alpha, box, 1.0, dict(top.meta))


def composite(canvas: np.ndarray, layer: Layer | None, mode: str = "normal") -> None:
    """Blend ``layer`` onto the opaque float32 ``canvas`` in place."""
    if layer is None or layer.opacity <= 0.0:
        return
    x0, y0, x1, y1 = layer.box
    below = canvas[y0:y1, x0:x1]
    top = layer.rgb
    f = top if mode == "normal" else blend_values(mode, below, top)
    if layer.alpha is None:
        if layer.opacity >= 1.0:
            below[...] = f
        else:
            op = float(layer.opacity)
            below[...] = cv2.addWeighted(np.ascontiguousarray(f), op, np.ascontiguousarray(below), 1.0 - op, 0.0)
        return
    a = layer.alpha if layer.opacity >= 1.0 else layer.alpha * np.float32(layer.opacity)
    a = np.ascontiguousarray(a, np.float32)
    # one pass: (f * a + below * (1 - a)) / (1 + 1e-5) - OpenCV adds 1e-5 to the weights' sum
    below[...] = cv2.blendLinear(np.ascontiguousarray(f), np.ascontiguousarray(below), a, 1.0 - a)
