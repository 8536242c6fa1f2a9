"""Blender: a Python script that builds an animated Mask datablock (Movie Clip / Image editor, compositor Mask node).

Run it either way::

    blender -b --python shot_roto.py -- --save shot_roto.blend   # headless, writes a .blend
    blender --python shot_roto.py                                # opens Blender with the mask
    (or open it in Blender's Text Editor and press Run Script)

Options after ``--``: ``--save PATH`` writes a .blend when done;
``--composite`` also wires the mask to the compositor's output (so a render
gives the matte); without it the script adds an unconnected Mask node only.

What the script makes
---------------------

* a Mask datablock named after the object (fake user set, so it survives a
  save), with **one mask layer per run of tracks of the same mode** — so one
  layer for a plain object; a ``subtract`` track goes in a layer with blend
  ``SUBTRACT`` (which cuts everything below it, as Luma's track order does);
* **one cyclic spline per track**, every point with ``FREE`` handles (Luma's
  in/out tangents are independent);
* the animation as **mask layer shape keys**, one per keyed frame of the
  layer's tracks (Blender interpolates shape keys linearly and holds the
  first/last, like Luma). Mask points cannot carry F-curves (their RNA path
  is not animatable), so the script keys with ``bpy.ops.mask.shape_key_insert``
  from an Image editor in Mask mode, borrowing the biggest area of the window
  for a moment and giving it back;
* the scene: frame range, frame rate (``fps``/``fps_base`` for rates such as
  30000/1001), resolution at 100 %.

Conventions (Blender's ``BKE_mask_coord_from_frame``)
-----------------------------------------------------

A mask's coordinates are normalised to the **larger** side of the frame,
origin at the bottom-left, y up, the shorter axis centred on 0.5: on a
1280 x 720 frame x runs 0..1 and y runs 0.21875..0.78125. With
``S = max(W, H)``, from Luma's pixels (origin top-left, y down)::

    co.x = 0.5 + (x - W / 2) / S          co.y = 0.5 - (y - H / 2) / S
    handle_left  = co + (in.x, -in.y) / S       (Luma in_tangent, absolute in Blender)
    handle_right = co + (out.x, -out.y) / S     (Luma out_tangent)

Frames: Blender scenes start at frame 1, so ``first_frame`` defaults to
**1**: Blender frame = source frame + ``first_frame``.

Feather is not exported (Blender's per-point feather weights have no
one-to-one counterpart); set it on the Mask node or the layer's falloff.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np

from core.vision.roto_model import RotoAnimation
from plugins.roto_exporters.common import check_animation, output_path, resolve_first_frame, write_text_atomic

__all__ = ["BlenderExporter", "to_blender_points", "DEFAULT_FIRST_FRAME"]

DEFAULT_FIRST_FRAME = 1


def to_blender_points(vertices, in_tangents, out_tangents, width: int, height: int):
    """(co, handle_left, handle_right), each (..., N, 2), in Blender mask coordinates."""
    s = float(max(width, height))
    v = np.asarray(vertices, dtype=np.float64)
    flip = np.array([1.0, -1.0])
    co = 0.5 + (v - (width / 2.0, height / 2.0)) * flip / s
    left = co + np.asarray(in_tangents, dtype=np.float64) * flip / s
    right = co + np.asarray(out_tangents, dtype=np.float64) * flip / s
    return co, left, right


def blender_fps(rate: Fraction) -> tuple[int, float]:
    """(render.fps, render.fps_base) with fps / fps_base == rate, fps an integer (30000/1001 -> 30, 1.001)."""
    rate = Fraction(rate)
    fps = max(1, round(rate))
    return int(fps), float(Fraction(fps) / rate)


def _layers(anim: RotoAnimation, offset: int) -> list[dict]:
    """Tracks grouped into runs of the same mode; per layer, every key of its tracks with every spline."""
    runs: list[list] = []
    for track in anim.tracks:
        if runs and runs[-1][0].mode == track.mode:
            runs[-1].append(track)
        else:
            runs.append([track])
    layers = []
    for n, tracks in enumerate(runs):
        frames = np.unique(np.concatenate([t.frames for t in tracks]))
        splines = [{"name": t.name, "points": t.point_count} for t in tracks]
        keys = []
        for frame in frames:
            shapes = []
            for t in tracks:
                s = t.at(int(frame))  # the key itself, or Luma's linear in-between (what Blender does too)
                co, left, right = to_blender_points(s.vertices, s.in_tangents, s.out_tangents, anim.width,
                                                    anim.height)
                shapes.append([np.round(a, 8).ravel().tolist() for a in (co, left, right)])
            keys.append({"frame": int(frame) + offset, "splines": shapes})
        name = anim.name if len(runs) == 1 else f"{anim.name} {n + 1} ({tracks[0].mode})"
        layers.append({"name": name, "mode": tracks[0].mode, "splines": splines, "keys": keys})
    return layers


_SCRIPT = r'''
import json
import sys

import bpy

DATA = json.loads(DATA_JSON)


def _options(argv):
    args = argv[argv.index("--") + 1:] if "--" in argv else []
    save = None
    if "--save" in args:
        i = args.index("--save")
        if i + 1 >= len(args):
            raise SystemExit("--save needs a file name: -- --save shot.blend")
        save = args[i + 1]
    return save, "--composite" in args


def _mask_editor():
    """(window, area, region, restore) of an Image editor in Mask mode, borrowed from the biggest area."""
    wm = bpy.context.window_manager
    window = bpy.context.window or (wm.windows[0] if len(wm.windows) else None)
    if window is None:
        raise RuntimeError("Blender has no window to key the mask in; run with --factory-startup or the UI")
    areas = [a for a in window.screen.areas if a.type != "TEXT_EDITOR"] or list(window.screen.areas)
    area = max(areas, key=lambda a: a.width * a.height)
    old_type = area.type
    old_ui_type = area.ui_type
    area.type = "IMAGE_EDITOR"
    space = area.spaces.active
    old_mode, old_mask = space.mode, space.mask
    region = next(r for r in area.regions if r.type == "WINDOW")

    def restore():
        space.mode = old_mode
        space.mask = old_mask
        area.type = old_type
        area.ui_type = old_ui_type

    return window, area, region, space, restore


def build():
    scene = bpy.context.scene
    scene.render.resolution_x = DATA["width"]
    scene.render.resolution_y = DATA["height"]
    scene.render.resolution_percentage = 100
    scene.render.pixel_aspect_x = 1.0
    scene.render.pixel_aspect_y = 1.0
    scene.render.fps = DATA["fps"]
    scene.render.fps_base = DATA["fps_base"]
    scene.frame_start = DATA["frame_start"]
    scene.frame_end = DATA["frame_end"]

    mask = bpy.data.masks.new(DATA["name"])
    mask.use_fake_user = True
    mask.frame_start = DATA["frame_start"]
    mask.frame_end = DATA["frame_end"]
    built = []
    for layer_data in DATA["layers"]:
        layer = mask.layers.new(name=layer_data["name"])
        layer.blend = "SUBTRACT" if layer_data["mode"] == "subtract" else "MERGE_ADD"
        splines = []
        for spline_data in layer_data["splines"]:
            spline = layer.splines.new()
            spline.use_cyclic = True
            spline.use_fill = True
            spline.points.add(spline_data["points"] - 1)  # a new spline comes with one point
            for p in spline.points:
                p.handle_left_type = "FREE"
                p.handle_right_type = "FREE"
            splines.append(spline)
        built.append((layer, splines, layer_data))

    window, area, region, space, restore = _mask_editor()
    current = scene.frame_current
    try:
        space.mode = "MASK"
        space.mask = mask
        for layer, splines, layer_data in built:
            # shape_key_insert keys the layers that have a selected point: only this one
            for other, other_splines, _ in built:
                for spline in other_splines:
                    for p in spline.points:
                        p.select = other is layer
            for key in layer_data["keys"]:
                # evaluate the frame first (this rewrites the points from the keys so far), then set
                # the points without an RNA update (foreach_set) so nothing re-evaluates before the key
                scene.frame_set(key["frame"])
                for spline, (co, left, right) in zip(splines, key["splines"]):
                    spline.points.foreach_set("co", co)
                    spline.points.foreach_set("handle_left", left)
                    spline.points.foreach_set("handle_right", right)
                with bpy.context.temp_override(window=window, area=area, region=region):
                    result = bpy.ops.mask.shape_key_insert()
                if "FINISHED" not in result:
                    raise RuntimeError(f"could not key {layer.name!r} at frame {key['frame']}")
    finally:
        restore()
    scene.frame_set(DATA["frame_start"] if current < DATA["frame_start"] else current)
    return mask


def wire_compositor(mask, connect):
    scene = bpy.context.scene
    if connect:
        scene.use_nodes = True
    if scene.node_tree is None:
        return
    tree = scene.node_tree
    node = tree.nodes.new("CompositorNodeMask")
    node.name = node.label = "Luma " + mask.name
    node.mask = mask
    node.use_feather = True
    if connect:
        out = next((n for n in tree.nodes if n.type == "COMPOSITE"), None) or tree.nodes.new("CompositorNodeComposite")
        tree.links.new(node.outputs[0], out.inputs[0])


def main():
    save, composite = _options(sys.argv)
    mask = build()
    wire_compositor(mask, composite)
    print(f"Luma Studio: mask {mask.name!r}, {len(mask.layers)} layer(s), frames "
          f"{DATA['frame_start']}-{DATA['frame_end']}")
    if save:
        bpy.ops.wm.save_as_mainfile(filepath=bpy.path.abspath(save), check_existing=False)


main()
'''


class BlenderExporter:
    """A Python script for Blender (3.2+) that creates the animated Mask; see the module docstring."""

    name = "blender"
    title = "Blender Python script creating a Mask"
    extension = ".py"

    def export(self, animation: RotoAnimation, path: Path, *, first_frame: int | None = None) -> list[Path]:
        anim = animation
        check_animation(anim, self.name)
        offset = resolve_first_frame(first_frame, DEFAULT_FIRST_FRAME)
        path = output_path(path, ".py", anim.name)
        if path.suffix.lower() != ".py":  # never a script under another file type's name (shot.blend)
            path = path.with_name(path.name + ".py")
        return [write_text_atomic(path, self.script(anim, offset))]

    @staticmethod
    def script(anim: RotoAnimation, offset: int = DEFAULT_FIRST_FRAME) -> str:
        first, last = anim.frame_range()
        fps, fps_base = blender_fps(anim.rate)
        data = {
            "name": anim.name or "roto", "source": anim.source, "width": int(anim.width),
            "height": int(anim.height), "fps": fps, "fps_base": fps_base,
            "frame_start": first + offset, "frame_end": last + offset, "layers": _layers(anim, offset),
        }
        header = (f"# Luma Studio roto shapes for Blender: mask {anim.name!r} from {anim.source or '(unknown)'!r},\n"
                  f"# {anim.width}x{anim.height} at {anim.rate} fps, Blender frames {first + offset}-{last + offset}"
                  f" (source frame + {offset}).\n"
                  "# Run: blender -b --python THIS.py -- --save out.blend   (or Run Script in the Text Editor)\n")
        return header + "\nDATA_JSON = " + repr(json.dumps(data, separators=(",", ":"))) + "\n" + _SCRIPT
