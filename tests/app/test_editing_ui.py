"""Editing in the real main window: edit tools by mouse, markers, solo, transitions, insert/overwrite/lift/extract.

Every test checks that the project file, opened again on its own connection,
holds exactly the timeline the window shows after each action.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QInputDialog

from core.audio.tempo import set_project_tempo
from core.project import Project, media_store
from core.time import TempoMap
from core.timeline import edit
from core.timeline.model import Timeline, match_sequence_to_media
from resources.footage import read_barcode
from widgets.timeline.overlay import badge_rects

PPF = 8.0  # pixels per frame in these tests: a frame is easy to hit
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


# ---------------------------------------------------------------- fixtures & helpers


@pytest.fixture
def window(qtbot, shown_window, tmp_path, small_clip, second_clip):
    """A new project with small.mp4 (50 frames) and second.mp4 (30 frames) in the bin, the timeline tall."""
    w = shown_window
    w.resize(1200, 900)
    (tmp_path / "proj").mkdir()
    assert w.new_project(tmp_path / "proj" / "p.luma")
    small = media_store.ingest(w.project, small_clip)
    w.small, w.second = small.id, media_store.ingest(w.project, second_clip).id
    # a sequence of the footage's size and rate, as the first clip put on the timeline makes it
    match_sequence_to_media(w.project, w.timeline.sequence_id, small.info.to_dict())
    w._set_project(w.project)
    dock = w.findChild(QDockWidget, "dock-timeline")
    w.resizeDocks([dock], [440], Qt.Orientation.Vertical)
    view = w.timeline_view
    view.set_snapping(False)
    view.set_zoom(PPF)
    view.horizontalScrollBar().setValue(0)
    # window shortcuts (M, comma, ...) need the window active; Xvfb has no window manager to do it
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    w.errors.clear()
    return w


def tracks(w):
    tl = w.timeline
    return {t.name: t.id for t in tl.tracks}


def add(w, media, track, start, duration, source_in=0):
    return edit.add_clip(w.timeline, media, tracks(w)[track], start, duration, source_in).after[0].id


def assert_saved(w):
    """The project file read on a fresh connection equals what the window's timeline holds."""
    with Project.open(w.project.path) as p:
        stored = Timeline(p, w.timeline.sequence_id).snapshot()
    shown = w.timeline.snapshot()
    for snap in (stored, shown):
        snap["sequence"].pop("playhead")  # kept in memory while playing, written on save
    assert stored == shown


def barcode(w) -> int | None:
    """The source frame index the viewer shows (None while it shows no readable frame)."""
    frame = w.viewer.frame()
    try:
        return None if frame is None else read_barcode(frame)
    except ValueError:
        return None


def pt(p: QPointF) -> QPoint:
    return QPoint(round(p.x()), round(p.y()))


def drag(qtbot, view, start: QPointF, end: QPointF, steps: int = 6):
    vp = view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pt(start))
    for i in range(1, steps + 1):
        qtbot.mouseMove(vp, pt(start + (end - start) * (i / steps)))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pt(end))


def key(qtbot, w, k, mods=Qt.KeyboardModifier.NoModifier):
    """A key pressed with the timeline focused (window shortcuts and the timeline's own keys)."""
    view = w.timeline_view
    view.setFocus()
    qtbot.keyClick(view, k, mods)


def edge_point(view, clip_id, edge):
    r = view.clip_rect(clip_id)
    return QPointF(r.left() + 2 if edge == "in" else r.right() - 2, r.center().y())


def menu_action(menu, text):
    for act in menu.actions():
        if act.text().replace("&", "").split("\t")[0] == text:
            return act
        if act.menu() is not None:
            found = menu_action(act.menu(), text)
            if found is not None:
                return found
    return None


# ---------------------------------------------------------------- tools


def test_tool_keys_and_toolbar(qtbot, window):
    view = window.timeline_view
    for k, tool in ((Qt.Key.Key_B, "ripple"), (Qt.Key.Key_N, "roll"), (Qt.Key.Key_Y, "slip"),
                    (Qt.Key.Key_U, "slide"), (Qt.Key.Key_C, "blade"), (Qt.Key.Key_V, "select")):
        key(qtbot, window, k)
        assert view.tool() == tool
        assert window.editing.actions[f"tool_{tool}"].isChecked()
    # the tool bar above the timeline holds the same actions
    bar = window.editing.toolbar
    assert bar.isVisible() and bar.geometry().bottom() <= view.geometry().top()
    bar.widgetForAction(window.editing.actions["tool_slide"]).click()
    assert view.tool() == "slide"
    # S toggles snapping, the menu follows
    view.set_snapping(True)
    window.editing.actions["snap"].setChecked(True)
    key(qtbot, window, Qt.Key.Key_S)
    assert not view.snapping() and not window.editing.actions["snap"].isChecked()


def test_ripple_trim_by_mouse_drag_shifts_the_following_clip(qtbot, window):
    view = window.timeline_view
    a = add(window, window.small, "V1", 0, 30)
    b = add(window, window.second, "V1", 30, 20)
    key(qtbot, window, Qt.Key.Key_B)
    drag(qtbot, view, edge_point(view, a, "out"), edge_point(view, a, "out") - QPointF(10 * PPF, 0))
    tl = window.timeline
    assert (tl.clips[a].start, tl.clips[a].duration) == (0, 20)
    assert (tl.clips[b].start, tl.clips[b].duration, tl.clips[b].source_in) == (20, 20, 0)
    assert_saved(window)
    # ripple the in point: the clip stays at 0, shows later material, B follows
    drag(qtbot, view, edge_point(view, a, "in"), edge_point(view, a, "in") + QPointF(5 * PPF, 0))
    assert (tl.clips[a].start, tl.clips[a].duration, tl.clips[a].source_in) == (0, 15, 5)
    assert tl.clips[b].start == 15
    assert_saved(window)
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert (tl.clips[a].duration, tl.clips[b].start) == (30, 30)
    assert_saved(window)


def test_roll_drag_moves_the_cut(qtbot, window):
    view = window.timeline_view
    a = add(window, window.small, "V1", 0, 30)
    b = add(window, window.second, "V1", 30, 15, source_in=10)
    key(qtbot, window, Qt.Key.Key_N)
    drag(qtbot, view, edge_point(view, b, "in"), edge_point(view, b, "in") - QPointF(6 * PPF, 0))
    tl = window.timeline
    assert tl.clips[a].end == 24
    assert (tl.clips[b].start, tl.clips[b].end, tl.clips[b].source_in) == (24, 45, 4)
    assert_saved(window)
    window.undo_stack.undo()
    assert (tl.clips[a].end, tl.clips[b].start, tl.clips[b].source_in) == (30, 30, 10)
    assert_saved(window)


def test_slip_drag_changes_source_in_only(qtbot, window):
    view = window.timeline_view
    a = add(window, window.small, "V1", 10, 20, source_in=10)
    before = window.timeline.clips[a]
    key(qtbot, window, Qt.Key.Key_Y)
    mid = view.clip_rect(a).center()
    drag(qtbot, view, mid, mid - QPointF(7 * PPF, 0))  # material moves left: later source frames
    after = window.timeline.clips[a]
    assert after.source_in == 17
    assert (after.start, after.duration, after.track_id) == (before.start, before.duration, before.track_id)
    assert_saved(window)
    drag(qtbot, view, mid, mid + QPointF(30 * PPF, 0))  # past the media's start: held at source frame 0
    assert window.timeline.clips[a].source_in == 0
    window.undo_stack.undo()
    assert window.timeline.clips[a].source_in == 17
    assert_saved(window)


def test_slide_drag_moves_clip_between_neighbours(qtbot, window):
    view = window.timeline_view
    a = add(window, window.small, "V1", 0, 20)
    b = add(window, window.second, "V1", 20, 10, source_in=5)
    c = add(window, window.small, "V1", 30, 15, source_in=10)
    key(qtbot, window, Qt.Key.Key_U)
    mid = view.clip_rect(b).center()
    drag(qtbot, view, mid, mid + QPointF(4 * PPF, 0))
    tl = window.timeline
    assert (tl.clips[a].end, tl.clips[b].start, tl.clips[b].source_in, tl.clips[c].start) == (24, 24, 5, 34)
    assert tl.clips[c].end == 45 and tl.clips[c].source_in == 14
    assert_saved(window)


def test_blade_click_cuts_at_the_clicked_frame(qtbot, window):
    view = window.timeline_view
    a = add(window, window.small, "V1", 0, 40, source_in=5)
    key(qtbot, window, Qt.Key.Key_C)
    r = view.clip_rect(a)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pt(QPointF(view.x_for_frame(17), r.center().y())))
    tl = window.timeline
    left, right = sorted(tl.clips_on(tracks(window)["V1"]), key=lambda c: c.start)
    assert (left.start, left.end, right.start, right.end) == (0, 17, 17, 40)
    assert right.source_in == 5 + 17
    assert_saved(window)
    window.undo_stack.undo()
    assert len(tl.clips) == 1 and tl.clips[a].duration == 40
    assert_saved(window)


def test_select_tool_body_drag_moves_to_another_track(qtbot, window):
    view = window.timeline_view
    a = add(window, window.small, "V1", 0, 20)
    mid = view.clip_rect(a).center()
    v2_row = view.rows().by_id[tracks(window)["V2"]]
    target = QPointF(mid.x() + 5 * PPF, v2_row.y + v2_row.height / 2 - view.scroll_offset().y())
    drag(qtbot, view, mid, target)
    clip = window.timeline.clips[a]
    assert (clip.track_id, clip.start) == (tracks(window)["V2"], 5)
    assert_saved(window)


# ---------------------------------------------------------------- snapping and beats


def test_snapping_to_markers_and_beats(qtbot, window):
    view = window.timeline_view
    a = add(window, window.small, "V1", 0, 20)
    window.editing.set_snapping(True)
    view.set_zoom(2.0)  # snap distance 8 px = 4 frames
    edit.add_marker(window.timeline, 33, "hit")
    mid = view.clip_rect(a).center()
    drag(qtbot, view, mid, mid + QPointF(31 * 2.0, 0))
    # the start lands on 31, two frames from the marker at 33: it snaps there (the end, 51, is near nothing)
    assert window.timeline.clips[a].start == 33
    # beats: 120 BPM at 25 fps = a beat every 12.5 frames (0, 12/13, 25, 37/38, 50, ...)
    set_project_tempo(window.project, TempoMap(Fraction(120)))
    window.editing.set_snap_to_beats(True)
    assert view.beat_grid() is not None
    mid = view.clip_rect(a).center()
    drag(qtbot, view, mid, mid + QPointF(15 * 2.0, 0))  # start 48 -> the beat at 50
    assert window.timeline.clips[a].start == 50
    assert_saved(window)


# ---------------------------------------------------------------- markers


def test_marker_add_drag_rename_delete_and_undo(qtbot, window, monkeypatch):
    view = window.timeline_view
    add(window, window.small, "V1", 0, 40)
    tl = window.timeline
    window.seek(10)
    key(qtbot, window, Qt.Key.Key_M)
    (m,) = tl.markers.values()
    assert m.frame == 10 and view.selected_marker() == m.id
    assert_saved(window)
    # drag its flag from 10 to 25
    flag = QPointF(view.x_for_frame(10) + 4, view.pal.marker_lane_height / 2)
    assert view.hit_test(flag)[:2] == ("marker", m.id)
    drag(qtbot, view, flag, flag + QPointF(15 * PPF, 0))
    assert tl.markers[m.id].frame == 25
    assert_saved(window)
    # double-click renames it
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("Chorus", True)))
    flag = QPointF(view.x_for_frame(25) + 4, view.pal.marker_lane_height / 2)
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pt(flag))
    assert tl.markers[m.id].name == "Chorus"
    assert_saved(window)
    # navigation: a second marker, then Shift+M / Ctrl+Shift+M
    window.seek(5)
    key(qtbot, window, Qt.Key.Key_M)
    window.seek(0)
    key(qtbot, window, Qt.Key.Key_M, Qt.KeyboardModifier.ShiftModifier)
    assert tl.playhead == 5
    key(qtbot, window, Qt.Key.Key_M, Qt.KeyboardModifier.ShiftModifier)
    assert tl.playhead == 25
    key(qtbot, window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert tl.playhead == 5
    # Delete removes the selected marker (not the clips)
    view.select_marker(m.id)
    key(qtbot, window, Qt.Key.Key_Delete)
    assert m.id not in tl.markers and len(tl.markers) == 1 and len(tl.clips) == 1
    assert_saved(window)
    # undo: back comes the marker, then the second marker goes, the name, the move, the first marker
    stack = window.undo_stack
    stack.undo()
    assert tl.markers[m.id].name == "Chorus"
    stack.undo()
    assert len(tl.markers) == 1
    stack.undo()
    assert tl.markers[m.id].name == "Marker 1"
    stack.undo()
    assert tl.markers[m.id].frame == 10
    stack.undo()
    assert tl.markers == {}
    assert_saved(window)


# ---------------------------------------------------------------- tracks


def test_solo_badge_shows_only_that_video_track(qtbot, window):
    view = window.timeline_view
    tr = tracks(window)
    add(window, window.small, "V1", 0, 30)             # V1 at frame 5 shows source frame 5
    add(window, window.second, "V2", 0, 10, source_in=20)  # V2 (on top) shows source frame 25
    window.seek(5)
    qtbot.waitUntil(lambda: barcode(window) == 25, timeout=10000)
    row = view.rows().by_id[tr["V1"]]
    rects = dict(badge_rects(view.pal, row.y - view.scroll_offset().y(), row.height))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pt(rects["solo"].center()))
    tl = window.timeline
    assert tl.track(tr["V1"]).solo
    assert [t.id for t in tl.visible_tracks()] == [tr["V1"]]
    qtbot.waitUntil(lambda: barcode(window) == 5, timeout=10000)
    assert_saved(window)
    window.undo_stack.undo()
    assert not tl.track(tr["V1"]).solo
    qtbot.waitUntil(lambda: barcode(window) == 25, timeout=10000)
    # mute / hide / lock are undoable steps too
    for flag in ("muted", "hidden", "locked"):
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pt(rects[flag].center()))
        assert getattr(tl.track(tr["V1"]), flag)
    assert_saved(window)
    for _ in range(3):
        window.undo_stack.undo()
    assert not any(getattr(tl.track(tr["V1"]), f) for f in ("muted", "hidden", "locked", "solo"))


def test_add_and_delete_tracks_from_the_menu(qtbot, window):
    m = window.editing.menu
    tl = window.timeline
    menu_action(m, "Add Video Track").trigger()
    menu_action(m, "Add Audio Track").trigger()
    assert [t.name for t in tl.video_tracks()] == ["V1", "V2", "V3"]
    assert [t.name for t in tl.audio_tracks()] == ["A1", "A2", "A3"]
    assert_saved(window)
    # Delete Track removes the targeted track, empty only
    v3 = tl.video_tracks()[-1].id
    window.timeline_view.set_target_track(v3)
    menu_action(m, "Delete Track").trigger()
    assert [t.name for t in tl.video_tracks()] == ["V1", "V2"]
    add(window, window.small, "V1", 0, 10)
    window.timeline_view.set_target_track(tracks(window)["V1"])
    menu_action(m, "Delete Track").trigger()
    assert "still has clips" in window.errors[-1] and len(tl.video_tracks()) == 2
    assert_saved(window)
    window.undo_stack.undo()  # the clip
    window.undo_stack.undo()  # the deletion of V3
    assert [t.name for t in tl.video_tracks()] == ["V1", "V2", "V3"]
    assert_saved(window)


def test_header_click_targets_a_track(qtbot, window):
    view = window.timeline_view
    tr = tracks(window)
    assert view.target_track() == tr["V1"]
    row = view.rows().by_id[tr["A2"]]
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(30, round(row.y + 10 - view.scroll_offset().y())))
    assert view.target_track() == tr["A2"]


# ---------------------------------------------------------------- transitions


def test_add_transition_from_the_menu_then_undo(qtbot, window):
    view = window.timeline_view
    a = add(window, window.small, "V1", 0, 30)           # 20 frames of media after its end
    b = add(window, window.second, "V1", 30, 15, source_in=15)  # 15 frames before its start
    window.seek(28)
    menu_action(window.editing.menu, "Add Transition").trigger()
    tl = window.timeline
    (tr,) = tl.transitions.values()
    assert (tr.clip_a, tr.clip_b, tr.kind, tr.duration) == (a, b, "crossfade", 25)
    assert tl.transition_span(tr) == (18, 43)
    assert view.selected_transition() == tr.id
    assert_saved(window)
    # the bar is drawn over the cut and its kind can be changed by double-click
    rect = view.transition_rect(tr.id)
    assert rect.left() == pytest.approx(view.x_for_frame(18)) and rect.width() == pytest.approx(25 * PPF)

    def answer(dialog):
        dialog.kind_box.setCurrentIndex(dialog.kind_box.findData("wipe_left"))
        dialog.frames.setValue(10)
        return True

    window.editing.exec_dialog = answer
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=pt(rect.center()))
    assert (tl.transitions[tr.id].kind, tl.transitions[tr.id].duration) == ("wipe_left", 10)
    assert_saved(window)
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert tl.transitions == {}
    assert_saved(window)
    # a kind from the submenu; Delete removes the selected transition
    menu_action(window.editing.transition_kinds_menu, "Dip black").trigger()
    (tr,) = tl.transitions.values()
    assert tr.kind == "dip_black"
    key(qtbot, window, Qt.Key.Key_Delete)
    assert tl.transitions == {} and len(tl.clips) == 2
    assert_saved(window)


def test_ctrl_t_in_the_timeline_adds_a_transition(qtbot, window):
    add(window, window.small, "V1", 0, 30)
    add(window, window.second, "V1", 30, 15, source_in=15)
    window.seek(30)
    key(qtbot, window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    assert len(window.timeline.transitions) == 1
    assert_saved(window)


# ---------------------------------------------------------------- insert, overwrite, lift, extract


def select_in_bin(w, media_id):
    bin_ = w.bin
    bin_.clearSelection()
    for row in range(bin_.model().rowCount()):
        index = bin_.model().index(row, 0)
        if bin_.model().itemFromIndex(index).data(Qt.ItemDataRole.UserRole + 1) == media_id:
            bin_.selectionModel().select(index, bin_.selectionModel().SelectionFlag.Select)
    assert bin_.selected_media_ids() == [media_id]


def test_insert_overwrite_lift_extract_with_undo_redo(qtbot, window):
    tr = tracks(window)
    tl = window.timeline
    a = add(window, window.small, "V1", 0, 40)
    select_in_bin(window, window.second)
    window.seek(10)
    key(qtbot, window, Qt.Key.Key_Comma)  # insert second.mp4 (30 frames) at 10 on V1: A splits, the rest moves
    v1 = sorted(tl.clips_on(tr["V1"]), key=lambda c: c.start)
    assert [(c.start, c.end, c.media_id) for c in v1] == [(0, 10, window.small), (10, 40, window.second),
                                                          (40, 70, window.small)]
    assert tl.playhead == 40  # after the new material
    assert_saved(window)
    s_insert = tl.snapshot()
    # overwrite on V2 (targeted by its header) at 5
    window.timeline_view.set_target_track(tr["V2"])
    window.seek(5)
    key(qtbot, window, Qt.Key.Key_Period)
    assert [(c.start, c.end) for c in tl.clips_on(tr["V2"])] == [(5, 35)]
    assert_saved(window)
    # lift of the in/out range [20, 29]: a gap on every track
    window.seek(20)
    key(qtbot, window, Qt.Key.Key_I)
    window.seek(29)
    key(qtbot, window, Qt.Key.Key_O)
    key(qtbot, window, Qt.Key.Key_Semicolon)
    assert [(c.start, c.end) for c in tl.clips_on(tr["V2"])] == [(5, 20), (30, 35)]
    assert not any(c.start < 30 and c.end > 20 for c in tl.clips.values())
    assert_saved(window)
    s_lift = tl.snapshot()
    # extract of the same range closes the gap
    key(qtbot, window, Qt.Key.Key_Apostrophe)
    assert [(c.start, c.end) for c in tl.clips_on(tr["V2"])] == [(5, 20), (20, 25)]
    assert tl.duration == 60
    assert_saved(window)
    # clear the marks: ripple delete of a selected clip (Shift+Delete)
    tl.set_in_out(None, None)
    first_v2 = min(tl.clips_on(tr["V2"]), key=lambda c: c.start)
    window.timeline_view.select([first_v2.id])
    key(qtbot, window, Qt.Key.Key_Delete, Qt.KeyboardModifier.ShiftModifier)
    assert [(c.start, c.end) for c in tl.clips_on(tr["V2"])] == [(5, 10)]
    assert_saved(window)
    stack = window.undo_stack
    stack.undo()
    stack.undo()
    assert tl.snapshot()["clips"] == s_lift["clips"]
    stack.undo()
    stack.undo()
    assert tl.snapshot()["clips"] == s_insert["clips"]
    stack.undo()
    assert [(c.start, c.end) for c in tl.clips.values()] == [(0, 40)] and a in tl.clips
    assert_saved(window)
    for _ in range(5):
        stack.redo()
    assert [(c.start, c.end) for c in tl.clips_on(tr["V2"])] == [(5, 10)]
    assert_saved(window)


def test_lift_and_extract_of_selected_clips(qtbot, window):
    tl = window.timeline
    a = add(window, window.small, "V1", 0, 10)
    b = add(window, window.small, "V1", 10, 10, source_in=10)
    c = add(window, window.small, "V1", 20, 10, source_in=20)
    window.timeline_view.select([b])
    key(qtbot, window, Qt.Key.Key_Semicolon)
    assert b not in tl.clips and tl.clips[c].start == 20
    window.undo_stack.undo()
    window.timeline_view.select([b])
    key(qtbot, window, Qt.Key.Key_Apostrophe)
    assert b not in tl.clips and tl.clips[c].start == 10 and tl.clips[a].start == 0
    assert_saved(window)


# ---------------------------------------------------------------- speed


def test_speed_dialog(qtbot, window):
    tl = window.timeline
    a = add(window, window.small, "V1", 0, 20)

    def answer(dialog):
        dialog.edit.setText("50%")
        return True

    window.editing.exec_dialog = answer
    window.timeline_view.select([a])
    menu_action(window.editing.clip_menu, "Speed…").trigger()
    clip = tl.clips[a]
    assert clip.speed == Fraction(1, 2) and clip.duration == 40 and clip.source_in == 0
    assert_saved(window)

    def keep_duration(dialog):
        dialog.edit.setText("1/1")
        dialog.keep_duration.setChecked(True)
        return True

    window.editing.exec_dialog = keep_duration
    menu_action(window.editing.clip_menu, "Speed…").trigger()
    assert (tl.clips[a].speed, tl.clips[a].duration) == (1, 40)
    window.undo_stack.undo()
    window.undo_stack.undo()
    assert (tl.clips[a].speed, tl.clips[a].duration) == (1, 20)
    assert_saved(window)


# ---------------------------------------------------------------- the picture


def test_screenshot_markers_transition_waveform_beats_toolbar(qtbot, window):
    tl = window.timeline
    tr = tracks(window)
    window.add_media_to_timeline([window.small], frame=0)  # picture on V1, sound on A1
    window.add_media_to_timeline([window.second], frame=50)
    # trim picture and sound for media handles, butt them, then a transition on the cut (audio follows)
    first = [c.id for c in tl.clips.values() if c.media_id == window.small]
    second = [c.id for c in tl.clips.values() if c.media_id == window.second]
    for cid in first:
        edit.trim_clip(tl, cid, "out", 30)
    for cid in second:
        edit.trim_clip(tl, cid, "in", 65)
    edit.move_clips(tl, second, -35)
    window.seek(30)
    window.timeline_view.set_target_track(tr["V1"])
    window.editing.add_transition()
    assert len(tl.transitions) == 2 and not window.errors  # the crossfade on A1 came with it
    for frame, name, colour in ((8, "Intro", "green"), (30, "Cut", "red"), (44, "Outro", "blue")):
        window.editing.add_marker(frame, name)
        window.editing.set_marker_colour(colour, next(m.id for m in tl.markers.values() if m.frame == frame))
    set_project_tempo(window.project, TempoMap(Fraction(120)))
    view = window.timeline_view
    assert view.beat_grid() is not None  # a tempo is set: the grid shows
    view.set_zoom(12.0)
    view.horizontalScrollBar().setValue(0)
    # the waveform of A1's clip is computed on the job runner, then drawn
    qtbot.waitUntil(lambda: not window.jobs.active(), timeout=30000)
    audio = min(tl.clips_on(tr["A1"]), key=lambda c: c.start)
    qtbot.waitUntil(lambda: view._items[audio.id].wave is not None, timeout=10000)
    window.timeline_view.select([])
    view.select_transition(None)
    view.select_marker(None)
    qtbot.wait(50)
    img = window.editing.panel.grab()
    ARTIFACTS.mkdir(exist_ok=True)
    img.save(str(ARTIFACTS / "timeline_editing.png"))
    image = img.toImage()
    # a beat line shows in the empty V2 lane at beat 1 (12.5 frames -> 12 or 13), the lane colour elsewhere
    row = view.rows().by_id[tr["V2"]]
    top = window.editing.toolbar.height()
    y = round(top + row.y + row.height / 2 - view.scroll_offset().y())
    lane = view.pal.lane_video.rgb() & 0xFFFFFF
    xs = range(round(view.x_for_frame(12)) - 1, round(view.x_for_frame(13)) + 2)
    assert any(image.pixel(x, y) & 0xFFFFFF != lane for x in xs)
    assert image.pixel(round(view.x_for_frame(7)), y) & 0xFFFFFF == lane
    # the marker flag at 8 is green
    flag = image.pixelColor(round(view.x_for_frame(8)) + 5, top + 4)
    assert flag.green() > 150 and flag.red() < 120


def test_context_menu_adds_a_marker_where_clicked_and_targets(qtbot, window):
    tr = tracks(window)
    menu = window.editing.context_menu(tr["A1"], 33)
    menu_action(menu, "Add Marker Here").trigger()
    assert [m.frame for m in window.timeline.markers.values()] == [33]
    menu_action(menu, "Target This Track").trigger()
    assert window.timeline_view.target_track() == tr["A1"]
    assert menu_action(menu, "Speed…") is window.editing.actions["speed"]
    assert_saved(window)
    menu.close()
