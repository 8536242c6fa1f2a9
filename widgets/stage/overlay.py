"""The stage plan drawn see-through over the video viewer ("Overlay on Viewer").

:class:`StageOverlay` is a transparent child of a frame viewer
(:class:`~widgets.viewer.GLViewer` or :class:`~widgets.viewer.RasterViewer`)
that follows its size and zoom: the rig's plan, fitted into the picture (or
the whole viewer while no frame is shown), over a faint dark panel, with the
fixtures in their live colours and the moving heads' beams. It lets every
mouse event through to the viewer, so the viewer's tools keep working.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

from widgets.stage.plan import PlanWidget

PANEL = QColor(10, 12, 16, 110)
PANEL_EDGE = QColor(200, 205, 215, 90)


class StageOverlay(PlanWidget):
    DISC_METRES = 0.22
    MIN_RADIUS, MAX_RADIUS = 3.5, 16.0
    MARK_ALPHA = 0.85
    MARGIN_METRES = 0.8

    def __init__(self, viewer: QWidget):
        super().__init__(viewer)
        self._viewer = viewer
        self.setObjectName("stage-overlay")
        self.show_labels = False
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setGeometry(viewer.rect())
        viewer.installEventFilter(self)
        viewer.viewChanged.connect(self.relayout)
        self._scale = 1.0
        self._origin = (0.0, 0.0)  # widget point of plan (lo x, hi y)
        self._lo = np.zeros(2)
        self._hi = np.zeros(2)
        self._target = QRectF()  # the target rect of the last layout

    # ------------------------------------------------------------ geometry
    def target_rect(self) -> QRectF:
        """Where the plan goes: the picture, or the whole viewer while it shows none."""
        rect = self._viewer.image_rect() if self._viewer.frame_size() is not None else QRectF()
        if rect.isEmpty():
            rect = QRectF(self.rect())
        return rect.adjusted(8, 8, -8, -8)

    def _fit(self) -> None:
        if len(self.ids):
            lo, hi = self.positions[:, :2].min(axis=0), self.positions[:, :2].max(axis=0)
        else:
            lo, hi = np.array([-6.0, 0.0]), np.array([6.0, 8.0])
        lo, hi = lo - self.MARGIN_METRES, hi + self.MARGIN_METRES
        rect = self.target_rect()
        self._target = rect
        span = np.maximum(hi - lo, 1.0)
        self._scale = max(1e-3, min(rect.width() / span[0], rect.height() / span[1]))
        mid = (lo + hi) / 2.0
        self._origin = (rect.center().x() - mid[0] * self._scale, rect.center().y() + mid[1] * self._scale)
        self._lo, self._hi = lo, hi

    def pixels_per_metre(self) -> float:
        return self._scale

    def to_widget(self, xy: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        return np.stack([self._origin[0] + xy[:, 0] * self._scale, self._origin[1] - xy[:, 1] * self._scale], axis=1)

    def _compute_layout(self) -> None:
        self._fit()
        super()._compute_layout()

    # ------------------------------------------------------------ painting
    def _paint_static(self, painter: QPainter) -> None:
        a = self.to_widget(np.array([[self._lo[0], self._hi[1]], [self._hi[0], self._lo[1]]]))
        panel = QRectF(a[0, 0], a[0, 1], a[1, 0] - a[0, 0], a[1, 1] - a[0, 1])
        painter.setPen(QPen(PANEL_EDGE, 1))
        painter.setBrush(PANEL)
        painter.drawRoundedRect(panel, 6, 6)
        front = self.to_widget(np.array([[self._lo[0], 0.0], [self._hi[0], 0.0]]))
        if self._lo[1] <= 0.0 <= self._hi[1]:
            painter.setPen(QPen(PANEL_EDGE, 1, Qt.PenStyle.DashLine))
            painter.drawLine(*(float(v) for v in front[0]), *(float(v) for v in front[1]))

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self.target_rect() != self._target:  # a first frame, a frame of another size
            self._layout_dirty = True
        painter = QPainter(self)
        try:
            self._paint_plan(painter)
        finally:
            painter.end()
        self.paints += 1

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self._viewer and event.type() == QEvent.Type.Resize:
            self.setGeometry(self._viewer.rect())
            self.relayout()
        return False

    def detach(self) -> None:
        """Stop following the viewer (before the overlay is deleted)."""
        self._viewer.removeEventFilter(self)
        try:
            self._viewer.viewChanged.disconnect(self.relayout)
        except (TypeError, ValueError, RuntimeError):
            pass
