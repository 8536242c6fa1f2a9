"""Mouse gestures of the timeline view: move, trim, scrub, rubber-band select.

Each gesture previews itself with scene items (ghost rectangles, a snap line)
and, when the button is released, *emits* what the user asked for through the
view's signals. Nothing here edits the timeline: the app turns the signals into
undoable commands and the view redraws when the model says it changed.

The constraints used for the preview (no negative start, the media's length,
the neighbouring clips for a trim) only keep the ghost sensible; the edit
functions in :mod:`core.timeline.edit` are what decide.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtWidgets import QApplication, QGraphicsRectItem

from core.errors import LumaError
from core.timeline.model import Clip
from widgets.timeline.items import Z_GHOST, Z_RUBBER, ClipItem

if TYPE_CHECKING:
    from widgets.timeline.view import TimelineView


class Drag:
    """A gesture in progress. ``finish`` returns True when it did something."""

    def update(self, pos: QPointF) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def finish(self) -> bool:  # pragma: no cover - interface
        raise NotImplementedError

    def cancel(self) -> None:
        """Drop the preview without emitting anything."""


def _ghost(view: "TimelineView") -> QGraphicsRectItem:
    item = QGraphicsRectItem()
    item.setPen(view.pal.ghost_pen)
    item.setBrush(view.pal.ghost_brush)
    item.setZValue(Z_GHOST)
    item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
    view.scene().addItem(item)
    return item


def _remove(view: "TimelineView", items: list) -> None:
    for item in items:
        if item.scene() is not None:
            item.scene().removeItem(item)
    items.clear()


def _snapped(view: "TimelineView", edges: list[int], exclude: list[int]) -> tuple[int, int | None]:
    """(adjustment, snap frame) bringing the nearest of ``edges`` onto a snap point (see ``view.snap_frame``)."""
    best: tuple[int, int, int] | None = None
    for edge in edges:
        target = view.snap_frame(edge, exclude)
        if target != edge or view.is_snap_point(target, exclude):
            cand = (abs(target - edge), target - edge, target)
            if best is None or cand < best:
                best = cand
    if best is None:
        return 0, None
    return best[1], best[2]


class MoveDrag(Drag):
    """Drag clip bodies: a frame delta and, vertically, a track offset among tracks of the grabbed kind."""

    def __init__(self, view: "TimelineView", anchor: Clip, clip_ids: list[int], press: QPointF):
        self.view = view
        tl = view.timeline()
        self.press = QPointF(press)
        self.anchor = anchor
        self.ids = sorted(clip_ids)
        self.clips = [tl.clips[i] for i in self.ids]
        rows = view.rows()
        self.kind = rows.by_id[anchor.track_id].kind
        same = [rows.by_id[c.track_id].index for c in self.clips if rows.by_id[c.track_id].kind == self.kind]
        n = len(rows.by_kind[self.kind])
        self.offset_range = (-min(same), n - 1 - max(same))
        self.min_start = min(c.start for c in self.clips)
        self.active = False
        self.delta = 0
        self.offset = 0
        self.ghosts: list[QGraphicsRectItem] = []

    def _target_track(self, clip: Clip) -> int:
        if self.offset and self.view.rows().by_id[clip.track_id].kind == self.kind:
            return self.view.rows().shifted(clip.track_id, self.offset)
        return clip.track_id

    def track_map(self) -> dict[int, int]:
        out = {}
        for c in self.clips:
            t = self._target_track(c)
            if t != c.track_id:
                out[c.track_id] = t
        return out

    def update(self, pos: QPointF) -> None:
        view = self.view
        if not self.active:
            if (pos - self.press).manhattanLength() < QApplication.startDragDistance():
                return
            self.active = True
            self.ghosts = [_ghost(view) for _ in self.clips]
        ppf = view.pixels_per_frame()
        delta = max(round((pos.x() - self.press.x()) / ppf), -self.min_start)
        row = view.rows().at_y(pos.y() + view.scroll_offset().y())
        if row is not None and row.kind == self.kind:
            anchor_index = view.rows().by_id[self.anchor.track_id].index
            lo, hi = self.offset_range
            self.offset = min(hi, max(lo, row.index - anchor_index))
        snap_frame = None
        if view.snapping():
            a = self.anchor
            adjust, snap_frame = _snapped(view, [a.start + delta, a.end + delta], self.ids)
            delta = max(delta + adjust, -self.min_start)
        self.delta = delta
        rows = view.rows()
        for ghost, c in zip(self.ghosts, self.clips):
            r = rows.by_id[self._target_track(c)]
            ghost.setRect(QRectF(view.scene_x(c.start + delta), r.y + 1, max(1.0, c.duration * ppf), r.height - 2))
        view.show_snap(snap_frame)

    def finish(self) -> bool:
        was_active = self.active
        self.cancel()
        if not was_active:
            return False
        track_map = self.track_map()
        if self.delta or track_map:
            self.view.moveRequested.emit(list(self.ids), int(self.delta), track_map)
        return True

    def cancel(self) -> None:
        _remove(self.view, self.ghosts)
        self.view.show_snap(None)
        self.active = False


class TrimDrag(Drag):
    """Drag the in (left) or out (right) edge of one clip."""

    def __init__(self, view: "TimelineView", clip: Clip, edge: str, press: QPointF):
        self.view = view
        self.clip = clip
        self.edge = edge
        self.press = QPointF(press)
        self.origin = clip.start if edge == "in" else clip.end
        self.frame = self.origin
        tl = view.timeline()
        others = [c for c in tl.clips_on(clip.track_id) if c.id != clip.id]
        prev_end = max((c.end for c in others if c.end <= clip.start), default=0)
        next_start = min((c.start for c in others if c.start >= clip.end), default=None)
        try:
            media_frames: int | None = tl.media_frames(clip.media_id)
        except LumaError:
            media_frames = None  # the edit will report the missing media; the preview just has no bound
        if edge == "in":
            self.limits = (max(prev_end, clip.start - clip.source_in, 0), clip.end - 1)
        else:
            hi = next_start if next_start is not None else 1 << 62
            if media_frames is not None:
                hi = min(hi, clip.start - clip.source_in + media_frames)
            self.limits = (clip.start + 1, hi)
        self.ghosts = [_ghost(view)]
        self._place()

    def update(self, pos: QPointF) -> None:
        view = self.view
        frame = self.origin + round((pos.x() - self.press.x()) / view.pixels_per_frame())
        snap_frame = None
        if view.snapping():
            adjust, snap_frame = _snapped(view, [frame], [self.clip.id])
            frame += adjust
        lo, hi = self.limits
        clamped = min(hi, max(lo, frame))
        if clamped != frame:
            snap_frame = None
        self.frame = clamped
        self._place()
        view.show_snap(snap_frame)

    def _place(self) -> None:
        view = self.view
        c = self.clip
        start, end = (self.frame, c.end) if self.edge == "in" else (c.start, self.frame)
        r = view.rows().by_id[c.track_id]
        x0 = view.scene_x(start)
        self.ghosts[0].setRect(QRectF(x0, r.y + 1, max(1.0, view.scene_x(end) - x0), r.height - 2))

    def finish(self) -> bool:
        self.cancel()
        if self.frame != self.origin:
            self.view.trimRequested.emit(self.clip.id, self.edge, int(self.frame))
            return True
        return False

    def cancel(self) -> None:
        _remove(self.view, self.ghosts)
        self.view.show_snap(None)


class ScrubDrag(Drag):
    """Press or drag on the ruler: ask for the playhead at the frame under the mouse."""

    def __init__(self, view: "TimelineView", press: QPointF):
        self.view = view
        self.frame: int | None = None
        self.update(press)

    def update(self, pos: QPointF) -> None:
        frame = max(0, self.view.frame_at_x(pos.x()))
        if frame != self.frame:
            self.frame = frame
            self.view.scrubRequested.emit(frame)

    def finish(self) -> bool:
        return True


class RubberDrag(Drag):
    """Drag on empty track space: select the clips the rectangle touches (added to ``base``)."""

    def __init__(self, view: "TimelineView", press: QPointF, base: set[int]):
        self.view = view
        self.base = set(base)
        self.press_scene = QPointF(press) + view.scroll_offset()
        self.item: QGraphicsRectItem | None = None

    def update(self, pos: QPointF) -> None:
        view = self.view
        current = QPointF(pos) + view.scroll_offset()
        rect = QRectF(self.press_scene, current).normalized()
        if self.item is None:
            if (current - self.press_scene).manhattanLength() < QApplication.startDragDistance():
                return
            self.item = QGraphicsRectItem()
            self.item.setPen(view.pal.rubber_pen)
            self.item.setBrush(view.pal.rubber_brush)
            self.item.setZValue(Z_RUBBER)
            view.scene().addItem(self.item)
        self.item.setRect(rect)
        hit = {it.clip_id for it in view.scene().items(rect, Qt.ItemSelectionMode.IntersectsItemShape)
               if isinstance(it, ClipItem)}
        view.select(self.base | hit)

    def finish(self) -> bool:
        active = self.item is not None
        self.cancel()
        return active

    def cancel(self) -> None:
        if self.item is not None and self.item.scene() is not None:
            self.item.scene().removeItem(self.item)
        self.item = None

