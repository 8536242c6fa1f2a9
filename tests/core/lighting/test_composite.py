"""Compositing layers: blend-mode reference values, opacity, empty layers, defaults, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.lighting.composite import LayerSlice, blend, composite
from core.lighting.errors import LayerError
from core.lighting.layers import BlendMode, Keyframe, Layer, OpacityCurve
from core.lighting.pattern import CapValues, LayerOutput

N = 3  # primitives
T = 4  # samples


def out_of(**caps) -> LayerOutput:
    """caps: name -> (indices, value per primitive [k, d] or one value [d])."""
    o = LayerOutput()
    for name, (idx, val) in caps.items():
        v = np.asarray(val, dtype=np.float32)
        v = v.reshape(1, 1, -1) if v.ndim == 1 else v[None]
        o.caps[name] = CapValues(np.asarray(idx, dtype=np.int64), v)
    return o


def layer(output, mode="replace", opacity=1.0, start=0, stop=T):
    op = np.broadcast_to(np.asarray(opacity, dtype=np.float32), (stop - start,))
    return LayerSlice(start, stop, BlendMode.parse(mode), op, output)


def run(*slices, caps=("intensity", "color", "gobo")):
    return composite(list(caps), T, N, list(slices))


BELOW = 0.6
TOP = 0.5
REFERENCE = {  # blend(0.6, 0.5) and the result at opacity 0.5: 0.6 + 0.5 * (blend - 0.6)
    "replace": (0.5, 0.55),
    "add": (1.0, 0.8),  # 1.1 clamped to 1
    "multiply": (0.3, 0.45),
    "screen": (0.8, 0.7),  # 1 - 0.4 * 0.5
    "max": (0.6, 0.6),
    "min": (0.5, 0.55),
}


@pytest.mark.parametrize("mode", list(REFERENCE))
def test_blend_mode_reference_values(mode):
    full, half = REFERENCE[mode]
    base = layer(out_of(intensity=([0, 1, 2], [BELOW]), color=([0, 1, 2], [BELOW, 0.0, 1.0])))
    for opacity, expected in ((1.0, full), (0.5, half)):
        top = layer(out_of(intensity=([0, 1], [TOP]), color=([0, 1], [TOP, TOP, TOP])), mode, opacity)
        res = run(base, top)
        np.testing.assert_allclose(res["intensity"].values[:, :2, 0], expected, atol=1e-6)
        np.testing.assert_allclose(res["intensity"].values[:, 2, 0], BELOW, atol=1e-6)  # not written by the top
        # colour channels blend independently: g below 0, b below 1
        g = {"replace": 0.5, "add": 0.5, "multiply": 0.0, "screen": 0.5, "max": 0.5, "min": 0.0}[mode]
        b = {"replace": 0.5, "add": 1.0, "multiply": 0.5, "screen": 1.0, "max": 1.0, "min": 0.5}[mode]
        exp_g, exp_b = 0.0 + opacity * (g - 0.0), 1.0 + opacity * (b - 1.0)
        np.testing.assert_allclose(res["color"].values[0, 0], [expected, exp_g, exp_b], atol=1e-6)


def test_blend_function_directly():
    b, t = np.array([0.0, 0.25, 1.0]), np.array([1.0, 0.5, 0.5])
    np.testing.assert_allclose(blend(BlendMode.ADD, b, t), [1.0, 0.75, 1.0])
    np.testing.assert_allclose(blend(BlendMode.SCREEN, b, t), [1.0, 0.625, 1.0])
    np.testing.assert_allclose(blend(BlendMode.MULTIPLY, b, t), [0.0, 0.125, 0.5])


def test_nothing_below_shows_the_layer_itself_in_every_mode_and_mixes_with_the_default():
    for mode in REFERENCE:
        res = run(layer(out_of(intensity=([1], [0.5])), mode))
        np.testing.assert_allclose(res["intensity"].values[:, 1, 0], 0.5)
        res = run(layer(out_of(intensity=([1], [0.5])), mode, opacity=0.5))
        np.testing.assert_allclose(res["intensity"].values[:, 1, 0], 0.25)  # halfway to the default 0


def test_no_layers_and_empty_layers_give_defaults():
    for slices in ((), (layer(LayerOutput()),), (layer(out_of(intensity=([0], [1.0])), start=2, stop=2),)):
        res = run(*slices, caps=("intensity", "color", "position", "gobo"))
        assert not res["intensity"].present.any()
        np.testing.assert_array_equal(res["intensity"].values, 0.0)
        np.testing.assert_array_equal(res["color"].values, 0.0)
        np.testing.assert_array_equal(res["position"].values, 0.5)  # home = centre
    # an empty layer between two others changes nothing
    a = layer(out_of(intensity=([0, 1, 2], [0.4])))
    b = layer(out_of(intensity=([0, 1, 2], [0.2])), "add")
    with_empty = run(a, layer(LayerOutput(), "multiply"), b)
    np.testing.assert_allclose(with_empty["intensity"].values, run(a, b)["intensity"].values)


def test_layers_only_act_on_their_samples_and_presence_follows_opacity():
    res = run(layer(out_of(intensity=([0], [1.0])), start=1, stop=3),
              layer(out_of(intensity=([1], [1.0])), opacity=[0.0, 0.0, 1.0, 0.0]))
    np.testing.assert_array_equal(res["intensity"].values[:, 0, 0], [0, 1, 1, 0])
    np.testing.assert_array_equal(res["intensity"].present[:, 0], [False, True, True, False])
    np.testing.assert_array_equal(res["intensity"].present[:, 1], [False, False, True, False])


def test_opacity_outside_0_1_is_clamped_in_the_compositor():
    base = layer(out_of(intensity=([0], [0.6])))
    res = run(base, layer(out_of(intensity=([0], [0.2])), opacity=[-0.5, 0.0, 1.0, 1.5]))
    np.testing.assert_allclose(res["intensity"].values[:, 0, 0], [0.6, 0.6, 0.2, 0.2])


def test_discrete_capabilities_switch_at_half_opacity():
    base = layer(out_of(gobo=([0], [2.0])))
    res = run(base, layer(out_of(gobo=([0], [5.0])), "add", opacity=[0.0, 0.4, 0.5, 1.0]))
    np.testing.assert_array_equal(res["gobo"].values[:, 0, 0], [2, 2, 5, 5])


def test_opacity_curve_keyframes():
    curve = OpacityCurve((Keyframe(0, 0.0), Keyframe(4, 1.0, "smooth"), Keyframe(8, 0.0), Keyframe(10, 0.5)))
    beats = np.array([-1, 0, 2, 4, 5, 6, 7, 8, 9, 10, 12])
    expected = [0, 0, 0.5, 1, 1 - 0.15625, 0.5, 0.15625, 0, 0.25, 0.5, 0.5]
    np.testing.assert_allclose(curve.evaluate(beats), expected)
    np.testing.assert_array_equal(OpacityCurve().evaluate(beats), 1.0)
    np.testing.assert_array_equal(OpacityCurve((Keyframe(3, 0.25),)).evaluate(beats), 0.25)
    step = OpacityCurve((Keyframe(0, 0.0), Keyframe(2, 0.0), Keyframe(2, 1.0)))
    np.testing.assert_allclose(step.evaluate(np.array([1.9, 2.0, 3.0])), [0, 1, 1])


def test_opacity_values_out_of_range_and_bad_curves_are_rejected():
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(LayerError):
            Keyframe(0, bad)
    with pytest.raises(LayerError, match="outside 0..1"):
        Keyframe(2, 1.01)
    with pytest.raises(LayerError, match="time order"):
        OpacityCurve((Keyframe(4, 1.0), Keyframe(0, 0.0)))
    with pytest.raises(LayerError, match="interpolation 'cubic'"):
        Keyframe(0, 1.0, "cubic")
    with pytest.raises(LayerError, match="end_beat 4 must be after start_beat 4"):
        Layer("p", 4, 4)
    with pytest.raises(LayerError, match="blend mode 'overlay' is unknown"):
        Layer("p", 0, 4, blend="overlay")


# ---------------------------------------------------------------- properties

unit = st.floats(0.0, 1.0, allow_nan=False)
modes = st.sampled_from(list(BlendMode))


@st.composite
def random_layer(draw, opacity=None):
    idx = sorted(draw(st.sets(st.integers(0, N - 1), min_size=1)))
    values = np.array(draw(st.lists(st.lists(unit, min_size=3, max_size=3), min_size=len(idx), max_size=len(idx))))
    level = np.array(draw(st.lists(unit, min_size=len(idx), max_size=len(idx))))[:, None]
    output = out_of(color=(idx, values), intensity=(idx, level))
    op = draw(st.lists(st.floats(-1.0, 2.0, allow_nan=False), min_size=T, max_size=T)) if opacity is None else opacity
    return layer(output, draw(modes), op)


@settings(max_examples=80, deadline=None)
@given(st.lists(random_layer(), max_size=4), random_layer(opacity=0.0))
def test_property_a_layer_with_opacity_0_never_changes_the_output(below, invisible):
    with_it, without = run(*below, invisible), run(*below)
    for cap in ("intensity", "color"):
        np.testing.assert_array_equal(with_it[cap].values, without[cap].values)
        np.testing.assert_array_equal(with_it[cap].present, without[cap].present)


@settings(max_examples=80, deadline=None)
@given(st.lists(random_layer(), max_size=4), random_layer(opacity=1.0))
def test_property_replace_at_opacity_1_equals_the_top_layer(below, top):
    top.blend = BlendMode.REPLACE
    res = run(*below, top)
    for cap in ("intensity", "color"):
        cv = top.output.caps[cap]
        np.testing.assert_allclose(res[cap].values[:, cv.indices], np.broadcast_to(cv.values, (T,) + cv.values.shape[1:]),
                                   atol=1e-6)


@settings(max_examples=80, deadline=None)
@given(st.lists(random_layer(), min_size=1, max_size=5))
def test_property_results_stay_within_0_1(layers):
    res = run(*layers)
    for cap in ("intensity", "color"):
        assert res[cap].values.min() >= 0.0 and res[cap].values.max() <= 1.0
