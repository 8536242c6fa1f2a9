"""A node-graph editor that knows nodes, typed ports and links, and nothing of what they mean.

An application describes its node types and the connection rule with the
small interface of :mod:`widgets.nodes.model` and shows its graphs in a
:class:`NodeEditor` (palette, view, inspector, preview); the editor reports
every edit as a new graph for the application to record (undo, storage).
"""

from widgets.nodes.editor import NodeEditor
from widgets.nodes.model import (GraphData, LinkData, NodeData, NodeModel, NodeTypeDef, ParamDef, PortDef,
                                 Refused)
from widgets.nodes.preview import NodePreview, Preview
from widgets.nodes.scene import NODE_TYPE_MIME, NodeScene, NodeView

__all__ = [
    "GraphData", "LinkData", "NODE_TYPE_MIME", "NodeData", "NodeEditor", "NodeModel", "NodePreview", "NodeScene",
    "NodeTypeDef", "NodeView", "ParamDef", "PortDef", "Preview", "Refused",
]
