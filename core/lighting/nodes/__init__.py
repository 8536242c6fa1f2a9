"""Pattern-graph node types. Importing this package registers the built-in ones."""

from core.lighting.nodes import apply, generators, sources  # noqa: F401  (registration)
from core.lighting.nodes.base import (
    ApplyResult,
    BeatGrid,
    EvalContext,
    NodeType,
    Param,
    Port,
    PortType,
    Selection,
    node_type,
    node_types,
    register_node,
    unregister_node,
)

__all__ = [
    "ApplyResult", "BeatGrid", "EvalContext", "NodeType", "Param", "Port", "PortType",
    "Selection", "node_type", "node_types", "register_node", "unregister_node",
]
