"""DMX monitor: the 512 values of one universe as a 32 x 16 grid of cells.

Each cell shows the slot's value as a number and as a level bar rising from
the bottom of the cell (the cell's tint also brightens with the value). A
combo box picks the universe. Hovering a cell shows its channel number,
value and, when the app gave one through :meth:`DmxMonitor.set_labels`, the
fixture channel patched there ("Front par 2 Green").

Painting is one image: the look of a cell depends only on its value, so the
256 possible cells are drawn once per cell size into an atlas (uint32
[256, h, w]); a repaint gathers ``atlas[values]`` with numpy into the grid
picture and draws it with a single ``drawImage``. No child widget per cell,
no per-cell Python drawing call (see tests/benchmarks/bench_dmx_monitor.py).

The widget only displays: it emits no signals.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSizePolicy, QToolTip, QVBoxLayout, QWidget

SLOTS = 512
COLUMNS = 32
ROWS = SLOTS // COLUMNS  # 16

BACKGROUND = QColor("#141414")
CELL = np.array([0x1f, 0x1f, 0x22], dtype=np.float64)
ACCENT = np.array([0x2f, 0x7d, 0xe1], dtype=np.float64)  # the level bar at full
LINE = QColor("#303036")
TEXT = QColor("#f0f0f0")
TEXT_ZERO = QColor("#6a6a70")
GUTTER_TEXT = QColor("#8a8a90")
HOVER = QColor("#ffd040")


def _rgb(values: np.ndarray) -> QColor:
    r, g, b = (int(round(float(v))) for v in values)
    return QColor(r, g, b)


class _Grid(QWidget):
    """The painted grid of one universe (a child of :class:`DmxMonitor`)."""

    def __init__(self, monitor: "DmxMonitor"):
        super().__init__(monitor)
        self._monitor = monitor
        self.values = np.zeros(SLOTS, dtype=np.uint8)
        self.hover: int | None = None  # 0-based slot under the mouse
        self.empty_text = "No DMX universes"
        self.show_values = True
        self._atlas: np.ndarray | None = None  # uint32 [256, ch, cw], device pixels
        self._atlas_key: tuple | None = None
        self._gutter: QPixmap | None = None
        self._image_buf: np.ndarray | None = None  # keeps the pixels alive while drawn
        self.paints = 0
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(QSize(COLUMNS * 12 + 30, ROWS * 10))

    def sizeHint(self) -> QSize:
        return QSize(COLUMNS * 26 + 34, ROWS * 22)

    # ------------------------------------------------------------ geometry
    def _metrics(self) -> tuple[int, int, int, float]:
        """(gutter width, cell width, cell height) in logical pixels, and the device pixel ratio."""
        dpr = self.devicePixelRatioF() or 1.0
        gutter = max(22, min(34, self.width() // 24))
        cw = max(1, (self.width() - gutter) // COLUMNS)
        ch = max(1, self.height() // ROWS)
        return gutter, cw, ch, dpr

    def cell_rect(self, slot: int) -> QRect:
        """The rectangle (this widget's coordinates) of 0-based ``slot``."""
        gutter, cw, ch, _ = self._metrics()
        row, col = divmod(int(slot), COLUMNS)
        return QRect(gutter + col * cw, row * ch, cw, ch)

    def slot_at(self, pos: QPoint) -> int | None:
        gutter, cw, ch, _ = self._metrics()
        x, y = pos.x() - gutter, pos.y()
        if x < 0 or y < 0:
            return None
        col, row = x // cw, y // ch
        if col >= COLUMNS or row >= ROWS:
            return None
        return int(row * COLUMNS + col)

    # ------------------------------------------------------------ the atlas
    def _ensure_atlas(self) -> np.ndarray:
        gutter, cw, ch, dpr = self._metrics()
        dcw, dch = max(1, int(round(cw * dpr))), max(1, int(round(ch * dpr)))
        key = (dcw, dch, dpr, self.show_values)
        if self._atlas is not None and self._atlas_key == key:
            return self._atlas
        img = QImage(dcw, dch * 256, QImage.Format.Format_RGB32)
        img.fill(LINE)
        p = QPainter(img)
        font = QFont(self.font())
        px = int(min(dch * 0.5, dcw / 1.85))
        draw_text = self.show_values and px >= 6
        if draw_text:
            font.setPixelSize(px)
            p.setFont(font)
        inner_w, inner_h = dcw - 1, dch - 1  # one device pixel of grid line right and bottom
        for v in range(256):
            top = v * dch
            level = v / 255.0
            p.fillRect(0, top, inner_w, inner_h, _rgb(CELL + (ACCENT - CELL) * 0.25 * level))
            bar = int(round(inner_h * level))
            if bar:
                p.fillRect(0, top + inner_h - bar, inner_w, bar, _rgb(CELL + (ACCENT - CELL) * (0.55 + 0.45 * level)))
            if draw_text:
                p.setPen(TEXT if v else TEXT_ZERO)
                p.drawText(QRect(0, top, inner_w, inner_h), Qt.AlignmentFlag.AlignCenter, str(v))
        p.end()
        ptr = img.constBits()
        atlas = np.frombuffer(ptr, dtype=np.uint32, count=dcw * dch * 256).reshape(256, dch, img.bytesPerLine() // 4)
        self._atlas = np.array(atlas[:, :, :dcw], copy=True)  # the QImage memory goes with img
        self._atlas_key = key
        self._gutter = None
        return self._atlas

    def _ensure_gutter(self) -> QPixmap:
        gutter, cw, ch, dpr = self._metrics()
        if self._gutter is not None and self._gutter.height() == int(round(ch * ROWS * dpr)):
            return self._gutter
        pm = QPixmap(int(round(gutter * dpr)), int(round(ch * ROWS * dpr)))
        pm.setDevicePixelRatio(dpr)
        pm.fill(BACKGROUND)
        p = QPainter(pm)
        font = QFont(self.font())
        font.setPixelSize(max(6, min(11, int(ch * 0.45))))
        p.setFont(font)
        p.setPen(GUTTER_TEXT)
        for r in range(ROWS):
            p.drawText(QRect(0, r * ch, gutter - 3, ch), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       str(r * COLUMNS + 1))
        p.end()
        self._gutter = pm
        return pm

    def grid_image(self) -> QImage:
        """The 32 x 16 cells for the current values as one image (device pixels)."""
        atlas = self._ensure_atlas()
        dch, dcw = atlas.shape[1], atlas.shape[2]
        cells = atlas[self.values.reshape(ROWS, COLUMNS)]  # [16, 32, ch, cw]
        buf = np.ascontiguousarray(cells.transpose(0, 2, 1, 3)).reshape(ROWS * dch, COLUMNS * dcw)
        self._image_buf = buf
        img = QImage(buf.data, COLUMNS * dcw, ROWS * dch, COLUMNS * dcw * 4, QImage.Format.Format_RGB32)
        img.setDevicePixelRatio(self._metrics()[3])
        return img

    # ------------------------------------------------------------ painting
    def paintEvent(self, event) -> None:
        self.paints += 1
        p = QPainter(self)
        p.fillRect(self.rect(), BACKGROUND)
        if not self._monitor.universes():
            p.setPen(GUTTER_TEXT)
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.empty_text)
            p.end()
            return
        gutter, cw, ch, _ = self._metrics()
        p.drawPixmap(0, 0, self._ensure_gutter())
        p.drawImage(QPoint(gutter, 0), self.grid_image())
        if self.hover is not None:
            p.setPen(QPen(HOVER, 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(self.cell_rect(self.hover).adjusted(0, 0, -2, -2))
        p.end()

    def resizeEvent(self, event) -> None:
        self._atlas = None
        self._gutter = None
        super().resizeEvent(event)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._atlas = None
            self._gutter = None
        super().changeEvent(event)

    # ------------------------------------------------------------ hover
    def _set_hover(self, slot: int | None) -> None:
        if slot == self.hover:
            return
        for s in (self.hover, slot):
            if s is not None:
                self.update(self.cell_rect(s).adjusted(-1, -1, 1, 1))
        self.hover = slot

    def mouseMoveEvent(self, event) -> None:
        self._set_hover(self.slot_at(event.position().toPoint()))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event) -> None:
        self._set_hover(None)
        super().leaveEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            slot = self.slot_at(event.pos())
            text = self._monitor.tooltip_text(slot + 1) if slot is not None else ""
            if text:
                QToolTip.showText(event.globalPos(), text, self, self.cell_rect(slot))
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)


class DmxMonitor(QWidget):
    """Live view of the DMX values of one universe at a time."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._universes: list[int] = []
        self._frames = np.zeros((0, SLOTS), dtype=np.uint8)
        self._labels: dict[int, dict[int, str]] = {}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.setSpacing(2)
        head = QHBoxLayout()
        head.setContentsMargins(2, 0, 2, 0)
        head.addWidget(QLabel("Universe"))
        self.universe_combo = QComboBox()
        self.universe_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        head.addWidget(self.universe_combo)
        head.addStretch(1)
        self.summary = QLabel("")
        head.addWidget(self.summary)
        lay.addLayout(head)
        self.grid = _Grid(self)
        lay.addWidget(self.grid, 1)
        self.universe_combo.currentIndexChanged.connect(self._universe_picked)

    # ------------------------------------------------------------ data in
    def set_frames(self, universes: list[int], frames: np.ndarray) -> None:
        """Show ``frames`` (uint8 [len(universes), 512]; row i is ``universes[i]``)."""
        universes = [int(u) for u in universes]
        frames = np.asarray(frames)
        if frames.size == 0:
            frames = np.zeros((len(universes), SLOTS), dtype=np.uint8)
        if frames.ndim != 2 or frames.shape[0] != len(universes) or frames.shape[1] > SLOTS:
            raise ValueError(f"frames must be [{len(universes)}, 512], got {list(frames.shape)}")
        if frames.dtype != np.uint8:
            frames = np.clip(frames, 0, 255).astype(np.uint8)
        if frames.shape[1] < SLOTS:
            frames = np.pad(frames, ((0, 0), (0, SLOTS - frames.shape[1])))
        changed = universes != self._universes
        if changed:
            current = self.current_universe()
            self._universes = universes
            self._fill_combo(current)
        self._frames = frames
        self._show_current(force=changed)

    def set_labels(self, universe: int, labels: dict[int, str]) -> None:
        """Names for the hover text of ``universe``: {address (1-based): "Par 1 Red"}."""
        self._labels[int(universe)] = {int(a): str(t) for a, t in labels.items()}

    def clear_labels(self) -> None:
        self._labels.clear()

    def set_universe(self, universe: int) -> None:
        if int(universe) in self._universes:
            self.universe_combo.setCurrentIndex(self._universes.index(int(universe)))

    # ------------------------------------------------------------ reading
    def universes(self) -> list[int]:
        return list(self._universes)

    def current_universe(self) -> int | None:
        i = self.universe_combo.currentIndex()
        return self._universes[i] if 0 <= i < len(self._universes) else None

    def values(self) -> np.ndarray:
        """The 512 values shown now (a copy)."""
        return self.grid.values.copy()

    def label(self, channel: int, universe: int | None = None) -> str:
        u = self.current_universe() if universe is None else universe
        return self._labels.get(u, {}).get(int(channel), "") if u is not None else ""

    def tooltip_text(self, channel: int) -> str:
        """What hovering 1-based ``channel`` of the shown universe says."""
        u = self.current_universe()
        if u is None or not 1 <= channel <= SLOTS:
            return ""
        v = int(self.grid.values[channel - 1])
        text = f"Universe {u}, channel {channel}: {v} ({round(v * 100 / 255)}%)"
        name = self.label(channel, u)
        return f"{text}\n{name}" if name else text

    def cell_rect(self, channel: int) -> QRect:
        """Where 1-based ``channel`` is drawn, in this widget's coordinates."""
        r = self.grid.cell_rect(channel - 1)
        return r.translated(self.grid.pos())

    # ------------------------------------------------------------ internal
    def _fill_combo(self, current: int | None) -> None:
        self.universe_combo.blockSignals(True)
        self.universe_combo.clear()
        for u in self._universes:
            self.universe_combo.addItem(f"{u}", u)
        if current in self._universes:
            self.universe_combo.setCurrentIndex(self._universes.index(current))
        elif self._universes:
            self.universe_combo.setCurrentIndex(0)
        self.universe_combo.blockSignals(False)
        self.universe_combo.setEnabled(len(self._universes) > 1)

    def _universe_picked(self, _index: int) -> None:
        self._show_current(force=True)

    def _show_current(self, force: bool = False) -> None:
        i = self.universe_combo.currentIndex()
        if 0 <= i < len(self._frames):
            values = self._frames[i]
        else:
            values = np.zeros(SLOTS, dtype=np.uint8)
        active = int(np.count_nonzero(values))
        self.summary.setText(f"{active} of {SLOTS} channels up" if self._universes else "")
        if force or not np.array_equal(values, self.grid.values):
            self.grid.values = np.array(values, dtype=np.uint8)
            self.grid.update()
