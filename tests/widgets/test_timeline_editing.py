"""TimelineView edit tools: ripple/roll/slip/slide/blade gestures, markers, transitions, headers, beat grid.

The view only emits requests (and previews them); these tests check the
requests, the previews and the pixels, with a timeline that core edits.
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QKeySequence, QMouseEvent
from PySide6.QtWidgets import QApplication, QMainWindow

from core.project.project import Project, now_iso
from core.time import TempoMap
from core.timeline import edit
from core.timeline.model import Timeline, create_sequence
from widgets.timeline import TimelinePalette, TimelineView
from widgets.timeline.decor import beat_lines
from widgets.timeline.dialogs import SpeedDialog, TransitionDialog, format_speed, parse_speed
from widgets.timeline.overlay import badge_rects

PPF = 4.0
PAL = TimelinePalette()


@pytest.fixture
def project(tmp_path):
    p = Project.create(tmp_path / "editing.luma")
    probe = json.dumps({"duration": "10", "has_audio": True, "has_video": True})  # 250 frames at 25 fps
    with p.transaction("add media"):
        p.execute("INSERT INTO media(name, path, content_hash, size, kind, probe, added_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)", ("shot.mp4", "shot.mp4", "0" * 64, 1234, "video", probe, now_iso()))
    yield p
    p.close()


@pytest.fixture
def tl(project):
    """V1: A [0, 40) src 20, B [40, 80) src 30, C [100, 130) src 0; A1: D [0, 60)."""
    t = Timeline(project, create_sequence(project, rate=25))
    v1, a1 = t.video_tracks()[0].id, t.audio_tracks()[0].id
    edit.add_clip(t, 1, v1, 0, 40, source_in=20, name="A")
    edit.add_clip(t, 1, v1, 40, 40, source_in=30, name="B")
    edit.add_clip(t, 1, v1, 100, 30, name="C")
    edit.add_clip(t, 1, a1, 0, 60, name="D")
    return t


def names(tl):
    return {c.name: c.id for c in tl.clips.values()}


def track_ids(tl):
    return {t.name: t.id for t in tl.tracks}


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
    v.set_snapping(False)
    return v


def pt(p: QPointF) -> QPoint:
    return QPoint(round(p.x()), round(p.y()))


def press_move(qtbot, view, start: QPointF, end: QPointF, steps: int = 5):
    w = view.viewport()
    qtbot.mousePress(w, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pt(start))
    for i in range(1, steps + 1):
        qtbot.mouseMove(w, pt(start + (end - start) * (i / steps)))


def hover(view, pos: QPointF):
    """A mouse move without a button (sent to the viewport: a real pointer may sit elsewhere)."""
    gpos = QPointF(view.viewport().mapToGlobal(pt(pos)))
    QApplication.sendEvent(view.viewport(), QMouseEvent(QEvent.Type.MouseMove, pos, gpos, Qt.MouseButton.NoButton,
                                                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))


def release(qtbot, view, end: QPointF):
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pt(end))


def edge(view, cid, which):
    r = view.clip_rect(cid)
    return QPointF(r.left() + 1 if which == "in" else r.right() - 1, r.center().y())


def ghosts(view):
    from widgets.timeline.items import Z_GHOST

    return sorted((round(i.rect().left()), round(i.rect().width())) for i in view.scene().items()
                  if i.zValue() in (Z_GHOST, Z_GHOST - 1) and hasattr(i, "rect") and i.isVisible())


def rgb(img, x, y):
    c = img.pixelColor(int(x), int(y))
    return c.red(), c.green(), c.blue()


# ---------------------------------------------------------------- tools


def test_tools_are_validated_and_announced(qtbot, view):
    with qtbot.waitSignal(view.toolChanged) as sig:
        view.set_tool("ripple")
    assert sig.args == ["ripple"] and view.tool() == "ripple"
    with pytest.raises(ValueError, match="unknown timeline tool"):
        view.set_tool("hammer")


def test_ripple_drag_previews_the_following_clips_and_emits(qtbot, view, tl):
    n = names(tl)
    view.set_tool("ripple")
    start = edge(view, n["A"], "out")
    press_move(qtbot, view, start, start - QPointF(10 * PPF, 0))
    # ghosts: A shortened by 10, B and C moved 10 left; the model is untouched while dragging
    x = view.scene_x
    assert ghosts(view) == sorted([(round(x(0)), round(30 * PPF)), (round(x(30)), round(40 * PPF)),
                                   (round(x(90)), round(30 * PPF))])
    assert tl.clips[n["B"]].start == 40
    with qtbot.waitSignal(view.rippleTrimRequested) as sig:
        release(qtbot, view, start - QPointF(10 * PPF, 0))
    assert sig.args == [n["A"], "out", 30]
    assert ghosts(view) == []
    # the in edge can only open up to the media before the clip's source_in (20 frames)
    start = edge(view, n["A"], "in")
    press_move(qtbot, view, start, start - QPointF(35 * PPF, 0))
    with qtbot.waitSignal(view.rippleTrimRequested) as sig:
        release(qtbot, view, start - QPointF(35 * PPF, 0))
    assert sig.args == [n["A"], "in", -20]
    # what the app does with it: core keeps A at 0, it shows 20 frames more, B follows
    edit.ripple_trim(tl, *sig.args)
    assert (tl.clips[n["A"]].start, tl.clips[n["A"]].duration, tl.clips[n["B"]].start) == (0, 60, 60)


def test_roll_drag_is_held_inside_both_clips(qtbot, view, tl):
    n = names(tl)
    view.set_tool("roll")
    start = edge(view, n["A"], "out")
    press_move(qtbot, view, start, start + QPointF(8 * PPF, 0))
    assert ghosts(view) == sorted([(round(view.scene_x(0)), round(48 * PPF)),
                                   (round(view.scene_x(48)), round(32 * PPF))])
    with qtbot.waitSignal(view.rollRequested) as sig:
        release(qtbot, view, start + QPointF(8 * PPF, 0))
    assert sig.args == [n["A"], "out", 48]
    # B has 30 frames of media before its in point: the cut stops at 40 - 30 = 10
    start = edge(view, n["B"], "in")
    press_move(qtbot, view, start, start - QPointF(39 * PPF, 0))
    with qtbot.waitSignal(view.rollRequested) as sig:
        release(qtbot, view, start - QPointF(39 * PPF, 0))
    assert sig.args == [n["B"], "in", 10]


def test_slip_drag_emits_source_delta_within_the_media(qtbot, view, tl):
    n = names(tl)
    view.set_tool("slip")
    mid = view.clip_rect(n["B"]).center()
    press_move(qtbot, view, mid, mid - QPointF(12 * PPF, 0))
    # the ghost shows the whole media (250 frames) behind the clip, shifted with the material
    media_ghost = max(ghosts(view), key=lambda g: g[1])
    assert media_ghost == (round(view.scene_x(40 - 30 - 12)), round(250 * PPF))
    with qtbot.waitSignal(view.slipRequested) as sig:
        release(qtbot, view, mid - QPointF(12 * PPF, 0))
    assert sig.args == [n["B"], 12]  # dragged left: later material
    press_move(qtbot, view, mid, mid + QPointF(50 * PPF, 0))
    with qtbot.waitSignal(view.slipRequested) as sig:
        release(qtbot, view, mid + QPointF(50 * PPF, 0))
    assert sig.args == [n["B"], -30]  # held at the media's first frame
    # a slip is not a move: clicking without dragging emits nothing
    with qtbot.assertNotEmitted(view.slipRequested):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pt(mid))


def test_slide_drag_is_held_by_the_neighbours(qtbot, view, tl):
    n = names(tl)
    view.set_tool("slide")
    mid = view.clip_rect(n["B"]).center()
    press_move(qtbot, view, mid, mid + QPointF(6 * PPF, 0))
    with qtbot.waitSignal(view.slideRequested) as sig:
        release(qtbot, view, mid + QPointF(6 * PPF, 0))
    assert sig.args == [n["B"], 6]
    # B has no clip after it (a 20-frame gap up to C): it slides at most 20 right
    press_move(qtbot, view, mid, mid + QPointF(60 * PPF, 0))
    with qtbot.waitSignal(view.slideRequested) as sig:
        release(qtbot, view, mid + QPointF(60 * PPF, 0))
    assert sig.args == [n["B"], 20]
    # and A must keep a frame when it slides left
    press_move(qtbot, view, mid, mid - QPointF(60 * PPF, 0))
    with qtbot.waitSignal(view.slideRequested) as sig:
        release(qtbot, view, mid - QPointF(60 * PPF, 0))
    assert sig.args == [n["B"], -39]


def test_blade_click_and_hover_line(qtbot, view, tl):
    n = names(tl)
    view.set_tool("blade")
    y = view.clip_rect(n["B"]).center().y()
    at = QPointF(view.x_for_frame(57), y)
    hover(view, at)
    assert view._blade_line.isVisible() and view._blade_line.line().x1() == view.scene_x(57)
    with qtbot.waitSignal(view.bladeRequested) as sig:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pt(at))
    assert sig.args == [n["B"], 57]
    # with snapping the cut lands on the playhead when it is near
    tl.set_playhead(59)
    view.set_snapping(True)
    with qtbot.waitSignal(view.bladeRequested) as sig:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pt(at))
    assert sig.args == [n["B"], 59]
    # an edge is not a cut
    with qtbot.assertNotEmitted(view.bladeRequested):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pt(QPointF(view.x_for_frame(100), y)))


def test_locked_track_ignores_the_tools(qtbot, view, tl):
    n = names(tl)
    edit.track_state(tl, track_ids(tl)["V1"], "locked", True)
    for tool, signal in (("slip", view.slipRequested), ("slide", view.slideRequested),
                         ("ripple", view.rippleTrimRequested), ("blade", view.bladeRequested)):
        view.set_tool(tool)
        p = edge(view, n["B"], "out") if tool == "ripple" else view.clip_rect(n["B"]).center()
        with qtbot.assertNotEmitted(signal):
            press_move(qtbot, view, p, p - QPointF(5 * PPF, 0))
            release(qtbot, view, p - QPointF(5 * PPF, 0))


def test_snapping_reaches_markers(qtbot, view, tl):
    n = names(tl)
    edit.add_marker(tl, 103, "hit")
    view.set_snapping(True)
    view.set_zoom(2.0)
    c = view.clip_rect(n["C"]).center()
    with qtbot.waitSignal(view.moveRequested) as sig:
        press_move(qtbot, view, c, c + QPointF(5 * 2.0, 0))  # start 105 -> marker at 103
        release(qtbot, view, c + QPointF(5 * 2.0, 0))
    assert sig.args[1] == 3


def test_s_key_toggles_snapping(qtbot, view):
    view.set_snapping(True)
    with qtbot.waitSignal(view.snappingChanged) as sig:
        qtbot.keyClick(view, Qt.Key.Key_S)
    assert sig.args == [False] and not view.snapping()


def test_local_shortcuts_win_over_window_shortcuts_while_focused(qtbot, tl):
    win = QMainWindow()
    qtbot.addWidget(win)
    v = TimelineView()
    v.set_timeline(tl)
    win.setCentralWidget(v)
    window_b = []
    act = QAction("draw box", win)
    act.setShortcut(QKeySequence("B"))
    act.triggered.connect(lambda: window_b.append(1))
    win.addAction(act)
    local = []
    v.set_local_shortcuts({"B": lambda: local.append("B"), "Ctrl+T": lambda: local.append("Ctrl+T")})
    win.show()
    qtbot.waitExposed(win)
    win.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is win, timeout=5000)
    v.setFocus()
    qtbot.keyClick(v, Qt.Key.Key_B)
    qtbot.keyClick(v, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert local == ["B", "Ctrl+T"] and window_b == []
    # without the local key, the window's shortcut gets it
    v.set_local_shortcuts({})
    qtbot.keyClick(v, Qt.Key.Key_B)
    assert window_b == [1] and local == ["B", "Ctrl+T"]


# ---------------------------------------------------------------- markers


def marker_point(view, frame):
    return QPointF(view.x_for_frame(frame) + 4, view.pal.marker_lane_height / 2)


def test_marker_flag_drawn_selected_dragged_and_double_clicked(qtbot, view, tl):
    m = edit.add_marker(tl, 30, "Drop", color="green").after[0]
    img = view.grab().toImage()
    assert rgb(img, view.x_for_frame(30) + 5, 4) == rgb_of(view.pal.marker_colour("green"))
    assert view.hit_test(marker_point(view, 30))[:2] == ("marker", m.id)
    assert view.hit_test(marker_point(view, 60))[0] == "ruler"
    assert "Drop" in view._tooltip(marker_point(view, 30))
    # press selects; the flag follows the drag (preview) and the move is asked for on release
    with qtbot.waitSignal(view.markerSelectionChanged) as sig:
        press_move(qtbot, view, marker_point(view, 30), marker_point(view, 45))
    assert sig.args == [m.id]
    assert (45, 0, "green", "Drop", True) in view.marker_marks()
    assert tl.markers[m.id].frame == 30
    with qtbot.waitSignal(view.markerMoveRequested) as sig:
        release(qtbot, view, marker_point(view, 45))
    assert sig.args == [m.id, 45]
    assert (30, 0, "green", "Drop", True) in view.marker_marks()  # back to the model until the app moves it
    with qtbot.waitSignal(view.markerDoubleClicked) as sig:
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pt(marker_point(view, 30)))
    assert sig.args == [m.id]
    with qtbot.waitSignal(view.markerDeleteRequested) as sig:
        qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert sig.args == [m.id]
    # selecting a clip drops the marker selection; a removed marker is no longer selected
    view.select([names(tl)["A"]])
    assert view.selected_marker() is None
    view.select_marker(m.id)
    edit.remove_marker(tl, m.id)
    assert view.selected_marker() is None


def rgb_of(colour):
    return colour.red(), colour.green(), colour.blue()


# ---------------------------------------------------------------- transitions


def test_transition_bar_select_double_click_delete(qtbot, view, tl):
    n = names(tl)
    tr = edit.add_transition(tl, n["A"], n["B"], "wipe_left", 10).after[0]
    r = view.transition_rect(tr.id)
    assert r.left() == view.x_for_frame(35) and r.width() == 10 * PPF
    row = view.rows().by_id[track_ids(tl)["V1"]]
    assert row.y < r.top() and r.bottom() < row.bottom
    img = view.grab().toImage()
    assert rgb(img, r.center().x(), r.bottom() - 3) != rgb(img, r.center().x(), row.y + 4)
    assert "wipe left" in view._tooltip(r.center())
    with qtbot.waitSignal(view.transitionSelectionChanged) as sig:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pt(r.center()))
    assert sig.args == [tr.id] and view.selected_clip_ids() == []
    with qtbot.waitSignal(view.transitionDoubleClicked) as sig:
        qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pt(r.center()))
    with qtbot.waitSignal(view.transitionDeleteRequested) as sig:
        qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert sig.args == [tr.id]
    # the bar follows the model: a longer transition, then none
    edit.set_transition(tl, tr.id, duration=20)
    assert view.transition_rect(tr.id).width() == 20 * PPF
    edit.remove_transition(tl, tr.id)
    assert view._trans_items == {} and view.selected_transition() is None


# ---------------------------------------------------------------- headers


def test_header_solo_badge_and_target(qtbot, view, tl):
    tr = track_ids(tl)
    row = view.rows().by_id[tr["V2"]]
    rects = dict(badge_rects(view.pal, row.y, row.height))
    assert set(rects) == {"muted", "solo", "hidden", "locked"}
    with qtbot.waitSignal(view.trackToggleRequested) as sig:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pt(rects["solo"].center()))
    assert sig.args == [tr["V2"], "solo"]
    edit.track_state(tl, tr["V2"], "solo", True)
    img = view.grab().toImage()
    assert rgb(img, rects["solo"].center().x() - 5, rects["solo"].center().y()) == rgb_of(view.pal.badge_solo)
    # a click on the name targets the track (its name gets a frame)
    with qtbot.waitSignal(view.targetTrackChanged) as sig:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(40, round(row.y + 12)))
    assert sig.args == [tr["V2"]] and view.target_track() == tr["V2"]
    img = view.grab().toImage()
    assert rgb(img, 7, row.y + 13) == rgb_of(view.pal.target)


# ---------------------------------------------------------------- beat grid, labels


def test_beat_grid_lines_thin_out_with_zoom(qtbot, view, tl):
    tempo = TempoMap(Fraction(120))  # a beat every 12.5 frames at 25 fps, bars every 50
    view.set_beat_grid(tempo)
    beats, bars = beat_lines(view, 0, 100)
    assert beats == [0, 12, 25, 38, 50, 62, 75, 88, 100] or beats == [0, 13, 25, 38, 50, 63, 75, 88, 100]
    assert bars == {0, 50, 100}
    img = view.grab().toImage()
    y = view.rows().by_id[track_ids(tl)["V2"]].y + 20  # an empty lane
    lane = rgb_of(view.pal.lane_video)
    bar = rgb(img, view.x_for_frame(50), y)
    beat = rgb(img, view.x_for_frame(25), y)
    assert bar != lane and beat != lane and sum(bar) > sum(beat)  # bars stronger
    assert rgb(img, view.x_for_frame(30), y) == lane
    view.set_zoom(0.3)  # beats 3.75 px apart: bars only
    beats, bars = beat_lines(view, 0, 1000)
    assert beats == sorted(bars) and 200 in bars
    view.set_beat_grid(None)
    assert beat_lines(view, 0, 100) == ([], set())


def test_speed_shows_in_the_label_and_waveform_span(qtbot, view, tl):
    n = names(tl)
    peaks = np.zeros((1000, 2), np.float32)
    view.set_providers(waveform=lambda mid: peaks)
    edit.set_speed(tl, n["D"], Fraction(1, 2), keep="duration")
    item = view._items[n["D"]]
    view._layout_visible()
    assert item.label.text().startswith("D (50%")
    _, p0, p1 = item._peaks
    assert (p0, p1) == (0.0, 30 * 100 / 25)  # 60 frames at half speed use 30 frames of sound


# ---------------------------------------------------------------- dialogs


def test_parse_speed():
    assert parse_speed("50%") == Fraction(1, 2)
    assert parse_speed(" 200 % ") == 2
    assert parse_speed("1/3") == Fraction(1, 3)
    assert parse_speed("0,5") == Fraction(1, 2)
    assert parse_speed("2") == 2
    assert parse_speed("50") == Fraction(1, 2)
    assert parse_speed("fast") is None and parse_speed("") is None and parse_speed("1/0") is None
    assert format_speed(Fraction(1, 2)) == "50%" and format_speed(Fraction(1, 3)) == "33.33%"


def test_dialogs_collect_values(qtbot):
    d = SpeedDialog(Fraction(2))
    qtbot.addWidget(d)
    assert d.edit.text() == "200%" and d.keep() == "source"
    d.edit.setText("nonsense")
    assert not d.buttons.button(d.buttons.StandardButton.Ok).isEnabled()
    d.edit.setText("25%")
    d.keep_duration.setChecked(True)
    assert d.speed() == Fraction(1, 4) and d.keep() == "duration" and not d.ripple.isEnabled()
    t = TransitionDialog(("crossfade", "dip_black"), "dip_black", 25, Fraction(25))
    qtbot.addWidget(t)
    assert t.kind() == "dip_black" and t.duration() == 25 and t.seconds.text() == "1 s"
