"""Painting the lighting lanes: background, bars/beats ruler, beat grid, blocks with their opacity curves, headers.

:class:`LanePainter` draws in scene coordinates for the exposed rectangle only
(the view calls it from ``drawBackground``) and the lane headers in viewport
coordinates (from ``drawForeground``). Per lane the blocks on screen are found
by two bisections (:meth:`~widgets.timeline.lane_layout._LaneSpans.bounds`), so
the cost follows what is visible, not the size of the show:

* blocks narrower than a few pixels become one image row per lane, built with
  numpy and stretched over the lane (one ``drawImage``);
* wider blocks are drawn in passes sharing the painter state (bodies per
  colour with ``drawRects``, outlines, curve shades, curve lines, labels);
  what each draws (rectangle, laid-out labels, curve polygons, in scene
  coordinates) is kept per zoom level, so scrolling builds nothing.

A block's opacity curve is sampled with the engine's own
:meth:`core.lighting.layers.OpacityCurve.evaluate`.
"""

from __future__ import annotations

import math
import zlib
from typing import TYPE_CHECKING

import numpy as np
from pyqtgraph.functions import arrayToQPolygonF
from PySide6.QtCore import QLineF, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import (QBrush, QColor, QFont, QFontMetricsF, QImage, QPainter, QPen, QPolygonF, QStaticText,
                           QTransform)

from widgets.timeline.lane_layout import LaneBlock, LaneGeometry, bar_label_step, bar_number

if TYPE_CHECKING:
    from widgets.timeline.lanes import LightingLanes

#: Blocks narrower than this (pixels) are drawn as one image strip per lane; wider ones get an outline and the curve.
MIN_DETAIL_WIDTH = 12.0
MIN_CURVE_WIDTH = 16.0
MIN_LABEL_WIDTH = 36.0
MIN_SUBLABEL_WIDTH = 60.0
MIN_BEAT_SPACING = 8.0  # closer beat (then bar) lines are thinned out
CURVE_STEP_PX = 3.0
CURVE_PAD = 3.0  # pixels between the curve's 0/1 and the block's edges
MAX_CURVE_POINTS = 512
LABEL_PAD = 4.0


def _pen(colour: QColor | str, width: float = 0.0, style=Qt.PenStyle.SolidLine) -> QPen:
    p = QPen(QColor(colour), width, style)
    p.setCosmetic(True)
    return p


def _over(top: QColor, below: QColor) -> QColor:
    """``top`` (translucent) composited over the opaque ``below``."""
    a = top.alphaF()
    return QColor.fromRgbF(below.redF() + a * (top.redF() - below.redF()),
                           below.greenF() + a * (top.greenF() - below.greenF()),
                           below.blueF() + a * (top.blueF() - below.blueF()))


class LaneStyle:
    """Colours and pens of the lighting lanes (the timeline palette gives fonts and the header width)."""

    def __init__(self):
        self.lane_a = QColor("#262329")
        self.lane_b = QColor("#221f25")
        self.ruler_bg = QColor("#2f2a33")
        self.ruler_text = QColor("#d9cde6")
        self.header_bg = QColor("#2d2833")
        self.accent = QColor("#e0a030")
        self.block_text = QColor("#ffffff")
        self.block_subtext = QColor("#e8e2ee")
        self.tick_colour = QColor("#9a8fa8")
        self.bar_tick_colour = QColor("#d0c4dd")
        # white at 19 % / 36 % over the lanes, made opaque: thin translucent vertical lines cost a blended
        # span per pixel row, opaque ones a plain fill (several times faster)
        self.beat_colour = _over(QColor("#30ffffff"), self.lane_a)
        self.bar_colour = _over(QColor("#5cffffff"), self.lane_a)
        self.block_pen = _pen("#17141a")  # opaque: translucent vertical edges blend per pixel row
        self.selected_pen = _pen("#ffd34d", 2.0)
        self.curve_pen = _pen("#ffffff", 1.0)  # one pixel, cosmetic: the fast path of the raster engine
        self.curve_shade = QBrush(QColor("#78000000"))  # over the part of the block the curve fades out
        self.ghost_pen = _pen("#ffffff", 1.0, Qt.PenStyle.DashLine)
        self.ghost_brush = QBrush(QColor("#40ffffff"))
        self.drop_pen = _pen("#ffffff", 2.0)
        self._colours: dict[str, QColor] = {}
        self._brushes: dict[tuple[str, int], QBrush] = {}

    def colour(self, pattern: str) -> QColor:
        """A stable colour per pattern name."""
        c = self._colours.get(pattern)
        if c is None:
            hue = zlib.crc32(pattern.encode("utf-8")) % 360
            c = QColor.fromHsl(hue, 110, 92)  # one lightness for all: white text reads on every colour
            self._colours[pattern] = c
        return c

    def brush(self, pattern: str, state: int = 0) -> QBrush:
        """state 0 normal, 1 selected (lighter), 2 being dragged (dim)."""
        b = self._brushes.get((pattern, state))
        if b is None:
            c = self.colour(pattern)
            b = QBrush(c.lighter(130) if state == 1 else c.darker(160) if state == 2 else c)
            self._brushes[(pattern, state)] = b
        return b


class LanePainter:
    def __init__(self, lanes: "LightingLanes"):
        self.lanes = lanes
        self.style = LaneStyle()
        self._recs: dict[int, tuple] = {}  # layer id -> what it draws at the current zoom (see _record)
        self._rec_key: tuple | None = None
        self._strip_colours: dict[tuple, np.ndarray] = {}
        self._shapes: dict[tuple, tuple[QPolygonF, QPolygonF]] = {}  # (curve, length, points, height) -> unit shapes
        self._names: dict = {}  # text (or (text, width bucket) elided) -> QStaticText, bold
        self._subs: dict = {}  # the same for the small second line

    def forget(self, keep: set[int]) -> None:
        """Drop what is cached for the previous model (positions, colours of the strips)."""
        self._recs.clear()
        self._rec_key = None
        self._strip_colours.clear()

    # ------------------------------------------------------------ scene
    def paint_scene(self, painter: QPainter, rect: QRectF, g: LaneGeometry) -> None:
        view = self.lanes.view
        pal, st = view.pal, self.style
        if rect.bottom() < g.top or rect.top() > g.bottom:
            return
        left, width = rect.left(), rect.width()
        painter.fillRect(QRectF(left, g.top, width, g.ruler_y - g.top), pal.divider)
        painter.fillRect(QRectF(left, g.ruler_y, width, g.ruler_height), st.ruler_bg)
        for row in g.rows:
            if row.bottom >= rect.top() and row.y <= rect.bottom():
                painter.fillRect(QRectF(left, row.y, width, row.height), st.lane_a if row.index % 2 == 0 else st.lane_b)
                painter.fillRect(QRectF(left, row.bottom - 1, width, 1), pal.lane_line)
        ppf = view.pixels_per_frame()
        hw = pal.header_width
        f0 = (rect.left() - hw) / ppf
        f1 = (rect.right() - hw) / ppf
        self._paint_beats(painter, rect, g, f0, f1)
        sel = self.lanes.selected_layer()
        drag = self.lanes.drag_state()
        rows = [row for row in g.rows if row.bottom >= rect.top() and row.y <= rect.bottom()]
        self._paint_blocks(painter, g, rows, rect, f0 - 1, f1 + 1, sel, drag.layer_id if drag is not None else None)
        if drag is not None and drag.moved:
            self._paint_ghost(painter, g, drag)
        drop = self.lanes.drop_state()
        if drop is not None:
            lane, beat = drop
            row = g.by_name.get(lane)
            if row is not None:
                x = view.scene_x(g.frame_of(beat))
                painter.setPen(st.drop_pen)
                painter.drawLine(QLineF(x, row.y, x, row.bottom))

    def _beat_range(self, g: LaneGeometry, f0: float, f1: float) -> tuple[int, int, int]:
        """(first beat, last beat, step in beats) of the lines to draw between frames f0 and f1."""
        view = self.lanes.view
        beat_px = g.frames_per_beat() * view.pixels_per_frame()
        per_bar = g.tempo.beats_per_bar
        if beat_px >= MIN_BEAT_SPACING:
            step = 1
        else:
            step = per_bar * bar_label_step(beat_px * per_bar, MIN_BEAT_SPACING)
        b0 = math.floor(g.beat_at(max(f0, 0.0))) - 1
        b1 = math.ceil(g.beat_at(max(f1, 0.0))) + 1
        b0 -= b0 % step
        return b0, b1, step

    def _paint_beats(self, painter: QPainter, rect: QRectF, g: LaneGeometry, f0: float, f1: float) -> None:
        """Beat and bar lines across the lanes, ticks and bar numbers in the ruler row. Lines are one-pixel
        rectangles filled in one call per kind (the raster engine's fast span fill)."""
        view, st = self.lanes.view, self.style
        per_bar = g.tempo.beats_per_bar
        b0, b1, step = self._beat_range(g, f0, f1)
        bar_px = g.frames_per_beat() * view.pixels_per_frame() * per_bar
        label_every = bar_label_step(bar_px)
        ry, rh = round(g.ruler_y), round(g.ruler_height)
        top = ry + rh
        height = round(g.bottom) - top
        tick, bar_tick = round(rh * 0.3), round(rh * 0.65)
        beats, bars, ticks, bar_ticks = [], [], [], []
        labels: list[tuple[float, str]] = []
        for b in range(b0, b1 + 1, step):
            f = g.frame_of(b)
            if f < 0:
                continue
            x = math.floor(view.scene_x(f))  # whole pixels: integer rectangles take the fast fill
            if x < rect.left() - 60 or x > rect.right() + 1:
                continue
            if b % per_bar == 0:
                bars.append(QRect(x, top, 1, height))
                bar_ticks.append(QRect(x, top - bar_tick, 1, bar_tick))
                bar = bar_number(b, per_bar)
                if (bar - 1) % label_every == 0:
                    labels.append((x, str(bar)))
            else:
                beats.append(QRect(x, top, 1, height))
                ticks.append(QRect(x, top - tick, 1, tick))
        for rects, colour in ((beats, st.beat_colour), (ticks, st.tick_colour), (bars, st.bar_colour),
                              (bar_ticks, st.bar_tick_colour)):
            for r in rects:
                painter.fillRect(r, colour)
        if labels:
            font = view.pal.small_font
            painter.setFont(font)
            painter.setPen(st.ruler_text)
            y = ry + 2
            for x, text in labels:
                painter.drawStaticText(QPointF(x + 3, y), self._text(self._subs, text, font, 1e9))
        painter.fillRect(QRectF(rect.left(), ry + rh - 1, rect.width(), 1), view.pal.lane_line)

    def _paint_blocks(self, painter: QPainter, g: LaneGeometry, rows, rect: QRectF, f0: float, f1: float,
                      sel: int | None, dragged: int | None) -> None:
        """All visible blocks in passes that share the painter state: blocks narrower than
        :data:`MIN_DETAIL_WIDTH` as one strip image per lane, then bodies per colour, outlines, curve
        shades, curve lines, names, sub-labels, and the selected block's outline last."""
        view, st = self.lanes.view, self.style
        ppf = view.pixels_per_frame()
        if self._rec_key != (ppf, g):  # scene positions hold until the zoom or the model changes
            self._recs.clear()
            self._rec_key = (ppf, g)
        bodies: dict[tuple[str, int], list[QRectF]] = {}
        outlines: list[QRectF] = []
        curves: list[tuple[QTransform, tuple[QPolygonF, QPolygonF]]] = []
        names: list[tuple[QPointF, QStaticText]] = []
        subs: list[tuple[QPointF, QStaticText]] = []
        selected: QRectF | None = None
        special = [i for i in (sel, dragged) if i is not None]
        for row in rows:
            sp = g.spans[row.name]
            lo, hi = sp.bounds(f0, f1)
            if hi <= lo:
                continue
            ends = sp.ends_np[lo:hi]
            width = (ends - sp.starts_np[lo:hi]) * ppf
            keep = ends > f0
            narrow = keep & (width < MIN_DETAIL_WIDTH)
            if special:
                narrow &= ~np.isin(sp.ids_np[lo:hi], special)
            if narrow.any():
                self._paint_strip(painter, g, sp, row, rect, lo, hi, narrow)
            wide = np.flatnonzero(keep & ~narrow)
            if wide.size > 1:
                wide = wide[np.argsort(sp.ranks_np[lo:hi][wide], kind="stable")]
            for i in (wide + lo).tolist():
                b = sp.blocks[i]
                rec = self._recs.get(b.layer_id)
                if rec is None:
                    rec = self._record(b, sp.starts[i], sp.ends[i], row, ppf)
                r, name, sub, curve = rec
                lid = b.layer_id
                state = 1 if lid == sel else 2 if lid == dragged else 0
                bodies.setdefault((b.pattern, state), []).append(r)
                if state == 1:
                    selected = r
                else:
                    outlines.append(r)
                if curve is not None:
                    curves.append(curve)
                if name is not None:
                    names.append(name)
                if sub is not None:
                    subs.append(sub)
        painter.setPen(view.pal.no_pen)
        for (pattern, state), rects in bodies.items():
            painter.setBrush(st.brush(pattern, state))
            painter.drawRects(rects)
        painter.setBrush(view.pal.no_brush)
        if outlines:
            painter.setPen(st.block_pen)
            painter.drawRects(outlines)
        if curves:
            base = painter.worldTransform()
            placed = [(t * base, shape) for t, shape in curves]
            painter.setPen(view.pal.no_pen)
            painter.setBrush(st.curve_shade)
            for t, (_, shade) in placed:
                painter.setWorldTransform(t)
                painter.drawPolygon(shade)
            painter.setBrush(view.pal.no_brush)
            painter.setPen(st.curve_pen)  # cosmetic: the same width whatever the transform
            for t, (line, _) in placed:
                painter.setWorldTransform(t)
                painter.drawPolyline(line)
            painter.setWorldTransform(base)
        for items, font, pen in ((names, view.pal.bold_font, st.block_text), (subs, view.pal.small_font,
                                                                               st.block_subtext)):
            if items:
                painter.setFont(font)
                painter.setPen(pen)
                for at, text in items:
                    painter.drawStaticText(at, text)
        if selected is not None:
            painter.setPen(st.selected_pen)
            painter.drawRect(selected)

    def _record(self, b: LaneBlock, s: int, e: int, row, ppf: float) -> tuple:
        """What a block draws at this zoom, in scene coordinates: rectangle, name, sub-label, curve."""
        pal = self.lanes.view.pal
        w = (e - s) * ppf
        r = QRectF(pal.header_width + s * ppf, row.y + 2, w - 1.0 if w >= 4 else max(1.0, w), row.height - 4)
        avail = r.width() - 2 * LABEL_PAD
        name = sub = curve = None
        text = self._text(self._names, b.pattern, pal.bold_font, avail) if w >= MIN_LABEL_WIDTH else None
        if text is not None and len(text.text()) >= min(4, len(b.pattern)):  # "p…" says nothing: no label
            name = (QPointF(r.left() + LABEL_PAD, r.top() + 1), text)
            if w >= MIN_SUBLABEL_WIDTH and r.height() >= 30:
                sub = (QPointF(r.left() + LABEL_PAD, r.top() + 15),
                       self._text(self._subs, f"{b.blend} · z {b.z}", pal.small_font, avail))
        if b.curve.keys and w >= MIN_CURVE_WIDTH:
            # the curve's shape in block units (0..1), placed by a transform: zooming rebuilds nothing
            n = 8
            while n < MAX_CURVE_POINTS and n * CURVE_STEP_PX < r.width():
                n *= 2
            key = (b.curve, b.end_beat - b.start_beat, n, r.height())
            shape = self._shapes.get(key)
            if shape is None:
                if len(self._shapes) > 4096:
                    self._shapes.clear()
                shape = curve_polygons(b, 1.0, 1.0, n, CURVE_PAD / r.height())
                self._shapes[key] = shape
            curve = (QTransform(r.width(), 0.0, 0.0, r.height(), r.left(), r.top()), shape)
        rec = (r, name, sub, curve)
        self._recs[b.layer_id] = rec
        return rec

    def _lane_colours(self, g: LaneGeometry, lane: str) -> np.ndarray:
        """ARGB of each block of a lane (start order), for the strips."""
        key = (g, lane)
        cols = self._strip_colours.get(key)
        if cols is None:
            if len(self._strip_colours) > 4 * len(g.rows) + 64:
                self._strip_colours.clear()
            cols = np.array([self.style.colour(b.pattern).rgba() for b in g.spans[lane].blocks], dtype=np.uint32)
            self._strip_colours[key] = cols
        return cols

    def _paint_strip(self, painter: QPainter, g: LaneGeometry, sp, row, rect: QRectF, lo: int, hi: int,
                     narrow: np.ndarray) -> None:
        """Narrow blocks of one lane as one image row stretched over the lane: each pixel column takes the
        colour of a block covering it (the latest starting one, else the one reaching furthest)."""
        view = self.lanes.view
        ppf, hw = view.pixels_per_frame(), view.pal.header_width
        px0 = int(math.floor(max(rect.left(), hw)))
        px1 = int(math.ceil(rect.right()))
        if px1 <= px0:
            return
        c0 = np.floor(hw + sp.starts_np[lo:hi][narrow] * ppf).astype(np.int64)
        c1 = np.maximum(c0 + 1, np.rint(hw + sp.ends_np[lo:hi][narrow] * ppf).astype(np.int64))
        colours = self._lane_colours(g, row.name)[lo:hi][narrow]
        reach = np.maximum.accumulate(c1)
        n = np.arange(c1.size)
        reach_by = np.maximum.accumulate(np.where(c1 >= reach, n, 0))
        cols = np.arange(px0, px1, dtype=np.int64)
        j = np.searchsorted(c0, cols, side="right") - 1
        valid = j >= 0
        jj = np.maximum(j, 0)
        own = valid & (c1[jj] > cols)
        longer = valid & ~own & (reach[jj] > cols)
        out = np.zeros(cols.size, dtype=np.uint32)
        out[own] = colours[jj[own]]
        out[longer] = colours[reach_by[jj[longer]]]
        if not out.any():
            return
        image = QImage(out.data, out.size, 1, out.size * 4, QImage.Format.Format_ARGB32)
        painter.drawImage(QRectF(px0, row.y + 2, out.size, row.height - 4), image)

    def _text(self, cache: dict, text: str, font: QFont, avail: float) -> QStaticText:
        """A laid-out text that fits ``avail`` pixels (elided when it does not), cached by what it shows."""
        full = cache.get(text)
        if full is None:
            full = _static(text, font)
            cache[text] = full
        if full.size().width() <= avail:
            return full
        key = (text, int(avail) // 4)
        short = cache.get(key)
        if short is None:
            if len(cache) > 20000:
                cache.clear()
            short = _static(QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, key[1] * 4), font)
            cache[key] = short
        return short

    def _paint_ghost(self, painter: QPainter, g: LaneGeometry, drag) -> None:
        view = self.lanes.view
        row = g.by_name.get(drag.lane)
        if row is None:
            return
        s = g.frame_of(drag.start)
        e = max(g.frame_of(drag.end), s + 1)
        r = QRectF(view.scene_x(s), row.y + 2, (e - s) * view.pixels_per_frame(), row.height - 4)
        painter.setPen(self.style.ghost_pen)
        painter.setBrush(self.style.ghost_brush)
        painter.drawRect(r)
        painter.setPen(view.pal.snap_pen)
        for x in (r.left(), r.right()):
            painter.drawLine(QLineF(x, g.ruler_y, x, g.bottom))

    # ------------------------------------------------------------ headers (viewport coordinates)
    def paint_headers(self, painter: QPainter, g: LaneGeometry, scroll_y: float, viewport_height: float) -> None:
        view = self.lanes.view
        pal, st = view.pal, self.style
        hw, rh = pal.header_width, pal.ruler_height
        painter.save()
        painter.setClipRect(QRectF(0, rh, hw, max(0.0, viewport_height - rh)))
        top = g.top - scroll_y
        painter.fillRect(QRectF(0, top, hw, g.ruler_y - g.top), pal.divider)
        ry = g.ruler_y - scroll_y
        painter.fillRect(QRectF(0, ry, hw, g.ruler_height), st.ruler_bg)
        small, bold = pal.small_font, pal.bold_font
        painter.setFont(small)
        painter.setPen(st.ruler_text)
        title = self._text(self._subs, f"Bars · {float(g.tempo.bpm):g} BPM", small, hw - 14)
        painter.drawStaticText(QPointF(10, ry + (g.ruler_height - title.size().height()) / 2), title)
        counts = {name: len(sp.blocks) for name, sp in g.spans.items()}
        editing = self.lanes.renaming()
        for row in g.rows:
            y = row.y - scroll_y
            if y > viewport_height or y + row.height < rh:
                continue
            painter.fillRect(QRectF(0, y, hw, row.height), st.header_bg)
            painter.fillRect(QRectF(0, y, 4, row.height), st.accent)
            painter.setPen(pal.lane_line_pen)
            painter.drawLine(QPointF(0, y + row.height - 0.5), QPointF(hw, y + row.height - 0.5))
            if row.name != editing:
                painter.setFont(bold)
                painter.setPen(pal.header_text)
                painter.drawStaticText(QPointF(10, y + 5), self._text(self._names, row.name, bold, hw - 18))
            n = counts.get(row.name, 0)
            painter.setFont(small)
            painter.setPen(pal.header_subtext)
            painter.drawStaticText(QPointF(10, y + 24), self._text(
                self._subs, f"{n} layer{'s' if n != 1 else ''}" if n else "empty lane", small, hw - 18))
        painter.setPen(pal.lane_line_pen)
        painter.drawLine(QPointF(hw - 0.5, top), QPointF(hw - 0.5, g.bottom - scroll_y))
        painter.restore()


def _static(text: str, font: QFont) -> QStaticText:
    st = QStaticText(text)
    st.setTextFormat(Qt.TextFormat.PlainText)
    st.prepare(font=font)
    return st


def curve_samples(b: LaneBlock, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(beats from the layer start, opacity) across the block: ``n`` even steps plus the keyframes inside,
    evaluated by the engine (:meth:`core.lighting.layers.OpacityCurve.evaluate`)."""
    length = float(b.end_beat - b.start_beat)
    beats = np.linspace(0.0, length, max(2, n))
    keys = np.array([k.beat for k in b.curve.keys], dtype=np.float64)
    beats = np.union1d(beats, keys[(keys > 0.0) & (keys < length)])
    return beats, b.curve.evaluate(beats)


def curve_polygons(b: LaneBlock, width: float, height: float, n: int | None = None,
                   pad: float = CURVE_PAD) -> tuple[QPolygonF, QPolygonF]:
    """The curve as a polyline, and the area above it (what the opacity takes away) to shade, in block
    coordinates (0..width, 0..height; opacity 1 at ``pad`` below the top, 0 at ``pad`` above the bottom)."""
    if n is None:
        n = int(min(MAX_CURVE_POINTS, max(2, width / CURVE_STEP_PX)))
    beats, values = curve_samples(b, n)
    length = float(b.end_beat - b.start_beat)
    xs = beats * (width / length)
    ys = pad + (1.0 - values) * max(1e-9, height - 2 * pad)
    line = arrayToQPolygonF(xs, ys)
    shade = arrayToQPolygonF(np.concatenate([[0.0], xs, [float(width)]]), np.concatenate([[0.0], ys, [0.0]]))
    return line, shade
