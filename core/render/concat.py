"""Join clips end to end: ``concat(inputs, out)``.

**Remux** (no re-encode) when every input has the same streams with the same
parameters: the first video stream (codec, size, pixel format, time base,
frame rate, codec extradata such as H.264's SPS/PPS) and the first audio
stream, if any (codec, sample rate, channels, extradata). Packets are copied
with their timestamps shifted so that each clip starts where the previous
clip's *video* ends; audio follows the video clock exactly:

* the encoder-delay ("priming") audio packets at the start of the second and
  later clips (timestamps before the clip's start, which the source's edit
  list hides) are dropped, so the audio does not drift by a frame per join;
* audio packets that would start after a clip's video ended are dropped
  (except for the last clip), and a clip whose audio would overlap the
  previous one is pushed back by less than one audio frame.

The 1024-sample AAC frame at each join decodes with the previous clip's tail
in its overlap window (as with FFmpeg's concat demuxer): no gap, no drift.

**Re-encode** otherwise, to the *first* clip's size and frame rate (the first
clip is the one the user put first, usually the reference; a later clip of
another aspect is letterboxed, of another rate is retimed by picking frames
by time) with the ``final`` profile (x264 CRF 18) unless another is given.
Audio is decoded, resampled to the first clip's audio format (the first clip
that has audio), trimmed or padded with silence to each clip's video length
(silence for a clip without audio), and encoded as AAC: continuous and in
sync. Every frame of every input is kept (or, for a different rate, shown at
its time).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Sequence

import av
import numpy as np

from core.errors import LumaError, MediaError
from core.jobs import CancelledFn, ProgressFn, check_cancelled
from core.media._av import PathLike, av_errors, decode_packets, display_name, open_input
from core.media.probe import probe
from core.render.encode import Encoder, part_path
from core.render.profiles import RenderProfile, get_profile
from core.render.retime import RetimedVideo

_AUDIO_AHEAD = Fraction(1, 2)


@dataclass(frozen=True)
class ConcatResult:
    path: Path
    mode: str  # "remux" or "reencode"
    frames: int  # video frames written
    inputs: int
    reason: str  # why it was re-encoded ("" for a remux)
    seconds: float  # wall-clock time


def _signature(path: PathLike) -> tuple[dict, dict | None]:
    """The stream parameters that must match for a remux (video, audio or None)."""
    with open_input(path) as c, av_errors(path, "cannot read the streams"):
        vs = [s for s in c.streams.video if (s.codec_context.width or 0) > 0]
        if not vs:
            raise MediaError(f"{display_name(path)}: no video stream to join")
        v = vs[0]
        cc = v.codec_context
        video = {"codec": cc.name, "size": (cc.width, cc.height), "pix_fmt": cc.format.name if cc.format else None,
                 "time base": v.time_base, "frame rate": v.average_rate or v.guessed_rate,
                 "codec setup": bytes(cc.extradata or b"")}
        audio = None
        a = [s for s in c.streams.audio if (s.codec_context.sample_rate or 0) > 0]
        if a:
            ac = a[0].codec_context
            audio = {"codec": ac.name, "sample rate": ac.sample_rate, "channels": ac.channels,
                     "time base": a[0].time_base, "codec setup": bytes(ac.extradata or b"")}
    return video, audio


def remux_difference(inputs: Sequence[PathLike]) -> str:
    """Why the inputs cannot be joined by copying packets ("" when they can)."""
    sigs = [_signature(p) for p in inputs]
    v0, a0 = sigs[0]
    for path, (v, a) in zip(inputs[1:], sigs[1:]):
        name = display_name(path)
        for key in v0:
            if v[key] != v0[key]:
                return f"{name}: video {key} differs from {display_name(inputs[0])}"
        if (a is None) != (a0 is None):
            return f"{name}: {'has no' if a is None else 'has an'} audio stream, unlike {display_name(inputs[0])}"
        if a is not None:
            for key in a0:
                if a[key] != a0[key]:
                    return f"{name}: audio {key} differs from {display_name(inputs[0])}"
    return ""


def concat(inputs: Sequence[PathLike], out: PathLike, progress: ProgressFn | None = None,
           cancelled: CancelledFn | None = None, profile: str | RenderProfile = "final",
           force_reencode: bool = False) -> ConcatResult:
    """Join ``inputs`` in order into ``out``; remux when possible (see the module doc)."""
    t0 = time.perf_counter()
    inputs = [Path(p) for p in inputs]
    out = Path(out)
    if not inputs:
        raise LumaError("concat: give at least one clip to join")
    for p in inputs:
        if p.resolve() == out.resolve():
            raise LumaError(f"{out.name}: the output cannot also be an input")
    if not out.parent.is_dir():
        raise MediaError(f"{out.name}: the folder {out.parent} does not exist")
    progress = progress or (lambda *a, **k: None)
    cancelled = cancelled or (lambda: False)
    reason = "asked to re-encode" if force_reencode else remux_difference(inputs)
    if reason:
        frames = _reencode(inputs, out, get_profile(profile), progress, cancelled)
        mode = "reencode"
    else:
        frames = _remux(inputs, out, progress, cancelled)
        mode = "remux"
    progress(1.0, "done")
    return ConcatResult(out, mode, frames, len(inputs), reason, time.perf_counter() - t0)


# ---------------------------------------------------------------- remux


def _first(streams):
    return next((s for s in streams if (getattr(s.codec_context, "width", 0) or
                                        getattr(s.codec_context, "sample_rate", 0) or 0) > 0), None)


class _Remuxer:
    """Copies the clips' packets into one file with shifted timestamps (see the module doc)."""

    def __init__(self, container, progress: ProgressFn, cancelled: CancelledFn, total_bytes: int, count: int):
        self.out = container
        self.progress, self.cancelled = progress, cancelled
        self.total_bytes, self.done_bytes, self.count = max(1, total_bytes), 0, count
        self.ov = self.oa = None
        self.offset = Fraction(0)  # output time (s) where the next clip's video starts
        self.last_vdts: int | None = None
        self.apos: int | None = None  # end of the audio written so far, in decoded samples (audio time base)
        self.frames = 0

    def clip(self, n: int, path: Path, video_length: Fraction) -> None:
        with open_input(path) as src, av_errors(path, "cannot copy the packets"):
            iv, ia = _first(src.streams.video), _first(src.streams.audio)
            if self.ov is None:
                self.ov = self.out.add_stream_from_template(iv, opaque=True)
                self.oa = self.out.add_stream_from_template(ia, opaque=True) if ia is not None else None
            vtb = Fraction(iv.time_base)
            v_start = iv.start_time
            v_shift = v_end = None
            audio = _ClipAudio(self, ia, n, last=n == self.count - 1, length=video_length) if ia else None
            for packet in src.demux([iv] + ([ia] if ia is not None else [])):
                if packet.dts is None and packet.pts is None:
                    continue  # the demuxer's flush packet
                self.done_bytes += packet.size
                if packet.stream.type != "video":
                    audio.packet(packet)
                    continue
                pts = packet.pts if packet.pts is not None else packet.dts
                if v_start is None:
                    v_start = pts
                if v_shift is None:
                    v_shift = int(round(self.offset / vtb)) - v_start
                    if self.last_vdts is not None and packet.dts is not None:
                        v_shift = max(v_shift, self.last_vdts + 1 - packet.dts)
                dur = packet.duration or (int(round(1 / Fraction(iv.average_rate) / vtb)) if iv.average_rate else 0)
                v_end = pts + dur if v_end is None else max(v_end, pts + dur)
                _shift_packet(packet, v_shift)
                self.last_vdts = packet.dts
                packet.stream = self.ov
                self.out.mux(packet)
                self.frames += 1
                if self.frames % 50 == 0:
                    check_cancelled(self.cancelled)
                    self.progress(min(self.done_bytes / self.total_bytes, 0.999), f"clip {n + 1}/{self.count}")
            if v_end is not None:
                self.offset += (v_end + v_shift - int(round(self.offset / vtb))) * vtb


class _ClipAudio:
    """Places one clip's audio packets on the continuous output audio stream.

    Audio frames (1024 samples for AAC) cannot be cut, so a clip's audio rarely
    ends exactly where its video does; the packets are laid end to end (a
    decoder plays them back to back) and at each join the running position is
    kept within half a frame of the video: a clip's first packet is skipped
    while the audio runs ahead, a packet that would start after its clip's video
    ended is dropped. The error never accumulates over joins.
    """

    def __init__(self, rm: _Remuxer, stream, n: int, last: bool, length: Fraction):
        self.rm, self.n, self.last = rm, n, last
        self.tb = Fraction(stream.time_base)
        self.start = stream.start_time or 0
        self.frame = stream.codec_context.frame_size or 0
        self.clip_start = int(round(rm.offset / self.tb))
        self.clip_end = self.clip_start + int(round(length / self.tb))
        self.first = True

    def packet(self, packet) -> None:
        rm = self.rm
        pts = packet.pts if packet.pts is not None else packet.dts
        dur = self.frame or packet.duration or 0
        rel = pts - self.start
        if rm.apos is None:
            out = self.clip_start + rel  # the very first clip keeps its priming (its edit list hides it)
        else:
            if self.n > 0 and rel + (packet.duration or dur) <= 0:
                return  # encoder priming before the clip's start: hidden in the source, dropped here
            if self.first and rm.apos - (self.clip_start + rel) >= dur / 2:
                return  # the audio runs ahead of the video: skip into this clip
            out = rm.apos
        if not self.last and out + dur / 2 > self.clip_end:
            return  # after this clip's video: the next clip's audio goes there
        self.first = False
        _shift_packet(packet, out - pts)
        rm.apos = out + dur
        packet.stream = rm.oa
        rm.out.mux(packet)


def _remux(inputs: list[Path], out: Path, progress: ProgressFn, cancelled: CancelledFn) -> int:
    part = part_path(out)
    options = {"movflags": "+faststart"} if out.suffix.lower() in (".mp4", ".mov", ".m4v") else {}
    lengths = [probe(p).video.duration for p in inputs]
    try:
        with av_errors(out, "cannot write the joined file"):
            container = av.open(str(part), mode="w", options=options)
        try:
            rm = _Remuxer(container, progress, cancelled, sum(p.stat().st_size for p in inputs), len(inputs))
            for n, (path, length) in enumerate(zip(inputs, lengths)):
                rm.clip(n, path, length)
        finally:
            container.close()
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    part.replace(out)
    return rm.frames


def _shift_packet(packet, shift: int) -> None:
    if packet.pts is not None:
        packet.pts += shift
    if packet.dts is not None:
        packet.dts += shift


# ------------------------------------------------------------- re-encode


def _audio_chunks(path: Path, rate: int, layout: str):
    """float32 [channels, n] chunks of ``path``'s first audio stream at ``rate``/``layout``."""
    with open_input(path) as c, av_errors(path, "cannot decode the audio"):
        streams = [s for s in c.streams.audio if (s.codec_context.sample_rate or 0) > 0]
        if not streams:
            return
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
        for frame in decode_packets(c, streams[0], path):
            for f in resampler.resample(frame):
                yield f.to_ndarray()
        for f in resampler.resample(None):
            yield f.to_ndarray()


class _AudioTrack:
    """Writes the audio of the clips in sync with the video: each clip's audio (or silence)
    trimmed or padded to end exactly where its video ends."""

    def __init__(self, enc: Encoder, rate: int, layout: str, channels: int):
        self.enc, self.rate, self.layout, self.channels = enc, rate, layout, channels
        self.written = 0
        self._chunks = iter(())
        self._buf: np.ndarray | None = None

    def start_clip(self, path: Path, has_audio: bool) -> None:
        self._chunks = _audio_chunks(path, self.rate, self.layout) if has_audio else iter(())
        self._buf = None

    def _write(self, samples: np.ndarray) -> None:
        for s in range(0, samples.shape[1], 4096):
            self.enc.write_audio(samples[:, s:s + 4096])
        self.written += samples.shape[1]

    def feed_until(self, seconds: Fraction, pad: bool = False) -> None:
        """Write audio up to ``seconds`` of output time (silence where the clip has none if ``pad``)."""
        target = int(round(Fraction(seconds) * self.rate))
        while self.written < target:
            if self._buf is None:
                nxt = next(self._chunks, None)
                if nxt is None:
                    if pad:
                        self._write(np.zeros((self.channels, target - self.written), np.float32))
                    return
                self._buf = nxt
            take = min(self._buf.shape[1], target - self.written)
            self._write(self._buf[:, :take])
            self._buf = self._buf[:, take:] if take < self._buf.shape[1] else None


def _reencode(inputs: list[Path], out: Path, prof: RenderProfile, progress: ProgressFn,
              cancelled: CancelledFn) -> int:
    infos = [probe(p) for p in inputs]
    for p, info in zip(inputs, infos):
        if info.video is None:
            raise MediaError(f"{display_name(p)}: no video stream to join")
    v0 = infos[0].video
    size = prof.output_size(v0.width, v0.height) if prof.height else (v0.width - v0.width % 2,
                                                                      v0.height - v0.height % 2)
    rate = prof.output_rate(v0.rate) if prof.fps else Fraction(v0.rate)
    first_audio = next((i.audio for i in infos if i.audio is not None), None)
    total = 0
    retimed = []
    for p, info in zip(inputs, infos):
        r = RetimedVideo(p, size, rate, info=info, letterbox=True,
                         decode_options=prof.decode_options(info.video.height, size[1]))
        retimed.append(r)
        total += r.expected_frames
    total = max(1, total)
    with Encoder(out, prof, size, rate) as enc:
        track = None
        if first_audio is not None:
            channels = 1 if first_audio.channels == 1 else 2
            layout = "mono" if channels == 1 else "stereo"
            enc.add_audio_encoder(first_audio.sample_rate, layout)
            track = _AudioTrack(enc, first_audio.sample_rate, layout, channels)
        for n, (path, info, frames) in enumerate(zip(inputs, infos, retimed)):
            if track is not None:
                track.start_clip(path, info.audio is not None)
            with frames:
                for item in frames:
                    check_cancelled(cancelled)
                    enc.write(item.rgb, item.repeat)
                    if track is not None:
                        track.feed_until(enc.seconds)
                    progress(min(enc.frames / total, 0.999), f"clip {n + 1}/{len(inputs)}: frame {enc.frames}")
            if track is not None:
                track.feed_until(enc.seconds, pad=True)
    return enc.frames
