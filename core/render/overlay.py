"""Indicators drawn over a tracked subject: dot, ring, glow, spotlight, label.

Pure numpy/OpenCV on RGB uint8 frames, drawn in place. Each indicator is
anchored *above the head* of the subject:

* from the pose keypoints when the track has them (COCO order: 0 nose, 1-2
  eyes, 3-4 ears, 5-6 shoulders): the top of the head is estimated from the
  eyes/ears and the eye-to-shoulder distance (:func:`head_top`);
* else from the top centre of the box.

The indicator's size scales with the box height (a person further away gets
a smaller marker). :class:`TrackOverlay` precomputes the anchor of every
frame of a :class:`~core.vision.types.TrackResult` (scaled to the output
size), optionally smoothed over time with a small centred Gaussian (zero lag,
so the marker stays where the track says; never across lost frames), and
draws nothing on lost frames.

Costs at 720p (one core): dot/ring/label only touch a small region around
the marker (< 0.5 ms); glow blends a Gaussian halo in that region (~0.5 ms);
spotlight scales the whole frame by the dim level in one OpenCV pass and
multiplies only the ellipse's bounding region by a soft mask computed at 1/8
resolution and upscaled (~1 ms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from core.errors import LumaError

STYLES = ("dot", "ring", "glow", "spotlight", "label")
DEFAULT_COLOR = (255, 200, 0)  # amber
NAMED_COLORS = {
    "red": (235, 40, 40), "green": (40, 210, 70), "blue": (40, 110, 255), "yellow": (255, 230, 0),
    "amber": DEFAULT_COLOR, "orange": (255, 140, 0), "white": (255, 255, 255), "cyan": (0, 220, 255),
    "magenta": (255, 0, 200),
}
_SHIFT = 4  # sub-pixel bits for OpenCV drawing
_ONE = 1 << _SHIFT
_KP_MIN_CONF = 0.3


def parse_color(text: str | tuple | list) -> tuple[int, int, int]:
    """``#RRGGBB``, ``RRGGBB``, ``#RGB``, a name (``red``, ``amber`` ...) or an (r, g, b) tuple."""
    if isinstance(text, (tuple, list)):
        if len(text) == 3 and all(isinstance(v, (int, np.integer)) and 0 <= v <= 255 for v in text):
            return tuple(int(v) for v in text)  # type: ignore[return-value]
        raise LumaError(f"colour {text!r}: give three numbers 0-255")
    s = str(text).strip().lower()
    if s in NAMED_COLORS:
        return NAMED_COLORS[s]
    h = s[1:] if s.startswith("#") else s
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    try:
        if len(h) != 6:
            raise ValueError
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    except ValueError:
        raise LumaError(f"colour {text!r}: use #RRGGBB (e.g. #ffc800) or one of "
                        f"{', '.join(sorted(NAMED_COLORS))}") from None


@dataclass(frozen=True)
class OverlayStyle:
    """How the indicator looks. ``scale`` multiplies its size; ``dim`` is the brightness
    left outside the spotlight (0 black .. 1 unchanged); ``smooth`` the anchor smoothing
    (Gaussian sigma in frames, 0 = off)."""

    kind: str = "ring"
    color: tuple[int, int, int] = DEFAULT_COLOR
    name: str | None = None
    scale: float = 1.0
    dim: float = 0.3
    smooth: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in STYLES:
            raise LumaError(f"indicator style {self.kind!r}: choose one of {', '.join(STYLES)}")
        object.__setattr__(self, "color", parse_color(self.color))
        if not self.scale > 0:
            raise LumaError(f"indicator scale must be positive, not {self.scale}")
        if not 0 <= self.dim <= 1:
            raise LumaError(f"spotlight dim must be between 0 and 1, not {self.dim}")


@dataclass(frozen=True)
class Anchor:
    """Where an indicator goes on one frame, in output pixels: (x, y) the top of the
    head, ``size`` the box height, ``box`` the subject's box [x1, y1, x2, y2]."""

    x: float
    y: float
    size: float
    box: tuple[float, float, float, float]


def head_top(bbox, keypoints=None) -> tuple[float, float]:
    """(x, y) of the top of the head: from COCO keypoints when enough are visible, else the
    top centre of ``bbox``. The estimate is kept inside the box horizontally and never
    above the box top (the box encloses the person)."""
    x1, y1, x2, y2 = (float(v) for v in bbox)
    bx, by = (x1 + x2) / 2, y1
    if keypoints is None:
        return bx, by
    kp = np.asarray(keypoints, np.float64).reshape(-1, 3)
    if len(kp) < 7:
        return bx, by
    vis = kp[:7, 2] >= _KP_MIN_CONF

    def pt(i):
        return kp[i, :2] if vis[i] else None

    head = kp[:5][vis[:5], :2]
    shoulders = [p for p in (pt(5), pt(6)) if p is not None]
    top = None
    if len(head):
        hx = float(head[:, 0].mean())
        eyes = [p for p in (pt(1), pt(2)) if p is not None]
        eye_y = float(np.mean([p[1] for p in eyes])) if eyes else float(head[:, 1].mean())
        if shoulders:
            neck = float(np.mean([p[1] for p in shoulders])) - eye_y
            if neck > 0:
                top = eye_y - 0.55 * neck
        if top is None and pt(3) is not None and pt(4) is not None:
            top = float(min(kp[3, 1], kp[4, 1])) - 0.8 * abs(kp[3, 0] - kp[4, 0])
        if top is None and len(eyes) == 2:
            top = eye_y - 1.8 * abs(eyes[0][0] - eyes[1][0])
        if top is None:
            return float(np.clip(hx, x1, x2)), by
        x = hx
    elif len(shoulders) == 2:
        x = float((shoulders[0][0] + shoulders[1][0]) / 2)
        top = float(min(shoulders[0][1], shoulders[1][1])) - 0.9 * abs(shoulders[0][0] - shoulders[1][0])
    else:
        return bx, by
    return float(np.clip(x, x1, x2)), float(np.clip(top, y1, y2))


def marker_geometry(anchor: Anchor, style: OverlayStyle, frame_size: tuple[int, int]) -> tuple[float, float, float]:
    """(cx, cy, r): centre and radius of the dot/ring/glow marker above the head, in output
    pixels. The radius is ~5.5 % of the box height (at least 5 px, at most 10 % of the frame
    height); the marker sits a little above the head and is kept inside the frame."""
    w, h = frame_size
    r = float(np.clip(0.055 * anchor.size * style.scale, 5.0, max(5.0, 0.1 * h)))
    cy = anchor.y - 0.6 * r - r
    cy = min(max(cy, r + 2), h - r - 2)
    cx = min(max(anchor.x, r + 2), w - r - 2)
    return cx, cy, r


def _fx(v: float) -> int:
    return int(round(v * _ONE))


def _shade(color, k: float) -> tuple[int, int, int]:
    return tuple(int(c * k) for c in color)  # type: ignore[return-value]


def draw_dot(rgb: np.ndarray, cx: float, cy: float, r: float, color) -> None:
    edge = max(1, int(round(r * 0.18)))
    cv2.circle(rgb, (_fx(cx), _fx(cy)), _fx(r + edge * 0.5), _shade(color, 0.3), -1, cv2.LINE_AA, _SHIFT)
    cv2.circle(rgb, (_fx(cx), _fx(cy)), _fx(r - edge * 0.5), color, -1, cv2.LINE_AA, _SHIFT)


def ring_thickness(r: float) -> int:
    return max(2, int(round(r * 0.3)))


def draw_ring(rgb: np.ndarray, cx: float, cy: float, r: float, color) -> None:
    t = ring_thickness(r)
    cv2.circle(rgb, (_fx(cx), _fx(cy)), _fx(r), _shade(color, 0.3), t + 2, cv2.LINE_AA, _SHIFT)
    cv2.circle(rgb, (_fx(cx), _fx(cy)), _fx(r), color, t, cv2.LINE_AA, _SHIFT)


@lru_cache(maxsize=64)
def _halo(radius_px: int) -> np.ndarray:
    """float32 [2R+1, 2R+1] Gaussian halo (peak 1) for a glow of radius ``radius_px``."""
    big = 3 * radius_px
    y, x = np.mgrid[-big:big + 1, -big:big + 1].astype(np.float32)
    d2 = (x * x + y * y) / float(radius_px * radius_px)
    halo = np.exp(-0.5 * d2 / 0.8 ** 2).astype(np.float32)
    halo.setflags(write=False)
    return halo


def draw_glow(rgb: np.ndarray, cx: float, cy: float, r: float, color) -> None:
    """An additive Gaussian halo in the colour with a bright core (whitish centre)."""
    ri = max(2, int(round(r)))
    halo = _halo(ri)
    big = 3 * ri
    h, w = rgb.shape[:2]
    x0, y0 = int(round(cx)) - big, int(round(cy)) - big
    xa, ya, xb, yb = max(0, x0), max(0, y0), min(w, x0 + 2 * big + 1), min(h, y0 + 2 * big + 1)
    if xa >= xb or ya >= yb:
        return
    a = halo[ya - y0:yb - y0, xa - x0:xb - x0, None]
    roi = rgb[ya:yb, xa:xb]
    col = np.asarray(color, np.float32) * 1.1
    out = roi.astype(np.float32) + a * col
    core = np.clip((a - 0.6) / 0.4, 0.0, 1.0)
    out += core * (255.0 - out) * 0.6
    np.clip(out, 0, 255, out=out)
    roi[...] = out.astype(np.uint8)


_SOFT = 0.35  # width of the spotlight's soft edge, in ellipse radii


def spotlight_ellipse(box) -> tuple[float, float, float, float]:
    """(cx, cy, ax, ay): the lit ellipse around ``box`` (centre and half-axes); light falls
    off smoothly from the ellipse out to ``1 + 0.35`` times its radii."""
    x1, y1, x2, y2 = (float(v) for v in box)
    bw, bh = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    return (x1 + x2) / 2, (y1 + y2) / 2 - 0.04 * bh, 0.5 * bw * 1.25 + 0.06 * bh, 0.5 * bh * 1.12 + 0.02 * bh


def spotlight_light(xs: np.ndarray, ys: np.ndarray, box, dim: float) -> np.ndarray:
    """float32 [len(ys), len(xs)] brightness (dim .. 1) of the spotlight at pixel centres."""
    cx, cy, ax, ay = spotlight_ellipse(box)
    u = (np.asarray(xs, np.float32) - cx) / ax
    v = (np.asarray(ys, np.float32) - cy) / ay
    d = np.sqrt(v[:, None] ** 2 + u[None, :] ** 2)
    t = np.clip((1.0 + _SOFT - d) / _SOFT, 0.0, 1.0)
    return (dim + (1.0 - dim) * (t * t * (3 - 2 * t))).astype(np.float32)  # smoothstep


def draw_spotlight(rgb: np.ndarray, box, dim: float, factor: int = 8) -> None:
    """Darken the frame to ``dim`` except a soft ellipse around ``box``. The whole frame is
    scaled by ``dim`` (one OpenCV pass); only the ellipse's bounding region gets a per-pixel
    mask, computed at 1/``factor`` resolution and upscaled."""
    h, w = rgb.shape[:2]
    cx, cy, ax, ay = spotlight_ellipse(box)
    reach = 1.0 + _SOFT
    xa, xb = max(0, int(cx - ax * reach)), min(w, int(math.ceil(cx + ax * reach)) + 1)
    ya, yb = max(0, int(cy - ay * reach)), min(h, int(math.ceil(cy + ay * reach)) + 1)
    lit = None
    if xa < xb and ya < yb:
        rw, rh = xb - xa, yb - ya
        lw, lh = max(2, -(-rw // factor)), max(2, -(-rh // factor))
        xs = xa + (np.arange(lw, dtype=np.float32) + 0.5) * (rw / lw)
        ys = ya + (np.arange(lh, dtype=np.float32) + 0.5) * (rh / lh)
        low = (255.0 * spotlight_light(xs, ys, box, dim) + 0.5).astype(np.uint8)
        mask = cv2.resize(np.repeat(low[:, :, None], 3, axis=2), (rw, rh), interpolation=cv2.INTER_LINEAR)
        lit = cv2.multiply(rgb[ya:yb, xa:xb], mask, scale=1.0 / 255.0)
    cv2.convertScaleAbs(rgb, dst=rgb, alpha=float(dim))
    if lit is not None:
        rgb[ya:yb, xa:xb] = lit


def label_geometry(anchor: Anchor, style: OverlayStyle, frame_size: tuple[int, int], text: str):
    """(x1, y1, x2, y2, font_scale, thickness, baseline) of the label box above the head."""
    w, h = frame_size
    fs = float(np.clip(anchor.size * style.scale / 300.0, 0.35, max(0.35, h / 500.0)))
    th = max(1, int(round(fs * 2)))
    (tw, tht), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, fs, th)
    pad = max(3, int(round(tht * 0.35)))
    bw, bh = tw + 2 * pad, tht + base + 2 * pad
    gap = max(4, int(round(tht * 0.6)))
    x1 = int(round(anchor.x - bw / 2))
    y2 = int(round(anchor.y)) - gap
    x1 = min(max(x1, 0), max(0, w - bw))
    y1 = min(max(y2 - bh, 0), max(0, h - bh))
    return x1, y1, x1 + bw, y1 + bh, fs, th, base


def draw_label(rgb: np.ndarray, anchor: Anchor, style: OverlayStyle, text: str) -> None:
    h, w = rgb.shape[:2]
    x1, y1, x2, y2, fs, th, base = label_geometry(anchor, style, (w, h), text)
    color = style.color
    luminance = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]
    ink = (0, 0, 0) if luminance > 140 else (255, 255, 255)
    # pointer from the box down towards the head
    tip = int(round(anchor.y)) - 1
    if tip > y2 + 1:
        px = int(round(min(max(anchor.x, x1 + 4), x2 - 4)))
        s = max(3, (y2 - y1) // 4)
        pts = np.array([[px - s, y2 - 1], [px + s, y2 - 1], [px, min(tip, y2 + s)]], np.int32)
        cv2.fillConvexPoly(rgb, pts, color, cv2.LINE_AA)
    cv2.rectangle(rgb, (x1, y1), (x2 - 1, y2 - 1), color, -1)
    cv2.rectangle(rgb, (x1, y1), (x2 - 1, y2 - 1), _shade(color, 0.4), 1)
    pad = (x2 - x1 - cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, fs, th)[0][0]) // 2
    cv2.putText(rgb, text, (x1 + pad, y2 - base - max(2, pad // 2)), cv2.FONT_HERSHEY_SIMPLEX, fs, ink, th,
                cv2.LINE_AA)


def draw_indicator(rgb: np.ndarray, anchor: Anchor, style: OverlayStyle) -> None:
    """Draw ``style``'s indicator for ``anchor`` into ``rgb`` (RGB uint8, in place)."""
    h, w = rgb.shape[:2]
    if style.kind == "spotlight":
        draw_spotlight(rgb, anchor.box, style.dim)
    elif style.kind == "label":
        draw_label(rgb, anchor, style, style.name or "Tracked")
    else:
        cx, cy, r = marker_geometry(anchor, style, (w, h))
        {"dot": draw_dot, "ring": draw_ring, "glow": draw_glow}[style.kind](rgb, cx, cy, r, style.color)


def _smooth_runs(values: np.ndarray, valid: np.ndarray, sigma: float) -> np.ndarray:
    """Centred Gaussian smoothing of ``values`` [N, C] within each run of valid frames."""
    if sigma <= 0 or len(values) < 3:
        return values
    radius = max(1, int(math.ceil(3 * sigma)))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    out = values.copy()
    idx = np.flatnonzero(valid)
    if not len(idx):
        return out
    breaks = np.flatnonzero(np.diff(idx) > 1)
    for run in np.split(idx, breaks + 1):
        if len(run) < 3:
            continue
        a, b = run[0], run[-1] + 1
        n = b - a
        norm = np.convolve(np.ones(n), k, mode="full")[radius:radius + n]
        for c in range(values.shape[1]):
            out[a:b, c] = np.convolve(values[a:b, c], k, mode="full")[radius:radius + n] / norm
    return out


class TrackOverlay:
    """Draws a track's indicator on the frames of its video, at any output size.

    ``frame_size`` is the output (width, height); the track's boxes (in the track's
    own ``size``) are scaled to it. ``video_rate``: the frame rate of the frames
    passed to :meth:`draw` (their indices are source-video frame numbers); when it
    differs from the track's fps the track frame is picked by time.
    """

    def __init__(self, track, style: OverlayStyle, frame_size: tuple[int, int], video_rate: float | None = None):
        self.style = style
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        tw, th = track.size
        if tw <= 0 or th <= 0:
            raise LumaError(f"track {track.video or ''}: size {tw}x{th} is not a frame size")
        sx, sy = self.frame_size[0] / tw, self.frame_size[1] / th
        self._time_ratio = 1.0
        if video_rate and track.fps and abs(float(video_rate) - float(track.fps)) > 1e-3 * float(track.fps):
            self._time_ratio = float(track.fps) / float(video_rate)
        n = max((p.frame for p in track.frames), default=-1) + 1
        data = np.full((max(n, 0), 7), np.nan)  # x, y, size, box x1 y1 x2 y2
        for p in track.frames:
            if p.lost or p.bbox is None or p.frame < 0:
                continue
            x1, y1, x2, y2 = p.bbox
            if not (x2 > x1 and y2 > y1):
                continue
            kp = None
            if p.keypoints is not None:
                kp = np.asarray(p.keypoints, np.float64).reshape(-1, 3) * (sx, sy, 1.0)
            box = (x1 * sx, y1 * sy, x2 * sx, y2 * sy)
            hx, hy = head_top(box, kp)
            data[p.frame] = (hx, hy, box[3] - box[1], *box)
        valid = ~np.isnan(data[:, 0])
        self._data = _smooth_runs(data, valid, style.smooth)
        self._valid = valid

    def track_frame(self, frame: int) -> int:
        return int(round(frame * self._time_ratio)) if self._time_ratio != 1.0 else int(frame)

    def anchor(self, frame: int) -> Anchor | None:
        """The anchor on source frame ``frame``, or None (lost, or outside the track)."""
        i = self.track_frame(frame)
        if not 0 <= i < len(self._valid) or not self._valid[i]:
            return None
        x, y, size, *box = (float(v) for v in self._data[i])
        return Anchor(x, y, size, tuple(box))  # type: ignore[arg-type]

    def draw(self, rgb: np.ndarray, frame: int) -> bool:
        """Draw the indicator of source frame ``frame`` into ``rgb`` in place; False if none."""
        a = self.anchor(frame)
        if a is None:
            return False
        draw_indicator(rgb, a, self.style)
        return True
