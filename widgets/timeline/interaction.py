"""What the user does to the timeline view: mouse, keyboard, wheel, drag and drop.

:class:`TimelineInteraction` is mixed into :class:`~widgets.timeline.view.TimelineView`
(it uses the view's geometry helpers and emits the view's signals). Every
handler ends in a signal or in view state (selection, zoom, scroll); none
edits the timeline.
"""

from __future__ import annotations

import json
import logging
import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QLineF, QMimeData, QPointF, Qt
from PySide6.QtGui import (QContextMenuEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeyEvent,
                           QKeySequence, QMouseEvent, QWheelEvent)
from PySide6.QtWidgets import QToolTip

from core.time import frames_to_timecode
from widgets.timeline.decor import transition_at, transition_label
from widgets.timeline.drag import MoveDrag, RubberDrag, ScrubDrag, TrimDrag
from widgets.timeline.edit_drags import MarkerDrag, RippleDrag, RollDrag, SlideDrag, SlipDrag
from widgets.timeline.overlay import badge_rects

if TYPE_CHECKING:
    from widgets.timeline.view import TimelineView

log = logging.getLogger(__name__)

#: Drag-and-drop type of the media bin: a JSON list of media ids.
MEDIA_MIME = "application/x-luma-media"
WHEEL_ZOOM_STEP = 1.25  # per wheel notch / +/- key


def drop_payload(mime: QMimeData) -> tuple[str, list] | None:
    """("media", ids) for the media bin's type, ("files", paths) for local file URLs, else None."""
    if mime.hasFormat(MEDIA_MIME):
        try:
            ids = json.loads(bytes(mime.data(MEDIA_MIME).data()).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            log.warning("ignored a media drop that is not JSON: %s", exc)
            return None
        if isinstance(ids, list) and ids and all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            return "media", ids
        log.warning("ignored a media drop that is not a list of media ids")
        return None
    if mime.hasUrls():
        paths = [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]
        if paths:
            return "files", paths
    return None


class TimelineInteraction:
    """Event handlers of the timeline view (a mixin; ``self`` is the TimelineView)."""

    # ================================================================ hit testing
    def hit_test(self: "TimelineView", pos: QPointF) -> tuple[str, int | None, str | None]:
        """(area, id, edge): area is ruler, corner, header, marker (id: the marker), transition
        (id: the transition), clip, edge (id: the clip) or empty."""
        x, y = pos.x(), pos.y()
        pal = self.pal
        if y < pal.ruler_height:
            if x < pal.header_width:
                return "corner", None, None
            mid = self.marker_at(pos)
            return ("marker", mid, None) if mid is not None else ("ruler", None, None)
        if x < pal.header_width:
            return "header", None, None
        tid = self.track_at_y(y)
        if tid is None or self._tl is None:
            return "empty", None, None
        trans = transition_at(self, pos + self.scroll_offset())
        if trans is not None:
            return "transition", trans, None
        f = (x + self.scroll_offset().x() - pal.header_width) / self._ppf
        ez = pal.edge_zone
        under = self._tl.clip_at(tid, math.floor(f))
        if under is not None:
            xs, xe = self.x_for_frame(under.start), self.x_for_frame(under.end)
            zone = min(ez, (xe - xs) / 3.0)
            if x - xs <= zone:
                return "edge", under.id, "in"
            if xe - x <= zone:
                return "edge", under.id, "out"
            return "clip", under.id, None
        zf = ez / self._ppf
        best = None
        for c in self._tl.clips_in_range(tid, math.floor(f - zf) - 1, math.ceil(f + zf) + 1):
            for dist, edge in ((x - self.x_for_frame(c.end), "out"), (self.x_for_frame(c.start) - x, "in")):
                if 0 <= dist <= ez and (best is None or dist < best[0]):
                    best = (dist, c.id, edge)
        if best is not None:
            return "edge", best[1], best[2]
        return "empty", None, None

    def _locked(self, clip_id: int) -> bool:
        return self._tl.track(self._tl.clips[clip_id].track_id).locked

    def clip_under(self: "TimelineView", pos: QPointF):
        """The clip whose body is under a viewport point (edges included), or None."""
        tid = self.track_at_y(pos.y())
        if tid is None or self._tl is None or pos.x() < self.pal.header_width:
            return None
        return self._tl.clip_at(tid, self.frame_at_x(pos.x()))

    def blade_frame(self: "TimelineView", pos: QPointF) -> int:
        """The frame boundary nearest a viewport x (snapped when snapping is on): where the blade cuts."""
        frame = round((pos.x() + self.scroll_offset().x() - self.pal.header_width) / self._ppf)
        if self._snapping:
            frame = self.snap_frame(frame)
        return max(0, frame)

    # ================================================================ mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:
        event.accept()
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        pos = event.position()
        if self._tl is None or self._drag is not None:
            return
        area, cid, edge = self.hit_test(pos)
        if event.button() == Qt.MouseButton.RightButton:
            if cid is not None and cid not in self._selection:
                self.select([cid])
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        additive = bool(event.modifiers() & (Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.ControlModifier))
        self._reduce_to = None
        tool = self._tool
        if area in ("clip", "edge") and tool in ("slip", "slide", "blade"):
            clip = self.clip_under(pos)
            if clip is not None:
                self._tool_press(tool, clip, pos)
                return
        if area == "ruler":
            self._drag = ScrubDrag(self, pos)
        elif area == "marker":
            self.select_marker(cid)
            self._drag = MarkerDrag(self, self._tl.markers[cid], pos)
        elif area == "transition":
            self.select_transition(cid)
        elif area == "header":
            self._header_click(pos)
        elif area == "edge":
            if not self._locked(cid):
                drag = {"ripple": RippleDrag, "roll": RollDrag}.get(tool, TrimDrag)
                self._drag = drag(self, self._tl.clips[cid], edge, pos)
        elif area == "clip" and tool in ("ripple", "roll"):
            if not additive:
                self.select([cid])
        elif area == "clip":
            if additive:
                self.select(self._selection ^ {cid})
            elif cid not in self._selection:
                self.select([cid])
            elif len(self._selection) > 1:
                self._reduce_to = cid  # a click without a drag keeps only this clip
            if cid in self._selection and not self._locked(cid):
                ids = [i for i in self._selection if not self._locked(i)]
                self._drag = MoveDrag(self, self._tl.clips[cid], ids, pos)
        elif area == "empty":
            if not additive:
                self.select([])
                self.select_marker(None)
                self.select_transition(None)
            self._drag = RubberDrag(self, pos, self._selection)

    def _tool_press(self: "TimelineView", tool: str, clip, pos: QPointF) -> None:
        self.select([clip.id])
        if self._locked(clip.id):
            return
        if tool == "slip":
            self._drag = SlipDrag(self, clip, pos)
        elif tool == "slide":
            self._drag = SlideDrag(self, clip, pos)
        else:
            frame = self.blade_frame(pos)
            if clip.start < frame < clip.end:
                self.bladeRequested.emit(clip.id, frame)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        event.accept()
        if self._drag is not None:
            self._drag.update(event.position())
        else:
            self._update_cursor(event.position())
            self._update_blade_line(event.position())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        event.accept()
        if self._drag is not None and event.button() == Qt.MouseButton.LeftButton:
            drag, self._drag = self._drag, None
            drag.update(event.position())
            did = drag.finish()
            if not did and self._reduce_to is not None:
                self.select([self._reduce_to])
            self._reduce_to = None
        self._update_cursor(event.position())

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        event.accept()
        if event.button() != Qt.MouseButton.LeftButton or self._tl is None:
            return
        area, cid, _ = self.hit_test(event.position())
        if area == "clip":
            self.clipDoubleClicked.emit(cid)
        elif area == "marker":
            self._cancel_drag()
            self.markerDoubleClicked.emit(cid)
        elif area == "transition":
            self.transitionDoubleClicked.emit(cid)
        elif area == "ruler" and self._drag is None:
            self._drag = ScrubDrag(self, event.position())

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        event.accept()
        pos = QPointF(event.pos())
        tid = self.track_at_y(pos.y())
        self.contextMenuRequested.emit(event.globalPos(), -1 if tid is None else tid,
                                       max(0, self.frame_at_x(pos.x())))

    def _header_click(self, pos: QPointF) -> None:
        tid = self.track_at_y(pos.y())
        if tid is None:
            return
        row = self._rows.by_id[tid]
        for flag, rect in badge_rects(self.pal, row.y - self.scroll_offset().y(), row.height):
            if rect.contains(pos):
                self.trackToggleRequested.emit(tid, flag)
                return
        self.set_target_track(tid)

    def _update_cursor(self, pos: QPointF) -> None:
        shape = Qt.CursorShape.ArrowCursor
        if self._tl is not None:
            area, cid, _ = self.hit_test(pos)
            tool = self._tool
            if area in ("clip", "edge") and tool in ("slip", "slide", "blade"):
                clip = self.clip_under(pos)
                if clip is not None and not self._locked(clip.id):
                    shape = Qt.CursorShape.IBeamCursor if tool == "blade" else Qt.CursorShape.SplitHCursor
            elif area == "edge" and not self._locked(cid):
                shape = Qt.CursorShape.SplitHCursor if tool == "roll" else Qt.CursorShape.SizeHorCursor
            elif area == "marker":
                shape = Qt.CursorShape.PointingHandCursor
        if shape != self._cursor:
            self._cursor = shape
            self.viewport().setCursor(shape)

    def _update_blade_line(self: "TimelineView", pos: QPointF) -> None:
        """With the blade, a line shows where a click would cut the clip under the mouse."""
        clip = self.clip_under(pos) if self._tool == "blade" and self._tl is not None else None
        frame = self.blade_frame(pos) if clip is not None else None
        if clip is None or not clip.start < frame < clip.end:
            self._blade_line.setVisible(False)
            return
        row = self._rows.by_id[clip.track_id]
        x = self.scene_x(frame)
        self._blade_line.setLine(QLineF(x, row.y, x, row.bottom))
        self._blade_line.setVisible(True)

    def leaveEvent(self, event) -> None:
        self._blade_line.setVisible(False)
        super().leaveEvent(event)

    def viewportEvent(self: "TimelineView", event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and self._tl is not None:
            text = self._tooltip(QPointF(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self.viewport())
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().viewportEvent(event)

    def _tooltip(self: "TimelineView", pos: QPointF) -> str:
        area, oid, _ = self.hit_test(pos)
        tl = self._tl
        if area == "marker":
            m = tl.markers[oid]
            lines = [m.name or "(unnamed marker)", frames_to_timecode(m.frame, tl.rate)]
            if m.duration:
                lines[-1] += f" + {frames_to_timecode(m.duration, tl.rate)}"
            if m.note:
                lines.append(m.note)
            return "\n".join(lines)
        if area == "transition":
            tr = tl.transitions[oid]
            return transition_label(tr.kind, tr.duration, tl.rate) + f" ({tr.duration} frames)"
        return ""

    def _cancel_drag(self) -> None:
        if self._drag is not None:
            self._drag.cancel()
            self._drag = None
        self._reduce_to = None

    # ================================================================ keyboard & wheel
    def _local_key(self, event: QKeyEvent):
        if not self._local_keys:
            return None
        return self._local_keys.get(QKeySequence(event.keyCombination()).toString())

    def event(self, event: QEvent) -> bool:
        # keys the app gave this view (set_local_shortcuts) win over the window's shortcuts while it has focus
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and self._local_key(event) is not None):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        local = self._local_key(event)
        if local is not None:
            local()
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._marker_sel is not None:
            self.markerDeleteRequested.emit(self._marker_sel)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._transition_sel is not None:
            self.transitionDeleteRequested.emit(self._transition_sel)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._selection:
            self.deleteRequested.emit(sorted(self._selection))
        elif key == Qt.Key.Key_S and not mods:
            self.set_snapping(not self._snapping)
            self.snappingChanged.emit(self._snapping)
        elif key == Qt.Key.Key_K and ctrl:
            self.splitRequested.emit()
        elif key == Qt.Key.Key_Escape:
            if self._drag is not None:
                self._cancel_drag()
            else:
                self.select([])
                self.select_marker(None)
                self.select_transition(None)
        elif key == Qt.Key.Key_A and ctrl:
            self.select(self._items.keys())
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.set_zoom(self._ppf * WHEEL_ZOOM_STEP)
        elif key == Qt.Key.Key_Minus:
            self.set_zoom(self._ppf / WHEEL_ZOOM_STEP)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta()
        mods = event.modifiers()
        if mods & Qt.KeyboardModifier.ControlModifier:
            if delta.y():
                self.set_zoom(self._ppf * WHEEL_ZOOM_STEP ** (delta.y() / 120.0), event.position().x())
            event.accept()
            return
        if mods & Qt.KeyboardModifier.ShiftModifier or abs(delta.x()) > abs(delta.y()):
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - (delta.x() or delta.y()))
            event.accept()
            return
        super().wheelEvent(event)

    # ================================================================ drops
    drop_payload = staticmethod(drop_payload)

    def _drop_target(self, pos: QPointF) -> tuple[int, int]:
        tid = self.track_at_y(pos.y())
        frame = max(0, self.frame_at_x(max(pos.x(), float(self.pal.header_width))))
        if self._snapping and self._tl is not None:
            frame = self.snap_frame(frame)
        return (-1 if tid is None else tid), frame

    def _show_drop(self, pos: QPointF | None) -> None:
        if pos is None:
            self._drop_line.setVisible(False)
            return
        tid, frame = self._drop_target(pos)
        x = self.scene_x(frame)
        if tid >= 0:
            row = self._rows.by_id[tid]
            self._drop_line.setLine(QLineF(x, row.y, x, row.bottom))
        else:
            self._drop_line.setLine(QLineF(x, self.pal.ruler_height, x, self._rows.bottom))
        self._drop_line.setVisible(True)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._tl is not None and self.drop_payload(event.mimeData()) is not None:
            event.acceptProposedAction()
            self._show_drop(event.position())
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._tl is not None and self.drop_payload(event.mimeData()) is not None:
            event.acceptProposedAction()
            self._show_drop(event.position())
        else:
            event.ignore()

    def dragLeaveEvent(self, event) -> None:
        self._show_drop(None)
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        self._show_drop(None)
        payload = self.drop_payload(event.mimeData()) if self._tl is not None else None
        if payload is None:
            event.ignore()
            return
        event.acceptProposedAction()
        tid, frame = self._drop_target(event.position())
        kind, values = payload
        if kind == "media":
            self.mediaDropped.emit(values, tid, frame)
        else:
            self.filesDropped.emit(values, tid, frame)
