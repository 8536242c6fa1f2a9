"""The generic node editor (widgets.nodes), driven with the mouse and keyboard.

The model here is a small one of its own (numbers and words), because the
editor must work for any node model: these tests use no lighting at all.
Every request the editor makes is applied the way an application would (set_graph
with the requested graph), and recorded for the assertions.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox

from tests.qt_helpers import drop_on
from widgets.nodes import NODE_TYPE_MIME, GraphData, LinkData, NodeEditor, NodeTypeDef, ParamDef, PortDef, Preview
from widgets.nodes import model as m
from widgets.nodes.inspector import ColorButton, ColorsEditor
from widgets.nodes.items import ERROR

TYPES = [
    NodeTypeDef("number", "Number", "Sources", (), (PortDef("value", "number"),),
                (ParamDef("value", "float", 0.5, 0.0, 1.0),), "A constant number."),
    NodeTypeDef("word", "Word", "Sources", (), (PortDef("text", "text"),), (ParamDef("text", "text", "hi"),)),
    NodeTypeDef("add", "Add", "Math", (PortDef("a", "number"), PortDef("b", "number", required=False)),
                (PortDef("sum", "number"),),
                (ParamDef("gain", "float", 1.0, 0.0, 10.0), ParamDef("steps", "int", 4, 1, 64),
                 ParamDef("clip", "bool", False), ParamDef("mode", "choice", "plain", choices=("plain", "wrap")),
                 ParamDef("tint", "color", "#ff0000"), ParamDef("ramp", "colors", ["#000000", "#ffffff"]),
                 ParamDef("tags", "names", [])),
                "Adds a and b."),
    NodeTypeDef("show", "Show", "Output", (PortDef("value", "number"), PortDef("caption", "text", required=False))),
]


class Model:
    def node_types(self):
        return TYPES

    def can_connect(self, src_type, dst_type):
        return src_type == dst_type

    def port_color(self, port_type):
        return {"number": "#4cc9f0"}.get(port_type)

    def suggestions(self, type_id, param):
        return ["front", "back"] if param == "tags" else []


class Recorder:
    """Applies every requested graph, like an application that accepts every edit."""

    def __init__(self, editor: NodeEditor):
        self.editor = editor
        self.changes: list[tuple[GraphData, str, str]] = []
        self.refusals: list[str] = []
        editor.changeRequested.connect(self._apply)
        editor.refused.connect(self.refusals.append)

    def _apply(self, graph, label, key):
        self.changes.append((graph, label, key))
        self.editor.set_graph(graph)


@pytest.fixture
def editor(qtbot):
    e = NodeEditor(use_pyqtgraph=False)
    qtbot.addWidget(e)
    e.set_model(Model())
    e.resize(1200, 640)
    e.show()
    qtbot.waitExposed(e)
    e.recorder = Recorder(e)
    return e


def build(e: NodeEditor) -> None:
    """number -> add.a, a word and a show node, placed apart."""
    e.add_node("number", (0, 0))
    e.add_node("add", (320, 0))
    e.add_node("word", (0, 220))
    e.add_node("show", (640, 40))
    assert e.connect_ports("number", "value", "add", "a")
    e.view.resetTransform()
    e.view.centerOn(400, 120)


def double_click(widget, pos: QPoint) -> None:
    """What the platform delivers for a double click: a click, then a press that is a double click."""
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    QTest.mouseDClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)


def drag(vp, a: QPoint, b: QPoint, steps: int = 4, button=Qt.MouseButton.LeftButton) -> None:
    QTest.mousePress(vp, button, Qt.KeyboardModifier.NoModifier, a)
    for i in range(1, steps + 1):
        QTest.mouseMove(vp, a + (b - a) * i / steps)
    QTest.mouseRelease(vp, button, Qt.KeyboardModifier.NoModifier, b)


def test_palette_search_double_click_enter_and_drop_add_nodes(editor, qtbot):
    pal = editor.palette
    assert pal.visible_types() == ["add", "show", "number", "word"]  # by category, then title
    QTest.keyClicks(pal.search, "const")  # matches the description of Number
    assert pal.visible_types() == ["number"]
    QTest.keyClick(pal.search, Qt.Key.Key_Return)
    pal.search.clear()
    item = pal.item("word")
    double_click(pal.tree.viewport(), pal.tree.visualItemRect(item).center())
    # a drag from the palette carries the type id; dropped on the view it lands where it was dropped
    mime = pal.tree.mimeData([pal.item("show")])
    assert bytes(mime.data(NODE_TYPE_MIME)) == b"show"
    at = QPoint(700, 400)
    assert drop_on(editor.view.viewport(), mime, at)
    assert [n.type for n in editor.graph.nodes] == ["number", "word", "show"]
    expected = editor.view.mapToScene(at)
    assert editor.graph.node("show").pos == (round(expected.x()), round(expected.y()))
    # the double-clicked nodes do not sit on top of each other
    assert editor.graph.node("number").pos != editor.graph.node("word").pos
    assert [label for _, label, _ in editor.recorder.changes] == ["add Number node", "add Word node", "add Show node"]
    assert editor.selected_nodes() == ["show"]  # a new node is selected: the inspector shows it
    assert editor.inspector.heading.text().count("Show")


def test_drag_from_output_to_input_connects(editor):
    build(editor)
    vp = editor.view.viewport()
    drag(vp, editor.port_view_pos("add", "sum", True), editor.port_view_pos("show", "value", False))
    assert LinkData("add", "sum", "show", "value") in editor.graph.links
    # and from an input to an output
    drag(vp, editor.port_view_pos("add", "b", False), editor.port_view_pos("number", "value", True))
    assert LinkData("number", "value", "add", "b") in editor.graph.links
    assert editor.recorder.changes[-1][1] == "connect number.value -> add.b"
    # the linked ports are drawn filled
    assert ("b", False) in editor.node_item("add").linked


def test_incompatible_ports_show_red_while_dragging_and_refuse_the_drop(editor):
    build(editor)
    vp = editor.view.viewport()
    before = editor.graph
    a, b = editor.port_view_pos("word", "text", True), editor.port_view_pos("add", "b", False)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, a)
    QTest.mouseMove(vp, (a + b) / 2)
    drag_state = editor.scene.drag
    # while dragging: the compatible input (show.caption) is marked, the number inputs fade
    assert drag_state.state_of("show", "caption", False) == "ok"
    assert drag_state.state_of("add", "a", False) == "dim"
    QTest.mouseMove(vp, b)
    assert drag_state.state_of("add", "b", False) == "target-bad"
    assert editor.scene._pending.state == "bad"
    assert editor.status.text() == "cannot connect a text output to a number input"
    # the wire is drawn red at the input it points at
    img = editor.view.viewport().grab().toImage()
    near = [img.pixelColor(b.x() - dx, b.y()) for dx in range(8, 20)]
    assert any(c.red() > 180 and c.green() < 110 for c in near), [c.name() for c in near]
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, b)
    assert editor.graph == before  # nothing requested
    assert editor.recorder.refusals == ["cannot connect a text output to a number input"]
    assert editor.scene.drag is None and editor.scene._pending is None
    # the compatible one works
    drag(vp, a, editor.port_view_pos("show", "caption", False))
    assert LinkData("word", "text", "show", "caption") in editor.graph.links


def test_a_loop_is_refused(editor):
    build(editor)
    assert editor.connect_ports("add", "sum", "show", "value")
    before = editor.graph
    assert not editor.connect_ports("add", "sum", "add", "b")
    assert editor.graph == before
    assert editor.recorder.refusals[-1] == "a node cannot feed itself"
    editor.add_node("add", (320, 300))  # add_2
    assert editor.connect_ports("add", "sum", "add_2", "a")
    assert not editor.connect_ports("add_2", "sum", "add", "b")
    assert "loop" in editor.recorder.refusals[-1]


def test_dragging_a_linked_input_lifts_the_link(editor):
    build(editor)
    vp = editor.view.viewport()
    a_in = editor.port_view_pos("add", "a", False)
    # drop it on another number input: the link moves
    editor.add_node("show", (640, 260))
    drag(vp, a_in, editor.port_view_pos("show", "value", False))
    assert editor.graph.links == (LinkData("number", "value", "show", "value"),)
    # drop it on nothing: the link is removed
    drag(vp, editor.port_view_pos("show", "value", False), editor.port_view_pos("show", "value", False) + QPoint(0, 90))
    assert editor.graph.links == ()
    assert editor.recorder.changes[-1][1] == "disconnect number.value -> show.value"


def test_move_rubber_band_duplicate_delete_and_frame(editor, qtbot):
    build(editor)
    vp = editor.view.viewport()
    header = editor.view.mapFromScene(QPointF(40, 10))
    drag(vp, header, header + QPoint(50, 30))
    assert editor.graph.node("number").pos == (50.0, 30.0)
    assert editor.recorder.changes[-1][1] == "move number"
    # the link followed the node
    link = editor.scene.links[LinkData("number", "value", "add", "a")]
    assert link.path().pointAtPercent(0) == editor.node_item("number").scene_port_pos("value", True)
    # rubber band around "number" and "add" (from empty space above them)
    a = editor.view.mapFromScene(QPointF(-20, -30))
    b = editor.view.mapFromScene(QPointF(400, 60))
    drag(vp, a, b)
    assert sorted(editor.selected_nodes()) == ["add", "number"]
    editor.view.setFocus()
    QTest.keyClick(editor.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    g = editor.graph
    assert [n.id for n in g.nodes] == ["number", "add", "word", "show", "number_2", "add_2"]
    assert g.node("add_2").params == g.node("add").params and g.node("add_2").pos == (350.0, 30.0)
    assert LinkData("number_2", "value", "add_2", "a") in g.links  # the link between the copies
    assert sorted(editor.selected_nodes()) == ["add_2", "number_2"]
    QTest.keyClick(editor.view, Qt.Key.Key_Delete)
    assert [n.id for n in editor.graph.nodes] == ["number", "add", "word", "show"]
    assert editor.graph.links == (LinkData("number", "value", "add", "a"),)
    # select a link and delete it
    editor.select([])
    editor.scene.links[LinkData("number", "value", "add", "a")].setSelected(True)
    QTest.keyClick(editor.view, Qt.Key.Key_Delete)
    assert editor.graph.links == ()
    # F frames every node
    editor.view.scale(4, 4)
    editor.view.centerOn(5000, 5000)
    QTest.keyClick(editor.view, Qt.Key.Key_F)
    visible = editor.view.mapToScene(vp.rect()).boundingRect()
    assert visible.contains(editor.nodes_rect())
    assert editor.view.zoom() <= 1.0


def test_middle_button_pans_and_wheel_zooms(editor):
    build(editor)
    vp = editor.view.viewport()
    before = editor.view.mapToScene(QPoint(100, 100))
    drag(vp, QPoint(300, 300), QPoint(360, 340), button=Qt.MouseButton.MiddleButton)
    after = editor.view.mapToScene(QPoint(100, 100))
    assert (before - after).toPoint() == QPoint(60, 40)
    assert editor.graph.links == (LinkData("number", "value", "add", "a"),)  # panning edited nothing
    z = editor.view.zoom()
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication
    ev = QWheelEvent(QPointF(300, 300), QPointF(vp.mapToGlobal(QPoint(300, 300))), QPoint(), QPoint(0, 120),
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, ev)
    assert editor.view.zoom() == pytest.approx(z * 1.15)


def test_inspector_has_an_editor_per_parameter_kind(editor, qtbot):
    build(editor)
    editor.select(["add"])
    ed = editor.inspector.editors
    assert isinstance(ed["gain"], QDoubleSpinBox) and (ed["gain"].minimum(), ed["gain"].maximum()) == (0.0, 10.0)
    assert isinstance(ed["steps"], QSpinBox) and ed["steps"].value() == 4
    assert isinstance(ed["clip"], QCheckBox) and isinstance(ed["mode"], QComboBox)
    assert isinstance(ed["tint"], ColorButton) and ed["tint"].color == QColor("#ff0000")
    assert isinstance(ed["ramp"], ColorsEditor) and ed["ramp"].values() == ["#000000", "#ffffff"]
    assert isinstance(ed["tags"], QLineEdit) and ed["tags"].completer().model().rowCount() == 2
    # typing a value: nothing is requested until Enter
    spin = ed["gain"]
    spin.setFocus()
    spin.selectAll()
    QTest.keyClicks(spin, "2.5")
    assert editor.graph.node("add").params == {}
    QTest.keyClick(spin, Qt.Key.Key_Return)
    assert editor.graph.node("add").params == {"gain": 2.5}
    assert editor.recorder.changes[-1][1:] == ("set add.gain", "add.gain")
    assert editor.inspector.editors["gain"] is spin  # updated in place: the field keeps the focus
    ed["clip"].click()
    ed["mode"].activated.emit(1)
    # the colour button opens a colour dialog; choosing in it sets the parameter
    ed["tint"].click()
    dialog = ed["tint"]._dialog
    assert dialog.isVisible() and dialog.currentColor() == QColor("#ff0000")
    dialog.setCurrentColor(QColor("#00ff80"))
    dialog.accept()
    ed["ramp"].add_button.click()
    ed["tags"].setText("front, back")
    ed["tags"].editingFinished.emit()
    QTest.keyClick(ed["steps"], Qt.Key.Key_Up)
    assert editor.graph.node("add").params == {
        "gain": 2.5, "clip": True, "mode": "wrap", "tint": "#00ff80", "ramp": ["#000000", "#ffffff", "#ffffff"],
        "tags": ["front", "back"], "steps": 5,
    }
    # the node summarises its values
    assert "gain: 2.5" in [s.text() for s in editor.node_item("add")._summary]


def test_error_badges(editor):
    build(editor)
    editor.set_errors({"show": "input 'value' is not linked"})
    item = editor.node_item("show")
    assert item.error == item.toolTip() == "input 'value' is not linked"
    assert not editor.node_item("add").error
    centre = item.mapToScene(item.badge_rect().center())
    editor.view.centerOn(centre)
    img = editor.view.viewport().grab().toImage()
    p = editor.view.mapFromScene(centre)
    badge = img.pixelColor(p.x() - 3, p.y())  # beside the white "!" in the middle
    assert abs(badge.red() - ERROR.red()) < 30 and badge.green() < 110, badge.name()
    editor.select(["show"])
    assert editor.inspector.error_label.text() == "input 'value' is not linked"
    editor.set_errors({})
    assert not item.error and editor.inspector.error_label.isHidden()


def test_zoomed_out_nodes_are_drawn_flat_with_selection_errors_and_links(editor):
    build(editor)
    editor.select(["add"])
    editor.set_errors({"show": "broken"})
    editor.view.resetTransform()
    editor.view.scale(0.3, 0.3)
    editor.view.centerOn(QPointF(400, 100))
    img = editor.view.viewport().grab().toImage()

    def px(scene_x, scene_y):
        p = editor.view.mapFromScene(QPointF(scene_x, scene_y))
        return img.pixelColor(p.x(), p.y())

    number = editor.node_item("number")
    assert px(40, 10).rgb() == number._header.rgb()  # header band of "number" at (0, 0)
    assert px(340, 60).rgb() == QColor("#2b2d31").rgb()  # the body of "add"
    # a selected node has an orange frame, a node with an error a red one
    left_of_add = editor.view.mapFromScene(QPointF(320, 60)) - QPoint(2, 0)
    assert img.pixelColor(left_of_add).rgb() == QColor("#ffb000").rgb()
    left_of_show = editor.view.mapFromScene(QPointF(640, 80)) - QPoint(2, 0)
    assert img.pixelColor(left_of_show).rgb() == QColor("#e5484d").rgb()
    # the link from number to add is drawn (the number colour) halfway between them
    mid = editor.scene.links[LinkData("number", "value", "add", "a")].path().pointAtPercent(0.5)
    p = editor.view.mapFromScene(mid)
    near = [img.pixelColor(p.x(), p.y() + dy) for dy in (-1, 0, 1)]
    assert any(c.blue() > 150 and c.red() < 150 for c in near), [c.name() for c in near]


def test_preview_draws_the_series_and_colour_strips_it_is_given(editor):
    t = np.linspace(0, 2, 50)
    y1, y2 = np.sin(t), np.cos(t) * 2
    editor.show_preview(Preview("series", "n.level", t, [("a", y1), ("b", y2)]))
    (la, xa, ya), (lb, xb, yb) = editor.preview.plotted_series()
    assert (la, lb) == ("a", "b")
    np.testing.assert_array_equal(xa, t)
    np.testing.assert_array_equal(ya, y1)
    np.testing.assert_array_equal(yb, y2)
    rgb = np.stack([np.linspace(0, 1, 50), np.zeros(50), np.linspace(1, 0, 50)], axis=1)
    editor.show_preview(Preview("colors", "n.color", t, [("p1", rgb), ("p2", rgb[::-1])]))
    img = editor.preview.strip_image()
    assert img.shape == (2, 50, 3)
    np.testing.assert_array_equal(img[0], np.rint(rgb * 255).astype(np.uint8))
    assert editor.preview.plotted_series() == []
    editor.show_preview(Preview("text", text="nothing"))
    assert editor.preview.message.text() == "nothing"


def test_graph_edits_are_pure():
    g = GraphData()
    g1, a = m.add_node(g, "number", (0, 0))
    g2, b = m.add_node(g1, "add", (10, 0))
    assert g == GraphData() and len(g1.nodes) == 1 and (a, b) == ("number", "add")
    types = {t.type_id: t for t in TYPES}
    g3 = m.connect(g2, types, Model(), LinkData(a, "value", b, "a"))
    g4 = m.connect(g3, types, Model(), LinkData(a, "value", b, "a"))  # the same input again: replaced
    assert g4.links == (LinkData(a, "value", b, "a"),)
    with pytest.raises(m.Refused, match="no input 'zz'"):
        m.connect(g3, types, Model(), LinkData(a, "value", b, "zz"))
    assert m.unique_id("add", ["add", "add_2"]) == "add_3"
    assert m.unique_id("add_2", ["add", "add_2"]) == "add_3"
    assert m.unique_id("9 lives", []) == "n_9_lives"
    laid = m.auto_layout(g4.__class__(tuple(n.__class__(n.id, n.type) for n in g4.nodes), g4.links))
    assert laid["number"][0] < laid["add"][0]  # sources left of what they feed


def test_preview_plots_with_pyqtgraph_when_it_is_installed(qtbot):
    pytest.importorskip("pyqtgraph")
    from widgets.nodes.preview import NodePreview

    preview = NodePreview(use_pyqtgraph=True)
    qtbot.addWidget(preview)
    preview.resize(400, 260)
    preview.show()
    assert preview.uses_pyqtgraph
    t = np.linspace(0, 4, 100)
    curves = [("front1", np.sin(t) ** 2), ("front2", np.cos(t) ** 2)]
    preview.show_preview(Preview("series", "lfo.level", t, curves))
    got = preview.plotted_series()
    assert [label for label, _, _ in got] == ["front1", "front2"]
    for (_, x, y), (_, want) in zip(got, curves):
        np.testing.assert_allclose(x, t)
        np.testing.assert_allclose(y, want)
    # a new preview replaces the curves
    preview.show_preview(Preview("series", "beats", t, [("beats", t * 2)]))
    ((label, x, y),) = preview.plotted_series()
    assert label == "beats"
    np.testing.assert_allclose(y, t * 2)
