"""Rendering a sequence to a file: plan, segments in parallel, stream-copy join, audio once.

The pipeline of :func:`render_sequence` (and :class:`SequenceRenderJob`, what
the GUI and ``luma render`` run):

1. **Plan** (:func:`plan_render`): the range (sequence frames ``[start, end)``;
   default the sequence's in/out marks, else all of it) becomes output frames
   at the profile's rate and is cut into **segments**. Every segment starts
   on a keyframe: segment lengths are whole GOPs counted from the range start
   (only the last one may end with a shorter GOP), at least ``workers``
   segments when the range has that many GOPs (about three per worker, for
   load balance) and at most ``segment_seconds`` (10 s) each, so an edit
   re-renders little (see the render cache). Each segment lists what its
   frames use (clips, media files, transitions, filters): ``--dry-run``.
2. **Segments** (:func:`render_segment`, a top-level picklable function run
   in a worker process: core.render.executor): the worker opens the project
   and a :class:`~core.render.compositor.Compositor`, composites every output
   frame at the sequence size, scales it to the profile size
   (:func:`scale_frame`) and encodes video only into a file of the output's
   container. **Every GOP is encoded by its own encoder** (a fresh codec
   context, forced keyframe on its first frame, closed GOP, a fixed thread
   count: ``RenderProfile.threads``), so a GOP's bytes depend on its frames
   alone: rendering a segment twice, or the range in one process or in any
   number of segments on any number of machines, gives identical packets.
   (x264's output changes with its thread count; a fixed count keeps it the
   same everywhere.) Intra-only codecs (ProRes) use one encoder per segment.
3. **Audio** is rendered ONCE over the whole range in the calling process
   (core.audio.mix.mixdown -> optional loudness normalisation with
   core.audio.loudness.normalize -> the profile's audio codec, AAC or PCM)
   while the workers render pictures.
4. **Join** (:func:`join_segments`): the segments' video packets are copied
   (no re-encode) into the output with their timestamps shifted to the
   segment's place, the audio is encoded and interleaved alongside, and MP4/
   MOV files get their index at the front (faststart). Written to
   ``NAME.part.EXT`` and renamed at the end: the output path never holds a
   partial file.

**Rates.** Output frame ``k`` (counted on the output time line from sequence
frame 0) shows sequence frame ``floor(k * sequence_rate / output_rate)``:
identity when the profile keeps the sequence rate; a lower rate drops
frames, a higher one repeats them. The range ``[start, end)`` renders the
output frames ``ceil(start * out / seq)`` up to ``ceil(end * out / seq)``.

**Cache.** Segment files are kept in the project's render cache under a key
of everything their pictures depend on (core.render.render_cache); a second
render of an unchanged range joins the cached segments without rendering a
frame, and an edit re-renders only the segments whose frames it touches.
``use_cache=False`` renders every segment into a scratch folder beside the
output that is deleted afterwards.

**Cancel.** Segments not started are cancelled; running ones see a cancel
marker file (beside the segment files, so remote workers on shared storage
see it too) within a frame, stop and delete their partial file.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable

import av
import cv2
import numpy as np

from core.errors import JobCancelled, LumaError, MediaError
from core.jobs import CancelledFn, ProgressFn, check_cancelled
from core.media._av import av_errors, display_name
from core.render import render_cache as rc
from core.render.encode import standard_layout
from core.render.profiles import RenderProfile, get_profile
from core.time import frames_to_timecode

log = logging.getLogger(__name__)

SEGMENT_SECONDS = 10  # longest segment: bounds what one edit re-renders
SEGMENTS_PER_WORKER = 3  # segments per worker for load balance
_AUDIO_AHEAD = Fraction(1, 2)  # seconds of audio muxed ahead of the video
_POLL = 0.2  # seconds between cancel checks while waiting for workers
_CONTAINERS = {".mp4": {".mp4", ".m4v", ".mov", ".mkv"}, ".mov": {".mov", ".mkv"}}
_FASTSTART = {".mp4", ".m4v", ".mov"}


# ---------------------------------------------------------------- time mapping


def output_range(start: int, end: int, seq_rate: Fraction, out_rate: Fraction) -> tuple[int, int]:
    """Output frames [k0, k1) that show sequence frames [start, end) (see the module doc)."""
    q = Fraction(seq_rate) / Fraction(out_rate)
    return math.ceil(Fraction(start) / q), math.ceil(Fraction(end) / q)


def sequence_frame(k: int, seq_rate: Fraction, out_rate: Fraction) -> int:
    """The sequence frame output frame ``k`` shows: floor(k * seq_rate / out_rate)."""
    return math.floor(Fraction(k) * Fraction(seq_rate) / Fraction(out_rate))


def scale_frame(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The sequence picture scaled to the output ``size`` (w, h): area averaging when shrinking,
    bicubic when enlarging; the same array when the size already matches."""
    w, h = size
    if rgb.shape[1] == w and rgb.shape[0] == h:
        return rgb
    shrink = w <= rgb.shape[1] and h <= rgb.shape[0]
    return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


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


# ---------------------------------------------------------------- segment worker


def open_compositor(project_path, sequence_id: int):
    """The compositor a worker renders with (at the sequence size)."""
    from core.render.compositor import Compositor

    return Compositor.open(project_path, sequence_id)


def _configure(cc, prof: RenderProfile, size: tuple[int, int], rate: Fraction, gop: int) -> None:
    cc.width, cc.height = size
    cc.pix_fmt = prof.pix_fmt
    cc.time_base = 1 / rate
    cc.framerate = rate
    cc.gop_size = max(1, gop)
    if prof.bit_rate:
        cc.bit_rate = int(prof.bit_rate)
    cc.thread_count = max(1, int(prof.threads))


class _SegmentWriter:
    """Encodes one segment: video only, one fresh encoder per GOP (see the module doc)."""

    def __init__(self, path: Path, prof: RenderProfile, size: tuple[int, int], rate: Fraction, gop: int):
        self.path, self.prof, self.size, self.rate, self.gop = path, prof, size, Fraction(rate), gop
        self.part = path.with_name(f"{path.stem}.part-{uuid.uuid4().hex[:8]}{path.suffix}")
        self.frames = 0
        self._enc = None
        self._extradata: bytes | None = None
        with av_errors(path, "cannot write the segment"):
            self.out = av.open(str(self.part), mode="w")
        try:
            with av_errors(path, f"cannot encode with {prof.video_codec}"):
                self.stream = self.out.add_stream(prof.video_codec, rate=self.rate, options=dict(prof.options))
                _configure(self.stream.codec_context, prof, size, self.rate, gop)
        except BaseException:
            self.abort()
            raise

    def _new_encoder(self):
        cc = av.CodecContext.create(self.prof.video_codec, "w")
        _configure(cc, self.prof, self.size, self.rate, self.gop)
        cc.flags = self.stream.codec_context.flags  # global header as the container wants it
        cc.options = dict(self.prof.options)
        return cc

    def _mux(self, packets) -> None:
        for p in packets:
            p.stream = self.stream
            p.time_base = 1 / self.rate
            self.out.mux(p)

    def _flush(self) -> None:
        if self._enc is not None:
            self._mux(self._enc.encode(None))
            extradata = bytes(self._enc.extradata or b"")
            if self._extradata is None:
                self._extradata = extradata
            elif extradata != self._extradata:
                raise MediaError(f"{self.path.name}: the encoder set-up changed between GOPs")
            self._enc = None

    def write(self, rgb: np.ndarray) -> None:
        with av_errors(self.path, f"cannot encode frame {self.frames}"):
            new_gop = self.frames % self.gop == 0 if not self.prof.intra_only else self._enc is None
            if new_gop:
                self._flush()
                self._enc = self._new_encoder()
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = self.frames
            frame.time_base = 1 / self.rate
            if self.frames % self.gop == 0:
                frame.pict_type = av.video.frame.PictureType.I
            self._mux(self._enc.encode(frame))
            self.frames += 1

    def close(self) -> Path:
        try:
            with av_errors(self.path, "cannot finish the segment"):
                self._flush()
                if self._extradata is not None and bytes(self.stream.codec_context.extradata or b"") != \
                        self._extradata:
                    raise MediaError(f"{self.path.name}: the stream set-up differs from its encoders'")
                self.out.close()
            os.replace(self.part, self.path)
        except BaseException:
            self.abort()
            raise
        return self.path

    def abort(self) -> None:
        try:
            self.out.close()
        except (av.FFmpegError, ValueError, OSError) as exc:
            log.debug("%s: closing an aborted segment: %s", self.path.name, exc)
        self.part.unlink(missing_ok=True)


def render_segment(project_path, sequence_id: int, profile: str | dict | RenderProfile, start: int, end: int,
                   out_path, *, cancel_path=None, expect_key: str | None = None, engine: str | None = None,
                   versions: str | None = None, progress: Callable[[int], None] | None = None,
                   cancelled: CancelledFn | None = None) -> dict:
    """Render output frames [start, end) of a sequence to ``out_path`` (video only); a top-level
    function for worker processes: it opens the project and a compositor itself.

    ``start``/``end`` count output frames (= sequence frames when the profile keeps the sequence
    rate; see the module doc), and must start a GOP of the render (the plan's segment bounds).
    ``cancel_path``: stop (JobCancelled, partial file removed) once that file exists.
    ``expect_key``/``engine``: the segment's cache key from the plan and the engine fingerprint
    (core.render.render_cache) it was computed with; LumaError if the project changed since, or
    if this worker's rendering code differs (its pictures could differ from the other
    segments'). ``versions``: the caller's ``runtime_versions()``, for a clearer message when a
    remote worker runs another release. ``progress(frames_done)`` / ``cancelled()``: for
    in-process use. Returns stats."""
    t0, c0 = time.perf_counter(), time.process_time()
    if versions is not None and versions != rc.runtime_versions():
        raise LumaError(f"render worker on {_host()} runs {rc.runtime_versions()}, but the render was "
                        f"planned with {versions}: install the same Luma Studio on every worker")
    if engine is not None and engine != rc.engine_fingerprint():
        raise LumaError(f"render worker on {_host()} runs other rendering code than the render was planned "
                        "with (Luma Studio was updated or changed meanwhile); render again")
    prof = get_profile(profile)
    out_path = Path(out_path)
    comp = open_compositor(project_path, sequence_id)
    try:
        tl = comp.timeline
        seq = tl.sequence
        out_rate = prof.output_rate(seq.rate)
        size = prof.sequence_size(seq.width, seq.height)
        gop = prof.gop_frames(out_rate)
        if expect_key:
            s0 = sequence_frame(start, seq.rate, out_rate)
            s1 = sequence_frame(end - 1, seq.rate, out_rate) + 1
            clips, _ = rc.range_items(tl, s0, s1)
            state = rc.segment_state(tl, s0, s1, rc.media_stamps(tl, {c.media_id for c in clips}), engine)
            if rc.segment_key(state, prof.to_dict(), start, end, out_rate) != expect_key:
                raise LumaError(f"{seq.name} changed while it was being rendered (frames {s0}-{s1 - 1}); "
                                "render again")
        writer = _SegmentWriter(out_path, prof, size, out_rate, gop)
        try:
            last_index, last_rgb = None, None
            for k in range(start, end):
                if (cancel_path is not None and os.path.exists(cancel_path)) or (cancelled and cancelled()):
                    raise JobCancelled("render cancelled")
                f = sequence_frame(k, seq.rate, out_rate)
                if f != last_index:
                    last_rgb = scale_frame(comp.frame(f), size)
                    last_index = f
                    if comp.errors:  # the compositor leaves a picture it cannot decode out: not in a render
                        raise MediaError(next(iter(comp.errors.values())))
                writer.write(last_rgb)
                if progress is not None:
                    progress(k - start + 1)
            writer.close()
        except BaseException:
            writer.abort()
            raise
    finally:
        comp.close()
    return {"path": str(out_path), "start": start, "end": end, "frames": end - start,
            "bytes": out_path.stat().st_size, "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0, "pid": os.getpid(), "host": _host()}


def _host() -> str:
    import socket

    return socket.gethostname()


# ---------------------------------------------------------------- audio and join


def render_audio(timeline, plan: RenderPlan, loudness: float | None = None,
                 cancelled: CancelledFn | None = None) -> tuple[np.ndarray, dict | None]:
    """The range's audio, float32 [channels, n], covering exactly the video's time (output frames
    [out_start, out_end) at the output rate); optionally loudness-normalised to ``loudness``
    LUFS (with the normaliser's report)."""
    from core.audio.mix import mixdown, sample_index

    prof = plan.profile
    sr, ch = int(prof.audio_sample_rate), int(prof.audio_channels)
    a0 = sample_index(plan.out_start, plan.rate, sr)  # the video's first and end sample
    a1 = sample_index(plan.out_end, plan.rate, sr)
    m0 = sample_index(plan.start, plan.seq_rate, sr)
    seq_end = max(plan.end, math.ceil(Fraction(plan.out_end) / plan.rate * plan.seq_rate))
    mixed = np.asarray(mixdown(timeline, plan.start, seq_end, sample_rate=sr, channels=ch, cancelled=cancelled),
                       dtype=np.float32)
    if mixed.ndim != 2 or mixed.shape[1] != ch:
        raise LumaError(f"the audio mix has shape {mixed.shape}, expected [samples, {ch}]")
    samples = np.zeros((a1 - a0, ch), np.float32)
    take = mixed[a0 - m0:a1 - m0]
    samples[:len(take)] = take
    report = None
    if loudness is not None:
        from core.audio.loudness import normalize

        samples, result = normalize(samples, sr, target_lufs=float(loudness))
        samples = np.asarray(samples, dtype=np.float32)
        report = result.to_dict() if hasattr(result, "to_dict") else dict(result)
    return np.ascontiguousarray(samples.T), report


def _video_stream(container):
    streams = [s for s in container.streams.video if (s.codec_context.width or 0) > 0]
    if not streams:
        raise MediaError(f"{container.name}: no video in the segment")
    return streams[0]


class _AudioFeed:
    """Encodes the range's audio into the output, a little ahead of the video."""

    CHUNK = 4096

    def __init__(self, out, prof: RenderProfile, samples: np.ndarray, path: Path):
        self.out, self.samples, self.path = out, samples, path
        self.rate = int(prof.audio_sample_rate)
        with av_errors(path, f"cannot encode audio with {prof.audio_codec}"):
            self.stream = out.add_stream(prof.audio_codec, rate=self.rate)
            self.stream.layout = standard_layout(samples.shape[0])
            if prof.audio_bitrate:
                self.stream.codec_context.bit_rate = int(prof.audio_bitrate)
        self.written = 0

    def until(self, seconds: Fraction | None) -> None:
        target = self.samples.shape[1] if seconds is None else min(self.samples.shape[1],
                                                                   int(Fraction(seconds) * self.rate))
        with av_errors(self.path, "cannot encode the audio"):
            while self.written < target:
                n = min(self.CHUNK, target - self.written)
                data = np.ascontiguousarray(self.samples[:, self.written:self.written + n])
                frame = av.AudioFrame.from_ndarray(data, format="fltp", layout=self.stream.layout.name)
                frame.sample_rate = self.rate
                frame.time_base = Fraction(1, self.rate)
                frame.pts = self.written
                self.written += n
                self.out.mux(self.stream.encode(frame))
            if seconds is None:
                self.out.mux(self.stream.encode(None))


def join_segments(segments: list[tuple[Path, int]], out: Path, prof: RenderProfile, rate: Fraction,
                  audio: np.ndarray | None, progress: Callable[[float], None] | None = None,
                  cancelled: CancelledFn | None = None) -> int:
    """Copy the video packets of ``segments`` ((path, first output frame relative to the range
    start), in order) into ``out`` with the audio encoded alongside; returns the video packets
    written. Writes ``out``'s ``.part`` sibling and renames it when done."""
    out = Path(out)
    part = out.with_name(f"{out.stem}.part{out.suffix}")
    options = {"movflags": "+faststart"} if prof.faststart and out.suffix.lower() in _FASTSTART else {}
    packets = 0
    try:
        with av_errors(out, "cannot write the file"):
            container = av.open(str(part), mode="w", options=options)
        try:
            feed = None
            first_extradata = None
            last_dts = None
            for n, (path, offset) in enumerate(segments):
                if cancelled is not None:
                    check_cancelled(cancelled)
                with av.open(str(path)) as src, av_errors(path, "cannot copy the segment"):
                    iv = _video_stream(src)
                    extradata = bytes(iv.codec_context.extradata or b"")
                    if n == 0:
                        first_extradata = extradata
                        ov = container.add_stream_from_template(iv, opaque=True)
                        if audio is not None:
                            feed = _AudioFeed(container, prof, audio, out)
                    elif extradata != first_extradata:
                        raise MediaError(f"{path.name}: encoded with other settings than the first segment; "
                                         "delete the render cache and render again")
                    tb = Fraction(iv.time_base)
                    shift = int(round(Fraction(offset) / Fraction(rate) / tb)) - int(iv.start_time or 0)
                    for packet in src.demux(iv):
                        if packet.dts is None and packet.pts is None:
                            continue  # the demuxer's flush packet
                        packet.pts += shift
                        packet.dts = (packet.dts if packet.dts is not None else packet.pts - shift) + shift
                        if last_dts is not None and packet.dts <= last_dts:
                            raise MediaError(f"{path.name}: its timestamps overlap the previous segment")
                        last_dts = packet.dts
                        if feed is not None:
                            feed.until(packet.dts * tb + _AUDIO_AHEAD)
                        packet.stream = ov
                        container.mux(packet)
                        packets += 1
                if progress is not None:
                    progress((n + 1) / len(segments))
            if feed is not None:
                feed.until(None)
        finally:
            container.close()
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, out)
    return packets


# ---------------------------------------------------------------- the render


@dataclass(frozen=True)
class SequenceRenderResult:
    path: Path
    profile: str
    frames: int
    size: tuple[int, int]
    rate: Fraction
    segments: int
    rendered: int  # segments rendered by workers
    reused: int  # segments taken from the cache
    workers: int
    executor: str  # "inline", "local" or "dask"
    seconds: float
    audio_codec: str
    loudness: dict | None = None
    segment_stats: tuple = ()  # render_segment's stats of the segments rendered (frames, seconds, cpu_seconds...)


def _check_output(out: Path, prof: RenderProfile) -> None:
    allowed = _CONTAINERS.get(prof.container, {prof.container})
    if out.suffix.lower() not in allowed:
        raise LumaError(f"{out.name}: the {prof.name} profile writes {', '.join(sorted(allowed))} files; "
                        f"name the output {out.stem}{prof.container}")
    if not out.parent.is_dir():
        raise LumaError(f"{out.name}: the folder {out.parent} does not exist")


def render_sequence(project_path, out, profile: str | dict | RenderProfile = "preview_720p",
                    sequence_id: int | None = None, start: int | None = None, end: int | None = None,
                    workers: int | None = 1, scheduler=None, loudness: float | None = None,
                    use_cache: bool = True, progress: ProgressFn | None = None,
                    cancelled: CancelledFn | None = None, segment_seconds: float = SEGMENT_SECONDS,
                    cache_bytes: int | None = None) -> SequenceRenderResult:
    """Render sequence frames [start, end) of the project at ``project_path`` to ``out``.

    ``workers`` 1 (and no ``scheduler``) renders in this process; more: a local process pool
    (None: one per CPU); ``scheduler``: a Dask cluster (core.render.executor). See the module doc."""
    from core.project.project import Project
    from core.render.executor import default_workers, make_executor
    from core.timeline.model import Timeline

    t0 = time.perf_counter()
    progress = progress or (lambda *a, **k: None)
    cancelled = cancelled or (lambda: False)
    prof = get_profile(profile)
    out = Path(out).resolve()
    _check_output(out, prof)
    project_path = Path(project_path).resolve()
    with Project.open(project_path) as project:
        timeline = Timeline(project, sequence_id)
        n_workers = default_workers() if workers is None else max(1, int(workers))
        plan = plan_render(timeline, prof, start, end, workers=n_workers, segment_seconds=segment_seconds,
                           inputs=False)
        if scheduler is not None:
            project.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")  # remote workers read the main file
        cache = rc.RenderCache.for_project(project, cache_bytes) if use_cache else None
        folder = cache.folder if cache is not None else rc.scratch_folder(out)
        suffix = out.suffix.lower()
        paths: dict[int, Path] = {}
        todo: list[Segment] = []
        for seg in plan.segments:
            hit = cache.get(seg.key, suffix) if cache is not None else None
            seg.cached = hit is not None
            if hit is not None:
                paths[seg.index] = hit
            else:
                paths[seg.index] = folder / f"{seg.key}{suffix}"
                todo.append(seg)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LumaError(f"cannot create {folder} for the render ({exc.strerror or exc})") from exc
        cancel_marker = folder / f".cancel-{uuid.uuid4().hex[:8]}"
        total = max(1, plan.frames)
        done = sum(s.frames for s in plan.segments if s.cached)
        progress(0.9 * done / total, f"{len(plan.segments) - len(todo)} of {len(plan.segments)} segments cached")
        kind = "inline"
        segment_stats: list[dict] = []
        try:
            audio_box: dict[str, Any] = {}
            if not todo:
                audio_box["value"] = render_audio(timeline, plan, loudness, cancelled)
            elif scheduler is None and (n_workers == 1 or len(todo) == 1):  # no pool for one segment
                audio_box["value"] = render_audio(timeline, plan, loudness, cancelled)
                for seg in todo:
                    base = done
                    stats = render_segment(project_path, plan.sequence_id, prof.to_dict(), seg.start, seg.end,
                                   paths[seg.index], expect_key=seg.key, engine=plan.engine,
                                   cancelled=cancelled,
                                   progress=lambda k, base=base: progress(
                                       0.9 * (base + k) / total, f"frame {base + k} of {plan.frames}"))
                    segment_stats.append(stats)
                    done += seg.frames
            else:
                with make_executor(n_workers, scheduler) as ex:
                    kind, n_workers = ex.kind, ex.workers
                    done = _run_pool(ex, plan, todo, paths, prof, project_path, cancel_marker, done, total,
                                     progress, cancelled, timeline, loudness, audio_box, segment_stats)
            check_cancelled(cancelled)
            samples, report = audio_box["value"]
            progress(0.9, "joining the segments")
            join_segments([(paths[s.index], s.start - plan.out_start) for s in plan.segments], out, prof,
                          plan.rate, samples, progress=lambda f: progress(0.9 + 0.1 * f, "joining"),
                          cancelled=cancelled)
        except BaseException:
            _remove_partials(folder, todo, paths)
            raise
        finally:
            cancel_marker.unlink(missing_ok=True)
            if cache is None:
                shutil.rmtree(folder, ignore_errors=True)
        if cache is not None:
            cache.trim(keep=paths.values())
    progress(1.0, "done")
    return SequenceRenderResult(out, prof.name, plan.frames, plan.size, plan.rate, len(plan.segments),
                                len(todo), len(plan.segments) - len(todo), n_workers, kind,
                                time.perf_counter() - t0, prof.audio_codec, report, tuple(segment_stats))


def _remove_partials(folder: Path, todo: list[Segment], paths: dict[int, Path]) -> None:
    """After a failure or cancel: segment files of this render are kept in the cache only when
    complete (they are renamed into place when finished); partial ones go."""
    if not folder.is_dir():
        return
    for seg in todo:
        stem = paths[seg.index].stem
        for p in folder.glob(f"{stem}.part-*"):
            p.unlink(missing_ok=True)


def _run_pool(ex, plan: RenderPlan, todo: list[Segment], paths: dict[int, Path], prof: RenderProfile,
              project_path: Path, cancel_marker: Path, done: int, total: int, progress: ProgressFn,
              cancelled: CancelledFn, timeline, loudness, audio_box: dict, segment_stats: list) -> int:
    """Run ``todo`` on the executor (longest first), mixing the audio meanwhile; returns frames done."""
    profile_dict = prof.to_dict()
    futures = {}
    for seg in sorted(todo, key=lambda s: -s.frames):
        fut = ex.submit(render_segment, str(project_path), plan.sequence_id, profile_dict, seg.start, seg.end,
                        str(paths[seg.index]), cancel_path=str(cancel_marker), expect_key=seg.key,
                        engine=plan.engine, versions=rc.runtime_versions())
        futures[fut] = seg
    audio_error: list[BaseException] = []

    def mix():
        try:
            audio_box["value"] = render_audio(timeline, plan, loudness, cancelled)
        except BaseException as exc:  # reported after the workers
            audio_error.append(exc)

    mixer = threading.Thread(target=mix, name="render-audio", daemon=True)
    mixer.start()
    pending = set(futures)
    finished = 0
    try:
        while pending:
            if cancelled():
                raise JobCancelled("render cancelled")
            ready, pending = ex.wait(pending, _POLL)
            for fut in ready:
                segment_stats.append(ex.result(fut))  # a worker's error is raised here
                seg = futures[fut]
                done += seg.frames
                finished += 1
                progress(0.9 * done / total, f"{finished} of {len(todo)} segments rendered")
    except BaseException:
        cancel_marker.touch()
        ex.cancel(pending)
        raise
    finally:
        mixer.join()
    if audio_error:
        raise audio_error[0]
    return done


class SequenceRenderJob:
    """A sequence render as a job (core.jobs protocol) for the GUI's job runner and the CLI."""

    def __init__(self, project_path, sequence_id: int | None, profile: str | dict | RenderProfile, out,
                 start: int | None = None, end: int | None = None, workers: int | None = None,
                 scheduler=None, loudness: float | None = None, use_cache: bool = True):
        self.project_path = Path(getattr(project_path, "path", project_path))
        self.sequence_id = sequence_id
        self.profile = get_profile(profile)
        self.out = Path(out)
        _check_output(self.out, self.profile)
        self.start, self.end = start, end
        self.workers, self.scheduler = workers, scheduler
        self.loudness, self.use_cache = loudness, use_cache
        self.title = f"Render {self.profile.name} to {display_name(self.out)}"

    def run(self, progress: ProgressFn, cancelled: CancelledFn) -> SequenceRenderResult:
        return render_sequence(self.project_path, self.out, self.profile, self.sequence_id, self.start, self.end,
                               workers=self.workers, scheduler=self.scheduler, loudness=self.loudness,
                               use_cache=self.use_cache, progress=progress, cancelled=cancelled)
