"""Video transitions: how clip A's layer and clip B's layer combine inside a transition span.

The span of a transition is ``[first, first + duration)`` (see
core.timeline.model.Transition). At sequence frame ``f`` the progress is

    p = (f - first + 0.5) / duration

i.e. the middle of the frame's interval, so a transition never shows pure A
or pure B (its first frame is already a little of B, its last still a little
of A; a 1-frame transition is half and half), and an odd duration has a
frame at exactly p = 0.5.

Kinds (``core.timeline.props.TRANSITION_KINDS``), in canvas pixels:

* ``crossfade``: premultiplied mix ``A * (1 - p) + B * p``;
* ``dip_black`` / ``dip_white``: over the first half A fades into a full-frame
  plate of the colour (mix with weight ``2p``), over the second half B fades
  in from it (weight ``2p - 1``); at p = 0.5 the frame is the colour;
* ``wipe_left/right/up/down``: an edge moving in that direction across the
  frame; B on the side it came from. Without softness the edge is at
  ``p * width`` (``p * height``) from the side it started; param ``softness``
  (0..1, fraction of the frame) makes a ramp of that width, which starts
  just outside the frame and ends just outside, so p=0 / 1 stay pure;
* ``push_<dir>``: A moves out in the direction ``<dir>`` by ``round(p * size)``
  pixels while B follows, joined to it;
* ``slide_<dir>``: B slides in over A (which stays still) moving in
  direction ``<dir>``, ``round((1 - p) * size)`` pixels from its place.

Layers may be transparent (a picture smaller than the frame): pushes and
slides move whole pixels and composite B over A with alpha.
"""

from __future__ import annotations

import numpy as np

from core.errors import LumaError
from core.render.blend import Layer, mix, over
from core.timeline.props import TRANSITION_KINDS

__all__ = ["progress", "combine", "wipe_weight", "DIRECTIONS"]

#: unit vector of the motion of each direction, in canvas pixels (y down)
DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}


def progress(frame: int, first: int, duration: int) -> float:
    """Progress ``p`` of a transition at ``frame`` (see the module docstring)."""
    return (frame - first + 0.5) / duration


def wipe_weight(direction: str, p: float, width: int, height: int, softness: float = 0.0) -> np.ndarray:
    """B's weight of a wipe: a 1 x W or H x 1 float32 array (broadcasts over the canvas)."""
    dx, dy = DIRECTIONS[direction]
    size = width if dx else height
    centres = np.arange(size, dtype=np.float64) + 0.5
    # distance of each pixel from the side the edge starts from
    d = centres if (dx > 0 or dy > 0) else size - centres
    soft = max(0.0, float(softness)) * size
    if soft <= 0.0:
        w = (d < p * size).astype(np.float32)
    else:
        edge = p * (size + soft) - soft / 2.0
        w = np.clip((edge - d) / soft + 0.5, 0.0, 1.0).astype(np.float32)
    return w[None, :] if dx else w[:, None]


def _plate(color: float, width: int, height: int) -> Layer:
    return Layer(np.full((height, width, 3), np.float32(color), np.float32), None, (0, 0, width, height))


def combine(kind: str, a: Layer | None, b: Layer | None, p: float, params: dict, width: int,
            height: int) -> Layer | None:
    """The layer a transition shows at progress ``p`` (either layer may be None: nothing there)."""
    if kind not in TRANSITION_KINDS:
        raise LumaError(f"unknown transition {kind!r} (one of {', '.join(TRANSITION_KINDS)})")
    p = min(max(float(p), 0.0), 1.0)
    if kind == "crossfade":
        return mix(a, b, p, width, height)
    if kind in ("dip_black", "dip_white"):
        plate = _plate(0.0 if kind == "dip_black" else 1.0, width, height)
        if p < 0.5:
            return mix(a, plate, 2.0 * p, width, height)
        return mix(plate, b, 2.0 * p - 1.0, width, height)
    style, direction = kind.split("_", 1)
    dx, dy = DIRECTIONS[direction]
    if style == "wipe":
        softness = float(params.get("softness", 0.0) or 0.0)
        return mix(a, b, wipe_weight(direction, p, width, height, softness), width, height)
    size = width if dx else height
    if style == "push":
        step = int(round(p * size))
        a2 = a.shifted(dx * step, dy * step, width, height) if a is not None else None
        b2 = b.shifted(dx * (step - size), dy * (step - size), width, height) if b is not None else None
        return over(b2, a2)
    if style == "slide":
        off = int(round((1.0 - p) * size))
        b2 = b.shifted(-dx * off, -dy * off, width, height) if b is not None else None
        return over(b2, a)
    raise LumaError(f"transition {kind!r} is not drawn by this version")
