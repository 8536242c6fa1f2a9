"""One place to make a single-subject tracker by name: :func:`create_tracker`.

=========== ================================================================
name        what follows the subject
=========== ================================================================
``follow``  a detector on every frame + association by IoU, appearance and
            motion; re-finds the subject after occlusions (needs a detector)
``botsort`` ultralytics' BoT-SORT ids over our detections, following the id
            that matched the init box (needs a detector + the plugin)
``bytetrack`` the same with ByteTrack
``csrt``    OpenCV CSRT from any box (no detector; accurate)
``kcf``     OpenCV KCF from any box (no detector; fast)
=========== ================================================================

Every tracker has ``.name``, ``init(rgb, box)``, ``update(rgb) -> (box | None,
confidence)`` and ``.keypoints`` (the last matched detection's keypoints
``[K, 3]``, or None). ``box`` is ``[x1, y1, x2, y2]`` float32 in frame
pixels; None means the subject is lost on that frame.

The trackers are registered in :data:`core.plugins.registry` as kind
``"tracker"``; the multi-object trackers behind ``botsort``/``bytetrack`` are
the plugin's kind ``"multitracker"`` entries, so core never imports
ultralytics itself. Parameters are passed through: e.g.
``create_tracker("follow", det, max_lost=100)``,
``create_tracker("csrt", max_side=640)``, ``create_tracker("botsort", det,
track_buffer=60)`` (keys the ultralytics yaml knows go to the multi-object
tracker, the rest to the follow logic).
"""

from __future__ import annotations

import inspect

from core.plugins import PluginError, registry
from core.vision.follow import FollowTracker, IdFollowTracker
from core.vision.opencv_trackers import TITLES as _CV_TITLES
from core.vision.opencv_trackers import OpenCVTracker, opencv_available
from core.vision.types import Detector, SingleTracker, VisionError

TRACKERS = ("follow", "botsort", "bytetrack", "csrt", "kcf")
DETECTION_TRACKERS = frozenset({"follow", "botsort", "bytetrack"})
DEFAULT_TRACKER = "follow"

_FOLLOW_KEYS = frozenset(inspect.signature(FollowTracker.__init__).parameters) - {"self", "detector"}


def needs_detector(name: str) -> bool:
    return name in DETECTION_TRACKERS


def _default_detector(model: str | None = None) -> Detector:
    from core.vision.detect import create_detector  # the detection side of issue 5

    return create_detector(model)


def _make_follow(detector: Detector | None = None, **params) -> FollowTracker:
    return FollowTracker(detector if detector is not None else _default_detector(), **params)


def _make_id_follow(kind: str):
    def make(detector: Detector | None = None, **params) -> IdFollowTracker:
        follow = {k: v for k, v in params.items() if k in _FOLLOW_KEYS}
        multi = registry.create("multitracker", kind, **{k: v for k, v in params.items() if k not in _FOLLOW_KEYS})
        return IdFollowTracker(kind, multi, detector if detector is not None else _default_detector(), **follow)

    return make


def _multi_available(kind: str):
    def available() -> str | None:
        try:
            entry = registry.get("multitracker", kind)
        except PluginError as exc:
            return str(exc)
        return entry.available()

    return available


def _register() -> None:
    registry.add("tracker", "follow", _make_follow,
                 "Follow (detector + re-identification): follows one person through occlusions")
    for kind in ("botsort", "bytetrack"):
        registry.add("tracker", kind, _make_id_follow(kind), f"{kind}: follow one id of the multi-object tracker",
                     _multi_available(kind))
    for kind in ("csrt", "kcf"):
        registry.add("tracker", kind, lambda detector=None, kind=kind, **p: OpenCVTracker(kind, **p),
                     _CV_TITLES[kind], lambda kind=kind: opencv_available(kind))


_register()


def tracker_names() -> list[tuple[str, str, str | None]]:
    """(name, title, why it cannot be used or None) of every registered single-subject tracker."""
    return [(e.name, e.title, e.available()) for e in registry.entries("tracker")]


def create_tracker(name: str, detector: Detector | None = None, **params) -> SingleTracker:
    """A new tracker for ONE subject; call ``init(rgb, box)`` on the first frame, then ``update(rgb)``.

    ``detector`` is used by ``follow``/``botsort``/``bytetrack`` (None: the
    default model from :func:`core.vision.detect.create_detector`) and ignored
    by ``csrt``/``kcf``.
    """
    try:
        registry.get("tracker", name)
    except PluginError:
        known = ", ".join(n for n, _, _ in tracker_names())
        raise VisionError(f"no tracker named {name!r}: use one of {known}") from None
    try:
        return registry.create("tracker", name, detector=detector, **params)
    except PluginError as exc:
        raise VisionError(f"tracker {name!r} cannot be used: {exc}") from None
