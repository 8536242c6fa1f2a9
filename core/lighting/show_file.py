"""Show files: a whole lighting show as YAML, for scripting and version control.

::

    # Luma Studio lighting show
    luma_show: 1
    tempo: {bpm: 120, offset: 0, beats_per_bar: 4}
    sample_rate: 44
    fixtures:
      - id: par1
        name: Front left
        definition: Generic/RGB Par
        mode: 3 Channel
        universe: 1
        address: 1
        groups: [front]
        position: [-2, 0, 3]
    patterns:
      - name: wash
        nodes:
          - {id: all, type: select}
          - {id: red, type: color, params: {color: "#ff0000"}}
          - {id: paint, type: apply_color}
        links:
          - all.selection -> paint.selection
          - red.color -> paint.color
    layers:
      - pattern: wash
        track: Lights 1
        start_beat: 0
        end_beat: 16
        z: 0
        blend: replace
        opacity: [[0, 0, linear], [4, 1, smooth]]

Reading reports every problem as ``file:line: message`` (YAML syntax, unknown
or missing keys, wrong types, unknown definitions, patch overlaps, graph
errors at the node or link at fault). :func:`dump_show` writes the canonical
form: reading it and writing again gives the identical text.
"""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import yaml

from core.errors import LumaError
from core.lighting.errors import PatternError, ShowFileError
from core.lighting.fixture_def import FixtureDef
from core.lighting.layers import Keyframe, Layer, OpacityCurve
from core.lighting.library import FixtureLibrary
from core.lighting.patch import FixtureInstance, Patch
from core.lighting.nodes.base import node_type
from core.lighting.pattern import Link, NodeSpec, PatternGraph
from core.lighting.show import Show, check_sample_rate
from core.time import TempoMap

FORMAT_VERSION = 1
HEADER = "# Luma Studio lighting show"

# ====================================================================== reading


class _Reader:
    def __init__(self, text: str, filename: str):
        self.filename = filename
        self.loader = yaml.SafeLoader(text)

    def error(self, node: yaml.Node | None, message: str) -> ShowFileError:
        line = node.start_mark.line + 1 if node is not None else 1
        return ShowFileError(f"{self.filename}:{line}: {message}")

    def value(self, node: yaml.Node) -> Any:
        return self.loader.construct_object(node, deep=True)

    def mapping(self, node: yaml.Node, what: str, required: tuple[str, ...], optional: tuple[str, ...]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, f"{what} must be a mapping (key: value lines)")
        out: dict[str, yaml.Node] = {}
        for knode, vnode in node.value:
            key = self.value(knode)
            if not isinstance(key, str):
                raise self.error(knode, f"{what}: key {key!r} is not text")
            if key in out:
                raise self.error(knode, f"{what}: key {key!r} appears twice")
            if key not in required and key not in optional:
                allowed = ", ".join(required + optional)
                raise self.error(knode, f"{what}: unknown key {key!r} (allowed: {allowed})")
            out[key] = vnode
        for key in required:
            if key not in out:
                raise self.error(node, f"{what}: {key!r} is missing")
        return out

    def seq(self, node: yaml.Node, what: str) -> list[yaml.Node]:
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, f"{what} must be a list")
        return list(node.value)

    def text(self, node: yaml.Node, what: str) -> str:
        v = self.value(node)
        if not isinstance(v, str) or not v.strip():
            raise self.error(node, f"{what} must be non-empty text, not {v!r}")
        return v

    def integer(self, node: yaml.Node, what: str) -> int:
        v = self.value(node)
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.error(node, f"{what} must be a whole number, not {v!r}")
        return v

    def number(self, node: yaml.Node, what: str) -> float:
        v = self.value(node)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise self.error(node, f"{what} must be a number, not {v!r}")
        return v

    def fraction(self, node: yaml.Node, what: str) -> Fraction:
        v = self.value(node)
        try:
            if isinstance(v, bool):
                raise ValueError
            if isinstance(v, float):
                if not math.isfinite(v):
                    raise ValueError
                return Fraction(repr(v))  # 128.5 -> 257/2, exactly what was written
            return Fraction(v)
        except (ValueError, TypeError, ZeroDivisionError):
            raise self.error(node, f"{what} must be a number or a fraction like 1000/7, not {v!r}") from None

    def guard(self, node: yaml.Node, fn: Callable[[], Any]) -> Any:
        """Run ``fn``; a LumaError becomes a ShowFileError at ``node``'s line."""
        try:
            return fn()
        except ShowFileError:
            raise
        except LumaError as exc:
            raise self.error(node, str(exc)) from None


def parse_show(
    text: str,
    filename: str = "<show>",
    library: FixtureLibrary | None = None,
    fallback_definitions: dict[str, FixtureDef] | None = None,
) -> Show:
    """Read a show from YAML text. Definitions come from ``library`` (default search paths),
    else from ``fallback_definitions`` (for example those already stored in the project)."""
    r = _Reader(text, filename)
    try:
        try:
            root = r.loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else 1
            raise ShowFileError(f"{filename}:{line}: YAML syntax error: {exc.problem or exc}") from None
        except yaml.YAMLError as exc:
            raise ShowFileError(f"{filename}:1: YAML error: {exc}") from None
        return _read_show(r, root, library, fallback_definitions or {})
    finally:
        r.loader.dispose()


def load_show_file(path: str | Path, library: FixtureLibrary | None = None,
                   fallback_definitions: dict[str, FixtureDef] | None = None) -> Show:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ShowFileError(f"{path}: cannot read the show file ({exc.strerror})") from exc
    except UnicodeDecodeError:
        raise ShowFileError(f"{path}: not a UTF-8 text file") from None
    return parse_show(text, str(path), library, fallback_definitions)


def _read_show(r: _Reader, root: yaml.Node | None, library: FixtureLibrary | None,
               fallback: dict[str, FixtureDef]) -> Show:
    if root is None:
        raise r.error(None, "the show file is empty")
    top = r.mapping(root, "show", ("luma_show",), ("tempo", "sample_rate", "fixtures", "patterns", "layers"))
    version = r.integer(top["luma_show"], "luma_show")
    if version != FORMAT_VERSION:
        raise r.error(top["luma_show"], f"show format {version} is not supported (this version reads {FORMAT_VERSION})")
    tempo = TempoMap()
    if "tempo" in top:
        t = r.mapping(top["tempo"], "tempo", ("bpm",), ("offset", "beats_per_bar"))
        bpm = r.fraction(t["bpm"], "tempo bpm")
        offset = r.fraction(t["offset"], "tempo offset") if "offset" in t else Fraction(0)
        bpb = r.integer(t["beats_per_bar"], "beats_per_bar") if "beats_per_bar" in t else 4
        if not 1 <= bpb <= 64:
            raise r.error(t["beats_per_bar"], f"beats_per_bar {bpb} is not valid (1..64)")
        tempo = r.guard(t["bpm"], lambda: TempoMap(bpm, offset, bpb))
    rate = 44.0
    if "sample_rate" in top:
        node = top["sample_rate"]
        rate = r.guard(node, lambda: check_sample_rate(r.number(node, "sample_rate")))
    show = Show(tempo=tempo, sample_rate=rate)
    lib = library
    definitions: dict[str, FixtureDef] = {}

    def definition(key: str) -> FixtureDef:
        nonlocal lib
        if key in definitions:
            return definitions[key]
        if lib is None:
            lib = FixtureLibrary()
        if key in lib or key not in fallback:
            definitions[key] = lib.load(key)
        else:
            definitions[key] = fallback[key]
        return definitions[key]

    patch = Patch()
    for node in r.seq(top["fixtures"], "fixtures") if "fixtures" in top else []:
        f = r.mapping(node, "fixture", ("id", "definition", "mode", "universe", "address"),
                      ("name", "groups", "position"))
        fid = r.text(f["id"], "fixture id")
        key = r.text(f["definition"], f"{fid}: definition")
        groups: tuple[str, ...] = ()
        if "groups" in f:
            groups = tuple(r.text(g, f"{fid}: group") for g in r.seq(f["groups"], f"{fid}: groups"))
        position = (0.0, 0.0, 0.0)
        if "position" in f:
            items = r.seq(f["position"], f"{fid}: position")
            if len(items) != 3:
                raise r.error(f["position"], f"{fid}: position needs three numbers [x, y, z] in metres")
            position = tuple(float(r.number(v, f"{fid}: position")) for v in items)  # type: ignore[assignment]
        name = r.value(f["name"]) if "name" in f else ""
        if not isinstance(name, str):
            raise r.error(f["name"], f"{fid}: name must be text")
        d = r.guard(f["definition"], lambda: definition(key))
        instance = r.guard(node, lambda: FixtureInstance(
            fid, key, r.text(f["mode"], f"{fid}: mode"), r.integer(f["universe"], f"{fid}: universe"),
            r.integer(f["address"], f"{fid}: address"), name, groups, position))
        r.guard(node, lambda: patch.add(instance, d))
    show.patch = patch
    rig = patch.rig()

    for node in r.seq(top["patterns"], "patterns") if "patterns" in top else []:
        p = r.mapping(node, "pattern", ("name",), ("nodes", "links"))
        pname = r.text(p["name"], "pattern name")
        if pname in show.patterns:
            raise r.error(p["name"], f"pattern {pname!r} is defined twice")
        node_lines: dict[str, yaml.Node] = {}
        specs = []
        for nnode in r.seq(p["nodes"], f"pattern {pname!r}: nodes") if "nodes" in p else []:
            n = r.mapping(nnode, f"pattern {pname!r}: node", ("id", "type"), ("params",))
            nid = r.text(n["id"], "node id")
            params = r.value(n["params"]) if "params" in n else {}
            if not isinstance(params, dict):
                raise r.error(n["params"], f"pattern {pname!r}, node {nid!r}: params must be a mapping")
            spec = NodeSpec(nid, r.text(n["type"], f"node {nid!r}: type"), params)
            if nid in node_lines:
                raise r.error(nnode, f"pattern {pname!r}: node id {nid!r} is used twice")
            r.guard(nnode, lambda: PatternGraph(pname).validate_node(spec))
            node_lines[nid] = nnode
            specs.append(spec)
        types = {spec.id: node_type(spec.type) for spec in specs}
        links = []
        for lnode in r.seq(p["links"], f"pattern {pname!r}: links") if "links" in p else []:
            ltext = r.text(lnode, "link")
            link = r.guard(lnode, lambda: Link.parse(ltext))
            r.guard(lnode, lambda: PatternGraph(pname).validate_link(link, types))
            links.append(link)
        graph = PatternGraph(pname, tuple(specs), tuple(links))
        try:
            graph.check(rig, tempo)
        except PatternError as exc:
            raise r.error(node_lines.get(exc.node_id or "", node), str(exc)) from None
        show.patterns[pname] = graph

    for node in r.seq(top["layers"], "layers") if "layers" in top else []:
        ly = r.mapping(node, "layer", ("pattern", "start_beat", "end_beat"), ("track", "z", "blend", "opacity"))
        pname = r.text(ly["pattern"], "layer pattern")
        if pname not in show.patterns:
            raise r.error(ly["pattern"], f"layer uses pattern {pname!r}, which is not defined in this file")
        keys = []
        for knode in r.seq(ly["opacity"], "opacity") if "opacity" in ly else []:
            items = r.seq(knode, "opacity keyframe")
            if len(items) not in (2, 3):
                raise r.error(knode, "an opacity keyframe is [beat, value] or [beat, value, linear|smooth]")
            interp = r.text(items[2], "interpolation") if len(items) == 3 else "linear"
            beat, value = r.number(items[0], "keyframe beat"), r.number(items[1], "opacity")
            keys.append(r.guard(knode, lambda: Keyframe(beat, value, interp)))
        start, end = r.number(ly["start_beat"], "start_beat"), r.number(ly["end_beat"], "end_beat")
        track = r.text(ly["track"], "track") if "track" in ly else "Lights"
        z = r.integer(ly["z"], "z") if "z" in ly else 0
        blend = r.text(ly["blend"], "blend") if "blend" in ly else "replace"
        curve = r.guard(ly.get("opacity", node), lambda: OpacityCurve(tuple(keys)))
        layer = r.guard(node, lambda: Layer(pname, start, end, z, blend, curve, track))
        show.layers.append(layer)
    return show


# ====================================================================== writing

_PLAIN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ ./+()&'>-]*$")
_NUMBERISH = re.compile(r"^[-+]?(\.\d+|\d[\d_]*(\.\d*)?)([eE][-+]?\d+)?$")  # numbers to YAML 1.2 readers too


def _str(s: str) -> str:
    """Plain when every YAML reader reads it back as this text, else double-quoted."""
    if _PLAIN.match(s) and not s.endswith(" ") and ": " not in s and " #" not in s and not _NUMBERISH.match(s):
        try:
            if yaml.safe_load(f"k: {s}") == {"k": s} and yaml.safe_load(f"[{s}]") == [s]:
                return s
        except yaml.YAMLError:
            pass
    return json.dumps(s, ensure_ascii=False)


def _num(v: float | int) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if not math.isfinite(v):
        raise ShowFileError(f"cannot write the number {v!r} to a show file")
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    text = repr(v)
    if "e" in text and "." not in text.split("e")[0]:
        mant, exp = text.split("e")
        text = f"{mant}.0e{exp}"  # YAML 1.1 floats need a dot
    return text


def _fraction(v: Fraction) -> str:
    if v.denominator == 1:
        return str(v.numerator)
    f = float(v)
    if Fraction(repr(f)) == v:
        return _num(f)
    return _str(f"{v.numerator}/{v.denominator}")


def _flow(v: Any) -> str:
    if isinstance(v, str):
        return _str(v)
    if isinstance(v, (bool, int, float)):
        return _num(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_flow(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_str(str(k))}: {_flow(x)}" for k, x in v.items()) + "}"
    if v is None:
        return "null"
    raise ShowFileError(f"cannot write {v!r} to a show file")


def dump_show(show: Show) -> str:
    """The canonical YAML text of ``show``."""
    t = show.tempo
    out = [HEADER, f"luma_show: {FORMAT_VERSION}",
           f"tempo: {{bpm: {_fraction(t.bpm)}, offset: {_fraction(t.offset)}, beats_per_bar: {t.beats_per_bar}}}",
           f"sample_rate: {_num(show.sample_rate)}"]
    fixtures = show.patch.fixtures
    out.append("fixtures:" if fixtures else "fixtures: []")
    for f in fixtures:
        out += [f"  - id: {_str(f.id)}"]
        if f.name:
            out.append(f"    name: {_str(f.name)}")
        out += [f"    definition: {_str(f.definition)}", f"    mode: {_str(f.mode)}",
                f"    universe: {f.universe}", f"    address: {f.address}"]
        if f.groups:
            out.append(f"    groups: {_flow(list(f.groups))}")
        if any(f.position):
            out.append(f"    position: {_flow(list(f.position))}")
    out.append("patterns:" if show.patterns else "patterns: []")
    for g in show.patterns.values():
        out.append(f"  - name: {_str(g.name)}")
        out.append("    nodes:" if g.nodes else "    nodes: []")
        for n in g.nodes:
            item = {"id": n.id, "type": n.type}
            if n.params:
                item["params"] = n.params
            out.append(f"      - {_flow(item)}")
        out.append("    links:" if g.links else "    links: []")
        out += [f"      - {_str(str(link))}" for link in g.links]
    out.append("layers:" if show.layers else "layers: []")
    for layer in show.layers:
        out += [f"  - pattern: {_str(layer.pattern)}", f"    track: {_str(layer.track)}",
                f"    start_beat: {_num(layer.start_beat)}", f"    end_beat: {_num(layer.end_beat)}",
                f"    z: {layer.z}", f"    blend: {layer.blend.value}"]
        if layer.opacity.keys:
            keys = [[k.beat, k.value, k.interp] for k in layer.opacity.keys]
            out.append(f"    opacity: {_flow(keys)}")
    return "\n".join(out) + "\n"


def write_show_file(show: Show, path: str | Path) -> None:
    path = Path(path)
    try:
        path.write_text(dump_show(show), encoding="utf-8")
    except OSError as exc:
        raise ShowFileError(f"{path}: cannot write the show file ({exc.strerror})") from exc
