"""Outputs dialog: rows from configs, presets, edits, universe text, validation, live counters."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt

from core.output.config import OutputConfig
from widgets.outputs_dialog import (COL_FRAMES, COL_JITTER, COL_LATE, COL_NAME, COL_STATE, COL_UNIVERSES,
                                    COL_URL, OutputsDialog)


@pytest.fixture
def make(qtbot, tmp_path):
    def build(configs=(), **kwargs):
        kwargs.setdefault("recording_dir", tmp_path)
        dlg = OutputsDialog(configs, **kwargs)
        qtbot.addWidget(dlg)
        dlg.show()
        qtbot.waitExposed(dlg)
        return dlg

    return build


def test_rows_from_configs_and_dicts_round_trip(make):
    given = [OutputConfig("artnet://10.0.0.5?sync=1", [1, 2, 3, 4, 7], 12.5, 30.0, True, "Stage left"),
             {"url": "sacn://10.0.0.6", "universes": [], "enabled": False, "name": "Back"}]
    dlg = make(given)
    assert dlg.row_count() == 2
    assert dlg.text(0, COL_UNIVERSES) == "1-4, 7"
    assert dlg.text(1, COL_UNIVERSES) == ""
    assert dlg.configs() == [given[0], OutputConfig("sacn://10.0.0.6", [], 0.0, 44.0, False, "Back")]


def test_edit_rows(make):
    dlg = make([OutputConfig("artnet://10.0.0.5", [1], name="A")])
    dlg.set_text(0, COL_URL, "artnet://10.0.0.9")
    dlg.set_text(0, COL_UNIVERSES, " 3 - 5, 9")
    dlg.set_text(0, COL_NAME, "Front truss")
    dlg.latency_spin(0).setValue(-20)
    dlg.rate_spin(0).setValue(30)
    dlg.set_enabled(0, False)
    (cfg,) = dlg.configs()
    assert cfg == OutputConfig("artnet://10.0.0.9", [3, 4, 5, 9], -20.0, 30.0, False, "Front truss")


def test_add_presets_and_remove(make, tmp_path):
    dlg = make(usb_devices=[("EN123456", "0403:6001 DMX USB PRO (serial EN123456)")])
    menu_texts = [a.text() for a in dlg.add_menu.actions()]
    assert menu_texts[:2] == ["Art-Net node", "sACN receiver"]
    assert "Enttec DMX USB Pro" in menu_texts and "Enttec Open DMX USB" in menu_texts and "File recorder" in menu_texts
    pro_menu = next(a.menu() for a in dlg.add_menu.actions() if a.text() == "Enttec DMX USB Pro")
    assert any("EN123456" in a.text() for a in pro_menu.actions())
    # picking the device from the menu adds a row for it
    next(a for a in pro_menu.actions() if "EN123456" in a.text()).trigger()
    assert dlg.row_count() == 1
    assert dlg.config_at(0).url == "enttec-pro://EN123456" and dlg.config_at(0).universes == [1]
    dlg.add_preset("artnet")
    dlg.add_preset("artnet")
    dlg.add_preset("file")
    dlg.add_preset("enttec-open", "0")
    urls = [c.url for c in dlg.configs()]
    assert urls[1].startswith("artnet://") and urls[3] == (tmp_path / "show.dmxrec").as_uri()
    assert urls[4] == "enttec-open://0"
    names = [c.name for c in dlg.configs()]
    assert names[1] == "Art-Net node" and names[2] == "Art-Net node 2"  # unique names
    dlg.table.selectRow(1)
    dlg.remove_button.click()
    assert dlg.row_count() == 4 and [c.name for c in dlg.configs()][1] == "Art-Net node 2"
    for _ in range(4):
        dlg.remove_selected()
    assert dlg.row_count() == 0 and not dlg.remove_button.isEnabled() and not dlg.test_button.isEnabled()


def test_usb_menu_without_devices_says_why(make):
    dlg = make(usb_note="pyftdi is not installed: pip install pyftdi pyusb")
    pro_menu = next(a.menu() for a in dlg.add_menu.actions() if a.text() == "Enttec DMX USB Pro")
    texts = [a.text() for a in pro_menu.actions()]
    assert "pyftdi is not installed: pip install pyftdi pyusb" in texts
    assert not next(a for a in pro_menu.actions() if a.text().startswith("pyftdi")).isEnabled()


def test_validator_errors_keep_the_dialog_open(make, qtbot):
    seen = []

    def validator(cfg):
        seen.append(cfg.url)
        return "no such host" if "bad" in cfg.url else None

    dlg = make([OutputConfig("artnet://good"), OutputConfig("artnet://bad", name="Broken")], validator=validator)
    accepted = []
    dlg.accepted.connect(lambda: accepted.append(True))
    dlg.buttons.button(dlg.buttons.StandardButton.Ok).click()
    assert not accepted and dlg.isVisible()
    assert seen == ["artnet://good", "artnet://bad"]
    assert "Row 2 (Broken): no such host" in dlg.error_label.text() and dlg.error_label.isVisible()
    assert dlg.current_row() == 1
    # an unreadable universe list is caught before the validator
    dlg.set_text(1, COL_URL, "artnet://fixed")
    dlg.set_text(0, COL_UNIVERSES, "1-x")
    dlg.accept()
    assert not accepted and "Row 1" in dlg.error_label.text() and "1-x" in dlg.error_label.text()
    assert dlg.problems() == [(0, dlg.problems()[0][1])]
    dlg.set_text(0, COL_UNIVERSES, "2")
    dlg.accept()
    assert accepted and dlg.result() == dlg.DialogCode.Accepted
    assert [c.url for c in dlg.configs()] == ["artnet://good", "artnet://fixed"]


def test_empty_url_is_a_problem(make):
    dlg = make([OutputConfig("")])
    assert dlg.problems() == [(0, "the URL is empty")]


def test_update_stats_and_test_button(make, qtbot):
    dlg = make([OutputConfig("artnet://a"), OutputConfig("enttec-pro://X", [1]), OutputConfig("sacn://c", enabled=False)])
    stats = [SimpleNamespace(url="artnet://a", state="connected", message="", frames_sent=120, jitter_p99_ms=0.456,
                             late_ticks=2),
             {"url": "enttec-pro://X", "state": "disconnected", "message": "unplugged (retrying in 1 s)",
              "frames_sent": 0, "jitter_p99_ms": 0.1, "late_ticks": 0}]
    dlg.update_stats(stats)
    assert [dlg.text(0, c) for c in (COL_STATE, COL_FRAMES, COL_JITTER, COL_LATE)] == ["connected", "120", "0.46", "2"]
    assert dlg.row_state(1) == "disconnected"
    assert dlg.table.item(1, COL_STATE).toolTip() == "unplugged (retrying in 1 s)"
    assert dlg.row_state(2) == "off"
    dlg.update_stats([])
    assert dlg.row_state(0) == "not sending" and dlg.text(0, COL_FRAMES) == ""
    # Test asks the app for the selected row and shows what it says
    dlg.table.selectRow(1)
    with qtbot.waitSignal(dlg.testRequested) as blocker:
        dlg.test_button.click()
    assert blocker.args == [1]
    assert dlg.row_state(1) == "testing..."
    dlg.set_row_message(1, "test failed: unplugged")
    assert dlg.row_state(1) == "test failed: unplugged"
    dlg.update_stats(stats)
    assert dlg.row_state(1) == "disconnected; test failed: unplugged"
    assert dlg.table.item(0, COL_STATE).foreground().color() != dlg.table.item(1, COL_STATE).foreground().color()


def test_checkbox_toggles_enabled(make):
    dlg = make([OutputConfig("artnet://a")])
    item = dlg.table.item(0, 0)
    assert item.flags() & Qt.ItemFlag.ItemIsUserCheckable
    item.setCheckState(Qt.CheckState.Unchecked)
    assert dlg.configs()[0].enabled is False
