"""The opacity-curve editor: one layer's opacity keyframes as a curve (pyqtgraph).

x is beats from the layer start (0 .. the layer's length), y the opacity
0..1. The curve is drawn from the engine's own evaluation
(:meth:`core.lighting.layers.OpacityCurve.evaluate`), sampled across the layer,
so what is drawn is what the show plays.

Gestures:

* double-click: add a key there (its segment takes the interpolation of the
  segment it splits);
* drag a key: move it, kept inside the layer, inside 0..1 and between its
  neighbours (keys keep their order); positions snap to 1/8 beat and 0.01
  (Shift: free);
* Delete/Backspace: delete the selected key; right-click a key: *Delete Key*
  and the interpolation of the segment after it; right-click a segment: its
  interpolation (the values core supports: ``linear``, ``smooth``).

The editor never stores anything: each finished gesture emits
``keysChangeRequested(keys, label)`` with the whole new key list
(``[(beat, value, interp), ...]``); the app stores it (undoably) and gives the
stored curve back with :meth:`CurveEditor.set_curve`.
"""

from __future__ import annotations

import bisect

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QKeyEvent
from PySide6.QtWidgets import QLabel, QMenu, QVBoxLayout, QWidget

from core.lighting.layers import INTERPOLATIONS, Keyframe, OpacityCurve

BEAT_SNAP = 8  # steps per beat
VALUE_SNAP = 100  # steps per unit of opacity
HIT_RADIUS = 9.0  # pixels
DRAG_THRESHOLD = 3.0
CURVE_SAMPLES = 600

KeyTuple = tuple[float, float, str]


class CurveEditor(QWidget):
    keysChangeRequested = Signal(list, str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._length: float | None = None
        self._keys: list[Keyframe] = []
        self._selected: int | None = None
        self._drag: dict | None = None

        self.title = QLabel("")
        self.title.setObjectName("curveTitle")
        self.hint = QLabel("Double-click: add a key · drag: move it (Shift: free) · Delete or right-click: "
                           "delete, interpolation")
        self.hint.setStyleSheet("color: #8a8f99;")
        self.plot = pg.PlotWidget(background="#1d1e22")
        self.plot.setMinimumHeight(140)
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        self.vb = item.getViewBox()
        self.vb.setMouseEnabled(False, False)
        self.vb.setMenuEnabled(False)
        self.vb.enableAutoRange(False)
        item.showGrid(x=True, y=True, alpha=0.18)
        item.setLabel("bottom", "beats from the layer start")
        item.setLabel("left", "opacity")
        self.outside = [pg.LinearRegionItem(movable=False, brush=QColor(0, 0, 0, 110), pen=pg.mkPen(None))
                        for _ in range(2)]
        for region in self.outside:
            region.setZValue(-5)
            item.addItem(region)
        self.curve = pg.PlotCurveItem(pen=pg.mkPen("#ffb347", width=2))
        self.points = pg.ScatterPlotItem(size=11, pen=pg.mkPen("#1d1e22", width=1.5), brush=pg.mkBrush("#ffffff"))
        item.addItem(self.curve)
        item.addItem(self.points)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.title)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.hint)
        self.plot.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.plot.viewport().installEventFilter(self)
        self.plot.installEventFilter(self)
        self.set_curve(None, [])

    # ================================================================ model
    def set_curve(self, length_beats: float | None, keys, title: str = "") -> None:
        """Show keys (Keyframe or (beat, value[, interp])) of a layer ``length_beats`` long; None: nothing."""
        self._drag = None
        self._length = None if length_beats is None else float(length_beats)
        self._keys = [k if isinstance(k, Keyframe) else Keyframe(*k) for k in keys]
        if self._selected is not None and self._selected >= len(self._keys):
            self._selected = None
        self.title.setText(title if self._length is not None else
                           "Select a lighting block and double-click it to edit its opacity curve.")
        self.plot.setEnabled(self._length is not None)
        self.plot.setVisible(self._length is not None)
        self.hint.setVisible(self._length is not None)
        if self._length is not None:
            pad = max(0.25, self._length * 0.03)
            self.vb.setRange(xRange=(-pad, self._length + pad), yRange=(-0.04, 1.04), padding=0)
            self.outside[0].setRegion((-pad * 2, 0.0))
            self.outside[1].setRegion((self._length, self._length + pad * 2))
        self._redraw()

    def dragging(self) -> bool:
        """A key is being dragged (what is shown is not stored yet)."""
        return self._drag is not None and self._drag["moved"]

    def length(self) -> float | None:
        return self._length

    def keys(self) -> list[KeyTuple]:
        return [(k.beat, k.value, k.interp) for k in self._keys]

    def selected_key(self) -> int | None:
        return self._selected

    def select_key(self, index: int | None) -> None:
        self._selected = index if index is not None and 0 <= index < len(self._keys) else None
        self._redraw()

    def curve_data(self) -> tuple[np.ndarray, np.ndarray]:
        """What the curve item draws: (beats, opacity)."""
        x, y = self.curve.getData()
        return (np.asarray(x) if x is not None else np.zeros(0)), (np.asarray(y) if y is not None else np.zeros(0))

    def _redraw(self) -> None:
        if self._length is None:
            self.curve.setData([], [])
            self.points.setData([], [])
            return
        xs, ys = sample_curve(self._keys, self._length)
        self.curve.setData(xs, ys)
        brushes = [pg.mkBrush("#ffd34d" if i == self._selected else "#ffffff") for i in range(len(self._keys))]
        self.points.setData([k.beat for k in self._keys], [k.value for k in self._keys], brush=brushes)

    # ================================================================ coordinates
    def point_for(self, beat: float, value: float) -> QPoint:
        """Viewport position (of ``plot.viewport()``) of a curve point."""
        scene = self.vb.mapViewToScene(QPointF(beat, value))
        return self.plot.mapFromScene(scene)

    def key_pos(self, index: int) -> QPoint:
        k = self._keys[index]
        return self.point_for(k.beat, k.value)

    def value_at(self, pos: QPointF) -> tuple[float, float]:
        """(beat, value) under a viewport position."""
        p = self.vb.mapSceneToView(self.plot.mapToScene(QPoint(round(pos.x()), round(pos.y()))))
        return float(p.x()), float(p.y())

    def key_at(self, pos: QPointF) -> int | None:
        best = None
        for i in range(len(self._keys)):
            d = QPointF(self.key_pos(i)) - QPointF(pos)
            dist = (d.x() ** 2 + d.y() ** 2) ** 0.5
            if dist <= HIT_RADIUS and (best is None or dist < best[0]):
                best = (dist, i)
        return best[1] if best is not None else None

    def segment_at(self, beat: float) -> int | None:
        """The key whose segment (to the next key) spans ``beat``."""
        beats = [k.beat for k in self._keys]
        i = bisect.bisect_right(beats, beat) - 1
        return i if 0 <= i < len(beats) - 1 else None

    def _snapped(self, beat: float, value: float, free: bool) -> tuple[float, float]:
        if not free:
            beat = round(beat * BEAT_SNAP) / BEAT_SNAP
            value = round(value * VALUE_SNAP) / VALUE_SNAP
        return beat, value

    def _clamped(self, index: int | None, beat: float, value: float) -> tuple[float, float]:
        """Inside the layer, inside 0..1 and (for a moved key) between its neighbours."""
        lo, hi = 0.0, self._length
        if index is not None:
            if index > 0:
                lo = max(lo, self._keys[index - 1].beat)
            if index + 1 < len(self._keys):
                hi = min(hi, self._keys[index + 1].beat)
        return min(max(beat, lo), hi), min(max(value, 0.0), 1.0)

    # ================================================================ edits (each emits the whole new list)
    def _request(self, keys: list[Keyframe], label: str) -> None:
        self.keysChangeRequested.emit([(k.beat, k.value, k.interp) for k in keys], label)

    def add_key_at(self, beat: float, value: float, free: bool = False) -> None:
        if self._length is None:
            return
        beat, value = self._clamped(None, *self._snapped(beat, value, free))
        beats = [k.beat for k in self._keys]
        i = bisect.bisect_right(beats, beat)
        interp = self._keys[i - 1].interp if i > 0 else "linear"
        keys = self._keys[:i] + [Keyframe(beat, value, interp)] + self._keys[i:]
        self._selected = i
        self._request(keys, "add opacity key")

    def delete_key(self, index: int) -> None:
        if 0 <= index < len(self._keys):
            keys = self._keys[:index] + self._keys[index + 1:]
            self._selected = None
            self._request(keys, "delete opacity key")

    def set_interp(self, index: int, interp: str) -> None:
        if 0 <= index < len(self._keys) and interp in INTERPOLATIONS and self._keys[index].interp != interp:
            k = self._keys[index]
            keys = list(self._keys)
            keys[index] = Keyframe(k.beat, k.value, interp)
            self._request(keys, f"{interp} opacity segment")

    # ================================================================ events
    def eventFilter(self, obj, event) -> bool:
        t = event.type()
        if obj is self.plot and t == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._selected is not None:
                self.delete_key(self._selected)
                return True
            if event.key() == Qt.Key.Key_Escape and self._drag is not None:
                self._cancel_drag()
                return True
            return False
        if obj is self.plot and t == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._selected is not None:
                event.accept()  # the window's Delete must not take it while a key is selected here
                return True
            return False
        if obj is not self.plot.viewport() or self._length is None:
            return False
        if t == QEvent.Type.MouseButtonPress:
            self.plot.setFocus(Qt.FocusReason.MouseFocusReason)
            if event.button() == Qt.MouseButton.LeftButton:
                i = self.key_at(event.position())
                self.select_key(i)
                if i is not None:
                    self._drag = {"index": i, "press": event.position(), "keys": list(self._keys), "moved": False}
            return True
        if t == QEvent.Type.MouseMove:
            d = self._drag
            if d is None:
                self.plot.viewport().setCursor(Qt.CursorShape.PointingHandCursor if self.key_at(event.position())
                                               is not None else Qt.CursorShape.CrossCursor)
                return False
            if not d["moved"] and (event.position() - d["press"]).manhattanLength() < DRAG_THRESHOLD:
                return True
            d["moved"] = True
            self._drag_to(event.position(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
            return True
        if t == QEvent.Type.MouseButtonRelease:
            d = self._drag
            if d is None or event.button() != Qt.MouseButton.LeftButton:
                return True
            self._drag = None
            if d["moved"]:
                self._drag_to(event.position(), bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier), d)
                if self._keys != d["keys"]:
                    self._request(self._keys, "move opacity key")
            return True
        if t == QEvent.Type.MouseButtonDblClick:
            if event.button() == Qt.MouseButton.LeftButton and self.key_at(event.position()) is None:
                self._drag = None
                beat, value = self.value_at(event.position())
                self.add_key_at(beat, value, bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier))
            return True
        if t == QEvent.Type.ContextMenu:
            menu = self.context_menu(QPointF(event.pos()))
            if menu is not None:
                menu.popup(event.globalPos())
            return True
        return False

    def _drag_to(self, pos: QPointF, free: bool, d: dict | None = None) -> None:
        d = d or self._drag
        i = d["index"]
        self._keys = list(d["keys"])
        beat, value = self._clamped(i, *self._snapped(*self.value_at(pos), free))
        self._keys[i] = Keyframe(beat, value, self._keys[i].interp)
        self._redraw()

    def _cancel_drag(self) -> None:
        d, self._drag = self._drag, None
        if d is not None:
            self._keys = list(d["keys"])
            self._redraw()

    def context_menu(self, pos: QPointF) -> QMenu | None:
        """The menu for a viewport point of the plot: a key's (delete, its segment's interpolation),
        a segment's (interpolation), or *Add Key Here*."""
        if self._length is None:
            return None
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        i = self.key_at(pos)
        if i is not None:
            self.select_key(i)
            menu.addAction("Delete Key").triggered.connect(lambda _=False, j=i: self.delete_key(j))
            seg = i if i + 1 < len(self._keys) else None
        else:
            beat, value = self.value_at(pos)
            seg = self.segment_at(beat)
            menu.addAction("Add Key Here").triggered.connect(lambda _=False, b=beat, v=value: self.add_key_at(b, v))
        if seg is not None:
            sub = menu.addMenu("Interpolation to Next Key")
            group = QActionGroup(sub)
            for interp in INTERPOLATIONS:
                act = QAction(interp.capitalize(), sub, checkable=True)
                act.setChecked(self._keys[seg].interp == interp)
                act.setData(interp)
                act.triggered.connect(lambda _=False, j=seg, m=interp: self.set_interp(j, m))
                group.addAction(act)
                sub.addAction(act)
        return menu


def sample_curve(keys: list[Keyframe], length: float, samples: int = CURVE_SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """The curve across the layer evaluated by the engine: even steps plus the keys inside (exact corners)."""
    xs = np.linspace(0.0, float(length), samples)
    kb = np.array([k.beat for k in keys], dtype=np.float64)
    xs = np.union1d(xs, kb[(kb >= 0.0) & (kb <= length)])
    return xs, OpacityCurve(tuple(keys)).evaluate(xs)
