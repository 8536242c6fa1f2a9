"""Apply nodes: write one capability of the selected primitives (the pattern's output).

Values are clipped to 0..1 (gobo: a slot index) and gathered to the selected
primitives; the pattern merges all its Apply nodes into one layer output.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.lighting.capabilities import capability
from core.lighting.errors import PatternError
from core.lighting.nodes.base import (
    ApplyResult,
    EvalContext,
    NodeType,
    Param,
    Port,
    PortType,
    Selection,
    as_series,
    register_node,
)


def _gather(value: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """(T|1, N|1, d) -> (T|1, k|1, d), keeping broadcast dimensions small."""
    if value.shape[1] == 1:
        return value
    return value[:, indices]


class _ApplyNode(NodeType):
    category = "Output"
    value_port: str = ""
    value_type: PortType = PortType.SERIES

    def _value(self, ctx: EvalContext, inputs: dict[str, Any], params: dict[str, Any]) -> np.ndarray:
        v = inputs[self.value_port]
        if self.value_type == PortType.SERIES:
            v = as_series(v)[..., None]
        return np.asarray(v, dtype=np.float64)

    def evaluate(self, ctx, inputs, params, node_id):
        sel: Selection = inputs["selection"]
        dims = capability(self.applies).dims
        v = self._value(ctx, inputs, params)
        if v.ndim != 3 or v.shape[-1] != dims:
            raise PatternError(f"node {node_id!r}: the {self.applies} value has shape {v.shape}", node_id)
        values = _gather(v, sel.indices).astype(np.float32)  # a new array: clip it in place
        np.clip(values, 0.0, 1.0, out=values)
        return ApplyResult(self.applies, sel.indices, values, node_id)


def _apply_type(type_id: str, cap: str, port: str, ptype: PortType, title: str, doc: str) -> type[NodeType]:
    cls = type(
        f"Apply{cap.title()}Node",
        (_ApplyNode,),
        {
            "type_id": type_id,
            "title": title,
            "doc": doc,
            "applies": cap,
            "value_port": port,
            "value_type": ptype,
            "inputs": (Port("selection", PortType.SELECTION), Port(port, ptype)),
        },
    )
    return register_node(cls)


ApplyColorNode = _apply_type("apply_color", "color", "color", PortType.COLOR, "Apply colour",
                             "Sets the colour of the selected primitives.")
ApplyDimmerNode = _apply_type("apply_dimmer", "intensity", "level", PortType.SERIES, "Apply dimmer",
                              "Sets the intensity of the selected primitives.")
ApplyPositionNode = _apply_type("apply_position", "position", "position", PortType.POSITION, "Apply position",
                                "Sets pan and tilt of the selected primitives.")
ApplyStrobeNode = _apply_type("apply_strobe", "strobe", "rate", PortType.SERIES, "Apply strobe",
                              "Strobes the selected primitives: 0 = no strobe, 0..1 = slow..fast.")
ApplyZoomNode = _apply_type("apply_zoom", "zoom", "level", PortType.SERIES, "Apply zoom",
                            "Sets the zoom (0 narrow .. 1 wide) of the selected primitives.")
ApplyFocusNode = _apply_type("apply_focus", "focus", "level", PortType.SERIES, "Apply focus",
                             "Sets the focus (0 near .. 1 far) of the selected primitives.")


@register_node
class ApplyGoboNode(NodeType):
    type_id = "apply_gobo"
    title = "Apply gobo"
    category = "Output"
    doc = "Selects gobo slot `slot` (0 = open) on the selected primitives."
    applies = "gobo"
    inputs = (Port("selection", PortType.SELECTION),)
    params = (Param("slot", "int", 0, min=0, max=255),)

    def evaluate(self, ctx, inputs, params, node_id):
        sel: Selection = inputs["selection"]
        return ApplyResult("gobo", sel.indices, np.full((1, 1, 1), params["slot"], dtype=np.float32), node_id)
