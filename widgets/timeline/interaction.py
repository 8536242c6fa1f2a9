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

from PySide6.QtCore import QLineF, QMimeData, QPointF, Qt
from PySide6.QtGui import (QContextMenuEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent, QKeyEvent,
                           QMouseEvent, QWheelEvent)

from core.timeline.edit import snap
from widgets.timeline.drag import MoveDrag, RubberDrag, ScrubDrag, TrimDrag
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
        """(area, clip id, edge): area is ruler, corner, header, clip, edge or empty."""
        x, y = pos.x(), pos.y()
        pal = self.pal
        if y < pal.ruler_height:
            return ("corner" if x < pal.header_width else "ruler"), None, None
        if x < pal.header_width:
            return "header", None, None
        tid = self.track_at_y(y)
        if tid is None or self._tl is None:
            return "empty", None, None
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
        if area == "ruler":
            self._drag = ScrubDrag(self, pos)
        elif area == "header":
            self._header_click(pos)
        elif area == "edge":
            if not self._locked(cid):
                self._drag = TrimDrag(self, self._tl.clips[cid], edge, pos)
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
            self._drag = RubberDrag(self, pos, self._selection)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        event.accept()
        if self._drag is not None:
            self._drag.update(event.position())
        else:
            self._update_cursor(event.position())

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

    def _update_cursor(self, pos: QPointF) -> None:
        shape = Qt.CursorShape.ArrowCursor
        if self._tl is not None:
            area, cid, _ = self.hit_test(pos)
            if area == "edge" and not self._locked(cid):
                shape = Qt.CursorShape.SizeHorCursor
        if shape != self._cursor:
            self._cursor = shape
            self.viewport().setCursor(shape)

    def _cancel_drag(self) -> None:
        if self._drag is not None:
            self._drag.cancel()
            self._drag = None
        self._reduce_to = None

    # ================================================================ keyboard & wheel
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self._selection:
            self.deleteRequested.emit(sorted(self._selection))
        elif (key == Qt.Key.Key_S and not mods) or (key == Qt.Key.Key_K and ctrl):
            self.splitRequested.emit()
        elif key == Qt.Key.Key_Escape:
            if self._drag is not None:
                self._cancel_drag()
            else:
                self.select([])
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
            frame = snap(self._tl, frame, self.snap_threshold_frames())
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
