"""Closed cubic Bezier geometry: fitting a polygon, resampling by arc length, matching two shapes' points.

Everything here speaks the convention of :mod:`core.vision.roto_model`
(pixels, origin top-left, ``y`` down, pixel centres at ``+0.5``). The
mattes-to-shapes pipeline built on it lives in :mod:`core.vision.shapes`
(which re-exports the public names below).

* :func:`polygon_area` — signed shoelace area, positive for a polygon that
  runs clockwise on screen.
* :func:`fit_bezier` — a closed cubic Bezier spline within ``tolerance``
  pixels of a polygon, in the spirit of Schneider's algorithm: the polygon
  is sampled every pixel (and lightly smoothed), corners become vertices
  with independent handles, and each run between vertices is fitted by
  least squares (chord-length parameters, a few Newton re-parametrisations)
  and split at its worst sample until every sample lies within the
  tolerance. All runs of one level of splitting are fitted together, one
  array operation per step, so the cost hardly depends on the vertex count.
* :func:`resample` — ``n`` vertices equally spaced by arc length; a span that
  lies inside one original segment is that segment's exact sub-curve, a span
  across original vertices gets handles along the curve's direction fitted
  to it by least squares.
* :func:`align` — orientation and start point matched to a reference shape
  (all generated shapes are clockwise on screen), optionally sliding the
  points along the curve to the best sub-spacing phase, with the shapes'
  centroids and rotation compensated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from core.vision.roto_model import Spline
from core.vision.types import VisionError

__all__ = ["polygon_area", "fit_bezier", "resample", "align"]


_CORNER_SPAN = 4  # samples either side used to measure the turn at a sample
_CORNER_SMOOTH = 1.5  # Gaussian sigma (samples) applied before measuring turns
_NEWTON = 2  # re-parametrisations tried on a run before splitting it ...
_NEWTON_BAND = 16.0  # ... only when its worst squared error is within this factor of the tolerance squared
_ROTATION_PENALTY = 0.01  # weight of a rotation away from the principal axes' turn when matching shapes


# ---------------------------------------------------------------- polygons

def polygon_area(polygon) -> float:
    """Signed shoelace area in image coordinates: positive for a clockwise (on screen, y down) polygon."""
    p = np.asarray(polygon, np.float64).reshape(-1, 2)
    q = np.roll(p, -1, axis=0)
    return float(0.5 * np.sum(p[:, 0] * q[:, 1] - q[:, 0] * p[:, 1]))


# ---------------------------------------------------------------- Bezier helpers (vectorised)

def _bez(c: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points of cubic(s) ``c`` (..., 4, 2) at ``t`` (...,)."""
    t = t[..., None]
    s = 1.0 - t
    return s ** 3 * c[..., 0, :] + 3 * s * s * t * c[..., 1, :] + 3 * s * t * t * c[..., 2, :] + t ** 3 * c[..., 3, :]


def _bez_d1(c: np.ndarray, t: np.ndarray) -> np.ndarray:
    t = t[..., None]
    s = 1.0 - t
    return 3 * (s * s * (c[..., 1, :] - c[..., 0, :]) + 2 * s * t * (c[..., 2, :] - c[..., 1, :])
                + t * t * (c[..., 3, :] - c[..., 2, :]))


def _bez_d2(c: np.ndarray, t: np.ndarray) -> np.ndarray:
    t = t[..., None]
    return 6 * ((1.0 - t) * (c[..., 2, :] - 2 * c[..., 1, :] + c[..., 0, :])
                + t * (c[..., 3, :] - 2 * c[..., 2, :] + c[..., 1, :]))


def _unit(v: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return np.divide(v, n, out=np.zeros_like(v), where=n > 1e-12)


def _ls_handles(d, u, p0, p3, t1, t2):
    """Least-squares handle lengths (a1, a2) for fixed ends and directions; NaN where ill-posed.

    Batched: ``d`` (..., M, 2) samples at parameters ``u`` (..., M); ends and unit
    directions (..., 2); ``t2`` points from the end back into the curve.
    """
    s = 1.0 - u
    b0, b1, b2, b3 = s ** 3, 3 * s * s * u, 3 * s * u * u, u ** 3
    a1 = b1[..., None] * t1[..., None, :]
    a2 = b2[..., None] * t2[..., None, :]
    rest = d - (b0 + b1)[..., None] * p0[..., None, :] - (b2 + b3)[..., None] * p3[..., None, :]
    c00 = np.sum(a1 * a1, axis=(-1, -2))
    c01 = np.sum(a1 * a2, axis=(-1, -2))
    c11 = np.sum(a2 * a2, axis=(-1, -2))
    x0 = np.sum(a1 * rest, axis=(-1, -2))
    x1 = np.sum(a2 * rest, axis=(-1, -2))
    det = c00 * c11 - c01 * c01
    ok = np.abs(det) > 1e-12 * np.maximum(c00 * c11, 1e-300)
    det = np.where(ok, det, 1.0)
    al = np.where(ok, (x0 * c11 - x1 * c01) / det, np.nan)
    ar = np.where(ok, (c00 * x1 - c01 * x0) / det, np.nan)
    return al, ar


def _controls(p0, p3, t1, t2, al, ar):
    """(..., 4, 2) controls; handles that are missing, negative or absurd fall back to a third of the chord."""
    chord = np.linalg.norm(p3 - p0, axis=-1)
    bad = ~np.isfinite(al) | ~np.isfinite(ar) | (al < 1e-6 * chord) | (ar < 1e-6 * chord) \
        | (al > 4 * chord + 1) | (ar > 4 * chord + 1)
    al = np.where(bad, chord / 3, al)
    ar = np.where(bad, chord / 3, ar)
    return np.stack([p0, p0 + al[..., None] * t1, p3 + ar[..., None] * t2, p3], axis=-2)


def _newton(c, d, u):
    """One Newton step of each sample's parameter towards its nearest point on the curve(s)."""
    q, q1, q2 = _bez(c, u), _bez_d1(c, u), _bez_d2(c, u)
    diff = q - d
    num = np.sum(diff * q1, axis=-1)
    den = np.sum(q1 * q1, axis=-1) + np.sum(diff * q2, axis=-1)
    step = np.divide(num, den, out=np.zeros_like(num), where=np.abs(den) > 1e-12)
    return np.clip(u - step, 0.0, 1.0)


# ---------------------------------------------------------------- fitting

def _ring(polygon: np.ndarray, spacing: float = 1.0) -> np.ndarray:
    """Points along the closed polygon at most ``spacing`` apart (the vertices included)."""
    p = polygon
    d = np.roll(p, -1, axis=0) - p
    length = np.hypot(d[:, 0], d[:, 1])
    keep = length > 1e-9
    p, d, length = p[keep], d[keep], length[keep]
    m = np.maximum(1, np.ceil(length / spacing - 1e-9)).astype(np.int64)
    edge = np.repeat(np.arange(len(p)), m)
    k = np.arange(int(m.sum())) - np.repeat(np.cumsum(m) - m, m)
    return p[edge] + d[edge] * (k / m[edge])[:, None]


def _turn_angles(s: np.ndarray, k: int) -> np.ndarray:
    a = s - np.roll(s, k, axis=0)
    b = np.roll(s, -k, axis=0) - s
    return np.abs(np.arctan2(a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0], np.sum(a * b, axis=1)))


def _cunit(v: np.ndarray) -> np.ndarray:
    """Complex unit vectors (0 where ``v`` is 0)."""
    r = np.abs(v)
    return np.where(r > 1e-12, v / np.where(r > 1e-12, r, 1.0), 0j)


def _fit_runs(z2: np.ndarray, a: np.ndarray, b: np.ndarray, t1: np.ndarray, t2: np.ndarray, tol2: float):
    """Fit one cubic to each run of samples ``z2[a:b + 1]`` (complex x + iy), all runs at once.

    ``t1``/``t2`` are the unit directions leaving the start and pointing back
    from the end. Per run: handle lengths by least squares (closed form, on
    chord-length parameters), then up to ``_NEWTON`` Newton re-parametrisations
    while the worst squared error is within ``_NEWTON_BAND`` of the tolerance
    (Schneider's scheme). Every per-sample step is one array operation over
    the samples of all runs; per-run sums are bincounts.

    Returns (ok (R,) bool, controls (R, 4) complex, worst (R,) unwrapped index of each run's worst sample).
    """
    nruns = len(a)
    length = b - a + 1
    starts = np.cumsum(length) - length
    run = np.repeat(np.arange(nruns), length)
    local = np.arange(int(length.sum())) - starts[run]
    idx = a[run] + local
    d = z2[idx]
    step = np.abs(d - z2[idx - 1])
    step[starts] = 0.0
    cum = np.cumsum(step)
    cum -= cum[starts][run]
    total = cum[starts + length - 1]
    u = cum / np.where(total > 0, total, 1.0)[run]
    interior = (local > 0) & (local < (length - 1)[run])
    p0, p3 = z2[a], z2[b]
    chord = np.abs(p3 - p0)
    t1t2 = (t1 * np.conj(t2)).real
    ok = np.zeros(nruns, bool)
    ctrl = np.zeros((nruns, 4), complex)
    worst = (a + b) // 2
    for attempt in range(_NEWTON + 1):
        s = 1.0 - u
        uu, ss = u * u, s * s
        b0, b1, b2, b3 = ss * s, 3.0 * ss * u, 3.0 * s * uu, uu * u
        q0, q3 = p0[run], p3[run]
        rest = d - (b0 + b1) * q0 - (b2 + b3) * q3
        c00 = np.bincount(run, b1 * b1, nruns)
        c11 = np.bincount(run, b2 * b2, nruns)
        c01 = np.bincount(run, b1 * b2, nruns) * t1t2
        x0 = np.bincount(run, b1 * (rest * np.conj(t1)[run]).real, nruns)
        x1 = np.bincount(run, b2 * (rest * np.conj(t2)[run]).real, nruns)
        det = c00 * c11 - c01 * c01
        solvable = np.abs(det) > 1e-12 * np.maximum(c00 * c11, 1e-300)
        det = np.where(solvable, det, 1.0)
        al = (x0 * c11 - x1 * c01) / det
        ar = (c00 * x1 - c01 * x0) / det
        sane = solvable & (al > 1e-6 * chord) & (ar > 1e-6 * chord) & (al < 4 * chord + 1) & (ar < 4 * chord + 1)
        al = np.where(sane, al, chord / 3)
        ar = np.where(sane, ar, chord / 3)
        c1, c2 = p0 + al * t1, p3 + ar * t2
        k1, k2 = c1[run], c2[run]
        diff = b0 * q0 + b1 * k1 + b2 * k2 + b3 * q3 - d
        err = np.where(interior, diff.real * diff.real + diff.imag * diff.imag, -1.0)
        # each run's worst sample (runs are contiguous in these arrays)
        new = np.empty(len(run), bool)
        new[0], new[1:] = True, run[1:] != run[:-1]
        first = np.flatnonzero(new)
        ids = run[first]
        runmax = np.maximum.reduceat(err, first)
        hits = np.flatnonzero(err >= runmax[np.cumsum(new) - 1])
        hit_run = run[hits]
        head = np.empty(len(hits), bool)
        head[0], head[1:] = True, hit_run[1:] != hit_run[:-1]
        hits = hits[head]
        worst[ids] = idx[hits]
        good = runmax <= tol2
        ok[ids[good]] = True
        ctrl[ids[good]] = np.stack([p0, c1, c2, p3], axis=1)[ids[good]]
        again = ~good & (runmax <= _NEWTON_BAND * tol2)
        if attempt == _NEWTON or not again.any():
            break
        # Newton step of each sample's parameter towards its nearest point on the curve, for the runs going again
        keep = np.zeros(nruns, bool)
        keep[ids[again]] = True
        sel = keep[run]
        s, u, ss, uu, diff = s[sel], u[sel], ss[sel], uu[sel], diff[sel]
        q0, k1, k2, q3 = q0[sel], k1[sel], k2[sel], q3[sel]
        q1 = 3.0 * (ss * (k1 - q0) + 2.0 * s * u * (k2 - k1) + uu * (q3 - k2))
        q2 = 6.0 * (s * (k2 - 2.0 * k1 + q0) + u * (q3 - 2.0 * k2 + k1))
        num = (diff * np.conj(q1)).real
        den = q1.real * q1.real + q1.imag * q1.imag + (diff * np.conj(q2)).real
        usable = np.abs(den) > 1e-12
        u = np.clip(u - np.where(usable, num, 0.0) / np.where(usable, den, 1.0), 0.0, 1.0)
        run, idx, d, interior = run[sel], idx[sel], d[sel], interior[sel]
    return ok, ctrl, worst


def fit_bezier(polygon, tolerance: float = 1.0, corner_angle: float = 60.0, smooth: float = 1.0) -> Spline:
    """A closed cubic Bezier spline within ``tolerance`` px of the (closed) ``polygon``.

    The polygon is sampled every pixel along its edges and, with ``smooth``
    > 0, those samples are smoothed by a Gaussian of that many samples (a pixel
    boundary's stairs would otherwise cost a vertex every few pixels; the fit
    then lies within ``tolerance`` of the smoothed samples, so up to about
    ``tolerance + smooth / 2`` from the raw stairs). Samples where the boundary
    turns by more than ``corner_angle`` degrees (over 4 samples either side,
    local maxima) are corners: vertices whose two handles point independently
    along the two sides. Each run between vertices is fitted and split at its
    worst sample until every sample is within the tolerance. The spline keeps
    the polygon's direction and starts at its first corner (or first point).
    """
    p = np.asarray(polygon, np.float64).reshape(-1, 2)
    if len(p) < 3 or not np.all(np.isfinite(p)):
        raise VisionError("fit_bezier: a closed shape needs at least 3 finite points")
    tolerance = float(tolerance)
    if not tolerance > 0:
        raise VisionError("fit_bezier: the tolerance must be a positive number of pixels")
    s = _ring(p, 1.0)
    m = len(s)
    if m < 3:
        raise VisionError("fit_bezier: the shape is too small to fit")
    from scipy.ndimage import gaussian_filter1d, maximum_filter1d

    k = max(1, min(_CORNER_SPAN, (m - 1) // 4))
    # turns measured on a lightly smoothed copy, so pixel stairs are not corners
    turn = _turn_angles(gaussian_filter1d(s, _CORNER_SMOOTH, axis=0, mode="wrap") if m > 8 else s, k)
    peak = turn >= maximum_filter1d(turn, 2 * k + 1, mode="wrap")
    peak &= ~np.roll(peak, 1)  # one sample per plateau
    corner = peak & (turn > math.radians(corner_angle))
    # where a run starts or ends on a sharp turn, its end directions are one-sided
    soft = corner | (turn > math.radians(min(corner_angle, 35.0)))
    breaks = np.flatnonzero(corner)
    if len(breaks) == 0:
        breaks = np.array([0, m // 3, (2 * m) // 3])
    elif len(breaks) == 1:
        breaks = np.array([breaks[0], (breaks[0] + m // 2) % m])
    breaks = np.sort(breaks)
    if smooth > 0 and m > 8:
        s = gaussian_filter1d(s, float(smooth), axis=0, mode="wrap")
    z = s[:, 0] + 1j * s[:, 1]
    z2 = np.concatenate([z, z])  # runs are [a, b] with 0 <= a < m and b < 2m

    def leaving(i, hi):  # direction of travel leaving sample i of a run ending at hi
        centred = _cunit(z[(i + k) % m] - z[(i - k) % m])
        one_sided = _cunit(z[(i + np.minimum(k, hi - i)) % m] - z[i % m])
        return np.where(soft[i % m], one_sided, centred)

    def arriving(i, lo):  # direction from sample i back into a run starting at lo
        centred = -_cunit(z[(i + k) % m] - z[(i - k) % m])
        one_sided = _cunit(z[(i - np.minimum(k, i - lo)) % m] - z[i % m])
        return np.where(soft[i % m], one_sided, centred)

    a = breaks
    b = np.append(breaks[1:], breaks[0] + m)
    t1, t2 = leaving(a, b), arriving(b, a)
    tol2 = tolerance * tolerance
    starts, ctrls = [], []
    while len(a):
        ok, ctrl, worst = _fit_runs(z2, a, b, t1, t2, tol2)
        done = ok | ((b - a) < 2)  # two samples always fit; this only guards the loop
        straight = np.stack([z2[a], z2[a], z2[b], z2[b]], axis=1)
        starts.append(a[done])
        ctrls.append(np.where(ok[:, None], ctrl, straight)[done])
        split = ~done
        a, b, t1, t2, mid = a[split], b[split], t1[split], t2[split], worst[split]
        wrap = mid - mid % m
        a, b, t1, t2 = (np.concatenate([a, mid % m]), np.concatenate([mid, b - wrap]),
                        np.concatenate([t1, leaving(mid, b)]), np.concatenate([arriving(mid, a), t2]))
    start = np.concatenate(starts)
    cz = np.concatenate(ctrls)[np.argsort(start, kind="stable")]
    pieces = list(cz)
    while len(pieces) < 3:  # a closed spline needs 3 vertices: halve the longest piece (exactly)
        j = int(np.argmax([abs(c[3] - c[0]) + abs(c[1] - c[0]) for c in pieces]))
        pieces[j:j + 1] = list(_split_half(pieces[j]))
    cz = np.stack(pieces)
    cc = np.stack([cz.real, cz.imag], axis=-1)  # (K, 4, 2)
    # vertex i starts piece i (out handle) and ends piece i - 1 (in handle)
    return Spline(cc[:, 0], np.roll(cc[:, 2] - cc[:, 3], 1, axis=0), cc[:, 1] - cc[:, 0])


def _split_half(c: np.ndarray):
    """de Casteljau at t = 0.5: two cubics tracing the same curve."""
    p01, p12, p23 = (c[0] + c[1]) / 2, (c[1] + c[2]) / 2, (c[2] + c[3]) / 2
    a, b = (p01 + p12) / 2, (p12 + p23) / 2
    mid = (a + b) / 2
    return np.array([c[0], p01, a, mid]), np.array([mid, b, p23, c[3]])


# ---------------------------------------------------------------- arc length, resampling, alignment

@dataclass
class _Arc:
    """A dense table along a spline: points, segment and parameter of each sample, and arc length."""

    ctrl: np.ndarray  # (N, 4, 2)
    pts: np.ndarray  # (T, 2)
    seg: np.ndarray  # (T,)
    t: np.ndarray  # (T,)
    steps: np.ndarray  # (N,)
    s: np.ndarray  # (T + 1,) arc length at each sample and at the closing point
    length: float  # arc length of the closed curve

    @classmethod
    def of(cls, spline: Spline, spacing: float = 0.5) -> "_Arc":
        c = spline.controls()
        poly = np.sum(np.linalg.norm(np.diff(c, axis=1), axis=2), axis=1)
        steps = np.clip(np.ceil(poly / spacing), 8, 4096).astype(np.int64)
        seg = np.repeat(np.arange(len(c)), steps)
        t = (np.arange(int(steps.sum())) - np.repeat(np.cumsum(steps) - steps, steps)) / steps[seg]
        pts = _bez(c[seg], t)
        d = np.diff(np.vstack([pts, pts[:1]]), axis=0)
        s = np.concatenate([[0.0], np.cumsum(np.hypot(d[:, 0], d[:, 1]))])
        return cls(c, pts, seg, t, steps, s, float(s[-1]))

    def locate(self, pos: np.ndarray, backward: bool = False):
        """(segment, t) at arc-length positions ``pos`` (any real, taken modulo the length).

        At a vertex, forward gives ``(i, 0)`` and backward ``(i - 1, 1)``.
        """
        n = len(self.ctrl)
        pos = np.mod(pos, self.length) if self.length > 0 else np.zeros_like(pos)
        j = np.clip(np.searchsorted(self.s, pos, side="right") - 1, 0, len(self.pts) - 1)
        ds = self.s[j + 1] - self.s[j]
        r = np.divide(pos - self.s[j], ds, out=np.zeros_like(pos), where=ds > 0)
        seg = self.seg[j]
        t = self.t[j] + r / self.steps[seg]
        seg = np.where(t >= 1.0 - 1e-12, (seg + 1) % n, seg)
        t = np.where(t >= 1.0 - 1e-12, 0.0, t)
        if backward:
            at_vertex = t <= 1e-12
            seg = np.where(at_vertex, (seg - 1) % n, seg)
            t = np.where(at_vertex, 1.0, t)
        return seg, t

    def points(self, fractions: np.ndarray) -> np.ndarray:
        """Points at fractions (0..1) of the arc length."""
        seg, t = self.locate(np.asarray(fractions, np.float64) * self.length)
        return _bez(self.ctrl[seg], t)


def _direction(c: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Unit direction of travel of cubics ``c`` (K, 4, 2) at ``t`` (K,), also where the derivative vanishes."""
    d = _unit(_bez_d1(c, t))
    for fallback in (_unit(c[:, 2] - c[:, 0]) * (t < 0.5)[:, None] + _unit(c[:, 3] - c[:, 1]) * (t >= 0.5)[:, None],
                     _unit(c[:, 3] - c[:, 0])):
        missing = ~np.any(d != 0, axis=1)
        d[missing] = fallback[missing]
    return d


def resample(spline: Spline, n: int, start: float = 0.0) -> Spline:
    """The same closed curve with ``n`` vertices equally spaced by arc length.

    The first new vertex is at fraction ``start`` (0..1) of the length from
    the old first vertex, in the same direction. Spans inside one old segment
    are its exact sub-curves (de Casteljau: handles are the derivative times a
    third of the parameter span); spans across old vertices get handles along
    the curve's directions with least-squares lengths (a sharp corner inside
    such a span is rounded over it).
    """
    n = int(n)
    if n < 3:
        raise VisionError(f"resample: a closed shape needs at least 3 points, not {n}")
    arc = _Arc.of(spline)
    if arc.length <= 1e-9:
        raise VisionError("resample: the shape has no length")
    total = arc.length
    a = (float(start) % 1.0 + np.arange(n) / n) * total  # span starts, unwrapped (< 2 lengths)
    b = a + total / n
    sa, ta = arc.locate(a)
    sb, tb = arc.locate(b, backward=True)
    c = arc.ctrl
    p0, p3 = _bez(c[sa], ta), _bez(c[sb], tb)
    # exact sub-curves where a span stays in one segment
    inner = (sa == sb) & (tb > ta)
    dt = (tb - ta)[:, None] / 3.0
    h1 = _bez_d1(c[sa], ta) * dt
    h2 = -_bez_d1(c[sb], tb) * dt
    # spans across vertices: handles along the curve's directions, lengths fitted to the samples in the span
    cross = np.flatnonzero(~inner)
    if len(cross):
        t1 = _direction(c[sa[cross]], ta[cross])
        t2 = -_direction(c[sb[cross]], tb[cross])
        s_ext = np.concatenate([arc.s[:-1], arc.s[:-1] + total, arc.s[:-1] + 2 * total])
        p_ext = np.concatenate([arc.pts, arc.pts, arc.pts])
        ac = a[cross]
        lo = np.searchsorted(s_ext, ac, side="right")
        hi = np.searchsorted(s_ext, b[cross], side="left")
        cnt = np.maximum(hi - lo, 0)
        width = max(int(cnt.max()), 1) + 2
        # padded (spans, width) sample table: the start, the samples inside, then copies of the end;
        # parameters start as arc-length fractions of the span
        k = np.arange(width)[None, :]
        src = np.clip(np.minimum(lo[:, None] + k - 1, (hi - 1)[:, None]), 0, len(p_ext) - 1)
        d = p_ext[src]
        u = (s_ext[src] - ac[:, None]) / (total / n)
        d[:, 0], u[:, 0] = p0[cross], 0.0
        tail = k > cnt[:, None]
        d = np.where(tail[..., None], p3[cross][:, None, :], d)
        u = np.where(tail, 1.0, np.clip(u, 0.0, 1.0))
        for _ in range(3):
            al, ar = _ls_handles(d, u, p0[cross], p3[cross], t1, t2)
            cc = _controls(p0[cross], p3[cross], t1, t2, al, ar)
            u = _newton(cc[:, None], d, u)
            u[:, 0] = 0.0
            u = np.where(tail, 1.0, u)
        al, ar = _ls_handles(d, u, p0[cross], p3[cross], t1, t2)
        cc = _controls(p0[cross], p3[cross], t1, t2, al, ar)
        h1[cross] = cc[:, 1] - cc[:, 0]
        h2[cross] = cc[:, 2] - cc[:, 3]
    return Spline(p0, np.roll(h2, 1, axis=0), h1)


def _reversed(spline: Spline) -> Spline:
    return Spline(spline.vertices[::-1], spline.out_tangents[::-1], spline.in_tangents[::-1])


def _orientation(spline: Spline) -> float:
    return polygon_area(spline.sample(8))


def _principal_axis(points: np.ndarray) -> tuple[float, float]:
    """(angle of the major axis in radians, anisotropy 0..1) of the region a closed curve's points bound."""
    m = cv2.moments(np.ascontiguousarray(points, np.float32).reshape(-1, 1, 2))
    if abs(m["m00"]) < 1e-9:
        return 0.0, 0.0
    mu20, mu02, mu11 = m["mu20"] / m["m00"], m["mu02"] / m["m00"], m["mu11"] / m["m00"]  # either direction
    spread = mu20 + mu02
    return 0.5 * math.atan2(2 * mu11, mu20 - mu02), (math.hypot(mu20 - mu02, 2 * mu11) / spread if spread else 0.0)


def _predicted_rotation(points: np.ndarray, ref_points: np.ndarray) -> float:
    """Rotation (radians) from ``ref_points`` to ``points`` seen in their principal axes, 0 for round shapes."""
    a1, e1 = _principal_axis(points)
    a0, e0 = _principal_axis(ref_points)
    confidence = float(np.clip((min(e0, e1) - 0.05) / 0.1, 0.0, 1.0))
    turn = (a1 - a0 + math.pi / 2) % math.pi - math.pi / 2  # an axis has no direction: within +-90 degrees
    return confidence * turn


def _best_offset(points: np.ndarray, ref: np.ndarray, every: int, rotation: float | None) -> float:
    """Cyclic offset o (in samples, fractional) minimising sum_k |points[o + k*every] - r * ref[k]|^2.

    ``points`` (every * n,) and ``ref`` (n,) are complex (x + iy). All offsets
    are scored at once from one FFT cross-correlation ``c(o)``. With
    ``rotation`` None, r = 1: cost ``|points|^2 - 2 Re c(o)``. Otherwise r is
    each offset's best rotation (2D Procrustes: r = c / |c|, cost
    ``|points|^2 - 2 |c(o)|``) plus a penalty ``w |ref|^2 (angle(r) - rotation)^2``
    that keeps it near the expected rotation, so that a shape without a
    distinct orientation (a circle) keeps still instead of spinning.
    """
    total = len(points)
    ref_up = np.zeros(total, complex)
    ref_up[::every] = ref
    corr = np.fft.ifft(np.fft.fft(points) * np.conj(np.fft.fft(ref_up)))  # sum_k points[o + k e] conj(ref[k])
    sq = (points.real ** 2 + points.imag ** 2).reshape(-1, every).sum(axis=0)[np.arange(total) % every]
    if rotation is None:
        cost = sq - 2 * corr.real
    else:
        off = (np.angle(corr) - rotation + math.pi) % (2 * math.pi) - math.pi
        cost = sq - 2 * np.abs(corr) + _ROTATION_PENALTY * float(np.sum(np.abs(ref) ** 2)) * off * off
    o = int(np.argmin(cost))
    if every > 1:  # parabolic refinement between the dense samples
        cm, c0, cp = cost[(o - 1) % total], cost[o], cost[(o + 1) % total]
        den = cm - 2 * c0 + cp
        if den > 1e-12:
            return o + float(np.clip(0.5 * (cm - cp) / den, -0.5, 0.5))
    return float(o)


def align(spline: Spline, reference: Spline, slide: bool = False, centred: bool = True, rotation: bool = True,
          oversample: int = 16) -> Spline:
    """``spline`` with the reference's orientation and the start point that best matches it.

    Without ``slide`` both must have the same point count: the vertices are
    rolled by the cyclic shift minimising the summed squared distance to the
    reference's vertices (all shifts at once by FFT). With ``slide`` the
    spline (any point count) is resampled to the reference's count, equally
    spaced by arc length, at the continuous start position that best matches
    (searched at 1/``oversample`` of the spacing, refined by a parabola).

    ``centred`` compares the shapes with their centroids subtracted (a moving
    shape is matched to where it is, not to where it was); ``rotation`` (with
    ``centred``) also lets the reference turn about its centroid, by the
    rotation that best maps it onto the spline, held near the turn of the
    shapes' principal axes: the points of a turning shape then turn with it
    rather than slide back along the outline.
    """
    if _orientation(spline) * _orientation(reference) < 0:
        spline = _reversed(spline)
    n = len(reference)
    if not slide and len(spline) != n:
        raise VisionError(f"align: the shapes have {len(spline)} and {n} points; use slide=True to resample")
    ref_dense = _Arc.of(reference).points(np.arange(256) / 256)
    ref = reference.vertices[:, 0] + 1j * reference.vertices[:, 1]
    every = max(1, int(oversample)) if slide else 1
    xy = _Arc.of(spline).points(np.arange(n * every) / (n * every)) if slide else spline.vertices
    pts = xy[:, 0] + 1j * xy[:, 1]
    turn = None
    if centred:
        pts = pts - pts.mean()
        ref = ref - complex(*ref_dense.mean(axis=0)) if slide else ref - ref.mean()
        if rotation:
            turn = _predicted_rotation(xy if slide else spline.sample(8), ref_dense)
    o = _best_offset(pts, ref, every, turn)
    if slide:
        return resample(spline, n, start=(o / (n * every)) % 1.0)
    shift = int(round(o)) % n
    return Spline(np.roll(spline.vertices, -shift, axis=0), np.roll(spline.in_tangents, -shift, axis=0),
                  np.roll(spline.out_tangents, -shift, axis=0))
