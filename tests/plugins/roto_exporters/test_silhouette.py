"""Silhouette export: the .fxs read back with an XML parser must give the same shapes on the same frames."""

from __future__ import annotations

import os

import numpy as np
import pytest

from core.vision.roto_export import export_roto
from core.vision.roto_model import RotoAnimation, SplineTrack
from core.vision.types import VisionError
from plugins.roto_exporters.silhouette import SilhouetteExporter
from tests.plugins.roto_exporters.readers import fxs_read, sample_animation

TOL = 0.5  # px
TIGHT = 0.01  # six decimals of the height: ~0.001 px at 1080


def to_luma(points: np.ndarray, width: int, height: int):
    """Silhouette (centre origin, y down, / height; absolute handles) -> Luma vertices, in/out tangents."""
    px = np.empty_like(points)
    px[..., 0] = points[..., 0] * height + width / 2
    px[..., 1] = points[..., 1] * height + height / 2
    centre, first, second = px[:, 0], px[:, 1], px[:, 2]
    return centre, first - centre, second - centre


@pytest.fixture
def anim() -> RotoAnimation:
    return sample_animation()


@pytest.fixture
def exported(anim, tmp_path):
    files = SilhouetteExporter().export(anim, tmp_path / "shot.fxs")
    return files, files[0].read_text(encoding="utf-8")


def test_protocol_attributes():
    ex = SilhouetteExporter()
    assert ex.name == "silhouette" and ex.extension == ".fxs"


def test_root_attributes(anim, exported):
    files, text = exported
    assert not list(files[0].parent.glob("*.part"))
    attrs, shapes = fxs_read(text)
    assert attrs["width"] == "1920" and attrs["height"] == "1080"
    assert attrs["sessionStartFrame"] == "1"  # default: source frame 0 is session frame 1
    assert (attrs["workRangeStart"], attrs["workRangeEnd"]) == ("1", "21")
    assert len(shapes) == 2


def test_every_vertex_and_handle_on_every_key(anim, exported):
    _, text = exported
    _, shapes = fxs_read(text)
    assert [s.label for s in shapes] == [t.name for t in anim.tracks]  # Luma order (first = bottom)
    for track, shape in zip(anim.tracks, shapes):
        assert shape.shape_type == "Bezier"
        # keys count from the session start: key frame = source frame
        assert sorted(shape.keys) == [int(f) for f in track.frames]
        for k, frame in enumerate(track.frames):
            closed, kind, interp, points = shape.keys[int(frame)]
            assert (closed, kind, interp) == ("True", "Bezier", "linear")
            assert points.shape == (track.point_count, 3, 2) == (12, 3, 2)
            v, tin, tout = to_luma(points, anim.width, anim.height)
            for got, want in ((v, track.vertices[k]), (tin, track.in_tangents[k]), (tout, track.out_tangents[k])):
                err = np.abs(got - want).max()
                assert err < TOL
                assert err < TIGHT


def test_coordinates_are_normalised_to_the_height_around_the_centre(anim, exported):
    _, text = exported
    _, shapes = fxs_read(text)
    pts = np.concatenate([k[3][:, 0] for s in shapes for k in s.keys.values()])
    # the shapes sit around the image centre: normalised values stay well inside [-0.9, 0.9] x [-0.5, 0.5]
    assert np.abs(pts[:, 1]).max() <= 0.5 and np.abs(pts[:, 0]).max() < 0.9
    # a wrong convention (pixels, or y up) would not give the source back
    body = anim.tracks[0]
    first = shapes[0].keys[int(body.frames[0])][3]
    flipped = first.copy()
    flipped[..., 1] = -flipped[..., 1]
    v, _, _ = to_luma(flipped, anim.width, anim.height)
    assert np.abs(v - body.vertices[0]).max() > TOL


def test_modes(anim, exported):
    _, text = exported
    _, shapes = fxs_read(text)
    assert [s.mode for s in shapes] == ["Add", "Subtract"]


def test_numbers_are_plain_decimals(exported):
    _, text = exported
    assert "e-" not in text.split("<Silhouette", 1)[1] and "nan" not in text.lower()


def test_first_frame_option(anim, tmp_path):
    path = SilhouetteExporter().export(anim, tmp_path / "s.fxs", first_frame=1001)[0]
    attrs, shapes = fxs_read(path.read_text())
    assert attrs["sessionStartFrame"] == "1001"
    assert (attrs["workRangeStart"], attrs["workRangeEnd"]) == ("1001", "1021")
    assert sorted(shapes[1].keys) == [3, 5, 8, 9, 15]


def test_names_with_xml_characters(tmp_path):
    v = np.array([[[10.0, 20.0], [200.0, 30.0], [120.0, 150.0]]])
    z = np.zeros_like(v)
    anim = RotoAnimation('<obj> & "co" -- x', 320, 240, 25, [SplineTrack('arm <L> & "1"', [0], v, z, z)])
    path = SilhouetteExporter().export(anim, tmp_path / "n.fxs")[0]
    _, shapes = fxs_read(path.read_text())
    assert shapes[0].label == 'arm <L> & "1"'


def test_through_the_registry(anim, tmp_path):
    files = export_roto("silhouette", tmp_path / "reg.fxs", animation=anim)
    assert files == [tmp_path / "reg.fxs"]
    _, shapes = fxs_read(files[0].read_text())
    assert [s.label for s in shapes] == ["body", "hole"]


def test_unwritable_folder_raises_vision_error(anim, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(VisionError):
        SilhouetteExporter().export(anim, blocker / "shot.fxs")


def test_failed_write_keeps_the_previous_file(anim, tmp_path, monkeypatch):
    target = tmp_path / "keep.fxs"
    target.write_text("previous")
    monkeypatch.setattr(os, "replace", lambda a, b: (_ for _ in ()).throw(PermissionError(13, "Permission denied")))
    with pytest.raises(VisionError, match="Permission denied"):
        SilhouetteExporter().export(anim, target)
    assert target.read_text() == "previous" and not list(tmp_path.glob("*.part"))


def test_empty_animation_is_refused(tmp_path):
    with pytest.raises(VisionError):
        SilhouetteExporter().export(RotoAnimation("none", 64, 64, 25, []), tmp_path / "e.fxs")
