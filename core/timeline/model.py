"""The timeline model: sequences, tracks, clips, transitions and markers of a project.

The project file is the source of truth; a :class:`Timeline` mirrors one
sequence in memory for fast drawing and lookup, and is refreshed by the edit
functions in :mod:`core.timeline.edit` after each committed transaction. Views
listen to :attr:`Timeline.changed`.

Rows: :class:`Clip`, :class:`Track`, :class:`Transition`, :class:`Marker` and
:class:`SequenceProps` are frozen records of one table row each (``TABLE``,
``COLUMNS``); an edit is a set of rows before and after (core.timeline.edit).

Time: every position is an integer frame at the sequence's rational rate.
A clip with speed ``s`` (a positive Fraction: 1/2 = slow motion, 2 = fast
forward) shows source position ``source_in + (frame - start) * s`` sequence
frames, i.e. source time ``(source_in + (frame - start) * s) / rate`` at
sequence frame ``frame``. ``source_in`` counts sequence frames into the media.
Properties (opacity, blend, transform, crop, volume, fades, filters) are a
JSON object described in :mod:`core.timeline.props`; keyframe times in a
clip's properties are frames from the clip's start.
"""

from __future__ import annotations

import bisect
import functools
import json
import math
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Iterable

from psygnal import Signal

from core.errors import EditError, LumaError
from core.project.project import Project
from core.time import RateLike, as_rate, seconds_to_frames


@functools.lru_cache(maxsize=4096)
def _parse_props(text: str) -> dict:
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise LumaError(f"stored properties are damaged ({exc})") from exc
    if not isinstance(value, dict):
        raise LumaError("stored properties are damaged (not a JSON object)")
    return value


def props_text(props: dict) -> str:
    """Canonical JSON of a properties dict (sorted keys), so equal properties compare equal."""
    return json.dumps(props, sort_keys=True, separators=(",", ":"))


class _Row:
    """A frozen record of one table row (see the subclasses)."""

    TABLE = ""
    COLUMNS: tuple[str, ...] = ()

    def row_values(self) -> tuple:
        return tuple(getattr(self, c) for c in self.COLUMNS)

    def with_(self, **changes):
        return replace(self, **changes)

    @property
    def properties(self) -> dict:
        """The parsed ``props`` JSON (shared and cached: do not mutate, copy first)."""
        return _parse_props(getattr(self, "props", "{}"))


@dataclass(frozen=True)
class Clip(_Row):
    id: int
    track_id: int
    media_id: int
    start: int
    duration: int
    source_in: int = 0
    name: str = ""
    speed: Fraction = Fraction(1)
    props: str = "{}"

    TABLE = "clips"
    COLUMNS = ("id", "track_id", "media_id", "start", "duration", "source_in", "name", "speed_num", "speed_den",
               "props")

    @property
    def speed_num(self) -> int:
        return Fraction(self.speed).numerator

    @property
    def speed_den(self) -> int:
        return Fraction(self.speed).denominator

    @property
    def end(self) -> int:
        """First frame after the clip."""
        return self.start + self.duration

    def source_position(self, frame) -> Fraction:
        """Source position (sequence frames into the media, exact) shown at sequence ``frame``."""
        return self.source_in + (Fraction(frame) - self.start) * Fraction(self.speed)

    @property
    def source_out(self) -> int:
        """First source position (sequence frames) after the material the clip uses."""
        return self.source_in + math.ceil(self.duration * Fraction(self.speed))

    def contains(self, frame: int) -> bool:
        return self.start <= frame < self.end


@dataclass(frozen=True)
class Track(_Row):
    id: int
    sequence_id: int
    kind: str  # 'video' | 'audio'
    position: int
    name: str
    muted: bool = False
    locked: bool = False
    hidden: bool = False
    solo: bool = False
    props: str = "{}"

    TABLE = "tracks"
    COLUMNS = ("id", "sequence_id", "kind", "position", "name", "muted", "locked", "hidden", "solo", "props")


@dataclass(frozen=True)
class Transition(_Row):
    """A transition on the cut between ``clip_a`` (ends at the cut) and ``clip_b`` (starts there).

    It covers ``[cut - duration // 2, cut - duration // 2 + duration)``: clip A plays on past
    its end and clip B starts early, both from their media handles.
    """

    id: int
    track_id: int
    clip_a: int
    clip_b: int
    kind: str
    duration: int
    params: str = "{}"

    TABLE = "transitions"
    COLUMNS = ("id", "track_id", "clip_a", "clip_b", "kind", "duration", "params")

    @property
    def left(self) -> int:
        """Frames of the transition before the cut."""
        return self.duration // 2

    @property
    def right(self) -> int:
        """Frames of the transition from the cut on."""
        return self.duration - self.duration // 2

    @property
    def parameters(self) -> dict:
        return _parse_props(self.params)


@dataclass(frozen=True)
class Marker(_Row):
    id: int
    sequence_id: int
    frame: int
    duration: int = 0
    name: str = ""
    color: str = "red"
    note: str = ""

    TABLE = "markers"
    COLUMNS = ("id", "sequence_id", "frame", "duration", "name", "color", "note")


@dataclass(frozen=True)
class SequenceProps(_Row):
    """The editable properties of a sequence (sequence filters), as a row of ``sequences``."""

    id: int
    props: str = "{}"

    TABLE = "sequences"
    COLUMNS = ("id", "props")


@dataclass(frozen=True)
class Sequence:
    id: int
    name: str
    rate: Fraction
    width: int
    height: int
    sample_rate: int = 48000
    playhead: int = 0
    in_point: int | None = None
    out_point: int | None = None
    props: str = "{}"

    @property
    def properties(self) -> dict:
        return _parse_props(self.props)


def create_sequence(project: Project, name: str = "Sequence 1", rate: RateLike = 25, width: int = 1920,
                    height: int = 1080, video_tracks: int = 2, audio_tracks: int = 2,
                    sample_rate: int = 48000) -> int:
    rate = as_rate(rate)
    if width <= 0 or height <= 0:
        raise LumaError(f"sequence size {width}x{height} is not valid")
    with project.transaction(f"new sequence {name}"):
        cur = project.execute(
            "INSERT INTO sequences(name, rate_num, rate_den, width, height, sample_rate) VALUES (?, ?, ?, ?, ?, ?)",
            (name, rate.numerator, rate.denominator, width, height, sample_rate),
        )
        seq_id = cur.lastrowid
        for kind, count, prefix in (("video", video_tracks, "V"), ("audio", audio_tracks, "A")):
            for i in range(count):
                project.execute(
                    "INSERT INTO tracks(sequence_id, kind, position, name) VALUES (?, ?, ?, ?)",
                    (seq_id, kind, i, f"{prefix}{i + 1}"),
                )
    return int(seq_id)


def match_sequence_to_media(project: Project, sequence_id: int, info: dict) -> bool:
    """Adopt a video's size and frame rate for an empty sequence (what NLEs offer on the first clip).

    ``info`` is a media row's probe dict. Returns whether the sequence changed.
    """
    video = info.get("video") or {}
    if not video:
        return False
    rate = as_rate(str(video["rate"]))
    width, height = int(video["width"]), int(video["height"])
    used = project.query("SELECT COUNT(*) FROM clips c JOIN tracks t ON t.id = c.track_id WHERE t.sequence_id = ?",
                         (sequence_id,))[0][0]
    if used:
        return False
    row = project.query("SELECT rate_num, rate_den, width, height FROM sequences WHERE id = ?", (sequence_id,))
    if row and row[0] == (rate.numerator, rate.denominator, width, height):
        return False
    with project.transaction("match sequence to clip"):
        project.execute("UPDATE sequences SET rate_num = ?, rate_den = ?, width = ?, height = ? WHERE id = ?",
                        (rate.numerator, rate.denominator, width, height, sequence_id))
    return True


def list_sequences(project: Project) -> list[tuple[int, str]]:
    return [(int(i), n) for i, n in project.query("SELECT id, name FROM sequences ORDER BY id")]


class Timeline:
    """In-memory mirror of one sequence. Edits go through core.timeline.edit."""

    #: Emitted after every committed change: the set of clip ids touched (empty = structural/all).
    changed = Signal(object)
    #: Emitted when the playhead moves: frame
    playhead_moved = Signal(int)

    def __init__(self, project: Project, sequence_id: int | None = None):
        self.project = project
        if sequence_id is None:
            seqs = list_sequences(project)
            if not seqs:
                raise LumaError(f"{project.path.name} has no sequence")
            sequence_id = seqs[0][0]
        self.sequence_id = int(sequence_id)
        self._media_frames: dict[int, int] = {}
        self.reload()
        self._playhead = self.sequence.playhead

    # ------------------------------------------------------------ loading
    def reload(self) -> None:
        p = self.project
        row = p.query(
            "SELECT id, name, rate_num, rate_den, width, height, sample_rate, playhead, in_point, out_point, props "
            "FROM sequences WHERE id = ?", (self.sequence_id,))
        if not row:
            raise LumaError(f"sequence #{self.sequence_id} is not in {p.path.name}")
        sid, name, num, den, w, h, sr, ph, ip, op, sprops = row[0]
        sequence = Sequence(sid, name, Fraction(num, den), w, h, sr, ph, ip, op, sprops)
        tracks: list[Track] = [
            Track(i, s, k, pos, n, bool(m), bool(lk), bool(hd), bool(so), tp)
            for i, s, k, pos, n, m, lk, hd, so, tp in p.query(
                "SELECT id, sequence_id, kind, position, name, muted, locked, hidden, solo, props FROM tracks "
                "WHERE sequence_id = ? ORDER BY kind = 'audio', position", (self.sequence_id,))
        ]
        tracks_by_id = {t.id: t for t in tracks}
        clips: dict[int, Clip] = {}
        by_track: dict[int, list[Clip]] = {t.id: [] for t in tracks}
        rows = p.query(
            "SELECT c.id, c.track_id, c.media_id, c.start, c.duration, c.source_in, c.name, c.speed_num, "
            "c.speed_den, c.props FROM clips c "
            "JOIN tracks t ON t.id = c.track_id WHERE t.sequence_id = ? ORDER BY c.track_id, c.start",
            (self.sequence_id,))
        for cid, tid, mid, start, dur, sin, name, snum, sden, props in rows:
            clip = Clip(cid, tid, mid, start, dur, sin, name, Fraction(snum, sden), props)
            clips[clip.id] = clip
            by_track[clip.track_id].append(clip)
        starts = {tid: [c.start for c in cl] for tid, cl in by_track.items()}
        transitions: dict[int, Transition] = {
            r[0]: Transition(*r) for r in p.query(
                "SELECT x.id, x.track_id, x.clip_a, x.clip_b, x.kind, x.duration, x.params FROM transitions x "
                "JOIN tracks t ON t.id = x.track_id WHERE t.sequence_id = ? ORDER BY x.id", (self.sequence_id,))
        }
        markers: dict[int, Marker] = {
            r[0]: Marker(*r) for r in p.query(
                "SELECT id, sequence_id, frame, duration, name, color, note FROM markers "
                "WHERE sequence_id = ? ORDER BY frame, id", (self.sequence_id,))
        }
        # built first, assigned in one statement: a reader on another thread (the decode thread) sees
        # the old or the new tables rather than half-built ones
        (self.sequence, self.tracks, self._tracks_by_id, self.clips, self._by_track, self._starts,
         self.transitions, self.markers) = (sequence, tracks, tracks_by_id, clips, by_track, starts, transitions, markers)

    def refresh(self, touched: Iterable[int] = ()) -> None:
        """Reload from the project file and tell the views."""
        self.reload()
        self.changed.emit(set(touched))

    # ------------------------------------------------------------ queries
    @property
    def rate(self) -> Fraction:
        return self.sequence.rate

    def track(self, track_id: int) -> Track:
        try:
            return self._tracks_by_id[track_id]
        except KeyError:
            raise EditError(f"track #{track_id} is not in this sequence") from None

    def video_tracks(self) -> list[Track]:
        return [t for t in self.tracks if t.kind == "video"]

    def audio_tracks(self) -> list[Track]:
        return [t for t in self.tracks if t.kind == "audio"]

    def clips_on(self, track_id: int) -> list[Clip]:
        return list(self._by_track.get(track_id, []))

    def clip_at(self, track_id: int, frame: int) -> Clip | None:
        clips = self._by_track.get(track_id, [])
        i = bisect.bisect_right(self._starts.get(track_id, []), frame) - 1
        if i >= 0 and clips[i].contains(frame):
            return clips[i]
        return None

    def clips_in_range(self, track_id: int, start: int, end: int) -> list[Clip]:
        """Clips on a track that overlap [start, end) (clips on a track never overlap each other)."""
        clips = self._by_track.get(track_id, [])
        i = max(0, bisect.bisect_right(self._starts.get(track_id, []), start) - 1)
        j = bisect.bisect_left(self._starts.get(track_id, []), end)
        return [c for c in clips[i:j] if c.end > start]

    @property
    def duration(self) -> int:
        return max((c.end for c in self.clips.values()), default=0)

    def edit_points(self) -> list[int]:
        pts = {0}
        for c in self.clips.values():
            pts.add(c.start)
            pts.add(c.end)
        return sorted(pts)

    def media_frames(self, media_id: int) -> int:
        """Length of a media file in sequence frames (stills: unlimited -> a large number)."""
        if media_id not in self._media_frames:
            row = self.project.query("SELECT kind, probe FROM media WHERE id = ?", (media_id,))
            if not row:
                raise EditError(f"media #{media_id} is not in this project")
            kind, probe_json = row[0]
            if kind == "image":
                frames = 10**9
            else:
                info = json.loads(probe_json)
                video = info.get("video") or {}
                seconds = Fraction(str(video.get("duration") or info.get("duration") or 0))
                frames = max(1, seconds_to_frames(seconds, self.rate, "floor"))
            self._media_frames[media_id] = frames
        return self._media_frames[media_id]

    def source_seconds(self, clip: Clip, frame: int) -> Fraction:
        """Source time shown by ``clip`` at sequence frame ``frame`` (exact, speed included)."""
        return clip.source_position(frame) / self.rate

    def video_stack(self, frame: int) -> list[tuple[Clip, Fraction]]:
        """Visible video clips at ``frame``, top track first, with their source times."""
        out = []
        for t in sorted(self.visible_tracks(), key=lambda t: -t.position):
            c = self.clip_at(t.id, frame)
            if c is not None:
                out.append((c, self.source_seconds(c, frame)))
        return out

    def transitions_on(self, track_id: int) -> list[Transition]:
        return [x for x in self.transitions.values() if x.track_id == track_id]

    def transition_span(self, tr: Transition) -> tuple[int, int]:
        """[first, end) sequence frames a transition covers."""
        cut = self.clips[tr.clip_b].start
        return cut - tr.left, cut + tr.right

    def visible_tracks(self) -> list[Track]:
        """Video tracks that show: not hidden, and when any video track is soloed only the soloed ones."""
        video = self.video_tracks()
        soloed = [t for t in video if t.solo]
        return [t for t in (soloed or video) if not t.hidden]

    def audible_tracks(self) -> list[Track]:
        """Audio tracks that play: not muted, and when any audio track is soloed only the soloed ones."""
        audio = self.audio_tracks()
        soloed = [t for t in audio if t.solo]
        return [t for t in (soloed or audio) if not t.muted]

    # ------------------------------------------------------------ playhead
    @property
    def playhead(self) -> int:
        return self._playhead

    def set_playhead(self, frame: int, persist: bool = False) -> None:
        frame = max(0, int(frame))
        if frame != self._playhead:
            self._playhead = frame
            self.playhead_moved.emit(frame)
        if persist:
            self.save_playhead()

    def save_playhead(self) -> None:
        with self.project.transaction("move playhead", notify=False):
            self.project.execute("UPDATE sequences SET playhead = ? WHERE id = ?", (self._playhead, self.sequence_id))
        self.sequence = replace(self.sequence, playhead=self._playhead)

    def set_in_out(self, in_point: int | None, out_point: int | None) -> None:
        """Store the sequence's in and out marks (None clears one) in one transaction."""
        if in_point is not None and out_point is not None and out_point < in_point:
            raise EditError("the out point must not come before the in point")
        with self.project.transaction("mark in/out"):
            self.project.execute("UPDATE sequences SET in_point = ?, out_point = ? WHERE id = ?",
                                 (in_point, out_point, self.sequence_id))
        self.sequence = replace(self.sequence, in_point=in_point, out_point=out_point)

    def snapshot(self) -> dict:
        """Everything about the sequence, for comparing timelines (tests, save/reopen)."""
        return {
            "sequence": {k: (str(v) if isinstance(v, Fraction) else v) for k, v in self.sequence.__dict__.items()},
            "tracks": [t.__dict__ for t in self.tracks],
            "clips": sorted(({**c.__dict__, "speed": str(c.speed)} for c in self.clips.values()),
                            key=lambda d: d["id"]),
            "transitions": [x.__dict__ for x in self.transitions.values()],
            "markers": [m.__dict__ for m in self.markers.values()],
        }
