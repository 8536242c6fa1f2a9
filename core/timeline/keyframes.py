"""Keyframed values: a number that may change over time.

A stored value is either a plain number (constant) or
``{"keys": [[frame, value, interp], ...]}`` with keys sorted by frame and
``interp`` the interpolation from that key to the next:

- ``"linear"``: straight line;
- ``"hold"``: the value stays until the next key;
- ``"bezier"``: an easing curve; an optional fourth item ``[x1, y1, x2, y2]``
  gives its two handles in the segment's unit square (time, value), like a CSS
  ``cubic-bezier``; the default ``[0.42, 0, 0.58, 1]`` eases in and out.

Before the first key the first value holds, after the last the last value.
Frames are whatever the owner counts in (clip-local frames for clip
properties, sequence frames for track and sequence filters). Evaluation is
vectorised over an array of frames.
"""

from __future__ import annotations

import numpy as np

from core.errors import EditError

INTERPOLATIONS = ("linear", "hold", "bezier")
DEFAULT_EASE = (0.42, 0.0, 0.58, 1.0)


def is_animated(value) -> bool:
    return isinstance(value, dict) and "keys" in value


def check(value, name: str = "value") -> None:
    """Raise EditError when ``value`` is not a number or a well-formed keyed value."""
    if isinstance(value, bool) or not isinstance(value, (int, float, dict)):
        raise EditError(f"{name}: expected a number or keyframes, got {value!r}")
    if isinstance(value, dict):
        keys = value.get("keys")
        if not isinstance(keys, list) or not keys:
            raise EditError(f"{name}: keyframes need a non-empty 'keys' list")
        last = None
        for k in keys:
            if not isinstance(k, (list, tuple)) or len(k) not in (3, 4):
                raise EditError(f"{name}: a keyframe is [frame, value, interpolation(, handles)], got {k!r}")
            f, v, interp = k[0], k[1], k[2]
            if not isinstance(f, int) or isinstance(v, bool) or not isinstance(v, (int, float)):
                raise EditError(f"{name}: keyframe {k!r} needs an integer frame and a number")
            if interp not in INTERPOLATIONS:
                raise EditError(f"{name}: interpolation must be one of {', '.join(INTERPOLATIONS)}, not {interp!r}")
            if len(k) == 4:
                h = k[3]
                if not isinstance(h, (list, tuple)) or len(h) != 4 or not all(isinstance(x, (int, float)) for x in h):
                    raise EditError(f"{name}: bezier handles are [x1, y1, x2, y2], got {h!r}")
                if not (0 <= h[0] <= 1 and 0 <= h[2] <= 1):
                    raise EditError(f"{name}: bezier handle times must lie in 0..1")
            if last is not None and f <= last:
                raise EditError(f"{name}: keyframe frames must increase ({f} after {last})")
            last = f


def _bezier_ease(u: np.ndarray, handles: np.ndarray) -> np.ndarray:
    """y(u) of cubic Beziers through (0,0), (x1,y1), (x2,y2), (1,1); one handle row per sample."""
    x1, y1, x2, y2 = handles[:, 0], handles[:, 1], handles[:, 2], handles[:, 3]

    def coord(t, p1, p2):
        mt = 1.0 - t
        return 3 * mt * mt * t * p1 + 3 * mt * t * t * p2 + t * t * t

    def slope(t, p1, p2):
        mt = 1.0 - t
        return 3 * mt * mt * p1 + 6 * mt * t * (p2 - p1) + 3 * t * t * (1 - p2)

    t = u.copy()
    for _ in range(8):  # Newton on x(t) = u
        d = slope(t, x1, x2)
        ok = np.abs(d) > 1e-6
        t = np.where(ok, t - (coord(t, x1, x2) - u) / np.where(ok, d, 1.0), t)
        t = np.clip(t, 0.0, 1.0)
    lo, hi = np.zeros_like(u), np.ones_like(u)
    for _ in range(30):  # bisection finishes where Newton stalled (flat handles)
        bad = np.abs(coord(t, x1, x2) - u) > 1e-7
        if not bad.any():
            break
        mid = (lo + hi) / 2
        below = coord(mid, x1, x2) < u
        lo = np.where(bad & below, mid, lo)
        hi = np.where(bad & ~below, mid, hi)
        t = np.where(bad, (lo + hi) / 2, t)
    return coord(t, y1, y2)


def evaluate(value, frames) -> np.ndarray | float:
    """The value at ``frames`` (an int gives a float; an array gives a float64 array)."""
    scalar = np.isscalar(frames)
    f = np.atleast_1d(np.asarray(frames, dtype=np.float64))
    if not is_animated(value):
        out = np.full(f.shape, float(value))
        return float(out[0]) if scalar else out
    keys = value["keys"]
    kf = np.array([k[0] for k in keys], dtype=np.float64)
    kv = np.array([k[1] for k in keys], dtype=np.float64)
    if len(keys) == 1:
        out = np.full(f.shape, kv[0])
        return float(out[0]) if scalar else out
    i = np.clip(np.searchsorted(kf, f, side="right") - 1, 0, len(keys) - 2)
    f0, f1, v0, v1 = kf[i], kf[i + 1], kv[i], kv[i + 1]
    u = np.clip((f - f0) / (f1 - f0), 0.0, 1.0)
    kinds = np.array([INTERPOLATIONS.index(k[2]) for k in keys])[i]
    handles = np.array([list(k[3]) if len(k) == 4 else list(DEFAULT_EASE) for k in keys], dtype=np.float64)[i]
    w = u.copy()
    w[kinds == 1] = 0.0
    bez = kinds == 2
    if bez.any():
        w[bez] = _bezier_ease(u[bez], handles[bez])
    out = v0 + (v1 - v0) * w
    out = np.where(f >= kf[-1], kv[-1], np.where(f <= kf[0], kv[0], out))
    return float(out[0]) if scalar else out


def set_key(value, frame: int, new_value: float, interp: str = "linear", handles=None) -> dict:
    """A keyed value with a key at ``frame`` (replacing one there). A constant becomes keyed."""
    if interp not in INTERPOLATIONS:
        raise EditError(f"interpolation must be one of {', '.join(INTERPOLATIONS)}, not {interp!r}")
    keys = [list(k) for k in value["keys"]] if is_animated(value) else []
    keys = [k for k in keys if k[0] != int(frame)]
    key = [int(frame), float(new_value), interp] + ([list(map(float, handles))] if handles is not None else [])
    keys.append(key)
    keys.sort(key=lambda k: k[0])
    out = {"keys": keys}
    check(out)
    return out


def remove_key(value, frame: int):
    """The value without its key at ``frame``; the last key removed leaves its value as a constant."""
    if not is_animated(value):
        raise EditError("the value has no keyframes")
    keys = [list(k) for k in value["keys"]]
    left = [k for k in keys if k[0] != int(frame)]
    if len(left) == len(keys):
        raise EditError(f"no keyframe at frame {frame}")
    if not left:
        return float(keys[0][1])
    return {"keys": left}


def shift(value, delta: int):
    """The value with every key moved by ``delta`` frames (e.g. when a clip's head is trimmed)."""
    if not is_animated(value):
        return value
    return {"keys": [[k[0] + int(delta)] + list(k[1:]) for k in value["keys"]]}
