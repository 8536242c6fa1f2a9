"""The stage view dock and the stage overlay on the viewer, following the transport.

:class:`StageController` shows the project's rig in a
:class:`widgets.stage.StageView` (a dock beside the viewer) and, with
*Lighting > Overlay Stage on Viewer*, in a :class:`widgets.stage.StageOverlay`
over the video. Where the fixtures stand comes from the project's patch
(:func:`core.lighting.patch_store.load_fixtures`, overlaps included); what
they show comes from the same source the DMX senders play: the main
window's :class:`~core.output.source.ShowDmxSource` (``window.show_output.source``,
grand master and blackout included) sampled at the transport's time, decoded
by :class:`core.lighting.visualize.FixtureVisualizer`. Without a show output
controller it loads the show itself.

A timer runs while the dock or the overlay shows - 44 Hz while the
transport plays, 10 Hz while it stands (a move of the playhead shows at
once through ``timeline.playhead_moved``): each tick reads the transport's
time and, when it moved (playback, a scrub, a step) or the show changed,
samples the show and hands the view the new light - one numpy decode and
one numpy scatter per frame. Dragging fixtures in the view moves
them on stage: one undoable step (:func:`app.patch_ui.push_fixture_edits`),
stored in one transaction.

Install with ``StageController(window).install(window)``; tell it about
projects with :meth:`project_opened` / :meth:`project_closing` (it also
notices a new ``window.project`` by itself on its next tick).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from app.patch_ui import push_fixture_edits
from app.project_follower import ProjectFollower, lighting_menu
from core.errors import LumaError
from core.lighting.addressing import find_conflicts
from core.lighting.buffer import CompositeBuffer
from core.lighting.patch_store import load_fixtures, span_of
from core.lighting.store import load_show, stored_definitions
from core.lighting.visualize import FixtureVisualizer, beam_floor_points
from core.output.source import ShowDmxSource
from widgets.stage import StageOverlay, StageView

log = logging.getLogger(__name__)

RATE_HZ = 44.0  # while the transport plays
IDLE_HZ = 10.0  # while it stands: only notices what else changed the show


class StageController(ProjectFollower):
    def __init__(self, window=None):
        super().__init__(window)
        self.view = StageView()
        self.view.setObjectName("stage-view")
        self.overlay: StageOverlay | None = None
        self.dock: QDockWidget | None = None
        self.view_action: QAction | None = None
        self.overlay_action: QAction | None = None
        self.fixtures = []  # FixtureInstance, patch order, as laid out
        self.head_positions = np.zeros((0, 3))  # [P] metres (each head at its fixture's place)
        self.last_time: float | None = None
        self.frames_shown = 0
        self.message = ""
        self._own_source: ShowDmxSource | None = None  # only without window.show_output
        self._source_seen = None
        self._vis: FixtureVisualizer | None = None
        self._vis_rig = None
        self._head_map = np.zeros(0, np.int64)  # view head -> rig primitive (-1: not in the rig)
        self._layout_fp = ""
        self._lighting_fp = ""
        self._frame_dirty = True
        self._reported = ""
        self._timeline = None  # whose playhead_moved we follow

        self.panel = QWidget()
        self.fit_button = QToolButton()
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Show the whole rig (F)")
        self.fit_button.clicked.connect(self.fit)
        self.overlay_button = QToolButton()
        self.overlay_button.setText("Overlay on Viewer")
        self.overlay_button.setCheckable(True)
        self.overlay_button.setToolTip("Draw the plan see-through over the video")
        self.overlay_button.toggled.connect(self.set_overlay)
        self.time_label = QLabel("")
        self.time_label.setObjectName("stage-time")
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.time_label.setMinimumWidth(self.time_label.fontMetrics().horizontalAdvance("00000.00 s") + 6)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        bar.addWidget(self.fit_button)
        bar.addWidget(self.overlay_button)
        bar.addStretch(1)
        bar.addWidget(self.time_label)
        lay = QVBoxLayout(self.panel)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addLayout(bar)
        lay.addWidget(self.view, 1)

        self.view.moveRequested.connect(self.move_fixtures)
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(int(1000 / RATE_HZ))
        self.timer.timeout.connect(self.tick)

    # ================================================================ installation
    def install(self, window) -> None:
        """Add the Stage dock (right of the viewer, hidden) and the Lighting menu entries."""
        self.window = window
        if self.parent() is None:
            self.setParent(window)
        dock = QDockWidget("Stage", window)
        dock.setObjectName("dock-stage")
        dock.setWidget(self.panel)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        dock.hide()
        dock.visibilityChanged.connect(lambda _visible: self._update_running())
        self.dock = dock
        menu = lighting_menu(window.menuBar())
        self.view_action = QAction("Stage View", window, checkable=True)
        self.view_action.setShortcut(QKeySequence("Ctrl+Alt+S"))
        self.view_action.setToolTip("The rig seen from above, in the colours the show sends")
        self.view_action.toggled.connect(self.set_dock_visible)
        self.overlay_action = QAction("Overlay Stage on Viewer", window, checkable=True)
        self.overlay_action.toggled.connect(self.set_overlay)
        for act in (self.view_action, self.overlay_action):
            menu.addAction(act)
            window.addAction(act)
        self._bind_project()

    def fit(self) -> None:
        self.view.auto_fit = True
        self.view.fit()

    def set_dock_visible(self, on: bool) -> None:
        if self.dock is None:
            return
        if on:
            self.dock.show()
            self.dock.raise_()
        else:
            self.dock.hide()
        self._update_running()

    def set_overlay(self, on: bool) -> None:
        """Show or hide the plan over the viewer."""
        on = bool(on)
        for toggle in (self.overlay_action, self.overlay_button):
            if toggle is not None and toggle.isChecked() != on:
                toggle.blockSignals(True)
                toggle.setChecked(on)
                toggle.blockSignals(False)
        viewer = getattr(self.window, "viewer", None)
        if on and viewer is not None:
            if self.overlay is None:
                self.overlay = StageOverlay(viewer)
                self._feed_layout(self.overlay)
            self.overlay.show()
            self.overlay.raise_()
            self._frame_dirty = True
        elif self.overlay is not None:
            self.overlay.hide()
        self._update_running()

    def _update_running(self) -> None:
        if self.dock is not None and self.view_action is not None:
            shown = self.dock.isVisible()
            if self.view_action.isChecked() != shown:
                self.view_action.blockSignals(True)
                self.view_action.setChecked(shown)
                self.view_action.blockSignals(False)
        wanted = self.active
        if wanted and not self.timer.isActive():
            self._bind_project()
            self._frame_dirty = True
            self.timer.start()
            self.tick()
        elif not wanted and self.timer.isActive():
            self.timer.stop()

    @property
    def active(self) -> bool:
        """Whether anything shows the stage (the dock, the overlay, or the bare view in tests)."""
        dock_shown = self.dock.isVisible() if self.dock is not None else self.view.isVisible()
        return dock_shown or (self.overlay is not None and self.overlay.isVisible())

    # ================================================================ project
    def _project_switched(self) -> None:
        self._own_source = None
        self._layout_fp = self._lighting_fp = ""
        self.reload()

    def _on_project_changed(self, _label: str) -> None:
        if self._project is None or self._project.closed:
            return
        self.reload()

    def _fingerprint(self, tables: tuple[str, ...]) -> str:
        h = hashlib.blake2b(digest_size=16)
        for table in tables:
            h.update(repr(self._project.query(f"SELECT * FROM {table} ORDER BY rowid")).encode())
        return h.hexdigest()

    def reload(self) -> None:
        """Lay the rig out again when the patch changed; reload an own show when the lighting changed."""
        project = self._project
        if project is None or project.closed:
            self.fixtures = []
            self._set_layout([], {}, "")
            return
        layout_fp = self._fingerprint(("lighting_fixtures", "lighting_fixture_defs"))
        if layout_fp != self._layout_fp:
            self._layout_fp = layout_fp
            try:
                fixtures = load_fixtures(project)
                defs = stored_definitions(project)
                conflicts = find_conflicts(span_of(f, defs) for f in fixtures)
            except LumaError as exc:
                self._report(f"The rig cannot be shown: {exc}")
                return
            note = ""
            if conflicts:
                first = next(iter(conflicts))
                note = (f"No live colours: {first} {conflicts[first][0].describe()} "
                        "(fix the red rows in Lighting > Patch)")
            self._set_layout(fixtures, defs, note)
        if not hasattr(self.window, "show_output"):
            lighting_fp = self._fingerprint(("lighting_settings", "lighting_fixture_defs", "lighting_fixtures",
                                             "lighting_patterns", "lighting_layers"))
            if lighting_fp != self._lighting_fp:
                self._lighting_fp = lighting_fp
                try:
                    self._own_source = ShowDmxSource(CompositeBuffer(load_show(project)))
                except LumaError as exc:
                    self._own_source = None
                    self._report(f"The lighting show cannot be played: {exc}")
        self._frame_dirty = True
        if self.active:
            self.tick()

    def _set_layout(self, fixtures, defs, note: str) -> None:
        self.fixtures = list(fixtures)
        heads, columns, tips = [], [], []
        for f in self.fixtures:
            d = defs.get(f.definition)
            n, cols = 1, 1
            if d is not None:
                mode = d.mode(f.mode)
                n = max(1, len(mode.heads))
                lay = d.mode_physical(mode).layout
                cols = lay[0] if lay[0] * lay[1] == n else n
            heads.append(n)
            columns.append(cols)
            x, y, z = f.position
            tips.append(f"{f.label} ({f.id})\n{f.definition}, {f.mode}\nuniverse {f.universe}, address {f.address}"
                        f"\nx {x:.2f} m, y {y:.2f} m, z {z:.2f} m")
        self._layout = ([f.id for f in self.fixtures], [f.label for f in self.fixtures],
                        np.array([f.position for f in self.fixtures], dtype=np.float64).reshape(-1, 3),
                        np.array(heads, np.int64), np.array(columns, np.int64), tips)
        self._feed_layout(self.view)
        if self.overlay is not None:
            self._feed_layout(self.overlay)
        self.head_positions = self._layout[2][self.view.head_fixture] if len(self.fixtures) else np.zeros((0, 3))
        self._vis_rig = None  # the head map must be rebuilt
        self.message = note
        self.view.set_message(note)
        self._frame_dirty = True

    def _feed_layout(self, widget) -> None:
        if not hasattr(self, "_layout"):
            return
        ids, labels, positions, heads, columns, tips = self._layout
        widget.set_fixtures(ids, labels, positions, heads, columns, tips)

    # ================================================================ the frame
    def _source(self) -> ShowDmxSource | None:
        output = getattr(self.window, "show_output", None)
        if output is not None:
            return output.source
        return self._own_source

    def show_time(self) -> float:
        output = getattr(self.window, "show_output", None)
        if output is not None:
            return output.show_time()
        playback = getattr(self.window, "playback", None)
        return max(0.0, playback.transport.time()) if playback is not None else 0.0

    def _follow_timeline(self) -> None:
        timeline = getattr(self.window, "timeline", None) if self.window is not None else None
        if timeline is self._timeline:
            return
        if self._timeline is not None:
            try:
                self._timeline.playhead_moved.disconnect(self._playhead_moved)
            except (TypeError, ValueError, RuntimeError):
                pass
        self._timeline = timeline
        if timeline is not None:
            timeline.playhead_moved.connect(self._playhead_moved)

    def _playhead_moved(self, _frame: int) -> None:
        if self.active and not self._playing():
            self.tick()  # a scrub or a step: show it now, not at the next idle tick

    def _playing(self) -> bool:
        playback = getattr(self.window, "playback", None) if self.window is not None else None
        return bool(playback is not None and playback.transport.playing)

    def tick(self) -> None:
        """Timer: show the frame at the transport's time when it moved or the show changed."""
        if self.window is not None and getattr(self.window, "project", None) is not self._project:
            self._bind_project()
        self._follow_timeline()
        interval = int(1000 / (RATE_HZ if self._playing() else IDLE_HZ))
        if self.timer.interval() != interval:
            self.timer.setInterval(interval)
        t = self.show_time()
        source = self._source()
        if source is not self._source_seen:
            self._source_seen = source
            self._frame_dirty = True
        if not self._frame_dirty and t == self.last_time:
            return
        self.update_frame(t)

    def update_frame(self, t: float | None = None) -> None:
        """Sample the show at ``t`` (default: the transport's time) and give the views the light."""
        t = self.show_time() if t is None else float(t)
        self.last_time = t
        self._frame_dirty = False
        self.time_label.setText(f"{t:.2f} s")
        views = [self.view] + ([self.overlay] if self.overlay is not None and self.overlay.isVisible() else [])
        source = self._source()
        p = self.view.head_count
        if source is None or p == 0 or self.message:
            for v in views:
                v.set_look(None)
            if source is None and p and not self.message:
                self.view.set_message("No live colours: the lighting show is not loaded")
            return
        try:
            frames = source(t)
        except Exception as exc:  # a broken pattern: say it once, keep showing the rig
            self._report(f"The lighting show failed at {t:.2f} s: {exc}")
            return
        rig = source.renderer.rig
        if rig is not self._vis_rig:
            self._vis_rig = rig
            self._vis = FixtureVisualizer(rig)
            index = rig.fixture_primitives
            mapping = []
            for i, fid in enumerate(self.view.ids):
                prims = index.get(fid, [])
                k = int(self.view.heads[i])
                mapping += list(prims[:k]) + [-1] * (k - len(prims[:k]))
            self._head_map = np.asarray(mapping, dtype=np.int64)
        look = self._vis.decode_universes(frames)
        ok = self._head_map >= 0
        src = np.maximum(self._head_map, 0)
        light = np.where(ok[:, None], look.light[src], 0.0)
        moving = ok & look.moving[src]
        beams = np.full((p, 2), np.nan)
        if moving.any():
            beams[moving] = beam_floor_points(self.head_positions[moving], look.pan[src][moving], look.tilt[src][moving])
        for v in views:
            v.set_look(light, beams)
        self.frames_shown += 1
        if self._reported or self.view.message != self.message:  # working again
            self._reported = ""
            self.view.set_message(self.message)

    def _report(self, message: str) -> None:
        if message == self._reported:
            return
        self._reported = message
        self.messages.append(message)
        log.warning("%s", message)
        self.view.set_message(message)
        if self.window is not None and hasattr(self.window, "statusBar"):
            self.window.statusBar().showMessage(message, 8000)

    # ================================================================ edits
    def move_fixtures(self, moves: dict) -> bool:
        """The view's drag: new x, y (metres) for fixtures, one undoable step stored in one transaction."""
        project = self.project
        if project is None:
            return False
        by_id = {f.id: f for f in load_fixtures(project)}
        after = [replace(by_id[i], position=(float(x), float(y), by_id[i].position[2]))
                 for i, (x, y) in moves.items() if i in by_id]
        if not after:
            return False
        label = f"move {after[0].id} on stage" if len(after) == 1 else f"move {len(after)} fixtures on stage"
        if push_fixture_edits(self, after, label):
            return True
        self._layout_fp = ""  # refused or no change: show the stored places again
        self.reload()
        return False

    def connect_patch(self, patch_controller) -> None:
        """Keep the selection of the patch table and the stage view the same."""
        panel = patch_controller.panel
        panel.selectionChanged.connect(self.view.set_selected)
        self.view.selectionChanged.connect(panel.select_ids)
