"""The clip inspector widget: rows built from PropSpec tables, keyframe buttons, the filter stack's gestures."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from core.timeline.props import CLIP_PROPS, TRACK_PROPS, PropSpec
from widgets.clip_inspector import KEY_OFF, KEY_ON, ClipInspector, InspectorTarget

# a filter table of its own: the widget is generic, built from whatever specs are registered
SPECS = {
    "glow": {"amount": PropSpec("amount", 0.5, 0.0, 1.0, label="Amount"),
             "radius": PropSpec("radius", 4.0, 0.0, 100.0, label="Radius", unit="px")},
    "lut": {"mix": PropSpec("mix", 1.0, 0.0, 1.0, label="Mix")},
}


@pytest.fixture
def insp(qtbot):
    w = ClipInspector(filter_specs=SPECS)
    qtbot.addWidget(w)
    w.resize(380, 700)
    w.show()
    return w


def clip_target(props, frame=0):
    return InspectorTarget("clip", "clip A", props, CLIP_PROPS, frame, blend=True)


def recorder(signal):
    got = []
    signal.connect(lambda *a: got.append(a))
    return got


def test_rows_follow_the_spec_table_and_show_values_at_the_frame(insp):
    opacity = {"keys": [[0, 0.0, "linear"], [10, 1.0, "linear"]]}
    insp.set_target(clip_target({"opacity": opacity, "scale": 2.0, "fade_in": 12}, frame=5))
    assert insp.property_names() == list(CLIP_PROPS)
    assert insp.value("opacity") == pytest.approx(0.5)
    assert insp.value("scale") == 2.0 and insp.value("x") == 0.0 and insp.value("fade_in") == 12
    row = insp.row("opacity")
    assert row.animated() and not row.has_key_here() and row.key_button.text() == KEY_OFF
    assert row.prev_button.isEnabled() and row.next_button.isEnabled()
    assert not insp.row("scale").animated() and not insp.row("scale").next_button.isEnabled()
    assert insp.row("fade_in").key_button.isHidden()  # fades are not keyframable
    assert insp.row("opacity").slider is not None and insp.row("x").slider is None
    insp.set_target(clip_target({"opacity": opacity}, frame=10))
    assert insp.value("opacity") == 1.0 and row.has_key_here() and row.key_button.text() == KEY_ON
    assert row.key_button.isChecked() and not row.next_button.isEnabled()
    # a track shows its own table (volume only, no blend mode)
    insp.set_target(InspectorTarget("track", "V1", {"volume": 0.5}, TRACK_PROPS, 0))
    assert insp.property_names() == ["volume"] and insp.value("volume") == 0.5
    assert insp.blend_combo.isHidden()


def test_gestures_emit_edits_and_refreshes_do_not(insp):
    insp.set_target(clip_target({"opacity": {"keys": [[0, 0.2, "linear"], [20, 0.8, "hold"]]}}, frame=4))
    edits, keys, seeks, blends = (recorder(insp.propertyEdited), recorder(insp.keyToggled),
                                  recorder(insp.seekRequested), recorder(insp.blendEdited))
    insp.set_target(clip_target({"opacity": 0.3}, frame=4))  # a refresh is not an edit
    assert edits == []
    insp.set_target(clip_target({"opacity": {"keys": [[0, 0.2, "linear"], [20, 0.8, "hold"]]}}, frame=4))
    insp.row("rotation").set_value(45.0)
    insp.row("opacity").slider.setValue(250)  # a quarter of 0..1
    assert edits == [("rotation", 45.0), ("opacity", 0.25)]
    insp.row("opacity").key_button.click()
    insp.row("opacity").next_button.click()
    insp.row("opacity").prev_button.click()
    assert keys == [("opacity",)] and seeks == [(20,), (0,)]
    insp.blend_combo.setCurrentText("screen")
    assert blends == [("screen",)]


def test_slider_drag_is_one_gesture(insp, qtbot):
    insp.set_target(clip_target({}))
    slider = insp.row("opacity").slider
    assert insp.gesture() is None
    slider.sliderPressed.emit()
    first = insp.gesture()
    assert first is not None
    slider.sliderReleased.emit()
    assert insp.gesture() is None
    slider.sliderPressed.emit()
    assert insp.gesture() not in (None, first)


def test_filter_stack_gestures(insp, monkeypatch, tmp_path):
    filters = [{"type": "glow", "enabled": True, "params": {"amount": 0.9}},
               {"type": "lut", "enabled": False, "params": {"path": str(tmp_path / "warm.cube"),
                                                             "mix": {"keys": [[3, 0.5, "linear"]]}}}]
    insp.set_target(clip_target({"filters": filters}, frame=3))
    assert insp.filter_kinds() == ["glow", "lut"]
    assert insp.filter_list.item(0).checkState() == Qt.CheckState.Checked
    assert insp.filter_list.item(1).checkState() == Qt.CheckState.Unchecked
    assert "warm.cube" in insp.filter_list.item(1).text() and KEY_ON in insp.filter_list.item(1).text()
    insp.select_filter(0)
    assert insp.param_names() == ["amount", "radius"]
    assert insp.param_row("amount").value() == pytest.approx(0.9) and insp.param_row("radius").value() == 4.0
    assert not insp.up_button.isEnabled() and insp.down_button.isEnabled()
    adds, removes, moves, enables, params, keys, luts = (
        recorder(insp.filterAddRequested), recorder(insp.filterRemoveRequested), recorder(insp.filterMoveRequested),
        recorder(insp.filterEnabledEdited), recorder(insp.filterParamEdited), recorder(insp.filterKeyToggled),
        recorder(insp.filterLutChosen))
    insp.param_row("radius").set_value(10.0)
    insp.down_button.click()
    insp.set_filter_enabled(1, True)
    # the Add menu lists the registered types
    insp._fill_add_menu()
    labels = [a.text() for a in insp.add_menu.actions()]
    assert labels == ["Glow", "LUT"]
    insp.add_menu.actions()[0].trigger()
    # the LUT filter: its parameters, the file button and a keyed parameter
    insp.select_filter(1)
    assert insp.param_names() == ["mix"] and insp.lut_button.text() == "warm.cube" and insp.lut_button.isVisible()
    assert insp.param_row("mix").has_key_here()
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(tmp_path / "cold.cube"), ""))
    insp.lut_button.click()
    insp.param_row("mix").key_button.click()
    assert insp.up_button.isEnabled() and not insp.down_button.isEnabled()
    insp.up_button.click()
    insp.remove_button.click()
    assert params == [(0, "radius", 10.0)]
    assert moves == [(0, 1), (1, 0)] and removes == [(1,)] and enables == [(1, True)] and adds == [("glow",)]
    assert luts == [(1, str(tmp_path / "cold.cube"))] and keys == [(1, "mix")]
    # the glow filter has no file button
    insp.select_filter(0)
    assert not insp.lut_button.isVisible()


def test_target_switch_and_nothing_selected(insp):
    kinds = recorder(insp.targetKindChanged)
    insp.set_available({"clip": True, "track": True, "sequence": True})
    insp.set_target(clip_target({}))
    assert insp.kind_buttons["clip"].isChecked()
    insp.kind_buttons["track"].click()
    insp.kind_buttons["sequence"].click()
    assert kinds == [("track",), ("sequence",)]
    insp.set_available({"clip": False, "track": True, "sequence": True})
    assert not insp.kind_buttons["clip"].isEnabled()
    insp.set_target(InspectorTarget("sequence", "Sequence 1", {}, {}, 0))
    assert insp.property_names() == [] and insp.props_box.isHidden() and insp.filters_box.isEnabled()
    insp.set_target(None)
    assert not insp.filters_box.isEnabled() and "Nothing selected" in insp.title.text()
