"""The demo project's lighting: a small rig and three overlapping patterns.

Rig (universe 1): four RGB pars across the front (3-channel mode, so they use
the virtual dimmer), two RGBW pars at the back, and a 16-bit moving head with
a colour wheel in the middle. Layers, bottom to top:

1. ``warm wash`` (beats 0-64, Replace, fades in over 4 beats): a gradient
   amber -> magenta across the pars from stage left to right at 80 %, the
   moving head at the centre position.
2. ``beat pulse`` (beats 16-48, Multiply): the pars' intensity pulses on every
   beat, so the wash breathes with the music.
3. ``chase and sweep`` (beats 32-64, Max, smooth fade in over 2 beats): a
   two-steps-per-beat chase with a tail over the front pars, and the moving
   head sweeping its pan in blue over four beats.
"""

from __future__ import annotations

from fractions import Fraction

from core.lighting.layers import Keyframe, Layer, OpacityCurve
from core.lighting.library import BUNDLED_DIR, FixtureLibrary
from core.lighting.patch import FixtureInstance, Patch
from core.lighting.pattern import NodeSpec, PatternGraph
from core.lighting.show import Show
from core.lighting.store import save_show
from core.project import Project
from core.time import TempoMap


def demo_show(tempo_bpm: float = 120) -> Show:
    """The demo show in memory (uses only the bundled fixture definitions)."""
    library = FixtureLibrary([BUNDLED_DIR], include_defaults=False)
    rgb, rgbw, head = (library.load(k) for k in ("Generic/RGB Par", "Generic/RGBW Par", "Generic/Moving Head 16-bit"))
    patch = Patch()
    for i in range(4):
        patch.add(FixtureInstance(f"front{i + 1}", rgb.key, "3 Channel", 1, 1 + 3 * i, f"Front par {i + 1}",
                                  ("pars", "front"), (-3.0 + 2.0 * i, 0.0, 3.0)), rgb)
    for i in range(2):
        patch.add(FixtureInstance(f"back{i + 1}", rgbw.key, "6 Channel", 1, 13 + 6 * i, f"Back par {i + 1}",
                                  ("pars", "back"), (-2.0 + 4.0 * i, 4.0, 4.0)), rgbw)
    patch.add(FixtureInstance("spot1", head.key, "16 Channel", 1, 25, "Centre spot", ("movers",), (0.0, 3.0, 5.0)), head)

    wash = PatternGraph(
        "warm wash",
        (
            NodeSpec("pars", "select", {"groups": ["pars"], "order": "x"}),
            NodeSpec("grad", "gradient", {"colors": ["#ff9020", "#ff2080"]}),
            NodeSpec("paint", "apply_color"),
            NodeSpec("level", "dimmer", {"level": 0.8}),
            NodeSpec("dim", "apply_dimmer"),
            NodeSpec("spot", "select", {"groups": ["movers"]}),
            NodeSpec("white", "color", {"color": "#ffffff"}),
            NodeSpec("spot_color", "apply_color"),
            NodeSpec("spot_level", "apply_dimmer"),
            NodeSpec("centre", "position"),
            NodeSpec("aim", "apply_position"),
        ),
        (
            "pars.selection -> grad.selection", "pars.selection -> paint.selection", "grad.color -> paint.color",
            "pars.selection -> dim.selection", "level.level -> dim.level",
            "spot.selection -> spot_color.selection", "white.color -> spot_color.color",
            "spot.selection -> spot_level.selection", "level.level -> spot_level.level",
            "spot.selection -> aim.selection", "centre.position -> aim.position",
        ),
    )
    pulse = PatternGraph(
        "beat pulse",
        (
            NodeSpec("pars", "select", {"groups": ["pars"]}),
            NodeSpec("beat", "beat_pulse", {"every": 1, "decay": 0.75, "curve": "exp"}),
            NodeSpec("floor", "math", {"op": "offset", "amount": 0.25}),
            NodeSpec("limit", "math", {"op": "clamp", "lo": 0, "hi": 1}),
            NodeSpec("dim", "apply_dimmer"),
        ),
        (
            "beat.level -> floor.a", "floor.level -> limit.a",
            "pars.selection -> dim.selection", "limit.level -> dim.level",
        ),
    )
    chase = PatternGraph(
        "chase and sweep",
        (
            NodeSpec("front", "select", {"groups": ["front"], "order": "x"}),
            NodeSpec("run", "chase", {"rate": 2, "tail": 1}),
            NodeSpec("dim", "apply_dimmer"),
            NodeSpec("spot", "select", {"groups": ["movers"]}),
            NodeSpec("sweep", "lfo", {"shape": "triangle", "rate": 0.25, "min": 0.3, "max": 0.7}),
            NodeSpec("aim", "position", {"tilt": 0.35}),
            NodeSpec("move", "apply_position"),
            NodeSpec("blue", "color", {"color": "#2040ff"}),
            NodeSpec("spot_color", "apply_color"),
        ),
        (
            "front.selection -> run.selection", "front.selection -> dim.selection", "run.level -> dim.level",
            "sweep.level -> aim.pan", "spot.selection -> move.selection", "aim.position -> move.position",
            "spot.selection -> spot_color.selection", "blue.color -> spot_color.color",
        ),
    )
    layers = [
        Layer("warm wash", 0, 64, 0, "replace", OpacityCurve((Keyframe(0, 0.0), Keyframe(4, 1.0))), "Lights 1"),
        Layer("beat pulse", 16, 48, 1, "multiply", OpacityCurve(), "Lights 2"),
        Layer("chase and sweep", 32, 64, 2, "max", OpacityCurve((Keyframe(0, 0.0, "smooth"), Keyframe(2, 1.0))),
              "Lights 3"),
    ]
    tempo = TempoMap(Fraction(str(tempo_bpm)))
    show = Show(patch, {g.name: g for g in (wash, pulse, chase)}, layers, tempo)
    show.validate()
    return show


def add_demo_rig(project: Project, tempo_bpm: float = 120) -> Show:
    """Write the demo rig, patterns and layers into ``project`` (replacing its lighting show)."""
    show = demo_show(tempo_bpm)
    save_show(project, show, label="demo lighting")
    return show
