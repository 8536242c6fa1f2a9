"""Fusion export: parse the written .setting/.comp with an independent Lua-table reader and get the shapes back."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from core.vision.roto_export import export_roto
from core.vision.roto_model import RotoAnimation, Spline, SplineTrack
from core.vision.types import VisionError
from plugins.roto_exporters.fusion import FusionExporter
from tests.plugins.roto_exporters.lua_table import Table, parse
from tests.plugins.roto_exporters.shapes import person_animation


def read(path: Path):
    return parse(path.read_text(encoding="utf-8"))


def masks_in_order(tools: Table) -> list[tuple[str, Table]]:
    return [(name, tool) for name, tool in tools.fields.items() if tool.cls == "PolylineMask"]


def keyed_shapes(tools: Table, mask: Table, width: int, height: int):
    """{fusion frame: (vertices, in, out) in Luma pixels} read from the mask's animated Polyline input."""
    source = mask["Inputs"]["Polyline"]
    assert source.cls == "Input" and source["Source"] == "Value"
    spline = tools[source["SourceOp"]]
    assert spline.cls == "BezierSpline"
    out = {}
    for frame, key in spline["KeyFrames"].fields.items():
        poly = key["Value"]
        assert poly.cls == "Polyline" and poly["Closed"] is True
        pts = np.array([[p["X"], p["Y"], p["LX"], p["LY"], p["RX"], p["RY"]] for p in poly["Points"].items])
        # Fusion: per-axis normalised, centred on the mask Center (0.5, 0.5), y up; handles relative
        v = np.stack([(pts[:, 0] + 0.5) * width, (0.5 - pts[:, 1]) * height], axis=1)
        i = np.stack([pts[:, 2] * width, -pts[:, 3] * height], axis=1)
        o = np.stack([pts[:, 4] * width, -pts[:, 5] * height], axis=1)
        out[frame] = (v, i, o, key)
    return out


def test_setting_round_trips_every_key_within_half_a_pixel(tmp_path):
    anim = person_animation(frames=12, points=32, hole=True)
    files = FusionExporter().export(anim, tmp_path / "walk.setting")
    assert files == [tmp_path / "walk.setting"]
    doc = read(files[0])
    assert doc.cls is None and doc["Tools"].cls == "ordered"
    tools = doc["Tools"]
    masks = masks_in_order(tools)
    assert len(masks) == len(anim.tracks) == 2
    assert doc["ActiveTool"] == masks[-1][0]
    for (name, mask), track in zip(masks, anim.tracks):
        inputs = mask["Inputs"]
        assert inputs["MaskWidth"]["Value"] == 1280 and inputs["MaskHeight"]["Value"] == 720
        assert inputs["OutputSize"]["Value"].items == ["Custom"]
        shapes = keyed_shapes(tools, mask, anim.width, anim.height)
        assert sorted(shapes) == track.frames.tolist()  # default first_frame 0: Fusion frame = source frame
        for k, frame in enumerate(track.frames):
            v, i, o, key = shapes[int(frame)]
            assert key.items == [k]  # the spline value is the key index
            assert len(v) == track.point_count
            np.testing.assert_allclose(v, track.vertices[k], atol=0.5)
            np.testing.assert_allclose(i, track.in_tangents[k], atol=0.5)
            np.testing.assert_allclose(o, track.out_tangents[k], atol=0.5)
            # and well inside half a pixel: the numbers are not truncated
            assert np.abs(v - track.vertices[k]).max() < 1e-4
    # the hole cuts the body: chained through EffectMask with PaintMode Subtract
    (body_name, body), (_, hole) = masks
    assert hole["Inputs"]["EffectMask"]["SourceOp"] == body_name
    assert hole["Inputs"]["EffectMask"]["Source"] == "Mask"
    assert hole["Inputs"]["PaintMode"]["Value"].items == ["Subtract"]
    assert "PaintMode" not in body["Inputs"] and "EffectMask" not in body["Inputs"]
    # feather: soft edge (inner + outer) / width, border re-centres it
    assert body["Inputs"]["SoftEdge"]["Value"] == pytest.approx((1.5 + 4.0) / 1280)
    assert body["Inputs"]["BorderWidth"]["Value"] == pytest.approx((4.0 - 1.5) / 2 / 1280)
    assert "SoftEdge" not in hole["Inputs"]


def test_coordinate_convention_corners_and_centre(tmp_path):
    """Pixel (0, 0) is Fusion's top-left (-0.5, 0.5); the image centre is (0, 0); y goes up."""
    w, h = 1920, 1080
    v = np.array([[0.0, 0.0], [w, 0.0], [w / 2, h / 2]])
    i = np.array([[10.0, 20.0], [0, 0], [0, 0]])
    o = np.array([[-30.0, -40.0], [0, 0], [0, 0]])
    anim = RotoAnimation("c", w, h, Fraction(24), [SplineTrack.from_splines("t", [5], [Spline(v, i, o)])])
    doc = read(FusionExporter().export(anim, tmp_path / "c.setting")[0])
    mask = masks_in_order(doc["Tools"])[0][1]
    spline = doc["Tools"][mask["Inputs"]["Polyline"]["SourceOp"]]
    pts = spline["KeyFrames"][5]["Value"]["Points"].items
    assert (pts[0]["X"], pts[0]["Y"]) == (-0.5, 0.5)
    assert (pts[1]["X"], pts[1]["Y"]) == (0.5, 0.5)
    assert (pts[2]["X"], pts[2]["Y"]) == (0, 0)
    # in-handle (LX, LY) and out-handle (RX, RY): per-axis normalised, y flipped
    assert pts[0]["LX"] == pytest.approx(10 / w) and pts[0]["LY"] == pytest.approx(-20 / h)
    assert pts[0]["RX"] == pytest.approx(-30 / w) and pts[0]["RY"] == pytest.approx(40 / h)


def test_first_frame_offsets_keys_and_sparse_keys_interpolate_linearly(tmp_path):
    anim = person_animation(frames=4, points=24, start=3, step=5)  # source frames 3, 8, 13, 18
    doc = read(FusionExporter().export(anim, tmp_path / "s", first_frame=1001)[0])
    mask = masks_in_order(doc["Tools"])[0][1]
    keys = doc["Tools"][mask["Inputs"]["Polyline"]["SourceOp"]]["KeyFrames"]
    assert sorted(keys.fields) == [1004, 1009, 1014, 1019]
    for k, frame in enumerate(sorted(keys.fields)):
        key = keys[frame]
        assert key["Flags"]["Linear"] is True and key["Flags"]["LockedY"] is True
        # Bezier handles of the value curve lie on the straight line between keys (linear interpolation)
        if "RH" in key:
            t, val = key["RH"].items
            assert t == pytest.approx(frame + 5 / 3) and val == pytest.approx(k + 1 / 3)
        if "LH" in key:
            t, val = key["LH"].items
            assert t == pytest.approx(frame - 5 / 3) and val == pytest.approx(k - 1 / 3)
    assert "LH" not in keys[1004] and "RH" not in keys[1019]


def test_comp_path_writes_comp_and_setting(tmp_path):
    anim = person_animation(frames=6, points=40, start=10, rate=Fraction(30000, 1001))
    files = export_roto("fusion", tmp_path / "shot.comp", animation=anim)
    assert files == [tmp_path / "shot.comp", tmp_path / "shot.setting"]
    comp = read(files[0])
    assert comp.cls == "Composition"
    assert comp["RenderRange"].items == [10, 15] and comp["GlobalRange"].items == [10, 15]
    fmt = comp["Prefs"]["Comp"]["FrameFormat"]
    assert (fmt["Width"], fmt["Height"]) == (1280, 720)
    assert fmt["Rate"] == pytest.approx(30000 / 1001)
    masks = masks_in_order(comp["Tools"])
    shapes = keyed_shapes(comp["Tools"], masks[0][1], 1280, 720)
    assert sorted(shapes) == list(range(10, 16))
    np.testing.assert_allclose(shapes[15][0], anim.tracks[0].vertices[5], atol=1e-4)
    # the .setting beside it holds the same tools
    setting = read(files[1])
    assert list(setting["Tools"].fields) == list(comp["Tools"].fields)


def test_odd_names_become_valid_unique_tool_names(tmp_path):
    anim = person_animation(frames=2, points=24, name='3 "lead" singer\n')
    anim.tracks.append(SplineTrack(anim.tracks[0].name, anim.tracks[0].frames, anim.tracks[0].vertices,
                                   anim.tracks[0].in_tangents, anim.tracks[0].out_tangents))
    doc = read(FusionExporter().export(anim, tmp_path / "n.setting")[0])
    names = [n for n, _ in masks_in_order(doc["Tools"])]
    assert len(names) == 2 and len(set(names)) == 2
    assert all(n[0].isalpha() and n.replace("_", "").isalnum() for n in doc["Tools"].fields)
    comment = masks_in_order(doc["Tools"])[0][1]["Inputs"]["Comments"]["Value"]
    assert '3 "lead" singer\n' in comment


def test_unwritable_destination_raises_vision_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(VisionError, match="cannot (write|create)"):
        FusionExporter().export(person_animation(frames=2), blocker / "sub" / "x.setting")


def test_default_paths_and_empty_animation(tmp_path):
    anim = person_animation(frames=2)
    assert FusionExporter().export(anim, tmp_path) == [tmp_path / "performer.setting"]
    assert FusionExporter().export(anim, tmp_path / "noext") == [tmp_path / "noext.setting"]
    with pytest.raises(VisionError, match="no shapes"):
        FusionExporter().export(RotoAnimation("empty", 10, 10, Fraction(25)), tmp_path / "e.setting")
