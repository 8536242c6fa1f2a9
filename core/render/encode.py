"""Writing media files with PyAV: the :class:`Encoder` and audio pass-through.

:class:`Encoder` opens an output file for a :class:`~core.render.profiles.RenderProfile`
at a given size and rate, and takes

* video: RGB uint8 frames (``write``), numbered in order from 0 at the
  output rate (so an output is constant frame rate, frame ``k`` at ``k / rate``);
* audio: either packets copied from a source stream (``add_audio_copy`` +
  ``mux_audio_packet``: the audio stays bit-identical) or samples to encode
  (``add_audio_encoder`` + ``write_audio``).

The file is written to ``NAME.part.EXT`` beside the target and renamed when
:meth:`Encoder.close` succeeds; on an error or a cancel (leaving the ``with``
block by an exception, or :meth:`Encoder.abort`) the partial file is removed,
so a target path never holds a half-written render.

:class:`AudioPass` feeds the audio of a source file into an encoder a little
ahead of the video (so the muxer can interleave without buffering the whole
track): copying packets when the container accepts the codec, else decoding
and re-encoding with the profile's audio codec.

Every av error is turned into a :class:`~core.errors.MediaError` naming the
file (``core.media._av``).
"""

from __future__ import annotations

import logging
import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from core.errors import MediaError
from core.media._av import PathLike, av_errors, decode_packets, display_name, open_input, reason
from core.render.profiles import RenderProfile

log = logging.getLogger(__name__)

_FASTSTART_SUFFIXES = {".mp4", ".mov", ".m4v"}
_FEED_AHEAD = Fraction(1, 2)  # seconds of audio muxed ahead of the video


def standard_layout(channels: int) -> str:
    """A channel layout encoders accept for ``channels`` (files often say just "2 channels")."""
    return {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 6: "5.1", 8: "7.1"}.get(int(channels), "stereo")


_MP4_AUDIO = {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"}


def _copyable(suffix: str, codec: str, layout: str) -> bool:
    """Whether audio packets of ``codec`` can be copied into a ``suffix`` file (FFmpeg accepts
    PCM in MP4 but fails writing it there, and an unnamed PCM layout anywhere)."""
    if codec.startswith("pcm_") and (suffix in (".mp4", ".m4v") or "channels" in layout):
        return False
    return codec in _MP4_AUDIO if suffix in (".mp4", ".m4v") else True


def part_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.part{path.suffix}")


class Encoder:
    """An output file: one video stream at ``profile`` (``size`` (w, h), ``rate``), optional audio.

    Use as a context manager; add audio streams before the first ``write``.
    """

    def __init__(self, path: PathLike, profile: RenderProfile, size: tuple[int, int], rate: Fraction):
        self.path = Path(path)
        self.profile = profile
        self.size = (int(size[0]), int(size[1]))
        self.rate = Fraction(rate)
        self.frames = 0
        self.audio_mode: str | None = None  # "copy" / "encode" / None
        self._audio = None
        self._audio_samples = 0
        self._closed = False
        name = display_name(self.path)
        if not self.path.suffix:
            raise MediaError(f"{name}: give the output a file extension (.mp4, .mov, .mkv)")
        if not self.path.parent.is_dir():
            raise MediaError(f"{name}: the folder {self.path.parent} does not exist")
        self._part = part_path(self.path)
        options = {}
        if profile.faststart and self.path.suffix.lower() in _FASTSTART_SUFFIXES:
            options["movflags"] = "+faststart"
        try:
            self._out = av.open(str(self._part), mode="w", options=options)
        except (av.FFmpegError, ValueError) as exc:
            raise MediaError(f"{name}: cannot write this kind of file ({reason(exc)})") from exc
        try:
            with av_errors(self.path, f"cannot encode with {profile.video_codec}"):
                vs = self._out.add_stream(profile.video_codec, rate=self.rate, options=dict(profile.options))
                vs.width, vs.height = self.size
                vs.pix_fmt = profile.pix_fmt
                cc = vs.codec_context
                cc.time_base = 1 / self.rate
                if profile.gop:
                    cc.gop_size = int(profile.gop)
                if profile.bit_rate:
                    cc.bit_rate = int(profile.bit_rate)
            self._video = vs
        except BaseException:
            self.abort()
            raise

    # ------------------------------------------------------------ streams

    def add_audio_copy(self, template) -> bool:
        """Add an audio stream that takes packets copied from the input stream ``template``;
        False (nothing added) when this container cannot hold that codec."""
        cc = template.codec_context
        if not _copyable(self.path.suffix.lower(), cc.name, cc.layout.name if cc.layout else ""):
            return False
        try:
            self._audio = self._out.add_stream_from_template(template)
        except ValueError as exc:  # "format does not support codec"
            log.info("%s: cannot copy %s audio (%s); it will be re-encoded", self.path.name,
                     template.codec_context.name, exc)
            return False
        self.audio_mode = "copy"
        return True

    def add_audio_encoder(self, sample_rate: int, layout: str = "stereo"):
        """Add an audio stream encoded with the profile's codec at ``sample_rate``/``layout``."""
        with av_errors(self.path, f"cannot encode audio with {self.profile.audio_codec}"):
            a = self._out.add_stream(self.profile.audio_codec, rate=int(sample_rate))
            a.layout = layout
            if self.profile.audio_bitrate:
                a.codec_context.bit_rate = int(self.profile.audio_bitrate)
        self._audio = a
        self.audio_mode = "encode"
        return a

    @property
    def audio_stream(self):
        return self._audio

    @property
    def seconds(self) -> Fraction:
        """Duration of the video written so far."""
        return self.frames / self.rate

    # -------------------------------------------------------------- write

    def write(self, rgb: np.ndarray | av.VideoFrame, repeat: int = 1) -> None:
        """Encode the next frame (RGB uint8 [h, w, 3] of the output size), ``repeat`` times."""
        if isinstance(rgb, av.VideoFrame):
            frame = rgb
        else:
            if rgb.shape[:2] != (self.size[1], self.size[0]):
                raise MediaError(f"{self.path.name}: frame of {rgb.shape[1]}x{rgb.shape[0]} given to a "
                                 f"{self.size[0]}x{self.size[1]} render")
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        frame.time_base = 1 / self.rate
        with av_errors(self.path, "cannot encode the video"):
            for _ in range(repeat):
                frame.pts = self.frames
                self._out.mux(self._video.encode(frame))
                self.frames += 1

    def mux_audio_packet(self, packet: av.Packet) -> None:
        """Mux a copied audio packet (timestamps in its own time base, already offset)."""
        packet.stream = self._audio
        with av_errors(self.path, "cannot write the audio"):
            self._out.mux(packet)

    def write_audio(self, samples: np.ndarray | av.AudioFrame) -> None:
        """Encode the next audio samples: float32 [channels, n] (or an AudioFrame), gap-free."""
        a = self._audio
        if isinstance(samples, av.AudioFrame):
            frame = samples
        else:
            data = np.ascontiguousarray(samples, dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(data, format="fltp", layout=a.layout.name)
        rate = a.codec_context.sample_rate
        frame.sample_rate = rate
        frame.time_base = Fraction(1, rate)
        frame.pts = self._audio_samples
        self._audio_samples += frame.samples
        with av_errors(self.path, "cannot encode the audio"):
            self._out.mux(a.encode(frame))

    # -------------------------------------------------------------- close

    def close(self) -> Path:
        """Flush the encoders, finish the file and move it to its final name."""
        if self._closed:
            return self.path
        try:
            with av_errors(self.path, "cannot finish the file"):
                self._out.mux(self._video.encode(None))
                if self.audio_mode == "encode":
                    self._out.mux(self._audio.encode(None))
                self._out.close()
        except BaseException:
            self.abort()
            raise
        self._closed = True
        try:
            os.replace(self._part, self.path)
        except OSError as exc:
            self._part.unlink(missing_ok=True)
            raise MediaError(f"{self.path.name}: cannot write the file ({exc.strerror or exc})") from exc
        return self.path

    def abort(self) -> None:
        """Stop without finishing: the partial file is removed."""
        if self._closed:
            return
        self._closed = True
        try:
            self._out.close()
        except (av.FFmpegError, ValueError, OSError) as exc:  # closing a half-written file
            log.debug("%s: closing an aborted render: %s", self.path.name, exc)
        self._part.unlink(missing_ok=True)

    def __enter__(self) -> "Encoder":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class AudioPass:
    """Pass the first audio stream of ``source`` into ``encoder`` (create before writing video).

    ``start``: source time (seconds) that is time 0 of the output (the source
    video's start), so audio stays in sync with the video. ``mode`` is "copy"
    (packets muxed untouched) or "encode" (decoded and re-encoded).
    """

    def __init__(self, encoder: Encoder, source: PathLike, start: Fraction = Fraction(0), force_encode=False):
        self.encoder = encoder
        self.source = Path(source)
        self._in = open_input(self.source)
        try:
            with av_errors(self.source, "cannot read the audio"):
                streams = [s for s in self._in.streams.audio if (s.codec_context.sample_rate or 0) > 0]
                if not streams:
                    raise MediaError(f"{display_name(self.source)}: no audio stream")
                self._stream = streams[0]
                copy = (encoder.profile.audio == "copy" and not force_encode
                        and encoder.add_audio_copy(self._stream))
                if not copy:
                    cc = self._stream.codec_context
                    encoder.add_audio_encoder(cc.sample_rate, standard_layout(cc.channels))
                    self._resampler = av.AudioResampler(format="fltp", layout=encoder.audio_stream.layout.name,
                                                        rate=cc.sample_rate)
            self.mode = encoder.audio_mode
            tb = Fraction(self._stream.time_base)
            self._shift = int(round(Fraction(start) / tb))
            self._tb = tb
            self._items = self._packets() if self.mode == "copy" else self._frames()
            self._pending = None
            self._done = False
        except BaseException:
            self.close()
            raise

    def _packets(self):
        for packet in self._in.demux(self._stream):
            if packet.dts is None and packet.pts is None:
                continue  # the demuxer's flush packet
            if packet.pts is not None:
                packet.pts -= self._shift
            if packet.dts is not None:
                packet.dts -= self._shift
            yield packet, (packet.pts if packet.pts is not None else packet.dts) * self._tb

    def _frames(self):
        first = True
        for frame in decode_packets(self._in, self._stream, self.source):
            t = (frame.pts - self._shift) * self._tb if frame.pts is not None else Fraction(0)
            if first and t > 0:  # the audio starts after the video: silence before it
                rate = self.encoder.audio_stream.codec_context.sample_rate
                channels = self.encoder.audio_stream.layout.nb_channels
                yield np.zeros((channels, int(round(t * rate))), np.float32), Fraction(0)
            first = False
            for out in self._resampler.resample(frame):
                yield out, t

    def feed_until(self, seconds: Fraction) -> None:
        """Mux/encode the source audio up to ``seconds`` (+ a little ahead) of output time."""
        if self._done:
            return
        limit = Fraction(seconds) + _FEED_AHEAD
        with av_errors(self.source, "cannot read the audio"):
            while True:
                if self._pending is None:
                    try:
                        self._pending = next(self._items)
                    except StopIteration:
                        self._done = True
                        return
                item, t = self._pending
                if t > limit:
                    return
                self._pending = None
                if self.mode == "copy":
                    self.encoder.mux_audio_packet(item)
                else:
                    self.encoder.write_audio(item)

    def finish(self) -> None:
        """Pass the rest of the audio and close the source."""
        try:
            while not self._done:
                self.feed_until(Fraction(10**9))
            if self.mode == "encode":
                with av_errors(self.source, "cannot read the audio"):
                    for out in self._resampler.resample(None):
                        self.encoder.write_audio(out)
        finally:
            self.close()

    def close(self) -> None:
        if self._in is not None:
            self._in.close()
            self._in = None
