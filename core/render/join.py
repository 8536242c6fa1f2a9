"""The end of a sequence render: the range's audio (mixed once) and the stream-copy join.

:func:`render_audio` mixes the range's sound once in the calling process
(optionally loudness-normalised); :func:`join_segments` copies the segments'
video packets (no re-encode) into the output with their timestamps shifted to
the segment's place, encodes the audio alongside (a little ahead of the video)
and writes MP4/MOV with the index at the front, into ``NAME.part.EXT`` renamed
at the end. See :mod:`core.render.sequence_render`.
"""

from __future__ import annotations

import math
import os
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import av
import numpy as np

from core.errors import LumaError, MediaError
from core.jobs import CancelledFn, check_cancelled
from core.media._av import av_errors
from core.render.encode import standard_layout
from core.render.profiles import RenderProfile

if TYPE_CHECKING:
    from core.render.render_plan import RenderPlan

__all__ = ["render_audio", "join_segments"]

_AUDIO_AHEAD = Fraction(1, 2)  # seconds of audio muxed ahead of the video
_FASTSTART = {".mp4", ".m4v", ".mov"}


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
