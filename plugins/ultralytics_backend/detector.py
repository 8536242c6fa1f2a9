"""The ``yolo`` detector: an ultralytics YOLO model (.pt or exported .onnx) on the CPU.

:class:`YoloDetector` implements :class:`core.vision.types.Detector` for a
:class:`core.vision.models.ModelInfo` from the model manager (never an
arbitrary path: see the trust notes in :mod:`core.vision.models`).

* Loading goes through :func:`plugins.ultralytics_backend.prepare` first
  (offline switches, safe weights-only loading, the torchvision NMS shim).
  A loaded model is cached per file (path, mtime, size) for the life of the
  process, so several detectors, trackers and tests share one copy; each
  cached model has its own lock because an ultralytics predictor is not
  thread-safe.
* ``imgsz`` (the network's input size, long side) defaults to
  :func:`auto_imgsz`: 1.25 x the frame's long side, rounded up to 32, at
  least the size the model was trained at and at most :data:`MAX_AUTO_IMGSZ`.
  Measured on vtest.avi (768x576, people ~85 px tall), yolo11n-pose at its
  training size 640 finds none of the three people on frame 0 with conf 0.25
  (best score 0.02), at 768 two (0.29, 0.20) and at 960 all three
  (0.74, 0.62, 0.48): the small network needs people upscaled. 1080p and 4K
  frames are searched at 960 (a downscale). Exported ONNX models run at the
  size they were exported at.
* Frames come in RGB; ultralytics treats numpy images as BGR, so the channel
  order is flipped at the call (one copy of the frame).
"""

from __future__ import annotations

import importlib.util
import math
import re
import threading

import numpy as np

from core.vision.models import ModelInfo, ModelManager, cache_key
from core.vision.types import Detections, VisionError

MAX_AUTO_IMGSZ = 960
_cache: dict[tuple[str, int, int], tuple[object, threading.Lock]] = {}
_cache_lock = threading.Lock()


def auto_imgsz(width: int, height: int, trained: int = 640, cap: int = MAX_AUTO_IMGSZ) -> int:
    """Network input size for a frame: ceil32(1.25 x long side), clamped to [trained, max(trained, cap)]."""
    want = int(math.ceil(1.25 * max(width, height) / 32.0) * 32)
    return int(min(max(trained, want), max(trained, cap)))


def backend_missing() -> str | None:
    """Why the YOLO backend cannot run here (a missing package), or None."""
    for module, pip in (("torch", "torch"), ("ultralytics", "ultralytics-opencv-headless")):
        if importlib.util.find_spec(module) is None:
            return f"the {module} package is not installed (pip install {pip}, or run `make`)"
    return None


def yolo_available() -> str | None:
    """None when a YOLO model can run, else why not (missing package, no weights)."""
    reason = backend_missing()
    if reason:
        return reason
    manager = ModelManager()
    if not manager.detectors():
        return manager.missing_message()
    return None


def load_model(info: ModelInfo):
    """The ultralytics ``YOLO`` for a model file and its inference lock (cached per path+mtime+size)."""
    reason = backend_missing()
    if reason:
        raise VisionError(f"{info.name}: cannot run YOLO models: {reason}")
    if info.format == "onnx" and importlib.util.find_spec("onnxruntime") is None:
        raise VisionError(f"{info.name}.onnx needs ONNX Runtime: pip install onnxruntime (or use a .pt model)")
    key = cache_key(info)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            return hit
        from plugins.ultralytics_backend import prepare

        prepare()
        from ultralytics import YOLO

        try:
            model = YOLO(str(info.path), task=info.task)
        except (TypeError, RuntimeError, ValueError, OSError, EOFError, KeyError, AttributeError,
                ModuleNotFoundError, ImportError) as exc:
            raise VisionError(_load_error(info, exc)) from None
        for old in [k for k in _cache if k[0] == key[0]]:
            del _cache[old]  # the file changed on disk: drop the stale copy
        _cache[key] = (model, threading.Lock())
        return _cache[key]


def _load_error(info: ModelInfo, exc: Exception) -> str:
    text = str(exc).strip()
    if "outside the supported" in text:  # ULTRALYTICS_SAFE_LOAD refused a global
        return (f"{info.path.name}: the model cannot be loaded: the checkpoint names Python objects outside the "
                f"known model classes, so loading it could run code (Luma loads weights with "
                f"torch.load(weights_only=True)); export it again with ultralytics, or use another model")
    first = re.sub(r"^ERROR[^\w/\\]*", "", text.splitlines()[0]) if text else type(exc).__name__
    first = re.split(r"(?<=[a-z0-9)])\. ", first)[0].replace(str(info.path), info.path.name)
    return (f"{info.path.name}: the model cannot be loaded ({first}); copy or export it again, "
            f"or use another model (`luma models list`)")


class YoloDetector:
    """``detect(rgb, classes=None, conf=0.25) -> Detections`` with an ultralytics model (module docstring)."""

    def __init__(self, info: ModelInfo, imgsz: int | None = None, iou: float = 0.7, max_det: int = 300):
        if imgsz is not None and not 32 <= int(imgsz) <= 4096:
            raise VisionError(f"imgsz must be 32..4096 pixels, got {imgsz}")
        if not 0.0 < float(iou) <= 1.0:
            raise VisionError(f"iou must be in (0, 1], got {iou}")
        self.info = info
        self.name = info.name
        self.imgsz = None if imgsz is None else int(imgsz)
        self.iou = float(iou)
        self.max_det = int(max_det)
        self._model, self._lock = load_model(info)
        self.names: dict[int, str] = {int(k): str(v) for k, v in dict(self._model.names).items()}

    def input_size(self, width: int, height: int) -> int:
        if self.info.format == "onnx":
            return self.info.imgsz
        return self.imgsz if self.imgsz is not None else auto_imgsz(width, height, self.info.imgsz)

    def detect(self, rgb: np.ndarray, classes: list[int] | None = None, conf: float = 0.25) -> Detections:
        a = np.asarray(rgb)
        if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
            raise VisionError(f"a frame must be an RGB uint8 [H, W, 3] array, got {a.dtype} {list(a.shape)}")
        if not 0.0 <= float(conf) <= 1.0:
            raise VisionError(f"conf must be 0..1, got {conf}")
        bgr = np.ascontiguousarray(a[..., ::-1])  # ultralytics reads numpy frames as BGR
        h, w = a.shape[:2]
        with self._lock:
            result = self._model.predict(bgr, conf=float(conf), iou=self.iou, imgsz=self.input_size(w, h),
                                         classes=None if classes is None else [int(c) for c in classes],
                                         max_det=self.max_det, device="cpu", verbose=False, save=False)[0]
        boxes = result.boxes
        if boxes is None or len(boxes) == 0:
            return Detections.empty(self.names)
        xyxy = boxes.xyxy.cpu().numpy().astype(np.float32).reshape(-1, 4)
        scores = boxes.conf.cpu().numpy().astype(np.float32).reshape(-1)
        cls = boxes.cls.cpu().numpy().astype(np.int32).reshape(-1)
        keypoints = None
        if result.keypoints is not None:
            kp = result.keypoints.data.cpu().numpy().astype(np.float32)
            if kp.ndim == 3 and kp.shape[2] == 2:  # no per-point confidence in the model: all visible
                kp = np.concatenate([kp, np.ones(kp.shape[:2] + (1,), np.float32)], axis=2)
            keypoints = kp
        return Detections(xyxy, scores, cls, keypoints, self.names)


def make_yolo(model: ModelInfo | str | None = None, **options) -> YoloDetector:
    """Registry factory: ``model`` is a ModelInfo, a model name known to the manager, or None (the default)."""
    if not isinstance(model, ModelInfo):
        manager = ModelManager()
        info = manager.find(model) if model else manager.default()
        if info is None:
            raise VisionError(manager.missing_message())
        model = info
    if getattr(model, "is_sam", False):
        raise VisionError(f"{model.name} is a Segment Anything checkpoint, not a detector: use it for "
                          "segmentation (luma segment --backend sam)")
    return YoloDetector(model, **options)
