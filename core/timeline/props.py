"""Clip, track and sequence properties: names, defaults, ranges, validation.

A clip's ``props`` JSON may hold (every number may be keyframed, see
:mod:`core.timeline.keyframes`; keyframe frames count from the clip's start):

======================  =========  ==========================================
``opacity``             1.0        0..1
``blend``               "normal"   one of :data:`BLEND_MODES` (not keyframable)
``x``, ``y``            0.0        offset of the picture's centre, sequence pixels (y down)
``scale``               1.0        uniform scale about the centre (after fitting to the frame)
``rotation``            0.0        degrees, clockwise on screen
``crop_left`` ...       0.0        ``crop_left/top/right/bottom``: fraction 0..1 of the source cut away
``volume``              1.0        linear gain of the clip's sound (0..4)
``fade_in``             0          frames of audio fade-in at the clip's start (not keyframable)
``fade_out``            0          frames of audio fade-out at the clip's end
``filters``             []         filter stack: ``[{"type": str, "enabled": bool, "params": {...}}]``
======================  =========  ==========================================

A track's ``props`` may hold ``filters`` (frames: sequence frames) and
``volume``; a sequence's ``props`` may hold ``filters`` (sequence frames).
Filter types and their parameters live in core.render.filters, which
registers them with :func:`register_filter_spec` so this module can validate
a stack without importing the renderer.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from core.errors import EditError
from core.timeline import keyframes

BLEND_MODES = ("normal", "add", "screen", "multiply", "overlay")

#: transition kinds (drawn by core.render.transitions); audio tracks take "crossfade" only
TRANSITION_KINDS = ("crossfade", "dip_black", "dip_white",
                    "wipe_left", "wipe_right", "wipe_up", "wipe_down",
                    "push_left", "push_right", "push_up", "push_down",
                    "slide_left", "slide_right", "slide_up", "slide_down")
AUDIO_TRANSITION_KINDS = ("crossfade",)


@dataclass(frozen=True)
class PropSpec:
    name: str
    default: float
    minimum: float
    maximum: float
    keyframable: bool = True
    label: str = ""
    unit: str = ""


CLIP_PROPS: dict[str, PropSpec] = {p.name: p for p in (
    PropSpec("opacity", 1.0, 0.0, 1.0, label="Opacity"),
    PropSpec("x", 0.0, -100000.0, 100000.0, label="Position X", unit="px"),
    PropSpec("y", 0.0, -100000.0, 100000.0, label="Position Y", unit="px"),
    PropSpec("scale", 1.0, 0.0, 100.0, label="Scale"),
    PropSpec("rotation", 0.0, -36000.0, 36000.0, label="Rotation", unit="°"),
    PropSpec("crop_left", 0.0, 0.0, 1.0, label="Crop left"),
    PropSpec("crop_top", 0.0, 0.0, 1.0, label="Crop top"),
    PropSpec("crop_right", 0.0, 0.0, 1.0, label="Crop right"),
    PropSpec("crop_bottom", 0.0, 0.0, 1.0, label="Crop bottom"),
    PropSpec("volume", 1.0, 0.0, 4.0, label="Volume"),
    PropSpec("fade_in", 0, 0, 10**7, keyframable=False, label="Fade in", unit="frames"),
    PropSpec("fade_out", 0, 0, 10**7, keyframable=False, label="Fade out", unit="frames"),
)}
TRACK_PROPS: dict[str, PropSpec] = {"volume": CLIP_PROPS["volume"]}

#: filter type -> {param name: PropSpec}; filled by core.render.filters
FILTER_SPECS: dict[str, dict[str, PropSpec]] = {}


def register_filter_spec(kind: str, params: dict[str, PropSpec]) -> None:
    FILTER_SPECS[kind] = dict(params)


def _ensure_filters_loaded() -> None:
    if not FILTER_SPECS:
        importlib.import_module("core.render.filters")  # registers the built-in filter types


def value(props: dict, name: str, frames=0, specs: dict[str, PropSpec] = CLIP_PROPS):
    """A property's value at ``frames`` (scalar or array), its default when unset."""
    return keyframes.evaluate(props.get(name, specs[name].default), frames)


def _check_number(spec: PropSpec, v, where: str) -> None:
    keyframes.check(v, where)
    if isinstance(v, dict) and not spec.keyframable:
        raise EditError(f"{where} cannot be keyframed")
    values = [k[1] for k in v["keys"]] if isinstance(v, dict) else [v]
    for x in values:
        if not spec.minimum <= x <= spec.maximum:
            raise EditError(f"{where} must lie in {spec.minimum:g}..{spec.maximum:g}, got {x:g}")


def check_filters(filters, where: str = "filters") -> None:
    _ensure_filters_loaded()
    if not isinstance(filters, list):
        raise EditError(f"{where}: expected a list of filters")
    for i, f in enumerate(filters):
        if not isinstance(f, dict) or "type" not in f:
            raise EditError(f"{where}[{i}]: a filter is {{'type': ..., 'params': {{...}}}}")
        kind = f["type"]
        if kind not in FILTER_SPECS:
            raise EditError(f"{where}[{i}]: unknown filter {kind!r} (one of {', '.join(sorted(FILTER_SPECS))})")
        params = f.get("params", {})
        if not isinstance(params, dict):
            raise EditError(f"{where}[{i}]: params must be an object")
        specs = FILTER_SPECS[kind]
        for name, v in params.items():
            if name not in specs:
                if kind == "lut" and name == "path":
                    if not isinstance(v, str):
                        raise EditError(f"{where}[{i}]: the LUT path must be text")
                    continue
                raise EditError(f"{where}[{i}]: {kind} has no parameter {name!r} (one of {', '.join(specs)})")
            _check_number(specs[name], v, f"{kind} {name}")


def check(props: dict, specs: dict[str, PropSpec] = CLIP_PROPS, what: str = "clip") -> None:
    """Raise EditError (naming the property) when ``props`` is not valid."""
    if not isinstance(props, dict):
        raise EditError(f"{what} properties must be an object")
    for name, v in props.items():
        if name == "filters":
            check_filters(v, f"{what} filters")
        elif name == "blend" and specs is CLIP_PROPS:
            if v not in BLEND_MODES:
                raise EditError(f"blend mode must be one of {', '.join(BLEND_MODES)}, not {v!r}")
        elif name in specs:
            _check_number(specs[name], v, f"{what} {specs[name].label or name}")
        else:
            raise EditError(f"{what} has no property {name!r}")
