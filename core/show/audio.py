"""Sequence audio: the mix of the audio tracks, played through PortAudio as the master clock.

:class:`SequenceAudio` renders the sequence's mix once with
:func:`core.audio.mix.mixdown` (what a render writes, so what is heard is what
renders) and hands out blocks of it.

:class:`AudioOutput` plays that mix through ``sounddevice`` and hands the
transport its stream clock: while it runs, the transport's time *is* the
audio device's time, so picture and DMX follow what is heard. Each callback
asks the transport where the sequence will be when its first sample reaches
the speaker (``outputBufferDacTime``) and copies the mix from there. Sound is
played at speed 1 only (clip speed changes are in the mix); shuttling, paused or outside the sequence it is
silence. Without PortAudio or without an output device it raises
:class:`AudioUnavailable` and the caller keeps the monotonic clock.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from core.errors import LumaError
from core.show.transport import Transport
from core.timeline.model import Timeline


class AudioUnavailable(LumaError):
    """No audio output can be opened (no PortAudio library or no output device)."""


class SequenceAudio:
    """The sequence's mix, rendered once by :func:`core.audio.mix.mixdown` (the same mix a
    render writes: volumes, fades, crossfades, speed, mute and solo) and read in blocks."""

    def __init__(self, timeline: Timeline, sample_rate: int = 48000, channels: int = 2):
        self.timeline = timeline
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self._mix = np.zeros((0, self.channels), np.float32)
        self._has_clips = False
        self.errors: list[str] = []

    def load(self, cancelled=None) -> None:
        """Mix the whole sequence (slow: run it off the GUI thread). A media error is kept in
        ``errors`` and leaves silence; the picture keeps playing."""
        from core.audio.mix import mixdown

        tl = self.timeline
        self.errors = []
        self._has_clips = any(tl.clips_on(t.id) for t in tl.audible_tracks())
        if not self._has_clips:
            self._mix = np.zeros((0, self.channels), np.float32)
            return
        try:
            mix = mixdown(tl, 0, tl.duration, self.sample_rate, self.channels, cancelled=cancelled)
        except LumaError as exc:
            self.errors.append(str(exc))
            mix = np.zeros((0, self.channels), np.float32)
        self._mix = np.clip(mix, -1.0, 1.0)

    @property
    def has_audio(self) -> bool:
        return self._has_clips and len(self._mix) > 0

    def read(self, start: int, count: int) -> np.ndarray:
        """float32 [count, channels]: the mix of sequence samples ``start .. start + count``."""
        out = np.zeros((count, self.channels), dtype=np.float32)
        a, b = max(0, start), min(len(self._mix), start + count)
        if b > a:
            out[a - start:b - start] = self._mix[a:b]
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

    def __init__(self, timeline: Timeline, transport: Transport, device=None):
        self.timeline = timeline
        self.transport = transport
        self.device = device
        self.mix: SequenceAudio | None = None
        self.output: AudioOutput | None = None
        self.status = "loading the sequence audio"
        self.unavailable: str | None = None
        self._generation = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._closed = False
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
        mix = SequenceAudio(self.timeline)
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
