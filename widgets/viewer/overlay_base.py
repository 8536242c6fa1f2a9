"""The base of the viewer overlays: a transparent child of a frame viewer that draws in *source* pixels.

:class:`SourceOverlay` is what :class:`~widgets.viewer.overlay.TrackOverlay`
and :class:`~widgets.viewer.roto_overlay.RotoOverlay` share: it lies over a
frame viewer (:class:`~widgets.viewer.GLViewer` or
:class:`~widgets.viewer.RasterViewer`), follows its size, repaints when its
zoom or pan changes (``viewChanged``) and leaves wheel zoom to it.

Coordinates: a *source* pixel is a pixel of the media frame the overlay's
content belongs to. :meth:`SourceOverlay.set_source` says how a source pixel
lands in the viewer's image (a QTransform; identity when the viewer shows the
source frame as is, a scale and offset when the picture is letterboxed into a
sequence or shown from a smaller proxy); the viewer's
``map_from_image``/``map_to_image`` do the rest.

A subclass says when it has something to show (:meth:`_has_content`), calls
:meth:`_sync_visible` when that may have changed, paints in :meth:`_paint`
(only while the viewer shows a frame) and keeps its current tool in ``_tool``.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QTransform
from PySide6.QtWidgets import QWidget

__all__ = ["SourceOverlay"]


class SourceOverlay(QWidget):
    def __init__(self, viewer: QWidget, object_name: str):
        super().__init__(viewer)
        self._viewer = viewer
        self.setObjectName(object_name)
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setGeometry(viewer.rect())
        viewer.installEventFilter(self)
        viewer.viewChanged.connect(self.update)
        self._source_size: tuple[int, int] | None = None
        self._transform = QTransform()
        self._inverse = QTransform()
        self._tool: str | None = None

    # ------------------------------------------------------------ source
    def set_source(self, size: tuple[int, int] | None, transform: QTransform | None = None) -> None:
        """The source frame's (width, height) and the map from source pixels to the viewer's image pixels."""
        size = None if size is None else (int(size[0]), int(size[1]))
        transform = QTransform(transform) if transform is not None else QTransform()
        if size == self._source_size and transform == self._transform:
            return
        self._source_size, self._transform = size, transform
        inverse, ok = self._transform.inverted()
        self._inverse = inverse if ok else QTransform()
        self.update()

    def _size(self) -> tuple[int, int] | None:
        """The source frame's size (the viewer's frame size when none was given)."""
        return self._source_size if self._source_size is not None else self._viewer.frame_size()

    def _clip(self, rect: QRectF) -> QRectF:
        """``rect`` (source pixels) normalized and cut to the source frame."""
        rect = rect.normalized()
        size = self._size()
        return rect if size is None else rect.intersected(QRectF(0, 0, *size))

    # ------------------------------------------------------------ geometry
    def to_widget(self, point: QPointF) -> QPointF:
        """Source pixel -> this widget's (= the viewer's) logical coordinates."""
        return self._viewer.map_from_image(self._transform.map(QPointF(point)))

    def to_source(self, pos: QPointF) -> QPointF:
        """This widget's logical coordinates -> source pixel."""
        return self._inverse.map(self._viewer.map_to_image(QPointF(pos)))

    def widget_rect(self, box: QRectF) -> QRectF:
        """A box in source pixels -> widget coordinates."""
        return QRectF(self.to_widget(box.topLeft()), self.to_widget(box.bottomRight())).normalized()

    def source_to_widget(self) -> QTransform:
        """The whole map from source pixels to widget coordinates (the viewer's part is a scale and offset)."""
        v = self._viewer
        o = v.map_from_image(QPointF(0, 0))
        ex, ey = v.map_from_image(QPointF(1, 0)) - o, v.map_from_image(QPointF(0, 1)) - o
        return self._transform * QTransform(ex.x(), ex.y(), ey.x(), ey.y(), o.x(), o.y())

    def tool(self) -> str | None:
        return self._tool

    # ------------------------------------------------------------ visibility, painting and events
    def _has_content(self) -> bool:
        """Whether there is anything to show or a tool to use (hidden otherwise)."""
        raise NotImplementedError

    def _sync_visible(self) -> None:
        self.setVisible(self._has_content())
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._viewer.frame_size() is None:
            return
        painter = QPainter(self)
        try:
            self._paint(painter)
        finally:
            painter.end()

    def _paint(self, painter: QPainter) -> None:
        """Draw the overlay in widget coordinates (the painter is ended afterwards)."""
        raise NotImplementedError

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self._viewer and event.type() == QEvent.Type.Resize:
            self.setGeometry(self._viewer.rect())
        return False

    def wheelEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._viewer.wheelEvent(event)  # zoom stays the viewer's (same coordinates: the overlay covers it)
