"""TimelineView: layout, gestures -> intent signals, drops, model following, pixels."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication

from core.project.project import Project, now_iso
from core.timeline import edit
from core.timeline.model import Timeline, create_sequence
from widgets.timeline import MEDIA_MIME, TimelinePalette, TimelineView
from widgets.timeline.items import WAVEFORM_TOP
from widgets.timeline.layout import ruler_steps, tick_frames

PPF = 2.0  # pixels per frame in these tests
PAL = TimelinePalette()
HW = PAL.header_width


# ---------------------------------------------------------------- fixtures


@pytest.fixture
def project(tmp_path):
    p = Project.create(tmp_path / "timeline.luma")
    probe = json.dumps({"duration": "10", "has_audio": True, "has_video": True})
    with p.transaction("add media"):
        p.execute(
            "INSERT INTO media(name, path, content_hash, size, kind, probe, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("shot.mp4", "shot.mp4", "0" * 64, 1234, "video", probe, now_iso()),
        )
    yield p
    p.close()


@pytest.fixture
def tl(project):
    """25 fps; V1: A [0, 50) and B [150, 200); A1: C [0, 100)."""
    t = Timeline(project, create_sequence(project, rate=25))
    v1, a1 = t.video_tracks()[0].id, t.audio_tracks()[0].id
    edit.add_clip(t, 1, v1, 0, 50, name="A")
    edit.add_clip(t, 1, v1, 150, 50, name="B")
    edit.add_clip(t, 1, a1, 0, 100, name="C")
    return t


def ids(tl):
    by_name = {c.name: c.id for c in tl.clips.values()}
    v1, v2 = (t.id for t in tl.video_tracks())
    a1, a2 = (t.id for t in tl.audio_tracks())
    return by_name, {"V1": v1, "V2": v2, "A1": a1, "A2": a2}


@pytest.fixture
def view(qtbot, tl):
    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(1000, 340)
    v.set_timeline(tl)
    v.show()
    qtbot.waitExposed(v)
    v.set_zoom(PPF)
    v.horizontalScrollBar().setValue(0)
    return v


def pt(p: QPointF) -> QPoint:
    return QPoint(round(p.x()), round(p.y()))


def drag(qtbot, view, start: QPointF, end: QPointF, steps: int = 6, modifier=Qt.KeyboardModifier.NoModifier):
    w = view.viewport()
    qtbot.mousePress(w, Qt.MouseButton.LeftButton, modifier, pt(start))
    for i in range(1, steps + 1):
        qtbot.mouseMove(w, pt(start + (end - start) * (i / steps)))
    qtbot.mouseRelease(w, Qt.MouseButton.LeftButton, modifier, pt(end))


def no_signal(qtbot, signal, action):
    with qtbot.assertNotEmitted(signal):
        action()


# ---------------------------------------------------------------- layout


def test_layout_rows_and_coordinates(view, tl):
    by_name, tr = ids(tl)
    rows = view.rows().rows
    assert [r.track_id for r in rows] == [tr["V2"], tr["V1"], tr["A1"], tr["A2"]]
    assert view.x_for_frame(0) == HW and view.x_for_frame(100) == HW + 100 * PPF
    assert view.frame_at_x(HW + 37 * PPF + 1) == 37
    ra = view.clip_rect(by_name["A"])
    assert ra.left() == HW and ra.width() == 50 * PPF
    assert view.track_at_y(ra.center().y()) == tr["V1"]
    assert view.track_at_y(view.clip_rect(by_name["C"]).center().y()) == tr["A1"]
    # V2 above V1 above the divider, then A1 above A2
    ys = [view.rows().by_id[tr[k]].y for k in ("V2", "V1", "A1", "A2")]
    assert ys == sorted(ys)
    assert view.track_at_y(5) is None  # the ruler


def test_ruler_steps_adapt_to_zoom():
    major, minor = ruler_steps(2.0, 25, label_spacing=96)
    assert major == 50 and major * 2.0 >= 96 and major % minor == 0
    assert ruler_steps(40.0, 25, label_spacing=96) == (5, 1)
    far, _ = ruler_steps(0.01, 25, label_spacing=96)
    assert far % (25 * 60) == 0  # whole minutes when zoomed far out
    assert list(tick_frames(-30, 120, 50)) == [0, 50, 100]


# ---------------------------------------------------------------- gestures


def test_click_selects_and_modifiers_add(qtbot, view, tl):
    by_name, _ = ids(tl)
    a, b = by_name["A"], by_name["B"]
    w = view.viewport()
    with qtbot.waitSignal(view.selectionChanged) as sel:
        qtbot.mouseClick(w, Qt.MouseButton.LeftButton, pos=pt(view.clip_rect(a).center()))
    assert sel.args == [[a]]
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, pt(view.clip_rect(b).center()))
    assert view.selected_clip_ids() == sorted([a, b])
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, pt(view.clip_rect(a).center()))
    assert view.selected_clip_ids() == [b]
    # click on empty track space clears
    empty = QPointF(view.x_for_frame(100), view.clip_rect(a).center().y())
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton, pos=pt(empty))
    assert view.selected_clip_ids() == []


def test_drag_body_emits_move(qtbot, view, tl):
    by_name, _ = ids(tl)
    a = by_name["A"]
    c = view.clip_rect(a).center()
    with qtbot.waitSignal(view.moveRequested) as sig:
        drag(qtbot, view, c, c + QPointF(20 * PPF, 0))
    assert sig.args == [[a], 20, {}]
    assert tl.clips[a].start == 0  # the view never edits the model
    assert view.selected_clip_ids() == [a]


def test_drag_snaps_to_other_clip_edge(qtbot, view, tl):
    by_name, _ = ids(tl)
    a = by_name["A"]
    assert view.snap_threshold_frames() == 4  # 8 px at 2 px/frame
    c = view.clip_rect(a).center()
    # A's end (50) dragged by 97 frames lands on 147: within 4 frames of B's start (150)
    with qtbot.waitSignal(view.moveRequested) as sig:
        drag(qtbot, view, c, c + QPointF(97 * PPF, 0))
    assert sig.args == [[a], 100, {}]
    # beyond the threshold nothing snaps
    view.set_snapping(True)
    with qtbot.waitSignal(view.moveRequested) as sig:
        drag(qtbot, view, c, c + QPointF(90 * PPF, 0))
    assert sig.args == [[a], 90, {}]
    view.set_snapping(False)
    with qtbot.waitSignal(view.moveRequested) as sig:
        drag(qtbot, view, c, c + QPointF(97 * PPF, 0))
    assert sig.args == [[a], 97, {}]


def test_drag_snaps_to_playhead(qtbot, view, tl):
    by_name, _ = ids(tl)
    b = by_name["B"]
    tl.set_playhead(300)
    c = view.clip_rect(b).center()
    with qtbot.waitSignal(view.moveRequested) as sig:  # B's start 150 -> 298, playhead at 300
        drag(qtbot, view, c, c + QPointF(148 * PPF, 0))
    assert sig.args == [[b], 150, {}]


def test_drag_to_another_track_and_clamp_at_zero(qtbot, view, tl):
    by_name, tr = ids(tl)
    a, b = by_name["A"], by_name["B"]
    c = view.clip_rect(b).center()
    v2_y = view.rows().by_id[tr["V2"]].y + 10
    with qtbot.waitSignal(view.moveRequested) as sig:
        drag(qtbot, view, c, QPointF(c.x(), v2_y))
    assert sig.args == [[b], 0, {tr["V1"]: tr["V2"]}]
    # an audio track under the mouse does not take a video clip
    with qtbot.waitSignal(view.moveRequested) as sig:
        drag(qtbot, view, c, QPointF(c.x() + 10 * PPF, view.clip_rect(by_name["C"]).center().y()))
    assert sig.args == [[b], 10, {}]
    # dragging left past frame 0 stops at 0: B alone goes to 0, B with A (at 0) cannot move
    with qtbot.waitSignal(view.moveRequested) as sig:
        drag(qtbot, view, c, c - QPointF(200 * PPF, 0))
    assert sig.args == [[b], -150, {}]
    view.select([a, b])
    no_signal(qtbot, view.moveRequested, lambda: drag(qtbot, view, c, c - QPointF(200 * PPF, 0)))


def test_small_motion_is_a_click_not_a_move(qtbot, view, tl):
    by_name, _ = ids(tl)
    a, b = by_name["A"], by_name["B"]
    view.select([a, b])
    c = view.clip_rect(a).center()
    no_signal(qtbot, view.moveRequested, lambda: drag(qtbot, view, c, c + QPointF(2, 0), steps=2))
    assert view.selected_clip_ids() == [a]  # clicking one of a selection keeps only it


def test_drag_edges_emit_trim(qtbot, view, tl):
    by_name, _ = ids(tl)
    a, b = by_name["A"], by_name["B"]
    ra, rb = view.clip_rect(a), view.clip_rect(b)
    # hover over the edge: resize cursor (on xcb the move goes through the X server: wait for it)
    qtbot.mouseMove(view.viewport(), pt(QPointF(ra.right() - 2, ra.center().y())))
    qtbot.waitUntil(lambda: view.viewport().cursor().shape() == Qt.CursorShape.SizeHorCursor, timeout=2000)
    qtbot.mouseMove(view.viewport(), pt(ra.center()))
    qtbot.waitUntil(lambda: view.viewport().cursor().shape() == Qt.CursorShape.ArrowCursor, timeout=2000)

    start = QPointF(ra.right() - 2, ra.center().y())
    with qtbot.waitSignal(view.trimRequested) as sig:
        drag(qtbot, view, start, start + QPointF(20 * PPF, 0))
    assert sig.args == [a, "out", 70]
    start = QPointF(rb.left() + 2, rb.center().y())
    with qtbot.waitSignal(view.trimRequested) as sig:
        drag(qtbot, view, start, start + QPointF(10 * PPF, 0))
    assert sig.args == [b, "in", 160]
    # B starts at the beginning of its media (source_in 0): its in edge cannot go further left
    no_signal(qtbot, view.trimRequested, lambda: drag(qtbot, view, start, start - QPointF(10 * PPF, 0)))
    # the out edge of A cannot pass B's start (the preview clamps to the neighbour)
    start = QPointF(ra.right() - 2, ra.center().y())
    with qtbot.waitSignal(view.trimRequested) as sig:
        drag(qtbot, view, start, start + QPointF(130 * PPF, 0))
    assert sig.args == [a, "out", 150]
    assert tl.clips[a].duration == 50


def test_locked_track_does_not_drag(qtbot, view, tl, project):
    by_name, tr = ids(tl)
    with project.transaction("lock"):
        project.execute("UPDATE tracks SET locked = 1 WHERE id = ?", (tr["V1"],))
    tl.refresh()
    c = view.clip_rect(by_name["A"]).center()
    no_signal(qtbot, view.moveRequested, lambda: drag(qtbot, view, c, c + QPointF(40, 0)))
    assert view.selected_clip_ids() == [by_name["A"]]  # still selectable


def test_ruler_click_and_drag_scrub(qtbot, view):
    w = view.viewport()
    with qtbot.waitSignal(view.scrubRequested) as sig:
        qtbot.mouseClick(w, Qt.MouseButton.LeftButton, pos=QPoint(round(view.x_for_frame(37)) + 1, 10))
    assert sig.args == [37]
    frames = []
    view.scrubRequested.connect(frames.append)
    drag(qtbot, view, QPointF(view.x_for_frame(10) + 1, 10), QPointF(view.x_for_frame(70) + 1, 10), steps=3)
    assert frames[0] == 10 and frames[-1] == 70 and frames == sorted(frames)


def test_keys_delete_and_split(qtbot, view, tl):
    by_name, _ = ids(tl)
    no_signal(qtbot, view.deleteRequested, lambda: qtbot.keyClick(view, Qt.Key.Key_Delete))  # nothing selected
    view.select([by_name["B"], by_name["A"]])
    with qtbot.waitSignal(view.deleteRequested) as sig:
        qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert sig.args == [sorted([by_name["A"], by_name["B"]])]
    with qtbot.waitSignal(view.deleteRequested):
        qtbot.keyClick(view, Qt.Key.Key_Backspace)
    with qtbot.waitSignal(view.snappingChanged):  # S toggles snapping (NLE convention); Ctrl+K splits
        qtbot.keyClick(view, Qt.Key.Key_S)
    with qtbot.waitSignal(view.splitRequested):
        qtbot.keyClick(view, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)


def test_header_badge_requests_toggle(qtbot, view, tl):
    from widgets.timeline.overlay import badge_rects

    _, tr = ids(tl)
    row = view.rows().by_id[tr["A1"]]
    rects = dict(badge_rects(view.pal, row.y, row.height))
    with qtbot.waitSignal(view.trackToggleRequested) as sig:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pt(rects["muted"].center()))
    assert sig.args == [tr["A1"], "muted"]


def test_rubber_band_selects(qtbot, view, tl):
    by_name, _ = ids(tl)
    rc = view.clip_rect(by_name["C"])
    start = QPointF(view.x_for_frame(120), view.rows().rows[0].y + 4)  # empty V2 space
    drag(qtbot, view, start, QPointF(view.x_for_frame(30), rc.center().y()))
    assert view.selected_clip_ids() == sorted([by_name["A"], by_name["C"]])


# ---------------------------------------------------------------- drops


def _drop(view, mime: QMimeData, pos: QPointF) -> bool:
    """Enter, move and drop as a drag from another widget would; returns whether the drop was accepted."""
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(pos.toPoint(), *args)
    QApplication.sendEvent(view.viewport(), enter)
    if not enter.isAccepted():
        return False
    QApplication.sendEvent(view.viewport(), QDragMoveEvent(pos.toPoint(), *args))
    drop = QDropEvent(pos, *args)
    QApplication.sendEvent(view.viewport(), drop)
    return drop.isAccepted()


def test_drop_media_ids(qtbot, view, tl):
    _, tr = ids(tl)
    mime = QMimeData()
    mime.setData(MEDIA_MIME, json.dumps([1]).encode())
    pos = QPointF(view.x_for_frame(100) + 1, view.rows().by_id[tr["V2"]].y + 20)
    with qtbot.waitSignal(view.mediaDropped) as sig:
        _drop(view, mime, pos)
    assert sig.args == [[1], tr["V2"], 100]
    # near an edit point the drop snaps (B starts at 150)
    with qtbot.waitSignal(view.mediaDropped) as sig:
        _drop(view, mime, QPointF(view.x_for_frame(148) + 1, view.rows().by_id[tr["A2"]].y + 10))
    assert sig.args == [[1], tr["A2"], 150]


def test_drop_files_and_garbage(qtbot, view, tl, tmp_path):
    _, tr = ids(tl)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "a.mov"))])
    with qtbot.waitSignal(view.filesDropped) as sig:
        _drop(view, mime, QPointF(view.x_for_frame(100), view.rows().by_id[tr["V1"]].y + 10))
    assert sig.args == [[str(tmp_path / "a.mov")], tr["V1"], 100]
    bad = QMimeData()
    bad.setData(MEDIA_MIME, b"not json")
    with qtbot.assertNotEmitted(view.mediaDropped):
        assert not _drop(view, bad, QPointF(400, 120))
    assert TimelineView.drop_payload(bad) is None


# ---------------------------------------------------------------- following the model


def test_view_follows_model_changes(qtbot, view, tl):
    by_name, tr = ids(tl)
    a = by_name["A"]
    before = view.clip_rect(a)
    edit.move_clips(tl, [a], 30)
    after = view.clip_rect(a)
    assert after.left() == before.left() + 30 * PPF and after.top() == before.top()
    edit.move_clips(tl, [a], 0, {tr["V1"]: tr["V2"]})
    assert view.track_at_y(view.clip_rect(a).center().y()) == tr["V2"]
    change = edit.add_clip(tl, 1, tr["V1"], 300, 20, name="D")
    (d,) = [c.id for c in change.after]
    assert view.clip_rect(d).left() == view.x_for_frame(300)
    view.select([a, d])
    with qtbot.waitSignal(view.selectionChanged) as sig:
        edit.delete_clips(tl, [d])
    assert sig.args == [[a]]
    with pytest.raises(KeyError):
        view.clip_rect(d)
    edit.trim_clip(tl, by_name["B"], "out", 180)
    assert view.clip_rect(by_name["B"]).width() == 30 * PPF


def test_incremental_update_keeps_other_items(view, tl):
    by_name, _ = ids(tl)
    items_before = {cid: view._items[cid] for cid in tl.clips}
    edit.move_clips(tl, [by_name["A"]], 5)
    assert all(view._items[cid] is items_before[cid] for cid in tl.clips)
    tl.refresh()  # empty set: full rebuild
    assert set(view._items) == set(tl.clips)


def test_zoom(qtbot, view, tl):
    by_name, _ = ids(tl)
    a = by_name["A"]
    view.set_zoom(4.0)
    assert view.clip_rect(a).width() == 200
    anchor = view.x_for_frame(120)
    ev = QWheelEvent(QPointF(anchor, 100), QPointF(), QPoint(), QPoint(0, 120),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), ev)
    assert view.pixels_per_frame() == pytest.approx(5.0)
    assert abs(view.x_for_frame(120) - anchor) <= 1  # the frame under the mouse stays put
    view.zoom_to_fit()
    assert HW < view.x_for_frame(tl.duration) <= view.viewport().width()
    assert view.x_for_frame(0) == HW


# ---------------------------------------------------------------- pixels


class _RGB(tuple):
    """An (r, g, b) that equals another within 8 per channel: Xvfb may run at 16 bits per pixel."""

    def __eq__(self, other):
        return len(other) == 3 and all(abs(a - b) <= 8 for a, b in zip(self, other))

    def __ne__(self, other):
        return not self == other

    __hash__ = tuple.__hash__


def _rgb(img: QImage, x: float, y: float) -> _RGB:
    c = img.pixelColor(int(x), int(y))
    return _RGB((c.red(), c.green(), c.blue()))


def _col(c: QColor) -> _RGB:
    return _RGB((c.red(), c.green(), c.blue()))


def test_rendered_clip_colour_and_playhead(qtbot, view, tl):
    by_name, tr = ids(tl)
    tl.set_playhead(100)
    img = view.grab().toImage()
    assert img.width() == view.width()
    ra = view.clip_rect(by_name["A"])
    assert _rgb(img, ra.center().x(), ra.bottom() - 6) == _col(PAL.clip_video)
    rc = view.clip_rect(by_name["C"])
    assert _rgb(img, rc.center().x(), rc.bottom() - 4) == _col(PAL.clip_audio)
    # the playhead crosses the empty A2 lane at x_for_frame(100)
    y = view.rows().by_id[tr["A2"]].y + 20
    px = view.x_for_frame(100)
    hits = [x for x in range(int(px) - 3, int(px) + 4) if _rgb(img, x, y) == _col(PAL.playhead)]
    assert hits and all(abs(x - px) <= 1 for x in hits)
    assert _rgb(img, px + 20, y) == _col(PAL.lane_audio)
    # selection changes the fill
    view.select([by_name["A"]])
    img = view.grab().toImage()
    assert _rgb(img, ra.center().x(), ra.bottom() - 6) == _col(PAL.clip_video.lighter(135))
    # ruler and header are drawn over the scene
    assert _rgb(img, HW + 300, 2) == _col(PAL.ruler_bg)
    assert _rgb(img, 60, ra.center().y()) == _col(PAL.header_bg)


def test_playhead_moves_with_model(qtbot, view, tl):
    _, tr = ids(tl)
    y = view.rows().by_id[tr["A2"]].y + 20
    for frame in (40, 220):
        tl.set_playhead(frame)
        img = view.grab().toImage()
        px = view.x_for_frame(frame)
        assert any(_rgb(img, x, y) == _col(PAL.playhead) for x in (int(px) - 1, int(px), int(px) + 1))


def wave_y(rc):
    """A y inside the loud part of the waveform, above its centre line (it lies below the label row)."""
    top = rc.top() + WAVEFORM_TOP
    return top + (rc.bottom() - top) * 0.3


def test_thumbnail_and_waveform_providers(qtbot, view, tl):
    by_name, _ = ids(tl)
    thumb = QImage(160, 90, QImage.Format.Format_RGB32)
    thumb.fill(QColor(250, 10, 10))
    calls = []

    def waveform(media_id):
        calls.append(media_id)
        peaks = np.zeros((1000, 2), np.float32)  # 10 s at 100 peaks/s
        peaks[:, 0], peaks[:, 1] = -0.9, 0.9
        peaks[200:, :] = 0.0  # silence after 2 s
        return peaks

    view.set_zoom(4.0)
    view.set_providers(thumbnail=lambda mid: thumb, waveform=waveform)
    img = view.grab().toImage()
    ra = view.clip_rect(by_name["A"])  # 200 px wide: the thumbnail fits
    r, g, b = _rgb(img, ra.left() + 10, ra.center().y())
    assert r > 200 and g < 60 and b < 60
    rc = view.clip_rect(by_name["C"])  # 0..100 frames = 0..4 s of source; loud for the first 2 s
    y = wave_y(rc)
    assert _rgb(img, rc.left() + rc.width() * 0.25, y) == _col(PAL.waveform)
    assert _rgb(img, rc.left() + rc.width() * 0.75, y) == _col(PAL.clip_audio)
    assert calls == [1]  # peaks are cached per media
    # a trimmed-in clip draws the part of the source it shows (source_in)
    edit.trim_clip(tl, by_name["C"], "in", 50)  # now shows 2 s..4 s: silence
    img = view.grab().toImage()
    rc = view.clip_rect(by_name["C"])
    assert _rgb(img, rc.left() + rc.width() * 0.5, wave_y(rc)) == _col(PAL.clip_audio)


# ---------------------------------------------------------------- more gestures and lifecycle


def test_in_edge_extends_into_handle_and_snaps(qtbot, view, tl):
    _, tr = ids(tl)
    change = edit.add_clip(tl, 1, tr["V2"], 100, 50, source_in=40, name="E")
    (e,) = [c.id for c in change.after]
    r = view.clip_rect(e)
    start = QPointF(r.left() + 2, r.center().y())
    with qtbot.waitSignal(view.trimRequested) as sig:  # 100 - 20 = 80: free
        drag(qtbot, view, start, start - QPointF(20 * PPF, 0))
    assert sig.args == [e, "in", 80]
    with qtbot.waitSignal(view.trimRequested) as sig:  # past the media's first frame: stops at 100 - 40
        drag(qtbot, view, start, start - QPointF(70 * PPF, 0))
    assert sig.args == [e, "in", 60]
    with qtbot.waitSignal(view.trimRequested) as sig:  # 100 - 48 = 52: within 4 frames of A's end (50)
        drag(qtbot, view, start, start - QPointF(48 * PPF, 0))
    assert sig.args == [e, "in", 60]  # the media limit wins over the snap
    r_out = QPointF(r.right() - 2, r.center().y())
    with qtbot.waitSignal(view.trimRequested) as sig:  # out 150 + 48 = 198: snaps to B's end (200) on V1
        drag(qtbot, view, r_out, r_out + QPointF(48 * PPF, 0))
    assert sig.args == [e, "out", 200]


def test_escape_cancels_a_drag(qtbot, view, tl):
    by_name, _ = ids(tl)
    c = view.clip_rect(by_name["A"]).center()
    w = view.viewport()
    with qtbot.assertNotEmitted(view.moveRequested):
        qtbot.mousePress(w, Qt.MouseButton.LeftButton, pos=pt(c))
        qtbot.mouseMove(w, pt(c + QPointF(60, 0)))
        qtbot.mouseMove(w, pt(c + QPointF(80, 0)))
        assert any(it.zValue() == 50 for it in view.scene().items())  # the ghost
        qtbot.keyClick(view, Qt.Key.Key_Escape)
        qtbot.mouseRelease(w, Qt.MouseButton.LeftButton, pos=pt(c + QPointF(80, 0)))
    assert not any(it.zValue() == 50 for it in view.scene().items())


def test_double_click_and_context_menu(qtbot, view, tl):
    by_name, tr = ids(tl)
    c = view.clip_rect(by_name["B"]).center()
    with qtbot.waitSignal(view.clipDoubleClicked) as sig:
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pt(c))
    assert sig.args == [by_name["B"]]
    from PySide6.QtGui import QContextMenuEvent
    qtbot.mousePress(view.viewport(), Qt.MouseButton.RightButton, pos=pt(view.clip_rect(by_name["A"]).center()))
    assert view.selected_clip_ids() == [by_name["A"]]
    pos = pt(view.clip_rect(by_name["A"]).center())
    with qtbot.waitSignal(view.contextMenuRequested) as sig:
        QApplication.sendEvent(view.viewport(), QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos,
                                                                 view.viewport().mapToGlobal(pos)))
    assert sig.args[1:] == [tr["V1"], view.frame_at_x(pos.x())]


def test_follow_playhead_scrolls(qtbot, view, tl):
    edit.add_clip(tl, 1, ids(tl)[1]["V2"], 2000, 200, name="far")
    tl.set_playhead(2100)
    x = view.x_for_frame(2100)
    assert HW <= x <= view.viewport().width()
    assert view.horizontalScrollBar().value() > 0
    tl.set_playhead(5000)  # past the last clip: the view makes room and follows
    assert HW <= view.x_for_frame(5000) <= view.viewport().width()


def test_detach_timeline(qtbot, view, tl):
    by_name, _ = ids(tl)
    view.select([by_name["A"]])
    with qtbot.waitSignal(view.selectionChanged):
        view.set_timeline(None)
    assert view.selected_clip_ids() == [] and view.rows().rows == []
    edit.move_clips(tl, [by_name["A"]], 10)  # no longer followed: nothing breaks
    view.grab()
