"""The Enttec outputs against a recording fake of pyftdi's Ftdi (tests/core/output/ftdi_fake.py)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from usb.core import NoBackendError, USBError
from pyftdi.ftdi import Ftdi, FtdiError

from core.output import base, ftdi
from core.output.base import OutputDisconnected, OutputError, OutputUnavailable, parse_url
from core.output.ftdi import (EnttecOpenOutput, EnttecProOutput, FtdiDevice, ProParams, diagnose, list_devices,
                              pro_message, take_pro_messages)
from core.output.sender import CONNECTED, DISCONNECTED, Sender
from tests.core.output.ftdi_fake import OPEN_DMX, OTHER_FTDI, PRO, FakeProWidget, FakeUsb, frame_message, gone

SLOTS = bytes((i * 7 + 3) % 256 for i in range(512))


def open_dmx(usb: FakeUsb, url: str = "enttec-open://A6XK3M1Q") -> EnttecOpenOutput:
    return EnttecOpenOutput.from_url(parse_url(url), ftdi_factory=usb.factory, lister=usb.lister)


def pro(usb: FakeUsb, url: str = "enttec-pro://EN123456", **kw) -> EnttecProOutput:
    return EnttecProOutput.from_url(parse_url(url), ftdi_factory=usb.factory, lister=usb.lister, **kw)


def check_frames(handle, expected: list[bytes], frame_seconds: float) -> None:
    """Each frame: break on, >= 92 us, break off, >= 12 us, one write of 513 bytes; frames never overlap."""
    calls = handle.calls
    writes = [i for i, c in enumerate(calls) if c.name == "write_data"]
    assert len(writes) == len(expected)
    prev_write = None
    for i, slots in zip(writes, expected):
        on, off, write = calls[i - 2], calls[i - 1], calls[i]
        assert (on.name, on.args, off.name, off.args) == ("set_break", (True,), "set_break", (False,))
        assert off.t0 - on.t1 >= 92e-6, f"break {1e6 * (off.t0 - on.t1):.1f} us"
        assert write.t0 - off.t1 >= 12e-6, f"MAB {1e6 * (write.t0 - off.t1):.1f} us"
        data = write.args[0]
        assert len(data) == 513 and data[0] == 0 and data[1:] == slots
        if prev_write is not None:  # the previous frame had left the chip before this break
            assert on.t0 - prev_write.t0 >= frame_seconds
        prev_write = write


# ---------------------------------------------------------------- Open DMX USB


def test_open_dmx_configures_250000_baud_8n2_no_flow_control():
    usb = FakeUsb(OTHER_FTDI, OPEN_DMX)
    out = open_dmx(usb)
    assert (out.max_rate, out.max_universes, out.universe) == (44.0, 1, 1)
    out.open()
    h = usb.last
    assert h.calls[0].name == "open_from_url" and h.calls[0].args == ("ftdi://0x0403:0x6001:1:7/1",)
    by_name = {c.name: c for c in h.calls}
    assert by_name["set_baudrate"].args == (250000,)
    assert by_name["set_line_property"].args == (8, 2, "N")
    assert by_name["set_flowctrl"].args == ("",)
    assert "purge_buffers" in by_name
    assert out.device == OPEN_DMX and out.is_open
    out.close()
    out.close()  # twice is fine
    assert h.closed and not out.is_open


def test_open_dmx_frames_have_break_mark_after_break_and_513_bytes():
    usb = FakeUsb(OPEN_DMX)
    out = open_dmx(usb)
    out.open()
    frames = [SLOTS, bytes(512), np.arange(512) % 256, [255, 128, 1]]
    expected = [SLOTS, bytes(512), bytes(i % 256 for i in range(512)), bytes([255, 128, 1]) + bytes(509)]
    for f in frames:
        out.send(1, f)
    out.end_tick()
    check_frames(usb.last, expected, out.frame_seconds)
    assert out.frame_seconds == pytest.approx(513 * 11 / 250000)
    assert out.frames_written == 4


def test_other_universes_are_ignored_and_counted():
    usb = FakeUsb(OPEN_DMX)
    out = open_dmx(usb, "enttec-open://A6XK3M1Q?universe=3")
    out.open()
    out.send(1, SLOTS)
    out.send(2, SLOTS)
    assert usb.last.writes() == [] and out.frames_ignored == 2
    out.send(3, SLOTS)
    assert usb.last.writes() == [b"\x00" + SLOTS] and out.frames_written == 1


def test_baud_rate_outside_dmx_tolerance_is_refused():
    usb = FakeUsb(OPEN_DMX)
    usb.baud_actual = 256_000  # 2.4 % off
    with pytest.raises(OutputUnavailable, match="256000 baud"):
        open_dmx(usb).open()
    assert usb.last.closed
    usb.baud_actual = 253_000  # 1.2 %: fine
    out = open_dmx(usb)
    out.open()
    assert out.frame_seconds == pytest.approx(513 * 11 / 253000)


def test_selecting_the_device_by_serial_or_index():
    second = FtdiDevice(0x0403, 0x6001, "B000XYZ1", "FT232R USB UART", 2, 4)
    usb = FakeUsb(second, OTHER_FTDI, OPEN_DMX)  # listed out of order: index counts in bus/address order
    for url, device in [("enttec-open://0", OPEN_DMX), ("enttec-open://1", second), ("enttec-open://", OPEN_DMX),
                        ("enttec-open://B000XYZ1", second), ("enttec-open://b000xyz1", second)]:
        out = open_dmx(usb, url)
        out.open()
        assert out.device == device, url
        out.close()
    with pytest.raises(OutputUnavailable, match=r"no interface #2, only 2.*A6XK3M1Q, B000XYZ1"):
        open_dmx(usb, "enttec-open://2").open()
    with pytest.raises(OutputUnavailable, match="no interface with serial number 'NOPE1234'"):
        open_dmx(usb, "enttec-open://NOPE1234").open()


def test_url_options_are_checked():
    out = EnttecOpenOutput.from_url(parse_url("enttec-open://AbC123?universe=12"))
    assert (out.selector, out.universe, out.url) == ("AbC123", 12, "enttec-open://AbC123?universe=12")
    with pytest.raises(OutputError, match="universe must be between 1 and 63999"):
        EnttecOpenOutput.from_url(parse_url("enttec-open://0?universe=0"))
    with pytest.raises(OutputError, match="unknown option 'univers'"):
        EnttecProOutput.from_url(parse_url("enttec-pro://0?univers=2"))
    assert base._SCHEMES["enttec-open"] is ftdi._open_factory
    assert isinstance(base._SCHEMES["enttec-pro"](parse_url("enttec-pro://0"), base.OutputContext()), EnttecProOutput)


# ---------------------------------------------------------------- errors and reconnecting


def test_nothing_plugged_in_is_unavailable():
    with pytest.raises(OutputUnavailable, match="no Enttec/FTDI DMX interface .* is plugged in"):
        open_dmx(FakeUsb(OTHER_FTDI)).open()


@pytest.mark.parametrize("error", [
    USBError("Access denied (insufficient permissions)", None, 13),
    FtdiError("UsbError: [Errno 13] Access denied (insufficient permissions)"),
    ValueError("The device has no langid (permission issue, no string descriptors supported or device error)"),
])
def test_permission_denied_names_the_udev_rule(error):
    usb = FakeUsb(OPEN_DMX)
    usb.open_error = error
    with pytest.raises(OutputUnavailable, match="99-luma-ftdi.rules.*/etc/udev/rules.d.*replug.*plugdev") as info:
        open_dmx(usb).open()
    assert "A6XK3M1Q" in str(info.value)
    assert usb.last.closed
    usb.open_error, usb.list_error = None, error  # pyftdi reads the serial numbers while listing
    with pytest.raises(OutputUnavailable, match="99-luma-ftdi.rules"):
        open_dmx(usb).open()


@pytest.mark.parametrize("error", [NoBackendError("No backend available"),
                                   ValueError("No backend available")])
def test_missing_libusb_says_how_to_install_it(error):
    usb = FakeUsb(OPEN_DMX)
    usb.list_error = error
    with pytest.raises(OutputUnavailable, match="sudo apt install libusb-1.0-0"):
        open_dmx(usb).open()
    assert "sudo apt install libusb-1.0-0" in diagnose(usb.lister)[0]


def test_a_bug_is_not_reported_as_an_unplugged_device():
    usb = FakeUsb(OPEN_DMX)
    usb.open_error = TypeError("a bug")
    with pytest.raises(TypeError):
        open_dmx(usb).open()


@pytest.mark.parametrize("error", [gone(), FtdiError("UsbError: [Errno 19] No such device (it may have been "
                                                     "disconnected)"), USBError("Input/Output Error",
                                                                                         None, 5)])
def test_unplugging_mid_show_disconnects_and_a_replugged_interface_reopens(error):
    usb = FakeUsb(OPEN_DMX)
    out = open_dmx(usb)
    out.open()
    out.send(1, SLOTS)
    first = usb.last
    usb.unplug(OPEN_DMX)
    first.write_data = _raiser(error)  # whatever the driver raises while writing
    with pytest.raises(OutputDisconnected, match="A6XK3M1Q"):
        out.send(1, SLOTS)
    assert first.closed and not out.is_open  # the handle was closed although close() itself failed
    with pytest.raises(OutputDisconnected, match="not open"):
        out.send(1, SLOTS)
    with pytest.raises(OutputUnavailable, match="no Enttec/FTDI DMX interface"):
        out.open()
    replugged = FtdiDevice(0x0403, 0x6001, "A6XK3M1Q", "FT232R USB UART", 1, 12)  # a new address
    usb.plug(replugged)
    out.open()
    assert usb.last is not first and usb.last.calls[0].args == ("ftdi://0x0403:0x6001:1:c/1",)
    out.send(1, bytes(512))
    check_frames(usb.last, [bytes(512)], out.frame_seconds)


def _raiser(error):
    def write_data(data):
        raise error
    return write_data


def test_the_sender_reconnects_after_a_replug():
    usb = FakeUsb(OPEN_DMX)
    out = open_dmx(usb)
    states = []
    clock = [0.0]
    sender = Sender(out, lambda t: {1: bytes([int(t * 10) % 256]) + bytes(511)}, lambda: clock[0],
                    universes=[1], keepalive=0.0, on_state=lambda s, state, msg: states.append(state))
    sender.tick(0.0)
    usb.unplug(OPEN_DMX)
    clock[0] = 0.1
    sender.tick(0.1)
    assert sender.state == DISCONNECTED and "not there any more" in sender.message
    usb.plug(OPEN_DMX)
    for now in (0.2, 0.7, 0.8):
        clock[0] = now
        sender.tick(now)
    assert sender.state == CONNECTED and sender.reconnects == 1
    assert states == ["connecting", "connected", "disconnected", "connecting", "connected"]
    assert [w[1] for w in usb.last.writes()] == [7, 8]
    sender._close()
    assert usb.last.closed


# ---------------------------------------------------------------- DMX USB Pro


def test_pro_reads_the_widget_parameters_and_serial_at_open():
    widget = FakeProWidget()
    usb = FakeUsb(PRO, widget=widget)
    out = pro(usb)
    out.open()
    writes = usb.last.writes()
    assert writes[0] == bytes.fromhex("7e 03 02 00 00 00 e7")  # get widget parameters, user config size 0
    assert writes[1] == bytes.fromhex("7e 0a 00 00 e7")  # get widget serial number
    assert out.params == ProParams(0x012C, 9, 1, 40, b"")
    assert out.params.firmware_text == "1.44"
    assert out.params.describe() == "firmware 1.44, break 96.0 us, MAB 10.7 us, 40 packets/s"
    assert out.widget_serial == "12345678"
    by_name = {c.name: c for c in usb.last.calls}
    assert by_name["set_baudrate"].args == (57600,) and by_name["set_line_property"].args == (8, 1, "N")
    assert (out.max_rate, out.max_universes) == (44.0, 1)


def test_pro_frames_are_label_6_messages():
    widget = FakeProWidget()
    usb = FakeUsb(PRO, widget=widget)
    out = pro(usb, "enttec-pro://0?universe=2")
    out.open()
    out.send(2, SLOTS)
    out.send(1, bytes(512))  # not this output's universe
    out.send(2, [1, 2, 3])
    frames = [w for w in usb.last.writes() if w[1] == 6]
    assert frames[0] == bytes([0x7E, 6, 0x01, 0x02, 0]) + SLOTS + bytes([0xE7])
    assert frames[1] == bytes([0x7E, 6, 0x01, 0x02, 0, 1, 2, 3]) + bytes(509) + bytes([0xE7])
    assert [len(f) for f in frames] == [518, 518]
    assert widget.frames == [b"\x00" + SLOTS, b"\x00\x01\x02\x03" + bytes(509)]
    assert (out.frames_written, out.frames_ignored) == (2, 1)


def test_pro_without_serial_reply_still_opens():
    usb = FakeUsb(PRO, widget=FakeProWidget(serial=None, params=bytes([1, 2, 20, 3, 0, 0xAA, 0xBB])))
    out = pro(usb, reply_timeout=0.2)
    out.open()
    assert out.widget_serial is None
    assert out.params == ProParams(0x0201, 20, 3, 0, b"\xaa\xbb")
    assert out.params.describe().endswith("fastest rate")


@pytest.mark.parametrize("widget", [FakeProWidget(answer=False), FakeProWidget(params=b"\x01\x02"), None])
def test_a_device_that_does_not_answer_like_a_pro_is_unavailable(widget):
    usb = FakeUsb(OPEN_DMX, widget=widget)  # None: an Open DMX USB, nothing answers
    out = pro(usb, "enttec-pro://0", reply_timeout=0.05)
    with pytest.raises(OutputUnavailable, match="did not answer like a DMX USB Pro.*enttec-open://"):
        out.open()
    assert usb.last.closed and not out.is_open


def test_pro_message_parsing_resynchronises():
    msg = pro_message(3, b"\x01\x02\x03\x04\x05")
    assert msg == frame_message(3, b"\x01\x02\x03\x04\x05")
    pending = bytearray(b"\x00\x7e\x05\xff\xff" + msg[:4])  # garbage, a bogus length, half a message
    assert take_pro_messages(pending) == []
    pending += msg[4:] + frame_message(10, b"\x01\x02\x03\x04") + b"\x7e\x05\x02\x00\x01\x02\x00"  # bad end
    assert take_pro_messages(pending) == [(3, b"\x01\x02\x03\x04\x05"), (10, b"\x01\x02\x03\x04")]
    assert pending == b""  # the message with a bad end byte was dropped


# ---------------------------------------------------------------- listing, diagnosis, pyftdi's API


def test_list_devices_keeps_ftdi_devices_in_bus_order():
    foreign = FtdiDevice(0x10C4, 0xEA60, "0001", "CP2102 USB to UART", 1, 1)
    usb = FakeUsb(PRO, foreign, OTHER_FTDI, OPEN_DMX)
    devices = list_devices(usb.lister)
    assert devices == [OTHER_FTDI, OPEN_DMX, PRO]
    assert [d.output_url(i) for i, d in enumerate(devices)] == [None, "enttec-open://A6XK3M1Q",
                                                                "enttec-pro://EN123456"]
    assert FtdiDevice(0x0403, 0x6001, None, "FT232R USB UART", 2, 3).output_url(1) == "enttec-open://1"
    assert diagnose(usb.lister) == []


def test_diagnose_hints():
    hints = diagnose(FakeUsb().lister)
    assert "no FTDI USB device found" in hints[0]
    assert "libusb-1.0-0" in hints[-1]
    assert diagnose(FakeUsb(OTHER_FTDI).lister)[0].startswith("FTDI devices were found, but none is 0403:6001")
    usb = FakeUsb(OPEN_DMX)
    usb.list_error = USBError("Access denied (insufficient permissions)", None, 13)
    assert "99-luma-ftdi.rules" in diagnose(usb.lister)[0]


def test_the_fake_calls_match_pyftdis_signatures():
    """Every call the outputs made on the fake would bind to the real pyftdi.ftdi.Ftdi method."""
    usb = FakeUsb(PRO, widget=FakeProWidget())
    out = pro(usb)
    out.open()
    out.send(1, SLOTS)
    out.close()
    usb2 = FakeUsb(OPEN_DMX)
    out2 = open_dmx(usb2)
    out2.open()
    out2.send(1, SLOTS)
    out2.close()
    calls = usb.last.calls + usb2.last.calls
    assert {c.name for c in calls} >= {"open_from_url", "set_baudrate", "set_line_property", "set_flowctrl",
                                       "set_rts", "purge_buffers", "set_break", "write_data", "read_data", "close"}
    for c in calls:
        inspect.signature(getattr(Ftdi, c.name)).bind(Ftdi.__new__(Ftdi), *c.args, **c.kwargs)
