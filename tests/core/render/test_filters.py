"""Filters: each moves pixels the way its name says, monotonic where it should be, deterministic grain."""

import numpy as np
import pytest

from core.errors import EditError
from core.render import filters as F
from core.render.filters import FILTERS, FilterContext, linear_to_srgb, srgb_to_linear
from core.timeline import props as tprops
from tests.core.render.timeline_scene import Scene

CTX = FilterContext(0, 0)


def run(kind, rgb, ctx=CTX, **params):
    full = F.evaluate_params({"type": kind, "params": params}, ctx.frame)
    return FILTERS[kind].fn(np.array(rgb, np.float32, copy=True), full, ctx)


def ramp(h=8, w=64):
    x = np.linspace(0.02, 0.98, w, dtype=np.float32)
    return np.repeat(np.repeat(x[None, :, None], h, axis=0), 3, axis=2)


def colourful(seed=0, shape=(40, 50)):
    return np.random.default_rng(seed).uniform(0.05, 0.95, shape + (3,)).astype(np.float32)


def test_every_filter_is_registered_with_the_timeline():
    assert set(tprops.FILTER_SPECS) == set(FILTERS) == {
        "exposure", "contrast", "saturation", "temperature", "gamma", "levels", "hue_shift", "sharpen", "blur",
        "vignette", "film_grain", "lut"}
    tprops.check_filters([{"type": "blur", "params": {"radius": {"keys": [[0, 0, "linear"], [10, 4, "bezier"]]}}},
                          {"type": "lut", "params": {"path": "a.cube", "mix": 0.5}}])
    with pytest.raises(EditError, match="exposure has no parameter 'amount'"):
        tprops.check_filters([{"type": "exposure", "params": {"amount": 1}}])
    with pytest.raises(EditError, match="must lie in"):
        tprops.check_filters([{"type": "saturation", "params": {"amount": 9}}])


def test_srgb_round_trip_and_known_values():
    x = np.linspace(0, 1, 101, dtype=np.float32)
    assert np.allclose(linear_to_srgb(srgb_to_linear(x)), x, atol=2e-6)
    assert np.isclose(srgb_to_linear(np.float32([0.5]))[0], 0.21404, atol=1e-4)
    assert np.isclose(linear_to_srgb(np.float32([0.0031308]))[0], 0.04045, atol=1e-5)


def test_exposure_works_in_linear_light_and_is_monotonic():
    x = ramp()
    up = run("exposure", x, stops=1)
    # one stop doubles linear light: 0.5 encoded -> 0.214 linear -> 0.428 -> 0.686 encoded
    assert np.isclose(run("exposure", np.full((1, 1, 3), 0.5), stops=1)[0, 0, 0], 0.6858, atol=1e-3)
    means = [run("exposure", x, stops=s).mean() for s in (-2, -1, 0, 1, 2)]
    assert np.all(np.diff(means) > 0)
    assert np.all(np.diff(up[0, :, 0]) > 0)  # still a ramp
    assert (run("exposure", x, stops=0) == x).all()


def test_contrast_around_the_pivot():
    x = ramp()
    hi = run("contrast", x, amount=1.5)
    lo = run("contrast", x, amount=0.5)
    above, below = x > 0.5, x < 0.5
    assert (hi[above] > x[above]).all() and (hi[below] < x[below]).all()
    assert (lo[above] < x[above]).all() and (lo[below] > x[below]).all()
    pivot = np.full((1, 1, 3), 0.5, np.float32)
    assert np.allclose(run("contrast", pivot, amount=3.0), 0.5)
    assert np.allclose(run("contrast", np.full((1, 1, 3), 0.3), amount=2.0, pivot=0.3), 0.3)


def test_saturation_scales_distance_from_grey():
    x = colourful()
    grey = np.full((4, 4, 3), 0.4, np.float32)
    def spread(img):
        return np.abs(img - img.mean(axis=2, keepdims=True)).mean()
    values = [spread(run("saturation", x, amount=a)) for a in (0, 0.5, 1, 1.5, 2)]
    assert values[0] < 1e-6 and np.all(np.diff(values) > 0)
    assert np.allclose(run("saturation", grey, amount=3), 0.4, atol=1e-6)
    # luma is kept
    y = x @ np.float32([0.2126, 0.7152, 0.0722])
    assert np.allclose(run("saturation", x, amount=0.3) @ np.float32([0.2126, 0.7152, 0.0722]), y, atol=1e-5)


def test_temperature_and_tint():
    grey = np.full((2, 2, 3), 0.5, np.float32)
    warm = run("temperature", grey, temperature=0.5)[0, 0]
    cool = run("temperature", grey, temperature=-0.5)[0, 0]
    assert warm[0] > 0.5 > warm[2] and cool[2] > 0.5 > cool[0]
    magenta = run("temperature", grey, tint=0.5)[0, 0]
    assert magenta[1] < 0.5 and magenta[0] > 0.5 and magenta[2] > 0.5
    reds = [run("temperature", grey, temperature=t)[0, 0] for t in (-1, -0.5, 0, 0.5, 1)]
    assert np.all(np.diff([r[0] / r[2] for r in reds]) > 0)


def test_gamma_and_levels():
    x = ramp()
    means = [run("gamma", x, gamma=g).mean() for g in (0.5, 1, 2, 3)]
    assert np.all(np.diff(means) > 0)  # gamma above 1 brightens
    assert np.isclose(run("gamma", np.full((1, 1, 3), 0.25), gamma=2)[0, 0, 0], 0.5)
    lv = run("levels", np.float32([[[0.1, 0.5, 0.9]]]), in_black=0.1, in_white=0.9, out_black=0.2, out_white=0.8)
    assert np.allclose(lv, [[[0.2, 0.5, 0.8]]], atol=1e-6)
    lv = run("levels", np.float32([[[0.0, 0.55, 1.0]]]), in_black=0.1, in_white=0.9, gamma=2)
    assert np.allclose(lv, [[[0.0, np.sqrt(0.5625), 1.0]]], atol=1e-6)


def test_hue_shift_turns_primaries_and_keeps_grey():
    rgb = np.float32([[[1, 0, 0], [0, 1, 0], [0.3, 0.3, 0.3]]])
    out = run("hue_shift", rgb, degrees=120)
    assert np.allclose(out, [[[0, 1, 0], [0, 0, 1], [0.3, 0.3, 0.3]]], atol=1e-6)
    assert np.allclose(run("hue_shift", rgb, degrees=360), rgb)


def test_blur_reduces_variance_sharpen_raises_it():
    x = colourful(1, (60, 60))
    v = [run("blur", x, radius=r)[10:50, 10:50].var() for r in (0, 1, 2, 4)]
    assert np.all(np.diff(v) < 0)
    s = [run("sharpen", x, amount=a, radius=1)[10:50, 10:50].var() for a in (0, 0.5, 1)]
    assert np.all(np.diff(s) > 0)
    flat = np.full((20, 20, 3), 0.6, np.float32)
    assert np.allclose(run("blur", flat, radius=3), 0.6, atol=1e-5)


def test_blur_radius_follows_the_preview_scale():
    import cv2
    img = np.zeros((80, 80, 3), np.float32)
    img[:, 40:] = 1.0
    full = run("blur", img, radius=6)
    half = run("blur", cv2.resize(img, (40, 40), interpolation=cv2.INTER_AREA),
               FilterContext(0, 0, scale=0.5), radius=6)
    full_small = cv2.resize(full, (40, 40), interpolation=cv2.INTER_AREA)
    assert np.abs(half - full_small).max() < 0.03
    unscaled = run("blur", cv2.resize(img, (40, 40), interpolation=cv2.INTER_AREA), radius=6)
    assert np.abs(unscaled - full_small).max() > 0.1  # without the scale the preview would look blurrier


def test_vignette_darkens_corners_more_than_centre():
    x = np.full((60, 80, 3), 0.8, np.float32)
    out = run("vignette", x, amount=0.6, softness=0.8)
    corner, centre = out[0, 0, 0], out[30, 40, 0]
    assert corner < centre and np.isclose(centre, 0.8, atol=1e-3) and corner < 0.5
    stronger = run("vignette", x, amount=0.9, softness=0.8)
    assert stronger[0, 0, 0] < corner
    # brighter along the diagonal from the corner (index 0) in to the centre
    diag = out[np.arange(30), np.arange(30) * 4 // 3, 0]
    assert np.all(np.diff(diag) >= -1e-6) and diag[-1] > diag[0]


def test_film_grain_is_deterministic_per_frame():
    x = np.full((40, 60, 3), 0.5, np.float32)
    a = run("film_grain", x, FilterContext(3, 100), amount=0.1, size=1)
    b = run("film_grain", x, FilterContext(3, 100), amount=0.1, size=1)
    c = run("film_grain", x, FilterContext(4, 101), amount=0.1, size=1)
    assert (a == b).all() and not (a == c).all()
    assert 0.05 < (a - 0.5).std() < 0.15
    big = run("film_grain", x, FilterContext(3, 100), amount=0.1, size=4)
    # bigger grain: neighbouring pixels are more alike
    assert np.abs(np.diff(big[..., 0], axis=1)).mean() < np.abs(np.diff(a[..., 0], axis=1)).mean()


def test_keyframed_params_and_disabled_filters_in_a_stack():
    x = np.full((2, 2, 3), 0.5, np.float32)
    stack = [{"type": "exposure", "params": {"stops": {"keys": [[0, 0, "linear"], [10, 2, "linear"]]}}},
             {"type": "saturation", "enabled": False, "params": {"amount": 0}}]
    at0 = F.apply_stack(x.copy(), stack, FilterContext(0, 0))
    at5 = F.apply_stack(x.copy(), stack, FilterContext(5, 5))
    want = run("exposure", x, stops=1)
    assert np.allclose(at0, x) and np.allclose(at5, want)


def test_clip_filters_in_a_composite_count_clip_frames(tmp_path):
    s = Scene(tmp_path)
    grey = s.solid((128, 128, 128))
    keys = {"keys": [[0, 0, "linear"], [10, 1, "linear"]]}
    s.clip(grey, 0, 20, 20, filters=[{"type": "exposure", "params": {"stops": keys}}])
    comp = s.compositor()
    assert comp.frame(20)[60, 80, 0] == 128  # clip frame 0: no change yet
    one_stop = round(255 * float(run("exposure", np.full((1, 1, 3), 128 / 255), stops=1)[0, 0, 0]))
    assert abs(int(comp.frame(30)[60, 80, 0]) - one_stop) <= 1  # clip frame 10
    assert comp.frame(25)[60, 80, 0] < comp.frame(30)[60, 80, 0]
    plan = comp.plan(25)
    assert plan[0]["filters"] == [{"type": "exposure", "params": {"stops": 0.5}}]
    comp.close()
    s.close()


CURVES = [{"type": "exposure", "params": {"stops": 0.7}},
          {"type": "contrast", "params": {"amount": 1.4, "pivot": 0.45}},
          {"type": "temperature", "params": {"temperature": 0.5, "tint": -0.2}},
          {"type": "gamma", "params": {"gamma": 1.3}},
          {"type": "levels", "params": {"in_black": 0.05, "in_white": 0.9, "gamma": 0.8, "out_black": 0.1}}]


def test_pointwise_filters_as_an_8bit_table_give_the_per_pixel_values():
    u8 = np.random.default_rng(3).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    stack = CURVES + [{"type": "saturation", "params": {"amount": 0.5}}, {"type": "contrast", "params": {}}]
    assert F.pointwise_count(stack) == len(CURVES)  # up to the first filter that mixes channels
    ctx = FilterContext(0, 0)
    want = F.apply_stack(F.to_float(u8), CURVES, ctx)
    table = F.u8_table([(stack, ctx, len(CURVES))])
    assert table.shape == (1, 256, 3)  # temperature: a curve per channel
    got = F.apply_u8_table(u8, table)
    assert got.dtype == np.float32 and np.abs(got - want).max() < 1e-5
    assert np.abs(want - F.to_float(u8)).max() > 0.1  # the curves do something
    # one curve for all channels: a 1 x 256 table; the rest of a stack runs after it
    mono = F.u8_table([(CURVES[:2], ctx, 2)])
    assert mono.shape == (1, 256)
    rest = F.apply_stack(F.apply_u8_table(u8, F.u8_table([(stack, ctx, 2)])), stack, ctx, start=2)
    assert np.abs(rest - F.apply_stack(F.to_float(u8), stack, ctx)).max() < 1e-5
    assert np.array_equal(F.to_float(u8), np.multiply(u8, np.float32(1 / 255), dtype=np.float32))


def test_vignette_gain_is_cached_and_is_the_filter():
    x = np.random.default_rng(4).uniform(0, 1, (60, 80, 3)).astype(np.float32)
    stack = [{"type": "contrast", "params": {"amount": 1.2}}, {"type": "vignette", "params": {"amount": 0.5}}]
    n, gain = F.last_gain(stack, CTX, 60, 80)
    assert n == 1 and gain.shape == (60, 80, 3) and not gain.flags.writeable
    assert F.last_gain(stack, CTX, 60, 80)[1] is gain  # the mask is computed once per size and params
    split = F.apply_stack(x.copy(), stack, CTX, stop=n) * gain
    assert np.allclose(split, F.apply_stack(x.copy(), stack, CTX), atol=1e-6)
    assert F.last_gain(stack[:1], CTX, 60, 80) == (1, None)  # not a gain
    assert F.last_gain([{"type": "vignette", "params": {"amount": 0}}], CTX, 60, 80) == (0, None)  # no-op
