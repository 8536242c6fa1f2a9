"""RasterViewer: the frame viewer drawn with QPainter only (no OpenGL).

Used where OpenGL is unavailable (no driver, remote sessions, the ``offscreen``
Qt platform in tests). Same API and behaviour as
:class:`~widgets.viewer.gl_viewer.GLViewer`; slower at large zoom-outs.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QWidget

from widgets.viewer.view_base import FrameViewMixin


class RasterViewer(FrameViewMixin, QWidget):
    """Shows RGB uint8 frames with QPainter; zoom, pan and safe areas as GLViewer.

    Signals:
        frameShown(int): after the first paint showing a frame given a number.
        viewChanged(): zoom or pan changed.
    """

    frameShown = Signal(int)
    viewChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._init_frame_view()
        self._image: QImage | None = None
        self._image_source: np.ndarray | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self.setAutoFillBackground(False)

    def _frame_replaced(self) -> None:
        self._image = None
        self._image_source = None

    def _current_image(self) -> QImage | None:
        """A QImage wrapping the current frame's memory (made once per frame)."""
        frame = self._frame
        if frame is None:
            return None
        if self._image is None:
            started = time.perf_counter()
            height, width = frame.shape[:2]
            # QImage does not copy: self._image_source keeps the buffer alive.
            self._image_source = frame
            image_format = (
                QImage.Format.Format_RGB888 if frame.shape[2] == 3 else QImage.Format.Format_RGBX8888
            )
            self._image = QImage(frame.data, width, height, frame.strides[0], image_format)
            self.uploads += 1
            self.last_upload_ms = (time.perf_counter() - started) * 1000.0
        return self._image

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        started = time.perf_counter()
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), Qt.GlobalColor.black)
            image = self._current_image()
            if image is not None:
                painter.setRenderHint(
                    QPainter.RenderHint.SmoothPixmapTransform, self.effective_zoom() < 1.0
                )
                painter.drawImage(
                    self.image_rect(), image, QRectF(0.0, 0.0, image.width(), image.height())
                )
            self._paint_overlays(painter)
        finally:
            painter.end()
        self.last_paint_ms = (time.perf_counter() - started) * 1000.0
        self._frame_painted()
