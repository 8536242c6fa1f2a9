"""OpenCV's HOG + linear SVM people detector: the detector that needs no weights and no torch.

It finds upright, roughly whole people (class 0 ``person``); no keypoints.
Registered in core as detector ``"hog"`` (see :mod:`core.vision.detect`).

How a frame is searched:

* **working scale**: the default people detector slides a 64x128 window in
  which the training people (INRIA) are about 96 px tall. People shorter
  than ``min_height`` pixels are not looked for; the frame is resized by
  ``96 / min_height`` so that the smallest wanted person fills the window
  (``min_height`` defaults to 1/8 of the frame height: 72 px at 576p, which
  *upscales* SD footage; 1080p and 4K frames are *downscaled*, which is where
  the speed comes from). The upscale is at most 2x and the working image is
  capped at ``max_side`` pixels on its long side;
* **pyramid**: ``detectMultiScale`` with a coarse scale step (1.1) and a
  window stride of 8 px; overlapping raw windows are grouped by OpenCV
  (``group_threshold=1``: a person must be hit by at least two windows,
  which removes most isolated false positives);
* **boxes**: a window is larger than the person in it, so each box is
  trimmed to the central :data:`PERSON_FRACTION` of its width and height
  (32 x 96 px of the 64 x 128 window);
* **scores**: the SVM margin ``w >= 0`` of the grouped window (distance to the
  decision plane) is mapped monotonically onto 0..1 with ``1 - exp(-w)``:
  0 at the decision boundary, 0.5 at w = ln 2 = 0.69, 0.9 at w = 2.3.
  On real footage true people score about 0.6-0.98, clutter up to ~0.6, so
  ``conf=0.25`` (the detector default) keeps nearly every hit and ``0.5`` is a
  cleaner setting;
* **NMS**: ``cv2.dnn.NMSBoxes`` (IoU > ``iou``) and then containment: a box
  that mostly contains (intersection over its own area > 0.7 of the smaller
  box) a higher-scoring one is dropped, which removes the big "two people and
  a lamp post" windows IoU alone lets through.

HOG uses the gradient magnitude of the strongest colour channel, so the
channel order does not matter and the RGB frame is used as it is.
"""

from __future__ import annotations

import numpy as np

from core.vision.types import Detections, VisionError

PERSON_FRACTION = (0.5, 0.75)  # person / window, width and height
MAX_UPSCALE = 2.0
_WINDOW_PERSON_HEIGHT = 96.0
NAMES = {0: "person"}


def hog_available() -> str | None:
    try:
        import cv2
    except ImportError:
        return "OpenCV (opencv-contrib-python-headless) is not installed"
    if not hasattr(cv2, "HOGDescriptor"):
        return "this OpenCV build has no HOGDescriptor"
    return None


class HogDetector:
    """People detector (see the module docstring). ``detect(rgb, classes=None, conf=0.25) -> Detections``."""

    name = "hog"
    names = NAMES

    def __init__(self, min_height: float | None = None, max_side: int = 1600, scale_step: float = 1.1,
                 iou: float = 0.4, group_threshold: int = 1):
        reason = hog_available()
        if reason:
            raise VisionError(f"the HOG people detector cannot run: {reason}")
        import cv2

        if min_height is not None and not 16 <= float(min_height) <= 10000:
            raise VisionError(f"min_height must be 16..10000 pixels, got {min_height}")
        if not 1.01 <= float(scale_step) <= 2.0:
            raise VisionError(f"scale_step must be 1.01..2, got {scale_step}")
        self.min_height = None if min_height is None else float(min_height)
        self.max_side = int(max_side)
        self.scale_step = float(scale_step)
        self.iou = float(iou)
        self.group_threshold = int(group_threshold)
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor.getDefaultPeopleDetector())

    def working_scale(self, width: int, height: int) -> float:
        min_h = self.min_height if self.min_height is not None else max(32.0, height / 8.0)
        s = min(_WINDOW_PERSON_HEIGHT / min_h, MAX_UPSCALE)
        return float(min(s, self.max_side / max(width, height)))

    def detect(self, rgb: np.ndarray, classes: list[int] | None = None, conf: float = 0.25) -> Detections:
        import cv2

        rgb = _check_frame(rgb)
        if classes is not None and 0 not in list(classes):
            return Detections.empty(NAMES)
        h, w = rgb.shape[:2]
        s = self.working_scale(w, h)
        img = rgb
        if abs(s - 1.0) > 1e-3:
            size = (max(64, round(w * s)), max(128, round(h * s)))
            img = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
            sx, sy = size[0] / w, size[1] / h
        else:
            sx = sy = 1.0
        if img.shape[0] < 128 or img.shape[1] < 64:
            return Detections.empty(NAMES)
        rects, weights = self._hog.detectMultiScale(img, hitThreshold=0, winStride=(8, 8), padding=(8, 8),
                                                    scale=self.scale_step, groupThreshold=self.group_threshold)
        rects = np.asarray(rects, np.float64).reshape(-1, 4)
        if not len(rects):
            return Detections.empty(NAMES)
        margins = np.asarray(weights, np.float64).reshape(-1)
        scores = 1.0 - np.exp(-np.clip(margins, 0, None))
        rects /= np.array([sx, sy, sx, sy])
        keep = cv2.dnn.NMSBoxes(rects.tolist(), scores.tolist(), float(conf), self.iou)
        keep = np.asarray(keep, np.int64).reshape(-1)
        rects, scores = rects[keep], scores[keep]
        cx = rects[:, 0] + rects[:, 2] / 2
        cy = rects[:, 1] + rects[:, 3] / 2
        bw = rects[:, 2] * PERSON_FRACTION[0]
        bh = rects[:, 3] * PERSON_FRACTION[1]
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
        boxes = np.clip(boxes, 0, [w, h, w, h])
        order = np.argsort(-scores, kind="stable")
        boxes, scores = boxes[order], scores[order]
        keep = _drop_containers(boxes, scores)
        boxes, scores = boxes[keep], scores[keep]
        return Detections(boxes.astype(np.float32), scores.astype(np.float32), np.zeros(len(boxes), np.int32),
                          None, dict(NAMES))


def _drop_containers(boxes: np.ndarray, scores: np.ndarray, threshold: float = 0.7) -> np.ndarray:
    """Indices to keep: drop a box whose overlap with a higher-scoring kept box covers > threshold of the smaller."""
    n = len(boxes)
    if n < 2:
        return np.arange(n)
    x1 = np.maximum(boxes[:, None, 0], boxes[None, :, 0])
    y1 = np.maximum(boxes[:, None, 1], boxes[None, :, 1])
    x2 = np.minimum(boxes[:, None, 2], boxes[None, :, 2])
    y2 = np.minimum(boxes[:, None, 3], boxes[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    smaller = np.minimum(area[:, None], area[None, :])
    covered = np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0) > threshold
    covered = np.triu(covered, 1)  # (i, j) with i scoring higher than j (boxes are sorted by score)
    alive = np.ones(n, bool)
    for i in range(n):  # n is the handful of boxes NMS left
        if alive[i]:
            alive &= ~covered[i]
    return np.flatnonzero(alive)


def _check_frame(rgb) -> np.ndarray:
    a = np.asarray(rgb)
    if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
        raise VisionError(f"a frame must be an RGB uint8 [H, W, 3] array, got {a.dtype} {list(a.shape)}")
    if a.shape[0] < 16 or a.shape[1] < 16:
        raise VisionError(f"the frame is too small to search ({a.shape[1]}x{a.shape[0]})")
    return np.ascontiguousarray(a)
