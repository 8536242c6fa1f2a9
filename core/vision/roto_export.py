"""Roto exports: matte image sequences (PNG, EXR) here in core, animated shapes through exporter plugins.

Two kinds of exporter, both in :data:`core.plugins.registry`:

* kind ``"roto-matte"`` — writes one image per frame from the object's
  mattes: ``png`` (8-bit grey, 0/255 with soft edges) and ``exr`` (32-bit
  float, one ``A`` channel plus ``R``/``G``/``B`` copies so any viewer shows
  it). Files are named ``<stem>.<frame>.<ext>`` with the frame number
  zero-padded to 4 digits (``matte.0001.png``); frame numbers are the source
  frame plus ``first_frame`` (default 1, the first frame of a sequence in most
  compositors).
* kind ``"roto-shapes"`` — an :class:`ShapeExporter` writes a
  :class:`~core.vision.roto_model.RotoAnimation` in a third-party format
  (``nuke``, ``silhouette``, ``aftereffects``, ``fusion``, ``blender``,
  ``json``); the implementations live in ``plugins/roto_exporters`` and
  register like any third party's plugin would.

:func:`export_roto` is the one entry point the CLI and the GUI use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, runtime_checkable

import cv2
import numpy as np

from core.plugins import PluginError, registry
from core.vision.roto_model import RotoAnimation
from core.vision.types import VisionError

__all__ = ["ShapeExporter", "MatteSource", "export_roto", "export_formats", "write_png_sequence",
           "write_exr_sequence", "sequence_path"]

Progress = Callable[[float, str], None]


@runtime_checkable
class ShapeExporter(Protocol):
    name: str  # registry name, e.g. "nuke"
    extension: str  # default file extension, e.g. ".nk"

    def export(self, animation: RotoAnimation, path: Path, *, first_frame: int | None = None) -> list[Path]:
        """Write ``animation`` to ``path``; returns the files written. ``first_frame`` maps source frame 0
        to that frame number in the application (None: the exporter's documented default)."""
        ...


@dataclass
class MatteSource:
    """The frames to write as a matte sequence: ``frames`` and ``matte(frame) -> uint8 [H, W]``."""

    frames: list[int]
    matte: Callable[[int], np.ndarray]
    width: int
    height: int


def sequence_path(path: Path, frame_number: int, ext: str) -> Path:
    """``path`` is a folder (files ``matte.NNNN.ext`` in it) or a pattern with ``####`` / ``%04d``."""
    path = Path(path)
    name = path.name
    if "#" in name:
        start = name.index("#")
        end = start
        while end < len(name) and name[end] == "#":
            end += 1
        return path.with_name(name[:start] + f"{frame_number:0{end - start}d}" + name[end:])
    if "%" in name:
        try:
            return path.with_name(name % frame_number)
        except (TypeError, ValueError):
            raise VisionError(f"{name}: the frame pattern must look like matte.%04d{ext}") from None
    return path / f"matte.{frame_number:04d}{ext}"


def _prepare_folder(first: Path) -> None:
    try:
        first.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VisionError(f"cannot create the folder {first.parent}: {exc.strerror or exc}") from None


def _write_atomic(path: Path, data: bytes) -> None:
    part = path.with_name(path.name + ".part")
    try:
        part.write_bytes(data)
        os.replace(part, path)
    except OSError as exc:
        raise VisionError(f"cannot write {path}: {exc.strerror or exc}") from None


def _checked(matte: np.ndarray, src: MatteSource, frame: int) -> np.ndarray:
    m = np.asarray(matte)
    if m.shape != (src.height, src.width) or m.dtype != np.uint8:
        raise VisionError(f"frame {frame}: matte is {m.shape} {m.dtype}, expected ({src.height}, {src.width}) uint8")
    return m


def write_png_sequence(src: MatteSource, path: Path, first_frame: int = 1,
                       progress: Progress | None = None) -> list[Path]:
    """8-bit grey PNGs, one per frame (soft edges kept)."""
    out = []
    for i, frame in enumerate(src.frames):
        target = sequence_path(path, frame + first_frame, ".png")
        if i == 0:
            _prepare_folder(target)
        ok, buf = cv2.imencode(".png", _checked(src.matte(frame), src, frame), [cv2.IMWRITE_PNG_COMPRESSION, 3])
        if not ok:
            raise VisionError(f"cannot encode frame {frame} as PNG")
        _write_atomic(target, buf.tobytes())
        out.append(target)
        if progress:
            progress((i + 1) / len(src.frames), f"frame {frame}")
    return out


def write_exr_sequence(src: MatteSource, path: Path, first_frame: int = 1,
                       progress: Progress | None = None) -> list[Path]:
    """32-bit float EXRs (ZIP compressed, scanline), channels A, R, G, B all holding the matte in 0..1.

    The display window is the whole frame; the data window is the matte's
    bounding box (EXR readers treat pixels outside it as 0, as Nuke does with
    its bbox), which keeps files small and writing fast.
    """
    try:
        import OpenEXR
    except ImportError:
        raise VisionError("EXR export needs the OpenEXR package: pip install OpenEXR") from None
    out = []
    display = (np.array([0, 0], np.int32), np.array([src.width - 1, src.height - 1], np.int32))
    for i, frame in enumerate(src.frames):
        target = sequence_path(path, frame + first_frame, ".exr")
        if i == 0:
            _prepare_folder(target)
        m = _checked(src.matte(frame), src, frame)
        rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
        if len(rows):
            y0, y1, x0, x1 = int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
        else:
            y0 = y1 = x0 = x1 = 0
        a = m[y0:y1 + 1, x0:x1 + 1].astype(np.float32) * np.float32(1 / 255)
        header = {"compression": OpenEXR.ZIP_COMPRESSION, "type": OpenEXR.scanlineimage,
                  "displayWindow": display,
                  "dataWindow": (np.array([x0, y0], np.int32), np.array([x1, y1], np.int32))}
        part = target.with_name(target.name + ".part")
        try:
            with OpenEXR.File(header, {"A": a, "R": a, "G": a, "B": a}) as f:
                f.write(str(part))
            os.replace(part, target)
        except OSError as exc:
            raise VisionError(f"cannot write {target}: {exc.strerror or exc}") from None
        out.append(target)
        if progress:
            progress((i + 1) / len(src.frames), f"frame {frame}")
    return out


def _register() -> None:
    registry.add("roto-matte", "png", write_png_sequence, "PNG matte sequence (8-bit)")
    registry.add("roto-matte", "exr", write_exr_sequence, "OpenEXR matte sequence (32-bit float)", _exr_available)


def _exr_available() -> str | None:
    try:
        import OpenEXR  # noqa: F401
    except ImportError:
        return "the OpenEXR Python package is not installed"
    return None


_register()


def export_formats() -> list[tuple[str, str, str | None]]:
    """(name, title, why unavailable or None) of every matte and shape format."""
    return [(e.name, e.title, e.available()) for kind in ("roto-matte", "roto-shapes") for e in registry.entries(kind)]


def export_roto(fmt: str, path: Path, *, animation: Callable[[], RotoAnimation] | RotoAnimation | None = None,
                mattes: MatteSource | None = None, first_frame: int | None = None,
                progress: Progress | None = None) -> list[Path]:
    """Write format ``fmt`` to ``path``: matte formats read ``mattes``, shape formats ``animation``
    (a callable is only called for shape formats, so mattes never pay for shape fitting)."""
    fmt = str(fmt).lower()
    names = {name for name, _, _ in export_formats()}
    if fmt not in names:
        raise VisionError(f"unknown roto export format {fmt!r} (known: {', '.join(sorted(names))})")
    try:
        entry = registry.get("roto-matte", fmt)
    except PluginError:
        entry = None
    if entry is not None:
        if mattes is None:
            raise VisionError(f"{fmt}: no mattes to write")
        why = entry.available()
        if why:
            raise VisionError(f"{fmt} export cannot run: {why}")
        return entry.factory(mattes, Path(path), first_frame=1 if first_frame is None else first_frame,
                             progress=progress)
    exporter: ShapeExporter = registry.create("roto-shapes", fmt)
    anim = animation() if callable(animation) else animation
    if anim is None:
        raise VisionError(f"{fmt}: no shapes to write")
    if not anim.tracks:
        raise VisionError(f"{anim.name}: the object has no shapes to export (segment and propagate it first)")
    files = exporter.export(anim, Path(path), first_frame=first_frame)
    if progress:
        progress(1.0, f"wrote {len(files)} file(s)")
    return files

