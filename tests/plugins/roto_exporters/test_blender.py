"""Blender export: run the script in the real Blender, inspect the Mask it made, save a .blend and reload it.

A checker script (below, written by the test) runs inside Blender after the
exported script (or on the reloaded .blend) and reports what Blender has:
the scene settings, the mask's layers and splines, each layer's shape-key
frames (found with Blender's own keyframe jump), the evaluated points at
chosen frames with the Bezier curve sampled from them, and a compositor
render of the mask. The test converts Blender's coordinates back to pixels
itself and compares with Luma's shapes and rasterisation.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction

import cv2
import numpy as np
import pytest

from core.vision.roto_export import export_roto
from core.vision.roto_model import SplineTrack
from plugins.roto_exporters.blender import BlenderExporter, blender_fps
from tests.plugins.roto_exporters.shapes import person_animation

BLENDER = shutil.which("blender")
pytestmark = pytest.mark.skipif(BLENDER is None, reason="blender is not installed (apt-get install blender)")

CHECKER = r'''
import json
import sys

import bpy

args = sys.argv[sys.argv.index("--") + 1:]
out_path, mask_name = args[0], args[1]
frames = [int(f) for f in args[2].split(",")]
render_frames = [int(f) for f in args[3].split(",") if f] if len(args) > 3 else []
render_dir = args[4] if len(args) > 4 else None

scene = bpy.context.scene
mask = bpy.data.masks[mask_name]
report = {
    "masks": [m.name for m in bpy.data.masks], "fake_user": mask.use_fake_user,
    "scene": {"fps": scene.render.fps, "fps_base": scene.render.fps_base, "frame_start": scene.frame_start,
              "frame_end": scene.frame_end, "size": [scene.render.resolution_x, scene.render.resolution_y],
              "percentage": scene.render.resolution_percentage},
    "layers": [],
    "frames": {},
}

# each layer's shape-key frames, as Blender's keyframe jump finds them (Image editor in Mask mode)
window = bpy.context.window_manager.windows[0]
area = max(window.screen.areas, key=lambda a: a.width * a.height)
area.type = "IMAGE_EDITOR"
space = area.spaces.active
space.mode = "MASK"
space.mask = mask
region = next(r for r in area.regions if r.type == "WINDOW")
for layer in mask.layers:
    mask.layers.active = layer
    scene.frame_set(-100000)
    keys = []
    while len(keys) < 100000:
        with bpy.context.temp_override(window=window, area=area, region=region):
            if "FINISHED" not in bpy.ops.screen.keyframe_jump(next=True):
                break
        keys.append(scene.frame_current)
    report["layers"].append({
        "name": layer.name, "blend": layer.blend, "keys": keys,
        "splines": [{"cyclic": s.use_cyclic, "points": len(s.points),
                     "handle_types": sorted({p.handle_left_type for p in s.points}
                                            | {p.handle_right_type for p in s.points})}
                    for s in layer.splines],
    })


def bezier(p0, p1, p2, p3, steps=24):
    out = []
    for k in range(steps):
        t = k / steps
        a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3
        out.append([a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0], a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1]])
    return out


for frame in frames:
    scene.frame_set(frame)
    evaluated = mask.evaluated_get(bpy.context.evaluated_depsgraph_get())
    layers = []
    for layer in evaluated.layers:
        splines = []
        for s in layer.splines:
            co = [list(p.co) for p in s.points]
            left = [list(p.handle_left) for p in s.points]
            right = [list(p.handle_right) for p in s.points]
            n = len(co)
            curve = []
            for i in range(n if s.use_cyclic else n - 1):
                j = (i + 1) % n
                curve += bezier(co[i], right[i], left[j], co[j])
            splines.append({"co": co, "left": left, "right": right, "curve": curve})
        layers.append(splines)
    report["frames"][str(frame)] = layers

if render_frames:
    scene.use_nodes = True
    tree = scene.node_tree
    for node in list(tree.nodes):
        if node.type == "R_LAYERS":  # no 3D render: the composite is the mask alone
            tree.nodes.remove(node)
    node = tree.nodes.new("CompositorNodeMask")
    node.mask = mask
    node.use_feather = False
    out = next((n for n in tree.nodes if n.type == "COMPOSITE"), None) or tree.nodes.new("CompositorNodeComposite")
    tree.links.new(node.outputs[0], out.inputs[0])
    scene.render.image_settings.file_format = "PNG"
    scene.render.image_settings.color_mode = "BW"
    scene.view_settings.view_transform = "Raw"
    report["renders"] = {}
    for frame in render_frames:
        scene.frame_set(frame)
        scene.render.filepath = f"{render_dir}/render_{frame:04d}.png"
        bpy.ops.render.render(write_still=True)
        report["renders"][str(frame)] = scene.render.filepath

with open(out_path, "w") as f:
    json.dump(report, f)
'''


def blender(*args: str, timeout: float = 60) -> str:
    proc = subprocess.run([BLENDER, "-b", "--factory-startup", "--python-exit-code", "1", *args],
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"blender failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def to_pixels(points, width: int, height: int) -> np.ndarray:
    """Blender mask coordinates -> Luma pixels (inverse of BKE_mask_coord_from_frame on a W x H frame)."""
    p = np.asarray(points, dtype=np.float64)
    s = max(width, height)
    return np.stack([width / 2 + (p[:, 0] - 0.5) * s, height / 2 - (p[:, 1] - 0.5) * s], axis=1)


def fill(layers, modes, width: int, height: int) -> np.ndarray:
    """Rasterise Blender's sampled curves with OpenCV (pixel centres at +0.5 in Luma's convention)."""
    mask = np.zeros((height, width), np.uint8)
    for splines, mode in zip(layers, modes):
        for s in splines:
            pts = to_pixels(s["curve"], width, height) - 0.5
            cv2.fillPoly(mask, [np.round(pts * 256).astype(np.int32)], 0 if mode == "subtract" else 255,
                         lineType=cv2.LINE_8, shift=8)
    return mask


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 127, b > 127
    return float((a & b).sum() / max((a | b).sum(), 1))


@pytest.fixture(scope="module")
def shot():
    """A walking person keyed every 3rd source frame from 4, with a torso hole keyed every 6th."""
    anim = person_animation(frames=10, points=32, start=4, step=3, hole=True, rate=Fraction(30000, 1001))
    hole = anim.tracks[1]
    anim.tracks[1] = SplineTrack(hole.name, hole.frames[::2], hole.vertices[::2], hole.in_tangents[::2],
                                 hole.out_tangents[::2], mode="subtract")
    return anim


@pytest.fixture(scope="module")
def runs(shot, tmp_path_factory):
    """Run the exported script (+ the checker), save a .blend, reload it (+ the checker)."""
    tmp = tmp_path_factory.mktemp("blender")
    script = export_roto("blender", tmp / "walk", animation=shot)[0]
    checker = tmp / "checker.py"
    checker.write_text(CHECKER)
    # source frames: keyed (4, 7, 31), between keys (5, 12), before the first key (0) and after the last (40)
    frames = ",".join(str(f + 1) for f in (0, 4, 5, 7, 12, 31, 40))
    first = tmp / "first.json"
    blender("--python", str(script), "--python", str(checker), "--", str(first), shot.name, frames, "13", str(tmp))
    blend = tmp / "saved.blend"
    blender("--python", str(script), "--", "--save", str(blend))
    assert blend.is_file() and blend.stat().st_size > 0
    second = tmp / "second.json"
    blender(str(blend), "--python", str(checker), "--", str(second), shot.name, frames)
    return script, json.loads(first.read_text()), json.loads(second.read_text())


def test_scene_and_mask_structure(shot, runs):
    _, report, _ = runs
    fps, base = blender_fps(shot.rate)
    assert (fps, base) == (30, pytest.approx(1.001))
    sc = report["scene"]
    assert sc["fps"] == 30 and sc["fps_base"] == pytest.approx(1.001, abs=1e-6)
    assert (sc["frame_start"], sc["frame_end"]) == (4 + 1, 31 + 1)  # first_frame 1: Blender = source + 1
    assert sc["size"] == [1280, 720] and sc["percentage"] == 100
    assert report["masks"] == [shot.name] and report["fake_user"] is True
    layers = report["layers"]
    assert [layer["blend"] for layer in layers] == ["MERGE_ADD", "SUBTRACT"]
    for layer, track in zip(layers, shot.tracks):
        assert len(layer["splines"]) == 1
        spline = layer["splines"][0]
        assert spline["cyclic"] is True and spline["points"] == track.point_count
        assert spline["handle_types"] == ["FREE"]
        # one shape key per keyed frame of the track, on the same frames (+1)
        assert layer["keys"] == (track.frames + 1).tolist()


def test_points_and_handles_match_luma_at_keys_and_between(shot, runs):
    _, report, _ = runs
    w, h = shot.width, shot.height
    for blender_frame, layers in report["frames"].items():
        source = int(blender_frame) - 1
        for splines, track in zip(layers, shot.tracks):
            want = track.at(source)  # Luma: the key, linear between keys, held outside
            got = splines[0]
            v = to_pixels(got["co"], w, h)
            np.testing.assert_allclose(v, want.vertices, atol=0.5, err_msg=f"frame {blender_frame}")
            np.testing.assert_allclose(to_pixels(got["left"], w, h) - v, want.in_tangents, atol=0.5)
            np.testing.assert_allclose(to_pixels(got["right"], w, h) - v, want.out_tangents, atol=0.5)


def test_rasterised_curves_match_luma(shot, runs):
    _, report, _ = runs
    modes = [t.mode for t in shot.tracks]
    for blender_frame, layers in report["frames"].items():
        got = fill(layers, modes, shot.width, shot.height)
        want = shot.rasterize(int(blender_frame) - 1)
        assert iou(got, want) >= 0.97, f"frame {blender_frame}: IoU {iou(got, want):.3f}"
        # the hole is really cut: its centre is outside the matte
        hole_centre = shot.tracks[1].at(int(blender_frame) - 1).vertices.mean(axis=0)
        assert got[int(hole_centre[1]), int(hole_centre[0])] == 0


def test_blenders_own_render_of_the_mask_matches(shot, runs):
    """Blender's compositor renders the mask (its own rasteriser, anti-aliased outwards by about a pixel)."""
    _, report, _ = runs
    render = cv2.imread(report["renders"]["13"], cv2.IMREAD_UNCHANGED)
    assert render is not None and render.shape[:2] == (720, 1280)
    got = (render > 127).astype(np.uint8) * 255
    want = shot.rasterize(12)
    assert iou(got, want) >= 0.93
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))  # within 2 px of Luma's edge everywhere
    assert not np.any((got > 0) & (cv2.dilate(want, k) == 0))
    assert not np.any((cv2.erode(want, k) > 0) & (got == 0))


def test_saved_blend_reloads_with_the_same_animation(shot, runs):
    _, first, second = runs
    assert second["layers"] == first["layers"]
    assert second["scene"] == first["scene"]
    for frame, layers in first["frames"].items():
        for a_layer, b_layer in zip(layers, second["frames"][frame]):
            for a, b in zip(a_layer, b_layer):
                np.testing.assert_allclose(b["co"], a["co"], atol=1e-6)
                np.testing.assert_allclose(b["left"], a["left"], atol=1e-6)


def test_script_header_and_default_path(shot, runs, tmp_path):
    script, _, _ = runs
    text = script.read_text()
    assert text.startswith("# Luma Studio roto shapes for Blender")
    assert script.suffix == ".py"
    assert BlenderExporter().export(shot, tmp_path)[0] == tmp_path / "performer.py"
    # never a script under another file type's name
    assert BlenderExporter().export(shot, tmp_path / "shot.blend")[0] == tmp_path / "shot.blend.py"
