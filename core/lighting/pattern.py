"""Pattern graphs: nodes with parameters, typed links, evaluation, and the merge.

A pattern is stored as JSON::

    {"name": "wash",
     "nodes": [{"id": "all", "type": "select", "params": {}},
               {"id": "red", "type": "color", "params": {"color": "#ff0000"}},
               {"id": "paint", "type": "apply_color", "params": {}}],
     "links": ["all.selection -> paint.selection", "red.color -> paint.color"]}

Validation checks node ids and types, parameter names/values, that every link
joins an existing output to an existing input of the same port type, that each
input has at most one link and every required input has one, and that the
links form no cycle. A node may carry ``"pos": [x, y]``, where an editor drew
it; the position is optional, does not change what the pattern does and is
ignored by graph equality. Evaluation runs the nodes in topological order
(:mod:`graphlib`) over a block of samples; the Apply nodes' results are
**merged**: a simple union, except that the same capability of the same
primitive written by two Apply nodes is an error naming both nodes.
"""

from __future__ import annotations

import graphlib
import json
import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from core.lighting import nodes as _nodes  # noqa: F401  (registers the built-in node types)
from core.lighting.capabilities import capability
from core.lighting.errors import MergeConflictError, PatternError
from core.lighting.nodes.base import ApplyResult, EvalContext, NodeType, node_type
from core.lighting.patch import Rig
from core.time import TempoMap

_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")
_LINK = re.compile(r"^\s*([A-Za-z_][\w\-]*)\.(\w+)\s*->\s*([A-Za-z_][\w\-]*)\.(\w+)\s*$")


@dataclass(frozen=True)
class NodeSpec:
    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    #: where a node editor draws the node (scene units); None: not placed yet
    pos: tuple[float, float] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Link:
    src: str
    src_port: str
    dst: str
    dst_port: str

    def __str__(self) -> str:
        return f"{self.src}.{self.src_port} -> {self.dst}.{self.dst_port}"

    @classmethod
    def parse(cls, text: str) -> "Link":
        m = _LINK.match(text) if isinstance(text, str) else None
        if not m:
            raise PatternError(f"link {text!r} is not written as 'node.port -> node.port'")
        return cls(*m.groups())


@dataclass(frozen=True)
class CapValues:
    """One capability written by a pattern: primitives (sorted) and their values."""

    indices: np.ndarray  # [k] int64, sorted, unique
    values: np.ndarray  # (T|1, k|1, dims) float32


@dataclass
class LayerOutput:
    """The merged output of one pattern over a block of samples."""

    caps: dict[str, CapValues] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.caps


@dataclass(frozen=True)
class _Step:
    node_id: str
    kind: NodeType
    params: dict[str, Any]
    sources: dict[str, tuple[str, str]]  # input port -> (node, output port)


@dataclass(frozen=True)
class PatternGraph:
    name: str
    nodes: tuple[NodeSpec, ...] = ()
    links: tuple[Link, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(self.nodes))
        object.__setattr__(self, "links", tuple(Link.parse(l) if isinstance(l, str) else l for l in self.links))

    # ------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "nodes": [_node_dict(n) for n in self.nodes],
            "links": [str(l) for l in self.links],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PatternGraph":
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise PatternError("a pattern needs a name")
        nodes = []
        for n in data.get("nodes", []):
            if not isinstance(n, dict) or not isinstance(n.get("id"), str) or not isinstance(n.get("type"), str):
                raise PatternError(f"pattern {data['name']!r}: every node needs an id and a type")
            params = n.get("params") or {}
            if not isinstance(params, dict):
                raise PatternError(f"pattern {data['name']!r}, node {n['id']!r}: params must be a mapping", n["id"])
            pos = _position(n["pos"], f"pattern {data['name']!r}, node {n['id']!r}", n["id"]) if "pos" in n else None
            nodes.append(NodeSpec(n["id"], n["type"], dict(params), pos))
        return cls(data["name"], tuple(nodes), tuple(Link.parse(l) for l in data.get("links", [])))

    @classmethod
    def from_json(cls, text: str) -> "PatternGraph":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PatternError(f"pattern graph JSON is malformed ({exc})") from exc
        return cls.from_dict(data)

    # ------------------------------------------------------------ validation
    def validate(self) -> None:
        """Raise :class:`PatternError` (with ``node_id`` set where one node is at fault)."""
        _ = self._plan

    def node(self, node_id: str) -> NodeSpec:
        for n in self.nodes:
            if n.id == node_id:
                return n
        raise PatternError(f"pattern {self.name!r} has no node {node_id!r}")

    def validate_node(self, spec: NodeSpec) -> dict[str, Any]:
        """Normalised parameters of one node (defaults filled in)."""
        where = f"pattern {self.name!r}, node {spec.id!r}"
        if not _ID.match(spec.id):
            raise PatternError(f"{where}: node ids use letters, digits, '_' and '-' and start with a letter", spec.id)
        try:
            kind = node_type(spec.type)
        except PatternError as exc:
            raise PatternError(f"{where}: {exc}", spec.id) from None
        params: dict[str, Any] = {}
        for name, value in spec.params.items():
            p = kind.param(name)
            if p is None:
                known = ", ".join(q.name for q in kind.params) or "none"
                raise PatternError(f"{where} ({spec.type}): unknown parameter {name!r} (parameters: {known})", spec.id)
            params[name] = p.validate(value, f"{where} ({spec.type})")
        for p in kind.params:
            if p.name not in params:
                params[p.name] = p.validate(p.default, f"{where} ({spec.type}) default")
        return params

    def validate_link(self, link: Link, types: dict[str, NodeType]) -> None:
        where = f"pattern {self.name!r}, link '{link}'"
        for nid in (link.src, link.dst):
            if nid not in types:
                raise PatternError(f"{where}: no node {nid!r}", nid)
        out = types[link.src].output(link.src_port)
        if out is None:
            outs = ", ".join(p.name for p in types[link.src].outputs) or "none"
            raise PatternError(f"{where}: node {link.src!r} has no output {link.src_port!r} (outputs: {outs})", link.src)
        inp = types[link.dst].input(link.dst_port)
        if inp is None:
            ins = ", ".join(p.name for p in types[link.dst].inputs) or "none"
            raise PatternError(f"{where}: node {link.dst!r} has no input {link.dst_port!r} (inputs: {ins})", link.dst)
        if out.type != inp.type:
            raise PatternError(
                f"{where}: cannot connect a {out.type.value} output to a {inp.type.value} input", link.dst
            )

    @cached_property
    def _plan(self) -> list[_Step]:
        if not isinstance(self.name, str) or not self.name.strip():
            raise PatternError("a pattern needs a non-empty name")
        types: dict[str, NodeType] = {}
        params: dict[str, dict[str, Any]] = {}
        for spec in self.nodes:
            if spec.id in types:
                raise PatternError(f"pattern {self.name!r}: node id {spec.id!r} is used twice", spec.id)
            params[spec.id] = self.validate_node(spec)
            types[spec.id] = node_type(spec.type)
        sources: dict[str, dict[str, tuple[str, str]]] = {nid: {} for nid in types}
        for link in self.links:
            self.validate_link(link, types)
            if link.dst_port in sources[link.dst]:
                raise PatternError(
                    f"pattern {self.name!r}: input {link.dst}.{link.dst_port} has two links", link.dst
                )
            sources[link.dst][link.dst_port] = (link.src, link.src_port)
        for nid, kind in types.items():
            where = f"pattern {self.name!r}, node {nid!r} ({kind.type_id})"
            for port in kind.inputs:
                if port.required and port.name not in sources[nid]:
                    raise PatternError(f"{where}: input {port.name!r} must be linked", nid)
            kind.check(params[nid], set(sources[nid]), where)
        sorter = graphlib.TopologicalSorter({nid: {s for s, _ in sources[nid].values()} for nid in types})
        try:
            order = list(sorter.static_order())
        except graphlib.CycleError as exc:
            cycle = exc.args[1]
            raise PatternError(
                f"pattern {self.name!r}: the links form a cycle ({' -> '.join(cycle)})", cycle[0]
            ) from None
        return [_Step(nid, types[nid], params[nid], sources[nid]) for nid in order]

    # ------------------------------------------------------------ evaluation
    def evaluate(self, ctx: EvalContext) -> LayerOutput:
        values: dict[tuple[str, str], Any] = {}
        results: list[ApplyResult] = []
        for step in self._plan:
            inputs = {port: values[src] for port, src in step.sources.items()}
            out = step.kind.evaluate(ctx, inputs, step.params, step.node_id)
            if step.kind.applies is not None:
                results.append(out)
            else:
                for port, value in out.items():
                    values[(step.node_id, port)] = value
        return merge(self.name, results, ctx.rig)

    def check(self, rig: Rig, tempo: TempoMap | None = None) -> None:
        """Validate and evaluate one sample on ``rig``: catches unknown fixtures and merge conflicts."""
        self.validate()
        try:
            self.evaluate(EvalContext.for_times(rig, np.zeros(1), tempo or TempoMap()))
        except MergeConflictError:
            raise
        except PatternError as exc:
            raise PatternError(f"pattern {self.name!r}, {exc}", exc.node_id) from None


def _node_dict(n: NodeSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"id": n.id, "type": n.type, "params": dict(n.params)}
    if n.pos is not None:
        out["pos"] = [float(n.pos[0]), float(n.pos[1])]
    return out


def _position(value: Any, where: str, node_id: str) -> tuple[float, float] | None:
    """A stored node position: null or two finite numbers."""
    if value is None:
        return None
    if (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value)
    ):
        return (float(value[0]), float(value[1]))
    raise PatternError(f"{where}: pos must be two numbers [x, y], not {value!r}", node_id)


def merge(pattern: str, results: list[ApplyResult], rig: Rig) -> LayerOutput:
    """Union of the Apply results; one capability twice on one primitive is an error."""
    by_cap: dict[str, list[ApplyResult]] = {}
    for r in results:
        by_cap.setdefault(r.capability, []).append(r)
    out = LayerOutput()
    for cap, rs in by_cap.items():
        rs = [r for r in rs if len(r.indices)]
        if not rs:
            continue
        dims = capability(cap).dims
        for i in range(len(rs)):
            for j in range(i + 1, len(rs)):
                both = np.intersect1d(rs[i].indices, rs[j].indices)
                if both.size:
                    names = ", ".join(rig.primitives[k].id for k in both[:4])
                    more = f" and {both.size - 4} more" if both.size > 4 else ""
                    raise MergeConflictError(
                        f"pattern {pattern!r}: nodes {rs[i].node_id!r} and {rs[j].node_id!r} both apply "
                        f"{cap} to {names}{more}. A pattern may set a capability of a primitive only "
                        f"once; to blend them, put one in another pattern on its own layer.",
                        rs[j].node_id,
                    )
        if len(rs) == 1:
            r = rs[0]
            if r.values.shape[1] == 1:  # one value for all: order does not matter
                out.caps[cap] = CapValues(np.sort(r.indices), r.values)
                continue
            if np.all(r.indices[1:] > r.indices[:-1]):  # already sorted
                out.caps[cap] = CapValues(r.indices, r.values)
                continue
        t = max(r.values.shape[0] for r in rs)
        idx = np.concatenate([r.indices for r in rs])
        vals = np.concatenate([np.broadcast_to(r.values, (t, len(r.indices), dims)) for r in rs], axis=1)
        order = np.argsort(idx, kind="stable")
        out.caps[cap] = CapValues(idx[order], np.ascontiguousarray(vals[:, order], dtype=np.float32))
    return out
