"""Detect and track subjects from the main window: the Track menu, the viewer overlay, the inspector's track list.

:class:`TrackingController` wires :class:`~widgets.viewer.overlay.TrackOverlay`
and the inspector to :mod:`core.vision`:

* **Detect People** (Ctrl+D) runs the detector on the source frame under the
  playhead on the job runner (loading a model takes seconds) and shows the
  boxes; clicking one chooses it. **Draw Box** (B) draws any box instead.
* **Track Subject** (Ctrl+T) creates a tracking session for the chosen box over
  the source frames of the clip under the playhead (``max_track_frames`` limits
  that, centred on the frame) and runs a :class:`~core.vision.session_job.TrackJob`
  with progress and cancel in the Jobs panel; the overlay follows each batch.
  Tracker: ``follow`` for a detected person, ``csrt`` for a drawn box (or the
  ``tracker`` given to the controller).
* Dragging or resizing the track box stores a keyframe and re-tracks from it
  (undoable: undo restores the previous keyframe, or removes it, and re-tracks).
* Sessions left unfinished (quit, crash, cancel) are counted when a project
  opens ("N tracking sessions can resume"); **Resume Tracking** continues them
  from their checkpoints. **Delete Track** (confirmed; not undoable) removes one.

Sessions, detections and the overlay all use source frames and source pixels
(:func:`app.tracking_support.frame_context` maps the playhead to them).
"""

from __future__ import annotations

import threading
from typing import Callable

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import QMessageBox

from app.frame_controller import FrameController
from app.tracking_support import (DetectJob, FrameContext, KeyframeCommand, SerialDetector, choose_tracker,
                                  describe_session, fit_transform, track_range)
from core.errors import LumaError
from core.project.media_store import MediaRecord, media_path
from core.timeline.model import Clip
from core.vision.detect import create_detector
from core.vision.session_job import TrackJob
from core.vision.sessions import (DEFAULT_BATCH, add_keyframe, create_session, delete_session, get_session,
                                  keyframes, list_sessions, passes, remove_keyframe, row_arrays, tracked_ranges)
from core.vision.trackers import create_tracker, needs_detector
from core.vision.types import Detections, Detector
from widgets.viewer.overlay import TrackOverlay

__all__ = ["TrackingController", "choose_tracker"]

_FINISHED = ("done", "failed", "cancelled")


class TrackingController(FrameController):
    """Owned by the main window; see the module docstring."""

    batchLanded = Signal(int, int)  # session id, checkpoint frame (emitted from the tracking thread)

    def __init__(self, window, detector_factory: Callable[[], Detector] | None = None,
                 tracker: str | None = None, max_track_frames: int | None = None, batch: int = DEFAULT_BATCH,
                 conf: float = 0.25):
        super().__init__(window)
        self.overlay = TrackOverlay(window.viewer)
        model = window.settings.value("tracking/detector") or None
        self._detector_factory = detector_factory or (lambda: create_detector(model))
        self.tracker = tracker  # None: choose_tracker()
        self.max_track_frames = max_track_frames
        self.batch = batch
        self.conf = conf
        self.confirm_delete = True
        self._detector: SerialDetector | None = None
        self._detector_lock = threading.Lock()
        self._running: dict[int, int] = {}  # session -> job id
        self._job_sessions: dict[int, int] = {}  # job id -> session
        self._pending_delete: set[int] = set()
        self._detect_job: int | None = None
        self._delete_box: QMessageBox | None = None
        self._reset_state()
        self.batchLanded.connect(self._on_batch)
        self.overlay.boxChosen.connect(self._on_box_chosen)
        self.overlay.keyframeEdited.connect(self._on_keyframe_edited)
        window.jobs.changed.connect(self._on_job_changed)
        window.inspector.trackSelected.connect(self.show_session)
        window.inspector.trackDeleteRequested.connect(self.delete_track)
        window.timeline_view.selectionChanged.connect(lambda _ids: self._refresh_inspector())

    def _reset_state(self) -> None:
        self._media_cache: dict[int, MediaRecord] = {}
        self._ctx: FrameContext | None = None
        self._detections: tuple[tuple[int, int], Detections] | None = None  # ((media, frame), boxes)
        self._chosen: dict | None = None  # media, frame, box, detection, first, last
        self._shown: dict[int, int] = {}  # media -> session chosen for display
        self._track_sid: int | None = None
        self._track_media: int | None = None
        self._det_key = self._chosen_key = None  # what the overlay shows now
        self.overlay.clear_detections()
        self.overlay.clear_track()
        self.overlay.set_chosen_box(None)

    # ------------------------------------------------------------ menu
    def install_menu(self, menubar) -> None:
        menu = menubar.addMenu("&Track")
        self.detect_action = self._action(menu, "&Detect People", self.detect, "Ctrl+D")
        self.draw_action = self._action(menu, "Draw &Box", self.set_draw_tool, "B")
        self.draw_action.setCheckable(True)
        self.track_action = self._action(menu, "&Track Subject", self.track_subject, "Ctrl+T")
        menu.addSeparator()
        self.resume_action = self._action(menu, "&Resume Tracking", self.resume_tracking, "Ctrl+Shift+T")
        self.delete_action = self._action(menu, "De&lete Track", lambda: self.delete_track())

    # ------------------------------------------------------------ project
    def project_opened(self) -> None:
        self._reset_state()
        n = len(self.resumable_sessions())
        if n:
            self.say(f"{n} tracking session{'s' if n > 1 else ''} can resume: Track > Resume Tracking "
                     "(Ctrl+Shift+T)", 30000)
        self._refresh_inspector()

    def project_closing(self) -> None:
        """Stop this project's detection and tracking (each keeps what it finished) before the file closes."""
        jobs = list(self._running.values()) + ([self._detect_job] if self._detect_job is not None else [])
        for jid in jobs:
            self.window.jobs.cancel(jid)
        if jobs:
            self.window.jobs.wait(15000)
        self._running.clear()
        self._job_sessions.clear()
        self._pending_delete.clear()
        self._detect_job = None
        self._reset_state()

    # ------------------------------------------------------------ what the overlay shows
    def on_frame_shown(self, frame: int) -> None:
        """The viewer shows sequence frame ``frame``: move the overlay along."""
        ctx = self.context(frame)
        clip_changed = (ctx.clip.id if ctx else None) != (self._ctx.clip.id if self._ctx else None)
        self._ctx = ctx
        if ctx is None:
            self._show_track_of(None)
        else:
            self.overlay.set_source(ctx.size, fit_transform(ctx.size, self.window.viewer.frame_size()))
            if ctx.media_id != self._track_media:
                self._show_track_of(ctx.media_id)
            self.overlay.set_current_frame(ctx.frame)
        self._sync_marks()
        if clip_changed:
            self._refresh_inspector()

    def _sync_marks(self) -> None:
        """Detections and the chosen box belong to one frame: show them on that frame only."""
        here = (self._ctx.media_id, self._ctx.frame) if self._ctx else None
        det_key = self._detections[0] if self._detections and self._detections[0] == here else None
        if det_key != self._det_key:
            self._det_key = det_key
            if det_key is None:
                self.overlay.clear_detections()
            else:
                dets = self._detections[1]
                self.overlay.set_detections(dets.boxes, dets.scores)
        c = self._chosen
        chosen_key = (c["media"], c["frame"]) if c and (c["media"], c["frame"]) == here else None
        if chosen_key != self._chosen_key:
            self._chosen_key = chosen_key
            self.overlay.set_chosen_box(None if chosen_key is None or c["detection"] is not None else c["box"])
            if chosen_key is not None and c["detection"] is not None:
                self.overlay.set_selected_detection(c["detection"])

    def _show_track_of(self, media_id: int | None) -> None:
        self._track_media = media_id
        sid = None
        if media_id is not None:
            ids = [s.id for s in list_sessions(self.project, media_id)]
            sid = self._shown.get(media_id)
            if sid not in ids:
                sid = ids[-1] if ids else None
        self._track_sid = sid
        self._reload_track(sid)

    def _reload_track(self, sid: int | None) -> None:
        if sid != self._track_sid:
            return
        if sid is None:
            self.overlay.clear_track()
            return
        try:
            session = get_session(self.project, sid)
        except LumaError:
            self._track_sid = None
            self.overlay.clear_track()
            return
        rows = row_arrays(self.project, sid)
        self.overlay.set_track(rows["frame"], rows["box"], [k.frame for k in session.keyframes],
                               self._ctx.frame if self._ctx else None, rows["lost"],
                               (session.first_frame, session.last_frame))

    def show_session(self, sid: int) -> None:
        """Show a session in the overlay (the inspector's selection)."""
        try:
            session = get_session(self.project, sid)
        except LumaError as exc:
            self.window.show_error(str(exc))
            return
        self._shown[session.media_id] = sid
        if self._ctx is not None and self._ctx.media_id == session.media_id:
            self._track_sid = sid
            self._reload_track(sid)

    def shown_session(self) -> int | None:
        return self._track_sid

    # ------------------------------------------------------------ detect and choose
    def set_detector_factory(self, factory: Callable[[], Detector]) -> None:
        with self._detector_lock:
            self._detector_factory, self._detector = factory, None

    def detector(self) -> SerialDetector:
        """The detector, loaded on first use (on the calling thread: a job's)."""
        with self._detector_lock:
            if self._detector is None:
                self._detector = SerialDetector(self._detector_factory())
            return self._detector

    def detect(self) -> int | None:
        ctx = self.context()
        if ctx is None:
            self.say("Put the playhead on a video clip to detect people on it")
            return None
        if self._detect_job is not None:
            self.say("Still detecting...")
            return None
        key = (ctx.media_id, ctx.frame)
        job = DetectJob(media_path(self.project, ctx.media_id), ctx.frame, self.detector, self.conf, ctx.name)
        self._detect_job = self.window.jobs.submit(job, on_done=lambda dets: self._detected(key, dets),
                                                   on_error=self.window.show_error)
        self.say(f"Detecting people on frame {ctx.frame} of {ctx.name}...")
        return self._detect_job

    def _detected(self, key: tuple[int, int], dets: Detections) -> None:
        if self.project is None:
            return
        self._detections = (key, dets)
        self._chosen = None
        self._det_key = self._chosen_key = None
        self._sync_marks()
        if len(dets):
            self.say(f"{len(dets)} found on frame {key[1]}: click one, then Track > Track Subject (Ctrl+T)")
        else:
            self.say(f"Nobody found on frame {key[1]}: draw a box around the subject (Track > Draw Box, B)")

    def detections(self) -> Detections | None:
        return None if self._detections is None else self._detections[1]

    def set_draw_tool(self, on: bool = True) -> None:
        self.overlay.set_tool("draw" if on else None)
        if hasattr(self, "draw_action") and self.draw_action.isChecked() != bool(on):
            self.draw_action.setChecked(bool(on))
        if on:
            self.say("Drag a box around the subject")

    def _on_box_chosen(self, rect: QRectF) -> None:
        ctx = self._ctx
        if ctx is None:
            return
        detection = self.overlay.selected_detection()
        self._chosen = {"media": ctx.media_id, "frame": ctx.frame, "detection": detection,
                        "box": QRectF(rect).normalized(), "first": ctx.first, "last": ctx.last}
        self._chosen_key = (ctx.media_id, ctx.frame)
        if self.overlay.tool() == "draw":
            self.set_draw_tool(False)
        self.say(f"Subject chosen on frame {ctx.frame}: Track > Track Subject (Ctrl+T)")

    def choose_box(self, box, detection: int | None = None) -> None:
        """Choose a box (source pixels) on the current frame as the user would."""
        x1, y1, x2, y2 = (float(v) for v in box)
        self.overlay.set_selected_detection(detection)
        self._on_box_chosen(QRectF(x1, y1, x2 - x1, y2 - y1))
        self._chosen_key = None
        self._sync_marks()

    def chosen(self) -> dict | None:
        return None if self._chosen is None else dict(self._chosen)

    # ------------------------------------------------------------ track
    def track_subject(self) -> int | None:
        c = self._chosen
        if c is None or self.project is None:
            self.say("Choose a subject first: Detect People (Ctrl+D) and click one, or Draw Box (B)")
            return None
        b = c["box"]
        box = (b.left(), b.top(), b.right(), b.bottom())
        from_detection = c["detection"] is not None
        tracker = self.tracker or choose_tracker(from_detection)
        n = len(list_sessions(self.project, c["media"])) + 1
        subject = f"{'Person' if from_detection else 'Subject'} {n}"
        try:
            sid = create_session(self.project, c["media"], box, c["frame"], tracker, {}, subject,
                                 track_range(c["first"], c["last"], c["frame"], self.max_track_frames), self.batch)
        except LumaError as exc:
            self.window.show_error(str(exc))
            return None
        self._chosen = None
        self._detections = None
        self._shown[c["media"]] = sid
        if self._ctx is not None and self._ctx.media_id == c["media"]:
            self._track_sid = sid
        self._sync_marks()
        self._reload_track(sid)
        self.run_track(sid)
        return sid

    def _tracker_factory(self, name: str, params: dict):
        if needs_detector(name):
            return lambda: create_tracker(name, detector=self.detector(), **params)
        return lambda: create_tracker(name, **params)

    def run_track(self, sid: int) -> int | None:
        """Run (or resume) a session on the job runner; the job id (the running one if it runs already)."""
        if sid in self._running:
            return self._running[sid]
        try:
            session = get_session(self.project, sid)
            job = TrackJob(self.project, sid, self._tracker_factory(session.tracker, session.params),
                           on_batch=self.batchLanded.emit)
        except LumaError as exc:
            self.window.show_error(str(exc))
            return None
        jid = self.window.jobs.submit(job, on_error=self.window.show_error)
        self._running[sid] = jid
        self._job_sessions[jid] = sid
        self._refresh_inspector()
        return jid

    def job_of(self, sid: int) -> int | None:
        return self._running.get(sid)

    def _on_batch(self, sid: int, _frame: int) -> None:
        if self.project is None:
            return
        self._reload_track(sid)
        self._refresh_inspector()

    def _on_job_changed(self, jid: int) -> None:
        rec = self.window.jobs.jobs[jid]
        if rec.state not in _FINISHED:
            return
        if jid == self._detect_job:
            self._detect_job = None
            return
        sid = self._job_sessions.pop(jid, None)
        if sid is None:
            return
        self._running.pop(sid, None)
        if self.project is None:
            return
        if sid in self._pending_delete:
            self._pending_delete.discard(sid)
            self._delete_now(sid)
            return
        try:
            session = get_session(self.project, sid)
        except LumaError:
            return
        if rec.state == "done" and passes(self.project, sid):  # corrected while it was finishing
            self.run_track(sid)
        elif rec.state == "cancelled":
            self.say(f"Tracking {session.subject} paused; Track > Resume Tracking (Ctrl+Shift+T) continues it")
        elif rec.state == "done":
            self.say(f"Tracked {session.subject}: frames {session.first_frame}-{session.last_frame}")
        self._reload_track(sid)
        self._refresh_inspector()

    def resumable_sessions(self) -> list:
        if self.project is None:
            return []
        return [s for s in list_sessions(self.project)
                if s.status != "complete" and s.id not in self._running and passes(self.project, s.id)]

    def resume_tracking(self) -> list[int]:
        sessions = self.resumable_sessions()
        if not sessions:
            self.say("No tracking to resume")
            return []
        jobs = [j for j in (self.run_track(s.id) for s in sessions) if j is not None]
        self.say(f"Resuming {len(jobs)} tracking session{'s' if len(jobs) != 1 else ''}")
        return jobs

    # ------------------------------------------------------------ corrections
    def _on_keyframe_edited(self, frame: int, rect: QRectF) -> None:
        sid = self._track_sid
        if sid is None or self.project is None:
            return
        old = next((k.box for k in keyframes(self.project, sid) if k.frame == frame), None)
        box = (rect.left(), rect.top(), rect.right(), rect.bottom())
        self.window.undo_stack.push(KeyframeCommand(self, sid, int(frame), box, old))

    def set_keyframe(self, sid: int, frame: int, box) -> bool:
        """Set (box) or remove (None) the keyframe at ``frame`` and re-track what it changes."""
        if self.project is None or not self._exists(sid):
            self.say("That track was deleted: nothing to undo or redo there")
            return False
        try:
            if box is None:
                remove_keyframe(self.project, sid, frame)
            else:
                add_keyframe(self.project, sid, frame, box)
        except LumaError as exc:
            self.window.show_error(str(exc))
            return False
        self._reload_track(sid)
        self.run_track(sid)
        return True

    # ------------------------------------------------------------ delete
    def delete_track(self, sid: int | None = None) -> None:
        sid = sid if sid is not None else self.window.inspector.selected_track() or self._track_sid
        if sid is None or self.project is None:
            self.say("No track to delete: select one in the Inspector")
            return
        if not self.confirm_delete:
            self._delete(sid)
            return
        if not self._exists(sid):
            return
        name = get_session(self.project, sid).subject or f"track #{sid}"
        box = QMessageBox(QMessageBox.Icon.Question, "Delete Track",
                          f"Delete {name} and all its tracked frames? This cannot be undone.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, self.window)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.accepted.connect(lambda: self._delete(sid))
        self._delete_box = box
        box.open()

    def _exists(self, sid: int) -> bool:
        try:
            return get_session(self.project, sid) is not None
        except LumaError:
            return False

    def _delete(self, sid: int) -> None:
        if sid in self._running:  # stop it first; deleted when the job has ended
            self._pending_delete.add(sid)
            self.window.jobs.cancel(self._running[sid])
            return
        self._delete_now(sid)

    def _delete_now(self, sid: int) -> None:
        try:
            name = get_session(self.project, sid).subject
            delete_session(self.project, sid)
        except LumaError as exc:
            self.window.show_error(str(exc))
            return
        self._shown = {m: s for m, s in self._shown.items() if s != sid}
        if self._track_sid == sid:
            self._show_track_of(self._track_media)
        self._refresh_inspector()
        self.say(f"Deleted {name}")

    # ------------------------------------------------------------ inspector
    def _inspected_clip(self) -> Clip | None:
        tl = self.window.timeline
        if tl is None:
            return None
        ids = self.window.timeline_view.selected_clip_ids()
        if len(ids) == 1 and ids[0] in tl.clips:
            return tl.clips[ids[0]]
        return self._ctx.clip if self._ctx else None

    def _refresh_inspector(self) -> None:
        inspector = self.window.inspector
        clip = self._inspected_clip() if self.project is not None else None
        if clip is None:
            inspector.set_tracks([], title="Tracks")
            return
        sessions = list_sessions(self.project, clip.media_id)
        current = self._track_sid if clip.media_id == self._track_media else self._shown.get(clip.media_id)
        rows = [(s.id, describe_session(s, tracked_ranges(self.project, s.id), s.id in self._running))
                for s in sessions]
        inspector.set_tracks(rows, current, title=f"Tracks: {clip.name or self._media(clip.media_id).name}")
