"""The DMX output protocol and the URL registry that picks an implementation.

An output carries one or more DMX universes to somewhere outside the program:
an Art-Net node, an sACN receiver, an Enttec USB interface, a recording file.
Every implementation has the same small surface:

* ``open()`` acquires the socket / device / file; it raises
  :class:`OutputUnavailable` when the other end is not there (unplugged
  interface, unresolvable host) so the sender can retry later;
* ``send(universe, frame)`` puts one 512-byte frame (``bytes`` or a uint8
  array of 512 values) for ``universe`` on the wire; an I/O failure raises
  :class:`OutputDisconnected`;
* ``end_tick()`` is called once after all universes of a tick were sent (Art-Net
  uses it for ArtSync, the recorder to flush);
* ``close()`` releases everything; it is safe to call twice.

``universe`` is the universe number of the show (1-based, as the patch counts
them). Each URL may remap it (``artnet://host?universe=3`` sends show universe
``u`` as port-address ``3 + u - first``); the sender decides which show
universes go to which output.

Implementations register a URL scheme with :func:`register_scheme`;
:func:`open_output` parses a URL and builds the output (not yet opened).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, Protocol, runtime_checkable
from urllib.parse import parse_qs, urlsplit

import numpy as np

from core.errors import LumaError

UNIVERSE_SIZE = 512


class OutputError(LumaError):
    """An output URL is malformed or names something that cannot work."""


class OutputUnavailable(OutputError):
    """The device or host of an output cannot be reached right now (retry later)."""


class OutputDisconnected(OutputError):
    """An output that was working failed while sending (unplugged, network gone)."""


def as_frame(frame) -> bytes:
    """512 DMX slot values as bytes; shorter input is padded with zeros."""
    if isinstance(frame, (bytes, bytearray, memoryview)):
        data = bytes(frame)
    else:
        arr = np.asarray(frame)
        if arr.dtype != np.uint8:
            if arr.size and (arr.min() < 0 or arr.max() > 255):
                raise OutputError("DMX values must be between 0 and 255")
            arr = arr.astype(np.uint8)
        data = arr.tobytes()
    if len(data) > UNIVERSE_SIZE:
        raise OutputError(f"a DMX frame has at most {UNIVERSE_SIZE} slots, got {len(data)}")
    if len(data) < UNIVERSE_SIZE:
        data = data + bytes(UNIVERSE_SIZE - len(data))
    return data


@runtime_checkable
class Output(Protocol):
    url: str
    max_rate: float | None  # frames per second the medium can carry (None: no limit)
    max_universes: int | None  # how many universes one output carries (None: any)

    def open(self) -> None: ...

    def send(self, universe: int, frame) -> None: ...

    def end_tick(self) -> None: ...

    def close(self) -> None: ...


@dataclass
class OutputContext:
    """What an output may need from the project: the sACN CID and source name."""

    cid: bytes = field(default_factory=lambda: bytes(16))
    source_name: str = "Luma Studio"


@dataclass(frozen=True)
class ParsedUrl:
    scheme: str
    host: str
    port: int | None
    path: str
    query: dict[str, str]
    url: str

    def int_param(self, name: str, default: int, lo: int, hi: int) -> int:
        text = self.query.get(name)
        if text is None or text == "":
            return default
        try:
            value = int(text, 0)
        except ValueError:
            raise OutputError(f"{self.url}: {name}={text!r} is not a whole number") from None
        if not lo <= value <= hi:
            raise OutputError(f"{self.url}: {name} must be between {lo} and {hi}, got {value}")
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        text = self.query.get(name)
        if text is None:
            return default
        if text.lower() in ("1", "true", "yes", "on", ""):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise OutputError(f"{self.url}: {name}={text!r} should be 1 or 0")


def parse_url(url: str) -> ParsedUrl:
    parts = urlsplit(url)
    if not parts.scheme:
        raise OutputError(f"{url!r} is not an output URL; use e.g. artnet://127.0.0.1, sacn://HOST, "
                          "enttec-pro://0, enttec-open://SERIAL or file:///path/show.dmxrec")
    query: dict[str, str] = {}
    for key, values in parse_qs(parts.query, keep_blank_values=True).items():
        query[key] = values[-1]
    try:
        port = parts.port
    except ValueError:
        raise OutputError(f"{url}: the port is not a number between 0 and 65535") from None
    return ParsedUrl(parts.scheme.lower(), parts.hostname or "", port, parts.path, query, url)


_SCHEMES: dict[str, Callable[[ParsedUrl, OutputContext], Output]] = {}
_lock = threading.Lock()
_builtin_loaded = False


def register_scheme(scheme: str, factory: Callable[[ParsedUrl, OutputContext], Output]) -> None:
    with _lock:
        _SCHEMES[scheme.lower()] = factory


def _load_builtin() -> None:
    global _builtin_loaded
    if _builtin_loaded:
        return
    # importing a module registers its schemes
    from core.output import artnet, filerec, ftdi, sacn  # noqa: F401

    _builtin_loaded = True


def schemes() -> list[str]:
    _load_builtin()
    with _lock:
        return sorted(_SCHEMES)


def open_output(url: str, context: OutputContext | None = None) -> Output:
    """Build the output a URL names (not opened yet)."""
    _load_builtin()
    parsed = parse_url(url)
    with _lock:
        factory = _SCHEMES.get(parsed.scheme)
    if factory is None:
        raise OutputError(f"{url}: unknown output type {parsed.scheme!r}; known: {', '.join(schemes())}")
    return factory(parsed, context or OutputContext())
