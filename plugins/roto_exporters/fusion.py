"""Fusion (Blackmagic Fusion / DaVinci Resolve's Fusion page): Polygon masks in Fusion's Lua-table format.

What is written
---------------

* ``<name>.setting`` — what Fusion puts on the clipboard: ``{ Tools =
  ordered() { ... }, ActiveTool = "..." }``. Paste it into the Flow (or drop
  the file on it) and the masks appear, animated.
* for a path ending in ``.comp``: that ``.comp`` (a ``Composition { ... }``
  with the same tools, the frame range, the frame rate and the frame size
  in its preferences, openable with File > Open) **and** the ``.setting``
  beside it.

One ``PolylineMask`` (Fusion's *Polygon* tool) per track. Its ``Polyline``
input is driven by a ``BezierSpline`` modifier holding one keyframe per
keyed frame: ``[frame] = { index, Flags = { Linear = true, LockedY = true },
Value = Polyline { Closed = true, Points = { { X, Y, LX, LY, RX, RY }, ... } } }``
(the spline's value is the key's index, interpolated linearly between keys,
as Fusion itself writes an animated polyline). The masks are chained through
``EffectMask`` in track order; a ``subtract`` track uses ``PaintMode =
"Subtract"``, so the last mask (the .setting's ``ActiveTool``) outputs the object's matte.
Each mask has ``OutputSize = "Custom"`` with ``MaskWidth``/``MaskHeight`` set
to the source frame size and square pixels.

Conventions (looked up, not guessed)
------------------------------------

Fusion's image coordinates are normalised *per axis* — 1.0 is the full width
in x and the full height in y, origin at the bottom-left, y up (a "squashed"
system, as the Fuse SDK's coordinate-system chapter puts it). Polyline
points are offsets from the mask's ``Center`` (default ``(0.5, 0.5)``), so a
point of a full-frame polygon lies in ``-0.5 .. 0.5`` on both axes whatever
the aspect ratio; ``LX/LY`` (the handle towards the previous point) and
``RX/RY`` (towards the next point) are offsets from their point in the same
units. Conversion from Luma's pixels (origin top-left, y down)::

    X  = x / W - 0.5          Y  = 0.5 - y / H
    LX = in.x / W             LY = -in.y / H        (Luma in_tangent)
    RX = out.x / W            RY = -out.y / H       (Luma out_tangent)

Frames: a Fusion comp starts at frame 0 by default, so ``first_frame``
defaults to **0**: Fusion frame = source frame + ``first_frame``.

Feather: Fusion's soft edge is a blur centred on the edge, so Luma's inner
and outer feather become ``SoftEdge = (inner + outer) / W`` and
``BorderWidth = (outer - inner) / 2 / W`` (the soft zone re-centred) — an
approximation of Luma's one-sided feather, written only when non-zero.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from core.vision.roto_model import RotoAnimation, SplineTrack
from plugins.roto_exporters.common import check_animation, output_path, resolve_first_frame, write_text_atomic

__all__ = ["FusionExporter", "to_fusion_points", "DEFAULT_FIRST_FRAME"]

DEFAULT_FIRST_FRAME = 0


def to_fusion_points(vertices, in_tangents, out_tangents, width: int, height: int) -> np.ndarray:
    """(..., N, 6) array of ``X, Y, LX, LY, RX, RY`` for Luma pixel points and tangent offsets."""
    v = np.asarray(vertices, dtype=np.float64)
    i = np.asarray(in_tangents, dtype=np.float64)
    o = np.asarray(out_tangents, dtype=np.float64)
    w, h = float(width), float(height)
    return np.stack([v[..., 0] / w - 0.5, 0.5 - v[..., 1] / h,
                     i[..., 0] / w, -i[..., 1] / h,
                     o[..., 0] / w, -o[..., 1] / h], axis=-1)


def _num(value: float) -> str:
    """A Lua number: up to 12 significant digits and 10 decimals (1e-7 px on a 1000 px frame), no ``-0``."""
    text = f"{round(float(value), 10):.12g}"
    return "0" if text in ("-0", "0") else text


def _lua_string(text: str) -> str:
    out = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + "".join(c if c >= " " else f"\\{ord(c):03d}" for c in out) + '"'


def _identifier(text: str, used: set[str]) -> str:
    """A unique Fusion tool name (letters, digits, underscore; starting with a letter)."""
    base = re.sub(r"[^0-9A-Za-z_]+", "_", str(text)).strip("_") or "Roto"
    if not base[0].isalpha():
        base = "Roto_" + base
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base}_{n}"
    used.add(name)
    return name


def _points_block(points: np.ndarray, indent: str) -> str:
    return "".join(
        f"{indent}{{ X = {_num(p[0])}, Y = {_num(p[1])}, LX = {_num(p[2])}, LY = {_num(p[3])}, "
        f"RX = {_num(p[4])}, RY = {_num(p[5])} }},\n" for p in points)


def _spline_tool(name: str, track: SplineTrack, anim: RotoAnimation, offset: int, t: str) -> str:
    pts = to_fusion_points(track.vertices, track.in_tangents, track.out_tangents, anim.width, anim.height)
    frames = track.frames + offset
    lines = [f"{t}{name} = BezierSpline {{\n",
             f"{t}\tSplineColor = {{ Red = 173, Green = 255, Blue = 47 }},\n",
             f"{t}\tNameSet = true,\n",
             f"{t}\tKeyFrames = {{\n"]
    k = len(frames)
    for i, frame in enumerate(frames):
        handles = []
        if i > 0:  # left handle a third of the way back, on the straight line (linear interpolation)
            handles.append(f"LH = {{ {_num(frame - (frame - frames[i - 1]) / 3)}, {_num(i - 1 / 3)} }}")
        if i < k - 1:
            handles.append(f"RH = {{ {_num(frame + (frames[i + 1] - frame) / 3)}, {_num(i + 1 / 3)} }}")
        lines.append(f"{t}\t\t[{int(frame)}] = {{ {i}, " + "".join(h + ", " for h in handles)
                     + "Flags = { Linear = true, LockedY = true }, Value = Polyline {\n")
        lines.append(f"{t}\t\t\tClosed = true,\n{t}\t\t\tPoints = {{\n")
        lines.append(_points_block(pts[i], t + "\t\t\t\t"))
        lines.append(f"{t}\t\t\t}}\n{t}\t\t}} }},\n")
    lines.append(f"{t}\t}}\n{t}}},\n")
    return "".join(lines)


def _mask_tool(name: str, spline_name: str, previous: str | None, track: SplineTrack, anim: RotoAnimation,
               pos: tuple[float, float], t: str) -> str:
    w = float(anim.width)
    inputs = [
        f"Comments = Input {{ Value = {_lua_string(f'Luma Studio roto: {anim.name} / {track.name}')}, }}",
        'OutputSize = Input { Value = FuID { "Custom" }, }',
        "UseFrameFormatSettings = Input { Value = 0, }",
        f"MaskWidth = Input {{ Value = {int(anim.width)}, }}",
        f"MaskHeight = Input {{ Value = {int(anim.height)}, }}",
        "PixelAspect = Input { Value = { 1, 1 }, }",
        'ClippingMode = Input { Value = FuID { "None" }, }',
    ]
    if track.feather_inner > 0 or track.feather_outer > 0:
        inputs.append(f"SoftEdge = Input {{ Value = {_num((track.feather_inner + track.feather_outer) / w)}, }}")
        inputs.append(
            f"BorderWidth = Input {{ Value = {_num((track.feather_outer - track.feather_inner) / 2 / w)}, }}")
    if track.mode == "subtract":
        inputs.append('PaintMode = Input { Value = FuID { "Subtract" }, }')
    if previous is not None:
        inputs.append(f'EffectMask = Input {{ SourceOp = "{previous}", Source = "Mask", }}')
    inputs.append(f'Polyline = Input {{ SourceOp = "{spline_name}", Source = "Value", }}')
    inputs.append("Polyline2 = Input { Value = Polyline { }, Disabled = true, }")
    body = "".join(f"{t}\t\t{line},\n" for line in inputs)
    return (f"{t}{name} = PolylineMask {{\n"
            f'{t}\tDrawMode = "ModifyOnly",\n{t}\tDrawMode2 = "InsertAndModify",\n'
            f"{t}\tNameSet = true,\n"
            f"{t}\tInputs = {{\n{body}{t}\t}},\n"
            f"{t}\tViewInfo = OperatorInfo {{ Pos = {{ {_num(pos[0])}, {_num(pos[1])} }} }},\n"
            f"{t}}},\n")


def _tools(anim: RotoAnimation, offset: int, t: str) -> tuple[str, str]:
    """The tool entries (masks and their splines) and the name of the last mask."""
    used: set[str] = set()
    parts = []
    previous = None
    object_name = _identifier(anim.name, set())
    for i, track in enumerate(anim.tracks):
        name = _identifier(f"{object_name}_{track.name}", used)
        spline = _identifier(f"{name}Polyline", used)
        parts.append(_mask_tool(name, spline, previous, track, anim, (110.0 * i, 0.0), t))
        parts.append(_spline_tool(spline, track, anim, offset, t))
        previous = name
    return "".join(parts), previous or ""


class FusionExporter:
    """Fusion Polygon masks (.setting, and .comp for a path ending in .comp); see the module docstring."""

    name = "fusion"
    title = "Fusion Polygon mask (.setting / .comp)"
    extension = ".setting"

    def export(self, animation: RotoAnimation, path: Path, *, first_frame: int | None = None) -> list[Path]:
        anim = animation
        check_animation(anim, self.name)
        offset = resolve_first_frame(first_frame, DEFAULT_FIRST_FRAME)
        path = output_path(path, ".setting", _identifier(anim.name, set()))
        tools, active = _tools(anim, offset, "\t\t")
        if path.suffix.lower() != ".comp":
            return [write_text_atomic(path, self.setting_text(tools, active))]
        return [write_text_atomic(path, self.comp_text(anim, offset, tools)),
                write_text_atomic(path.with_suffix(".setting"), self.setting_text(tools, active))]

    @staticmethod
    def setting_text(tools: str, active: str) -> str:
        return f"{{\n\tTools = ordered() {{\n{tools}\t}},\n\tActiveTool = {_lua_string(active)}\n}}\n"

    @staticmethod
    def comp_text(anim: RotoAnimation, offset: int, tools: str) -> str:
        first, last = anim.frame_range()
        start, end = first + offset, last + offset
        rate = float(anim.rate)
        return (
            "Composition {\n"
            f"\tCurrentTime = {start},\n"
            f"\tRenderRange = {{ {start}, {end} }},\n"
            f"\tGlobalRange = {{ {start}, {end} }},\n"
            "\tCurrentID = 1,\n\tPlaybackUpdateMode = 0,\n"
            '\tVersion = "Fusion 18",\n'
            "\tSavedOutputs = 0,\n\tHeldTools = 0,\n\tDisabledTools = 0,\n\tLockedTools = 0,\n"
            "\tAudioOffset = 0,\n\tResumable = true,\n\tOutputClips = {\n\t},\n"
            f"\tTools = {{\n{tools}\t}},\n"
            "\tPrefs = {\n\t\tComp = {\n\t\t\tFrameFormat = {\n"
            f"\t\t\t\tWidth = {int(anim.width)},\n\t\t\t\tHeight = {int(anim.height)},\n"
            f"\t\t\t\tRate = {_num(rate)},\n\t\t\t\tAspectX = 1,\n\t\t\t\tAspectY = 1,\n"
            f"\t\t\t\tGuideRatio = {_num(anim.width / anim.height)},\n"
            "\t\t\t},\n"
            f"\t\t\tUnsorted = {{\n\t\t\t\tGlobalStart = {start},\n\t\t\t\tGlobalEnd = {end},\n\t\t\t}},\n"
            "\t\t},\n\t},\n"
            "}\n")
