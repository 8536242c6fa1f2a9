"""What detection and tracking produce, and the protocols their backends implement.

Pixels are RGB uint8 ``[H, W, 3]`` numpy arrays (convert to BGR only at the
OpenCV call). Boxes are ``[x1, y1, x2, y2]`` in pixels of the frame given,
floats, x2/y2 exclusive.

* :class:`Detections` — the boxes found on one frame, as arrays (vectorised
  filtering), with optional keypoints ``[N, K, 3]`` (x, y, confidence; COCO
  order for the pose model: 0 nose, 1-2 eyes, 3-4 ears, 5-6 shoulders ...).
* :class:`Detector` — ``detect(rgb) -> Detections``; backends register under
  kind ``"detector"`` in :data:`core.plugins.registry`.
* :class:`SingleTracker` — follows one box from ``init(rgb, box)`` with
  ``update(rgb) -> (box | None, confidence)``; kind ``"tracker"``.
* :class:`MultiTracker` — gives stable ids to the detections of each frame:
  ``update(detections, rgb) -> TrackedBoxes``; kind ``"multitracker"``.
* :class:`TrackPoint` / :class:`TrackResult` — one subject through a clip, and
  the ``TRACK.json`` file format ``luma track`` writes::

    {"video": "clip.mp4", "fps": 25.0, "size": [768, 576], "tracker": "csrt",
     "frames": [{"frame": 0, "bbox": [x1, y1, x2, y2], "confidence": 1.0, "lost": false}, ...]}

  one entry per frame of the tracked range; a lost frame keeps the last known
  box (or null when there never was one) with ``"lost": true``.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from core.errors import LumaError


class VisionError(LumaError):
    """Detection or tracking cannot run (no model, bad box, unreadable track file)."""


def check_frame(rgb) -> np.ndarray:
    """The frame as a contiguous uint8 [H, W, 3] array, or VisionError saying what is wrong with it."""
    if not isinstance(rgb, np.ndarray):
        raise VisionError(f"expected an RGB image array, got {type(rgb).__name__}")
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.shape[0] < 2 or rgb.shape[1] < 2:
        raise VisionError(f"expected an RGB image [H, W, 3], got an array of shape {rgb.shape}")
    if rgb.dtype != np.uint8:
        raise VisionError(f"expected a uint8 RGB image, got {rgb.dtype}")
    return np.ascontiguousarray(rgb)


@dataclass
class Detections:
    boxes: np.ndarray  # float32 [N, 4] x1 y1 x2 y2
    scores: np.ndarray  # float32 [N]
    classes: np.ndarray  # int32 [N]
    keypoints: np.ndarray | None = None  # float32 [N, K, 3] or None
    names: dict[int, str] = field(default_factory=dict)  # class id -> name

    @classmethod
    def empty(cls, names: dict[int, str] | None = None) -> "Detections":
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int32), None,
                   dict(names or {}))

    def __len__(self) -> int:
        return len(self.boxes)

    def select(self, mask: np.ndarray) -> "Detections":
        kp = None if self.keypoints is None else self.keypoints[mask]
        return Detections(self.boxes[mask], self.scores[mask], self.classes[mask], kp, self.names)

    def rows(self) -> list[list[float]]:
        """``[x1, y1, x2, y2, confidence, class]`` per box (what ``luma detect`` prints)."""
        return [[round(float(v), 2) for v in b] + [round(float(s), 4), int(c)]
                for b, s, c in zip(self.boxes, self.scores, self.classes)]


@runtime_checkable
class Detector(Protocol):
    name: str
    names: dict[int, str]

    def detect(self, rgb: np.ndarray, classes: list[int] | None = None, conf: float = 0.25) -> Detections: ...


@runtime_checkable
class SingleTracker(Protocol):
    name: str

    def init(self, rgb: np.ndarray, box: np.ndarray) -> None: ...

    def update(self, rgb: np.ndarray) -> tuple[np.ndarray | None, float]: ...


@dataclass
class TrackedBoxes:
    boxes: np.ndarray  # float32 [M, 4]
    ids: np.ndarray  # int64 [M]
    scores: np.ndarray  # float32 [M]
    classes: np.ndarray  # int32 [M]
    det_index: np.ndarray  # int64 [M]: the detection each track was matched to this frame


@runtime_checkable
class MultiTracker(Protocol):
    name: str

    def update(self, detections: Detections, rgb: np.ndarray) -> TrackedBoxes: ...


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in ``a`` [N, 4] with every box in ``b`` [M, 4] -> [N, M]."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def xywh_to_xyxy(x: float, y: float, w: float, h: float) -> np.ndarray:
    if w <= 0 or h <= 0:
        raise VisionError(f"a box needs a positive width and height, got {w} x {h}")
    return np.array([x, y, x + w, y + h], dtype=np.float32)


@dataclass
class TrackPoint:
    frame: int
    bbox: tuple[float, float, float, float] | None
    confidence: float
    lost: bool
    keypoints: list[list[float]] | None = None  # [[x, y, conf], ...] when the pose model saw the subject

    def to_dict(self) -> dict:
        d = {"frame": self.frame, "bbox": None if self.bbox is None else [round(float(v), 2) for v in self.bbox],
             "confidence": round(float(self.confidence), 4), "lost": bool(self.lost)}
        if self.keypoints is not None:
            d["keypoints"] = [[round(float(v), 2) for v in kp] for kp in self.keypoints]
        return d


@dataclass
class TrackResult:
    video: str
    fps: float
    size: tuple[int, int]
    tracker: str
    frames: list[TrackPoint]

    def to_dict(self) -> dict:
        return {"video": self.video, "fps": self.fps, "size": list(self.size), "tracker": self.tracker,
                "frames": [p.to_dict() for p in self.frames]}

    def save(self, path: str | os.PathLike) -> None:
        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(json.dumps(self.to_dict(), indent=1), encoding="utf-8")
        os.replace(tmp, path)

    def boxes(self) -> np.ndarray:
        """float32 [frames, 4] (NaN where there is no box), in frame order."""
        out = np.full((len(self.frames), 4), np.nan, np.float32)
        for i, p in enumerate(self.frames):
            if p.bbox is not None:
                out[i] = p.bbox
        return out

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TrackResult":
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise VisionError(f"{path}: no such track file") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise VisionError(f"{path.name}: not a track file ({exc})") from None
        try:
            frames = []
            for f in data["frames"]:
                box = f.get("bbox")
                if box is not None:
                    box = tuple(float(v) for v in box)
                    if len(box) != 4 or not all(math.isfinite(v) for v in box):
                        raise ValueError(f"frame {f.get('frame')}: bbox must be 4 numbers")
                frames.append(TrackPoint(int(f["frame"]), box, float(f.get("confidence", 0.0)),
                                         bool(f.get("lost", box is None)), f.get("keypoints")))
            w, h = data["size"]
            return cls(str(data.get("video", "")), float(data["fps"]), (int(w), int(h)),
                       str(data.get("tracker", "")), frames)
        except (KeyError, TypeError, ValueError) as exc:
            raise VisionError(f"{path.name}: not a track file ({exc})") from None
