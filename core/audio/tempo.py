"""The project tempo map: one grid of beats shared by the editor (snapping to beats)
and the lighting engine (pattern layers placed in beats).

It is stored in the project's ``lighting_settings`` (``tempo_bpm``,
``tempo_offset`` seconds of beat 0 on the sequence, ``beats_per_bar``), set by
hand or fitted from a media file's detected beat grid (core.audio.beats).

Beat grids (:class:`BeatGrid`, table ``beat_grids``, one per media) are
stored and read here too, so that reading the tempo needs no audio analysis
library; :func:`tempo_from_grid` fits a constant tempo to one and places it
on the sequence through a clip.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from core.errors import LumaError
from core.project.project import Project, now_iso
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


# ------------------------------------------------------------------ beat grids


@dataclass(frozen=True)
class BeatGrid:
    """Beats detected in one media file's sound (core.audio.beats), times in seconds from the media start.

    ``bpm`` is the least-squares tempo of the beats (:func:`fit_beats`);
    ``downbeats`` are the beats that start a bar of ``beats_per_bar``;
    ``params`` says how it was analysed (JSON-able).
    """

    bpm: float
    beats: tuple[float, ...]
    downbeats: tuple[float, ...]
    beats_per_bar: int = 4
    params: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"bpm": self.bpm, "beats": list(self.beats), "downbeats": list(self.downbeats),
                "beats_per_bar": self.beats_per_bar, "params": self.params}


def store_grid(project: Project, media_id: int, grid: BeatGrid) -> None:
    """Store (or replace) a media's beat grid in one transaction."""
    if not project.query("SELECT 1 FROM media WHERE id = ?", (int(media_id),)):
        raise LumaError(f"media #{media_id} is not in {project.path.name}")
    with project.transaction("analyse beats"):
        project.execute(
            "INSERT INTO beat_grids(media_id, bpm, beats, downbeats, beats_per_bar, params, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(media_id) DO UPDATE SET bpm = excluded.bpm, "
            "beats = excluded.beats, downbeats = excluded.downbeats, beats_per_bar = excluded.beats_per_bar, "
            "params = excluded.params, created_at = excluded.created_at",
            (int(media_id), float(grid.bpm), json.dumps([round(float(t), 6) for t in grid.beats]),
             json.dumps([round(float(t), 6) for t in grid.downbeats]), int(grid.beats_per_bar),
             json.dumps(grid.params, sort_keys=True), now_iso()))


def load_grid(project: Project, media_id: int) -> BeatGrid | None:
    """A media's stored beat grid, or None when it has not been analysed."""
    rows = project.query("SELECT bpm, beats, downbeats, beats_per_bar, params FROM beat_grids WHERE media_id = ?",
                         (int(media_id),))
    if not rows:
        return None
    bpm, beats, downbeats, per_bar, params = rows[0]
    try:
        return BeatGrid(float(bpm), tuple(float(t) for t in json.loads(beats)),
                        tuple(float(t) for t in json.loads(downbeats)), int(per_bar), dict(json.loads(params)))
    except (ValueError, TypeError) as exc:
        raise LumaError(f"{project.path.name}: the stored beat grid of media #{media_id} is damaged ({exc})") from exc


def beat_indices(times) -> np.ndarray:
    """Beat numbers (0 for the first) of beat times that may skip beats.

    A gap of about ``k`` typical beat periods (the median spacing) counts as
    ``k`` beats, so one missed beat does not shift the numbering after it.
    """
    t = np.asarray(times, dtype=np.float64)
    if t.size < 2:
        return np.zeros(t.size, dtype=np.int64)
    gaps = np.diff(t)
    if np.any(gaps <= 0):
        raise LumaError("beat times must increase")
    steps = np.maximum(1, np.rint(gaps / np.median(gaps))).astype(np.int64)
    return np.concatenate([[0], np.cumsum(steps)])


def fit_beats(times) -> tuple[float, float]:
    """(seconds per beat, time of beat 0): the least-squares line through (beat number, time).

    For beats of a constant tempo this is exact; timing jitter averages out
    instead of accumulating as it would from the first and last beat alone.
    """
    t = np.asarray(times, dtype=np.float64)
    if t.size < 2:
        raise LumaError("a tempo needs at least two beats")
    k = beat_indices(t).astype(np.float64)
    slope, intercept = np.polyfit(k, t, 1)
    return float(slope), float(intercept)


def _exact(value: float, scale: int = 10**6) -> Fraction:
    return Fraction(round(value * scale), scale)


def tempo_from_grid(grid: BeatGrid, clip_start_seconds=0, clip_source_in_seconds=0, speed=1) -> TempoMap:
    """The sequence's tempo map when a media with ``grid`` plays from ``clip_start_seconds`` on the sequence.

    The clip shows media time ``clip_source_in_seconds`` at its start and plays at
    ``speed``, so media time ``t`` sounds at ``start + (t - source_in) / speed``.
    The BPM is the least-squares fit of the beats (times speed); the offset is the
    sequence time of a downbeat (so beat 0 starts a bar): the first downbeat heard
    at or after the clip's start, else the first one. Values are kept to a
    microsecond / a millionth of a BPM.
    """
    speed = Fraction(speed)
    if speed <= 0:
        raise LumaError("a clip's speed must be positive")
    if len(grid.beats) < 2:
        raise LumaError("the beat grid has fewer than two beats; no tempo can be fitted")
    period, first = fit_beats(grid.beats)
    if period <= 0:
        raise LumaError("the beat grid does not move forward in time")
    start, source_in, sp = float(clip_start_seconds), float(clip_source_in_seconds), float(speed)
    beats = np.asarray(grid.beats, dtype=np.float64)
    k = beat_indices(beats)
    downs = np.asarray(grid.downbeats or grid.beats[:1], dtype=np.float64)
    # downbeats as beat numbers (nearest detected beat), then placed on the fitted line
    down_k = k[np.abs(beats[None, :] - downs[:, None]).argmin(axis=1)]
    seq = start + (first + down_k * period - source_in) / sp
    heard = np.nonzero(seq >= start - 1e-9)[0]
    offset = seq[heard[0]] if heard.size else seq[0]
    return TempoMap(_exact(60.0 * sp / period), _exact(float(offset)), int(grid.beats_per_bar))


def tempo_from_clip(timeline, clip_id: int) -> TempoMap:
    """The tempo map of a clip's media beat grid as the clip places it on the sequence."""
    clip = timeline.clips.get(int(clip_id))
    if clip is None:
        raise LumaError(f"clip #{clip_id} is not in this sequence")
    grid = load_grid(timeline.project, clip.media_id)
    if grid is None:
        raise LumaError(f"clip {clip.name or clip.id}: its media has no beat grid yet; analyse its beats first "
                        "(luma beats PROJECT MEDIA)")
    rate = Fraction(timeline.rate)
    return tempo_from_grid(grid, Fraction(clip.start) / rate, Fraction(clip.source_in) / rate, clip.speed)


def set_tempo_from_clip(timeline, clip_id: int) -> tuple[TempoMap, TempoMap]:
    """Set the project tempo from a clip on the timeline; returns (new, previous) for undo."""
    tempo = tempo_from_clip(timeline, clip_id)
    old = set_project_tempo(timeline.project, tempo, "tempo from clip")
    return tempo, old
