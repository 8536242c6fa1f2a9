"""The pattern editor dock on the real main window: edits stored in the project, undo/redo, previews.

Every check of what was stored reads the pattern row back from the project
file with a separate SQLite connection (what another process would see).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog

from app.pattern_editor import PatternEditorController
from app.pattern_model import LightingNodeModel, graph_errors, node_type_defs, preview_times
from core.lighting.demo import add_demo_rig
from core.lighting.errors import PatternError
from core.lighting.nodes import EvalContext, PortType, node_type
from core.lighting.pattern import Link, NodeSpec, PatternGraph
from core.lighting.store import load_show, save_pattern
from core.project import Project
from tests.qt_helpers import drop_on

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture
def window(shown_window, tmp_path):
    w = shown_window
    (tmp_path / "proj").mkdir()
    assert w.new_project(tmp_path / "proj" / "p.luma")
    w.errors.clear()
    return w


@pytest.fixture
def ctl(window, qtbot):
    c = PatternEditorController(window, use_pyqtgraph=False)
    c.install(window)
    return c


def stored(window, name: str) -> dict | None:
    """The pattern's graph as the project file holds it (a separate connection)."""
    con = sqlite3.connect(f"file:{window.project.path}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT graph FROM lighting_patterns WHERE name = ?", (name,)).fetchall()
    finally:
        con.close()
    return json.loads(rows[0][0]) if rows else None


def stored_text(window, name: str) -> str | None:
    con = sqlite3.connect(f"file:{window.project.path}?mode=ro", uri=True)
    try:
        rows = con.execute("SELECT graph FROM lighting_patterns WHERE name = ?", (name,)).fetchall()
    finally:
        con.close()
    return rows[0][0] if rows else None


def drag(vp, a: QPoint, b: QPoint, steps: int = 4) -> None:
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    for i in range(1, steps + 1):
        QTest.mouseMove(vp, a + (b - a) * i / steps)
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)


def double_click(widget, pos: QPoint) -> None:
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    QTest.mouseDClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)


def node(nid, type_, params=None, pos=None):
    d = {"id": nid, "type": type_, "params": params or {}}
    if pos is not None:
        d["pos"] = [float(pos[0]), float(pos[1])]
    return d


def test_menu_opens_a_pattern_through_the_dialog_and_creating_it_is_undoable(window, ctl, qtbot):
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Lighting")
    assert window.pattern_editor.edit_action in menu.actions()  # the window's own controller
    assert ctl.edit_action in menu.actions()  # and this test's (without pyqtgraph)
    assert not ctl.dock.isVisible()
    ctl.edit_action.trigger()
    dlg = next(d for d in window.findChildren(QInputDialog, "editPatternDialog") if d.isVisible())
    assert dlg is not None and dlg.isVisible()
    dlg.setTextValue("wash")
    dlg.accept()
    assert ctl.dock.isVisible() and ctl.dock.windowTitle() == "Pattern Editor - wash"
    assert stored(window, "wash") == {"name": "wash", "nodes": [], "links": []}
    assert window.undo_stack.undoText() == "new pattern wash"
    window.undo_stack.undo()
    assert stored(window, "wash") is None
    assert not ctl.editor.isEnabled()
    window.undo_stack.redo()
    assert stored(window, "wash") == {"name": "wash", "nodes": [], "links": []}
    assert ctl.editor.isEnabled()


def test_build_a_pattern_with_the_api_undo_and_redo_restore_the_stored_json_exactly(window, ctl):
    assert ctl.edit_pattern("wash")
    e = ctl.editor
    history = [stored_text(window, "wash")]

    def step(fn, *args):
        fn(*args)
        history.append(stored_text(window, "wash"))

    step(e.add_node, "select", (0, 0))
    step(e.add_node, "color", (0, 160))
    step(e.add_node, "apply_color", (300, 40))
    step(e.connect_ports, "select", "selection", "apply_color", "selection")
    step(e.connect_ports, "color", "color", "apply_color", "color")
    step(e.set_param, "color", "color", "#ff8000")
    step(e.set_param, "select", "order", "reverse")
    step(e.move_nodes, {"apply_color": (320.0, 60.0)})
    assert stored(window, "wash") == {
        "name": "wash",
        "nodes": [node("select", "select", {"order": "reverse"}, (0, 0)),
                  node("color", "color", {"color": "#ff8000"}, (0, 160)),
                  node("apply_color", "apply_color", {}, (320, 60))],
        "links": ["select.selection -> apply_color.selection", "color.color -> apply_color.color"],
    }
    assert len(set(history)) == len(history)  # every step stored something new
    # an incompatible connection is refused: nothing stored, nothing to undo
    count = window.undo_stack.count()
    assert not e.connect_ports("select", "selection", "apply_color", "color")
    assert stored_text(window, "wash") == history[-1] and window.undo_stack.count() == count
    assert "cannot connect a selection output to a color input" in e.status.text()
    # undo walks back through exactly what was stored before each step, redo forward again
    for expected in reversed(history[:-1]):
        window.undo_stack.undo()
        assert stored_text(window, "wash") == expected
        assert ctl.shown_json == expected  # and the view shows what is stored
    for expected in history[1:]:
        window.undo_stack.redo()
        assert stored_text(window, "wash") == expected
    assert [n.id for n in e.graph.nodes] == ["select", "color", "apply_color"]
    assert e.errors() == {}
    # the stored graph is a valid pattern for core, with the positions
    with Project.open(window.project.path) as other:
        graph = load_show(other).patterns["wash"]
    graph.validate()
    assert graph.node("apply_color").pos == (320.0, 60.0)


def test_build_a_pattern_with_the_mouse(window, ctl, qtbot):
    assert ctl.edit_pattern("pulse")
    e = ctl.editor
    qtbot.waitUntil(lambda: e.view.viewport().width() > 300)
    pal, vp = e.palette, e.view.viewport()
    # 1. double-click "Level" in the palette: a node at the view's centre
    double_click(pal.tree.viewport(), pal.tree.visualItemRect(pal.item("dimmer")).center())
    # 2. search "math", drag the match onto the view
    QTest.keyClicks(pal.search, "math")
    assert pal.visible_types() == ["math"]
    at = QPoint(vp.width() // 2 + 150, vp.height() // 2 + 60)
    assert drop_on(vp, pal.tree.mimeData([pal.item("math")]), at)
    drop_pos = e.view.mapToScene(at)
    level_pos = e.scene_pos_of("dimmer")
    # 3. drag from the Level output to the Math input "a"
    drag(vp, e.port_view_pos("dimmer", "level", True), e.port_view_pos("math", "a", False))
    # 4. an incompatible drop (a series output onto a selection input) is refused
    e.add_node("apply_dimmer", (drop_pos.x() + 260, drop_pos.y()))
    before = stored_text(window, "pulse")
    drag(vp, e.port_view_pos("math", "level", True), e.port_view_pos("apply_dimmer", "selection", False))
    assert stored_text(window, "pulse") == before
    e.delete(["apply_dimmer"])
    # 5. set "amount" of the Math node in the inspector (select it with a click on its header)
    QTest.mouseClick(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     e.view.mapFromScene(e.scene_pos_of("math") + QPointF(60, 10)))
    assert e.current_node() == "math"
    spin = e.inspector.editors["amount"]
    spin.setFocus()
    spin.selectAll()
    QTest.keyClicks(spin, "0.75")
    QTest.keyClick(spin, Qt.Key.Key_Return)
    assert stored(window, "pulse") == {
        "name": "pulse",
        "nodes": [node("dimmer", "dimmer", {}, (level_pos.x(), level_pos.y())),
                  node("math", "math", {"amount": 0.75}, (round(drop_pos.x()), round(drop_pos.y())))],
        "links": ["dimmer.level -> math.a"],
    }
    # the math node's preview: the level (1.0) scaled by 0.75 over the pattern's two bars
    ((label, x, y),) = e.preview.plotted_series()
    assert label == "all"
    np.testing.assert_allclose(y, 0.75)
    assert x[0] == 0.0 and x[-1] == pytest.approx(4.0 - 1 / 44)


def test_repeated_edits_of_one_parameter_are_one_undo_step(window, ctl):
    assert ctl.edit_pattern("wash")
    e = ctl.editor
    e.add_node("dimmer", (0, 0))
    before = stored_text(window, "wash")
    e.select(["dimmer"])
    spin = e.inspector.editors["level"]
    for _ in range(3):  # three clicks on the arrow
        QTest.keyClick(spin, Qt.Key.Key_Down)
    assert stored(window, "wash")["nodes"][0]["params"] == {"level": pytest.approx(0.97)}
    assert window.undo_stack.undoText() == "set dimmer.level in wash"
    e.set_param("dimmer", "level", 0.5)  # the same parameter again: still the same step
    window.undo_stack.undo()
    assert stored_text(window, "wash") == before
    assert e.inspector.editors["level"].value() == 1.0  # the inspector shows what is stored
    window.undo_stack.redo()
    assert stored(window, "wash")["nodes"][0]["params"] == {"level": 0.5}


def test_delete_and_duplicate_with_keys_on_the_main_window(window, ctl, qtbot):
    add_demo_rig(window.project)
    assert ctl.edit_pattern("warm wash")
    e = ctl.editor
    original = stored_text(window, "warm wash")
    assert all("pos" not in n for n in json.loads(original)["nodes"])  # made without an editor: laid out
    e.select(["grad"])
    e.view.setFocus()
    QTest.keyClick(e.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    after_dup = stored(window, "warm wash")
    ids = [n["id"] for n in after_dup["nodes"]]
    assert ids[-1] == "grad_2" and len(ids) == 12
    copy = after_dup["nodes"][-1]
    grad = next(n for n in after_dup["nodes"] if n["id"] == "grad")
    assert copy["params"] == grad["params"] and copy["pos"] == [grad["pos"][0] + 30, grad["pos"][1] + 30]
    assert "pars.selection -> grad_2.selection" in after_dup["links"]  # fed like the original
    assert e.selected_nodes() == ["grad_2"]
    # Delete on the node view deletes nodes (the window's own Delete shortcut does not take the key)
    e.select(["grad"])
    QTest.keyClick(e.view, Qt.Key.Key_Delete)
    after_del = stored(window, "warm wash")
    assert "grad" not in [n["id"] for n in after_del["nodes"]]
    assert not any(l.startswith("grad.") or ".grad." in l or l.endswith("-> grad.selection")
                   for l in after_del["links"])
    assert e.errors()["paint"].endswith("input 'color' is not linked; link a color output to it")
    window.undo_stack.undo()
    assert stored(window, "warm wash") == after_dup
    window.undo_stack.undo()
    assert stored_text(window, "warm wash") == original  # exactly: no positions, as it was
    window.undo_stack.redo()
    window.undo_stack.redo()
    assert stored(window, "warm wash") == after_del


@pytest.mark.parametrize("plot", ["qpainter", "pyqtgraph"])
def test_preview_shows_what_core_evaluates(window, plot):
    if plot == "pyqtgraph":
        pytest.importorskip("pyqtgraph")
    ctl = PatternEditorController(window, use_pyqtgraph=plot == "pyqtgraph")
    ctl.install(window)
    assert ctl.editor.preview.uses_pyqtgraph == (plot == "pyqtgraph")
    show = add_demo_rig(window.project)
    rig = show.patch.rig()
    e = ctl.editor
    # colours: the gradient across the pars of "warm wash" (layer at beats 0..64)
    assert ctl.edit_pattern("warm wash")
    graph = show.patterns["warm wash"]
    t, start = preview_times(load_show(window.project), "warm wash")
    assert t[0] == 0.0 and t[-1] < 32.0 and len(t) <= 1000
    out = graph.evaluate(EvalContext.for_times(rig, t, show.tempo, start))
    color = out.caps["color"]
    e.select(["paint"])
    img = e.preview.strip_image()
    pars = [rig.primitives[i].id for i in color.indices if rig.primitives[i].id != "spot1"]
    # one strip per primitive the node paints, in the selection's order (the pars along stage x)
    assert e.preview.strips.labels == ["front1", "back1", "front2", "front3", "back2", "front4"]
    values = np.broadcast_to(color.values, (len(t),) + color.values.shape[1:])  # (T, k, 3), k sorted indices
    expected = np.rint(np.clip(values, 0, 1) * 255).astype(np.uint8)
    by_id = {rig.primitives[i].id: k for k, i in enumerate(color.indices)}
    for row, label in enumerate(e.preview.strips.labels):
        np.testing.assert_array_equal(img[row], expected[:, by_id[label]])
    assert set(pars) == set(e.preview.strips.labels)
    # the gradient node itself: unselected primitives black, the same colours on the pars
    e.select(["grad"])
    img = e.preview.strip_image()
    assert e.preview.strips.labels == [p.id for p in rig.primitives][:img.shape[0]]
    for row, label in enumerate(e.preview.strips.labels):
        if label in pars:
            np.testing.assert_array_equal(img[row], expected[:, by_id[label]])
        else:
            assert not img[row].any()
    # a series: "beat pulse" (beats 16..48) - its clamp node against core's intensity output
    assert ctl.edit_pattern("beat pulse")
    graph = show.patterns["beat pulse"]
    t, start = preview_times(load_show(window.project), "beat pulse")
    assert t[0] == pytest.approx(8.0) and start == pytest.approx(8.0)
    out = graph.evaluate(EvalContext.for_times(rig, t, show.tempo, start))
    e.select(["limit"])
    ((label, x, y),) = e.preview.plotted_series()
    np.testing.assert_array_equal(x, t)
    np.testing.assert_allclose(y, out.caps["intensity"].values[:, 0, 0], atol=1e-6)
    assert y.min() < 0.3 and y.max() == pytest.approx(1.0)  # it pulses
    # editing a parameter updates the preview
    e.set_param("floor", "amount", 0.5)
    ((_, _, y2),) = e.preview.plotted_series()
    assert y2.min() == pytest.approx(0.5, abs=1e-6)
    # the position node of "chase and sweep": pan follows the LFO, tilt is constant
    assert ctl.edit_pattern("chase and sweep")
    e.select(["aim"])
    (pan_label, _, pan), (tilt_label, _, tilt) = e.preview.plotted_series()
    assert (pan_label, tilt_label) == ("pan", "tilt")
    assert 0.3 - 1e-9 <= pan.min() < pan.max() <= 0.7 + 1e-9
    np.testing.assert_allclose(tilt, 0.35)
    # a selection lists its primitives
    e.select(["front"])
    assert e.preview.message.text().endswith("front1, front2, front3, front4")


def test_badges_for_missing_inputs_and_merge_conflicts(window, ctl):
    add_demo_rig(window.project)
    assert ctl.edit_pattern("looks")
    e = ctl.editor
    e.add_node("select", (0, 0))
    e.add_node("color", (0, 160))
    e.add_node("apply_color", (300, 0))
    assert set(e.errors()) == {"apply_color"}
    assert "input 'selection' is not linked" in e.errors()["apply_color"]
    assert e.node_item("apply_color").toolTip() == e.errors()["apply_color"]
    e.connect_ports("select", "selection", "apply_color", "selection")
    e.connect_ports("color", "color", "apply_color", "color")
    assert e.errors() == {}
    e.duplicate(["apply_color"])  # the copy paints the same fixtures: a merge conflict
    errors = e.errors()
    assert set(errors) == {"apply_color", "apply_color_2"}
    assert "both apply color" in errors["apply_color_2"]
    with pytest.raises(PatternError, match="both apply color"):
        PatternGraph.from_dict(stored(window, "looks")).check(load_show(window.project).patch.rig())
    # a fixture that is not patched
    e.set_param("select", "fixtures", ["nobody"])
    assert "nobody" in e.errors()["select"]
    e.select(["select"])
    assert "nobody" in e.inspector.error_label.text()


def test_lighting_model_follows_core(window):
    add_demo_rig(window.project)
    rig = load_show(window.project).patch.rig()
    model = LightingNodeModel(rig)
    defs = {d.type_id: d for d in node_type_defs()}
    lfo = defs["lfo"]
    assert [p.name for p in lfo.inputs] == ["selection", "beats"] and lfo.outputs[0].type == "series"
    assert lfo.param("shape").choices == ("sine", "square", "saw", "triangle") and lfo.param("rate").min == 1e-6
    assert defs["gradient"].param("colors").default == ["#ff0000", "#0000ff"]
    # can_connect says what PatternGraph.validate_link says, for every pair of port types
    for a in PortType:
        for b in PortType:
            src = next(t for t, d in defs.items() if d.outputs and d.outputs[0].type == a.value) \
                if any(d.outputs and d.outputs[0].type == a.value for d in defs.values()) else None
            dst = next(((t, p.name) for t, d in defs.items() for p in d.inputs if p.type == b.value), None)
            if src is None or dst is None:
                continue
            link = Link("s", node_type(src).outputs[0].name, "d", dst[1])
            g = PatternGraph("t", (NodeSpec("s", src), NodeSpec("d", dst[0])))
            try:
                g.validate_link(link, {"s": node_type(src), "d": node_type(dst[0])})
                core_ok = True
            except PatternError:
                core_ok = False
            assert model.can_connect(a.value, b.value) == core_ok, (a, b)
    assert "front1" in model.suggestions("select", "fixtures") and "pars" in model.suggestions("select", "groups")
    # an empty rig: errors still work
    assert graph_errors(PatternGraph("x", (NodeSpec("a", "apply_color"),)), rig, load_show(window.project).tempo)


def test_changes_from_elsewhere_are_shown(window, ctl):
    assert ctl.edit_pattern("wash")
    g = PatternGraph("wash", (NodeSpec("c", "color", {"color": "#00ff00"}, (10.0, 20.0)),))
    save_pattern(window.project, g)  # e.g. a show file import
    assert [n.id for n in ctl.editor.graph.nodes] == ["c"]
    assert ctl.editor.scene_pos_of("c") == QPointF(10, 20)


def test_screenshot(window, ctl, qtbot):
    add_demo_rig(window.project)
    window.resize(1500, 950)
    assert ctl.edit_pattern("chase and sweep")
    ctl.dock.setFloating(True)
    ctl.dock.resize(1400, 640)
    e = ctl.editor
    e.set_param("run", "width", 2)
    e.add_node("apply_color", (1200, 400))  # not linked: shows a badge
    e.select(["sweep"])
    QApplication.processEvents()
    e.frame_all()
    qtbot.wait(50)
    ARTIFACTS.mkdir(exist_ok=True)
    assert ctl.dock.grab().save(str(ARTIFACTS / "node_editor.png"))
    assert e.errors().keys() == {"apply_color"}
