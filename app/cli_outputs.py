"""DMX output sub-commands of ``luma``: ``outputs list`` and ``outputs test``.

``add_commands(subparsers)`` adds ``outputs`` to the ``luma`` parser; each
handler takes the parsed arguments and returns the exit status (errors are
printed as ``luma: message`` on stderr, status 1).

* ``luma outputs list`` prints the FTDI USB devices (Enttec Open DMX USB and
  DMX USB Pro are 0403:6001) with the output URL to use for each; when there
  is none, why that may be (udev rule, libusb).
* ``luma outputs test URL`` opens an output and sends a test pattern (a chase,
  one channel at a time, or every channel at full) for a few seconds, then a
  blackout, and prints how many frames went out.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

from app.cli_util import EXIT_ERROR, guarded
from core.errors import LumaError

TEST_RATE = 44.0  # frames/s when the output sets no limit
CHASE_STEP_S = 0.25  # how long the chase stays on each channel




# ---------------------------------------------------------------- handlers


@guarded
def cmd_outputs_list(args: argparse.Namespace) -> int:
    """Print the FTDI USB devices and the output URL for each."""
    from core.output.ftdi_usb import diagnose, dmx_devices, list_devices

    devices = list_devices()
    dmx = dmx_devices(devices)
    for device in devices:
        url = device.output_url(dmx.index(device)) if device in dmx else "(not a DMX interface Luma knows)"
        where = f"bus {device.bus} address {device.address}" if device.bus is not None else "-"
        print(f"{device.usb_id}\t{device.serial or '(no serial)'}\t{device.description or '-'}\t{where}\t{url}")
    if dmx:
        return 0
    if not devices:
        print("luma: no FTDI USB devices found (Enttec Open DMX USB and DMX USB Pro are 0403:6001)",
              file=sys.stderr)
    for hint in diagnose(lambda: devices):
        if not hint.startswith("no FTDI USB device found"):
            print(f"  hint: {hint}", file=sys.stderr)
    return EXIT_ERROR


def pattern_frame(pattern: str, k: int, rate: float, channels: int) -> bytes:
    """Frame ``k`` of a test pattern: 'chase' (one channel at full, moving on) or 'full'."""
    frame = bytearray(512)
    if pattern == "full":
        frame[:channels] = b"\xff" * channels
    else:
        per_channel = max(1, round(CHASE_STEP_S * rate))
        frame[(k // per_channel) % channels] = 255
    return bytes(frame)


@guarded
def cmd_outputs_test(args: argparse.Namespace) -> int:
    """Send a test pattern to one output for some seconds."""
    from core.output.base import OutputError, open_output

    if not math.isfinite(args.seconds) or args.seconds <= 0:
        raise LumaError(f"--seconds {args.seconds}: give a positive number of seconds")
    if not 1 <= args.channels <= 512:
        raise LumaError(f"--channels {args.channels}: a universe has channels 1..512")
    output = open_output(args.url)
    universe = args.universe if args.universe is not None else int(getattr(output, "universe", 1))
    if not 1 <= universe <= 63999:
        raise LumaError(f"--universe {universe}: universes are numbered 1..63999")
    rate = float(output.max_rate or TEST_RATE)
    period = 1.0 / rate
    output.open()
    sent = 0
    started = time.monotonic()
    try:
        params = getattr(output, "params", None)
        if params is not None and hasattr(params, "describe"):
            print(f"{args.url}: {params.describe()}")
        total = max(1, int(round(args.seconds * rate)))
        for k in range(total):
            due = started + k * period
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            output.send(universe, pattern_frame(args.pattern, k, rate, args.channels))
            output.end_tick()
            sent += 1
        if not args.keep:
            output.send(universe, bytes(512))
            output.end_tick()
    finally:
        try:
            output.close()
        except OutputError:
            pass
    elapsed = time.monotonic() - started
    print(f"{args.url}: sent {sent} frames of universe {universe} ({args.pattern}) in {elapsed:.2f} s "
          f"({sent / elapsed if elapsed > 0 else 0.0:.1f} frames/s)" + ("" if args.keep else ", then a blackout"))
    ignored = getattr(output, "frames_ignored", 0)
    if ignored:
        print(f"luma: {ignored} frames were for another universe than the output plays", file=sys.stderr)
    return 0


# ---------------------------------------------------------------- parser


def add_commands(subparsers) -> None:
    """Add ``outputs`` to the ``luma`` sub-parsers."""
    p = subparsers.add_parser("outputs", help="DMX outputs: list USB interfaces, send a test pattern")
    actions = p.add_subparsers(dest="outputs_action", metavar="ACTION")
    actions.required = True
    pl = actions.add_parser("list", help="list the FTDI USB DMX interfaces (Enttec Open DMX USB, DMX USB Pro)")
    pl.set_defaults(func=cmd_outputs_list)
    pt = actions.add_parser("test", help="send a test pattern to an output")
    pt.add_argument("url", metavar="URL",
                    help="e.g. enttec-open://SERIAL, enttec-pro://0, artnet://HOST, sacn://HOST, file:///tmp/t.dmxrec")
    pt.add_argument("--universe", type=int, default=None, metavar="N",
                    help="show universe to send (default: the one the URL names, else 1)")
    pt.add_argument("--seconds", type=float, default=5.0, metavar="S", help="how long (default 5)")
    pt.add_argument("--pattern", choices=("chase", "full"), default="chase",
                    help="chase: one channel at full at a time (default); full: every channel at full")
    pt.add_argument("--channels", type=int, default=512, metavar="N", help="only the first N channels (default 512)")
    pt.add_argument("--keep", action="store_true", help="leave the last frame on instead of a blackout")
    pt.set_defaults(func=cmd_outputs_test)
