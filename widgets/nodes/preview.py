"""Live preview of one node's output over a time range.

The application computes the values and hands over a :class:`Preview`:

* ``series``: curves over time (one per label), drawn as a plot (pyqtgraph
  when it is installed, otherwise a small QPainter plot with the same data);
* ``colors``: one swatch strip per label, time left to right, RGB 0..1;
* ``text``: a message (a selection's members, why there is nothing to show).

:meth:`NodePreview.plotted_series` and :meth:`NodePreview.strip_image` give back
what is on screen, for tests and tools.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPen, QPolygonF, QTransform
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

try:  # optional: the plot uses pyqtgraph when it is installed
    import pyqtgraph as pg
except ImportError:  # pragma: no cover - depends on the environment
    pg = None

CURVE_COLORS = ("#4cc9f0", "#f72585", "#b5e48c", "#ffb000", "#9d4edd", "#06d6a0", "#ef476f", "#e9c46a",
                "#4895ef", "#f4a261", "#80ed99", "#ff85a1")
PLOT_BG = QColor("#1d1e21")
AXIS = QColor("#6b6e76")
LABEL = QColor("#c8cad0")


@dataclass
class Preview:
    kind: str  # "series" | "colors" | "text"
    title: str = ""
    t: np.ndarray = field(default_factory=lambda: np.zeros(0))
    items: list = field(default_factory=list)  # [(label, values)]: [T] for series, [T, 3] for colors
    text: str = ""


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = span / max(count, 1)
    mag = 10 ** np.floor(np.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = np.ceil(lo / step) * step
    return [float(round(v / step) * step) + 0.0 for v in np.arange(first, hi + step * 1e-6, step)]


class SeriesPlot(QWidget):
    """Curves over time drawn with QPainter (used when pyqtgraph is missing)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setMinimumHeight(120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.t = np.zeros(0)
        self.curves: list[tuple[str, np.ndarray]] = []
        self._polys: list[QPolygonF] = []
        self._x = (0.0, 1.0)
        self._y = (0.0, 1.0)

    def set_data(self, t: np.ndarray, curves: list[tuple[str, np.ndarray]]) -> None:
        self.t = np.asarray(t, dtype=np.float64)
        self.curves = [(label, np.asarray(y, dtype=np.float64)) for label, y in curves]
        self._polys = [QPolygonF([QPointF(float(a), float(b)) for a, b in zip(self.t, y)]) for _, y in self.curves]
        if len(self.t):
            self._x = (float(self.t[0]), float(self.t[-1]) if self.t[-1] > self.t[0] else float(self.t[0]) + 1.0)
        ys = np.concatenate([y for _, y in self.curves]) if self.curves else np.zeros(0)
        ys = ys[np.isfinite(ys)]
        lo, hi = (float(ys.min()), float(ys.max())) if ys.size else (0.0, 1.0)
        if lo >= 0.0 and hi <= 1.0:
            lo, hi = 0.0, 1.0
        elif hi - lo < 1e-9:
            lo, hi = lo - 0.5, hi + 0.5
        pad = (hi - lo) * 0.05
        self._y = (lo - pad, hi + pad)
        self.update()

    def plot_rect(self) -> QRectF:
        fm = QFontMetricsF(self.font())
        left = fm.horizontalAdvance("-0.00") + 10
        return QRectF(left, 8, max(self.width() - left - 10, 10), max(self.height() - fm.height() - 18, 10))

    def data_transform(self) -> QTransform:
        """Data (seconds, value) -> widget pixels."""
        r = self.plot_rect()
        (x0, x1), (y0, y1) = self._x, self._y
        sx, sy = r.width() / (x1 - x0), -r.height() / (y1 - y0)
        return QTransform(sx, 0, 0, sy, r.left() - x0 * sx, r.bottom() - y0 * sy)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), PLOT_BG)
        r = self.plot_rect()
        tr = self.data_transform()
        fm = QFontMetricsF(self.font())
        p.setPen(QPen(AXIS, 1))
        p.drawRect(r)
        for v in _nice_ticks(*self._y, 4):
            y = tr.map(QPointF(self._x[0], v)).y()
            p.setPen(QPen(QColor("#2e3035"), 1))
            p.drawLine(QPointF(r.left(), y), QPointF(r.right(), y))
            p.setPen(LABEL)
            p.drawText(QRectF(0, y - fm.height() / 2, r.left() - 4, fm.height()),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, f"{v + 0.0:g}")
        for v in _nice_ticks(*self._x, 6):
            x = tr.map(QPointF(v, self._y[0])).x()
            p.setPen(LABEL)
            p.drawText(QRectF(x - 30, r.bottom() + 2, 60, fm.height()), Qt.AlignmentFlag.AlignHCenter, f"{v:g}s")
        p.save()
        p.setClipRect(r)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setTransform(tr)
        for i, poly in enumerate(self._polys):
            pen = QPen(QColor(CURVE_COLORS[i % len(CURVE_COLORS)]), 1.6)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.drawPolyline(poly)
        p.restore()
        if 1 < len(self.curves) <= 8:
            y = r.top() + 4
            for i, (label, _) in enumerate(self.curves):
                p.setPen(QColor(CURVE_COLORS[i % len(CURVE_COLORS)]))
                w = fm.horizontalAdvance(label)
                p.drawText(QPointF(r.right() - w - 6, y + fm.ascent()), label)
                y += fm.height()
        p.end()


class _PgSeriesPlot(QWidget):
    """Curves over time in a pyqtgraph PlotWidget (pan and zoom with the mouse)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget(background=PLOT_BG)
        self.plot.setLabel("bottom", "time", units="s")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.legend = self.plot.addLegend(offset=(-6, 6))
        lay.addWidget(self.plot)
        self.setMinimumHeight(120)

    def set_data(self, t: np.ndarray, curves: list[tuple[str, np.ndarray]]) -> None:
        self.plot.clear()
        self.legend.clear()
        for i, (label, y) in enumerate(curves):
            pen = pg.mkPen(CURVE_COLORS[i % len(CURVE_COLORS)], width=1.6)
            self.plot.plot(np.asarray(t, dtype=np.float64), np.asarray(y, dtype=np.float64), pen=pen,
                           name=label if 1 < len(curves) <= 8 else None)

    def data_items(self) -> list:
        return self.plot.getPlotItem().listDataItems()


class ColorStrips(QWidget):
    """One strip per row, time left to right; the labels in a column at the left."""

    ROW = 18

    def __init__(self, parent=None):
        super().__init__(parent)
        self.labels: list[str] = []
        self.image = QImage()
        self.setMinimumHeight(40)

    def set_data(self, rows: list[tuple[str, np.ndarray]]) -> None:
        self.labels = [label for label, _ in rows]
        if rows:
            rgb = np.stack([np.asarray(v, dtype=np.float64) for _, v in rows])  # [R, T, 3]
            data = np.ascontiguousarray(np.rint(np.clip(rgb, 0.0, 1.0) * 255.0).astype(np.uint8))
            h, w = data.shape[:2]
            self.image = QImage(data.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        else:
            self.image = QImage()
        self.setMinimumHeight(max(40, len(rows) * self.ROW + 8))
        self.update()

    def strip_rect(self) -> QRectF:
        fm = QFontMetricsF(self.font())
        left = max((fm.horizontalAdvance(s) for s in self.labels), default=0) + 10
        return QRectF(left, 4, max(self.width() - left - 6, 4), len(self.labels) * self.ROW)

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), PLOT_BG)
        if self.image.isNull():
            p.end()
            return
        r = self.strip_rect()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        p.drawImage(r, self.image)
        p.setPen(LABEL)
        for i, label in enumerate(self.labels):
            p.drawText(QRectF(0, r.top() + i * self.ROW, r.left() - 6, self.ROW),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
        p.setPen(QPen(AXIS, 1))
        for i in range(1, len(self.labels)):
            y = r.top() + i * self.ROW
            p.drawLine(QPointF(r.left(), y), QPointF(r.right(), y))
        p.end()


class NodePreview(QWidget):
    def __init__(self, parent=None, use_pyqtgraph: bool | None = None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        self.title = QLabel()
        self.title.setWordWrap(True)
        lay.addWidget(self.title)
        self.stack = QStackedWidget()
        lay.addWidget(self.stack, 1)
        self.uses_pyqtgraph = pg is not None if use_pyqtgraph is None else bool(use_pyqtgraph and pg is not None)
        self.plot = _PgSeriesPlot() if self.uses_pyqtgraph else SeriesPlot()
        self.strips = ColorStrips()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        for w in (self.plot, self.strips, self.message):
            self.stack.addWidget(w)
        self.current: Preview | None = None
        self.show_preview(Preview("text", text="Select a node to preview its output."))

    def show_preview(self, preview: Preview) -> None:
        self.current = preview
        self.title.setText(preview.title)
        self.title.setVisible(bool(preview.title))
        if preview.kind == "series":
            self.plot.set_data(preview.t, preview.items)
            self.stack.setCurrentWidget(self.plot)
        elif preview.kind == "colors":
            self.strips.set_data(preview.items)
            self.stack.setCurrentWidget(self.strips)
        else:
            self.message.setText(preview.text)
            self.stack.setCurrentWidget(self.message)

    def plotted_series(self) -> list[tuple[str, np.ndarray, np.ndarray]]:
        """(label, x, y) of every curve the plot shows (empty unless a series is shown)."""
        if self.stack.currentWidget() is not self.plot:
            return []
        if self.uses_pyqtgraph:
            labels = [label for label, _ in (self.current.items if self.current else [])]
            out = []
            for label, item in zip(labels, self.plot.data_items()):
                x, y = item.getData()
                out.append((label, np.asarray(x), np.asarray(y)))
            return out
        return [(label, self.plot.t, y) for label, y in self.plot.curves]

    def strip_image(self) -> np.ndarray:
        """The swatch strips as drawn, uint8 [rows, T, 3] (empty unless colours are shown)."""
        img = self.strips.image
        if self.stack.currentWidget() is not self.strips or img.isNull():
            return np.zeros((0, 0, 3), dtype=np.uint8)
        img = img.convertToFormat(QImage.Format.Format_RGB888)
        w, h = img.width(), img.height()
        buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=img.bytesPerLine() * h)
        return buf.reshape(h, img.bytesPerLine())[:, : 3 * w].reshape(h, w, 3).copy()
