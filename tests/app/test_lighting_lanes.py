"""Lighting lanes in the real main window: place, drag, blend, z-order and opacity through the GUI; the show
output's composite buffer must equal the engine's rendering of the same show built without the GUI, and undo
must restore the stored rows exactly."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QDockWidget

from core.lighting.buffer import CompositeBuffer
from core.lighting.layer_edit import LANES_META_KEY
from core.lighting.layers import Keyframe, Layer, OpacityCurve
from core.lighting.library import BUNDLED_DIR, FixtureLibrary
from core.lighting.patch import FixtureInstance, Patch
from core.lighting.pattern import NodeSpec, PatternGraph
from core.lighting.show import Show
from core.lighting.store import save_show
from core.time import TempoMap
from tests.qt_helpers import drop_on

TEMPO = TempoMap(Fraction(128), Fraction(1, 2))  # 128 BPM, beat 0 half a second into the sequence
RATE = 25


def colour_pattern(name: str, colour: str) -> PatternGraph:
    return PatternGraph(name, (NodeSpec("sel", "select"), NodeSpec("c", "color", {"color": colour}),
                               NodeSpec("paint", "apply_color"), NodeSpec("v", "dimmer", {"level": 1.0}),
                               NodeSpec("dim", "apply_dimmer")),
                        ("sel.selection -> paint.selection", "c.color -> paint.color", "sel.selection -> dim.selection",
                         "v.level -> dim.level"))


def rig() -> tuple[Patch, dict[str, PatternGraph]]:
    library = FixtureLibrary([BUNDLED_DIR], include_defaults=False)
    rgb = library.load("Generic/RGB Par")
    patch = Patch()
    for i in range(2):
        patch.add(FixtureInstance(f"par{i + 1}", rgb.key, "3 Channel", 1, 1 + 3 * i, f"Par {i + 1}"), rgb)
    patterns = {p.name: p for p in (colour_pattern("red", "#ff0000"), colour_pattern("blue", "#0000ff"))}
    return patch, patterns


@pytest.fixture
def window(shown_window, tmp_path):
    w = shown_window
    (tmp_path / "proj").mkdir()
    assert w.new_project(tmp_path / "proj" / "lights.luma")
    patch, patterns = rig()
    save_show(w.project, Show(patch, patterns, [], TEMPO))
    w.resize(1200, 900)
    dock = w.findChild(QDockWidget, "dock-timeline")
    w.resizeDocks([dock], [470], Qt.Orientation.Vertical)
    w.timeline_view.set_zoom(2.0)
    return w


def stored(w):
    return (w.project.query("SELECT * FROM lighting_layers ORDER BY id"), w.project.get_meta(LANES_META_KEY))


def expected_buffer(layers: list[Layer]) -> CompositeBuffer:
    """The engine on its own: the same rig, patterns, tempo and layers, without the GUI."""
    patch, patterns = rig()
    return CompositeBuffer(Show(patch, patterns, layers, TEMPO))


def assert_same_show(w, layers: list[Layer], beats):
    so = w.show_output
    reference = expected_buffer(layers)
    for beat in beats:
        t = float(TEMPO.beats_to_seconds(Fraction(beat)))
        got, want = so.buffer.sample(t), reference.sample(t)
        assert got.values.keys() == want.values.keys()
        for cap in want.values:
            assert np.array_equal(got.values[cap], want.values[cap]), (beat, cap)
            assert np.array_equal(got.present[cap], want.present[cap]), (beat, cap)


def colour_at(w, beat) -> tuple:
    s = w.show_output.buffer.sample(float(TEMPO.beats_to_seconds(Fraction(beat))))
    return tuple(np.round(s.values["color"][0], 3).tolist())


def pt(p: QPointF) -> QPoint:
    return QPoint(round(p.x()), round(p.y()))


def mouse_drag(qtbot, widget, start: QPointF, end: QPointF, steps: int = 6):
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=pt(start))
    for i in range(1, steps + 1):
        qtbot.mouseMove(widget, pt(start + (end - start) * (i / steps)))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=pt(end))


def test_lighting_lanes_end_to_end(qtbot, window):
    w = window
    ll, view = w.lighting_lanes, w.timeline_view
    lanes = ll.lanes
    assert ll.patterns.names() == ["blue", "red"] and lanes.lanes() == []
    history = [stored(w)]

    # 1. place a pattern through the controller's API
    red = ll.add_layer("red", "Lights 1", 4).layer_id
    history.append(stored(w))
    assert w.project.query("SELECT track, start_beat, end_beat, z, blend, opacity FROM lighting_layers") == \
        [("Lights 1", 4.0, 8.0, 0, "replace", "[]")]  # one bar long by default
    assert lanes.lanes() == ["Lights 1"] and lanes.selected_layer() == red
    lanes.ensure_lane_visible("Lights 1")
    # the block starts on the frame of beat 4: 0.5 s + 4 * 60/128 s = 2.375 s -> frame 59 (nearest)
    assert TEMPO.beat_to_frame(4, RATE) == 59
    assert lanes.block_rect(red).x() == pytest.approx(view.x_for_frame(59))

    # 2. add a lane (Lighting menu) and drop a pattern from the Patterns list onto it
    ll.actions["add_lane"].trigger()
    history.append(stored(w))
    assert lanes.lanes() == ["Lights 1", "Lights 2"]
    lanes.ensure_lane_visible("Lights 2")
    item = next(ll.patterns.item(i) for i in range(ll.patterns.count()) if ll.patterns.item(i).text() == "blue")
    assert drop_on(view.viewport(), ll.patterns.mimeData([item]), pt(lanes.point_at("Lights 2", 5.2)))
    history.append(stored(w))
    blue = max(r[0] for r in stored(w)[0])
    assert w.project.query("SELECT track, start_beat, end_beat, z FROM lighting_layers WHERE id = ?", (blue,)) == \
        [("Lights 2", 5.0, 9.0, 1)]

    # 3. drag the red block two beats to the right with the mouse
    lanes.ensure_lane_visible("Lights 1")
    start = lanes.block_rect(red).center()
    beat_px = float(TEMPO.seconds_per_beat) * RATE * view.pixels_per_frame()
    mouse_drag(qtbot, view.viewport(), start, start + QPointF(2.2 * beat_px, 0))
    history.append(stored(w))
    assert w.project.query("SELECT start_beat, end_beat FROM lighting_layers WHERE id = ?", (red,)) == [(6.0, 10.0)]
    assert lanes.block_rect(red).x() == pytest.approx(view.x_for_frame(TEMPO.beat_to_frame(6, RATE)))

    # 4. blend mode from the block's context menu
    menu = lanes.context_menu(lanes.block_rect(blue).center())
    blend = next(a.menu() for a in menu.actions() if a.text() == "Blend Mode")
    next(a for a in blend.actions() if a.data() == "max").trigger()
    menu.close()
    history.append(stored(w))

    # 5. an opacity ramp in the curve editor: double-click to add two keys, drag one
    assert ll.open_curve(blue) and ll.curve_dock.isVisible()
    ed = ll.curve_editor
    qtbot.wait(30)
    assert ed.length() == 4.0 and ed.keys() == []
    ed_w = ed.plot.viewport()
    qtbot.mouseDClick(ed_w, Qt.MouseButton.LeftButton, pos=ed.point_for(1.0, 0.5))
    history.append(stored(w))
    qtbot.mouseDClick(ed_w, Qt.MouseButton.LeftButton, pos=ed.point_for(0.0, 0.0))
    history.append(stored(w))
    mouse_drag(qtbot, ed_w, QPointF(ed.key_pos(1)), QPointF(ed.point_for(2.0, 0.25)), steps=4)
    history.append(stored(w))
    assert w.project.query("SELECT opacity FROM lighting_layers WHERE id = ?", (blue,)) == \
        [("[[0.0, 0.0, \"linear\"], [2.0, 0.25, \"linear\"]]",)]
    assert ed.keys() == [(0.0, 0.0, "linear"), (2.0, 0.25, "linear")]

    # the show output rebuilt its buffer: exactly the engine's rendering of the same show
    ramp = OpacityCurve((Keyframe(0.0, 0.0), Keyframe(2.0, 0.25)))
    layers = [Layer("red", 6, 10, 0, "replace", OpacityCurve(), "Lights 1"),
              Layer("blue", 5, 9, 1, "max", ramp, "Lights 2")]
    probe = [0.25, 4.0, 5.0, 5.5, 6.0, 6.5, 7.0, 7.77, 8.5, 9.5, 10.5]
    assert_same_show(w, layers, probe)
    c = colour_at(w, 5.0)  # blue alone, its opacity ramp at 0 over nothing: dark
    assert c[0] == 0.0 and c[2] < 0.01
    assert colour_at(w, 8.5)[0] == 1.0 and 0.0 < colour_at(w, 8.5)[2] < 1.0

    # 6. z-order decides who wins with Replace
    menu = lanes.context_menu(lanes.block_rect(blue).center())
    next(a for a in next(a.menu() for a in menu.actions() if a.text() == "Blend Mode").actions()
         if a.data() == "replace").trigger()
    menu.close()
    history.append(stored(w))
    ll.set_opacity(blue, [], "clear opacity")
    history.append(stored(w))
    layers = [Layer("red", 6, 10, 0, "replace", OpacityCurve(), "Lights 1"),
              Layer("blue", 5, 9, 1, "replace", OpacityCurve(), "Lights 2")]
    assert_same_show(w, layers, probe)
    assert colour_at(w, 7.0) == (0.0, 0.0, 1.0)  # blue on top
    menu = lanes.context_menu(lanes.block_rect(blue).center())
    next(a for a in menu.actions() if a.data() == "backward").trigger()
    menu.close()
    history.append(stored(w))
    assert colour_at(w, 7.0) == (1.0, 0.0, 0.0)  # red on top now
    z = dict(w.project.query("SELECT id, z FROM lighting_layers"))
    assert (z[blue], blue) < (z[red], red)
    assert_same_show(w, [Layer("red", 6, 10, z[red], "replace", OpacityCurve(), "Lights 1"),
                         Layer("blue", 5, 9, z[blue], "replace", OpacityCurve(), "Lights 2")], probe)
    lanes.select_layer(blue)
    ll.actions["front"].trigger()  # Lighting > Bring to Front (Ctrl+Shift+])
    history.append(stored(w))
    assert colour_at(w, 7.0) == (0.0, 0.0, 1.0)

    # 7. Delete with the block selected on the focused timeline
    view.setFocus()
    lanes.select_layer(red)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    history.append(stored(w))
    assert [r[0] for r in stored(w)[0]] == [blue] and lanes.lanes() == ["Lights 1", "Lights 2"]

    # the lanes show exactly what is stored
    assert {b.layer_id: (b.lane, b.start_beat, b.end_beat, b.z, b.blend) for b in lanes.blocks()} == \
        {r[0]: (r[2], r[3], r[4], r[5], r[6]) for r in stored(w)[0]}

    # undo walks back through every stored state exactly, redo forward again
    assert w.undo_stack.count() == len(history) - 1
    for state in reversed(history[:-1]):
        w.undo_stack.undo()
        assert stored(w) == state
    assert stored(w)[0] == [] and lanes.blocks() == [] and lanes.lanes() == []
    assert so_colour_is_dark(w)
    for state in history[1:]:
        w.undo_stack.redo()
        assert stored(w) == state
    assert not w.errors


def so_colour_is_dark(w) -> bool:
    """Nothing is lit once every layer is undone."""
    s = w.show_output.buffer.sample(float(TEMPO.beats_to_seconds(Fraction(7))))
    return not s.present["color"].any()


def test_refused_edits_show_the_reason_and_push_nothing(qtbot, window):
    w = window
    ll = w.lighting_lanes
    ll.add_layer("red", "A", 0)
    n = w.undo_stack.count()
    assert ll.rename_lane("A", "") is None
    assert ll.add_layer("nope", "A", 0) is None
    assert w.undo_stack.count() == n and len(w.errors) == 2
    assert "needs a name" in w.errors[0] and "not in the project" in w.errors[1]
    editor = ll.lanes.start_rename("A")
    editor.setText("Front wash")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert ll.lanes.lanes() == ["Front wash"] and w.undo_stack.count() == n + 1
    # closing the project empties the lanes
    w.close_project()
    assert ll.lanes.lanes() == [] and ll.patterns.names() == []


def test_edit_delete_removes_the_selected_block_and_undo_restores_it(window):
    w = window
    ll = w.lighting_lanes
    lid = ll.add_layer("red", "Lights 1", 4).layer_id
    before = stored(w)
    ll.lanes.select_layer(lid)
    w.delete_selected()  # Edit > Delete, whatever has the focus
    assert lid not in ll.blocks()
    assert not [r for r in stored(w)[0] if r[0] == lid]
    w.undo_stack.undo()
    assert stored(w) == before and lid in ll.blocks()
