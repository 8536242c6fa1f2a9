"""Follow one subject through detections: the seed workflow (detect, pick one box, follow that person).

:class:`FollowTracker` runs a detector on every frame and decides which
detection, if any, is the subject. It keeps

* a **motion model**: the last matched box and a smoothed velocity of its
  centre (constant-velocity prediction; the prediction keeps moving while the
  subject is unseen),
* an **appearance model**: the HSV colour signature of the subject (upper and
  lower half of the box, :mod:`core.vision.appearance`), updated slowly while
  matches are confident, and the typical similarity of good matches.

Each frame every detection of the subject's class is scored by IoU with the
predicted box, appearance similarity and centre distance (in box heights),
gated by a search window that widens the longer the subject is unseen
(``search`` + ``grow`` per frame, up to ``max_reach``). After ``max_lost``
frames unseen the window is the whole frame and only a strong appearance
match (``reacquire_app``) brings the subject back: the tracker never gives
up. A detection that looks clearly less like the subject than usual is
refused even if it sits where the subject should be (the person in front of
them during an occlusion).

When no detection is the subject, the grey patch of the last matched
detection is looked for around the prediction (``cv2.matchTemplate``): where
it matches (NCC >= ``bridge_ncc``) with the subject's colours, that box is
reported, for at most ``bridge`` frames in a row — this carries the track over
the frames where the detector misses a visible person (small, turned away,
motion blur). Failing that, for ``coast`` frames the predicted box is reported
with a falling confidence; after that frames are lost (``update`` returns
``(None, confidence)``) until a detection is re-associated. A box the
detector never sees (not a person, for the pose model) is therefore followed
for ``bridge`` frames only: use ``csrt``/``kcf`` for those.

:class:`IdFollowTracker` does the same over a multi-object tracker
(BoT-SORT / ByteTrack): it follows the id whose box matched the init box and,
when that id disappears or starts to look like somebody else, re-associates
with the scoring above and adopts the new id.

``.keypoints`` is the matched detection's keypoints (``[K, 3]``, pose model)
or None, so renders can anchor an indicator above the head.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.vision.appearance import clip_box, colour_signature, crop, signatures, similarity
from core.vision.types import Detections, Detector, VisionError, iou


def _centre(boxes: np.ndarray) -> np.ndarray:
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    return (boxes[:, :2] + boxes[:, 2:]) / 2


class FollowTracker:
    name = "follow"

    def __init__(self, detector: Detector, conf: float = 0.2, search: float = 0.6, grow: float = 0.12,
                 max_reach: float = 3.0, max_lost: int = 50, min_score: float = 0.35, app_margin: float = 0.15,
                 reacquire_app: float = 0.8, coast: int = 2, model_rate: float = 0.1, any_class: bool = False,
                 bridge: int = 15, bridge_ncc: float = 0.6):
        if detector is None:
            raise VisionError(f"the {self.name} tracker needs a detector")
        self.detector = detector
        self.conf = float(conf)
        self.search, self.grow, self.max_reach = float(search), float(grow), float(max_reach)
        self.max_lost = int(max_lost)
        self.min_score = float(min_score)
        self.app_margin = float(app_margin)
        self.reacquire_app = float(reacquire_app)
        self.coast = int(coast)
        self.bridge, self.bridge_ncc = int(bridge), float(bridge_ncc)
        self.model_rate = float(model_rate)
        self.any_class = bool(any_class)
        self.keypoints: np.ndarray | None = None
        self.cls: int | None = None
        self._box: np.ndarray | None = None
        self._vel = np.zeros(2)
        self._since = 0  # frames since the last match
        self._model: np.ndarray | None = None
        self._typical = 0.9  # running mean appearance similarity of good matches
        self._last_conf = 1.0
        self._app_of_pick = 0.0
        self._patch: np.ndarray | None = None  # grey crop of the last detection matched
        self._bridged = 0  # frames in a row found by the patch instead of the detector

    # ------------------------------------------------------------------ API

    def init(self, rgb: np.ndarray, box: np.ndarray) -> None:
        box = np.asarray(box, np.float64).reshape(4)
        if box[2] <= box[0] or box[3] <= box[1]:
            raise VisionError(f"the box {np.round(box).tolist()} has no area")
        dets = self.detector.detect(rgb, conf=self.conf)
        self._init_from(rgb, box, dets, None if len(dets) == 0 else iou(box, dets.boxes)[0])

    def update(self, rgb: np.ndarray) -> tuple[np.ndarray | None, float]:
        if self._box is None:
            raise VisionError(f"{self.name}: call init(frame, box) before update")
        boxes, _, kps, _ = self._candidates(rgb)
        pick, conf = self._associate(rgb, boxes)
        return self._finish(rgb, boxes, kps, pick, conf)

    # ------------------------------------------------------------ internals

    def _classes(self) -> list[int] | None:
        return None if self.any_class or self.cls is None else [self.cls]

    def _candidates(self, rgb: np.ndarray):
        """(boxes [N, 4], scores [N], keypoints [N, K, 3] | None, ids [N] | None) on this frame."""
        dets = self.detector.detect(rgb, classes=self._classes(), conf=self.conf)
        return dets.boxes, dets.scores, dets.keypoints, None

    def _init_from(self, rgb: np.ndarray, box: np.ndarray, dets: Detections, overlaps: np.ndarray | None) -> int | None:
        """Take the init box; adopt the class and keypoints of the detection that overlaps it most."""
        self._box, self._vel, self._since = box, np.zeros(2), 0
        self.keypoints, self.cls = None, None
        best = None
        if overlaps is not None and len(overlaps) and overlaps.max() >= 0.3:
            best = int(np.argmax(overlaps))
            self.cls = int(dets.classes[best])
            if dets.keypoints is not None:
                self.keypoints = np.asarray(dets.keypoints[best], np.float32)
        self._model = colour_signature(rgb, box)
        self._patch = _gray(rgb, box)
        self._bridged = 0
        self._typical = 0.9
        self._last_conf = 1.0
        return best

    def _predicted(self) -> np.ndarray:
        shift = self._vel * (self._since + 1)
        return self._box + np.concatenate([shift, shift])

    def _reach(self) -> float:
        """Search radius around the prediction, in box heights (inf after max_lost frames unseen)."""
        if self._since >= self.max_lost:
            return np.inf
        return min(self.search + self.grow * self._since, self.max_reach)

    def _scores(self, rgb: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(association score [N] with -inf for refused candidates, appearance similarity [N])."""
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        pred = self._predicted()
        height = max(pred[3] - pred[1], 1.0)
        overlap = iou(pred, boxes)[0]
        dist = np.linalg.norm(_centre(boxes) - _centre(pred), axis=1) / height
        heights = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
        size = np.minimum(heights / height, height / heights)
        app = similarity(self._model, signatures(rgb, boxes))
        reach = self._reach()
        near = 0.0 if np.isinf(reach) else np.clip(1.0 - dist / reach, 0.0, 1.0)
        score = 0.35 * overlap + 0.45 * app + 0.2 * near
        refused = (dist > reach) | (size < 0.5)
        if self._model is not None:  # no colour model when the init box was off the frame
            refused |= app < self._typical - self.app_margin
        if np.isinf(reach):
            refused |= app < self.reacquire_app
        return np.where(refused, -np.inf, score), app

    def _associate(self, rgb: np.ndarray, boxes: np.ndarray) -> tuple[int | None, float]:
        if len(boxes) == 0:
            return None, 0.0
        score, app = self._scores(rgb, boxes)
        best = int(np.argmax(score))
        if not np.isfinite(score[best]) or score[best] < self.min_score:
            return None, float(max(score[best], 0.0)) if np.isfinite(score[best]) else 0.0
        self._app_of_pick = float(app[best])
        return best, float(min(score[best] / 0.9, 1.0))

    def _bridge(self, rgb: np.ndarray) -> tuple[np.ndarray, float] | None:
        """The subject's last grey patch found near the prediction (the detector missed them): (box, ncc)."""
        if self._patch is None or self._bridged >= self.bridge:
            return None
        th, tw = self._patch.shape
        cx, cy = _centre(self._predicted())[0]
        win = clip_box(np.array([cx - tw, cy - 0.75 * th, cx + tw, cy + 0.75 * th]), rgb.shape[1], rgb.shape[0])
        if win is None or win[2] - win[0] <= tw or win[3] - win[1] <= th:
            return None
        gray = cv2.cvtColor(rgb[win[1]:win[3], win[0]:win[2]], cv2.COLOR_RGB2GRAY)
        _, best, _, (px, py) = cv2.minMaxLoc(cv2.matchTemplate(gray, self._patch, cv2.TM_CCOEFF_NORMED))
        if best < self.bridge_ncc:
            return None
        box = np.array([win[0] + px, win[1] + py, win[0] + px + tw, win[1] + py + th], np.float64)
        looks = similarity(self._model, signatures(rgb, box))[0]
        if self._model is not None and looks < self._typical - self.app_margin:
            return None  # the patch matched, but the colours are somebody else's
        return box, float(best)

    def _finish(self, rgb, boxes, kps, pick: int | None, conf: float) -> tuple[np.ndarray | None, float]:
        if pick is None:
            bridged = self._bridge(rgb)
            if bridged is not None:
                box, ncc = bridged
                shift = box[:2] - self._box[:2]
                if self.keypoints is not None:
                    self.keypoints = self.keypoints.copy()
                    self.keypoints[:, :2] += shift.astype(np.float32)
                self._move(box)
                self._bridged += 1
                self._last_conf = 0.6 * ncc
                return box.astype(np.float32), float(self._last_conf)
            here = self._predicted()  # where the subject should be on this frame
            self._since += 1
            if self._since <= self.coast:
                self._last_conf *= 0.5
                return here.astype(np.float32), float(self._last_conf)
            self.keypoints = None
            return None, conf
        box = np.asarray(boxes[pick], np.float64)
        self._move(box)
        self._bridged = 0
        self.keypoints = None if kps is None else np.asarray(kps[pick], np.float32)
        self._typical = 0.9 * self._typical + 0.1 * self._app_of_pick
        if conf > 0.6 and self._model is not None:
            sig = colour_signature(rgb, box)
            if sig is not None:
                self._model = (1 - self.model_rate) * self._model + self.model_rate * sig
        self._patch = _gray(rgb, box)
        self._last_conf = conf
        return box.astype(np.float32), conf

    def _move(self, box: np.ndarray) -> None:
        """The subject is at ``box`` on this frame: update the velocity and the position."""
        step = (_centre(box)[0] - _centre(self._box)[0]) / (self._since + 1)
        self._vel = 0.6 * self._vel + 0.4 * step if self._since < 5 else 0.5 * step
        self._box, self._since = box, 0


def _gray(rgb: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    patch = crop(rgb, box)
    if patch is None or min(patch.shape[:2]) < 8:
        return None
    return cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY)


class IdFollowTracker(FollowTracker):
    """Follow one id of a multi-object tracker, re-associating when the id is gone (see module docstring)."""

    def __init__(self, name: str, multi, detector: Detector, conf: float = 0.1, **params):
        super().__init__(detector, conf=conf, **params)
        self.name = name
        self.multi = multi
        self.track_id: int | None = None
        self._kp_all = None

    def init(self, rgb: np.ndarray, box: np.ndarray) -> None:
        box = np.asarray(box, np.float64).reshape(4)
        if box[2] <= box[0] or box[3] <= box[1]:
            raise VisionError(f"the box {np.round(box).tolist()} has no area")
        if hasattr(self.multi, "reset"):
            self.multi.reset()
        dets = self.detector.detect(rgb, conf=self.conf)
        tracked = self.multi.update(dets, rgb)
        overlaps = None if len(dets) == 0 else iou(box, dets.boxes)[0]
        best = self._init_from(rgb, box, dets, overlaps)
        self.track_id = None
        if best is not None:
            hit = np.flatnonzero(tracked.det_index == best)
            if len(hit):
                self.track_id = int(tracked.ids[hit[0]])

    def _candidates(self, rgb: np.ndarray):
        dets = self.detector.detect(rgb, classes=self._classes(), conf=self.conf)
        tracked = self.multi.update(dets, rgb)
        kps = None
        if dets.keypoints is not None and len(tracked.ids) and len(dets):
            kps = dets.keypoints[np.clip(tracked.det_index, 0, len(dets) - 1)]
        return tracked.boxes, tracked.scores, kps, tracked.ids

    def update(self, rgb: np.ndarray) -> tuple[np.ndarray | None, float]:
        if self._box is None:
            raise VisionError(f"{self.name}: call init(frame, box) before update")
        boxes, _, kps, ids = self._candidates(rgb)
        pick, conf = None, 0.0
        if len(boxes):
            score, app = self._scores(rgb, boxes)
            mine = np.flatnonzero(ids == self.track_id) if self.track_id is not None else []
            if len(mine) and np.isfinite(score[mine[0]]):
                pick, self._app_of_pick = int(mine[0]), float(app[mine[0]])
                conf = float(min(max(score[pick], 0.0) / 0.9, 1.0))
            else:
                pick, conf = self._associate(rgb, boxes)
                if pick is not None:
                    self.track_id = int(ids[pick])
        return self._finish(rgb, boxes, kps, pick, conf)
