"""The timeline view: tracks, clips, ruler and playhead of one sequence.

:class:`TimelineView` shows a :class:`core.timeline.model.Timeline` and turns
gestures into *intent signals*; it never edits the model. The app connects the
signals to undoable commands, the commands call :mod:`core.timeline.edit`, the
timeline emits ``changed`` and the view redraws the touched clips.

Signals (all frames are sequence frames):

* ``moveRequested(list[int] clip_ids, int delta_frames, dict track_map)``:
  clip bodies dragged; ``track_map`` is {old track id: new track id}, only
  for tracks that change;
* ``trimRequested(int clip_id, str edge, int frame)``: edge ``"in"``/``"out"``
  dragged to ``frame``;
* ``scrubRequested(int frame)``: ruler pressed or dragged;
* ``deleteRequested(list[int])``: Delete/Backspace with clips selected;
* ``splitRequested()``: S or Ctrl+K (the app splits at the playhead);
* ``mediaDropped(list[int] media_ids, int track_id, int frame)`` and
  ``filesDropped(list[str] paths, int track_id, int frame)``: drops;
  ``track_id`` is -1 when the drop is not over a track;
* ``selectionChanged(list[int])``, ``trackToggleRequested(int track_id, str flag)``
  (``"muted"``/``"solo"``/``"hidden"``/``"locked"`` badge clicked),
  ``clipDoubleClicked(int)``, ``contextMenuRequested(QPoint global_pos, int track_id, int frame)``,
  ``zoomChanged(float pixels_per_frame)``;
* edit tools (:meth:`set_tool`: ``select``, ``ripple``, ``roll``, ``slip``,
  ``slide``, ``blade``): ``rippleTrimRequested``, ``rollRequested``,
  ``slipRequested``, ``slideRequested`` (see :mod:`widgets.timeline.edit_drags`)
  and ``bladeRequested(int clip_id, int frame)``;
* markers (flags in the lane above the ruler): ``markerMoveRequested(int id, int frame)``,
  ``markerDoubleClicked(int)``, ``markerSelectionChanged(int id or -1)``,
  ``markerDeleteRequested(int)``;
* transitions (bars over cuts): ``transitionSelectionChanged(int id or -1)``,
  ``transitionDoubleClicked(int)``, ``transitionDeleteRequested(int)``;
* ``targetTrackChanged(int)`` (a header clicked outside its badges),
  ``snappingChanged(bool)`` (the S key), ``timelineSet()``.

View state the app sets: :meth:`set_tool`, :meth:`set_snapping`,
:meth:`set_snap_to_beats`, :meth:`set_beat_grid` (a tempo map to draw, or
None), :meth:`set_target_track`, :meth:`set_local_shortcuts` (keys the view
takes over from the window's shortcuts while it has focus).

Coordinates: the public helpers take and return *viewport* coordinates (what
mouse events on ``view.viewport()`` carry); the view has no frame, so they are
also the widget's coordinates.
"""

from __future__ import annotations

import logging
import math
from typing import Callable

import numpy as np
import shiboken6
from PySide6.QtCore import QLineF, QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap, QResizeEvent
from PySide6.QtWidgets import QFrame, QGraphicsLineItem, QGraphicsScene, QGraphicsView, QWidget

from core.time import TempoMap, frames_to_timecode
from core.timeline.model import Clip, Timeline
from widgets.timeline.decor import draw_grid, sync_transitions
from widgets.timeline.drag import Drag
from widgets.timeline.interaction import MEDIA_MIME, TimelineInteraction
from widgets.timeline.items import PEAKS_PER_SECOND, Z_PLAYHEAD, Z_SNAP, ClipItem, TransitionItem
from widgets.timeline.layout import TrackRows
from widgets.timeline.marks import TOOLS, TimelineMarks
from widgets.timeline.overlay import Overlay
from widgets.timeline.palette import TimelinePalette

log = logging.getLogger(__name__)

__all__ = ["MEDIA_MIME", "TOOLS", "TimelineView"]

MIN_PIXELS_PER_FRAME = 1e-3
MAX_PIXELS_PER_FRAME = 100.0

ThumbnailProvider = Callable[[int], "QImage | None"]
WaveformProvider = Callable[[int], "np.ndarray | None"]


class TimelineView(TimelineInteraction, TimelineMarks, QGraphicsView):
    moveRequested = Signal(list, int, object)
    trimRequested = Signal(int, str, int)
    scrubRequested = Signal(int)
    deleteRequested = Signal(list)
    splitRequested = Signal()
    mediaDropped = Signal(list, int, int)
    filesDropped = Signal(list, int, int)
    selectionChanged = Signal(list)
    trackToggleRequested = Signal(int, str)
    clipDoubleClicked = Signal(int)
    contextMenuRequested = Signal(QPoint, int, int)
    zoomChanged = Signal(float)
    rippleTrimRequested = Signal(int, str, int)
    rollRequested = Signal(int, str, int)
    slipRequested = Signal(int, int)
    slideRequested = Signal(int, int)
    bladeRequested = Signal(int, int)
    markerMoveRequested = Signal(int, int)
    markerDoubleClicked = Signal(int)
    markerSelectionChanged = Signal(int)
    markerDeleteRequested = Signal(int)
    transitionSelectionChanged = Signal(int)
    transitionDoubleClicked = Signal(int)
    transitionDeleteRequested = Signal(int)
    targetTrackChanged = Signal(int)
    snappingChanged = Signal(bool)
    toolChanged = Signal(str)
    timelineSet = Signal()

    def __init__(self, parent: QWidget | None = None, palette: TimelinePalette | None = None):
        super().__init__(parent)
        self.pal = palette or TimelinePalette()
        self.setScene(QGraphicsScene(self))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontSavePainterState
                                  | QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing)
        self.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setDragMode(QGraphicsView.DragMode.NoDrag)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.viewport().setMouseTracking(True)

        self._tl: Timeline | None = None
        self._ppf = 2.0
        self._items: dict[int, ClipItem] = {}
        self._dirty: set[int] = set()  # clips whose children wait for a layout until they are near the screen
        self._tracks_sig: tuple = ()
        self._rows = TrackRows([], self.pal.ruler_height, 0, 0, 0)
        self._selection: set[int] = set()
        self._drag: Drag | None = None
        self._reduce_to: int | None = None
        self._snapping = True
        self._snap_beats = False
        self._snap_points: set[int] | None = None
        self._tempo: TempoMap | None = None
        self._tool = "select"
        self._marker_sel: int | None = None
        self._marker_preview: tuple[int, int] | None = None
        self._transition_sel: int | None = None
        self._trans_items: dict[int, TransitionItem] = {}
        self._target: int | None = None
        self._local_keys: dict[str, Callable[[], None]] = {}
        self._cursor = Qt.CursorShape.ArrowCursor
        self.follow_playhead = True
        self._thumb_provider: ThumbnailProvider | None = None
        self._wave_provider: WaveformProvider | None = None
        self._thumbs: dict[int, QPixmap | None] = {}
        self._peaks: dict[int, np.ndarray | None] = {}
        self._overlay = Overlay(self.pal)
        self.lighting = None  # widgets.timeline.lanes.LightingLanes (below the audio tracks) once attached

        self._playhead = QGraphicsLineItem()
        self._playhead.setPen(self.pal.playhead_pen)
        self._playhead.setZValue(Z_PLAYHEAD)
        self._snap_line = QGraphicsLineItem()
        self._snap_line.setPen(self.pal.snap_pen)
        self._snap_line.setZValue(Z_SNAP)
        self._drop_line = QGraphicsLineItem()
        self._drop_line.setPen(self.pal.drop_pen)
        self._drop_line.setZValue(Z_SNAP)
        self._blade_line = QGraphicsLineItem()
        self._blade_line.setPen(self.pal.blade_pen)
        self._blade_line.setZValue(Z_SNAP)
        for item in (self._playhead, self._snap_line, self._drop_line, self._blade_line):
            item.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
            item.setVisible(item is self._playhead)
            self.scene().addItem(item)
        self._update_scene_rect()

    # ================================================================ model
    def timeline(self) -> Timeline | None:
        return self._tl

    def set_timeline(self, tl: Timeline | None) -> None:
        """Show ``tl`` (None: nothing) and follow its ``changed``/``playhead_moved`` signals."""
        if self._tl is not None:
            self._tl.changed.disconnect(self._on_changed)
            self._tl.playhead_moved.disconnect(self._on_playhead_moved)
        self._cancel_drag()
        self._tl = tl
        if tl is not None:
            tl.changed.connect(self._on_changed)
            tl.playhead_moved.connect(self._on_playhead_moved)
        self._marker_sel = self._transition_sel = None
        if self._target is not None and (tl is None or self._target not in {t.id for t in tl.tracks}):
            self._target = None
        self._rebuild()
        self.timelineSet.emit()

    def set_providers(self, thumbnail: ThumbnailProvider | None = None,
                      waveform: WaveformProvider | None = None) -> None:
        """``thumbnail(media_id) -> QImage | None``; ``waveform(media_id) -> (n, 2) min/max peaks
        at 100 per second of source, values in [-1, 1] (integer arrays are scaled) | None``."""
        self._thumb_provider, self._wave_provider = thumbnail, waveform
        self.invalidate_media()

    def invalidate_media(self, media_id: int | None = None) -> None:
        """Ask the providers again (all media, or one) — e.g. when a thumbnail/peaks job finishes."""
        if media_id is None:
            self._thumbs.clear()
            self._peaks.clear()
        else:
            self._thumbs.pop(media_id, None)
            self._peaks.pop(media_id, None)
        if self._tl is None:
            return
        for item in self._items.values():
            if media_id is None or item.clip.media_id == media_id:
                self._set_content(item, item.clip)
                self._dirty.add(item.clip_id)
        self._layout_visible()

    def _alive(self) -> bool:
        if shiboken6.isValid(self):
            return True
        self._tl = None  # the Qt object is gone: stop listening (see set_timeline)
        return False

    def _on_changed(self, touched: set[int]) -> None:
        if not self._alive() or self._tl is None:
            return
        self._cancel_drag()
        tl = self._tl
        if not touched or tuple(tl.tracks) != self._tracks_sig:
            self._rebuild()
            return
        for cid in touched:
            clip = tl.clips.get(cid)
            item = self._items.get(cid)
            if clip is None:
                if item is not None:
                    self.scene().removeItem(item)
                    del self._items[cid]
            elif item is None or item.kind != self._rows.by_id[clip.track_id].kind:
                if item is not None:
                    self.scene().removeItem(item)
                self._add_item(clip)
            else:
                self._update_item(item, clip)
        self._after_model_change()

    def _rebuild(self) -> None:
        scene = self.scene()
        for item in self._items.values():
            scene.removeItem(item)
        self._items.clear()
        self._dirty.clear()
        tl = self._tl
        tracks = tl.tracks if tl is not None else []
        self._tracks_sig = tuple(tracks)
        p = self.pal
        self._rows = TrackRows(tracks, p.ruler_height, p.video_track_height, p.audio_track_height, p.divider_height)
        if tl is not None:
            for clip in tl.clips.values():
                self._add_item(clip)
        self._overlay.invalidate()
        self._after_model_change()

    def _after_model_change(self) -> None:
        self._snap_points = None
        self.select(self._selection, keep_others=True)  # drops ids that are gone
        tl = self._tl
        if self._marker_sel is not None and (tl is None or self._marker_sel not in tl.markers):
            self.select_marker(None)
        if self._transition_sel is not None and (tl is None or self._transition_sel not in tl.transitions):
            self.select_transition(None)
        if self._target is not None and self._target not in self._rows.by_id:
            self.set_target_track(None)
        sync_transitions(self)
        self._update_scene_rect()
        self._on_playhead_moved(self._tl.playhead if self._tl is not None else 0, follow=False)
        self._layout_visible()
        self.viewport().update()

    # ================================================================ clip items
    def _add_item(self, clip: Clip) -> None:
        item = ClipItem(clip.id, self._rows.by_id[clip.track_id].kind, self.pal)
        self._items[clip.id] = item
        self.scene().addItem(item)
        self._update_item(item, clip, new=True)

    def _update_item(self, item: ClipItem, clip: Clip, new: bool = False) -> None:
        old = None if new else item.clip
        item.clip = clip
        self._place(item)
        speed = clip.speed
        item.set_name(clip.name if speed == 1 else f"{clip.name} ({float(speed) * 100:.4g}%)")
        if old is None or (old.media_id, old.source_in, old.duration, old.speed) != \
                (clip.media_id, clip.source_in, clip.duration, clip.speed):
            self._set_content(item, clip)
        self._style(item)
        self._dirty.add(clip.id)

    def _layout_visible(self) -> None:
        """Lay out the children of dirty clips within a screen width of the visible part."""
        if not self._dirty:
            return
        x0 = self.scroll_offset().x()
        vw = self.viewport().width()
        lo, hi = x0 - vw, x0 + 2 * vw
        done = []
        for cid in self._dirty:
            item = self._items.get(cid)
            if item is None:
                done.append(cid)
            elif item.pos().x() <= hi and item.pos().x() + item.rect().width() >= lo:
                item.layout_children()
                done.append(cid)
        self._dirty.difference_update(done)

    def _place(self, item: ClipItem) -> None:
        c = item.clip
        row = self._rows.by_id[c.track_id]
        w = c.duration * self._ppf
        # a one-pixel gap separates neighbours (clips have no outline)
        item.set_geometry(self.scene_x(c.start), row.y + 1, w - 1.0 if w >= 4.0 else max(1.0, w), row.height - 2)

    def _style(self, item: ClipItem) -> None:
        track = self._tl.track(item.clip.track_id)
        if track.locked:
            state = "locked"
        elif track.hidden if track.kind == "video" else track.muted:
            state = "dim"
        else:
            state = "normal"
        item.set_style(state, item.clip_id in self._selection)

    def _set_content(self, item: ClipItem, clip: Clip) -> None:
        if item.kind == "video":
            item.set_thumbnail(self._thumbnail(clip.media_id))
            return
        peaks = self._waveform(clip.media_id)
        if peaks is None:
            item.set_waveform(None)
        else:
            per_frame = PEAKS_PER_SECOND / float(self._tl.rate)
            item.set_waveform(peaks, clip.source_in * per_frame,
                              float(clip.source_position(clip.end)) * per_frame)

    def _thumbnail(self, media_id: int) -> QPixmap | None:
        if self._thumb_provider is None:
            return None
        if media_id not in self._thumbs:
            image = self._thumb_provider(media_id)
            pm = None
            if image is not None and not image.isNull():
                h = max(1, self.pal.video_track_height - 4)
                pm = QPixmap.fromImage(image.scaledToHeight(h, Qt.TransformationMode.SmoothTransformation))
            self._thumbs[media_id] = pm
        return self._thumbs[media_id]

    def _waveform(self, media_id: int) -> np.ndarray | None:
        if self._wave_provider is None:
            return None
        if media_id not in self._peaks:
            raw = self._wave_provider(media_id)
            peaks = None
            if raw is not None:
                arr = np.asarray(raw)
                if arr.ndim != 2 or arr.shape[1] != 2:
                    log.warning("waveform of media #%s has shape %s, expected (n, 2); not drawn", media_id, arr.shape)
                elif np.issubdtype(arr.dtype, np.integer):
                    peaks = arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)
                else:
                    peaks = np.ascontiguousarray(arr, dtype=np.float32)
            self._peaks[media_id] = peaks
        return self._peaks[media_id]

    # ================================================================ selection
    def selected_clip_ids(self) -> list[int]:
        return sorted(self._selection)

    def select(self, ids, keep_others: bool = False) -> None:
        """Select exactly ``ids`` (unknown ids are ignored); emits ``selectionChanged`` on a change.

        Selecting clips drops the marker and transition selection (unless ``keep_others``)."""
        new = {int(i) for i in ids if int(i) in self._items}
        if new and not keep_others:
            self.select_marker(None)
            self.select_transition(None)
        if new == self._selection:
            return
        changed = new ^ self._selection
        self._selection = new
        for cid in changed:
            if cid in self._items:
                self._style(self._items[cid])
        self.selectionChanged.emit(sorted(new))

    # ================================================================ geometry
    def pixels_per_frame(self) -> float:
        return self._ppf

    def rows(self) -> TrackRows:
        return self._rows

    def scroll_offset(self) -> QPointF:
        """Scene position of the viewport's top-left corner."""
        return self.mapToScene(QPoint(0, 0))

    def scene_x(self, frame: float) -> float:
        return self.pal.header_width + frame * self._ppf

    def x_for_frame(self, frame: float) -> float:
        """Viewport x of the left edge of ``frame``."""
        return self.scene_x(frame) - self.scroll_offset().x()

    def frame_at_x(self, x: float) -> int:
        """The frame under viewport x (may be negative left of frame 0)."""
        return math.floor((x + self.scroll_offset().x() - self.pal.header_width) / self._ppf)

    def track_at_y(self, y: float) -> int | None:
        """The track under viewport y, or None (ruler, divider, empty space)."""
        if y < self.pal.ruler_height:
            return None
        row = self._rows.at_y(y + self.scroll_offset().y())
        return row.track_id if row is not None else None

    def clip_rect(self, clip_id: int) -> QRectF:
        """The clip's rectangle (start to end, its row less one pixel each side) in viewport coordinates."""
        if clip_id not in self._items:
            raise KeyError(clip_id)
        c = self._tl.clips[clip_id]
        row = self._rows.by_id[c.track_id]
        return QRectF(self.x_for_frame(c.start), row.y + 1 - self.scroll_offset().y(), c.duration * self._ppf,
                      row.height - 2)

    def snap_threshold_frames(self) -> int:
        return int(self.pal.snap_distance / self._ppf)

    def snapping(self) -> bool:
        return self._snapping

    def set_snapping(self, on: bool) -> None:
        self._snapping = bool(on)

    def show_snap(self, frame: int | None) -> None:
        if frame is None:
            self._snap_line.setVisible(False)
            return
        x = self.scene_x(frame)
        self._snap_line.setLine(QLineF(x, self.pal.ruler_height, x, self._rows.bottom))
        self._snap_line.setVisible(True)

    # ================================================================ zoom & scroll
    def set_zoom(self, pixels_per_frame: float, anchor_x: float | None = None) -> None:
        """Zoom to ``pixels_per_frame``, keeping the frame at viewport ``anchor_x`` (default: left edge) still."""
        ppf = min(MAX_PIXELS_PER_FRAME, max(MIN_PIXELS_PER_FRAME, float(pixels_per_frame)))
        if ppf == self._ppf:
            return
        hw = self.pal.header_width
        ax = hw if anchor_x is None else max(float(anchor_x), hw)
        frame = (ax + self.scroll_offset().x() - hw) / self._ppf
        self._ppf = ppf
        for item in self._items.values():
            self._place(item)
        sync_transitions(self)
        self._dirty.update(self._items)
        self._update_scene_rect()
        self.horizontalScrollBar().setValue(round(hw + frame * ppf - ax))
        self._layout_visible()
        self._on_playhead_moved(self._tl.playhead if self._tl is not None else 0, follow=False)
        self.viewport().update()
        self.zoomChanged.emit(ppf)

    def zoom_to_fit(self) -> None:
        """Zoom so the whole sequence (at least ten seconds) fills the width, and scroll to the start."""
        frames = 0
        if self._tl is not None:
            frames = max(self._tl.duration, int(math.ceil(self._tl.rate * 10)))
        avail = self.viewport().width() - self.pal.header_width - 16
        if frames > 0 and avail > 0:
            self.set_zoom(avail / frames)
        self.horizontalScrollBar().setValue(self.horizontalScrollBar().minimum())

    def ensure_frame_visible(self, frame: int) -> None:
        hw = self.pal.header_width
        x = self.x_for_frame(frame)
        width = self.viewport().width()
        if x < hw or x > width - 8:
            bar = self.horizontalScrollBar()
            bar.setValue(round(self.scene_x(frame) - hw - (width - hw) * 0.1))

    def _update_scene_rect(self) -> None:
        vw = max(1, self.viewport().width())
        frames = max(self._tl.duration, self._tl.playhead + 1) if self._tl is not None else 0
        width = max(vw, self.pal.header_width + frames * self._ppf + max(200.0, vw * 0.5))
        height = (self._rows.bottom if self.lighting is None else max(self._rows.bottom, self.lighting.bottom())) + 24
        self.setSceneRect(QRectF(0, 0, math.ceil(width), math.ceil(height)))
        self._playhead.setLine(QLineF(0, 0, 0, max(height, self.viewport().height() + 1.0)))

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        # The ruler and headers are fixed: repaint them (and the strip that scrolled out from under them).
        vp = self.viewport()
        vp.update(QRect(0, 0, vp.width(), self.pal.ruler_height + abs(dy)))
        vp.update(QRect(0, 0, self.pal.header_width + abs(dx), vp.height()))
        if dx:
            self._layout_visible()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_scene_rect()
        self._layout_visible()

    # ================================================================ playhead
    def _on_playhead_moved(self, frame: int, follow: bool = True) -> None:
        if not self._alive():
            return
        x = self.scene_x(frame)
        if x > self.sceneRect().right() - 50:
            self._update_scene_rect()  # the playhead went past the end: make room to scroll there
        self._playhead.setPos(x, 0)
        rate = self._tl.rate if self._tl is not None else 25
        self._overlay.corner_text = frames_to_timecode(frame, rate) if self._tl is not None else ""
        vp = self.viewport()
        vp.update(QRect(0, 0, vp.width(), self.pal.ruler_height))
        if follow and self.follow_playhead and self._drag is None:
            self.ensure_frame_visible(frame)

    # ================================================================ painting
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        pal = self.pal
        painter.fillRect(rect, pal.background)
        left, width = rect.left(), rect.width()
        for row in self._rows.rows:
            if row.bottom < rect.top() or row.y > rect.bottom():
                continue
            painter.fillRect(QRectF(left, row.y, width, row.height),
                             pal.lane_video if row.kind == "video" else pal.lane_audio)
            painter.fillRect(QRectF(left, row.bottom - 1, width, 1), pal.lane_line)
        rows = self._rows
        if rows.divider_height:
            painter.fillRect(QRectF(left, rows.divider_y, width, rows.divider_height), pal.divider)
        draw_grid(self, painter, rect)
        if self.lighting is not None:
            self.lighting.paint_scene(painter, rect)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        pal = self.pal
        off = self.scroll_offset()
        exposed = rect.translated(-off)
        need_ruler = exposed.top() < pal.ruler_height
        need_header = exposed.left() < pal.header_width
        if not (need_ruler or need_header):
            return
        vp = self.viewport()
        dpr = vp.devicePixelRatioF()
        ruler = header = None
        if need_ruler:
            tl = self._tl
            rate = tl.rate if tl is not None else 25
            in_out = (tl.sequence.in_point, tl.sequence.out_point) if tl is not None else (None, None)
            ruler = self._overlay.ruler_pixmap(max(1, vp.width() - pal.header_width), self._ppf, off.x(),
                                               rate, in_out, dpr, self.marker_marks())
        if need_header:
            tracks = self._tl.tracks if self._tl is not None else []
            header = self._overlay.header_pixmap(max(1, vp.height() - pal.ruler_height), off.y(), self._rows,
                                                 tracks, dpr, self._target)
        playhead_x = self.x_for_frame(self._tl.playhead) if self._tl is not None else None
        painter.save()
        painter.translate(off)
        self._overlay.draw(painter, ruler, header, playhead_x)
        if header is not None and self.lighting is not None:
            self.lighting.paint_headers(painter)
        painter.restore()
