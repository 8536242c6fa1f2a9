"""A fake of pyftdi's ``Ftdi`` (and of the USB bus behind it) for the Enttec output tests.

:class:`FakeUsb` is the bus: the devices plugged in, an optional DMX USB Pro
widget behind them, the errors to raise. ``usb.factory`` and ``usb.lister`` are
what the outputs take as ``ftdi_factory`` and ``lister``. Every call on a
:class:`FakeFtdi` is recorded with ``time.perf_counter`` timestamps taken on
entry and on return, so the tests can measure break and mark-after-break.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import usb.core
from pyftdi.ftdi import FtdiError
from pyftdi.usbtools import UsbToolsError

from core.output.ftdi import FtdiDevice

OPEN_DMX = FtdiDevice(0x0403, 0x6001, "A6XK3M1Q", "FT232R USB UART", 1, 7)
PRO = FtdiDevice(0x0403, 0x6001, "EN123456", "DMX USB PRO", 1, 9)
OTHER_FTDI = FtdiDevice(0x0403, 0x6010, "FT2232X", "Dual RS232-HS", 1, 3)


def gone() -> Exception:
    """What pyusb raises for an unplugged device."""
    return usb.core.USBError("No such device (it may have been disconnected)", None, 19)


@dataclass
class Call:
    name: str
    args: tuple
    kwargs: dict
    t0: float
    t1: float = 0.0


def frame_message(label: int, data: bytes) -> bytes:
    """A DMX USB Pro message, written out independently of the code under test."""
    return bytes([0x7E, label, len(data) % 256, len(data) // 256]) + data + bytes([0xE7])


@dataclass
class FakeProWidget:
    """The processor of a DMX USB Pro: answers label 3 and 10, records label 6 frames."""

    params: bytes = bytes([0x2C, 0x01, 9, 1, 40])  # firmware 1.44, break 9, MAB 1, 40 packets/s
    serial: bytes | None = bytes([0x78, 0x56, 0x34, 0x12])  # BCD, LSB first: 12345678
    answer: bool = True
    noise: bytes = b"\x00\x13\x7e\x05"  # stray bytes before each reply (a torn message)
    requests: list = field(default_factory=list)
    frames: list = field(default_factory=list)

    def receive(self, data: bytes) -> bytes:
        assert data[0] == 0x7E and data[-1] == 0xE7, data[:8].hex()
        label, n = data[1], data[2] | data[3] << 8
        assert len(data) == n + 5
        payload = data[4:-1]
        if label == 6:
            self.frames.append(payload)
            return b""
        self.requests.append((label, payload))
        if not self.answer:
            return b""
        if label == 3:
            return self.noise + frame_message(3, self.params)
        if label == 10 and self.serial is not None:
            return frame_message(10, self.serial)
        return b""


class FakeUsb:
    def __init__(self, *devices: FtdiDevice, widget: FakeProWidget | None = None):
        self.devices = list(devices)
        self.widget = widget
        self.handles: list[FakeFtdi] = []
        self.list_error: Exception | None = None
        self.open_error: Exception | None = None
        self.baud_actual: int | None = None  # what set_baudrate reports (None: exactly what was asked)
        self.read_chunk = 3  # bytes per read_data call: replies arrive torn apart

    def lister(self) -> list[FtdiDevice]:
        if self.list_error is not None:
            raise self.list_error
        return list(self.devices)

    def factory(self) -> "FakeFtdi":
        handle = FakeFtdi(self)
        self.handles.append(handle)
        return handle

    def unplug(self, device: FtdiDevice) -> None:
        self.devices.remove(device)

    def plug(self, device: FtdiDevice) -> None:
        self.devices.append(device)

    @property
    def last(self) -> "FakeFtdi":
        return self.handles[-1]


class FakeFtdi:
    """The subset of ``pyftdi.ftdi.Ftdi`` the outputs use, recording every call."""

    def __init__(self, usb_: FakeUsb):
        self.usb = usb_
        self.calls: list[Call] = []
        self.device: FtdiDevice | None = None
        self.closed = False
        self.rx = bytearray()

    def _enter(self, name: str, *args, **kwargs) -> Call:
        call = Call(name, args, kwargs, time.perf_counter())
        self.calls.append(call)
        return call

    def _check(self) -> None:
        if self.device is None or self.closed:
            raise FtdiError("Device characteristics not yet known")
        if self.device not in self.usb.devices:
            raise gone()

    def names(self) -> list[str]:
        return [c.name for c in self.calls]

    def writes(self) -> list[bytes]:
        return [c.args[0] for c in self.calls if c.name == "write_data"]

    # ------------------------------------------------------------ pyftdi API
    def open_from_url(self, url: str) -> None:
        call = self._enter("open_from_url", url)
        if self.usb.open_error is not None:
            raise self.usb.open_error
        matches = [d for d in self.usb.devices if d.url == url]
        if not matches:
            raise UsbToolsError(f"No USB device matches URL {url}")
        self.device = matches[0]
        call.t1 = time.perf_counter()

    def set_baudrate(self, baudrate: int, constrain: bool = True) -> int:
        call = self._enter("set_baudrate", baudrate)
        self._check()
        call.t1 = time.perf_counter()
        return self.usb.baud_actual or baudrate

    def set_line_property(self, bits: int, stopbit, parity: str, break_: bool = False) -> None:
        call = self._enter("set_line_property", bits, stopbit, parity)
        self._check()
        call.t1 = time.perf_counter()

    def set_flowctrl(self, flowctrl: str) -> None:
        call = self._enter("set_flowctrl", flowctrl)
        self._check()
        call.t1 = time.perf_counter()

    def set_rts(self, state: bool) -> None:
        call = self._enter("set_rts", state)
        self._check()
        call.t1 = time.perf_counter()

    def purge_buffers(self) -> None:
        call = self._enter("purge_buffers")
        self._check()
        self.rx.clear()
        call.t1 = time.perf_counter()

    def set_break(self, break_: bool) -> None:
        call = self._enter("set_break", break_)
        self._check()
        call.t1 = time.perf_counter()

    def write_data(self, data) -> int:
        call = self._enter("write_data", bytes(data))
        self._check()
        if self.usb.widget is not None:
            self.rx += self.usb.widget.receive(bytes(data))
        call.t1 = time.perf_counter()
        return len(data)

    def read_data(self, size: int) -> bytes:
        call = self._enter("read_data", size)
        self._check()
        n = min(size, self.usb.read_chunk)
        out = bytes(self.rx[:n])
        del self.rx[:n]
        call.t1 = time.perf_counter()
        return out

    def close(self, freeze: bool = False) -> None:
        call = self._enter("close")
        was_there = self.device is not None and self.device in self.usb.devices
        self.closed = True
        call.t1 = time.perf_counter()
        if self.device is not None and not was_there:
            raise gone()  # pyftdi's close can fail on an unplugged device
