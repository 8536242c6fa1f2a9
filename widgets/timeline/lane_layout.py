"""Geometry of the lighting lanes that does not need Qt: rows, blocks in frames, culling, bar labels.

The lighting area sits below the audio tracks (scene y): a gap, a bars/beats
ruler row, then one row per lane. A block is a layer drawn from the frame of
its start beat to the frame of its end beat, through the project tempo map
and the sequence's rate (:meth:`core.time.TempoMap.beat_to_frame`, nearest
frame), so blocks line up with the beat grid lines and the video.

Per lane the blocks are sorted by start frame with a running maximum of their
ends, so the blocks overlapping a frame range are found by two bisections
(:meth:`LaneGeometry.visible`): painting costs what is on screen, not what is
in the show.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from core.lighting.layers import OpacityCurve
from core.time import TempoMap

GAP_HEIGHT = 6
BEAT_RULER_HEIGHT = 22
LANE_HEIGHT = 46


@dataclass(frozen=True)
class LaneBlock:
    """What the lanes show of one layer (the app builds these from the stored layers)."""

    layer_id: int
    lane: str
    pattern: str
    start_beat: float
    end_beat: float
    z: int
    blend: str
    curve: OpacityCurve
    rank: int = 0  # place in the compositor's stacking order, 0 = bottom


@dataclass(frozen=True)
class LaneRow:
    name: str
    index: int
    y: float
    height: float

    @property
    def bottom(self) -> float:
        return self.y + self.height


class _LaneSpans:
    """One lane's blocks sorted by start frame, with their frames and the running maximum end."""

    def __init__(self, blocks: list[LaneBlock], frame_of):
        spans = sorted(((frame_of(b.start_beat), frame_of(b.end_beat), b) for b in blocks),
                       key=lambda s: (s[0], s[2].rank))
        self.starts = [s for s, _, _ in spans]
        self.ends = [max(e, s + 1) for s, e, _ in spans]  # at least one frame wide
        self.blocks = [b for _, _, b in spans]
        self.max_end: list[int] = []
        m = -math.inf
        for e in self.ends:
            m = max(m, e)
            self.max_end.append(m)
        # the same as arrays, for painting many blocks at once
        self.starts_np = np.array(self.starts, dtype=np.int64)
        self.ends_np = np.array(self.ends, dtype=np.int64)
        self.ids_np = np.array([b.layer_id for b in self.blocks], dtype=np.int64)
        self.ranks_np = np.array([b.rank for b in self.blocks], dtype=np.int64)

    def bounds(self, f0: float, f1: float) -> tuple[int, int]:
        """[lo, hi): every block with start < f1 and end > f0 has an index in it (two bisections)."""
        hi = bisect.bisect_left(self.starts, f1)
        return bisect.bisect_right(self.max_end, f0, 0, hi), hi

    def visible(self, f0: float, f1: float) -> list[int]:
        """Indices of the blocks with start < f1 and end > f0, in start order."""
        lo, hi = self.bounds(f0, f1)
        ends = self.ends
        return [i for i in range(lo, hi) if ends[i] > f0]


class LaneGeometry:
    """Rows and block spans of the lanes for one tempo map, rate and top edge."""

    def __init__(self, top: float, lanes: list[str], blocks: list[LaneBlock], tempo: TempoMap, rate: Fraction,
                 lane_height: float = LANE_HEIGHT, ruler_height: float = BEAT_RULER_HEIGHT,
                 gap: float = GAP_HEIGHT):
        self.top = float(top)
        self.tempo = tempo
        self.rate = Fraction(rate)
        self.ruler_y = self.top + gap
        self.ruler_height = float(ruler_height)
        y = self.ruler_y + ruler_height
        self.rows = [LaneRow(name, i, y + i * lane_height, float(lane_height)) for i, name in enumerate(lanes)]
        self.bottom = y + len(lanes) * lane_height
        self.by_name = {r.name: r for r in self.rows}
        self._frames: dict[float, int] = {}
        by_lane: dict[str, list[LaneBlock]] = {name: [] for name in lanes}
        for b in blocks:
            by_lane.setdefault(b.lane, []).append(b)
        self.spans = {name: _LaneSpans(by_lane.get(name, []), self.frame_of) for name in lanes}
        self.blocks = {b.layer_id: b for b in blocks if b.lane in self.by_name}

    @property
    def height(self) -> float:
        return self.bottom - self.top

    # ------------------------------------------------------------ beats <-> frames
    def frame_of(self, beat: float) -> int:
        """The sequence frame (nearest) of a beat, through the tempo map."""
        f = self._frames.get(beat)
        if f is None:
            f = self.tempo.beat_to_frame(Fraction(beat), self.rate)
            self._frames[beat] = f
        return f

    def beat_at(self, frame: float) -> float:
        """The beat at a (fractional) frame position."""
        return float(self.tempo.seconds_to_beats(float(frame) / float(self.rate)))

    def frames_per_beat(self) -> float:
        return float(self.tempo.seconds_per_beat * self.rate)

    def min_beat(self) -> float:
        """The beat at 0 s: layers do not start before the sequence does."""
        return float(self.tempo.seconds_to_beats(Fraction(0)))

    # ------------------------------------------------------------ rows and blocks
    def row_at(self, y: float) -> LaneRow | None:
        if not self.rows or y < self.rows[0].y or y >= self.bottom:
            return None
        return self.rows[int((y - self.rows[0].y) // self.rows[0].height)]

    def span(self, layer_id: int) -> tuple[int, int]:
        b = self.blocks[layer_id]
        s = self.frame_of(b.start_beat)
        return s, max(self.frame_of(b.end_beat), s + 1)

    def visible(self, lane: str, f0: float, f1: float) -> list[LaneBlock]:
        """Blocks of ``lane`` overlapping frames [f0, f1), bottom to top of the stacking order."""
        sp = self.spans.get(lane)
        if sp is None:
            return []
        return sorted((sp.blocks[i] for i in sp.visible(f0, f1)), key=lambda b: b.rank)

    def visible_spans(self, lane: str, f0: float, f1: float) -> list[tuple[LaneBlock, int, int]]:
        """(block, start frame, end frame) of the blocks of ``lane`` overlapping [f0, f1), bottom to top."""
        sp = self.spans.get(lane)
        if sp is None:
            return []
        out = [(sp.blocks[i], sp.starts[i], sp.ends[i]) for i in sp.visible(f0, f1)]
        out.sort(key=lambda t: t[0].rank)
        return out

    def block_at(self, lane: str, frame: float) -> LaneBlock | None:
        """The topmost block of ``lane`` under a (fractional) frame."""
        hits = self.visible(lane, frame, frame + 1e-9)
        hits = [b for b in hits if self.span(b.layer_id)[0] <= frame]
        return hits[-1] if hits else None


def bar_label_step(bar_pixels: float, min_spacing: float = 34.0) -> int:
    """Label every n-th bar (1, 2, 4, 8...) so labels are at least ``min_spacing`` pixels apart."""
    step = 1
    while step * bar_pixels < min_spacing and step < 1 << 20:
        step *= 2
    return step


def bar_number(beat: int, beats_per_bar: int) -> int:
    """Bar of a whole beat, counting beat 0 as the first beat of bar 1 (bars before it: 0, -1, ...)."""
    return beat // beats_per_bar + 1
