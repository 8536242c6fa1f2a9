"""FTDI USB devices through pyftdi: listing, diagnosis, error mapping, the shared output base.

Enttec's DMX USB interfaces are FTDI chips (vendor 0x0403, product 0x6001):
the Open DMX USB is a bare FT232R, the DMX USB Pro an FT245R in front of a
microcontroller. :mod:`core.output.ftdi` builds the two outputs on top of
:class:`FtdiOutput`; this module holds what they share:

* :func:`list_devices` enumerates the FTDI devices (fresh each call, so an
  interface that was unplugged and plugged back is seen at its new address);
* every pyftdi / pyusb / libusb failure is turned into an :class:`OutputError`
  whose message says what to do (install libusb, install the udev rule, plug
  the interface in);
* :func:`diagnose` returns those hints as a list, for ``luma outputs list``.

The pyftdi boundary is injectable: an output takes ``ftdi_factory`` (a callable
returning an object with pyftdi's ``Ftdi`` methods) and ``lister`` (a callable
returning :class:`FtdiDevice` values). pyftdi itself is imported lazily, so this
module loads without it.
"""

from __future__ import annotations

import errno
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from core.output.base import UNIVERSE_SIZE, OutputDisconnected, OutputError, OutputUnavailable, ParsedUrl, as_frame

FTDI_VENDOR = 0x0403
FT232R_PRODUCT = 0x6001  # FT232R (Open DMX USB) and FT245R (DMX USB Pro) both enumerate as 0403:6001
MAX_UNIVERSE = 63999

UDEV_RULE_NAME = "99-luma-ftdi.rules"
UDEV_RULE_PATH = Path("/etc/udev/rules.d") / UDEV_RULE_NAME
UDEV_INSTALL = (f"sudo cp packaging/{UDEV_RULE_NAME} /etc/udev/rules.d/ && "
                "sudo udevadm control --reload-rules && sudo udevadm trigger")
PERMISSION_HINT = (f"no permission to use the USB device: install the udev rule packaging/{UDEV_RULE_NAME} "
                   f"({UDEV_INSTALL}), then unplug and replug the interface; or add yourself to the plugdev "
                   "group (sudo usermod -aG plugdev $USER, then log in again)")
LIBUSB_HINT = "libusb is not installed: sudo apt install libusb-1.0-0 (macOS: brew install libusb)"
PYFTDI_HINT = "pyftdi is not installed: pip install pyftdi pyusb"
BUSY_HINT = "the interface is in use by another program (close OLA, QLC+ or another Luma Studio)"

FtdiFactory = Callable[[], Any]
Lister = Callable[[], "list[FtdiDevice]"]


@dataclass(frozen=True)
class FtdiDevice:
    """One FTDI USB device as the bus reports it."""

    vendor: int
    product: int
    serial: str | None
    description: str
    bus: int | None = None
    address: int | None = None

    @property
    def usb_id(self) -> str:
        return f"{self.vendor:04x}:{self.product:04x}"

    @property
    def url(self) -> str:
        """The pyftdi URL that opens exactly this device (bus and address are hex there)."""
        vp = f"0x{self.vendor:04x}:0x{self.product:04x}"
        if self.bus is not None and self.address is not None:
            return f"ftdi://{vp}:{self.bus:x}:{self.address:x}/1"
        if self.serial:
            return f"ftdi://{vp}:{self.serial}/1"
        return f"ftdi://{vp}/1"

    @property
    def looks_like_pro(self) -> bool:
        return "PRO" in self.description.upper()

    def output_url(self, index: int = 0) -> str | None:
        """The Luma output URL for this device (``index``: its place among the 0403:6001 devices)."""
        if self.vendor != FTDI_VENDOR or self.product != FT232R_PRODUCT:
            return None
        scheme = "enttec-pro" if self.looks_like_pro else "enttec-open"
        return f"{scheme}://{self.serial or index}"

    def describe(self) -> str:
        serial = f"serial {self.serial}" if self.serial else "no serial number"
        where = f", bus {self.bus} address {self.address}" if self.bus is not None else ""
        return f"{self.usb_id} {self.description or 'FTDI device'} ({serial}{where})"


# ---------------------------------------------------------------- the real pyftdi


def _new_pyftdi() -> Any:
    from pyftdi.ftdi import Ftdi

    return Ftdi()


def _pyftdi_devices() -> list[FtdiDevice]:
    from pyftdi.ftdi import Ftdi
    from pyftdi.usbtools import UsbTools

    UsbTools.flush_cache()  # pyftdi caches the enumeration; a replugged interface has a new address
    return [FtdiDevice(desc.vid, desc.pid, desc.sn or None, desc.description or "", desc.bus, desc.address)
            for desc, _interfaces in Ftdi.list_devices()]


def close_quietly(ftdi: Any) -> None:
    """Close a pyftdi handle whose device may be gone; never raises."""
    if ftdi is None:
        return
    try:
        ftdi.close()
    except Exception:  # an unplugged device fails in many ways; the handle is dropped anyway
        dev = getattr(ftdi, "usb_dev", None)
        if dev is not None and type(ftdi).__module__.startswith("pyftdi"):
            try:  # pyftdi keeps a reference count per device; without this a replug at the same address fails
                from pyftdi.usbtools import UsbTools

                UsbTools.release_device(dev)
            except Exception:
                pass


# ---------------------------------------------------------------- errors


def is_driver_error(exc: BaseException) -> bool:
    """Whether an exception comes from USB (pyftdi, pyusb, libusb) rather than from a bug."""
    root = type(exc).__module__.split(".")[0]
    return isinstance(exc, (OSError, ValueError, ImportError)) or root in ("pyftdi", "usb")


def error_kind(exc: BaseException) -> str:
    """'pyftdi', 'libusb', 'permission', 'busy', 'missing' or 'io'."""
    if isinstance(exc, ImportError):
        return "pyftdi"
    code = getattr(exc, "errno", None)
    text = str(exc).lower()
    if type(exc).__name__ == "NoBackendError" or "no backend" in text:
        return "libusb"
    if (code in (errno.EACCES, errno.EPERM) or "errno 13" in text or "access denied" in text
            or "insufficient permission" in text or "langid" in text):
        return "permission"
    if code == errno.EBUSY or "errno 16" in text or "resource busy" in text:
        return "busy"
    if (code in (errno.ENODEV, errno.ENOENT, errno.ENXIO) or "errno 19" in text or "no such device" in text
            or "not found" in text or "no usb device" in text or "disconnected" in text):
        return "missing"
    return "io"


def reason(exc: BaseException) -> str:
    """A sentence for the user about a driver exception."""
    kind = error_kind(exc)
    if kind == "pyftdi":
        return PYFTDI_HINT
    if kind == "libusb":
        return LIBUSB_HINT
    if kind == "permission":
        return PERMISSION_HINT
    if kind == "busy":
        return BUSY_HINT
    if kind == "missing":
        return "the interface is not there any more (unplugged?)"
    return str(exc) or type(exc).__name__


def unavailable(exc: BaseException, what: str) -> OutputUnavailable:
    return OutputUnavailable(f"{what}: {reason(exc)}")


# ---------------------------------------------------------------- listing


def list_devices(lister: Lister | None = None) -> list[FtdiDevice]:
    """The FTDI (vendor 0x0403) devices on the USB bus, in bus/address order."""
    try:
        found = (lister or _pyftdi_devices)()
    except OutputError:
        raise
    except Exception as exc:
        if not is_driver_error(exc):
            raise
        raise unavailable(exc, "cannot list the USB devices") from exc
    found = [d for d in found if d.vendor == FTDI_VENDOR]
    return sorted(found, key=lambda d: (d.bus if d.bus is not None else -1,
                                        d.address if d.address is not None else -1, d.serial or ""))


def dmx_devices(devices: list[FtdiDevice]) -> list[FtdiDevice]:
    """The devices an ``enttec-*://INDEX`` URL counts (0403:6001), in that order."""
    return [d for d in devices if d.product == FT232R_PRODUCT]


def diagnose(lister: Lister | None = None) -> list[str]:
    """Why no DMX interface can be used, as hint sentences (empty: nothing wrong found)."""
    try:
        devices = list_devices(lister)
    except OutputUnavailable as exc:
        return [str(exc)]
    if not devices:
        hints = ["no FTDI USB device found: plug the interface in (lsusb should list 0403:6001)"]
        if sys.platform.startswith("linux") and not UDEV_RULE_PATH.exists():
            hints.append(f"to use it without root, install the udev rule: {UDEV_INSTALL}, then replug the interface")
        hints.append(f"pyftdi needs libusb: {LIBUSB_HINT.split(': ', 1)[1]}")
        return hints
    if not dmx_devices(devices):
        return ["FTDI devices were found, but none is 0403:6001 (FT232R/FT245R), the chip of the "
                "Enttec Open DMX USB and DMX USB Pro"]
    return []


# ---------------------------------------------------------------- timing


def wait_until(deadline: float, clock: Callable[[], float] = time.perf_counter,
               sleep: Callable[[float], None] = time.sleep) -> None:
    """Wait until ``clock()`` reaches ``deadline``: sleep for the bulk, spin for the last millisecond."""
    while True:
        left = deadline - clock()
        if left <= 0:
            return
        if left > 0.002:
            sleep(left - 0.001)


# ---------------------------------------------------------------- the shared output


class FtdiOutput:
    """One DMX universe on an FTDI-based interface; subclasses frame and write it.

    The URL's host selects the device: a number of up to three digits is an
    index among the 0403:6001 devices (in bus/address order), anything else a
    USB serial number (case-sensitive); empty means index 0. ``?universe=N``
    picks the show universe this interface plays (default 1). ``send()`` of any
    other universe is ignored and counted in ``frames_ignored``: a sender that
    sends every universe of the show to every output must not fail here.

    ``open()`` enumerates the bus afresh each time, so after a
    :class:`OutputDisconnected` (the handle is closed then) the next ``open()``
    finds the replugged interface, at whatever address it got.
    """

    scheme = ""
    max_rate: float | None = 44.0
    max_universes: int | None = 1
    frame_offset = 0  # where the 512 slots start in the message buffer
    message_size = 0

    def __init__(self, url: str, selector: str = "", universe: int = 1, *,
                 ftdi_factory: FtdiFactory | None = None, lister: Lister | None = None,
                 clock: Callable[[], float] = time.perf_counter, sleep: Callable[[float], None] = time.sleep):
        if not 1 <= universe <= MAX_UNIVERSE:
            raise OutputError(f"{url}: universe must be between 1 and {MAX_UNIVERSE}, got {universe}")
        self.url = url
        self.selector = selector.strip()
        self.universe = universe
        self._factory = ftdi_factory
        self._lister = lister
        self._clock = clock
        self._sleep = sleep
        self._ftdi: Any = None
        self.device: FtdiDevice | None = None
        self.frames_written = 0
        self.frames_ignored = 0
        self._buf = bytearray(self.message_size)
        self._slots = memoryview(self._buf)[self.frame_offset:self.frame_offset + UNIVERSE_SIZE]

    @classmethod
    def from_url(cls, parsed: ParsedUrl, **kwargs) -> "FtdiOutput":
        unknown = sorted(set(parsed.query) - {"universe"})
        if unknown:
            raise OutputError(f"{parsed.url}: unknown option {unknown[0]!r}; {cls.scheme} takes ?universe=N")
        selector = urlsplit(parsed.url).netloc  # ParsedUrl.host is lower-cased; serial numbers are not
        universe = parsed.int_param("universe", 1, 1, MAX_UNIVERSE)
        return cls(parsed.url, selector, universe, **kwargs)

    @property
    def is_open(self) -> bool:
        return self._ftdi is not None

    # ------------------------------------------------------------ lifecycle
    def open(self) -> None:
        if self._ftdi is not None:
            return
        device = self._find()
        ftdi = None
        try:
            ftdi = (self._factory or _new_pyftdi)()
            ftdi.open_from_url(device.url)
            self._configure(ftdi)
        except OutputError:
            close_quietly(ftdi)
            raise
        except Exception as exc:
            close_quietly(ftdi)
            if not is_driver_error(exc):
                raise
            raise unavailable(exc, f"{self.url}: cannot open {device.describe()}") from exc
        self._ftdi = ftdi
        self.device = device

    def close(self) -> None:
        ftdi, self._ftdi = self._ftdi, None
        if ftdi is not None:
            close_quietly(ftdi)

    def end_tick(self) -> None:
        pass

    # ------------------------------------------------------------ sending
    def send(self, universe: int, frame) -> None:
        if universe != self.universe:
            self.frames_ignored += 1
            return
        ftdi = self._ftdi
        if ftdi is None:
            raise OutputDisconnected(f"{self.url}: the interface is not open")
        if isinstance(frame, (bytes, bytearray)) and len(frame) == UNIVERSE_SIZE:
            self._slots[:] = frame
        else:
            self._slots[:] = as_frame(frame)
        try:
            written = self._write(ftdi)
        except Exception as exc:
            if not is_driver_error(exc):
                raise
            self.close()  # the sender's next open() reopens the device from scratch
            raise OutputDisconnected(f"{self.url}: {reason(exc)}") from exc
        if written != len(self._buf):
            self.close()
            raise OutputDisconnected(f"{self.url}: the interface took {written} of {len(self._buf)} bytes")
        self.frames_written += 1

    # ------------------------------------------------------------ for subclasses
    def _configure(self, ftdi: Any) -> None:
        raise NotImplementedError

    def _write(self, ftdi: Any) -> int:
        """Put ``self._buf`` on the wire; return the number of bytes written."""
        raise NotImplementedError

    def _find(self) -> FtdiDevice:
        devices = dmx_devices(list_devices(self._lister))
        sel = self.selector or "0"
        if not devices:
            raise OutputUnavailable(f"{self.url}: no Enttec/FTDI DMX interface (USB 0403:6001) is plugged in; "
                                    "`luma outputs list` shows what is found")
        if sel.isdigit() and len(sel) <= 3:
            index = int(sel)
            if index < len(devices):
                return devices[index]
            raise OutputUnavailable(f"{self.url}: there is no interface #{index}, only {len(devices)} "
                                    f"(numbered from 0): {self._names(devices)}")
        matches = [d for d in devices if d.serial == sel] or \
                  [d for d in devices if (d.serial or "").lower() == sel.lower()]
        if matches:
            return matches[0]
        raise OutputUnavailable(f"{self.url}: no interface with serial number {sel!r}; found {self._names(devices)}")

    @staticmethod
    def _names(devices: list[FtdiDevice]) -> str:
        return ", ".join(d.serial or f"#{i} (no serial number)" for i, d in enumerate(devices))
