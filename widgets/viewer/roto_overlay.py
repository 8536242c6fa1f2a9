"""Rotoscoping overlay: box and +/- point prompts, Bezier shape editing, matte tint, feather and onion skins.

:class:`RotoOverlay` is a transparent child widget laid over a frame viewer
(:class:`~widgets.viewer.GLViewer` or :class:`~widgets.viewer.RasterViewer`),
attached the same way as :class:`~widgets.viewer.overlay.TrackOverlay` (see
:class:`~widgets.viewer.overlay_base.SourceOverlay`): it follows the viewer's
size, zoom and pan and paints with QPainter.

Coordinates: everything given to the overlay and everything it emits is in
*source* pixels in Luma's roto convention (origin top-left, y down, pixel
centres at +0.5; see :mod:`core.vision.roto_model`). :meth:`RotoOverlay.set_source`
says how a source pixel lands in the viewer's image (identity by default).

No business logic: it shows what it is given and says what the user did.
Edits are reported once per finished gesture as ``(old, new)`` so the owner
can push an undo command; :meth:`RotoOverlay.set_shape` (undo, redo, another
frame) never emits.

Tools (:meth:`RotoOverlay.set_tool`):
    ``"box"``: a left-drag draws a prompt box -> ``boxDrawn(x1, y1, x2, y2)``.
    ``"points"``: a left click adds a positive point, a right click or
    Alt/Shift + left click a negative one -> ``pointAdded(x, y, positive)``.
    ``"edit"``: the shape's vertices (squares) and the selected vertex's
    tangent handles (circles) are shown. Drag a vertex to move it with its
    handles; drag a handle to turn/stretch it (the opposite handle stays
    aligned, keeping its length; with Alt held the tangent breaks and only
    the dragged handle moves); Ctrl + drag on a vertex pulls out new mirrored
    handles; double-click on the curve inserts a vertex (the shape stays the
    same); Delete/Backspace removes the selected vertex (at least 3 stay).
    ``None``: display only; the overlay lets every mouse event through to what lies below.

Signals:
    boxDrawn(float, float, float, float): a prompt box was drawn (source pixels, x1 < x2, y1 < y2).
    pointAdded(float, float, bool): a prompt point was clicked (x, y, positive).
    shapeEdited(object, object): one finished edit: (old, new) in the form given to :meth:`set_shape`
        (a Spline, or a list of Splines when a list was given).
    splineEdited(int, object, object): the same edit as (index of the edited spline, old Spline, new Spline).
    selectionChanged(int, int): the user selected a vertex (spline index, vertex index), or (-1, -1) for none.

Mouse events the tool does not use (wheel zoom, middle-drag pan) go on to the viewer.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QImage, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QWidget

from core.vision.roto_model import Spline
from widgets.viewer.overlay_base import SourceOverlay
from widgets.viewer.roto_tools import (MIN_VERTICES, apply_affine, as_splines, nearest_on_curve, nearest_point,
                                       offset_outline, onion_alpha, pull_handles, move_handle, move_vertex,
                                       remove_vertex, same_spline, split_segment)

__all__ = ["RotoOverlay", "TOOLS", "SHAPE_COLOUR", "SELECTED_COLOUR", "HANDLE_COLOUR", "POSITIVE_COLOUR",
           "NEGATIVE_COLOUR", "BOX_COLOUR", "MATTE_COLOUR", "FEATHER_COLOUR", "ONION_BEFORE_COLOUR",
           "ONION_AFTER_COLOUR"]

TOOLS = (None, "box", "points", "edit")

SHAPE_COLOUR = QColor(255, 170, 0)
SELECTED_COLOUR = QColor(255, 255, 255)
HANDLE_COLOUR = QColor(0, 200, 255)
POSITIVE_COLOUR = QColor(40, 210, 80)
NEGATIVE_COLOUR = QColor(235, 50, 50)
BOX_COLOUR = QColor(255, 230, 0)
MATTE_COLOUR = QColor(255, 40, 120)
FEATHER_COLOUR = QColor(255, 170, 0, 150)
ONION_BEFORE_COLOUR = QColor(255, 90, 40)
ONION_AFTER_COLOUR = QColor(40, 150, 255)
MATTE_OPACITY = 0.45
LINE_WIDTH = 2
GRAB = 7.0  # widget pixels around a vertex/handle/the curve that grab it
VERTEX_SIZE = 7.0
HANDLE_RADIUS = 4.0
POINT_RADIUS = 6.0
MIN_BOX_WIDGET = 4.0  # a drawn box smaller than this (widget pixels) is a stray click


def _pen(colour: QColor, width: float = LINE_WIDTH, style=Qt.PenStyle.SolidLine) -> QPen:
    pen = QPen(colour, width, style)
    pen.setCosmetic(True)  # the same width at every zoom, also under the source -> widget transform
    return pen


def _spline_path(spline: Spline) -> QPainterPath:
    """The closed curve in source pixels."""
    path = QPainterPath()
    c = spline.controls()
    path.moveTo(*c[0, 0])
    for p0, p1, p2, p3 in c:
        path.cubicTo(QPointF(*p1), QPointF(*p2), QPointF(*p3))
    path.closeSubpath()
    return path


def _polygon_path(points) -> QPainterPath:
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    path = QPainterPath()
    if len(pts) >= 2:
        path.addPolygon(QPolygonF([QPointF(float(x), float(y)) for x, y in pts]))
        path.closeSubpath()
    return path


def _outline_path(item) -> QPainterPath:
    """A Spline, a polygon [M, 2], or a list of those -> one path."""
    if isinstance(item, Spline):
        return _spline_path(item)
    try:
        arr = np.asarray(item, np.float64)
    except (TypeError, ValueError):  # a list of shapes (ragged or not numbers)
        arr = None
    if arr is not None and arr.ndim == 2 and arr.shape[1] == 2:
        return _polygon_path(arr)
    path = QPainterPath()
    for sub in item:
        path.addPath(_outline_path(sub))
    return path


def _colour(value) -> QColor:
    if value is None:
        return QColor(MATTE_COLOUR)
    if isinstance(value, QColor):
        return QColor(value)
    return QColor(*[int(v) for v in value])


class RotoOverlay(SourceOverlay):
    boxDrawn = Signal(float, float, float, float)
    pointAdded = Signal(float, float, bool)
    shapeEdited = Signal(object, object)
    splineEdited = Signal(int, object, object)
    selectionChanged = Signal(int, int)

    def __init__(self, viewer: QWidget):
        super().__init__(viewer, "rotoOverlay")
        self._shapes: list[Spline] = []
        self._single = False
        self._paths: list[QPainterPath] = []
        self._selected: tuple[int, int] | None = None
        self._all_handles = False
        self._feather = (0.0, 0.0)
        self._feather_paths: list[QPainterPath] = []
        self._box: tuple[float, float, float, float] | None = None
        self._points: list[tuple[float, float, bool]] = []
        self._matte: np.ndarray | None = None
        self._matte_image: QImage | None = None
        self._matte_colour = QColor(MATTE_COLOUR)
        self._matte_opacity = MATTE_OPACITY
        self._onion: list[tuple[QPainterPath, QColor]] = []
        self._drag: dict | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)  # no tool yet
        self._sync_visible()

    # ------------------------------------------------------------ tool
    def set_tool(self, tool: str | None) -> None:
        """``"box"``, ``"points"``, ``"edit"`` or None (display only); see the module docstring."""
        if tool not in TOOLS:
            raise ValueError(f"unknown roto tool {tool!r} (one of {', '.join(map(str, TOOLS))})")
        self._cancel_drag()
        self._tool = tool
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus if tool == "edit" else Qt.FocusPolicy.NoFocus)
        # display only: clicks reach whatever lies below (the viewer, another overlay such as TrackOverlay)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, tool is None)
        if tool in ("box", "points"):
            self.setCursor(QCursor(Qt.CursorShape.CrossCursor))
        else:
            self.unsetCursor()
        self._sync_visible()

    # ------------------------------------------------------------ prompt
    def set_prompt(self, box=None, points: Iterable = ()) -> None:
        """The pending prompt: a box ``(x1, y1, x2, y2)`` or None, and points ``(x, y, positive)``."""
        self._box = None if box is None else tuple(float(v) for v in box)
        self._points = [(float(x), float(y), bool(p)) for x, y, p in points]
        self._sync_visible()

    def clear_prompt(self) -> None:
        self.set_prompt(None, ())

    def prompt(self) -> tuple[tuple[float, float, float, float] | None, list[tuple[float, float, bool]]]:
        return self._box, list(self._points)

    # ------------------------------------------------------------ shape
    def set_shape(self, shape) -> None:
        """Show ``shape``: a :class:`Spline`, a list of Splines (one object of several shapes) or None.

        Never emits. A gesture in progress is dropped. The selected vertex stays
        selected when it still exists (undo/redo of an edit keeps it).
        """
        shapes, single = as_splines(shape)
        self._drag = None
        self._shapes, self._single = shapes, single
        self._paths = [_spline_path(s) for s in shapes]
        if self._selected is not None:
            s, k = self._selected
            if s >= len(shapes) or k >= len(shapes[s]):
                self._selected = None
        self._update_feather_paths()
        self._sync_visible()

    def shape(self):
        """What is shown, in the form given to :meth:`set_shape` (None when there is nothing)."""
        return self._form(self._shapes)

    def splines(self) -> list[Spline]:
        return list(self._shapes)

    def set_selected_vertex(self, spline: int | None, vertex: int | None = None) -> None:
        """Select vertex ``vertex`` of spline ``spline`` (None: no selection). Does not emit."""
        if spline is None or vertex is None:
            self._selected = None
        elif not (0 <= spline < len(self._shapes) and 0 <= vertex < len(self._shapes[spline])):
            raise IndexError(f"no vertex {vertex} on spline {spline}")
        else:
            self._selected = (int(spline), int(vertex))
        self.update()

    def selected_vertex(self) -> tuple[int, int] | None:
        return self._selected

    def set_show_all_handles(self, show: bool) -> None:
        """Show (and let the user drag) every vertex's handles in the edit tool, not only the selected one's."""
        self._all_handles = bool(show)
        self.update()

    def set_feather(self, inner: float, outer: float) -> None:
        """Show the feather extents (source pixels) as dashed outlines inside/outside the shape; 0 hides one."""
        self._feather = (max(0.0, float(inner)), max(0.0, float(outer)))
        self._update_feather_paths()
        self.update()

    def delete_selected_vertex(self) -> bool:
        """Remove the selected vertex (emits one edit); False when none is selected or only 3 are left."""
        if self._drag is not None or self._selected is None:
            return False
        s, k = self._selected
        if len(self._shapes[s]) <= MIN_VERTICES:
            return False
        new = remove_vertex(self._shapes[s], k)
        self._selected = None  # silently first: a listener of shapeEdited sees no stale selection
        self._commit(s, new)
        self.selectionChanged.emit(-1, -1)
        return True

    # ------------------------------------------------------------ matte and onion skins
    def set_matte(self, matte: np.ndarray | None, colour=None, opacity: float = MATTE_OPACITY) -> None:
        """Tint ``matte`` (uint8 [H, W] in source pixels, 0 clear .. 255 full) over the picture; None removes it.

        ``colour`` is a QColor or (r, g, b); ``opacity`` the tint's opacity where
        the matte is 255. The tint image is made once here and reused by paints.
        """
        self._matte_colour = _colour(colour)
        self._matte_opacity = float(np.clip(opacity, 0.0, 1.0))
        if matte is None:
            self._matte, self._matte_image = None, None
        else:
            m = np.asarray(matte)
            if m.ndim != 2 or m.dtype != np.uint8:
                raise ValueError(f"a matte is a uint8 [H, W] array, got {m.dtype} {m.shape}")
            self._matte = np.ascontiguousarray(m)
            self._matte_image = self._tint_image(self._matte)
        self._sync_visible()

    def _tint_image(self, matte: np.ndarray) -> QImage:
        h, w = matte.shape
        # the matte values index a colour table: no per-pixel work in Python, one conversion in Qt
        indexed = QImage(matte.data, w, h, matte.strides[0], QImage.Format.Format_Indexed8)
        c = self._matte_colour
        alpha = np.round(np.arange(256) * self._matte_opacity).astype(np.uint32)
        rgb = (c.red() << 16) | (c.green() << 8) | c.blue()
        indexed.setColorTable([int(a) << 24 | rgb for a in alpha])
        return indexed.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)

    def matte_image(self) -> QImage | None:
        """The cached tint image (None without a matte)."""
        return self._matte_image

    def set_onion_skins(self, skins: Iterable) -> None:
        """Faint outlines of neighbouring frames: ``(shape, offset)`` pairs, offset in frames (-1: the frame before).

        ``shape`` is a Spline, a matte outline polygon (N, 2), or a list of
        those. Earlier frames are drawn in one colour, later in another, fainter
        the further away.
        """
        items = [(item, int(offset)) for item, offset in skins if int(offset) != 0]
        offsets = [o for _, o in items]
        self._onion = []
        for item, offset in sorted(items, key=lambda p: -abs(p[1])):  # the farthest first, the nearest on top
            colour = QColor(ONION_BEFORE_COLOUR if offset < 0 else ONION_AFTER_COLOUR)
            colour.setAlpha(onion_alpha(offset, offsets))
            self._onion.append((_outline_path(item), colour))
        self._sync_visible()

    def clear_onion_skins(self) -> None:
        self.set_onion_skins(())

    # ------------------------------------------------------------ geometry
    def _affine(self) -> np.ndarray:
        t = self.source_to_widget()
        return np.array([[t.m11(), t.m21(), t.dx()], [t.m12(), t.m22(), t.dy()]])

    def _has_content(self) -> bool:
        return bool(self._tool or self._shapes or self._box is not None or self._points
                    or self._matte is not None or self._onion)

    def _form(self, shapes: list[Spline]):
        if not shapes:
            return None
        return shapes[0] if self._single else list(shapes)

    def _shown(self) -> list[Spline]:
        """The shapes as drawn now: with the gesture in progress applied."""
        if self._drag is None or self._drag.get("current") is None:
            return self._shapes
        shapes = list(self._shapes)
        shapes[self._drag["spline"]] = self._drag["current"]
        return shapes

    def _update_feather_paths(self) -> None:
        inner, outer = self._feather
        self._feather_paths = []
        for spline in self._shown():
            for distance in (-inner, outer):
                if distance:
                    self._feather_paths.append(_polygon_path(offset_outline(spline, distance)))

    # ------------------------------------------------------------ painting
    def _paint(self, painter: QPainter) -> None:
        self._paint_source_layers(painter)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self._tool == "edit":
            self._paint_edit_marks(painter)
        self._paint_prompt(painter)

    def _paint_source_layers(self, painter: QPainter) -> None:
        """Matte tint, onion skins, feather and shape outlines, drawn in source pixels."""
        painter.save()
        painter.setTransform(self.source_to_widget())
        if self._matte_image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
            image = self._matte_image
            painter.drawImage(QRectF(0, 0, image.width(), image.height()), image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for path, colour in self._onion:
            painter.setPen(_pen(colour, 1.5))
            painter.drawPath(path)
        painter.setPen(_pen(FEATHER_COLOUR, 1, Qt.PenStyle.DashLine))
        for path in self._feather_paths:
            painter.drawPath(path)
        painter.setPen(_pen(SHAPE_COLOUR))
        paths = self._paths if self._drag is None or self._drag.get("current") is None else \
            [_spline_path(s) for s in self._shown()]
        for path in paths:
            painter.drawPath(path)
        painter.restore()

    def _handle_vertices(self) -> list[tuple[int, int]]:
        """(spline, vertex) whose handles are shown and can be dragged."""
        if self._all_handles:
            return [(s, k) for s, spline in enumerate(self._shown()) for k in range(len(spline))]
        return [self._selected] if self._selected is not None else []

    def _paint_edit_marks(self, painter: QPainter) -> None:
        shapes = self._shown()
        affine = self._affine()
        for s, k in self._handle_vertices():
            spline = shapes[s]
            v = apply_affine(spline.vertices[k], affine)
            for offset in (spline.in_tangents[k], spline.out_tangents[k]):
                h = apply_affine(spline.vertices[k] + offset, affine)
                if np.hypot(*(h - v)) < 1.0:
                    continue  # a zero handle sits under its vertex
                painter.setPen(_pen(HANDLE_COLOUR, 1))
                painter.drawLine(QPointF(*v), QPointF(*h))
                painter.setBrush(HANDLE_COLOUR)
                painter.drawEllipse(QPointF(*h), HANDLE_RADIUS, HANDLE_RADIUS)
        half = VERTEX_SIZE / 2
        painter.setPen(_pen(QColor(0, 0, 0), 1))
        for s, spline in enumerate(shapes):
            for k, v in enumerate(apply_affine(spline.vertices, affine)):
                painter.setBrush(SELECTED_COLOUR if (s, k) == self._selected else SHAPE_COLOUR)
                painter.drawRect(QRectF(v[0] - half, v[1] - half, VERTEX_SIZE, VERTEX_SIZE))

    def _paint_prompt(self, painter: QPainter) -> None:
        box = None if self._box is None else QRectF(QPointF(*self._box[:2]), QPointF(*self._box[2:]))
        if self._drag is not None and self._drag["kind"] == "box" and self._drag.get("rect") is not None:
            box = self._drag["rect"]  # the box being drawn (a QRectF)
        if box is not None:
            painter.setPen(_pen(BOX_COLOUR, LINE_WIDTH, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(self.widget_rect(box))
        r, arm = POINT_RADIUS, POINT_RADIUS * 0.6
        for x, y, positive in self._points:
            c = self.to_widget(QPointF(x, y))
            painter.setPen(_pen(QColor(255, 255, 255), 1.5))
            painter.setBrush(POSITIVE_COLOUR if positive else NEGATIVE_COLOUR)
            painter.drawEllipse(c, r, r)
            painter.setPen(_pen(QColor(255, 255, 255), 2))
            painter.drawLine(c - QPointF(arm, 0), c + QPointF(arm, 0))
            if positive:
                painter.drawLine(c - QPointF(0, arm), c + QPointF(0, arm))

    # ------------------------------------------------------------ hit testing
    def _hit(self, pos: QPointF):
        """What of the shapes lies under ``pos`` (widget coordinates), the nearest first:

        ``("handle", spline, vertex, side)``, ``("vertex", spline, vertex)``,
        ``("curve", spline, segment, t)`` or None.
        """
        if not self._shapes:
            return None
        affine = self._affine()
        p = (pos.x(), pos.y())
        best, best_d = None, GRAB
        for s, spline in enumerate(self._shapes):
            hit = nearest_point(apply_affine(spline.vertices, affine), p, GRAB)
            if hit is not None and hit[1] <= best_d:
                best, best_d = ("vertex", s, hit[0]), hit[1]
        for s, k in self._handle_vertices():
            spline = self._shapes[s]
            v = apply_affine(spline.vertices[k], affine)
            for side, offset in (("in", spline.in_tangents[k]), ("out", spline.out_tangents[k])):
                h = apply_affine(spline.vertices[k] + offset, affine)
                d = float(np.hypot(h[0] - p[0], h[1] - p[1]))
                # a vertex wins a tie; a handle shorter than a pixel cannot be grabbed (Ctrl-drag pulls one out)
                if np.hypot(*(h - v)) >= 1.0 and d + 0.5 < best_d:
                    best, best_d = ("handle", s, k, side), d
        if best is not None:
            return best
        for s, spline in enumerate(self._shapes):
            seg, t, d = nearest_on_curve(spline, p, affine)
            if d <= best_d:
                best, best_d = ("curve", s, seg, t), d
        return best

    # ------------------------------------------------------------ mouse and keys
    def contextMenuEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._tool == "points":
            event.accept()  # a right click is a negative point here, not a menu
        else:
            event.ignore()

    def _inside(self, p: QPointF) -> bool:
        size = self._size()
        return size is None or (0.0 <= p.x() <= size[0] and 0.0 <= p.y() <= size[1])

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        button, pos = event.button(), event.position()
        if self._viewer.frame_size() is None or self._tool is None or self._drag is not None:
            event.ignore()
            return
        left = button == Qt.MouseButton.LeftButton
        mods = event.modifiers()
        p = self.to_source(pos)
        if self._tool == "points" and button in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            if not self._inside(p):
                event.ignore()
                return
            negative = not left or bool(mods & (Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ShiftModifier))
            self._points.append((p.x(), p.y(), not negative))
            self._sync_visible()
            self.pointAdded.emit(p.x(), p.y(), not negative)
        elif self._tool == "box" and left:
            self._drag = {"kind": "box", "start": p, "rect": None}
        elif self._tool == "edit" and left:
            if not self._press_edit(pos, p, mods):
                event.ignore()
                return
        else:
            event.ignore()
            return
        event.accept()

    def _press_edit(self, pos: QPointF, p: QPointF, mods) -> bool:
        hit = self._hit(pos)
        if hit is None or hit[0] == "curve":
            if hit is None:
                self._select(None)
            return hit is not None
        kind, s, k = hit[:3]
        self._select((s, k))
        spline = self._shapes[s]
        if kind == "vertex" and mods & Qt.KeyboardModifier.ControlModifier:
            kind = "pull"
        self._drag = {"kind": kind, "spline": s, "vertex": k, "side": hit[3] if kind == "handle" else None,
                      "start": np.array([p.x(), p.y()]), "orig": spline, "current": None,
                      "broken": bool(mods & Qt.KeyboardModifier.AltModifier)}
        return True

    def _select(self, sel: tuple[int, int] | None) -> None:
        if sel != self._selected:
            self._selected = sel
            self.update()
            self.selectionChanged.emit(*(sel if sel is not None else (-1, -1)))

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        drag = self._drag
        if drag is None:
            if self._tool == "edit":  # hover feedback only
                hit = self._hit(event.position())
                if hit is None:
                    self.unsetCursor()
                else:
                    self.setCursor(QCursor(Qt.CursorShape.CrossCursor if hit[0] == "curve"
                                           else Qt.CursorShape.SizeAllCursor))
            event.ignore()
            return
        q = self.to_source(event.position())
        if drag["kind"] == "box":
            drag["rect"] = self._clip(QRectF(drag["start"], q))
        else:
            p = np.array([q.x(), q.y()])
            orig, k = drag["orig"], drag["vertex"]
            if drag["kind"] == "vertex":
                drag["current"] = move_vertex(orig, k, orig.vertices[k] + (p - drag["start"]))
            elif drag["kind"] == "pull":
                drag["current"] = pull_handles(orig, k, p - orig.vertices[k])
            else:
                base = orig.in_tangents[k] if drag["side"] == "in" else orig.out_tangents[k]
                broken = drag["broken"] or bool(event.modifiers() & Qt.KeyboardModifier.AltModifier)
                drag["current"] = move_handle(orig, k, drag["side"], base + (p - drag["start"]), broken=broken)
            self._update_feather_paths()
        self.update()
        event.accept()

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt override)
        drag = self._drag
        if event.button() != Qt.MouseButton.LeftButton or drag is None:
            event.ignore()
            return
        self._drag = None
        if drag["kind"] == "box":
            rect = drag["rect"]
            if rect is not None and not rect.isEmpty():
                widget = self.widget_rect(rect)
                if widget.width() >= MIN_BOX_WIDGET and widget.height() >= MIN_BOX_WIDGET:
                    self._box = (rect.left(), rect.top(), rect.right(), rect.bottom())
                    self.boxDrawn.emit(*self._box)
            self._sync_visible()
        elif drag["current"] is not None and not same_spline(drag["current"], drag["orig"]):
            self._commit(drag["spline"], drag["current"])
        else:
            self._update_feather_paths()
            self.update()
        event.accept()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._tool != "edit" or event.button() != Qt.MouseButton.LeftButton or self._drag is not None:
            if self._tool == "points":
                event.accept()  # the double-click's first press already added the point
            else:
                event.ignore()
            return
        hit = self._hit(event.position())
        if hit is None or hit[0] != "curve":
            event.ignore()
            return
        _, s, seg, t = hit
        self._commit(s, split_segment(self._shapes[s], seg, t))
        self._select((s, seg + 1))
        event.accept()

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        key = event.key()
        if self._tool == "edit" and key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._selected is not None:
            self.delete_selected_vertex()
            event.accept()
        elif key == Qt.Key.Key_Escape and self._drag is not None:
            self._cancel_drag()
            event.accept()
        else:
            event.ignore()

    def _cancel_drag(self) -> None:
        if self._drag is not None:
            self._drag = None
            self._update_feather_paths()
            self.update()

    def _commit(self, index: int, new: Spline) -> None:
        """Store an edit and report it once (the new shape is shown before the owner hears of it)."""
        old_shapes = list(self._shapes)
        shapes = list(self._shapes)
        shapes[index] = new
        self._shapes = shapes
        self._paths[index] = _spline_path(new)
        self._update_feather_paths()
        self.update()
        self.shapeEdited.emit(self._form(old_shapes), self._form(shapes))
        self.splineEdited.emit(index, old_shapes[index], new)
