"""DMX monitor: cells show their values, the universe can be switched, hovering names the channel."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QColor, QHelpEvent, QMouseEvent
from PySide6.QtWidgets import QApplication, QToolTip, QWidget

from widgets.dmx_monitor import COLUMNS, DmxMonitor


@pytest.fixture
def monitor(qtbot):
    m = DmxMonitor()
    qtbot.addWidget(m)
    m.resize(900, 420)
    m.show()
    qtbot.waitExposed(m)
    return m


def frames_with(values: dict[int, int], universes=1) -> np.ndarray:
    f = np.zeros((universes, 512), dtype=np.uint8)
    for ch, v in values.items():
        f[0, ch - 1] = v
    return f


def bar_pixel(m: DmxMonitor, channel: int) -> QColor:
    """A pixel in the lower left corner of a cell: inside the level bar, away from the number."""
    r = m.cell_rect(channel)
    return m.grab().toImage().pixelColor(r.left() + 2, r.bottom() - 3)


def text_pixels(m: DmxMonitor, channel: int) -> set:
    r = m.cell_rect(channel).adjusted(3, 3, -3, -3)
    img = m.grab().toImage()
    return {img.pixelColor(x, y).rgb() for x in range(r.left(), r.right()) for y in range(r.top(), r.bottom())}


def test_cell_colour_and_bar_follow_the_value(monitor):
    levels = []
    for v in (0, 64, 128, 255):
        monitor.set_frames([1], frames_with({5: v}))
        px = bar_pixel(monitor, 5)
        levels.append(px.blue())
        # the neighbour stays dark
        assert bar_pixel(monitor, 6).blue() == bar_pixel(monitor, 7).blue()
    assert levels == sorted(levels) and levels[-1] - levels[0] > 80, levels
    # full: the bar fills the cell; a mid value fills about half of it
    monitor.set_frames([1], frames_with({5: 128}))
    r = monitor.cell_rect(5)
    img = monitor.grab().toImage()
    top = img.pixelColor(r.left() + 2, r.top() + 2)
    bottom = img.pixelColor(r.left() + 2, r.bottom() - 3)
    assert bottom.blue() > top.blue() + 40


def test_the_number_is_drawn_and_changes(monitor):
    monitor.set_frames([1], frames_with({100: 7}))
    seven = text_pixels(monitor, 100)
    monitor.set_frames([1], frames_with({100: 200}))
    two_hundred = text_pixels(monitor, 100)
    assert seven != two_hundred
    assert len(two_hundred) > 3  # glyph pixels, anti-aliased, on the bar


def test_values_grid_position(monitor):
    # channel 33 starts the second row, channel 32 ends the first
    r1, r32, r33 = (monitor.cell_rect(c) for c in (1, 32, 33))
    assert r1.top() == r32.top() < r33.top()
    assert r33.left() == r1.left() and r32.left() > r1.left()
    assert monitor.grid.slot_at(monitor.grid.cell_rect(39).center()) == 39
    assert COLUMNS == 32


def test_universe_switch(monitor, qtbot):
    f = np.zeros((2, 512), dtype=np.uint8)
    f[0, 9] = 255
    f[1, 9] = 0
    f[1, 10] = 255
    monitor.set_frames([1, 3], f)
    assert monitor.universes() == [1, 3]
    assert monitor.current_universe() == 1
    assert [monitor.universe_combo.itemText(i) for i in range(2)] == ["1", "3"]
    assert monitor.values()[9] == 255
    first = bar_pixel(monitor, 10)
    monitor.universe_combo.setCurrentIndex(1)
    assert monitor.current_universe() == 3
    assert monitor.values()[9] == 0 and monitor.values()[10] == 255
    assert bar_pixel(monitor, 10) != first
    assert bar_pixel(monitor, 11) == first
    # new frames keep the chosen universe; a universe that goes away falls back to the first
    monitor.set_frames([1, 3], f)
    assert monitor.current_universe() == 3
    monitor.set_frames([1, 2], f)
    assert monitor.current_universe() == 1
    monitor.set_universe(2)
    assert monitor.current_universe() == 2


def test_hover_names_channel_and_fixture(monitor, qtbot):
    monitor.set_frames([1], frames_with({5: 128}))
    monitor.set_labels(1, {5: "Par 1 Red"})
    assert monitor.tooltip_text(5) == "Universe 1, channel 5: 128 (50%)\nPar 1 Red"
    assert monitor.tooltip_text(6) == "Universe 1, channel 6: 0 (0%)"
    grid = monitor.grid
    pos = grid.cell_rect(4).center()
    event = QHelpEvent(QEvent.Type.ToolTip, pos, grid.mapToGlobal(pos))
    QApplication.sendEvent(grid, event)
    qtbot.waitUntil(lambda: QToolTip.isVisible(), timeout=2000)
    assert "channel 5" in QToolTip.text() and "Par 1 Red" in QToolTip.text()
    QToolTip.hideText()
    # moving the mouse over a cell outlines it
    pos = QPointF(grid.cell_rect(69).center())
    move = QMouseEvent(QEvent.Type.MouseMove, pos, grid.mapToGlobal(pos), Qt.MouseButton.NoButton,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(grid, move)
    assert grid.hover == 69
    grid.repaint()  # draws the outline
    QApplication.sendEvent(grid, QEvent(QEvent.Type.Leave))
    assert grid.hover is None


def test_empty_and_bad_input(monitor):
    monitor.set_frames([], np.zeros((0, 512), np.uint8))
    assert monitor.universes() == [] and monitor.current_universe() is None
    assert monitor.tooltip_text(1) == ""
    monitor.grab()  # paints the "no universes" text without failing
    with pytest.raises(ValueError):
        monitor.set_frames([1, 2], np.zeros((1, 512), np.uint8))
    # short frames are padded, wider types are clipped
    monitor.set_frames([4], np.array([[300, 12]]))
    assert monitor.values()[:3].tolist() == [255, 12, 0]


def test_one_widget_paints_every_cell(monitor):
    monitor.set_frames([1], np.full((1, 512), 200, np.uint8))
    assert monitor.grid.findChildren(QWidget) == []
    before = monitor.grid.paints
    monitor.grid.grab()  # paints into a pixmap (repaint() skips a window the X server calls unexposed)
    assert monitor.grid.paints > before
