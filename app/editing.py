"""Editing the timeline from the main window: the edit tools, the Timeline and Clip menus.

:class:`EditingController` puts a tool bar above the timeline and owns the
**Timeline** menu (tools, snapping, markers, transitions, tracks, insert /
overwrite / lift / extract) and the **Clip** menu (speed). Every edit is one
:mod:`core.timeline.edit` operation (one transaction) pushed on the window's
undo stack through :func:`app.commands.push_edit`; the view only emits what
the user asked for and repaints from the model.

Tools (the view's drags, see :mod:`widgets.timeline.edit_drags`):
Select (V), Ripple (B), Roll (N), Slip (Y), Slide (U), Blade (C: a click cuts
the clip there). Snapping (S) pulls drags onto clip edges, the playhead and
markers, and with **Snap to Beats** onto the project tempo map's beats, whose
grid is drawn (bars stronger) while snapping to beats or once a tempo is set.

B and Ctrl+T also belong to the Track menu (Draw Box, Track Subject): they
are the timeline's keys only while the timeline has focus
(:meth:`~widgets.timeline.view.TimelineView.set_local_shortcuts`).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDialog, QDockWidget, QInputDialog, QMenu, QToolBar, QVBoxLayout, QWidget

from app.commands import EditMacro, push_edit, push_track_flag
from core.audio.tempo import project_tempo_map
from core.errors import LumaError
from core.timeline import edit
from core.timeline.props import AUDIO_TRANSITION_KINDS, TRANSITION_KINDS
from widgets.timeline.dialogs import SpeedDialog, TransitionDialog
from widgets.timeline.palette import MARKER_COLOURS

log = logging.getLogger(__name__)

#: (tool, label, shortcut, window shortcut?) — B is the timeline's only while it has focus (see module doc)
TOOL_ACTIONS = (("select", "Select", "V", True), ("ripple", "Ripple", "B", False), ("roll", "Roll", "N", True),
                ("slip", "Slip", "Y", True), ("slide", "Slide", "U", True), ("blade", "Blade", "C", True))
FLAG_LABELS = {"muted": "Mute", "solo": "Solo", "locked": "Lock", "hidden": "Hide"}


class EditingController(QObject):
    """Owned by the main window; see the module docstring."""

    #: the project committed something (maybe from a worker thread): queued to the GUI thread
    _projectChanged = Signal()

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.view = window.timeline_view
        self._project = None
        self.actions: dict[str, QAction] = {}
        self._build_actions()
        self.toolbar = self._build_toolbar()
        self._wrap_dock()
        v = self.view
        v.rippleTrimRequested.connect(self.ripple_trim)
        v.rollRequested.connect(self.roll)
        v.slipRequested.connect(self.slip)
        v.slideRequested.connect(self.slide)
        v.bladeRequested.connect(self.blade)
        v.markerMoveRequested.connect(self.move_marker)
        v.markerDoubleClicked.connect(lambda mid: self.rename_marker(mid))
        v.markerDeleteRequested.connect(self.delete_marker)
        v.transitionDoubleClicked.connect(lambda tid: self.edit_transition(tid))
        v.transitionDeleteRequested.connect(self.delete_transition)
        v.toolChanged.connect(self._tool_changed)
        v.snappingChanged.connect(self.actions["snap"].setChecked)
        v.timelineSet.connect(self._timeline_set)
        self._projectChanged.connect(self.refresh_beat_grid)
        v.contextMenuRequested.connect(lambda pos, tid, frame: self.context_menu(tid, frame).popup(pos))
        v.set_local_shortcuts({"B": lambda: self.set_tool("ripple"), "Ctrl+T": lambda: self.add_transition()})

    # ================================================================ actions, tool bar, menus
    def _act(self, key: str, text: str, slot, shortcut: str | None = None, checkable: bool = False,
             local: bool = False) -> QAction:
        """An action; a ``local`` key is the focused timeline's (set_local_shortcuts), shown in menus only."""
        act = QAction(text, self.window)
        act.setCheckable(checkable)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
            act.setToolTip(f"{text.replace('&', '')} ({shortcut})")
            act.setShortcutContext(Qt.ShortcutContext.WidgetShortcut if local else Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(slot)
        if not local:
            self.window.addAction(act)
        self.actions[key] = act
        return act

    def _build_actions(self) -> None:
        group = QActionGroup(self)
        group.setExclusive(True)
        for tool, label, key, window_key in TOOL_ACTIONS:
            act = self._act(f"tool_{tool}", label, lambda _=False, t=tool: self.set_tool(t), key, True,
                            local=not window_key)
            act.setData(tool)
            group.addAction(act)
        self.actions["tool_select"].setChecked(True)
        snap = self._act("snap", "&Snapping", self.set_snapping, "S", True)
        snap.setChecked(self.view.snapping())
        self._act("snap_beats", "Snap to &Beats", self.set_snap_to_beats, None, True)
        self._act("marker_add", "Add &Marker", lambda: self.add_marker(), "M")
        self._act("marker_next", "Go to &Next Marker", lambda: self.goto_marker(1), "Shift+M")
        self._act("marker_prev", "Go to &Previous Marker", lambda: self.goto_marker(-1), "Ctrl+Shift+M")
        self._act("marker_rename", "&Rename Marker…", lambda: self.rename_marker())
        self._act("marker_delete", "Delete Marker", lambda: self.delete_marker())
        self._act("transition_add", "Add &Transition", lambda: self.add_transition(), "Ctrl+T", local=True)
        self._act("transition_edit", "Transition &Settings…", lambda: self.edit_transition())
        self._act("transition_delete", "Remove Transition", lambda: self.delete_transition())
        self._act("insert", "&Insert", self.insert, ",")
        self._act("overwrite", "&Overwrite", self.overwrite, ".")
        self._act("lift", "&Lift", self.lift, ";")
        self._act("extract", "E&xtract", self.extract, "'")
        self._act("ripple_delete", "Ripple &Delete", self.ripple_delete, "Shift+Del")
        self._act("track_add_video", "Add &Video Track", lambda: self.add_track("video"))
        self._act("track_add_audio", "Add &Audio Track", lambda: self.add_track("audio"))
        self._act("track_delete", "Delete Track", lambda: self.delete_track())
        self._act("speed", "&Speed…", lambda: self.speed_dialog(), "Ctrl+R")

    def _build_toolbar(self) -> QToolBar:
        bar = QToolBar("Timeline Tools")
        bar.setObjectName("timelineTools")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for tool, *_ in TOOL_ACTIONS:
            bar.addAction(self.actions[f"tool_{tool}"])
        bar.addSeparator()
        bar.addAction(self.actions["snap"])
        bar.addAction(self.actions["snap_beats"])
        bar.addSeparator()
        bar.addAction(self.actions["marker_add"])
        bar.addAction(self.actions["transition_add"])
        return bar

    def _wrap_dock(self) -> None:
        """Put the tool bar above the timeline, inside the timeline's dock."""
        dock = self.view.parentWidget()
        panel = QWidget()
        lay = QVBoxLayout(panel)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.toolbar)
        lay.addWidget(self.view, 1)
        if isinstance(dock, QDockWidget):
            dock.setWidget(panel)
        self.panel = panel

    def install_menu(self, menubar) -> None:
        a = self.actions
        m = menubar.addMenu("T&imeline")
        tools = m.addMenu("&Tools")
        for tool, *_ in TOOL_ACTIONS:
            tools.addAction(a[f"tool_{tool}"])
        m.addAction(a["snap"])
        m.addAction(a["snap_beats"])
        m.addSeparator()
        for key in ("insert", "overwrite", "lift", "extract", "ripple_delete"):
            m.addAction(a[key])
        m.addSeparator()
        for key in ("marker_add", "marker_next", "marker_prev", "marker_rename"):
            m.addAction(a[key])
        colours = m.addMenu("Marker &Colour")
        for name in MARKER_COLOURS:
            act = colours.addAction(name.capitalize())
            act.triggered.connect(lambda _=False, n=name: self.set_marker_colour(n))
        m.addAction(a["marker_delete"])
        m.addSeparator()
        m.addAction(a["transition_add"])
        kinds = m.addMenu("Add Transition &Kind")
        for kind in TRANSITION_KINDS:
            act = kinds.addAction(kind.replace("_", " ").capitalize())
            act.setData(kind)
            act.triggered.connect(lambda _=False, k=kind: self.add_transition(k))
        self.transition_kinds_menu = kinds
        m.addAction(a["transition_edit"])
        m.addAction(a["transition_delete"])
        m.addSeparator()
        for key in ("track_add_video", "track_add_audio", "track_delete"):
            m.addAction(a[key])
        self.menu = m
        c = menubar.addMenu("&Clip")
        c.addAction(a["speed"])
        self.clip_menu = c

    def context_menu(self, track_id: int, frame: int) -> QMenu:
        """The timeline's right-click menu at ``frame`` over ``track_id`` (-1: no track); the caller pops it up."""
        a = self.actions
        menu = QMenu(self.view)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction("Add Marker Here").triggered.connect(lambda: self.add_marker(int(frame)))
        if track_id >= 0:
            target = menu.addAction("Target This Track")
            target.triggered.connect(lambda: self.view.set_target_track(int(track_id)))
        menu.addSeparator()
        for key in ("speed", "transition_add", "ripple_delete", "lift", "extract"):
            menu.addAction(a[key])
        menu.addSeparator()
        for key in ("track_add_video", "track_add_audio", "track_delete"):
            menu.addAction(a[key])
        return menu

    # ================================================================ state
    @property
    def timeline(self):
        return self.window.timeline

    def _timeline_set(self) -> None:
        tl = self.view.timeline()
        project = tl.project if tl is not None else None
        if project is not self._project:
            if self._project is not None:
                try:
                    self._project.changed.disconnect(self._project_changed)
                except (TypeError, ValueError, RuntimeError):
                    pass
            self._project = project
            if project is not None:
                project.changed.connect(self._project_changed)
        if tl is not None and self.view.target_track() is None:
            video = [t for t in tl.video_tracks()]
            if video:
                self.view.set_target_track(video[0].id)
        self.refresh_beat_grid()

    def _project_changed(self, label: str) -> None:
        self._projectChanged.emit()  # the tempo may have changed; redraw on the GUI thread

    def tempo_is_set(self) -> bool:
        """Whether the project has a tempo of its own (set by hand or fitted from a beat grid)."""
        p = self._project
        if p is None or p.closed:
            return False
        return bool(p.query("SELECT 1 FROM lighting_settings WHERE key = 'tempo_bpm'"))

    def refresh_beat_grid(self) -> None:
        """Draw the tempo map's beats while snapping to beats or once the project has a tempo."""
        p = self._project
        show = p is not None and not p.closed and (self.view.snap_to_beats() or self.tempo_is_set())
        try:
            self.view.set_beat_grid(project_tempo_map(p) if show else None)
        except LumaError as exc:
            self.view.set_beat_grid(None)
            self.window.statusBar().showMessage(str(exc), 8000)

    def _tool_changed(self, tool: str) -> None:
        self.actions[f"tool_{tool}"].setChecked(True)
        label = next(t[1] for t in TOOL_ACTIONS if t[0] == tool)
        self.window.statusBar().showMessage(f"{label} tool", 2000)

    def set_tool(self, tool: str) -> None:
        self.view.set_tool(tool)

    def set_snapping(self, on: bool) -> None:
        self.view.set_snapping(on)
        self.actions["snap"].setChecked(bool(on))

    def set_snap_to_beats(self, on: bool) -> None:
        self.view.set_snap_to_beats(on)
        self.actions["snap_beats"].setChecked(bool(on))
        self.refresh_beat_grid()

    def _edit(self, fn, *args, **kwargs):
        """Run one core edit as one undo step; a refused edit is shown and returns None."""
        tl = self.timeline
        if tl is None:
            return None
        try:
            return push_edit(self.window.undo_stack, tl, fn, *args, **kwargs)
        except LumaError as exc:
            self.window.show_error(str(exc))
            return None

    def _refuse(self, message: str) -> None:
        self.window.show_error(message)

    # ================================================================ tool gestures
    def ripple_trim(self, clip_id: int, edge: str, frame: int):
        return self._edit(edit.ripple_trim, int(clip_id), edge, int(frame))

    def roll(self, clip_id: int, edge: str, frame: int):
        return self._edit(edit.roll_edit, int(clip_id), edge, int(frame))

    def slip(self, clip_id: int, delta: int):
        return self._edit(edit.slip, int(clip_id), int(delta))

    def slide(self, clip_id: int, delta: int):
        return self._edit(edit.slide, int(clip_id), int(delta))

    def blade(self, clip_id: int, frame: int):
        return self._edit(edit.split_clips, [int(clip_id)], int(frame))

    # ================================================================ tracks
    def toggle_track_flag(self, track_id: int, flag: str):
        tl = self.timeline
        if tl is None:
            return None
        try:
            current = bool(getattr(tl.track(int(track_id)), flag))
        except (LumaError, AttributeError) as exc:
            self._refuse(str(exc) if isinstance(exc, LumaError) else f"tracks have no {flag!r} switch")
            return None
        try:
            return push_track_flag(self.window.undo_stack, tl, int(track_id), flag, not current)
        except LumaError as exc:
            self.window.show_error(str(exc))
            return None

    def add_track(self, kind: str):
        return self._edit(edit.add_track, kind)

    def delete_track(self, track_id: int | None = None):
        tid = self.view.target_track() if track_id is None else track_id
        if tid is None:
            return self._refuse("Click a track's header to choose the track to delete.")
        change = self._edit(edit.remove_track, int(tid))
        if change is not None and self.view.target_track() is None and self.timeline.video_tracks():
            self.view.set_target_track(self.timeline.video_tracks()[0].id)
        return change

    # ================================================================ markers
    def add_marker(self, frame: int | None = None, name: str | None = None):
        tl = self.timeline
        if tl is None:
            return None
        frame = tl.playhead if frame is None else int(frame)
        if name is None:
            name = f"Marker {len(tl.markers) + 1}"
        change = self._edit(edit.add_marker, frame, name)
        if change is not None:
            new = [r.id for r in change.after if r.id in tl.markers]
            if new:
                self.view.select_marker(new[0])
        return change

    def _marker_id(self, marker_id: int | None) -> int | None:
        """The given marker, else the selected one, else the one at the playhead."""
        tl = self.timeline
        if tl is None:
            return None
        if marker_id is None:
            marker_id = self.view.selected_marker()
        if marker_id is None:
            marker_id = next((m.id for m in tl.markers.values() if m.frame == tl.playhead), None)
        if marker_id is None:
            self._refuse("Select a marker first (click its flag above the ruler).")
        return marker_id

    def move_marker(self, marker_id: int, frame: int):
        return self._edit(edit.update_marker, int(marker_id), frame=int(frame))

    def rename_marker(self, marker_id: int | None = None, name: str | None = None):
        mid = self._marker_id(marker_id)
        if mid is None:
            return None
        if name is None:
            old = self.timeline.markers[mid].name
            name, ok = QInputDialog.getText(self.window, "Rename Marker", "Name:", text=old)
            if not ok:
                return None
        return self._edit(edit.update_marker, mid, name=str(name))

    def set_marker_colour(self, colour: str, marker_id: int | None = None):
        mid = self._marker_id(marker_id)
        return None if mid is None else self._edit(edit.update_marker, mid, color=colour)

    def delete_marker(self, marker_id: int | None = None):
        mid = self._marker_id(marker_id)
        return None if mid is None else self._edit(edit.remove_marker, mid)

    def goto_marker(self, direction: int) -> int | None:
        """Move the playhead to the next (1) or previous (-1) marker; returns its frame."""
        tl = self.timeline
        if tl is None:
            return None
        frames = sorted({m.frame for m in tl.markers.values()})
        ph = tl.playhead
        pick = [f for f in frames if f > ph] if direction > 0 else [f for f in frames if f < ph]
        if not pick:
            self.window.statusBar().showMessage("No marker " + ("after" if direction > 0 else "before")
                                                + " the playhead", 3000)
            return None
        frame = pick[0] if direction > 0 else pick[-1]
        self.window.seek(frame)
        return frame

    # ================================================================ transitions
    def _edit_track(self) -> int | None:
        """The track edits aim at: the selected clip's, else the targeted one."""
        tl = self.timeline
        sel = [tl.clips[c] for c in self.view.selected_clip_ids() if c in tl.clips]
        if sel:
            return sel[0].track_id
        return self.view.target_track()

    def nearest_cut(self, track_id: int, frame: int):
        """(clip A, clip B) of the cut on a track nearest ``frame``, or None when no clips meet."""
        clips = self.timeline.clips_on(track_id)
        cuts = [(a, b) for a, b in zip(clips, clips[1:]) if a.end == b.start]
        if not cuts:
            return None
        return min(cuts, key=lambda ab: (abs(ab[0].end - frame), ab[0].end))

    def add_transition(self, kind: str = "crossfade", duration: int | None = None):
        """A transition (default: a one-second crossfade) on the cut nearest the playhead."""
        tl = self.timeline
        if tl is None:
            return None
        tid = self._edit_track()
        if tid is None:
            return self._refuse("Select a clip or click a track's header first.")
        cut = self.nearest_cut(tid, tl.playhead)
        if cut is None:
            return self._refuse(f"No two clips meet on track {tl.track(tid).name}: "
                                "a transition goes on a cut between clips.")
        a, b = cut
        change = self._edit(edit.add_transition, a.id, b.id, kind, duration)
        if change is not None:
            new = [r.id for r in change.after if r.id in tl.transitions and tl.transitions[r.id].clip_b == b.id
                   and tl.transitions[r.id].track_id == tid]
            if new:
                self.view.select_transition(new[0])
        return change

    def _transition_id(self, transition_id: int | None) -> int | None:
        tid = self.view.selected_transition() if transition_id is None else transition_id
        if tid is None:
            self._refuse("Select a transition first (click its bar over the cut).")
        return tid

    def exec_dialog(self, dialog: QDialog) -> bool:
        """Run a modal dialog (one place, so tests can answer it)."""
        return dialog.exec() == QDialog.DialogCode.Accepted

    def edit_transition(self, transition_id: int | None = None, kind: str | None = None,
                        duration: int | None = None):
        tid = self._transition_id(transition_id)
        if tid is None:
            return None
        tl = self.timeline
        tr = tl.transitions[tid]
        if kind is None and duration is None:
            kinds = AUDIO_TRANSITION_KINDS if tl.track(tr.track_id).kind == "audio" else TRANSITION_KINDS
            dlg = TransitionDialog(kinds, tr.kind, tr.duration, tl.rate, self.window)
            if not self.exec_dialog(dlg):
                return None
            kind, duration = dlg.kind(), dlg.duration()
        return self._edit(edit.set_transition, tid, kind, duration)

    def delete_transition(self, transition_id: int | None = None):
        tid = self._transition_id(transition_id)
        return None if tid is None else self._edit(edit.remove_transition, tid)

    # ================================================================ insert, overwrite, lift, extract
    def _track_for_media(self, media_id: int) -> int | None:
        """The targeted track, or the first unlocked track of the kind the media needs."""
        tl = self.timeline
        tid = self.view.target_track()
        row = tl.project.query("SELECT kind FROM media WHERE id = ?", (int(media_id),))
        kind = row[0][0] if row else "video"
        need = "audio" if kind == "audio" else "video" if kind == "image" else None
        if tid is not None and (need is None or tl.track(tid).kind == need):
            return tid
        fits = [t for t in tl.tracks if (need is None or t.kind == need) and not t.locked]
        return fits[0].id if fits else tid

    def _place_media(self, fn, label: str):
        tl = self.timeline
        if tl is None:
            return None
        media = self.window.bin.selected_media_ids()
        if not media:
            return self._refuse(f"Select media in the Media bin to {label} it at the playhead.")
        frame = tl.playhead
        last = None
        with EditMacro(self.window.undo_stack, f"{label} {len(media)} clips", len(media) > 1):
            for mid in media:
                tid = self._track_for_media(mid)
                if tid is None:
                    return self._refuse("Click a track's header to choose where media goes.")
                change = self._edit(fn, int(mid), tid, frame)
                if change is None:
                    break
                last = change
                frame = max(c.end for c in change.after if getattr(c, "media_id", None) == int(mid)
                            and c.start == frame)
        if last is not None:
            self.window.seek(frame)  # on past the new material, ready for the next edit
        return last

    def insert(self):
        """Insert the media selected in the bin at the playhead on the targeted track (ripples the rest)."""
        return self._place_media(edit.insert_clip, "insert")

    def overwrite(self):
        """Put the media selected in the bin at the playhead on the targeted track, over what lies there."""
        return self._place_media(edit.overwrite_clip, "overwrite")

    def marked_range(self) -> tuple[int, int] | None:
        """[in, out + 1) of the sequence's marks (the out mark's frame is included), or None."""
        tl = self.timeline
        seq = tl.sequence
        if seq.in_point is None and seq.out_point is None:
            return None
        start = seq.in_point or 0
        end = seq.out_point + 1 if seq.out_point is not None else tl.duration
        return start, end

    def _range_or_clips(self, range_fn, clips_fn):
        tl = self.timeline
        if tl is None:
            return None
        marked = self.marked_range()
        if marked is not None:
            return self._edit(range_fn, *marked)
        ids = self.view.selected_clip_ids()
        if ids:
            return self._edit(clips_fn, ids)
        return self._refuse("Mark in and out (I, O) or select clips first.")

    def lift(self):
        """Remove the in/out range (else the selected clips), leaving a gap."""
        return self._range_or_clips(edit.lift_range, edit.lift)

    def extract(self):
        """Remove the in/out range (else the selected clips) and close the gap."""
        return self._range_or_clips(edit.extract_range, edit.extract)

    def ripple_delete(self):
        ids = self.view.selected_clip_ids()
        if not ids:
            return self._refuse("Select the clips to ripple delete.")
        return self._edit(edit.extract, ids)

    def delete_selected(self) -> bool:
        """Delete the selected marker or transition; False when neither is selected (clips are the window's)."""
        if self.view.selected_marker() is not None:
            self.delete_marker(self.view.selected_marker())
            return True
        if self.view.selected_transition() is not None:
            self.delete_transition(self.view.selected_transition())
            return True
        return False

    # ================================================================ speed
    def set_speed(self, clip_ids, speed, keep: str = "source", ripple: bool = False):
        ids = list(clip_ids)
        last = None
        with EditMacro(self.window.undo_stack, f"speed of {len(ids)} clips", len(ids) > 1):
            for cid in ids:
                last = self._edit(edit.set_speed, int(cid), speed, keep, ripple)
                if last is None:
                    break
        return last

    def speed_dialog(self):
        tl = self.timeline
        ids = self.view.selected_clip_ids() if tl is not None else []
        if not ids:
            return self._refuse("Select the clip(s) to change the speed of.")
        dlg = SpeedDialog(tl.clips[ids[0]].speed, self.window)
        if not self.exec_dialog(dlg):
            return None
        speed = dlg.speed()
        if speed is None:
            return self._refuse(f"{dlg.edit.text()!r} is not a speed (try 50% or 1/2).")
        return self.set_speed(ids, speed, dlg.keep(), dlg.ripple.isChecked() and dlg.keep() == "source")

