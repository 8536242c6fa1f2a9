"""Source nodes: selections, constant colours and levels, gradients, positions, beat grids."""

from __future__ import annotations

from typing import Any

import numpy as np

from core.lighting.errors import PatchError, PatternError
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

ORDERS = ("patch", "reverse", "x", "-x", "y", "-y", "z", "-z", "center_out", "outside_in", "random")


@register_node
class SelectNode(NodeType):
    type_id = "select"
    title = "Select"
    category = "Selection"
    doc = (
        "Fixtures, fixture heads (id.2) and groups, in an order: patch order, reversed, "
        "along a stage axis (x, -x, y, -y, z, -z), from the centre out, outside in, or shuffled "
        "(seeded). With no fixtures and no groups it selects the whole rig."
    )
    outputs = (Port("selection", PortType.SELECTION),)
    params = (
        Param("fixtures", "names", (), doc="fixture ids or fixture.head ids"),
        Param("groups", "names", (), doc="group names"),
        Param("order", "choice", "patch", choices=ORDERS),
        Param("seed", "int", 0, min=0, doc="shuffle seed for order: random"),
    )

    def evaluate(self, ctx: EvalContext, inputs: dict[str, Any], params: dict[str, Any], node_id: str) -> Any:
        rig = ctx.rig
        names = list(params["fixtures"]) + list(params["groups"])
        if names:
            picked: list[int] = []
            for name in names:
                try:
                    picked.extend(rig.resolve(name))
                except PatchError as exc:
                    raise PatternError(f"node {node_id!r}: {exc}", node_id) from None
            _, first = np.unique(np.asarray(picked, dtype=np.int64), return_index=True)
            idx = np.asarray(picked, dtype=np.int64)[np.sort(first)]
        else:
            idx = np.arange(rig.size, dtype=np.int64)
        order = params["order"]
        if order == "reverse":
            idx = idx[::-1]
        elif order in ("x", "-x", "y", "-y", "z", "-z"):
            axis = "xyz".index(order[-1])
            key = rig.positions[idx, axis] if len(idx) else np.zeros(0)
            idx = idx[np.argsort(-key if order.startswith("-") else key, kind="stable")]
        elif order in ("center_out", "outside_in"):
            pos = rig.positions[idx]
            dist = np.linalg.norm(pos - pos.mean(axis=0), axis=1) if len(idx) else np.zeros(0)
            idx = idx[np.argsort(dist if order == "center_out" else -dist, kind="stable")]
        elif order == "random":
            idx = idx[np.random.default_rng(params["seed"]).permutation(len(idx))]
        return {"selection": Selection(np.ascontiguousarray(idx))}


@register_node
class ColorNode(NodeType):
    type_id = "color"
    title = "Colour"
    category = "Colour"
    doc = "A constant colour (#rrggbb or [r, g, b] 0..1)."
    outputs = (Port("color", PortType.COLOR),)
    params = (Param("color", "color", "#ffffff"),)

    def evaluate(self, ctx, inputs, params, node_id):
        return {"color": np.asarray(params["color"], dtype=np.float64).reshape(1, 1, 3)}


@register_node
class GradientNode(NodeType):
    type_id = "gradient"
    title = "Gradient"
    category = "Colour"
    doc = (
        "Spreads colours evenly along a selection (first colour on the first primitive, last on "
        "the last). scroll > 0 moves the gradient along the selection, in cycles per beat, "
        "wrapping around."
    )
    inputs = (Port("selection", PortType.SELECTION),)
    outputs = (Port("color", PortType.COLOR),)
    params = (
        Param("colors", "colors", ("#ff0000", "#0000ff")),
        Param("scroll", "float", 0.0, min=-64.0, max=64.0, doc="cycles per beat"),
    )

    def evaluate(self, ctx, inputs, params, node_id):
        sel: Selection = inputs["selection"]
        stops = np.asarray(params["colors"], dtype=np.float64)  # [m, 3]
        n = ctx.size
        if params["scroll"] == 0.0:
            u = sel.ranks(n)[None, :]  # (1, N)
            xp = np.linspace(0.0, 1.0, len(stops))
        else:
            k = max(len(sel.indices), 1)
            pos = sel.steps(n) / k  # 0..(k-1)/k, wraps cleanly
            u = frac(pos[None, :] - params["scroll"] * ctx.beats[:, None])  # (T, N)
            stops = np.vstack([stops, stops[:1]])  # cyclic
            xp = np.linspace(0.0, 1.0, len(stops))
        out = np.empty(u.shape + (3,), dtype=np.float64)
        for c in range(3):  # three channels, each vectorised over time and primitives
            out[..., c] = np.interp(u, xp, stops[:, c])
        mask = np.zeros(n, dtype=bool)
        mask[sel.indices] = True
        out[:, ~mask] = 0.0
        return {"color": out}


@register_node
class DimmerNode(NodeType):
    type_id = "dimmer"
    title = "Level"
    category = "Intensity"
    doc = "A constant level 0..1."
    outputs = (Port("level", PortType.SERIES),)
    params = (Param("level", "float", 1.0, min=0.0, max=1.0),)

    def evaluate(self, ctx, inputs, params, node_id):
        return {"level": as_series(params["level"])}


@register_node
class PositionNode(NodeType):
    type_id = "position"
    title = "Position"
    category = "Position"
    doc = (
        "Pan and tilt as 0..1 of each fixture's range (0.5, 0.5 is the centre). Linked pan/tilt "
        "series (for example from an LFO) replace the constants."
    )
    inputs = (Port("pan", PortType.SERIES, required=False), Port("tilt", PortType.SERIES, required=False))
    outputs = (Port("position", PortType.POSITION),)
    params = (Param("pan", "float", 0.5, min=0.0, max=1.0), Param("tilt", "float", 0.5, min=0.0, max=1.0))

    def evaluate(self, ctx, inputs, params, node_id):
        pan = as_series(inputs["pan"]) if inputs.get("pan") is not None else as_series(params["pan"])
        tilt = as_series(inputs["tilt"]) if inputs.get("tilt") is not None else as_series(params["tilt"])
        pan, tilt = np.broadcast_arrays(pan, tilt)
        return {"position": np.stack([pan, tilt], axis=-1)}


@register_node
class BeatGridNode(NodeType):
    type_id = "beat_grid"
    title = "Beat grid"
    category = "Time"
    doc = "The show's beat grid, optionally faster (scale 2 = double time) or shifted by some beats."
    outputs = (Port("beats", PortType.BEAT_GRID),)
    params = (
        Param("scale", "float", 1.0, min=1.0 / 64, max=64.0),
        Param("offset", "float", 0.0, min=-1024.0, max=1024.0, doc="beats"),
    )

    def evaluate(self, ctx, inputs, params, node_id):
        return {"beats": BeatGrid(ctx.beats * params["scale"] + params["offset"], ctx.tempo.beats_per_bar)}
