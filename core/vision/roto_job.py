"""Propagate a roto object: the resumable, cancellable :class:`RotoJob`.

The job works off the object's passes (:mod:`core.vision.roto`), each from a
keyframe forward or backward, in batches of ``object.batch`` frames; every
batch is committed in ONE transaction with its pass's cursor, so after a
kill -9 the stored mattes and the cursor always agree (the primary key
``(object, frame, direction)`` rules out duplicates). The batch that was
running is discarded and done again.

A resumed run writes exactly what an uninterrupted one would: a propagation
step depends only on (previous frame, previous matte, this frame, optional
box) — see :class:`core.vision.propagate.Propagator` — and the previous
matte is read back from the project file, which stores it losslessly (PNG).

``directions`` limits a run to forward (+1) or backward (-1) passes (the
viewer's Propagate Forward / Backward). When every pass is done the Bezier shapes are fitted from the mattes and
cached in the object (``fit_shapes=False`` skips that).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np

from core.jobs import CancelledFn, ProgressFn, check_cancelled, recorded_outcome
from core.media.reader import FrameReader
from core.project.media_store import media_path
from core.project.project import Project, now_iso
from core.vision.roto import (RotoObject, RotoPass, animation, decode_matte, encode_matte, get_object, passes)
from core.vision.types import VisionError

__all__ = ["RotoJob", "run_roto", "track_boxes"]


def track_boxes(project: Project, session_id: int | None) -> dict[int, np.ndarray]:
    """frame -> box [x1, y1, x2, y2] of a tracking session's found (not lost) rows."""
    if session_id is None:
        return {}
    rows = project.query("SELECT frame, x1, y1, x2, y2 FROM track_rows WHERE session_id = ? AND lost = 0 AND "
                         "x1 IS NOT NULL", (int(session_id),))
    return {int(f): np.array([x1, y1, x2, y2], np.float64) for f, x1, y1, x2, y2 in rows}


class RotoJob:
    """Propagate (or resume propagating) one roto object; ``run`` returns the finished :class:`RotoObject`.

    ``on_batch(object_id, frame)`` is called after every committed batch (the
    GUI refreshes the viewer with it; the crash test uses it).
    """

    def __init__(self, project: Project, object_id: int, fit_shapes: bool = True,
                 on_batch: Callable[[int, int], None] | None = None, propagator: Any = None,
                 directions: tuple[int, ...] = (1, -1)):
        self.project = project
        self.object_id = int(object_id)
        obj = get_object(project, self.object_id)
        self.title = f"Propagate {obj.name}"
        self.fit_shapes = fit_shapes
        self._on_batch = on_batch
        self._propagator = propagator
        self.directions = tuple(int(d) for d in directions)
        if not self.directions or any(d not in (1, -1) for d in self.directions):
            raise VisionError("propagation directions must be +1 (forward) and/or -1 (backward)")
        self._done = 0
        self._total = 1

    def checkpoint(self) -> dict:
        return {"roto_object": self.object_id}

    def resume(self, state: dict) -> None:
        if int(state.get("roto_object", self.object_id)) != self.object_id:
            raise VisionError("this checkpoint belongs to another roto object")

    def _make_propagator(self, obj: RotoObject):
        if self._propagator is not None:
            return self._propagator
        from core.vision.propagate import Propagator

        try:
            return Propagator(**obj.propagation)
        except TypeError as exc:
            raise VisionError(f"{obj.name}: bad propagation options {obj.propagation} ({exc})") from None

    def run(self, progress: ProgressFn, cancelled: CancelledFn) -> RotoObject:
        obj = get_object(self.project, self.object_id)
        if not obj.keyframes:
            raise VisionError(f"{obj.name}: no keyframe yet: draw a box or click points on a frame first")
        todo = self._todo()
        self._total = max(1, sum(p.remaining for p in todo))
        self._done = 0
        reader = None
        share = 0.9 if self.fit_shapes else 1.0
        try:
            with recorded_outcome(self._set_status, "propagation", VisionError):
                if todo:
                    progress(0.0, f"propagating {obj.name}")
                    propagator = self._make_propagator(obj)
                    boxes = track_boxes(self.project, obj.track_session_id)
                    reader = FrameReader(media_path(self.project, obj.media_id), strict=True,
                                         cache_size=obj.batch + 2)
                    while todo:
                        self._run_pass(obj, todo[0], reader, propagator, boxes, progress, cancelled, share)
                        todo = self._todo()
                if self.fit_shapes and not passes(self.project, obj.id):
                    check_cancelled(cancelled)
                    animation(self.project, obj.id,
                              progress=lambda f, m="": progress(share + (1 - share) * f, m))
        finally:
            if reader is not None:
                reader.close()
        self._set_status("complete", None, "")
        progress(1.0, "complete")
        return get_object(self.project, obj.id)

    # ------------------------------------------------------------ internals

    def _todo(self) -> list[RotoPass]:
        return [p for p in passes(self.project, self.object_id) if p.direction in self.directions]

    def _set_status(self, status: str, error: str | None, note: str) -> None:
        with self.project.transaction("roto status", notify=False):
            if status == "complete" and passes(self.project, self.object_id):
                status = "in_progress"  # a keyframe queued more work meanwhile
            self.project.execute("UPDATE roto_objects SET status = ?, error = ?, note = ?, updated_at = ? "
                                 "WHERE id = ?", (status, error, note, now_iso(), self.object_id))

    def _start_matte(self, obj: RotoObject, p: RotoPass) -> tuple[np.ndarray, int]:
        direction = 0 if p.cursor is None else p.direction
        rows = self.project.query("SELECT png, origin_rev FROM roto_masks WHERE object_id = ? AND frame = ? AND "
                                  "direction = ?", (obj.id, p.position, direction))
        if not rows:
            raise VisionError(f"{obj.name}: frame {p.position} has no matte to continue from")
        return decode_matte(rows[0][0]), int(rows[0][1])

    def _run_pass(self, obj: RotoObject, p: RotoPass, reader: FrameReader, propagator, boxes: dict,
                  progress: ProgressFn, cancelled: CancelledFn, share: float) -> None:
        d = p.direction
        prev_matte, rev = self._start_matte(obj, p)
        prev_rgb = reader.frame(p.position)
        while p.position != p.stop:
            check_cancelled(cancelled)
            start = p.position
            end = start + d * obj.batch
            end = min(end, p.stop) if d > 0 else max(end, p.stop)
            if d < 0:  # warm the cache in decode order so going backward does not seek per frame
                for i in range(end, start):
                    reader.frame(i)
            rows = []
            for f in range(start + d, end + d, d):
                check_cancelled(cancelled)
                rgb = reader.frame(f)
                m = propagator.step(prev_rgb, prev_matte, rgb, boxes.get(f))
                rows.append((obj.id, f, d, p.origin, rev, encode_matte(m), int(np.count_nonzero(m >= 128))))
                prev_rgb, prev_matte = rgb, m
                self._done += 1
                progress(share * min(self._done / self._total, 0.999), f"frame {f}")
            p = self._commit(obj, p, rows, end)
            if p is None:  # the keyframes changed under us: re-plan from the project file
                return
            if self._on_batch is not None:
                self._on_batch(obj.id, end)

    def _commit(self, obj: RotoObject, p: RotoPass, rows: list, end: int) -> RotoPass | None:
        project = self.project
        with project.transaction("roto batch", notify=False):
            now = project.query("SELECT cursor, stop FROM roto_passes WHERE id = ?", (p.id,))
            if not now or now[0][0] != p.cursor or now[0][1] != p.stop:
                return None
            project.conn.executemany(
                "INSERT OR REPLACE INTO roto_masks(object_id, frame, direction, origin, origin_rev, png, area) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            if end == p.stop:
                project.execute("DELETE FROM roto_passes WHERE id = ?", (p.id,))
            else:
                project.execute("UPDATE roto_passes SET cursor = ? WHERE id = ?", (end, p.id))
            project.execute("UPDATE roto_objects SET status = 'in_progress', error = NULL, note = '', shapes = NULL, "
                            "updated_at = ? WHERE id = ?", (now_iso(), obj.id))
        return RotoPass(p.id, p.origin, p.direction, p.stop, end)


def run_roto(project_path: str | Path, object_id: int, progress: ProgressFn | None = None,
             cancelled: CancelledFn | None = None, fit_shapes: bool = True) -> RotoObject:
    """Open the project file, propagate the object to the end, close it (CLI / worker process)."""
    project = Project.open(project_path)
    try:
        return RotoJob(project, object_id, fit_shapes=fit_shapes).run(progress or (lambda *a, **k: None),
                                                                       cancelled or (lambda: False))
    finally:
        project.close()

