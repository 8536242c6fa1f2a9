"""Decoding DMX frames into what the stage view draws: light colour, intensity, pan and tilt."""

from __future__ import annotations

import numpy as np
import pytest

from core.lighting.buffer import CompositeBuffer
from core.lighting.layers import Layer
from core.lighting.qxf import load_qxf
from core.lighting.visualize import FixtureVisualizer, StageLook, beam_floor_points
from lighting_util import DIMMER, HEAD, RGB, RGBW, const_pattern, frame_at, patch_of, show_of, write_qxf


@pytest.fixture(scope="module")
def custom(tmp_path_factory):
    d = tmp_path_factory.mktemp("qxf")
    cmy = write_qxf(d / "cmy.qxf", """
 <Channel Name="Dimmer" Preset="IntensityDimmer"/>
 <Channel Name="C" Preset="IntensityCyan"/><Channel Name="M" Preset="IntensityMagenta"/>
 <Channel Name="Y" Preset="IntensityYellow"/>
 <Mode Name="4ch"><Channel Number="0">Dimmer</Channel><Channel Number="1">C</Channel>
  <Channel Number="2">M</Channel><Channel Number="3">Y</Channel></Mode>""", "Test", "CMY Spot")
    bar = write_qxf(d / "bar.qxf", """
 <Channel Name="Master" Preset="IntensityMasterDimmer"/>
 <Channel Name="R1" Preset="IntensityRed"/><Channel Name="G1" Preset="IntensityGreen"/><Channel Name="B1" Preset="IntensityBlue"/>
 <Channel Name="R2" Preset="IntensityRed"/><Channel Name="G2" Preset="IntensityGreen"/><Channel Name="B2" Preset="IntensityBlue"/>
 <Mode Name="master"><Channel Number="0">Master</Channel>
  <Channel Number="1">R1</Channel><Channel Number="2">G1</Channel><Channel Number="3">B1</Channel>
  <Channel Number="4">R2</Channel><Channel Number="5">G2</Channel><Channel Number="6">B2</Channel>
  <Head><Channel>1</Channel><Channel>2</Channel><Channel>3</Channel></Head>
  <Head><Channel>4</Channel><Channel>5</Channel><Channel>6</Channel></Head></Mode>""", "Test", "Bar")
    return {x.key: x for x in (load_qxf(cmy), load_qxf(bar))}


def rig_patch(custom):
    return patch_of(("rgb", RGB, "3 Channel", 1, 1), ("rgbw", RGBW, "6 Channel", 1, 4), ("mh", HEAD, "16 Channel", 1, 10),
                    ("dim", DIMMER, "8-bit", 2, 1), ("cmy", "Test/CMY Spot", "4ch", 2, 2), ("bar", "Test/Bar", "master", 2, 6),
                    extra=custom)


def test_light_equals_the_dmx_the_engine_renders(custom):
    patch = rig_patch(custom)
    show = show_of(patch, [const_pattern("c", color=[1.0, 0.5, 0.25], level=0.8, position=(0.75, 0.25)),
                           const_pattern("half", ["bar.2", "mh"], level=0.5)],
                   [Layer("c", 0, 8), Layer("half", 0, 8, z=1)])
    frame, renderer = frame_at(show, 1.0)
    vis = FixtureVisualizer(patch.rig())
    assert vis.universes == renderer.universes == [1, 2]
    look = vis.decode(frame)
    u1, u2 = frame[0].astype(float) / 255, frame[1].astype(float) / 255
    light = look.light
    np.testing.assert_allclose(light[0], u1[0:3], atol=1e-6)  # RGB par without dimmer: the bytes are the light
    w = u1[7]
    np.testing.assert_allclose(light[1], u1[3] * (u1[4:7] + w), atol=1e-6)  # RGBW: dimmer x (rgb + white)
    assert light[1] == pytest.approx([0.8, 0.4, 0.2], abs=2.5 / 255)
    # moving head: colour wheel slot nearest to the hue (orange 20-29), 16-bit dimmer; pan/tilt in degrees
    assert frame[0, 9 + 8] in range(20, 30)
    np.testing.assert_allclose(look.color[2], [1.0, 128 / 255, 0.0], atol=1e-6)
    dimmer16 = (int(frame[0, 9 + 5]) * 256 + int(frame[0, 9 + 6])) / 65535
    assert look.intensity[2] == pytest.approx(dimmer16, abs=1e-6)
    assert look.pan[2] == pytest.approx(0.25 * 540, abs=0.02) and look.tilt[2] == pytest.approx(-0.25 * 270, abs=0.02)
    assert look.moving.tolist() == [False, False, True, False, False, False, False]
    assert look.light[3] == pytest.approx([u2[0]] * 3)  # a plain dimmer is white light
    np.testing.assert_allclose(light[4], u2[1] * (1.0 - u2[2:5]), atol=1e-6)  # CMY: 1 - c, 1 - m, 1 - y
    # the bar: a shared master dimmer times each head's RGB
    np.testing.assert_allclose(light[5], u2[5] * u2[6:9], atol=1e-6)
    np.testing.assert_allclose(light[6], u2[5] * u2[9:12], atol=1e-6)
    assert light[6] == pytest.approx([0.5, 0.25, 0.125], abs=2.5 / 255)  # its level 0.5 under a master at 0.8
    # grand master halves the light it sends; so does the decoded look
    half = vis.decode(renderer.render(CompositeBuffer(show).sample(1.0), 0.5))
    assert half.intensity[:2] == pytest.approx(0.5 * look.intensity[:2], abs=2.5 / 255)
    assert half.color[1] == pytest.approx(look.color[1], abs=0.02)


def test_dark_heads_keep_their_hue_and_a_closed_shutter_is_dark(custom):
    patch = rig_patch(custom)
    vis = FixtureVisualizer(patch.rig())
    frame = np.zeros((2, 512), np.uint8)
    frame[0, 0:3] = [0, 0, 0]
    frame[0, 3:7] = [0, 0, 255, 0]  # RGBW dimmer 0, green
    frame[0, 9 + 5 : 9 + 7] = 255  # moving head dimmer full (16 bit), shutter 0 = closed, wheel 0 = open/white
    look = vis.decode(frame)
    assert look.intensity[:3].tolist() == [0.0, 0.0, 0.0]
    assert look.color[0].tolist() == [1.0, 1.0, 1.0] and look.color[1].tolist() == [0.0, 1.0, 0.0]
    frame[0, 9 + 7] = 10  # shutter open
    assert vis.decode(frame).intensity[2] == 1.0 and vis.decode(frame).color[2].tolist() == [1.0, 1.0, 1.0]
    frame[0, 9 + 8] = 65  # wheel: blue
    assert vis.decode(frame).color[2].tolist() == [0.0, 0.0, 1.0]
    as_dict = vis.decode_universes({1: frame[0]})
    np.testing.assert_array_equal(as_dict.light, vis.decode(np.stack([frame[0], np.zeros(512, np.uint8)])).light)
    with pytest.raises(ValueError, match="1024"):
        vis.decode(np.zeros((1, 512), np.uint8))


def test_a_whole_rig_decodes_in_one_pass():
    patch = patch_of(*[(f"p{i}", RGB, "3 Channel", 1 + i // 170, 1 + 3 * (i % 170)) for i in range(500)])
    vis = FixtureVisualizer(patch.rig())
    frame = np.random.default_rng(1).integers(0, 256, (3, 512), dtype=np.uint8)
    look = vis.decode(frame)
    want = np.stack([frame[i // 170, 3 * (i % 170) : 3 * (i % 170) + 3] for i in range(500)]) / 255
    np.testing.assert_allclose(look.light, want, atol=1e-6)
    assert StageLook.dark(3).light.tolist() == [[0.0] * 3] * 3


def test_beam_floor_points():
    pos = np.array([[0, 0, 4], [1, 2, 4], [0, 0, 4], [0, 0, 4], [5, 5, 0]], dtype=float)
    pan = np.array([0, 90, 0, 180, 0])
    tilt = np.array([45, 45, 90, -45, 30])
    pts = beam_floor_points(pos, pan, tilt, max_reach=10)
    np.testing.assert_allclose(pts, [[0, -4], [5, 2], [0, -10], [0, -4], [5, 3.5]], atol=1e-9)
    np.testing.assert_allclose(beam_floor_points(pos[:1], [30], [0]), [[0, 0]], atol=1e-12)  # home: straight down
