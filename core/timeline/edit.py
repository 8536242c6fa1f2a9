"""Timeline edit operations.

Each operation computes a :class:`ClipChange` (the clip rows before and after),
validates it (no overlaps on a track, locked tracks untouched, clips inside
their source media) and applies it in ONE transaction. The same change object,
inverted, undoes it exactly (ids are kept), which is what the GUI's undo
commands use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable, Sequence as Seq

from core.errors import EditError
from core.timeline.model import Clip, Timeline


@dataclass(frozen=True)
class ClipChange:
    label: str
    before: tuple[Clip, ...]  # rows as they were (removed or modified)
    after: tuple[Clip, ...]   # rows as they become (added or modified)

    def inverted(self) -> "ClipChange":
        return ClipChange(self.label, self.after, self.before)

    @property
    def touched(self) -> set[int]:
        return {c.id for c in self.before} | {c.id for c in self.after}

    @property
    def empty(self) -> bool:
        return set(self.before) == set(self.after)


_HIGH_WATER = "clip_id_high_water"


def _next_ids(tl: Timeline, count: int) -> list[int]:
    """Fresh clip ids, never reused (analysis results and undo may still name a deleted clip)."""
    base = tl.project.query("SELECT COALESCE(MAX(id), 0) FROM clips")[0][0]
    high = int(tl.project.get_meta(_HIGH_WATER, "0") or 0)
    base = max(base, high)
    return list(range(base + 1, base + 1 + count))


def validate(tl: Timeline, change: ClipChange) -> None:
    removed = {c.id for c in change.before}
    for c in change.before + change.after:
        track = tl.track(c.track_id)
        if track.locked:
            raise EditError(f"track {track.name} is locked")
    by_track: dict[int, list[Clip]] = {}
    for c in change.after:
        if c.duration < 1:
            raise EditError(f"clip {c.name or c.id} would be shorter than one frame")
        if c.start < 0:
            raise EditError(f"clip {c.name or c.id} would start before the beginning of the sequence")
        if c.source_in < 0:
            raise EditError(f"clip {c.name or c.id} would start before the beginning of its media")
        if c.source_in + c.duration > tl.media_frames(c.media_id):
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


def apply(tl: Timeline, change: ClipChange) -> ClipChange:
    """Validate and write a change in one transaction, then refresh the timeline."""
    if change.empty:
        return change
    validate(tl, change)
    p = tl.project
    with p.transaction(change.label):
        ids = [c.id for c in change.before]
        if ids:
            p.conn.executemany("DELETE FROM clips WHERE id = ?", [(i,) for i in ids])
        p.conn.executemany(
            "INSERT OR REPLACE INTO clips(id, track_id, media_id, start, duration, source_in, name) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(c.id, c.track_id, c.media_id, c.start, c.duration, c.source_in, c.name) for c in change.after],
        )
        if change.after:
            high = max(int(p.get_meta(_HIGH_WATER, "0") or 0), max(c.id for c in change.after))
            p.set_meta(_HIGH_WATER, str(high))
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


TRACK_FLAGS = ("muted", "locked", "hidden")


def set_track_flag(tl: Timeline, track_id: int, flag: str, value: bool) -> bool:
    """Mute, lock or hide a track in one transaction; returns the previous value (for undo)."""
    if flag not in TRACK_FLAGS:
        raise EditError(f"unknown track state {flag!r} (one of {', '.join(TRACK_FLAGS)})")
    track = tl.track(track_id)
    old = bool(getattr(track, flag))
    if old != bool(value):
        verb = {"muted": "mute", "locked": "lock", "hidden": "hide"}[flag]
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
