"""The lighting designer's workspace on the timeline: lighting lanes, the Patterns list, the opacity-curve editor.

:class:`LightingLanesController` (owned by the main window) attaches
:class:`widgets.timeline.lanes.LightingLanes` to the timeline view, adds a
*Patterns* dock (drag a pattern onto a lane) and an *Opacity Curve* dock under
the timeline (:class:`widgets.curve_editor.CurveEditor`), and entries in the
Lighting menu (add a lane, z-order with shortcuts, the curve editor).

Every change the widgets ask for is one :mod:`core.lighting.layer_edit`
operation (one transaction) recorded as a :class:`LayerEditCommand` on the
window's undo stack; undo and redo write the exact stored rows back. The
lanes are then rebuilt from what is stored (``project.changed``), and the
show output reloads its composite buffer from the same tables
(:class:`app.show_output.ShowOutputController`).

The main window creates it with ``LightingLanesController(window)``, calls
:meth:`install` once its menus exist, and :meth:`project_opened` /
:meth:`project_closing` around projects.
"""

from __future__ import annotations

import math
from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand
from PySide6.QtWidgets import QDockWidget, QMenu

from app.project_follower import ProjectFollower, lighting_menu
from core.audio.tempo import project_tempo_map
from core.errors import LumaError
from core.lighting import layer_edit
from core.lighting.layer_edit import LayerEdit
from core.lighting.layers import z_order
from core.lighting.store import layer_rows
from widgets.curve_editor import CurveEditor
from widgets.timeline.lane_layout import LaneBlock
from widgets.timeline.lanes import RESTACK_ITEMS, LightingLanes
from widgets.timeline.pattern_list import PatternList


class LayerEditCommand(QUndoCommand):
    """A layer edit already written by core; undo/redo write its exact rows back (one transaction each)."""

    def __init__(self, controller: "LightingLanesController", project, edit: LayerEdit):
        super().__init__(edit.label)
        self.controller, self.project, self.edit = controller, project, edit
        self._first = True

    def redo(self) -> None:
        if self._first:  # written when the command was made
            self._first = False
            return
        self.controller.write(layer_edit.reapply, self.project, self.edit)

    def undo(self) -> None:
        self.controller.write(layer_edit.revert, self.project, self.edit)


class LightingLanesController(ProjectFollower):
    def __init__(self, window=None):
        super().__init__(window)
        self.lanes: LightingLanes | None = None
        self.patterns = PatternList()
        self.patterns.setObjectName("patternList")
        self.curve_editor = CurveEditor()
        self.patterns_dock: QDockWidget | None = None
        self.curve_dock: QDockWidget | None = None
        self.actions: dict[str, QAction] = {}
        self.curve_layer: int | None = None  # the layer the curve editor shows
        self._stored: tuple | None = None  # what the lanes show, as read from the project
        self.curve_editor.keysChangeRequested.connect(self._keys_requested)
        self.patterns.patternActivated.connect(self.add_at_playhead)

    # ================================================================ installation
    def install(self, window) -> None:
        self.window = window
        if self.parent() is None:
            self.setParent(window)
        view = window.timeline_view
        lanes = self.lanes = LightingLanes(view)
        lanes.layerMoveRequested.connect(lambda lid, start, lane: self.move_layer(lid, start, lane))
        lanes.layerResizeRequested.connect(lambda lid, s, e: self.resize_layer(lid, s, e))
        lanes.layerRestackRequested.connect(lambda lid, how: self.restack(lid, how))
        lanes.layerBlendRequested.connect(lambda lid, mode: self.set_blend(lid, mode))
        lanes.layerDeleteRequested.connect(lambda ids: self.remove_layers(ids))
        lanes.patternDropped.connect(lambda name, lane, beat: self.add_layer(name, lane, beat))
        lanes.laneAddRequested.connect(lambda: self.add_lane())
        lanes.laneRenameRequested.connect(lambda old, new: self.rename_lane(old, new))
        lanes.laneRemoveRequested.connect(lambda name: self.remove_lane(name))
        lanes.curveEditRequested.connect(self.open_curve)
        lanes.layerSelected.connect(self._selected)

        self.patterns_dock = QDockWidget("Patterns", window)
        self.patterns_dock.setObjectName("dock-patterns")
        self.patterns_dock.setWidget(self.patterns)
        media = window.findChild(QDockWidget, "dock-media")
        if media is not None and window.dockWidgetArea(media) != Qt.DockWidgetArea.NoDockWidgetArea:
            window.tabifyDockWidget(media, self.patterns_dock)
            media.raise_()
        else:
            window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.patterns_dock)
        self.curve_dock = QDockWidget("Opacity Curve", window)
        self.curve_dock.setObjectName("dock-opacity-curve")
        self.curve_dock.setWidget(self.curve_editor)
        # a panel under the timeline (splitting the timeline's dock would break its tab group: add to the area)
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.curve_dock, Qt.Orientation.Vertical)
        self.curve_dock.hide()
        self._build_menu(lighting_menu(window.menuBar()))
        self._bind_project()

    def _act(self, menu: QMenu, key: str, text: str, slot, shortcut: str | None = None) -> QAction:
        act = QAction(text, self.window)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(slot)
        menu.addAction(act)
        self.window.addAction(act)
        self.actions[key] = act
        return act

    def _build_menu(self, menu: QMenu) -> None:
        menu.addSeparator()
        self._act(menu, "add_lane", "Add Lighting Lane", lambda: self.add_lane())
        for move, text, keys in RESTACK_ITEMS:
            self._act(menu, move, f"{text} (Lighting Layer)", lambda _=False, m=move: self.restack_selected(m), keys)
        self._act(menu, "curve", "Edit Opacity Curve", lambda: self.open_curve(), "Ctrl+Shift+O")
        self.patterns_action = self.patterns_dock.toggleViewAction()
        self.patterns_action.setText("Patterns List")
        menu.addAction(self.patterns_action)
        self.curve_action = self.curve_dock.toggleViewAction()
        self.curve_action.setText("Opacity Curve Panel")
        menu.addAction(self.curve_action)

    # ================================================================ project
    def _unbind(self) -> None:
        super()._unbind()
        self._stored = None
        self.curve_layer = None

    def _project_switched(self) -> None:
        self.reload()

    def project_opened(self) -> None:
        super().project_opened()
        self.reload()  # also when the window kept the same project object

    def _on_project_changed(self, _label: str) -> None:
        if self._project is not None and not self._project.closed:
            self.reload()

    # ================================================================ the model the widgets show
    def _read(self, project) -> tuple:
        return (tuple(layer_edit.lanes(project)), tuple(layer_edit.layer_table(project).values()),
                tuple(project.query("SELECT id, name FROM lighting_patterns ORDER BY name")),
                project_tempo_map(project))

    def reload(self) -> None:
        """Show what is stored (only rebuilds when it changed)."""
        project = self._project
        if project is None or project.closed:
            self._stored = None
            if self.lanes is not None:
                self.lanes.set_model([], [], self.lanes.tempo())
            self.patterns.set_patterns([])
            self._refresh_curve()
            return
        try:
            stored = self._read(project)
        except LumaError as exc:
            self.show_error(f"The lighting lanes cannot be shown: {exc}")
            return
        if stored == self._stored:
            return
        self._stored = stored
        lanes, _, patterns, tempo = stored
        rows = layer_rows(project, dict(patterns))
        layers = [layer for _, layer in rows]
        rank = {rows[i][0]: r for r, i in enumerate(z_order(layers))}
        blocks = [LaneBlock(lid, layer.track, layer.pattern, float(layer.start_beat), float(layer.end_beat), layer.z,
                            layer.blend.value, layer.opacity, rank[lid]) for lid, layer in rows]
        names = [name for _, name in patterns]
        self.patterns.set_patterns(names)
        if self.lanes is not None:
            self.lanes.set_patterns(names)
            self.lanes.set_model(list(lanes), blocks, tempo)
        self._refresh_curve()

    def blocks(self) -> dict[int, LaneBlock]:
        return {b.layer_id: b for b in self.lanes.blocks()} if self.lanes is not None else {}

    # ================================================================ edits
    def write(self, fn, project, edit: LayerEdit) -> None:
        """Undo/redo: write an edit's rows (errors are shown, never raised into Qt)."""
        if project is None or project.closed:
            return
        try:
            fn(project, edit)
        except LumaError as exc:
            self.show_error(f"Cannot {'undo' if fn is layer_edit.revert else 'redo'} {edit.label}: {exc}")
        self.reload()

    def edit(self, fn, *args, label: str | None = None) -> LayerEdit | None:
        """Run one core edit on the project and record it for undo; None when refused (the error is shown)."""
        project = self.project
        if project is None:
            self.show_error("Open or create a project first (File > New Project).")
            return None
        try:
            result = fn(project, *args)
        except LumaError as exc:
            self.show_error(str(exc))
            self.reload()
            return None
        if label:
            result = replace(result, label=label)
        if not result.empty:
            self.window.undo_stack.push(LayerEditCommand(self, project, result))
        self.reload()
        return result

    def add_layer(self, pattern: str, lane: str, beat: float, end_beat: float | None = None) -> LayerEdit | None:
        """Place ``pattern`` on ``lane`` at ``beat`` (one bar long unless ``end_beat``) and select it."""
        result = self.edit(layer_edit.add_layer, pattern, lane, float(beat), end_beat)
        if result is not None and self.lanes is not None:
            self.lanes.select_layer(result.layer_id)
        return result

    def add_at_playhead(self, pattern: str) -> LayerEdit | None:
        """The Patterns list's double-click: on the selected block's lane (else the first lane), at the
        beat of the playhead."""
        tl = self.window.timeline if self.window is not None else None
        if tl is None or self.lanes is None:
            return None
        sel = self.blocks().get(self.lanes.selected_layer())
        names = self.lanes.lanes()
        lane = sel.lane if sel is not None else names[0] if names else layer_edit.DEFAULT_LANE + " 1"
        g = self.lanes.geometry()
        beat = max(math.floor(g.beat_at(tl.playhead) + 1e-9), math.ceil(g.min_beat() - 1e-9))
        return self.add_layer(pattern, lane, beat)

    def move_layer(self, layer_id: int, start_beat: float, lane: str | None = None) -> LayerEdit | None:
        return self.edit(layer_edit.move_layer, int(layer_id), float(start_beat), lane)

    def resize_layer(self, layer_id: int, start_beat: float, end_beat: float) -> LayerEdit | None:
        return self.edit(layer_edit.resize_layer, int(layer_id), float(start_beat), float(end_beat))

    def restack(self, layer_id: int, move: str) -> LayerEdit | None:
        result = self.edit(layer_edit.restack, int(layer_id), move)
        if result is not None and result.empty and self.window is not None:
            self.window.statusBar().showMessage("No overlapping layer is in the way: the stacking order stays.", 4000)
        return result

    def restack_selected(self, move: str) -> LayerEdit | None:
        lid = self.lanes.selected_layer() if self.lanes is not None else None
        if lid is None:
            if self.window is not None:
                self.window.statusBar().showMessage("Select a lighting block first.", 4000)
            return None
        return self.restack(lid, move)

    def set_blend(self, layer_id: int, mode: str) -> LayerEdit | None:
        return self.edit(layer_edit.set_blend, int(layer_id), mode)

    def set_opacity(self, layer_id: int, keys, label: str | None = None) -> LayerEdit | None:
        return self.edit(layer_edit.set_opacity, int(layer_id), list(keys), label=label)

    def remove_layers(self, layer_ids) -> LayerEdit | None:
        ids = [int(i) for i in layer_ids]
        return self.edit(layer_edit.remove_layers, ids) if ids else None

    def add_lane(self, name: str | None = None) -> LayerEdit | None:
        result = self.edit(layer_edit.add_lane, name)
        if result is not None and result.lanes_after and self.lanes is not None:
            self.lanes.ensure_lane_visible(result.lanes_after[-1])
        return result

    def rename_lane(self, old: str, new: str) -> LayerEdit | None:
        return self.edit(layer_edit.rename_lane, old, new)

    def remove_lane(self, name: str) -> LayerEdit | None:
        return self.edit(layer_edit.remove_lane, name)

    # ================================================================ the curve editor
    def open_curve(self, layer_id: int | None = None) -> bool:
        """Show the opacity curve of a layer (default: the selected block) in the panel under the timeline."""
        if self.lanes is None:
            return False
        lid = self.lanes.selected_layer() if layer_id is None else int(layer_id)
        if lid is None or lid not in self.blocks():
            if self.window is not None:
                self.window.statusBar().showMessage("Select a lighting block first.", 4000)
            return False
        self.lanes.select_layer(lid)
        self.curve_layer = lid
        self._refresh_curve()
        if self.curve_dock is not None:
            self.curve_dock.show()
            self.curve_dock.raise_()
        return True

    def _selected(self, layer_id: int) -> None:
        if layer_id >= 0 and self.curve_dock is not None and self.curve_dock.isVisible():
            self.curve_layer = layer_id
            self._refresh_curve()

    def _refresh_curve(self) -> None:
        b = self.blocks().get(self.curve_layer) if self.curve_layer is not None else None
        if b is None:
            self.curve_layer = None
            self.curve_editor.set_curve(None, [])
            if self.curve_dock is not None:
                self.curve_dock.setWindowTitle("Opacity Curve")
            return
        if self.curve_editor.dragging():
            return  # the gesture stores its result when it ends
        length = b.end_beat - b.start_beat
        shown = (self.curve_editor.length(), self.curve_editor.keys())
        keys = [(k.beat, k.value, k.interp) for k in b.curve.keys]
        title = f"{b.pattern} on {b.lane}: beats {b.start_beat:g} to {b.end_beat:g} ({b.blend}, z {b.z})"
        if shown != (length, keys) or self.curve_editor.title.text() != title:
            self.curve_editor.set_curve(length, keys, title)
        if self.curve_dock is not None:
            self.curve_dock.setWindowTitle(f"Opacity Curve - {b.pattern}")

    def _keys_requested(self, keys: list, label: str) -> None:
        if self.curve_layer is None:
            return
        if self.set_opacity(self.curve_layer, keys, label) is None:
            self._refresh_curve()  # refused: show the stored curve again
