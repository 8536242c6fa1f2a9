"""Tracking sessions in the project file: one subject followed through one media file.

A session (table ``track_sessions``) belongs to a media row and tracks one
subject over an inclusive frame range of that media's *source* frames. What is
stored (schema v3, :mod:`core.project.migrations`):

* ``track_keyframes`` — boxes the user fixed: the seed box the session started
  from (``source='seed'``) and every correction (``'user'``). A keyframe's row
  is written with the keyframe and no tracking pass ever writes it.
* ``track_rows`` — one row per tracked frame (primary key ``(session, frame)``,
  so a frame can never have two rows). A lost frame keeps the last known box
  with ``lost=1``, like ``TRACK.json``.
* ``track_passes`` — the tracking still to do: from keyframe ``origin`` in one
  ``direction`` up to ``stop`` (inclusive), with ``cursor`` the last frame
  already written. :class:`~core.vision.session_job.TrackJob` works them off.

Ownership rule: every open interval between two neighbouring keyframes (and
the two tails) is written by exactly one pass, the one of the NEWEST keyframe
next to it. A new keyframe at ``f`` between keyframes ``p`` and ``n`` takes
over the whole interval ``(p, n)``: the passes that covered it are dropped
(done or not) and two new ones re-track ``f+1 .. n-1`` forward and
``f-1 .. p+1`` backward. Rows at other keyframes are never touched. So the
final rows depend only on the keyframes and the order they were set in, not
on when the tracking ran or how often it was interrupted. Until a pass
re-writes them the old rows stay visible.

Smoothing (One-Euro or Savitzky-Golay, :mod:`core.vision.smoothing`) is a
*view*: the settings live in the session (``smoothing`` JSON) and
:func:`track_result` applies them on read; the raw rows are never changed, so
smoothing can be switched off or re-tuned at any time and never moves a
keyframe.

Status: ``not_started`` (only the seed row), ``in_progress`` (passes left;
``note='cancelled'`` after a cancel), ``complete`` (no passes left),
``failed`` (``error`` says why; the rows written so far are kept and running
the job again retries from the checkpoint).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from core.project.media_store import get_media
from core.project.project import Project, now_iso
from core.vision.types import TrackPoint, TrackResult, VisionError

__all__ = [
    "STATUSES", "Keyframe", "TrackPass", "TrackSession", "create_session", "get_session", "list_sessions",
    "delete_session", "keyframes", "passes", "tracked_ranges", "row_arrays", "track_result", "write_rows",
    "add_keyframe", "move_keyframe", "remove_keyframe", "set_smoothing",
]

STATUSES = ("not_started", "in_progress", "complete", "failed")
DEFAULT_BATCH = 25

_SESSION_COLUMNS = ("id, media_id, subject, tracker, params, batch, smoothing, status, error, note, start_frame, "
                    "first_frame, last_frame, checkpoint_frame, checkpoint_back, created_at, updated_at")


@dataclass(frozen=True)
class Keyframe:
    frame: int
    box: tuple[float, float, float, float]
    source: str  # 'seed' | 'user'


@dataclass(frozen=True)
class TrackPass:
    id: int
    origin: int
    direction: int  # +1 forward, -1 backward
    stop: int  # last frame it writes (inclusive)
    cursor: int | None  # last frame written so far

    @property
    def position(self) -> int:
        """The frame whose row (re-)initialises the tracker for the next batch."""
        return self.origin if self.cursor is None else self.cursor

    @property
    def remaining(self) -> int:
        return abs(self.stop - self.position)


@dataclass
class TrackSession:
    id: int
    media_id: int
    subject: str
    tracker: str
    params: dict[str, Any]
    batch: int
    smoothing: dict[str, Any] | None
    status: str
    error: str | None
    note: str
    start_frame: int
    first_frame: int
    last_frame: int
    checkpoint_frame: int | None
    checkpoint_back: int | None
    created_at: str
    updated_at: str
    keyframes: list[Keyframe] = field(default_factory=list)

    @property
    def frame_count(self) -> int:
        return self.last_frame - self.first_frame + 1


# ------------------------------------------------------------------ validation

def _box(box: Sequence[float], what: str = "box") -> tuple[float, float, float, float]:
    try:
        values = tuple(float(v) for v in np.asarray(box, np.float64).reshape(-1))
    except (TypeError, ValueError):
        raise VisionError(f"the {what} must be four numbers [x1, y1, x2, y2]") from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise VisionError(f"the {what} must be four finite numbers [x1, y1, x2, y2], got {list(values)}")
    x1, y1, x2, y2 = values
    if x2 <= x1 or y2 <= y1:
        raise VisionError(f"the {what} {[round(v, 1) for v in values]} has no area (x2 <= x1 or y2 <= y1)")
    return values


def _session_row(project: Project, session_id: int) -> tuple:
    rows = project.query(f"SELECT {_SESSION_COLUMNS} FROM track_sessions WHERE id = ?", (int(session_id),))
    if not rows:
        raise VisionError(f"tracking session #{session_id} is not in this project")
    return rows[0]


def _from_row(row: tuple) -> TrackSession:
    (sid, mid, subject, tracker, params, batch, smoothing, status, error, note, start, first, last,
     ck_f, ck_b, created, updated) = row
    return TrackSession(sid, mid, subject, tracker, json.loads(params or "{}"), int(batch),
                        json.loads(smoothing) if smoothing else None, status, error, note or "", start, first,
                        last, ck_f, ck_b, created, updated)


# ------------------------------------------------------------------ sessions

def create_session(project: Project, media_id: int, box: Sequence[float], frame: int, tracker: str = "csrt",
                   params: dict[str, Any] | None = None, subject: str = "",
                   frames: tuple[int, int] | None = None, batch: int = DEFAULT_BATCH,
                   smoothing: dict[str, Any] | None = None) -> int:
    """A new session seeded with ``box`` at ``frame``; tracks ``frames`` (inclusive, default the whole clip).

    Nothing is tracked yet: run :class:`~core.vision.session_job.TrackJob`.
    """
    record = get_media(project, media_id)
    if record.info.video is None:
        raise VisionError(f"{record.name}: no video stream to track in")
    count = int(record.info.video.frame_count)
    first, last = (0, count - 1) if frames is None else (int(frames[0]), int(frames[1]))
    if not 0 <= first <= last < count:
        raise VisionError(f"{record.name}: frames {first}-{last} are outside the clip (frames 0-{count - 1})")
    frame = int(frame)
    if not first <= frame <= last:
        raise VisionError(f"the start frame {frame} is outside the range to track ({first}-{last})")
    if int(batch) < 1:
        raise VisionError("the batch size must be at least 1 frame")
    seed = _box(box, "start box")
    params = dict(params or {})
    try:
        params_json = json.dumps(params, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise VisionError(f"tracker parameters must be plain values ({exc})") from None
    if smoothing is not None:
        from core.vision.smoothing import check_spec
        smoothing = check_spec(smoothing)
    now = now_iso()
    with project.transaction(f"track {subject or record.name}"):
        cur = project.execute(
            "INSERT INTO track_sessions(media_id, subject, tracker, params, batch, smoothing, status, start_frame, "
            "first_frame, last_frame, checkpoint_frame, checkpoint_back, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'not_started', ?, ?, ?, ?, ?, ?, ?)",
            (int(media_id), subject, tracker, params_json, int(batch),
             json.dumps(smoothing) if smoothing else None, frame, first, last, frame, frame, now, now))
        sid = int(cur.lastrowid)
        _put_keyframe(project, sid, frame, seed, "seed")
        if frame < last:
            _add_pass(project, sid, frame, 1, last)
        if frame > first:
            _add_pass(project, sid, frame, -1, first)
        if frame == first == last:
            project.execute("UPDATE track_sessions SET status = 'complete' WHERE id = ?", (sid,))
    return sid


def get_session(project: Project, session_id: int) -> TrackSession:
    session = _from_row(_session_row(project, session_id))
    session.keyframes = keyframes(project, session.id)
    return session


def list_sessions(project: Project, media_id: int | None = None) -> list[TrackSession]:
    """Every session (of one media file), oldest first."""
    where, args = ("WHERE media_id = ?", (int(media_id),)) if media_id is not None else ("", ())
    rows = project.query(f"SELECT {_SESSION_COLUMNS} FROM track_sessions {where} ORDER BY id", args)
    sessions = [_from_row(r) for r in rows]
    for s in sessions:
        s.keyframes = keyframes(project, s.id)
    return sessions


def delete_session(project: Project, session_id: int) -> None:
    _session_row(project, session_id)
    with project.transaction("delete track"):
        project.execute("DELETE FROM track_sessions WHERE id = ?", (int(session_id),))


def set_smoothing(project: Project, session_id: int, smoothing: dict[str, Any] | None) -> None:
    """Store the smoothing applied on read (None switches it off). Raw rows are not changed."""
    from core.vision.smoothing import check_spec

    _session_row(project, session_id)
    spec = check_spec(smoothing) if smoothing else None
    with project.transaction("smooth track"):
        project.execute("UPDATE track_sessions SET smoothing = ?, updated_at = ? WHERE id = ?",
                        (json.dumps(spec) if spec else None, now_iso(), int(session_id)))


# ------------------------------------------------------------------ reading

def keyframes(project: Project, session_id: int) -> list[Keyframe]:
    rows = project.query("SELECT frame, x1, y1, x2, y2, source FROM track_keyframes WHERE session_id = ? "
                         "ORDER BY frame", (int(session_id),))
    return [Keyframe(int(f), (x1, y1, x2, y2), src) for f, x1, y1, x2, y2, src in rows]


def passes(project: Project, session_id: int) -> list[TrackPass]:
    rows = project.query("SELECT id, origin, direction, stop, cursor FROM track_passes WHERE session_id = ? "
                         "ORDER BY id", (int(session_id),))
    return [TrackPass(*r) for r in rows]


def tracked_ranges(project: Project, session_id: int) -> list[tuple[int, int]]:
    """The contiguous frame ranges that have rows, as inclusive ``(first, last)`` pairs."""
    rows = project.query(
        "SELECT MIN(frame), MAX(frame) FROM (SELECT frame, frame - ROW_NUMBER() OVER (ORDER BY frame) AS grp "
        "FROM track_rows WHERE session_id = ?) GROUP BY grp ORDER BY 1", (int(session_id),))
    return [(int(a), int(b)) for a, b in rows]


def row_arrays(project: Project, session_id: int) -> dict[str, np.ndarray]:
    """The raw stored rows as arrays: ``frame`` int64 [N], ``box`` float64 [N, 4] (NaN: no box),
    ``confidence`` float64 [N], ``lost`` bool [N], ``keypoints`` object [N] (JSON text or None)."""
    rows = project.query("SELECT frame, x1, y1, x2, y2, confidence, lost, keypoints FROM track_rows "
                         "WHERE session_id = ? ORDER BY frame", (int(session_id),))
    n = len(rows)
    if not n:
        return {"frame": np.zeros(0, np.int64), "box": np.zeros((0, 4)), "confidence": np.zeros(0),
                "lost": np.zeros(0, bool), "keypoints": np.zeros(0, object)}
    cols = list(zip(*rows))
    box = np.array([cols[1], cols[2], cols[3], cols[4]], dtype=np.float64).T  # None -> nan
    return {"frame": np.asarray(cols[0], np.int64), "box": box, "confidence": np.asarray(cols[5], np.float64),
            "lost": np.asarray(cols[6], bool), "keypoints": np.asarray(cols[7], object)}


def track_result(project: Project, session_id: int, smoothed: bool = True) -> TrackResult:
    """The session as a :class:`TrackResult`: one entry per frame of its range.

    Frames not tracked (yet) have no box and are flagged lost. With
    ``smoothed`` the session's smoothing settings are applied (keyframes stay put).
    """
    session = get_session(project, session_id)
    record = get_media(project, session.media_id)
    video = record.info.video
    arrays = row_arrays(project, session_id)
    boxes = arrays["box"]
    if smoothed and session.smoothing and len(boxes):
        from core.vision.smoothing import smooth_boxes

        kf = np.array([k.frame for k in session.keyframes], np.int64)
        boxes = smooth_boxes(arrays["frame"], boxes, arrays["lost"], kf, session.smoothing, float(video.rate))
    by_frame = {int(f): i for i, f in enumerate(arrays["frame"])}
    points = []
    for f in range(session.first_frame, session.last_frame + 1):
        i = by_frame.get(f)
        if i is None:
            points.append(TrackPoint(f, None, 0.0, True))
            continue
        b = boxes[i]
        bbox = None if np.isnan(b).any() else tuple(float(v) for v in b)
        kp = arrays["keypoints"][i]
        points.append(TrackPoint(f, bbox, float(arrays["confidence"][i]), bool(arrays["lost"][i]) or bbox is None,
                                 json.loads(kp) if kp else None))
    return TrackResult(record.name, float(video.rate), (int(video.width), int(video.height)), session.tracker, points)


# ------------------------------------------------------------------ writing

def write_rows(project: Project, session_id: int, frames: Sequence[int], boxes: Any,
               confidences: Sequence[float], lost: Sequence[bool], keypoints: Sequence[Any] | None = None) -> None:
    """Insert or replace rows (inside the caller's transaction if there is one).

    ``boxes`` is [N, 4] with NaN rows for "no box". Rows at keyframes are
    refused: a keyframe's row is its box.
    """
    frames = [int(f) for f in frames]
    boxes = np.asarray(boxes, np.float64).reshape(len(frames), 4)
    kf = {k.frame for k in keyframes(project, session_id)}
    hit = kf.intersection(frames)
    if hit:
        raise VisionError(f"frames {sorted(hit)} are keyframes: change a keyframe with move_keyframe")
    kps = keypoints if keypoints is not None else [None] * len(frames)
    data = []
    for f, b, c, lo, kp in zip(frames, boxes, confidences, lost, kps):
        vals = (None,) * 4 if np.isnan(b).any() else tuple(float(v) for v in b)
        kp_json = None if kp is None else json.dumps(np.asarray(kp, np.float64).tolist())
        data.append((int(session_id), f, *vals, float(c), int(bool(lo)), kp_json))
    with project.transaction("write track rows", notify=False):
        project.conn.executemany(
            "INSERT OR REPLACE INTO track_rows(session_id, frame, x1, y1, x2, y2, confidence, lost, keypoints) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", data)


def _put_keyframe(project: Project, sid: int, frame: int, box: tuple, source: str) -> None:
    project.execute(
        "INSERT INTO track_keyframes(session_id, frame, x1, y1, x2, y2, source, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(session_id, frame) DO UPDATE SET "
        "x1 = excluded.x1, y1 = excluded.y1, x2 = excluded.x2, y2 = excluded.y2",
        (sid, frame, *box, source, now_iso()))
    project.execute("INSERT OR REPLACE INTO track_rows(session_id, frame, x1, y1, x2, y2, confidence, lost, keypoints) "
                    "VALUES (?, ?, ?, ?, ?, ?, 1.0, 0, NULL)", (sid, frame, *box))


def _add_pass(project: Project, sid: int, origin: int, direction: int, stop: int) -> None:
    project.execute("INSERT INTO track_passes(session_id, origin, direction, stop, cursor) VALUES (?, ?, ?, ?, NULL)",
                    (sid, origin, direction, stop))


def _neighbours(project: Project, sid: int, frame: int) -> tuple[int | None, int | None]:
    prev = project.query("SELECT MAX(frame) FROM track_keyframes WHERE session_id = ? AND frame < ?", (sid, frame))
    nxt = project.query("SELECT MIN(frame) FROM track_keyframes WHERE session_id = ? AND frame > ?", (sid, frame))
    return prev[0][0], nxt[0][0]


def _drop_passes_between(project: Project, sid: int, prev: int | None, nxt: int | None, frame: int) -> None:
    """Drop every pass that writes into the open interval (prev, nxt): from prev forward, nxt backward, frame."""
    if prev is not None:
        project.execute("DELETE FROM track_passes WHERE session_id = ? AND origin = ? AND direction = 1", (sid, prev))
    if nxt is not None:
        project.execute("DELETE FROM track_passes WHERE session_id = ? AND origin = ? AND direction = -1", (sid, nxt))
    project.execute("DELETE FROM track_passes WHERE session_id = ? AND origin = ?", (sid, frame))


def _refresh_status(project: Project, sid: int) -> None:
    left = project.query("SELECT COUNT(*) FROM track_passes WHERE session_id = ?", (sid,))[0][0]
    project.execute("UPDATE track_sessions SET status = ?, error = NULL, note = '', updated_at = ? WHERE id = ?",
                    ("in_progress" if left else "complete", now_iso(), sid))


def add_keyframe(project: Project, session_id: int, frame: int, box: Sequence[float]) -> None:
    """A user correction: ``box`` is right at ``frame``.

    In one transaction: the keyframe and its row are written, and the frames
    up to the neighbouring keyframes (or the range ends) are queued for
    re-tracking away from it. Run the :class:`TrackJob` to re-track them.
    """
    session = _from_row(_session_row(project, session_id))
    frame = int(frame)
    if not session.first_frame <= frame <= session.last_frame:
        raise VisionError(f"frame {frame} is outside the tracked range ({session.first_frame}-{session.last_frame})")
    fixed = _box(box)
    sid = session.id
    with project.transaction(f"correct track at frame {frame}"):
        prev, nxt = _neighbours(project, sid, frame)
        _drop_passes_between(project, sid, prev, nxt, frame)
        old = project.query("SELECT source FROM track_keyframes WHERE session_id = ? AND frame = ?", (sid, frame))
        _put_keyframe(project, sid, frame, fixed, old[0][0] if old else "user")
        fwd_stop = session.last_frame if nxt is None else nxt - 1
        back_stop = session.first_frame if prev is None else prev + 1
        if fwd_stop > frame:
            _add_pass(project, sid, frame, 1, fwd_stop)
        if back_stop < frame:
            _add_pass(project, sid, frame, -1, back_stop)
        _refresh_status(project, sid)


def remove_keyframe(project: Project, session_id: int, frame: int) -> None:
    """Forget the keyframe at ``frame``; the frames between its neighbours are re-tracked
    forward from the previous keyframe (or backward from the next one when it was the first)."""
    session = _from_row(_session_row(project, session_id))
    frame, sid = int(frame), session.id
    if not project.query("SELECT 1 FROM track_keyframes WHERE session_id = ? AND frame = ?", (sid, frame)):
        raise VisionError(f"frame {frame} is not a keyframe of this track")
    with project.transaction(f"remove track keyframe {frame}"):
        prev, nxt = _neighbours(project, sid, frame)
        if prev is None and nxt is None:
            raise VisionError("a track needs at least one keyframe: delete the track instead")
        _drop_passes_between(project, sid, prev, nxt, frame)
        project.execute("DELETE FROM track_keyframes WHERE session_id = ? AND frame = ?", (sid, frame))
        if prev is not None:
            _add_pass(project, sid, prev, 1, session.last_frame if nxt is None else nxt - 1)
        else:
            _add_pass(project, sid, nxt, -1, session.first_frame)
        _refresh_status(project, sid)


def move_keyframe(project: Project, session_id: int, frame: int, box: Sequence[float],
                  to_frame: int | None = None) -> None:
    """Change a keyframe's box (and optionally its frame) in one undoable step."""
    if not project.query("SELECT 1 FROM track_keyframes WHERE session_id = ? AND frame = ?",
                         (int(session_id), int(frame))):
        raise VisionError(f"frame {frame} is not a keyframe of this track: use add_keyframe for a correction")
    with project.transaction("move track keyframe"):
        if to_frame is not None and int(to_frame) != int(frame):
            add_keyframe(project, session_id, int(to_frame), box)
            remove_keyframe(project, session_id, frame)
        else:
            add_keyframe(project, session_id, frame, box)
