"""Single-subject trackers on semi-synthetic ground truth, and the tracker factory / wrappers.

The scene (tests/core/vision/tracking_scene.py): a man cut from ultralytics'
bus.jpg walks an S-curve with varying speed over 90 real frames of vtest.avi;
a piece of the bus crosses over him (up to 56 % hidden) and later another man
from the same photo walks right in front of him (up to 81 % hidden). His box
is exact on every frame. Per tracker: success rate (IoU > 0.5) and mean centre
error, written to .pytest_cache/luma/tracking_metrics.json and printed (-s).
"""

from __future__ import annotations

import numpy as np
import pytest

from core.media.reader import FrameReader
from core.vision.trackers import TRACKERS, create_tracker, needs_detector, tracker_names
from core.vision.types import Detections, VisionError
from tests.core.vision.tracking_scene import CachedDetector, make_scene, metrics, record, vtest_path

SCENE_FRAMES = 90
# success rate (IoU > 0.5) at least / mean centre error (px) at most; measured values are in the README
THRESHOLDS = {
    "csrt": (0.9, 6.0),
    "kcf": (0.85, 10.0),
    "follow": (0.9, 8.0),
    "botsort": (0.9, 8.0),
    "bytetrack": (0.9, 8.0),
}


@pytest.fixture(scope="module")
def scene():
    with FrameReader(vtest_path()) as reader:
        return make_scene([reader.frame(i) for i in range(SCENE_FRAMES)])


@pytest.fixture(scope="module")
def detector():
    from core.vision.detect import create_detector

    return CachedDetector(create_detector())


def run(tracker, frames, first_box) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Boxes (the last known one on lost frames), confidences and lost flags for every frame."""
    tracker.init(frames[0], first_box)
    boxes, confs, lost = [np.asarray(first_box, np.float32)], [1.0], [False]
    for rgb in frames[1:]:
        box, conf = tracker.update(rgb)
        lost.append(box is None)
        boxes.append(boxes[-1] if box is None else np.asarray(box, np.float32))
        confs.append(conf)
    return np.stack(boxes), np.asarray(confs), np.asarray(lost)


def test_the_scene_has_its_occlusions(scene):
    assert len(scene.frames) == SCENE_FRAMES
    assert 0.5 < scene.occluded.max() < 0.9  # partial, not total
    assert (scene.occluded > 0.3).sum() >= 6


@pytest.mark.parametrize("name", TRACKERS)
def test_tracker_on_semi_synthetic_ground_truth(name, scene, detector):
    tracker = create_tracker(name, detector if needs_detector(name) else None)
    assert tracker.name == name
    boxes, confs, lost = run(tracker, scene.frames, scene.boxes[0])
    m = metrics(boxes, scene.boxes)
    hidden = scene.occluded > 0.3
    m.update(lost_frames=int(lost.sum()), confidence_clear=float(confs[~hidden].mean()),
             confidence_occluded=float(confs[hidden].mean()))
    record("semi_synthetic", {name: m})
    least, most = THRESHOLDS[name]
    assert m["success"] >= least, m
    assert m["centre_error"] <= most, m
    assert ((confs >= 0) & (confs <= 1)).all()
    assert not lost[~hidden].any() or lost[~hidden].mean() < 0.05


@pytest.mark.parametrize("name", ["csrt", "kcf", "follow"])
def test_subject_leaving_is_flagged_lost(name, scene, detector, vtest):
    """Replace the subject by the plain background: the tracker must say so (None), not report garbage."""
    with FrameReader(vtest) as reader:
        empty = [reader.frame(i) for i in range(20, 32)]
    frames = list(scene.frames[:12]) + empty  # the background frames have no pasted man
    tracker = create_tracker(name, detector if needs_detector(name) else None)
    _, confs, lost = run(tracker, frames, scene.boxes[0])
    assert not lost[:12].any()
    assert lost[-6:].all(), f"{name}: lost flags {lost.astype(int).tolist()}"
    assert confs[-6:].max() < confs[1:12].min()


def test_tracker_names_and_errors():
    names = [n for n, _, _ in tracker_names()]
    assert set(TRACKERS) <= set(names)
    assert dict((n, why) for n, _, why in tracker_names())["csrt"] is None
    with pytest.raises(VisionError, match="no tracker named 'nope'"):
        create_tracker("nope")
    tracker = create_tracker("csrt")
    with pytest.raises(VisionError, match="init"):
        tracker.update(np.zeros((48, 64, 3), np.uint8))
    with pytest.raises(VisionError, match="outside"):
        tracker.init(np.zeros((48, 64, 3), np.uint8), np.array([100, 100, 120, 130]))


def test_large_frames_are_tracked_downscaled(scene):
    """A 4x upscaled frame is tracked on a smaller copy; boxes come back in full-frame pixels."""
    import cv2

    frames = [cv2.resize(f, None, fx=2.5, fy=2.5, interpolation=cv2.INTER_LINEAR) for f in scene.frames[:20]]
    truth = scene.boxes[:20] * 2.5
    tracker = create_tracker("csrt")
    boxes, _, lost = run(tracker, frames, truth[0])
    assert tracker._scale < 1.0
    assert metrics(boxes, truth)["success"] == 1.0
    assert not lost.any()


def _boxes(*rows) -> Detections:
    b = np.asarray(rows, np.float32).reshape(-1, 4)
    return Detections(b, np.full(len(b), 0.9, np.float32), np.zeros(len(b), np.int32))


def test_multitracker_gives_stable_ids_to_our_detections():
    """ultralytics' trackers fed with plain Detections (no model): two walkers keep their ids, in any order."""
    from core.plugins import registry

    for kind in ("botsort", "bytetrack"):
        multi = registry.create("multitracker", kind)
        seen = []
        for t in range(12):
            a = [100 + 5 * t, 100, 140 + 5 * t, 200]
            b = [400 - 4 * t, 120, 440 - 4 * t, 220]
            dets = _boxes(a, b) if t % 2 else _boxes(b, a)  # detection order changes every frame
            out = multi.update(dets, np.zeros((300, 500, 3), np.uint8))
            assert len(out.ids) == 2
            by_x = out.ids[np.argsort(out.boxes[:, 0])]
            seen.append(tuple(by_x))
            assert np.allclose(out.boxes[np.argsort(out.boxes[:, 0])][0], a, atol=3)
            assert set(out.det_index.tolist()) == {0, 1}
        assert len(set(seen)) == 1, f"{kind}: ids changed: {seen}"
        empty = multi.update(Detections.empty(), np.zeros((300, 500, 3), np.uint8))
        assert len(empty.ids) == 0


def test_id_follow_reassociates_when_the_id_disappears():
    """The followed id vanishes (a detector gap longer than the track buffer); the subject is re-found."""

    class Script:
        name, names = "script", {0: "person"}

        def __init__(self):
            self.frame = 0

        def detect(self, rgb, classes=None, conf=0.25):
            t = self.frame
            self.frame += 1
            if 5 <= t < 12:
                return Detections.empty()
            return _boxes([100 + 3 * t, 100, 140 + 3 * t, 200], [400, 100, 440, 200])

    rgb = np.full((300, 500, 3), 90, np.uint8)
    rgb[:, :250] = (200, 40, 40)  # the subject's side of the frame is red, the other one grey
    tracker = create_tracker("bytetrack", Script(), track_buffer=3, bridge=0, coast=0)
    tracker.init(rgb, np.array([100, 100, 140, 200]))
    first_id = tracker.track_id
    results = [tracker.update(rgb) for _ in range(1, 20)]
    assert all(box is not None for box, _ in results[:4])
    assert all(box is None for box, _ in results[4:11])
    box, conf = results[-1]
    assert box is not None and abs(box[0] - (100 + 3 * 19)) < 4, box
    assert tracker.track_id != first_id  # a new id was adopted


def test_tracking_makes_no_connection_attempts(scene, detector, monkeypatch):
    """With every socket connection refused, the detection-based trackers still run (and try none)."""
    import socket

    attempts = []

    def refuse(self, address, *args):
        attempts.append(address)
        raise OSError("network is unreachable (test)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    for name in ("follow", "botsort", "bytetrack"):
        _, _, lost = run(create_tracker(name, detector), scene.frames[:4], scene.boxes[0])
        assert not lost.any()
    assert attempts == []
