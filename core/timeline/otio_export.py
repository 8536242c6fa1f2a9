"""Writing a sequence as OTIO, an OTIO bundle, a CMX 3600 EDL or Final Cut Pro 7 XML.

The Luma -> OTIO mapping (tracks, clips, gaps, speed, transitions, markers and
the lossless ``metadata["luma"]``) is described once, in :mod:`core.timeline.otio_io`.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
from opentimelineio.opentime import RationalTime, TimeRange

from core.errors import LumaError
from core.project import media_store
from core.project.project import Project
from core.time import frames_to_timecode
from core.timeline.model import Clip, Timeline
from core.timeline.otio_common import ADAPTER_LABELS, FORMAT_VERSION, LUMA, MARKER_COLORS, _frac_text, adapter_for


@dataclass(frozen=True)
class ExportResult:
    path: Path
    adapter: str
    #: what the format could not hold, one line each (empty when nothing was left out)
    dropped: tuple[str, ...] = ()


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
