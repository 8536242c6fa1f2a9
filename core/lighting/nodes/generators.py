"""Time-varying nodes: LFO, beat pulse, chase, sparkle, and arithmetic on series.

Beat-based timing reads the absolute beat position of the beat grid (so a pulse
stays on the beat wherever the layer starts); Hz-based timing reads the
seconds since the layer started. Every node returns whole (T, N) arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.lighting.errors import PatternError
from core.lighting.nodes.base import (
    BeatGrid,
    EvalContext,
    NodeType,
    Param,
    Port,
    PortType,
    Selection,
    as_series,
    frac,
    register_node,
)


def _cycles(ctx: EvalContext, inputs: dict[str, Any], rate: float, unit: str) -> np.ndarray:
    """[T] position in cycles: rate per beat (beat grid) or per second (since the layer started)."""
    if unit == "hz":
        return rate * ctx.local_t
    grid: BeatGrid | None = inputs.get("beats")
    beats = grid.beats if grid is not None else ctx.beats
    return rate * beats


def _bpb(ctx: EvalContext, inputs: dict[str, Any]) -> int:
    grid: BeatGrid | None = inputs.get("beats")
    return grid.beats_per_bar if grid is not None else ctx.tempo.beats_per_bar


WAVES = ("sine", "square", "saw", "triangle")


def wave(shape: str, x: np.ndarray) -> np.ndarray:
    """Wave value 0..1 at cycle fraction x (0..1): all shapes start at 0."""
    if shape == "sine":
        return 0.5 - 0.5 * np.cos(2.0 * np.pi * x)
    if shape == "square":
        return (x >= 0.5).astype(np.float64)
    if shape == "saw":
        return x
    return 1.0 - np.abs(2.0 * x - 1.0)  # triangle


@register_node
class LfoNode(NodeType):
    type_id = "lfo"
    title = "LFO"
    category = "Intensity"
    doc = (
        "A periodic wave between min and max. rate is in cycles per beat (unit beats) or per "
        "second (unit hz). spread offsets the phase along a linked selection (1 = one whole "
        "cycle from the first primitive to the last)."
    )
    inputs = (
        Port("selection", PortType.SELECTION, required=False),
        Port("beats", PortType.BEAT_GRID, required=False),
    )
    outputs = (Port("level", PortType.SERIES),)
    params = (
        Param("shape", "choice", "sine", choices=WAVES),
        Param("rate", "float", 1.0, min=1e-6, max=1000.0),
        Param("unit", "choice", "beats", choices=("beats", "hz")),
        Param("phase", "float", 0.0, min=-1.0, max=1.0),
        Param("spread", "float", 0.0, min=-16.0, max=16.0),
        Param("min", "float", 0.0, min=0.0, max=1.0),
        Param("max", "float", 1.0, min=0.0, max=1.0),
    )

    def evaluate(self, ctx, inputs, params, node_id):
        cyc = _cycles(ctx, inputs, params["rate"], params["unit"])[:, None]  # (T, 1)
        sel: Selection | None = inputs.get("selection")
        offset = np.full((1, 1), params["phase"])
        if sel is not None and params["spread"] != 0.0:
            offset = params["phase"] + params["spread"] * sel.ranks(ctx.size)[None, :]
        w = wave(params["shape"], frac(cyc - offset))
        return {"level": params["min"] + (params["max"] - params["min"]) * w}


@register_node
class BeatPulseNode(NodeType):
    type_id = "beat_pulse"
    title = "Beat pulse"
    category = "Intensity"
    doc = (
        "An attack/decay envelope that fires every `every` beats (unit beat) or bars (unit bar): "
        "rises in `attack` beats, falls to 0 in `decay` beats, linearly or exponentially."
    )
    inputs = (Port("beats", PortType.BEAT_GRID, required=False),)
    outputs = (Port("level", PortType.SERIES),)
    params = (
        Param("every", "float", 1.0, min=1.0 / 64, max=1024.0),
        Param("unit", "choice", "beat", choices=("beat", "bar")),
        Param("attack", "float", 0.0, min=0.0, max=1024.0, doc="beats"),
        Param("decay", "float", 0.5, min=1.0 / 256, max=1024.0, doc="beats"),
        Param("curve", "choice", "linear", choices=("linear", "exp")),
    )

    def evaluate(self, ctx, inputs, params, node_id):
        grid: BeatGrid | None = inputs.get("beats")
        beats = grid.beats if grid is not None else ctx.beats
        period = params["every"] * (_bpb(ctx, inputs) if params["unit"] == "bar" else 1)
        x = np.mod(beats, period)
        attack, decay = params["attack"], params["decay"]
        y = np.clip((x - attack) / decay, 0.0, 1.0)
        if params["curve"] == "exp":
            k = 4.0
            fall = (np.exp(-k * y) - np.exp(-k)) / (1.0 - np.exp(-k))
        else:
            fall = 1.0 - y
        rise = x / attack if attack > 0 else np.ones_like(x)
        env = np.where(x < attack, rise, fall)
        return {"level": env[:, None]}


@register_node
class ChaseNode(NodeType):
    type_id = "chase"
    title = "Chase"
    category = "Intensity"
    doc = (
        "Steps through a selection: `width` primitives are at full level, followed by `tail` "
        "fading steps. rate is steps per beat (unit beats) or per second (unit hz); direction "
        "forward, reverse or bounce."
    )
    inputs = (Port("selection", PortType.SELECTION), Port("beats", PortType.BEAT_GRID, required=False))
    outputs = (Port("level", PortType.SERIES),)
    params = (
        Param("rate", "float", 1.0, min=1e-6, max=1000.0),
        Param("unit", "choice", "beats", choices=("beats", "hz")),
        Param("width", "int", 1, min=1, max=4096),
        Param("tail", "int", 0, min=0, max=4096),
        Param("direction", "choice", "forward", choices=("forward", "reverse", "bounce")),
    )

    def evaluate(self, ctx, inputs, params, node_id):
        sel: Selection = inputs["selection"]
        n, k = ctx.size, len(sel.indices)
        out = np.zeros((ctx.samples, n), dtype=np.float64)
        if k == 0:
            return {"level": out}
        step = np.floor(_cycles(ctx, inputs, params["rate"], params["unit"])).astype(np.int64)[:, None]
        rank = np.arange(k, dtype=np.int64)[None, :]
        direction = params["direction"]
        if direction == "bounce" and k > 1:
            p = np.mod(step, 2 * k - 2)
            head = np.where(p < k, p, 2 * k - 2 - p)
            dist = np.abs(head - rank)
        elif direction == "reverse":
            dist = np.mod(rank - (k - 1 - np.mod(step, k)), k)
        else:
            dist = np.mod(np.mod(step, k) - rank, k)
        width, tail = params["width"], params["tail"]
        level = np.where(dist < width, 1.0, 0.0)
        if tail:
            behind = dist - width + 1  # 1..tail
            level = np.where((dist >= width) & (behind <= tail), 1.0 - behind / (tail + 1.0), level)
        out[:, sel.indices] = level
        return {"level": out}


def _hash01(seed: int, step: np.ndarray, prim: np.ndarray) -> np.ndarray:
    """Counter-based uniform random numbers in [0, 1) (splitmix64 finaliser), any shape."""
    with np.errstate(over="ignore"):
        z = (
            np.uint64(seed & 0xFFFFFFFFFFFFFFFF) * np.uint64(0x9E3779B97F4A7C15)
            + step.astype(np.uint64) * np.uint64(0xD1B54A32D192ED03)
            + prim.astype(np.uint64) * np.uint64(0x8CB92BA72F3D8DD7)
        )
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


@register_node
class SparkleNode(NodeType):
    type_id = "sparkle"
    title = "Sparkle"
    category = "Intensity"
    doc = (
        "Random flashes: `rate` times a second each primitive of the selection lights with "
        "probability `density`, then fades over `decay` seconds (0: stays until the next draw). "
        "The same seed gives the same sparkle at the same show time."
    )
    inputs = (Port("selection", PortType.SELECTION),)
    outputs = (Port("level", PortType.SERIES),)
    params = (
        Param("density", "float", 0.2, min=0.0, max=1.0),
        Param("rate", "float", 8.0, min=1e-3, max=1000.0, doc="draws per second"),
        Param("decay", "float", 0.1, min=0.0, max=60.0, doc="seconds"),
        Param("seed", "int", 0, min=0),
    )

    def evaluate(self, ctx, inputs, params, node_id):
        sel: Selection = inputs["selection"]
        out = np.zeros((ctx.samples, ctx.size), dtype=np.float64)
        if len(sel.indices) == 0:
            return {"level": out}
        rate = params["rate"]
        step = np.floor(ctx.t * rate)
        on = _hash01(params["seed"], step.astype(np.int64)[:, None], sel.indices[None, :]) < params["density"]
        level = on.astype(np.float64)
        if params["decay"] > 0:
            since = ctx.t - step / rate
            level = level * np.exp(-since / params["decay"])[:, None]
        out[:, sel.indices] = level
        return {"level": out}


MATH_OPS = ("scale", "offset", "clamp", "invert", "power", "add", "subtract", "multiply", "min", "max")
_BINARY = ("add", "subtract", "multiply", "min", "max")


@register_node
class MathNode(NodeType):
    type_id = "math"
    title = "Math"
    category = "Intensity"
    doc = (
        "Arithmetic on series: scale (a*amount), offset (a+amount), clamp (to lo..hi), invert "
        "(1-a), power (a**amount); with b linked: add, subtract, multiply, min, max."
    )
    inputs = (Port("a", PortType.SERIES), Port("b", PortType.SERIES, required=False))
    outputs = (Port("level", PortType.SERIES),)
    params = (
        Param("op", "choice", "scale", choices=MATH_OPS),
        Param("amount", "float", 1.0, min=-1000.0, max=1000.0),
        Param("lo", "float", 0.0, min=-1000.0, max=1000.0),
        Param("hi", "float", 1.0, min=-1000.0, max=1000.0),
    )

    def check(self, params, linked, where):
        if params["op"] in _BINARY and "b" not in linked:
            raise PatternError(f"{where}: op {params['op']!r} needs input 'b' linked")
        if params["op"] == "clamp" and params["lo"] > params["hi"]:
            raise PatternError(f"{where}: clamp lo {params['lo']} is above hi {params['hi']}")

    def evaluate(self, ctx, inputs, params, node_id):
        a = as_series(inputs["a"])
        op, amount = params["op"], params["amount"]
        if op == "scale":
            r = a * amount
        elif op == "offset":
            r = a + amount
        elif op == "clamp":
            r = np.clip(a, params["lo"], params["hi"])
        elif op == "invert":
            r = 1.0 - a
        elif op == "power":
            r = np.power(np.clip(a, 0.0, None), amount)
        else:
            b = as_series(inputs["b"])
            r = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
                 "min": np.minimum, "max": np.maximum}[op](a, b)
        return {"level": r}
