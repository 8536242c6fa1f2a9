"""Reading an interchange file into sequence frames (a :class:`_Source`), before anything is written.

:func:`read_otio` reads the file through OTIO's adapters; :func:`_collect` turns its
timeline into tracks, clips, transitions and markers at the sequence rate, with
notes on what it cannot hold. core.timeline.otio_import finds the media and writes it.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
from opentimelineio.opentime import RationalTime

from core.errors import EditError, LumaError
from core.time import as_rate, frames_to_timecode
from core.timeline import keyframes
from core.timeline import props as props_spec
from core.timeline.model import props_text
from core.timeline.otio_common import ADAPTER_LABELS, _luma, _plain, _rate_of, _seconds, _to_frames, adapter_for


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


def _basename(url: str) -> str:
    path = urllib.parse.unquote(urllib.parse.urlparse(url).path or url)
    return re.split(r"[\\/]", path)[-1]
