"""Pattern-graph building blocks: port types, parameters, values, the node registry.

A node type declares typed input and output ports, parameters with defaults
and ranges, and an ``evaluate`` that works on whole numpy arrays: one call
computes a block of time samples for every primitive of the rig at once.

Value shapes (T time samples, N primitives of the rig; a dimension of 1
broadcasts):

=========== =============================================================
Selection   :class:`Selection` - ordered primitive indices
Series      float array (T|1, N|1) - intensity-like values, usually 0..1
Color       float array (T|1, N|1, 3) - linear RGB 0..1
Position    float array (T|1, N|1, 2) - pan, tilt 0..1 of the fixture range
BeatGrid    :class:`BeatGrid` - the beat position of every sample
Audio       reserved for audio analysis nodes (plugins)
=========== =============================================================

Plugins add node types with :func:`register_node` (a class decorator).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any, ClassVar

import numpy as np

from core.lighting.colors import parse_color
from core.lighting.errors import LightingError, PatternError
from core.lighting.patch import Rig
from core.time import TempoMap


class PortType(str, Enum):
    SELECTION = "selection"
    SERIES = "series"  # also called Intensity
    COLOR = "color"
    POSITION = "position"
    BEAT_GRID = "beat_grid"
    AUDIO = "audio"


@dataclass(frozen=True)
class Port:
    name: str
    type: PortType
    required: bool = True
    doc: str = ""


@dataclass(frozen=True)
class Param:
    """A node parameter. ``kind``: float, int, bool, choice, color, colors, names."""

    name: str
    kind: str
    default: Any
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""

    def validate(self, value: Any, where: str) -> Any:
        """The normalised value, or :class:`PatternError` saying what is wrong."""
        what = f"{where}: parameter {self.name!r}"
        k = self.kind
        if k in ("float", "int"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise PatternError(f"{what} must be a number, not {value!r}")
            if k == "int" and not float(value).is_integer():
                raise PatternError(f"{what} must be a whole number, not {value!r}")
            if not math.isfinite(float(value)):
                raise PatternError(f"{what} must be finite")
            if self.min is not None and value < self.min:
                raise PatternError(f"{what} is {value!r}, the smallest allowed is {self.min!r}")
            if self.max is not None and value > self.max:
                raise PatternError(f"{what} is {value!r}, the largest allowed is {self.max!r}")
            return int(value) if k == "int" else float(value)
        if k == "bool":
            if not isinstance(value, bool):
                raise PatternError(f"{what} must be true or false, not {value!r}")
            return value
        if k == "choice":
            if value not in self.choices:
                raise PatternError(f"{what} is {value!r}; choose one of {', '.join(self.choices)}")
            return value
        if k == "color":
            try:
                return parse_color(value, what)
            except LightingError as exc:
                raise PatternError(str(exc)) from None
        if k == "colors":
            if not isinstance(value, (list, tuple)) or len(value) < 2:
                raise PatternError(f"{what} must be a list of at least two colours")
            try:
                return tuple(parse_color(v, what) for v in value)
            except LightingError as exc:
                raise PatternError(str(exc)) from None
        if k == "names":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
                raise PatternError(f"{what} must be a list of names")
            return tuple(value)
        raise PatternError(f"{what}: unknown parameter kind {k!r}")


@dataclass(frozen=True)
class Selection:
    """Primitive indices in selection order (no repeats)."""

    indices: np.ndarray

    def ranks(self, n: int) -> np.ndarray:
        """[n] position of each primitive along the selection, 0..1 (unselected: 0)."""
        u = np.zeros(n, dtype=np.float64)
        k = len(self.indices)
        if k:
            u[self.indices] = np.arange(k) / max(k - 1, 1)
        return u

    def steps(self, n: int) -> np.ndarray:
        """[n] order number of each primitive in the selection (unselected: -1)."""
        s = np.full(n, -1, dtype=np.int64)
        s[self.indices] = np.arange(len(self.indices))
        return s


@dataclass(frozen=True)
class BeatGrid:
    beats: np.ndarray  # [T] beat position of every sample
    beats_per_bar: int = 4


@dataclass
class EvalContext:
    """What a node sees: the rig and the sample times of the block being built."""

    rig: Rig
    t: np.ndarray  # [T] show time, seconds
    beats: np.ndarray  # [T] show time, beats (through the tempo map)
    local_t: np.ndarray  # [T] seconds since the layer started
    tempo: TempoMap

    @classmethod
    def for_times(cls, rig: Rig, t: np.ndarray, tempo: TempoMap, layer_start: float = 0.0) -> "EvalContext":
        t = np.asarray(t, dtype=np.float64)
        return cls(rig, t, tempo.seconds_to_beats(t), t - layer_start, tempo)

    @property
    def samples(self) -> int:
        return len(self.t)

    @property
    def size(self) -> int:
        return self.rig.size

    def beat_grid(self) -> BeatGrid:
        return BeatGrid(self.beats, self.tempo.beats_per_bar)


@dataclass
class ApplyResult:
    """What an Apply node writes: one capability of some primitives."""

    capability: str
    indices: np.ndarray  # [k] primitive indices, selection order
    values: np.ndarray  # (T|1, k|1, dims) float32
    node_id: str


class NodeType:
    """Base class of node types. Subclasses set the class attributes and ``evaluate``."""

    type_id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    category: ClassVar[str] = ""
    doc: ClassVar[str] = ""
    inputs: ClassVar[tuple[Port, ...]] = ()
    outputs: ClassVar[tuple[Port, ...]] = ()
    params: ClassVar[tuple[Param, ...]] = ()
    #: the capability an Apply node writes (None for other nodes)
    applies: ClassVar[str | None] = None

    def input(self, name: str) -> Port | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output(self, name: str) -> Port | None:
        return next((p for p in self.outputs if p.name == name), None)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def check(self, params: dict[str, Any], linked: set[str], where: str) -> None:
        """Extra validation across parameters and links; raise :class:`PatternError`."""

    def evaluate(self, ctx: EvalContext, inputs: dict[str, Any], params: dict[str, Any], node_id: str) -> Any:
        """Return a dict of output values (or an :class:`ApplyResult` for Apply nodes)."""
        raise NotImplementedError


_REGISTRY: dict[str, NodeType] = {}


def register_node(cls: type[NodeType]) -> type[NodeType]:
    """Class decorator: make a node type available to pattern graphs."""
    tid = cls.type_id
    if not tid or not tid.replace("_", "").isalnum():
        raise LightingError(f"node type {cls.__name__}: type_id {tid!r} must be letters, digits and '_'")
    if tid in _REGISTRY and type(_REGISTRY[tid]) is not cls:
        raise LightingError(f"node type {tid!r} is registered already by {type(_REGISTRY[tid]).__name__}")
    names = [p.name for p in cls.inputs] + [p.name for p in cls.params]
    if len(set(p.name for p in cls.inputs)) != len(cls.inputs) or len(set(p.name for p in cls.params)) != len(cls.params):
        raise LightingError(f"node type {tid!r}: port or parameter names repeat ({names})")
    if cls.applies is not None and cls.outputs:
        raise LightingError(f"node type {tid!r}: Apply nodes have no outputs")
    _REGISTRY[tid] = cls()
    return cls


def unregister_node(type_id: str) -> None:
    _REGISTRY.pop(type_id, None)


def node_type(type_id: str) -> NodeType:
    try:
        return _REGISTRY[type_id]
    except KeyError:
        raise PatternError(f"unknown node type {type_id!r} (known: {', '.join(sorted(_REGISTRY))})") from None


def node_types() -> dict[str, NodeType]:
    return dict(sorted(_REGISTRY.items()))


# ------------------------------------------------------------ value helpers


def as_series(value: Any) -> np.ndarray:
    """A 2-D (T|1, N|1) float array from a scalar or array."""
    a = np.asarray(value, dtype=np.float64)
    while a.ndim < 2:
        a = a[None, ...] if a.ndim == 0 else a[:, None]
    return a


def frac(x: np.ndarray) -> np.ndarray:
    return x - np.floor(x)
