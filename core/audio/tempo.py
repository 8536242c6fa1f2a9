"""The project tempo map: one grid of beats shared by the editor (snapping to beats)
and the lighting engine (pattern layers placed in beats).

It is stored in the project's ``lighting_settings`` (``tempo_bpm``,
``tempo_offset`` seconds of beat 0 on the sequence, ``beats_per_bar``), set by
hand or fitted from a media file's detected beat grid (core.audio.beats).
"""

from __future__ import annotations

import math
from fractions import Fraction

from core.errors import LumaError
from core.project.project import Project
from core.time import RateLike, TempoMap, as_rate, seconds_to_frames


def project_tempo_map(project: Project) -> TempoMap:
    """The project's tempo map (120 BPM from 0 s in 4/4 until one is set)."""
    s = dict(project.query("SELECT key, value FROM lighting_settings"))
    try:
        return TempoMap(Fraction(s.get("tempo_bpm", "120")), Fraction(s.get("tempo_offset", "0")),
                        int(s.get("beats_per_bar", "4")))
    except (ValueError, ZeroDivisionError) as exc:
        raise LumaError(f"{project.path.name}: the stored tempo is damaged ({exc})") from exc


def set_project_tempo(project: Project, tempo: TempoMap, label: str = "set tempo") -> TempoMap:
    """Store the tempo map in one transaction; returns the previous one (for undo)."""
    if tempo.bpm <= 0 or tempo.beats_per_bar < 1:
        raise LumaError("tempo must be positive and a bar at least one beat")
    old = project_tempo_map(project)
    with project.transaction(label):
        for key, value in (("tempo_bpm", str(Fraction(tempo.bpm))), ("tempo_offset", str(Fraction(tempo.offset))),
                           ("beats_per_bar", str(int(tempo.beats_per_bar)))):
            project.execute("INSERT INTO lighting_settings(key, value) VALUES (?, ?) "
                            "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
    return old


def beat_frames(tempo: TempoMap, rate: RateLike, start: int, end: int, bars_only: bool = False) -> list[int]:
    """Sequence frames (nearest) of the beats (or downbeats) in ``[start, end)`` frames."""
    rate = as_rate(rate)
    if end <= start:
        return []
    first = math.floor(tempo.seconds_to_beats(Fraction(start) / rate))
    last = math.ceil(tempo.seconds_to_beats(Fraction(end) / rate))
    step = tempo.beats_per_bar if bars_only else 1
    first -= first % step
    out = []
    for b in range(first, last + 1, step):
        f = seconds_to_frames(tempo.beats_to_seconds(Fraction(b)), rate, "nearest")
        if start <= f < end and (not out or out[-1] != f):
            out.append(f)
    return out
