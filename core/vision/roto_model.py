"""Roto shapes as data: closed cubic Bezier splines, animated, in one neutral convention.

Every rotoscoping module (shape fitting, the canvas editor, the exporters)
speaks this model; each exporter converts to its application's own
conventions at the edge.

Convention (Luma's, used everywhere inside the project):

* coordinates are **pixels of the source frame**, ``x`` to the right, ``y``
  **down**, origin at the **top-left corner** of the image — so the centre of
  pixel ``(row i, column j)`` is ``(j + 0.5, i + 0.5)`` and the whole image is
  the rectangle ``[0, W] x [0, H]``;
* a :class:`Spline` is closed: ``N`` vertices, each with an incoming and an
  outgoing tangent handle given as **offsets from the vertex** (like After
  Effects' ``inTangents``/``outTangents``). Segment ``i`` runs from vertex
  ``i`` to vertex ``(i + 1) % N`` with control points
  ``v[i], v[i] + out[i], v[i+1] + in[i+1], v[i+1]``;
* frames are **source frame indices** of the media (0 = first frame);
  exporters map them to each application's frame numbers;
* a :class:`SplineTrack` animates one spline: the same number of vertices at
  every keyed frame, vertex ``k`` of one key corresponding to vertex ``k`` of
  the next (so an application interpolating between keys moves each point
  along), with an inner and outer feather in pixels and a mode (``add`` fills
  the shape, ``subtract`` cuts a hole);
* a :class:`RotoAnimation` is one roto object: its tracks, the frame size and
  the frame rate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable

import numpy as np

from core.vision.types import VisionError

__all__ = ["Spline", "SplineTrack", "RotoAnimation", "rasterize_splines", "fill_polygon", "frame_time", "SCHEMA_ID"]

SCHEMA_ID = "https://luma.studio/schemas/roto-shapes-1.json"


def _as_points(a, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise VisionError(f"spline {name}: expected an (N, 2) array of points, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise VisionError(f"spline {name}: points must be finite numbers")
    return arr


@dataclass(frozen=True)
class Spline:
    """One closed cubic Bezier spline (see the module docstring for the convention)."""

    vertices: np.ndarray  # (N, 2) float64, pixels
    in_tangents: np.ndarray  # (N, 2) offsets from the vertex
    out_tangents: np.ndarray  # (N, 2) offsets from the vertex

    def __post_init__(self):
        v = _as_points(self.vertices, "vertices")
        i = _as_points(self.in_tangents, "in_tangents")
        o = _as_points(self.out_tangents, "out_tangents")
        if not (len(v) == len(i) == len(o)):
            raise VisionError("spline: vertices and tangents must have the same length")
        if len(v) < 3:
            raise VisionError(f"spline: a closed shape needs at least 3 points, got {len(v)}")
        object.__setattr__(self, "vertices", v)
        object.__setattr__(self, "in_tangents", i)
        object.__setattr__(self, "out_tangents", o)

    @classmethod
    def polygon(cls, points) -> "Spline":
        """A spline whose segments are straight lines (zero-length handles)."""
        v = _as_points(points, "vertices")
        return cls(v, np.zeros_like(v), np.zeros_like(v))

    def __len__(self) -> int:
        return len(self.vertices)

    def controls(self) -> np.ndarray:
        """(N, 4, 2): the four control points of each segment."""
        v = self.vertices
        nxt = np.roll(v, -1, axis=0)
        return np.stack([v, v + self.out_tangents, nxt + np.roll(self.in_tangents, -1, axis=0), nxt], axis=1)

    def sample(self, steps: int = 16) -> np.ndarray:
        """(N * steps, 2) points along the closed curve (each segment evaluated at t = 0, 1/steps, ...)."""
        c = self.controls()
        t = np.arange(steps, dtype=np.float64) / steps
        b = np.stack([(1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3], axis=1)  # (steps, 4)
        pts = np.einsum("sk,nkd->nsd", b, c)
        return pts.reshape(-1, 2)

    def rasterize(self, width: int, height: int, steps: int = 16) -> np.ndarray:
        """uint8 (H, W) mask, 255 inside (pixel centres tested against the curve)."""
        return rasterize_splines([self], width, height, steps=steps)

    def translated(self, dx: float, dy: float) -> "Spline":
        return Spline(self.vertices + (dx, dy), self.in_tangents.copy(), self.out_tangents.copy())

    def to_dict(self) -> dict:
        return {"vertices": np.round(self.vertices, 4).tolist(),
                "in_tangents": np.round(self.in_tangents, 4).tolist(),
                "out_tangents": np.round(self.out_tangents, 4).tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "Spline":
        try:
            return cls(d["vertices"], d["in_tangents"], d["out_tangents"])
        except (KeyError, TypeError) as exc:
            raise VisionError(f"spline: malformed shape data ({exc})") from None


def fill_polygon(mask: np.ndarray, polygon: np.ndarray, value: int = 255) -> np.ndarray:
    """Set ``mask`` to ``value`` at every pixel whose centre lies inside ``polygon`` (even-odd rule), in place.

    Exact scanline fill in Luma's convention (pixel centres at +0.5), vectorised
    over edges: cv2.fillPoly rounds both span ends and so grows every shape by
    about half a pixel, which is several per cent of a small object's area.
    """
    h, w = mask.shape[:2]
    p = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
    if len(p) < 3 or h == 0 or w == 0:
        return mask
    x0, y0 = p[:, 0], p[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    lo, hi = np.minimum(y0, y1), np.maximum(y0, y1)
    # rows r whose centre r + 0.5 lies in [lo, hi): half-open, so a vertex is counted once
    r0 = np.clip(np.ceil(lo - 0.5), 0, h).astype(np.int64)
    r1 = np.clip(np.ceil(hi - 0.5), 0, h).astype(np.int64)
    counts = np.maximum(r1 - r0, 0)
    total = int(counts.sum())
    if total == 0:
        return mask
    edge = np.repeat(np.arange(len(p)), counts)
    rows = r0[edge] + (np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts))
    yc = rows + 0.5
    xs = x0[edge] + (yc - y0[edge]) * (x1[edge] - x0[edge]) / (y1[edge] - y0[edge])
    order = np.lexsort((xs, rows))
    rows, xs = rows[order], xs[order]
    # consecutive crossings on a row pair up (even-odd): [x_a, x_b) is inside
    rows_a, xa, xb = rows[0::2], xs[0::2], xs[1::2]
    c0 = np.clip(np.ceil(xa - 0.5), 0, w).astype(np.int64)
    c1 = np.clip(np.ceil(xb - 0.5), 0, w).astype(np.int64)
    keep = c1 > c0
    diff = np.zeros((h, w + 1), np.int32)
    np.add.at(diff, (rows_a[keep], c0[keep]), 1)
    np.add.at(diff, (rows_a[keep], c1[keep]), -1)
    inside = np.cumsum(diff[:, :w], axis=1) > 0
    mask[inside] = value
    return mask


def rasterize_splines(splines: Iterable[Spline], width: int, height: int, steps: int = 16,
                      modes: Iterable[str] | None = None) -> np.ndarray:
    """Fill splines into one uint8 (H, W) mask (255 inside); ``subtract`` splines cut holes, in order."""
    mask = np.zeros((int(height), int(width)), np.uint8)
    splines = list(splines)
    modes = list(modes) if modes is not None else ["add"] * len(splines)
    for spline, mode in zip(splines, modes):
        fill_polygon(mask, spline.sample(steps), 0 if mode == "subtract" else 255)
    return mask


@dataclass
class SplineTrack:
    """One spline animated over keyed frames (same vertex count and correspondence at every key)."""

    name: str
    frames: np.ndarray  # (K,) int64, increasing source frame indices
    vertices: np.ndarray  # (K, N, 2)
    in_tangents: np.ndarray  # (K, N, 2)
    out_tangents: np.ndarray  # (K, N, 2)
    feather_inner: float = 0.0  # pixels the soft edge reaches inside the shape
    feather_outer: float = 0.0  # pixels it reaches outside
    mode: str = "add"  # "add" | "subtract"

    def __post_init__(self):
        self.frames = np.asarray(self.frames, dtype=np.int64).reshape(-1)
        self.vertices = np.asarray(self.vertices, dtype=np.float64)
        self.in_tangents = np.asarray(self.in_tangents, dtype=np.float64)
        self.out_tangents = np.asarray(self.out_tangents, dtype=np.float64)
        k = len(self.frames)
        for name in ("vertices", "in_tangents", "out_tangents"):
            a = getattr(self, name)
            if a.ndim != 3 or a.shape[0] != k or a.shape[2] != 2:
                raise VisionError(f"track {self.name!r}: {name} must be (frames, points, 2), got {a.shape}")
        if not (self.vertices.shape == self.in_tangents.shape == self.out_tangents.shape):
            raise VisionError(f"track {self.name!r}: every key needs the same number of points")
        if k == 0:
            raise VisionError(f"track {self.name!r}: no keyed frames")
        if self.vertices.shape[1] < 3:
            raise VisionError(f"track {self.name!r}: a closed shape needs at least 3 points")
        if np.any(np.diff(self.frames) <= 0):
            raise VisionError(f"track {self.name!r}: frames must increase")
        if self.mode not in ("add", "subtract"):
            raise VisionError(f"track {self.name!r}: mode must be 'add' or 'subtract', not {self.mode!r}")
        if self.feather_inner < 0 or self.feather_outer < 0:
            raise VisionError(f"track {self.name!r}: feather must not be negative")

    @classmethod
    def from_splines(cls, name: str, frames, splines: list[Spline], **kw) -> "SplineTrack":
        if not splines:
            raise VisionError(f"track {name!r}: no shapes")
        counts = {len(s) for s in splines}
        if len(counts) != 1:
            raise VisionError(f"track {name!r}: shapes have different point counts {sorted(counts)}")
        return cls(name, np.asarray(frames), np.stack([s.vertices for s in splines]),
                   np.stack([s.in_tangents for s in splines]), np.stack([s.out_tangents for s in splines]), **kw)

    @property
    def point_count(self) -> int:
        return int(self.vertices.shape[1])

    def key(self, i: int) -> Spline:
        return Spline(self.vertices[i], self.in_tangents[i], self.out_tangents[i])

    def at(self, frame: float) -> Spline:
        """The shape at ``frame``: the key itself, linear between keys, held before the first / after the last."""
        f = self.frames
        if frame <= f[0]:
            return self.key(0)
        if frame >= f[-1]:
            return self.key(len(f) - 1)
        j = int(np.searchsorted(f, frame, side="right"))
        a, b = j - 1, j
        t = (frame - f[a]) / (f[b] - f[a])
        lerp = lambda arr: arr[a] * (1 - t) + arr[b] * t  # noqa: E731
        return Spline(lerp(self.vertices), lerp(self.in_tangents), lerp(self.out_tangents))

    def to_dict(self) -> dict:
        return {
            "name": self.name, "mode": self.mode,
            "feather": {"inner": float(self.feather_inner), "outer": float(self.feather_outer)},
            "point_count": self.point_count,
            "keys": [{"frame": int(fr), **self.key(i).to_dict()} for i, fr in enumerate(self.frames)],
        }

    @classmethod
    def from_dict(cls, d: dict) -> "SplineTrack":
        try:
            keys = d["keys"]
            splines = [Spline.from_dict(k) for k in keys]
            feather = d.get("feather", {})
            return cls.from_splines(str(d["name"]), [int(k["frame"]) for k in keys], splines,
                                    feather_inner=float(feather.get("inner", 0.0)),
                                    feather_outer=float(feather.get("outer", 0.0)), mode=d.get("mode", "add"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise VisionError(f"roto track: malformed data ({exc})") from None


@dataclass
class RotoAnimation:
    """One roto object's animated shapes on a ``width`` x ``height`` source at ``rate`` frames per second."""

    name: str
    width: int
    height: int
    rate: Fraction
    tracks: list[SplineTrack] = field(default_factory=list)
    source: str = ""  # the media file name, for the reader's information

    def __post_init__(self):
        self.rate = Fraction(self.rate).limit_denominator(1001000) if not isinstance(self.rate, Fraction) else self.rate
        if self.width <= 0 or self.height <= 0:
            raise VisionError(f"roto {self.name!r}: frame size must be positive, got {self.width}x{self.height}")
        if self.rate <= 0:
            raise VisionError(f"roto {self.name!r}: frame rate must be positive")

    @property
    def fps(self) -> float:
        return float(self.rate)

    def frames(self) -> np.ndarray:
        """Every keyed frame of every track, sorted, unique."""
        if not self.tracks:
            return np.zeros(0, np.int64)
        return np.unique(np.concatenate([t.frames for t in self.tracks]))

    def frame_range(self) -> tuple[int, int]:
        fr = self.frames()
        if len(fr) == 0:
            raise VisionError(f"roto {self.name!r}: no shapes to export")
        return int(fr[0]), int(fr[-1])

    def rasterize(self, frame: int, steps: int = 16) -> np.ndarray:
        """uint8 (H, W) hard matte of all tracks at ``frame`` (feather ignored)."""
        return rasterize_splines([t.at(frame) for t in self.tracks], self.width, self.height, steps=steps,
                                 modes=[t.mode for t in self.tracks])

    def to_dict(self) -> dict:
        return {
            "$schema": SCHEMA_ID, "format": "luma-roto", "version": 1,
            "name": self.name, "source": self.source,
            "width": int(self.width), "height": int(self.height),
            "fps": {"num": self.rate.numerator, "den": self.rate.denominator},
            "coordinates": {"units": "pixels", "origin": "top-left", "y": "down", "pixel_centre": 0.5,
                            "tangents": "relative", "frames": "source frame index, 0-based"},
            "tracks": [t.to_dict() for t in self.tracks],
        }

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    @classmethod
    def from_dict(cls, d: dict) -> "RotoAnimation":
        try:
            if d.get("format") != "luma-roto":
                raise VisionError("not a Luma roto shapes file (format is not 'luma-roto')")
            if int(d.get("version", 0)) > 1:
                raise VisionError(f"roto shapes version {d['version']} is newer than this Luma Studio understands")
            fps = d["fps"]
            return cls(str(d["name"]), int(d["width"]), int(d["height"]), Fraction(int(fps["num"]), int(fps["den"])),
                       [SplineTrack.from_dict(t) for t in d["tracks"]], source=str(d.get("source", "")))
        except (KeyError, TypeError, ValueError, ZeroDivisionError, AttributeError) as exc:
            raise VisionError(f"roto shapes: malformed data ({exc})") from None

    @classmethod
    def from_json(cls, text: str) -> "RotoAnimation":
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as exc:
            raise VisionError(f"roto shapes: not valid JSON ({exc})") from None


def frame_time(frame: int, rate: Fraction) -> float:
    """Seconds at the start of ``frame`` (exact rational, returned as float for file formats)."""
    return float(Fraction(int(frame)) / rate)
