"""Smoothing of tracked boxes that never moves a keyframe.

Two filters over a track's box centres and sizes (cx, cy, w, h), chosen by a
spec dict stored with the tracking session:

* ``{"method": "one_euro", "min_cutoff": 1.0, "beta": 0.05, "d_cutoff": 1.0}`` —
  the One-Euro filter (Casiez et al. 2012): a low-pass whose cutoff rises
  with speed, so slow jitter is removed and fast moves keep up. Offline we run
  it forward and then backward over the forward result, which cancels its lag;
* ``{"method": "savgol", "window": 9, "order": 2}`` — Savitzky-Golay
  (:func:`scipy.signal.savgol_filter`), a moving polynomial fit.

Filters run over each run of consecutive frames that have a box and are not
lost (they never smooth across a gap). Keyframes are pinned: the difference
between the raw and the smoothed value at each keyframe is added back, blended
linearly to zero over ``blend`` frames on each side (or interpolated straight
across when two keyframes are closer than ``2 * blend``), so keyframe rows come
out exactly as the user set them and the correction fades in smoothly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.vision.types import VisionError

__all__ = ["check_spec", "one_euro", "savgol", "smooth_boxes"]

_DEFAULTS = {
    "one_euro": {"min_cutoff": 1.0, "beta": 0.05, "d_cutoff": 1.0, "blend": 10},
    "savgol": {"window": 9, "order": 2, "blend": 10},
}


def check_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A complete, validated copy of a smoothing spec (defaults filled in)."""
    if not isinstance(spec, dict) or spec.get("method") not in _DEFAULTS:
        raise VisionError(f"smoothing needs a method: one of {sorted(_DEFAULTS)}")
    method = spec["method"]
    unknown = set(spec) - set(_DEFAULTS[method]) - {"method"}
    if unknown:
        raise VisionError(f"unknown {method} smoothing settings: {sorted(unknown)}")
    out: dict[str, Any] = {"method": method, **_DEFAULTS[method]}
    try:
        for key, default in _DEFAULTS[method].items():
            value = spec.get(key, default)
            out[key] = int(value) if isinstance(default, int) else float(value)
    except (TypeError, ValueError):
        raise VisionError(f"{method} smoothing settings must be numbers") from None
    if out["blend"] < 0:
        raise VisionError("the keyframe blend must be 0 frames or more")
    if method == "savgol":
        if out["window"] < 3 or out["window"] % 2 == 0:
            raise VisionError("the Savitzky-Golay window must be an odd number of frames, at least 3")
        if not 0 <= out["order"] < out["window"]:
            raise VisionError("the Savitzky-Golay order must be smaller than the window")
    elif min(out["min_cutoff"], out["d_cutoff"]) <= 0 or out["beta"] < 0:
        raise VisionError("One-Euro cutoffs must be positive and beta 0 or more")
    return out


def _alpha(cutoff: np.ndarray | float, rate: float) -> np.ndarray:
    tau = 1.0 / (2.0 * np.pi * np.asarray(cutoff, np.float64))
    return 1.0 / (1.0 + tau * rate)


def _one_euro_pass(x: np.ndarray, rate: float, min_cutoff: float, beta: float, d_cutoff: float) -> np.ndarray:
    out = np.empty_like(x)
    out[0] = x[0]
    dx = np.zeros(x.shape[1])
    a_d = _alpha(d_cutoff, rate)
    for i in range(1, len(x)):  # recursive filter: a loop over frames, vectorised over channels
        dx = a_d * (x[i] - out[i - 1]) * rate + (1.0 - a_d) * dx
        a = _alpha(min_cutoff + beta * np.abs(dx), rate)
        out[i] = a * x[i] + (1.0 - a) * out[i - 1]
    return out


def one_euro(x: np.ndarray, rate: float, min_cutoff: float = 1.0, beta: float = 0.05,
             d_cutoff: float = 1.0) -> np.ndarray:
    """Forward-backward One-Euro filter of ``x`` [N, C] sampled at ``rate`` Hz."""
    x = np.asarray(x, np.float64)
    if len(x) < 3:
        return x.copy()
    fwd = _one_euro_pass(x, rate, min_cutoff, beta, d_cutoff)
    return _one_euro_pass(fwd[::-1], rate, min_cutoff, beta, d_cutoff)[::-1].copy()


def savgol(x: np.ndarray, window: int = 9, order: int = 2) -> np.ndarray:
    """Savitzky-Golay smoothing of ``x`` [N, C] along frames (shorter runs use a shorter window)."""
    from scipy.signal import savgol_filter

    x = np.asarray(x, np.float64)
    window = min(int(window), len(x) if len(x) % 2 else len(x) - 1)
    if window <= order or window < 3:
        return x.copy()
    return savgol_filter(x, window, int(order), axis=0, mode="interp")


def _pin(raw: np.ndarray, smooth: np.ndarray, frames: np.ndarray, pinned: np.ndarray, blend: int) -> np.ndarray:
    """Add back the keyframe offsets (raw - smooth) with a linear fade of ``blend`` frames."""
    idx = np.flatnonzero(pinned)
    if not len(idx):
        return smooth
    kf = frames[idx].astype(np.float64)
    offsets = raw[idx] - smooth[idx]  # [K, C]
    # control points: each keyframe's offset, and zeros `blend` frames away where keyframes are far apart
    xs, ys = [], []
    zero = np.zeros(raw.shape[1])
    for j, (f, off) in enumerate(zip(kf, offsets)):
        if blend > 0 and (j == 0 or f - kf[j - 1] > 2 * blend):
            xs.append(f - blend)
            ys.append(zero)
        xs.append(f)
        ys.append(off)
        if blend > 0 and (j == len(kf) - 1 or kf[j + 1] - f > 2 * blend):
            xs.append(f + blend)
            ys.append(zero)
    xs_a, ys_a = np.asarray(xs), np.asarray(ys)
    t = frames.astype(np.float64)
    if blend == 0:  # only the keyframes themselves
        out = smooth.copy()
        out[idx] = raw[idx]
        return out
    corr = np.stack([np.interp(t, xs_a, ys_a[:, c], left=0.0, right=0.0) for c in range(raw.shape[1])], axis=1)
    out = smooth + corr
    out[idx] = raw[idx]  # exact, whatever the float rounding above did
    return out


def smooth_boxes(frames: np.ndarray, boxes: np.ndarray, lost: np.ndarray, keyframes: np.ndarray,
                 spec: dict[str, Any], rate: float) -> np.ndarray:
    """Smoothed copy of ``boxes`` [N, 4] (x1 y1 x2 y2, NaN = none) at ``frames`` (ascending).

    Lost rows and rows without a box are returned unchanged and split the
    track into runs that are smoothed separately; rows at ``keyframes`` are
    returned exactly as given.
    """
    spec = check_spec(spec)
    frames = np.asarray(frames, np.int64)
    boxes = np.asarray(boxes, np.float64)
    out = boxes.copy()
    good = ~np.asarray(lost, bool) & np.isfinite(boxes).all(axis=1)
    is_key = np.isin(frames, np.asarray(keyframes, np.int64))
    # runs of consecutive good frames
    breaks = np.flatnonzero(~good | np.r_[True, np.diff(frames) != 1])
    starts = np.r_[breaks, len(frames)]
    for a, b in zip(starts[:-1], starts[1:]):
        if not good[a]:
            a += 1
        if b - a < 3:
            continue
        seg = boxes[a:b]
        ccwh = np.column_stack([(seg[:, 0] + seg[:, 2]) / 2, (seg[:, 1] + seg[:, 3]) / 2,
                                seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]])
        if spec["method"] == "savgol":
            sm = savgol(ccwh, spec["window"], spec["order"])
        else:
            sm = one_euro(ccwh, rate, spec["min_cutoff"], spec["beta"], spec["d_cutoff"])
        half = np.maximum(sm[:, 2:], 1e-3) / 2
        smoothed = np.column_stack([sm[:, :2] - half, sm[:, :2] + half])
        out[a:b] = _pin(seg, smoothed, frames[a:b], is_key[a:b], spec["blend"])
    return out
