"""The part the stage view and the viewer overlay share: fixtures as arrays, drawn from a raster.

:class:`PlanWidget` keeps the rig as numpy arrays - per fixture: id, label,
position (metres), head count; per head: which fixture, its colour (uint8
RGB, what is drawn) and where its beam meets the floor - and paints them
through a :class:`~widgets.stage.raster.PlanRaster`: the static layer
(whatever :meth:`PlanWidget._paint_static` draws, then a ring per fixture
and its label) is rebuilt only when the layout changes; a new frame of
colours and beams is a few numpy scatters and one ``drawImage``, whatever
the number of fixtures (no Python loop per fixture or beam).

A subclass maps metres to its own coordinates (:meth:`PlanWidget.to_widget`).
Plan coordinates: x to the right, y up the screen (upstage), seen from above;
the audience is below y = 0.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QWidget

from widgets.stage.raster import CELL, DISC, PlanRaster

RING = QColor("#8d939c")
RING_SELECTED = QColor("#ffc634")
LABEL = QColor("#c9cdd3")


class PlanWidget(QWidget):
    #: the radius of a single-head fixture's disc, metres (clamped to MIN/MAX_RADIUS pixels)
    DISC_METRES = 0.25
    MIN_RADIUS, MAX_RADIUS = 4.0, 28.0
    MARK_ALPHA = 1.0  # opacity of the marks (the overlay draws them see-through)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.ids: list[str] = []
        self.labels: list[str] = []
        self.tooltips: list[str] = []
        self.positions = np.zeros((0, 3), np.float64)  # [F] metres
        self.heads = np.zeros(0, np.int64)  # [F]
        self.columns = np.zeros(0, np.int64)  # [F] head cells per row
        self.head_fixture = np.zeros(0, np.int64)  # [P] fixture of each head
        self.starts = np.zeros(0, np.int64)  # [F] first head of each fixture
        self.head_index = np.zeros(0, np.int64)  # [P] head number within its fixture
        self.colors = np.zeros((0, 3), np.uint8)  # [P] what is drawn (RGB)
        self.beams = np.full((0, 2), np.nan)  # [P] floor point of each beam (metres), NaN: none
        self.selected: set[str] = set()
        self.show_labels = True
        self._raster = PlanRaster()
        self._layout_dirty = True
        self._colors_dirty = True
        self._head_px = np.zeros((0, 2), np.float64)  # [P] logical centre of each head's mark
        self._fixture_px = np.zeros((0, 2), np.float64)  # [F]
        self._radius = self.MIN_RADIUS
        self._cell_half = 2
        self.paints = 0
        self.last_paint_ms = 0.0

    # ================================================================ model
    def set_fixtures(self, ids: list[str], labels: list[str], positions: np.ndarray, heads: np.ndarray | None = None,
                     columns: np.ndarray | None = None, tooltips: list[str] | None = None) -> None:
        """The rig: fixture ids, labels, positions [F, 3] metres, heads per fixture, head cells per row."""
        n = len(ids)
        self.ids, self.labels = list(ids), list(labels)
        self.tooltips = list(tooltips) if tooltips is not None else list(labels)
        self.positions = np.asarray(positions, dtype=np.float64).reshape(n, 3).copy()
        self.heads = np.ones(n, np.int64) if heads is None else np.maximum(1, np.asarray(heads, np.int64).reshape(n))
        cols = self.heads if columns is None else np.asarray(columns, np.int64).reshape(n)
        self.columns = np.clip(cols, 1, self.heads)
        self.head_fixture = np.repeat(np.arange(n), self.heads)
        self.starts = np.concatenate(([0], np.cumsum(self.heads)[:-1])).astype(np.int64) if n else np.zeros(0, np.int64)
        self.head_index = np.arange(len(self.head_fixture)) - np.repeat(self.starts, self.heads)
        self.colors = np.zeros((len(self.head_fixture), 3), np.uint8)
        self.beams = np.full((len(self.head_fixture), 2), np.nan)
        self.selected &= set(self.ids)
        self.relayout()

    @property
    def head_count(self) -> int:
        return len(self.head_fixture)

    def set_look(self, light: np.ndarray | None, beams: np.ndarray | None = None) -> None:
        """A frame: ``light`` [P, 3] linear RGB 0..1 per head (None: dark), ``beams`` [P, 2] floor points or NaN."""
        p = self.head_count
        if light is None:
            self.colors = np.zeros((p, 3), np.uint8)
        else:
            light = np.asarray(light, dtype=np.float32).reshape(p, 3)
            self.colors = np.floor(np.clip(light, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        self.beams = np.full((p, 2), np.nan) if beams is None else np.asarray(beams, np.float64).reshape(p, 2)
        self._colors_dirty = True
        self.update()

    def set_selected(self, ids) -> None:
        ids = set(ids) & set(self.ids)
        if ids != self.selected:
            self.selected = ids
            self.relayout()

    def relayout(self) -> None:
        """The positions, zoom, size or selection changed: rebuild the static layer at the next paint."""
        self._layout_dirty = True
        self.update()

    # ================================================================ geometry
    def to_widget(self, xy: np.ndarray) -> np.ndarray:
        """[N, 2] metres -> [N, 2] logical widget coordinates (subclasses override)."""
        raise NotImplementedError

    def pixels_per_metre(self) -> float:
        raise NotImplementedError

    def head_centres(self) -> np.ndarray:
        """[P, 2] logical coordinates of the centre pixel of each head's mark (as last laid out)."""
        self._ensure_layout()
        dpr = self._raster.dpr
        return (self._raster.centres.astype(np.float64) + 0.5) / dpr

    def fixture_centre(self, fixture_id: str) -> QPointF:
        self._ensure_layout()
        x, y = self._fixture_px[self.ids.index(fixture_id)]
        return QPointF(float(x), float(y))

    def _compute_layout(self) -> None:
        n = len(self.ids)
        ppm = self.pixels_per_metre()
        self._radius = float(np.clip(self.DISC_METRES * ppm, self.MIN_RADIUS, self.MAX_RADIUS))
        self._cell_half = int(max(1, min(6, round(self._radius / 3))))
        self._fixture_px = self.to_widget(self.positions[:, :2]) if n else np.zeros((0, 2))
        pitch = 2 * self._cell_half + 2
        col = self.head_index % np.maximum(1, self.columns[self.head_fixture]) if n else self.head_index
        row = self.head_index // np.maximum(1, self.columns[self.head_fixture]) if n else self.head_index
        cols_f = self.columns.astype(np.float64)
        rows_f = np.ceil(self.heads / np.maximum(1, self.columns)).astype(np.float64)
        off = np.zeros((len(self.head_fixture), 2))
        if n:
            off[:, 0] = (col - (cols_f[self.head_fixture] - 1) / 2.0) * pitch
            off[:, 1] = (row - (rows_f[self.head_fixture] - 1) / 2.0) * pitch
        self._head_px = (self._fixture_px[self.head_fixture] if n else np.zeros((0, 2))) + off

    def _ensure_layout(self) -> None:
        if not self._layout_dirty:
            return
        self._compute_layout()
        kinds = np.where(self.heads[self.head_fixture] > 1, CELL, DISC) if self.head_count else np.zeros(0, np.int64)
        self._raster.layout(max(1, self.width()), max(1, self.height()), self.devicePixelRatioF() or 1.0,
                            self._head_px, kinds, self._radius, self._cell_half, self._paint_static_all)
        self._layout_dirty = False
        self._colors_dirty = True

    def fixture_at(self, pos: QPointF) -> int | None:
        """Index of the topmost fixture whose mark is under ``pos`` (logical), or None."""
        self._ensure_layout()
        if not self.ids:
            return None
        p = np.array([pos.x(), pos.y()])
        d = np.hypot(*(self._head_px - p).T)
        reach = np.where(self.heads[self.head_fixture] > 1, self._cell_half * 1.5 + 2, self._radius + 3)
        hits = np.flatnonzero(d <= reach)
        return int(self.head_fixture[hits[-1]]) if len(hits) else None

    # ================================================================ painting
    def _paint_static(self, painter: QPainter) -> None:
        """What lies under the fixtures (background, grid...); subclasses override."""

    def _paint_static_all(self, painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_static(painter)
        self._paint_rings(painter)

    def _paint_rings(self, painter: QPainter) -> None:
        if not self.ids:
            return
        dpr = self.devicePixelRatioF() or 1.0
        centres = (np.floor(self._head_px * dpr) + 0.5) / dpr
        r = self._radius
        painter.setBrush(Qt.BrushStyle.NoBrush)
        normal, chosen = QPen(RING, 1.4), QPen(RING_SELECTED, 2.2)
        for i, fid in enumerate(self.ids):
            s, k = int(self.starts[i]), int(self.heads[i])
            painter.setPen(chosen if fid in self.selected else normal)
            if k == 1:
                c = centres[s]
                painter.drawEllipse(QPointF(c[0], c[1]), r + 0.9, r + 0.9)
            else:
                lo, hi = centres[s : s + k].min(axis=0), centres[s : s + k].max(axis=0)
                m = self._cell_half + 1.2
                painter.drawRect(QRectF(lo[0] - m, lo[1] - m, hi[0] - lo[0] + 2 * m, hi[1] - lo[1] + 2 * m))
        if self.show_labels and r >= 6 and len(self.ids) <= 400:
            font = QFont(self.font())
            font.setPointSizeF(max(6.5, min(9.0, r * 0.6)))
            painter.setFont(font)
            painter.setPen(LABEL)
            for i, label in enumerate(self.labels):
                s, k = int(self.starts[i]), int(self.heads[i])
                bottom = centres[s : s + k, 1].max() + (r if k == 1 else self._cell_half) + 3
                x = self._fixture_px[i, 0]
                painter.drawText(QRectF(x - 60, bottom, 120, 16), Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                                 label)

    def _beam_segments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """(start, end, colours) of the visible beams, logical coordinates: from the rim of the disc
        to the floor point, for lit heads whose beam reaches past their own mark."""
        ok = np.isfinite(self.beams).all(axis=1) & (self.colors.max(axis=1) > 4)
        if not ok.any():
            return None
        heads = np.flatnonzero(ok)
        start = self._head_px[heads]
        end = self.to_widget(self.beams[heads])
        vec = end - start
        length = np.hypot(vec[:, 0], vec[:, 1])
        keep = length > self._radius + 2
        if not keep.any():
            return None
        heads, start, end, vec, length = (x[keep] for x in (heads, start, end, vec, length))
        start = start + vec / length[:, None] * (self._radius + 1.5)
        return start, end, self.colors[heads]

    def _paint_plan(self, painter: QPainter) -> None:
        """Draw the fixtures (raster) and the beams; call from paintEvent."""
        self._ensure_layout()
        if self._colors_dirty:
            image = self._raster.render(self.colors, self.MARK_ALPHA, self._beam_segments())
        else:
            image = self._raster.image()
        self._colors_dirty = False
        if image is not None:
            painter.drawImage(0, 0, image)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._layout_dirty = True
        super().resizeEvent(event)

    def pixel_at(self, pos: QPointF) -> tuple[int, int, int]:
        """RGB of the raster (fixtures on the static layer) at logical ``pos``, as last rendered."""
        dpr = self._raster.dpr
        r, g, b, _ = self._raster.pixel(int(pos.x() * dpr), int(pos.y() * dpr))
        return r, g, b
