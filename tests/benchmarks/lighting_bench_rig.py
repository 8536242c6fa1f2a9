"""A large synthetic lighting show for the lighting benchmarks (not a test module).

``big_show(fixtures, universes, layers, seconds)`` patches a mix of RGB pars,
RGBW pars (with dimmer and strobe), 16-bit moving heads and 16-bit dimmers in
as many universes as needed (at most ``universes``), and stacks ``layers``
overlapping layers of eight different patterns (gradients, pulses, chases,
LFO waves, sparkle, sweeps, strobes) with all six blend modes and fades; all
but one cover 60-100 % of the show, layer 7 covers 32 beats in the middle.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.lighting.layers import Keyframe, Layer, OpacityCurve  # noqa: E402
from core.lighting.library import BUNDLED_DIR, FixtureLibrary  # noqa: E402
from core.lighting.patch import FixtureInstance, Patch  # noqa: E402
from core.lighting.pattern import NodeSpec, PatternGraph  # noqa: E402
from core.lighting.show import Show  # noqa: E402
from core.time import TempoMap  # noqa: E402

TYPES = [  # (definition, mode, channels, group)
    ("Generic/RGB Par", "3 Channel", 3, "rgb"),
    ("Generic/RGBW Par", "6 Channel", 6, "rgbw"),
    ("Generic/Moving Head 16-bit", "16 Channel", 13, "heads"),
    ("Generic/Dimmer", "16-bit", 2, "dimmers"),
]


def big_patch(fixtures: int, universes: int) -> Patch:
    library = FixtureLibrary([BUNDLED_DIR], include_defaults=False)
    defs = {key: library.load(key) for key, *_ in TYPES}
    patch = Patch(defs)
    per_universe = -(-fixtures // universes)  # spread evenly over every universe
    universe, address, in_universe = 1, 1, 0
    for i in range(fixtures):
        key, mode, count, group = TYPES[i % len(TYPES)]
        if address + count - 1 > 512 or in_universe == per_universe:
            universe, address, in_universe = universe + 1, 1, 0
        if universe > universes:
            raise ValueError(f"{fixtures} fixtures do not fit in {universes} universes")
        patch.add(FixtureInstance(f"f{i}", key, mode, universe, address, "", (group, f"zone{i % 8}"),
                                  (float(i % 50), float(i // 50), 3.0)))
        address += count
        in_universe += 1
    return patch


def _graph(name: str, nodes: list[tuple], links: list[str]) -> PatternGraph:
    return PatternGraph(name, tuple(NodeSpec(*n) for n in nodes), tuple(links))


def patterns() -> list[PatternGraph]:
    return [
        _graph("base", [("all", "select", {"order": "x"}),
                        ("g", "gradient", {"colors": ["#ff4000", "#2040ff", "#20ff80"]}), ("c", "apply_color"),
                        ("d", "dimmer", {"level": 0.7}), ("a", "apply_dimmer"),
                        ("heads", "select", {"groups": ["heads"]}), ("p", "position"), ("ap", "apply_position")],
               ["all.selection -> g.selection", "all.selection -> c.selection", "g.color -> c.color",
                "all.selection -> a.selection", "d.level -> a.level", "heads.selection -> ap.selection",
                "p.position -> ap.position"]),
        _graph("pulse", [("all", "select"), ("b", "beat_pulse", {"decay": 0.5, "curve": "exp"}),
                         ("a", "apply_dimmer")],
               ["all.selection -> a.selection", "b.level -> a.level"]),
        _graph("chase", [("z", "select", {"groups": ["zone1", "zone3", "zone5"], "order": "x"}),
                         ("c", "chase", {"rate": 4, "width": 3, "tail": 4}), ("a", "apply_dimmer")],
               ["z.selection -> c.selection", "z.selection -> a.selection", "c.level -> a.level"]),
        _graph("wave", [("all", "select", {"order": "center_out"}), ("l", "lfo", {"spread": 2, "rate": 0.5}),
                        ("a", "apply_dimmer")],
               ["all.selection -> l.selection", "all.selection -> a.selection", "l.level -> a.level"]),
        _graph("sparkle", [("s", "select", {"groups": ["rgbw", "rgb"]}), ("k", "sparkle", {"density": 0.1}),
                           ("a", "apply_dimmer"), ("w", "color", {"color": "#ffffff"}), ("c", "apply_color")],
               ["s.selection -> k.selection", "s.selection -> a.selection", "k.level -> a.level",
                "s.selection -> c.selection", "w.color -> c.color"]),
        _graph("sweep", [("h", "select", {"groups": ["heads"]}),
                         ("pan", "lfo", {"shape": "triangle", "rate": 0.125, "spread": 1, "min": 0.2, "max": 0.8}),
                         ("tilt", "lfo", {"rate": 0.25, "min": 0.3, "max": 0.6}), ("p", "position"),
                         ("ap", "apply_position"), ("z", "dimmer", {"level": 0.6}), ("az", "apply_zoom")],
               ["h.selection -> pan.selection", "pan.level -> p.pan", "tilt.level -> p.tilt",
                "h.selection -> ap.selection", "p.position -> ap.position", "h.selection -> az.selection",
                "z.level -> az.level"]),
        _graph("scroll", [("all", "select", {"order": "y"}),
                          ("g", "gradient", {"colors": ["#ff0000", "#00ff00", "#0000ff"], "scroll": 0.25}),
                          ("c", "apply_color")],
               ["all.selection -> g.selection", "all.selection -> c.selection", "g.color -> c.color"]),
        _graph("strobe", [("s", "select", {"groups": ["rgbw", "heads"]}),
                          ("q", "lfo", {"shape": "square", "rate": 0.5}), ("m", "math", {"op": "scale", "amount": 0.8}),
                          ("a", "apply_strobe")],
               ["q.level -> m.a", "s.selection -> a.selection", "m.level -> a.rate"]),
    ]


BLENDS = ["replace", "multiply", "max", "screen", "add", "replace", "add", "max",
          "min", "screen", "multiply", "max", "add", "replace", "screen", "min"]


def big_show(fixtures: int = 2000, universes: int = 32, layers: int = 16, seconds: float = 60.0,
             bpm: float = 120.0, sample_rate: float = 44.0) -> Show:
    tempo = TempoMap(bpm)
    total_beats = seconds * bpm / 60.0
    graphs = patterns()
    stack = []
    for i in range(layers):
        # overlapping spans: each layer covers 60-100 % of the show, staggered
        start = total_beats * (i % 5) * 0.08
        end = total_beats * (1.0 - (i % 3) * 0.1)
        if i == 7:  # one short layer in the middle (what an edit usually touches)
            start, end = total_beats / 2, total_beats / 2 + 32
        fade = OpacityCurve((Keyframe(0, 0.0), Keyframe(8, 1.0, "smooth"))) if i % 2 else OpacityCurve()
        pattern = graphs[0].name if i == 0 else graphs[i % len(graphs)].name
        stack.append(Layer(pattern, start, end, z=i, blend="replace" if i == 0 else BLENDS[i], opacity=fade,
                           track=f"Lights {i % 4 + 1}"))
    show = Show(big_patch(fixtures, universes), {g.name: g for g in graphs}, stack, tempo, sample_rate)
    show.validate()
    return show
