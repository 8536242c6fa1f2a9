"""The Effects dock in the real main window: edits land in the project file, in the picture, and undo exactly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QDockWidget

from core.project import Project
from core.project import media_store
from core.timeline import edit
from core.timeline.model import Timeline, create_sequence

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def make_project(path, clip) -> Path:
    """A 320x240 25 fps sequence with ``clip`` (picture on V1, sound on A1) from frame 0."""
    p = Project.create(path)
    create_sequence(p, rate=25, width=320, height=240)
    tl = Timeline(p)
    mid = media_store.ingest(p, clip).id
    edit.add_media(tl, mid, tl.video_tracks()[0].id, tl.audio_tracks()[0].id, 0)
    p.close()
    return Path(path)


def stored(path, sql, args=()):
    """Read the project file through a connection of its own (what is really saved)."""
    p = Project.open(path)
    try:
        return p.query(sql, args)
    finally:
        p.close()


def clip_props(path, clip_id) -> dict:
    return json.loads(stored(path, "SELECT props FROM clips WHERE id = ?", (clip_id,))[0][0])


@pytest.fixture
def win(qtbot, shown_window, tmp_path, small_clip):
    path = make_project(tmp_path / "fx.luma", small_clip)
    w = shown_window
    assert w.open_project(path)
    w.errors.clear()
    tl = w.timeline
    w.video_clip = next(c.id for c in tl.clips.values() if tl.track(c.track_id).kind == "video")
    w.timeline_view.select([w.video_clip])
    w.effects.show_dock()  # the Effects tab in front of the Inspector tab
    qtbot.waitUntil(lambda: w.effects._visible)
    return w


def shown_frame(qtbot, w, frame):
    """Seek and wait until the viewer shows ``frame`` (freshly drawn)."""
    w.seek(frame)
    qtbot.waitUntil(lambda: w.playback.last_shown == frame, timeout=10000)
    return w.viewer.frame().copy()


def wait_picture(qtbot, w, test, timeout=10000):
    """Wait until the viewer shows a picture for which ``test(rgb)`` holds."""
    qtbot.waitUntil(lambda: w.playback.last_shown is not None and test(w.viewer.frame()), timeout=timeout)
    return w.viewer.frame().copy()


def test_inspector_follows_the_selection_and_is_a_dock_tab(qtbot, win):
    dock = win.findChild(QDockWidget, "dock-effects")
    assert dock is not None and dock.widget() is win.effects.inspector
    assert dock in win.tabifiedDockWidgets(win.findChild(QDockWidget, "dock-inspector"))
    # behind the Inspector tab it skips playhead updates, and catches up when shown
    win.findChild(QDockWidget, "dock-inspector").raise_()
    qtbot.waitUntil(lambda: not win.effects._visible)
    win.effects.inspector.row("opacity").key_button.click()
    win.seek(20)
    assert win.effects.inspector.target.frame == 0
    next(a for a in win.actions() if a.text() == "&Effects Inspector").trigger()
    qtbot.waitUntil(lambda: win.effects.inspector.target.frame == 20)
    assert not win.effects.inspector.row("opacity").has_key_here()
    insp = win.effects.inspector
    assert insp.target.kind == "clip" and "small.mp4" in insp.title.text()
    assert insp.property_names()[:2] == ["opacity", "x"] and "volume" not in insp.property_names()
    audio = next(c for c in win.timeline.clips.values() if c.id != win.video_clip)
    win.timeline_view.select([audio.id])
    assert insp.property_names() == ["volume", "fade_in", "fade_out"] and insp.filters_box.isHidden()
    win.timeline_view.select([])
    assert insp.target is None and not insp.kind_buttons["clip"].isEnabled()


def test_opacity_and_exposure_edits_change_the_file_and_the_picture(qtbot, win):
    path, cid, insp = win.project.path, win.video_clip, win.effects.inspector
    before = shown_frame(qtbot, win, 10)
    assert before.mean() > 20  # the test clip has a picture
    insp.row("opacity").set_value(0.0)
    assert clip_props(path, cid) == {"opacity": 0.0}
    wait_picture(qtbot, win, lambda rgb: rgb.max() == 0)  # the only clip is transparent: black
    win.undo_stack.undo()
    assert clip_props(path, cid) == {}
    assert insp.value("opacity") == 1.0  # the inspector follows undo
    restored = wait_picture(qtbot, win, lambda rgb: rgb.max() > 0)
    assert np.abs(restored.astype(int) - before).mean() < 2
    # an exposure filter brightens the picture as soon as its value changes
    insp.add_filter("exposure")
    assert insp.filter_kinds() == ["exposure"] and insp.selected_filter() == 0
    insp.param_row("stops").set_value(1.0)
    assert clip_props(path, cid)["filters"] == [{"type": "exposure", "enabled": True, "params": {"stops": 1.0}}]
    bright = wait_picture(qtbot, win, lambda rgb: rgb.mean() > before.mean() * 1.25)
    assert bright.mean() > before.mean() * 1.25
    # unticking it shows the picture as it was
    insp.set_filter_enabled(0, False)
    assert clip_props(path, cid)["filters"][0]["enabled"] is False
    wait_picture(qtbot, win, lambda rgb: abs(rgb.mean() - before.mean()) < 2)


def test_keyframe_toggle_sets_and_removes_a_key_at_the_playhead(qtbot, win):
    path, cid, insp = win.project.path, win.video_clip, win.effects.inspector
    win.timeline_view.moveRequested.emit([cid], 5, {})  # the clip starts at 5: key frames are clip-local
    assert win.timeline.clips[cid].start == 5
    win.seek(20)
    insp.row("opacity").key_button.click()
    assert clip_props(path, cid)["opacity"] == {"keys": [[15, 1.0, "linear"]]}
    assert insp.row("opacity").has_key_here()
    win.seek(35)
    assert not insp.row("opacity").has_key_here() and insp.row("opacity").prev_button.isEnabled()
    insp.row("opacity").set_value(0.25)  # a keyed property: typing keys it here
    assert clip_props(path, cid)["opacity"] == {"keys": [[15, 1.0, "linear"], [30, 0.25, "linear"]]}
    win.seek(25)  # a third of the way from the first key to the second
    assert insp.value("opacity") == pytest.approx(0.75)
    insp.row("opacity").prev_button.click()
    assert win.timeline.playhead == 20
    insp.row("opacity").key_button.click()  # removes the key under the playhead
    assert clip_props(path, cid)["opacity"] == {"keys": [[30, 0.25, "linear"]]}
    win.undo_stack.undo()
    assert clip_props(path, cid)["opacity"] == {"keys": [[15, 1.0, "linear"], [30, 0.25, "linear"]]}
    # a filter parameter keys the same way
    insp.add_filter("vignette")
    insp.param_row("amount").key_button.click()
    assert clip_props(path, cid)["filters"][0]["params"]["amount"] == {"keys": [[15, 0.0, "linear"]]}
    insp.param_row("amount").key_button.click()
    assert clip_props(path, cid)["filters"][0]["params"]["amount"] == 0.0
    # outside the clip there is nothing to key: refused with a reason, nothing pushed
    count = win.undo_stack.count()
    win.seek(2)
    insp.row("rotation").key_button.click()
    assert win.undo_stack.count() == count and "outside" in win.errors[-1]


def test_filter_add_reorder_remove_each_undo_exactly(qtbot, win):
    path, cid, insp = win.project.path, win.video_clip, win.effects.inspector
    states = [clip_props(path, cid)]
    for kind in ("exposure", "blur", "saturation"):
        insp.add_filter(kind)
        states.append(clip_props(path, cid))
    assert [f["type"] for f in states[-1]["filters"]] == ["exposure", "blur", "saturation"]
    insp.select_filter(2)
    insp.up_button.click()
    states.append(clip_props(path, cid))
    assert [f["type"] for f in states[-1]["filters"]] == ["exposure", "saturation", "blur"]
    assert insp.selected_filter() == 1  # the moved filter stays selected
    insp.remove_button.click()
    states.append(clip_props(path, cid))
    assert [f["type"] for f in states[-1]["filters"]] == ["exposure", "blur"]
    assert win.undo_stack.count() == 5
    for expected in reversed(states[:-1]):
        win.undo_stack.undo()
        assert clip_props(path, cid) == expected
        assert insp.filter_kinds() == [f["type"] for f in expected.get("filters", [])]
    for expected in states[1:]:
        win.undo_stack.redo()
        assert clip_props(path, cid) == expected


def test_slider_drag_is_one_undo_step_and_blend_mode(qtbot, win):
    path, cid, insp = win.project.path, win.video_clip, win.effects.inspector
    slider = insp.row("opacity").slider
    count = win.undo_stack.count()
    slider.sliderPressed.emit()
    for pos in (900, 700, 500):
        slider.setValue(pos)
    slider.sliderReleased.emit()
    assert clip_props(path, cid) == {"opacity": 0.5}
    assert win.undo_stack.count() == count + 1
    win.undo_stack.undo()
    assert clip_props(path, cid) == {}
    insp.blend_combo.setCurrentText("screen")
    assert clip_props(path, cid) == {"blend": "screen"}
    # sound: the audio clip's fades are whole frames, its volume a gain
    audio = next(c.id for c in win.timeline.clips.values() if c.id != cid)
    win.timeline_view.select([audio])
    insp.row("fade_in").set_value(12)
    insp.row("volume").set_value(0.5)
    assert clip_props(path, audio) == {"fade_in": 12, "volume": 0.5}


def test_track_and_sequence_targets(qtbot, win):
    path, insp = win.project.path, win.effects.inspector
    seq_id = win.timeline.sequence_id
    insp.kind_buttons["sequence"].click()
    assert insp.target.kind == "sequence" and insp.property_names() == []
    insp.add_filter("exposure")
    insp.param_row("stops").set_value(-10.0)  # the whole sequence goes (almost) black
    props = json.loads(stored(path, "SELECT props FROM sequences WHERE id = ?", (seq_id,))[0][0])
    assert props == {"filters": [{"type": "exposure", "enabled": True, "params": {"stops": -10.0}}]}
    wait_picture(qtbot, win, lambda rgb: rgb.mean() < 3)
    # a track filter keys in sequence frames
    insp.kind_buttons["track"].click()
    v1 = win.timeline.video_tracks()[0].id
    assert insp.target.kind == "track" and "V1" in insp.title.text()
    win.seek(12)
    insp.add_filter("contrast")
    insp.param_row("amount").key_button.click()
    tprops = json.loads(stored(path, "SELECT props FROM tracks WHERE id = ?", (v1,))[0][0])
    assert tprops["filters"][0]["params"]["amount"] == {"keys": [[12, 1.0, "linear"]]}


def test_screenshot_of_the_inspector_with_a_filter_stack(qtbot, win, tmp_path):
    insp = win.effects.inspector
    win.effects.dock.raise_()
    lut = tmp_path / "warm.cube"
    lut.write_text("LUT_3D_SIZE 2\n" + "".join(f"{r} {g} {b}\n" for b in (0, 1) for g in (0, 1) for r in (0, 1)))
    for kind in ("exposure", "vignette", "lut"):
        insp.add_filter(kind)
    win.effects.set_lut(2, str(lut))
    insp.select_filter(0)
    insp.param_row("stops").set_value(0.5)
    insp.select_filter(2)
    win.seek(8)
    insp.row("opacity").key_button.click()
    dock = win.effects.dock
    dock.setFloating(True)
    dock.resize(440, 820)
    qtbot.waitUntil(lambda: insp.isVisible() and insp.height() > 700)
    qtbot.wait(50)
    ARTIFACTS.mkdir(exist_ok=True)
    image = insp.grab().toImage()
    assert image.save(str(ARTIFACTS / "clip_inspector.png"))
    assert image.width() > 200 and image.height() > 300
    assert insp.filter_kinds() == ["exposure", "vignette", "lut"] and insp.lut_button.text() == "warm.cube"
