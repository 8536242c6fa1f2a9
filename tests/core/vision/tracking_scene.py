"""Semi-synthetic tracking ground truth: a real person cut from a real photo walking over real footage.

The subject is the man in the beige coat from ultralytics' ``bus.jpg``; the
background is ``vtest.avi`` (a real street scene with its own pedestrians);
a piece of the bus's side (another real patch) crosses over him for a few
frames, hiding up to about half of him, and later another man from the same
photo (black coat) walks past right in front of him, hiding most of him for
a few frames (an id switch waiting to happen). The subject's box is
known exactly on every frame because we paste him there.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

# ultralytics' bundled sample pictures (found without importing ultralytics, which would write its settings)
_SPEC = importlib.util.find_spec("ultralytics")
ASSETS = Path(_SPEC.origin).parent / "assets" if _SPEC and _SPEC.origin else Path("ultralytics-missing")
VTEST = Path(__file__).resolve().parents[2] / "data" / "vtest.avi"
PERSON_SIZE = (64, 196)  # width, height pasted
OCCLUDER_SIZE = (72, 110)
DISTRACTOR_SIZE = (54, 200)


@dataclass
class Scene:
    frames: list[np.ndarray]  # RGB
    boxes: np.ndarray  # float32 [N, 4] ground truth x1 y1 x2 y2
    occluded: np.ndarray  # float32 [N]: fraction of the subject's box hidden
    distractor: np.ndarray  # float32 [N, 4]: the other man's box (behind the subject)


def vtest_path() -> Path:
    """tests/data/vtest.avi for module-scoped fixtures (the ``vtest`` fixture is per test)."""
    if not VTEST.is_file():
        import pytest

        pytest.fail(f"{VTEST} is missing: run `make testdata` (Debian's opencv-doc package)")
    return VTEST


def _asset(name: str, rows: slice, cols: slice, size: tuple[int, int]) -> np.ndarray:
    bgr = cv2.imread(str(ASSETS / name))
    assert bgr is not None, f"{ASSETS / name} is missing (ultralytics-opencv-headless ships it)"
    return cv2.cvtColor(cv2.resize(bgr[rows, cols], size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)


def _paste(frame: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    h, w = patch.shape[:2]
    fh, fw = frame.shape[:2]
    x1, y1, x2, y2 = max(x, 0), max(y, 0), min(x + w, fw), min(y + h, fh)
    if x2 > x1 and y2 > y1:
        frame[y1:y2, x1:x2] = patch[y1 - y:y2 - y, x1 - x:x2 - x]


def path(n: int) -> np.ndarray:
    """Top-left corner of the subject per frame: an S-curve with easing (slow, fast, slow) and a bob."""
    t = np.arange(n) / (n - 1)
    ease = (1 - np.cos(np.pi * t)) / 2  # speed varies from 0 to ~1.6x the mean and back
    x = 90 + 560 * ease
    y = 250 + 70 * np.sin(2 * np.pi * 1.5 * t) + 40 * t
    return np.stack([x, y], axis=1)


def make_scene(background: list[np.ndarray]) -> Scene:
    """Paste the subject along :func:`path` over ``background`` frames (RGB, 768x576)."""
    n = len(background)
    person = _asset("bus.jpg", slice(385, 905), slice(45, 215), PERSON_SIZE)
    occluder = _asset("bus.jpg", slice(520, 640), slice(430, 620), OCCLUDER_SIZE)
    other = _asset("bus.jpg", slice(398, 872), slice(222, 342), DISTRACTOR_SIZE)
    corners = np.round(path(n)).astype(int)
    pw, ph = PERSON_SIZE
    ow, oh = OCCLUDER_SIZE
    dw, dh = DISTRACTOR_SIZE
    frames, boxes, hidden, others = [], [], [], []
    cross = int(0.45 * n)  # frame at which the occluder is centred on the subject
    meet = int(0.75 * n)  # frame at which the other man is right behind the subject
    for i, (bg, (x, y)) in enumerate(zip(background, corners)):
        frame = np.array(bg, copy=True)
        _paste(frame, person, x, y)
        # the other man walks right-to-left at 7 px/frame, a little lower down (nearer), in front of the subject
        dx = int(corners[meet, 0] + pw / 2 - dw / 2 - 7 * (i - meet))
        dy = int(corners[meet, 1] + 8)
        _paste(frame, other, dx, dy)
        others.append([dx, dy, dx + dw, dy + dh])
        # the occluder moves right-to-left across the subject's chest at 5 px/frame
        ox = int(corners[cross, 0] + pw / 2 - ow / 2 - 5 * (i - cross))
        oy = int(corners[cross, 1] + 40)
        _paste(frame, occluder, ox, oy)
        box = np.array([x, y, x + pw, y + ph], np.float32)
        mask = np.zeros((ph, pw), bool)  # which of the subject's pixels something is pasted over
        for (ax, ay, aw, ah) in ((ox, oy, ow, oh), (dx, dy, dw, dh)):
            mask[max(0, ay - y):max(0, ay + ah - y), max(0, ax - x):max(0, ax + aw - x)] = True
        frames.append(frame)
        boxes.append(box)
        hidden.append(mask.mean())
    return Scene(frames, np.stack(boxes), np.asarray(hidden, np.float32), np.asarray(others, np.float32))


def metrics(pred: np.ndarray, truth: np.ndarray) -> dict:
    """Success rate (IoU > 0.5) and mean centre error in pixels; frames with no box count as failures."""
    from core.vision.types import iou

    pred = np.asarray(pred, np.float64)
    ok = ~np.isnan(pred).any(axis=1)
    ious = np.zeros(len(truth))
    ious[ok] = np.diag(iou(pred[ok], truth[ok]))
    centres_p = (pred[:, :2] + pred[:, 2:]) / 2
    centres_t = (truth[:, :2] + truth[:, 2:]) / 2
    err = np.linalg.norm(centres_p - centres_t, axis=1)
    err[~ok] = np.nan
    return {"success": float((ious > 0.5).mean()), "centre_error": float(np.nanmean(err)) if ok.any() else None,
            "mean_iou": float(ious.mean()), "frames": int(len(truth))}


class CachedDetector:
    """Wraps a detector so that several trackers over the same frames detect each frame once.

    Detects at the lowest confidence any tracker asks for and filters
    afterwards (NMS keeps higher-scoring boxes whatever lower ones exist, so
    this equals detecting at the higher threshold).
    """

    def __init__(self, inner, floor: float = 0.05):
        self.inner = inner
        self.name = inner.name
        self.names = inner.names
        self.floor = floor
        self._cache = {}
        self.calls = 0

    def __getattr__(self, item):
        return getattr(self.inner, item)

    def detect(self, rgb, classes=None, conf=0.25):
        import hashlib

        key = hashlib.blake2b(np.ascontiguousarray(rgb).data, digest_size=16).digest()
        dets = self._cache.get(key)
        if dets is None:
            self.calls += 1
            dets = self._cache[key] = self.inner.detect(rgb, conf=min(conf, self.floor))
        keep = dets.scores >= conf
        if classes is not None:
            keep &= np.isin(dets.classes, classes)
        return dets.select(keep)


def record(name: str, results: dict) -> Path:
    """Merge ``results`` into .pytest_cache/luma/tracking_metrics.json (for the README) and print them."""
    import json

    out = Path(__file__).resolve().parents[3] / ".pytest_cache" / "luma" / "tracking_metrics.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(out.read_text()) if out.is_file() else {}
    data.setdefault(name, {}).update(results)
    out.write_text(json.dumps(data, indent=1, sort_keys=True))
    for tracker, m in results.items():
        print(f"{name}: {tracker:10s} " + " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                                                  for k, v in m.items()))
    return out
