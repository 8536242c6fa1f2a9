"""The opacity-curve editor: drawn from the engine's evaluation; mouse and keys -> whole new key lists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from core.lighting.layers import Keyframe, OpacityCurve
from widgets.curve_editor import CurveEditor

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
KEYS = [(0.0, 0.0, "smooth"), (2.0, 1.0, "linear"), (10.0, 1.0, "smooth"), (12.0, 0.0, "linear")]


@pytest.fixture
def editor(qtbot):
    e = CurveEditor()
    qtbot.addWidget(e)
    e.resize(720, 300)
    e.show()
    qtbot.waitExposed(e)
    e.set_curve(12.0, KEYS, "chase and sweep on Chase")
    qtbot.wait(10)
    return e


class Stored:
    """Plays the app: stores what the editor asks for and gives it back, as the controller does."""

    def __init__(self, editor):
        self.editor, self.requests = editor, []
        editor.keysChangeRequested.connect(self.store)

    def store(self, keys, label):
        self.requests.append((keys, label))
        self.editor.set_curve(self.editor.length(), keys, "stored")


def drag(qtbot, w, start: QPoint, end: QPoint, steps=5, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.mousePress(w, Qt.MouseButton.LeftButton, modifier, start)
    for i in range(1, steps + 1):
        qtbot.mouseMove(w, start + (end - start) * (i / steps))
    qtbot.mouseRelease(w, Qt.MouseButton.LeftButton, modifier, end)


def test_the_curve_is_the_engines_evaluation(editor):
    xs, ys = editor.curve_data()
    curve = OpacityCurve(tuple(Keyframe(*k) for k in KEYS))
    assert xs[0] == 0.0 and xs[-1] == 12.0 and {2.0, 10.0} <= set(xs.tolist())
    assert np.array_equal(ys, curve.evaluate(xs))
    assert editor.keys() == KEYS
    # points map both ways through the plot
    p = editor.point_for(2.0, 1.0)
    beat, value = editor.value_at(QPointF(p))
    assert beat == pytest.approx(2.0, abs=0.05) and value == pytest.approx(1.0, abs=0.01)


def test_double_click_adds_a_key_in_order(qtbot, editor):
    store = Stored(editor)
    w = editor.plot.viewport()
    qtbot.mouseDClick(w, Qt.MouseButton.LeftButton, pos=editor.point_for(6.0, 0.5))
    keys, label = store.requests[-1]
    assert label == "add opacity key"
    assert keys == KEYS[:2] + [(6.0, 0.5, "linear")] + KEYS[2:]  # snapped to 1/8 beat and 0.01; in order
    assert editor.selected_key() == 2
    xs, ys = editor.curve_data()
    assert ys[np.searchsorted(xs, 6.0)] == pytest.approx(0.5)


def test_drag_moves_a_key_clamped_to_neighbours_and_range(qtbot, editor):
    store = Stored(editor)
    w = editor.plot.viewport()
    drag(qtbot, w, editor.key_pos(1), editor.point_for(3.5, 0.62))
    assert store.requests[-1] == ([KEYS[0], (3.5, 0.62, "linear")] + KEYS[2:], "move opacity key")
    # past the next key and above 1: stays at the next key's beat, at 1
    drag(qtbot, w, editor.key_pos(1), editor.point_for(11.0, 1.3))
    assert store.requests[-1][0][1] == (10.0, 1.0, "linear")
    # the last key cannot leave the layer or go below 0
    drag(qtbot, w, editor.key_pos(3), editor.point_for(14.0, -0.4))
    assert store.requests[-1][0][3] == (12.0, 0.0, "linear")
    assert [k[0] for k in editor.keys()] == sorted(k[0] for k in editor.keys())
    # Shift: not snapped
    drag(qtbot, w, editor.key_pos(1), editor.point_for(7.31, 0.437), modifier=Qt.KeyboardModifier.ShiftModifier)
    beat, value, _ = store.requests[-1][0][1]
    assert beat != round(beat * 8) / 8 and beat == pytest.approx(7.31, abs=0.05)
    assert value == pytest.approx(0.437, abs=0.01)


def test_delete_and_interpolation_from_the_menu_and_keys(qtbot, editor):
    store = Stored(editor)
    w = editor.plot.viewport()
    qtbot.mouseClick(w, Qt.MouseButton.LeftButton, pos=editor.key_pos(2))
    assert editor.selected_key() == 2
    qtbot.keyClick(editor.plot, Qt.Key.Key_Delete)
    assert store.requests[-1] == ([KEYS[0], KEYS[1], KEYS[3]], "delete opacity key")
    # right-click a segment: its interpolation
    menu = editor.context_menu(QPointF(editor.point_for(6.0, 0.1)))
    sub = next(a.menu() for a in menu.actions() if a.text() == "Interpolation to Next Key")
    assert [a.data() for a in sub.actions()] == ["linear", "smooth"]
    assert [a.data() for a in sub.actions() if a.isChecked()] == ["linear"]  # the segment from beat 2
    next(a for a in sub.actions() if a.data() == "smooth").trigger()
    assert store.requests[-1] == ([KEYS[0], (2.0, 1.0, "smooth"), KEYS[3]], "smooth opacity segment")
    menu.close()
    # right-click a key: Delete Key
    menu = editor.context_menu(QPointF(editor.key_pos(0)))
    next(a for a in menu.actions() if a.text() == "Delete Key").trigger()
    assert store.requests[-1][0] == [(2.0, 1.0, "smooth"), KEYS[3]]
    menu.close()
    ARTIFACTS.mkdir(exist_ok=True)
    editor.set_curve(12.0, KEYS, "chase and sweep on Chase: beats 8 to 20 (max, z 2)")
    editor.select_key(1)
    qtbot.wait(20)
    assert editor.grab().save(str(ARTIFACTS / "curve_editor.png"))


def test_nothing_to_edit(qtbot, editor):
    editor.set_curve(None, [])
    assert not editor.plot.isEnabled() and editor.context_menu(QPointF(100, 100)) is None
    assert editor.curve_data()[0].size == 0
