"""What the timeline draws besides clips: transitions, the beat grid, marker lines.

Transitions are scene items (:class:`~widgets.timeline.items.TransitionItem`)
kept in step with the model by :func:`sync_transitions`; the beat grid and the
marker lines are painted behind the clips by :func:`draw_grid` for the exposed
part only (a few dozen lines per paint).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QColor, QPainter, QPen

from core.audio.tempo import beat_frames
from core.time import frames_to_seconds
from widgets.timeline.items import TransitionItem

if TYPE_CHECKING:
    from widgets.timeline.view import TimelineView

#: Beat lines closer than this (pixels) are not drawn (then only bars, then nothing).
MIN_BEAT_SPACING = 5.0


def transition_label(kind: str, frames: int, rate) -> str:
    seconds = float(frames_to_seconds(frames, rate))
    return f"{kind.replace('_', ' ')} {seconds:.2g}s"


def sync_transitions(view: "TimelineView") -> None:
    """Create, place and drop transition items so they match the timeline's transitions."""
    tl = view.timeline()
    items: dict[int, TransitionItem] = view._trans_items
    wanted = tl.transitions if tl is not None else {}
    for tid in [t for t in items if t not in wanted or wanted[t].track_id not in view.rows().by_id]:
        item = items.pop(tid)
        if item.scene() is not None:
            item.scene().removeItem(item)
    if tl is None:
        return
    ppf = view.pixels_per_frame()
    for tid, tr in wanted.items():
        row = view.rows().by_id.get(tr.track_id)
        if row is None or tr.clip_b not in tl.clips:
            continue
        item = items.get(tid)
        if item is None:
            item = TransitionItem(tid, view.pal)
            items[tid] = item
            view.scene().addItem(item)
        first, end = tl.transition_span(tr)
        top = row.y + math.floor(row.height * 0.5)
        item.set_geometry(view.scene_x(first), top, max(2.0, (end - first) * ppf), row.bottom - 3 - top,
                          transition_label(tr.kind, tr.duration, tl.rate))
        item.set_selected(tid == view.selected_transition())


def transition_at(view: "TimelineView", scene_pos) -> int | None:
    """The transition whose bar is under a scene point."""
    for tid, item in view._trans_items.items():
        if item.mapRectToScene(item.rect()).contains(scene_pos):
            return tid
    return None


def beat_lines(view: "TimelineView", first: int, last: int) -> tuple[list[int], set[int]]:
    """(beat frames, bar frames) of the beat grid in [first, last], thinned for the zoom level."""
    tl = view.timeline()
    tempo = view.beat_grid()
    if tl is None or tempo is None or last < first:
        return [], set()
    ppf = view.pixels_per_frame()
    beat_px = float(tempo.seconds_per_beat) * float(tl.rate) * ppf
    bar_px = beat_px * tempo.beats_per_bar
    first, last = max(0, first), max(0, last)
    if bar_px < MIN_BEAT_SPACING:
        return [], set()
    bars = beat_frames(tempo, tl.rate, first, last + 1, bars_only=True)
    if beat_px < MIN_BEAT_SPACING:
        return bars, set(bars)
    return beat_frames(tempo, tl.rate, first, last + 1), set(bars)


def draw_grid(view: "TimelineView", painter: QPainter, rect: QRectF) -> None:
    """Beat grid (bars stronger) and marker lines across the tracks, inside the scene ``rect``."""
    tl = view.timeline()
    if tl is None:
        return
    pal = view.pal
    rows = view.rows()
    top, bottom = float(pal.ruler_height), rows.bottom
    if bottom <= top:
        return
    ppf = view.pixels_per_frame()
    hw = pal.header_width
    first = math.floor((rect.left() - hw) / ppf) - 1
    last = math.ceil((rect.right() - hw) / ppf) + 1
    beats, bars = beat_lines(view, first, last)
    if beats:
        minor = [QLineF(view.scene_x(f), top, view.scene_x(f), bottom) for f in beats if f not in bars]
        major = [QLineF(view.scene_x(f), top, view.scene_x(f), bottom) for f in beats if f in bars]
        if minor:
            painter.setPen(pal.beat_pen)
            painter.drawLines(minor)
        if major:
            painter.setPen(pal.bar_pen)
            painter.drawLines(major)
    for m in tl.markers.values():
        if first <= m.frame <= last:
            colour = QColor(pal.marker_colour(m.color))
            colour.setAlpha(150)
            pen = QPen(colour, 0)
            pen.setCosmetic(True)
            painter.setPen(pen)
            x = view.scene_x(m.frame)
            painter.drawLine(QLineF(x, top, x, bottom))
