"""DMX frames: real bytes for 8/16-bit, colour mixing, wheels, dimmers, strobe, gobos, universes."""

from __future__ import annotations

import numpy as np
import pytest

from core.lighting.dmx import DmxRenderer, to_8bit, to_16bit
from core.lighting.layers import Layer
from core.lighting.qxf import load_qxf
from lighting_util import DIMMER, HEAD, RGB, RGBW, const_pattern, frame_at, one_layer_frame, patch_of, show_of, write_qxf


@pytest.fixture(scope="module")
def custom(tmp_path_factory):
    """Definitions the bundled set does not have: CMY, RGBA, a 2-head bar with a master, an inverted zoom."""
    d = tmp_path_factory.mktemp("qxf")
    cmy = write_qxf(d / "cmy.qxf", """
 <Channel Name="Dimmer" Preset="IntensityDimmer"/>
 <Channel Name="C" Preset="IntensityCyan"/><Channel Name="M" Preset="IntensityMagenta"/>
 <Channel Name="Y" Preset="IntensityYellow"/>
 <Channel Name="Zoom" Preset="BeamZoomBigSmall"/>
 <Channel Name="Focus" Default="77" Preset="BeamFocusNearFar"/>
 <Mode Name="6ch"><Channel Number="0">Dimmer</Channel><Channel Number="1">C</Channel>
  <Channel Number="2">M</Channel><Channel Number="3">Y</Channel><Channel Number="4">Zoom</Channel>
  <Channel Number="5">Focus</Channel></Mode>""", "Test", "CMY Spot")
    rgba = write_qxf(d / "rgba.qxf", """
 <Channel Name="Dimmer" Preset="IntensityDimmer"/>
 <Channel Name="R" Preset="IntensityRed"/><Channel Name="G" Preset="IntensityGreen"/>
 <Channel Name="B" Preset="IntensityBlue"/><Channel Name="A" Preset="IntensityAmber"/>
 <Mode Name="5ch"><Channel Number="0">Dimmer</Channel><Channel Number="1">R</Channel>
  <Channel Number="2">G</Channel><Channel Number="3">B</Channel><Channel Number="4">A</Channel></Mode>""",
                     "Test", "RGBA Par")
    bar = write_qxf(d / "bar.qxf", """
 <Channel Name="Master" Preset="IntensityMasterDimmer"/>
 <Channel Name="R1" Preset="IntensityRed"/><Channel Name="G1" Preset="IntensityGreen"/><Channel Name="B1" Preset="IntensityBlue"/>
 <Channel Name="R2" Preset="IntensityRed"/><Channel Name="G2" Preset="IntensityGreen"/><Channel Name="B2" Preset="IntensityBlue"/>
 <Channel Name="D1" Preset="IntensityDimmer"/><Channel Name="D2" Preset="IntensityDimmer"/>
 <Mode Name="master"><Channel Number="0">Master</Channel>
  <Channel Number="1">R1</Channel><Channel Number="2">G1</Channel><Channel Number="3">B1</Channel>
  <Channel Number="4">R2</Channel><Channel Number="5">G2</Channel><Channel Number="6">B2</Channel>
  <Head><Channel>1</Channel><Channel>2</Channel><Channel>3</Channel></Head>
  <Head><Channel>4</Channel><Channel>5</Channel><Channel>6</Channel></Head></Mode>
 <Mode Name="own dimmers"><Channel Number="0">Master</Channel>
  <Channel Number="1">R1</Channel><Channel Number="2">D1</Channel><Channel Number="3">R2</Channel><Channel Number="4">D2</Channel>
  <Head><Channel>1</Channel><Channel>2</Channel></Head><Head><Channel>3</Channel><Channel>4</Channel></Head></Mode>""",
                    "Test", "Bar")
    return {x.key: x for x in (load_qxf(cmy), load_qxf(rgba), load_qxf(bar))}


def test_value_scaling_is_documented_rounding():
    np.testing.assert_array_equal(to_8bit(np.array([0.0, 0.5, 1.0, 1 / 255, 0.499 / 255, 2.0, -1.0])),
                                  [0, 128, 255, 1, 0, 255, 0])
    n = to_16bit(np.array([0.0, 0.5, 0.25, 1.0, 0.123456]))
    np.testing.assert_array_equal(n, [0, 0x8000, 0x4000, 0xFFFF, 8091])


def test_16_bit_pan_tilt_split_into_coarse_and_fine():
    patch = patch_of(("mh", HEAD, "16 Channel", 1, 1))
    cases = {(0.5, 0.25): [0x80, 0x00, 0x40, 0x00], (1.0, 0.0): [0xFF, 0xFF, 0, 0],
             (0.123456, 0.75): [31, 155, 0xBF, 0xFF]}
    for (pan, tilt), expected in cases.items():
        frame = one_layer_frame(patch, position=(pan, tilt))
        assert frame[0, 0:4].tolist() == expected
    # the 8-bit mode of the same head uses the coarse value rounded on its own: 0.5 -> 128
    frame = one_layer_frame(patch_of(("mh", HEAD, "8 Channel", 1, 1)), position=(0.5, 0.123456))
    assert frame[0, 0:2].tolist() == [128, 31]


def test_16_bit_dimmer_and_moving_head_defaults():
    frame = one_layer_frame(patch_of(("d", DIMMER, "16-bit", 1, 1)), level=0.75)
    assert frame[0, :2].tolist() == [0xBF, 0xFF]
    # nothing applied: centre position, dark, shutter open, wheel at open/white, gobo open, zoom/focus default
    show = show_of(patch_of(("mh", HEAD, "16 Channel", 1, 1)), [const_pattern("p", level=0.0)], [Layer("p", 0, 4)])
    frame, _ = frame_at(show, 10.0)  # after the layer
    assert frame[0, :13].tolist() == [128, 0, 128, 0, 0, 0, 0, 11, 4, 3, 0, 0, 0]


def test_rgb_virtual_dimmer_and_own_dimmer():
    frame = one_layer_frame(patch_of(("p", RGB, "3 Channel", 1, 1)), color=[1.0, 0.5, 0.0], level=0.5)
    assert frame[0, :3].tolist() == [128, 64, 0]  # 0.5, 0.25, 0 (no dimmer channel: colour x intensity)
    frame = one_layer_frame(patch_of(("p", RGB, "5 Channel", 1, 1)), color=[1.0, 0.5, 0.0], level=0.5)
    assert frame[0, :5].tolist() == [128, 255, 128, 0, 4]  # dimmer, R, G, B, strobe open


def test_rgbw_takes_white_out_of_the_colour():
    frame = one_layer_frame(patch_of(("p", RGBW, "6 Channel", 1, 1)), color=[1.0, 0.5, 0.25], level=1.0)
    assert frame[0, :6].tolist() == [255, 191, 64, 0, 64, 4]  # R .75, G .25, B 0, W .25
    frame = one_layer_frame(patch_of(("p", RGBW, "4 Channel", 1, 1)), color="#ffffff", level=0.5)
    assert frame[0, :4].tolist() == [0, 0, 0, 128]  # white only, through the virtual dimmer


def test_rgba_and_cmy(custom):
    frame = one_layer_frame(patch_of(("p", "Test/RGBA Par", "5ch", 1, 1), extra=custom), color=[1.0, 0.5, 0.0], level=1.0)
    assert frame[0, :5].tolist() == [255, 0, 0, 0, 255]  # pure amber
    frame = one_layer_frame(patch_of(("p", "Test/RGBA Par", "5ch", 1, 1), extra=custom), color=[1.0, 0.75, 0.0], level=1.0)
    assert frame[0, :5].tolist() == [255, 0, 64, 0, 255]  # amber + 0.25 green
    frame = one_layer_frame(patch_of(("s", "Test/CMY Spot", "6ch", 1, 1), extra=custom), color=[1.0, 0.6, 0.0], level=0.5)
    assert frame[0, :4].tolist() == [128, 0, 102, 255]  # dimmer, C = 1-r, M = 1-g, Y = 1-b


def test_zoom_inverted_and_focus_default_when_no_layer(custom):
    patch = patch_of(("s", "Test/CMY Spot", "6ch", 1, 1), extra=custom)
    assert one_layer_frame(patch, zoom=1.0)[0, 4:6].tolist() == [0, 77]  # big-to-small: 1 -> 0; focus default
    assert one_layer_frame(patch, zoom=0.25, focus=1.0)[0, 4:6].tolist() == [191, 255]


@pytest.mark.parametrize(
    "color, slot",
    [("#e61a1a", 14), ([0.0, 0.5, 0.5], 54), ([1.0, 0.55, 0.0], 24), ("#000000", 4), ([0.9, 0.9, 1.0], 4),
     ([0.0, 0.0, 0.3], 64)],
)
def test_colour_wheel_picks_the_nearest_macro(color, slot):
    frame = one_layer_frame(patch_of(("mh", HEAD, "16 Channel", 1, 1)), color=color, level=1.0)
    assert frame[0, 8] == slot


def test_colour_wheel_heads_take_brightness_from_the_colour():
    patch = patch_of(("mh", HEAD, "16 Channel", 1, 1))
    frame = one_layer_frame(patch, color=[0.0, 0.5, 0.5], level=1.0)
    assert frame[0, 5:7].tolist() == [0x80, 0x00]  # dimmer = intensity x brightest component 0.5
    frame = one_layer_frame(patch, level=0.5)  # no colour layer: the dimmer alone decides
    assert frame[0, 5:9].tolist() == [0x80, 0x00, 11, 4]


def test_master_dimmer_shared_by_heads(custom):
    patch = patch_of(("bar", "Test/Bar", "master", 1, 1), extra=custom)
    show = show_of(patch, [const_pattern("w", ["bar"], color="#ffffff"), const_pattern("d1", ["bar.1"], level=1.0),
                           const_pattern("d2", ["bar.2"], level=0.5)],
                   [Layer("w", 0, 8), Layer("d1", 0, 8, z=1), Layer("d2", 0, 8, z=1)])
    frame, _ = frame_at(show, 1.0)
    # master = brightest head; head 2 at half of it through its colour
    assert frame[0, :7].tolist() == [255, 255, 255, 255, 128, 128, 128]
    frame, _ = frame_at(show, 1.0, grand_master=0.5)
    assert frame[0, :7].tolist() == [128, 255, 255, 255, 128, 128, 128]
    # heads with their own dimmers: the master is full (grand master), the heads dim themselves
    patch = patch_of(("bar", "Test/Bar", "own dimmers", 1, 1), extra=custom)
    show = show_of(patch, [const_pattern("w", ["bar"], color="#ff0000"), const_pattern("d2", ["bar.2"], level=0.5)],
                   [Layer("w", 0, 8), Layer("d2", 0, 8, z=1)])
    frame, _ = frame_at(show, 1.0, grand_master=0.5)
    assert frame[0, :5].tolist() == [128, 255, 0, 255, 64]


def test_grand_master_scales_intensity_only():
    patch = patch_of(("a", RGB, "3 Channel", 1, 1), ("b", RGBW, "6 Channel", 1, 4), ("mh", HEAD, "16 Channel", 1, 10))
    frame = one_layer_frame(patch, grand_master=0.5, color="#ffffff", level=1.0, position=(1.0, 1.0))
    assert frame[0, :3].tolist() == [128, 128, 128]
    assert frame[0, 3:9].tolist() == [128, 0, 0, 0, 255, 4]
    assert frame[0, 9:13].tolist() == [255, 255, 255, 255]  # position is not dimmed
    assert frame[0, 14:16].tolist() == [0x80, 0x00]
    assert one_layer_frame(patch, grand_master=0.0, color="#ffffff", level=1.0)[0, :3].tolist() == [0, 0, 0]


def test_strobe_and_gobo():
    patch = patch_of(("mh", HEAD, "16 Channel", 1, 1), ("p", RGB, "5 Channel", 1, 20))
    assert one_layer_frame(patch, strobe=0.0)[0, [7, 23]].tolist() == [11, 4]  # open
    assert one_layer_frame(patch, strobe=1.0)[0, [7, 23]].tolist() == [131, 255]  # fastest
    assert one_layer_frame(patch, strobe=0.5)[0, [7, 23]].tolist() == [74, 133]  # 16 + 57.5, 10 + 122.5
    assert one_layer_frame(patch, gobo=2)[0, 9] == 19
    assert one_layer_frame(patch, gobo=99)[0, 9] == 51  # past the last gobo: the last one


def test_universes_and_unpatched_channels():
    patch = patch_of(("a", RGB, "3 Channel", 3, 510), ("b", RGB, "3 Channel", 1, 1))
    show = show_of(patch, [const_pattern("p", color="#ff0000", level=1.0)], [Layer("p", 0, 8)])
    frame, renderer = frame_at(show, 1.0)
    assert renderer.universes == [1, 3] and frame.shape == (2, 512) and frame.dtype == np.uint8
    assert renderer.universe(frame, 3)[509:512].tolist() == [255, 0, 0]
    assert renderer.universe(frame, 1)[:3].tolist() == [255, 0, 0]
    assert renderer.universe(frame, 2).tolist() == [0] * 512
    assert int(renderer.universe(frame, 1)[3:].sum()) == 0 and int(renderer.universe(frame, 3)[:509].sum()) == 0


def test_renderer_for_an_empty_patch():
    show = show_of(patch_of(), [], [])
    frame, renderer = frame_at(show, 0.0)
    assert frame.shape == (0, 512)
    assert renderer.universe(frame, 1).tolist() == [0] * 512
    assert isinstance(renderer, DmxRenderer)
