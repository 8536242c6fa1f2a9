"""What the tracking controller (:mod:`app.tracking`) uses: frame context, jobs, the undo command, texts.

Frames: the timeline shows source frame ``floor((f - clip.start + clip.source_in) / seq_rate * media_rate)``
at sequence frame ``f`` (as :class:`core.render.frame_source.TimelineFrameSource` decodes it); sessions,
detections and the overlay all use source frames and source pixels.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from PySide6.QtGui import QTransform, QUndoCommand

from core.jobs import check_cancelled
from core.project.media_store import MediaRecord
from core.time import seconds_to_frames
from core.timeline.model import Clip, Timeline
from core.vision.detect import detect_frame
from core.vision.types import Detections, Detector

__all__ = ["choose_tracker", "FrameContext", "frame_context", "fit_transform", "track_range", "describe_session",
           "SerialDetector", "DetectJob", "KeyframeCommand"]


def choose_tracker(from_detection: bool) -> str:
    """``follow`` (detector + re-identification) for a detected subject, ``csrt`` for a drawn box."""
    return "follow" if from_detection else "csrt"


@dataclass(frozen=True)
class FrameContext:
    """What is under the playhead: the clip, its media and the source frame shown."""
    clip: Clip
    media_id: int
    frame: int  # source frame of the media
    size: tuple[int, int]  # source (width, height)
    first: int  # first and last source frames the clip shows
    last: int
    name: str


class SerialDetector:
    """One detector shared by the Detect job and the trackers: one ``detect`` call at a time."""

    def __init__(self, detector: Detector):
        self.inner = detector
        self.name = getattr(detector, "name", "detector")
        self.names = getattr(detector, "names", {})
        self._lock = threading.Lock()

    def detect(self, rgb, classes=None, conf: float = 0.25) -> Detections:
        with self._lock:
            return self.inner.detect(rgb, classes=classes, conf=conf)


class DetectJob:
    """People (or every class when the model has no ``person``) on one source frame."""

    def __init__(self, path, frame: int, detector: Callable[[], Detector], conf: float, name: str):
        self.path, self.frame, self._detector, self.conf = path, int(frame), detector, float(conf)
        self.title = f"Detect people: {name} frame {frame}"

    def run(self, progress, cancelled) -> Detections:
        progress(0.0, "loading the detector")
        detector = self._detector()
        check_cancelled(cancelled)
        progress(0.5, f"detecting on frame {self.frame}")
        people = [int(k) for k, v in (getattr(detector, "names", {}) or {}).items() if v == "person"]
        dets, _size = detect_frame(self.path, self.frame, detector, conf=self.conf, classes=people or None)
        progress(1.0, f"{len(dets)} found")
        return dets


class KeyframeCommand(QUndoCommand):
    """A track correction at a frame: redo sets the new box, undo puts back the old one (or removes it)."""

    def __init__(self, controller, session_id: int, frame: int, box, old_box):
        super().__init__(f"correct track at frame {frame}")
        self.ctl, self.sid, self.frame, self.box, self.old = controller, session_id, frame, box, old_box

    def redo(self) -> None:
        if not self.ctl.set_keyframe(self.sid, self.frame, self.box):
            self.setObsolete(True)

    def undo(self) -> None:
        if not self.ctl.set_keyframe(self.sid, self.frame, self.old):
            self.setObsolete(True)


def frame_context(timeline: Timeline, frame: int, media: Callable[[int], MediaRecord | None]) -> FrameContext | None:
    """The top visible video clip at sequence ``frame``, its media and the source frame it shows."""
    stack = timeline.video_stack(frame)
    if not stack:
        return None
    clip = stack[0][0]
    rec = media(clip.media_id)
    if rec is None or rec.kind != "video" or rec.info.video is None:
        return None
    v = rec.info.video

    def source(f: int) -> int:
        return min(max(seconds_to_frames(timeline.source_seconds(clip, f), v.rate, "floor"), 0), v.frame_count - 1)

    return FrameContext(clip, clip.media_id, source(frame), (int(v.width), int(v.height)), source(clip.start),
                        source(clip.end - 1), rec.name)


def fit_transform(source: tuple[int, int], picture: tuple[int, int] | None) -> QTransform:
    """Source pixels -> picture pixels when the source is fitted (aspect kept, centred) into the picture,
    as core.render.frame_source.fit_into does."""
    w, h = source
    if picture is None or (w, h) == tuple(picture):
        return QTransform()
    scale = min(picture[0] / w, picture[1] / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    return QTransform(nw / w, 0, 0, nh / h, (picture[0] - nw) // 2, (picture[1] - nh) // 2)


def track_range(first: int, last: int, frame: int, limit: int | None) -> tuple[int, int]:
    """``first``..``last``, cut to at most ``limit`` frames centred on ``frame``."""
    if not limit or last - first + 1 <= limit:
        return first, last
    lo = max(first, frame - limit // 2)
    hi = min(last, lo + limit - 1)
    return max(first, hi - limit + 1), hi


def describe_session(session, ranges: list[tuple[int, int]], running: bool) -> str:
    """One line for the inspector's track list."""
    if running:
        state = "tracking..."
    elif session.status == "in_progress":
        state = "paused, can resume" if session.note == "cancelled" else "unfinished, can resume"
    elif session.status == "failed":
        state = f"failed: {session.error}"
    else:
        state = session.status.replace("_", " ")
    done = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in ranges) or "none"
    return (f"{session.subject or f'Track {session.id}'} [{session.tracker}] {state}; "
            f"frames {session.first_frame}-{session.last_frame}, tracked {done}")
