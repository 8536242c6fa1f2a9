"""The ultralytics backend plugin: YOLO detection (and, in :mod:`.trackers`, BoT-SORT / ByteTrack).

Registered through the ``luma.plugins`` entry point exactly as a third
party's plugin would be::

    [project.entry-points."luma.plugins"]
    ultralytics = "plugins.ultralytics_backend:register"

Importing this package imports neither torch nor ultralytics; that happens
when a detector is first created, after :func:`prepare` has

1. set ultralytics' offline switches (``YOLO_OFFLINE=1``,
   ``YOLO_AUTOINSTALL=0``, ``ULTRALYTICS_SAFE_LOAD=1``, ``YOLO_CONFIG_DIR``
   inside Luma's config folder) — see :mod:`.compat`;
2. installed the pure-torch ``torchvision::nms`` before torchvision is
   imported (:func:`.compat.install`);
3. turned ultralytics' ``sync`` setting off and pointed its datasets /
   weights / runs folders inside that config folder, so nothing is written
   into the working directory.

Code that imports ultralytics for other reasons (the trackers) should call
:func:`prepare` first, too.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)
_prepared = False
_prepare_lock = threading.Lock()


def prepare() -> None:
    """Make importing ultralytics/torchvision safe and offline (idempotent, thread-safe)."""
    global _prepared
    with _prepare_lock:
        if _prepared:
            return
        from core.vision.models import config_dir
        from plugins.ultralytics_backend import compat

        if "ultralytics" in sys.modules and os.environ.get("YOLO_OFFLINE") != "1":
            log.warning("ultralytics was imported before plugins.ultralytics_backend.prepare(): "
                        "its online checks may be active in this process")
        yolo_dir = compat.offline_environment(config_dir())
        compat.install()
        from ultralytics.utils import SETTINGS

        wanted = {"sync": False, "datasets_dir": str(yolo_dir / "datasets"), "weights_dir": str(yolo_dir / "weights"),
                  "runs_dir": str(yolo_dir / "runs")}
        changed = {k: v for k, v in wanted.items() if k in SETTINGS and SETTINGS.get(k) != v}
        if changed:
            SETTINGS.update(changed)
        _prepared = True


def register(registry) -> None:
    """Entry point: add detector ``yolo``, segmenter ``sam`` and (when present) the multi-object trackers."""
    from plugins.ultralytics_backend.detector import make_yolo, yolo_available

    registry.add("detector", "yolo", make_yolo,
                 "YOLO (ultralytics): people and objects, with keypoints for pose models", yolo_available)

    from plugins.ultralytics_backend.sam import make_sam, sam_available

    registry.add("segmenter", "sam", make_sam,
                 "Segment Anything (SAM, MobileSAM, SAM 2 via ultralytics): box and click prompts; "
                 "needs a checkpoint you add", sam_available)

    # multi-object trackers live in their own module (registry kind "multitracker")
    try:
        from plugins.ultralytics_backend import trackers
    except ModuleNotFoundError as exc:
        if exc.name != "plugins.ultralytics_backend.trackers":
            raise
    else:
        trackers.register_trackers(registry)
