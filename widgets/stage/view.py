"""The stage view: a top-down plan of the rig with every fixture in its live colour.

:class:`StageView` shows the fixtures at their stage positions (metres) over
a metre grid, each head in the colour of the light it gives (black when
dark), moving heads with a beam line to where the beam meets the floor. The
app feeds it the rig (:meth:`~widgets.stage.plan.PlanWidget.set_fixtures`)
and, per frame, the light (:meth:`~widgets.stage.plan.PlanWidget.set_look`);
a frame is one numpy scatter and one ``drawImage`` (see
:mod:`widgets.stage.raster`), so 500 fixtures at 44 Hz cost little.

Mouse and keys:

* wheel: zoom about the pointer; middle or right drag: pan; F or a double
  click on the floor: fit the rig (it stays fitted through resizes until
  the user zooms, pans or moves a fixture); ``+``/``-``: zoom;
* click a fixture: select it (Ctrl: add/remove); drag on the floor: select
  the fixtures in the rectangle; drag a fixture: move the selection (snapped
  to 5 cm, Alt: free), Esc cancels; arrow keys nudge the selection 10 cm
  (Shift: 1 m). A move is *requested* (``moveRequested``), not stored: the
  app stores it (undoably) and sets the fixtures again.

The widget only displays and asks; it stores nothing.
"""

from __future__ import annotations

import math
import time

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QToolTip, QWidget

from widgets.stage.plan import PlanWidget

BACKGROUND = QColor("#16181b")
GRID_MINOR = QColor("#23272c")
GRID_MAJOR = QColor("#313740")
AXIS = QColor("#4b5563")
AXIS_TEXT = QColor("#7d8590")
MESSAGE = QColor("#e5a54b")
RUBBER = QColor(255, 198, 52, 40)
_STEPS = (0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
DRAG_START_PX = 3


class StageView(PlanWidget):
    #: {fixture id: (x, y)} metres: the user moved these fixtures there
    moveRequested = Signal(dict)
    #: fixture ids now selected (clicks and rubber band)
    selectionChanged = Signal(list)

    SNAP = 0.05
    NUDGE = 0.1

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.scale = 40.0  # logical pixels per metre
        self.centre = (0.0, 3.0)  # plan point at the widget centre (metres)
        self.message = ""
        self.auto_fit = True  # fit the rig on resizes and new rigs until the user zooms, pans or drags
        self._press: QPointF | None = None
        self._drag: dict | None = None  # {"index", "origin": [F, 3], "moving": [indices], "moved"}
        self._pan_from: QPointF | None = None
        self._rubber: QRectF | None = None
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMinimumSize(QSize(160, 120))

    def sizeHint(self) -> QSize:
        return QSize(520, 380)

    # ================================================================ view
    def pixels_per_metre(self) -> float:
        return self.scale

    def to_widget(self, xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        out = np.empty_like(xy)
        out[:, 0] = self.width() / 2.0 + (xy[:, 0] - self.centre[0]) * self.scale
        out[:, 1] = self.height() / 2.0 - (xy[:, 1] - self.centre[1]) * self.scale
        return out

    def to_plan(self, pos: QPointF) -> tuple[float, float]:
        return (self.centre[0] + (pos.x() - self.width() / 2.0) / self.scale,
                self.centre[1] - (pos.y() - self.height() / 2.0) / self.scale)

    def set_view(self, scale: float, centre: tuple[float, float]) -> None:
        self.scale = float(np.clip(scale, 2.0, 2000.0))
        self.centre = (float(centre[0]), float(centre[1]))
        self.relayout()

    def fit(self) -> None:
        """Zoom and pan so the whole rig (and the front edge of the stage, y = 0) shows."""
        if len(self.ids):
            lo = self.positions[:, :2].min(axis=0)
            hi = self.positions[:, :2].max(axis=0)
            lo, hi = np.minimum(lo, [lo[0], 0.0]), np.maximum(hi, [hi[0], 0.0])
        else:
            lo, hi = np.array([-6.0, 0.0]), np.array([6.0, 8.0])
        lo, hi = lo - 1.2, hi + 1.2
        w, h = max(1, self.width() - 40), max(1, self.height() - 40)
        scale = min(w / max(hi[0] - lo[0], 1.0), h / max(hi[1] - lo[1], 1.0))
        self.set_view(scale, ((lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0))

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        if self.auto_fit:
            self.fit()

    def zoom_by(self, factor: float, about: QPointF | None = None) -> None:
        about = about if about is not None else QPointF(self.width() / 2.0, self.height() / 2.0)
        before = self.to_plan(about)
        self.scale = float(np.clip(self.scale * factor, 2.0, 2000.0))
        after = self.to_plan(about)
        self.set_view(self.scale, (self.centre[0] + before[0] - after[0], self.centre[1] + before[1] - after[1]))

    def set_fixtures(self, ids, labels, positions, heads=None, columns=None, tooltips=None) -> None:
        super().set_fixtures(ids, labels, positions, heads, columns, tooltips)
        self._drag = None
        if self.auto_fit:
            self.fit()

    def set_message(self, text: str) -> None:
        """A line shown in the corner (why there is no live colour, for one)."""
        if text != self.message:
            self.message = text
            self.update()

    # ================================================================ painting
    def _grid_step(self) -> float:
        return next((s for s in _STEPS if s * self.scale >= 18.0), _STEPS[-1])

    def _paint_static(self, painter: QPainter) -> None:
        w, h = self.width(), self.height()
        painter.fillRect(QRectF(0, 0, w, h), BACKGROUND)
        step = self._grid_step()
        x0, y1 = self.to_plan(QPointF(0, 0))
        x1, y0 = self.to_plan(QPointF(w, h))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        font = QFont(self.font())
        font.setPointSizeF(7.5)
        painter.setFont(font)
        for axis in (0, 1):
            lo, hi = (x0, x1) if axis == 0 else (y0, y1)
            k0, k1 = math.floor(lo / step), math.ceil(hi / step)
            if k1 - k0 > 2000:
                continue
            for k in range(k0, k1 + 1):
                v = k * step
                major = abs(round(v / (step * 5)) * step * 5 - v) < step * 1e-6
                painter.setPen(QPen(AXIS if abs(v) < step * 1e-6 else (GRID_MAJOR if major else GRID_MINOR), 1))
                if axis == 0:
                    px = float(self.to_widget(np.array([[v, 0.0]]))[0, 0])
                    painter.drawLine(QPointF(px, 0), QPointF(px, h))
                    if major or step * self.scale >= 60:
                        painter.setPen(AXIS_TEXT)
                        painter.drawText(QPointF(px + 3, h - 4), f"{v:g} m")
                else:
                    py = float(self.to_widget(np.array([[0.0, v]]))[0, 1])
                    painter.drawLine(QPointF(0, py), QPointF(w, py))
                    if major or step * self.scale >= 60:
                        painter.setPen(AXIS_TEXT)
                        painter.drawText(QPointF(3, py - 3), f"{v:g} m")
        front = float(self.to_widget(np.array([[0.0, 0.0]]))[0, 1])
        if 0 <= front <= h - 14:  # the front edge of the stage (y = 0): the audience is below it
            painter.setPen(AXIS_TEXT)
            painter.drawText(QRectF(0, front + 2, w - 6, 14), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                             "audience ▾")
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        t0 = time.perf_counter()
        painter = QPainter(self)
        try:
            self._paint_plan(painter)
            if self._rubber is not None:
                painter.setPen(QPen(QColor(255, 198, 52), 1, Qt.PenStyle.DashLine))
                painter.setBrush(RUBBER)
                painter.drawRect(self._rubber)
            if self.message:
                painter.setPen(MESSAGE)
                painter.drawText(QRectF(8, 6, self.width() - 16, 40),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop | Qt.TextFlag.TextWordWrap,
                                 self.message)
            elif not self.ids:
                painter.setPen(AXIS_TEXT)
                painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No fixtures patched")
        finally:
            painter.end()
        self.paints += 1
        self.last_paint_ms = (time.perf_counter() - t0) * 1000.0

    # ================================================================ selection
    def selected_ids(self) -> list[str]:
        return [i for i in self.ids if i in self.selected]

    def _select(self, ids: set[str]) -> None:
        if ids != self.selected:
            self.set_selected(ids)
            self.selectionChanged.emit(self.selected_ids())

    # ================================================================ mouse and keys
    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        pos = event.position()
        if event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton):
            self.auto_fit = False
            self._pan_from = pos
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        self._press = pos
        hit = self.fixture_at(pos)
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if hit is None:
            self._rubber = QRectF(pos, pos)
            if not ctrl:
                self._select(set())
            return
        fid = self.ids[hit]
        if ctrl:
            self._select(self.selected ^ {fid})
            if fid not in self.selected:
                return
        elif fid not in self.selected:
            self._select({fid})
        moving = [i for i, f in enumerate(self.ids) if f in self.selected]
        self._drag = {"index": hit, "origin": self.positions.copy(), "moving": moving, "moved": False}

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        pos = event.position()
        if self._pan_from is not None:
            d = pos - self._pan_from
            self._pan_from = pos
            self.set_view(self.scale, (self.centre[0] - d.x() / self.scale, self.centre[1] + d.y() / self.scale))
            return
        if self._rubber is not None and self._press is not None:
            self._rubber = QRectF(self._press, pos).normalized()
            self.update()
            return
        if self._drag is not None and self._press is not None:
            d = pos - self._press
            if not self._drag["moved"] and abs(d.x()) + abs(d.y()) < DRAG_START_PX:
                return
            self._drag["moved"] = True
            self.auto_fit = False
            origin = self._drag["origin"]
            grabbed = origin[self._drag["index"], :2]
            target = grabbed + np.array([d.x(), -d.y()]) / self.scale
            if not event.modifiers() & Qt.KeyboardModifier.AltModifier:
                target = np.round(target / self.SNAP) * self.SNAP
            delta = target - grabbed
            self.positions = origin.copy()
            self.positions[self._drag["moving"], :2] += delta
            self.relayout()
            return
        if self.fixture_at(pos) is not None:
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.unsetCursor()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._pan_from is not None and event.button() in (Qt.MouseButton.MiddleButton, Qt.MouseButton.RightButton):
            self._pan_from = None
            self.unsetCursor()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if self._rubber is not None:
            rect, self._rubber = self._rubber, None
            self._press = None
            if rect.width() > 2 or rect.height() > 2:
                self._ensure_layout()
                px = self._fixture_px
                inside = {self.ids[i] for i in range(len(self.ids)) if rect.contains(QPointF(*px[i]))}
                if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                    inside |= self.selected
                self._select(inside)
            self.update()
            return
        drag, self._drag, self._press = self._drag, None, None
        if drag is not None and drag["moved"]:
            self._request_move(drag["moving"])

    def _request_move(self, indices: list[int]) -> None:
        moves = {self.ids[i]: (round(float(self.positions[i, 0]), 4), round(float(self.positions[i, 1]), 4))
                 for i in indices}
        if moves:
            self.moveRequested.emit(moves)

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.LeftButton and self.fixture_at(event.position()) is None:
            self.auto_fit = True
            self.fit()

    def wheelEvent(self, event) -> None:  # noqa: N802 (Qt override)
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.auto_fit = False
            self.zoom_by(1.25 ** steps, event.position())

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        key = event.key()
        if key == Qt.Key.Key_Escape and self._drag is not None:
            self.positions = self._drag["origin"].copy()
            self._drag = self._press = None
            self.relayout()
            return
        if key == Qt.Key.Key_F:
            self.auto_fit = True
            self.fit()
            return
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal, Qt.Key.Key_Minus):
            self.auto_fit = False
            self.zoom_by(1.25 if key != Qt.Key.Key_Minus else 0.8)
            return
        arrows = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, 1), Qt.Key.Key_Down: (0, -1)}
        if key in arrows and self.selected and self._drag is None:
            step = 1.0 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else self.NUDGE
            moving = [i for i, f in enumerate(self.ids) if f in self.selected]
            self.positions[moving, 0] = np.round((self.positions[moving, 0] + arrows[key][0] * step) / self.SNAP) * self.SNAP
            self.positions[moving, 1] = np.round((self.positions[moving, 1] + arrows[key][1] * step) / self.SNAP) * self.SNAP
            self.auto_fit = False
            self.relayout()
            self._request_move(moving)
            return
        super().keyPressEvent(event)

    def event(self, event) -> bool:  # noqa: A003 (Qt override)
        if event.type() == QEvent.Type.ToolTip:
            hit = self.fixture_at(QPointF(event.pos()))
            if hit is not None:
                QToolTip.showText(event.globalPos(), self.tooltips[hit], self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)
