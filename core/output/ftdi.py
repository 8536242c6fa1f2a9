"""Enttec DMX USB interfaces: ``enttec-open://`` (Open DMX USB) and ``enttec-pro://`` (DMX USB Pro).

Both are FTDI 0403:6001 devices driven through pyftdi (libusb; no kernel
serial driver, no /dev/ttyUSB). URL: ``enttec-open://SERIAL_OR_INDEX?universe=N``
(see :class:`~core.output.ftdi_usb.FtdiOutput` for how the device is chosen
and what ``universe`` means). Each carries one universe at up to 44 frames/s.

**Open DMX USB** has no processor: the computer makes the DMX signal. The
FT232R is set to 250000 baud, 8 data bits, no parity, 2 stop bits, no flow
control; each frame is a break (the line held low, here 110 us; DMX wants at
least 92 us), a mark after break (at least 12 us), then the start code 0 and
the 512 slots in one write of 513 bytes. A frame takes 22.6 ms on the wire,
hence 44 frames/s at most; before the next break the output waits until the
previous frame has left the chip (a break sent early would cut its last slots).
The interface keeps no copy: when frames stop, the DMX line goes quiet, so the
sender should refresh it (see ``refresh_interval``).

**DMX USB Pro** has a processor that makes the signal and repeats the last
frame by itself. Messages to it are ``0x7E, label, length LSB, length MSB,
data..., 0xE7``; a frame is label 6 ("Output Only Send DMX Packet") with the
start code and 512 slots. At open the output asks for the widget parameters
(label 3) and the serial number (label 10); no answer to the first means the
device is not a DMX USB Pro (perhaps an Open DMX: use ``enttec-open://``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.output.base import OutputContext, OutputUnavailable, ParsedUrl, UNIVERSE_SIZE, register_scheme
from core.output.ftdi_usb import (  # noqa: F401  (re-exported: the public API of the FTDI outputs)
    FtdiDevice,
    FtdiOutput,
    diagnose,
    list_devices,
    wait_until,
)

DMX_FRAME_SIZE = 1 + UNIVERSE_SIZE  # start code + slots


class EnttecOpenOutput(FtdiOutput):
    """Enttec Open DMX USB (a bare FT232R): the computer times break, mark and slots."""

    scheme = "enttec-open"
    BAUDRATE = 250_000
    BAUD_TOLERANCE = 0.02  # DMX512 (E1.11) allows a bit time of 4 us +- 2 %
    BREAK_S = 110e-6  # DMX: >= 92 us
    MAB_S = 16e-6  # DMX: >= 12 us
    DRAIN_MARGIN_S = 0.5e-3
    refresh_interval = 0.0  # no buffer in the interface: every tick must send a frame
    frame_offset = 1
    message_size = DMX_FRAME_SIZE

    def __init__(self, url: str, selector: str = "", universe: int = 1, **kwargs: Any):
        super().__init__(url, selector, universe, **kwargs)
        self.baudrate = float(self.BAUDRATE)
        self._line_free_at = 0.0

    def _configure(self, ftdi: Any) -> None:
        actual = ftdi.set_baudrate(self.BAUDRATE)  # pyftdi returns the rate the chip's divider achieves
        actual = float(actual if actual else self.BAUDRATE)
        if abs(actual - self.BAUDRATE) / self.BAUDRATE > self.BAUD_TOLERANCE:
            raise OutputUnavailable(f"{self.url}: the interface runs at {actual:.0f} baud, too far from the "
                                    f"{self.BAUDRATE} baud DMX needs")
        self.baudrate = actual
        ftdi.set_line_property(8, 2, "N")
        ftdi.set_flowctrl("")
        ftdi.set_rts(False)  # RTS low: the line driver of Open DMX clones is enabled
        ftdi.purge_buffers()
        self._line_free_at = 0.0

    @property
    def frame_seconds(self) -> float:
        """How long the start code and 512 slots take on the wire (11 bits each)."""
        return DMX_FRAME_SIZE * 11 / self.baudrate

    def _write(self, ftdi: Any) -> int:
        clock, sleep = self._clock, self._sleep
        wait_until(self._line_free_at, clock, sleep)  # the previous frame must have left the chip
        ftdi.set_break(True)
        wait_until(clock() + self.BREAK_S, clock, sleep)
        ftdi.set_break(False)
        wait_until(clock() + self.MAB_S, clock, sleep)
        start = clock()
        written = ftdi.write_data(self._buf)
        self._line_free_at = start + self.frame_seconds + self.DRAIN_MARGIN_S
        return written


# ---------------------------------------------------------------- DMX USB Pro

SOM, EOM = 0x7E, 0xE7
LABEL_GET_PARAMS = 3
LABEL_SEND_DMX = 6
LABEL_GET_SERIAL = 10
MAX_DATA = 600
PRO_UNIT_US = 10.67


def pro_message(label: int, data: bytes = b"") -> bytes:
    """One DMX USB Pro message: 0x7E, label, length LSB, length MSB, data, 0xE7."""
    n = len(data)
    return bytes((SOM, label, n & 0xFF, n >> 8)) + bytes(data) + bytes((EOM,))


def take_pro_messages(pending: bytearray) -> list[tuple[int, bytes]]:
    """Remove the complete messages from ``pending`` and return them as (label, data).

    Bytes before a start delimiter, and a start byte whose message does not end
    in 0xE7 where its length says, are dropped (resynchronisation)."""
    out: list[tuple[int, bytes]] = []
    while True:
        start = pending.find(SOM)
        if start < 0:
            pending.clear()
            return out
        del pending[:start]
        if len(pending) < 4:
            return out
        length = pending[2] | pending[3] << 8
        end = 4 + length
        if length > MAX_DATA:
            del pending[0]
            continue
        if len(pending) <= end:
            return out
        if pending[end] != EOM:
            del pending[0]
            continue
        out.append((pending[1], bytes(pending[4:end])))
        del pending[: end + 1]


@dataclass(frozen=True)
class ProParams:
    """The widget parameters a DMX USB Pro reports (label 3 reply)."""

    firmware: int  # LSB: version, MSB: variety (1 DMX, 2 RDM, 3 RDM sniffer)
    break_units: int  # DMX output break time, in 10.67 us
    mab_units: int  # DMX output mark-after-break time, in 10.67 us
    rate: int  # DMX output rate in packets/s (0: as fast as it can)
    user_config: bytes = b""

    @classmethod
    def parse(cls, data: bytes) -> "ProParams":
        if len(data) < 5:
            raise ValueError(f"a widget parameters reply has at least 5 bytes, got {len(data)}")
        return cls(data[0] | data[1] << 8, data[2], data[3], data[4], bytes(data[5:]))

    @property
    def firmware_text(self) -> str:
        return f"{self.firmware >> 8}.{self.firmware & 0xFF}"

    @property
    def break_us(self) -> float:
        return self.break_units * PRO_UNIT_US

    @property
    def mab_us(self) -> float:
        return self.mab_units * PRO_UNIT_US

    def describe(self) -> str:
        rate = f"{self.rate} packets/s" if self.rate else "fastest rate"
        return f"firmware {self.firmware_text}, break {self.break_us:.1f} us, MAB {self.mab_us:.1f} us, {rate}"


def bcd_serial(data: bytes) -> str:
    """The widget serial number: 4 BCD bytes, least significant first."""
    return "".join(f"{b:02x}" for b in reversed(bytes(data[:4])))


class EnttecProOutput(FtdiOutput):
    """Enttec DMX USB Pro (FT245R + processor): frames are label-6 messages; the widget times DMX."""

    scheme = "enttec-pro"
    BAUDRATE = 57_600  # meaningless over USB for an FT245, set as the Enttec drivers do
    REPLY_TIMEOUT_S = 1.0
    SERIAL_TIMEOUT_S = 0.3
    refresh_interval = 1.0  # the widget repeats the last frame by itself
    frame_offset = 5
    message_size = 4 + DMX_FRAME_SIZE + 1

    def __init__(self, url: str, selector: str = "", universe: int = 1, *,
                 reply_timeout: float | None = None, **kwargs: Any):
        super().__init__(url, selector, universe, **kwargs)
        self.reply_timeout = self.REPLY_TIMEOUT_S if reply_timeout is None else float(reply_timeout)
        self.params: ProParams | None = None
        self.widget_serial: str | None = None
        header = pro_message(LABEL_SEND_DMX, bytes(DMX_FRAME_SIZE))
        self._buf[:] = header  # 0x7E 6 0x01 0x02, start code 0, 512 slots, 0xE7

    def _configure(self, ftdi: Any) -> None:
        ftdi.set_baudrate(self.BAUDRATE)
        ftdi.set_line_property(8, 1, "N")
        ftdi.set_flowctrl("")
        ftdi.purge_buffers()
        reply = self._request(ftdi, LABEL_GET_PARAMS, b"\x00\x00", self.reply_timeout)
        try:
            if reply is None:
                raise ValueError("no reply to the widget parameters request")
            self.params = ProParams.parse(reply)
        except ValueError as exc:
            raise OutputUnavailable(f"{self.url}: the device did not answer like a DMX USB Pro ({exc}); "
                                    "an Open DMX USB is used with enttec-open://") from None
        serial = self._request(ftdi, LABEL_GET_SERIAL, b"", min(self.SERIAL_TIMEOUT_S, self.reply_timeout))
        self.widget_serial = bcd_serial(serial) if serial is not None and len(serial) >= 4 else None

    def _request(self, ftdi: Any, label: int, data: bytes, timeout: float) -> bytes | None:
        """Send one request and wait up to ``timeout`` s for the reply with the same label."""
        ftdi.write_data(pro_message(label, data))
        pending = bytearray()
        deadline = self._clock() + timeout
        while True:
            chunk = ftdi.read_data(512)
            if chunk:
                pending += chunk
                for got, payload in take_pro_messages(pending):
                    if got == label:
                        return payload
            if self._clock() >= deadline:
                return None
            if not chunk:
                self._sleep(0.002)

    def _write(self, ftdi: Any) -> int:
        return ftdi.write_data(self._buf)


# ---------------------------------------------------------------- registration


def _open_factory(parsed: ParsedUrl, context: OutputContext) -> EnttecOpenOutput:
    return EnttecOpenOutput.from_url(parsed)


def _pro_factory(parsed: ParsedUrl, context: OutputContext) -> EnttecProOutput:
    return EnttecProOutput.from_url(parsed)


register_scheme("enttec-open", _open_factory)
register_scheme("enttec-pro", _pro_factory)
