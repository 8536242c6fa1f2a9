"""Track one subject through a clip, forward and backward from the frame where it was picked.

* :func:`track_video` — the whole job: one tracker runs forward from
  ``start_frame`` to the end of the range, a fresh one backward to its start;
  the result has one :class:`~core.vision.types.TrackPoint` per frame of the
  range, in frame order (lost frames keep the last known box, flagged).
* :func:`select_at` — the detection box under a point (``--select-at X,Y``).
* :class:`TrackVideoJob` — :func:`track_video` as a :class:`core.jobs.Job`.

For resumable tracking sessions (checkpoints in the project file) use the
two building blocks directly::

    tracker = create_tracker("follow", detector)          # core.vision.trackers
    stepper = TrackStepper(tracker, frame, rgb, box)      # init on the picked frame
    for index, rgb in frames_between(reader, frame + 1, last):   # or last < frame: backward
        point = stepper.step(index, rgb)                  # a TrackPoint; write it, checkpoint ...

A tracker's state cannot be saved, so resuming from a checkpoint re-creates
the tracker and re-initialises it with the box of the checkpoint frame (a
TrackStepper on that frame).

Frame ranges are inclusive: ``frames=(a, b)`` tracks frames a, a+1, ..., b.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from core.jobs import CancelledFn, ProgressFn, check_cancelled
from core.media.reader import FrameReader
from core.vision.types import Detector, TrackPoint, TrackResult, VisionError

BLOCK_BYTES = 256 << 20  # backward reading decodes forward in blocks of at most this much RGB


def _block_size(reader: FrameReader) -> int:
    w, h = reader.size
    return int(max(8, min(64, BLOCK_BYTES // (w * h * 3))))


def frames_between(reader: FrameReader, first: int, last: int, block: int | None = None
                   ) -> Iterator[tuple[int, np.ndarray]]:
    """``(index, rgb)`` for frames ``first`` .. ``last`` inclusive, in that order (backward when last < first).

    Backward, the frames are decoded forward in blocks (``block`` frames, by
    default as many as fit in 256 MB up to 64) and handed out in reverse, so
    each block costs one seek instead of one seek per frame.
    """
    if last >= first:
        for i in range(first, last + 1):
            yield i, reader.frame(i)
        return
    block = int(block or _block_size(reader))
    hi = first
    while hi >= last:
        lo = max(last, hi - block + 1)
        chunk = [reader.frame(i) for i in range(lo, hi + 1)]
        for i in range(hi, lo - 1, -1):
            yield i, chunk[i - lo]
        hi = lo - 1


def _keypoints(tracker) -> list[list[float]] | None:
    kp = getattr(tracker, "keypoints", None)
    return None if kp is None else np.asarray(kp, np.float64).reshape(-1, 3).tolist()


class TrackStepper:
    """Feed one tracker frame by frame; turns its answers into TrackPoints (lost frames keep the last box)."""

    def __init__(self, tracker, frame: int, rgb: np.ndarray, box):
        box = np.asarray(box, np.float64).reshape(4)
        tracker.init(rgb, box)
        self.tracker = tracker
        self.last_box: tuple[float, ...] = tuple(float(v) for v in box)
        self.first = TrackPoint(int(frame), self.last_box, 1.0, False, _keypoints(tracker))

    def step(self, frame: int, rgb: np.ndarray) -> TrackPoint:
        box, conf = self.tracker.update(rgb)
        if box is None:
            return TrackPoint(int(frame), self.last_box, float(conf), True)
        self.last_box = tuple(float(v) for v in np.asarray(box).reshape(4))
        return TrackPoint(int(frame), self.last_box, float(conf), False, _keypoints(self.tracker))


def _open(video) -> tuple[FrameReader, bool]:
    if isinstance(video, FrameReader):
        return video, False
    return FrameReader(video, cache_size=64), True


def _range(frames, count: int) -> tuple[int, int]:
    a, b = (0, count - 1) if frames is None else frames
    a = 0 if a is None else int(a)
    b = count - 1 if b is None else int(b)
    if not 0 <= a <= b < count:
        raise VisionError(f"frame range {a}:{b} is outside the clip (frames 0-{count - 1})")
    return a, b


def _check_box(box, size: tuple[int, int]) -> np.ndarray:
    box = np.asarray(box, np.float64).reshape(4)
    w, h = size
    if not np.isfinite(box).all() or box[2] <= box[0] or box[3] <= box[1]:
        raise VisionError(f"the box {box.tolist()} needs x2 > x1 and y2 > y1")
    if box[2] <= 0 or box[3] <= 0 or box[0] >= w or box[1] >= h:
        raise VisionError(f"the box {np.round(box, 1).tolist()} is outside the {w}x{h} frame")
    return box


def track_video(video, box, start_frame: int, frames: tuple[int | None, int | None] | None = None,
                tracker: str = "csrt", progress: ProgressFn | None = None, cancelled: CancelledFn | None = None,
                detector: Detector | None = None, model: str | None = None, **params) -> TrackResult:
    """Track the subject in ``box`` (``[x1, y1, x2, y2]`` on ``start_frame``) over ``frames`` (inclusive).

    ``video`` is a path or an open :class:`FrameReader`. ``tracker`` is a
    name from :mod:`core.vision.trackers` (extra keyword arguments are its
    parameters); ``detector`` (or ``model``, a model name for
    :func:`core.vision.detect.create_detector`) serves the detection-based
    trackers. ``progress(fraction, message)`` is called per frame and
    ``cancelled()`` checked per frame (raises :class:`~core.errors.JobCancelled`).
    """
    from core.vision.trackers import create_tracker, needs_detector

    reader, owned = _open(video)
    try:
        a, b = _range(frames, reader.frame_count)
        start = int(start_frame)
        if not a <= start <= b:
            raise VisionError(f"the start frame {start} is outside the tracked range {a}:{b}")
        box = _check_box(box, reader.size)
        if needs_detector(tracker) and detector is None:
            from core.vision.detect import create_detector

            detector = create_detector(model)
        total = b - a + 1
        done = 0
        points: dict[int, TrackPoint] = {}
        report = progress or (lambda fraction, message="": None)
        is_cancelled = cancelled or (lambda: False)
        passes = [(last, step) for last, step in ((b, 1), (a, -1)) if last != start] or [(start, 1)]
        for last, step in passes:  # forward, then backward
            check_cancelled(is_cancelled)
            stepper = TrackStepper(create_tracker(tracker, detector, **params), start, reader.frame(start), box)
            if start not in points:
                points[start] = stepper.first
                done += 1
                report(done / total, f"frame {start}")
            if last == start:
                continue
            for index, rgb in frames_between(reader, start + step, last):
                check_cancelled(is_cancelled)
                points[index] = stepper.step(index, rgb)
                done += 1
                report(done / total, f"frame {index}")
        report(1.0, "done")
        name = str(video) if not isinstance(video, FrameReader) else str(reader.path)
        return TrackResult(name, float(reader.rate), tuple(reader.size), tracker, [points[i] for i in range(a, b + 1)])
    finally:
        if owned:
            reader.close()


def select_at(video, frame: int, x: float, y: float, detector: Detector | None = None, model: str | None = None,
              conf: float = 0.25) -> np.ndarray:
    """The smallest detection box on ``frame`` that contains the point (x, y): float32 ``[x1, y1, x2, y2]``."""
    if detector is None:
        from core.vision.detect import create_detector

        detector = create_detector(model)
    reader, owned = _open(video)
    try:
        if not 0 <= int(frame) < reader.frame_count:
            raise VisionError(f"frame {frame} is outside the clip (frames 0-{reader.frame_count - 1})")
        dets = detector.detect(reader.frame(int(frame)), conf=conf)
    finally:
        if owned:
            reader.close()
    boxes = np.asarray(dets.boxes, np.float64).reshape(-1, 4)
    inside = (boxes[:, 0] <= x) & (x <= boxes[:, 2]) & (boxes[:, 1] <= y) & (y <= boxes[:, 3])
    if not inside.any():
        raise VisionError(f"no detection contains the point ({x:g}, {y:g}) on frame {frame} "
                          f"({len(boxes)} found): pick a point inside a box `luma detect` prints, or give --bbox")
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    pick = int(np.argmin(np.where(inside, area, np.inf)))
    return boxes[pick].astype(np.float32)


@dataclass
class TrackVideoJob:
    """:func:`track_video` as a job for the GUI's runner or :func:`core.jobs.run_in_terminal`."""

    video: str | os.PathLike
    box: tuple[float, float, float, float]
    start_frame: int
    frames: tuple[int | None, int | None] | None = None
    tracker: str = "csrt"
    detector: Detector | None = None
    model: str | None = None
    params: dict = field(default_factory=dict)

    @property
    def title(self) -> str:
        return f"Track {Path(self.video).name} ({self.tracker})"

    def run(self, progress: ProgressFn, cancelled: CancelledFn) -> TrackResult:
        return track_video(self.video, self.box, self.start_frame, self.frames, self.tracker, progress, cancelled,
                           self.detector, self.model, **self.params)
