"""Structure operations: transitions, markers, tracks and track states, and snapping.
Public names are re-exported by core.timeline.edit.
"""

from __future__ import annotations

import operator
from typing import Iterable

from core.audio.tempo import beat_frames, project_tempo_map
from core.errors import EditError
from core.timeline import props
from core.timeline.change import ClipChange, _clips, _Draft, _label, apply, next_ids
from core.timeline.model import Marker, Timeline, Track, Transition


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
