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

Every operation below builds its whole change first (most through a
:class:`_Draft`, a working copy of the rows) and calls :func:`apply` once, so
it is one transaction and an impossible request (locked track, overlap, past
the media, no neighbour...) raises EditError before anything is written. The
operations return the change as written: ``undo(tl, change)`` reverts it and
``apply(tl, change)`` does it again.

Clip keyframes count from the clip's start, so whatever moves a clip's in
point (trim, roll, slide, blade, overwrite) shifts them to keep them on the
same source moments. ``source_in`` is a whole frame: on a retimed clip an in
point that falls between source frames rounds down to the frame on screen.
"""

from __future__ import annotations

import json
import math
import operator
from dataclasses import dataclass
from fractions import Fraction
from typing import Iterable, Sequence as Seq

from core.audio.tempo import beat_frames, project_tempo_map
from core.errors import EditError
from core.timeline import keyframes, props
from core.timeline.model import Clip, Marker, SequenceProps, Timeline, Track, Transition, _Row, props_text


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


def _shift_keys(props_json: str, delta: int) -> str:
    """Clip properties with every keyframe (properties and filter parameters) moved by ``delta`` frames."""
    p = json.loads(props_json or "{}")
    animated = any(keyframes.is_animated(v) for v in p.values()) or any(
        keyframes.is_animated(v) for f in p.get("filters", []) for v in f.get("params", {}).values())
    if not delta or not animated:
        return props_json
    out = {k: keyframes.shift(v, delta) for k, v in p.items() if k != "filters"}
    if "filters" in p:
        out["filters"] = [{**f, "params": {n: keyframes.shift(v, delta) for n, v in f.get("params", {}).items()}}
                          for f in p["filters"]]
    return props_text(out)


def _without(props_json: str, *names: str) -> str:
    p = json.loads(props_json or "{}")
    if not any(n in p for n in names):
        return props_json
    return props_text({k: v for k, v in p.items() if k not in names})


def _source_at(c: Clip, offset: int) -> int:
    """``source_in`` of a clip whose head moves by ``offset`` frames (exact for integer offsets * speed;
    otherwise the source frame on screen there, rounded down: source_in is a whole frame)."""
    return math.floor(c.source_in + offset * Fraction(c.speed))


def _trim_head(c: Clip, new_start: int) -> Clip:
    """The clip with its in point at ``new_start`` (tail fixed); keyframes stay on the same source moments."""
    d = int(new_start) - c.start
    return c.with_(start=int(new_start), duration=c.duration - d, source_in=_source_at(c, d),
                   props=_shift_keys(c.props, -d))


def _trim_tail(c: Clip, new_end: int) -> Clip:
    return c.with_(duration=int(new_end) - c.start)


def _split(d: _Draft, c: Clip, frame: int) -> tuple[Clip, Clip]:
    """Cut ``c`` at ``frame`` in the draft; the transition at its end goes with the right part."""
    for tr in list(d.transitions.values()):
        if (tr.clip_a == c.id and c.end - tr.left < frame < c.end) or \
                (tr.clip_b == c.id and c.start < frame < c.start + tr.right):
            raise EditError(f"frame {frame} lies inside a transition of {_label(c)}; "
                            f"cut outside it or remove the transition first")
    n = frame - c.start
    left = d.put(c.with_(duration=n, props=_without(c.props, "fade_out")))
    right = d.put(c.with_(id=d.new_id(Clip), start=frame, duration=c.duration - n, source_in=_source_at(c, n),
                          props=_without(_shift_keys(c.props, -n), "fade_in")))
    for tr in list(d.transitions.values()):
        if tr.clip_a == c.id:
            d.put(tr.with_(clip_a=right.id))
    return left, right


def _clear(d: _Draft, track_id: int, start: int, end: int) -> bool:
    """Remove whatever lies in [start, end) on a track (trimming or splitting clips across its edges)."""
    hit = d.clips_in(track_id, start, end)
    for c in hit:
        if c.start < start and c.end > end:
            left, _ = _split(d, c, end)
            d.put(_trim_tail(left, start))
        elif c.start < start:
            d.put(_trim_tail(c, start))
        elif c.end > end:
            d.put(_trim_head(c, end))
        else:
            d.drop(c)
    return bool(hit)


def _shift_from(d: _Draft, track_id: int, frame: int, delta: int, skip: int | None = None) -> None:
    """Move every clip of a track that starts at or after ``frame`` by ``delta``."""
    for c in d.clips_on(track_id):
        if c.start >= frame and c.id != skip:
            d.put(c.with_(start=c.start + delta))


def _neighbours(d: _Draft, c: Clip) -> tuple[Clip | None, Clip | None]:
    """The clips that end where ``c`` starts and start where it ends (same track)."""
    on = d.clips_on(c.track_id)
    prev = next((x for x in on if x.end == c.start and x.id != c.id), None)
    nxt = next((x for x in on if x.start == c.end and x.id != c.id), None)
    return prev, nxt


def _media_for_track(tl: Timeline, media_id: int, track: Track, source_in: int,
                     duration: int | None) -> tuple[str, int]:
    """(name, duration) of a media file about to go on ``track``; refuses the wrong kind of track."""
    row = tl.project.query("SELECT name, kind FROM media WHERE id = ?", (media_id,))
    if not row:
        raise EditError(f"media #{media_id} is not in this project")
    mname, kind = row[0]
    if track.kind == "video" and kind == "audio":
        raise EditError(f"{mname} has no picture; put it on an audio track")
    if track.kind == "audio" and kind == "image":
        raise EditError(f"{mname} is a still image; put it on a video track")
    if duration is None:
        duration = tl.media_frames(media_id) - int(source_in) if kind != "image" else int(round(5 * tl.rate))
    if int(duration) < 1:
        raise EditError(f"{mname}: nothing left of it after frame {source_in}")
    return mname, int(duration)


# ------------------------------------------------------------------ placing clips


def add_clip(tl: Timeline, media_id: int, track_id: int, start: int, duration: int | None = None,
             source_in: int = 0, name: str | None = None) -> ClipChange:
    mname, duration = _media_for_track(tl, media_id, tl.track(track_id), source_in, duration)
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


def insert_clip(tl: Timeline, media_id: int, track_id: int, frame: int, source_in: int = 0,
                duration: int | None = None, ripple_track_ids: Iterable[int] | None = None) -> ClipChange:
    """Ripple insert at ``frame``: clips under it are split and everything from it on moves right.

    The target track and the ripple tracks (default: every unlocked track, to keep sync) open the gap.
    """
    track = tl.track(track_id)
    frame = int(frame)
    if frame < 0:
        raise EditError("cannot insert before the start of the sequence")
    name, duration = _media_for_track(tl, media_id, track, source_in, duration)
    ripple = [t.id for t in tl.tracks if not t.locked] if ripple_track_ids is None else list(ripple_track_ids)
    d = _Draft(tl)
    for t in dict.fromkeys([track_id] + ripple):
        tl.track(t)
        c = d.clip_at(t, frame)
        if c is not None and c.start < frame:
            _split(d, c, frame)
        _shift_from(d, t, frame, duration)
    d.put(Clip(d.new_id(Clip), track_id, media_id, frame, duration, int(source_in), name))
    return d.commit(f"insert {name}")


def overwrite_clip(tl: Timeline, media_id: int, track_id: int, frame: int, source_in: int = 0,
                   duration: int | None = None) -> ClipChange:
    """Put a clip at [frame, frame + duration), replacing whatever lies there on the track."""
    track = tl.track(track_id)
    frame = int(frame)
    if frame < 0:
        raise EditError("cannot overwrite before the start of the sequence")
    name, duration = _media_for_track(tl, media_id, track, source_in, duration)
    d = _Draft(tl)
    _clear(d, track_id, frame, frame + duration)
    d.put(Clip(d.new_id(Clip), track_id, media_id, frame, duration, int(source_in), name))
    return d.commit(f"overwrite with {name}")


def move_clips(tl: Timeline, clip_ids: Seq[int], delta: int, track_map: dict[int, int] | None = None) -> ClipChange:
    """Shift clips by ``delta`` frames; ``track_map`` moves clips to other tracks (old track -> new track).

    A transition between two clips that move together follows them; one whose clips stop
    meeting is removed by the same change.
    """
    before = _clips(tl, clip_ids)
    track_map = track_map or {}
    d = _Draft(tl)
    for c in before:
        new_track = track_map.get(c.track_id, c.track_id)
        if tl.track(new_track).kind != tl.track(c.track_id).kind:
            raise EditError(f"{c.name}: a {tl.track(c.track_id).kind} clip cannot go on a "
                            f"{tl.track(new_track).kind} track")
        d.put(c.with_(start=c.start + int(delta), track_id=new_track))
    for tr in list(d.transitions.values()):
        a, b = d.clips.get(tr.clip_a), d.clips.get(tr.clip_b)
        if a is not None and b is not None and a.track_id == b.track_id != tr.track_id:
            d.put(tr.with_(track_id=a.track_id))
    return d.commit("move clip" if len(before) == 1 else f"move {len(before)} clips")


# ------------------------------------------------------------------ trimming


def trim_clip(tl: Timeline, clip_id: int, edge: str, frame: int) -> ClipChange:
    """Move the ``"in"`` (left) or ``"out"`` (right) edge of a clip to ``frame``.

    Trimming the in point keeps keyframes on the same source moments (they shift with it).
    """
    c = _clip(tl, clip_id)
    if edge == "in":
        new = _trim_head(c, int(frame))
    elif edge == "out":
        new = _trim_tail(c, int(frame))
    else:
        raise EditError(f"edge must be 'in' or 'out', not {edge!r}")
    return apply(tl, ClipChange(f"trim {c.name}", (c,), (new,)))


def ripple_trim(tl: Timeline, clip_id: int, edge: str, frame: int,
                ripple_track_ids: Iterable[int] = ()) -> ClipChange:
    """Trim an edge to ``frame`` and move the later clips of the track (and ``ripple_track_ids``) with it.

    ``"out"``: the clip's end goes to ``frame``. ``"in"``: the in point moves by ``frame - start``
    frames of the clip but the clip stays where it starts; either way no gap opens or closes.
    """
    c = _clip(tl, clip_id)
    frame = int(frame)
    d = _Draft(tl)
    if edge == "out":
        new = _trim_tail(c, frame)
    elif edge == "in":
        new = _trim_head(c, frame).with_(start=c.start)
    else:
        raise EditError(f"edge must be 'in' or 'out', not {edge!r}")
    if new.duration < 1:
        raise EditError(f"{_label(c)} would be shorter than one frame")
    delta = new.end - c.end
    for t in dict.fromkeys([c.track_id, *ripple_track_ids]):
        tl.track(t)
        _shift_from(d, t, c.end, delta, skip=c.id)
    d.put(new)
    return d.commit(f"ripple trim {c.name}")


def roll_edit(tl: Timeline, clip_id: int, edge: str, frame: int) -> ClipChange:
    """Move the cut between a clip and its abutting neighbour to ``frame`` (``edge``: which cut).

    Both clips change, their total length does not. The transition on the cut stays when
    both clips have media for it at the new cut, otherwise it is removed (undo brings it back).
    """
    c = _clip(tl, clip_id)
    d = _Draft(tl)
    prev, nxt = _neighbours(d, c)
    if edge == "out":
        a, b = c, nxt
    elif edge == "in":
        a, b = prev, c
    else:
        raise EditError(f"edge must be 'in' or 'out', not {edge!r}")
    if a is None or b is None:
        side = "after" if edge == "out" else "before"
        raise EditError(f"no clip meets {_label(c)} right {side} it: a roll moves the cut between two clips")
    frame = int(frame)
    if not a.start < frame < b.end:
        raise EditError(f"the cut must stay inside {_label(a)} and {_label(b)} (frames {a.start + 1}..{b.end - 1})")
    tr = d.cut_transition(a, b)
    d.put(_trim_tail(a, frame))
    d.put(_trim_head(b, frame))
    if tr is not None:
        try:
            _check_transition(tl, tr, d.clips)
        except EditError:
            d.drop(tr)
    return d.commit(f"roll {a.name} / {b.name}")


def slip(tl: Timeline, clip_id: int, delta: int) -> ClipChange:
    """Show other source material in the same place: ``source_in`` moves by ``delta`` (sequence-rate frames).

    Position, duration and keyframes (clip-local) stay."""
    c = _clip(tl, clip_id)
    delta = int(delta)
    new = c.with_(source_in=c.source_in + delta)
    if new.source_in < 0:
        raise EditError(f"{_label(c)} has only {c.source_in} frames of media before its in point "
                        f"(cannot slip by {delta})")
    spare = tl.media_frames(c.media_id) - c.source_out
    if delta > spare:
        raise EditError(f"{_label(c)} has only {spare} frames of media after its out point (cannot slip by {delta})")
    return apply(tl, ClipChange(f"slip {c.name}", (c,), (new,)))


def slide(tl: Timeline, clip_id: int, delta: int) -> ClipChange:
    """Move a clip by ``delta`` between its neighbours: the previous clip's out point and the next
    clip's in point follow it, so the sequence keeps its length."""
    c = _clip(tl, clip_id)
    delta = int(delta)
    d = _Draft(tl)
    prev, nxt = _neighbours(d, c)
    if prev is None and nxt is None:
        raise EditError(f"no clip meets {_label(c)}: a slide moves a clip between its neighbours")
    if prev is not None:
        if prev.duration + delta < 1:
            raise EditError(f"sliding by {delta} would leave nothing of {_label(prev)}")
        d.put(_trim_tail(prev, prev.end + delta))
    if nxt is not None:
        if nxt.duration - delta < 1:
            raise EditError(f"sliding by {delta} would leave nothing of {_label(nxt)}")
        d.put(_trim_head(nxt, nxt.start + delta))
    d.put(c.with_(start=c.start + delta))
    return d.commit(f"slide {c.name}")


def split_clips(tl: Timeline, clip_ids: Seq[int], frame: int) -> ClipChange:
    """Cut clips in two at ``frame`` (clips not under ``frame`` are left alone).

    The right part keeps the speed and properties, its keyframes shift so the animation
    carries on across the cut, and a transition at the clip's end moves onto it."""
    frame = int(frame)
    targets = [c for c in _clips(tl, clip_ids) if c.start < frame < c.end]
    if not targets:
        raise EditError("the playhead is not inside the selected clip(s)")
    d = _Draft(tl)
    for c in targets:
        _split(d, c, frame)
    return d.commit("split")


def split_at(tl: Timeline, frame: int, track_ids: Iterable[int] | None = None) -> ClipChange:
    """Split every clip under ``frame`` (on the given tracks, or all unlocked tracks)."""
    tracks = list(track_ids) if track_ids is not None else [t.id for t in tl.tracks if not t.locked]
    ids = [c.id for t in tracks if (c := tl.clip_at(t, frame)) is not None and c.start < frame]
    return split_clips(tl, ids, frame)


# ------------------------------------------------------------------ removing


def delete_clips(tl: Timeline, clip_ids: Seq[int]) -> ClipChange:
    before = _clips(tl, clip_ids)
    return apply(tl, ClipChange("delete clip" if len(before) == 1 else f"delete {len(before)} clips",
                                tuple(before), ()))


def lift(tl: Timeline, clip_ids: Seq[int]) -> ClipChange:
    """Remove clips and leave their gap."""
    before = _clips(tl, clip_ids)
    d = _Draft(tl)
    for c in before:
        d.drop(c)
    return d.commit("lift clip" if len(before) == 1 else f"lift {len(before)} clips")


def extract(tl: Timeline, clip_ids: Seq[int]) -> ClipChange:
    """Ripple delete: remove clips and move the later clips of their tracks left to close each gap."""
    gone = _clips(tl, clip_ids)
    d = _Draft(tl)
    for c in gone:
        d.drop(c)
    for t in {c.track_id for c in gone}:
        removed = [c for c in gone if c.track_id == t]
        for c in d.clips_on(t):
            shift = sum(r.duration for r in removed if r.end <= c.start)
            if shift:
                d.put(c.with_(start=c.start - shift))
    return d.commit("extract clip" if len(gone) == 1 else f"extract {len(gone)} clips")


def _range_tracks(tl: Timeline, start: int, end: int, track_ids: Iterable[int] | None) -> list[int]:
    if int(end) <= int(start) or int(start) < 0:
        raise EditError(f"frames {start}..{end} are not a range (the out mark must come after the in mark)")
    tracks = [t.id for t in tl.tracks if not t.locked] if track_ids is None else list(track_ids)
    for t in tracks:
        tl.track(t)
    return tracks


def lift_range(tl: Timeline, start: int, end: int, track_ids: Iterable[int] | None = None) -> ClipChange:
    """Remove everything in [start, end) on the tracks (default: every unlocked track), leaving a gap."""
    start, end = int(start), int(end)
    d = _Draft(tl)
    hit = [_clear(d, t, start, end) for t in _range_tracks(tl, start, end, track_ids)]
    if not any(hit):
        raise EditError(f"there is nothing to lift between frames {start} and {end}")
    return d.commit("lift range")


def extract_range(tl: Timeline, start: int, end: int, track_ids: Iterable[int] | None = None) -> ClipChange:
    """Remove [start, end) on the tracks (default: every unlocked track) and close the gap."""
    start, end = int(start), int(end)
    d = _Draft(tl)
    for t in _range_tracks(tl, start, end, track_ids):
        _clear(d, t, start, end)
        _shift_from(d, t, end, start - end)
    ch = d.change("extract range")
    if ch.empty:
        raise EditError(f"there is nothing to extract between frames {start} and {end}")
    return apply(tl, ch)


# ------------------------------------------------------------------ speed


def _as_speed(speed) -> Fraction:
    if isinstance(speed, bool):
        raise EditError(f"speed {speed!r} is not a number")
    try:
        s = Fraction(str(speed)) if isinstance(speed, float) else Fraction(speed)
    except (ValueError, TypeError, ZeroDivisionError):
        raise EditError(f"speed {speed!r} is not a number (e.g. 2, 0.5 or '2/3')") from None
    if s <= 0:
        raise EditError(f"speed must be positive, not {speed}")
    if not Fraction(1, 100) <= s <= 100 or s.denominator > 1000:
        raise EditError(f"speed {s} is out of range (1/100 .. 100, at most 1000 in the denominator)")
    return s


def set_speed(tl: Timeline, clip_id: int, speed, keep: str = "source", ripple: bool = False) -> ClipChange:
    """Play a clip at ``speed`` (a positive Fraction, int or text such as "1/2"; 2 = twice as fast).

    ``keep="source"``: the same source range plays and the duration becomes
    ``ceil(source length / speed)`` (at most what is left of the media); a longer clip must not
    overlap the next one unless ``ripple`` moves the later clips of the track.
    ``keep="duration"``: the clip keeps its length and uses more or less source, which must
    stay inside the media. Keyframes stay in clip frames.
    """
    c = _clip(tl, clip_id)
    s = _as_speed(speed)
    media = tl.media_frames(c.media_id)
    d = _Draft(tl)
    if keep == "source":
        room = math.floor((media - c.source_in) / s)
        duration = min(math.ceil(c.duration * Fraction(c.speed) / s), room)
        if duration < 1:
            raise EditError(f"{_label(c)} has no media left at speed {s}")
        new = c.with_(speed=s, duration=duration)
        nxt = next((x for x in d.clips_on(c.track_id) if x.start >= c.end and x.id != c.id), None)
        if ripple:
            _shift_from(d, c.track_id, c.end, new.end - c.end, skip=c.id)
        elif nxt is not None and new.end > nxt.start:
            raise EditError(f"at speed {s} {_label(c)} would last {duration} frames and overlap {_label(nxt)} "
                            f"by {new.end - nxt.start}; make room or ripple the later clips")
    elif keep == "duration":
        new = c.with_(speed=s)
        if new.source_out > media:
            raise EditError(f"at speed {s} {_label(c)} would need {new.source_out - media} frames more media "
                            f"than there is; shorten it or lower the speed")
    else:
        raise EditError(f"keep must be 'source' or 'duration', not {keep!r}")
    d.put(new)
    return d.commit(f"speed {s} {c.name}")


# ------------------------------------------------------------------ properties, keyframes, filters


def _props_of(row) -> dict:
    return json.loads(row.props or "{}")


def set_property(tl: Timeline, clip_ids: Seq[int], name: str, value) -> ClipChange:
    """Set a clip property (constant or keyed, see core.timeline.props) on clips; None resets it."""
    clips = _clips(tl, clip_ids)
    d = _Draft(tl)
    for c in clips:
        p = _props_of(c)
        if value is None:
            p.pop(name, None)
        else:
            p[name] = value
        props.check(p)
        d.put(c.with_(props=props_text(p)))
    return d.commit(f"set {name}")


def set_blend(tl: Timeline, clip_ids: Seq[int], mode: str) -> ClipChange:
    if mode not in props.BLEND_MODES:
        raise EditError(f"blend mode must be one of {', '.join(props.BLEND_MODES)}, not {mode!r}")
    return set_property(tl, clip_ids, "blend", mode)


def _keyable_spec(name: str, specs: dict) -> props.PropSpec:
    spec = specs.get(name)
    if spec is None:
        raise EditError(f"there is no property {name!r} to keyframe (one of {', '.join(specs)})")
    if not spec.keyframable:
        raise EditError(f"{spec.label or name} cannot be keyframed")
    return spec


def _check_clip_frame(c: Clip, frame: int) -> int:
    frame = int(frame)
    if not 0 <= frame < c.duration:
        raise EditError(f"frame {frame} is outside {_label(c)} (its frames are 0..{c.duration - 1})")
    return frame


def set_keyframe(tl: Timeline, clip_id: int, name: str, frame: int, value: float, interp: str = "linear",
                 handles=None) -> ClipChange:
    """Key a clip property at a clip-local ``frame`` (replacing a key there)."""
    c = _clip(tl, clip_id)
    spec = _keyable_spec(name, props.CLIP_PROPS)
    frame = _check_clip_frame(c, frame)
    p = _props_of(c)
    p[name] = keyframes.set_key(p.get(name, spec.default), frame, value, interp, handles)
    props.check(p)
    return apply(tl, ClipChange(f"key {name}", (c,), (c.with_(props=props_text(p)),)))


def remove_keyframe(tl: Timeline, clip_id: int, name: str, frame: int) -> ClipChange:
    c = _clip(tl, clip_id)
    p = _props_of(c)
    if not keyframes.is_animated(p.get(name)):
        raise EditError(f"{name} of {_label(c)} has no keyframes")
    p[name] = keyframes.remove_key(p[name], int(frame))
    return apply(tl, ClipChange(f"remove {name} key", (c,), (c.with_(props=props_text(p)),)))


def _target_row(tl: Timeline, target) -> tuple[_Row, dict, str]:
    """(row, property specs, what) of a filter/property target ("clip"|"track"|"sequence", id)."""
    try:
        kind, tid = target
    except (TypeError, ValueError):
        raise EditError(f"a target is ('clip'|'track'|'sequence', id), not {target!r}") from None
    if kind == "clip":
        return _clip(tl, tid), props.CLIP_PROPS, "clip"
    if kind == "track":
        track = tl.track(tid)
        if track.locked:
            raise EditError(f"track {track.name} is locked")
        return track, props.TRACK_PROPS, "track"
    if kind == "sequence":
        if tid != tl.sequence_id:
            raise EditError(f"sequence #{tid} is not the one this timeline shows")
        return SequenceProps(tl.sequence_id, tl.sequence.props), {}, "sequence"
    raise EditError(f"a target is a clip, a track or a sequence, not {kind!r}")


def _edit_props(tl: Timeline, target, label: str, fn) -> ClipChange:
    row, specs, what = _target_row(tl, target)
    p = _props_of(row)
    fn(p)
    props.check(p, specs, what)
    return apply(tl, ClipChange(label, (row,), (row.with_(props=props_text(p)),)))


def _filter(p: dict, index: int) -> dict:
    stack = p.get("filters", [])
    if not isinstance(index, int) or not 0 <= index < len(stack):
        raise EditError(f"there is no filter #{index} (the stack has {len(stack)})")
    return stack[index]


def add_filter(tl: Timeline, target, kind: str, params: dict | None = None, index: int | None = None) -> ClipChange:
    """Add a filter to a clip, track or sequence stack (at ``index``, default on top = last)."""
    def fn(p):
        stack = p.setdefault("filters", [])
        i = len(stack) if index is None else int(index)
        if not 0 <= i <= len(stack):
            raise EditError(f"filter position {index} is outside the stack (0..{len(stack)})")
        stack.insert(i, {"type": kind, "enabled": True, "params": dict(params or {})})
    return _edit_props(tl, target, f"add {kind}", fn)


def remove_filter(tl: Timeline, target, index: int) -> ClipChange:
    def fn(p):
        _filter(p, index)
        del p["filters"][index]
        if not p["filters"]:
            del p["filters"]
    return _edit_props(tl, target, "remove filter", fn)


def move_filter(tl: Timeline, target, index: int, new_index: int) -> ClipChange:
    def fn(p):
        f = _filter(p, index)
        if not isinstance(new_index, int) or not 0 <= new_index < len(p["filters"]):
            raise EditError(f"filter position {new_index} is outside the stack (0..{len(p['filters']) - 1})")
        del p["filters"][index]
        p["filters"].insert(new_index, f)
    return _edit_props(tl, target, "move filter", fn)


def set_filter_param(tl: Timeline, target, index: int, name: str, value) -> ClipChange:
    """Set a filter parameter (constant or keyed); None resets it to the filter's default."""
    def fn(p):
        params = _filter(p, index).setdefault("params", {})
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return _edit_props(tl, target, f"set {name}", fn)


def set_filter_key(tl: Timeline, target, index: int, name: str, frame: int, value: float,
                   interp: str = "linear") -> ClipChange:
    """Key a filter parameter at ``frame`` (clip-local for clip filters, sequence frames otherwise)."""
    row, _, what = _target_row(tl, target)
    if what == "clip":
        frame = _check_clip_frame(row, frame)
    elif int(frame) < 0:
        raise EditError(f"frame {frame} is before the start of the sequence")

    def fn(p):
        f = _filter(p, index)
        props.check_filters([f])
        spec = _keyable_spec(name, props.FILTER_SPECS[f["type"]])
        params = f.setdefault("params", {})
        params[name] = keyframes.set_key(params.get(name, spec.default), int(frame), value, interp)
    return _edit_props(tl, target, f"key {name}", fn)


def enable_filter(tl: Timeline, target, index: int, enabled: bool) -> ClipChange:
    def fn(p):
        _filter(p, index)["enabled"] = bool(enabled)
    return _edit_props(tl, target, "enable filter" if enabled else "disable filter", fn)


def set_track_props(tl: Timeline, track_id: int, name: str, value) -> ClipChange:
    """Set a track property (``volume``: linear gain, constant or keyed in sequence frames); None resets it."""
    def fn(p):
        if value is None:
            p.pop(name, None)
        else:
            p[name] = value
    return _edit_props(tl, ("track", track_id), f"set track {name}", fn)


# ------------------------------------------------------------------ transitions


def _transition_kind(kind: str, track: Track) -> str:
    kinds = props.AUDIO_TRANSITION_KINDS if track.kind == "audio" else props.TRANSITION_KINDS
    if kind not in kinds:
        raise EditError(f"a {track.kind} transition is one of {', '.join(kinds)}, not {kind!r}")
    return kind


def add_transition(tl: Timeline, clip_a: int, clip_b: int, kind: str = "crossfade", duration: int | None = None,
                   audio: bool = True) -> ClipChange:
    """A transition on the cut where ``clip_a`` ends and ``clip_b`` starts (default length: one second).

    With ``audio``, every unlocked audio track where clips of A's and B's media meet at the same
    cut gets a matching crossfade in the same change."""
    a, b = _clips(tl, [clip_a, clip_b])
    if a.track_id != b.track_id or a.end != b.start:
        raise EditError(f"{_label(a)} and {_label(b)} do not meet on one track; a transition goes on a cut")
    track = tl.track(a.track_id)
    _transition_kind(kind, track)
    duration = int(round(tl.rate)) if duration is None else int(duration)
    if duration < 1:
        raise EditError("a transition must last at least one frame")
    d = _Draft(tl)
    d.put(Transition(d.new_id(Transition), track.id, a.id, b.id, kind, duration))
    if audio:
        cut = a.end
        for t in tl.audio_tracks():
            if t.id == track.id or t.locked:
                continue
            x = next((c for c in d.clips_on(t.id) if c.end == cut and c.media_id == a.media_id), None)
            y = next((c for c in d.clips_on(t.id) if c.start == cut and c.media_id == b.media_id), None)
            if x is not None and y is not None and d.cut_transition(x, y) is None:
                d.put(Transition(d.new_id(Transition), t.id, x.id, y.id, "crossfade", duration))
    return d.commit(f"add {kind}")


def _transition(tl: Timeline, transition_id: int) -> Transition:
    tr = tl.transitions.get(transition_id)
    if tr is None:
        raise EditError(f"transition #{transition_id} is not on this timeline")
    return tr


def remove_transition(tl: Timeline, transition_id: int) -> ClipChange:
    tr = _transition(tl, transition_id)
    return apply(tl, ClipChange(f"remove {tr.kind}", (tr,), ()))


def set_transition(tl: Timeline, transition_id: int, kind: str | None = None,
                   duration: int | None = None) -> ClipChange:
    tr = _transition(tl, transition_id)
    new = tr
    if kind is not None:
        new = new.with_(kind=_transition_kind(kind, tl.track(tr.track_id)))
    if duration is not None:
        if int(duration) < 1:
            raise EditError("a transition must last at least one frame")
        new = new.with_(duration=int(duration))
    return apply(tl, ClipChange(f"change {tr.kind}", (tr,), (new,)))


# ------------------------------------------------------------------ markers


_MARKER_FIELDS = ("frame", "duration", "name", "color", "note")


def _check_marker(m: Marker) -> Marker:
    for f in ("frame", "duration"):
        v = getattr(m, f)
        try:
            if isinstance(v, bool):
                raise TypeError
            m = m.with_(**{f: operator.index(v)})
        except TypeError:
            raise EditError(f"a marker's {f} is a whole number of frames, not {v!r}") from None
        if getattr(m, f) < 0:
            raise EditError(f"a marker's {f} must not be negative ({v})")
    for f in ("name", "color", "note"):
        if not isinstance(getattr(m, f), str):
            raise EditError(f"a marker's {f} is text, not {getattr(m, f)!r}")
    if not m.color:
        raise EditError("a marker needs a colour")
    return m


def add_marker(tl: Timeline, frame: int, name: str = "", color: str = "red", duration: int = 0,
               note: str = "") -> ClipChange:
    (mid,) = next_ids(tl, 1, Marker)
    m = _check_marker(Marker(mid, tl.sequence_id, frame, duration, name, color, note))
    return apply(tl, ClipChange(f"add marker {name}".rstrip(), (), (m,)))


def _marker(tl: Timeline, marker_id: int) -> Marker:
    m = tl.markers.get(marker_id)
    if m is None:
        raise EditError(f"marker #{marker_id} is not on this timeline")
    return m


def update_marker(tl: Timeline, marker_id: int, **fields) -> ClipChange:
    m = _marker(tl, marker_id)
    bad = set(fields) - set(_MARKER_FIELDS)
    if bad:
        raise EditError(f"a marker has no {', '.join(sorted(bad))} (it has {', '.join(_MARKER_FIELDS)})")
    new = _check_marker(m.with_(**fields))
    return apply(tl, ClipChange(f"change marker {m.name}".rstrip(), (m,), (new,)))


def remove_marker(tl: Timeline, marker_id: int) -> ClipChange:
    m = _marker(tl, marker_id)
    return apply(tl, ClipChange(f"remove marker {m.name}".rstrip(), (m,), ()))


# ------------------------------------------------------------------ tracks


TRACK_FLAGS = ("muted", "locked", "hidden", "solo")
_FLAG_VERBS = {"muted": "mute", "locked": "lock", "hidden": "hide", "solo": "solo"}


def track_state(tl: Timeline, track_id: int, flag: str, value: bool) -> ClipChange:
    """Mute, lock, hide or solo a track (a Track row update; possible on a locked track too)."""
    if flag not in TRACK_FLAGS:
        raise EditError(f"unknown track state {flag!r} (one of {', '.join(TRACK_FLAGS)})")
    track = tl.track(track_id)
    verb = _FLAG_VERBS[flag]
    return apply(tl, ClipChange(f"{verb if value else 'un' + verb} {track.name}", (track,),
                                (track.with_(**{flag: bool(value)}),)))


def set_track_flag(tl: Timeline, track_id: int, flag: str, value: bool) -> bool:
    """Like :func:`track_state`; returns the previous value (for undo)."""
    if flag not in TRACK_FLAGS:
        raise EditError(f"unknown track state {flag!r} (one of {', '.join(TRACK_FLAGS)})")
    old = bool(getattr(tl.track(track_id), flag))
    track_state(tl, track_id, flag, value)
    return old


def add_track(tl: Timeline, kind: str, name: str | None = None) -> ClipChange:
    """A new video or audio track above the others of its kind."""
    if kind not in ("video", "audio"):
        raise EditError(f"a track is 'video' or 'audio', not {kind!r}")
    same = [t for t in tl.tracks if t.kind == kind]
    if name is None:
        taken = {t.name for t in tl.tracks}
        n = len(same) + 1
        while f"{kind[0].upper()}{n}" in taken:
            n += 1
        name = f"{kind[0].upper()}{n}"
    (tid,) = next_ids(tl, 1, Track)
    track = Track(tid, tl.sequence_id, kind, max((t.position for t in same), default=-1) + 1, str(name))
    return apply(tl, ClipChange(f"add track {track.name}", (), (track,)))


def remove_track(tl: Timeline, track_id: int) -> ClipChange:
    """Remove an empty track; the tracks above it move down one place."""
    track = tl.track(track_id)
    if tl.clips_on(track_id):
        raise EditError(f"track {track.name} still has clips; remove them first")
    if track.locked:
        raise EditError(f"track {track.name} is locked")
    above = [t for t in tl.tracks if t.kind == track.kind and t.position > track.position]
    return apply(tl, ClipChange(f"remove track {track.name}", (track, *above),
                                tuple(t.with_(position=t.position - 1) for t in above)))


# ------------------------------------------------------------------ snapping


def snap(tl: Timeline, frame: int, threshold: int, exclude: Iterable[int] = (), playhead: bool = True,
         markers: bool = True, beats: bool = False) -> int:
    """The nearest snap point within ``threshold`` frames, else ``frame``.

    Snap points: clip edges (but not those of the clips in ``exclude``), the playhead,
    markers (start and end) and, with ``beats``, the beats of the project tempo map."""
    excluded = set(exclude)
    points = {0}
    for c in tl.clips.values():
        if c.id not in excluded:
            points.update((c.start, c.end))
    if playhead:
        points.add(tl.playhead)
    if markers:
        for m in tl.markers.values():
            points.update((m.frame, m.frame + m.duration))
    if beats:
        tempo = project_tempo_map(tl.project)
        points.update(beat_frames(tempo, tl.rate, max(0, int(frame) - threshold), int(frame) + threshold + 1))
    best = min(points, key=lambda p: (abs(p - frame), p))
    return best if abs(best - frame) <= threshold else int(frame)
