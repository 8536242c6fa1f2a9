"""Lighting lanes on the timeline view: geometry through the tempo map, culling, gestures -> intent signals, pixels."""

from __future__ import annotations

import json
import random
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QLineEdit

from core.lighting.layers import Keyframe, OpacityCurve
from core.project.project import Project, now_iso
from core.time import TempoMap
from core.timeline import edit
from core.timeline.model import Timeline, create_sequence
from tests.qt_helpers import drop_on
from widgets.timeline import TimelineView
from widgets.timeline.lane_layout import LaneBlock, LaneGeometry
from widgets.timeline.lane_paint import curve_samples
from widgets.timeline.lanes import LightingLanes
from widgets.timeline.pattern_list import PatternList, pattern_mime

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
RATE = 25
TEMPO = TempoMap(Fraction(128), Fraction(37, 100))  # 128 BPM, beat 0 at 0.37 s
FADE = OpacityCurve((Keyframe(0, 0.0), Keyframe(4, 1.0)))
SWELL = OpacityCurve((Keyframe(0, 0.0, "smooth"), Keyframe(2, 1.0), Keyframe(10, 1.0, "smooth"), Keyframe(12, 0.0)))
LANES = ["Wash", "Pulse", "Chase"]


def blocks():
    return [LaneBlock(1, "Wash", "warm wash", 0, 16, 0, "replace", FADE, 0),
            LaneBlock(2, "Pulse", "beat pulse", 4, 12, 1, "multiply", OpacityCurve(), 1),
            LaneBlock(3, "Chase", "chase and sweep", 8, 20, 2, "max", SWELL, 2)]


@pytest.fixture
def project(tmp_path):
    p = Project.create(tmp_path / "lanes.luma")
    probe = json.dumps({"duration": "60", "has_audio": True, "has_video": True})
    with p.transaction("add media"):
        p.execute("INSERT INTO media(name, path, content_hash, size, kind, probe, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                  ("song.mp4", "song.mp4", "0" * 64, 1, "video", probe, now_iso()))
    yield p
    p.close()


@pytest.fixture
def tl(project):
    t = Timeline(project, create_sequence(project, rate=RATE))
    edit.add_clip(t, 1, t.video_tracks()[0].id, 0, 220, name="Performance")
    edit.add_clip(t, 1, t.audio_tracks()[0].id, 0, 300, name="Song")
    return t


@pytest.fixture
def view(qtbot, tl):
    v = TimelineView()
    qtbot.addWidget(v)
    v.resize(1100, 470)
    lanes = LightingLanes(v)
    v.set_timeline(tl)
    v.show()
    qtbot.waitExposed(v)
    v.set_zoom(3.0)
    v.horizontalScrollBar().setValue(0)
    lanes.set_model(LANES, blocks(), TEMPO)
    lanes.set_patterns(["warm wash", "beat pulse", "strobe"])
    return v


def pt(p: QPointF) -> QPoint:
    return QPoint(round(p.x()), round(p.y()))


def drag(qtbot, view, start: QPointF, end: QPointF, steps: int = 6, modifier=Qt.KeyboardModifier.NoModifier):
    w = view.viewport()
    qtbot.mousePress(w, Qt.MouseButton.LeftButton, modifier, pt(start))
    for i in range(1, steps + 1):
        qtbot.mouseMove(w, pt(start + (end - start) * (i / steps)))
    qtbot.mouseRelease(w, Qt.MouseButton.LeftButton, modifier, pt(end))


def beat_px(view) -> float:
    return float(TEMPO.seconds_per_beat) * RATE * view.pixels_per_frame()


def render(view) -> QImage:
    img = QImage(view.size(), QImage.Format.Format_RGB32)
    img.fill(QColor("black"))
    p = QPainter(img)
    view.render(p)
    p.end()
    return img


# ---------------------------------------------------------------- geometry


def test_blocks_sit_on_the_frames_of_their_beats(qtbot, view):
    lanes = view.lighting
    ppf = view.pixels_per_frame()
    rows = view.rows()
    for zoom in (3.0, 1.37, 6.0):
        view.set_zoom(zoom)
        ppf = view.pixels_per_frame()
        for b in blocks():
            f0 = TEMPO.beat_to_frame(b.start_beat, RATE)  # the frame of its start beat through the tempo map
            f1 = TEMPO.beat_to_frame(b.end_beat, RATE)
            r = lanes.block_rect(b.layer_id)
            assert r.x() == pytest.approx(view.x_for_frame(f0)) and r.width() == pytest.approx((f1 - f0) * ppf)
            lane = lanes.lane_rect(b.lane)
            assert lane.top() < r.top() and r.bottom() < lane.bottom()
    # beat 0 at 0.37 s = frame 9.25 -> nearest 9; beat 8 at 0.37 + 8 * 60/128 = 4.12 s = frame 103
    assert TEMPO.beat_to_frame(0, RATE) == 9 and TEMPO.beat_to_frame(8, RATE) == 103
    assert lanes.block_rect(3).x() == pytest.approx(view.x_for_frame(103))
    # the lanes are below the audio tracks, in order, and the scene grew to hold them
    tops = [lanes.lane_rect(n).top() for n in LANES]
    assert tops == sorted(tops) and tops[0] > rows.bottom - view.scroll_offset().y()
    assert view.sceneRect().bottom() >= lanes.bottom()
    assert lanes.hit(lanes.point_at("Pulse", 6))[:3] == ("block", "Pulse", 2)
    assert lanes.hit(lanes.point_at("Pulse", 20))[:3] == ("lane", "Pulse", None)
    # a clip is still a clip
    assert view.hit_test(QPointF(view.x_for_frame(50), view.rows().rows[1].y + 20 - view.scroll_offset().y()))[0] == "clip"
    # another tempo moves the blocks
    faster = TempoMap(Fraction(140), Fraction(0))
    lanes.set_model(LANES, blocks(), faster)
    assert lanes.block_rect(3).x() == pytest.approx(view.x_for_frame(faster.beat_to_frame(8, RATE)))


def test_visible_blocks_by_bisection_match_a_full_scan():
    rng = random.Random(5)
    bl, t = [], 0.0
    for i in range(400):
        t += rng.choice([0, 0.5, 1, 3])
        length = rng.choice([0.25, 1, 4, 16, 64])
        bl.append(LaneBlock(i, "A", "p", t, t + length, 0, "replace", OpacityCurve(), i))
    g = LaneGeometry(0, ["A"], bl, TEMPO, Fraction(RATE))
    spans = {b.layer_id: g.span(b.layer_id) for b in bl}
    for _ in range(300):
        f0 = rng.uniform(-50, 4000)
        f1 = f0 + rng.uniform(0.5, 600)
        got = {b.layer_id for b in g.visible("A", f0, f1)}
        want = {lid for lid, (s, e) in spans.items() if s < f1 and e > f0}
        assert got == want


# ---------------------------------------------------------------- gestures


def test_drag_moves_by_whole_beats_shift_is_free_and_lanes_change(qtbot, view):
    lanes = view.lighting
    start = lanes.point_at("Pulse", 6)
    with qtbot.waitSignal(lanes.layerMoveRequested) as sig:
        drag(qtbot, view, start, start + QPointF(2.3 * beat_px(view), 0))
    assert sig.args == [2, 6.0, "Pulse"]  # 4 + 2.3 -> snapped to beat 6
    assert lanes.selected_layer() == 2
    with qtbot.waitSignal(lanes.layerMoveRequested) as sig:
        drag(qtbot, view, start, start + QPointF(2.3 * beat_px(view), 0), modifier=Qt.KeyboardModifier.ShiftModifier)
    lid, beat, lane = sig.args
    assert (lid, lane) == (2, "Pulse") and beat != round(beat) and beat == pytest.approx(6.3, abs=1 / beat_px(view))
    down = lanes.point_at("Chase", 6) - start
    with qtbot.waitSignal(lanes.layerMoveRequested) as sig:
        drag(qtbot, view, start, start + down + QPointF(-1.1 * beat_px(view), 0))
    assert sig.args == [2, 3.0, "Chase"]
    # a drag that ends where it started asks for nothing
    with qtbot.assertNotEmitted(lanes.layerMoveRequested):
        drag(qtbot, view, start, start + QPointF(0.2 * beat_px(view), 0))


def test_drag_edges_resize_snapped(qtbot, view):
    lanes = view.lighting
    r = lanes.block_rect(2)
    y = r.center().y()
    with qtbot.waitSignal(lanes.layerResizeRequested) as sig:
        drag(qtbot, view, QPointF(r.right() - 2, y), QPointF(r.right() - 2 + 2.8 * beat_px(view), y))
    assert sig.args == [2, 4.0, 15.0]
    with qtbot.waitSignal(lanes.layerResizeRequested) as sig:
        drag(qtbot, view, QPointF(r.left() + 2, y), QPointF(r.left() + 2 - 1.2 * beat_px(view), y))
    assert sig.args == [2, 3.0, 12.0]
    with qtbot.waitSignal(lanes.layerResizeRequested) as sig:  # never shorter than a beat
        drag(qtbot, view, QPointF(r.left() + 2, y), QPointF(r.right() + 50, y))
    assert sig.args == [2, 11.0, 12.0]


def test_click_selection_delete_and_clips(qtbot, view):
    lanes = view.lighting
    w = view.viewport()
    with qtbot.waitSignal(lanes.layerSelected) as sig:
        qtbot.mouseClick(w, Qt.MouseButton.LeftButton, pos=pt(lanes.point_at("Wash", 8)))
    assert sig.args == [1] and lanes.selected_layer() == 1
    with qtbot.waitSignal(lanes.layerDeleteRequested) as sig:
        qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert sig.args == [[1]]
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton, pos=pt(lanes.point_at("Wash", 40)))  # empty lane
    assert lanes.selected_layer() is None
    lanes.select_layer(3)
    clip_y = view.rows().rows[1].y + 20 - view.scroll_offset().y()
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton, pos=QPoint(round(view.x_for_frame(30)), round(clip_y)))
    assert view.selected_clip_ids() and lanes.selected_layer() is None  # a clip took the selection
    with qtbot.waitSignal(lanes.curveEditRequested) as sig:
        qtbot.mouseDClick(w, Qt.MouseButton.LeftButton, pos=pt(lanes.point_at("Chase", 12)))
    assert sig.args == [3]


def test_context_menu_blend_zorder_patterns_and_lanes(qtbot, view):
    lanes = view.lighting
    menu = lanes.context_menu(lanes.point_at("Chase", 12))
    titles = [a.text() for a in menu.actions()]
    assert {"Blend Mode", "Bring Forward\tCtrl+]", "Send to Back\tCtrl+Shift+[", "Add Pattern Layer",
            "Add Lighting Lane", "Rename Lane…", "Remove Lane"} <= set(titles)
    blend = next(a.menu() for a in menu.actions() if a.text() == "Blend Mode")
    assert [a.data() for a in blend.actions()] == ["replace", "add", "multiply", "screen", "max", "min"]
    assert [a.data() for a in blend.actions() if a.isChecked()] == ["max"]
    with qtbot.waitSignal(lanes.layerBlendRequested) as sig:
        next(a for a in blend.actions() if a.data() == "multiply").trigger()
    assert sig.args == [3, "multiply"]
    with qtbot.waitSignal(lanes.layerRestackRequested) as sig:
        next(a for a in menu.actions() if a.data() == "backward").trigger()
    assert sig.args == [3, "backward"]
    menu.close()
    menu = lanes.context_menu(lanes.point_at("Pulse", 25.6))  # empty part of a lane
    assert "Blend Mode" not in [a.text() for a in menu.actions()]
    add = next(a.menu() for a in menu.actions() if a.text() == "Add Pattern Layer")
    assert [a.text() for a in add.actions()] == ["warm wash", "beat pulse", "strobe"]
    with qtbot.waitSignal(lanes.patternDropped) as sig:
        add.actions()[2].trigger()
    assert sig.args == ["strobe", "Pulse", 26.0]  # at the nearest beat to the click
    with qtbot.waitSignal(lanes.laneAddRequested):
        next(a for a in menu.actions() if a.text() == "Add Lighting Lane").trigger()
    with qtbot.waitSignal(lanes.laneRemoveRequested) as sig:
        next(a for a in menu.actions() if a.text() == "Remove Lane").trigger()
    assert sig.args == ["Pulse"]
    menu.close()
    # outside the lighting area the timeline's own menu is used
    assert lanes.context_menu(QPointF(400, view.rows().rows[0].y + 10 - view.scroll_offset().y())) is None


def test_drop_a_pattern_on_a_lane(qtbot, view):
    lanes = view.lighting
    with qtbot.waitSignal(lanes.patternDropped) as sig:
        assert drop_on(view.viewport(), pattern_mime("strobe"), pt(lanes.point_at("Chase", 24.4)))
    assert sig.args == ["strobe", "Chase", 24.0]
    over_track = QPoint(400, round(view.rows().rows[1].y + 20 - view.scroll_offset().y()))
    with qtbot.assertNotEmitted(lanes.patternDropped):
        assert not drop_on(view.viewport(), pattern_mime("strobe"), over_track)
    plist = PatternList()
    qtbot.addWidget(plist)
    plist.set_patterns(["a", "b"])
    mime = plist.mimeData([plist.item(1)])
    with qtbot.waitSignal(lanes.patternDropped) as sig:
        assert drop_on(view.viewport(), mime, pt(lanes.point_at("Wash", 3)))
    assert sig.args == ["b", "Wash", 3.0]


def test_double_click_header_renames_in_place(qtbot, view):
    lanes = view.lighting
    w = view.viewport()
    qtbot.mouseDClick(w, Qt.MouseButton.LeftButton, pos=pt(lanes.header_rect("Pulse").center()))
    editor = w.findChild(QLineEdit, "laneNameEditor")
    assert editor is not None and editor.isVisible() and editor.text() == "Pulse"
    with qtbot.waitSignal(lanes.laneRenameRequested) as sig:
        editor.setText("Strobes")
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert sig.args == ["Pulse", "Strobes"] and lanes.renaming() is None
    editor = lanes.start_rename("Wash")
    with qtbot.assertNotEmitted(lanes.laneRenameRequested):
        editor.setText("Nope")
        qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert lanes.renaming() is None


# ---------------------------------------------------------------- pixels


def test_painted_blocks_curves_and_screenshot(qtbot, view):
    lanes = view.lighting
    lanes.select_layer(3)
    view.set_beat_grid(TEMPO)
    qtbot.wait(20)
    img = render(view)
    style = lanes.painter.style
    # the body of an unselected block, where its curve is at 1: the pattern colour
    r = lanes.block_rect(2)
    got = QColor(img.pixel(round(r.center().x()), round(r.bottom() - 4)))
    assert got.rgb() == style.brush("beat pulse").color().rgb()
    # the fade of `warm wash` (0 -> 1 over 4 beats): high in the block at beat 1 is shaded (faded out)
    r1 = lanes.block_rect(1)
    x = round(lanes.x_for_beat(1))
    base = style.brush("warm wash").color()
    shaded = QColor(img.pixel(x, round(r1.top() + 4)))
    assert shaded.lightness() < base.lightness() - 15
    assert QColor(img.pixel(x, round(r1.bottom() - 3))).rgb() == base.rgb()
    # the curve the block draws is the engine's evaluation
    b = blocks()[2]
    beats, values = curve_samples(b, 50)
    assert np.array_equal(values, b.curve.evaluate(beats)) and 2.0 in beats and 10.0 in beats
    ARTIFACTS.mkdir(exist_ok=True)
    assert img.save(str(ARTIFACTS / "lighting_lanes.png"))
