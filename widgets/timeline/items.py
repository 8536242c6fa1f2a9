"""Scene items of the timeline: a clip and its waveform.

A clip is a :class:`QGraphicsRectItem` whose body, label (a
:class:`QGraphicsSimpleTextItem`) and thumbnail (a :class:`QGraphicsPixmapItem`)
are painted by Qt in C++: a repaint runs no Python per clip. Only the waveform
has a Python ``paint``, which draws a polygon built once per size (and, for
clips wider than a few thousand pixels, per visible span) from the peaks with
numpy, into a device-coordinate cache that later repaints blit.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPixmap, QPolygonF
from PySide6.QtWidgets import (QGraphicsItem, QGraphicsPixmapItem, QGraphicsRectItem,
                               QGraphicsSimpleTextItem, QStyleOptionGraphicsItem, QWidget)

from widgets.timeline.palette import TimelinePalette

#: Waveform peaks per second of source, as the waveform provider returns them.
PEAKS_PER_SECOND = 100
#: Clips up to this wide (pixels) get one polygon for their whole width.
MAX_FULL_WAVEFORM_WIDTH = 4096
#: Extra pixels built on each side of the visible span of wider clips.
WAVEFORM_MARGIN = 1024
#: Narrower clips show no label / no waveform.
MIN_LABEL_WIDTH = 18
MIN_WAVEFORM_WIDTH = 12
#: The waveform starts this far below the clip's top (under the label), in clips at least twice as tall.
WAVEFORM_TOP = 15.0
LABEL_PAD = 4

Z_CLIP = 0.0
Z_TRANSITION = 5.0
Z_GHOST = 50.0
Z_SNAP = 60.0
Z_RUBBER = 70.0
Z_PLAYHEAD = 100.0


def waveform_polygon(peaks: np.ndarray, p0: float, p1: float, width: float, height: float,
                     x0: float = 0.0, x1: float | None = None) -> QPolygonF:
    """Filled min/max outline of ``peaks[p0:p1]`` drawn over ``width`` pixels.

    ``p0``/``p1`` are fractional peak indices of the clip's first frame and
    of the frame after its last; only item x in ``[x0, x1]`` is built, with at
    most one column per pixel (each column is the min/max of its peaks).
    """
    if x1 is None:
        x1 = width
    n = len(peaks)
    if width <= 0 or p1 <= p0 or x1 <= x0 or n == 0:
        return QPolygonF()
    scale = (p1 - p0) / width  # peaks per pixel
    i0 = max(0, int(math.floor(p0 + x0 * scale)))
    i1 = min(n, int(math.ceil(p0 + x1 * scale)))
    if i1 <= i0:
        return QPolygonF()
    seg = peaks[i0:i1]
    m = len(seg)
    cols = int(min(m, max(1, math.ceil(x1 - x0))))
    edges = (np.arange(cols + 1, dtype=np.int64) * m) // cols
    lo = np.minimum.reduceat(seg[:, 0], edges[:-1])
    hi = np.maximum.reduceat(seg[:, 1], edges[:-1])
    xs = (i0 + (edges[:-1] + edges[1:]) * 0.5 - p0) / scale
    np.clip(xs, x0, x1, out=xs)
    mid = height * 0.5
    amp = max(1.0, mid - 3.0)
    top = mid - np.clip(hi, -1.0, 1.0) * amp
    bottom = np.maximum(mid - np.clip(lo, -1.0, 1.0) * amp, top + 1.0)
    px = np.concatenate([xs, xs[::-1]]).tolist()
    py = np.concatenate([top, bottom[::-1]]).tolist()
    return QPolygonF([QPointF(x, y) for x, y in zip(px, py)])


class WaveformItem(QGraphicsItem):
    """The waveform of an audio clip, filling its parent clip's rectangle."""

    def __init__(self, parent: QGraphicsItem, palette: TimelinePalette):
        super().__init__(parent)
        self._pal = palette
        self._rect = QRectF()
        self._peaks: np.ndarray | None = None
        self._p0 = self._p1 = 0.0
        self._poly: QPolygonF | None = None
        self._span = (0.0, 0.0)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        # Painted once per size into a device pixmap; repaints (and scrolling) blit it.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_source(self, peaks: np.ndarray | None, p0: float, p1: float) -> None:
        if peaks is self._peaks and (p0, p1) == (self._p0, self._p1):
            return
        self._peaks, self._p0, self._p1 = peaks, p0, p1
        self._poly = None
        self.update()

    def set_size(self, width: float, height: float) -> None:
        if width != self._rect.width() or height != self._rect.height():
            self.prepareGeometryChange()
            self._rect = QRectF(0.0, 0.0, width, height)
            self._poly = None

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None) -> None:
        if self._peaks is None:
            return
        exposed = option.exposedRect
        if self._poly is None or exposed.left() < self._span[0] or exposed.right() > self._span[1]:
            w = self._rect.width()
            if w <= MAX_FULL_WAVEFORM_WIDTH:
                x0, x1 = 0.0, w
            else:
                x0 = max(0.0, exposed.left() - WAVEFORM_MARGIN)
                x1 = min(w, exposed.right() + WAVEFORM_MARGIN)
            self._poly = waveform_polygon(self._peaks, self._p0, self._p1, w, self._rect.height(), x0, x1)
            self._span = (x0, x1)
        painter.setPen(self._pal.no_pen)
        painter.setBrush(self._pal.waveform_brush)
        painter.drawPolygon(self._poly)


class ClipItem(QGraphicsRectItem):
    """One clip: body, name, optional thumbnail (video) or waveform (audio).

    The label, thumbnail and waveform are child items that exist only while
    the clip is wide enough to show them: a hidden child still costs the
    scene a visit on every repaint, so narrow clips are bare rectangles
    without an outline (a one-pixel gap separates neighbours).
    """

    def __init__(self, clip_id: int, kind: str, palette: TimelinePalette):
        super().__init__()
        self.clip_id = clip_id
        self.kind = kind
        self._pal = palette
        self._name = ""
        self._label_key: tuple[str, int] | None = None
        self._style: tuple[str, bool] | None = None
        self._thumb_pm: QPixmap | None = None
        self._peaks: tuple[np.ndarray, float, float] | None = None
        self.label: QGraphicsSimpleTextItem | None = None
        self.thumb: QGraphicsPixmapItem | None = None
        self.wave: WaveformItem | None = None
        #: The children need a layout (see :meth:`layout_children`).
        self.dirty = True
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(Z_CLIP)
        self.set_style("normal", False)

    # ------------------------------------------------------------ state
    def set_style(self, state: str, selected: bool) -> None:
        if self._style == (state, selected):
            return
        self._style = (state, selected)
        self.setBrush(self._pal.clip_brush(self.kind, state, selected))
        self.setPen(self._pal.clip_selected_pen if selected else self._pal.no_pen)
        self.setZValue(Z_CLIP + (1 if selected else 0))

    def set_name(self, name: str) -> None:
        if name != self._name:
            self._name = name
            self._label_key = None
            self.dirty = True

    def set_thumbnail(self, pixmap: QPixmap | None) -> None:
        self._thumb_pm = pixmap
        if self.thumb is not None:
            self.thumb = self._drop(self.thumb)
        self._label_key = None
        self.dirty = True

    def set_waveform(self, peaks: np.ndarray | None, p0: float = 0.0, p1: float = 0.0) -> None:
        self._peaks = None if peaks is None else (peaks, p0, p1)
        if self.wave is not None:
            if peaks is None:
                self.wave = self._drop(self.wave)
            else:
                self.wave.set_source(peaks, p0, p1)
        self.dirty = True

    # ------------------------------------------------------------ geometry
    def set_geometry(self, x: float, y: float, width: float, height: float) -> None:
        if self.pos().x() != x or self.pos().y() != y:
            self.setPos(x, y)
        r = self.rect()
        if r.width() != width or r.height() != height:
            self.setRect(0.0, 0.0, width, height)
            self.dirty = True

    def _drop(self, child: QGraphicsItem) -> None:
        if child.scene() is not None:
            child.scene().removeItem(child)
        else:
            child.setParentItem(None)
        return None

    def layout_children(self) -> None:
        """Create, place or drop the label, thumbnail and waveform for the current size.

        The view calls this only for clips on or near the screen, so a zoom
        step does not build labels for a thousand clips nobody sees.
        """
        if not self.dirty:
            return
        self.dirty = False
        r = self.rect()
        w, h = r.width(), r.height()
        # waveform, below the label row when the clip is tall enough
        if self._peaks is not None and w >= MIN_WAVEFORM_WIDTH:
            if self.wave is None:
                self.wave = WaveformItem(self, self._pal)
                self.wave.setZValue(0.5)
                self.wave.set_source(*self._peaks)
            top = WAVEFORM_TOP if h >= 2 * WAVEFORM_TOP else 0.0
            self.wave.setPos(0.0, top)
            self.wave.set_size(w, h - top)
        elif self.wave is not None:
            self.wave = self._drop(self.wave)
        # thumbnail
        text_x = LABEL_PAD
        pm = self._thumb_pm
        pm_w = pm.width() / max(1.0, pm.devicePixelRatio()) if pm is not None else 0.0
        if pm is not None and w >= pm_w + MIN_LABEL_WIDTH and h >= 4:
            if self.thumb is None:
                self.thumb = QGraphicsPixmapItem(pm, self)
                self.thumb.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
                self.thumb.setPos(1, 1)
                self.thumb.setZValue(1)
            text_x += pm_w + 1
        elif self.thumb is not None:
            self.thumb = self._drop(self.thumb)
        # label
        avail = int(w - text_x - LABEL_PAD)
        if avail < MIN_LABEL_WIDTH or not self._name:
            if self.label is not None:
                self.label = self._drop(self.label)
                self._label_key = None
            return
        if self.label is None:
            self.label = QGraphicsSimpleTextItem(self)
            self.label.setFont(self._pal.font)
            self.label.setBrush(self._pal.clip_text_brush)
            self.label.setPen(self._pal.no_pen)
            self.label.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            self.label.setZValue(2)
            self.label.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # text layout once, then blits
        key = (self._name, avail)
        if key != self._label_key:
            self._label_key = key
            self.label.setText(self._pal.metrics.elidedText(self._name, Qt.TextElideMode.ElideRight, avail))
        self.label.setPos(text_x, 2)


class TransitionItem(QGraphicsRectItem):
    """A transition: a bar over the cut between its two clips, labelled with its kind."""

    def __init__(self, transition_id: int, palette: TimelinePalette):
        super().__init__()
        self.transition_id = transition_id
        self._pal = palette
        self._text = ""
        self._selected: bool | None = None
        self.label = QGraphicsSimpleTextItem(self)
        self.label.setFont(palette.small_font)
        self.label.setBrush(palette.transition_text_brush)
        self.label.setPen(palette.no_pen)
        self.label.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(Z_TRANSITION)
        self.set_selected(False)

    def set_selected(self, selected: bool) -> None:
        if selected == self._selected:
            return
        self._selected = selected
        self.setBrush(self._pal.transition_selected_brush if selected else self._pal.transition_brush)
        self.setPen(self._pal.clip_selected_pen if selected else self._pal.transition_pen)

    def set_geometry(self, x: float, y: float, width: float, height: float, text: str) -> None:
        self.setPos(x, y)
        self.setRect(0.0, 0.0, width, height)
        avail = int(width - 2 * LABEL_PAD)
        shown = self._pal.metrics.elidedText(text, Qt.TextElideMode.ElideRight, avail) if avail >= MIN_LABEL_WIDTH else ""
        if shown != self._text:
            self._text = shown
            self.label.setText(shown)
        self.label.setVisible(bool(shown))
        self.label.setPos(LABEL_PAD, max(0.0, (height - self._pal.metrics.height()) / 2))
