"""Make a detector by model name, and detect on one frame of a video.

:func:`create_detector` is the one place the rest of Luma asks for a
detector:

* ``create_detector()`` — the default: the model manager's default model
  (``yolo11n-pose`` when installed, else any pose model, else any model with
  a ``person`` class) through the registry's ``yolo`` backend; when there is
  no model or the backend cannot run here (no torch/ultralytics), OpenCV's
  HOG people detector, which needs nothing;
* ``create_detector("yolo11n-pose")`` — a model by name (``luma models
  list`` shows them); an unknown name raises VisionError listing the known
  ones and how to add a model;
* ``create_detector("hog")`` — the HOG detector explicitly.

Keyword options go to the detector (``imgsz``/``iou``/``max_det`` for
YOLO, ``min_height``/``scale_step``/``iou`` for HOG; YOLO-only options are
left out when HOG is used, so callers may pass ``imgsz`` whatever is picked). HOG is registered here, in core,
as detector ``"hog"``; YOLO is the ultralytics plugin's detector ``"yolo"``.
"""

from __future__ import annotations

import logging
import os

from core.plugins import PluginError, registry
from core.vision.detect_hog import HogDetector, hog_available
from core.vision.models import ModelInfo, ModelManager
from core.vision.types import Detections, Detector, VisionError

log = logging.getLogger(__name__)

HOG = "hog"


def _register() -> None:
    registry.add("detector", HOG, HogDetector, "HOG people detector (OpenCV): no weights needed, people only",
                 hog_available)


_register()


def create_detector(model: str | None = None, **options) -> Detector:
    """A detector for ``model`` (a model name, ``"hog"``, or None for the default); see the module docstring."""
    if model is not None and str(model).strip().lower() == HOG:
        return registry.create("detector", HOG, **_hog_options(options))
    manager = ModelManager()
    if model is None:
        info = manager.default()
        why = manager.missing_message() if info is None else _yolo_unusable()
        if why is None:
            return _create_yolo(info, options)
        log.info("no usable YOLO model (%s): using the HOG people detector", why)
        return registry.create("detector", HOG, **_hog_options(options))
    info = manager.find(str(model))
    if getattr(info, "is_sam", False):
        raise VisionError(f"{info.name} is a Segment Anything checkpoint, not a detector: use it for "
                          "segmentation (luma segment --backend sam)")
    why = _yolo_unusable()
    if why is not None:
        raise VisionError(f"model {info.name} cannot run here: {why}")
    return _create_yolo(info, options)


_HOG_OPTIONS = frozenset({"min_height", "max_side", "scale_step", "iou", "group_threshold"})


def _hog_options(options: dict) -> dict:
    """HOG's own options; YOLO-only ones (imgsz, max_det) do not apply to it and are left out."""
    return {k: v for k, v in options.items() if k in _HOG_OPTIONS}


def _yolo_unusable() -> str | None:
    """Why the registry's ``yolo`` backend cannot run (plugin not loaded, torch missing, no weights), or None."""
    try:
        entry = registry.get("detector", "yolo")
    except PluginError as exc:
        return str(exc)
    return entry.available()


def _create_yolo(info: ModelInfo, options: dict) -> Detector:
    try:
        entry = registry.get("detector", "yolo")
    except PluginError as exc:
        raise VisionError(f"model {info.name} cannot run: {exc}") from None
    return entry.factory(info, **options)


def verify_model(info: ModelInfo) -> None:
    """Load a model for real (raises VisionError if it does not load); skipped where YOLO cannot run."""
    if _yolo_unusable() is None:
        _create_yolo(info, {})


def verify_sam(info: ModelInfo) -> None:
    """Load a Segment Anything checkpoint for real through the registry's ``sam`` segmenter (raises
    VisionError if it does not load); skipped where that backend is missing or cannot run here."""
    try:
        entry = registry.get("segmenter", "sam")
    except PluginError:
        return
    why = entry.available()
    if why is None or "checkpoint" in why:  # "no checkpoint yet" is fine: this one is being added
        try:
            entry.factory(model=info)
        except ImportError:
            return


def detect_frame(video: str | os.PathLike, frame_index: int, detector: Detector | None = None,
                 conf: float = 0.25, classes: list[int] | None = None) -> tuple[Detections, tuple[int, int]]:
    """Detections on frame ``frame_index`` of ``video`` (frame-accurate, RGB) and the frame's (width, height)."""
    from core.media.reader import FrameReader

    detector = detector if detector is not None else create_detector()
    with FrameReader(video, cache_size=2) as reader:
        n = reader.frame_count
        if not 0 <= int(frame_index) < n:
            raise VisionError(f"{reader.name}: frame {frame_index} is outside the clip (frames 0-{n - 1})")
        rgb = reader.frame(int(frame_index))
        size = reader.size
    return detector.detect(rgb, classes=classes, conf=conf), size
