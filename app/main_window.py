"""The main window: docks, menus, keyboard, and the wiring between widgets and core."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QImage, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QDockWidget, QFileDialog, QMainWindow, QMessageBox, QVBoxLayout, QWidget)

from app import media_controller
from app.commands import push_edit
from app.editing import EditingController
from app.jobs import JobRunner
from app.playback import PlaybackController
from app.show_output import ShowOutputController
from app.roto import RotoController
from app.audio_ui import AudioController
from app.effects import EffectsController
from app.render_ui import RenderController
from app.patch_ui import PatchController
from app.pattern_editor import PatternEditorController
from app.lighting_lanes import LightingLanesController
from app.stage_ui import StageController
from app.tracking import TrackingController
from core.errors import LumaError
from core.project import Project
from core.project import media_store
from core.project.proxies import proxy_jobs_for
from core.time import frames_to_timecode
from core.timeline import edit
from core.timeline.model import Timeline, create_sequence, list_sequences, match_sequence_to_media
from widgets.inspector import Inspector
from widgets.jobs_panel import JobsPanel
from widgets.media_bin import MediaBin
from widgets.timeline import TimelineView
from widgets.transport_bar import TransportBar

log = logging.getLogger(__name__)
MAX_RECENT = 8


def make_viewer(parent=None, use_gl: bool = True):
    """The GL viewer when OpenGL works in this session, otherwise the raster fallback."""
    from widgets.viewer import RasterViewer, create_viewer

    return create_viewer(parent) if use_gl else RasterViewer(parent)


class MainWindow(QMainWindow):
    def __init__(self, settings: QSettings | None = None, use_gl: bool = True):
        super().__init__()
        self.setWindowTitle("Luma Studio")
        self.resize(1400, 900)
        self.settings = settings or QSettings("Luma Studio", "Luma Studio")
        self.project: Project | None = None
        self.timeline: Timeline | None = None
        self.playback: PlaybackController | None = None
        self.undo_stack = QUndoStack(self)
        self.jobs = JobRunner(self)
        self.errors: list[str] = []  # every error shown to the user, newest last
        self._thumb_cache: dict[int, QImage] = {}
        self._wave_cache: dict[int, object] = {}
        self.setAcceptDrops(True)
        self.setDockNestingEnabled(True)

        # central: viewer + transport
        central = QWidget()
        lay = QVBoxLayout(central)
        lay.setContentsMargins(0, 0, 0, 0)
        self.viewer = make_viewer(central, use_gl)
        self.viewer.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # click the picture, then use the keys
        self.transport_bar = TransportBar()
        lay.addWidget(self.viewer, 1)
        lay.addWidget(self.transport_bar)
        self.setCentralWidget(central)

        self.bin = MediaBin()
        self.timeline_view = TimelineView()
        self.inspector = Inspector()
        self.jobs_panel = JobsPanel()
        self._dock("Media", self.bin, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("Jobs", self.jobs_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("Timeline", self.timeline_view, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.timeline_view.set_providers(thumbnail=self._thumbnail_for, waveform=self._waveform_for)
        self.show_output = ShowOutputController(self)  # DMX out, DMX monitor dock, Send DMX / Blackout
        self.tracking = TrackingController(self)  # Track menu, viewer overlay, inspector track list
        self.roto = RotoController(self)  # Roto menu, canvas tools, roto objects
        self.editing = EditingController(self)  # Timeline/Clip menus, edit tools, markers, transitions
        self.effects = EffectsController(self)  # Effects dock: clip/track/sequence properties and filters
        self.render_ui = RenderController(self)  # File > Render Sequence
        self.audio_ui = AudioController(self)  # Audio menu: beats and tempo
        self.patch_ui = PatchController(self)  # Lighting > Patch: fixture library and patch table
        self.stage_ui = StageController(self)  # Lighting > Stage View: the rig at the playhead
        self.pattern_editor = PatternEditorController(self)  # Lighting > Edit Pattern: node view
        self.lighting_lanes = LightingLanesController(self)  # lighting lanes on the timeline, patterns, opacity curves

        self._build_menus()
        self._connect()
        self._update_title()

    # ================================================================ layout
    def _dock(self, title: str, widget: QWidget, area) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title.lower()}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(slot)
        menu.addAction(act)
        self.addAction(act)
        return act

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self._action(f, "&New Project...", self._ask_new, QKeySequence.StandardKey.New)
        self._action(f, "&Open...", self._ask_open, QKeySequence.StandardKey.Open)
        self.recent_menu = f.addMenu("Open &Recent")
        self._action(f, "&Save", self.save, QKeySequence.StandardKey.Save)
        self._action(f, "Save &As...", self._ask_save_as, QKeySequence.StandardKey.SaveAs)
        f.addSeparator()
        self._action(f, "&Import Media...", self._ask_import, "Ctrl+I")
        self._action(f, "Re&link Missing Media...", self._ask_relink)
        f.addSeparator()
        self._action(f, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        self._refresh_recent()

        e = mb.addMenu("&Edit")
        undo = self.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        e.addAction(undo)
        e.addAction(redo)
        self.addAction(undo)
        self.addAction(redo)
        e.addSeparator()
        self._action(e, "Split at Playhead", self.split_at_playhead, "Ctrl+K")
        self._action(e, "Delete", self.delete_selected, QKeySequence.StandardKey.Delete)

        v = mb.addMenu("&View")
        self._action(v, "Fit", lambda: self.viewer.set_zoom(None), "Shift+Z")
        self._action(v, "Zoom 100%", lambda: self.viewer.set_zoom(1.0), "Ctrl+1")
        self.safe_action = self._action(v, "Safe Areas", lambda on: self.viewer.set_safe_areas(on))
        self.safe_action.setCheckable(True)
        self.proxy_action = self._action(v, "Play from Proxies", self._toggle_proxies)
        self.proxy_action.setCheckable(True)
        self._action(v, "Zoom Timeline to Fit", lambda: self.timeline_view.zoom_to_fit(), "Shift+F")

        p = mb.addMenu("&Playback")
        self._action(p, "Play / Pause", self.toggle_play, Qt.Key.Key_Space)
        self._action(p, "Play Backward (J)", lambda: self._shuttle(-1), Qt.Key.Key_J)
        self._action(p, "Stop (K)", lambda: self._shuttle(0), Qt.Key.Key_K)
        self._action(p, "Play Forward (L)", lambda: self._shuttle(1), Qt.Key.Key_L)
        self._action(p, "Previous Frame", lambda: self.step(-1), Qt.Key.Key_Left)
        self._action(p, "Next Frame", lambda: self.step(1), Qt.Key.Key_Right)
        self._action(p, "Go to Start", lambda: self.seek(0), Qt.Key.Key_Home)
        self._action(p, "Go to End", self._go_end, Qt.Key.Key_End)
        self._action(p, "Mark In", lambda: self._mark("in"), Qt.Key.Key_I)
        self._action(p, "Mark Out", lambda: self._mark("out"), Qt.Key.Key_O)
        self.show_output.install_menus(p, v)
        self.tracking.install_menu(mb)
        self.roto.install_menu(mb, f)
        self.editing.install_menu(mb)
        self.effects.install_menu(v)
        self.render_ui.install_menu(f)
        self.audio_ui.install_menu(mb)
        self.patch_ui.install(self)
        self.stage_ui.install(self)
        self.stage_ui.connect_patch(self.patch_ui)
        self.pattern_editor.install(self)
        self.lighting_lanes.install(self)

    def _connect(self) -> None:
        self.bin.filesDropped.connect(self.import_files)
        self.jobs.added.connect(lambda jid: self.jobs_panel.add_job(jid, self.jobs.jobs[jid].title))
        self.jobs.changed.connect(self._job_changed)
        self.jobs_panel.cancelRequested.connect(self.jobs.cancel)
        tv = self.timeline_view
        tv.moveRequested.connect(self._on_move)
        tv.trimRequested.connect(self._on_trim)
        tv.scrubRequested.connect(self.seek)
        tv.deleteRequested.connect(self._on_delete)
        tv.splitRequested.connect(self.split_at_playhead)
        tv.mediaDropped.connect(self._on_media_dropped)
        tv.filesDropped.connect(self._on_files_dropped_on_timeline)
        tv.selectionChanged.connect(self._show_selection)
        tv.trackToggleRequested.connect(self.toggle_track_flag)
        self.transport_bar.playToggled.connect(self.toggle_play)
        self.transport_bar.stepRequested.connect(self.step)
        self.transport_bar.homeRequested.connect(lambda: self.seek(0))
        self.transport_bar.endRequested.connect(self._go_end)
        self.undo_stack.cleanChanged.connect(lambda _c: self._update_title())

    # ================================================================ errors
    def show_error(self, message: str, title: str = "Luma Studio") -> None:
        """Tell the user (non-blocking dialog) and keep the message for the log/tests."""
        self.errors.append(message)
        log.warning("%s", message)
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.statusBar().showMessage(message.splitlines()[0], 8000)

    def _run(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except LumaError as exc:
            self.show_error(str(exc))
            return None

    # ================================================================ project
    def open_project(self, path: str | Path) -> bool:
        try:
            project = Project.open(path)
        except LumaError as exc:
            self.show_error(str(exc))
            return False
        self._set_project(project)
        return True

    def new_project(self, path: str | Path) -> bool:
        try:
            project = Project.create(path, overwrite=False)
            create_sequence(project, "Sequence 1", rate=25, width=1920, height=1080)
        except LumaError as exc:
            self.show_error(str(exc))
            return False
        self._set_project(project)
        return True

    def _set_project(self, project: Project) -> None:
        if project is not self.project:
            self.close_project()
        else:
            self._stop_playback()
        self.project = project
        if not list_sequences(project):
            create_sequence(project)
        self.timeline = Timeline(project)
        self._bind_timeline()
        self.undo_stack.clear()
        self._thumb_cache.clear()
        self._wave_cache.clear()
        self._reload_bin()
        self._remember_recent(project.path)
        self._update_title()
        self.show_output.set_project(project)
        self.tracking.project_opened()
        self.roto.project_opened()
        self.effects.project_opened()
        self.patch_ui.project_opened()
        self.stage_ui.project_opened()
        self.pattern_editor.project_opened()
        self.lighting_lanes.project_opened()
        missing = media_store.missing_media(project)
        if missing:
            names = ", ".join(m.name for m in missing[:5])
            self.show_error(f"{len(missing)} media file(s) are missing: {names}. "
                            "Use File > Relink Missing Media to point at the folder they moved to.")

    def _bind_timeline(self) -> None:
        """(Re)connect the views and the playback to ``self.timeline``."""
        self.timeline_view.set_timeline(self.timeline)
        self.playback = PlaybackController(self.timeline, self.viewer, self,
                                           preview_height=360 if self.proxy_action.isChecked() else None)
        self.playback.frameShown.connect(self._on_frame_shown)
        self.playback.playingChanged.connect(self.transport_bar.set_playing)
        self.playback.errorChanged.connect(lambda e: e and self.statusBar().showMessage(e, 5000))
        self.playback.audioChanged.connect(lambda a: a and self.statusBar().showMessage(f"Audio: {a}", 5000))
        self.timeline.playhead_moved.connect(self._on_playhead)
        self._on_playhead(self.timeline.playhead)
        self.show_output.set_playback(self.playback)

    def _stop_playback(self) -> None:
        self.show_output.set_playback(None)
        if self.playback is not None:
            self.playback.close()
            self.playback = None
        if self.timeline is not None:
            try:
                self.timeline.playhead_moved.disconnect(self._on_playhead)
            except (TypeError, ValueError, RuntimeError):
                pass
            if not self.timeline.project.closed:
                self.timeline.save_playhead()

    def close_project(self) -> None:
        self.show_output.set_project(None)  # stops the DMX senders and joins their threads
        self.tracking.project_closing()  # cancels its jobs; sessions resume from their checkpoints
        self.roto.project_closing()  # the same for propagation
        self.render_ui.project_closing()
        self.effects.project_closing()
        self.patch_ui.project_closing()
        self.stage_ui.project_closing()
        self.pattern_editor.project_closing()
        self.lighting_lanes.project_closing()
        self._stop_playback()
        if self.project is not None:
            self.project.close()
        self.project = None
        self.timeline = None

    def save(self) -> None:
        if self.project is not None:
            if self.timeline is not None:
                self.timeline.save_playhead()
            self._run(self.project.save)
            self.undo_stack.setClean()
            self.statusBar().showMessage(f"Saved {self.project.path.name}", 3000)

    def save_as(self, path: str | Path) -> bool:
        if self.project is None:
            return False
        if self.timeline is not None:
            self.timeline.save_playhead()
        try:
            self.project.save_as(path)
        except LumaError as exc:
            self.show_error(str(exc))
            return False
        # continue on the new file: reload everything from it
        self._set_project(self.project)
        return True

    def _update_title(self) -> None:
        if getattr(self, "_closing", False):
            return
        name = self.project.path.name if self.project else "no project"
        self.setWindowTitle(f"{name} - Luma Studio")

    # ---------------------------------------------------------------- dialogs
    def _ask_new(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "New Project", str(Path.home()), "Luma projects (*.luma)")
        if path:
            self.new_project(path)

    def _ask_open(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open Project", str(Path.home()), "Luma projects (*.luma)")
        if path:
            self.open_project(path)

    def _ask_save_as(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save Project As", str(Path.home()), "Luma projects (*.luma)")
        if path:
            self.save_as(path)

    def _ask_import(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import Media", str(Path.home()),
                                                "Media (*.mp4 *.mov *.mkv *.avi *.mxf *.webm *.m4v *.wav *.mp3 "
                                                "*.flac *.aac *.png *.jpg *.jpeg *.tif *.tiff);;All files (*)")
        if paths:
            self.import_files(paths)

    def _ask_relink(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder to search for missing media", str(Path.home()))
        if folder:
            self.relink_missing([folder])

    def relink_missing(self, folders: list[str]) -> int:
        """Find moved media under ``folders`` (same name and content) and point the project at them."""
        if self.project is None:
            return 0
        found = self._run(media_store.relink_all, self.project, folders) or {}
        still = media_store.missing_media(self.project)
        self._reload_bin()
        if self.playback is not None:
            self.playback.worker.invalidate()
            self.playback.source.close()
        msg = f"Relinked {len(found)} file(s)"
        if still:
            msg += f"; still missing: {', '.join(m.name for m in still[:5])}"
        self.statusBar().showMessage(msg, 8000)
        return len(found)

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if isinstance(v, str)]

    def _remember_recent(self, path: Path) -> None:
        items = [str(path)] + [p for p in self.recent_files() if p != str(path)]
        self.settings.setValue("recent", items[:MAX_RECENT])
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for p in self.recent_files():
            act = self.recent_menu.addAction(p)
            act.triggered.connect(lambda _=False, p=p: self.open_project(p))
        self.recent_menu.setEnabled(bool(self.recent_files()))

    # ================================================================ media
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.import_files(paths)

    def import_files(self, paths: list[str], then=None) -> list[int]:
        """Analyse files on the job runner, add them to the project; ``then(media_ids)`` after each."""
        if self.project is None:
            self.show_error("Open or create a project first (File > New Project).")
            return []
        job_ids = []
        for path in paths:
            job = media_controller.AnalyseJob(path)
            job_ids.append(self.jobs.submit(
                job,
                on_done=lambda item, then=then: self._add_analysed(item, then),
                on_error=lambda msg: self.show_error(msg),
            ))
        return job_ids

    def _add_analysed(self, item, then=None) -> None:
        if self.project is None:
            return
        record = self._run(media_store.add_analysed, self.project, item)
        if record is None:
            return
        self._reload_bin()
        for job in proxy_jobs_for(self.project, record):
            self.jobs.submit(job, on_done=lambda res, mid=record.id: self._proxy_done(mid, res),
                             on_error=lambda msg: None)
        if then is not None:
            then([record.id])

    def _proxy_done(self, media_id: int, result: dict) -> None:
        if self.project is None:
            return
        self._run(media_store.add_derived, self.project, media_id, "proxy", result["params"], result["path"],
                  result.get("width"), result.get("height"))

    def _reload_bin(self) -> None:
        if self.project is None:
            self.bin.set_entries([])
            return
        self.bin.set_entries([media_controller.bin_entry(m) for m in media_store.list_media(self.project)])

    def _thumbnail_for(self, media_id: int):
        if media_id not in self._thumb_cache and self.project is not None:
            self._thumb_cache[media_id] = media_controller.thumbnail_image(self.project, media_id)
        return self._thumb_cache.get(media_id)

    def _waveform_for(self, media_id: int):
        # computed on the job runner the first time it is asked for; drawn when ready
        if media_id in self._wave_cache:
            return self._wave_cache[media_id]
        if self.project is None:
            return None
        self._wave_cache[media_id] = None
        try:
            path = media_store.media_path(self.project, media_id)
        except LumaError:
            return None
        job = media_controller.WaveformJob(path)
        self.jobs.submit(job, on_done=lambda peaks, mid=media_id: self._waveform_done(mid, peaks),
                         on_error=lambda msg: None)
        return None

    def _waveform_done(self, media_id: int, peaks) -> None:
        self._wave_cache[media_id] = peaks
        if self.timeline is not None:
            self.timeline_view.invalidate_media(media_id)

    def _job_changed(self, job_id: int) -> None:
        rec = self.jobs.jobs[job_id]
        self.jobs_panel.update_job(job_id, rec.state, rec.progress, rec.message, rec.error)

    # ================================================================ editing
    def _edit(self, fn, *args, **kwargs):
        if self.timeline is None:
            return None
        return self._run(push_edit, self.undo_stack, self.timeline, fn, *args, **kwargs)

    def toggle_track_flag(self, track_id: int, flag: str) -> None:
        self.editing.toggle_track_flag(track_id, flag)  # one undoable track_state edit

    def _on_move(self, clip_ids: list, delta: int, track_map: dict) -> None:
        self._edit(edit.move_clips, list(clip_ids), int(delta), {int(k): int(v) for k, v in track_map.items()})

    def _on_trim(self, clip_id: int, edge: str, frame: int) -> None:
        self._edit(edit.trim_clip, int(clip_id), edge, int(frame))

    def _on_delete(self, clip_ids: list) -> None:
        if clip_ids:
            self._edit(edit.delete_clips, list(clip_ids))

    def delete_selected(self) -> None:
        if self.editing.delete_selected():  # a selected marker or transition goes first
            return
        lanes = self.lighting_lanes.lanes
        layer = lanes.selected_layer() if lanes is not None else None
        if layer is not None:  # then a selected lighting block
            self.lighting_lanes.remove_layers([layer])
            return
        self._on_delete(self.timeline_view.selected_clip_ids())

    def split_at_playhead(self) -> None:
        if self.timeline is None:
            return
        selected = self.timeline_view.selected_clip_ids()
        if selected:
            self._edit(edit.split_clips, selected, self.timeline.playhead)
        else:
            self._edit(edit.split_at, self.timeline.playhead)

    def add_media_to_timeline(self, media_ids: list[int], track_id: int | None = None, frame: int | None = None):
        """Put media on the timeline at ``frame`` (default: the end), picture and sound on matching tracks."""
        tl = self.timeline
        if tl is None:
            return
        vt = [t for t in tl.video_tracks()]
        at = [t for t in tl.audio_tracks()]
        video_track = vt[0].id if vt else None
        audio_track = at[0].id if at else None
        if track_id is not None:
            kind = tl.track(track_id).kind
            if kind == "video":
                video_track = track_id
            else:
                audio_track = track_id
        if not tl.clips and media_ids:
            # first clip on an empty sequence: take its size and rate, as editors expect
            info = json.loads(self.project.query("SELECT probe FROM media WHERE id = ?", (int(media_ids[0]),))[0][0])
            if match_sequence_to_media(self.project, tl.sequence_id, info):
                self._stop_playback()
                tl.reload()
                self._bind_timeline()
        start = tl.duration if frame is None else max(0, int(frame))
        self.undo_stack.beginMacro("add media")
        try:
            for mid in media_ids:
                change = self._edit(edit.add_media, int(mid), video_track, audio_track, start)
                if change is None:
                    break
                start = max(c.end for c in change.after)
        finally:
            self.undo_stack.endMacro()

    def _on_media_dropped(self, media_ids: list, track_id: int, frame: int) -> None:
        self.add_media_to_timeline([int(m) for m in media_ids], int(track_id), int(frame))

    def _on_files_dropped_on_timeline(self, paths: list, track_id: int, frame: int) -> None:
        self.import_files(list(paths), then=lambda ids: self.add_media_to_timeline(ids, int(track_id), int(frame)))

    def _show_selection(self, clip_ids: list) -> None:
        if self.timeline is None or len(clip_ids) != 1 or clip_ids[0] not in self.timeline.clips:
            self.inspector.show_properties([], "")
            return
        clip = self.timeline.clips[clip_ids[0]]
        rows = media_controller.clip_properties(self.timeline, clip)
        self.inspector.show_properties(rows, clip.name)

    # ================================================================ playback
    def toggle_play(self) -> None:
        if self.playback:
            self.playback.toggle()

    def _shuttle(self, direction: int) -> None:
        if self.playback:
            self.playback.shuttle(direction)

    def step(self, frames: int) -> None:
        if self.playback:
            self.playback.step(frames)

    def seek(self, frame: int) -> None:
        if self.playback:
            self.playback.seek(frame)

    def _go_end(self) -> None:
        if self.timeline is not None:
            self.seek(max(0, self.timeline.duration - 1))

    def _mark(self, which: str) -> None:
        tl = self.timeline
        if tl is None or self.playback is None:
            return
        seq = tl.sequence
        in_point, out_point = (tl.playhead, seq.out_point) if which == "in" else (seq.in_point, tl.playhead)
        if in_point is not None and out_point is not None and out_point < in_point:
            # marking past the other mark moves that mark, as editors expect
            in_point, out_point = (in_point, None) if which == "in" else (None, out_point)
        try:
            tl.set_in_out(in_point, out_point)
        except LumaError as exc:
            self.show_error(str(exc))
            return
        self.playback.set_play_range(in_point or 0, out_point)

    def _on_playhead(self, frame: int) -> None:
        if self.timeline is not None:
            self.transport_bar.set_timecode(frames_to_timecode(frame, self.timeline.rate))

    def _on_frame_shown(self, frame: int) -> None:
        if self.playback is not None:
            self.transport_bar.set_status(f"dropped {self.playback.dropped}")
        self.tracking.on_frame_shown(frame)
        self.roto.on_frame_shown(frame)

    def _toggle_proxies(self, on: bool) -> None:
        if self.timeline is not None:
            self._stop_playback()
            self._bind_timeline()

    # ================================================================ close
    def closeEvent(self, event) -> None:
        self._closing = True
        active = self.jobs.active()
        if active:
            self.jobs.cancel_all()
            self.jobs.wait(5000)
        self.close_project()
        event.accept()
