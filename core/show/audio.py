"""Sequence audio: the mix of the audio tracks, played through PortAudio as the master clock.

:class:`SequenceAudio` decodes the sound of every media file on the unmuted
audio tracks once (float32 at the output rate, kept per media) and mixes any
span of the sequence on demand: for each clip under the span, one slice add.

:class:`AudioOutput` plays that mix through ``sounddevice`` and hands the
transport its stream clock: while it runs, the transport's time *is* the
audio device's time, so picture and DMX follow what is heard. Each callback
asks the transport where the sequence will be when its first sample reaches
the speaker (``outputBufferDacTime``) and copies the mix from there. Sound is
played at speed 1 only; shuttling, paused or outside the sequence it is
silence. Without PortAudio or without an output device it raises
:class:`AudioUnavailable` and the caller keeps the monotonic clock.
"""

from __future__ import annotations

import threading
import time
from fractions import Fraction
from typing import Callable

import numpy as np

from core.errors import LumaError, MediaError
from core.show.transport import Transport
from core.timeline.model import Timeline


class AudioUnavailable(LumaError):
    """No audio output can be opened (no PortAudio library or no output device)."""


Loader = Callable[[str, int], tuple[np.ndarray, int]]


def _default_loader(path: str, rate: int) -> tuple[np.ndarray, int]:
    from core.media.waveform import extract_audio

    return extract_audio(path, rate)


class SequenceAudio:
    def __init__(self, timeline: Timeline, sample_rate: int = 48000, channels: int = 2,
                 loader: Loader = _default_loader, media_cache: dict[int, np.ndarray] | None = None):
        self.timeline = timeline
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self.loader = loader
        # media id -> float32 [n, channels]; share one dict between mixes so a re-mix after an edit
        # decodes only media it has not seen
        self._media: dict[int, np.ndarray] = {} if media_cache is None else media_cache
        self._spans: list[tuple[int, int, int, int]] = []  # (seq start, seq end, media id, media offset), samples
        self.errors: list[str] = []

    def load(self) -> None:
        """Decode the sound of every clip on the unmuted audio tracks (slow: run it off the GUI thread)."""
        tl = self.timeline
        rate = Fraction(tl.rate)
        spans = []
        self.errors = []
        for track in tl.audio_tracks():
            if track.muted:
                continue
            for clip in tl.clips_on(track.id):
                if clip.media_id not in self._media:
                    try:
                        self._media[clip.media_id] = self._decode(clip.media_id)
                    except MediaError as exc:
                        self.errors.append(str(exc))
                        self._media[clip.media_id] = np.zeros((0, self.channels), np.float32)
                start = round(Fraction(clip.start) / rate * self.sample_rate)
                end = round(Fraction(clip.end) / rate * self.sample_rate)
                offset = round(Fraction(clip.source_in) / rate * self.sample_rate)
                spans.append((start, end, clip.media_id, offset))
        self._spans = sorted(spans)

    def _decode(self, media_id: int) -> np.ndarray:
        row = self.timeline.project.query("SELECT path FROM media WHERE id = ?", (media_id,))
        if not row:
            raise MediaError(f"media #{media_id} is not in the project")
        path = str(self.timeline.project.absolute_path(row[0][0]))
        samples, _ = self.loader(path, self.sample_rate)  # [channels, n]
        samples = np.asarray(samples, dtype=np.float32)
        if samples.shape[0] == self.channels:
            out = samples
        elif samples.shape[0] == 1:
            out = np.repeat(samples, self.channels, axis=0)
        else:  # fold any other layout down to mono, then spread it
            out = np.repeat(samples.mean(axis=0, keepdims=True), self.channels, axis=0)
        return np.ascontiguousarray(out.T)

    @property
    def has_audio(self) -> bool:
        return any(self._media.get(m) is not None and len(self._media[m]) for _, _, m, _ in self._spans)

    def read(self, start: int, count: int) -> np.ndarray:
        """float32 [count, channels]: the mix of sequence samples ``start .. start + count``."""
        out = np.zeros((count, self.channels), dtype=np.float32)
        end = start + count
        for s0, s1, media_id, offset in self._spans:
            if s1 <= start or s0 >= end:
                continue
            src = self._media[media_id]
            a, b = max(s0, start), min(s1, end)
            m0 = a - s0 + offset
            m1 = min(m0 + (b - a), len(src))
            if m1 > m0:
                out[a - start:a - start + (m1 - m0)] += src[m0:m1]
        np.clip(out, -1.0, 1.0, out=out)
        return out


class AudioOutput:
    """Plays a :class:`SequenceAudio` in step with a transport and lends it the stream clock."""

    def __init__(self, audio: SequenceAudio, transport: Transport, device=None, blocksize: int = 512):
        self.audio = audio
        self.transport = transport
        self.device = device
        self.blocksize = blocksize
        self._stream = None
        self.callbacks = 0
        self.underflows = 0

    def start(self) -> None:
        try:
            import sounddevice as sd
        except OSError as exc:  # the PortAudio library itself is missing
            raise AudioUnavailable(f"no audio: PortAudio is not installed ({exc}); "
                                   "install it with: sudo apt install libportaudio2") from None
        try:
            stream = sd.OutputStream(samplerate=self.audio.sample_rate, channels=self.audio.channels,
                                     dtype="float32", blocksize=self.blocksize, device=self.device,
                                     latency="low", callback=self._callback)
            stream.start()
        except Exception as exc:  # sounddevice raises PortAudioError / ValueError for no device
            raise AudioUnavailable(f"no audio output device ({exc}); playing on the system clock") from None
        self._stream = stream
        self.transport.set_clock(self.clock)

    def clock(self) -> float:
        return float(self._stream.time)

    @property
    def running(self) -> bool:
        return self._stream is not None and self._stream.active

    def _callback(self, outdata, frames, time_info, status) -> None:
        self.callbacks += 1
        if status.output_underflow:
            self.underflows += 1
        tr = self.transport
        if tr.speed != 1:
            outdata.fill(0)
            return
        seconds = float(tr.position_at(time_info.outputBufferDacTime) / tr.rate)
        start = round(seconds * self.audio.sample_rate)
        if start + frames <= 0:
            outdata.fill(0)
            return
        outdata[:] = self.audio.read(start, frames)

    def stop(self) -> None:
        stream = self._stream
        if stream is None:
            return
        self.transport.set_clock(time.monotonic)  # first: other threads still read the clock
        self._stream = None
        stream.stop()
        stream.close()


class AudioPlayback:
    """The sound of a timeline for an interactive player: loads the mix in the background, opens
    the output stream the first time playback starts, and keeps it (the transport then follows the
    stream clock for good). Edits reload the mix in the background and swap it in whole.

    ``status`` says what is happening in words; when no device can be opened it gives the reason
    once and playback stays on the monotonic clock.
    """

    def __init__(self, timeline: Timeline, transport: Transport, device=None, loader: Loader = _default_loader):
        self.timeline = timeline
        self.transport = transport
        self.device = device
        self.loader = loader
        self.mix: SequenceAudio | None = None
        self.output: AudioOutput | None = None
        self.status = "loading the sequence audio"
        self.unavailable: str | None = None
        self._generation = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._media_cache: dict[int, np.ndarray] = {}
        self.reload()

    def reload(self) -> None:
        """Rebuild the mix from the timeline (after an edit), off the calling thread."""
        with self._lock:
            self._generation += 1
            generation = self._generation
        thread = threading.Thread(target=self._load, args=(generation,), name="luma-audio-load", daemon=True)
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _load(self, generation: int) -> None:
        mix = SequenceAudio(self.timeline, loader=self.loader, media_cache=self._media_cache)
        try:
            mix.load()
        except Exception as exc:  # reported in the status; the picture keeps playing
            with self._lock:
                if generation == self._generation:
                    self.status = f"audio could not be loaded: {exc}"
            return
        with self._lock:
            if generation != self._generation or self._closed:
                return
            self.mix = mix
            if self.output is not None:
                self.output.audio = mix  # the callback picks up the new mix on its next block
            if mix.errors:
                self.status = "; ".join(mix.errors)
            elif self.output is None:
                self.status = "ready" if mix.has_audio else "no audio in the sequence"

    def wait_loaded(self, timeout: float = 30.0) -> bool:
        for t in list(self._threads):
            t.join(timeout)
        return self.mix is not None

    def start(self) -> str | None:
        """Open the stream if there is sound to play; returns why there is no sound, if so."""
        with self._lock:
            if self.output is not None or self._closed:
                return None
            if self.unavailable is not None:
                return self.unavailable
            mix = self.mix
        if mix is None or not mix.has_audio:
            return None  # nothing to hear (yet): the monotonic clock is the master
        out = AudioOutput(mix, self.transport, device=self.device)
        try:
            out.start()
        except AudioUnavailable as exc:
            with self._lock:
                self.unavailable = self.status = str(exc)
            return self.unavailable
        with self._lock:
            if self._closed:
                out.stop()
                return None
            self.output = out
            self.status = "playing through PortAudio (the audio clock is the master)"
        return None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._generation += 1
            out, self.output = self.output, None
        if out is not None:
            out.stop()
