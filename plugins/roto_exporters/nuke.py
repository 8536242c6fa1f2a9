"""Nuke script (``.nk``): a Root with the shot's format and frame range, and one Roto node holding the shapes.

Open it with File > Open (or paste its text into the node graph): the Roto
node draws every track as an animated Bezier shape on the frames it was keyed.

What is written (Nuke 7+ ``curves`` serialisation, as Nuke itself writes it):

* ``Root``: ``format "W H 0 0 W H 1 name"``, ``first_frame``/``last_frame``
  (the keyed range mapped to Nuke frames) and ``fps``;
* ``Roto``: ``output alpha``, the same ``format``, and the ``curves`` knob:
  ``{{{v x3f99999a} {f 0} {n {layer Root ... {curvegroup ...} ...}}}}``.
  Each track is a ``{curvegroup <name> 512 bezier ...}`` (flag 512: renderable)
  with two ``{cc {f 8192} {px <frame> ...}}`` cubic curves (flag 8192:
  tangents relative to their point): the shape, then its feather. Each control
  point is three ``{x y}`` entries — left (incoming) tangent, centre, right
  (outgoing) tangent — tangents as offsets from the centre, exactly Luma's
  ``in``/``out`` handles. Numbers are IEEE-754 single-precision floats in
  Nuke's ``x`` + 8 hex digits notation (``x44800000`` = 1024); a bare ``0`` is
  zero.
* Animation: a value keyed once is written as a plain number; a value keyed on
  several frames is an animation curve ``{{frame value} {frame value} ...}``
  (one ``{time value}`` pair per key, as in the layer transforms Nuke writes),
  so a control point becomes ``{{{f1 x1} {f2 x2}} {{f1 y1} {f2 y2}}}``. The
  interpolation between keys is Nuke's default for roto keys (smooth); on the
  keyed frames the shape is exact.

Conventions:

* **frames**: source frame ``f`` (0-based) is Nuke frame ``f + first_frame``;
  ``first_frame`` defaults to **1** (a sequence's first frame in Nuke);
* **coordinates**: Nuke's format space is pixels with the origin at the
  **bottom-left** and ``y`` **up**, so a Luma point ``(x, y)`` is written as
  ``(x, H - y)`` and a tangent ``(dx, dy)`` as ``(dx, -dy)``; the image is the
  rectangle ``[0, W] x [0, H]`` in both, so nothing else moves;
* **order**: Nuke lists the shape drawn on top first, so the tracks are written
  in reverse: Luma's last track (typically a ``subtract`` hole) ends up above
  the shapes it cuts;
* **mode**: ``add`` shapes use the default blending (over); ``subtract`` shapes
  get blending mode 12 (the value Nuke stores for its subtracting mode), so they
  cut their area out of the shapes listed below them;
* **feather**: a Nuke shape has one feather curve, stored as per-point offsets
  from the shape's points; the matte fades from the shape edge to that curve.
  Luma's outer feather ``o`` becomes feather points ``o`` px out along each
  vertex's outward normal (tangents unchanged); when a track has only an inner
  feather ``i`` the feather points go ``i`` px inwards instead (Nuke then fades
  inside the edge). When both are set, the inner part is not representable on
  top of the outer one and only ``o`` is written (the header comment says so).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from core.vision.roto_model import RotoAnimation, SplineTrack
from plugins.roto_exporters.common import (check_animation, flip_y, flip_y_offsets, fmt_num, map_frames,
                                           outward_normals, output_path, resolve_first_frame,
                                           safe_identifier, unique_names, write_text_atomic)

__all__ = ["NukeExporter", "nuke_script", "nuke_float", "DEFAULT_FIRST_FRAME"]

DEFAULT_FIRST_FRAME = 1
_BLEND_SUBTRACT = 12.0
_GROUP_FLAGS = 512  # renderable
_CURVE_FLAGS = 8192  # tangents relative to their control point
_TOOL_BEZIER = 4.0


def nuke_float(value: float) -> str:
    """``value`` as Nuke writes floats in roto curves: ``0`` or ``x`` + the 8 hex digits of its float32 bits."""
    f32 = struct.unpack(">f", struct.pack(">f", float(value)))[0]
    if f32 == 0.0:
        return "0"
    return "x" + struct.pack(">f", f32).hex()


def _tcl_quote(text: str) -> str:
    """A double-quoted Tcl word that reads back as ``text`` (for labels)."""
    out = []
    for ch in str(text):
        if ch in '\\"[]${}':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32:
            continue
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _value(times: list[str], values: np.ndarray) -> str:
    """One coordinate: a plain number when keyed once, else ``{{t v} {t v} ...}``."""
    if len(times) == 1:
        return nuke_float(values[0])
    return "{" + " ".join(f"{{{t} {nuke_float(v)}}}" for t, v in zip(times, values)) + "}"


def _point(times: list[str], xy: np.ndarray) -> str:
    """``xy`` is (K, 2): one point over the K keys."""
    return "{" + _value(times, xy[:, 0]) + " " + _value(times, xy[:, 1]) + "}"


def _feather_distance(track: SplineTrack) -> float:
    """Signed feather distance along the outward normal (see the module docstring)."""
    if track.feather_outer > 0:
        return float(track.feather_outer)
    if track.feather_inner > 0:
        return -float(track.feather_inner)
    return 0.0


def _curve(times: list[str], left: np.ndarray, centre: np.ndarray, right: np.ndarray, indent: str) -> str:
    """One ``{cc ...}``: arrays are (K, N, 2) in Nuke's axes."""
    lines = [f"{indent}{{cc", f"{indent} {{f {_CURVE_FLAGS}}}", f"{indent} {{px {times[0]}"]
    for k in range(centre.shape[1]):
        for arr in (left, centre, right):
            lines.append(f"{indent}  {_point(times, arr[:, k, :])}")
    lines[-1] += "}}"
    return "\n".join(lines)


def _curvegroup(track: SplineTrack, name: str, height: int, width: int, first_frame: int) -> str:
    times = [nuke_float(f) for f in map_frames(track.frames, first_frame)]
    centre = flip_y(track.vertices, height)
    left = flip_y_offsets(track.in_tangents)
    right = flip_y_offsets(track.out_tangents)
    dist = _feather_distance(track)
    if dist:
        normals = np.stack([outward_normals(track.vertices[k], track.in_tangents[k], track.out_tangents[k])
                            for k in range(len(track.frames))])
        feather = flip_y_offsets(normals * dist)
    else:
        feather = np.zeros_like(centre)
    first = centre[0]
    attrs = [f"str 1 spx {nuke_float(width / 2)} spy {nuke_float(height / 2)} sb 1 tt {nuke_float(_TOOL_BEZIER)}"]
    if track.mode == "subtract":
        attrs.append(f"bm {nuke_float(_BLEND_SUBTRACT)}")
    ind = "     "
    shape = _curve(times, left, centre, right, ind + " ")
    soft = _curve(times, left, feather, right, ind + " ")
    return "\n".join([
        f"    {{curvegroup {name} {_GROUP_FLAGS} bezier",
        f"{ind}{{" + shape.lstrip(),
        soft + "}",
        f"{ind}{{tx {times[0]} {nuke_float(first[:, 0].mean())} {nuke_float(first[:, 1].mean())}}}",
        f"{ind}{{a {' '.join(attrs)}}}}}",
    ])


def _format_knob(animation: RotoAnimation, fmt_name: str) -> str:
    w, h = int(animation.width), int(animation.height)
    return f'"{w} {h} 0 0 {w} {h} 1 {fmt_name}"'


def nuke_script(animation: RotoAnimation, first_frame: int = DEFAULT_FIRST_FRAME) -> str:
    """The whole ``.nk`` text for ``animation`` (see the module docstring)."""
    w, h = int(animation.width), int(animation.height)
    start, end = animation.frame_range()
    first, last = start + first_frame, end + first_frame
    fmt_name = safe_identifier(f"luma_{w}x{h}", "luma_format")
    node_name = "Roto_" + safe_identifier(animation.name, "luma")
    names = unique_names([t.name for t in animation.tracks])
    notes = []
    for track, name in zip(animation.tracks, names):
        if track.feather_outer > 0 and track.feather_inner > 0:
            notes.append(f"# {name}: inner feather {fmt_num(track.feather_inner)} px not written "
                         f"(Nuke has one feather curve; outer {fmt_num(track.feather_outer)} px kept)")
    groups = [_curvegroup(t, n, h, w, first_frame)
              for t, n in reversed(list(zip(animation.tracks, names)))]
    fmt = _format_knob(animation, fmt_name)
    fps = fmt_num(float(animation.rate), 8)
    source = str(animation.source).replace("\n", " ")
    lines = [
        "#! nuke -nx",
        f"# Luma Studio roto shapes: {str(animation.name).replace(chr(10), ' ')}"
        + (f" (source {source})" if source else ""),
        f"# {w}x{h} at {animation.rate.numerator}/{animation.rate.denominator} fps; source frame 0 = Nuke frame "
        f"{first_frame}; Nuke format space: origin bottom-left, y up",
        *notes,
        "version 9.0 v1",
        "Root {",
        " inputs 0",
        f" frame {first}",
        f" first_frame {first}",
        f" last_frame {last}",
        f" fps {fps}",
        f" format {fmt}",
        "}",
        "Roto {",
        " inputs 0",
        " output alpha",
        " cliptype none",
        f" format {fmt}",
        " curves {{{v x3f99999a}",
        "  {f 0}",
        "  {n",
        "   {layer Root",
        "    {f 2097152}",
        f"    {{t {nuke_float(w / 2)} {nuke_float(h / 2)}}}",
        "    {a}",
        *groups,
    ]
    lines[-1] += "}}}}"
    lines += [
        " toolbox {createBezier {",
        "  { createBezier str 1 ssx 1 ssy 1 sf 1 sb 1 tt 4 }",
        "} }",
        f" name {node_name}",
        f" label {_tcl_quote(animation.name)}",
        " selected true",
        " xpos 0",
        " ypos 0",
        "}",
        "",
    ]
    return "\n".join(lines)


class NukeExporter:
    """:class:`core.vision.roto_export.ShapeExporter` for Nuke (see the module docstring)."""

    name = "nuke"
    title = "Nuke script (.nk) with a Roto node"
    extension = ".nk"
    default_first_frame = DEFAULT_FIRST_FRAME

    def export(self, animation: RotoAnimation, path: Path, *, first_frame: int | None = None) -> list[Path]:
        check_animation(animation, self.name)
        ff = resolve_first_frame(first_frame, DEFAULT_FIRST_FRAME)
        target = output_path(path, self.extension, animation.name)
        write_text_atomic(target, nuke_script(animation, ff))
        return [target]
