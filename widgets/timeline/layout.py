"""Geometry of the timeline that does not need Qt: track rows and ruler ticks.

Scene coordinates (pixels, before scrolling):

* x: ``header_width + frame * pixels_per_frame`` (the track headers are drawn
  over the scene's left strip, the ruler over its top strip);
* y: ``ruler_height`` and then one row per track, top to bottom: the video
  tracks from the highest position down to V1, a divider, then the audio
  tracks from A1 down.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

from core.time import timecode_base


@dataclass(frozen=True)
class Row:
    track_id: int
    kind: str
    index: int      # position among the tracks of its kind (0 = V1 / A1)
    y: float        # scene y of the top edge
    height: float

    @property
    def bottom(self) -> float:
        return self.y + self.height


class TrackRows:
    """Rows of the tracks in display order, with lookups by id and by y."""

    def __init__(self, tracks: Sequence, top: float, video_height: float, audio_height: float,
                 divider: float):
        video = sorted((t for t in tracks if t.kind == "video"), key=lambda t: t.position)
        audio = sorted((t for t in tracks if t.kind == "audio"), key=lambda t: t.position)
        rows: list[Row] = []
        y = float(top)
        for i, t in reversed(list(enumerate(video))):
            rows.append(Row(t.id, "video", i, y, float(video_height)))
            y += video_height
        self.divider_y = y
        self.divider_height = float(divider) if video and audio else 0.0
        y += self.divider_height
        for i, t in enumerate(audio):
            rows.append(Row(t.id, "audio", i, y, float(audio_height)))
            y += audio_height
        self.rows = rows
        self.bottom = y
        self.by_id = {r.track_id: r for r in rows}
        self.by_kind = {"video": [t.id for t in video], "audio": [t.id for t in audio]}
        self._tops = [r.y for r in rows]

    def at_y(self, y: float) -> Row | None:
        i = bisect.bisect_right(self._tops, y) - 1
        if i >= 0 and y < self.rows[i].bottom:
            return self.rows[i]
        return None

    def shifted(self, track_id: int, offset: int) -> int | None:
        """The track ``offset`` places above (video) / below (audio) ``track_id`` among its kind."""
        row = self.by_id[track_id]
        ids = self.by_kind[row.kind]
        j = row.index + offset
        return ids[j] if 0 <= j < len(ids) else None


#: Ruler steps longer than a second, in timecode seconds.
_SECOND_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 18000, 36000)


def ruler_steps(pixels_per_frame: float, rate: Fraction, label_spacing: float = 96,
                minor_spacing: float = 7) -> tuple[int, int]:
    """(major, minor) tick spacing in frames for a zoom level.

    Majors carry a timecode label and are at least ``label_spacing`` pixels
    apart; they fall on whole frames below a second and on whole timecode
    seconds/minutes above. Minors divide a major evenly and are at least
    ``minor_spacing`` pixels apart (minor == major: no minor ticks).
    """
    fps = timecode_base(rate)
    candidates = [f for f in (1, 2, 5, 10) if f < fps]
    if fps % 2 == 0 and fps // 2 not in candidates and fps // 2 > 10:
        candidates.append(fps // 2)
    candidates += [fps * s for s in _SECOND_STEPS]
    ppf = max(float(pixels_per_frame), 1e-9)
    major = candidates[-1]
    for c in candidates:
        if c * ppf >= label_spacing:
            major = c
            break
    minor = major
    for div in (10, 6, 5, 4, 3, 2):
        if major % div == 0 and (major // div) * ppf >= minor_spacing:
            minor = major // div
            break
    return major, minor


def tick_frames(first: int, last: int, step: int) -> range:
    """Multiples of ``step`` in [first, last], never below zero."""
    start = max(0, math.ceil(first / step) * step)
    return range(start, max(start, last + 1), step)
