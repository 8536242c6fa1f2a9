"""Silhouette shapes file (``.fxs``): the XML that Silhouette's shape import (File > Import > Shapes) reads.

Structure written (the layout Silhouette's own shape export uses)::

    <Silhouette width="W" height="H" workRangeStart="a" workRangeEnd="b" sessionStartFrame="s">
      <Layer type="Layer" label="<object name>" expanded="True">
        <Properties>
          <Property constant="True" id="color"><Value>(r,g,b)</Value></Property>
          <Property constant="True" id="invert"><Value>false</Value></Property>
          <Property constant="True" id="mode"><Value>Add</Value></Property>
          <Property id="objects" constant="True" expanded="True">
            <Object type="Shape" label="<track>" shape_type="Bezier" hidden="False" locked="False">
              <Properties>
                <Property constant="True" id="opacity"><Value>100</Value></Property>
                <Property constant="True" id="motionBlur"><Value>false</Value></Property>
                <Property constant="True" id="outlineColor"><Value>(r,g,b)</Value></Property>
                <Property constant="True" id="mode"><Value>Add|Subtract</Value></Property>
                <Property constant="True" id="invert"><Value>false</Value></Property>
                <Property id="path">
                  <Key frame="f" interp="linear">
                    <Path closed="True" type="Bezier">
                      <Point>(x,y),(in_x,in_y),(out_x,out_y)</Point> ...

Conventions:

* **frames**: a ``Key``'s ``frame`` counts from the session start
  (``sessionStartFrame``), so it is the source frame itself: source frame ``f``
  is key frame ``f``, which Silhouette shows as frame ``sessionStartFrame + f``.
  ``first_frame`` (default **1**) is the number of source frame 0 in the
  session: it sets ``sessionStartFrame``, and ``workRange*`` is the keyed
  range in those numbers;
* **coordinates**: Silhouette stores image-relative coordinates, independent of
  the resolution: the origin at the **centre** of the image, ``y`` **down**,
  both axes divided by the image **height** (so ``y`` spans ``-0.5 .. 0.5`` and
  ``x`` spans ``-W/2H .. W/2H``; square pixels). A Luma point ``(x, y)`` is
  ``((x - W/2) / H, (y - H/2) / H)``. Each ``Point`` is the vertex, then its
  incoming handle, then its outgoing handle, all three as **absolute**
  positions (vertex + tangent) in that space, written with six decimals
  (plain ``%f`` numbers, which Silhouette's importer requires);
* **keys** use linear interpolation (``interp="linear"``), Luma's own in-between;
* **order**: shapes are listed in Luma's track order (first = bottom);
  ``subtract`` tracks have ``mode`` ``Subtract``;
* **feather**: Silhouette keeps feather as separate per-point feather handles
  that this file format does not carry in a documented way; the feather widths
  are written as an XML comment inside each shape (``<!-- luma feather inner=…
  outer=… px -->``) for the artist, and the shapes import hard-edged.
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from core.vision.roto_model import RotoAnimation, SplineTrack
from plugins.roto_exporters.common import (check_animation, fmt_num, map_frames, output_path,
                                           resolve_first_frame, write_text_atomic)

__all__ = ["SilhouetteExporter", "fxs_document", "to_silhouette", "DEFAULT_FIRST_FRAME"]

DEFAULT_FIRST_FRAME = 1
_COLOURS = ["(1.000000,0.000000,0.000000)", "(0.000000,0.750000,1.000000)", "(1.000000,0.800000,0.000000)",
            "(0.200000,1.000000,0.200000)", "(1.000000,0.300000,1.000000)"]


def to_silhouette(points, width: int, height: int) -> np.ndarray:
    """Luma pixels (origin top-left, y down) -> Silhouette image space (centre origin, y down, / height)."""
    p = np.asarray(points, dtype=np.float64)
    out = np.empty_like(p)
    out[..., 0] = (p[..., 0] - width / 2.0) / height
    out[..., 1] = (p[..., 1] - height / 2.0) / height
    return out


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text) -> str:
    """``text`` without the characters XML 1.0 cannot hold."""
    return _XML_BAD.sub("", str(text))


def _pair(xy) -> str:
    return f"({xy[0]:.6f},{xy[1]:.6f})".replace("-0.000000", "0.000000")


def _shape(track: SplineTrack, label: str, colour: str, animation: RotoAnimation, indent: str) -> list[str]:
    w, h = animation.width, animation.height
    centre = to_silhouette(track.vertices, w, h)
    inward = to_silhouette(track.vertices + track.in_tangents, w, h)
    outward = to_silhouette(track.vertices + track.out_tangents, w, h)
    i1, i2, i3, i4, i5 = (indent + "  " * n for n in range(1, 6))
    mode = "Subtract" if track.mode == "subtract" else "Add"
    lines = [
        f'{indent}<Object type="Shape" label={quoteattr(label)} shape_type="Bezier" hidden="False" locked="False">',
        f"{i1}<!-- luma feather inner={fmt_num(track.feather_inner)} outer={fmt_num(track.feather_outer)} px "
        f"(not imported: set the shape's feather in Silhouette) -->",
        f"{i1}<Properties>",
        f'{i2}<Property constant="True" id="opacity"><Value>100</Value></Property>',
        f'{i2}<Property constant="True" id="motionBlur"><Value>false</Value></Property>',
        f'{i2}<Property constant="True" id="outlineColor"><Value>{colour}</Value></Property>',
        f'{i2}<Property constant="True" id="mode"><Value>{mode}</Value></Property>',
        f'{i2}<Property constant="True" id="invert"><Value>false</Value></Property>',
        f'{i2}<Property id="path">',
    ]
    for k, frame in enumerate(np.asarray(track.frames, dtype=np.int64)):
        lines.append(f'{i3}<Key frame="{int(frame)}" interp="linear">')
        lines.append(f'{i4}<Path closed="True" type="Bezier">')
        for n in range(track.point_count):
            lines.append(f"{i5}<Point>{_pair(centre[k, n])},{_pair(inward[k, n])},{_pair(outward[k, n])}</Point>")
        lines.append(f"{i4}</Path>")
        lines.append(f"{i3}</Key>")
    lines += [f"{i2}</Property>", f"{i1}</Properties>", f"{indent}</Object>"]
    return lines


def fxs_document(animation: RotoAnimation, first_frame: int = DEFAULT_FIRST_FRAME) -> str:
    """The whole ``.fxs`` XML text for ``animation`` (see the module docstring)."""
    start, end = (int(f) for f in map_frames(animation.frame_range(), first_frame))
    head = (f'<Silhouette width="{int(animation.width)}" height="{int(animation.height)}" '
            f'workRangeStart="{start}" workRangeEnd="{end}" sessionStartFrame="{int(first_frame)}">')
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<!-- Luma Studio roto shapes: {escape(_clean(animation.name)).replace('--', '- -')}; "
        f"{animation.width}x{animation.height} at {animation.rate.numerator}/{animation.rate.denominator} fps; "
        f"key frame = source frame (0 = session start) -->",
        head,
        f'  <Layer type="Layer" label={quoteattr(_clean(animation.name))} expanded="True">',
        "    <Properties>",
        '      <Property constant="True" id="color"><Value>(1.000000,1.000000,1.000000)</Value></Property>',
        '      <Property constant="True" id="invert"><Value>false</Value></Property>',
        '      <Property constant="True" id="mode"><Value>Add</Value></Property>',
        '      <Property id="objects" constant="True" expanded="True">',
    ]
    for i, track in enumerate(animation.tracks):
        lines += _shape(track, _clean(track.name), _COLOURS[i % len(_COLOURS)], animation, "        ")
    lines += ["      </Property>", "    </Properties>", "  </Layer>", "</Silhouette>", ""]
    return "\n".join(lines)


class SilhouetteExporter:
    """:class:`core.vision.roto_export.ShapeExporter` for Silhouette (see the module docstring)."""

    name = "silhouette"
    title = "Silhouette shapes (.fxs)"
    extension = ".fxs"
    default_first_frame = DEFAULT_FIRST_FRAME

    def export(self, animation: RotoAnimation, path: Path, *, first_frame: int | None = None) -> list[Path]:
        check_animation(animation, self.name)
        ff = resolve_first_frame(first_frame, DEFAULT_FIRST_FRAME)
        target = output_path(path, self.extension, animation.name)
        write_text_atomic(target, fxs_document(animation, ff))
        return [target]
