"""track_video: forward + backward from a middle frame, one entry per frame, lost frames, progress, cancel."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import JobCancelled
from core.media.reader import FrameReader
from core.plugins import Entry, registry
from core.vision.tracking import TrackStepper, TrackVideoJob, frames_between, select_at, track_video
from core.vision.types import Detections, TrackResult, VisionError

# a pedestrian on vtest.avi frame 100 (by eye), walking left
BOX = np.array([349.0, 200.0, 384.0, 274.0])


def test_frames_between_backward_is_the_forward_order_reversed(vtest):
    with FrameReader(vtest) as reader:
        forward = list(frames_between(reader, 20, 60))
        backward = list(frames_between(reader, 60, 20, block=7))
        assert [i for i, _ in backward] == list(range(60, 19, -1))
        for (i, a), (j, b) in zip(forward, reversed(backward)):
            assert i == j and np.array_equal(a, b)
        assert [i for i, _ in frames_between(reader, 5, 5)] == [5]


def test_track_video_forward_and_backward_from_a_middle_frame(vtest):
    calls = []
    result = track_video(vtest, BOX, 100, frames=(80, 130), tracker="kcf",
                         progress=lambda f, m="": calls.append(f))
    assert [p.frame for p in result.frames] == list(range(80, 131))
    start = result.frames[100 - 80]
    assert start.bbox == tuple(BOX) and start.confidence == 1.0 and not start.lost
    assert result.tracker == "kcf" and result.size == (768, 576) and result.fps == 10.0
    assert all(p.bbox is not None and len(p.bbox) == 4 for p in result.frames)
    # both directions moved the box away from the start (the pedestrian walks)
    assert result.frames[0].bbox != start.bbox and result.frames[-1].bbox != start.bbox
    assert calls == sorted(calls) and calls[-1] == 1.0 and len(calls) >= 51


def test_whole_clip_and_range_ends(vtest):
    with FrameReader(vtest) as reader:
        n = reader.frame_count
        result = track_video(reader, BOX, n - 1, frames=(n - 4, None), tracker="kcf")
        assert [p.frame for p in result.frames] == list(range(n - 4, n))
        result = track_video(reader, BOX, 0, frames=(None, 0), tracker="kcf")
        assert len(result.frames) == 1 and not reader.closed
    with pytest.raises(VisionError, match="outside the clip"):
        track_video(vtest, BOX, 10, frames=(0, 10_000), tracker="kcf")
    with pytest.raises(VisionError, match="outside the tracked range"):
        track_video(vtest, BOX, 50, frames=(0, 10), tracker="kcf")
    with pytest.raises(VisionError, match="outside the 768x576 frame"):
        track_video(vtest, [900, 10, 950, 60], 5, frames=(0, 10), tracker="kcf")


class Blinking:
    """A tracker that loses the subject on every third frame it is asked about."""

    name = "blink"
    keypoints = None

    def __init__(self, detector=None):
        self.n = 0

    def init(self, rgb, box):
        self.box = np.asarray(box, np.float32)

    def update(self, rgb):
        self.n += 1
        if self.n % 3 == 0:
            return None, 0.1
        self.box = self.box + 1
        return self.box, 0.9


@pytest.fixture
def blink(monkeypatch):
    registry.load_plugins()
    monkeypatch.setitem(registry._entries, ("tracker", "blink"),
                        Entry("tracker", "blink", Blinking, "test", lambda: None, "test"))


def test_lost_frames_are_flagged_and_keep_the_last_box(vtest, blink, tmp_path):
    result = track_video(vtest, BOX, 10, frames=(0, 20), tracker="blink")
    by_frame = {p.frame: p for p in result.frames}
    assert len(result.frames) == 21
    for f in (13, 16, 19, 7, 4, 1):  # every third step, both directions
        assert by_frame[f].lost and by_frame[f].confidence == pytest.approx(0.1)
        prev = by_frame[f - 1 if f > 10 else f + 1]
        assert by_frame[f].bbox == prev.bbox
    assert not by_frame[12].lost and by_frame[12].bbox[0] == BOX[0] + 2
    assert sum(p.lost for p in result.frames) == 6
    result.save(tmp_path / "t.json")
    again = TrackResult.load(tmp_path / "t.json")
    assert [p.lost for p in again.frames] == [p.lost for p in result.frames]


def test_cancel_stops_the_job(vtest, blink):
    seen = []

    def progress(fraction, message=""):
        seen.append(fraction)

    with pytest.raises(JobCancelled):
        track_video(vtest, BOX, 10, frames=(0, 30), tracker="blink", progress=progress,
                    cancelled=lambda: len(seen) >= 5)
    assert len(seen) == 5
    job = TrackVideoJob(vtest, tuple(BOX), 10, (5, 15), "blink")
    assert "vtest.avi" in job.title
    assert len(job.run(lambda f, m="": None, lambda: False).frames) == 11


def test_stepper_for_sessions(vtest):
    from core.vision.trackers import create_tracker

    with FrameReader(vtest) as reader:
        stepper = TrackStepper(create_tracker("kcf"), 100, reader.frame(100), BOX)
        assert stepper.first.frame == 100 and stepper.first.bbox == tuple(BOX)
        points = [stepper.step(i, rgb) for i, rgb in frames_between(reader, 99, 95)]
    assert [p.frame for p in points] == [99, 98, 97, 96, 95]


class Nested:
    name, names = "fake", {0: "person"}

    def detect(self, rgb, classes=None, conf=0.25):
        boxes = np.array([[10, 10, 300, 300], [50, 50, 120, 200], [400, 40, 450, 150]], np.float32)
        return Detections(boxes, np.full(3, 0.9, np.float32), np.zeros(3, np.int32))


def test_select_at_picks_the_smallest_box_under_the_point(vtest):
    assert select_at(vtest, 3, 60, 60, Nested()).tolist() == [50, 50, 120, 200]
    assert select_at(vtest, 3, 200, 250, Nested()).tolist() == [10, 10, 300, 300]
    with pytest.raises(VisionError, match="no detection contains the point"):
        select_at(vtest, 3, 700, 500, Nested())
    with pytest.raises(VisionError, match="outside the clip"):
        select_at(vtest, 99_999, 60, 60, Nested())
