"""The render cache: encoded video segments kept beside the project, reused when nothing changed.

A sequence render (core.render.sequence_render) is cut into segments; each
segment's file is stored under a key that hashes (sha256) everything its
pictures depend on:

* the render engine: a cache format number, Luma's version, PyAV/FFmpeg
  versions and a fingerprint of the source of the modules that draw and
  encode frames (core/render, core/timeline, core/media), so an upgrade or a
  code change never serves stale pictures;
* what is global to every frame: the sequence's rate, size and properties
  (sequence filters) and every video track's position, hidden/solo flags and
  properties (track filters; solo on one track changes what all show);
* what is local to the segment: the clips on video tracks whose span, widened
  by the transitions they take part in (clip A plays on past its end, clip B
  starts early), overlaps the sequence frames the segment shows, with their
  media's stored content hash, size and modification time; the transitions
  that overlap those frames;
* the files filters read (a LUT's ``path``): path, size, modification time;
* the profile (:meth:`RenderProfile.to_dict`), the output frame bounds of the
  segment and its output rate.

So rendering an unchanged range again reuses every segment, and an edit
re-renders only the segments whose frames it can change. Audio is rendered
once per render and never cached (it is cheap next to pictures).

Where: ``<project stem>.luma-cache/render/`` next to the project file, one
``<key>.<ext>`` file per segment. Size: bounded by ``max_bytes`` (default
5 GB; a project may store another bound in its meta table under
``render_cache_bytes``); after a render the least recently used files
(oldest modification time: a reused segment is touched) are deleted until
the folder fits, never the files the render just used. Deleting the folder
is always safe.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterable

import av

from core import __version__
from core.errors import LumaError, MediaError
from core.timeline.model import Timeline

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
DEFAULT_MAX_BYTES = 5 * 1000**3
META_MAX_BYTES = "render_cache_bytes"

_FINGERPRINT_DIRS = ("render", "timeline", "media")
_fingerprint: str | None = None


def runtime_versions() -> str:
    """Luma's, PyAV's and the FFmpeg libraries' versions (what a remote worker must match)."""
    libs = ",".join(f"{k}={'.'.join(map(str, v))}" for k, v in sorted(av.library_versions.items()))
    return f"luma {__version__}, PyAV {av.__version__}, {libs}"


def engine_fingerprint() -> str:
    """Hash of the versions (:func:`runtime_versions`) and the source of the drawing code."""
    global _fingerprint
    if _fingerprint is None:
        h = hashlib.sha256()
        h.update(f"{CACHE_FORMAT}|{runtime_versions()}|".encode())
        core = Path(__file__).resolve().parent.parent
        for sub in _FINGERPRINT_DIRS:
            for path in sorted((core / sub).glob("*.py")):
                h.update(path.name.encode())
                h.update(path.read_bytes())
        _fingerprint = h.hexdigest()
    return _fingerprint


def _row(obj) -> dict:
    return {k: (str(v) if isinstance(v, Fraction) else v) for k, v in obj.__dict__.items()}


@dataclass(frozen=True)
class MediaStamp:
    """What identifies a media file's content: stored hash, size and modification time."""

    media_id: int
    name: str
    path: Path
    content_hash: str
    size: int
    mtime_ns: int

    def key(self) -> list:
        return [self.content_hash, self.size, self.mtime_ns]


def media_stamps(timeline: Timeline, media_ids: Iterable[int]) -> dict[int, MediaStamp]:
    """Stamps of the given media; MediaError naming the file when one is missing."""
    out: dict[int, MediaStamp] = {}
    project = timeline.project
    for mid in sorted(set(media_ids)):
        row = project.query("SELECT name, path, content_hash FROM media WHERE id = ?", (mid,))
        if not row:
            raise MediaError(f"media #{mid} used on the timeline is not in {project.path.name}")
        name, stored, chash = row[0]
        path = project.absolute_path(stored)
        try:
            st = path.stat()
        except OSError:
            raise MediaError(f"{name}: media file missing ({path}); relink it before rendering") from None
        out[mid] = MediaStamp(mid, name, path, chash or "", st.st_size, st.st_mtime_ns)
    return out


def clip_reach(timeline: Timeline) -> dict[int, tuple[int, int]]:
    """[first, end) sequence frames each video clip can appear on, transitions included."""
    reach = {c.id: (c.start, c.end) for c in timeline.clips.values()}
    for tr in timeline.transitions.values():
        first, end = timeline.transition_span(tr)
        if tr.clip_a in reach:
            s, e = reach[tr.clip_a]
            reach[tr.clip_a] = (s, max(e, end))
        if tr.clip_b in reach:
            s, e = reach[tr.clip_b]
            reach[tr.clip_b] = (min(s, first), e)
    return reach


def filter_files(timeline: Timeline, props: Iterable[dict]) -> list:
    """[path, size, mtime] of the files filter stacks read (a LUT's ``path``), so that editing
    such a file re-renders what uses it; relative paths are from the project folder."""
    out = []
    folder = timeline.project.folder
    for p in props:
        for f in p.get("filters", []) or []:
            params = f.get("params", {}) if isinstance(f, dict) else {}
            for name, value in (params.items() if isinstance(params, dict) else ()):
                if name != "path" or not isinstance(value, str) or not value:
                    continue
                path = (folder / value).resolve()
                try:
                    st = path.stat()
                    out.append([str(path), st.st_size, st.st_mtime_ns])
                except OSError:
                    out.append([str(path), None, None])
    return out


def global_state(timeline: Timeline) -> dict:
    """What every frame depends on: sequence picture settings and the video tracks."""
    seq = timeline.sequence
    tracks = timeline.video_tracks()
    return {
        "sequence": {"rate": str(seq.rate), "width": seq.width, "height": seq.height, "props": seq.props},
        "tracks": [{k: v for k, v in _row(t).items() if k not in ("name", "locked", "muted")} for t in tracks],
        "files": filter_files(timeline, [seq.properties] + [t.properties for t in tracks]),
    }


def range_items(timeline: Timeline, first: int, end: int) -> tuple[list, list]:
    """(clips, transitions) on video tracks that can show in sequence frames [first, end)."""
    video = {t.id for t in timeline.video_tracks()}
    reach = clip_reach(timeline)
    clips = sorted((c for c in timeline.clips.values()
                    if c.track_id in video and reach[c.id][0] < end and reach[c.id][1] > first),
                   key=lambda c: c.id)
    transitions = []
    for tr in sorted(timeline.transitions.values(), key=lambda t: t.id):
        if tr.track_id not in video or tr.clip_b not in timeline.clips:
            continue
        s, e = timeline.transition_span(tr)
        if s < end and e > first:
            transitions.append(tr)
    return clips, transitions


def segment_state(timeline: Timeline, first: int, end: int, stamps: dict[int, MediaStamp],
                  engine: str | None = None) -> dict:
    """Everything the pictures of sequence frames [first, end) depend on (see the module doc);
    ``engine``: the fingerprint to use (default: this process's :func:`engine_fingerprint`)."""
    clips, transitions = range_items(timeline, first, end)
    return {
        "engine": engine or engine_fingerprint(),
        **global_state(timeline),
        "clips": [{**{k: v for k, v in _row(c).items() if k != "name"}, "media": stamps[c.media_id].key()}
                  for c in clips],
        "transitions": [_row(t) for t in transitions],
        "clip_files": filter_files(timeline, [c.properties for c in clips]),
    }


def segment_key(state: dict, profile: dict, out_start: int, out_end: int, out_rate: Fraction) -> str:
    """The cache key of one segment: sha256 of its state, the profile and its output bounds."""
    payload = {"state": state, "profile": profile, "bounds": [int(out_start), int(out_end)],
               "rate": str(Fraction(out_rate))}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def cache_folder(project_path: str | os.PathLike) -> Path:
    p = Path(project_path)
    return p.parent / f"{p.stem}.luma-cache" / "render"


class RenderCache:
    """Segment files by key in ``folder`` (see the module doc)."""

    def __init__(self, folder: str | os.PathLike, max_bytes: int = DEFAULT_MAX_BYTES):
        self.folder = Path(folder)
        self.max_bytes = int(max_bytes)

    @classmethod
    def for_project(cls, project, max_bytes: int | None = None) -> "RenderCache":
        """The cache of an open project (bound: ``max_bytes``, else the project's setting, else 5 GB)."""
        if max_bytes is None:
            stored = project.get_meta(META_MAX_BYTES)
            try:
                max_bytes = int(stored) if stored else DEFAULT_MAX_BYTES
            except ValueError:
                raise LumaError(f"{project.path.name}: the render cache size {stored!r} is not a number "
                                "of bytes") from None
        return cls(cache_folder(project.path), max_bytes)

    def path(self, key: str, suffix: str) -> Path:
        return self.folder / f"{key}{suffix}"

    def ensure(self) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LumaError(f"cannot create the render cache {self.folder} ({exc.strerror or exc})") from exc

    def get(self, key: str, suffix: str) -> Path | None:
        """The cached file for ``key`` (its use time refreshed), or None."""
        p = self.path(key, suffix)
        try:
            if p.stat().st_size <= 0:
                return None
            os.utime(p)
        except OSError:
            return None
        return p

    def files(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return [p for p in self.folder.iterdir() if p.is_file() and ".part" not in p.name]

    def total_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.files())

    def trim(self, keep: Iterable[Path] = ()) -> list[Path]:
        """Delete least recently used files until the folder fits ``max_bytes``; never ``keep``."""
        kept = {Path(p).resolve() for p in keep}
        entries = []
        for p in self.files():
            try:
                st = p.stat()
            except OSError:
                continue
            entries.append((st.st_mtime_ns, st.st_size, p))
        total = sum(e[1] for e in entries)
        removed = []
        for _, size, p in sorted(entries, key=lambda e: e[0]):
            if total <= self.max_bytes:
                break
            if p.resolve() in kept:
                continue
            try:
                p.unlink()
            except OSError as exc:
                log.warning("render cache: cannot delete %s: %s", p, exc)
                continue
            total -= size
            removed.append(p)
        return removed

    def clear(self) -> None:
        for p in self.files():
            p.unlink(missing_ok=True)


def scratch_folder(out: Path) -> Path:
    """A private folder beside ``out`` for the segments of a render that bypasses the cache."""
    return out.parent / f".{out.stem}.segments-{uuid.uuid4().hex[:8]}"
