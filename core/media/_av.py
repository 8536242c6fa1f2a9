"""Shared PyAV plumbing: open files, turn every av.error into a MediaError.

Nothing outside ``core.media`` should ever see an ``av.error.*`` exception;
every call into PyAV that can fail goes through :func:`av_errors` or
:func:`open_input`.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Union

import av

from core.errors import MediaError

log = logging.getLogger("core.media")

PathLike = Union[str, "os.PathLike[str]"]


def display_name(path: PathLike) -> str:
    """The name a user recognises: the file name (or the whole path if it has none)."""
    p = Path(path)
    return p.name or str(p)


def reason(exc: BaseException) -> str:
    """A short human reason from an av.error (its FFmpeg message) or any exception."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text).rstrip(".")


def check_file(path: PathLike) -> Path:
    """Return ``path`` as a Path if it is a readable, non-empty regular file."""
    p = Path(path)
    name = display_name(p)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise MediaError(f"{name}: file not found") from None
    except OSError as exc:
        raise MediaError(f"{name}: cannot read the file ({exc.strerror or exc})") from exc
    if p.is_dir():
        raise MediaError(f"{name}: is a folder, not a media file")
    if st.st_size == 0:
        raise MediaError(f"{name}: not a media file or corrupt (the file is empty)")
    if not os.access(p, os.R_OK):
        raise MediaError(f"{name}: cannot read the file (permission denied)")
    return p


@contextmanager
def av_errors(path: PathLike, action: str) -> Iterator[None]:
    """Re-raise av errors (and FFmpeg-level OS errors) as ``MediaError("name: action: reason")``."""
    try:
        yield
    except MediaError:
        raise
    except av.FFmpegError as exc:
        raise MediaError(f"{display_name(path)}: {action}: {reason(exc)}") from exc


def open_input(path: PathLike) -> "av.container.InputContainer":
    """Open a media file for reading; MediaError if missing, empty or not media."""
    p = check_file(path)
    try:
        return av.open(str(p), mode="r")
    except av.FFmpegError as exc:
        raise MediaError(f"{display_name(p)}: not a media file or corrupt ({reason(exc)})") from exc


def decode_packets(container, stream, path: PathLike) -> Iterator:
    """Decoded frames of ``stream``, like ``container.decode(stream)``, except that

    packets the demuxer itself flagged as corrupt (typically the cut-off last
    packet of a truncated file) are not decoded but skipped with a warning,
    like FFmpeg's ``-fflags discardcorrupt``: fed to a frame-threaded decoder
    they raise an error packets later, which would hide the frames before
    them. Decode errors on packets the demuxer thought intact propagate (av
    errors; the caller turns them into MediaError naming the frame).
    """
    for packet in container.demux(stream):
        if packet.is_corrupt and packet.size:
            log.warning("%s: skipped a damaged packet at pts %s", display_name(path), packet.pts)
            continue
        yield from packet.decode()
