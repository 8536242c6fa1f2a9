"""Tracking overlay: detection boxes, box drawing, the tracked box with its trail, keyframe editing.

:class:`TrackOverlay` is a transparent child widget laid over a frame viewer
(:class:`~widgets.viewer.GLViewer` or :class:`~widgets.viewer.RasterViewer`):
it follows the viewer's size, zoom and pan, and paints with QPainter in the
viewer's own coordinates, so it looks the same on both viewers (see
:class:`~widgets.viewer.overlay_base.SourceOverlay`).

Coordinates: everything given to the overlay and everything it emits is in
*source* pixels (the media frame the boxes were found on, ``[x1, y1, x2, y2]``);
:meth:`TrackOverlay.set_source` says how a source pixel lands in the viewer's image.

No business logic: it shows what it is given and says what the user did.

Signals:
    detectionChosen(int): a detection box was clicked (its index).
    boxChosen(QRectF): a box to track was chosen, by clicking a detection or by drawing one.
    keyframeEdited(int, QRectF): the track box was moved or resized at a frame (source frame, new box).

Mouse: left-click selects a detection; with the draw tool (``set_tool("draw")``)
a left-drag draws a box; a left-drag inside the track box moves it, on a corner
or edge resizes it. Every other event (wheel zoom, middle-drag pan) is left to
the viewer underneath.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

from widgets.viewer.overlay_base import SourceOverlay

__all__ = ["TrackOverlay", "DETECTION_COLOUR", "SELECTED_COLOUR", "TRACK_COLOUR", "KEYFRAME_COLOUR",
           "LOST_COLOUR", "DRAW_COLOUR", "TRAIL_FRAMES"]

DETECTION_COLOUR = QColor(0, 200, 255)
SELECTED_COLOUR = QColor(255, 220, 0)
TRACK_COLOUR = QColor(0, 230, 120)
KEYFRAME_COLOUR = QColor(255, 80, 200)
LOST_COLOUR = QColor(170, 170, 170)
DRAW_COLOUR = QColor(255, 255, 255)
TRAIL_FRAMES = 25  # centres of this many frames before the current one
LINE_WIDTH = 2
GRAB = 6.0  # widget pixels around a corner/edge that grab it
MIN_BOX = 2.0  # source pixels: smallest box side
_BAR_HEIGHT = 6.0

_CURSORS = {
    "move": Qt.CursorShape.SizeAllCursor, "l": Qt.CursorShape.SizeHorCursor, "r": Qt.CursorShape.SizeHorCursor,
    "t": Qt.CursorShape.SizeVerCursor, "b": Qt.CursorShape.SizeVerCursor, "tl": Qt.CursorShape.SizeFDiagCursor,
    "br": Qt.CursorShape.SizeFDiagCursor, "tr": Qt.CursorShape.SizeBDiagCursor, "bl": Qt.CursorShape.SizeBDiagCursor,
}


def _boxes(values, width: int = 4) -> np.ndarray:
    arr = np.asarray(values if values is not None else np.zeros((0, width)), np.float64)
    return arr.reshape(-1, width)


def _rect(box) -> QRectF:
    x1, y1, x2, y2 = (float(v) for v in box)
    return QRectF(QPointF(x1, y1), QPointF(x2, y2))


class TrackOverlay(SourceOverlay):
    detectionChosen = Signal(int)
    boxChosen = Signal(QRectF)
    keyframeEdited = Signal(int, QRectF)

    def __init__(self, viewer: QWidget):
        super().__init__(viewer, "trackOverlay")
        self._dets = np.zeros((0, 4))
        self._scores = np.zeros(0)
        self._selected: int | None = None
        self._chosen: QRectF | None = None
        self._frames = np.zeros(0, np.int64)
        self._track = np.zeros((0, 4))
        self._lost = np.zeros(0, bool)
        self._keyframes = np.zeros(0, np.int64)
        self._range: tuple[int, int] | None = None
        self._frame: int | None = None
        self._drag: dict | None = None  # {"mode", "start" (source point), "orig" (QRectF), "rect", "frame"}
        self._sync_visible()

    # ------------------------------------------------------------ what to show
    def set_detections(self, boxes, scores=None) -> None:
        """Boxes ``[N, 4]`` to click on (source pixels) and their scores ``[N]`` (shown as text)."""
        self._dets = _boxes(boxes)
        self._scores = np.zeros(0) if scores is None else np.asarray(scores, np.float64).reshape(-1)
        self._selected = None
        self._sync_visible()

    def clear_detections(self) -> None:
        self.set_detections(None)

    def detections(self) -> np.ndarray:
        return self._dets.copy()

    def selected_detection(self) -> int | None:
        return self._selected

    def set_selected_detection(self, index: int | None) -> None:
        self._selected = None if index is None or not 0 <= index < len(self._dets) else int(index)
        self.update()

    def set_chosen_box(self, box: QRectF | None) -> None:
        """A chosen (not yet tracked) box, drawn dashed; None hides it."""
        self._chosen = None if box is None else QRectF(box).normalized()
        self._sync_visible()

    def chosen_box(self) -> QRectF | None:
        return None if self._chosen is None else QRectF(self._chosen)

    def set_tool(self, tool: str | None) -> None:
        """``"draw"``: a left-drag draws a box; None: no tool (click detections, edit the track box)."""
        if tool not in (None, "draw"):
            raise ValueError(f"unknown overlay tool {tool!r}")
        self._tool = tool
        self._drag = None
        if tool == "draw":
            self.setCursor(QCursor(Qt.CursorShape.CrossCursor))
        else:
            self.unsetCursor()
        self._sync_visible()

    def set_track(self, frames, boxes, keyframes: Iterable[int] = (), current: int | None = None,
                  lost=None, frame_range: tuple[int, int] | None = None) -> None:
        """A track: ``frames`` [N] (source frame numbers), ``boxes`` [N, 4] (NaN rows: no box), ``lost`` [N].

        ``frame_range`` is the session's (first, last) frame, drawn as a bar under the picture with the
        tracked frames and the keyframes; ``current`` the source frame shown now.
        """
        frames = np.asarray(frames if frames is not None else [], np.int64).reshape(-1)
        order = np.argsort(frames, kind="stable")
        self._frames = frames[order]
        self._track = _boxes(boxes)[order]
        self._lost = (np.zeros(len(frames), bool) if lost is None else np.asarray(lost, bool).reshape(-1)[order])
        self._keyframes = np.unique(np.asarray(list(keyframes), np.int64))
        self._range = None if frame_range is None else (int(frame_range[0]), int(frame_range[1]))
        if current is not None:
            self._frame = int(current)
        self._sync_visible()  # a drag in progress goes on: it keeps its own copy of the box

    def clear_track(self) -> None:
        self.set_track(None, None)
        self._range = None
        self.update()

    def set_current_frame(self, frame: int | None) -> None:
        if frame != self._frame:
            self._frame = None if frame is None else int(frame)
            if self._drag is not None and self._drag["frame"] != self._frame:
                self._drag = None
            self.update()

    def current_frame(self) -> int | None:
        return self._frame

    def track_box(self, frame: int | None = None) -> QRectF | None:
        """The track's box at ``frame`` (default the current one) in source pixels, or None."""
        i = self._row(self._frame if frame is None else frame)
        if i is None or np.isnan(self._track[i]).any():
            return None
        return _rect(self._track[i])

    def is_keyframe(self, frame: int) -> bool:
        return bool(len(self._keyframes)) and bool(np.isin(int(frame), self._keyframes))

    # ------------------------------------------------------------ geometry
    def _row(self, frame: int | None) -> int | None:
        if frame is None or not len(self._frames):
            return None
        i = int(np.searchsorted(self._frames, frame))
        return i if i < len(self._frames) and self._frames[i] == frame else None

    def _has_content(self) -> bool:
        return bool(len(self._dets) or len(self._frames) or self._chosen is not None or self._tool
                    or self._range is not None)

    # ------------------------------------------------------------ painting
    def _paint(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self._paint_detections(painter)
        self._paint_track(painter)
        if self._chosen is not None:
            self._box(painter, self._chosen, SELECTED_COLOUR, Qt.PenStyle.DashLine)
        if self._drag is not None and self._drag["mode"] == "draw" and self._drag["rect"] is not None:
            self._box(painter, self._drag["rect"], DRAW_COLOUR, Qt.PenStyle.DashLine)
        self._paint_range_bar(painter)

    def _box(self, painter: QPainter, box: QRectF, colour: QColor, style=Qt.PenStyle.SolidLine,
             width: int = LINE_WIDTH) -> QRectF:
        pen = QPen(colour, width, style)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = self.widget_rect(box)
        painter.drawRect(rect)
        return rect

    def _paint_detections(self, painter: QPainter) -> None:
        for i, box in enumerate(self._dets):
            selected = i == self._selected
            rect = self._box(painter, _rect(box), SELECTED_COLOUR if selected else DETECTION_COLOUR,
                             width=LINE_WIDTH + (1 if selected else 0))
            if i < len(self._scores):
                painter.drawText(rect.topLeft() + QPointF(2, -4), f"{self._scores[i]:.2f}")

    def _paint_track(self, painter: QPainter) -> None:
        if self._frame is None or not len(self._frames) or not self._frames[0] <= self._frame <= self._frames[-1]:
            return  # outside what is tracked: no box, no trail
        lo, hi = np.searchsorted(self._frames, [self._frame - TRAIL_FRAMES, self._frame + 1])
        boxes = self._track[lo:hi]
        ok = ~np.isnan(boxes).any(axis=1) & ~self._lost[lo:hi]
        if ok.sum() >= 2:  # the trail of centres, older ones fainter
            centres = np.column_stack([(boxes[ok, 0] + boxes[ok, 2]) / 2, (boxes[ok, 1] + boxes[ok, 3]) / 2])
            points = [self.to_widget(QPointF(float(x), float(y))) for x, y in centres]
            trail = QColor(TRACK_COLOUR)
            for k in range(1, len(points)):
                trail.setAlpha(int(60 + 195 * k / (len(points) - 1)))
                pen = QPen(trail, 2)
                pen.setCosmetic(True)
                painter.setPen(pen)
                painter.drawLine(points[k - 1], points[k])
        box = self._drag["rect"] if self._drag is not None and self._drag["mode"] != "draw" else self.track_box()
        if box is None:
            return
        i = self._row(self._frame)
        lost = self._drag is None and i is not None and bool(self._lost[i])
        key = self.is_keyframe(self._frame) or self._drag is not None
        colour = LOST_COLOUR if lost else KEYFRAME_COLOUR if key else TRACK_COLOUR
        rect = self._box(painter, box, colour, Qt.PenStyle.DashLine if lost else Qt.PenStyle.SolidLine)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        for corner in (rect.topLeft(), rect.topRight(), rect.bottomLeft(), rect.bottomRight()):
            painter.drawRect(QRectF(corner - QPointF(3, 3), corner + QPointF(3, 3)))  # resize handles
        if key:  # keyframe marker: a diamond above the box's top-left corner
            c = rect.topLeft() + QPointF(8, -10)
            painter.drawPolygon(QPolygonF([c + QPointF(0, -5), c + QPointF(5, 0), c + QPointF(0, 5),
                                           c + QPointF(-5, 0)]))

    def _paint_range_bar(self, painter: QPainter) -> None:
        """Under the picture: the session's range, the frames tracked so far, keyframes, the current frame."""
        if self._range is None:
            return
        first, last = self._range
        image = self._viewer.image_rect()
        if image.isEmpty():
            return
        bar = QRectF(image.left(), image.bottom() - _BAR_HEIGHT - 2, image.width(), _BAR_HEIGHT)
        span = max(1, last - first + 1)

        def x_of(frame: float) -> float:
            return bar.left() + (frame - first) / span * bar.width()

        painter.setPen(Qt.PenStyle.NoPen)
        painter.fillRect(bar, QColor(0, 0, 0, 140))
        if len(self._frames):
            breaks = np.flatnonzero(np.diff(self._frames) != 1)
            starts = np.concatenate([[self._frames[0]], self._frames[breaks + 1]])
            ends = np.concatenate([self._frames[breaks], [self._frames[-1]]])
            fill = QColor(TRACK_COLOUR)
            fill.setAlpha(180)
            for a, b in zip(starts, ends):
                painter.fillRect(QRectF(QPointF(x_of(a), bar.top()), QPointF(x_of(b + 1), bar.bottom())), fill)
        painter.setBrush(KEYFRAME_COLOUR)
        for k in self._keyframes:
            c = QPointF(x_of(k + 0.5), bar.center().y())
            painter.drawPolygon(QPolygonF([c + QPointF(0, -5), c + QPointF(4, 0), c + QPointF(0, 5),
                                           c + QPointF(-4, 0)]))
        if self._frame is not None and first <= self._frame <= last:
            playhead = QRectF(x_of(self._frame + 0.5) - 1, bar.top() - 3, 2, _BAR_HEIGHT + 6)
            painter.fillRect(playhead, Qt.GlobalColor.white)

    # ------------------------------------------------------------ mouse
    def _hit_track(self, pos: QPointF) -> str | None:
        """Which part of the current track box is under ``pos`` (widget coordinates), if any."""
        box = self.track_box()
        if box is None:
            return None
        r = self.widget_rect(box)
        if not r.adjusted(-GRAB, -GRAB, GRAB, GRAB).contains(pos):
            return None
        near_l, near_r = abs(pos.x() - r.left()) <= GRAB, abs(pos.x() - r.right()) <= GRAB
        near_t, near_b = abs(pos.y() - r.top()) <= GRAB, abs(pos.y() - r.bottom()) <= GRAB
        vertical = "t" if near_t else "b" if near_b else ""
        horizontal = "l" if near_l else "r" if near_r else ""
        part = vertical + horizontal
        if part:
            return part
        return "move" if r.contains(pos) else None

    def _hit_detection(self, pos: QPointF) -> int | None:
        if not len(self._dets):
            return None
        p = self.to_source(pos)
        d = self._dets
        inside = (d[:, 0] <= p.x()) & (p.x() <= d[:, 2]) & (d[:, 1] <= p.y()) & (p.y() <= d[:, 3])
        if not inside.any():
            return None
        area = (d[:, 2] - d[:, 0]) * (d[:, 3] - d[:, 1])
        return int(np.flatnonzero(inside)[np.argmin(area[inside])])  # the smallest box under the click

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.button() != Qt.MouseButton.LeftButton or self._viewer.frame_size() is None:
            event.ignore()
            return
        pos = event.position()
        start = self.to_source(pos)
        if self._tool == "draw":
            self._drag = {"mode": "draw", "start": start, "orig": None, "rect": None, "frame": self._frame}
        elif (part := self._hit_track(pos)) is not None:
            box = self.track_box()
            self._drag = {"mode": part, "start": start, "orig": box, "rect": QRectF(box), "frame": self._frame,
                          "moved": False}
        elif (index := self._hit_detection(pos)) is not None:
            self._selected = index
            self._chosen = None
            self.update()
            self.detectionChosen.emit(index)
            self.boxChosen.emit(_rect(self._dets[index]))
        else:
            event.ignore()
            return
        event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        pos = event.position()
        drag = self._drag
        if drag is None:
            if self._tool is None:  # hover feedback only
                part = self._hit_track(pos)
                if part is not None:
                    self.setCursor(QCursor(_CURSORS[part]))
                elif self._hit_detection(pos) is not None:
                    self.setCursor(QCursor(Qt.CursorShape.PointingHandCursor))
                else:
                    self.unsetCursor()
            event.ignore()
            return
        p = self.to_source(pos)
        if drag["mode"] == "draw":
            drag["rect"] = self._clip(QRectF(drag["start"], p))
        else:
            drag["rect"] = self._edited(drag["orig"], drag["mode"], p - drag["start"])
            drag["moved"] = True
        self.update()
        event.accept()

    def _edited(self, orig: QRectF, mode: str, delta: QPointF) -> QRectF:
        x1, y1, x2, y2 = orig.left(), orig.top(), orig.right(), orig.bottom()
        dx, dy = delta.x(), delta.y()
        if mode == "move":
            if self._size() is not None:  # keep the box on the picture
                w, h = self._size()
                dx = min(max(dx, -x1), w - x2) if x2 - x1 <= w else dx
                dy = min(max(dy, -y1), h - y2) if y2 - y1 <= h else dy
            return QRectF(x1 + dx, y1 + dy, x2 - x1, y2 - y1)
        if "l" in mode:
            x1 = min(x1 + dx, x2 - MIN_BOX)
        if "r" in mode:
            x2 = max(x2 + dx, x1 + MIN_BOX)
        if "t" in mode:
            y1 = min(y1 + dy, y2 - MIN_BOX)
        if "b" in mode:
            y2 = max(y2 + dy, y1 + MIN_BOX)
        return self._clip(QRectF(QPointF(x1, y1), QPointF(x2, y2)))

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt override)
        drag = self._drag
        if event.button() != Qt.MouseButton.LeftButton or drag is None:
            event.ignore()
            return
        self._drag = None
        rect = drag["rect"]
        if drag["mode"] == "draw":
            widget = self.widget_rect(rect) if rect is not None else QRectF()
            if rect is not None and widget.width() >= 4 and widget.height() >= 4 and not rect.isEmpty():
                self._chosen = QRectF(rect)
                self._selected = None
                self.boxChosen.emit(QRectF(rect))
        elif drag.get("moved") and rect is not None and rect != drag["orig"] and drag["frame"] is not None:
            # show the edit at once; the owner replaces the track when it has stored it
            i = self._row(drag["frame"])
            if i is not None:
                self._track[i] = (rect.left(), rect.top(), rect.right(), rect.bottom())
                self._lost[i] = False
            self._keyframes = np.union1d(self._keyframes, [drag["frame"]])
            self.keyframeEdited.emit(int(drag["frame"]), QRectF(rect))
        self._sync_visible()
        event.accept()
