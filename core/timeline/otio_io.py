"""Interchange of sequences with other editors through OpenTimelineIO.

:func:`export_timeline` writes a sequence as an OTIO file (``.otio``), an OTIO
bundle with its media (``.otioz``), a CMX 3600 EDL (``.edl``) or Final Cut Pro 7
XML (``.xml``), through OTIO's adapters. :func:`import_timeline` reads any of
them into a NEW sequence of a project, in one transaction.

Mapping (Luma -> OTIO):

* the sequence -> an ``otio.schema.Timeline`` named like it, global start time 0;
* each track -> an ``otio.schema.Track`` (video tracks bottom first, then audio),
  ``enabled`` = not hidden (video) / not muted (audio);
* each clip -> an ``otio.schema.Clip`` with an ``ExternalReference`` (absolute
  file URL, ``available_range`` from the media probe at the media's own rate)
  and ``source_range`` = (source_in, duration) at the sequence rate; empty
  space between clips -> ``otio.schema.Gap``;
* speed -> a ``LinearTimeWarp`` (``time_scalar`` = speed; the exact Fraction in
  its metadata);
* transitions -> ``otio.schema.Transition`` between their two clips:
  ``SMPTE_Dissolve`` for a crossfade, ``Custom_Transition`` for the other kinds,
  ``in_offset`` = duration // 2 and ``out_offset`` = the rest, which is OTIO's
  way of saying what the model says (centred on the cut, clip A plays on past
  its end and clip B starts early from their media handles);
* sequence markers -> markers on the timeline's stack (colour names mapped to
  ``MarkerColor``).

Everything only Luma knows (the exact rate, properties and filters, transition
parameters, track solo/lock/properties, media content hashes, marker colours
OTIO has no name for) goes under ``metadata["luma"]``, so Luma -> OTIO -> Luma
is lossless. Formats that hold less (EDL, FCP XML) are written with what their
adapter accepts and :class:`ExportResult` lists what was left out.

Import relinks media: a reference whose file exists is used (ingested once,
matched by content hash); otherwise a file of the same name (and the same
content hash when the file says which) is looked for in the relink folders, the
interchange file's folder and the project's folder; media still missing stop
the import with a list of them. Rows are written through
:func:`core.timeline.edit.apply`, which validates them; the media rows, the
sequence and all its rows are one transaction, so a failed import writes
nothing.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import shutil
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Iterable

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from core.errors import EditError, LumaError
from core.media.hashing import content_hash
from core.project import media_store
from core.project.project import Project
from core.time import as_rate, frames_to_timecode
from core.timeline import edit, keyframes
from core.timeline import props as props_spec
from core.timeline.model import Clip, Marker, SequenceProps, Timeline, Transition, create_sequence, props_text

LUMA = "luma"
FORMAT_VERSION = 1

#: file suffix -> OTIO adapter
SUFFIX_ADAPTERS = {".otio": "otio_json", ".otioz": "otioz", ".edl": "cmx_3600", ".xml": "fcp_xml"}
ADAPTER_LABELS = {"otio_json": "OpenTimelineIO", "otioz": "OpenTimelineIO bundle", "cmx_3600": "CMX 3600 EDL",
                  "fcp_xml": "Final Cut Pro 7 XML"}

_COLOR_NAMES = ("pink", "red", "orange", "yellow", "green", "cyan", "blue", "purple", "magenta", "black", "white")
#: Luma marker colour name -> otio MarkerColor
MARKER_COLORS = {name: getattr(otio.schema.MarkerColor, name.upper()) for name in _COLOR_NAMES}


@dataclass(frozen=True)
class ExportResult:
    path: Path
    adapter: str
    #: what the format could not hold, one line each (empty when nothing was left out)
    dropped: tuple[str, ...] = ()


@dataclass
class ImportResult:
    sequence_id: int
    name: str
    clips: int = 0
    transitions: int = 0
    markers: int = 0
    #: media id -> file it is linked to
    media: dict[int, Path] = field(default_factory=dict)
    #: what was left out or changed on the way in, one line each
    notes: list[str] = field(default_factory=list)


def adapter_for(path: str | os.PathLike, adapter: str | None = None) -> str:
    """The OTIO adapter for a file: the one given, else the one its suffix names."""
    path = Path(path)
    if adapter is not None:
        if adapter not in ADAPTER_LABELS:
            raise LumaError(f"unknown interchange format {adapter!r} (one of {', '.join(ADAPTER_LABELS)})")
        return adapter
    name = SUFFIX_ADAPTERS.get(path.suffix.lower())
    if name is None:
        raise LumaError(f"{path.name}: unknown interchange format; use .otio, .otioz, .edl (CMX 3600) "
                        f"or .xml (Final Cut Pro 7 XML)")
    return name


def _frac_text(value: Fraction) -> str:
    value = Fraction(value)
    return f"{value.numerator}/{value.denominator}"


@functools.lru_cache(maxsize=64)
def _rate_of(rate: float) -> Fraction:
    """The exact rate an OTIO float rate stands for (29.97002997 -> 30000/1001)."""
    return as_rate(float(rate))


def _seconds(t: RationalTime) -> Fraction:
    return Fraction(t.value) / _rate_of(t.rate)


def _to_frames(seconds: Fraction, rate: Fraction) -> int:
    return math.floor(seconds * rate + Fraction(1, 2))


# ====================================================================== export


def _media_reference_data(project: Project, media_id: int) -> dict:
    rows = project.query("SELECT name, content_hash, kind, probe FROM media WHERE id = ?", (media_id,))
    if not rows:
        raise LumaError(f"media #{media_id} is not in this project")
    name, chash, kind, probe_json = rows[0]
    info = json.loads(probe_json)
    available = None
    video, audio = info.get("video") or {}, info.get("audio") or {}
    if kind == "video" and video:
        mrate = float(Fraction(str(video["rate"])))
        available = TimeRange(RationalTime(0, mrate), RationalTime(int(video["frame_count"]), mrate))
    elif kind == "audio" and audio:
        sr = int(audio["sample_rate"])
        seconds = Fraction(str(audio.get("duration") or info.get("duration") or 0))
        available = TimeRange(RationalTime(0, sr), RationalTime(round(seconds * sr), sr))
    return {"url": media_store.media_path(project, media_id).as_uri(), "name": name, "available": available,
            "meta": {"media_id": media_id, "content_hash": chash, "kind": kind}}


def to_otio(tl: Timeline) -> otio.schema.Timeline:
    """The sequence as an OTIO timeline (everything Luma-specific under ``metadata["luma"]``)."""
    seq = tl.sequence
    rate = float(seq.rate)

    def rt(frames: int) -> RationalTime:
        return RationalTime(frames, rate)

    out = otio.schema.Timeline(name=seq.name, global_start_time=rt(0))
    out.metadata[LUMA] = {"version": FORMAT_VERSION, "sequence_id": seq.id, "rate": _frac_text(seq.rate),
                          "width": seq.width, "height": seq.height, "sample_rate": seq.sample_rate,
                          "in_point": seq.in_point, "out_point": seq.out_point, "props": seq.props}
    media: dict[int, dict] = {}
    for track in tl.tracks:  # video by position (bottom first), then audio
        video = track.kind == "video"
        ot = otio.schema.Track(name=track.name, kind=otio.schema.TrackKind.Video if video
                               else otio.schema.TrackKind.Audio)
        ot.enabled = not (track.hidden if video else track.muted)
        ot.metadata[LUMA] = {"track_id": track.id, "kind": track.kind, "position": track.position,
                             "muted": track.muted, "locked": track.locked, "hidden": track.hidden,
                             "solo": track.solo, "props": track.props}
        clips = tl.clips_on(track.id)
        after = {x.clip_a: x for x in tl.transitions_on(track.id)}
        pos = 0
        for i, c in enumerate(clips):
            if c.start > pos:
                ot.append(otio.schema.Gap(source_range=TimeRange(rt(0), rt(c.start - pos))))
            if c.media_id not in media:
                media[c.media_id] = _media_reference_data(tl.project, c.media_id)
            m = media[c.media_id]
            ref = otio.schema.ExternalReference(target_url=m["url"], available_range=m["available"])
            ref.name = m["name"]
            ref.metadata[LUMA] = dict(m["meta"])
            oc = otio.schema.Clip(name=c.name, media_reference=ref,
                                  source_range=TimeRange(rt(c.source_in), rt(c.duration)))
            oc.metadata[LUMA] = {"clip_id": c.id, "media_id": c.media_id, "props": c.props}
            if c.speed != 1:
                oc.effects.append(otio.schema.LinearTimeWarp(
                    name="Speed", time_scalar=float(c.speed), metadata={LUMA: {"speed": _frac_text(c.speed)}}))
            ot.append(oc)
            pos = c.end
            x = after.get(c.id)
            if x is not None and i + 1 < len(clips) and clips[i + 1].id == x.clip_b:
                dissolve = x.kind == "crossfade"
                ot.append(otio.schema.Transition(
                    name=x.kind,
                    transition_type=(otio.schema.TransitionTypes.SMPTE_Dissolve if dissolve
                                     else otio.schema.TransitionTypes.Custom),
                    in_offset=rt(x.left), out_offset=rt(x.right),
                    metadata={LUMA: {"transition_id": x.id, "kind": x.kind, "params": x.params}}))
        out.tracks.append(ot)
    for m in tl.markers.values():
        out.tracks.markers.append(otio.schema.Marker(
            name=m.name, marked_range=TimeRange(rt(m.frame), rt(m.duration)),
            color=MARKER_COLORS.get(m.color.lower(), otio.schema.MarkerColor.RED), comment=m.note,
            metadata={LUMA: {"marker_id": m.id, "color": m.color}}))
    return out


def _tc(tl: Timeline, frame: int) -> str:
    return frames_to_timecode(frame, tl.rate)


def _names(clips: list[Clip], limit: int = 4) -> str:
    names = [c.name or f"#{c.id}" for c in clips]
    return ", ".join(names[:limit]) + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _edl_timeline(tl: Timeline, full: otio.schema.Timeline) -> tuple[otio.schema.Timeline, list[str]]:
    """The one video track an EDL holds (the top visible one with clips) and what is left out."""
    video = [t for t in tl.video_tracks() if tl.clips_on(t.id)]
    if not video:
        raise LumaError(f"{tl.sequence.name}: no video clips to write into an EDL (it holds one video track)")
    visible = [t for t in video if not t.hidden] or video
    chosen = max(visible, key=lambda t: t.position)
    dropped = []
    for t in tl.tracks:
        clips = tl.clips_on(t.id)
        if t.id != chosen.id and clips:
            why = (f"an EDL holds one video track; {chosen.name} was written" if t.kind == "video"
                   else "the EDL holds the picture track only")
            dropped.append(f"{t.kind} track {t.name} ({len(clips)} clip{'s' if len(clips) > 1 else ''}): {why}")
    for x in tl.transitions_on(chosen.id):
        if x.kind != "crossfade":
            dropped.append(f"{x.kind} transition at {_tc(tl, tl.clips[x.clip_b].start)} on {chosen.name}: "
                           f"written as a dissolve")
    with_props = [c for c in tl.clips_on(chosen.id) if c.properties]
    if with_props:
        dropped.append(f"clip properties and filters of {_names(with_props)}: an EDL has no place for them")
    if tl.markers:
        dropped.append(f"{len(tl.markers)} sequence marker(s)")
    index = [t.id for t in tl.tracks].index(chosen.id)
    track = full.tracks[index].deepcopy()
    track.enabled = True
    for item in track:
        if isinstance(item, otio.schema.Clip):  # reel: the file name without extension, 8 characters
            stem = Path(item.media_reference.name or item.name).stem
            item.metadata["cmx_3600"] = {"reel": re.sub(r"[^A-Za-z0-9]", "", stem)[:8] or "AX"}
    edl = otio.schema.Timeline(name=full.name, global_start_time=full.global_start_time)
    edl.tracks.append(track)
    return edl, dropped


def _fcp_dropped(tl: Timeline) -> list[str]:
    dropped = []
    fast = [c for c in tl.clips.values() if c.speed != 1]
    if fast:
        dropped.append(f"speed of {_names(fast)}: the FCP XML adapter does not write speed changes")
    other = [x for x in tl.transitions.values() if x.kind != "crossfade"]
    if other:
        dropped.append(f"{len(other)} transition(s) other than crossfade "
                       f"({', '.join(sorted({x.kind for x in other}))}): written as cross dissolves")
    with_props = [c for c in tl.clips.values() if c.properties]
    if with_props:
        dropped.append(f"clip properties and filters of {_names(with_props)}")
    states = [t.name for t in tl.tracks if t.muted or t.hidden or t.locked or t.solo or t.properties]
    if states:
        dropped.append(f"track states and properties of {', '.join(states)}")
    if any(m.note or m.color != "red" for m in tl.markers.values()):
        dropped.append("marker colours and notes")
    return dropped


def _write(timeline: otio.schema.Timeline, path: Path, adapter: str, **kwargs) -> None:
    if not path.parent.is_dir():
        raise LumaError(f"{path.parent}: folder does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=".exporting-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if adapter == "otioz":
            tmp.unlink()  # the bundle writer refuses to overwrite
        otio.adapters.write_to_file(timeline, str(tmp), adapter_name=adapter, **kwargs)
        os.replace(tmp, path)
    except Exception as exc:  # the adapters raise anything from OTIOError to KeyError
        tmp.unlink(missing_ok=True)
        raise LumaError(f"{path.name}: could not write {ADAPTER_LABELS[adapter]} ({exc})") from exc


def export_timeline(tl: Timeline, path: str | os.PathLike, adapter: str | None = None) -> ExportResult:
    """Write the sequence to ``path``; the result says what the format could not hold."""
    path = Path(path).resolve()
    name = adapter_for(path, adapter)
    full = to_otio(tl)
    dropped: list[str] = []
    kwargs = {}
    if name == "cmx_3600":
        full, dropped = _edl_timeline(tl, full)
        kwargs["rate"] = float(tl.rate)
    elif name == "fcp_xml":
        dropped = _fcp_dropped(tl)
    _write(full, path, name, **kwargs)
    return ExportResult(path, name, tuple(dropped))


def export_otio(tl: Timeline, path: str | os.PathLike, adapter: str | None = None) -> Path:
    """Write the sequence to ``path`` (format from the suffix unless ``adapter`` names one)."""
    return export_timeline(tl, path, adapter).path


# ====================================================================== import


def _plain(value):
    """OTIO metadata (AnyDictionary / AnyVector) as plain Python."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "__iter__"):
        return [_plain(v) for v in value]
    return None


def _luma(obj) -> dict:
    meta = _plain(obj.metadata.get(LUMA))
    return meta if isinstance(meta, dict) else {}


def read_otio(path: str | os.PathLike, adapter: str | None = None, rate=None,
              extract_to: Path | None = None) -> otio.schema.Timeline:
    """Read an interchange file into an OTIO timeline (the first one when it holds several).

    ``rate``: the frame rate to read an EDL at (default 25); ``extract_to``: an empty
    folder to unpack an ``.otioz`` bundle's media into.
    """
    path = Path(path)
    if not path.is_file():
        raise LumaError(f"{path}: file not found")
    name = adapter_for(path, adapter)
    kwargs = {}
    if name == "fcp_xml":
        import defusedxml.ElementTree as safe_xml

        try:  # refuse entity tricks before the adapter's plain XML parser sees the file
            safe_xml.parse(str(path))
        except (safe_xml.ParseError, ValueError) as exc:
            raise LumaError(f"{path.name}: not a readable Final Cut Pro XML file ({exc})") from exc
    if name == "cmx_3600":
        kwargs["rate"] = float(as_rate(rate if rate is not None else 25))
    if name == "otioz" and extract_to is not None:
        kwargs["extract_to_directory"] = str(extract_to)
    try:
        result = otio.adapters.read_from_file(str(path), adapter_name=name, **kwargs)
    except Exception as exc:  # the adapters raise anything from OTIOError to ValueError on damaged files
        raise LumaError(f"{path.name}: not a readable {ADAPTER_LABELS[name]} file ({exc})") from exc
    if isinstance(result, otio.schema.Timeline):
        return result
    if isinstance(result, otio.schema.SerializableCollection):
        found = list(result.find_children(descended_from_type=otio.schema.Timeline))
        if found:
            return found[0]
    raise LumaError(f"{path.name}: holds no timeline")


# ---------------------------------------------------------------- what the file holds


@dataclass
class _Ref:
    url: str
    name: str
    content_hash: str | None
    clips: list[str]


@dataclass
class _PendingClip:
    track: int  # index into _Source.tracks
    start: int
    duration: int
    source_in: int
    speed: Fraction
    name: str
    url: str
    props: str


@dataclass
class _Source:
    """An OTIO timeline read into sequence frames, before anything is written."""

    rate: Fraction
    meta: dict
    tracks: list[tuple[str, str, dict, bool]] = field(default_factory=list)  # kind, name, luma meta, enabled
    clips: list[_PendingClip] = field(default_factory=list)
    joins: list[tuple[int, int, int, int, otio.schema.Transition]] = field(default_factory=list)  # a, b, in, out
    markers: list[tuple[int, int, otio.schema.Marker]] = field(default_factory=list)  # frame, duration
    refs: dict[str, _Ref] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def tc(self, frame: int) -> str:
        return frames_to_timecode(max(0, frame), self.rate)

    def frames(self, t: RationalTime) -> int:
        return _to_frames(_seconds(t), self.rate)


def _timeline_rate(timeline: otio.schema.Timeline, meta: dict, fallback) -> Fraction:
    exact = meta.get("rate")
    if isinstance(exact, str):
        try:
            return as_rate(exact)
        except LumaError:
            pass
    for track in timeline.tracks:
        for item in track:
            if isinstance(item, (otio.schema.Clip, otio.schema.Gap)) and item.source_range is not None:
                return _rate_of(item.source_range.duration.rate)
    return as_rate(fallback if fallback is not None else 25)


def _check_props(text, specs, what: str, source: str) -> str:
    """Validated canonical props JSON from untrusted metadata (None -> "{}")."""
    if text is None:
        return "{}"
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError as exc:
        raise LumaError(f"{source}: {what} properties are damaged ({exc})") from exc
    if not isinstance(value, dict):
        raise LumaError(f"{source}: {what} properties are not an object")
    try:
        try:
            props_spec.check(value, specs, what)
        except ModuleNotFoundError as exc:
            if exc.name != "core.render.filters":
                raise
            # filter types are registered by the renderer; without it check the stack's shape
            props_spec.check({k: v for k, v in value.items() if k != "filters"}, specs, what)
            _check_filter_shape(value.get("filters", []), what)
    except EditError as exc:
        raise LumaError(f"{source}: {exc}") from exc
    return props_text(value)


def _check_filter_shape(filters, what: str) -> None:
    if not isinstance(filters, list):
        raise EditError(f"{what} filters: expected a list of filters")
    for i, f in enumerate(filters):
        if not isinstance(f, dict) or not isinstance(f.get("type"), str) or not isinstance(f.get("params", {}), dict):
            raise EditError(f"{what} filters[{i}]: a filter is {{'type': ..., 'params': {{...}}}}")
        for name, v in f.get("params", {}).items():
            if not isinstance(v, str):
                keyframes.check(v, f"{f['type']} {name}")


def _speed(oc: otio.schema.Clip, notes: list[str], where: str) -> Fraction:
    speed = Fraction(1)
    for fx in oc.effects:
        if isinstance(fx, otio.schema.LinearTimeWarp):
            scalar = float(fx.time_scalar)
            if scalar <= 0:
                notes.append(f"{where}: {'freeze frame' if scalar == 0 else 'reverse playback'} is not "
                             f"supported; imported at normal speed")
                return Fraction(1)
            exact = _luma(fx).get("speed")
            try:
                value = Fraction(exact) if isinstance(exact, str) else None
            except (ValueError, ZeroDivisionError):
                value = None
            if value is None or value <= 0 or abs(float(value) - scalar) > 1e-9:
                value = Fraction(scalar).limit_denominator(1000)
            speed *= value
        else:
            what = "time effect" if isinstance(fx, otio.schema.TimeEffect) else "effect"
            notes.append(f"{where}: {what} {fx.effect_name or fx.name} is not supported; left out")
    return speed


def _track_offset(track: otio.schema.Track, adapter: str) -> Fraction:
    """Seconds to add to a track's item positions (a trimmed track, an EDL's first record timecode)."""
    if track.source_range is None:
        return Fraction(0)
    offset = -_seconds(track.source_range.start_time)
    if adapter == "cmx_3600" and offset > 0:
        offset -= (offset // 3600) * 3600  # record timecodes count from the hour the EDL starts in
    return offset


def _edl_b_side_url(item: otio.schema.Clip) -> str | None:
    """The incoming clip's file of an EDL dissolve: the cmx_3600 reader gives the B side the outgoing clip's
    ``FROM CLIP`` file and keeps its own ``TO CLIP`` line as a comment."""
    comments = _plain(item.metadata.get("cmx_3600", {})).get("comments") if "cmx_3600" in item.metadata else None
    for line in comments or []:
        m = re.match(r"TO (?:CLIP|FILE):\s*(\S.*?)\s*$", str(line))
        if m:
            return m.group(1)
    return None


def _collect_clip(src: _Source, ti: int, item: otio.schema.Clip, start: int, end: int, where: str,
                  source: str) -> int | None:
    ref = item.media_reference
    if not item.enabled:
        src.notes.append(f"{where}: disabled in the source timeline; left out")
        return None
    if not isinstance(ref, otio.schema.ExternalReference) or not ref.target_url:
        kind = type(ref).__name__ if ref is not None else "no media reference"
        src.notes.append(f"{where}: {kind} (no media file); left out")
        return None
    trimmed = item.trimmed_range()
    offset = _seconds(trimmed.start_time)
    if ref.available_range is not None:
        offset -= _seconds(ref.available_range.start_time)
    chash = _luma(ref).get("content_hash")
    url = _edl_b_side_url(item) or ref.target_url
    r = src.refs.setdefault(url, _Ref(url, _basename(url), chash if isinstance(chash, str) else None, []))
    r.clips.append(item.name or r.name)
    speed = _speed(item, src.notes, where)
    src.clips.append(_PendingClip(
        ti, start, end - start, _to_frames(offset, src.rate), speed, item.name or r.name, url,
        _check_props(_luma(item).get("props"), props_spec.CLIP_PROPS, f"clip {item.name}", source)))
    for m in item.markers:
        frame = start + _to_frames((_seconds(m.marked_range.start_time) - _seconds(trimmed.start_time)) / speed,
                                   src.rate)
        if start <= frame < end:
            src.markers.append((frame, src.frames(m.marked_range.duration), m))
        else:
            src.notes.append(f"marker {m.name!r} on {where}: outside the clip; left out")
    return len(src.clips) - 1


def _collect_track(src: _Source, ti: int, track: otio.schema.Track, label: str, adapter: str,
                   source: str) -> None:
    offset = _track_offset(track, adapter)
    for m in track.markers:
        src.markers.append((_to_frames(_seconds(m.marked_range.start_time) + offset, src.rate),
                            src.frames(m.marked_range.duration), m))
    pos = offset
    prev: int | None = None  # the clip just before (index into src.clips), None after a gap
    waiting: otio.schema.Transition | None = None
    for item in track:
        if isinstance(item, otio.schema.Transition):
            if prev is None:
                src.notes.append(f"{item.name or 'transition'} at {src.tc(_to_frames(pos, src.rate))} on {label}: "
                                 f"needs a clip on both sides; left out")
            else:
                waiting = item
            continue
        length = _seconds(item.duration())
        start, end = _to_frames(pos, src.rate), _to_frames(pos + length, src.rate)
        pos += length
        where = f"{item.name or type(item).__name__} at {src.tc(start)} on {label}"
        current = None
        if isinstance(item, otio.schema.Clip):
            current = _collect_clip(src, ti, item, start, end, where, source)
        elif not isinstance(item, otio.schema.Gap):
            src.notes.append(f"{where}: nested {type(item).__name__} is not supported; left out")
        if waiting is not None:
            if current is not None:
                src.joins.append((prev, current, src.frames(waiting.in_offset), src.frames(waiting.out_offset),
                                  waiting))
            else:
                src.notes.append(f"{waiting.name or 'transition'} at {src.tc(start)} on {label}: needs a clip "
                                 f"on both sides; left out")
            waiting = None
        prev = current


def _collect(timeline: otio.schema.Timeline, source: str, adapter: str, fallback_rate) -> _Source:
    meta = _luma(timeline)
    src = _Source(_timeline_rate(timeline, meta, fallback_rate), meta)
    if timeline.global_start_time is not None and timeline.global_start_time.value and adapter != "cmx_3600":
        src.notes.append(f"the timeline starts at timecode {src.tc(src.frames(timeline.global_start_time))}; "
                         f"the sequence starts at {src.tc(0)}")
    kinds = {otio.schema.TrackKind.Video: "video", otio.schema.TrackKind.Audio: "audio"}
    tracks = []
    for child in timeline.tracks:
        kind = kinds.get(getattr(child, "kind", None))
        if isinstance(child, otio.schema.Track) and kind:
            tracks.append((kind, child))
        else:
            src.notes.append(f"{child.name or type(child).__name__}: only video and audio tracks are imported")
    tracks.sort(key=lambda kt: kt[0] == "audio")  # stable: video bottom first, then audio
    count = {"video": 0, "audio": 0}
    for ti, (kind, track) in enumerate(tracks):
        count[kind] += 1
        name = track.name or f"{kind[0].upper()}{count[kind]}"
        src.tracks.append((kind, name, _luma(track), bool(track.enabled)))
        _collect_track(src, ti, track, name, adapter, source)
    for m in timeline.tracks.markers:
        src.markers.append((src.frames(m.marked_range.start_time), src.frames(m.marked_range.duration), m))
    return src


# ---------------------------------------------------------------- media


def _url_path(url: str, base: Path) -> Path | None:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            return None
        p = Path(urllib.request.url2pathname(parsed.path))
    elif parsed.scheme == "":
        p = Path(urllib.parse.unquote(url))
    else:  # another machine's path (C:\...) or a web address: found by name, if at all
        return None
    return p if p.is_absolute() else base / p


def _basename(url: str) -> str:
    path = urllib.parse.unquote(urllib.parse.urlparse(url).path or url)
    return re.split(r"[\\/]", path)[-1]


class _Finder:
    """Files by name under some folders, walked once."""

    def __init__(self, folders: Iterable[Path], names: set[str]):
        self.folders = [f for f in dict.fromkeys(Path(x).resolve() for x in folders) if f.is_dir()]
        self.found: dict[str, list[Path]] = {}
        for root in self.folders:
            for dirpath, _dirs, files in os.walk(root):
                for fname in files:
                    if fname in names:
                        self.found.setdefault(fname, []).append(Path(dirpath, fname).resolve())

    def find(self, name: str, chash: str | None, hashes: dict[Path, str]) -> Path | None:
        for candidate in self.found.get(name, []):
            if chash is None:
                return candidate
            if candidate not in hashes:
                try:
                    hashes[candidate] = content_hash(candidate)
                except LumaError:
                    continue
            if hashes[candidate] == chash:
                return candidate
        return None


def _find_media(refs: dict[str, _Ref], base: Path, folders: list[Path], hashes: dict[Path, str],
                notes: list[str], source: str) -> dict[str, Path]:
    """The file for every media URL; raises LumaError listing every one that cannot be found."""
    resolved: dict[str, Path] = {}
    wanted: dict[str, _Ref] = {}
    for url, ref in refs.items():
        p = _url_path(url, base)
        if p is not None and p.is_file():
            p = p.resolve()
            resolved[url] = p
            if ref.content_hash is not None:
                hashes.setdefault(p, content_hash(p))
                if hashes[p] != ref.content_hash:
                    wanted[url] = ref  # look for the exported file itself; this one is the fallback
        else:
            wanted[url] = ref
    if not wanted:
        return resolved
    finder = _Finder(folders, {r.name for r in wanted.values()})
    missing = []
    for url, ref in wanted.items():
        found = finder.find(ref.name, ref.content_hash, hashes)
        if found is not None:
            resolved[url] = found
        elif url in resolved:
            notes.append(f"{ref.name}: the file at {resolved[url]} differs from the one that was exported "
                         f"(content hash); linked to it anyway")
        else:
            missing.append(ref)
    if missing:
        lines = "\n".join(f"  {r.name}  (was {r.url}; used by {', '.join(r.clips[:3])}"
                          f"{' ...' if len(r.clips) > 3 else ''})" for r in missing)
        how = "the same name and content" if any(r.content_hash for r in missing) else "the same name"
        looked = ", ".join(str(f) for f in finder.folders)
        raise LumaError(f"{source}: {len(missing)} media file(s) not found:\n{lines}\n"
                        f"Looked for files with {how} in: {looked}.\nAdd the folder that holds them as a relink "
                        f"folder (luma otio-import PROJECT FILE --relink FOLDER).")
    return resolved


def _media_plan(project: Project, files: dict[str, Path], hashes: dict[Path, str]) -> dict[Path, tuple]:
    """Per file: ("id", media id) when the project has it (same content), ("relink", id) when the
    project's copy went missing, else ("add", analysed file). Probing happens here, outside the transaction."""
    plan: dict[Path, tuple] = {}
    for p in dict.fromkeys(files.values()):
        chash = hashes[p] if p in hashes else hashes.setdefault(p, content_hash(p))
        rows = project.query("SELECT id, path FROM media WHERE content_hash = ? ORDER BY id", (chash,))
        here = [mid for mid, stored in rows if project.absolute_path(stored) == p]
        present = [mid for mid, stored in rows if project.absolute_path(stored).is_file()]
        if here or present:
            plan[p] = ("id", (here or present)[0])
        elif rows:
            plan[p] = ("relink", rows[0][0])
        else:
            plan[p] = ("add", media_store.analyse(p))
    return plan


def _sequence_size(project: Project, src: _Source, files: dict[str, Path], plan: dict) -> tuple[int, int]:
    width, height = src.meta.get("width"), src.meta.get("height")
    if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0:
        return width, height
    for c in src.clips:
        if src.tracks[c.track][0] != "video":
            continue
        how, what = plan[files[c.url]]
        if how == "add":
            if what.info.video is not None:
                return what.info.video.width, what.info.video.height
        else:
            video = json.loads(project.query("SELECT probe FROM media WHERE id = ?", (what,))[0][0]).get("video")
            if video:
                return int(video["width"]), int(video["height"])
    return 1920, 1080


# ---------------------------------------------------------------- writing


def _shift_props(text: str, delta: int) -> str:
    """Clip props with every keyframe moved by ``delta`` frames."""
    if not delta or text == "{}":
        return text
    value = json.loads(text)
    for k, v in list(value.items()):
        value[k] = keyframes.shift(v, delta)
    for f in value.get("filters", []):
        f["params"] = {k: keyframes.shift(v, delta) for k, v in f.get("params", {}).items()}
    return props_text(value)


def _transitions(tl: Timeline, src: _Source, clips: list[Clip]) -> list[Transition]:
    """Transition rows for the OTIO transitions between imported clips, re-centred on the cut when needed.

    The model centres a transition on the cut; an OTIO transition may sit anywhere around it (an EDL
    dissolve starts at the cut). Moving the cut by ``duration // 2 - in_offset`` frames shows the same
    frames: clip A plays on into its handle and clip B starts from its handle either way. ``clips`` is
    updated in place.
    """
    out: list[Transition] = []
    ids = edit.next_ids(tl, len(src.joins), Transition)
    for tid, (ia, ib, left, right, ox) in zip(ids, src.joins):
        a, b = clips[ia], clips[ib]
        duration = left + right
        track_kind = src.tracks[src.clips[ia].track][0]
        where = f"{ox.name or 'transition'} at {src.tc(b.start)} on {tl.track(a.track_id).name}"
        if a.end != b.start or duration < 1:
            src.notes.append(f"{where}: its clips do not meet or it has no length; left out")
            continue
        xmeta = _luma(ox)
        kind = "crossfade"
        if ox.transition_type != otio.schema.TransitionTypes.SMPTE_Dissolve:
            if xmeta.get("kind") in props_spec.TRANSITION_KINDS:
                kind = xmeta["kind"]
            else:
                src.notes.append(f"{where}: {ox.transition_type} imported as a crossfade")
        if track_kind == "audio" and kind not in props_spec.AUDIO_TRANSITION_KINDS:
            src.notes.append(f"{where}: audio tracks take crossfades only; {kind} imported as a crossfade")
            kind = "crossfade"
        try:
            params = json.loads(xmeta["params"]) if isinstance(xmeta.get("params"), str) else {}
        except json.JSONDecodeError:
            params = None
        if not isinstance(params, dict):
            src.notes.append(f"{where}: damaged transition parameters; defaults used")
            params = {}
        bad = sorted(k for k, v in params.items() if isinstance(v, bool) or not isinstance(v, (int, float)))
        if bad:  # transition parameters are numbers (softness, ...)
            src.notes.append(f"{where}: parameters {', '.join(bad)} are not numbers; defaults used")
            params = {k: v for k, v in params.items() if k not in bad}
        delta = duration // 2 - left
        na, nb = a, b
        if delta:
            source_in = b.source_in + delta * Fraction(b.speed)
            na = a.with_(duration=a.duration + delta)
            nb = b.with_(start=b.start + delta, duration=b.duration - delta, source_in=math.floor(source_in),
                         props=_shift_props(b.props, -delta))
            if source_in.denominator != 1:
                src.notes.append(f"{where}: clip {b.name} moved by a fraction of a source frame")
        row = Transition(tid, a.track_id, a.id, b.id, kind, duration, props_text(params))
        try:
            if na.duration < 1 or nb.duration < 1:
                raise EditError("it is longer than its clips")
            edit.validate(tl, edit.ClipChange("check", (), (na, nb, row)))
        except EditError as exc:
            src.notes.append(f"{where}: {exc}; left out")
            continue
        if delta:
            src.notes.append(f"{where}: centred on the cut (the cut moved {delta:+d} frames; the same frames show)")
        clips[ia], clips[ib] = na, nb
        out.append(row)
    return out


def _marker_color(m: otio.schema.Marker) -> str:
    """Luma's colour from the metadata unless the OTIO colour was changed since, else OTIO's, lower case."""
    exact = _luma(m).get("color")
    if isinstance(exact, str) and MARKER_COLORS.get(exact.lower(), otio.schema.MarkerColor.RED) == m.color:
        return exact
    return str(m.color).lower() if m.color else "red"


def _flag(meta: dict, key: str, default: bool) -> bool:
    v = meta.get(key)
    return v if isinstance(v, bool) else default


def _unique_name(project: Project, name: str) -> str:
    taken = {n for (n,) in project.query("SELECT name FROM sequences")}
    if name not in taken:
        return name
    i = 2
    while f"{name} ({i})" in taken:
        i += 1
    return f"{name} ({i})"


def _write_sequence(project: Project, src: _Source, files: dict[str, Path], plan: dict, name: str,
                    source: str) -> ImportResult:
    """Media rows, the sequence, its tracks, clips, transitions and markers: one transaction."""
    width, height = _sequence_size(project, src, files, plan)
    sample_rate = src.meta.get("sample_rate") if isinstance(src.meta.get("sample_rate"), int) else 48000
    seq_props = _check_props(src.meta.get("props"), {}, "sequence", source)
    track_props = [_check_props(m.get("props"), props_spec.TRACK_PROPS, f"track {n}", source)
                   for _k, n, m, _e in src.tracks]
    with project.transaction(f"import {source}"):
        media_ids: dict[Path, int] = {}
        for p, (how, what) in plan.items():
            if how == "add":
                media_ids[p] = media_store.add_analysed(project, what).id
                continue
            if how == "relink":
                media_store.relink(project, what, p)
                src.notes.append(f"{p.name}: the project's media row now points at {p}")
            media_ids[p] = what
        n_video = sum(1 for t in src.tracks if t[0] == "video")
        sid = create_sequence(project, name, rate=src.rate, width=width, height=height, video_tracks=n_video,
                              audio_tracks=len(src.tracks) - n_video, sample_rate=sample_rate)
        tl = Timeline(project, sid)
        rows = tl.video_tracks() + tl.audio_tracks()
        before: list = list(rows)
        after: list = []
        for (kind, tname, tmeta, enabled), row, tprops in zip(src.tracks, rows, track_props):
            # "enabled" is what other editors change: it wins over the metadata for hidden (video) / muted (audio)
            after.append(row.with_(name=tname, props=tprops, solo=_flag(tmeta, "solo", False),
                                   muted=not enabled if kind == "audio" else _flag(tmeta, "muted", False),
                                   hidden=not enabled if kind == "video" else _flag(tmeta, "hidden", False)))
        locked = [t for t, (_k, _n, tmeta, _e) in zip(after, src.tracks) if _flag(tmeta, "locked", False)]
        if seq_props != "{}":
            before.append(SequenceProps(sid, tl.sequence.props))
            after.append(SequenceProps(sid, seq_props))
        clips = [Clip(cid, rows[c.track].id, media_ids[files[c.url]], c.start, c.duration, c.source_in, c.name,
                      c.speed, c.props) for cid, c in zip(edit.next_ids(tl, len(src.clips), Clip), src.clips)]
        try:
            transitions = _transitions(tl, src, clips)
            markers = []
            for mid, (frame, duration, m) in zip(edit.next_ids(tl, len(src.markers), Marker), src.markers):
                if frame < 0:
                    src.notes.append(f"marker {m.name!r}: before the start of the sequence; left out")
                    continue
                color = _marker_color(m)
                markers.append(Marker(mid, sid, frame, max(0, duration), m.name or "", color,
                                      str(getattr(m, "comment", "") or "")))
            edit.apply(tl, edit.ClipChange(f"import {source}", tuple(before),
                                           tuple(after) + tuple(clips) + tuple(transitions) + tuple(markers)))
            if locked:  # last: a locked track takes no clips
                edit.apply(tl, edit.ClipChange("lock tracks", tuple(locked),
                                               tuple(t.with_(locked=True) for t in locked)))
            ip, op = src.meta.get("in_point"), src.meta.get("out_point")
            ip = ip if isinstance(ip, int) and ip >= 0 else None
            op = op if isinstance(op, int) and op >= 0 else None
            if ip is not None or op is not None:
                tl.set_in_out(ip, op)
        except EditError as exc:
            raise LumaError(f"{source}: {exc}") from exc
    return ImportResult(sid, name, len(clips), len(transitions), len(markers),
                        {mid: media_store.media_path(project, mid) for mid in media_ids.values()}, src.notes)


def _bundle_folder(project: Project, path: Path) -> Path:
    """A new folder beside the project to unpack an .otioz bundle's media into."""
    i = 1
    while True:
        folder = project.folder / (f"{path.stem} media" + (f" {i}" if i > 1 else ""))
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            i += 1


def import_timeline(project: Project, path: str | os.PathLike, sequence_name: str | None = None,
                    relink_folders: Iterable[str | os.PathLike] = (), rate=None,
                    adapter: str | None = None) -> ImportResult:
    """Read an interchange file into a new sequence of ``project`` (one transaction).

    Media files are found as the module describes (``relink_folders`` first). ``rate``
    is the frame rate to read an EDL at (EDLs do not say; default: the project's
    newest sequence's rate, else 25). An ``.otioz`` bundle's media are unpacked into
    a new folder beside the project. Raises LumaError, writing nothing, when the
    file cannot be read, media are missing or the edit is not valid; the result's
    ``notes`` say what was left out or adjusted.
    """
    path = Path(path).resolve()
    name = adapter_for(path, adapter)
    if name == "cmx_3600" and rate is None:
        last = project.query("SELECT rate_num, rate_den FROM sequences ORDER BY id DESC LIMIT 1")
        rate = Fraction(*last[0]) if last else Fraction(25)
    bundle = _bundle_folder(project, path) if name == "otioz" else None
    try:
        timeline = read_otio(path, name, rate=rate, extract_to=bundle)
        src = _collect(timeline, path.name, name, rate)
        base = bundle or path.parent
        hashes: dict[Path, str] = {}
        files = _find_media(src.refs, base, [Path(f) for f in relink_folders] + [base, project.folder], hashes,
                            src.notes, path.name)
        plan = _media_plan(project, files, hashes)
        seq_name = _unique_name(project, sequence_name or timeline.name or path.stem)
        result = _write_sequence(project, src, files, plan, seq_name, path.name)
    except BaseException:
        if bundle is not None:
            shutil.rmtree(bundle, ignore_errors=True)
        raise
    if bundle is not None and not any(bundle in p.parents for p in result.media.values()):
        shutil.rmtree(bundle, ignore_errors=True)  # the project had every file already
    return result


def import_otio(project: Project, path: str | os.PathLike, sequence_name: str | None = None,
                relink_folders: Iterable[str | os.PathLike] = (), rate=None) -> int:
    """Read an interchange file into a new sequence; returns its id (see :func:`import_timeline`)."""
    return import_timeline(project, path, sequence_name, relink_folders, rate).sequence_id
