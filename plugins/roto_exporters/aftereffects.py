"""After Effects script (``.jsx``) that adds the shapes as keyframed masks on the selected layer.

In After Effects: open the composition, select the layer holding the footage
the shapes were drawn on, then File > Scripts > Run Script File... and pick
the ``.jsx``. The script (plain ExtendScript, ES3: no ``let``, no ``JSON``, no
``Array.prototype.map``):

* finds the active composition and its selected layer and stops with an
  ``alert`` saying what to do when there is no composition, no selected layer,
  more than one selected layer, or a layer that cannot hold masks;
* inside ``app.beginUndoGroup`` / ``app.endUndoGroup`` (one Edit > Undo
  removes everything) adds one mask per track (``ADBE Mask Parade`` >
  ``ADBE Mask Atom``), named after the track, mode ``MaskMode.ADD`` or
  ``MaskMode.SUBTRACT``, in Luma's track order (AE applies masks top-down, so a
  ``subtract`` track cuts the ``add`` tracks above it);
* keys its Mask Path (``ADBE Mask Shape``) with ``setValuesAtTimes`` on
  ``Shape`` objects (``vertices``, ``inTangents``, ``outTangents`` relative
  to their vertex, ``closed = true``) and makes every key linear (Luma's
  in-between); a track keyed once gets a constant path;
* sets Mask Feather and Mask Expansion from the track's feather.

Conventions:

* **coordinates**: AE mask vertices are layer pixels with the origin at the
  layer's top-left and ``y`` down — Luma's own convention — so vertices and
  tangents are written unchanged. When the layer's size differs from the
  source size recorded in the script (a proxy, a different resolution of the
  same shot, a pre-comp), everything is scaled by ``layer.width / W`` and
  ``layer.height / H`` at run time;
* **frames/time**: source frame ``f`` is layer frame ``f + first_frame``
  (``first_frame`` defaults to **0**: AE counts a layer's frames from 0), at
  the layer's source frame rate (``layer.source.frameRate``, falling back to
  the rate in the script), shifted to composition time by the layer's
  ``startTime`` and scaled by its ``stretch``:
  ``time = layer.startTime + (f + first_frame) / fps * stretch / 100``.
  Time-remapped layers are not followed;
* **feather**: AE's mask feather is a soft band centred on the mask edge; Luma's
  band reaches ``inner`` px inside and ``outer`` px outside. So Mask Feather is
  ``inner + outer`` (both axes, scaled with the layer) and Mask Expansion is
  ``(outer - inner) / 2`` (which moves the band's centre to where Luma's is).
"""

from __future__ import annotations

import json
from pathlib import Path

from core.vision.roto_model import RotoAnimation, SplineTrack
from plugins.roto_exporters.common import (check_animation, fmt_num, output_path, resolve_first_frame,
                                           write_text_atomic)

__all__ = ["AfterEffectsExporter", "jsx_script", "DEFAULT_FIRST_FRAME"]

DEFAULT_FIRST_FRAME = 0


def _js_string(text) -> str:
    """A JavaScript string literal (ASCII only, so any ExtendScript reads it)."""
    return json.dumps(str(text), ensure_ascii=True)


def _points(arr) -> str:
    return "[" + ", ".join(f"[{fmt_num(x)}, {fmt_num(y)}]" for x, y in arr) + "]"


def _track_js(track: SplineTrack, frames, indent: str) -> str:
    keys = []
    for k, frame in enumerate(frames):
        keys.append(f"{indent}        {{frame: {int(frame)},\n"
                    f"{indent}         vertices: {_points(track.vertices[k])},\n"
                    f"{indent}         inTangents: {_points(track.in_tangents[k])},\n"
                    f"{indent}         outTangents: {_points(track.out_tangents[k])}}}")
    return (f"{indent}{{name: {_js_string(track.name)}, mode: {_js_string(track.mode)},\n"
            f"{indent}    featherInner: {fmt_num(track.feather_inner)}, featherOuter: {fmt_num(track.feather_outer)},\n"
            f"{indent}    keys: [\n" + ",\n".join(keys) + f"\n{indent}    ]}}")


_RUNNER = r"""
    function fail(message) {
        alert("Luma roto import: " + message);
    }

    var comp = app.project ? app.project.activeItem : null;
    if (!comp || !(comp instanceof CompItem)) {
        fail("open the composition that holds the footage layer first (no active composition).");
        return;
    }
    var selected = comp.selectedLayers;
    if (!selected || selected.length === 0) {
        fail("no layer is selected. Select the layer of " + LUMA.source + " in \"" + comp.name +
             "\" and run the script again.");
        return;
    }
    if (selected.length > 1) {
        fail("select only one layer (" + selected.length + " are selected).");
        return;
    }
    var layer = selected[0];
    var masks = layer.property("ADBE Mask Parade");
    if (!masks || !masks.canAddProperty("ADBE Mask Atom")) {
        fail("the layer \"" + layer.name + "\" cannot hold masks (select a footage, solid or shape layer).");
        return;
    }

    var sx = layer.width / LUMA.width;
    var sy = layer.height / LUMA.height;
    var fps = (layer.source && layer.source.frameRate > 0) ? layer.source.frameRate : LUMA.fps;
    var stretch = (layer.stretch ? layer.stretch : 100) / 100;

    function layerTime(frame) {
        return layer.startTime + (frame + LUMA.firstFrame) / fps * stretch;
    }

    function scaled(points) {
        var out = [];
        for (var i = 0; i < points.length; i++) {
            out.push([points[i][0] * sx, points[i][1] * sy]);
        }
        return out;
    }

    function shapeOf(key) {
        var shape = new Shape();
        shape.vertices = scaled(key.vertices);
        shape.inTangents = scaled(key.inTangents);
        shape.outTangents = scaled(key.outTangents);
        shape.closed = true;
        return shape;
    }

    app.beginUndoGroup("Luma roto: " + LUMA.name);
    try {
        for (var t = 0; t < LUMA.tracks.length; t++) {
            var track = LUMA.tracks[t];
            var mask = masks.addProperty("ADBE Mask Atom");
            mask.name = track.name;
            mask.maskMode = (track.mode === "subtract") ? MaskMode.SUBTRACT : MaskMode.ADD;
            var path = mask.property("ADBE Mask Shape");
            if (track.keys.length === 1) {
                path.setValue(shapeOf(track.keys[0]));
            } else {
                var times = [];
                var shapes = [];
                for (var k = 0; k < track.keys.length; k++) {
                    times.push(layerTime(track.keys[k].frame));
                    shapes.push(shapeOf(track.keys[k]));
                }
                path.setValuesAtTimes(times, shapes);
                for (var n = 1; n <= path.numKeys; n++) {
                    path.setInterpolationTypeAtKey(n, KeyframeInterpolationType.LINEAR,
                                                   KeyframeInterpolationType.LINEAR);
                }
            }
            var feather = track.featherInner + track.featherOuter;
            mask.property("ADBE Mask Feather").setValue([feather * sx, feather * sy]);
            mask.property("ADBE Mask Offset").setValue((track.featherOuter - track.featherInner) / 2 * (sx + sy) / 2);
        }
    } finally {
        app.endUndoGroup();
    }
"""


def jsx_script(animation: RotoAnimation, first_frame: int = DEFAULT_FIRST_FRAME) -> str:
    """The whole ``.jsx`` text for ``animation`` (see the module docstring)."""
    ind = "        "
    tracks = [_track_js(t, t.frames, ind) for t in animation.tracks]
    rate = animation.rate
    header = "\n".join([
        "// Luma Studio roto shapes -> After Effects masks.",
        f"// Object: {str(animation.name).splitlines()[0] if str(animation.name) else ''}",
        "// Select the footage layer in the active composition, then File > Scripts > Run Script File...",
        f"// Source: {animation.width}x{animation.height} px at {rate.numerator}/{rate.denominator} fps; frames are "
        "source frames (0 = first); points in pixels, origin top-left, y down (AE layer space).",
    ])
    data = "\n".join([
        "    var LUMA = {",
        f"        name: {_js_string(animation.name)},",
        f"        source: {_js_string(animation.source or 'the footage')},",
        f"        width: {int(animation.width)},",
        f"        height: {int(animation.height)},",
        f"        fps: {rate.numerator} / {rate.denominator},",
        f"        firstFrame: {int(first_frame)},",
        "        tracks: [",
        ",\n".join(tracks),
        "        ]",
        "    };",
    ])
    return header + "\n(function () {\n" + data + "\n" + _RUNNER + "})();\n"


class AfterEffectsExporter:
    """:class:`core.vision.roto_export.ShapeExporter` for After Effects (see the module docstring)."""

    name = "aftereffects"
    title = "After Effects script (.jsx) creating masks"
    extension = ".jsx"
    default_first_frame = DEFAULT_FIRST_FRAME

    def export(self, animation: RotoAnimation, path: Path, *, first_frame: int | None = None) -> list[Path]:
        check_animation(animation, self.name)
        ff = resolve_first_frame(first_frame, DEFAULT_FIRST_FRAME)
        target = output_path(path, self.extension, animation.name)
        write_text_atomic(target, jsx_script(animation, ff))
        return [target]
