"""The timeline model: sequences, tracks and clips of a project.

The project file is the source of truth; a :class:`Timeline` mirrors one
sequence in memory for fast drawing and lookup, and is refreshed by the edit
functions in :mod:`core.timeline.edit` after each committed transaction. Views
listen to :attr:`Timeline.changed`.

Time: every position is an integer frame at the sequence's rational rate.
A clip shows source time ``(frame - start + source_in) / rate`` at sequence
frame ``frame`` (speed changes come with the editing work).
"""

from __future__ import annotations

import bisect
import json
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Iterable

from psygnal import Signal

from core.errors import EditError, LumaError
from core.project.project import Project
from core.time import RateLike, as_rate, frames_to_seconds, seconds_to_frames


@dataclass(frozen=True)
class Clip:
    id: int
    track_id: int
    media_id: int
    start: int
    duration: int
    source_in: int = 0
    name: str = ""

    @property
    def end(self) -> int:
        """First frame after the clip."""
        return self.start + self.duration

    def contains(self, frame: int) -> bool:
        return self.start <= frame < self.end

    def with_(self, **changes) -> "Clip":
        return replace(self, **changes)


@dataclass(frozen=True)
class Track:
    id: int
    sequence_id: int
    kind: str  # 'video' | 'audio'
    position: int
    name: str
    muted: bool = False
    locked: bool = False
    hidden: bool = False


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
            "SELECT id, name, rate_num, rate_den, width, height, sample_rate, playhead, in_point, out_point "
            "FROM sequences WHERE id = ?", (self.sequence_id,))
        if not row:
            raise LumaError(f"sequence #{self.sequence_id} is not in {p.path.name}")
        sid, name, num, den, w, h, sr, ph, ip, op = row[0]
        self.sequence = Sequence(sid, name, Fraction(num, den), w, h, sr, ph, ip, op)
        self.tracks: list[Track] = [
            Track(i, s, k, pos, n, bool(m), bool(lk), bool(hd))
            for i, s, k, pos, n, m, lk, hd in p.query(
                "SELECT id, sequence_id, kind, position, name, muted, locked, hidden FROM tracks "
                "WHERE sequence_id = ? ORDER BY kind = 'audio', position", (self.sequence_id,))
        ]
        self._tracks_by_id = {t.id: t for t in self.tracks}
        self.clips: dict[int, Clip] = {}
        self._by_track: dict[int, list[Clip]] = {t.id: [] for t in self.tracks}
        rows = p.query(
            "SELECT c.id, c.track_id, c.media_id, c.start, c.duration, c.source_in, c.name FROM clips c "
            "JOIN tracks t ON t.id = c.track_id WHERE t.sequence_id = ? ORDER BY c.track_id, c.start",
            (self.sequence_id,))
        for r in rows:
            clip = Clip(*r)
            self.clips[clip.id] = clip
            self._by_track[clip.track_id].append(clip)
        self._starts = {tid: [c.start for c in cl] for tid, cl in self._by_track.items()}

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
        """Source time shown by ``clip`` at sequence frame ``frame``."""
        return frames_to_seconds(frame - clip.start + clip.source_in, self.rate)

    def video_stack(self, frame: int) -> list[tuple[Clip, Fraction]]:
        """Visible video clips at ``frame``, top track first, with their source times."""
        out = []
        for t in sorted(self.video_tracks(), key=lambda t: -t.position):
            if t.hidden:
                continue
            c = self.clip_at(t.id, frame)
            if c is not None:
                out.append((c, self.source_seconds(c, frame)))
        return out

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
            "clips": sorted((c.__dict__ for c in self.clips.values()), key=lambda d: d["id"]),
        }
