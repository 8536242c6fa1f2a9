"""Blend modes and opacity, checked on composited pixels against values worked out by hand."""

import numpy as np
import pytest

from core.render.blend import Layer, composite, mix, over
from tests.core.render.timeline_scene import Scene

BELOW = (51, 153, 204)  # 0.2, 0.6, 0.8
TOP = (204, 102, 51)  # 0.8, 0.4, 0.2

# blend(below, top) by hand, times 255, then at opacity 0.5: below + (blend - below) / 2
EXPECTED = {
    # top as is
    "normal": ((204, 102, 51), (127.5, 127.5, 127.5)),
    # 0.2+0.8, 0.6+0.4, 0.8+0.2 -> all 1.0 (clamped)
    "add": ((255, 255, 255), (153, 204, 229.5)),
    # 1 - 0.8*0.2, 1 - 0.4*0.6, 1 - 0.2*0.8 = 0.84, 0.76, 0.84
    "screen": ((214.2, 193.8, 214.2), (132.6, 173.4, 209.1)),
    # 0.2*0.8, 0.6*0.4, 0.8*0.2 = 0.16, 0.24, 0.16
    "multiply": ((40.8, 61.2, 40.8), (45.9, 107.1, 122.4)),
    # R: below 0.2 < 0.5 -> 2*0.2*0.8 = 0.32; G: 1 - 2*0.4*0.6 = 0.52; B: 1 - 2*0.2*0.8 = 0.68
    "overlay": ((81.6, 132.6, 173.4), (66.3, 142.8, 188.7)),
}


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    s = Scene(tmp_path_factory.mktemp("blend"))
    s.below = s.solid(BELOW)
    # the top picture is narrower than the frame: pillarboxed to x 40..120, transparent beside it
    s.top = s.solid(TOP, size=(80, 120))
    s.clip(s.below, 0, 0, 10)
    s.top_clip = s.clip(s.top, 1, 0, 10)
    yield s
    s.close()


@pytest.mark.parametrize("mode", list(EXPECTED))
@pytest.mark.parametrize("opacity", [1.0, 0.5])
def test_blend_mode_pixels(scene, mode, opacity):
    scene.top_clip = scene.change(scene.top_clip, props={"blend": mode, "opacity": opacity})
    comp = scene.compositor()
    rgb = comp.frame(3)
    comp.close()
    want = np.array(EXPECTED[mode][0 if opacity == 1.0 else 1])
    centre = rgb[60, 80].astype(float)
    assert np.abs(centre - want).max() <= 1.0, (mode, opacity, centre, want)
    assert (np.abs(rgb[20:100, 42:118].astype(float) - want).max(axis=2) <= 1.0).all()
    # beside the top picture the lower track shows through untouched
    assert (rgb[:, :40] == BELOW).all() and (rgb[:, 120:] == BELOW).all()


def test_layers_are_float_and_alpha_aware():
    canvas = np.full((4, 4, 3), 0.5, np.float32)
    top = Layer(np.full((2, 2, 3), 1.0, np.float32), np.array([[1.0, 0.5], [0.0, 0.25]], np.float32), (1, 1, 3, 3))
    composite(canvas, top, "normal")
    assert np.allclose(canvas[1:3, 1:3, 0], [[1.0, 0.75], [0.5, 0.625]], atol=1e-4)
    assert np.allclose(canvas[0], 0.5) and np.allclose(canvas[:, 3], 0.5)
    # premultiplied mix: half of an opaque red and half of nothing is red at half alpha
    red = Layer(np.tile(np.float32([1, 0, 0]), (2, 2, 1)), None, (0, 0, 2, 2))
    half = mix(red, None, 0.5, 4, 4)
    assert np.allclose(half.rgb, [1, 0, 0]) and np.isclose(half.opacity, 0.5)
    blue = Layer(np.tile(np.float32([0, 0, 1]), (2, 2, 1)), None, (2, 2, 4, 4))
    both = mix(red, blue, 0.25, 4, 4)
    assert both.box == (0, 0, 4, 4)
    assert np.allclose(both.rgb[0, 0], [1, 0, 0]) and np.isclose(both.alpha[0, 0], 0.75)
    assert np.allclose(both.rgb[3, 3], [0, 0, 1]) and np.isclose(both.alpha[3, 3], 0.25)
    assert np.isclose(both.alpha[0, 3], 0.0)
    o = over(Layer(blue.rgb, np.full((2, 2), 0.5, np.float32), (1, 1, 3, 3)), red)
    assert np.allclose(o.rgb[1, 1], [0.5, 0, 0.5]) and np.isclose(o.alpha[1, 1], 1.0)
    assert np.isclose(o.alpha[2, 2], 0.5) and np.allclose(o.rgb[2, 2], [0, 0, 1])
