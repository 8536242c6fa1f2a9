"""Lighting lanes of the timeline: pattern layers as blocks below the audio tracks.

:class:`LightingLanes` attaches to a :class:`~widgets.timeline.view.TimelineView`
(``LightingLanes(view)``). The app gives it what is stored (:meth:`set_model`:
lane names, :class:`~widgets.timeline.lane_layout.LaneBlock` per layer, the
project tempo map; :meth:`set_patterns`) and turns its intent signals into
undoable edits; it never edits anything itself and repaints from the model it
is given. Blocks are placed from beats to sequence frames through the tempo
map (:mod:`widgets.timeline.lane_layout`), so they line up with the video and
the beat grid.

Gestures (an event filter on the view's viewport, active in the lighting area
only; everything else is the timeline's):

* drag a block: move it in beats, snapped to whole beats (Shift: free), and
  up/down onto another lane -> ``layerMoveRequested(id, start_beat, lane)``;
* drag its edges: ``layerResizeRequested(id, start_beat, end_beat)`` (snapped);
* Delete/Backspace: ``layerDeleteRequested([id])``; double-click a block:
  ``curveEditRequested(id)``; double-click a lane header: rename in place ->
  ``laneRenameRequested(old, new)``;
* drop a pattern (:data:`~widgets.timeline.pattern_list.PATTERN_MIME`) on a
  lane: ``patternDropped(name, lane, beat)``;
* the context menu (:meth:`context_menu`): blend mode, z-order
  (``layerRestackRequested(id, "forward"|"backward"|"front"|"back")``),
  *Add Pattern Layer ▸ name* at the clicked beat, lanes (add, rename, remove);
* a click in the bars/beats ruler scrubs (the view's ``scrubRequested``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeyEvent, QPainter
from PySide6.QtWidgets import QLineEdit, QMenu, QToolTip

from core.lighting.layers import BlendMode
from core.time import TempoMap
from widgets.timeline.lane_layout import LaneBlock, LaneGeometry
from widgets.timeline.lane_paint import LanePainter
from widgets.timeline.pattern_list import pattern_from_mime

DRAG_THRESHOLD = 3.0  # pixels before a press becomes a drag
EDGE_ZONE = 6.0  # pixels at each end of a block that resize it
FREE_QUANTUM = 1000  # free (Shift) positions are kept to a thousandth of a beat
RESTACK_ITEMS = (("forward", "Bring Forward", "Ctrl+]"), ("backward", "Send Backward", "Ctrl+["),
                 ("front", "Bring to Front", "Ctrl+Shift+]"), ("back", "Send to Back", "Ctrl+Shift+["))

_E = QEvent.Type
_HANDLED = frozenset((_E.ShortcutOverride, _E.KeyPress, _E.MouseButtonPress, _E.MouseMove, _E.MouseButtonRelease,
                      _E.MouseButtonDblClick, _E.ContextMenu, _E.DragEnter, _E.DragMove, _E.DragLeave, _E.Drop,
                      _E.ToolTip))


@dataclass
class LaneDrag:
    layer_id: int
    kind: str  # "move", "start" or "end"
    press: QPointF
    orig_start: float
    orig_end: float
    orig_lane: str
    start: float
    end: float
    lane: str
    moved: bool = False


class LightingLanes(QObject):
    layerMoveRequested = Signal(int, float, str)
    layerResizeRequested = Signal(int, float, float)
    layerRestackRequested = Signal(int, str)
    layerBlendRequested = Signal(int, str)
    layerDeleteRequested = Signal(list)
    layerSelected = Signal(int)  # -1: none
    curveEditRequested = Signal(int)
    patternDropped = Signal(str, str, float)
    laneAddRequested = Signal()
    laneRenameRequested = Signal(str, str)
    laneRemoveRequested = Signal(str)

    def __init__(self, view):
        super().__init__(view)
        self.view = view
        self._lanes: list[str] = []
        self._blocks: list[LaneBlock] = []
        self._tempo = TempoMap()
        self._patterns: list[str] = []
        self._version = 0
        self._geom: LaneGeometry | None = None
        self._geom_key: tuple | None = None
        self._selected: int | None = None
        self._drag: LaneDrag | None = None
        self._drop: tuple[str, float] | None = None
        self._editor: QLineEdit | None = None
        self._renaming: str | None = None
        self._cursor_set = False
        self.painter = LanePainter(self)
        view.lighting = self
        self._viewport = view.viewport()
        self._viewport.installEventFilter(self)
        view.installEventFilter(self)
        view.selectionChanged.connect(lambda ids: ids and self.select_layer(None))
        view.timelineSet.connect(self._changed)
        self._changed()

    # ================================================================ model
    def set_model(self, lanes: list[str], blocks: list[LaneBlock], tempo: TempoMap) -> None:
        """Show ``lanes`` (top to bottom) with ``blocks``, placed through ``tempo``."""
        self._lanes = list(lanes)
        self._blocks = list(blocks)
        self._tempo = tempo
        self._version += 1
        ids = {b.layer_id for b in self._blocks}
        self.painter.forget(ids)
        if self._drag is not None and self._drag.layer_id not in ids:
            self._drag = None
        if self._selected is not None and self._selected not in ids:
            self.select_layer(None)
        if self._renaming is not None and self._renaming not in self._lanes:
            self._close_editor()
        self._changed()

    def set_patterns(self, names: list[str]) -> None:
        """Pattern names offered by *Add Pattern Layer*."""
        self._patterns = list(names)

    def lanes(self) -> list[str]:
        return list(self._lanes)

    def blocks(self) -> list[LaneBlock]:
        return list(self._blocks)

    def tempo(self) -> TempoMap:
        return self._tempo

    def _changed(self) -> None:
        self._geom_key = None
        self.view._update_scene_rect()
        self.view.viewport().update()

    def geometry(self) -> LaneGeometry | None:
        """Rows and block frames for the current timeline (None without a timeline)."""
        tl = self.view.timeline()
        if tl is None:
            return None
        key = (self.view.rows().bottom, tl.rate, self._version)
        if key != self._geom_key:
            self._geom = LaneGeometry(self.view.rows().bottom, self._lanes, self._blocks, self._tempo, tl.rate)
            self._geom_key = key
        return self._geom

    def bottom(self) -> float:
        """Scene y below the last lane (the view sizes its scene with it)."""
        g = self.geometry()
        return g.bottom if g is not None else self.view.rows().bottom

    # ================================================================ selection and state
    def selected_layer(self) -> int | None:
        return self._selected

    def select_layer(self, layer_id: int | None) -> None:
        if layer_id is not None and layer_id not in {b.layer_id for b in self._blocks}:
            layer_id = None
        if layer_id == self._selected:
            return
        self._selected = layer_id
        if layer_id is not None:
            self.view.select([])
            self.view.select_marker(None)
            self.view.select_transition(None)
        self.view.viewport().update()
        self.layerSelected.emit(-1 if layer_id is None else layer_id)

    def drag_state(self) -> LaneDrag | None:
        return self._drag

    def drop_state(self) -> tuple[str, float] | None:
        return self._drop

    def renaming(self) -> str | None:
        return self._renaming

    # ================================================================ coordinates (viewport)
    def _scroll(self) -> QPointF:
        return self.view.scroll_offset()

    def x_for_beat(self, beat: float) -> float:
        """Viewport x of the frame a beat falls on."""
        g = self.geometry()
        return self.view.x_for_frame(g.frame_of(beat))

    def lane_rect(self, lane: str) -> QRectF:
        """The lane's row right of the headers, in viewport coordinates."""
        g = self.geometry()
        row = g.by_name[lane]
        hw = self.view.pal.header_width
        return QRectF(hw, row.y - self._scroll().y(), self.view.viewport().width() - hw, row.height)

    def header_rect(self, lane: str) -> QRectF:
        g = self.geometry()
        row = g.by_name[lane]
        return QRectF(0, row.y - self._scroll().y(), self.view.pal.header_width, row.height)

    def ruler_rect(self) -> QRectF:
        g = self.geometry()
        hw = self.view.pal.header_width
        return QRectF(hw, g.ruler_y - self._scroll().y(), self.view.viewport().width() - hw, g.ruler_height)

    def block_rect(self, layer_id: int) -> QRectF:
        """A block's rectangle (start frame to end frame, its lane less two pixels each side), viewport coordinates."""
        g = self.geometry()
        b = g.blocks[layer_id]
        s, e = g.span(layer_id)
        row = g.by_name[b.lane]
        return QRectF(self.view.x_for_frame(s), row.y + 2 - self._scroll().y(), (e - s) * self.view.pixels_per_frame(),
                      row.height - 4)

    def point_at(self, lane: str, beat: float) -> QPointF:
        """A viewport point in ``lane`` (vertical middle) at ``beat``."""
        r = self.lane_rect(lane)
        return QPointF(self.x_for_beat(beat), r.center().y())

    def beat_at_x(self, x: float) -> float:
        g = self.geometry()
        frame = (x + self._scroll().x() - self.view.pal.header_width) / self.view.pixels_per_frame()
        return g.beat_at(frame)

    def ensure_lane_visible(self, lane: str) -> None:
        """Scroll vertically so the lane is below the time ruler and inside the viewport."""
        g = self.geometry()
        row = g.by_name[lane]
        bar = self.view.verticalScrollBar()
        top = row.y - self._scroll().y()
        if top < self.view.pal.ruler_height:
            bar.setValue(bar.value() - round(self.view.pal.ruler_height + 2 - top))
        elif row.bottom - self._scroll().y() > self.view.viewport().height():
            bar.setValue(bar.value() + round(row.bottom - self._scroll().y() - self.view.viewport().height() + 2))

    def hit(self, pos: QPointF) -> tuple[str, str | None, int | None, str | None]:
        """(area, lane, layer id, edge) under a viewport point: area is outside, header, ruler-header,
        ruler, lane, block (edge: None, "start" or "end") or gap."""
        g = self.geometry()
        pal = self.view.pal
        if g is None or pos.y() < pal.ruler_height:
            return "outside", None, None, None
        y = pos.y() + self._scroll().y()
        if y < g.top or y >= g.bottom:
            return "outside", None, None, None
        in_header = pos.x() < pal.header_width
        if y < g.ruler_y:
            return "gap", None, None, None
        if y < g.ruler_y + g.ruler_height:
            return ("ruler-header" if in_header else "ruler"), None, None, None
        row = g.row_at(y)
        if row is None:
            return "gap", None, None, None
        if in_header:
            return "header", row.name, None, None
        ppf = self.view.pixels_per_frame()
        frame = (pos.x() + self._scroll().x() - pal.header_width) / ppf
        zone = EDGE_ZONE / ppf
        b = g.block_at(row.name, frame)
        if b is None:  # just outside an edge still grabs it
            for cand in (g.block_at(row.name, frame + zone), g.block_at(row.name, frame - zone)):
                if cand is not None:
                    b = cand
                    break
        if b is None:
            return "lane", row.name, None, None
        s, e = g.span(b.layer_id)
        ez = min(zone, (e - s) / 3.0)
        if abs(frame - s) <= ez:
            return "block", row.name, b.layer_id, "start"
        if abs(frame - e) <= ez:
            return "block", row.name, b.layer_id, "end"
        return "block", row.name, b.layer_id, None

    # ================================================================ painting (called by the view)
    def paint_scene(self, painter: QPainter, rect: QRectF) -> None:
        g = self.geometry()
        if g is not None:
            self.painter.paint_scene(painter, rect, g)

    def paint_headers(self, painter: QPainter) -> None:
        g = self.geometry()
        if g is not None:
            self.painter.paint_headers(painter, g, self._scroll().y(), self.view.viewport().height())

    # ================================================================ events
    def eventFilter(self, obj, event) -> bool:
        t = event.type()
        if t not in _HANDLED:  # before touching the view: it may be half destroyed (events during teardown)
            return False
        view = self.view
        if obj is self._editor and obj is not None:
            if t == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape:
                self._close_editor()
                return True
            return False
        if obj is view:
            if t in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and isinstance(event, QKeyEvent):
                return self._key(event, t == QEvent.Type.ShortcutOverride)
            return False
        if obj is not self._viewport or view.timeline() is None:
            return False
        if t == QEvent.Type.MouseButtonPress:
            return self._press(event)
        if t == QEvent.Type.MouseMove:
            return self._move(event)
        if t == QEvent.Type.MouseButtonRelease:
            return self._release(event)
        if t == QEvent.Type.MouseButtonDblClick:
            return self._double_click(event)
        if t == QEvent.Type.ContextMenu:
            menu = self.context_menu(QPointF(event.pos()))
            if menu is None:
                return False
            menu.popup(event.globalPos())
            return True
        if t in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            return self._drag_over(event, t == QEvent.Type.DragEnter)
        if t == QEvent.Type.DragLeave:
            if self._drop is not None:
                self._drop = None
                view.viewport().update()
            return False
        if t == QEvent.Type.Drop:
            return self._dropped(event)
        if t == QEvent.Type.ToolTip:
            return self._tooltip(event)
        return False

    def _snap(self, beat: float, free: bool) -> float:
        return round(beat * FREE_QUANTUM) / FREE_QUANTUM if free else float(round(beat))

    def _press(self, event) -> bool:
        view = self.view
        if view._drag is not None:  # the timeline's own drag goes on
            return False
        pos = event.position()
        area, lane, lid, edge = self.hit(pos)
        if area == "outside":
            return False
        view.setFocus(Qt.FocusReason.MouseFocusReason)
        if self._drag is not None:
            return True
        button = event.button()
        if area == "block":
            self.select_layer(lid)
            if button == Qt.MouseButton.LeftButton:
                b = self.geometry().blocks[lid]
                self._drag = LaneDrag(lid, "move" if edge is None else edge, pos, b.start_beat, b.end_beat, b.lane,
                                      b.start_beat, b.end_beat, b.lane)
        elif area == "ruler" and button == Qt.MouseButton.LeftButton:
            view.scrubRequested.emit(max(0, view.frame_at_x(pos.x())))
        elif area in ("lane", "header", "gap", "ruler-header") and button == Qt.MouseButton.LeftButton:
            self.select_layer(None)
        return True

    def _move(self, event) -> bool:
        pos = event.position()
        d = self._drag
        if d is None:
            if self.view._drag is not None:
                return False
            area, _, _, edge = self.hit(pos)
            if area == "outside":
                if self._cursor_set:
                    self._set_cursor(Qt.CursorShape.ArrowCursor)
                    self._cursor_set = False
                return False
            self._set_cursor(Qt.CursorShape.SizeHorCursor if area == "block" and edge else Qt.CursorShape.ArrowCursor)
            self._cursor_set = True
            return True
        if not d.moved and (pos - d.press).manhattanLength() < DRAG_THRESHOLD:
            return True
        d.moved = True
        self._update_drag(d, pos, bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
        self.view.viewport().update()
        return True

    def _update_drag(self, d: LaneDrag, pos: QPointF, free: bool) -> None:
        g = self.geometry()
        delta = (pos.x() - d.press.x()) / self.view.pixels_per_frame() / g.frames_per_beat()
        lo = g.min_beat()
        lo = lo if free else math.ceil(lo - 1e-9)
        min_len = 1.0 / FREE_QUANTUM * 10 if free else 1.0
        if d.kind == "move":
            start = max(lo, self._snap(d.orig_start + delta, free))
            d.start, d.end = start, start + (d.orig_end - d.orig_start)
            row = g.row_at(pos.y() + self._scroll().y())
            if row is None and g.rows:
                row = g.rows[0] if pos.y() + self._scroll().y() < g.rows[0].y else g.rows[-1]
            if row is not None:
                d.lane = row.name
        elif d.kind == "start":
            d.start = min(max(lo, self._snap(d.orig_start + delta, free)), d.orig_end - min_len)
        else:
            d.end = max(self._snap(d.orig_end + delta, free), d.orig_start + min_len)

    def _release(self, event) -> bool:
        d = self._drag
        if d is None:
            return self.hit(event.position())[0] != "outside" and self.view._drag is None
        if event.button() != Qt.MouseButton.LeftButton:
            return True
        self._drag = None
        self.view.viewport().update()
        if not d.moved:
            return True
        self._update_drag(d, event.position(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
        if d.kind == "move":
            if (d.start, d.lane) != (d.orig_start, d.orig_lane):
                self.layerMoveRequested.emit(d.layer_id, float(d.start), d.lane)
        elif (d.start, d.end) != (d.orig_start, d.orig_end):
            self.layerResizeRequested.emit(d.layer_id, float(d.start), float(d.end))
        return True

    def cancel_drag(self) -> None:
        if self._drag is not None:
            self._drag = None
            self.view.viewport().update()

    def _double_click(self, event) -> bool:
        area, lane, lid, _ = self.hit(event.position())
        if area == "outside":
            return False
        if event.button() != Qt.MouseButton.LeftButton:
            return True
        self.cancel_drag()
        if area == "block":
            self.curveEditRequested.emit(lid)
        elif area == "header":
            self.start_rename(lane)
        return True

    def _set_cursor(self, shape) -> None:
        view = self.view
        if view._cursor != shape:
            view._cursor = shape  # the view's own cursor cache, so it restores the arrow later
            view.viewport().setCursor(shape)

    def _key(self, event: QKeyEvent, override: bool) -> bool:
        key = event.key()
        if key == Qt.Key.Key_Escape and self._drag is not None:
            if not override:
                self.cancel_drag()
            event.accept()
            return True
        if key == Qt.Key.Key_Escape and not override and self._selected is not None:
            self.select_layer(None)  # and the view clears its own selection too
            return False
        plain = not event.modifiers() & (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
                                         | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier)
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._selected is not None and plain:
            event.accept()
            if not override:
                self.layerDeleteRequested.emit([self._selected])
            return True
        return False

    # ---------------------------------------------------------------- drops
    def _drop_target(self, pos: QPointF, free: bool) -> tuple[str, float] | None:
        area, lane, _, _ = self.hit(pos)
        if area not in ("lane", "block") or lane is None:
            return None
        g = self.geometry()
        beat = self._snap(self.beat_at_x(pos.x()), free)  # the nearest beat (Shift: where it is)
        lo = g.min_beat()
        return lane, max(float(beat), lo if free else float(math.ceil(lo - 1e-9)))

    def _drag_over(self, event, enter: bool) -> bool:
        if pattern_from_mime(event.mimeData()) is None:
            return False
        target = self._drop_target(event.position(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
        if target is not None:
            event.acceptProposedAction()
        elif enter:
            event.acceptProposedAction()  # keep receiving moves: a lane may come under the mouse
        else:
            event.ignore()
        if target != self._drop:
            self._drop = target
            self.view.viewport().update()
        return True

    def _dropped(self, event) -> bool:
        name = pattern_from_mime(event.mimeData())
        if name is None:
            return False
        self._drop = None
        self.view.viewport().update()
        target = self._drop_target(event.position(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
        if target is None:
            event.ignore()
            return True
        event.acceptProposedAction()
        self.patternDropped.emit(name, target[0], target[1])
        return True

    def _tooltip(self, event) -> bool:
        area, lane, lid, _ = self.hit(QPointF(event.pos()))
        if area == "outside":
            return False
        if area == "block":
            b = self.geometry().blocks[lid]
            keys = len(b.curve.keys)
            QToolTip.showText(event.globalPos(), f"{b.pattern} on {b.lane}\nbeats {b.start_beat:g} to {b.end_beat:g}\n"
                              f"{b.blend}, z {b.z}, {keys} opacity key{'s' if keys != 1 else ''}",
                              self.view.viewport())
        else:
            QToolTip.hideText()
        return True

    # ================================================================ context menu
    def context_menu(self, pos: QPointF) -> QMenu | None:
        """The menu for a viewport point in the lighting area (None outside it); actions emit the signals."""
        area, lane, lid, _ = self.hit(pos)
        if area == "outside":
            return None
        menu = QMenu(self.view)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if area == "block":
            self.select_layer(lid)
            b = self.geometry().blocks[lid]
            blend = menu.addMenu("Blend Mode")
            group = QActionGroup(blend)
            for mode in BlendMode:
                act = QAction(mode.value.capitalize(), blend, checkable=True)
                act.setChecked(mode.value == b.blend)
                act.setData(mode.value)
                act.triggered.connect(lambda _=False, m=mode.value, i=lid: self.layerBlendRequested.emit(i, m))
                group.addAction(act)
                blend.addAction(act)
            menu.addSeparator()
            for move, text, keys in RESTACK_ITEMS:
                act = menu.addAction(f"{text}\t{keys}")
                act.setData(move)
                act.triggered.connect(lambda _=False, m=move, i=lid: self.layerRestackRequested.emit(i, m))
            menu.addSeparator()
            menu.addAction("Edit Opacity Curve…").triggered.connect(lambda _=False, i=lid: self.curveEditRequested.emit(i))
            menu.addAction("Delete Layer\tDel").triggered.connect(
                lambda _=False, i=lid: self.layerDeleteRequested.emit([i]))
            menu.addSeparator()
        if lane is not None:
            add = menu.addMenu("Add Pattern Layer")
            beat = self._drop_target(pos, False)
            add.setEnabled(bool(self._patterns) and beat is not None)
            for name in self._patterns:
                add.addAction(name).triggered.connect(
                    lambda _=False, n=name, ln=lane, bt=beat[1] if beat else 0.0: self.patternDropped.emit(n, ln, bt))
        menu.addAction("Add Lighting Lane").triggered.connect(lambda: self.laneAddRequested.emit())
        if lane is not None:
            menu.addAction("Rename Lane…").triggered.connect(lambda _=False, ln=lane: self.start_rename(ln))
            menu.addAction("Remove Lane").triggered.connect(lambda _=False, ln=lane: self.laneRemoveRequested.emit(ln))
        return menu

    # ================================================================ renaming a lane in place
    def start_rename(self, lane: str) -> QLineEdit | None:
        """An editor over the lane's header: Return (or clicking elsewhere) asks for the rename, Escape cancels."""
        g = self.geometry()
        if g is None or lane not in g.by_name:
            return None
        self._close_editor()
        r = self.header_rect(lane)
        editor = QLineEdit(lane, self.view.viewport())
        editor.setObjectName("laneNameEditor")
        editor.setGeometry(QRect(8, int(r.top()) + 3, int(r.width()) - 14, 22))
        editor.selectAll()
        editor.editingFinished.connect(self._finish_rename)  # Return, or clicking elsewhere
        editor.installEventFilter(self)
        self._editor, self._renaming = editor, lane
        editor.show()
        editor.setFocus()
        self.view.viewport().update()
        return editor

    def _finish_rename(self) -> None:
        editor, old = self._editor, self._renaming
        if editor is None:
            return
        text = editor.text().strip()
        self._close_editor()
        if text and text != old:
            self.laneRenameRequested.emit(old, text)

    def _close_editor(self) -> None:
        editor, self._editor, self._renaming = self._editor, None, None
        if editor is not None:
            editor.removeEventFilter(self)
            editor.hide()
            editor.deleteLater()
            self.view.setFocus()
            self.view.viewport().update()
