"""Filters (colour and image effects) of clip, track and sequence filter stacks.

A stack is ``[{"type": kind, "enabled": bool, "params": {...}}, ...]`` (see
core.timeline.props); every numeric parameter may be keyframed. Each filter
type is a :class:`FilterType`: its parameter specs (registered with
:func:`core.timeline.props.register_filter_spec`, so the timeline can
validate stacks) and a vectorised function ``fn(rgb, params, ctx)`` on
float32 sRGB-encoded RGB (H x W x 3) that returns the result (it may work in
place on ``rgb``), with ``params`` evaluated at the frame and ``ctx`` a
:class:`FilterContext` (frame numbers, preview scale, project folder).

Colour: the values are sRGB-encoded 0..1 (values outside are allowed
between filters and clipped at the end). ``exposure``, ``temperature``,
``blur`` and ``sharpen`` decode to linear light (sRGB EOTF), work there and
re-encode, so they behave like light; the others work on the encoded values:

==============  =============================================================
exposure        ``stops``: linear light times 2**stops
contrast        ``amount`` (1 = unchanged), ``pivot`` (encoded value kept fixed, 0.5)
saturation      ``amount``: distance from the pixel's Rec.709 luma (0 = grey)
temperature     ``temperature`` -1..1 (cool..warm: blue/red gains), ``tint`` -1..1
                (green..magenta); gains normalised to keep luminance
gamma           ``gamma``: ``v ** (1 / gamma)`` (above 1 brightens mid-tones)
levels          ``in_black``, ``in_white``, ``gamma``, ``out_black``, ``out_white``
hue_shift       ``degrees``: rotation of colour about the grey axis (120 turns red into green)
sharpen         ``amount``, ``radius``: unsharp mask (sigma ``radius`` sequence px)
blur            ``radius``: Gaussian, sigma ``radius`` sequence px
vignette        ``amount`` (-1..1, darkens corners), ``softness`` (0..1): relative to
                the picture the filter is given (the clip's box, or the frame)
film_grain      ``amount`` (noise sigma), ``size`` (grain size, sequence px): seeded
                from the sequence frame, so a render is reproducible and a
                chunked render equals a single one
lut             ``path`` (.cube, relative paths from the project folder), ``mix`` 0..1
==============  =============================================================

Sizes in sequence pixels (blur, sharpen, grain) are multiplied by
``ctx.scale`` (canvas pixels per sequence pixel), so a smaller preview looks
like the full render.

Speed: the filters marked *pointwise* (exposure, contrast, temperature,
gamma, levels) are a curve per channel; on 8-bit pictures the compositor runs
them through :func:`u8_table` - the filter functions evaluated on the 256
8-bit values - and applies the table with ``cv2.LUT`` (8-bit in, float32
out: the conversion to float and the curves in one pass, the same values the
filters give per pixel). The vignette's gain mask depends only on the picture
size and its parameters and is cached (bounded LRU).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from core.errors import LumaError
from core.render import lut as lutmod
from core.timeline import keyframes
from core.timeline.props import PropSpec, register_filter_spec

__all__ = ["FilterContext", "FilterType", "FILTERS", "srgb_to_linear", "linear_to_srgb", "evaluate_params",
           "apply_stack", "active", "last_gain", "pointwise_count", "u8_table", "apply_u8_table", "to_float", "clip01"]

_LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)


# ------------------------------------------------------------------ colour


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """sRGB EOTF (negative values clamp to 0); float32, a new array."""
    x = np.maximum(x, 0.0, dtype=np.float32)
    hi = cv2.pow((x + np.float32(0.055)) * np.float32(1 / 1.055), 2.4)
    return np.where(x <= 0.04045, x * np.float32(1 / 12.92), hi).astype(np.float32, copy=False)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """Inverse of :func:`srgb_to_linear` (values above 1 follow the same curve)."""
    x = np.maximum(x, 0.0, dtype=np.float32)
    hi = cv2.pow(x, 1 / 2.4) * np.float32(1.055) - np.float32(0.055)
    return np.where(x <= 0.0031308, x * np.float32(12.92), hi).astype(np.float32, copy=False)


# ------------------------------------------------------------------ framework


@dataclass(frozen=True)
class FilterContext:
    frame: int  # the frame keyframes count in (clip-local for clip filters)
    sequence_frame: int  # the sequence frame being drawn (seeds film grain)
    scale: float = 1.0  # canvas pixels per sequence pixel
    base_dir: Path | None = None  # relative LUT paths start here
    salt: int = 0  # distinguishes stacks (grain differs per clip and per position in the stack)


@dataclass(frozen=True)
class FilterType:
    kind: str
    label: str
    specs: dict[str, PropSpec]
    fn: Callable[[np.ndarray, dict, FilterContext], np.ndarray]
    #: a curve per channel (the same function of each pixel's value in each channel): can be a LUT
    pointwise: bool = False
    #: for a filter that multiplies the picture by a per-pixel gain: ``gain(h, w, params)`` gives
    #: it (H x W x 3 float32, or None when the filter changes nothing), so a caller may fuse it
    gain: Callable[[int, int, dict], np.ndarray | None] | None = None


FILTERS: dict[str, FilterType] = {}


def _register(kind: str, label: str, specs: tuple[PropSpec, ...], pointwise: bool = False, gain=None):
    def deco(fn):
        spec_map = {s.name: s for s in specs}
        FILTERS[kind] = FilterType(kind, label, spec_map, fn, pointwise, gain)
        register_filter_spec(kind, spec_map)
        return fn
    return deco


def evaluate_params(f: dict, frame: int) -> dict:
    """A filter entry's parameters at ``frame`` (defaults filled in; text parameters as given)."""
    kind = f.get("type")
    ft = FILTERS.get(kind)
    if ft is None:
        raise LumaError(f"unknown filter {kind!r} (one of {', '.join(sorted(FILTERS))})")
    given = f.get("params") or {}
    out: dict = {}
    for name, spec in ft.specs.items():
        out[name] = float(keyframes.evaluate(given.get(name, spec.default), frame))
    for name, v in given.items():
        if name not in ft.specs:
            out[name] = v
    return out


def active(stack) -> list[dict]:
    """The enabled entries of a stack."""
    return [f for f in (stack or []) if f.get("enabled", True)]


def apply_stack(rgb: np.ndarray, stack, ctx: FilterContext, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Run the enabled filters of ``stack`` on ``rgb`` in order (keyframes at ``ctx.frame``).

    ``start``/``stop``: only the enabled filters ``[start, stop)`` (the others applied another
    way: :func:`u8_table`, :func:`last_gain`); each keeps its place in the stack (which seeds
    its grain)."""
    rgb = np.ascontiguousarray(rgb, np.float32)
    for i, f in enumerate(active(stack)):
        if i < start or (stop is not None and i >= stop):
            continue
        params = evaluate_params(f, ctx.frame)
        sub = FilterContext(ctx.frame, ctx.sequence_frame, ctx.scale, ctx.base_dir, ctx.salt * 131 + i + 1)
        rgb = FILTERS[f["type"]].fn(rgb, params, sub)
    return rgb


def last_gain(stack, ctx: FilterContext, height: int, width: int) -> tuple[int, np.ndarray | None]:
    """``(n, gain)``: when the last enabled filter of ``stack`` is a per-pixel gain (vignette),
    the filters before it (``n``) and its gain for ``height`` x ``width`` pictures (None when it
    changes nothing), so the caller can multiply while converting; else ``(len, None)``."""
    filters = active(stack)
    if not filters:
        return 0, None
    ft = FILTERS.get(filters[-1].get("type"))
    if ft is None or ft.gain is None:
        return len(filters), None
    return len(filters) - 1, ft.gain(height, width, evaluate_params(filters[-1], ctx.frame))


def pointwise_count(stack) -> int:
    """How many enabled filters at the start of ``stack`` are pointwise (see the module doc)."""
    n = 0
    for f in active(stack):
        ft = FILTERS.get(f.get("type"))
        if ft is None or not ft.pointwise:
            break
        n += 1
    return n


def _u8_values() -> np.ndarray:
    """The 256 8-bit values as float32 0..1, computed as :func:`to_float` computes pixels."""
    return np.multiply(np.arange(256, dtype=np.uint8), np.float32(1.0 / 255.0), dtype=np.float32)


_IDENTITY = _u8_values().reshape(1, 256)
_IDENTITY.setflags(write=False)


def u8_table(stages=()) -> np.ndarray:
    """The float32 table that :func:`apply_u8_table` applies to 8-bit pictures: the 256 values
    through the filters of ``stages``, a sequence of ``(stack, ctx, count)``: the first
    ``count`` enabled filters of ``stack`` (all pointwise, see :func:`pointwise_count`) with
    the context ``ctx``, stage after stage. 1 x 256 when every channel has the same curve,
    else 1 x 256 x 3."""
    if not stages:
        return _IDENTITY
    x = np.repeat(_u8_values()[None, :, None], 3, axis=2)  # 1 x 256 x 3: one "pixel" per value
    for stack, ctx, count in stages:
        for i, f in enumerate(active(stack)[:count]):
            ft = FILTERS[f["type"]]
            assert ft.pointwise, f["type"]
            sub = FilterContext(ctx.frame, ctx.sequence_frame, ctx.scale, ctx.base_dir, ctx.salt * 131 + i + 1)
            x = np.ascontiguousarray(ft.fn(x, evaluate_params(f, ctx.frame), sub), np.float32)
    if np.array_equal(x[..., 0], x[..., 1]) and np.array_equal(x[..., 0], x[..., 2]):
        return np.ascontiguousarray(x[..., 0])
    return x


def apply_u8_table(u8: np.ndarray, table: np.ndarray) -> np.ndarray:
    """``table`` (from :func:`u8_table`, or any 256-entry table) looked up for each value of the
    uint8 picture (cv2.LUT: multi-threaded); the table's dtype."""
    return cv2.LUT(np.ascontiguousarray(u8), table)


def to_float(u8: np.ndarray) -> np.ndarray:
    """uint8 0..255 -> float32 0..1 (a new array)."""
    return cv2.LUT(np.ascontiguousarray(u8), _IDENTITY)


def clip01(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``x`` clipped to 0..1 (float32; NaN becomes 0), into ``out`` when given (may be ``x``)."""
    _, y = cv2.threshold(x, 0.0, 0.0, cv2.THRESH_TOZERO, dst=out)
    _, y = cv2.threshold(y, 1.0, 0.0, cv2.THRESH_TRUNC, dst=y)
    return y


def _P(name, default, lo, hi, label="", unit="", keyframable=True):
    return PropSpec(name, default, lo, hi, keyframable, label, unit)


# ------------------------------------------------------------------ filters


@_register("exposure", "Exposure", (_P("stops", 0.0, -10.0, 10.0, "Exposure", "stops"),), pointwise=True)
def exposure(rgb, p, ctx):
    if p["stops"] == 0:
        return rgb
    return linear_to_srgb(srgb_to_linear(rgb) * np.float32(2.0 ** p["stops"]))


@_register("contrast", "Contrast", (_P("amount", 1.0, 0.0, 4.0, "Contrast"), _P("pivot", 0.5, 0.0, 1.0, "Pivot")),
           pointwise=True)
def contrast(rgb, p, ctx):
    a, pivot = np.float32(p["amount"]), np.float32(p["pivot"])
    if a == 1:
        return rgb
    rgb -= pivot
    rgb *= a
    rgb += pivot
    return rgb


@_register("saturation", "Saturation", (_P("amount", 1.0, 0.0, 4.0, "Saturation"),))
def saturation(rgb, p, ctx):
    a = float(p["amount"])
    if a == 1:
        return rgb
    # y + a * (rgb - y) with y the luma: one 3x3 matrix, a * I + (1 - a) * [luma; luma; luma]
    m = (a * np.eye(3) + (1.0 - a) * np.repeat(_LUMA[None, :].astype(np.float64), 3, axis=0)).astype(np.float32)
    return cv2.transform(np.ascontiguousarray(rgb), m)


def temperature_gains(temperature: float, tint: float) -> np.ndarray:
    """Per-channel linear gains of the temperature filter, normalised to keep luminance."""
    g = np.array([2.0 ** (0.5 * temperature + 0.25 * tint),
                  2.0 ** (-0.5 * tint),
                  2.0 ** (-0.5 * temperature + 0.25 * tint)], np.float64)
    return (g / float(g @ _LUMA.astype(np.float64))).astype(np.float32)


@_register("temperature", "Temperature / tint", (_P("temperature", 0.0, -1.0, 1.0, "Temperature"),
                                                 _P("tint", 0.0, -1.0, 1.0, "Tint")), pointwise=True)
def temperature(rgb, p, ctx):
    if p["temperature"] == 0 and p["tint"] == 0:
        return rgb
    return linear_to_srgb(srgb_to_linear(rgb) * temperature_gains(p["temperature"], p["tint"]))


@_register("gamma", "Gamma", (_P("gamma", 1.0, 0.1, 10.0, "Gamma"),), pointwise=True)
def gamma(rgb, p, ctx):
    if p["gamma"] == 1:
        return rgb
    return cv2.pow(np.maximum(rgb, 0.0), 1.0 / p["gamma"])


@_register("levels", "Levels", (_P("in_black", 0.0, 0.0, 1.0, "Input black"),
                                _P("in_white", 1.0, 0.0, 1.0, "Input white"),
                                _P("gamma", 1.0, 0.1, 10.0, "Gamma"),
                                _P("out_black", 0.0, 0.0, 1.0, "Output black"),
                                _P("out_white", 1.0, 0.0, 1.0, "Output white")), pointwise=True)
def levels(rgb, p, ctx):
    ib, iw = p["in_black"], p["in_white"]
    span = iw - ib if abs(iw - ib) > 1e-6 else 1e-6
    t = np.clip((rgb - np.float32(ib)) * np.float32(1.0 / span), 0.0, 1.0)
    if p["gamma"] != 1:
        t = cv2.pow(t, 1.0 / p["gamma"])
    return t * np.float32(p["out_white"] - p["out_black"]) + np.float32(p["out_black"])


def hue_matrix(degrees: float) -> np.ndarray:
    """3x3 rotation of RGB about the grey axis (Rodrigues), so greys stay grey."""
    th = math.radians(degrees)
    c, s = math.cos(th), math.sin(th)
    k = 1.0 / math.sqrt(3.0)
    K = np.array([[0, -k, k], [k, 0, -k], [-k, k, 0]])
    return (np.eye(3) + s * K + (1 - c) * (K @ K)).astype(np.float32)


@_register("hue_shift", "Hue shift", (_P("degrees", 0.0, -3600.0, 3600.0, "Hue", "°"),))
def hue_shift(rgb, p, ctx):
    if p["degrees"] % 360 == 0:
        return rgb
    return cv2.transform(rgb, hue_matrix(p["degrees"]))


def _gaussian(x: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(x, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REFLECT)


@_register("sharpen", "Sharpen", (_P("amount", 0.0, 0.0, 10.0, "Amount"),
                                  _P("radius", 1.0, 0.1, 50.0, "Radius", "px")))
def sharpen(rgb, p, ctx):
    sigma = p["radius"] * ctx.scale
    if p["amount"] == 0 or sigma < 0.05:
        return rgb
    lin = srgb_to_linear(rgb)
    out = cv2.addWeighted(lin, 1.0 + p["amount"], _gaussian(lin, sigma), -p["amount"], 0.0)
    return linear_to_srgb(out)


@_register("blur", "Blur", (_P("radius", 0.0, 0.0, 500.0, "Radius", "px"),))
def blur(rgb, p, ctx):
    sigma = p["radius"] * ctx.scale
    if sigma < 0.05:
        return rgb
    return linear_to_srgb(_gaussian(srgb_to_linear(rgb), sigma))


@lru_cache(maxsize=4)
def _radius_map(h: int, w: int) -> np.ndarray:
    """Distance from the centre, 0 there and 1 in the corners."""
    y = (np.arange(h, dtype=np.float32) + 0.5 - h / 2) / (h / 2)
    x = (np.arange(w, dtype=np.float32) + 0.5 - w / 2) / (w / 2)
    r = np.sqrt(x[None, :] ** 2 + y[:, None] ** 2) / np.float32(math.sqrt(2.0))
    r.setflags(write=False)
    return r


@lru_cache(maxsize=6)  # a 1080p mask is 25 MB: a few sizes / keyframed values at most
def vignette_gain(h: int, w: int, amount: float, softness: float) -> np.ndarray:
    """The vignette's gain per pixel, H x W x 3 float32 (read-only; cached by size and params)."""
    soft = max(softness, 1e-3)
    t = np.clip((_radius_map(h, w) - np.float32(1.0 - soft)) * np.float32(1.0 / soft), 0.0, 1.0)
    t = t * t * (3.0 - 2.0 * t)
    gain = cv2.merge([1.0 - np.float32(amount) * t] * 3)
    gain.setflags(write=False)
    return gain


def _vignette_gain(h: int, w: int, p: dict) -> np.ndarray | None:
    return None if p["amount"] == 0 else vignette_gain(h, w, float(p["amount"]), float(p["softness"]))


@_register("vignette", "Vignette", (_P("amount", 0.0, -1.0, 1.0, "Amount"),
                                    _P("softness", 0.5, 0.0, 1.0, "Softness")), gain=_vignette_gain)
def vignette(rgb, p, ctx):
    if p["amount"] == 0:
        return rgb
    h, w = rgb.shape[:2]
    gain = vignette_gain(h, w, float(p["amount"]), float(p["softness"]))
    if rgb.flags.writeable and rgb.flags.c_contiguous:
        return cv2.multiply(rgb, gain, dst=rgb)
    return cv2.multiply(np.ascontiguousarray(rgb, np.float32), gain)


@_register("film_grain", "Film grain", (_P("amount", 0.0, 0.0, 1.0, "Amount"),
                                        _P("size", 1.0, 0.5, 20.0, "Size", "px")))
def film_grain(rgb, p, ctx):
    if p["amount"] == 0:
        return rgb
    h, w = rgb.shape[:2]
    size = max(p["size"] * ctx.scale, 0.5)
    gh, gw = max(1, int(round(h / size))), max(1, int(round(w / size)))
    seed = zlib.crc32(f"{ctx.sequence_frame}:{ctx.salt}".encode())
    noise = np.random.Generator(np.random.PCG64(seed)).standard_normal((gh, gw), dtype=np.float32)
    if (gh, gw) != (h, w):
        noise = cv2.resize(noise, (w, h), interpolation=cv2.INTER_CUBIC)
    rgb += (noise * np.float32(p["amount"]))[..., None]
    return rgb


@_register("lut", "LUT", (_P("mix", 1.0, 0.0, 1.0, "Mix"),))
def lut(rgb, p, ctx):
    path = p.get("path")
    if not path:
        return rgb
    if p["mix"] <= 0:
        return rgb
    path = Path(path)
    if not path.is_absolute() and ctx.base_dir is not None:
        path = Path(ctx.base_dir) / path
    table = lutmod.load_cube(path)
    out = table.apply(rgb)
    if p["mix"] >= 1:
        return out
    m = np.float32(p["mix"])
    return rgb + (out - rgb) * m
