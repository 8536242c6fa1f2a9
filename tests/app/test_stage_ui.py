"""The stage dock in the real main window: live colours at the playhead, drags, the viewer overlay.

The project gets the demo lighting rig (core.lighting.demo: four RGB pars,
two RGBW pars with dimmers, a 16-bit moving head with a colour wheel). At
each scrubbed time the colours the view holds and the pixels it paints at
every fixture's centre must be the light the DMX bytes the show sends
at that time make - worked out here from the bytes and the fixtures'
channel layouts, not with the decoder the view uses.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from app.stage_ui import StageController
from core.lighting.colors import parse_hex
from core.lighting.demo import add_demo_rig
from core.lighting.layers import Layer
from core.lighting.pattern import NodeSpec, PatternGraph
from core.lighting.store import add_layer, save_pattern
from core.lighting.library import BUNDLED_DIR, FixtureLibrary
from core.lighting.patch import FixtureInstance
from core.lighting.patch_store import update_fixtures
from core.lighting.visualize import beam_floor_points

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
FPS = 25  # the new project's sequence rate
IDS = ["front1", "front2", "front3", "front4", "back1", "back2", "spot1"]


@pytest.fixture
def stage(qtbot, shown_window, tmp_path):
    w = shown_window
    (tmp_path / "proj").mkdir()
    assert w.new_project(tmp_path / "proj" / "p.luma")
    add_demo_rig(w.project)
    qtbot.waitUntil(lambda: w.show_output.source is not None, timeout=5000)
    ctl = StageController(w)
    ctl.install(w)
    ctl.project_opened()
    lighting = next(a.menu() for a in w.menuBar().actions() if a.text().replace("&", "") == "Lighting")
    assert ctl.view_action in lighting.actions() and ctl.overlay_action in lighting.actions()
    ctl.view_action.trigger()
    assert ctl.dock.isVisible() and ctl.timer.isActive()
    w.resizeDocks([ctl.dock], [560], Qt.Orientation.Horizontal)
    return w, ctl


def expected_light(frame: np.ndarray) -> np.ndarray:
    """[7, 3] the light of the demo rig's fixtures from the DMX bytes of universe 1."""
    u = frame[0].astype(np.float64)
    out = [u[3 * i : 3 * i + 3] / 255 for i in range(4)]  # RGB pars, 3 channels: the bytes are the light
    for base in (12, 18):  # RGBW pars: dimmer, R, G, B, W, strobe
        out.append(np.minimum(u[base] / 255 * (u[base + 1 : base + 4] + u[base + 4]) / 255, 1.0))
    head = FixtureLibrary([BUNDLED_DIR], include_defaults=False).load("Generic/Moving Head 16-bit")
    wheel = head.channel("Colour wheel")
    byte = int(frame[0, 24 + 8])
    rng = next(r for r in wheel.ranges if r.min <= byte <= r.max)
    colour = np.array(parse_hex(rng.colors[0]) if rng.colors else (1.0, 1.0, 1.0))
    dimmer = (u[24 + 5] * 256 + u[24 + 6]) / 65535
    shutter_open = frame[0, 24 + 7] >= 8  # 0-7: closed
    out.append(colour * dimmer * shutter_open)
    return np.array(out)


def seek(qtbot, w, ctl, frame: int) -> float:
    w.seek(frame)
    t = frame / FPS
    qtbot.waitUntil(lambda: ctl.last_time == pytest.approx(t), timeout=3000)
    return t


def aim_spot(w) -> None:
    """A layer on top from beat 48 (24 s): the moving head turned (pan 0.6) and tilted (0.35) off its centre."""
    graph = PatternGraph("aim", (NodeSpec("spot", "select", {"fixtures": ["spot1"]}),
                                 NodeSpec("p", "position", {"pan": 0.6, "tilt": 0.35}),
                                 NodeSpec("ap", "apply_position")),
                         ("spot.selection -> ap.selection", "p.position -> ap.position"))
    save_pattern(w.project, graph)
    add_layer(w.project, Layer("aim", 48, 64, z=5, blend="replace", track="Lights 4"))


def test_scrubbed_colours_are_the_dmx_the_show_sends(qtbot, stage):
    w, ctl = stage
    view = ctl.view
    aim_spot(w)
    qtbot.waitUntil(lambda: "aim" in w.show_output.show.patterns, timeout=5000)
    assert view.ids == IDS
    for frame in (25, 300, 500, 662):  # fading in, beat pulse, full wash, chase + sweep
        t = seek(qtbot, w, ctl, frame)
        dmx = w.show_output.source.frame(t)  # what the senders send at that time
        want = np.floor(expected_light(dmx) * 255 + 0.5)
        assert np.abs(view.colors.astype(int) - want).max() <= 1, (t, view.colors.tolist(), want.tolist())
        image = view.grab().toImage()
        r = image.devicePixelRatio()
        for i, c in enumerate(view.head_centres()):
            col = image.pixelColor(int(c[0] * r), int(c[1] * r))
            assert np.abs(np.array([col.red(), col.green(), col.blue()]) - want[i]).max() <= 1, (t, IDS[i])
        assert ctl.time_label.text().strip() == f"{t:.2f} s"
    assert want.max() > 200 and len({tuple(x) for x in want}) >= 5  # a lit, varied rig, not an empty check
    # at 26.48 s the moving head is blue and aimed off centre: its beam meets the floor where pan/tilt point
    u = dmx[0].astype(np.float64)
    pan = ((u[24] * 256 + u[25]) / 65535 - 0.5) * 540
    tilt = ((u[26] * 256 + u[27]) / 65535 - 0.5) * 270
    assert pan == pytest.approx(54.0, abs=0.05) and tilt == pytest.approx(-40.5, abs=0.05)
    np.testing.assert_allclose(view.beams[6], beam_floor_points(np.array([[0.0, 3.0, 5.0]]), [pan], [tilt])[0],
                               atol=1e-3)
    assert np.isnan(view.beams[:6]).all()  # pars have no beam
    ARTIFACTS.mkdir(exist_ok=True)
    assert ctl.dock.grab().save(str(ARTIFACTS / "stage_view.png"))

    # playback: the view follows the transport at about 44 Hz
    shown, start = ctl.frames_shown, ctl.last_time
    w.toggle_play()
    qtbot.wait(700)
    w.toggle_play()
    assert ctl.last_time > start and ctl.frames_shown - shown >= 10, ctl.frames_shown - shown


def test_dragging_a_fixture_moves_it_on_stage_undoably(qtbot, stage):
    w, ctl = stage
    view = ctl.view
    seek(qtbot, w, ctl, 500)
    start = view.fixture_centre("front1").toPoint()
    s = view.scale
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view, start + QPoint(30, 0))
    qtbot.mouseMove(view, start + QPoint(60, -40))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=start + QPoint(60, -40))
    x, y = round((-3.0 + 60 / s) / 0.05) * 0.05, round((40 / s) / 0.05) * 0.05
    with sqlite3.connect(w.project.path) as conn:
        stored = conn.execute("SELECT x, y, z FROM lighting_fixtures WHERE id = 'front1'").fetchone()
    assert stored == pytest.approx((x, y, 3.0), abs=1e-9)
    assert w.undo_stack.undoText() == "move front1 on stage"
    assert view.positions[0].tolist() == pytest.approx([x, y, 3.0])
    # the show is reloaded with the new position and the view keeps showing its light
    qtbot.waitUntil(lambda: w.show_output.show.patch.get("front1").position[:2] == pytest.approx((x, y)))
    ctl.update_frame()
    want = np.floor(expected_light(w.show_output.source.frame(ctl.last_time)) * 255 + 0.5)
    assert np.abs(view.colors.astype(int) - want).max() <= 1
    w.undo_stack.undo()
    with sqlite3.connect(w.project.path) as conn:
        assert conn.execute("SELECT x, y FROM lighting_fixtures WHERE id = 'front1'").fetchone() == (-3.0, 0.0)
    assert view.positions[0].tolist() == [-3.0, 0.0, 3.0]


def test_overlay_on_the_viewer_and_an_overlapping_patch(qtbot, stage):
    w, ctl = stage
    seek(qtbot, w, ctl, 500)
    ctl.overlay_action.trigger()
    overlay = ctl.overlay
    assert overlay is not None and overlay.parent() is w.viewer and overlay.isVisible()
    assert ctl.overlay_button.isChecked()
    ctl.update_frame()
    np.testing.assert_array_equal(overlay.colors, ctl.view.colors)
    assert overlay.size() == w.viewer.size()
    # over a picture the plan fits into it (a synthetic 16:9 frame stands in for the video)
    ramp = np.linspace(30, 140, 640, dtype=np.uint8)
    picture = np.dstack([np.tile(ramp // 2, (360, 1)), np.tile(ramp // 2, (360, 1)), np.tile(ramp, (360, 1))])
    w.viewer.set_frame(np.ascontiguousarray(picture))
    image = w.viewer.grab().toImage()
    rect = w.viewer.image_rect()
    assert all(rect.contains(QPointF(*c)) for c in overlay.head_centres())
    assert image.save(str(ARTIFACTS / "stage_overlay.png"))
    # the overlay alone keeps the stage running with the dock closed
    ctl.view_action.trigger()
    assert not ctl.dock.isVisible() and ctl.timer.isActive()
    ctl.overlay_button.click()
    assert not overlay.isVisible() and not ctl.overlay_action.isChecked() and not ctl.timer.isActive()
    ctl.view_action.trigger()

    # an overlap stops the show: the stage says why and shows the rig dark
    f = FixtureInstance("front2", "Generic/RGB Par", "3 Channel", 1, 2, "Front par 2", ("pars", "front"),
                        (-1.0, 0.0, 3.0))
    update_fixtures(w.project, [f])
    qtbot.waitUntil(lambda: "front2 overlaps front1" in ctl.view.message or "front1 overlaps front2" in ctl.view.message)
    ctl.update_frame()
    assert not ctl.view.colors.any()



def test_patch_and_stage_share_fixtures_and_selection(qtbot, stage):
    from app.patch_ui import PatchController

    w, ctl = stage
    patch = PatchController(w, library=FixtureLibrary([BUNDLED_DIR], include_defaults=False))
    patch.install(w)
    patch.project_opened()
    ctl.connect_patch(patch)
    patch.open()
    qtbot.waitUntil(lambda: patch.entries is not None, timeout=10000)
    added = patch.add_fixtures("Generic/RGB Par", "3 Channel", 2, 1)
    assert added == ["rgb_par1", "rgb_par2"]
    # the demo rig takes channels 1-37 of universe 1: the new pars go right after it, 1.5 m upstage of it
    assert [(f.universe, f.address) for f in patch.fixtures[-2:]] == [(1, 38), (1, 41)]
    assert ctl.view.ids[-2:] == added
    assert ctl.view.positions[-2:, :2].tolist() == [[-0.5, 5.5], [0.5, 5.5]]
    # a position typed in the table moves the fixture in the stage view
    patch.edit_field("rgb_par1", "x", -2.5)
    assert ctl.view.positions[-2, 0] == -2.5
    # selecting in the stage view selects the table rows, and the other way round
    qtbot.mouseClick(ctl.view, Qt.MouseButton.LeftButton, pos=ctl.view.fixture_centre("back1").toPoint())
    assert patch.panel.selected_ids() == ["back1"]
    patch.panel.table.selectRow(patch.panel.index_of("spot1", "id").row())
    assert ctl.view.selected_ids() == ["spot1"]
    # one undo per action: the edit, then the add
    w.undo_stack.undo()
    assert ctl.view.positions[-2, 0] == -0.5
    w.undo_stack.undo()
    assert ctl.view.ids == IDS


def test_without_a_show_output_it_loads_the_show_itself(qtbot, tmp_path):
    from PySide6.QtGui import QUndoStack
    from PySide6.QtWidgets import QMainWindow

    from core.lighting.buffer import CompositeBuffer
    from core.lighting.dmx import DmxRenderer
    from core.lighting.store import load_show
    from core.project import Project

    w = QMainWindow()
    qtbot.addWidget(w)
    w.project = Project.create(tmp_path / "p.luma")
    w.undo_stack = QUndoStack(w)
    add_demo_rig(w.project)
    ctl = StageController(w)
    ctl.install(w)
    ctl.set_dock_visible(True)
    ctl.update_frame(20.0)
    show = load_show(w.project)
    dmx = DmxRenderer(show.patch.rig()).render(CompositeBuffer(show).sample(20.0))
    assert np.abs(ctl.view.colors.astype(int) - np.floor(expected_light(dmx) * 255 + 0.5)).max() <= 1
    assert ctl.move_fixtures({"front1": (1.0, 2.0)}) and ctl.view.positions[0].tolist() == [1.0, 2.0, 3.0]
    w.undo_stack.undo()
    assert ctl.view.positions[0].tolist() == [-3.0, 0.0, 3.0]
    w.project.close()
