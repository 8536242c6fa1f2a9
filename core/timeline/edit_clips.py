"""Clip operations: add, insert, overwrite, move, trim, ripple, roll, slip, slide, split,
delete, lift, extract (clips and ranges) and speed.

Each builds its whole change (mostly through a :class:`~core.timeline.change._Draft`)
and applies it once (see core.timeline.change). Clip keyframes count from the
clip's start, so whatever moves a clip's in point (trim, roll, slide, blade,
overwrite) shifts them to keep them on the same source moments. ``source_in``
is a whole frame: on a retimed clip an in point that falls between source
frames rounds down to the frame on screen. Public names are re-exported by
core.timeline.edit.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from typing import Iterable, Sequence as Seq

from core.errors import EditError
from core.timeline import keyframes
from core.timeline.change import (ClipChange, _check_transition, _clip, _clips, _Draft, _label, _next_ids,
                                  apply)
from core.timeline.model import Clip, Timeline, Track, props_text


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
