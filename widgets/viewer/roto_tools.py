"""View geometry for the roto overlay: hit tests, Bezier splitting, handle edits, feather outlines.

Plain numpy on :class:`~core.vision.roto_model.Spline` (no Qt), so each piece
can be tested alone. These are the canvas's geometry, not business logic: they
turn a pointer gesture into the edited shape the overlay reports.

An *affine* here is a 2x3 matrix ``[[a, c, tx], [b, d, ty]]`` mapping a point
``(x, y)`` to ``(a x + c y + tx, b x + d y + ty)`` (source pixels to widget
pixels). Cubic Beziers map exactly under an affine map, so control points can
be mapped instead of samples.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from core.vision.roto_model import Spline

__all__ = ["as_splines", "apply_affine", "nearest_point", "nearest_on_curve", "split_segment", "remove_vertex",
           "move_vertex", "move_handle", "pull_handles", "signed_area", "offset_outline", "onion_alpha",
           "same_spline", "MIN_VERTICES"]

MIN_VERTICES = 3  # a closed shape keeps at least this many vertices


def as_splines(shape) -> tuple[list[Spline], bool]:
    """``None``, one :class:`Spline` or an iterable of them -> (list of splines, whether one spline was given)."""
    if shape is None:
        return [], False
    if isinstance(shape, Spline):
        return [shape], True
    splines = list(shape)
    for s in splines:
        if not isinstance(s, Spline):
            raise TypeError(f"expected a Spline, got {type(s).__name__}")
    return splines, False


def apply_affine(points, affine: np.ndarray) -> np.ndarray:
    """Map points ``[..., 2]`` through a 2x3 affine matrix."""
    p = np.asarray(points, np.float64)
    return p @ affine[:, :2].T + affine[:, 2]


def nearest_point(points, p, radius: float) -> tuple[int, float] | None:
    """Index and distance of the point of ``points`` [M, 2] nearest to ``p``, if within ``radius``."""
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    if not len(pts):
        return None
    d = np.hypot(pts[:, 0] - p[0], pts[:, 1] - p[1])
    i = int(np.argmin(d))
    return (i, float(d[i])) if d[i] <= radius else None


def _bernstein(t: np.ndarray) -> np.ndarray:
    s = 1.0 - t
    return np.stack([s ** 3, 3 * s * s * t, 3 * s * t * t, t ** 3], axis=-1)


def nearest_on_curve(spline: Spline, p, affine: np.ndarray | None = None,
                     steps: int = 32) -> tuple[int, float, float]:
    """(segment, t, distance) of the point on the closed curve nearest to ``p``.

    ``p`` and the distance are in the affine's output space (widget pixels)
    when ``affine`` is given, else in source pixels. ``t`` is found on a
    polyline of ``steps`` pieces per segment, projected onto the nearest piece.
    """
    controls = spline.controls()
    if affine is not None:
        controls = apply_affine(controls, affine)
    t = np.linspace(0.0, 1.0, steps + 1)
    pts = np.einsum("sk,nkd->nsd", _bernstein(t), controls)  # (N, steps + 1, 2)
    a, ab = pts[:, :-1], pts[:, 1:] - pts[:, :-1]
    q = np.asarray(p, np.float64)
    length2 = np.maximum((ab ** 2).sum(-1), 1e-12)
    u = np.clip(((q - a) * ab).sum(-1) / length2, 0.0, 1.0)
    dist = np.hypot(*np.moveaxis(a + u[..., None] * ab - q, -1, 0))
    seg, piece = np.unravel_index(int(np.argmin(dist)), dist.shape)
    return int(seg), float((piece + u[seg, piece]) / steps), float(dist[seg, piece])


def split_segment(spline: Spline, segment: int, t: float) -> Spline:
    """Insert a vertex on ``segment`` at parameter ``t`` (de Casteljau): the curve keeps its exact shape.

    The new vertex becomes index ``segment + 1``; the handles of the segment's
    two end vertices shrink to the halves' control points.
    """
    n = len(spline)
    i, j = int(segment) % n, (int(segment) + 1) % n
    t = float(np.clip(t, 0.0, 1.0))
    p0, p1, p2, p3 = spline.controls()[i]
    a, b, c = p0 + (p1 - p0) * t, p1 + (p2 - p1) * t, p2 + (p3 - p2) * t
    d, e = a + (b - a) * t, b + (c - b) * t
    m = d + (e - d) * t
    v, tin, tout = spline.vertices.copy(), spline.in_tangents.copy(), spline.out_tangents.copy()
    tout[i] = a - p0
    tin[j] = c - p3
    k = i + 1  # where the new vertex goes (the end of the arrays for the closing segment)
    return Spline(np.insert(v, k, m, axis=0), np.insert(tin, k, d - m, axis=0), np.insert(tout, k, e - m, axis=0))


def remove_vertex(spline: Spline, index: int) -> Spline:
    """The spline without vertex ``index``; ValueError when that would leave fewer than 3 vertices."""
    if len(spline) <= MIN_VERTICES:
        raise ValueError(f"a closed shape keeps at least {MIN_VERTICES} vertices")
    keep = np.arange(len(spline)) != int(index)
    return Spline(spline.vertices[keep], spline.in_tangents[keep], spline.out_tangents[keep])


def move_vertex(spline: Spline, index: int, position) -> Spline:
    """Vertex ``index`` moved to ``position``; its handles (offsets) move with it."""
    v = spline.vertices.copy()
    v[int(index)] = position
    return Spline(v, spline.in_tangents.copy(), spline.out_tangents.copy())


def move_handle(spline: Spline, index: int, side: str, offset, broken: bool = False) -> Spline:
    """Handle ``side`` (``"in"`` or ``"out"``) of vertex ``index`` set to ``offset`` (from the vertex).

    Aligned (default): the opposite handle turns to point the opposite way and
    keeps its length. ``broken``: only this handle changes (a corner).
    """
    if side not in ("in", "out"):
        raise ValueError(f"handle side must be 'in' or 'out', not {side!r}")
    k = int(index)
    tin, tout = spline.in_tangents.copy(), spline.out_tangents.copy()
    this, other = (tin, tout) if side == "in" else (tout, tin)
    this[k] = offset
    norm = float(np.hypot(*this[k]))
    if not broken and norm > 1e-9:
        other[k] = -this[k] / norm * float(np.hypot(*other[k]))
    return Spline(spline.vertices.copy(), tin, tout)


def pull_handles(spline: Spline, index: int, offset) -> Spline:
    """Smooth vertex ``index``: out handle ``offset``, in handle its mirror (both the same length)."""
    k = int(index)
    tin, tout = spline.in_tangents.copy(), spline.out_tangents.copy()
    tout[k] = offset
    tin[k] = -np.asarray(offset, np.float64)
    return Spline(spline.vertices.copy(), tin, tout)


def same_spline(a: Spline | None, b: Spline | None) -> bool:
    if a is None or b is None:
        return a is b
    return (len(a) == len(b) and np.array_equal(a.vertices, b.vertices)
            and np.array_equal(a.in_tangents, b.in_tangents) and np.array_equal(a.out_tangents, b.out_tangents))


def signed_area(polygon) -> float:
    """Shoelace area of a closed polygon [M, 2] (its sign gives the winding)."""
    p = np.asarray(polygon, np.float64).reshape(-1, 2)
    x, y = p[:, 0], p[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def offset_outline(spline: Spline, distance: float, steps: int = 16) -> np.ndarray:
    """The closed curve moved ``distance`` pixels outwards (negative: inwards), as a polygon [M, 2].

    Each sample moves along its mitred outward normal; used to show feather
    extents, so sharp concave corners may fold (as a display it is enough).
    """
    pts = spline.sample(steps)
    keep = np.hypot(*(np.roll(pts, -1, axis=0) - pts).T) > 1e-9
    pts = pts[keep]
    if len(pts) < 3 or distance == 0.0:
        return pts
    edges = np.roll(pts, -1, axis=0) - pts
    normals = np.column_stack([edges[:, 1], -edges[:, 0]]) / np.hypot(*edges.T)[:, None]
    if signed_area(pts) < 0:
        normals = -normals  # outward whichever way the shape winds
    prev = np.roll(normals, 1, axis=0)
    mean = normals + prev
    mean /= np.maximum(np.hypot(*mean.T), 1e-9)[:, None]
    cos = np.maximum((mean * normals).sum(1), 0.3)  # mitre, limited at sharp corners
    return pts + mean * (float(distance) / cos)[:, None]


def onion_alpha(offset: int, offsets: Iterable[int], strongest: int = 170, faintest: int = 35) -> int:
    """Opacity (0..255) of an onion skin ``offset`` frames away: the nearest frames are the strongest."""
    far = max((abs(int(o)) for o in offsets), default=1)
    dist = abs(int(offset))
    if far <= 1:
        return strongest
    return int(round(strongest - (strongest - faintest) * (dist - 1) / (far - 1)))
