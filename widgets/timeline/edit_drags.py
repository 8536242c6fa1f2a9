"""Gestures of the edit tools: ripple trim, roll, slip, slide, and dragging a marker.

Like the gestures in :mod:`widgets.timeline.drag`, each one previews itself
(ghost rectangles, a snap line, a moving marker flag) while the button is
held and, on release, emits one intent signal of the view; nothing here edits
the timeline. The limits used for the preview (media handles, neighbours)
only keep the ghosts sensible: :mod:`core.timeline.edit` decides.

Signals (see :class:`~widgets.timeline.view.TimelineView`):

* ``rippleTrimRequested(clip_id, edge, frame)``: the edge (``"in"``/``"out"``)
  is trimmed as if to ``frame``; the clip keeps its start and everything after
  it on the track closes up or opens by the same amount;
* ``rollRequested(clip_id, edge, frame)``: the cut at that edge moves to ``frame``;
* ``slipRequested(clip_id, delta)``: ``source_in`` changes by ``delta`` (the
  clip stays put; dragging right shows earlier material, as in other editors);
* ``slideRequested(clip_id, delta)``: the clip moves by ``delta``, its
  neighbours' adjoining edges follow;
* ``markerMoveRequested(marker_id, frame)``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtWidgets import QApplication, QGraphicsLineItem, QGraphicsRectItem

from core.errors import LumaError
from core.timeline.model import Clip, Marker
from widgets.timeline.drag import Drag, _ghost, _remove, _snapped
from widgets.timeline.items import Z_GHOST

if TYPE_CHECKING:
    from widgets.timeline.view import TimelineView

BIG = 1 << 62


def _media_frames(view: "TimelineView", clip: Clip) -> int | None:
    try:
        return view.timeline().media_frames(clip.media_id)
    except LumaError:
        return None  # the edit will say the media is missing; the preview just has no bound


def _head_room(clip: Clip) -> int:
    """Sequence frames the clip's in point can move left (media before its source_in)."""
    return math.floor(clip.source_in / Fraction(clip.speed))


def _tail_room(view: "TimelineView", clip: Clip) -> int:
    """Sequence frames the clip's out point can move right (media after its source_out)."""
    total = _media_frames(view, clip)
    if total is None:
        return BIG
    return max(0, math.floor((total - clip.source_in) / Fraction(clip.speed)) - clip.duration)


def _neighbours(view: "TimelineView", clip: Clip) -> tuple[Clip | None, Clip | None]:
    """The clips that touch ``clip`` on its track: (ending at its start, starting at its end)."""
    before = after = None
    for c in view.timeline().clips_on(clip.track_id):
        if c.end == clip.start:
            before = c
        elif c.start == clip.end:
            after = c
    return before, after


class _GhostDrag(Drag):
    """Shared parts: a press point, a set of ghosts, a frame delta from the mouse."""

    def __init__(self, view: "TimelineView", press: QPointF, ghosts: int):
        self.view = view
        self.press = QPointF(press)
        self.ghosts: list[QGraphicsRectItem] = [_ghost(view) for _ in range(ghosts)]

    def frames_moved(self, pos: QPointF) -> int:
        return round((pos.x() - self.press.x()) / self.view.pixels_per_frame())

    def place(self, ghost: QGraphicsRectItem, track_id: int, start: float, end: float) -> None:
        view = self.view
        r = view.rows().by_id[track_id]
        x0 = view.scene_x(start)
        ghost.setRect(QRectF(x0, r.y + 1, max(1.0, view.scene_x(end) - x0), r.height - 2))

    def cancel(self) -> None:
        self.active = False  # slip and slide start inactive until the mouse moves
        _remove(self.view, self.ghosts)
        self.view.show_snap(None)


class RippleDrag(_GhostDrag):
    """Ripple trim: the edge moves, the clip keeps its start, the rest of the track follows."""

    def __init__(self, view: "TimelineView", clip: Clip, edge: str, press: QPointF):
        tl = view.timeline()
        self.clip, self.edge = clip, edge
        self.origin = clip.start if edge == "in" else clip.end
        self.frame = self.origin
        self.following = [c for c in tl.clips_on(clip.track_id) if c.start >= clip.end and c.id != clip.id]
        super().__init__(view, press, 1 + len(self.following))
        if edge == "in":
            self.limits = (clip.start - _head_room(clip), clip.end - 1)
        else:
            self.limits = (clip.start + 1, clip.end + _tail_room(view, clip))
        self._place()

    @property
    def shift(self) -> int:
        """How far the clips after the edited one move."""
        return self.origin - self.frame if self.edge == "in" else self.frame - self.origin

    def update(self, pos: QPointF) -> None:
        frame = self.origin + self.frames_moved(pos)
        snap_frame = None
        if self.view.snapping():
            adjust, snap_frame = _snapped(self.view, [frame], [self.clip.id])
            frame += adjust
        lo, hi = self.limits
        clamped = min(hi, max(lo, frame))
        if clamped != frame:
            snap_frame = None
        self.frame = clamped
        self._place()
        self.view.show_snap(snap_frame)

    def _place(self) -> None:
        c = self.clip
        self.place(self.ghosts[0], c.track_id, c.start, c.end + self.shift)
        for ghost, f in zip(self.ghosts[1:], self.following):
            self.place(ghost, f.track_id, f.start + self.shift, f.end + self.shift)

    def finish(self) -> bool:
        self.cancel()
        if self.frame != self.origin:
            self.view.rippleTrimRequested.emit(self.clip.id, self.edge, int(self.frame))
            return True
        return False


class RollDrag(_GhostDrag):
    """Roll: the cut between the clip and its neighbour moves; nothing else does."""

    def __init__(self, view: "TimelineView", clip: Clip, edge: str, press: QPointF):
        self.clip, self.edge = clip, edge
        before, after = _neighbours(view, clip)
        a, b = (before, clip) if edge == "in" else (clip, after)
        self.a, self.b = a, b
        self.origin = clip.start if edge == "in" else clip.end
        self.frame = self.origin
        super().__init__(view, press, 2)
        lo, hi = self.origin - (clip.duration - 1 if edge == "out" else _head_room(clip)), \
            self.origin + (clip.duration - 1 if edge == "in" else _tail_room(view, clip))
        if a is not None and b is not None:
            lo = max(a.start + 1, b.start - _head_room(b))
            hi = min(b.end - 1, a.end + _tail_room(view, a))
        self.limits = (lo, hi)
        self._place()

    def update(self, pos: QPointF) -> None:
        frame = self.origin + self.frames_moved(pos)
        snap_frame = None
        if self.view.snapping():
            exclude = [c.id for c in (self.a, self.b) if c is not None]
            adjust, snap_frame = _snapped(self.view, [frame], exclude)
            frame += adjust
        lo, hi = self.limits
        clamped = min(hi, max(lo, frame))
        if clamped != frame:
            snap_frame = None
        self.frame = clamped
        self._place()
        self.view.show_snap(snap_frame)

    def _place(self) -> None:
        for ghost, c, side in zip(self.ghosts, (self.a, self.b), ("a", "b")):
            if c is None:
                ghost.setVisible(False)
                continue
            ghost.setVisible(True)
            if side == "a":
                self.place(ghost, c.track_id, c.start, self.frame)
            else:
                self.place(ghost, c.track_id, self.frame, c.end)

    def finish(self) -> bool:
        self.cancel()
        if self.frame != self.origin:
            self.view.rollRequested.emit(self.clip.id, self.edge, int(self.frame))
            return True
        return False


class SlipDrag(_GhostDrag):
    """Slip: the clip stays, the material under it moves; the ghost shows the whole media."""

    def __init__(self, view: "TimelineView", clip: Clip, press: QPointF):
        self.clip = clip
        self.active = False
        self.delta = 0  # change of source_in, in sequence frames of the clip's timeline span
        super().__init__(view, press, 2)
        for g in self.ghosts:
            g.setVisible(False)
        self.ghosts[0].setBrush(view.pal.slip_brush)
        self.ghosts[0].setZValue(Z_GHOST - 1)
        self.range = (-_head_room(clip), _tail_room(view, clip))
        self.total = _media_frames(view, clip)

    def update(self, pos: QPointF) -> None:
        if not self.active:
            if abs(pos.x() - self.press.x()) < QApplication.startDragDistance():
                return
            self.active = True
            for g in self.ghosts:
                g.setVisible(True)
        lo, hi = self.range
        self.delta = min(hi, max(lo, -self.frames_moved(pos)))
        c = self.clip
        media_start = c.start - _head_room(c) - self.delta
        media_end = c.end + _tail_room(self.view, c) - self.delta if self.total is not None else c.end + 10**6
        self.place(self.ghosts[0], c.track_id, media_start, media_end)
        self.place(self.ghosts[1], c.track_id, c.start, c.end)

    def finish(self) -> bool:
        was_active = self.active
        self.cancel()
        if was_active and self.delta:
            speed = Fraction(self.clip.speed)
            self.view.slipRequested.emit(self.clip.id, int(round(self.delta * speed)))
        return was_active


class SlideDrag(_GhostDrag):
    """Slide: the clip moves along its track; the neighbour before it grows, the one after shrinks."""

    def __init__(self, view: "TimelineView", clip: Clip, press: QPointF):
        self.clip = clip
        self.active = False
        self.delta = 0
        self.a, self.b = _neighbours(view, clip)
        super().__init__(view, press, 3)
        for g in self.ghosts:
            g.setVisible(False)
        tl = view.timeline()
        others = [c for c in tl.clips_on(clip.track_id) if c.id != clip.id]
        if self.a is not None:
            lo = -(self.a.duration - 1)
        else:
            lo = max((c.end for c in others if c.end <= clip.start), default=0) - clip.start
        if self.b is not None:
            hi = self.b.duration - 1
        else:
            nxt = min((c.start for c in others if c.start >= clip.end), default=None)
            hi = BIG if nxt is None else nxt - clip.end
        if self.a is not None:
            hi = min(hi, _tail_room(view, self.a))
        if self.b is not None:
            lo = max(lo, -_head_room(self.b))
        self.range = (lo, hi)

    def update(self, pos: QPointF) -> None:
        if not self.active:
            if abs(pos.x() - self.press.x()) < QApplication.startDragDistance():
                return
            self.active = True
            for g, c in zip(self.ghosts, (self.clip, self.a, self.b)):
                g.setVisible(c is not None)
        delta = self.frames_moved(pos)
        snap_frame = None
        c = self.clip
        if self.view.snapping():
            exclude = [x.id for x in (c, self.a, self.b) if x is not None]
            adjust, snap_frame = _snapped(self.view, [c.start + delta, c.end + delta], exclude)
            delta += adjust
        lo, hi = self.range
        clamped = min(hi, max(lo, delta))
        if clamped != delta:
            snap_frame = None
        self.delta = clamped
        self.place(self.ghosts[0], c.track_id, c.start + self.delta, c.end + self.delta)
        if self.a is not None:
            self.place(self.ghosts[1], self.a.track_id, self.a.start, self.a.end + self.delta)
        if self.b is not None:
            self.place(self.ghosts[2], self.b.track_id, self.b.start + self.delta, self.b.end)
        self.view.show_snap(snap_frame)

    def finish(self) -> bool:
        was_active = self.active
        self.cancel()
        if was_active and self.delta:
            self.view.slideRequested.emit(self.clip.id, int(self.delta))
        return was_active


class MarkerDrag(Drag):
    """Drag a marker's flag along the ruler (a click without motion only selects it)."""

    def __init__(self, view: "TimelineView", marker: Marker, press: QPointF):
        self.view = view
        self.marker = marker
        self.press = QPointF(press)
        self.frame = marker.frame
        self.active = False
        self.line = QGraphicsLineItem()
        self.line.setPen(view.pal.ghost_pen)
        self.line.setZValue(Z_GHOST)
        self.line.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.line.setVisible(False)
        view.scene().addItem(self.line)

    def update(self, pos: QPointF) -> None:
        view = self.view
        if not self.active:
            if abs(pos.x() - self.press.x()) < QApplication.startDragDistance():
                return
            self.active = True
            self.line.setVisible(True)
        frame = max(0, self.marker.frame + round((pos.x() - self.press.x()) / view.pixels_per_frame()))
        snap_frame = None
        if view.snapping():
            target = view.snap_frame(frame, (), markers=False)
            if target != frame or view.is_snap_point(target, (), markers=False):
                snap_frame = target
            frame = max(0, target)
        self.frame = frame
        x = view.scene_x(frame)
        self.line.setLine(QLineF(x, view.pal.ruler_height, x, view.rows().bottom))
        view.preview_marker(self.marker.id, frame)
        view.show_snap(snap_frame)

    def finish(self) -> bool:
        was_active = self.active
        self.cancel()
        if was_active and self.frame != self.marker.frame:
            self.view.markerMoveRequested.emit(self.marker.id, int(self.frame))
        return was_active

    def cancel(self) -> None:
        if self.line.scene() is not None:
            self.line.scene().removeItem(self.line)
        self.view.preview_marker(None, 0)
        self.view.show_snap(None)
        self.active = False
