"""What the frame viewers share: the frame, zoom, pan, safe areas, gestures.

:class:`~widgets.viewer.gl_viewer.GLViewer` and
:class:`~widgets.viewer.raster_viewer.RasterViewer` differ only in how they put
the frame on screen; everything else lives in :class:`FrameViewMixin` so the
two behave identically and the app can swap one for the other.

Coordinates used here:

* *logical*: Qt widget coordinates (what events and QPainter use);
* *device*: physical pixels of the widget, logical x ``devicePixelRatioF()``;
* *image*: pixels of the frame, (0, 0) is the top-left corner of the top-left
  pixel, so pixel (i, j) covers [i, i+1) x [j, j+1).

A zoom factor is device pixels per image pixel, so zoom 1.0 is 1:1 on the
physical screen. The drawn image rectangle is always snapped to whole device
pixels, which keeps zoom 1.0 (and every integer zoom) pixel exact.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QCursor, QFont, QPainter

MIN_ZOOM = 1.0 / 64.0
MAX_ZOOM = 64.0
WHEEL_ZOOM_STEP = 2.0 ** 0.25  # per wheel notch (120 units of angleDelta)
ACTION_SAFE = 0.90  # fraction of the frame inside the action-safe rectangle
TITLE_SAFE = 0.80  # fraction of the frame inside the title-safe rectangle

_ACTION_SAFE_COLOUR = QColor(255, 255, 255, 170)
_TITLE_SAFE_COLOUR = QColor(255, 200, 0, 170)


def as_rgb_frame(rgb: np.ndarray, *, allow_row_padding: bool) -> np.ndarray:
    """Check that ``rgb`` is an HxWx3 (RGB) or HxWx4 (RGBA/RGBX) uint8 frame.

    Returns it ready to upload: ``rgb`` itself (no copy) when its pixels are
    packed inside each row: C-contiguous, or, with ``allow_row_padding``, rows
    further apart than one row of pixels (a crop of a wider frame, a decoder's
    padded lines). Anything else is copied once. A fourth channel is not
    blended: viewers show the RGB of RGBA frames as they are.
    """
    if not isinstance(rgb, np.ndarray):
        raise TypeError(f"frame must be a numpy array, not {type(rgb).__name__}")
    if rgb.dtype != np.uint8:
        raise TypeError(f"frame must be uint8, not {rgb.dtype}")
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise ValueError(f"frame must be HxWx3 (RGB) or HxWx4 (RGBA), got shape {rgb.shape}")
    if rgb.shape[0] < 1 or rgb.shape[1] < 1:
        raise ValueError(f"frame is empty: shape {rgb.shape}")
    if rgb.flags.c_contiguous:
        return rgb
    channels = rgb.shape[2]
    row_stride, pixel_stride, channel_stride = rgb.strides
    if (
        allow_row_padding
        and channel_stride == 1
        and pixel_stride == channels
        and row_stride >= channels * rgb.shape[1]
        and row_stride % channels == 0
    ):
        return rgb
    return np.ascontiguousarray(rgb)


def row_length_pixels(frame: np.ndarray) -> int:
    """Distance between the starts of two rows, in pixels (GL_UNPACK_ROW_LENGTH)."""
    if frame.flags.c_contiguous:
        return frame.shape[1]
    return frame.strides[0] // frame.shape[2]


class FrameViewMixin:
    """Frame storage, zoom/pan state and mouse gestures for a viewer widget.

    Mix in before the Qt widget class. The widget class must declare the
    signals ``frameShown = Signal(int)`` and ``viewChanged = Signal()``, call
    :meth:`_init_frame_view` from ``__init__``, call :meth:`_frame_painted`
    at the end of each paint, and may override :meth:`_accept_frame` and
    :meth:`_frame_replaced`.
    """

    # ---- set-up ---------------------------------------------------------

    def _init_frame_view(self) -> None:
        self._frame: np.ndarray | None = None
        self._pending_number: int | None = None
        self._zoom: float | None = None  # None: fit
        self._center: tuple[float, float] | None = None  # image point at the widget centre
        self._safe_areas = False
        self._pan_last: QPointF | None = None
        #: number of texture/image uploads done by paints (not by set_frame)
        self.uploads = 0
        #: wall time of the last upload, milliseconds
        self.last_upload_ms = 0.0
        #: wall time of the last paint (upload included), milliseconds
        self.last_paint_ms = 0.0

    # ---- hooks for the concrete viewers --------------------------------

    def _accept_frame(self, rgb: np.ndarray) -> np.ndarray:
        return as_rgb_frame(rgb, allow_row_padding=False)

    def _frame_replaced(self) -> None:
        """Called after set_frame stored a new frame (or None)."""

    # ---- frame ----------------------------------------------------------

    def set_frame(self, rgb: np.ndarray | None, number: int | None = None) -> None:
        """Show ``rgb`` (HxWx3 uint8 RGB, or HxWx4 RGBA) from the next paint on.

        None clears the viewer (black). An RGBA frame's alpha is not blended.

        Call from the GUI thread. The viewer keeps a reference, not a copy: do
        not write into the array while it is shown (decoders hand out a fresh
        array per frame). When
        ``number`` is given, ``frameShown(number)`` is emitted once, after the
        first paint that shows this frame.
        """
        if rgb is None:
            self._frame = None
            self._pending_number = None
        else:
            self._frame = self._accept_frame(rgb)
            self._pending_number = None if number is None else int(number)
            if self._center is not None:
                self._center = self._clamped_center(*self._center)
        self._frame_replaced()
        self.update()

    def frame(self) -> np.ndarray | None:
        """The frame last given to :meth:`set_frame` (possibly a packed copy)."""
        return self._frame

    def frame_size(self) -> tuple[int, int] | None:
        """(width, height) of the current frame in pixels, or None."""
        if self._frame is None:
            return None
        return int(self._frame.shape[1]), int(self._frame.shape[0])

    # ---- zoom and pan ---------------------------------------------------

    def set_zoom(self, factor: float | None) -> None:
        """Device pixels per image pixel (1.0 = 1:1); None fits the frame.

        Fit keeps the aspect ratio, centres the frame and leaves black bars.
        A factor keeps the current centre; it is clamped to [1/64, 64].
        """
        if factor is None:
            self._zoom = None
            self._center = None
        else:
            value = float(factor)
            if not math.isfinite(value) or value <= 0.0:
                raise ValueError(f"zoom factor must be a positive number, got {factor!r}")
            self._zoom = min(max(value, MIN_ZOOM), MAX_ZOOM)
        self._view_changed()

    def zoom(self) -> float | None:
        """The factor given to :meth:`set_zoom`; None in fit mode."""
        return self._zoom

    def effective_zoom(self) -> float:
        """The factor in use now (the fit factor in fit mode)."""
        if self._zoom is not None:
            return self._zoom
        return self._fit_zoom()

    def is_fit(self) -> bool:
        return self._zoom is None

    def fit(self) -> None:
        """Fit the whole frame into the widget (zoom None) and reset the pan."""
        self.set_zoom(None)

    def center(self) -> QPointF:
        """The image point shown at the widget centre."""
        size = self.frame_size()
        if self._center is not None:
            return QPointF(*self._center)
        if size is None:
            return QPointF()
        return QPointF(size[0] / 2.0, size[1] / 2.0)

    def set_center(self, point: QPointF) -> None:
        """Pan so that image ``point`` is at the widget centre.

        In fit mode this switches to an explicit zoom at the fit factor.
        """
        if self.frame_size() is None:
            return
        if self._zoom is None:
            self._zoom = self._fit_zoom()
        self._center = self._clamped_center(point.x(), point.y())
        self._view_changed()

    def _fit_zoom(self) -> float:
        size = self.frame_size()
        width, height = self._device_size()
        if size is None or width <= 0 or height <= 0:
            return 1.0
        return max(min(width / size[0], height / size[1]), MIN_ZOOM)

    def _clamped_center(self, x: float, y: float) -> tuple[float, float]:
        size = self.frame_size()
        if size is None:
            return (x, y)
        return (min(max(x, 0.0), float(size[0])), min(max(y, 0.0), float(size[1])))

    def _view_changed(self) -> None:
        self.update()
        self.viewChanged.emit()

    # ---- geometry -------------------------------------------------------

    def _device_size(self) -> tuple[int, int]:
        ratio = self.devicePixelRatioF()
        return max(0, round(self.width() * ratio)), max(0, round(self.height() * ratio))

    def _device_image_rect(self) -> tuple[int, int, int, int] | None:
        """(x, y, width, height) of the drawn frame in device pixels, or None."""
        size = self.frame_size()
        if size is None:
            return None
        frame_w, frame_h = size
        view_w, view_h = self._device_size()
        factor = self.effective_zoom()
        draw_w = max(1, math.floor(frame_w * factor + 0.5))
        draw_h = max(1, math.floor(frame_h * factor + 0.5))
        if self._zoom is None:
            return ((view_w - draw_w) // 2, (view_h - draw_h) // 2, draw_w, draw_h)
        if self._center is None:
            centre_x, centre_y = frame_w / 2.0, frame_h / 2.0
        else:
            centre_x, centre_y = self._center
        left = math.floor(view_w / 2.0 - centre_x * draw_w / frame_w + 0.5)
        top = math.floor(view_h / 2.0 - centre_y * draw_h / frame_h + 0.5)
        return (left, top, draw_w, draw_h)

    def image_rect(self) -> QRectF:
        """Where the frame is drawn, in logical widget coordinates (empty if none)."""
        rect = self._device_image_rect()
        if rect is None:
            return QRectF()
        ratio = self.devicePixelRatioF()
        return QRectF(rect[0] / ratio, rect[1] / ratio, rect[2] / ratio, rect[3] / ratio)

    def map_to_image(self, pos: QPointF) -> QPointF:
        """Logical widget position -> image coordinates (may lie outside the frame)."""
        rect = self._device_image_rect()
        if rect is None:
            return QPointF()
        frame_w, frame_h = self.frame_size()
        ratio = self.devicePixelRatioF()
        return QPointF(
            (pos.x() * ratio - rect[0]) * frame_w / rect[2],
            (pos.y() * ratio - rect[1]) * frame_h / rect[3],
        )

    def map_from_image(self, point: QPointF) -> QPointF:
        """Image coordinates -> logical widget position."""
        rect = self._device_image_rect()
        if rect is None:
            return QPointF()
        frame_w, frame_h = self.frame_size()
        ratio = self.devicePixelRatioF()
        return QPointF(
            (rect[0] + point.x() * rect[2] / frame_w) / ratio,
            (rect[1] + point.y() * rect[3] / frame_h) / ratio,
        )

    # ---- gestures: wheel zoom, middle-drag pan -------------------------

    def wheelEvent(self, event) -> None:  # noqa: N802 (Qt override)
        steps = event.angleDelta().y() / 120.0
        if self._frame is None or steps == 0.0:
            event.ignore()
            return
        old = self.effective_zoom()
        new = min(max(old * WHEEL_ZOOM_STEP**steps, MIN_ZOOM), MAX_ZOOM)
        if (old < 1.0 < new) or (old > 1.0 > new):
            new = 1.0  # stepping across 100 % stops there
        self._zoom_about(new, event.position())
        event.accept()

    def _zoom_about(self, factor: float, pos: QPointF) -> None:
        """Zoom to ``factor`` keeping the image point under ``pos`` in place."""
        anchor = self.map_to_image(pos)
        ratio = self.devicePixelRatioF()
        view_w, view_h = self._device_size()
        self._zoom = factor
        self._center = self._clamped_center(
            anchor.x() - (pos.x() * ratio - view_w / 2.0) / factor,
            anchor.y() - (pos.y() * ratio - view_h / 2.0) / factor,
        )
        self._view_changed()

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.MiddleButton and self._frame is not None:
            self._pan_last = event.position()
            self.setCursor(QCursor(Qt.CursorShape.ClosedHandCursor))
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._pan_last is not None and self._frame is not None:
            delta = event.position() - self._pan_last
            self._pan_last = event.position()
            if self._zoom is None:  # panning leaves fit mode at the fit factor
                self._zoom = self._fit_zoom()
            if self._center is None:
                centre = self.center()
                self._center = (centre.x(), centre.y())
            ratio = self.devicePixelRatioF()
            factor = self.effective_zoom()
            self._center = self._clamped_center(
                self._center[0] - delta.x() * ratio / factor,
                self._center[1] - delta.y() * ratio / factor,
            )
            self._view_changed()
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.button() == Qt.MouseButton.MiddleButton and self._pan_last is not None:
            self._pan_last = None
            self.unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # ---- overlays -------------------------------------------------------

    def set_safe_areas(self, enabled: bool) -> None:
        """Show the action-safe (90 %) and title-safe (80 %) rectangles."""
        self._safe_areas = bool(enabled)
        self.update()

    def safe_areas(self) -> bool:
        return self._safe_areas

    def _paint_overlays(self, painter: QPainter) -> None:
        """Draw the QPainter overlays over the frame (also used by the GL viewer).

        Safe-area outlines are filled whole device pixels on the inside edge of
        each rectangle, so they land on the same pixels in both viewers.
        """
        rect = self._device_image_rect()
        if not self._safe_areas or rect is None:
            return
        left, top, width, height = rect
        ratio = self.devicePixelRatioF()
        thick = max(1, round(ratio))
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for fraction, colour in ((ACTION_SAFE, _ACTION_SAFE_COLOUR), (TITLE_SAFE, _TITLE_SAFE_COLOUR)):
            inset_x = math.floor(width * (1.0 - fraction) / 2.0 + 0.5)
            inset_y = math.floor(height * (1.0 - fraction) / 2.0 + 0.5)
            x0, y0 = left + inset_x, top + inset_y
            x1, y1 = left + width - inset_x, top + height - inset_y
            if x1 - x0 < 2 * thick or y1 - y0 < 2 * thick:
                continue
            for x, y, w, h in (
                (x0, y0, x1 - x0, thick),  # top
                (x0, y1 - thick, x1 - x0, thick),  # bottom
                (x0, y0 + thick, thick, y1 - y0 - 2 * thick),  # left
                (x1 - thick, y0 + thick, thick, y1 - y0 - 2 * thick),  # right
            ):
                painter.fillRect(QRectF(x / ratio, y / ratio, w / ratio, h / ratio), colour)
        painter.restore()

    def _paint_message(self, painter: QPainter, text: str) -> None:
        """Draw an error/status message centred in the widget."""
        painter.save()
        painter.setPen(QColor(230, 230, 230))
        font = QFont(painter.font())
        font.setPointSizeF(max(font.pointSizeF(), 10.0))
        painter.setFont(font)
        painter.drawText(
            QRectF(self.rect()).adjusted(12, 12, -12, -12),
            int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
            text,
        )
        painter.restore()

    def _frame_painted(self) -> None:
        """Emit frameShown for the frame just painted, once."""
        if self._frame is not None and self._pending_number is not None:
            number, self._pending_number = self._pending_number, None
            self.frameShown.emit(number)
