"""Multi-object trackers: ultralytics' BoT-SORT and ByteTrack fed with *our* detections.

:class:`UltralyticsMultiTracker` implements :class:`core.vision.types.MultiTracker`:
``update(detections, rgb) -> TrackedBoxes`` gives every detection that
belongs to a confirmed track a stable id. The detections can come from any
detector of ours (YOLO, HOG ...): they are handed to ultralytics' tracker as a
small numpy object with the attributes its ``update(results, img)`` reads
(``conf``, ``cls``, ``xywh``, ``xyxy``, ``len()`` and boolean indexing), the
same thing ``model.track`` hands it (``result.boxes.cpu().numpy()``).

The settings are ultralytics' own ``botsort.yaml`` / ``bytetrack.yaml``
(BoT-SORT: camera-motion compensation by sparse optical flow, no ReID model,
so nothing is downloaded); keyword arguments override single keys
(``track_buffer=60``, ``gmc_method="none"`` for a locked-off camera ...).

:func:`register_trackers` adds them to the registry as kind ``"multitracker"``,
names ``"botsort"`` and ``"bytetrack"``; the plugin's ``register()`` calls it.
Importing this module does not import ultralytics (nor torch): that happens
when a tracker is first created.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from core.vision.types import Detections, TrackedBoxes, VisionError

NAMES = ("botsort", "bytetrack")
TITLES = {
    "botsort": "BoT-SORT (ultralytics): stable ids, camera-motion compensation",
    "bytetrack": "ByteTrack (ultralytics): stable ids, fastest",
}


class _Boxes:
    """The numpy ``Boxes`` look-alike ultralytics' trackers read detections from."""

    def __init__(self, xyxy: np.ndarray, conf: np.ndarray, cls: np.ndarray):
        self.xyxy = xyxy
        self.conf = conf
        self.cls = cls
        wh = xyxy[:, 2:4] - xyxy[:, 0:2]
        self.xywh = np.concatenate([xyxy[:, 0:2] + wh / 2, wh], axis=1)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index) -> "_Boxes":
        return _Boxes(self.xyxy[index], self.conf[index], self.cls[index])


def _available() -> str | None:
    if importlib.util.find_spec("ultralytics") is None:
        return "the ultralytics package is not installed (pip install ultralytics-opencv-headless)"
    return None


def _config(kind: str, overrides: dict):
    from ultralytics.utils import YAML, IterableSimpleNamespace

    import ultralytics

    path = Path(ultralytics.__file__).parent / "cfg" / "trackers" / f"{kind}.yaml"
    if not path.is_file():
        raise VisionError(f"ultralytics has no {path.name}: reinstall ultralytics-opencv-headless")
    cfg = dict(YAML.load(path))
    unknown = sorted(set(overrides) - set(cfg))
    if unknown:
        raise VisionError(f"{kind}: unknown setting(s) {', '.join(unknown)} (known: {', '.join(sorted(cfg))})")
    cfg.update(overrides)
    cfg["with_reid"] = False  # a ReID model would be another download; our follow logic re-identifies
    cfg["device"] = "cpu"
    return IterableSimpleNamespace(**cfg)


class UltralyticsMultiTracker:
    """One of ultralytics' trackers over our :class:`Detections` (see the module docstring)."""

    def __init__(self, kind: str = "botsort", **overrides):
        if kind not in NAMES:
            raise VisionError(f"unknown multi-object tracker {kind!r}: use one of {', '.join(NAMES)}")
        reason = _available()
        if reason:
            raise VisionError(f"{kind}: {reason}")
        from plugins.ultralytics_backend import prepare

        prepare()  # offline switches before ultralytics is imported
        if kind == "botsort":
            from ultralytics.trackers.bot_sort import BOTSORT as cls
        else:
            from ultralytics.trackers.byte_tracker import BYTETracker as cls
        self.name = kind
        self.args = _config(kind, overrides)
        self._tracker = cls(args=self.args)
        self._needs_image = kind == "botsort" and str(getattr(self.args, "gmc_method", "none")).lower() != "none"

    def reset(self) -> None:
        self._tracker.reset()

    def update(self, detections: Detections, rgb: np.ndarray | None = None) -> TrackedBoxes:
        boxes = _Boxes(np.asarray(detections.boxes, np.float32).reshape(-1, 4),
                       np.asarray(detections.scores, np.float32).reshape(-1),
                       np.asarray(detections.classes, np.float32).reshape(-1))
        img = None
        if self._needs_image and rgb is not None:
            img = np.ascontiguousarray(rgb[..., ::-1])  # BGR at the OpenCV edge (GMC)
        out = self._tracker.update(boxes, img)
        if len(out) == 0:
            return TrackedBoxes(np.zeros((0, 4), np.float32), np.zeros(0, np.int64), np.zeros(0, np.float32),
                                np.zeros(0, np.int32), np.zeros(0, np.int64))
        out = np.asarray(out, np.float64).reshape(len(out), -1)
        return TrackedBoxes(out[:, 0:4].astype(np.float32), out[:, 4].astype(np.int64), out[:, 5].astype(np.float32),
                            out[:, 6].astype(np.int32), out[:, 7].astype(np.int64))


def register_trackers(registry) -> None:
    """Add ``botsort`` and ``bytetrack`` as kind ``"multitracker"`` (called by the plugin's ``register``)."""
    for kind in NAMES:
        registry.add("multitracker", kind, lambda kind=kind, **kw: UltralyticsMultiTracker(kind, **kw),
                     TITLES[kind], _available)
