"""A DMX output that records every frame to a file (for tests, and to check a show offline).

URL: ``file:///absolute/path/show.dmxrec`` (also ``file://localhost/...``),
``file:relative/path.dmxrec`` (relative to the current folder) or
``file:~/show.dmxrec``. The path is percent-decoded, so a ``?`` or ``#`` in a
file name must be written ``%3F`` / ``%23``. ``file://folder/x`` (a host part)
is refused. An existing file is overwritten when the output opens.

File format (little-endian)::

    magic    8 bytes  b"LUMADMX1"
    records  until the end of the file, 524 bytes each:
             time      float64  seconds (see below)
             universe  uint16   the show universe
             length    uint16   number of slots, always 512
             data      512 bytes

``send()`` stamps a record with the recorder's clock (``time.monotonic`` by
default) minus its value at ``open()``, or with the clock's own reading when
the URL says ``?stamp=monotonic`` (to line a recording up with other logs of
the same machine, as the sync tests do); with ``?stamp=show`` the sender files
each frame under the show time it was rendered for (to compare a recording
with the show offline); ``send_at()`` takes the stamp from the
caller (e.g. the show time). Records are buffered; ``end_tick()`` flushes them.

:func:`load_recording` reads a file into numpy arrays in one go,
:func:`read_recording` into a list of :class:`Record`. A file that ends in the
middle of a record (the recorder was killed) raises :class:`OutputError`
saying how many records are complete; ``allow_truncated=True`` returns those.
"""

from __future__ import annotations

import math
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

import numpy as np

from core.output.base import (
    UNIVERSE_SIZE,
    OutputContext,
    OutputDisconnected,
    OutputError,
    OutputUnavailable,
    ParsedUrl,
    as_frame,
    register_scheme,
)

MAGIC = b"LUMADMX1"
RECORD_HEADER = struct.Struct("<dHH")
RECORD_DTYPE = np.dtype([("time", "<f8"), ("universe", "<u2"), ("length", "<u2"), ("data", "u1", (UNIVERSE_SIZE,))])
RECORD_SIZE = RECORD_DTYPE.itemsize  # 524
assert RECORD_SIZE == RECORD_HEADER.size + UNIVERSE_SIZE


def path_from_url(parsed: ParsedUrl) -> Path:
    parts = urlsplit(parsed.url)
    if parts.netloc not in ("", "localhost"):
        raise OutputError(f"{parsed.url}: use file:///absolute/path.dmxrec or file:relative/path.dmxrec "
                          f"(the part after file:// is read as a host: {parts.netloc!r})")
    unknown = set(parsed.query) - {"stamp"}
    if unknown:
        raise OutputError(f"{parsed.url}: file:// takes only stamp=open|monotonic|show, not {', '.join(sorted(unknown))} "
                          "(write ? in a file name as %3F)")
    text = unquote(parts.path)
    if not text:
        raise OutputError(f"{parsed.url}: the file name is missing, e.g. file:///tmp/show.dmxrec")
    return Path(text).expanduser()


class FileRecorder:
    """Writes every frame sent to it to a ``.dmxrec`` file."""

    max_rate: float | None = None
    max_universes: int | None = None

    def __init__(self, path: str | os.PathLike, clock: Callable[[], float] = time.monotonic, url: str | None = None,
                 stamp: str = "open"):
        if stamp not in ("open", "monotonic", "show"):
            raise OutputError(f"{url or path}: stamp must be 'open' (seconds since the recording started), "
                              f"'monotonic' (the machine's monotonic clock) or 'show' (the show time each "
                              f"frame is for), not {stamp!r}")
        self.path = Path(path)
        self.url = url or f"file://{self.path.absolute()}"
        self.clock = clock
        self.stamp = stamp
        self.wants_show_time = stamp == "show"  # the sender then calls send_at with the show time
        self.t0 = 0.0
        self._file = None

    @classmethod
    def from_url(cls, parsed: ParsedUrl, context: OutputContext | None = None) -> "FileRecorder":
        return cls(path_from_url(parsed), url=parsed.url, stamp=parsed.query.get("stamp", "open"))

    def open(self) -> None:
        if self._file is not None:
            return
        folder = self.path.parent
        if not folder.is_dir():
            raise OutputUnavailable(f"{self.url}: the folder {folder} does not exist; create it or pick another file")
        if self.path.is_dir():
            raise OutputError(f"{self.url}: {self.path} is a folder; give a file name, "
                              f"e.g. {self.path / 'show.dmxrec'}")
        try:
            f = open(self.path, "wb")
        except OSError as exc:
            raise OutputUnavailable(f"{self.url}: cannot write {self.path} ({exc.strerror or exc})") from None
        try:
            f.write(MAGIC)
        except OSError as exc:
            f.close()
            raise OutputUnavailable(f"{self.url}: cannot write {self.path} ({exc.strerror or exc})") from None
        self._file = f
        self.t0 = self.clock() if self.stamp == "open" else 0.0

    def send(self, universe: int, frame) -> None:
        """Record ``frame`` stamped with the recorder's clock (seconds since ``open()``)."""
        self.send_at(universe, frame, self.clock() - self.t0)

    def send_at(self, universe: int, frame, stamp: float) -> None:
        """Record ``frame`` stamped with ``stamp`` (seconds, e.g. the show time)."""
        if not 1 <= universe <= 0xFFFF:
            raise OutputError(f"{self.url}: universe {universe} is outside 1..65535")
        stamp = float(stamp)
        if not math.isfinite(stamp):
            raise OutputError(f"{self.url}: the time stamp must be a finite number, got {stamp}")
        data = as_frame(frame)
        if self._file is None:
            raise OutputError(f"{self.url}: the output is not open")
        try:
            self._file.write(RECORD_HEADER.pack(stamp, universe, UNIVERSE_SIZE) + data)
        except OSError as exc:
            raise OutputDisconnected(f"{self.url}: writing {self.path} failed ({exc.strerror or exc})") from None

    def end_tick(self) -> None:
        if self._file is None:
            return
        try:
            self._file.flush()
        except OSError as exc:
            raise OutputDisconnected(f"{self.url}: writing {self.path} failed ({exc.strerror or exc})") from None

    def close(self) -> None:
        f, self._file = self._file, None
        if f is None:
            return
        try:
            f.close()
        except OSError as exc:
            raise OutputDisconnected(f"{self.url}: writing {self.path} failed ({exc.strerror or exc})") from None

    def __repr__(self) -> str:
        return f"FileRecorder({str(self.path)!r})"


# ------------------------------------------------------------------ reading


@dataclass(frozen=True, slots=True)
class Record:
    time: float
    universe: int
    data: bytes


def load_recording(path: str | os.PathLike, allow_truncated: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(times float64[N], universes uint16[N], data uint8[N, 512])`` of a recording."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            magic = f.read(len(MAGIC))
    except FileNotFoundError:
        raise OutputError(f"{path}: no such recording") from None
    except OSError as exc:
        raise OutputError(f"{path}: cannot read the recording ({exc.strerror or exc})") from None
    if magic != MAGIC:
        raise OutputError(f"{path} is not a Luma DMX recording (it does not start with {MAGIC.decode()})")
    count, extra = divmod(size - len(MAGIC), RECORD_SIZE)
    if extra and not allow_truncated:
        raise OutputError(f"{path}: the recording ends with an incomplete record ({extra} of {RECORD_SIZE} bytes) "
                          f"after {count} complete ones; it was probably cut off while recording")
    try:
        records = np.fromfile(path, dtype=RECORD_DTYPE, count=count, offset=len(MAGIC))
    except OSError as exc:
        raise OutputError(f"{path}: cannot read the recording ({exc.strerror or exc})") from None
    if len(records) != count:
        raise OutputError(f"{path}: the recording changed while it was read")
    bad = np.flatnonzero(records["length"] != UNIVERSE_SIZE)
    if bad.size:
        i = int(bad[0])
        raise OutputError(f"{path}: record {i} says it has {int(records['length'][i])} slots, not {UNIVERSE_SIZE}; "
                          "the file is damaged")
    bad = np.flatnonzero(~np.isfinite(records["time"]))
    if bad.size:
        raise OutputError(f"{path}: record {int(bad[0])} has no valid time stamp; the file is damaged")
    return (np.ascontiguousarray(records["time"]), np.ascontiguousarray(records["universe"]),
            np.ascontiguousarray(records["data"]))


def read_recording(path: str | os.PathLike, allow_truncated: bool = False) -> list[Record]:
    """The records of a recording, in the order they were written."""
    times, universes, data = load_recording(path, allow_truncated)
    return [Record(float(t), int(u), d.tobytes()) for t, u, d in zip(times, universes, data)]


register_scheme("file", FileRecorder.from_url)
