"""Transport bar DMX controls: grand master slider, latched Blackout button, DMX monitor button and state dot."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

from widgets.transport_bar import DMX_COLORS, TransportBar


@pytest.fixture
def bar(qtbot):
    b = TransportBar()
    qtbot.addWidget(b)
    b.resize(900, 40)
    b.show()
    qtbot.waitExposed(b)
    return b


def record(signal) -> list:
    got = []
    signal.connect(lambda *args: got.append(args[0] if args else None))
    return got


def colors_of(widget) -> list[QColor]:
    img = widget.grab().toImage()
    return [img.pixelColor(x, y) for x in range(0, img.width(), 2) for y in range(0, img.height(), 2)]


def reddish(c: QColor) -> bool:
    return c.red() > 150 and c.green() < 90 and c.blue() < 90


def test_grand_master_slider_readout_and_double_click_reset(bar):
    got = record(bar.grandMasterChanged)
    assert bar.grand_master() == 1.0 and bar.master_readout.text() == "100 %"
    bar.master_slider.setValue(50)  # what dragging the handle does, one step at a time
    assert got == [0.5] and bar.master_readout.text() == "50 %"
    bar.master_slider.setValue(7)
    assert got[-1] == pytest.approx(0.07) and bar.master_readout.text() == "7 %"
    # the app showing a level does not echo it back
    bar.set_grand_master(0.25)
    assert len(got) == 2 and bar.master_slider.value() == 25 and bar.master_readout.text() == "25 %"
    bar.set_grand_master(3.0)  # clamped
    assert bar.master_slider.value() == 100
    bar.set_grand_master(0.3)
    QTest.mouseDClick(bar.master_slider, Qt.MouseButton.LeftButton, pos=bar.master_slider.rect().center())
    assert bar.master_slider.value() == 100 and bar.master_readout.text() == "100 %"
    assert got[-1] == 1.0
    assert "double-click" in bar.master_slider.toolTip()


def test_blackout_button_is_latched_red_and_names_its_shortcut(bar, qtbot):
    got = record(bar.blackoutToggled)
    assert not any(reddish(c) for c in colors_of(bar.blackout))
    bar.blackout.click()
    assert bar.blackout.isChecked() and got == [True]
    assert sum(reddish(c) for c in colors_of(bar.blackout)) > len(colors_of(bar.blackout)) // 3
    bar.blackout.click()
    assert not bar.blackout.isChecked() and got == [True, False]
    bar.set_blackout(True)  # from the menu: shown, not echoed
    assert bar.blackout.isChecked() and got == [True, False]
    bar.set_blackout_shortcut("Ctrl+Shift+B")
    assert "Ctrl+Shift+B" in bar.blackout.toolTip()


def dot_color(bar) -> QColor:
    img = bar.dmx.icon().pixmap(12, 12).toImage()
    return img.pixelColor(img.width() // 2, img.height() // 2)


def test_dmx_button_toggles_the_monitor_and_shows_the_output_state(bar):
    got = record(bar.dmxMonitorToggled)
    bar.dmx.click()
    assert bar.dmx.isChecked() and got == [True]
    bar.set_dmx_monitor_visible(False)  # the dock was closed elsewhere
    assert not bar.dmx.isChecked() and got == [True]
    assert bar.dmx_state() == "off" and dot_color(bar).rgb() == DMX_COLORS["off"].rgb()
    bar.set_dmx_state("ok", "Sending DMX to 1 output")
    assert dot_color(bar).rgb() == DMX_COLORS["ok"].rgb() and "Sending DMX" in bar.dmx.toolTip()
    bar.set_dmx_state("error", "node: disconnected - timed out")
    assert dot_color(bar).rgb() == DMX_COLORS["error"].rgb()
    assert bar.dmx.toolTip().startswith("node: disconnected - timed out")
    assert "DMX monitor" in bar.dmx.toolTip()
    with pytest.raises(ValueError):
        bar.set_dmx_state("purple")
