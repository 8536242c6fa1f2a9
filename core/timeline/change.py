"""Edit machinery: the change rows, their validation and their one-transaction write.

A :class:`ClipChange` holds the table rows (clips, transitions, markers,
tracks, sequence properties; see core.timeline.model) before and after an
edit. :func:`apply` validates it (no overlaps on a track, locked tracks
untouched, clips inside their source media, transitions on abutting clips with
enough media handles) and writes it in ONE transaction: rows only in
``before`` are deleted, rows only in ``after`` inserted, rows in both updated.
The same change, inverted, undoes it exactly (ids are kept). Transitions whose
clips stop meeting at their cut are removed by the same change (so undo brings
them back).

:class:`_Draft` is the working copy of the rows that most operations (in
core.timeline.edit_clips, edit_props and edit_structure; the public names are
all in core.timeline.edit) edit step by step before committing one change.
This module imports none of the operation modules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable

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


def _validate_tracks_and_markers(tl: Timeline, change: ClipChange) -> None:
    kb, ka = change.rows(Track)
    for t in ka:
        if t.kind not in ("video", "audio"):
            raise EditError(f"a track is 'video' or 'audio', not {t.kind!r}")
        if t.sequence_id != tl.sequence_id:
            raise EditError(f"track {t.name} belongs to another sequence")
    gone = {t.id for t in kb} - {t.id for t in ka}
    if gone:
        left = {c.track_id for c in clips_after(tl, change).values()} & gone
        if left:
            raise EditError(f"track {tl.track(min(left)).name} still has clips; remove them first")
    for m in change.rows(Marker)[1]:
        if m.sequence_id != tl.sequence_id:
            raise EditError(f"marker {m.name or m.id} belongs to another sequence")
        if m.frame < 0 or m.duration < 0:
            raise EditError(f"marker {m.name or m.id}: frame and duration must not be negative")


def validate(tl: Timeline, change: ClipChange) -> None:
    sb, sa = change.rows(SequenceProps)
    if {r.id for r in sb} != {r.id for r in sa}:
        raise EditError("sequence properties can be changed, not added or removed")
    _validate_tracks_and_markers(tl, change)
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
    if ta or tb or ca:
        clips = clips_after(tl, change)
        for tr in ta:
            if tl.track(tr.track_id).locked:
                raise EditError(f"track {tl.track(tr.track_id).name} is locked")
            _check_transition(tl, tr, clips)
        for tr in tb:
            if tl.track(tr.track_id).locked:
                raise EditError(f"track {tl.track(tr.track_id).name} is locked")
        # transitions the change keeps on clips it changes (slip, trim, roll...) still need their handles
        listed = {t.id for t in tb + ta}
        touched = change.touched
        for tr in tl.transitions.values():
            if tr.id not in listed and (tr.clip_a in touched or tr.clip_b in touched):
                _check_transition(tl, tr, clips)
        # a clip's incoming and outgoing transitions must not overlap inside it
        gone = {t.id for t in tb} - {t.id for t in ta}
        after_tr = {t.id: t for t in tl.transitions.values() if t.id not in gone}
        after_tr.update({t.id: t for t in ta})
        incoming = {t.clip_b: t for t in after_tr.values()}
        for t in after_tr.values():
            head = incoming.get(t.clip_a)
            clip = clips.get(t.clip_a)
            if head is not None and clip is not None and head.right + t.left > clip.duration:
                raise EditError(f"the transitions at both ends of {clip.name or 'a clip'} would overlap "
                                f"({head.right + t.left} frames in a {clip.duration}-frame clip)")
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


def _clip(tl: Timeline, clip_id: int) -> Clip:
    return _clips(tl, [clip_id])[0]


def _label(c: Clip) -> str:
    return c.name or f"clip #{c.id}"


# ------------------------------------------------------------------ drafts


class _Draft:
    """A working copy of the sequence's rows that an operation edits step by step.

    :meth:`commit` turns the difference to the timeline into one ClipChange and
    applies it (one transaction; nothing is written when validation fails).
    """

    KINDS = (Track, Clip, Transition, Marker, SequenceProps)

    def __init__(self, tl: Timeline):
        self.tl = tl
        self.rows: dict[type, dict[int, _Row]] = {
            Track: {t.id: t for t in tl.tracks},
            Clip: dict(tl.clips),
            Transition: dict(tl.transitions),
            Marker: dict(tl.markers),
            SequenceProps: {tl.sequence_id: SequenceProps(tl.sequence_id, tl.sequence.props)},
        }
        self._orig = {k: dict(v) for k, v in self.rows.items()}
        self._next: dict[type, int] = {}

    @property
    def clips(self) -> dict[int, Clip]:
        return self.rows[Clip]  # type: ignore[return-value]

    @property
    def transitions(self) -> dict[int, Transition]:
        return self.rows[Transition]  # type: ignore[return-value]

    def new_id(self, kind: type) -> int:
        self._next[kind] = self._next[kind] + 1 if kind in self._next else next_ids(self.tl, 1, kind)[0]
        return self._next[kind]

    def put(self, row):
        self.rows[type(row)][row.id] = row
        return row

    def drop(self, row) -> None:
        self.rows[type(row)].pop(row.id, None)

    def clips_on(self, track_id: int) -> list[Clip]:
        return sorted((c for c in self.clips.values() if c.track_id == track_id), key=lambda c: c.start)

    def clip_at(self, track_id: int, frame: int) -> Clip | None:
        return next((c for c in self.clips_on(track_id) if c.contains(frame)), None)

    def clips_in(self, track_id: int, start: int, end: int) -> list[Clip]:
        return [c for c in self.clips_on(track_id) if c.start < end and c.end > start]

    def cut_transition(self, a: Clip, b: Clip) -> Transition | None:
        return next((t for t in self.transitions.values() if t.clip_a == a.id and t.clip_b == b.id), None)

    def _prune(self) -> None:
        for tr in list(self.transitions.values()):
            a, b = self.clips.get(tr.clip_a), self.clips.get(tr.clip_b)
            if a is None or b is None or a.track_id != tr.track_id or b.track_id != tr.track_id or a.end != b.start:
                self.drop(tr)

    def change(self, label: str) -> ClipChange:
        self._prune()
        before, after = [], []
        for kind in self.KINDS:
            orig, cur = self._orig[kind], self.rows[kind]
            before += [r for i, r in orig.items() if cur.get(i) != r]
            after += [r for i, r in cur.items() if orig.get(i) != r]
        return ClipChange(label, tuple(before), tuple(after))

    def commit(self, label: str) -> ClipChange:
        return apply(self.tl, self.change(label))
