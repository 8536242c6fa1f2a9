"""Helpers shared by the lighting tests: small rigs and constant patterns."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.lighting.buffer import CompositeBuffer
from core.lighting.dmx import DmxRenderer
from core.lighting.layers import Layer
from core.lighting.library import BUNDLED_DIR, FixtureLibrary
from core.lighting.patch import FixtureInstance, Patch
from core.lighting.pattern import NodeSpec, PatternGraph
from core.lighting.show import Show
from core.time import TempoMap

LIBRARY = FixtureLibrary([BUNDLED_DIR], include_defaults=False)
RGB = "Generic/RGB Par"
RGBW = "Generic/RGBW Par"
HEAD = "Generic/Moving Head 16-bit"
DIMMER = "Generic/Dimmer"


def patch_of(*fixtures: tuple, library: FixtureLibrary = LIBRARY, extra: dict | None = None) -> Patch:
    """fixtures: (id, definition key, mode, universe, address[, groups[, position]])."""
    patch = Patch(dict(extra or {}))
    for f in fixtures:
        fid, key, mode, universe, address = f[:5]
        groups = f[5] if len(f) > 5 else ()
        position = f[6] if len(f) > 6 else (0.0, 0.0, 0.0)
        d = patch.definitions.get(key) or library.load(key)
        patch.add(FixtureInstance(fid, key, mode, universe, address, "", groups, position), d)
    return patch


def const_pattern(name: str, targets=(), **caps) -> PatternGraph:
    """A pattern that applies constants to ``targets`` (fixture ids / groups; empty = all).

    caps: color="#rrggbb" | [r,g,b], level=..., position=(pan, tilt), strobe=..., zoom=..., focus=..., gobo=slot
    """
    nodes = [NodeSpec("sel", "select", {"fixtures": list(targets)} if targets else {})]
    links = []
    if "color" in caps:
        nodes += [NodeSpec("c", "color", {"color": caps["color"]}), NodeSpec("ac", "apply_color")]
        links += ["sel.selection -> ac.selection", "c.color -> ac.color"]
    for cap, apply in (("level", "apply_dimmer"), ("strobe", "apply_strobe"), ("zoom", "apply_zoom"),
                       ("focus", "apply_focus")):
        if cap in caps:
            nodes += [NodeSpec(f"v_{cap}", "dimmer", {"level": caps[cap]}), NodeSpec(f"a_{cap}", apply)]
            port = "rate" if cap == "strobe" else "level"
            links += [f"sel.selection -> a_{cap}.selection", f"v_{cap}.level -> a_{cap}.{port}"]
    if "position" in caps:
        pan, tilt = caps["position"]
        nodes += [NodeSpec("p", "position", {"pan": pan, "tilt": tilt}), NodeSpec("ap", "apply_position")]
        links += ["sel.selection -> ap.selection", "p.position -> ap.position"]
    if "gobo" in caps:
        nodes += [NodeSpec("ag", "apply_gobo", {"slot": caps["gobo"]})]
        links += ["sel.selection -> ag.selection"]
    return PatternGraph(name, tuple(nodes), tuple(links))


def show_of(patch: Patch, patterns, layers, bpm=120, rate=44.0) -> Show:
    show = Show(patch, {p.name: p for p in patterns}, list(layers), TempoMap(bpm), rate)
    show.validate()
    return show


def frame_at(show: Show, t: float, grand_master: float = 1.0) -> tuple[np.ndarray, DmxRenderer]:
    buffer = CompositeBuffer(show)
    renderer = DmxRenderer(show.patch.rig())
    return renderer.render(buffer.sample(t), grand_master), renderer


def one_layer_frame(patch: Patch, t: float = 0.0, grand_master: float = 1.0, targets=(), **caps) -> np.ndarray:
    show = show_of(patch, [const_pattern("p", targets, **caps)], [Layer("p", 0, 64)])
    frame, _ = frame_at(show, t, grand_master)
    return frame


def write_qxf(path: Path, body: str, manufacturer: str = "Test", model: str = "Thing") -> Path:
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE FixtureDefinition>\n'
        '<FixtureDefinition xmlns="http://www.qlcplus.org/FixtureDefinition">\n'
        f" <Manufacturer>{manufacturer}</Manufacturer>\n <Model>{model}</Model>\n <Type>Other</Type>\n"
        f"{body}\n</FixtureDefinition>\n",
        encoding="utf-8",
    )
    return path
