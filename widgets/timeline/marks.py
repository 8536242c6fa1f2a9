"""View state of the edit tools: snapping, the tool, the beat grid, the target track, markers, transitions.

:class:`TimelineMarks` is mixed into :class:`~widgets.timeline.view.TimelineView`
(``self`` is the view). It holds what the user picked (tool, selected marker or
transition, targeted track) and what the app asked to show (beat grid); it
never edits the timeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRect, QRectF
from PySide6.QtGui import QKeySequence

from core.audio.tempo import beat_frames
from core.time import TempoMap
from core.timeline.edit import snap

if TYPE_CHECKING:
    from widgets.timeline.view import TimelineView

TOOLS = ("select", "ripple", "roll", "slip", "slide", "blade")


class TimelineMarks:
    """Tool, snapping, beat grid, target, marker and transition state of the view (a mixin)."""

    def snap_to_beats(self: "TimelineView") -> bool:
        return self._snap_beats

    def set_snap_to_beats(self: "TimelineView", on: bool) -> None:
        """Snap to the beats of the project's tempo map too (see :meth:`set_beat_grid` for drawing them)."""
        self._snap_beats = bool(on)

    def snap_frame(self: "TimelineView", frame: int, exclude=(), markers: bool = True) -> int:
        """``frame`` pulled onto the nearest clip edge (not of ``exclude``), the playhead, a marker
        or (snapping to beats) a beat within the snap distance (:func:`core.timeline.edit.snap`)."""
        return snap(self._tl, int(frame), self.snap_threshold_frames(), exclude=tuple(exclude), playhead=True,
                    markers=markers, beats=self._snap_beats)

    def is_snap_point(self: "TimelineView", frame: int, exclude=(), markers: bool = True) -> bool:
        """Whether ``frame`` is itself a snap point (an edit point of clips other than ``exclude``,
        the playhead, a marker, a beat when snapping to beats)."""
        tl = self._tl
        if frame == 0 or frame == tl.playhead:
            return True
        if markers and any(m.frame == frame for m in tl.markers.values()):
            return True
        ex = set(exclude)
        if any(c.start == frame or c.end == frame for c in tl.clips.values() if c.id not in ex):
            return True
        if self._snap_beats and self._tempo is not None:
            return frame in beat_frames(self._tempo, tl.rate, frame, frame + 1)
        return False

    # ================================================================ tools, beat grid, target, keys
    def tool(self: "TimelineView") -> str:
        return self._tool

    def set_tool(self: "TimelineView", name: str) -> None:
        """The edit tool: one of :data:`TOOLS` (what a drag on a clip or an edge does)."""
        if name not in TOOLS:
            raise ValueError(f"unknown timeline tool {name!r} (one of {', '.join(TOOLS)})")
        if name != self._tool:
            self._cancel_drag()
            self._tool = name
            self._blade_line.setVisible(False)
            self.toolChanged.emit(name)

    def beat_grid(self: "TimelineView") -> TempoMap | None:
        return self._tempo

    def set_beat_grid(self: "TimelineView", tempo: TempoMap | None) -> None:
        """Draw the beats of ``tempo`` (bars stronger) behind the clips; None hides the grid."""
        if tempo != self._tempo:
            self._tempo = tempo
            self.scene().update()
            self.viewport().update()

    def target_track(self: "TimelineView") -> int | None:
        return self._target

    def set_target_track(self: "TimelineView", track_id: int | None) -> None:
        """The track Insert/Overwrite put media on (highlighted in its header)."""
        if track_id is not None and track_id not in self._rows.by_id:
            raise KeyError(track_id)
        if track_id != self._target:
            self._target = track_id
            self.viewport().update()
            self.targetTrackChanged.emit(-1 if track_id is None else int(track_id))

    def set_local_shortcuts(self: "TimelineView", keys: dict) -> None:
        """``{QKeySequence or str: callable}``: keys this view handles itself while it has focus,
        before the window's shortcuts (e.g. B for the ripple tool where B elsewhere draws a box)."""
        self._local_keys = {QKeySequence(k).toString(): fn for k, fn in keys.items()}

    # ================================================================ markers & transitions
    def selected_marker(self: "TimelineView") -> int | None:
        return self._marker_sel

    def select_marker(self: "TimelineView", marker_id: int | None) -> None:
        if marker_id is not None and (self._tl is None or marker_id not in self._tl.markers):
            marker_id = None
        if marker_id == self._marker_sel:
            return
        self._marker_sel = marker_id
        if marker_id is not None:
            self.select([], keep_others=True)
            self.select_transition(None)
        self.viewport().update()
        self.markerSelectionChanged.emit(-1 if marker_id is None else int(marker_id))

    def preview_marker(self: "TimelineView", marker_id: int | None, frame: int) -> None:
        """Show a marker's flag at ``frame`` while it is dragged (None: back to the model)."""
        self._marker_preview = None if marker_id is None else (int(marker_id), int(frame))
        vp = self.viewport()
        vp.update(QRect(0, 0, vp.width(), self.pal.ruler_height))

    def marker_marks(self: "TimelineView") -> tuple:
        """What the ruler shows of the markers: (frame, duration, colour, name, selected) each."""
        if self._tl is None:
            return ()
        pv = self._marker_preview
        return tuple(sorted((pv[1] if pv is not None and pv[0] == m.id else m.frame, m.duration, m.color, m.name,
                             m.id == self._marker_sel) for m in self._tl.markers.values()))

    def marker_at(self: "TimelineView", pos: QPointF) -> int | None:
        """The marker whose flag (or span) is under a viewport point in the marker lane."""
        if self._tl is None or pos.y() >= self.pal.marker_lane_height or pos.x() < self.pal.header_width:
            return None
        best = None
        for m in self._tl.markers.values():
            x0 = self.x_for_frame(m.frame)
            x1 = max(x0 + 11, self.x_for_frame(m.frame + m.duration))
            if x0 - 2 <= pos.x() <= x1:
                d = abs(pos.x() - x0)
                if best is None or d < best[0]:
                    best = (d, m.id)
        return best[1] if best is not None else None

    def selected_transition(self: "TimelineView") -> int | None:
        return self._transition_sel

    def select_transition(self: "TimelineView", transition_id: int | None) -> None:
        if transition_id is not None and (self._tl is None or transition_id not in self._tl.transitions):
            transition_id = None
        if transition_id == self._transition_sel:
            return
        self._transition_sel = transition_id
        if transition_id is not None:
            self.select([], keep_others=True)
            self.select_marker(None)
        for tid, item in self._trans_items.items():
            item.set_selected(tid == transition_id)
        self.transitionSelectionChanged.emit(-1 if transition_id is None else int(transition_id))

    def transition_rect(self: "TimelineView", transition_id: int) -> QRectF:
        """The transition's bar in viewport coordinates."""
        item = self._trans_items[transition_id]
        return item.mapRectToScene(item.rect()).translated(-self.scroll_offset())
