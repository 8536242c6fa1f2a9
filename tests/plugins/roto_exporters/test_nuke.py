"""Nuke export: the .nk read back with an independent brace parser must give the same shapes on the same frames."""

from __future__ import annotations

import os

import numpy as np
import pytest

from core.vision.roto_export import export_roto
from core.vision.roto_model import RotoAnimation, SplineTrack
from core.vision.types import VisionError
from plugins.roto_exporters.nuke import NukeExporter
from tests.plugins.roto_exporters.readers import NkSyntaxError, inside_polygon, nk_roto, nk_tokens, sample_animation

TOL = 0.5  # px, what "the same shape" means for the issue
TIGHT = 0.01  # what float32 keeps at 1920 px


def to_luma(shape, time: float, height: int):
    """Nuke triplets at ``time`` -> Luma vertices, in/out tangents (y down, origin top-left)."""
    t = shape.at("main", time)
    left, centre, right = t[:, 0], t[:, 1], t[:, 2]
    vertices = np.stack([centre[:, 0], height - centre[:, 1]], axis=1)
    tin = np.stack([left[:, 0], -left[:, 1]], axis=1)
    tout = np.stack([right[:, 0], -right[:, 1]], axis=1)
    return vertices, tin, tout


@pytest.fixture
def anim() -> RotoAnimation:
    return sample_animation()


@pytest.fixture
def exported(anim, tmp_path):
    files = NukeExporter().export(anim, tmp_path / "shot.nk")
    return files, files[0].read_text(encoding="utf-8")


def test_protocol_attributes():
    ex = NukeExporter()
    assert ex.name == "nuke" and ex.extension == ".nk"
    assert callable(ex.export)


def test_returns_the_written_file_and_no_part_file(exported, tmp_path):
    files, text = exported
    assert files == [tmp_path / "shot.nk"]
    assert files[0].is_file() and text.strip()
    assert not list(tmp_path.glob("*.part"))


def test_root_format_range_and_fps(anim, exported):
    _, text = exported
    root, roto, shapes = nk_roto(text)
    w, h, x, y, r, t, aspect, *name = str(root["format"]).split()
    assert (int(w), int(h), int(x), int(y), int(r), int(t), float(aspect)) == (1920, 1080, 0, 0, 1920, 1080, 1.0)
    assert name and name[0]
    assert int(str(root["first_frame"])) == 0 + 1  # earliest key (source 0) -> Nuke 1
    assert int(str(root["last_frame"])) == 20 + 1
    assert float(str(root["fps"])) == pytest.approx(24000 / 1001, abs=1e-6)
    assert str(roto["format"]) == str(root["format"])
    assert str(roto["output"]) == "alpha"


def test_every_vertex_and_tangent_on_every_key(anim, exported):
    _, text = exported
    _, _, shapes = nk_roto(text)
    by_name = {s.name: s for s in shapes}
    assert sorted(by_name) == sorted(t.name for t in anim.tracks)
    for track in anim.tracks:
        shape = by_name[track.name]
        assert shape.kind == "bezier"
        assert len(shape.main) == len(shape.feather) == track.point_count == 12
        times = shape.times()
        assert len(times) == len(track.frames)
        # Nuke frame = source frame + 1 (default first frame)
        assert [round(t) - 1 for t in times] == [int(f) for f in track.frames]
        assert all(abs(t - round(t)) < 1e-6 for t in times)
        for k, time in enumerate(times):
            v, tin, tout = to_luma(shape, time, anim.height)
            for got, want in ((v, track.vertices[k]), (tin, track.in_tangents[k]), (tout, track.out_tangents[k])):
                err = np.abs(got - want).max()
                assert err < TOL
                assert err < TIGHT


def test_the_parse_can_fail_on_a_wrong_file(anim, exported):
    """The comparison above is meaningful: a y that is not flipped or a frame off by one is caught."""
    _, text = exported
    _, _, shapes = nk_roto(text)
    body = next(s for s in shapes if s.name == "body")
    time = body.times()[0]
    t = body.at("main", time)
    unflipped = t[:, 1]
    assert np.abs(unflipped - anim.tracks[0].vertices[0]).max() > TOL
    with pytest.raises(KeyError):
        body.at("main", time + 0.5)
    with pytest.raises(NkSyntaxError):
        nk_tokens(text[:-3])


def test_curve_flags_order_and_modes(anim, exported):
    _, text = exported
    _, _, shapes = nk_roto(text)
    # Nuke lists the top-most shape first: the subtract hole must sit above the body it cuts
    assert [s.name for s in shapes] == ["hole", "body"]
    for s in shapes:
        assert s.flags & 512  # renderable
        assert all(f & 8192 for f in s.curve_flags)  # tangents relative to the point
    hole, body = shapes
    assert hole.attrs.get("bm") == 12.0
    assert "bm" not in body.attrs


def test_feather_points_offset_along_the_normal(anim, exported):
    _, text = exported
    _, _, shapes = nk_roto(text)
    by_name = {s.name: s for s in shapes}
    for track, sign in ((anim.tracks[0], +1), (anim.tracks[1], -1)):
        shape = by_name[track.name]
        width = track.feather_outer if sign > 0 else track.feather_inner
        for k, time in enumerate(shape.times()):
            feather = shape.at("feather", time)
            offsets = np.stack([feather[:, 1, 0], -feather[:, 1, 1]], axis=1)  # back to y down
            assert np.allclose(np.hypot(offsets[:, 0], offsets[:, 1]), width, atol=1e-3)
            outline = track.key(k).sample(32)
            for vertex, off in zip(track.vertices[k], offsets):
                # a small step along the offset leaves the shape (outer) or enters it (inner)
                probe = vertex + off / width * 1.0
                assert inside_polygon(probe, outline) == (sign < 0)
            # the feather curve's tangents follow the shape's
            main = shape.at("main", time)
            assert np.allclose(feather[:, 0], main[:, 0], atol=1e-4)
            assert np.allclose(feather[:, 2], main[:, 2], atol=1e-4)


def test_first_frame_option(anim, tmp_path):
    path = NukeExporter().export(anim, tmp_path / "offset.nk", first_frame=1001)[0]
    root, _, shapes = nk_roto(path.read_text())
    assert int(str(root["first_frame"])) == 1001 and int(str(root["last_frame"])) == 1021
    hole = next(s for s in shapes if s.name == "hole")
    assert [round(t) - 1001 for t in hole.times()] == [3, 5, 8, 9, 15]


def test_single_key_track_is_written_as_constants(tmp_path):
    v = np.array([[[10.0, 20.0], [200.0, 30.0], [120.0, 150.0]]])
    t = np.array([[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0]]])
    anim = RotoAnimation("still", 320, 240, 25, [SplineTrack("tri", [7], v, t, -t * 0.5)])
    path = NukeExporter().export(anim, tmp_path / "still.nk")[0]
    root, _, shapes = nk_roto(path.read_text())
    (shape,) = shapes
    assert shape.times() == [8.0]  # px time = the key's Nuke frame
    got, tin, tout = to_luma(shape, 8.0, 240)
    assert np.allclose(got, v[0], atol=1e-4) and np.allclose(tin, t[0], atol=1e-4)
    assert np.allclose(tout, -t[0] * 0.5, atol=1e-4)
    assert int(str(root["first_frame"])) == int(str(root["last_frame"])) == 8


def test_names_are_made_safe_and_unique(tmp_path):
    v = np.array([[[10.0, 20.0], [200.0, 30.0], [120.0, 150.0]]])
    z = np.zeros_like(v)
    anim = RotoAnimation('a "weird" {name}', 320, 240, 25,
                         [SplineTrack("left arm", [0], v, z, z), SplineTrack("left arm", [0], v + 1, z, z),
                          SplineTrack("3 {}", [0], v + 2, z, z)])
    path = NukeExporter().export(anim, tmp_path / "names.nk")[0]
    root, roto, shapes = nk_roto(path.read_text())
    names = [s.name for s in shapes]
    assert len(set(names)) == 3 and all(n.replace("_", "").isalnum() for n in names)
    assert str(roto["label"]) == 'a "weird" {name}'


def test_through_the_registry(anim, tmp_path):
    files = export_roto("nuke", tmp_path / "via_registry", animation=lambda: anim)
    assert files == [tmp_path / "via_registry.nk"]  # the extension is added
    _, _, shapes = nk_roto(files[0].read_text())
    assert sorted(s.name for s in shapes) == ["body", "hole"]


def test_folder_target_gets_a_named_file(anim, tmp_path):
    files = NukeExporter().export(anim, tmp_path)
    assert files == [tmp_path / "actor_1.nk"]


def test_unwritable_folder_raises_vision_error(anim, tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    with pytest.raises(VisionError, match="not_a_folder"):
        NukeExporter().export(anim, blocker / "sub" / "shot.nk")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root (or Windows) can write there")
def test_read_only_folder_raises_vision_error(anim, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(VisionError, match="cannot write"):
            NukeExporter().export(anim, ro / "shot.nk")
    finally:
        ro.chmod(0o700)


def test_failed_write_keeps_the_previous_file(anim, tmp_path, monkeypatch):
    target = tmp_path / "keep.nk"
    target.write_text("previous")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(VisionError, match="No space left"):
        NukeExporter().export(anim, target)
    assert target.read_text() == "previous"
    assert not list(tmp_path.glob("*.part"))


def test_empty_animation_is_refused(tmp_path):
    anim = RotoAnimation("nothing", 320, 240, 25, [])
    with pytest.raises(VisionError, match="no shapes"):
        NukeExporter().export(anim, tmp_path / "empty.nk")
    with pytest.raises(VisionError):
        export_roto("nuke", tmp_path / "empty.nk", animation=anim)
    assert not (tmp_path / "empty.nk").exists()


def test_bad_first_frame_is_refused(anim, tmp_path):
    with pytest.raises(VisionError, match="whole number"):
        NukeExporter().export(anim, tmp_path / "x.nk", first_frame=1.5)
