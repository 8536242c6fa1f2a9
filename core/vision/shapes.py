"""Mattes to animated roto shapes: contours, whole animations from matte streams, feathering.

Everything here speaks the convention of :mod:`core.vision.roto_model`
(pixels, origin top-left, ``y`` down, pixel centres at ``+0.5``). The Bezier
geometry (fitting, resampling, point correspondence) lives in
:mod:`core.vision.bezier_fit`; :func:`fit_bezier`, :func:`resample`,
:func:`align` and :func:`polygon_area` are re-exported from here.

* :func:`mask_to_polygons` — the contours of a binary matte as polygons whose
  vertices are the **midpoints of the pixel cracks** on the boundary (the
  edges between an inside and an outside pixel), i.e. the 0.5 iso-line that
  marching squares gives for a 0/1 image. Filling such a polygon with
  :func:`~core.vision.roto_model.fill_polygon` (centre sampling) gives back
  exactly the pixels of the region: each inside centre is at least 0.35 px
  inside it, each outside centre 0.35 px outside. The cracks are found by
  running ``cv2.findContours`` on a ``(2H+1, 2W+1)`` image where odd indices
  are pixel centres and even indices the pixel edges and corners (a pixel's
  edges and corners are set when the pixel is), so that the traced border runs
  along the cracks themselves; the points at an edge (one odd, one even
  index) are the crack midpoints. Polygons come out clockwise on screen
  (positive shoelace area with ``y`` down) and sorted by nesting depth:
  outer boundaries ``"add"``, holes ``"subtract"``, islands in holes
  ``"add"`` again, so rasterising them in order rebuilds the matte.
* :func:`animation_from_mattes` — a whole :class:`RotoAnimation` from a
  stream of mattes (see its docstring for the policy on regions and holes):
  per-frame fits, one point count per track, corresponded keys, matched
  holes, temporal smoothing that leaves locked frames in place.
* :func:`feather_matte` — a soft matte from a hard one by distance transforms.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping

import cv2
import numpy as np

from core.errors import JobCancelled
from core.vision.bezier_fit import _Arc, align, fit_bezier, polygon_area, resample
from core.vision.roto_model import RotoAnimation, Spline, SplineTrack
from core.vision.types import VisionError

__all__ = ["mask_to_polygons", "polygon_area", "fit_bezier", "resample", "align", "animation_from_mattes",
           "feather_matte", "binary_mask"]


# ---------------------------------------------------------------- mattes and contours

def binary_mask(matte) -> np.ndarray:
    """bool (H, W): inside where a uint8/integer matte is >= 128, a float matte >= 0.5, a bool matte True."""
    m = np.asarray(matte)
    if m.ndim != 2:
        raise VisionError(f"a matte must be a single-channel (H, W) image, got shape {m.shape}")
    if m.dtype == bool:
        return m
    if np.issubdtype(m.dtype, np.floating):
        return m >= 0.5
    return m >= 128


def _contours(matte, min_area: float = 0.0):
    """Crack-midpoint polygons with depth, parent index and area (see the module docstring)."""
    inside = binary_mask(matte)
    if not inside.any():
        return []
    x, y, w, h = cv2.boundingRect(inside.astype(np.uint8))
    crop = inside[y:y + h, x:x + w].astype(np.uint8)
    cells = np.zeros((2 * h + 1, 2 * w + 1), np.uint8)
    cells[1::2, 1::2] = crop
    cells = cv2.dilate(cells, np.ones((3, 3), np.uint8))  # a pixel claims its 4 edges and 4 corners
    cells = cv2.copyMakeBorder(cells, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)  # nothing touches the border
    found, hier = cv2.findContours(cells, cv2.RETR_TREE, cv2.CHAIN_APPROX_NONE, offset=(-1, -1))
    if not found:
        return []
    parents = hier[0][:, 3]
    depth = np.zeros(len(found), np.int64)
    for i in range(len(found)):  # per contour (a handful), not per pixel
        j = parents[i]
        while j >= 0:
            depth[i] += 1
            j = parents[j]
    out = []
    dropped = np.zeros(len(found), bool)
    for i in np.argsort(depth, kind="stable"):
        if parents[i] >= 0 and dropped[parents[i]]:
            dropped[i] = True
            continue
        c = found[i].reshape(-1, 2)
        c = c[(c[:, 0] & 1) != (c[:, 1] & 1)]  # crack midpoints: one index odd, the other even
        p = c / 2.0 + (x, y)
        if len(p) >= 3:  # drop points on straight runs
            a, b = p - np.roll(p, 1, axis=0), np.roll(p, -1, axis=0) - p
            turn = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
            p = p[(turn != 0) | (np.sum(a * b, axis=1) < 0)]
        area = polygon_area(p) if len(p) >= 3 else 0.0
        if len(p) < 3 or abs(area) < min_area:
            dropped[i] = True
            continue
        if area < 0:
            p = p[::-1].copy()
        out.append({"polygon": p, "mode": "add" if depth[i] % 2 == 0 else "subtract", "depth": int(depth[i]),
                    "area": abs(area), "index": int(i), "parent": int(parents[i])})
    out.sort(key=lambda c: (c["depth"], -c["area"]))
    return out


def mask_to_polygons(matte, min_area: float = 0.0) -> list[tuple[np.ndarray, str]]:
    """``[(polygon (M, 2) float64, mode), ...]``: outer boundaries ``"add"``, holes ``"subtract"``.

    Sorted by nesting depth (then by area, largest first), so filling them in
    order reproduces the matte exactly; regions and holes smaller than
    ``min_area`` square pixels are left out (with everything inside them).
    """
    return [(c["polygon"], c["mode"]) for c in _contours(matte, min_area)]


# ---------------------------------------------------------------- whole animations

def _smoothing_spec(smoothing) -> dict[str, Any] | None:
    if smoothing is None or smoothing is False:
        return None
    if isinstance(smoothing, (int, float)) and not isinstance(smoothing, bool):
        smoothing = {"method": "gaussian", "sigma": float(smoothing)}
    if not isinstance(smoothing, Mapping):
        raise VisionError("shape smoothing must be None, a Gaussian sigma in frames, or a settings dict")
    method = smoothing.get("method", "gaussian")
    defaults = {"gaussian": {"sigma": 1.0, "blend": 3}, "savgol": {"window": 5, "order": 2, "blend": 3}}
    if method not in defaults:
        raise VisionError(f"shape smoothing method must be one of {sorted(defaults)}, not {method!r}")
    unknown = set(smoothing) - set(defaults[method]) - {"method"}
    if unknown:
        raise VisionError(f"unknown {method} shape smoothing settings: {sorted(unknown)}")
    spec: dict[str, Any] = {"method": method}
    try:
        for key, default in defaults[method].items():
            v = smoothing.get(key, default)
            spec[key] = int(v) if isinstance(default, int) else float(v)
    except (TypeError, ValueError):
        raise VisionError(f"{method} shape smoothing settings must be numbers") from None
    if spec["blend"] < 0 or spec.get("sigma", 1.0) < 0:
        raise VisionError("shape smoothing sigma and blend must not be negative")
    window = spec.get("window", 3)
    if method == "savgol" and (window < 3 or window % 2 == 0 or not 0 <= spec["order"] < window):
        raise VisionError("Savitzky-Golay shape smoothing needs an odd window >= 3 and an order below it")
    return spec


def _smooth_run(x: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    if spec["method"] == "gaussian":
        from scipy.ndimage import gaussian_filter1d

        return gaussian_filter1d(x, spec["sigma"], axis=0, mode="nearest") if spec["sigma"] > 0 else x.copy()
    from scipy.signal import savgol_filter

    window = min(spec["window"], len(x) if len(x) % 2 else len(x) - 1)
    if window <= spec["order"] or window < 3:
        return x.copy()
    return savgol_filter(x, window, spec["order"], axis=0, mode="interp")


def _pinned(raw: np.ndarray, smooth: np.ndarray, frames: np.ndarray, pinned: np.ndarray, blend: int) -> np.ndarray:
    """``smooth`` with the locked rows put back exactly and the difference faded out over ``blend`` frames."""
    idx = np.flatnonzero(pinned)
    out = smooth.copy()
    if len(idx) and blend > 0:
        kf = frames[idx].astype(np.float64)
        xs, ys = [], []
        for j, f in enumerate(kf):  # control points: each lock's offset, zero `blend` frames away
            if j == 0 or f - kf[j - 1] > 2 * blend:
                xs.append(f - blend), ys.append(-1)
            xs.append(f), ys.append(j)
            if j == len(kf) - 1 or kf[j + 1] - f > 2 * blend:
                xs.append(f + blend), ys.append(-1)
        xs_a = np.asarray(xs)
        offsets = np.vstack([raw[idx] - smooth[idx], np.zeros((1,) + raw.shape[1:])])  # row -1: zero
        t = frames.astype(np.float64)
        i = np.clip(np.searchsorted(xs_a, t, side="right") - 1, 0, len(xs_a) - 2)
        w = np.clip((t - xs_a[i]) / (xs_a[i + 1] - xs_a[i]), 0.0, 1.0)
        inside = (t >= xs_a[0]) & (t <= xs_a[-1])
        ya, yb = np.asarray(ys)[i], np.asarray(ys)[i + 1]
        corr = offsets[ya] * (1 - w)[:, None] + offsets[yb] * w[:, None]
        out += corr * inside[:, None]
    out[idx] = raw[idx]
    return out


def _smooth_track(frames: np.ndarray, arrays: np.ndarray, locked: np.ndarray, spec: dict[str, Any]) -> np.ndarray:
    """Smooth ``arrays`` (K, C) over runs of consecutive frames; locked rows come back unchanged."""
    out = arrays.copy()
    starts = np.concatenate([[0], np.flatnonzero(np.diff(frames) != 1) + 1, [len(frames)]])
    for a, b in zip(starts[:-1], starts[1:]):
        if b - a >= 3:
            out[a:b] = _pinned(arrays[a:b], _smooth_run(arrays[a:b], spec), frames[a:b], locked[a:b], spec["blend"])
    return out


def _max_deviation(a: Spline, b: Spline) -> float:
    """Largest distance from points along ``a`` to the curve ``b`` (densely sampled)."""
    from scipy.spatial import cKDTree

    dist, _ = cKDTree(_Arc.of(b, 0.1).pts).query(_Arc.of(a, 1.0).pts)
    return float(dist.max())


def _choose_count(fits: list[Spline], tolerance: float, max_points: int) -> int:
    """Fewest points (from the largest fitted count up, by 25 % steps) at which the resampled shapes of the
    frames with the most fitted points and the longest outline stay within ``tolerance`` of their fits."""
    counts = np.array([len(f) for f in fits])
    lengths = np.array([_Arc.of(f, 2.0).length for f in fits])
    n = int(min(max(counts.max(), 4), max_points))
    probes = {int(np.argmax(counts)), int(np.argmax(lengths))}
    while n < max_points:
        if all(_max_deviation(fits[i], resample(fits[i], n)) <= tolerance for i in probes):
            break
        n = min(max_points, int(math.ceil(n * 1.25)))
    return n


def _track_keys(frames: list[int], fits: dict[int, Spline], user: dict[int, Spline], n: int,
                tick: Callable[[], None] = lambda: None) -> list[Spline]:
    """Resampled, corresponded keys: outwards from the first user key (or the first frame), each matched to
    its neighbour already done; user keys are kept exactly and restart the chain. ``tick`` runs per key."""
    keys: dict[int, Spline] = {}
    anchor = next((f for f in frames if f in user), frames[0])
    pos = frames.index(anchor)
    for order in (frames[pos:], frames[pos::-1]):
        prev = None
        for f in order:
            if f in user:
                keys[f] = user[f]
            elif f in keys:  # the anchor, done by the first pass
                pass
            elif prev is None:
                keys[f] = resample(fits[f], n)
            else:
                keys[f] = align(fits[f], prev, slide=True)
            prev = keys[f]
            tick()
    return [keys[f] for f in frames]


def _build_track(name: str, frames: np.ndarray, keys: list[Spline], locked: np.ndarray, spec, **kw) -> SplineTrack:
    arr = np.stack([np.stack([k.vertices, k.in_tangents, k.out_tangents]) for k in keys])  # (K, 3, n, 2)
    if spec is not None:
        arr = _smooth_track(frames, arr.reshape(len(keys), -1), locked, spec).reshape(arr.shape)
    return SplineTrack(name, frames, arr[:, 0], arr[:, 1], arr[:, 2], **kw)


def _match_holes(per_frame: list[list[dict]]) -> list[list[np.ndarray]]:
    """Hole polygons followed through the frames by nearest centroid; only holes found in every frame survive."""
    tracks = [[h] for h in per_frame[0]]
    for holes in per_frame[1:]:
        used: set[int] = set()
        alive = []
        for tr in tracks:
            last = tr[-1]
            best, best_d = None, math.inf
            for j, h in enumerate(holes):
                d = float(np.hypot(*(h["centre"] - last["centre"])))
                if j not in used and d < best_d and d <= max(8.0, math.sqrt(last["area"])) \
                        and 0.5 <= h["area"] / last["area"] <= 2.0:
                    best, best_d = j, d
            if best is not None:
                used.add(best)
                tr.append(holes[best])
                alive.append(tr)
        tracks = alive
    return [[h["polygon"] for h in tr] for tr in tracks]


def animation_from_mattes(name: str, frames: Iterable[int], mattes: Iterable, width: int, height: int, rate,
                          tolerance: float = 1.0, point_count: int | None = None, smoothing=None,
                          feather: tuple[float, float] = (0.0, 0.0), min_area: float = 64.0,
                          locked_frames: Mapping[int, Spline] | Iterable[int] | None = None,
                          holes: bool = True, max_points: int = 400, source: str = "",
                          progress: Callable[..., None] | None = None,
                          cancelled: Callable[[], bool] | None = None) -> RotoAnimation:
    """Animated Bezier shapes for one object from its per-frame mattes.

    ``frames`` (increasing source frame indices) and ``mattes`` (uint8 (H, W)
    at ``width`` x ``height``) are consumed together one at a time, so a
    generator keeps only the current matte in memory. Per frame:

    * the **largest region** is the shape (smaller separate regions, e.g. a
      detached speck, are ignored); a frame whose matte is empty (or holds no
      region of ``min_area`` px) gets no key;
    * its outline is fitted within ``tolerance`` px (:func:`fit_bezier`);
    * with ``holes``, holes in that region of at least ``min_area`` px become
      ``"subtract"`` tracks, but only holes found in **every** keyed frame
      (followed by nearest centroid); holes that come and go are left filled;
    * one point count serves the whole track: ``point_count`` or else the
      smallest count (from the most any frame's fit needed, growing by 25 %)
      at which equal arc-length resampling stays within ``tolerance`` of the
      fits, at most ``max_points``;
    * correspondence: every key is resampled at equal arc-length spacing and
      slid/rolled (:func:`align`, centroid-compensated) to match the key
      before it, working outwards from the first locked key (or frame);
    * ``smoothing`` (None, a Gaussian sigma in frames, or
      ``{"method": "gaussian", "sigma": 1.0, "blend": 3}`` /
      ``{"method": "savgol", "window": 5, "order": 2, "blend": 3}``) filters
      vertices and handles over each run of consecutive keys.

    ``locked_frames`` are user-edited keys: a mapping ``frame -> Spline`` gives
    the main shape of those frames verbatim (their point count is the track's
    then, and they need no matte), a plain list of frames keeps the fitted
    shape there; either way smoothing never moves them (the correction fades
    in over ``blend`` frames around them). ``feather`` is (inner, outer) px.
    """
    tolerance = float(tolerance)
    if not tolerance > 0:
        raise VisionError("shape fitting tolerance must be a positive number of pixels")
    spec = _smoothing_spec(smoothing)
    user: dict[int, Spline] = {}
    if isinstance(locked_frames, Mapping):
        user = {int(f): s for f, s in locked_frames.items()}
        locked = set(user)
    else:
        locked = {int(f) for f in (locked_frames or ())}
    if user:
        counts = {len(s) for s in user.values()}
        if len(counts) != 1 or (point_count is not None and int(point_count) not in counts):
            raise VisionError("locked shapes must all have the same point count (and match point_count if given)")
        point_count = counts.pop()
    try:
        total = len(frames)  # type: ignore[arg-type]
    except TypeError:
        total = 0

    def report(fraction: float, message: str) -> None:
        if cancelled is not None and cancelled():
            raise JobCancelled("shape fitting cancelled by the user")
        if progress is not None:
            progress(fraction, message)

    fits: dict[int, Spline] = {}
    hole_found: dict[int, list[dict]] = {}
    last = None
    for done, (frame, matte) in enumerate(zip(frames, mattes)):
        frame = int(frame)
        report(0.6 * done / total if total else 0.0, f"fitting frame {frame}")
        if last is not None and frame <= last:
            raise VisionError(f"matte frames must increase: {frame} comes after {last}")
        last = frame
        m = np.asarray(matte)
        if m.shape[:2] != (int(height), int(width)):
            raise VisionError(f"frame {frame}: the matte is {m.shape[1]}x{m.shape[0]}, the shape is {width}x{height}")
        regions = _contours(m, min_area)
        outer = [c for c in regions if c["depth"] == 0]
        if outer:
            main = max(outer, key=lambda c: c["area"])
            fits[frame] = fit_bezier(main["polygon"], tolerance)
            hole_found[frame] = [{**c, "centre": c["polygon"].mean(axis=0)} for c in regions
                                 if c["parent"] == main["index"]] if holes else []
    keyed = sorted(set(fits) | set(user))
    if not keyed:
        raise VisionError(f"{name}: no frame has a shape (every matte is empty)")
    n = int(point_count) if point_count is not None else _choose_count(list(fits.values()), tolerance, max_points)
    if n < 3:
        raise VisionError("a roto shape needs at least 3 points")
    fr = np.asarray(keyed, np.int64)
    is_locked = np.isin(fr, np.fromiter(locked, np.int64, len(locked)))
    feather_kw = {"feather_inner": float(feather[0]), "feather_outer": float(feather[1])}
    count = [0]

    def tick() -> None:
        count[0] += 1
        report(0.6 + 0.3 * min(count[0] / len(keyed), 1.0), "matching points between frames")

    report(0.6, f"{n} points per key")
    keys = _track_keys(keyed, fits, user, n, tick)
    tracks = [_build_track(name, fr, keys, is_locked, spec, mode="add", **feather_kw)]
    fitted = sorted(fits)
    if holes and fitted and all(hole_found[f] for f in fitted):
        hole_frames = np.asarray(fitted, np.int64)
        hole_locked = np.isin(hole_frames, fr[is_locked])
        for i, polys in enumerate(_match_holes([hole_found[f] for f in fitted])):
            hole_fits = {f: fit_bezier(p, tolerance) for f, p in zip(fitted, polys)}
            hn = _choose_count(list(hole_fits.values()), tolerance, max_points)
            keys = _track_keys(fitted, hole_fits, {}, hn, lambda: report(0.95, "matching hole points"))
            tracks.append(_build_track(f"{name} hole {i + 1}", hole_frames, keys,
                                       hole_locked, spec, mode="subtract", **feather_kw))
    report(1.0, f"{len(keyed)} keys of {n} points")
    return RotoAnimation(name, int(width), int(height), rate, tracks, source=source)


# ---------------------------------------------------------------- feathering

def feather_matte(hard_mask, inner: float = 0.0, outer: float = 0.0) -> np.ndarray:
    """float32 (H, W) soft matte, 0..1, from a hard one (see :func:`binary_mask` for what counts as inside).

    With ``s`` the signed distance of a pixel centre to the shape's edge
    (positive inside; the edge lies half-way between an inside and an outside
    pixel centre, so the first pixel on either side is at 0.5), the value is
    ``clip((s + outer) / (inner + outer), 0, 1)``: a single linear ramp from 0
    at ``outer`` px outside the edge to 1 at ``inner`` px inside it (so the
    edge itself sits at ``outer / (inner + outer)``). With no feather the
    result is the hard matte as 0.0 / 1.0. Distances are exact Euclidean
    (between pixel centres); the frame border is not an edge.
    """
    inside = binary_mask(hard_mask)
    inner, outer = float(inner), float(outer)
    if inner < 0 or outer < 0 or not (math.isfinite(inner) and math.isfinite(outer)):
        raise VisionError("feather must be a non-negative number of pixels")
    out = inside.astype(np.float32)
    width = inner + outer
    if width <= 0 or not inside.any() or inside.all():
        return out
    h, w = inside.shape
    x, y, bw, bh = cv2.boundingRect(inside.astype(np.uint8))
    pad = int(math.ceil(outer)) + 2  # only the shape's box, grown by the outer ramp, can change
    x0, y0, x1, y1 = max(0, x - pad), max(0, y - pad), min(w, x + bw + pad), min(h, y + bh + pad)
    crop = inside[y0:y1, x0:x1].astype(np.uint8)
    d_in = cv2.distanceTransform(crop, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    d_out = cv2.distanceTransform(1 - crop, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    s = np.where(crop > 0, d_in - 0.5, 0.5 - d_out)
    out[y0:y1, x0:x1] = np.clip((s + outer) / width, 0.0, 1.0)
    return out
