"""Run a tracking session: the resumable, cancellable :class:`TrackJob`.

The job works off the session's pending passes (see :mod:`core.vision.sessions`),
each from a keyframe forward or backward, in batches of ``session.batch``
frames. Every batch is committed in ONE transaction together with the pass's
cursor and the session's checkpoint, so after a kill -9 the rows and the
checkpoint always agree (no gap, no row beyond the checkpoint, and the
``(session, frame)`` primary key rules out duplicates).

Determinism — why a resumed run writes exactly the rows of an uninterrupted one:

* batches are aligned to the pass origin (frames ``origin ± (k·B+1 .. (k+1)·B)``);
* at the start of EVERY batch a fresh tracker is created and initialised on
  the frame just before the batch with the box *as stored in the project file*
  for that frame (the keyframe for the first batch). An uninterrupted run does
  this too, so resuming from a checkpoint (always a batch boundary) repeats
  exactly what the uninterrupted run did: same frames (frame-accurate decode),
  same init box (read back from the same row), same tracker state;
* a cancelled or killed batch is discarded and re-done whole on resume.

The price is that a tracker's internal history (appearance model, motion
model, ids) restarts every ``B`` frames; ``batch`` is a session setting
(default 25 frames) for trackers that profit from longer memory.

A lost frame keeps the last known box (``lost=1``); a batch that starts after
a lost frame re-initialises from that box. Frames are RGB, read with a strict
:class:`~core.media.reader.FrameReader` (a frame that cannot be decoded fails
the session instead of silently repeating the last one).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Callable

import numpy as np

from core.jobs import CancelledFn, ProgressFn, check_cancelled, recorded_outcome
from core.media.reader import FrameReader
from core.project.media_store import media_path
from core.project.project import Project, now_iso
from core.vision.sessions import TrackPass, TrackSession, get_session, passes
from core.vision.types import SingleTracker, VisionError

__all__ = ["TrackJob", "run_session", "default_tracker_factory"]

TrackerFactory = Callable[[], SingleTracker]


def default_tracker_factory(name: str, params: dict[str, Any]) -> TrackerFactory:
    """Make trackers with :func:`core.vision.trackers.create_tracker`; a detector the
    first tracker loaded (``tracker.detector``) is handed to the later ones."""
    shared: dict[str, Any] = {}

    def make() -> SingleTracker:
        from core.vision.trackers import create_tracker

        kwargs = dict(params)
        if shared.get("detector") is not None and "detector" not in kwargs:
            kwargs["detector"] = shared["detector"]
        tracker = create_tracker(name, **kwargs)
        shared.setdefault("detector", getattr(tracker, "detector", None))
        return tracker

    return make


def _valid(box: Any) -> np.ndarray | None:
    if box is None:
        return None
    b = np.asarray(box, np.float64).reshape(-1)
    if b.size != 4 or not np.isfinite(b).all() or b[2] - b[0] <= 0 or b[3] - b[1] <= 0:
        return None
    return b


class TrackJob:
    """Track (or resume tracking) one session. ``run`` returns the finished :class:`TrackSession`.

    ``tracker_factory`` returns a NEW tracker each call (default: the registry's
    tracker named by the session). ``on_batch(session_id, frame)`` is called
    after every committed batch (tests and the GUI's live refresh use it).
    """

    def __init__(self, project: Project, session_id: int, tracker_factory: TrackerFactory | None = None,
                 on_batch: Callable[[int, int], None] | None = None):
        self.project = project
        self.session_id = int(session_id)
        session = get_session(project, self.session_id)
        self.title = f"Track {session.subject or session.tracker} (#{session.id})"
        self._factory = tracker_factory or default_tracker_factory(session.tracker, session.params)
        self._on_batch = on_batch
        self._done = 0
        self._total = 0

    # Job protocol: the state lives in the project file
    def checkpoint(self) -> dict:
        return {"session": self.session_id}

    def resume(self, state: dict) -> None:
        if int(state.get("session", self.session_id)) != self.session_id:
            raise VisionError("this checkpoint belongs to another tracking session")

    def run(self, progress: ProgressFn, cancelled: CancelledFn) -> TrackSession:
        session = get_session(self.project, self.session_id)
        todo = passes(self.project, session.id)
        self._total = max(1, sum(p.remaining for p in todo))
        self._done = 0
        if not todo:
            self._set_status("complete", None, "")
            progress(1.0, "complete")
            return get_session(self.project, session.id)
        progress(0.0, f"tracking {session.subject or 'subject'}")
        reader = None
        try:
            with recorded_outcome(self._set_status, "tracking", VisionError):
                reader = FrameReader(media_path(self.project, session.media_id), strict=True,
                                     cache_size=session.batch + 2)
                while todo:
                    self._run_pass(session, todo[0], reader, progress, cancelled)
                    todo = passes(self.project, session.id)
        finally:
            if reader is not None:
                reader.close()
        self._set_status("complete", None, "")
        progress(1.0, "complete")
        return get_session(self.project, session.id)

    # ------------------------------------------------------------ internals

    def _set_status(self, status: str, error: str | None, note: str) -> None:
        with self.project.transaction("tracking status", notify=False):
            if status == "in_progress":  # a cancel before any batch leaves a fresh session untouched
                status_sql = ("CASE WHEN status = 'not_started' AND NOT EXISTS (SELECT 1 FROM track_passes p "
                              "WHERE p.session_id = track_sessions.id AND p.cursor IS NOT NULL) "
                              "THEN 'not_started' ELSE 'in_progress' END")
                self.project.execute(f"UPDATE track_sessions SET status = {status_sql}, error = NULL, note = ?, "
                                     "updated_at = ? WHERE id = ?", (note, now_iso(), self.session_id))
            else:
                if status == "complete":  # unless a correction queued more work meanwhile
                    status = "in_progress" if passes(self.project, self.session_id) else "complete"
                self.project.execute("UPDATE track_sessions SET status = ?, error = ?, note = ?, updated_at = ? "
                                     "WHERE id = ?", (status, error, note, now_iso(), self.session_id))

    def _init_box(self, session: TrackSession, p: TrackPass) -> np.ndarray:
        row = self.project.query("SELECT x1, y1, x2, y2 FROM track_rows WHERE session_id = ? AND frame = ?",
                                 (session.id, p.position))
        box = _valid(row[0]) if row and row[0][0] is not None else None
        if box is None:
            raise VisionError(f"frame {p.position} has no box to continue tracking from")
        return box.astype(np.float32)

    def _run_pass(self, session: TrackSession, p: TrackPass, reader: FrameReader,
                  progress: ProgressFn, cancelled: CancelledFn) -> None:
        d, batch = p.direction, session.batch
        while p.position != p.stop:
            check_cancelled(cancelled)
            start = p.position
            end = start + d * batch
            end = min(end, p.stop) if d > 0 else max(end, p.stop)
            if d < 0:
                # warm the reader's cache in decode order, so that going backward does not seek
                # for every frame (a codec without timestamps would decode from the start each time)
                for i in range(end, start + 1):
                    reader.frame(i)
            tracker = self._factory()
            last = self._init_box(session, p)
            tracker.init(reader.frame(start), last)
            rows = []
            for f in range(start + d, end + d, d):
                check_cancelled(cancelled)
                got, conf = tracker.update(reader.frame(f))
                box = _valid(got)
                conf = float(conf) if conf is not None and math.isfinite(float(conf)) else 0.0
                lost = box is None
                if not lost:
                    last = np.asarray(box, np.float32)  # what the row stores, exactly (float32 -> REAL)
                kp = getattr(tracker, "keypoints", None)
                kp_json = None if kp is None or lost else json.dumps(np.asarray(kp, np.float64).tolist())
                rows.append((session.id, f, *(float(v) for v in last), conf, int(lost), kp_json))
                self._done += 1
                progress(min(self._done / self._total, 0.999), f"frame {f}")
            p = self._commit(session, p, rows, end)
            if p is None:  # the pass changed under us (a correction): re-plan
                return
            progress(min(self._done / self._total, 0.999), f"checkpoint {end}")
            if self._on_batch is not None:
                self._on_batch(session.id, end)

    def _commit(self, session: TrackSession, p: TrackPass, rows: list, end: int) -> TrackPass | None:
        """Write one batch and move the checkpoint, atomically. None when the pass is gone or moved."""
        project, sid = self.project, session.id
        with project.transaction("track batch", notify=False):
            now = project.query("SELECT cursor, stop FROM track_passes WHERE id = ?", (p.id,))
            if not now or now[0][0] != p.cursor or now[0][1] != p.stop:
                return None
            project.conn.executemany(
                "INSERT OR REPLACE INTO track_rows(session_id, frame, x1, y1, x2, y2, confidence, lost, keypoints) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            if end == p.stop:
                project.execute("DELETE FROM track_passes WHERE id = ?", (p.id,))
            else:
                project.execute("UPDATE track_passes SET cursor = ? WHERE id = ?", (end, p.id))
            column = "checkpoint_frame" if p.direction > 0 else "checkpoint_back"
            seed = ", " + column + " = ?" if p.origin == session.start_frame else ""
            args = (now_iso(), end, sid) if seed else (now_iso(), sid)
            project.execute(f"UPDATE track_sessions SET status = 'in_progress', error = NULL, note = ''"
                            f", updated_at = ?{seed} WHERE id = ?", args)
        return TrackPass(p.id, p.origin, p.direction, p.stop, end)


def run_session(project_path: str | Path, session_id: int, progress: ProgressFn | None = None,
                cancelled: CancelledFn | None = None, tracker_factory: TrackerFactory | None = None) -> TrackSession:
    """Open the project file, run (or resume) the session to the end, close it (for the CLI / a worker)."""
    project = Project.open(project_path)
    try:
        job = TrackJob(project, session_id, tracker_factory)
        return job.run(progress or (lambda *a, **k: None), cancelled or (lambda: False))
    finally:
        project.close()
