"""The sequence's sound: decode media audio at exact times and mix the audio tracks.

Time
    Sequence frame ``f`` starts at output sample ``S(f) = round(f / rate * sample_rate)``
    (exact Fractions), and :func:`mixdown` of ``[start, end)`` returns samples
    ``[S(start), S(end))``: consecutive ranges tile the sequence exactly, and
    every sample's value depends only on its absolute index, so
    ``mixdown(a, b) ++ mixdown(b, c) == mixdown(a, c)``.

    Output sample ``j`` of a clip reads its media at source sample position
    ``source_in * sr / rate + (j - start * sr / rate) * speed`` (the clip's
    ``source_position`` in samples). Media time 0 is the first video frame
    (the video stream's start time) for files with picture, else the start of
    the audio stream, as the frame reader counts frames.

Speed and sample rate
    Media are decoded at their own rate. A clip at speed 1 from media at the
    output rate is copied sample for sample (a sub-sample offset, at most half
    a sample, is rounded). Otherwise its sound is read at exact fractional
    positions (``step = speed * media_rate / sample_rate`` media samples per
    output sample) with a windowed sinc (Kaiser, 16 zero crossings each side)
    whose cut-off drops to ``1 / step`` when reading faster, so nothing
    aliases: one vectorised polyphase FIR pass (scipy's ``upfirdn``) when the
    positions' phases repeat within 4096, else a kernel table with phases
    rounded to 1/4096 sample. Speed is *varispeed*, like tape: the pitch
    moves with the speed (2 = an octave up).

Gains (multiplied per sample)
    * clip ``volume`` (linear, keyframable in clip frames): keyed values are
      evaluated on every frame and interpolated linearly to each sample's
      fractional frame (exact for linear keys; a hold step becomes a one-frame
      ramp, which avoids a click);
    * ``fade_in`` / ``fade_out`` (frames): **equal-power** curves,
      ``sin(pi/2 * u)`` rising over the first ``fade_in`` frames of the clip and
      falling over the last ``fade_out`` (-3 dB at the middle). An edge that has
      a transition ignores its fade: the transition's curve shapes it;
    * transitions on audio tracks are **equal-power crossfades** (any kind is
      mixed as a crossfade) over the span the model gives
      (``[cut - duration // 2, cut - duration // 2 + duration)``): clip A plays
      on past its end into its media handle with ``cos(pi/2 * u)`` and clip B
      starts early with ``sin(pi/2 * u)``, ``u`` going 0 -> 1 over the span;
    * track ``volume`` (keyframable in sequence frames) on the track's sum.

Only the audible tracks (:meth:`Timeline.audible_tracks`: not muted; only the
soloed ones when any is soloed) are mixed; the sum is not clipped.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Callable, Optional

import av
import numpy as np

from core.errors import MediaError
from core.jobs import CancelledFn, check_cancelled
from core.media._av import PathLike, av_errors, decode_packets, display_name, open_input, reason
from core.project.media_store import media_path
from core.project.project import Project
from core.timeline import keyframes
from core.timeline.model import Clip, Timeline, Transition

__all__ = ["decode_audio", "mixdown", "sample_index", "peaks", "LAYOUTS", "NoAudioError"]

#: output layouts by channel count
LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 8: "7.1"}

_ZERO_CROSSINGS = 16
_KAISER_BETA = 8.6
_PHASES = 4096
_SEEK_MARGIN = Fraction(1, 4)  # seconds decoded before a seek target (decoder pre-roll)


class NoAudioError(MediaError):
    """The media file has no audio stream."""


def _layout(channels: int) -> str:
    try:
        return LAYOUTS[int(channels)]
    except KeyError:
        raise MediaError(f"{channels} audio channels are not supported (one of {sorted(LAYOUTS)})") from None


def _audio_stream(container, path: PathLike):
    streams = [s for s in container.streams.audio if (s.codec_context.sample_rate or 0) > 0]
    if not streams:
        raise NoAudioError(f"{display_name(path)}: no audio stream")
    return streams[0]


def _origin(container, stream) -> Fraction:
    """Seconds (stream time) of media time 0: the first video frame, else the audio's start."""
    for s in list(container.streams.video) + [stream]:
        if s.start_time is not None and s.time_base:
            return Fraction(s.start_time) * Fraction(s.time_base)
    return Fraction(0)


def decode_audio(path: PathLike, sample_rate: Optional[int], channels: int = 2, start: int = 0,
                 end: Optional[int] = None, cancelled: CancelledFn | None = None,
                 progress: Callable[[float], None] | None = None) -> np.ndarray:
    """float32 ``[n, channels]``: samples ``[start, end)`` at ``sample_rate`` counted from media time 0.

    ``sample_rate=None`` keeps the file's own rate (what :func:`mixdown` reads:
    it converts rates itself, at exact positions, so that where decoding
    started never moves the sound by a fraction of a sample).

    Samples before the file's sound or past its end are silence (zeros), so
    with ``end`` given the array has exactly ``end - start`` rows; with
    ``end=None`` it runs to the end of the sound. Decoding seeks near
    ``start``, converts with FFmpeg's resampler (rate and channel layout) and
    places the sound by its timestamps. ``cancelled`` is checked per packet.
    Raises MediaError for a file without sound or with unreadable sound.
    """
    if sample_rate is not None and int(sample_rate) <= 0:
        raise MediaError(f"sample rate {sample_rate} is not valid")
    layout = _layout(channels)
    start = int(start)
    if end is not None and int(end) <= start:
        return np.zeros((0, channels), np.float32)
    name = display_name(path)
    container = open_input(path)
    chunks: list[np.ndarray] = []
    first: Optional[int] = None  # absolute sample index of chunks[0][0]
    count = 0
    try:
        with av_errors(path, "cannot read the audio"):
            stream = _audio_stream(container, path)
            rate = int(sample_rate or stream.codec_context.sample_rate)
            origin = _origin(container, stream)
            origin_samples = round(origin * rate)
            resampler = av.AudioResampler(format="fltp", layout=layout, rate=rate)
            seek_to = origin + Fraction(start, rate) - _SEEK_MARGIN
            if start > 0 and seek_to > origin and stream.time_base:
                container.seek(max(0, math.floor(seek_to / Fraction(stream.time_base))), stream=stream,
                               backward=True)
        duration = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
        decoded = decode_packets(container, stream, path)
        in_first_time: Optional[Fraction] = None
        done = False
        while not done:
            if cancelled is not None:
                check_cancelled(cancelled)
            try:
                frame = next(decoded)
            except StopIteration:
                frame = None
            except av.FFmpegError as exc:
                raise MediaError(f"{name}: corrupt audio data: {reason(exc)}") from exc
            if frame is not None and in_first_time is None and frame.pts is not None and frame.time_base:
                in_first_time = Fraction(frame.pts) * Fraction(frame.time_base)
            with av_errors(path, "cannot convert the audio"):
                out = resampler.resample(frame)
            for o in out:
                data = o.to_ndarray()
                if first is None:
                    if o.pts is not None and o.time_base:
                        first = round(Fraction(o.pts) * Fraction(o.time_base) * rate) - origin_samples
                    elif in_first_time is not None:
                        first = round((in_first_time - origin) * rate)
                    else:
                        first = 0
                chunks.append(data)
                count += data.shape[1]
                if end is not None and first + count >= end:
                    done = True
            if progress is not None and duration and first is not None:
                progress(min(1.0, (first + count) / rate / duration))
            if frame is None:
                break
    finally:
        with av_errors(path, "cannot close the file"):
            container.close()
    if first is None:
        raise MediaError(f"{name}: the audio stream has no samples")
    sound = np.concatenate(chunks, axis=1).T if chunks else np.zeros((0, channels), np.float32)
    stop = end if end is not None else max(start, first + count)
    out = np.zeros((stop - start, channels), np.float32)
    lo, hi = max(start, first), min(stop, first + count)
    if hi > lo:
        out[lo - start:hi - start] = sound[lo - first:hi - first]
    return out


def sample_index(frame, rate, sample_rate: int) -> int:
    """First output sample of sequence ``frame``: ``round(frame / rate * sample_rate)``, exactly."""
    return round(Fraction(frame) * int(sample_rate) / Fraction(rate))


# ------------------------------------------------------------------ reading at fractional positions


def _kaiser(x: np.ndarray) -> np.ndarray:
    """Kaiser window on -1..1 (zero outside)."""
    inside = np.abs(x) < 1.0
    arg = np.sqrt(np.clip(1.0 - x * x, 0.0, 1.0))
    return np.where(inside, np.i0(_KAISER_BETA * arg) / np.i0(_KAISER_BETA), 0.0)


@functools.lru_cache(maxsize=16)
def _kernels(cutoff: float, half: int, phases: int) -> np.ndarray:
    """float32 ``[phases, 2 * half]``: normalised windowed-sinc taps for positions ``k / phases`` past a sample.

    Row ``q`` weighs input samples ``-half + 1 .. half`` (relative to the
    sample before the position); each row sums to 1, so a constant stays one.
    """
    frac = np.arange(phases, dtype=np.float64) / phases
    taps = np.arange(-half + 1, half + 1, dtype=np.float64)
    dist = frac[:, None] - taps[None, :]
    w = cutoff * np.sinc(cutoff * dist) * _kaiser(dist / half)
    w /= w.sum(axis=1, keepdims=True)
    out = w.astype(np.float32)
    out.flags.writeable = False
    return out


def _interpolate(data: np.ndarray, first: int, start: Fraction, step: Fraction, n: int) -> np.ndarray:
    """``data`` (sample ``i`` is media sample ``first + i``) read at positions ``start + k * step``, k < n.

    Windowed sinc with 16 zero crossings and a cut-off of ``min(1, 1 / step)``
    of Nyquist (no aliasing when reading faster). Positions are kept as exact
    integers over a common denominator ``D``, so the phase of every output
    sample is exact; the kernels for the ``D`` phases (at most 4096, else the
    phase is rounded to 1/4096 of a sample) are computed once.
    """
    start, step = Fraction(start) - first, Fraction(step)
    if math.lcm(start.denominator, step.denominator) > 1 << 32:  # keep the integer maths inside int64
        start, step = start.limit_denominator(1 << 20), step.limit_denominator(1 << 20)
    den = math.lcm(start.denominator, step.denominator)
    cutoff = min(1.0, 1.0 / float(step))
    half = _half_width(step)
    if den <= _PHASES:
        return _polyphase(data, start, step, n, den, cutoff, half)
    phases = _PHASES
    table = _kernels(round(cutoff, 12), half, phases)
    a0, b = int(start * den), int(step * den)
    out = np.empty((n, data.shape[1]), np.float32)
    block = max(1024, (1 << 20) // (2 * half))
    taps = np.arange(-half + 1, half + 1, dtype=np.int64)
    for s in range(0, n, block):
        k = np.arange(s, min(n, s + block), dtype=np.int64)
        num = a0 + k * b
        whole, phase = num // den, num % den
        if phases != den:
            phase = (phase * phases + den // 2) // den
            whole += phase // phases
            phase %= phases
        idx = whole[:, None] + taps[None, :]
        if idx[0, 0] < 0 or idx[-1, -1] >= data.shape[0]:
            np.clip(idx, 0, data.shape[0] - 1, out=idx)
        out[s:s + k.size] = np.einsum("nk,nkc->nc", table[phase], data[idx], optimize=True)
    return out


def _polyphase(data: np.ndarray, start: Fraction, step: Fraction, n: int, den: int, cutoff: float,
               half: int) -> np.ndarray:
    """:func:`_interpolate` for exact phases ``k / den``: one polyphase FIR pass (scipy's upfirdn, in C).

    Upsampling by ``den``, filtering with the windowed sinc ``h`` and keeping
    every ``b``-th sample reads the input at positions ``(m * b - c) / den``;
    the input's first sample ``j0`` and the kernel's centre ``c`` are chosen so
    that output ``m0 + k`` is position ``start + k * step``.
    """
    from scipy.signal import upfirdn

    a0, b = int(start * den), int(step * den)
    j0 = a0 // den - half - 1  # the first input sample any output needs
    r = a0 - j0 * den  # position of output 0 past j0, in 1/den samples
    m0 = -(-(r + half * den) // b)  # first output whose kernel lies wholly at t >= 0
    c = m0 * b - r
    t = np.arange(c + half * den + 1)
    d = (t - c) / den
    h = cutoff * np.sinc(cutoff * d) * _kaiser(d / half)
    sums = np.bincount(t % den, weights=h, minlength=den)
    h = (h / sums[t % den]).astype(np.float32)  # each phase's taps sum to 1: a constant stays constant
    j1 = (a0 + (n - 1) * b) // den + half + 2
    x = data[max(0, j0):min(len(data), j1)]
    if j0 < 0 or j1 > len(data):
        x = np.concatenate([np.zeros((max(0, -j0), data.shape[1]), np.float32), x,
                            np.zeros((max(0, j1 - len(data)), data.shape[1]), np.float32)])
    y = upfirdn(h, x, up=den, down=b, axis=0)
    return np.ascontiguousarray(y[m0:m0 + n], dtype=np.float32)


# ------------------------------------------------------------------ the mix


@dataclass
class _Part:
    """One clip's audible samples in the requested range and where they come from."""

    clip: Clip
    j0: int  # absolute output samples [j0, j1)
    j1: int
    tr_in: Optional[Transition]
    tr_out: Optional[Transition]
    off: Fraction  # media sample position (at the media's own rate) of output sample 0 ...
    step: Fraction  # ... and media samples per output sample: position(j) = off + j * step
    lo: int = 0  # media samples needed [lo, hi)
    hi: int = 0


def _media_rate(tl: Timeline, clip: Clip) -> int:
    from core.project.media_store import get_media

    record = get_media(tl.project, clip.media_id)
    audio = record.info.audio
    if audio is None or not audio.sample_rate:
        raise NoAudioError(f"{record.name}: no audio stream (clip {clip.name or clip.id} is on an audio track)")
    return int(audio.sample_rate)


def _half_width(step) -> int:
    """Taps each side of the interpolation kernel for reading ``step`` media samples per output sample."""
    return int(math.ceil(_ZERO_CROSSINGS * max(1.0, float(step))))


def _parts(tl: Timeline, track_id: int, j_start: int, j_end: int, sr: int, rates: dict[int, int]) -> list[_Part]:
    rate = Fraction(tl.rate)
    trans = tl.transitions_on(track_id)
    into = {t.clip_b: t for t in trans}
    out_of = {t.clip_a: t for t in trans}
    f_start = math.floor(Fraction(j_start) * rate / sr)
    f_end = math.ceil(Fraction(j_end) * rate / sr)
    reach = max((t.duration for t in trans), default=0)
    parts = []
    for c in tl.clips_in_range(track_id, f_start - reach, f_end + reach):
        tin, tout = into.get(c.id), out_of.get(c.id)
        j0 = max(j_start, sample_index(c.start - (tin.left if tin else 0), rate, sr))
        j1 = min(j_end, sample_index(c.end + (tout.right if tout else 0), rate, sr))
        if j1 <= j0:
            continue
        if c.media_id not in rates:
            rates[c.media_id] = _media_rate(tl, c)
        mr = rates[c.media_id]
        speed = Fraction(c.speed)
        # media time at output sample j: source_in / rate + (j / sr - start / rate) * speed
        off = Fraction(c.source_in * mr) / rate - Fraction(c.start * mr) / rate * speed
        step = speed * mr / sr
        part = _Part(c, j0, j1, tin, tout, off, step)
        first, last = off + j0 * step, off + (j1 - 1) * step
        pad = 0 if step == 1 else _half_width(step) + 2
        part.lo, part.hi = math.floor(first) - pad - 1, math.ceil(last) + pad + 2
        parts.append(part)
    return parts


def _keyed(value, frames: np.ndarray) -> np.ndarray:
    """A keyed value at fractional ``frames``: evaluated on every whole frame, straight lines between.

    Exact for linear keys (keys sit on whole frames); a bezier is followed to
    within a frame; a hold step becomes a one-frame ramp (no click).
    """
    lo, hi = math.floor(frames.min()), math.ceil(frames.max())
    grid = np.arange(lo, hi + 1, dtype=np.float64)
    return np.interp(frames, grid, keyframes.evaluate(value, grid))


def _gains(tl: Timeline, part: _Part, j: np.ndarray, sr: int) -> np.ndarray | float:
    """Per-sample gain of a clip part: volume, fades, crossfade curves."""
    rate = Fraction(tl.rate)
    c = part.clip
    seq_frames = j * float(rate / sr)  # a float64 holds frames to ~1e-9 of a sample here
    local = seq_frames - c.start
    props = c.properties
    gain: np.ndarray | float = 1.0
    volume = props.get("volume", 1.0)
    if keyframes.is_animated(volume):
        gain = _keyed(volume, local)
    elif float(volume) != 1.0:
        gain = float(volume)
    fade_in = float(props.get("fade_in", 0) or 0)
    fade_out = float(props.get("fade_out", 0) or 0)
    if fade_in > 0 and part.tr_in is None:
        gain = gain * np.sin(0.5 * np.pi * np.clip(local / fade_in, 0.0, 1.0))
    if fade_out > 0 and part.tr_out is None:
        gain = gain * np.sin(0.5 * np.pi * np.clip((c.duration - local) / fade_out, 0.0, 1.0))
    for tr, rising in ((part.tr_in, True), (part.tr_out, False)):
        if tr is None:
            continue
        a, _b = tl.transition_span(tr)
        u = np.clip((seq_frames - a) / tr.duration, 0.0, 1.0)
        gain = gain * (np.sin(0.5 * np.pi * u) if rising else np.cos(0.5 * np.pi * u))
    return gain


def _clip_samples(part: _Part, sound: tuple[int, np.ndarray]) -> np.ndarray:
    first, data = sound
    n = part.j1 - part.j0
    p0 = part.off + part.j0 * part.step
    if part.step == 1:
        i0 = round(p0) - first  # a sub-sample offset (at most half a sample) is rounded
        return data[i0:i0 + n]
    return _interpolate(data, first, p0, part.step, n)


def mixdown(timeline: Timeline, start: int, end: int, sample_rate: int = 48000, channels: int = 2,
            cancelled: CancelledFn | None = None) -> np.ndarray:
    """The mix of the audible audio tracks over sequence frames ``[start, end)``.

    Returns float32 ``[S(end) - S(start), channels]`` (see the module notes for
    timing, speed, gains and transitions). Each media file is decoded once per
    call, at its own rate, over the span its clips need.
    """
    tl = timeline
    sr = int(sample_rate)
    if sr <= 0:
        raise MediaError(f"sample rate {sample_rate} is not valid")
    _layout(channels)
    rate = Fraction(tl.rate)
    j_start, j_end = sample_index(start, rate, sr), sample_index(end, rate, sr)
    n = max(0, j_end - j_start)
    mix = np.zeros((n, channels), np.float32)
    if n == 0:
        return mix
    rates: dict[int, int] = {}
    tracks = [(t, _parts(tl, t.id, j_start, j_end, sr, rates)) for t in tl.audible_tracks()]
    spans: dict[int, tuple[int, int]] = {}
    for _, parts in tracks:
        for p in parts:
            lo, hi = spans.get(p.clip.media_id, (p.lo, p.hi))
            spans[p.clip.media_id] = (min(lo, p.lo), max(hi, p.hi))
    sounds: dict[int, tuple[int, np.ndarray]] = {}
    for media_id, (lo, hi) in spans.items():
        path = media_path(tl.project, media_id)
        sounds[media_id] = (lo, decode_audio(path, None, channels, lo, hi, cancelled=cancelled))
    seq_frames = None
    for track, parts in tracks:
        if not parts:
            continue
        bus = np.zeros((n, channels), np.float32)
        for p in parts:
            if cancelled is not None:
                check_cancelled(cancelled)
            samples = _clip_samples(p, sounds[p.clip.media_id])
            g = _gains(tl, p, np.arange(p.j0, p.j1, dtype=np.float64), sr)
            if isinstance(g, np.ndarray):
                samples = samples * g.astype(np.float32)[:, None]
            elif g != 1.0:
                samples = samples * np.float32(g)
            bus[p.j0 - j_start:p.j1 - j_start] += samples
        volume = track.properties.get("volume", 1.0)
        if keyframes.is_animated(volume):
            if seq_frames is None:
                seq_frames = np.arange(j_start, j_end, dtype=np.float64) * float(rate / sr)
            bus *= _keyed(volume, seq_frames).astype(np.float32)[:, None]
        elif float(volume) != 1.0:
            bus *= np.float32(volume)
        mix += bus
    return mix


# ------------------------------------------------------------------ waveform peaks


def peaks(project: Project, media_id: int, samples_per_peak: Optional[int] = None,
          frame_rate=None) -> np.ndarray:
    """float32 ``(n, 2)`` (min, max) of a media's sound (channels averaged) for drawing.

    Either ``samples_per_peak`` (buckets of that many samples at the file's own
    rate, via :func:`core.media.waveform.waveform_peaks`) or ``frame_rate``: one
    bucket per frame at that (sequence) rate, bucket ``k`` covering media time
    ``[k / rate, (k + 1) / rate)`` exactly (bucket edges rounded to samples),
    so a clip's waveform lines up with its frames.
    """
    from core.media.waveform import iter_audio, waveform_peaks

    path = media_path(project, media_id)
    if (samples_per_peak is None) == (frame_rate is None):
        raise ValueError("give samples_per_peak or frame_rate")
    if samples_per_peak is not None:
        return waveform_peaks(path, samples_per_peak=samples_per_peak)
    frame_rate = Fraction(frame_rate)
    if frame_rate <= 0:
        raise ValueError("frame_rate must be positive")
    num, den = frame_rate.numerator, frame_rate.denominator
    pieces: list[np.ndarray] = []
    buf = np.zeros(0, np.float32)
    done = 0  # samples before buf
    k = 0  # next bucket
    sr = None
    for chunk, sr in iter_audio(path):
        buf = np.concatenate([buf, chunk.mean(axis=0, dtype=np.float32)])
        avail = done + buf.size
        # bucket i starts at sample round(i * sr / frame_rate); close the buckets that end inside buf
        k_end = (avail * num) // (sr * den)
        edges = (2 * np.arange(k, k_end + 1, dtype=np.int64) * sr * den + num) // (2 * num)
        edges = edges[edges <= avail]
        if edges.size > 1:
            edges -= done
            pieces.append(_reduce(buf, edges))
            buf = buf[edges[-1]:]
            done += int(edges[-1])
            k += edges.size - 1
    if sr is None:
        raise MediaError(f"{Path(path).name}: the audio stream has no samples")
    if buf.size:
        pieces.append(np.array([[buf.min(), buf.max()]], np.float32))
    if not pieces:
        return np.zeros((0, 2), np.float32)
    return np.concatenate(pieces, axis=0)


def _reduce(buf: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """(min, max) of ``buf[edges[i]:edges[i+1]]`` for each i (empty buckets repeat the sample at their edge)."""
    starts = edges[:-1].astype(np.int64)
    stops = edges[1:].astype(np.int64)
    ok = stops > starts
    safe = np.minimum(starts, buf.size - 1)
    lo = np.minimum.reduceat(buf, safe) if buf.size else np.zeros(len(starts), np.float32)
    hi = np.maximum.reduceat(buf, safe) if buf.size else np.zeros(len(starts), np.float32)
    # reduceat over [safe[i], safe[i+1]) is right for non-empty buckets in order; the last bucket stops at stops[-1]
    last = slice(int(safe[-1]), int(stops[-1]))
    if ok[-1]:
        lo[-1], hi[-1] = buf[last].min(), buf[last].max()
    lo = np.where(ok, lo, buf[safe])
    hi = np.where(ok, hi, buf[safe])
    return np.stack([lo, hi], axis=1).astype(np.float32)
