"""Audio: extraction to float32 arrays and waveform peaks for the timeline.

Audio is decoded with PyAV and converted by ``av.AudioResampler`` to planar
float32 (``fltp``), so every codec and sample format comes out as
``[channels, samples]`` in -1..1. :func:`waveform_peaks` streams: it never
holds more than a second or so of samples, so an hour-long file is fine.
"""

from __future__ import annotations

from typing import Iterator, Optional

import av
import numpy as np

from core.errors import MediaError
from core.media._av import PathLike, av_errors, decode_packets, display_name, open_input, reason

__all__ = ["extract_audio", "iter_audio", "waveform_peaks"]


def _audio_stream(container, path: PathLike):
    streams = [s for s in container.streams.audio if (s.codec_context.sample_rate or 0) > 0]
    if not streams:
        raise MediaError(f"{display_name(path)}: no audio stream")
    return streams[0]


def iter_audio(path: PathLike, sample_rate: Optional[int] = None) -> Iterator[tuple[np.ndarray, int]]:
    """Yield ``(float32 [channels, n] chunk, sample_rate)`` for the first audio stream.

    ``sample_rate=None`` keeps the file's rate. Raises MediaError for a file
    without audio or with corrupt audio.
    """
    name = display_name(path)
    container = open_input(path)
    try:
        with av_errors(path, "cannot read the audio"):
            stream = _audio_stream(container, path)
            rate = int(sample_rate or stream.codec_context.sample_rate)
            resampler = av.AudioResampler(format="fltp", rate=rate)
        decoded = decode_packets(container, stream, path)
        while True:
            try:
                frame = next(decoded)
            except StopIteration:
                break
            except av.FFmpegError as exc:
                raise MediaError(f"{name}: corrupt audio data: {reason(exc)}") from exc
            with av_errors(path, "cannot convert the audio"):
                out = resampler.resample(frame)
            for f in out:
                yield f.to_ndarray(), rate
        with av_errors(path, "cannot convert the audio"):
            tail = resampler.resample(None)
        for f in tail:
            yield f.to_ndarray(), rate
    finally:
        with av_errors(path, "cannot close the file"):
            container.close()


def extract_audio(path: PathLike, sample_rate: int = 48000) -> tuple[np.ndarray, int]:
    """All audio of the first audio stream as float32 ``[channels, n]`` at ``sample_rate``."""
    chunks = []
    rate = sample_rate
    for chunk, rate in iter_audio(path, sample_rate):
        chunks.append(chunk)
    if not chunks:
        raise MediaError(f"{display_name(path)}: the audio stream has no samples")
    samples = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    return samples, rate


def waveform_peaks(
    path: PathLike,
    samples_per_peak: Optional[int] = None,
    peaks_per_second: float = 100,
) -> np.ndarray:
    """float32 ``(n, 2)`` array of (min, max) per bucket of the mixed-down channels.

    Bucket ``k`` covers samples ``[k * spp, (k + 1) * spp)`` at the file's own
    sample rate, where ``spp`` is ``samples_per_peak`` or
    ``round(sample_rate / peaks_per_second)``; the last bucket may be
    shorter. Channels are mixed down by averaging.
    """
    if samples_per_peak is not None and int(samples_per_peak) < 1:
        raise ValueError("samples_per_peak must be at least 1")
    if samples_per_peak is None and not peaks_per_second > 0:
        raise ValueError("peaks_per_second must be positive")
    spp = int(samples_per_peak) if samples_per_peak is not None else None
    pieces: list[np.ndarray] = []
    carry = np.zeros(0, dtype=np.float32)
    pending: list[np.ndarray] = []
    pending_len = 0
    got_samples = False

    def reduce(buf: np.ndarray, final: bool) -> np.ndarray:
        full = (len(buf) // spp) * spp
        if full:
            blocks = buf[:full].reshape(-1, spp)
            pieces.append(np.stack([blocks.min(axis=1), blocks.max(axis=1)], axis=1))
        rest = buf[full:]
        if final and len(rest):
            pieces.append(np.array([[rest.min(), rest.max()]], dtype=np.float32))
        return rest

    for chunk, rate in iter_audio(path):
        if spp is None:
            spp = max(1, int(round(rate / peaks_per_second)))
        got_samples = got_samples or chunk.shape[1] > 0
        pending.append(chunk.mean(axis=0, dtype=np.float32))
        pending_len += chunk.shape[1]
        if pending_len >= 32 * spp:
            carry = reduce(np.concatenate([carry, *pending]), final=False)
            pending, pending_len = [], 0
    if not got_samples:
        raise MediaError(f"{display_name(path)}: the audio stream has no samples")
    reduce(np.concatenate([carry, *pending]), final=True)
    return np.concatenate(pieces, axis=0).astype(np.float32, copy=False)
