"""The lighting engine: fixtures, patch, pattern graphs, layers, the composite buffer, DMX frames.

Typical use::

    from core.lighting import FixtureLibrary, load_show, CompositeBuffer, DmxRenderer

    show = load_show(project)                 # patch, patterns, layers, tempo from the project file
    buffer = CompositeBuffer(show)            # built in blocks on demand, cached, invalidated per edit
    renderer = DmxRenderer(show.patch.rig())  # channel maps compiled once
    frame = renderer.render(buffer.sample(t), grand_master=1.0)   # uint8 [universes, 512]

Modules: :mod:`.fixture_def` (the model), :mod:`.qxf` (QLC+ import), :mod:`.library`
(search paths), :mod:`.patch`, :mod:`.nodes` and :mod:`.pattern` (graphs and the merge),
:mod:`.layers` and :mod:`.composite` (blend modes, opacity), :mod:`.buffer`, :mod:`.dmx`,
:mod:`.show` / :mod:`.store` / :mod:`.show_file` (in memory, in the project, as YAML),
:mod:`.demo`. Nothing here imports Qt.
"""

from core.lighting.buffer import BufferSample, CompositeBuffer
from core.lighting.capabilities import Capability, capabilities, register_capability
from core.lighting.dmx import DmxRenderer
from core.lighting.errors import (
    FixtureDefinitionError,
    LayerError,
    LightingError,
    MergeConflictError,
    PatchError,
    PatternError,
    ShowFileError,
)
from core.lighting.fixture_def import ChannelDef, ChannelRange, FixtureDef, ModeDef, Physical
from core.lighting.layers import BlendMode, Keyframe, Layer, OpacityCurve
from core.lighting.library import FixtureLibrary, user_fixture_dir
from core.lighting.nodes import NodeType, Param, Port, PortType, node_types, register_node
from core.lighting.patch import FixtureInstance, Patch, Rig
from core.lighting.pattern import Link, NodeSpec, PatternGraph
from core.lighting.qxf import load_qxf
from core.lighting.show import Show
from core.lighting.show_file import dump_show, load_show_file, parse_show, write_show_file
from core.lighting.store import load_show, save_show

__all__ = [
    "BlendMode", "BufferSample", "Capability", "ChannelDef", "ChannelRange", "CompositeBuffer", "DmxRenderer",
    "FixtureDef", "FixtureDefinitionError", "FixtureInstance", "FixtureLibrary", "Keyframe", "Layer", "LayerError",
    "LightingError", "Link", "MergeConflictError", "ModeDef", "NodeSpec", "NodeType", "OpacityCurve", "Param",
    "Patch", "PatchError", "PatternError", "PatternGraph", "Physical", "Port", "PortType", "Rig", "Show",
    "ShowFileError", "capabilities", "dump_show", "load_qxf", "load_show", "load_show_file", "node_types",
    "parse_show", "register_capability", "register_node", "save_show", "user_fixture_dir", "write_show_file",
]
