"""The plan of a sequence render: the range, output frames, GOP-aligned segments and their inputs.

See :mod:`core.render.sequence_render` for the whole pipeline. :func:`plan_render`
turns sequence frames ``[start, end)`` into output frames at the profile's rate
(:func:`output_range`, :func:`sequence_frame`) cut into :class:`Segment` s that
each start on a keyframe, with a render-cache key each and (for ``--dry-run``)
what their frames use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from core.errors import LumaError
from core.render import render_cache as rc
from core.render.profiles import RenderProfile, get_profile
from core.time import frames_to_timecode

__all__ = ["SEGMENT_SECONDS", "SEGMENTS_PER_WORKER", "Segment", "RenderPlan", "output_range", "sequence_frame",
           "segment_inputs", "resolve_range", "plan_render"]

SEGMENT_SECONDS = 10  # longest segment: bounds what one edit re-renders
SEGMENTS_PER_WORKER = 3  # segments per worker for load balance


# ---------------------------------------------------------------- time mapping


def output_range(start: int, end: int, seq_rate: Fraction, out_rate: Fraction) -> tuple[int, int]:
    """Output frames [k0, k1) that show sequence frames [start, end) (see core.render.sequence_render)."""
    q = Fraction(seq_rate) / Fraction(out_rate)
    return math.ceil(Fraction(start) / q), math.ceil(Fraction(end) / q)


def sequence_frame(k: int, seq_rate: Fraction, out_rate: Fraction) -> int:
    """The sequence frame output frame ``k`` shows: floor(k * seq_rate / out_rate)."""
    return math.floor(Fraction(k) * Fraction(seq_rate) / Fraction(out_rate))



# ---------------------------------------------------------------- the plan


@dataclass
class Segment:
    index: int
    start: int  # first output frame (absolute on the output time line)
    end: int  # output frame after the last
    seq_start: int  # first sequence frame shown
    seq_end: int  # sequence frame after the last shown
    key: str = ""  # render cache key
    cached: bool = False
    inputs: dict = field(default_factory=dict)

    @property
    def frames(self) -> int:
        return self.end - self.start

    def to_dict(self) -> dict:
        return {"index": self.index, "start": self.start, "end": self.end, "frames": self.frames,
                "sequence_start": self.seq_start, "sequence_end": self.seq_end, "key": self.key,
                "cached": self.cached, "inputs": self.inputs}


@dataclass
class RenderPlan:
    project_path: Path
    sequence_id: int
    sequence_name: str
    profile: RenderProfile
    start: int  # sequence frames [start, end)
    end: int
    seq_rate: Fraction
    rate: Fraction  # output rate
    size: tuple[int, int]  # output (w, h)
    gop: int  # output frames per GOP
    workers: int
    segments: list[Segment]
    media: dict[int, rc.MediaStamp] = field(default_factory=dict)
    engine: str = ""  # the engine fingerprint in the segment keys

    @property
    def out_start(self) -> int:
        return self.segments[0].start

    @property
    def out_end(self) -> int:
        return self.segments[-1].end

    @property
    def frames(self) -> int:
        return self.out_end - self.out_start

    @property
    def seconds(self) -> Fraction:
        return Fraction(self.frames) / self.rate

    def to_dict(self) -> dict:
        p = self.profile
        return {
            "project": str(self.project_path), "sequence": {"id": self.sequence_id, "name": self.sequence_name,
                                                            "rate": str(self.seq_rate)},
            "range": {"start": self.start, "end": self.end, "frames": self.end - self.start},
            "profile": p.to_dict(),
            "output": {"width": self.size[0], "height": self.size[1], "rate": str(self.rate),
                       "frames": self.frames, "seconds": float(self.seconds), "gop": self.gop,
                       "video_codec": p.video_codec, "pix_fmt": p.pix_fmt, "audio_codec": p.audio_codec,
                       "audio_sample_rate": p.audio_sample_rate, "audio_channels": p.audio_channels},
            "workers": self.workers,
            "media": [{"id": m.media_id, "name": m.name, "path": str(m.path)} for m in self.media.values()],
            "segments": [s.to_dict() for s in self.segments],
        }

    def describe(self) -> str:
        """The plan as text (``luma render --dry-run``)."""
        p = self.profile
        tc = lambda f: frames_to_timecode(f, self.seq_rate)  # noqa: E731
        quality = " ".join(f"{k} {v}" for k, v in p.options.items())
        lines = [
            f"render {self.sequence_name!r} (sequence #{self.sequence_id}) frames {self.start}-{self.end - 1} "
            f"({tc(self.start)} to {tc(self.end)}, {self.end - self.start} frames) with {p.name}",
            f"  video: {self.size[0]}x{self.size[1]} at {_rate_text(self.rate)} fps, {self.frames} frames, "
            f"{p.video_codec} {p.pix_fmt} {quality}".rstrip()
            + (f", {p.bit_rate // 1000} kb/s" if p.bit_rate else "") + f", GOP {self.gop}",
            f"  audio: {p.audio_codec} {p.audio_sample_rate} Hz {p.audio_channels} ch"
            + (f" {p.audio_bitrate // 1000} kb/s" if p.audio_bitrate else "") + ", mixed once over the range",
            f"  {len(self.segments)} segment(s) on {self.workers} worker(s), "
            f"{sum(s.cached for s in self.segments)} cached",
        ]
        for s in self.segments:
            inp = s.inputs
            head = (f"  segment {s.index + 1}: output frames {s.start}-{s.end - 1} ({s.frames}), "
                    f"sequence frames {s.seq_start}-{s.seq_end - 1}")
            lines.append(head + (" [cached]" if s.cached else ""))
            for c in inp.get("clips", []):
                lines.append(f"    clip {c['name']!r} on {c['track']} frames {c['start']}-{c['end'] - 1} "
                             f"<- {c['media']} (source {c['source_in']}, speed {c['speed']})")
            for t in inp.get("transitions", []):
                lines.append(f"    transition {t['kind']} on {t['track']} frames {t['start']}-{t['end'] - 1}")
            for f in inp.get("filters", []):
                lines.append(f"    filter {f['type']} on {f['on']}")
            for e in inp.get("uses", []):
                lines.append(f"    uses {e}")
            if not inp.get("clips"):
                lines.append("    (no clips: black)")
        return "\n".join(lines)


def _rate_text(rate: Fraction) -> str:
    return f"{float(rate):.3f}".rstrip("0").rstrip(".")


def _segment_bounds(k0: int, k1: int, gop: int, out_rate: Fraction, workers: int,
                    segment_seconds: float) -> list[tuple[int, int]]:
    total = k1 - k0
    gops = math.ceil(total / gop)
    longest = max(1, int(Fraction(segment_seconds) * Fraction(out_rate)) // gop)  # GOPs per segment at most
    if workers > 1:
        per = max(1, math.ceil(gops / (workers * SEGMENTS_PER_WORKER)))
        if math.ceil(gops / per) < workers:  # too few segments for the workers: take them smaller
            per = max(1, gops // workers)
    else:
        per = gops
    per = min(per, longest)
    count = math.ceil(gops / per)
    # spread the GOPs evenly: the first segments get one GOP more
    base, extra = divmod(gops, count)
    bounds, a = [], k0
    for i in range(count):
        b = min(k1, a + (base + (i < extra)) * gop)
        bounds.append((a, b))
        a = b
    return bounds


def _filters(props: dict) -> list[str]:
    return [f.get("type", "?") for f in props.get("filters", []) or []
            if isinstance(f, dict) and f.get("enabled", True)]


def segment_inputs(timeline, first: int, end: int, stamps: dict[int, rc.MediaStamp],
                   compositor=None) -> dict:
    """What sequence frames [first, end) use: clips (with media), transitions, filters, and the
    distinct entries of ``compositor.plan(f)`` over the frames when a compositor is given."""
    clips, transitions = rc.range_items(timeline, first, end)
    tracks = {t.id: t for t in timeline.tracks}
    out: dict[str, Any] = {
        "clips": [{"id": c.id, "name": c.name, "track": tracks[c.track_id].name, "start": c.start, "end": c.end,
                   "source_in": c.source_in, "speed": str(c.speed), "media": stamps[c.media_id].name,
                   "path": str(stamps[c.media_id].path)} for c in clips],
        "transitions": [{"id": t.id, "kind": t.kind, "track": tracks[t.track_id].name,
                         "start": timeline.transition_span(t)[0], "end": timeline.transition_span(t)[1]}
                        for t in transitions],
    }
    filters = [{"type": f, "on": "sequence"} for f in _filters(timeline.sequence.properties)]
    used_tracks = {c.track_id for c in clips}
    for t in timeline.visible_tracks():
        if t.id in used_tracks:
            filters += [{"type": f, "on": f"track {t.name}"} for f in _filters(t.properties)]
    for c in clips:
        filters += [{"type": f, "on": f"clip {c.name!r}"} for f in _filters(c.properties)]
    out["filters"] = filters
    if compositor is not None:
        uses: dict[str, int] = {}
        for f in range(first, end):
            for entry in compositor.plan(f):
                text = _plan_entry_text(entry, stamps)
                uses[text] = uses.get(text, 0) + 1
        out["uses"] = [f"{text} ({n} frame{'s' if n != 1 else ''})" for text, n in uses.items()]
    return out


def _plan_entry_text(entry: dict, stamps: dict[int, rc.MediaStamp]) -> str:
    """One Compositor.plan entry as a line without per-frame values (so the frames' uses merge)."""
    if entry.get("kind") == "sequence":
        return "sequence filters " + ", ".join(x["type"] for x in entry.get("filters", []))
    parts = [f"clip {entry.get('clip_name', '')!r} (#{entry.get('clip')}) on {entry.get('track_name')}: "
             f"{_media_name(entry.get('media'), stamps)}, blend {entry.get('blend')}"]
    if entry.get("filters"):
        parts.append("filters " + "+".join(x["type"] for x in entry["filters"]))
    if entry.get("track_filters"):
        parts.append("track filters " + "+".join(x["type"] for x in entry["track_filters"]))
    tr = entry.get("transition")
    if tr:
        parts.append(f"transition {tr['kind']} #{tr['id']} as {tr['role']}")
    if entry.get("occluded"):
        parts.append("hidden under an opaque layer (not decoded)")
    return ", ".join(parts)


def _media_name(media_id, stamps: dict[int, rc.MediaStamp]) -> str:
    stamp = stamps.get(media_id)
    return stamp.name if stamp is not None else f"media #{media_id}"


def resolve_range(timeline, start: int | None, end: int | None) -> tuple[int, int]:
    """[start, end) sequence frames: given, else the in/out marks (out inclusive), else the whole
    sequence; LumaError for an empty range."""
    seq = timeline.sequence
    if start is None:
        start = seq.in_point if seq.in_point is not None else 0
    if end is None:
        end = (seq.out_point + 1) if seq.out_point is not None else timeline.duration
    start, end = int(start), int(end)
    if start < 0:
        raise LumaError(f"the range starts at frame {start}: frames start at 0")
    if end <= start:
        if timeline.duration == 0:
            raise LumaError(f"{seq.name} is empty: put clips on the timeline before rendering it")
        raise LumaError(f"the range {start}:{end} is empty (frames {start} up to, not including, {end})")
    return start, end


def _audible_media(timeline, start: int, end: int) -> set[int]:
    audible = {t.id for t in timeline.audible_tracks()}
    reach = rc.clip_reach(timeline)
    return {c.media_id for c in timeline.clips.values()
            if c.track_id in audible and reach[c.id][0] < end and reach[c.id][1] > start}


def plan_render(timeline, profile: str | dict | RenderProfile, start: int | None = None, end: int | None = None,
                workers: int = 1, segment_seconds: float = SEGMENT_SECONDS, inputs: bool = True,
                compositor=None) -> RenderPlan:
    """The render plan of sequence frames [start, end) of ``timeline`` (see the module doc).

    Checks that every media file the range uses exists (MediaError naming it) and computes each
    segment's cache key and inputs (``compositor``: also list its ``plan`` entries)."""
    prof = get_profile(profile)
    start, end = resolve_range(timeline, start, end)
    seq = timeline.sequence
    out_rate = prof.output_rate(seq.rate)
    size = prof.sequence_size(seq.width, seq.height)
    gop = prof.gop_frames(out_rate)
    k0, k1 = output_range(start, end, seq.rate, out_rate)
    if k1 <= k0:
        raise LumaError(f"the range {start}:{end} is shorter than one frame at {_rate_text(out_rate)} fps")
    workers = max(1, int(workers))
    clips, _ = rc.range_items(timeline, start, end)
    stamps = rc.media_stamps(timeline, {c.media_id for c in clips})
    rc.media_stamps(timeline, _audible_media(timeline, start, end))  # missing sound files: named now
    profile_dict = prof.to_dict()
    engine = rc.engine_fingerprint()
    segments = []
    for i, (a, b) in enumerate(_segment_bounds(k0, k1, gop, out_rate, workers, segment_seconds)):
        s0 = sequence_frame(a, seq.rate, out_rate)
        s1 = sequence_frame(b - 1, seq.rate, out_rate) + 1
        state = rc.segment_state(timeline, s0, s1, stamps, engine)
        seg = Segment(i, a, b, s0, s1, rc.segment_key(state, profile_dict, a, b, out_rate))
        if inputs:
            seg.inputs = segment_inputs(timeline, s0, s1, stamps, compositor)
        segments.append(seg)
    return RenderPlan(Path(timeline.project.path), timeline.sequence_id, seq.name, prof, start, end, seq.rate,
                      out_rate, size, gop, workers, segments, stamps, engine)
