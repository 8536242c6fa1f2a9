"""Independent readers for the Nuke, Silhouette and After Effects roto exports, and the animation they are fed.

Nothing here imports the exporters: each reader parses the file the way the
application would read it (a brace/word tokenizer for ``.nk``, an XML parser
for ``.fxs``, a JavaScript parser for ``.jsx``) and returns the data in the
file's own conventions. The tests convert back to Luma's convention and compare
with the source animation, so a wrong axis, frame offset or handle order in an
exporter shows up as a mismatch.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from core.vision.roto_model import RotoAnimation, SplineTrack

# ---------------------------------------------------------------------------------------------------------------
# the animation the tests export


def sample_animation(points: int = 12) -> RotoAnimation:
    """Two tracks on a 1920x1080 23.976 fps source: ``body`` (add, 7 keys, outer feather) and ``hole``
    (subtract, 5 keys, inner feather), ``points`` vertices each, with asymmetric non-zero handles
    (in != -out) and non-integer coordinates, so swapped handles, flipped axes or shifted frames all show."""
    rng = np.random.default_rng(20240611)
    ang = np.linspace(0.0, 2 * np.pi, points, endpoint=False)

    def blob(cx, cy, rx, ry, frames, wobble):
        verts, tin, tout = [], [], []
        for k, f in enumerate(frames):
            r = 1.0 + wobble * np.sin(3 * ang + 0.4 * k)
            v = np.stack([cx + 3.7 * f + rx * r * np.cos(ang), cy - 2.1 * f + ry * r * np.sin(ang)], axis=1)
            tangent = np.stack([-np.sin(ang) * rx, np.cos(ang) * ry], axis=1) * (2 * np.pi / points) / 3
            verts.append(v + rng.uniform(-0.3, 0.3, v.shape))
            tin.append(-tangent * rng.uniform(0.6, 1.4, (points, 1)) + rng.uniform(-2, 2, v.shape))
            tout.append(tangent * rng.uniform(0.6, 1.4, (points, 1)) + rng.uniform(-2, 2, v.shape))
        return np.array(verts), np.array(tin), np.array(tout)

    body_frames = [0, 2, 3, 7, 11, 12, 20]
    hole_frames = [3, 5, 8, 9, 15]
    bv, bi, bo = blob(900.25, 560.5, 310.0, 380.0, body_frames, 0.12)
    hv, hi, ho = blob(915.75, 500.125, 70.0, 90.0, hole_frames, 0.05)
    body = SplineTrack("body", body_frames, bv, bi, bo, feather_inner=0.0, feather_outer=4.0, mode="add")
    hole = SplineTrack("hole", hole_frames, hv, hi, ho, feather_inner=2.5, feather_outer=0.0, mode="subtract")
    return RotoAnimation("actor 1", 1920, 1080, Fraction(24000, 1001), [body, hole], source="plate.mov")


def inside_polygon(point, polygon) -> bool:
    """Even-odd test of ``point`` against the closed ``polygon`` (N, 2)."""
    x, y = point
    px, py = polygon[:, 0], polygon[:, 1]
    qx, qy = np.roll(px, -1), np.roll(py, -1)
    crosses = (py > y) != (qy > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xi = px + (y - py) * (qx - px) / (qy - py)
    return bool(np.count_nonzero(crosses & (x < xi)) % 2)


# ---------------------------------------------------------------------------------------------------------------
# Nuke .nk


class NkSyntaxError(ValueError):
    pass


@dataclass(frozen=True)
class Word:
    text: str
    quoted: bool = False

    def __str__(self) -> str:
        return self.text


_UNESCAPE = {"n": "\n", "t": "\t"}


def nk_tokens(text: str) -> list:
    """Tcl-like tokens: ``"{"``, ``"}"`` and :class:`Word`; ``#`` comment lines outside braces are skipped."""
    out: list = []
    i, n, depth = 0, len(text), 0
    at_line_start = True
    while i < n:
        c = text[i]
        if c == "\n":
            at_line_start = True
            i += 1
            continue
        if c in " \t\r":
            i += 1
            continue
        if c == "#" and depth == 0 and at_line_start:
            while i < n and text[i] != "\n":
                i += 1
            continue
        at_line_start = False
        if c == "{":
            out.append("{")
            depth += 1
            i += 1
        elif c == "}":
            out.append("}")
            depth -= 1
            if depth < 0:
                raise NkSyntaxError(f"unbalanced '}}' at offset {i}")
            i += 1
        elif c == '"':
            i += 1
            buf = []
            while i < n and text[i] != '"':
                if text[i] == "\\" and i + 1 < n:
                    buf.append(_UNESCAPE.get(text[i + 1], text[i + 1]))
                    i += 2
                else:
                    buf.append(text[i])
                    i += 1
            if i >= n:
                raise NkSyntaxError("unterminated string")
            i += 1
            out.append(Word("".join(buf), True))
        else:
            j = i
            while j < n and text[j] not in ' \t\r\n{}"':
                j += 1
            out.append(Word(text[i:j]))
            i = j
    if depth != 0:
        raise NkSyntaxError(f"{depth} unclosed '{{'")
    return out


def nk_tree(text: str) -> list:
    """Nested lists of :class:`Word` from the tokens (each ``{...}`` becomes a list)."""
    stack: list[list] = [[]]
    for tok in nk_tokens(text):
        if tok == "{":
            stack.append([])
        elif tok == "}":
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(tok)
    return stack[0]


def nk_nodes(text: str) -> list[tuple[str, dict]]:
    """``(Class, knobs)`` for each node at the top level (``Class { knob value ... }``)."""
    tree = nk_tree(text)
    nodes = []
    for a, b in zip(tree, tree[1:]):
        if isinstance(a, Word) and isinstance(b, list):
            body = b
            if len(body) % 2:
                raise NkSyntaxError(f"node {a}: odd number of knob words")
            knobs = {str(body[i]): body[i + 1] for i in range(0, len(body), 2)}
            nodes.append((a.text, knobs))
    return nodes


def nk_float(word) -> float:
    """Nuke's roto numbers: ``x`` + 8 hex digits (float32 bits) or a decimal."""
    s = str(word)
    if re.fullmatch(r"x[0-9a-fA-F]{8}", s):
        return struct.unpack(">f", bytes.fromhex(s[1:]))[0]
    return float(s)


@dataclass
class NkShape:
    """One ``curvegroup``: for each of the shape and feather curves, a list of control-point triplets
    (left tangent, centre, right tangent); each coordinate is ``{time: value}``."""

    name: str
    flags: int
    kind: str
    curve_flags: list[int]
    main: list[list[tuple[dict, dict]]]
    feather: list[list[tuple[dict, dict]]]
    attrs: dict = field(default_factory=dict)
    default_time: float = 0.0

    def times(self) -> list[float]:
        ts = set()
        for curve in (self.main, self.feather):
            for triplet in curve:
                for x, y in triplet:
                    ts.update(x)
                    ts.update(y)
        ts.discard(None)
        return sorted(ts) if ts else [self.default_time]

    def at(self, curve: str, time: float) -> np.ndarray:
        """(N, 3, 2): the triplets of ``curve`` ("main"/"feather") at a keyed ``time`` (constants anywhere)."""
        src = self.main if curve == "main" else self.feather
        out = np.empty((len(src), 3, 2))
        for i, triplet in enumerate(src):
            for j, (x, y) in enumerate(triplet):
                out[i, j] = (_key(x, time), _key(y, time))
        return out


def _key(curve: dict, time: float) -> float:
    if None in curve:
        return curve[None]
    for t, v in curve.items():
        if abs(t - time) < 1e-3:
            return v
    raise KeyError(f"no key at time {time} (keys at {sorted(curve)})")


def _coordinate(item) -> dict:
    """A plain number (constant: key ``None``) or ``{{t v} {t v} ...}``."""
    if isinstance(item, Word):
        return {None: nk_float(item)}
    keys = {}
    for key in item:
        if not isinstance(key, list) or len(key) < 2:
            raise NkSyntaxError(f"bad animation key {key!r}")
        keys[nk_float(key[0])] = nk_float(key[1])
    return keys


def _cc(item) -> tuple[int, list, float]:
    if not (isinstance(item, list) and item and str(item[0]) == "cc"):
        raise NkSyntaxError(f"expected a {{cc ...}}, got {item!r}")
    flags, points, default_time = 0, None, 0.0
    for part in item[1:]:
        if isinstance(part, list) and part and str(part[0]) == "f":
            flags = int(str(part[1]))
        elif isinstance(part, list) and part and str(part[0]) == "px":
            default_time = nk_float(part[1])
            raw = part[2:]
            if len(raw) % 3:
                raise NkSyntaxError(f"{len(raw)} point entries is not a multiple of 3")
            coords = [(_coordinate(p[0]), _coordinate(p[1])) for p in raw]
            points = [coords[i:i + 3] for i in range(0, len(coords), 3)]
    if points is None:
        raise NkSyntaxError("cubic curve without points")
    return flags, points, default_time


def _attrs(item) -> dict:
    words = item[1:]
    return {str(words[i]): nk_float(words[i + 1]) for i in range(0, len(words) - 1, 2)}


def nk_roto(text: str) -> tuple[dict, dict, list[NkShape]]:
    """``(root knobs, roto knobs, shapes in file order)`` of the first Roto node in a ``.nk`` text."""
    nodes = nk_nodes(text)
    root = next(k for c, k in nodes if c == "Root")
    roto = next(k for c, k in nodes if c == "Roto")
    curves = roto["curves"]
    layer = _find(curves, "layer")
    if layer is None:
        raise NkSyntaxError("no {layer ...} in the curves knob")
    shapes = []
    for item in layer[2:]:
        if isinstance(item, list) and item and str(item[0]) == "curvegroup":
            name, flags, kind = str(item[1]), int(str(item[2])), str(item[3])
            ccs = item[4]
            (f_main, main, t0), (f_soft, soft, _) = _cc(ccs[0]), _cc(ccs[1])
            attrs = {}
            for part in item[5:]:
                if isinstance(part, list) and part and str(part[0]) == "a":
                    attrs = _attrs(part)
            shapes.append(NkShape(name, flags, kind, [f_main, f_soft], main, soft, attrs, t0))
    return root, roto, shapes


def _find(tree, head: str):
    if isinstance(tree, list):
        if tree and isinstance(tree[0], Word) and tree[0].text == head:
            return tree
        for item in tree:
            found = _find(item, head)
            if found is not None:
                return found
    return None


# ---------------------------------------------------------------------------------------------------------------
# Silhouette .fxs


@dataclass
class FxsShape:
    label: str
    shape_type: str
    mode: str
    keys: dict  # frame -> (closed, type, interp, points (N, 3, 2) centre/first handle/second handle)


_PAIR = re.compile(r"\(\s*([-+0-9.eE]+)\s*,\s*([-+0-9.eE]+)\s*\)")


def fxs_read(text: str) -> tuple[dict, list[FxsShape]]:
    """Root attributes and the shapes (document order) of a Silhouette ``.fxs`` text."""
    from defusedxml import ElementTree as DET

    root = DET.fromstring(text.encode("utf-8"))
    if root.tag != "Silhouette":
        raise ValueError(f"root element is {root.tag!r}, not Silhouette")
    shapes = []
    for obj in root.iter("Object"):
        if obj.get("type") != "Shape":
            continue
        props = {p.get("id"): p for p in obj.find("Properties").findall("Property")}
        mode = props["mode"].find("Value").text
        keys = {}
        for key in props["path"].findall("Key"):
            path = key.find("Path")
            pts = []
            for point in path.findall("Point"):
                pairs = [(float(a), float(b)) for a, b in _PAIR.findall(point.text)]
                if len(pairs) != 3:
                    raise ValueError(f"a Bezier point needs 3 pairs: {point.text!r}")
                pts.append(pairs)
            keys[int(key.get("frame"))] = (path.get("closed"), path.get("type"), key.get("interp"), np.array(pts))
        shapes.append(FxsShape(obj.get("label"), obj.get("shape_type"), mode, keys))
    return dict(root.attrib), shapes


# ---------------------------------------------------------------------------------------------------------------
# After Effects .jsx


def js_value(node):
    """A literal value from an esprima expression node (objects, arrays, numbers, strings, + - * /)."""
    t = node.type
    if t == "Literal":
        return node.value
    if t == "ArrayExpression":
        return [js_value(e) for e in node.elements]
    if t == "ObjectExpression":
        out = {}
        for prop in node.properties:
            key = prop.key.name if prop.key.type == "Identifier" else prop.key.value
            out[key] = js_value(prop.value)
        return out
    if t == "UnaryExpression" and node.operator in "-+":
        v = js_value(node.argument)
        return -v if node.operator == "-" else +v
    if t == "BinaryExpression" and node.operator in ("/", "*", "+", "-"):
        a, b = js_value(node.left), js_value(node.right)
        return {"/": lambda: Fraction(a) / Fraction(b), "*": lambda: a * b, "+": lambda: a + b,
                "-": lambda: a - b}[node.operator]()
    raise ValueError(f"not a literal: {t}")


def js_walk(node, parents=()):
    """Yield ``(node, parents)`` for every esprima node under ``node``."""
    if node is None:
        return
    if isinstance(node, list):
        for item in node:
            yield from js_walk(item, parents)
        return
    if not hasattr(node, "type"):
        return
    yield node, parents
    for key, value in vars(node).items():
        if key in ("type", "range", "loc"):
            continue
        if isinstance(value, list) or hasattr(value, "type"):
            yield from js_walk(value, parents + (node,))


def js_name(node) -> str:
    """Dotted name of an identifier / member expression (``app.beginUndoGroup``, ``MaskMode.SUBTRACT``)."""
    if node.type == "Identifier":
        return node.name
    if node.type == "MemberExpression" and not node.computed:
        return js_name(node.object) + "." + node.property.name
    if node.type == "MemberExpression":
        return js_name(node.object) + "[]"
    if node.type == "ThisExpression":
        return "this"
    return f"<{node.type}>"


@dataclass
class JsxScript:
    data: dict  # the LUMA object literal
    calls: list  # (dotted callee, [literal args or None], parents)
    members: set
    news: set
    assignments: list  # (dotted target, literal or None)
    ast: object
    text: str = ""

    def source(self, node) -> str:
        """The script text of ``node``."""
        a, b = node.range
        return self.text[a:b]


def jsx_read(text: str) -> JsxScript:
    import esprima

    ast = esprima.parseScript(text, {"range": True})
    data = None
    calls, members, news, assignments = [], set(), set(), []
    for node, parents in js_walk(ast):
        if node.type == "VariableDeclarator" and node.id.name == "LUMA":
            data = js_value(node.init)
        elif node.type == "CallExpression":
            args = []
            for a in node.arguments:
                try:
                    args.append(js_value(a))
                except ValueError:
                    args.append(None)
            calls.append((js_name(node.callee), args, parents))
        elif node.type == "MemberExpression":
            members.add(js_name(node))
        elif node.type == "NewExpression":
            news.add(js_name(node.callee))
        elif node.type == "AssignmentExpression":
            try:
                value = js_value(node.right)
            except ValueError:
                value = None
            assignments.append((js_name(node.left), value))
    if data is None:
        raise ValueError("no `var LUMA = {...}` in the script")
    return JsxScript(data, calls, members, news, assignments, ast, text)
