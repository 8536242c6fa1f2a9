"""Layers: a pattern placed on a lighting track, with z-order, blend mode and opacity curve.

Layers are placed in beats (``start_beat`` inclusive, ``end_beat`` exclusive);
the tempo map turns them into seconds. Opacity keyframes are in beats from the
layer start, values 0..1; each keyframe's ``interp`` shapes the segment up to
the next keyframe (``linear`` or ``smooth``, an ease-in-out). Before the first
keyframe the first value holds, after the last one the last value; a layer
without keyframes is fully opaque.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from core.lighting.errors import LayerError
from core.time import TempoMap


class BlendMode(str, Enum):
    REPLACE = "replace"
    ADD = "add"
    MULTIPLY = "multiply"
    SCREEN = "screen"
    MAX = "max"
    MIN = "min"

    @classmethod
    def parse(cls, value: "str | BlendMode") -> "BlendMode":
        try:
            return cls(str(value.value if isinstance(value, BlendMode) else value).lower())
        except ValueError:
            raise LayerError(
                f"blend mode {value!r} is unknown; choose one of {', '.join(m.value for m in cls)}"
            ) from None


INTERPOLATIONS = ("linear", "smooth")


@dataclass(frozen=True)
class Keyframe:
    beat: float  # beats from the layer start
    value: float  # 0..1
    interp: str = "linear"  # shape of the segment to the next keyframe

    def __post_init__(self) -> None:
        for name in ("beat", "value"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise LayerError(f"opacity keyframe {name} must be a finite number, not {v!r}")
        if not 0.0 <= self.value <= 1.0:
            raise LayerError(f"opacity {self.value!r} at beat {self.beat!r} is outside 0..1")
        if self.interp not in INTERPOLATIONS:
            raise LayerError(f"opacity interpolation {self.interp!r} is unknown; use linear or smooth")


@dataclass(frozen=True)
class OpacityCurve:
    keys: tuple[Keyframe, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(self.keys))
        beats = [k.beat for k in self.keys]
        if beats != sorted(beats):
            raise LayerError(f"opacity keyframes must be in time order (beats {beats})")

    def evaluate(self, beats: np.ndarray) -> np.ndarray:
        """Opacity 0..1 at each beat offset from the layer start (vectorised)."""
        beats = np.asarray(beats, dtype=np.float64)
        if not self.keys:
            return np.ones_like(beats)
        kb = np.array([k.beat for k in self.keys])
        kv = np.array([k.value for k in self.keys])
        if len(kb) == 1:
            return np.full_like(beats, kv[0])
        smooth = np.array([k.interp == "smooth" for k in self.keys])
        i = np.clip(np.searchsorted(kb, beats, side="right") - 1, 0, len(kb) - 2)
        span = kb[i + 1] - kb[i]
        u = np.clip(np.divide(beats - kb[i], span, out=np.ones_like(beats), where=span > 0), 0.0, 1.0)
        u = np.where(smooth[i], u * u * (3.0 - 2.0 * u), u)
        out = kv[i] + (kv[i + 1] - kv[i]) * u
        out = np.where(beats < kb[0], kv[0], out)
        return np.clip(out, 0.0, 1.0)


@dataclass(frozen=True)
class Layer:
    pattern: str
    start_beat: float
    end_beat: float
    z: int = 0
    blend: BlendMode = BlendMode.REPLACE
    opacity: OpacityCurve = field(default_factory=OpacityCurve)
    track: str = "Lights"

    def __post_init__(self) -> None:
        object.__setattr__(self, "blend", BlendMode.parse(self.blend))
        if isinstance(self.opacity, (list, tuple)):
            object.__setattr__(self, "opacity", OpacityCurve(tuple(self.opacity)))
        for name in ("start_beat", "end_beat"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise LayerError(f"layer of {self.pattern!r}: {name} must be a finite number, not {v!r}")
        if self.end_beat <= self.start_beat:
            raise LayerError(
                f"layer of {self.pattern!r}: end_beat {self.end_beat} must be after start_beat {self.start_beat}"
            )
        if isinstance(self.z, bool) or not isinstance(self.z, int):
            raise LayerError(f"layer of {self.pattern!r}: z must be a whole number, not {self.z!r}")
        if not isinstance(self.track, str) or not self.track.strip():
            raise LayerError(f"layer of {self.pattern!r}: the track needs a name")

    def seconds(self, tempo: TempoMap) -> tuple[float, float]:
        """(start, end) in seconds through the tempo map."""
        return float(tempo.beats_to_seconds(float(self.start_beat))), float(tempo.beats_to_seconds(float(self.end_beat)))


def z_order(layers: list[Layer]) -> list[int]:
    """Indices of ``layers`` bottom to top: by z, then by position in the list."""
    return sorted(range(len(layers)), key=lambda i: (layers[i].z, i))
