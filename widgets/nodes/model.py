"""What the node editor edits: node types, a graph of nodes and links, and the connection rule.

The editor knows nothing about what the nodes mean. An application describes
its node types with :class:`NodeTypeDef` (ports with a type name, parameters
with a kind) and hands over a :class:`NodeModel`; graphs are immutable
:class:`GraphData` values. The editing functions here (add, connect, delete,
duplicate, move, set a parameter) return a new graph and never change the old
one, so an application can keep the before and after of every edit for undo.

Parameter kinds the inspector knows: ``float``, ``int``, ``bool``, ``choice``,
``color`` (``"#rrggbb"`` or ``[r, g, b]`` 0..1), ``colors`` (a list of those),
``names`` (a list of words) and ``text``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Mapping, Protocol, Sequence, runtime_checkable

from core.errors import LumaError

PARAM_KINDS = ("float", "int", "bool", "choice", "color", "colors", "names", "text")


@dataclass(frozen=True)
class PortDef:
    name: str
    type: str
    required: bool = True


@dataclass(frozen=True)
class ParamDef:
    name: str
    kind: str
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""


@dataclass(frozen=True)
class NodeTypeDef:
    type_id: str
    title: str
    category: str = ""
    inputs: tuple[PortDef, ...] = ()
    outputs: tuple[PortDef, ...] = ()
    params: tuple[ParamDef, ...] = ()
    doc: str = ""

    def input(self, name: str) -> PortDef | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output(self, name: str) -> PortDef | None:
        return next((p for p in self.outputs if p.name == name), None)

    def param(self, name: str) -> ParamDef | None:
        return next((p for p in self.params if p.name == name), None)


@runtime_checkable
class NodeModel(Protocol):
    """What an application tells the editor about its nodes."""

    def node_types(self) -> Sequence[NodeTypeDef]:
        """Every node type the palette offers."""

    def can_connect(self, src_type: str, dst_type: str) -> bool:
        """Whether an output of port type ``src_type`` may feed an input of ``dst_type``."""

    def port_color(self, port_type: str) -> str | None:
        """``#rrggbb`` for ports and links of this type (None: the editor picks one)."""

    def suggestions(self, type_id: str, param: str) -> Sequence[str]:
        """Words offered while typing a ``names`` parameter (fixture ids, groups...)."""


@dataclass(frozen=True)
class NodeData:
    id: str
    type: str
    pos: tuple[float, float] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LinkData:
    src: str
    src_port: str
    dst: str
    dst_port: str

    def __str__(self) -> str:
        return f"{self.src}.{self.src_port} -> {self.dst}.{self.dst_port}"


@dataclass(frozen=True)
class GraphData:
    nodes: tuple[NodeData, ...] = ()
    links: tuple[LinkData, ...] = ()

    def node(self, node_id: str) -> NodeData | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def ids(self) -> list[str]:
        return [n.id for n in self.nodes]

    def link_into(self, node_id: str, port: str) -> LinkData | None:
        return next((l for l in self.links if l.dst == node_id and l.dst_port == port), None)


class Refused(LumaError):
    """An edit the editor will not make; the message says why (shown to the user)."""


# ------------------------------------------------------------ identifiers
_SAFE = re.compile(r"[^A-Za-z0-9_]+")


def unique_id(base: str, taken: Iterable[str]) -> str:
    """``base`` made into an identifier that is not in ``taken``: lfo, lfo_2, lfo_3..."""
    stem = _SAFE.sub("_", base).strip("_") or "node"
    if not stem[0].isalpha():
        stem = "n_" + stem
    used = set(taken)
    m = re.match(r"^(.*)_(\d+)$", stem)
    if m and stem in used:
        stem = m.group(1)
    if stem not in used:
        return stem
    i = 2
    while f"{stem}_{i}" in used:
        i += 1
    return f"{stem}_{i}"


# ------------------------------------------------------------ edits
def add_node(graph: GraphData, type_id: str, pos: tuple[float, float], node_id: str | None = None,
             params: Mapping[str, Any] | None = None) -> tuple[GraphData, str]:
    nid = node_id or unique_id(type_id, graph.ids())
    if graph.node(nid) is not None:
        raise Refused(f"a node named {nid!r} exists already")
    node = NodeData(nid, type_id, (float(pos[0]), float(pos[1])), dict(params or {}))
    return replace(graph, nodes=graph.nodes + (node,)), nid


def reaches(graph: GraphData, start: str, goal: str) -> bool:
    """Whether following links downstream from ``start`` arrives at ``goal``."""
    out: dict[str, list[str]] = {}
    for l in graph.links:
        out.setdefault(l.src, []).append(l.dst)
    seen, todo = set(), [start]
    while todo:
        n = todo.pop()
        if n == goal:
            return True
        if n in seen:
            continue
        seen.add(n)
        todo.extend(out.get(n, ()))
    return False


def check_link(graph: GraphData, types: Mapping[str, NodeTypeDef], model: NodeModel, link: LinkData) -> None:
    """Raise :class:`Refused` when ``link`` may not be made; otherwise return quietly."""
    src, dst = graph.node(link.src), graph.node(link.dst)
    if src is None or dst is None:
        raise Refused(f"no node {(link.src if src is None else link.dst)!r}")
    if link.src == link.dst:
        raise Refused("a node cannot feed itself")
    out = types[src.type].output(link.src_port) if src.type in types else None
    inp = types[dst.type].input(link.dst_port) if dst.type in types else None
    if out is None:
        raise Refused(f"{link.src} has no output {link.src_port!r}")
    if inp is None:
        raise Refused(f"{link.dst} has no input {link.dst_port!r}")
    if not model.can_connect(out.type, inp.type):
        raise Refused(f"cannot connect a {out.type} output to a {inp.type} input")
    if reaches(graph, link.dst, link.src):
        raise Refused(f"linking {link.src} to {link.dst} would make a loop")


def connect(graph: GraphData, types: Mapping[str, NodeTypeDef], model: NodeModel, link: LinkData) -> GraphData:
    """The graph with ``link`` added; an input takes one link, so one already there is replaced."""
    others = tuple(l for l in graph.links if not (l.dst == link.dst and l.dst_port == link.dst_port))
    check_link(replace(graph, links=others), types, model, link)
    return replace(graph, links=others + (link,))


def remove(graph: GraphData, node_ids: Iterable[str] = (), links: Iterable[LinkData] = ()) -> GraphData:
    """Without the nodes (and every link touching them) and without the given links."""
    gone, dropped = set(node_ids), set(links)
    return GraphData(
        tuple(n for n in graph.nodes if n.id not in gone),
        tuple(l for l in graph.links if l.src not in gone and l.dst not in gone and l not in dropped),
    )


def duplicate(graph: GraphData, node_ids: Sequence[str], offset: tuple[float, float] = (30.0, 30.0)
              ) -> tuple[GraphData, list[str]]:
    """Copies of the nodes (new ids, shifted by ``offset``), with the links between them and
    the links that feed them from outside; returns the new graph and the new ids."""
    wanted = [n for n in graph.nodes if n.id in set(node_ids)]
    taken = set(graph.ids())
    new_id: dict[str, str] = {}
    nodes = list(graph.nodes)
    for n in wanted:
        nid = unique_id(n.id, taken)
        taken.add(nid)
        new_id[n.id] = nid
        x, y = n.pos or (0.0, 0.0)
        nodes.append(NodeData(nid, n.type, (x + offset[0], y + offset[1]), dict(n.params)))
    links = list(graph.links)
    for l in graph.links:
        if l.dst in new_id:
            links.append(LinkData(new_id.get(l.src, l.src), l.src_port, new_id[l.dst], l.dst_port))
    return GraphData(tuple(nodes), tuple(links)), [new_id[n.id] for n in wanted]


def move(graph: GraphData, positions: Mapping[str, tuple[float, float]]) -> GraphData:
    return replace(graph, nodes=tuple(
        replace(n, pos=(float(positions[n.id][0]), float(positions[n.id][1]))) if n.id in positions else n
        for n in graph.nodes
    ))


def set_param(graph: GraphData, node_id: str, name: str, value: Any) -> GraphData:
    if graph.node(node_id) is None:
        raise Refused(f"no node {node_id!r}")
    return replace(graph, nodes=tuple(
        replace(n, params={**n.params, name: value}) if n.id == node_id else n for n in graph.nodes
    ))


# ------------------------------------------------------------ layout
def auto_layout(graph: GraphData, column: float = 240.0, row: float = 150.0) -> dict[str, tuple[float, float]]:
    """Positions for the nodes that have none: columns by depth (longest chain of links
    feeding the node), rows in graph order; placed right of the nodes that have positions."""
    feeds: dict[str, set[str]] = {n.id: set() for n in graph.nodes}
    for l in graph.links:
        if l.dst in feeds and l.src in feeds:
            feeds[l.dst].add(l.src)
    depth: dict[str, int] = {}

    def depth_of(nid: str, seen: frozenset = frozenset()) -> int:
        if nid in depth:
            return depth[nid]
        if nid in seen:  # a loop in stored data: break it
            return 0
        d = max((depth_of(s, seen | {nid}) + 1 for s in feeds[nid]), default=0)
        depth[nid] = d
        return d

    placed = [n.pos for n in graph.nodes if n.pos is not None]
    x0 = max((p[0] for p in placed), default=-column) + column
    y0 = min((p[1] for p in placed), default=0.0)
    rows: dict[int, int] = {}
    out = {}
    for n in graph.nodes:
        if n.pos is not None:
            continue
        d = depth_of(n.id)
        r = rows.get(d, 0)
        rows[d] = r + 1
        out[n.id] = (x0 + d * column, y0 + r * row)
    return out
