"""Roto objects in the project file: keyframed mattes propagated through a media file.

A roto object (table ``roto_objects``, schema v4 in
:mod:`core.project.migrations`) belongs to one media row and covers an
inclusive range of its source frames. What is stored:

* ``roto_keyframes`` — frames the user fixed: by a prompt (box / +- points,
  segmented by the object's backend), by editing the Bezier shape (the shape
  JSON is kept and its rasterisation is the matte) or by a given matte. Every
  change gives the keyframe a new ``rev``.
* ``roto_masks`` — PNG-compressed uint8 mattes, per ``(frame, direction)``:
  direction 0 is a keyframe's own matte, +1 a matte propagated forward from
  the keyframe before it, -1 backward from the keyframe after it. Each row
  records the keyframe (``origin``) and revision (``origin_rev``) it came
  from, so a stale matte is recognised and dropped whenever keyframes change.
* ``roto_passes`` — propagation still to do, from a keyframe in one direction
  to the frame before the next keyframe (or the range end), with a cursor:
  :class:`core.vision.roto_job.RotoJob` works them off in batches, each
  committed in one transaction with its cursor.

Which matte a frame shows (:func:`matte`): a keyframe's own; between two
keyframes the forward and backward results blended with
:func:`core.vision.propagate.direction_weight` (the backward one alone near
the next keyframe, the forward one near the previous); in the tails before
the first / after the last keyframe the one direction there is.

:func:`replan` is the single rule that keeps passes and mattes consistent:
for every keyframe it keeps the mattes that came from its current revision
and are contiguous from it, drops every other propagated matte, and queues a
pass from the last kept frame on. So the stored result depends only on the
keyframes, never on when propagation ran or how often it was interrupted.

Shapes (``roto_objects.shapes``) are the Bezier animation fitted from the
mattes, cached as :class:`~core.vision.roto_model.RotoAnimation` JSON and
cleared whenever a matte changes; :func:`animation` fits them when missing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

import cv2
import numpy as np

from core.project.media_store import get_media
from core.project.project import Project, now_iso
from core.vision.roto_model import RotoAnimation, Spline, rasterize_splines
from core.vision.segment import Prompt
from core.vision.types import VisionError

__all__ = [
    "RotoObject", "RotoKeyframe", "RotoPass", "create_object", "track_for_prompt", "get_object", "find_object", "list_objects",
    "delete_object", "rename_object", "object_ids", "set_object_options", "keyframes", "keyframe", "passes", "set_keyframe",
    "restore_keyframe", "remove_keyframe", "replan", "matte", "mask_frames", "encode_matte", "decode_matte",
    "animation", "keyframe_shape", "KeyframeState", "matte_source", "iter_mattes", "shape_matte", "editable_shape",
]

DEFAULT_BATCH = 10


@dataclass(frozen=True)
class RotoKeyframe:
    frame: int
    source: str  # 'prompt' | 'shape' | 'matte'
    prompt: Prompt | None
    shape: list[Spline] | None
    rev: int


@dataclass(frozen=True)
class RotoPass:
    id: int
    origin: int
    direction: int
    stop: int
    cursor: int | None

    @property
    def position(self) -> int:
        return self.origin if self.cursor is None else self.cursor

    @property
    def remaining(self) -> int:
        return abs(self.stop - self.position)


@dataclass
class RotoObject:
    id: int
    media_id: int
    name: str
    backend: str
    params: dict[str, Any]
    propagation: dict[str, Any]
    track_session_id: int | None
    first_frame: int
    last_frame: int
    batch: int
    feather_inner: float
    feather_outer: float
    tolerance: float
    point_count: int | None
    smoothing: float
    status: str
    error: str | None
    note: str
    keyframes: list[RotoKeyframe] = field(default_factory=list)

    @property
    def frame_count(self) -> int:
        return self.last_frame - self.first_frame + 1


_COLUMNS = ("id, media_id, name, backend, params, propagation, track_session_id, first_frame, last_frame, batch, "
            "feather_inner, feather_outer, tolerance, point_count, smoothing, status, error, note")


def _from_row(row: tuple) -> RotoObject:
    (oid, mid, name, backend, params, prop, tsid, first, last, batch, fi, fo, tol, pc, sm, status, error,
     note) = row
    return RotoObject(oid, mid, name, backend, json.loads(params or "{}"), json.loads(prop or "{}"), tsid, first,
                      last, batch, fi, fo, tol, pc, sm, status, error, note or "")


def _row(project: Project, object_id: int) -> tuple:
    rows = project.query(f"SELECT {_COLUMNS} FROM roto_objects WHERE id = ?", (int(object_id),))
    if not rows:
        raise VisionError(f"roto object #{object_id} is not in this project")
    return rows[0]


# ------------------------------------------------------------------ mattes <-> blobs

def encode_matte(matte: np.ndarray) -> bytes:
    m = np.asarray(matte)
    if m.ndim != 2 or m.dtype != np.uint8:
        raise VisionError(f"a matte must be a uint8 [H, W] array, got {m.dtype} {m.shape}")
    ok, buf = cv2.imencode(".png", m, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise VisionError("cannot compress the matte")
    return buf.tobytes()


def decode_matte(blob: bytes) -> np.ndarray:
    m = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_UNCHANGED)
    if m is None or m.ndim != 2:
        raise VisionError("a stored matte is damaged (not a grey PNG)")
    return m


# ------------------------------------------------------------------ objects

def _json(value: Any, what: str) -> str:
    try:
        return json.dumps(value or {}, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise VisionError(f"{what} must be plain values ({exc})") from None


def create_object(project: Project, media_id: int, name: str, frames: tuple[int, int] | None = None,
                  backend: str = "classic", params: dict | None = None, propagation: dict | None = None,
                  track_session_id: int | None = None, batch: int = DEFAULT_BATCH) -> int:
    """A new, empty roto object on ``media_id`` covering ``frames`` (inclusive; default the whole clip)."""
    record = get_media(project, media_id)
    if record.info.video is None:
        raise VisionError(f"{record.name}: no video stream to rotoscope")
    name = str(name).strip()
    if not name:
        raise VisionError("a roto object needs a name")
    count = int(record.info.video.frame_count)
    first, last = (0, count - 1) if frames is None else (int(frames[0]), int(frames[1]))
    if not 0 <= first <= last < count:
        raise VisionError(f"{record.name}: frames {first}-{last} are outside the clip (frames 0-{count - 1})")
    if int(batch) < 1:
        raise VisionError("the batch size must be at least 1 frame")
    if project.query("SELECT 1 FROM roto_objects WHERE media_id = ? AND name = ?", (int(media_id), name)):
        raise VisionError(f"{record.name} already has a roto object named {name!r}")
    if track_session_id is not None and not project.query("SELECT 1 FROM track_sessions WHERE id = ? AND media_id = ?",
                                                          (int(track_session_id), int(media_id))):
        raise VisionError(f"tracking session #{track_session_id} is not a track of {record.name}")
    now = now_iso()
    with project.transaction(f"new roto object {name}"):
        cur = project.execute(
            "INSERT INTO roto_objects(media_id, name, backend, params, propagation, track_session_id, first_frame, "
            "last_frame, batch, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (int(media_id), name, str(backend), _json(params, "segmenter options"),
             _json(propagation, "propagation options"), track_session_id, first, last, int(batch), now, now))
        return int(cur.lastrowid)


def track_for_prompt(project: Project, media_id: int, frame: int, prompt: Prompt) -> int | None:
    """The tracking session of ``media_id`` whose (found) box at ``frame`` holds the prompt's centre, the
    newest first: its boxes then bound the object's propagation. None when no track covers it."""
    if prompt.box is not None:
        x, y = (prompt.box[0] + prompt.box[2]) / 2, (prompt.box[1] + prompt.box[3]) / 2
    else:
        x, y = prompt.positive.mean(axis=0)
    rows = project.query(
        "SELECT s.id FROM track_sessions s JOIN track_rows r ON r.session_id = s.id AND r.frame = ? "
        "WHERE s.media_id = ? AND r.lost = 0 AND r.x1 <= ? AND ? <= r.x2 AND r.y1 <= ? AND ? <= r.y2 "
        "ORDER BY s.id DESC LIMIT 1", (int(frame), int(media_id), float(x), float(x), float(y), float(y)))
    return int(rows[0][0]) if rows else None


def get_object(project: Project, object_id: int) -> RotoObject:
    obj = _from_row(_row(project, object_id))
    obj.keyframes = keyframes(project, obj.id)
    return obj


def find_object(project: Project, name: str, media_id: int | None = None) -> RotoObject:
    """The object called ``name`` (or with id ``#N`` / ``N``); ambiguous names need ``media_id``."""
    text = str(name).strip()
    if text.lstrip("#").isdigit():
        rows = project.query("SELECT id FROM roto_objects WHERE id = ?", (int(text.lstrip("#")),))
        if rows:
            return get_object(project, rows[0][0])
    where, args = "name = ?", [text]
    if media_id is not None:
        where += " AND media_id = ?"
        args.append(int(media_id))
    rows = project.query(f"SELECT id FROM roto_objects WHERE {where} ORDER BY id", tuple(args))
    if not rows:
        known = ", ".join(repr(o.name) for o in list_objects(project)) or "none"
        raise VisionError(f"no roto object named {text!r} in this project (objects: {known})")
    if len(rows) > 1:
        raise VisionError(f"several media have a roto object named {text!r}: use its id (#N) instead")
    return get_object(project, rows[0][0])


def object_ids(project: Project, media_id: int) -> list[int]:
    """The ids of a media file's roto objects, oldest first."""
    return [int(r[0]) for r in project.query("SELECT id FROM roto_objects WHERE media_id = ? ORDER BY id",
                                             (int(media_id),))]


def list_objects(project: Project, media_id: int | None = None) -> list[RotoObject]:
    where, args = ("WHERE media_id = ?", (int(media_id),)) if media_id is not None else ("", ())
    out = [_from_row(r) for r in project.query(f"SELECT {_COLUMNS} FROM roto_objects {where} ORDER BY id", args)]
    for o in out:
        o.keyframes = keyframes(project, o.id)
    return out


def delete_object(project: Project, object_id: int) -> None:
    obj = get_object(project, object_id)
    with project.transaction(f"delete roto object {obj.name}"):
        project.execute("DELETE FROM roto_objects WHERE id = ?", (obj.id,))


def rename_object(project: Project, object_id: int, name: str) -> None:
    obj = get_object(project, object_id)
    name = str(name).strip()
    if not name:
        raise VisionError("a roto object needs a name")
    if project.query("SELECT 1 FROM roto_objects WHERE media_id = ? AND name = ? AND id != ?",
                     (obj.media_id, name, obj.id)):
        raise VisionError(f"another roto object is already named {name!r}")
    with project.transaction(f"rename roto object to {name}"):
        project.execute("UPDATE roto_objects SET name = ?, shapes = NULL, updated_at = ? WHERE id = ?",
                        (name, now_iso(), obj.id))


_OPTION_COLUMNS = {"feather_inner": float, "feather_outer": float, "tolerance": float, "point_count": int,
                   "smoothing": float, "backend": str, "batch": int}


def set_object_options(project: Project, object_id: int, **options) -> None:
    """Change shape options (feather, tolerance, point count, smoothing) or the prompt backend."""
    obj = get_object(project, object_id)
    sets, args = [], []
    for key, value in options.items():
        if key not in _OPTION_COLUMNS:
            raise VisionError(f"unknown roto option {key!r} (known: {', '.join(sorted(_OPTION_COLUMNS))})")
        value = None if value is None and key == "point_count" else _OPTION_COLUMNS[key](value)
        if key in ("feather_inner", "feather_outer", "smoothing") and value < 0:
            raise VisionError(f"{key.replace('_', ' ')} must not be negative")
        if key == "tolerance" and value <= 0:
            raise VisionError("the fit tolerance must be more than 0 pixels")
        if key in ("point_count",) and value is not None and value < 3:
            raise VisionError("a shape needs at least 3 points")
        if key == "batch" and value < 1:
            raise VisionError("the batch size must be at least 1 frame")
        sets.append(f"{key} = ?")
        args.append(value)
    if not sets:
        return
    with project.transaction(f"roto options {obj.name}"):
        project.execute(f"UPDATE roto_objects SET {', '.join(sets)}, shapes = NULL, updated_at = ? WHERE id = ?",
                        (*args, now_iso(), obj.id))


# ------------------------------------------------------------------ keyframes

def _splines_json(shape: Sequence[Spline]) -> str:
    return json.dumps([s.to_dict() for s in shape])


def _keyframe_from_row(frame, source, prompt, shape, rev) -> RotoKeyframe:
    return RotoKeyframe(int(frame), source, Prompt.from_dict(json.loads(prompt)) if prompt else None,
                        [Spline.from_dict(d) for d in json.loads(shape)] if shape else None, int(rev))


def keyframes(project: Project, object_id: int) -> list[RotoKeyframe]:
    rows = project.query("SELECT frame, source, prompt, shape, rev FROM roto_keyframes WHERE object_id = ? "
                         "ORDER BY frame", (int(object_id),))
    return [_keyframe_from_row(*r) for r in rows]


def keyframe(project: Project, object_id: int, frame: int) -> RotoKeyframe | None:
    rows = project.query("SELECT frame, source, prompt, shape, rev FROM roto_keyframes WHERE object_id = ? AND "
                         "frame = ?", (int(object_id), int(frame)))
    return _keyframe_from_row(*rows[0]) if rows else None


def passes(project: Project, object_id: int) -> list[RotoPass]:
    rows = project.query("SELECT id, origin, direction, stop, cursor FROM roto_passes WHERE object_id = ? "
                         "ORDER BY id", (int(object_id),))
    return [RotoPass(*r) for r in rows]


@dataclass(frozen=True)
class KeyframeState:
    """Everything about one keyframe, to put it back exactly (undo)."""

    frame: int
    source: str
    prompt: str | None
    shape: str | None
    png: bytes


def _state(project: Project, object_id: int, frame: int) -> KeyframeState | None:
    rows = project.query(
        "SELECT k.source, k.prompt, k.shape, m.png FROM roto_keyframes k JOIN roto_masks m ON m.object_id = "
        "k.object_id AND m.frame = k.frame AND m.direction = 0 WHERE k.object_id = ? AND k.frame = ?",
        (int(object_id), int(frame)))
    return KeyframeState(int(frame), *rows[0]) if rows else None


def set_keyframe(project: Project, object_id: int, frame: int, matte: np.ndarray, *, prompt: Prompt | None = None,
                 shape: Sequence[Spline] | None = None) -> KeyframeState | None:
    """Fix the matte at ``frame`` (from a prompt, an edited shape, or as given) and queue re-propagation.

    Returns the keyframe's previous state (None when there was none), for undo.
    """
    obj = _from_row(_row(project, object_id))
    frame = int(frame)
    if not obj.first_frame <= frame <= obj.last_frame:
        raise VisionError(f"frame {frame} is outside the roto range ({obj.first_frame}-{obj.last_frame})")
    record = get_media(project, obj.media_id)
    size = (int(record.info.video.height), int(record.info.video.width))
    m = np.asarray(matte)
    if m.shape != size or m.dtype != np.uint8:
        raise VisionError(f"the matte is {m.dtype} {m.shape}, the clip needs uint8 {size}")
    if not np.any(m >= 128):
        raise VisionError(f"frame {frame}: the matte is empty; nothing to rotoscope there")
    source = "shape" if shape is not None else ("prompt" if prompt is not None else "matte")
    prompt_json = json.dumps(prompt.to_dict()) if prompt is not None else None
    shape_json = _splines_json(shape) if shape is not None else None
    with project.transaction(f"roto key {obj.name} @ {frame}"):
        old = _state(project, obj.id, frame)
        _write_keyframe(project, obj.id, frame, source, prompt_json, shape_json, encode_matte(m))
        replan(project, obj.id)
    return old


def _write_keyframe(project: Project, oid: int, frame: int, source: str, prompt: str | None, shape: str | None,
                    png: bytes) -> None:
    rev = project.query("SELECT next_rev FROM roto_objects WHERE id = ?", (oid,))[0][0]
    project.execute("UPDATE roto_objects SET next_rev = next_rev + 1, shapes = NULL, updated_at = ? WHERE id = ?",
                    (now_iso(), oid))
    project.execute(
        "INSERT OR REPLACE INTO roto_keyframes(object_id, frame, source, prompt, shape, rev, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)", (oid, frame, source, prompt, shape, rev, now_iso()))
    area = int(np.count_nonzero(decode_matte(png) >= 128))
    project.execute("DELETE FROM roto_masks WHERE object_id = ? AND frame = ?", (oid, frame))
    project.execute("INSERT INTO roto_masks(object_id, frame, direction, origin, origin_rev, png, area) "
                    "VALUES (?, ?, 0, ?, ?, ?, ?)", (oid, frame, frame, rev, png, area))


def restore_keyframe(project: Project, object_id: int, frame: int, state: KeyframeState | None) -> None:
    """Put a keyframe back as it was (``state`` from :func:`set_keyframe`), or remove it when ``state`` is None."""
    with project.transaction(f"restore roto key @ {frame}"):
        if state is None:
            project.execute("DELETE FROM roto_keyframes WHERE object_id = ? AND frame = ?",
                            (int(object_id), int(frame)))
            project.execute("DELETE FROM roto_masks WHERE object_id = ? AND frame = ? AND direction = 0",
                            (int(object_id), int(frame)))
            project.execute("UPDATE roto_objects SET shapes = NULL WHERE id = ?", (int(object_id),))
        else:
            _write_keyframe(project, int(object_id), int(frame), state.source, state.prompt, state.shape, state.png)
        replan(project, int(object_id))


def remove_keyframe(project: Project, object_id: int, frame: int) -> KeyframeState:
    """Forget the keyframe at ``frame``; its neighbours' propagation takes the frames over. Returns its state."""
    state = _state(project, object_id, frame)
    if state is None:
        raise VisionError(f"frame {frame} is not a keyframe of this roto object")
    restore_keyframe(project, object_id, frame, None)
    return state


def keyframe_shape(project: Project, object_id: int, frame: int) -> list[Spline] | None:
    k = keyframe(project, object_id, frame)
    return k.shape if k is not None else None


# ------------------------------------------------------------------ planning

def replan(project: Project, object_id: int) -> None:
    """Make passes and propagated mattes agree with the keyframes (inside the caller's transaction).

    For each keyframe and direction: the owned frames run from the keyframe to
    the frame before the next keyframe (or the range end). Propagated mattes
    of that direction there that came from this keyframe's current revision
    and are contiguous from it are kept; every other propagated matte is
    deleted; a pass continues after the last kept frame.
    """
    oid = int(object_id)
    obj = _from_row(_row(project, oid))
    keys = [(k.frame, k.rev) for k in keyframes(project, oid)]
    with project.transaction("plan roto propagation", notify=False):
        project.execute("DELETE FROM roto_passes WHERE object_id = ?", (oid,))
        stored = project.query("SELECT frame, direction, origin, origin_rev FROM roto_masks WHERE object_id = ? AND "
                               "direction != 0", (oid,))
        have = {(f, d): (o, r) for f, d, o, r in stored}
        keep: set[tuple[int, int]] = set()
        for i, (kf, rev) in enumerate(keys):
            for d in (1, -1):
                if d > 0:
                    stop = keys[i + 1][0] - 1 if i + 1 < len(keys) else obj.last_frame
                else:
                    stop = keys[i - 1][0] + 1 if i > 0 else obj.first_frame
                if (stop - kf) * d <= 0:
                    continue
                cursor = None
                f = kf + d
                while (stop - f) * d >= 0 and have.get((f, d)) == (kf, rev):
                    keep.add((f, d))
                    cursor = f
                    f += d
                if cursor != stop:
                    project.execute("INSERT INTO roto_passes(object_id, origin, direction, stop, cursor) "
                                    "VALUES (?, ?, ?, ?, ?)", (oid, kf, d, stop, cursor))
        stale = [(oid, f, d) for (f, d) in have if (f, d) not in keep]
        if stale:
            project.conn.executemany("DELETE FROM roto_masks WHERE object_id = ? AND frame = ? AND direction = ?",
                                     stale)
            project.execute("UPDATE roto_objects SET shapes = NULL WHERE id = ?", (oid,))
        left = project.query("SELECT COUNT(*) FROM roto_passes WHERE object_id = ?", (oid,))[0][0]
        status = "empty" if not keys else ("in_progress" if left else "complete")
        project.execute("UPDATE roto_objects SET status = ?, error = NULL, note = '', updated_at = ? WHERE id = ?",
                        (status, now_iso(), oid))


# ------------------------------------------------------------------ reading mattes

def _neighbour_keys(project: Project, oid: int, frame: int) -> tuple[int | None, int | None]:
    row = project.query("SELECT (SELECT MAX(frame) FROM roto_keyframes WHERE object_id = ?1 AND frame < ?2), "
                        "(SELECT MIN(frame) FROM roto_keyframes WHERE object_id = ?1 AND frame > ?2)",
                        (oid, int(frame)))[0]
    return row[0], row[1]


def matte(project: Project, object_id: int, frame: int) -> np.ndarray | None:
    """The object's uint8 matte at ``frame`` (see the module docstring), or None where there is none yet."""
    oid, frame = int(object_id), int(frame)
    rows = project.query("SELECT direction, png FROM roto_masks WHERE object_id = ? AND frame = ?", (oid, frame))
    if not rows:
        return None
    by_dir = {d: blob for d, blob in rows}
    if 0 in by_dir:
        return decode_matte(by_dir[0])
    if len(by_dir) == 1:
        return decode_matte(next(iter(by_dir.values())))
    from core.vision.propagate import blend, direction_weight

    prev, nxt = _neighbour_keys(project, oid, frame)
    w = direction_weight(frame, prev, nxt)
    return blend(decode_matte(by_dir[1]), decode_matte(by_dir[-1]), w)


def mask_frames(project: Project, object_id: int) -> list[int]:
    """Frames that have a matte, ascending."""
    rows = project.query("SELECT DISTINCT frame FROM roto_masks WHERE object_id = ? ORDER BY frame",
                         (int(object_id),))
    return [int(r[0]) for r in rows]


def iter_mattes(project: Project, object_id: int,
                frames: Sequence[int] | None = None) -> Iterator[tuple[int, np.ndarray]]:
    for f in (mask_frames(project, object_id) if frames is None else frames):
        m = matte(project, object_id, f)
        if m is not None:
            yield f, m


def matte_source(project: Project, object_id: int):
    """The object's mattes for a PNG/EXR export: every frame that has one, feathered when the object says so."""
    from core.vision.roto_export import MatteSource

    obj = get_object(project, object_id)
    video = get_media(project, obj.media_id).info.video
    frames = mask_frames(project, obj.id)
    if not frames:
        raise VisionError(f"{obj.name}: no mattes yet: add a keyframe and propagate first")

    def one(frame: int) -> np.ndarray:
        m = matte(project, obj.id, frame)
        if m is None:
            raise VisionError(f"{obj.name}: frame {frame} lost its matte during the export")
        if obj.feather_inner > 0 or obj.feather_outer > 0:
            from core.vision.shapes import feather_matte

            soft = feather_matte(m >= 128, obj.feather_inner, obj.feather_outer)
            m = np.clip(np.round(soft * 255), 0, 255).astype(np.uint8)
        return m

    return MatteSource(frames, one, int(video.width), int(video.height))


# ------------------------------------------------------------------ shapes

def animation(project: Project, object_id: int, progress: Callable[[float, str], None] | None = None,
              store: bool = True) -> RotoAnimation:
    """The object's Bezier animation: the cached fit, or fitted now from the mattes (and cached)."""
    obj = get_object(project, object_id)
    cached = project.query("SELECT shapes FROM roto_objects WHERE id = ?", (obj.id,))[0][0]
    if cached:
        return RotoAnimation.from_json(cached)
    from core.vision.shapes import animation_from_mattes

    record = get_media(project, obj.media_id)
    video = record.info.video
    frames = mask_frames(project, obj.id)
    # the user's edited shapes are kept exactly (their largest spline: the object's main outline)
    locked = {k.frame: max(k.shape, key=lambda sp: abs(_area(sp.sample(4)))) for k in obj.keyframes
              if k.source == "shape" and k.shape}
    total = max(1, len(frames))

    def mattes() -> Iterator[np.ndarray]:
        for i, f in enumerate(frames):
            if progress:
                progress(i / total, f"fitting shapes: frame {f}")
            m = matte(project, obj.id, f)
            yield m if m is not None else np.zeros((video.height, video.width), np.uint8)

    anim = animation_from_mattes(obj.name, frames, mattes(), int(video.width), int(video.height), video.rate,
                                 tolerance=obj.tolerance, point_count=obj.point_count,
                                 smoothing=obj.smoothing or None, feather=(obj.feather_inner, obj.feather_outer),
                                 locked_frames=locked)
    anim.source = record.name
    if store and frames:
        with project.transaction("fit roto shapes", notify=False):
            project.execute("UPDATE roto_objects SET shapes = ? WHERE id = ?", (anim.to_json(indent=None), obj.id))
    if progress:
        progress(1.0, "shapes fitted")
    return anim


def editable_shape(project: Project, object_id: int, frame: int, min_area: int = 64) -> list[Spline] | None:
    """The shape to edit at ``frame``: a 'shape' keyframe's own splines, else splines fitted to the
    frame's matte (its filled regions, largest first), or None when the frame has no matte."""
    k = keyframe(project, object_id, frame)
    if k is not None and k.shape:
        return list(k.shape)
    m = matte(project, object_id, frame)
    if m is None:
        return None
    from core.vision.shapes import fit_bezier, mask_to_polygons

    obj = _from_row(_row(project, object_id))
    polys = [(p, mode) for p, mode in mask_to_polygons(m) if mode == "add"]
    polys.sort(key=lambda pm: -abs(_area(pm[0])))
    out = [fit_bezier(p, obj.tolerance) for p, _ in polys if abs(_area(p)) >= min_area]
    return out or None


def _area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def shape_matte(shape: Sequence[Spline], width: int, height: int) -> np.ndarray:
    """The hard matte of an edited shape (the keyframe matte of a 'shape' keyframe)."""
    return rasterize_splines(list(shape), width, height)
