"""Segmentation: a prompt (box and/or +/- points) on one frame -> a matte of that frame.

Backends implement :class:`Segmenter` and register under kind
``"segmenter"`` in :data:`core.plugins.registry`:

* ``classic`` (core, :mod:`core.vision.segment_classic`): grabCut on a crop
  around the prompt at reduced scale, edges refined with a guided filter at
  full resolution; needs no weights and is always available;
* ``person`` (core, :mod:`core.vision.segment_person`): the pose model's box
  and keypoints seed the classic backend (available when a pose model is);
* ``sam`` (the ultralytics plugin): SAM / MobileSAM / SAM 2 checkpoints the
  user added to the model manager; nothing is downloaded.

A matte is ``uint8 [H, W]`` of the frame's size, 0 outside, 255 inside, soft
values on the refined edge; :func:`binary` thresholds it at 128.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from core.plugins import registry
from core.vision.types import VisionError

__all__ = ["Prompt", "Segmenter", "create_segmenter", "segmenter_names", "binary", "parse_points"]


@dataclass(frozen=True)
class Prompt:
    """What the user pointed at: a box ``(x1, y1, x2, y2)`` and/or points ``(x, y, positive)`` in frame pixels."""

    box: tuple[float, float, float, float] | None = None
    points: tuple[tuple[float, float, bool], ...] = field(default_factory=tuple)

    def __post_init__(self):
        if self.box is not None:
            x1, y1, x2, y2 = (float(v) for v in self.box)
            if not (x2 > x1 and y2 > y1):
                raise VisionError(f"prompt box {self.box} is empty: x2 must exceed x1 and y2 exceed y1")
            object.__setattr__(self, "box", (x1, y1, x2, y2))
        pts = tuple((float(x), float(y), bool(pos)) for x, y, pos in self.points)
        object.__setattr__(self, "points", pts)
        if self.box is None and not any(p[2] for p in pts):
            raise VisionError("a prompt needs a box or at least one positive (+) point")

    @property
    def positive(self) -> np.ndarray:
        return np.array([(x, y) for x, y, p in self.points if p], np.float64).reshape(-1, 2)

    @property
    def negative(self) -> np.ndarray:
        return np.array([(x, y) for x, y, p in self.points if not p], np.float64).reshape(-1, 2)

    def region(self, width: int, height: int, margin: float = 0.0) -> tuple[int, int, int, int]:
        """Integer (x1, y1, x2, y2) around the box and the positive points, grown by ``margin`` of its size, clipped."""
        parts = []
        if self.box is not None:
            parts.append(np.array([[self.box[0], self.box[1]], [self.box[2], self.box[3]]]))
        if len(self.positive):
            parts.append(self.positive)
        pts = np.concatenate(parts)
        x1, y1 = pts.min(axis=0)
        x2, y2 = pts.max(axis=0)
        mw, mh = (x2 - x1) * margin, (y2 - y1) * margin
        x1, y1 = max(0, int(np.floor(x1 - mw))), max(0, int(np.floor(y1 - mh)))
        x2, y2 = min(int(width), int(np.ceil(x2 + mw))), min(int(height), int(np.ceil(y2 + mh)))
        if x2 <= x1 or y2 <= y1:
            raise VisionError(f"the prompt lies outside the {width}x{height} frame")
        return x1, y1, x2, y2

    def to_dict(self) -> dict:
        return {"box": list(self.box) if self.box is not None else None,
                "points": [[x, y, 1 if p else 0] for x, y, p in self.points]}

    @classmethod
    def from_dict(cls, d: dict) -> "Prompt":
        try:
            return cls(tuple(d["box"]) if d.get("box") is not None else None,
                       tuple((x, y, bool(p)) for x, y, p in d.get("points", [])))
        except (TypeError, ValueError, KeyError) as exc:
            raise VisionError(f"malformed prompt ({exc})") from None


@runtime_checkable
class Segmenter(Protocol):
    name: str

    def segment(self, rgb: np.ndarray, prompt: Prompt, key: object | None = None) -> np.ndarray:
        """uint8 [H, W] matte of ``rgb`` for ``prompt``; ``key`` (e.g. the frame index) lets a backend
        reuse per-image work (SAM's image embedding) when the same frame is prompted again."""
        ...


def create_segmenter(name: str = "classic", **params) -> Segmenter:
    """A segmentation backend by registry name (``classic``, ``person``, ``sam``, or a plugin's)."""
    _ensure_core_backends()
    return registry.create("segmenter", name, **params)


def segmenter_names() -> list[tuple[str, str, str | None]]:
    """(name, title, why it is unavailable or None) for every registered segmenter."""
    _ensure_core_backends()
    return [(e.name, e.title, e.available()) for e in registry.entries("segmenter")]


def binary(matte: np.ndarray) -> np.ndarray:
    """bool [H, W]: the matte thresholded at half."""
    return np.asarray(matte) >= 128


def parse_points(values: Sequence[str]) -> tuple[tuple[float, float, bool], ...]:
    """``["X,Y,+", "X,Y,-"]`` (the CLI's --points) -> point prompts."""
    out = []
    for v in values:
        parts = [p.strip() for p in str(v).split(",")]
        if len(parts) != 3 or parts[2] not in ("+", "-", "1", "0"):
            raise VisionError(f"point {v!r}: expected X,Y,+ or X,Y,- (e.g. 120,80,+)")
        try:
            x, y = float(parts[0]), float(parts[1])
        except ValueError:
            raise VisionError(f"point {v!r}: X and Y must be numbers") from None
        out.append((x, y, parts[2] in ("+", "1")))
    return tuple(out)


_core_loaded = False


def _ensure_core_backends() -> None:
    """Import the core backends so they register (they import this module, hence the late import)."""
    global _core_loaded
    if _core_loaded:
        return
    _core_loaded = True
    import core.vision.segment_classic  # noqa: F401  (registers "classic")
    try:
        import core.vision.segment_person  # noqa: F401  (registers "person")
    except ModuleNotFoundError as exc:
        if exc.name != "core.vision.segment_person":
            raise
