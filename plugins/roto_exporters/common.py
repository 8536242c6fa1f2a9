"""Helpers every roto shape exporter needs: output paths, atomic writes, frame mapping, axes, numbers, normals.

Each exporter in this package converts a :class:`~core.vision.roto_model.RotoAnimation`
(Luma's convention: pixels, origin top-left, ``y`` down, tangents as offsets
from their vertex, 0-based source frames) into one application's conventions.
What they have in common lives here so that every format does it the same way:

* :func:`check_animation` — refuse an animation without tracks with a message
  the user can act on;
* :func:`output_path` — the file to write: ``path`` itself, ``path`` with the
  format's extension added when it has none, or ``<name><ext>`` inside
  ``path`` when ``path`` is an existing folder;
* :func:`write_text_atomic` / :func:`write_bytes_atomic` — write
  ``<file>.part`` next to the target and ``os.replace`` it over the target, so
  a reader never sees half a file and a failed export leaves the previous
  file intact; every ``OSError`` becomes a :class:`~core.vision.types.VisionError`;
* :func:`resolve_first_frame` / :func:`map_frames` — source frame ``f`` becomes
  application frame ``f + first_frame``;
* :func:`flip_y` / :func:`flip_y_offsets` — Luma's ``y``-down pixels to a
  ``y``-up system with its origin at the bottom-left (Nuke, Fusion's pixel
  space, Blender's mask space before normalising) and back (the flip is its own
  inverse);
* :func:`fmt_num` — a decimal number without exponent, trailing zeros or
  ``-0`` (what text formats and ExtendScript accept everywhere);
* :func:`safe_identifier` / :func:`unique_names` — names an application takes
  as node/shape identifiers;
* :func:`outward_normals` — unit normals pointing out of a closed spline at
  each vertex (feather offsets).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Iterable

import numpy as np

from core.vision.roto_model import RotoAnimation
from core.vision.types import VisionError

__all__ = ["check_animation", "output_path", "write_text_atomic", "write_bytes_atomic", "resolve_first_frame",
           "map_frames", "flip_y", "flip_y_offsets", "fmt_num", "safe_identifier", "unique_names",
           "outward_normals", "signed_area"]


def check_animation(animation: RotoAnimation, fmt: str) -> None:
    """Raise :class:`VisionError` unless ``animation`` has at least one track."""
    if not isinstance(animation, RotoAnimation):
        raise VisionError(f"{fmt} export: expected a RotoAnimation, got {type(animation).__name__}")
    if not animation.tracks:
        raise VisionError(f"{animation.name}: the object has no shapes to export (segment and propagate it first)")


def output_path(path, extension: str, name: str = "roto") -> Path:
    """The file to write for ``path`` (see the module docstring); ``extension`` includes its dot."""
    p = Path(path).expanduser()
    if p.is_dir():
        return p / f"{safe_identifier(name, fallback='roto')}{extension}"
    if not p.suffix:
        return p.with_name(p.name + extension)
    return p


def write_bytes_atomic(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through ``path.part`` + ``os.replace``; create missing parent folders."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VisionError(f"cannot create the folder {path.parent}: {exc.strerror or exc}") from None
    if path.is_dir():
        raise VisionError(f"cannot write {path}: it is a folder")
    part = path.with_name(path.name + ".part")
    try:
        with open(part, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(part, path)
    except OSError as exc:
        try:
            part.unlink()
        except OSError:
            pass  # nothing was created, or the folder is not writable: the error below says why
        raise VisionError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def write_text_atomic(path, text: str, encoding: str = "utf-8") -> Path:
    """:func:`write_bytes_atomic` for text (``\\n`` line ends on every platform)."""
    return write_bytes_atomic(path, text.encode(encoding))


def resolve_first_frame(first_frame: int | None, default: int) -> int:
    """``first_frame`` as an int, or the exporter's documented ``default`` when it is None."""
    if first_frame is None:
        return int(default)
    try:
        value = int(first_frame)
    except (TypeError, ValueError):
        raise VisionError(f"first frame must be a whole number, not {first_frame!r}") from None
    if value != first_frame:
        raise VisionError(f"first frame must be a whole number, not {first_frame!r}")
    return value


def map_frames(frames, first_frame: int) -> np.ndarray:
    """Source frames (0-based) -> application frame numbers (``frame + first_frame``), int64."""
    return np.asarray(frames, dtype=np.int64) + int(first_frame)


def flip_y(points, height: float) -> np.ndarray:
    """Absolute points between ``y``-down/top-left and ``y``-up/bottom-left pixels: ``(x, height - y)``."""
    p = np.array(points, dtype=np.float64, copy=True)
    p[..., 1] = float(height) - p[..., 1]
    return p


def flip_y_offsets(offsets) -> np.ndarray:
    """Relative vectors (tangents, feather offsets) under the same flip: ``(dx, -dy)``."""
    p = np.array(offsets, dtype=np.float64, copy=True)
    p[..., 1] = -p[..., 1]
    return p


def fmt_num(value: float, decimals: int = 4) -> str:
    """``value`` rounded to ``decimals`` places, as short plain decimal text (``"12.5"``, ``"0"``, ``"-3.25"``)."""
    v = float(value)
    if not math.isfinite(v):
        raise VisionError(f"cannot write the number {v!r}: shapes must be finite")
    text = f"{v:.{int(decimals)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text


_IDENT_BAD = re.compile(r"[^A-Za-z0-9_]+")


def safe_identifier(name: str, fallback: str = "shape") -> str:
    """``name`` reduced to ``[A-Za-z0-9_]``, starting with a letter or ``_`` (``fallback`` when nothing is left)."""
    text = _IDENT_BAD.sub("_", str(name)).strip("_")
    if not text:
        text = fallback
    if text[0].isdigit():
        text = "_" + text
    return text


def unique_names(names: Iterable[str], fallback: str = "shape") -> list[str]:
    """:func:`safe_identifier` of each name, with ``_2``, ``_3``... appended to repeats (case-insensitive)."""
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        base = safe_identifier(name, fallback)
        candidate, n = base, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{base}_{n}"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def signed_area(vertices) -> float:
    """Shoelace area of the vertex polygon in the points' own axes (sign = winding)."""
    v = np.asarray(vertices, dtype=np.float64)
    x, y = v[:, 0], v[:, 1]
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def outward_normals(vertices, in_tangents, out_tangents) -> np.ndarray:
    """(N, 2) unit vectors pointing out of the closed spline at each vertex (same axes as the input).

    The direction of travel at a vertex is ``out - in`` (its handles), or the
    chord ``next - prev`` where both handles are zero-length; the normal is
    that direction turned a quarter towards the outside, which the winding
    (sign of the polygon's area) decides. Degenerate vertices get (0, 0).
    """
    v = np.asarray(vertices, dtype=np.float64)
    tin = np.asarray(in_tangents, dtype=np.float64)
    tout = np.asarray(out_tangents, dtype=np.float64)
    d = tout - tin
    chord = np.roll(v, -1, axis=0) - np.roll(v, 1, axis=0)
    small = np.hypot(d[:, 0], d[:, 1]) < 1e-9
    d[small] = chord[small]
    length = np.hypot(d[:, 0], d[:, 1])
    n = np.stack([d[:, 1], -d[:, 0]], axis=1)
    if signed_area(v) < 0:
        n = -n
    with np.errstate(invalid="ignore", divide="ignore"):
        n = np.where(length[:, None] > 1e-12, n / length[:, None], 0.0)
    return n
