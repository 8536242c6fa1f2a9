"""Rotoscoping from the main window: the Roto menu, the canvas tools and the roto objects of each video.

:class:`RotoController` wires :class:`~widgets.viewer.roto_overlay.RotoOverlay`
to :mod:`core.vision.roto`:

* **Box Prompt** (Alt+B) / **Point Prompt** (Alt+P): a box, and left/right
  clicks for +/- points, on the frame under the playhead. Every prompt change
  segments the frame on the job runner with the object's backend (``classic``
  by default) and stores the matte as a keyframe (undoable). The first prompt
  on a video makes its roto object ("Roto 1", the clip's source range); when
  a tracking session's box holds the prompt, its boxes bound the propagation.
  Once an object has been propagated, every keyframe change (a prompt, a
  shape edit, undo, redo) propagates again from it by itself.
* **Edit Shape** (Alt+E): the frame's Bezier shape (the keyframe's own or one
  fitted to the matte); each finished edit makes it a keyframe whose matte is
  the shape (undoable).
* **Propagate Forward / Backward / Both** (Alt+Right / Alt+Left / Alt+Down):
  a :class:`~core.vision.roto_job.RotoJob` in the Jobs panel (progress,
  cancel); the viewer shows each batch as it lands. Interrupted work resumes
  from the project file.
* **Previous / Next Keyframe** (Alt+[ / Alt+]), **Onion Skin** (Alt+O: the
  outlines of the two frames before and after), **Delete Keyframe**,
  **Feather…** (inner / outer pixels, shown as dashed outlines while editing,
  applied to matte exports and written into the shape exports; undoable).
* **Export Roto…** (also in the File menu): PNG/EXR mattes or shapes for
  Nuke, Silhouette, After Effects, Fusion, Blender, JSON, on the job runner.

Everything is in source frames and source pixels of the media
(:func:`app.tracking_support.frame_context` maps the playhead to them).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import QFileDialog, QInputDialog

from app.frame_controller import FrameController
from app.tracking_support import FrameContext, fit_transform, frame_context, track_range
from core.errors import LumaError
from core.media.reader import FrameReader
from core.project.media_store import MediaRecord, media_path
from core.time import frames_to_seconds, seconds_to_frames
from core.vision import roto as R
from core.vision.roto_job import RotoJob
from core.vision.segment import Prompt, create_segmenter
from widgets.viewer.roto_overlay import RotoOverlay

__all__ = ["RotoController", "RotoKeyCommand", "FeatherCommand", "SegmentJob", "ExportJob"]

_FINISHED = ("done", "failed", "cancelled")
EXPORT_FORMATS = {  # name -> (file dialog filter, default file name)
    "png": ("PNG matte sequence (folder)", "mattes"),
    "exr": ("EXR matte sequence (folder)", "mattes"),
    "nuke": ("Nuke script (*.nk)", "roto.nk"),
    "silhouette": ("Silhouette shapes (*.fxs)", "roto.fxs"),
    "aftereffects": ("After Effects script (*.jsx)", "roto.jsx"),
    "fusion": ("Fusion setting (*.setting *.comp)", "roto.setting"),
    "blender": ("Blender Python script (*.py)", "roto_mask.py"),
    "json": ("Luma roto shapes (*.json)", "roto.json"),
}


class SegmentJob:
    """Segment one source frame from a prompt (off the GUI thread)."""

    def __init__(self, path: Path, frame: int, prompt: Prompt, segmenter_for, backend: str, params: dict):
        self.title = f"Segment frame {frame}"
        self.path, self.frame, self.prompt = path, int(frame), prompt
        self._segmenter_for, self.backend, self.params = segmenter_for, backend, params

    def run(self, progress, cancelled) -> np.ndarray:
        progress(0.0, "reading the frame")
        with FrameReader(self.path, cache_size=2, strict=True) as reader:
            rgb = reader.frame(self.frame)
        progress(0.3, f"segmenting ({self.backend})")
        segmenter, lock = self._segmenter_for(self.backend, self.params)
        with lock:
            return segmenter.segment(rgb, self.prompt, key=(str(self.path), self.frame))


class ExportJob:
    def __init__(self, project_path: Path, object_id: int, fmt: str, out: Path):
        self.title = f"Export roto ({fmt})"
        self.project_path, self.object_id, self.fmt, self.out = project_path, object_id, fmt, Path(out)

    def run(self, progress, cancelled) -> list[Path]:
        # its own connection: the export reads while the GUI keeps working on the project
        from core.project.project import Project
        from core.vision.roto_export import export_roto

        project = Project.open(self.project_path)
        try:
            return export_roto(self.fmt, self.out, animation=lambda: R.animation(project, self.object_id),
                               mattes=R.matte_source(project, self.object_id),
                               progress=lambda f, m="": progress(f, m))
        finally:
            project.close()


class RotoKeyCommand(QUndoCommand):
    """Set a keyframe (matte from a prompt or a shape); undo puts the previous keyframe back or removes it."""

    def __init__(self, controller: "RotoController", object_id: int, frame: int, matte: np.ndarray | None,
                 prompt: Prompt | None = None, shape=None, text: str = ""):
        super().__init__(text or f"roto keyframe at frame {frame}")
        self.ctl, self.oid, self.frame = controller, object_id, int(frame)
        self.matte, self.prompt, self.shape = matte, prompt, shape
        self.old: R.KeyframeState | None = None
        self._first = True

    def redo(self) -> None:
        try:
            if self.matte is None:  # a deletion
                self.old = R.remove_keyframe(self.ctl.project, self.oid, self.frame)
            else:
                self.old = R.set_keyframe(self.ctl.project, self.oid, self.frame, self.matte, prompt=self.prompt,
                                          shape=self.shape)
        except LumaError as exc:
            self.ctl.window.show_error(str(exc))
            self.setObsolete(True)
            return
        self.ctl.keyframe_changed(self.oid, self.frame)

    def undo(self) -> None:
        try:
            R.restore_keyframe(self.ctl.project, self.oid, self.frame, self.old)
        except LumaError as exc:
            self.ctl.window.show_error(str(exc))
            self.setObsolete(True)
            return
        self.ctl.keyframe_changed(self.oid, self.frame)


class FeatherCommand(QUndoCommand):
    """Change an object's inner/outer feather (pixels); undo puts the old values back."""

    def __init__(self, controller: "RotoController", object_id: int, feather: tuple[float, float],
                 old: tuple[float, float]):
        super().__init__(f"roto feather {feather[0]:g}/{feather[1]:g} px")
        self.ctl, self.oid, self.new, self.old = controller, object_id, feather, old

    def _apply(self, values: tuple[float, float]) -> None:
        try:
            R.set_object_options(self.ctl.project, self.oid, feather_inner=values[0], feather_outer=values[1])
        except LumaError as exc:
            self.ctl.window.show_error(str(exc))
            self.setObsolete(True)
            return
        self.ctl.refresh(force=True)

    def redo(self) -> None:
        self._apply(self.new)

    def undo(self) -> None:
        self._apply(self.old)


class RotoController(FrameController):
    """Owned by the main window; see the module docstring."""

    batchLanded = Signal(int, int)  # object id, frame (emitted from the job's thread)
    auto_propagate = False  # True: propagate even after an object's very first keyframe

    def __init__(self, window, backend: str = "classic", onion_frames: int = 2, max_frames: int | None = None):
        super().__init__(window)
        self.max_frames = max_frames  # a new object covers at most this many frames around the playhead
        self.overlay = RotoOverlay(window.viewer)
        self.backend = backend
        self.onion_frames = onion_frames
        self.onion = False
        self._segmenters: dict[tuple, tuple] = {}
        self._seg_lock = threading.Lock()
        self._running: dict[int, int] = {}  # object -> job id
        self._job_objects: dict[int, int] = {}
        self._segment_job: int | None = None
        self._pending_prompt: tuple | None = None
        self._reset_state()
        self.batchLanded.connect(self._on_batch)
        self.overlay.boxDrawn.connect(self._on_box)
        self.overlay.pointAdded.connect(self._on_point)
        self.overlay.shapeEdited.connect(self._on_shape_edited)
        window.jobs.changed.connect(self._on_job_changed)

    def _reset_state(self) -> None:
        self._media_cache: dict[int, MediaRecord] = {}
        self._ctx: FrameContext | None = None
        self._objects: dict[int, int] = {}  # media -> current object
        self._prompt: dict | None = None  # media, frame, box, points
        self._shown: tuple | None = None
        self.overlay.clear_prompt()
        self.overlay.set_matte(None)
        self.overlay.set_shape(None)
        self.overlay.clear_onion_skins()

    # ------------------------------------------------------------ menu
    def install_menu(self, menubar, file_menu=None) -> None:
        menu = menubar.addMenu("&Roto")
        self.box_action = self._action(menu, "&Box Prompt", lambda on: self.set_tool("box" if on else None),
                                       "Alt+B", checkable=True)
        self.points_action = self._action(menu, "&Point Prompt", lambda on: self.set_tool("points" if on else None),
                                          "Alt+P", checkable=True)
        self.edit_action = self._action(menu, "&Edit Shape", lambda on: self.set_tool("edit" if on else None),
                                        "Alt+E", checkable=True)
        menu.addSeparator()
        self.forward_action = self._action(menu, "Propagate &Forward", lambda: self.propagate((1,)), "Alt+Right")
        self.backward_action = self._action(menu, "Propagate Bac&kward", lambda: self.propagate((-1,)), "Alt+Left")
        self.both_action = self._action(menu, "Propagate Bot&h Ways", lambda: self.propagate((1, -1)), "Alt+Down")
        menu.addSeparator()
        self.prev_action = self._action(menu, "Pre&vious Keyframe", lambda: self.goto_keyframe(-1), "Alt+[")
        self.next_action = self._action(menu, "&Next Keyframe", lambda: self.goto_keyframe(1), "Alt+]")
        self.onion_action = self._action(menu, "&Onion Skin", self.set_onion, "Alt+O", checkable=True)
        self.delete_key_action = self._action(menu, "&Delete Keyframe", self.delete_keyframe)
        self.feather_action = self._action(menu, "&Feather…", self.feather_dialog)
        menu.addSeparator()
        self.new_action = self._action(menu, "New Roto &Object", self.new_object)
        self.export_action = self._action(menu, "E&xport Roto…", self.export_dialog)
        if file_menu is not None:
            file_menu.addAction(self.export_action)

    # ------------------------------------------------------------ project
    def project_opened(self) -> None:
        self._reset_state()
        left = [o for o in R.list_objects(self.project) if R.passes(self.project, o.id) and o.keyframes]
        if left:
            self.say(f"{len(left)} roto object{'s' if len(left) > 1 else ''} can continue propagating: "
                     "Roto > Propagate Both Ways (Alt+Down)", 30000)

    def project_closing(self) -> None:
        jobs = list(self._running.values()) + ([self._segment_job] if self._segment_job is not None else [])
        for jid in jobs:
            self.window.jobs.cancel(jid)
        if jobs:
            self.window.jobs.wait(15000)
        self._running.clear()
        self._job_objects.clear()
        self._segment_job = None
        self._pending_prompt = None
        self._reset_state()

    # ------------------------------------------------------------ objects
    def current_object(self, media_id: int | None = None) -> int | None:
        """The roto object shown for ``media_id`` (default: the video under the playhead)."""
        if media_id is None:
            if self._ctx is None:
                return None
            media_id = self._ctx.media_id
        oid = self._objects.get(media_id)
        ids = R.object_ids(self.project, media_id)  # cheap: this runs for every frame shown
        if oid not in ids:
            oid = ids[-1] if ids else None
            if oid is not None:
                self._objects[media_id] = oid
        return oid

    def select_object(self, object_id: int) -> None:
        obj = R.get_object(self.project, object_id)
        self._objects[obj.media_id] = obj.id
        self.refresh()

    def new_object(self, track_session_id: int | None = None) -> int | None:
        ctx = self._ctx or self.context()
        if ctx is None:
            self.say("Put the playhead on a video clip to rotoscope it")
            return None
        n = len(R.list_objects(self.project)) + 1
        names = {o.name for o in R.list_objects(self.project, ctx.media_id)}
        while f"Roto {n}" in names:
            n += 1
        try:
            oid = R.create_object(self.project, ctx.media_id, f"Roto {n}",
                                  track_range(ctx.first, ctx.last, ctx.frame, self.max_frames), backend=self.backend,
                                  track_session_id=track_session_id)
        except LumaError as exc:
            self.window.show_error(str(exc))
            return None
        self._objects[ctx.media_id] = oid
        if self._prompt is not None and self._prompt["media"] != ctx.media_id:
            self._prompt = None
        self.refresh(force=True)
        self.say(f"Roto {n}: draw a box (Alt+B) or click points (Alt+P) on the subject")
        return oid

    # ------------------------------------------------------------ what the overlay shows
    def on_frame_shown(self, frame: int) -> None:
        ctx = self.context(frame)
        self._ctx = ctx
        if ctx is not None:
            self.overlay.set_source(ctx.size, fit_transform(ctx.size, self.window.viewer.frame_size()))
        self.refresh()

    def refresh(self, force: bool = False) -> None:
        """Show the current object's matte, shape, prompt and onion skins for the frame under the playhead."""
        ctx = self._ctx
        if ctx is None or self.project is None:
            self._shown = None
            self.overlay.set_matte(None)
            self.overlay.set_shape(None)
            self.overlay.clear_prompt()
            self.overlay.clear_onion_skins()
            return
        oid = self.current_object(ctx.media_id)
        key = (oid, ctx.media_id, ctx.frame, self.overlay.tool(), self.onion)
        if key == self._shown and not force:
            return
        self._shown = key
        p = self._prompt
        if p is not None and (p["media"], p["frame"]) == (ctx.media_id, ctx.frame):
            self.overlay.set_prompt(p["box"], p["points"])
        else:
            self.overlay.clear_prompt()
        if oid is None:
            self.overlay.set_matte(None)
            self.overlay.set_shape(None)
            self.overlay.clear_onion_skins()
            return
        obj = R.get_object(self.project, oid)
        self.overlay.set_matte(R.matte(self.project, oid, ctx.frame))
        self.overlay.set_feather(obj.feather_inner, obj.feather_outer)
        if self.overlay.tool() == "edit":
            try:
                self.overlay.set_shape(R.editable_shape(self.project, oid, ctx.frame))
            except LumaError as exc:
                self.say(str(exc))
                self.overlay.set_shape(None)
        else:
            self.overlay.set_shape(None)
        self._refresh_onion(oid, ctx.frame)

    def _refresh_onion(self, oid: int, frame: int) -> None:
        if not self.onion:
            self.overlay.clear_onion_skins()
            return
        from core.vision.shapes import mask_to_polygons
        from core.vision.roto_model import Spline

        skins = []
        for offset in [o for k in range(1, self.onion_frames + 1) for o in (-k, k)]:
            m = R.matte(self.project, oid, frame + offset)
            if m is None:
                continue
            for poly, mode in mask_to_polygons(m):
                if mode == "add" and len(poly) >= 3:
                    skins.append((Spline.polygon(poly), offset))
        self.overlay.set_onion_skins(skins)

    def set_onion(self, on: bool = True) -> None:
        self.onion = bool(on)
        if hasattr(self, "onion_action") and self.onion_action.isChecked() != self.onion:
            self.onion_action.setChecked(self.onion)
        self.refresh(force=True)

    def set_tool(self, tool: str | None) -> None:
        self.overlay.set_tool(tool)
        for name, act in (("box", "box_action"), ("points", "points_action"), ("edit", "edit_action")):
            a = getattr(self, act, None)
            if a is not None and a.isChecked() != (tool == name):
                a.setChecked(tool == name)
        if tool == "box":
            self.say("Drag a box around the subject")
        elif tool == "points":
            self.say("Click on the subject (+); right-click or Alt+click what is not the subject (-)")
        elif tool == "edit":
            self.say("Drag points and handles; double-click the curve to add a point; Delete removes one")
        self.refresh(force=True)

    # ------------------------------------------------------------ prompts
    def _prompt_here(self) -> dict | None:
        ctx = self._ctx
        if ctx is None:
            self.say("Put the playhead on a video clip to rotoscope it")
            return None
        p = self._prompt
        if p is None or (p["media"], p["frame"]) != (ctx.media_id, ctx.frame):
            # continue the prompt of a keyframe here, so a click refines it instead of starting over
            oid = self.current_object(ctx.media_id)
            k = R.keyframe(self.project, oid, ctx.frame) if oid is not None else None
            box, points = (k.prompt.box, list(k.prompt.points)) if k is not None and k.prompt else (None, [])
            p = self._prompt = {"media": ctx.media_id, "frame": ctx.frame, "box": box, "points": points}
        return p

    def _on_box(self, x1: float, y1: float, x2: float, y2: float) -> None:
        p = self._prompt_here()
        if p is not None:
            p["box"] = (x1, y1, x2, y2)
            self.overlay.set_prompt(p["box"], p["points"])
            self.segment()

    def _on_point(self, x: float, y: float, positive: bool) -> None:
        p = self._prompt_here()
        if p is not None:
            p["points"].append((x, y, bool(positive)))
            self.overlay.set_prompt(p["box"], p["points"])
            self.segment()

    def prompt(self, box=None, points=()) -> int | None:
        """Set the prompt on the current frame as the user would (tests, scripting) and segment it."""
        p = self._prompt_here()
        if p is None:
            return None
        p["box"] = None if box is None else tuple(float(v) for v in box)
        p["points"] = [(float(x), float(y), bool(s)) for x, y, s in points]
        self.overlay.set_prompt(p["box"], p["points"])
        return self.segment()

    def _segmenter_for(self, backend: str, params: dict):
        key = (backend, tuple(sorted(params.items())))
        with self._seg_lock:
            if key not in self._segmenters:
                self._segmenters[key] = (create_segmenter(backend, **params), threading.Lock())
            return self._segmenters[key]

    def segment(self) -> int | None:
        """Segment the pending prompt on the job runner; the result becomes a keyframe (undoable)."""
        p = self._prompt
        if p is None or self.project is None:
            return None
        try:
            prompt = Prompt(p["box"], tuple(p["points"]))
        except LumaError as exc:
            self.say(str(exc))
            return None
        if self._segment_job is not None:  # one at a time: the newest prompt runs next
            self._pending_prompt = (p["media"], p["frame"], prompt)
            return self._segment_job
        oid = self.current_object(p["media"])
        if oid is None:  # the first prompt on this video; a track of the same subject bounds its propagation
            oid = self.new_object(R.track_for_prompt(self.project, p["media"], p["frame"], prompt))
            if oid is None:
                return None
        obj = R.get_object(self.project, oid)
        frame = p["frame"]
        job = SegmentJob(media_path(self.project, obj.media_id), frame, prompt, self._segmenter_for, obj.backend,
                         obj.params)
        self._segment_job = self.window.jobs.submit(
            job, on_done=lambda matte: self._segmented(oid, frame, prompt, matte),
            on_error=self._segment_failed)
        self.say(f"Segmenting frame {frame}...")
        return self._segment_job

    def _segment_failed(self, message: str) -> None:
        self._segment_job = None
        self._pending_prompt = None
        self.window.show_error(message)

    def _segmented(self, oid: int, frame: int, prompt: Prompt, matte: np.ndarray) -> None:
        self._segment_job = None
        if self.project is None:
            return
        if not np.any(matte >= 128):
            self.say(f"Nothing segmented on frame {frame}: draw a larger box or add + points on the subject")
        else:
            self.window.undo_stack.push(RotoKeyCommand(self, oid, frame, matte, prompt=prompt,
                                                       text=f"roto prompt at frame {frame}"))
            self.say(f"Keyframe at frame {frame}: add points to correct it, or Propagate (Alt+Down)")
        pending, self._pending_prompt = self._pending_prompt, None
        if pending is not None:
            self.segment()

    def segmenting(self) -> bool:
        return self._segment_job is not None

    # ------------------------------------------------------------ shape edits
    def _on_shape_edited(self, _old, new) -> None:
        ctx, oid = self._ctx, self.current_object()
        if ctx is None or oid is None or new is None:
            return
        shapes = list(new) if isinstance(new, (list, tuple)) else [new]
        matte = R.shape_matte(shapes, *ctx.size)
        if not np.any(matte):
            self.say("The edited shape covers no pixel: edit undone")
            self.refresh(force=True)
            return
        self.window.undo_stack.push(RotoKeyCommand(self, oid, ctx.frame, matte, shape=shapes,
                                                   text=f"edit roto shape at frame {ctx.frame}"))

    def keyframe_changed(self, object_id: int, frame: int) -> None:
        """A keyframe was set or restored (undo/redo): show it and, once the object has been propagated,
        propagate again from it (the first keyframe waits for the user's Propagate)."""
        self.refresh(force=True)
        if self.project is None or not R.passes(self.project, object_id) or object_id in self._running:
            return  # nothing to do, or the running job picks the new plan up
        propagated = self.project.query("SELECT 1 FROM roto_masks WHERE object_id = ? AND direction != 0 LIMIT 1",
                                        (int(object_id),))
        if self.auto_propagate or propagated or len(R.keyframes(self.project, object_id)) > 1:
            self.propagate((1, -1), object_id)

    def delete_keyframe(self) -> None:
        ctx, oid = self._ctx, self.current_object()
        if ctx is None or oid is None or R.keyframe(self.project, oid, ctx.frame) is None:
            self.say("No roto keyframe on this frame")
            return
        if len(R.keyframes(self.project, oid)) == 1:
            self.say("This is the object's only keyframe: set another one first")
            return
        self.window.undo_stack.push(RotoKeyCommand(self, oid, ctx.frame, None,
                                                   text=f"delete roto keyframe {ctx.frame}"))

    def set_feather(self, inner: float, outer: float, object_id: int | None = None) -> bool:
        """Set the object's feather (pixels inside / outside the edge), as one undoable step."""
        oid = object_id if object_id is not None else self.current_object()
        if oid is None or self.project is None:
            self.say("No roto object here to feather")
            return False
        if inner < 0 or outer < 0:
            self.window.show_error("The feather must not be negative")
            return False
        obj = R.get_object(self.project, oid)
        old = (obj.feather_inner, obj.feather_outer)
        if old != (float(inner), float(outer)):
            self.window.undo_stack.push(FeatherCommand(self, oid, (float(inner), float(outer)), old))
        return True

    def feather_dialog(self) -> None:
        oid = self.current_object()
        if oid is None:
            self.say("No roto object here to feather")
            return
        obj = R.get_object(self.project, oid)
        inner, ok = QInputDialog.getDouble(self.window, "Feather", "Inside the edge (pixels):", obj.feather_inner,
                                           0.0, 500.0, 1)
        if not ok:
            return
        outer, ok = QInputDialog.getDouble(self.window, "Feather", "Outside the edge (pixels):",
                                           obj.feather_outer, 0.0, 500.0, 1)
        if ok:
            self.set_feather(inner, outer, oid)

    # ------------------------------------------------------------ propagation
    def propagate(self, directions=(1, -1), object_id: int | None = None) -> int | None:
        oid = object_id if object_id is not None else self.current_object()
        if oid is None or self.project is None:
            self.say("No roto object here yet: draw a box (Alt+B) or click points (Alt+P) first")
            return None
        if oid in self._running:
            return self._running[oid]
        if not R.keyframes(self.project, oid):
            self.say("Set a keyframe first: draw a box (Alt+B) or click points (Alt+P)")
            return None
        if not [q for q in R.passes(self.project, oid) if q.direction in directions]:
            self.say("Nothing to propagate in that direction: every frame has its matte")
            return None
        try:
            job = RotoJob(self.project, oid, on_batch=self.batchLanded.emit, directions=tuple(directions))
        except LumaError as exc:
            self.window.show_error(str(exc))
            return None
        jid = self.window.jobs.submit(job, on_error=self.window.show_error)
        self._running[oid] = jid
        self._job_objects[jid] = oid
        return jid

    def job_of(self, object_id: int) -> int | None:
        return self._running.get(object_id)

    def _on_batch(self, oid: int, _frame: int) -> None:
        if self.project is not None and oid == self.current_object():
            self.refresh(force=True)

    def _on_job_changed(self, jid: int) -> None:
        rec = self.window.jobs.jobs[jid]
        if rec.state not in _FINISHED:
            return
        if jid == self._segment_job:
            if rec.state != "done":
                self._segment_job = None
            return
        oid = self._job_objects.pop(jid, None)
        if oid is None:
            return
        self._running.pop(oid, None)
        if self.project is None:
            return
        try:
            obj = R.get_object(self.project, oid)
        except LumaError:
            return
        if rec.state == "cancelled":
            self.say(f"Propagation of {obj.name} paused; Propagate continues it")
        elif rec.state == "done":
            self.say(f"{obj.name}: {len(R.mask_frames(self.project, oid))} frames have a matte")
        self.refresh(force=True)

    # ------------------------------------------------------------ navigation
    def goto_keyframe(self, direction: int) -> int | None:
        ctx = self.context()  # the playhead's, which may be ahead of the frame shown
        oid = self.current_object(ctx.media_id) if ctx is not None else None
        if ctx is None or oid is None:
            return None
        frames = [k.frame for k in R.keyframes(self.project, oid)]
        target = ([f for f in frames if f > ctx.frame][:1] if direction > 0
                  else [f for f in frames if f < ctx.frame][-1:])
        if not target:
            self.say("No keyframe " + ("after" if direction > 0 else "before") + " this frame")
            return None
        seq = self.sequence_frame(ctx, target[0])
        if seq is None:
            self.say(f"Keyframe {target[0]} is outside this clip")
            return None
        self.window.timeline.set_playhead(seq)
        return target[0]

    def sequence_frame(self, ctx: FrameContext, source_frame: int) -> int | None:
        """The sequence frame where ``ctx.clip`` shows ``source_frame`` of its media (None outside the clip)."""
        tl = self.window.timeline
        rate = self._media(ctx.media_id).info.video.rate
        clip = ctx.clip
        guess = seconds_to_frames(frames_to_seconds(int(source_frame), rate), tl.rate, "floor")
        for seq in (guess - clip.source_in + clip.start + d for d in (0, 1, -1, 2)):
            if clip.start <= seq < clip.end:
                c = frame_context(tl, seq, self._media)
                if c is not None and c.clip.id == clip.id and c.frame == int(source_frame):
                    return seq
        return None

    # ------------------------------------------------------------ export
    def export(self, fmt: str, out: str | Path, object_id: int | None = None) -> int | None:
        oid = object_id if object_id is not None else self.current_object()
        if oid is None or self.project is None:
            self.say("No roto object to export: rotoscope a subject first")
            return None
        if oid in self._running:
            self.say("Wait for the propagation to finish (or cancel it) before exporting")
            return None
        job = ExportJob(self.project.path, oid, fmt, Path(out))
        return self.window.jobs.submit(job, on_done=lambda files: self.say(f"Exported {len(files)} file(s) to {out}"),
                                       on_error=self.window.show_error)

    def export_dialog(self) -> None:
        oid = self.current_object()
        if oid is None:
            self.say("No roto object to export: rotoscope a subject first")
            return
        fmt, ok = QInputDialog.getItem(self.window, "Export Roto", "Format:", list(EXPORT_FORMATS), 0, False)
        if not ok:
            return
        title, default = EXPORT_FORMATS[fmt]
        start = str(self.project.path.parent / default)
        if fmt in ("png", "exr"):
            out = QFileDialog.getExistingDirectory(self.window, f"Export {title} to folder", start)
        else:
            out, _ = QFileDialog.getSaveFileName(self.window, f"Export {title}", start, title)
        if out:
            self.export(fmt, out, oid)
