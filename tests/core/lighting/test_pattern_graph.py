"""Pattern graphs: registry, typed ports, validation, JSON, every node type, merge conflicts."""

from __future__ import annotations

import numpy as np
import pytest

from core.lighting.errors import LightingError, MergeConflictError, PatternError
from core.lighting.nodes import (
    EvalContext,
    NodeType,
    Param,
    Port,
    PortType,
    node_types,
    register_node,
    unregister_node,
)
from core.lighting.pattern import Link, NodeSpec, PatternGraph
from core.time import TempoMap
from lighting_util import HEAD, RGB, patch_of

ISSUE_NODES = {
    "select", "color", "gradient", "dimmer", "lfo", "beat_pulse", "chase", "sparkle", "math",
    "apply_color", "apply_dimmer", "apply_position", "apply_strobe",
}


@pytest.fixture(scope="module")
def rig():
    # four pars along x (given out of x order), and a moving head
    return patch_of(
        ("p1", RGB, "3 Channel", 1, 1, ("pars",), (2.0, 0, 0)),
        ("p2", RGB, "3 Channel", 1, 4, ("pars",), (-1.0, 0, 0)),
        ("p3", RGB, "3 Channel", 1, 7, ("pars",), (0.0, 0, 0)),
        ("p4", RGB, "3 Channel", 1, 10, ("pars",), (1.0, 0, 0)),
        ("mh", HEAD, "16 Channel", 1, 20, ("movers",), (0.0, 5.0, 4.0)),
    ).rig()


def ctx_at(rig, beats, bpm=120, layer_start=0.0):
    tempo = TempoMap(bpm)
    t = tempo.beats_to_seconds(np.asarray(beats, dtype=np.float64))
    return EvalContext.for_times(rig, t, tempo, layer_start)


def run(rig, nodes, links, beats=(0.0,), apply="apply_dimmer", bpm=120):
    """Evaluate a graph whose last node feeds an apply node on all primitives; return its [T, N, d]."""
    nodes = [NodeSpec(*n) if isinstance(n, tuple) else n for n in nodes]
    g = PatternGraph("t", tuple(nodes) + (NodeSpec("out", apply),), tuple(links))
    out = g.evaluate(ctx_at(rig, beats, bpm))
    cap = {"apply_dimmer": "intensity", "apply_color": "color", "apply_position": "position",
           "apply_strobe": "strobe"}[apply]
    cv = out.caps[cap]
    full = np.zeros((len(beats), rig.size, cv.values.shape[-1]))
    full[:, cv.indices] = np.broadcast_to(cv.values, (len(beats), len(cv.indices), cv.values.shape[-1]))
    return full


def test_registry_has_every_node_type_of_the_issue():
    types = node_types()
    assert ISSUE_NODES <= set(types)
    assert types["apply_color"].applies == "color" and types["apply_dimmer"].applies == "intensity"
    assert types["lfo"].output("level").type is PortType.SERIES
    assert types["select"].output("selection").type is PortType.SELECTION


def test_plugins_can_register_node_types(rig):
    @register_node
    class Ramp(NodeType):
        type_id = "test_ramp"
        outputs = (Port("level", PortType.SERIES),)
        params = (Param("top", "float", 1.0, min=0.0, max=1.0),)

        def evaluate(self, ctx, inputs, params, node_id):
            return {"level": (np.arange(ctx.size) / (ctx.size - 1) * params["top"])[None, :]}

    try:
        vals = run(rig, [("all", "select"), ("r", "test_ramp", {"top": 0.5})],
                   ["all.selection -> out.selection", "r.level -> out.level"])
        np.testing.assert_allclose(vals[0, :, 0], [0, 0.125, 0.25, 0.375, 0.5])

        class Other(NodeType):
            type_id = "test_ramp"

        with pytest.raises(LightingError, match="registered already"):
            register_node(Other)
    finally:
        unregister_node("test_ramp")
    assert "test_ramp" not in node_types()


def test_json_round_trip():
    g = PatternGraph("wash", (NodeSpec("all", "select", {"groups": ["pars"]}), NodeSpec("c", "color", {"color": "#ff0000"}),
                              NodeSpec("a", "apply_color")),
                     ("all.selection -> a.selection", "c.color -> a.color"))
    text = g.to_json()
    assert PatternGraph.from_json(text) == g
    assert '"links":["all.selection -> a.selection","c.color -> a.color"]' in text
    assert str(Link.parse("  a.x->b.y ")) == "a.x -> b.y"


@pytest.mark.parametrize(
    "nodes, links, message",
    [
        ([("x", "nope")], [], "node 'x': unknown node type 'nope' (known: apply_color"),
        ([("l", "lfo", {"rat": 1})], [], "node 'l' (lfo): unknown parameter 'rat' (parameters: shape, rate"),
        ([("l", "lfo", {"rate": -1})], [], "parameter 'rate' is -1, the smallest allowed"),
        ([("l", "lfo", {"shape": "wobble"})], [], "choose one of sine, square, saw, triangle"),
        ([("c", "color", {"color": "red"})], [], "'red' is not a colour"),
        ([("s", "select"), ("c", "color"), ("a", "apply_dimmer")],
         ["s.selection -> a.selection", "c.color -> a.level"], "cannot connect a color output to a series input"),
        ([("s", "select"), ("a", "apply_dimmer")], ["s.selection -> a.selection"], "input 'level' must be linked"),
        ([("s", "select"), ("a", "apply_dimmer")], ["s.selection -> a.selection", "s.nothing -> a.level"],
         "node 's' has no output 'nothing' (outputs: selection)"),
        ([("s", "select"), ("d", "dimmer"), ("a", "apply_dimmer")],
         ["s.selection -> a.selection", "d.level -> a.level", "d.level -> a.level"], "input a.level has two links"),
        ([("m", "math"), ("n", "math")], ["m.level -> n.a", "n.level -> m.a"], "the links form a cycle"),
        ([("d", "dimmer"), ("m", "math", {"op": "add"})], ["d.level -> m.a"], "op 'add' needs input 'b' linked"),
        ([("d", "dimmer"), ("d", "dimmer")], [], "node id 'd' is used twice"),
        ([("bad id", "dimmer")], [], "node ids use letters"),
    ],
)
def test_validation_messages(nodes, links, message):
    g = PatternGraph("p", tuple(NodeSpec(*n) for n in nodes), tuple(links))
    with pytest.raises(PatternError) as err:
        g.validate()
    assert message in str(err.value)
    assert "pattern 'p'" in str(err.value)


def test_bad_link_text():
    with pytest.raises(PatternError, match="is not written as 'node.port -> node.port'"):
        PatternGraph("p", (), ("a -> b",))


def test_merge_is_a_union_and_conflicts_name_both_nodes(rig):
    nodes = (
        NodeSpec("left", "select", {"fixtures": ["p1", "p2"]}), NodeSpec("right", "select", {"fixtures": ["p3", "mh"]}),
        NodeSpec("red", "color", {"color": "#ff0000"}), NodeSpec("blue", "color", {"color": "#0000ff"}),
        NodeSpec("paint_left", "apply_color"), NodeSpec("paint_right", "apply_color"),
        NodeSpec("half", "dimmer", {"level": 0.5}), NodeSpec("dim_left", "apply_dimmer"),
    )
    links = ("left.selection -> paint_left.selection", "red.color -> paint_left.color",
             "right.selection -> paint_right.selection", "blue.color -> paint_right.color",
             "left.selection -> dim_left.selection", "half.level -> dim_left.level")
    out = PatternGraph("ok", nodes, links).evaluate(ctx_at(rig, [0.0, 1.0]))
    color = out.caps["color"]
    assert color.indices.tolist() == [0, 1, 2, 4]
    np.testing.assert_allclose(color.values[0], [[1, 0, 0], [1, 0, 0], [0, 0, 1], [0, 0, 1]])
    assert out.caps["intensity"].indices.tolist() == [0, 1]  # colour and dimmer from different nodes: no conflict

    clash = links[:2] + ("left.selection -> paint_right.selection", "blue.color -> paint_right.color")
    g = PatternGraph("clash", nodes[:6], clash)
    with pytest.raises(MergeConflictError) as err:
        g.evaluate(ctx_at(rig, [0.0]))
    message = str(err.value)
    assert "nodes 'paint_left' and 'paint_right' both apply color to p1, p2" in message
    assert "pattern 'clash'" in message
    assert err.value.node_id == "paint_right"


def test_select_orders_groups_heads_and_unknown_names(rig):
    def order(params):
        g = PatternGraph("s", (NodeSpec("s", "select", params), NodeSpec("c", "chase", {"rate": 1}),
                               NodeSpec("a", "apply_dimmer")),
                         ("s.selection -> c.selection", "s.selection -> a.selection", "c.level -> a.level"))
        # the chase lights the k-th selected primitive on beat k: read the selection order back
        ctx = ctx_at(rig, np.arange(5.0))
        cv = g.evaluate(ctx).caps["intensity"]
        lit = cv.values[:, :, 0].argmax(axis=1)
        return [rig.primitives[cv.indices[i]].id for i in lit[: len(cv.indices)]]

    assert order({"groups": ["pars"]}) == ["p1", "p2", "p3", "p4"]
    assert order({"groups": ["pars"], "order": "reverse"}) == ["p4", "p3", "p2", "p1"]
    assert order({"groups": ["pars"], "order": "x"}) == ["p2", "p3", "p4", "p1"]
    assert order({"groups": ["pars"], "order": "-x"}) == ["p1", "p4", "p3", "p2"]
    assert order({"fixtures": ["p3", "p1"], "groups": ["pars"]}) == ["p3", "p1", "p2", "p4"]  # no repeats
    assert order({"groups": ["pars"], "order": "center_out"})[:2] in (["p3", "p4"], ["p4", "p3"])
    shuffled = order({"groups": ["pars"], "order": "random", "seed": 7})
    assert sorted(shuffled) == ["p1", "p2", "p3", "p4"] and shuffled == order({"groups": ["pars"], "order": "random", "seed": 7})
    g = PatternGraph("s", (NodeSpec("s", "select", {"fixtures": ["ghost"]}), NodeSpec("d", "dimmer"),
                           NodeSpec("a", "apply_dimmer")), ("s.selection -> a.selection", "d.level -> a.level"))
    with pytest.raises(PatternError, match="pattern 's', node 's': 'ghost' is neither a fixture"):
        g.check(rig)


def test_constant_colour_level_gradient_and_position(rig):
    sel = ("all", "select", {"groups": ["pars"], "order": "x"})
    grad = run(rig, [sel, ("g", "gradient", {"colors": ["#ff0000", "#0000ff", "#00ff00"]})],
               ["all.selection -> g.selection", "all.selection -> out.selection", "g.color -> out.color"],
               apply="apply_color")
    # x order p2, p3, p4, p1 -> positions 0, 1/3, 2/3, 1 along red -> blue -> green
    np.testing.assert_allclose(grad[0, 1], [1, 0, 0])
    np.testing.assert_allclose(grad[0, 2], [1 / 3, 0, 2 / 3], atol=1e-6)
    np.testing.assert_allclose(grad[0, 3], [0, 1 / 3, 2 / 3], atol=1e-6)
    np.testing.assert_allclose(grad[0, 0], [0, 1, 0])
    scrolled = run(rig, [sel, ("g", "gradient", {"colors": ["#ff0000", "#0000ff"], "scroll": 0.25})],
                   ["all.selection -> g.selection", "all.selection -> out.selection", "g.color -> out.color"],
                   beats=(0.0, 1.0), apply="apply_color")
    # one beat later the gradient has moved a quarter of the way: p3 (2nd) shows what p2 (1st) showed
    np.testing.assert_allclose(scrolled[1, 2], scrolled[0, 1], atol=1e-6)
    pos = run(rig, [("mh", "select", {"fixtures": ["mh"]}), ("l", "lfo", {"shape": "saw", "rate": 0.25}),
                    ("p", "position", {"tilt": 0.2})],
              ["mh.selection -> out.selection", "l.level -> p.pan", "p.position -> out.position"],
              beats=(0.0, 1.0, 2.0), apply="apply_position")
    np.testing.assert_allclose(pos[:, 4], [[0, 0.2], [0.25, 0.2], [0.5, 0.2]], atol=1e-6)
    assert pos[:, :4].sum() == 0  # only the moving head was written


@pytest.mark.parametrize(
    "shape, expected",
    [
        ("sine", [0.0, 0.5, 1.0, 0.5, 0.0]),
        ("square", [0.0, 0.0, 1.0, 1.0, 0.0]),
        ("saw", [0.0, 0.25, 0.5, 0.75, 0.0]),
        ("triangle", [0.0, 0.5, 1.0, 0.5, 0.0]),
    ],
)
def test_lfo_shapes_in_beats(rig, shape, expected):
    vals = run(rig, [("all", "select"), ("l", "lfo", {"shape": shape, "rate": 1})],
               ["all.selection -> out.selection", "l.level -> out.level"], beats=(0, 0.25, 0.5, 0.75, 1.0))
    np.testing.assert_allclose(vals[:, 0, 0], expected, atol=1e-9)


def test_lfo_hz_range_phase_spread_and_beat_grid(rig):
    # 2 Hz at 120 BPM (0.5 s per beat): one cycle per beat; min/max 0.2..0.6
    vals = run(rig, [("all", "select"), ("l", "lfo", {"shape": "saw", "rate": 2, "unit": "hz", "min": 0.2, "max": 0.6})],
               ["all.selection -> out.selection", "l.level -> out.level"], beats=(0, 0.5))
    np.testing.assert_allclose(vals[:, 0, 0], [0.2, 0.4])
    spread = run(rig, [("pars", "select", {"groups": ["pars"]}), ("l", "lfo", {"shape": "saw", "spread": 0.75})],
                 ["pars.selection -> l.selection", "pars.selection -> out.selection", "l.level -> out.level"],
                 beats=(0.5,))
    # phase offsets 0, 0.25, 0.5, 0.75 along the selection
    np.testing.assert_allclose(spread[0, :4, 0], [0.5, 0.25, 0.0, 0.75])
    double = run(rig, [("all", "select"), ("bg", "beat_grid", {"scale": 2}), ("l", "lfo", {"shape": "saw"})],
                 ["all.selection -> out.selection", "bg.beats -> l.beats", "l.level -> out.level"],
                 beats=(0.25,))
    np.testing.assert_allclose(double[0, 0, 0], 0.5)


def test_beat_pulse_envelopes(rig):
    def pulse(params, beats):
        return run(rig, [("all", "select"), ("b", "beat_pulse", params)],
                   ["all.selection -> out.selection", "b.level -> out.level"], beats=beats)[:, 0, 0]

    np.testing.assert_allclose(pulse({"decay": 0.5}, (0, 0.25, 0.5, 0.75, 1.0, 1.125)), [1, 0.5, 0, 0, 1, 0.75])
    np.testing.assert_allclose(pulse({"attack": 0.5, "decay": 0.5}, (0, 0.25, 0.5, 0.75, 1.0)), [0, 0.5, 1, 0.5, 0])
    np.testing.assert_allclose(pulse({"unit": "bar", "decay": 1}, (0, 0.5, 1, 4, 4.5)), [1, 0.5, 0, 1, 0.5])
    exp = pulse({"every": 2, "decay": 1, "curve": "exp"}, (0, 0.5, 1.0))
    assert exp[0] == pytest.approx(1.0) and exp[2] == pytest.approx(0.0, abs=1e-12)
    assert 0.0 < exp[1] < 0.5  # falls faster than linear


def test_chase_directions_width_and_tail(rig):
    def chase(params, beats):
        return run(rig, [("pars", "select", {"groups": ["pars"]}), ("c", "chase", params)],
                   ["pars.selection -> c.selection", "pars.selection -> out.selection", "c.level -> out.level"],
                   beats=beats)[:, :4, 0]

    np.testing.assert_array_equal(chase({}, (0, 1, 2, 3, 4)).argmax(axis=1), [0, 1, 2, 3, 0])
    np.testing.assert_array_equal(chase({"direction": "reverse"}, (0, 1, 2, 3)).argmax(axis=1), [3, 2, 1, 0])
    np.testing.assert_array_equal(chase({"direction": "bounce"}, (0, 1, 2, 3, 4, 5, 6)).argmax(axis=1),
                                  [0, 1, 2, 3, 2, 1, 0])
    np.testing.assert_array_equal(chase({"width": 2}, (1,)), [[1, 1, 0, 0]])
    np.testing.assert_array_equal(chase({"width": 2}, (2,)), [[0, 1, 1, 0]])
    np.testing.assert_allclose(chase({"tail": 2}, (2,)), [[1 / 3, 2 / 3, 1, 0]])
    np.testing.assert_array_equal(chase({"rate": 2}, (0.5,)).argmax(axis=1), [1])


def test_sparkle_is_seeded_block_independent_and_bounded(rig):
    links = ["pars.selection -> s.selection", "pars.selection -> out.selection", "s.level -> out.level"]
    beats = np.linspace(0, 16, 257)

    def sparkle(params, b=beats):
        return run(rig, [("pars", "select", {"groups": ["pars"]}), ("s", "sparkle", params)], links, beats=tuple(b))

    a = sparkle({"density": 0.3, "seed": 4})
    np.testing.assert_array_equal(a, sparkle({"density": 0.3, "seed": 4}))
    # computing the second half alone gives the same values (blocks can be built in any order)
    np.testing.assert_array_equal(a[128:], sparkle({"density": 0.3, "seed": 4}, beats[128:]))
    assert not np.array_equal(a, sparkle({"density": 0.3, "seed": 5}))
    assert a.min() >= 0.0 and a.max() <= 1.0
    lit = (sparkle({"density": 0.3, "decay": 0, "seed": 4})[:, :4, 0] > 0).mean()
    assert 0.2 < lit < 0.4
    assert sparkle({"density": 0.0}).max() == 0.0
    assert sparkle({"density": 1.0, "decay": 0})[:, :4].min() == 1.0
    assert sparkle({"density": 1.0})[:, 4].max() == 0.0  # the moving head is not selected


@pytest.mark.parametrize(
    "op, extra, expected",
    [
        ("scale", {"amount": 0.5}, 0.25), ("offset", {"amount": 0.25}, 0.75), ("invert", {}, 0.5),
        ("clamp", {"lo": 0.1, "hi": 0.3}, 0.3), ("power", {"amount": 2}, 0.25),
        ("add", {}, 0.75), ("subtract", {}, 0.25), ("multiply", {}, 0.125), ("min", {}, 0.25), ("max", {}, 0.5),
    ],
)
def test_math(rig, op, extra, expected):
    binary = op in ("add", "subtract", "multiply", "min", "max")
    nodes = [("all", "select"), ("a", "dimmer", {"level": 0.5}), ("b", "dimmer", {"level": 0.25}),
             ("m", "math", {"op": op, **extra})]
    links = ["all.selection -> out.selection", "a.level -> m.a", "m.level -> out.level"]
    if binary:
        links.append("b.level -> m.b")
    assert run(rig, nodes, links)[0, 0, 0] == pytest.approx(expected)


def test_apply_nodes_clip_and_cover_the_other_capabilities(rig):
    over = run(rig, [("all", "select"), ("a", "dimmer", {"level": 0.8}), ("m", "math", {"op": "offset", "amount": 1})],
               ["all.selection -> out.selection", "a.level -> m.a", "m.level -> out.level"])
    assert over.max() == 1.0
    strobe = run(rig, [("all", "select"), ("a", "dimmer", {"level": 0.3})],
                 ["all.selection -> out.selection", "a.level -> out.rate"], apply="apply_strobe")
    assert strobe[0, 0, 0] == pytest.approx(0.3)
    g = PatternGraph("g", (NodeSpec("mh", "select", {"groups": ["movers"]}), NodeSpec("gobo", "apply_gobo", {"slot": 3}),
                           NodeSpec("z", "dimmer", {"level": 0.7}), NodeSpec("zoom", "apply_zoom"),
                           NodeSpec("focus", "apply_focus")),
                     ("mh.selection -> gobo.selection", "mh.selection -> zoom.selection", "z.level -> zoom.level",
                      "mh.selection -> focus.selection", "z.level -> focus.level"))
    out = g.evaluate(ctx_at(rig, [0.0]))
    assert out.caps["gobo"].indices.tolist() == [4] and out.caps["gobo"].values.ravel().tolist() == [3.0]
    assert out.caps["zoom"].values.ravel() == pytest.approx([0.7])
    assert set(out.caps) == {"gobo", "zoom", "focus"}


def test_empty_pattern_has_empty_output(rig):
    assert PatternGraph("nothing").evaluate(ctx_at(rig, [0.0, 1.0])).empty
