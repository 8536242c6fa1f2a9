"""The fixed parts of the timeline: the time ruler, the track headers and the corner.

They are drawn over the scene in viewport coordinates (the ruler does not
scroll vertically, the headers do not scroll horizontally). Ruler and headers
are rendered into pixmaps that are reused until the zoom, scroll position,
size or tracks change, so a repaint costs two pixmap blits.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Sequence

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap, QPolygonF

from core.time import frames_to_timecode
from widgets.timeline.layout import TrackRows, ruler_steps, tick_frames
from widgets.timeline.palette import TimelinePalette

#: Badges of a track header, left to right: (track attribute, letter, palette colour).
BADGES = (("muted", "M", "badge_muted"), ("solo", "S", "badge_solo"), ("hidden", "H", "badge_hidden"),
          ("locked", "L", "badge_locked"))

#: What the ruler shows of one marker: (frame, duration, colour name, name, selected).
MarkerMark = tuple[int, int, str, str, bool]


def marker_flag(palette: TimelinePalette, x: float) -> QPolygonF:
    """The flag of a marker whose frame starts at ruler x ``x`` (ruler/viewport y)."""
    h = palette.marker_lane_height
    return QPolygonF([QPointF(x, 1), QPointF(x + 10, 1), QPointF(x + 10, h - 4), QPointF(x + 3, h - 4),
                      QPointF(x, h - 1)])


def badge_rects(palette: TimelinePalette, row_top: float, row_height: float) -> list[tuple[str, QRectF]]:
    """Rectangles (viewport coordinates) of the mute/hide/lock badges of a header row."""
    s = palette.badge_size
    y = row_top + row_height - s - 6
    x = palette.header_width - 8 - len(BADGES) * (s + 3) + 3
    return [(flag, QRectF(x + i * (s + 3), y, s, s)) for i, (flag, _, _) in enumerate(BADGES)]


class Overlay:
    """Paints the ruler, headers and corner; keeps the cached pixmaps."""

    def __init__(self, palette: TimelinePalette):
        self.pal = palette
        self._ruler_key: tuple | None = None
        self._ruler_pm = QPixmap()
        self._header_key: tuple | None = None
        self._header_pm = QPixmap()
        rh = palette.ruler_height
        self.handle = QPolygonF([QPointF(-5, rh - 12), QPointF(5, rh - 12), QPointF(5, rh - 6),
                                 QPointF(0, rh - 1), QPointF(-5, rh - 6)])
        self.corner_text = ""

    def invalidate(self) -> None:
        self._ruler_key = None
        self._header_key = None

    # ------------------------------------------------------------ ruler
    def ruler_pixmap(self, width: int, ppf: float, scroll_x: float, rate: Fraction,
                     in_out: tuple[int | None, int | None], dpr: float,
                     markers: tuple[MarkerMark, ...] = ()) -> QPixmap:
        """The marker lane and ruler right of the headers: pixmap x = frame * ppf - scroll_x."""
        key = (width, ppf, scroll_x, rate, in_out, dpr, markers)
        if key == self._ruler_key:
            return self._ruler_pm
        pal = self.pal
        h = pal.ruler_height
        pm = QPixmap(max(1, int(width * dpr)), max(1, int(h * dpr)))
        pm.setDevicePixelRatio(dpr)
        pm.fill(pal.ruler_bg)
        p = QPainter(pm)
        try:
            ip, op = in_out
            if ip is not None or op is not None:
                x0 = (ip or 0) * ppf - scroll_x
                x1 = op * ppf - scroll_x if op is not None else width
                p.fillRect(QRectF(x0, 0, max(0.0, x1 - x0), h), pal.in_out)
            major, minor = ruler_steps(ppf, rate, pal.label_spacing, pal.minor_spacing)
            first = int((scroll_x - pal.label_spacing) // ppf)
            last = int((scroll_x + width) // ppf) + 1
            p.setPen(pal.tick_pen)
            if minor != major:
                xs = [f * ppf - scroll_x for f in tick_frames(first, last, minor) if f % major]
                p.drawLines([QLineF(x, h - 5, x, h) for x in xs])
            p.setFont(pal.small_font)
            for f in tick_frames(first, last, major):
                x = f * ppf - scroll_x
                p.setPen(pal.tick_pen)
                p.drawLine(QPointF(x, h - 12), QPointF(x, h))
                p.setPen(pal.ruler_text)
                p.drawText(QPointF(x + 3, h - 15), frames_to_timecode(f, rate))
            p.setPen(pal.lane_line_pen)
            p.drawLine(QPointF(0, h - 0.5), QPointF(width, h - 0.5))
            self._draw_markers(p, width, ppf, scroll_x, markers)
        finally:
            p.end()
        self._ruler_key, self._ruler_pm = key, pm
        return pm

    def _draw_markers(self, p: QPainter, width: int, ppf: float, scroll_x: float,
                      markers: tuple[MarkerMark, ...]) -> None:
        pal = self.pal
        lane, h = pal.marker_lane_height, pal.ruler_height
        p.fillRect(QRectF(0, 0, width, lane), pal.marker_lane)
        p.setPen(pal.lane_line_pen)
        p.drawLine(QPointF(0, lane - 0.5), QPointF(width, lane - 0.5))
        visible = [m for m in markers if m[0] * ppf - scroll_x < width and (m[0] + m[1]) * ppf - scroll_x > -200]
        p.setFont(pal.small_font)
        for i, (frame, duration, colour_name, name, selected) in enumerate(visible):
            x = frame * ppf - scroll_x
            colour = pal.marker_colour(colour_name)
            if duration > 0:
                span = QColor(colour)
                span.setAlpha(90)
                p.fillRect(QRectF(x, 1, duration * ppf, lane - 5), span)
            p.setPen(QPen(colour, 0))
            p.drawLine(QPointF(x + 0.5, lane), QPointF(x + 0.5, h))
            p.setPen(QPen(pal.clip_selected_border, 1.5) if selected else pal.no_pen)
            p.setBrush(QBrush(colour))
            p.drawPolygon(marker_flag(pal, x))
            if name:
                nxt = visible[i + 1][0] * ppf - scroll_x if i + 1 < len(visible) else width
                room = nxt - x - 16
                if room > 14:
                    p.setPen(pal.ruler_text)
                    text = pal.metrics.elidedText(name, Qt.TextElideMode.ElideRight, room)
                    p.drawText(QRectF(x + 13, 0, room, lane - 1),
                               Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)

    # ------------------------------------------------------------ headers
    def header_pixmap(self, height: int, scroll_y: float, rows: TrackRows, tracks: Sequence,
                      dpr: float, target: int | None = None) -> QPixmap:
        """Track headers below the ruler: pixmap y = scene y - scroll_y - ruler_height.

        The ``target`` track (where Insert/Overwrite put media) has a highlighted name."""
        key = (height, scroll_y, tuple(tracks), rows.bottom, dpr, target)
        if key == self._header_key:
            return self._header_pm
        pal = self.pal
        w = pal.header_width
        pm = QPixmap(max(1, int(w * dpr)), max(1, int(height * dpr)))
        pm.setDevicePixelRatio(dpr)
        pm.fill(pal.background)
        by_id = {t.id: t for t in tracks}
        off = scroll_y + pal.ruler_height
        p = QPainter(pm)
        try:
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            for row in rows.rows:
                top = row.y - off
                if top > height or top + row.height < 0:
                    continue
                track = by_id[row.track_id]
                rect = QRectF(0, top, w, row.height)
                p.fillRect(rect, pal.header_bg)
                accent = pal.clip_video if row.kind == "video" else pal.clip_audio
                p.fillRect(QRectF(0, top, 4, row.height), accent)
                if row.track_id == target:
                    p.setPen(pal.target_pen)
                    p.setBrush(pal.no_brush)
                    p.drawRoundedRect(QRectF(7, top + 4, w - 14, 18), 3, 3)
                p.setPen(pal.lane_line_pen)
                p.drawLine(QPointF(0, top + row.height - 0.5), QPointF(w, top + row.height - 0.5))
                p.setFont(pal.bold_font)
                p.setPen(pal.header_text)
                name = pal.metrics.elidedText(track.name, Qt.TextElideMode.ElideRight, w - 18)
                p.drawText(QRectF(10, top + 4, w - 18, 18), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                           name)
                p.setFont(pal.small_font)
                for (flag, letter, colour_name), (_, r) in zip(BADGES, badge_rects(pal, top, row.height)):
                    on = bool(getattr(track, flag))
                    p.setPen(pal.no_pen)
                    p.setBrush(QBrush(getattr(pal, colour_name) if on else pal.badge_off))
                    p.drawRoundedRect(r, 3, 3)
                    p.setPen(pal.badge_on_text if on else pal.badge_off_text)
                    p.drawText(r, Qt.AlignmentFlag.AlignCenter, letter)
            if rows.divider_height:
                p.fillRect(QRectF(0, rows.divider_y - off, w, rows.divider_height), pal.divider)
            p.setPen(pal.lane_line_pen)
            p.drawLine(QPointF(w - 0.5, 0), QPointF(w - 0.5, height))
        finally:
            p.end()
        self._header_key, self._header_pm = key, pm
        return pm

    # ------------------------------------------------------------ drawing
    def draw(self, painter: QPainter, ruler: QPixmap | None, header: QPixmap | None,
             playhead_x: float | None) -> None:
        """Draw in viewport coordinates (the caller has translated the painter)."""
        pal = self.pal
        hw, rh = pal.header_width, pal.ruler_height
        if header is not None:
            painter.drawPixmap(QPointF(0, rh), header)
        if ruler is not None:
            painter.drawPixmap(QPointF(hw, 0), ruler)
            if playhead_x is not None and playhead_x >= hw:
                painter.setPen(pal.playhead_pen)
                painter.drawLine(QPointF(playhead_x, 0), QPointF(playhead_x, rh))
                painter.translate(playhead_x, 0)
                painter.setBrush(pal.playhead_brush)
                painter.setPen(pal.no_pen)
                painter.drawPolygon(self.handle)
                painter.translate(-playhead_x, 0)
        if ruler is not None or header is not None:
            corner = QRectF(0, 0, hw, rh)
            painter.fillRect(corner, pal.header_bg)
            painter.setPen(pal.ruler_text)
            painter.setFont(pal.bold_font)
            painter.drawText(corner.adjusted(10, 0, 0, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             self.corner_text)
            painter.setPen(pal.lane_line_pen)
            painter.drawLine(QPointF(0, rh - 0.5), QPointF(hw, rh - 0.5))
            painter.drawLine(QPointF(hw - 0.5, 0), QPointF(hw - 0.5, rh))
