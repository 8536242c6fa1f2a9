"""Lighting pattern graphs in the generic node editor (widgets.nodes).

* :class:`LightingNodeModel`: the registered node types of :mod:`core.lighting.nodes`
  as the editor's :class:`~widgets.nodes.model.NodeTypeDef`, core's link rule
  (an output feeds an input of the same port type) and name suggestions from the rig;
* conversions between :class:`~core.lighting.pattern.PatternGraph` and
  :class:`~widgets.nodes.model.GraphData` (node positions travel in ``NodeSpec.pos``);
* :func:`structure_error` (what must never be stored) and :func:`graph_errors`
  (what the editor badges: missing inputs, bad parameters, unknown fixtures,
  merge conflicts) - both from core's own validation;
* :func:`node_preview`: one node's output over a pattern's time range,
  evaluated by the node types' own ``evaluate``;
* :func:`stored_pattern_json` / :func:`write_pattern_json`: the pattern row of
  the project, written as one transaction.

Patterns being edited are stored even when incomplete (an Apply node whose
inputs are not linked yet): the editor shows the problems as badges and the
show reports them if such a pattern is played.
"""

from __future__ import annotations

import graphlib
import math
from typing import Any

import numpy as np

from core.lighting.errors import LightingError, MergeConflictError, PatternError
from core.lighting.nodes import EvalContext, PortType, node_type, node_types
from core.lighting.nodes.base import ApplyResult, BeatGrid, Selection, as_series
from core.lighting.patch import Rig
from core.lighting.pattern import Link, NodeSpec, PatternGraph, merge
from core.lighting.show import Show
from core.project import Project
from core.time import TempoMap
from widgets.nodes.model import GraphData, LinkData, NodeData, NodeTypeDef, ParamDef, PortDef
from widgets.nodes.preview import Preview

PORT_COLORS = {
    PortType.SELECTION.value: "#e9c46a",
    PortType.SERIES.value: "#4cc9f0",
    PortType.COLOR.value: "#f72585",
    PortType.POSITION.value: "#80ed99",
    PortType.BEAT_GRID.value: "#b388ff",
    PortType.AUDIO.value: "#ff9f1c",
}
MAX_CURVES = 12
MAX_ROWS = 24
MAX_SAMPLES = 1000


# ------------------------------------------------------------ the node model
def node_type_defs() -> list[NodeTypeDef]:
    out = []
    for tid, kind in node_types().items():
        out.append(NodeTypeDef(
            tid,
            kind.title or tid,
            kind.category,
            tuple(PortDef(p.name, p.type.value, p.required) for p in kind.inputs),
            tuple(PortDef(p.name, p.type.value, p.required) for p in kind.outputs),
            tuple(ParamDef(p.name, p.kind, _plain(p.default), p.min, p.max, tuple(p.choices), p.doc)
                  for p in kind.params),
            kind.doc,
        ))
    return out


def _plain(value: Any) -> Any:
    """Tuples (the registry's defaults) as lists, the way JSON stores them."""
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


class LightingNodeModel:
    """The lighting node types for :class:`widgets.nodes.NodeEditor`; ``rig`` feeds suggestions."""

    def __init__(self, rig: Rig | None = None):
        self.rig = rig
        self._types = node_type_defs()

    def node_types(self) -> list[NodeTypeDef]:
        return self._types

    def can_connect(self, src_type: str, dst_type: str) -> bool:
        # core's rule (PatternGraph.validate_link): an output feeds an input of its own port type
        return src_type == dst_type

    def port_color(self, port_type: str) -> str | None:
        return PORT_COLORS.get(port_type)

    def suggestions(self, type_id: str, param: str) -> list[str]:
        if self.rig is None:
            return []
        if param == "fixtures":
            ids = [f.id for f in self.rig.patch]
            fixtures = set(ids)
            return ids + [p.id for p in self.rig.primitives if p.id not in fixtures]
        if param == "groups":
            return sorted(self.rig.patch.groups())
        return []


# ------------------------------------------------------------ conversions
def to_graph_data(graph: PatternGraph) -> GraphData:
    return GraphData(
        tuple(NodeData(n.id, n.type, n.pos, dict(n.params)) for n in graph.nodes),
        tuple(LinkData(l.src, l.src_port, l.dst, l.dst_port) for l in graph.links),
    )


def to_pattern(name: str, data: GraphData) -> PatternGraph:
    return PatternGraph(
        name,
        tuple(NodeSpec(n.id, n.type, _plain_params(n.params), _pos(n.pos)) for n in data.nodes),
        tuple(Link(l.src, l.src_port, l.dst, l.dst_port) for l in data.links),
    )


def _plain_params(params) -> dict[str, Any]:
    return {k: _plain(v) for k, v in params.items()}


def _pos(pos) -> tuple[float, float] | None:
    if pos is None:
        return None
    return (float(round(pos[0], 1)), float(round(pos[1], 1)))


# ------------------------------------------------------------ checks
def _sources(graph: PatternGraph) -> dict[str, dict[str, tuple[str, str]]]:
    out: dict[str, dict[str, tuple[str, str]]] = {n.id: {} for n in graph.nodes}
    for l in graph.links:
        out.setdefault(l.dst, {})[l.dst_port] = (l.src, l.src_port)
    return out


def structure_error(graph: PatternGraph) -> PatternError | None:
    """What makes ``graph`` unfit to store at all: bad ids, unknown types or parameters, links
    between ports that do not exist or do not match, two links into one input, a loop.
    (Unlinked inputs and merge conflicts are not structural: the editor badges them.)"""
    try:
        types = {}
        for spec in graph.nodes:
            if spec.id in types:
                raise PatternError(f"pattern {graph.name!r}: node id {spec.id!r} is used twice", spec.id)
            graph.validate_node(spec)
            types[spec.id] = node_type(spec.type)
        seen = set()
        for link in graph.links:
            graph.validate_link(link, types)
            if (link.dst, link.dst_port) in seen:
                raise PatternError(f"pattern {graph.name!r}: input {link.dst}.{link.dst_port} has two links", link.dst)
            seen.add((link.dst, link.dst_port))
        order = graphlib.TopologicalSorter({nid: {s for s, _ in src.values()} for nid, src in _sources(graph).items()})
        try:
            order.prepare()
        except graphlib.CycleError as exc:
            cycle = exc.args[1]
            raise PatternError(f"pattern {graph.name!r}: the links form a cycle ({' -> '.join(cycle)})",
                               cycle[0]) from None
    except PatternError as exc:
        return exc
    return None


def _completeness(graph: PatternGraph, spec: NodeSpec, sources: dict[str, tuple[str, str]]) -> None:
    kind = node_type(spec.type)
    where = f"node {spec.id!r} ({kind.title or spec.type})"
    for port in kind.inputs:
        if port.required and port.name not in sources:
            raise PatternError(f"{where}: input {port.name!r} is not linked; link a {port.type.value} output to it",
                               spec.id)
    kind.check(graph.validate_node(spec), set(sources), where)


class _Evaluator:
    """The outputs of single nodes, evaluated on demand (each node once) with core's node types."""

    def __init__(self, graph: PatternGraph, ctx: EvalContext):
        self.graph, self.ctx = graph, ctx
        self.specs = {n.id: n for n in graph.nodes}
        self.sources = _sources(graph)
        self.values: dict[str, Any] = {}

    def outputs(self, nid: str, stack: tuple[str, ...] = ()) -> Any:
        if nid in self.values:
            return self.values[nid]
        if nid in stack:
            raise PatternError(f"the links form a cycle ({' -> '.join(stack + (nid,))})", nid)
        spec = self.specs[nid]
        srcs = self.sources.get(nid, {})
        _completeness(self.graph, spec, srcs)
        inputs = {}
        for port, (src, src_port) in srcs.items():
            inputs[port] = self.outputs(src, stack + (nid,))[src_port]
        result = node_type(spec.type).evaluate(self.ctx, inputs, self.graph.validate_node(spec), nid)
        self.values[nid] = result
        return result


def graph_errors(graph: PatternGraph, rig: Rig, tempo: TempoMap) -> dict[str, str]:
    """Problems of ``graph`` by node id ("" for the pattern as a whole)."""
    errors: dict[str, str] = {}
    sources = _sources(graph)
    types = {}
    for spec in graph.nodes:
        try:
            graph.validate_node(spec)
            types[spec.id] = node_type(spec.type)
        except PatternError as exc:
            errors[spec.id] = str(exc)
    for link in graph.links:
        try:
            graph.validate_link(link, types)
        except PatternError as exc:
            errors.setdefault(exc.node_id or link.dst, str(exc))
    for spec in graph.nodes:
        if spec.id not in errors:
            try:
                _completeness(graph, spec, sources.get(spec.id, {}))
            except PatternError as exc:
                errors[spec.id] = str(exc)
    if errors:
        return errors
    evaluator = _Evaluator(graph, EvalContext.for_times(rig, np.zeros(1), tempo))
    results: list[ApplyResult] = []
    for spec in graph.nodes:
        if node_type(spec.type).applies is None:
            continue
        try:
            results.append(evaluator.outputs(spec.id))
        except PatternError as exc:
            errors.setdefault(exc.node_id or spec.id, str(exc))
    for i, a in enumerate(results):
        for b in results[i + 1:]:
            if a.capability != b.capability:
                continue
            try:
                merge(graph.name, [a, b], rig)
            except MergeConflictError as exc:
                errors.setdefault(a.node_id, str(exc))
                errors.setdefault(b.node_id, str(exc))
    if not errors:
        try:
            graph.check(rig, tempo)
        except PatternError as exc:
            errors[exc.node_id or ""] = str(exc)
    return errors


# ------------------------------------------------------------ previews
def preview_times(show: Show, pattern: str) -> tuple[np.ndarray, float]:
    """Sample times (seconds, on the show's sample grid) over the pattern's first layer, or over
    two bars from 0 when no layer uses it; and the layer start."""
    rate = show.sample_rate
    spans = sorted(layer.seconds(show.tempo) for layer in show.layers if layer.pattern == pattern)
    if spans:
        t0, t1 = spans[0]
    else:
        t0, t1 = 0.0, float(show.tempo.beats_to_seconds(2.0 * show.tempo.beats_per_bar))
    first = math.ceil(t0 * rate - 1e-9)
    count = max(math.ceil(t1 * rate - 1e-9) - first, 1)
    step = max(1, math.ceil(count / MAX_SAMPLES))
    return (first + np.arange(0, count, step, dtype=np.float64)) / rate, t0


def _labels(rig: Rig, indices) -> list[str]:
    return [rig.primitives[int(i)].id for i in indices]


def _columns(values: np.ndarray, rig: Rig, indices=None) -> tuple[list[str], list[int], str]:
    """Labels and column numbers to show of a (T|1, N|1, ...) array; a note when some are left out."""
    n = values.shape[1]
    if n == 1:
        return ["all"], [0], ""
    idx = list(range(n)) if indices is None else list(indices)
    labels = _labels(rig, idx)
    limit = MAX_CURVES
    note = f" (first {limit} of {n})" if n > limit else ""
    return labels[:limit], list(range(min(n, limit))), note


def node_preview(graph: PatternGraph, node_id: str, rig: Rig, tempo: TempoMap, t: np.ndarray,
                 layer_start: float = 0.0) -> Preview:
    """What ``node_id`` outputs at times ``t`` (its first output; an Apply node: what it writes)."""
    spec = graph.node(node_id)
    kind = node_type(spec.type)
    span = f"{t[0]:.2f}–{t[-1]:.2f} s" if len(t) else ""
    ctx = EvalContext.for_times(rig, t, tempo, layer_start)
    try:
        out = _Evaluator(graph, ctx).outputs(node_id)
    except PatternError as exc:
        return Preview("text", f"{node_id}: nothing to preview", text=str(exc))
    T = len(t)
    if isinstance(out, ApplyResult):
        values = np.broadcast_to(out.values, (T,) + out.values.shape[1:])
        labels, cols, note = _columns(values, rig, out.indices)
        title = f"{node_id} writes {out.capability} of {len(out.indices)} primitive(s), {span}{note}"
        return _array_preview(values, labels, cols, title, t)
    if not kind.outputs:
        return Preview("text", node_id, text="This node has no output to preview.")
    port = kind.outputs[0]
    value = out[port.name]
    title = f"{node_id}.{port.name} ({port.type.value}), {span}"
    if port.type == PortType.SELECTION:
        sel: Selection = value
        names = _labels(rig, sel.indices)
        text = (f"{len(names)} primitive(s), in this order:\n" + ", ".join(names)) if names else \
            "Selects nothing (is anything patched?)."
        return Preview("text", f"{node_id}.{port.name} (selection)", text=text)
    if port.type == PortType.BEAT_GRID:
        grid: BeatGrid = value
        return Preview("series", title, t, [("beats", np.broadcast_to(grid.beats, (T,)).astype(np.float64))])
    if port.type == PortType.SERIES:
        arr = as_series(value)
        arr = np.broadcast_to(arr, (T, arr.shape[1]))[..., None]
    elif port.type in (PortType.COLOR, PortType.POSITION):
        arr = np.asarray(value, dtype=np.float64)
        arr = np.broadcast_to(arr, (T,) + arr.shape[1:])
    else:
        return Preview("text", title, text=f"No preview for {port.type.value} outputs.")
    labels, cols, note = _columns(arr, rig)
    return _array_preview(arr, labels, cols, title + note, t)


def _array_preview(values: np.ndarray, labels: list[str], cols: list[int], title: str, t: np.ndarray) -> Preview:
    """(T, K, dims) values: colours (dims 3) as strips, positions (2) as pan/tilt curves, levels as curves."""
    dims = values.shape[-1]
    if values.shape[1] == 0:
        return Preview("text", title, text="Nothing selected (is anything patched?).")
    if dims == 3:
        rows = [(label, np.asarray(values[:, c, :], dtype=np.float64)) for label, c in zip(labels, cols)][:MAX_ROWS]
        return Preview("colors", title, t, rows)
    if dims == 2:
        curves = []
        for label, c in list(zip(labels, cols))[: MAX_CURVES // 2]:
            prefix = "" if label == "all" else f"{label} "
            curves.append((f"{prefix}pan", np.asarray(values[:, c, 0], dtype=np.float64)))
            curves.append((f"{prefix}tilt", np.asarray(values[:, c, 1], dtype=np.float64)))
        return Preview("series", title, t, curves)
    curves = [(label, np.asarray(values[:, c, 0], dtype=np.float64)) for label, c in zip(labels, cols)]
    return Preview("series", title, t, curves)


# ------------------------------------------------------------ storage
def stored_pattern_json(project: Project, name: str) -> str | None:
    rows = project.query("SELECT graph FROM lighting_patterns WHERE name = ?", (name,))
    return rows[0][0] if rows else None


def pattern_names(project: Project) -> list[str]:
    return [r[0] for r in project.query("SELECT name FROM lighting_patterns ORDER BY name")]


def write_pattern_json(project: Project, name: str, text: str | None, label: str) -> None:
    """Store ``text`` as pattern ``name`` (None: remove the pattern), as one transaction.

    ``text`` must be a pattern graph's JSON (structurally valid, see :func:`structure_error`);
    a pattern that a layer uses is never removed."""
    if text is not None:
        graph = PatternGraph.from_json(text)
        if graph.name != name:
            raise PatternError(f"the graph stored as pattern {name!r} is named {graph.name!r}")
        err = structure_error(graph)
        if err is not None:
            raise err
    with project.transaction(label):
        if text is None:
            used = project.query(
                "SELECT COUNT(*) FROM lighting_layers JOIN lighting_patterns p ON p.id = pattern_id WHERE p.name = ?",
                (name,))[0][0]
            if used:
                raise LightingError(f"pattern {name!r} is used by {used} layer(s); remove them before the pattern")
            project.execute("DELETE FROM lighting_patterns WHERE name = ?", (name,))
        else:
            project.execute(
                "INSERT INTO lighting_patterns(name, graph) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET graph = excluded.graph",
                (name, text),
            )


def empty_pattern_json(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise PatternError("a pattern needs a non-empty name")
    return PatternGraph(name.strip()).to_json()
