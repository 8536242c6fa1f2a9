"""The patch dock in the real main window: browse the QLC+ library, add fixtures, edit, conflicts, undo.

The library is the QLC+ fixture collection under tests/data/qlcplus (``make
testdata``) plus the bundled definitions. Everything is checked where it
ends up: the table the user sees (text, red rows, tooltips, pixels) and the
rows of the project file, read through a second SQLite connection.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSpinBox

from app.patch_ui import PatchController
from core.lighting.library import BUNDLED_DIR, FixtureLibrary
from core.lighting.patch_store import load_fixtures
from widgets.patch_panel import CONFLICT_BACKGROUND, FIELDS

ROOT = Path(__file__).resolve().parents[2]
QLC = ROOT / "tests" / "data" / "qlcplus" / "fixtures"
ARTIFACTS = ROOT / "tests" / "artifacts"
RGBW = "Generic/Generic RGBW"

pytestmark = pytest.mark.skipif(not QLC.is_dir(), reason=f"{QLC} is missing: run `make testdata`")


@pytest.fixture
def patch_window(shown_window, tmp_path):
    w = shown_window
    (tmp_path / "proj").mkdir()
    assert w.new_project(tmp_path / "proj" / "p.luma")
    ctl = PatchController(w, library=FixtureLibrary([QLC, BUNDLED_DIR], include_defaults=False))
    ctl.install(w)
    ctl.project_opened()
    return w, ctl


def stored(w) -> list[tuple]:
    """(id, universe, address, name, groups, x, y) as the project file holds them (a second connection)."""
    with sqlite3.connect(w.project.path) as conn:
        return conn.execute("SELECT id, universe, address, name, groups, x, y FROM lighting_fixtures "
                            "ORDER BY patch_order").fetchall()


def table_texts(panel, field: str) -> list[str]:
    col = FIELDS.index(field)
    return [panel.proxy.index(r, col).data() for r in range(panel.proxy.rowCount())]


def open_library(qtbot, ctl):
    lighting = next(a.menu() for a in ctl.window.menuBar().actions() if a.text().replace("&", "") == "Lighting")
    assert ctl.action in lighting.actions()
    ctl.action.trigger()
    assert ctl.dock.isVisible()
    qtbot.waitUntil(lambda: ctl.entries is not None, timeout=60000)


def choose_mode(qtbot, browser, search: str, key: str, mode: str):
    browser.search.clear()
    qtbot.keyClicks(browser.search, search)
    assert key in browser.visible_keys()
    assert browser.select(key)  # the model: its modes are loaded, the first one becomes current
    qtbot.waitUntil(lambda: browser.current() is not None)
    assert browser.select(key, mode)
    assert browser.current() == (key, mode)


def test_browse_the_qlcplus_library(qtbot, patch_window):
    w, ctl = patch_window
    open_library(qtbot, ctl)
    browser = ctl.panel.browser
    assert len(ctl.entries) >= 1000
    assert browser.tree.topLevelItemCount() == len({e.manufacturer for e in ctl.entries})
    qtbot.keyClicks(browser.search, "clay paky sharpy")
    assert sorted(browser.visible_keys()) == ["Clay Paky/Sharpy", "Clay Paky/Sharpy Plus", "Clay Paky/SuperSharpy"]
    assert browser.status.text() == "3 fixtures"
    browser.search.clear()
    assert len(browser.visible_keys()) == len(ctl.entries)
    choose_mode(qtbot, browser, "generic rgbw", RGBW, "Dimmer RGBW")
    assert browser.preview_rows() == [("1", "Dimmer", "Dimmer"), ("2", "Red", "Red"), ("3", "Green", "Green"),
                                      ("4", "Blue", "Blue"), ("5", "White", "White")]
    assert "5 channels" in browser.preview_title.text()
    # a moving head: pan/tilt ranges in the summary, fine channels named
    choose_mode(qtbot, browser, "mac 250 wash", "Martin/MAC 250 Wash", "16 Bt (16 Bit Mode)")
    functions = [f for _, _, f in browser.preview_rows()]
    assert "Pan" in functions and "Pan (fine)" in functions and "Tilt" in functions
    assert "pan 540°" in browser.preview_title.text()


def test_add_edit_conflict_undo(qtbot, patch_window):
    w, ctl = patch_window
    open_library(qtbot, ctl)
    panel, browser = ctl.panel, ctl.panel.browser
    choose_mode(qtbot, browser, "generic rgbw", RGBW, "Dimmer RGBW")
    browser.count.setValue(4)
    assert browser.add_button.text() == "Add 4 fixtures"
    qtbot.mouseClick(browser.add_button, Qt.MouseButton.LeftButton)
    ids = ["generic_rgbw1", "generic_rgbw2", "generic_rgbw3", "generic_rgbw4"]
    # auto-addressing: 5 channels each, back to back from 1; stored in the project file
    assert [r[:3] for r in stored(w)] == [(i, 1, a) for i, a in zip(ids, (1, 6, 11, 16))]
    assert table_texts(panel, "address") == ["1", "6", "11", "16"]
    assert table_texts(panel, "footprint") == ["5 (1-5)", "5 (6-10)", "5 (11-15)", "5 (16-20)"]
    assert [r[5:] for r in stored(w)] == [(-1.5, 0.0), (-0.5, 0.0), (0.5, 0.0), (1.5, 0.0)]
    # two more from address 510: they do not fit at the end of universe 1, so universe 2
    browser.count.setValue(2)
    browser.address.setValue(510)
    qtbot.mouseClick(browser.add_button, Qt.MouseButton.LeftButton)
    assert [r[:3] for r in stored(w)][4:] == [("generic_rgbw5", 2, 1), ("generic_rgbw6", 2, 6)]
    assert w.undo_stack.count() == 2

    # edit fixture 2's address in the table's own editor: 6 -> 3 overlaps fixture 1 (channels 3-5)
    index = panel.index_of("generic_rgbw2", "address")
    panel.table.setCurrentIndex(index)
    panel.table.edit(index)
    editor = panel.table.viewport().findChild(QSpinBox)
    assert editor is not None and (editor.minimum(), editor.maximum()) == (1, 512)
    editor.setValue(3)
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits on the next turn of the event loop
    qtbot.waitUntil(lambda: stored(w)[1][:3] == ("generic_rgbw2", 1, 3))
    for fid, other in (("generic_rgbw1", "generic_rgbw2"), ("generic_rgbw2", "generic_rgbw1")):
        idx = panel.index_of(fid, "name")
        assert idx.data(Qt.ItemDataRole.BackgroundRole) == CONFLICT_BACKGROUND
        assert f"overlaps {other} on universe 1, channels 3-5" in idx.data(Qt.ItemDataRole.ToolTipRole)
    assert panel.index_of("generic_rgbw3", "name").data(Qt.ItemDataRole.BackgroundRole) is None
    assert "2 fixtures overlap another" in panel.summary.text()
    # the row is red on screen too
    qtbot.waitUntil(lambda: red_on_screen(panel, "generic_rgbw2"))
    assert not red_on_screen(panel, "generic_rgbw3")
    ARTIFACTS.mkdir(exist_ok=True)
    w.resizeDocks([ctl.dock], [420], Qt.Orientation.Vertical)
    assert ctl.dock.grab().save(str(ARTIFACTS / "patch_panel.png"))

    # undo puts the address back and the red goes; redo brings both back
    w.undo_stack.undo()
    assert stored(w)[1][:3] == ("generic_rgbw2", 1, 6)
    assert not ctl.conflicts and panel.index_of("generic_rgbw2", "name").data(Qt.ItemDataRole.BackgroundRole) is None
    w.undo_stack.redo()
    assert set(ctl.conflicts) == {"generic_rgbw1", "generic_rgbw2"}
    w.undo_stack.undo()

    # name, groups and position through the model (what the editors commit)
    panel.model.setData(panel.model.index(0, FIELDS.index("name")), "Front left")
    panel.model.setData(panel.model.index(0, FIELDS.index("groups")), "front, wash, front")
    panel.model.setData(panel.model.index(0, FIELDS.index("x")), -4.25)
    assert stored(w)[0] == ("generic_rgbw1", 1, 1, "Front left", '["front", "wash"]', -4.25, 0.0)
    assert table_texts(panel, "groups")[0] == "front, wash" and table_texts(panel, "x")[0] == "-4.25"
    # an address that runs past the universe is refused with the reason, and nothing is pushed
    count = w.undo_stack.count()
    panel.model.setData(panel.model.index(0, FIELDS.index("address")), 510)
    assert w.undo_stack.count() == count and stored(w)[0][2] == 1
    assert "past the end of universe 1" in ctl.messages[-1]

    # remove two, undo: back at their places in the patch order
    panel.select_ids(["generic_rgbw2", "generic_rgbw3"])
    assert panel.selected_ids() == ["generic_rgbw2", "generic_rgbw3"]
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert [r[0] for r in stored(w)] == ["generic_rgbw1", "generic_rgbw4", "generic_rgbw5", "generic_rgbw6"]
    w.undo_stack.undo()
    assert [r[0] for r in stored(w)] == ids + ["generic_rgbw5", "generic_rgbw6"]
    # undo everything: an empty patch again
    while w.undo_stack.canUndo():
        w.undo_stack.undo()
    assert stored(w) == [] and panel.model.rowCount() == 0
    assert load_fixtures(w.project) == []


def red_on_screen(panel, fixture_id: str) -> bool:
    index = panel.index_of(fixture_id, "mode")
    rect = panel.table.visualRect(index)
    image = panel.table.viewport().grab().toImage()
    c = image.pixelColor(rect.left() + 3, rect.center().y())
    return c.red() > 150 and c.green() < 80 and c.blue() < 80
