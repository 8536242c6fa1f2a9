"""Timeline edit operations.

Each operation computes a :class:`ClipChange`: the table rows (clips,
transitions, markers, tracks, sequence properties; see core.timeline.model)
before and after. :func:`apply` validates it (no overlaps on a track, locked
tracks untouched, clips inside their source media, transitions on abutting
clips with enough media handles) and writes it in ONE transaction: rows only
in ``before`` are deleted, rows only in ``after`` inserted, rows in both
updated. The same change, inverted, undoes it exactly (ids are kept), which is
what the GUI's undo commands use. Transitions whose clips stop meeting at
their cut are removed by the same change (so undo brings them back).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Sequence as Seq

from core.errors import EditError
from core.timeline.model import Clip, Marker, SequenceProps, Timeline, Track, Transition, _Row


@dataclass(frozen=True)
class ClipChange:
    label: str
    before: tuple[_Row, ...]  # rows as they were (removed or modified)
    after: tuple[_Row, ...]   # rows as they become (added or modified)

    def inverted(self) -> "ClipChange":
        return ClipChange(self.label, self.after, self.before)

    @property
    def touched(self) -> set[int]:
        """Ids of the clips the change touches."""
        return {c.id for c in self.before + self.after if isinstance(c, Clip)}

    @property
    def empty(self) -> bool:
        return set(self.before) == set(self.after)

    def rows(self, kind: type) -> tuple[tuple[_Row, ...], tuple[_Row, ...]]:
        """(before, after) rows of one type."""
        return (tuple(r for r in self.before if isinstance(r, kind)),
                tuple(r for r in self.after if isinstance(r, kind)))


#: the order rows are deleted in (children first) and inserted in (parents first)
_DELETE_ORDER = (Transition, Marker, Clip, Track)
_INSERT_ORDER = (Track, Clip, Transition, Marker)


def _high_water_key(table: str) -> str:
    return "clip_id_high_water" if table == "clips" else f"{table}_id_high_water"


def next_ids(tl: Timeline, count: int, kind: type = Clip) -> list[int]:
    """Fresh row ids, never reused (analysis results and undo may still name a deleted row)."""
    table = kind.TABLE
    base = tl.project.query(f"SELECT COALESCE(MAX(id), 0) FROM {table}")[0][0]
    high = int(tl.project.get_meta(_high_water_key(table), "0") or 0)
    base = max(base, high)
    return list(range(base + 1, base + 1 + count))


_next_ids = next_ids


def clips_after(tl: Timeline, change: ClipChange) -> dict[int, Clip]:
    """The sequence's clips as they would be after ``change``."""
    before, after = change.rows(Clip)
    clips = dict(tl.clips)
    for c in before:
        clips.pop(c.id, None)
    for c in after:
        clips[c.id] = c
    return clips


def media_length_needed(clip: Clip) -> int:
    """Source frames (sequence rate) a clip uses from its media: ``source_in + duration * speed``."""
    return clip.source_out


def _check_transition(tl: Timeline, tr: Transition, clips: dict[int, Clip]) -> None:
    a, b = clips.get(tr.clip_a), clips.get(tr.clip_b)
    if a is None or b is None or a.track_id != tr.track_id or b.track_id != tr.track_id or a.end != b.start:
        raise EditError("a transition needs two clips that meet on the same track")
    if tr.duration < 1:
        raise EditError("a transition must last at least one frame")
    if tr.left > a.duration or tr.right > b.duration:
        raise EditError(f"a {tr.duration}-frame transition is longer than {a.name if tr.left > a.duration else b.name}")
    need_after = a.source_in + math.ceil((a.duration + tr.right) * Fraction(a.speed))
    if need_after > tl.media_frames(a.media_id):
        raise EditError(f"{a.name} has not enough media after its out point for a {tr.duration}-frame transition "
                        f"({need_after - tl.media_frames(a.media_id)} frames short)")
    need_before = b.source_in - tr.left * Fraction(b.speed)
    if need_before < 0:
        raise EditError(f"{b.name} has not enough media before its in point for a {tr.duration}-frame transition "
                        f"({math.ceil(-need_before)} frames short)")


def normalize(tl: Timeline, change: ClipChange) -> ClipChange:
    """Add the removal of every transition whose clips no longer meet after ``change``."""
    tb, ta = change.rows(Transition)
    gone = {t.id for t in tb} - {t.id for t in ta}
    kept_new = {t.id for t in ta}
    touched = change.touched
    clips = clips_after(tl, change)
    extra = []
    for tr in tl.transitions.values():
        if tr.id in gone or tr.id in kept_new:
            continue
        if tr.clip_a not in touched and tr.clip_b not in touched:
            continue
        a, b = clips.get(tr.clip_a), clips.get(tr.clip_b)
        if a is None or b is None or a.track_id != tr.track_id or b.track_id != tr.track_id or a.end != b.start:
            extra.append(tr)
    if not extra:
        return change
    return ClipChange(change.label, change.before + tuple(extra), change.after)


def validate(tl: Timeline, change: ClipChange) -> None:
    sb, sa = change.rows(SequenceProps)
    if {r.id for r in sb} != {r.id for r in sa}:
        raise EditError("sequence properties can be changed, not added or removed")
    cb, ca = change.rows(Clip)
    removed = {c.id for c in cb}
    for c in cb + ca:
        track = tl.track(c.track_id)
        if track.locked:
            raise EditError(f"track {track.name} is locked")
    by_track: dict[int, list[Clip]] = {}
    for c in ca:
        if c.duration < 1:
            raise EditError(f"clip {c.name or c.id} would be shorter than one frame")
        if c.start < 0:
            raise EditError(f"clip {c.name or c.id} would start before the beginning of the sequence")
        if c.source_in < 0:
            raise EditError(f"clip {c.name or c.id} would start before the beginning of its media")
        if Fraction(c.speed) <= 0:
            raise EditError(f"clip {c.name or c.id}: speed must be positive")
        if media_length_needed(c) > tl.media_frames(c.media_id):
            raise EditError(f"clip {c.name or c.id} would run past the end of its media")
        by_track.setdefault(c.track_id, []).append(c)
    for track_id, new in by_track.items():
        kept = [c for c in tl.clips_on(track_id) if c.id not in removed]
        intervals = sorted([(c.start, c.end, c) for c in kept + new], key=lambda x: x[0])
        for (s0, e0, a), (s1, e1, b) in zip(intervals, intervals[1:]):
            if s1 < e0:
                raise EditError(
                    f"{b.name or 'clip'} would overlap {a.name or 'clip'} on track {tl.track(track_id).name}"
                )
    tb, ta = change.rows(Transition)
    if ta or tb:
        clips = clips_after(tl, change)
        for tr in ta:
            if tl.track(tr.track_id).locked:
                raise EditError(f"track {tl.track(tr.track_id).name} is locked")
            _check_transition(tl, tr, clips)
        for tr in tb:
            if tl.track(tr.track_id).locked:
                raise EditError(f"track {tl.track(tr.track_id).name} is locked")
    # every clip cut keeps at most one transition
    if ta:
        gone = {t.id for t in tb}
        seen: dict[tuple[int, int], int] = {}
        for tr in [t for t in tl.transitions.values() if t.id not in gone] + list(ta):
            key = (tr.clip_a, tr.clip_b)
            if seen.setdefault(key, tr.id) != tr.id:
                raise EditError("that cut already has a transition")


def _write(tl: Timeline, change: ClipChange) -> None:
    conn = tl.project.conn
    before = {(type(r), r.id): r for r in change.before}
    after = {(type(r), r.id): r for r in change.after}
    for kind in _DELETE_ORDER:
        ids = [(k[1],) for k in before.keys() - after.keys() if k[0] is kind]
        if ids:
            conn.executemany(f"DELETE FROM {kind.TABLE} WHERE id = ?", ids)
    for key in before.keys() & after.keys():
        row = after[key]
        if row != before[key]:
            cols = row.COLUMNS[1:]
            conn.execute(f"UPDATE {row.TABLE} SET {', '.join(c + ' = ?' for c in cols)} WHERE id = ?",
                         row.row_values()[1:] + (row.id,))
    for kind in _INSERT_ORDER:
        rows = [after[k] for k in after.keys() - before.keys() if k[0] is kind]
        if rows:
            cols = kind.COLUMNS
            conn.executemany(f"INSERT INTO {kind.TABLE}({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                             [r.row_values() for r in rows])
            key = _high_water_key(kind.TABLE)
            high = max(int(tl.project.get_meta(key, "0") or 0), max(r.id for r in rows))
            tl.project.set_meta(key, str(high))


def apply(tl: Timeline, change: ClipChange) -> ClipChange:
    """Validate and write a change in one transaction, then refresh the timeline.

    Returns the change as written (with any transitions it had to remove)."""
    if change.empty:
        return change
    change = normalize(tl, change)
    validate(tl, change)
    with tl.project.transaction(change.label):
        _write(tl, change)
    tl.refresh(change.touched)
    return change


def undo(tl: Timeline, change: ClipChange) -> None:
    apply(tl, change.inverted())


def _clips(tl: Timeline, ids: Iterable[int]) -> list[Clip]:
    out = []
    for i in ids:
        if i not in tl.clips:
            raise EditError(f"clip #{i} is not on this timeline")
        out.append(tl.clips[i])
    return out


# ------------------------------------------------------------------ operations


def add_clip(tl: Timeline, media_id: int, track_id: int, start: int, duration: int | None = None,
             source_in: int = 0, name: str | None = None) -> ClipChange:
    track = tl.track(track_id)
    row = tl.project.query("SELECT name, kind, probe FROM media WHERE id = ?", (media_id,))
    if not row:
        raise EditError(f"media #{media_id} is not in this project")
    mname, kind, _ = row[0]
    if track.kind == "video" and kind == "audio":
        raise EditError(f"{mname} has no picture; put it on an audio track")
    if track.kind == "audio" and kind == "image":
        raise EditError(f"{mname} is a still image; put it on a video track")
    if duration is None:
        duration = tl.media_frames(media_id) - source_in if kind != "image" else int(round(5 * tl.rate))
    (new_id,) = _next_ids(tl, 1)
    clip = Clip(new_id, track_id, media_id, int(start), int(duration), int(source_in), name or mname)
    return apply(tl, ClipChange(f"add {clip.name}", (), (clip,)))


def add_media(tl: Timeline, media_id: int, video_track: int | None, audio_track: int | None,
              start: int) -> ClipChange:
    """Put a media file on the timeline: picture on ``video_track``, sound on ``audio_track``."""
    row = tl.project.query("SELECT name, kind, probe FROM media WHERE id = ?", (media_id,))
    if not row:
        raise EditError(f"media #{media_id} is not in this project")
    mname, kind, probe_json = row[0]
    has_audio = bool(json.loads(probe_json).get("has_audio"))
    has_video = kind in ("video", "image")
    targets = []
    if has_video and video_track is not None:
        targets.append(video_track)
    if has_audio and audio_track is not None:
        targets.append(audio_track)
    if not targets:
        raise EditError(f"{mname}: no track of the right kind to put it on")
    length = tl.media_frames(media_id) if kind != "image" else int(round(5 * tl.rate))
    ids = _next_ids(tl, len(targets))
    clips = tuple(Clip(i, t, media_id, int(start), length, 0, mname) for i, t in zip(ids, targets))
    return apply(tl, ClipChange(f"add {mname}", (), clips))


def move_clips(tl: Timeline, clip_ids: Seq[int], delta: int, track_map: dict[int, int] | None = None) -> ClipChange:
    """Shift clips by ``delta`` frames; ``track_map`` moves clips to other tracks (old track -> new track)."""
    before = _clips(tl, clip_ids)
    track_map = track_map or {}
    after = []
    for c in before:
        new_track = track_map.get(c.track_id, c.track_id)
        if tl.track(new_track).kind != tl.track(c.track_id).kind:
            raise EditError(f"{c.name}: a {tl.track(c.track_id).kind} clip cannot go on a {tl.track(new_track).kind} track")
        after.append(c.with_(start=c.start + int(delta), track_id=new_track))
    return apply(tl, ClipChange("move clip" if len(before) == 1 else f"move {len(before)} clips",
                                tuple(before), tuple(after)))


def trim_clip(tl: Timeline, clip_id: int, edge: str, frame: int) -> ClipChange:
    """Move the ``"in"`` (left) or ``"out"`` (right) edge of a clip to ``frame``."""
    (c,) = _clips(tl, [clip_id])
    frame = int(frame)
    if edge == "in":
        delta = frame - c.start
        new = c.with_(start=frame, duration=c.duration - delta, source_in=c.source_in + delta)
    elif edge == "out":
        new = c.with_(duration=frame - c.start)
    else:
        raise EditError(f"edge must be 'in' or 'out', not {edge!r}")
    return apply(tl, ClipChange(f"trim {c.name}", (c,), (new,)))


def split_clips(tl: Timeline, clip_ids: Seq[int], frame: int) -> ClipChange:
    """Cut clips in two at ``frame`` (clips not under ``frame`` are left alone)."""
    frame = int(frame)
    targets = [c for c in _clips(tl, clip_ids) if c.start < frame < c.end]
    if not targets:
        raise EditError("the playhead is not inside the selected clip(s)")
    new_ids = _next_ids(tl, len(targets))
    before, after = [], []
    for c, nid in zip(targets, new_ids):
        left = frame - c.start
        before.append(c)
        after.append(c.with_(duration=left))
        after.append(Clip(nid, c.track_id, c.media_id, frame, c.duration - left, c.source_in + left, c.name))
    return apply(tl, ClipChange("split", tuple(before), tuple(after)))


def split_at(tl: Timeline, frame: int, track_ids: Iterable[int] | None = None) -> ClipChange:
    """Split every clip under ``frame`` (on the given tracks, or all unlocked tracks)."""
    tracks = list(track_ids) if track_ids is not None else [t.id for t in tl.tracks if not t.locked]
    ids = [c.id for t in tracks if (c := tl.clip_at(t, frame)) is not None and c.start < frame]
    return split_clips(tl, ids, frame)


def delete_clips(tl: Timeline, clip_ids: Seq[int]) -> ClipChange:
    before = _clips(tl, clip_ids)
    return apply(tl, ClipChange("delete clip" if len(before) == 1 else f"delete {len(before)} clips",
                                tuple(before), ()))


TRACK_FLAGS = ("muted", "locked", "hidden", "solo")


def set_track_flag(tl: Timeline, track_id: int, flag: str, value: bool) -> bool:
    """Mute, lock or hide a track in one transaction; returns the previous value (for undo)."""
    if flag not in TRACK_FLAGS:
        raise EditError(f"unknown track state {flag!r} (one of {', '.join(TRACK_FLAGS)})")
    track = tl.track(track_id)
    old = bool(getattr(track, flag))
    if old != bool(value):
        verb = {"muted": "mute", "locked": "lock", "hidden": "hide", "solo": "solo"}[flag]
        with tl.project.transaction(f"{verb if value else 'un' + verb} {track.name}"):
            tl.project.execute(f"UPDATE tracks SET {flag} = ? WHERE id = ?", (int(bool(value)), track_id))
        tl.refresh()
    return old


def snap(tl: Timeline, frame: int, threshold: int, exclude: Iterable[int] = (), playhead: bool = True) -> int:
    """The nearest edit point (clip edge or playhead) within ``threshold`` frames, else ``frame``."""
    excluded = set(exclude)
    points = {0}
    for c in tl.clips.values():
        if c.id not in excluded:
            points.update((c.start, c.end))
    if playhead:
        points.add(tl.playhead)
    best = min(points, key=lambda p: abs(p - frame))
    return best if abs(best - frame) <= threshold else int(frame)
