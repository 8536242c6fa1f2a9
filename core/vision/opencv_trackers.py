"""Single-object trackers from any user box: OpenCV's CSRT and KCF (opencv-contrib).

:class:`OpenCVTracker` wraps one of them as a :class:`~core.vision.types.SingleTracker`:

* large frames are tracked on a downscaled copy (longest side ``max_side``
  pixels, but never shrinking the box below ``min_box`` pixels), boxes are
  mapped back to full-frame pixels;
* OpenCV only answers "found / not found", so the confidence is the
  normalised cross-correlation of the box's grey template with the initial
  template and with a slowly updated recent one (the better of the two,
  clamped to 0..1). A frame is *lost* when OpenCV says so or the confidence
  drops under ``lost_below``;
* while lost it looks for the initial template around the last known box
  (``cv2.matchTemplate`` in a window ``search`` box-sizes wide, growing a
  little each lost frame) and re-initialises the tracker where it matches
  better than ``reacquire_above``, so an occlusion does not end the track.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.vision.appearance import clip_box, gray_patch, ncc
from core.vision.types import VisionError

_FACTORIES = {
    "csrt": lambda: cv2.TrackerCSRT.create(),
    "kcf": lambda: cv2.TrackerKCF.create(),
}
TITLES = {
    "csrt": "CSRT (OpenCV): accurate single-object tracker from any box",
    "kcf": "KCF (OpenCV): fast single-object tracker from any box",
}


def opencv_available(name: str) -> str | None:
    """None when cv2 has this tracker, else why not (opencv-contrib missing)."""
    cls = {"csrt": "TrackerCSRT", "kcf": "TrackerKCF"}[name]
    if not hasattr(cv2, cls):
        return f"this OpenCV build has no {cls}: install opencv-contrib-python-headless"
    return None


class OpenCVTracker:
    def __init__(self, name: str = "csrt", max_side: int = 960, min_box: int = 40, lost_below: float = 0.25,
                 reacquire_above: float = 0.55, search: float = 2.5, template_rate: float = 0.05):
        if name not in _FACTORIES:
            raise VisionError(f"unknown OpenCV tracker {name!r}: use csrt or kcf")
        reason = opencv_available(name)
        if reason:
            raise VisionError(reason)
        self.name = name
        self.max_side = int(max_side)
        self.min_box = int(min_box)
        self.lost_below = float(lost_below)
        self.reacquire_above = float(reacquire_above)
        self.search = float(search)
        self.template_rate = float(template_rate)
        self.keypoints = None  # OpenCV trackers see no keypoints
        self._tracker = None
        self._scale = 1.0
        self._box: np.ndarray | None = None  # last known box, full-frame pixels
        self._size = np.zeros(2)
        self._first = None  # initial grey template
        self._recent = None
        self._first_raw: np.ndarray | None = None  # initial patch (working scale, grey uint8) for re-search
        self._lost = 0

    # ------------------------------------------------------------------ API

    def init(self, rgb: np.ndarray, box: np.ndarray) -> None:
        box = np.asarray(box, np.float64).reshape(4)
        h, w = rgb.shape[:2]
        if clip_box(box, w, h) is None:
            raise VisionError(f"the box {np.round(box).tolist()} is outside the {w}x{h} frame")
        bw, bh = box[2] - box[0], box[3] - box[1]
        scale = min(1.0, self.max_side / max(w, h))
        self._scale = min(1.0, max(scale, self.min_box / max(min(bw, bh), 1.0)))
        self._size = np.array([bw, bh])
        self._start(rgb, box)
        self._first = gray_patch(rgb, box)
        self._recent = self._first
        small = self._gray_small(rgb)
        b = clip_box(box * self._scale, small.shape[1], small.shape[0])
        self._first_raw = small[b[1]:b[3], b[0]:b[2]].copy()

    def update(self, rgb: np.ndarray) -> tuple[np.ndarray | None, float]:
        if self._tracker is None:
            raise VisionError(f"{self.name}: call init(frame, box) before update")
        ok, rect = self._tracker.update(self._bgr_small(rgb))
        box = None
        conf = 0.0
        if ok:
            x, y, bw, bh = (float(v) / self._scale for v in rect)
            box = np.array([x, y, x + bw, y + bh])
            current = gray_patch(rgb, box)
            conf = min(1.0, max(0.0, ncc(self._first, current), ncc(self._recent, current)))
            if conf >= self.lost_below:
                self._accept(box, current, conf)
                return box.astype(np.float32), conf
        self._lost += 1
        found = self._search(rgb)
        if found is not None:
            box, conf = found
            self._start(rgb, box)
            self._accept(box, gray_patch(rgb, box), conf)
            return box.astype(np.float32), conf
        return None, conf

    # ------------------------------------------------------------ internals

    def _accept(self, box: np.ndarray, current, conf: float) -> None:
        self._box = box
        self._lost = 0
        if current is not None and conf > 0.5:
            blended = (1 - self.template_rate) * self._recent + self.template_rate * current
            n = float(np.linalg.norm(blended))
            self._recent = blended / n if n > 1e-6 else self._recent

    def _start(self, rgb: np.ndarray, box: np.ndarray) -> None:
        self._tracker = _FACTORIES[self.name]()
        s = self._scale
        x, y = int(round(box[0] * s)), int(round(box[1] * s))
        bw, bh = max(int(round((box[2] - box[0]) * s)), 2), max(int(round((box[3] - box[1]) * s)), 2)
        self._tracker.init(self._bgr_small(rgb), (x, y, bw, bh))
        self._box = box

    def _small(self, rgb: np.ndarray) -> np.ndarray:
        if self._scale >= 1.0:
            return rgb
        h, w = rgb.shape[:2]
        size = (max(int(round(w * self._scale)), 1), max(int(round(h * self._scale)), 1))
        return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)

    def _bgr_small(self, rgb: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(self._small(rgb), cv2.COLOR_RGB2BGR)

    def _gray_small(self, rgb: np.ndarray) -> np.ndarray:
        return cv2.cvtColor(self._small(rgb), cv2.COLOR_RGB2GRAY)

    def _search(self, rgb: np.ndarray) -> tuple[np.ndarray, float] | None:
        """Look for the initial template around the last known box; (box, score) when it is there."""
        if self._box is None or self._first_raw is None:
            return None
        small = self._gray_small(rgb)
        th, tw = self._first_raw.shape
        cx, cy = (self._box[:2] + self._box[2:]) / 2 * self._scale
        reach = self.search * (1.0 + 0.1 * min(self._lost, 20))
        half_w, half_h = tw * reach / 2, th * reach / 2
        win = clip_box(np.array([cx - half_w, cy - half_h, cx + half_w, cy + half_h]), small.shape[1], small.shape[0])
        if win is None or win[2] - win[0] < tw or win[3] - win[1] < th:
            return None
        scores = cv2.matchTemplate(small[win[1]:win[3], win[0]:win[2]], self._first_raw, cv2.TM_CCOEFF_NORMED)
        _, best, _, (px, py) = cv2.minMaxLoc(scores)
        if best < self.reacquire_above:
            return None
        x1, y1 = (win[0] + px) / self._scale, (win[1] + py) / self._scale
        return np.array([x1, y1, x1 + self._size[0], y1 + self._size[1]]), min(float(best), 1.0)
