"""A lighting show in memory: tempo, sample rate, patch, patterns and layers."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.lighting.capabilities import capabilities
from core.lighting.errors import LayerError, LightingError
from core.lighting.layers import Layer
from core.lighting.nodes.base import node_type
from core.lighting.patch import Patch
from core.lighting.pattern import PatternGraph
from core.time import TempoMap

DEFAULT_SAMPLE_RATE = 44.0
MAX_SAMPLE_RATE = 1000.0


@dataclass
class Show:
    patch: Patch = field(default_factory=Patch)
    patterns: dict[str, PatternGraph] = field(default_factory=dict)
    layers: list[Layer] = field(default_factory=list)
    tempo: TempoMap = field(default_factory=TempoMap)
    sample_rate: float = DEFAULT_SAMPLE_RATE

    def __post_init__(self) -> None:
        check_sample_rate(self.sample_rate)

    def add_pattern(self, graph: PatternGraph) -> PatternGraph:
        if graph.name in self.patterns:
            raise LightingError(f"a pattern named {graph.name!r} exists already")
        graph.validate()
        self.patterns[graph.name] = graph
        return graph

    def add_layer(self, layer: Layer) -> Layer:
        if layer.pattern not in self.patterns:
            raise LayerError(f"layer on {layer.track!r} uses pattern {layer.pattern!r}, which does not exist")
        self.layers.append(layer)
        return layer

    def validate(self) -> None:
        """Every pattern valid on the rig (no unknown fixtures, no merge conflicts); layers name patterns."""
        rig = self.patch.rig()
        for graph in self.patterns.values():
            graph.check(rig, self.tempo)
        for layer in self.layers:
            if layer.pattern not in self.patterns:
                raise LayerError(f"layer on {layer.track!r} uses pattern {layer.pattern!r}, which does not exist")

    def capabilities_used(self) -> list[str]:
        """Capabilities that some pattern used by a layer applies, in registry order."""
        used = {layer.pattern for layer in self.layers}
        names: set[str] = set()
        for pname in used:
            graph = self.patterns.get(pname)
            if graph is None:
                continue
            for node in graph.nodes:
                cap = node_type(node.type).applies
                if cap is not None:
                    names.add(cap)
        return [c for c in capabilities() if c in names]

    def end_seconds(self) -> float:
        """When the last layer ends (0 for an empty show)."""
        return max((layer.seconds(self.tempo)[1] for layer in self.layers), default=0.0)


def check_sample_rate(rate: float) -> float:
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 1.0 <= rate <= MAX_SAMPLE_RATE:
        raise LightingError(f"sample rate {rate!r} Hz is not valid (1..{MAX_SAMPLE_RATE:g} Hz)")
    return float(rate)
