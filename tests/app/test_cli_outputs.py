"""`luma outputs list` and `luma outputs test`, with the pyftdi boundary replaced by the recording fake."""

from __future__ import annotations

import argparse

import pytest
from usb.core import NoBackendError, USBError

from app.cli_outputs import add_commands, pattern_frame
from core.output import ftdi_usb
from core.output.ftdi import FtdiDevice
from tests.core.output.ftdi_fake import OPEN_DMX, OTHER_FTDI, PRO, FakeProWidget, FakeUsb


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="luma")
    add_commands(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def usb(monkeypatch, tmp_path):
    """A fake USB bus the real code paths (open_output, list_devices) use instead of pyftdi."""
    bus = FakeUsb()
    monkeypatch.setattr(ftdi_usb, "_pyftdi_devices", bus.lister)
    monkeypatch.setattr(ftdi_usb, "_new_pyftdi", bus.factory)
    monkeypatch.setattr(ftdi_usb, "UDEV_RULE_PATH", tmp_path / "rules.d" / "99-luma-ftdi.rules")  # not installed
    import core.output.ftdi  # noqa: F401  (registers enttec-open:// and enttec-pro://)

    return bus


def test_outputs_list_prints_devices_and_their_urls(usb, capsys):
    usb.devices += [PRO, OTHER_FTDI, OPEN_DMX, FtdiDevice(0x0403, 0x6001, None, "FT232R USB UART", 3, 2)]
    assert run(["outputs", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "0403:6010\tFT2232X\tDual RS232-HS\tbus 1 address 3\t(not a DMX interface Luma knows)",
        "0403:6001\tA6XK3M1Q\tFT232R USB UART\tbus 1 address 7\tenttec-open://A6XK3M1Q",
        "0403:6001\tEN123456\tDMX USB PRO\tbus 1 address 9\tenttec-pro://EN123456",
        "0403:6001\t(no serial)\tFT232R USB UART\tbus 3 address 2\tenttec-open://2",
    ]


def test_outputs_list_with_nothing_found_gives_the_hints(usb, capsys):
    assert run(["outputs", "list"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "no FTDI USB devices found" in captured.err
    assert "sudo cp packaging/99-luma-ftdi.rules /etc/udev/rules.d/" in captured.err
    assert "udevadm" in captured.err and "libusb-1.0-0" in captured.err


def test_outputs_list_with_only_other_ftdi_devices(usb, capsys):
    usb.devices.append(OTHER_FTDI)
    assert run(["outputs", "list"]) == 1
    captured = capsys.readouterr()
    assert "(not a DMX interface Luma knows)" in captured.out
    assert "none is 0403:6001" in captured.err


@pytest.mark.parametrize("error, expected", [
    (USBError("Access denied (insufficient permissions)", None, 13), "99-luma-ftdi.rules"),
    (NoBackendError("No backend available"), "sudo apt install libusb-1.0-0"),
])
def test_outputs_list_explains_driver_problems(usb, capsys, error, expected):
    usb.list_error = error
    assert run(["outputs", "list"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("luma: cannot list the USB devices: ") and expected in err


def test_outputs_test_sends_a_chase_then_a_blackout_to_an_open_dmx(usb, capsys):
    usb.devices.append(OPEN_DMX)
    assert run(["outputs", "test", "enttec-open://A6XK3M1Q", "--seconds", "0.25"]) == 0
    out = capsys.readouterr().out
    assert "enttec-open://A6XK3M1Q: sent 11 frames of universe 1 (chase)" in out and "then a blackout" in out
    handle = usb.last
    writes = handle.writes()
    assert len(writes) == 12 and all(len(w) == 513 and w[0] == 0 for w in writes)
    assert all(w[1] == 255 and w[2:] == bytes(511) for w in writes[:11])  # 0.25 s per chase step
    assert writes[-1] == bytes(513)
    assert handle.closed and handle.names().count("set_break") == 24


def test_outputs_test_full_on_a_pro_plays_the_urls_universe(usb, capsys):
    usb.devices.append(PRO)
    usb.widget = widget = FakeProWidget()
    argv = ["outputs", "test", "enttec-pro://0?universe=5", "--seconds", "0.1", "--pattern", "full",
            "--channels", "4", "--keep"]
    assert run(argv) == 0
    out = capsys.readouterr().out
    assert "firmware 1.44, break 96.0 us" in out
    assert "sent 4 frames of universe 5 (full)" in out and "blackout" not in out
    assert widget.frames == [b"\x00" + b"\xff" * 4 + bytes(508)] * 4


def test_outputs_test_errors(usb, capsys):
    assert run(["outputs", "test", "enttec-open://0", "--seconds", "0.1"]) == 1
    assert "luma: enttec-open://0: no Enttec/FTDI DMX interface" in capsys.readouterr().err
    assert run(["outputs", "test", "enttec-open://0", "--seconds", "-1"]) == 1
    assert "--seconds -1" in capsys.readouterr().err
    assert run(["outputs", "test", "nope://x"]) == 1
    assert "unknown output type 'nope'" in capsys.readouterr().err


def test_outputs_test_on_a_recording_file(usb, tmp_path, capsys):
    from core.output.filerec import read_recording

    path = tmp_path / "t.dmxrec"
    assert run(["outputs", "test", f"file://{path}", "--seconds", "0.1", "--universe", "3"]) == 0
    records = read_recording(path)
    assert [r.universe for r in records] == [3] * 5  # 4 frames at 44/s and the blackout
    assert "sent 4 frames of universe 3" in capsys.readouterr().out


def test_pattern_frames():
    assert pattern_frame("chase", 0, 44.0, 512)[0] == 255
    assert pattern_frame("chase", 11, 44.0, 512).index(255) == 1
    assert pattern_frame("chase", 11 * 3, 44.0, 3).index(255) == 0  # wraps at --channels
    assert pattern_frame("full", 0, 44.0, 2) == b"\xff\xff" + bytes(510)
