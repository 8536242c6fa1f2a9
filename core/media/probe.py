"""Probe a media file: what streams it has, their size, rate, length and codec.

:func:`probe` opens the file with PyAV, reads the container and stream headers
and decodes the first frame (of the video stream, else the audio stream). The
decode proves the file really is media (random bytes sometimes pass FFmpeg's
format sniffing) and gives the display rotation, which FFmpeg attaches to
decoded frames.

Rates and durations are exact :class:`~fractions.Fraction`. The frame count
comes from the container header when it has one (MP4/MOV, AVI), otherwise
from the stream duration (Matroska ``DURATION`` tag) or the container duration
times the rate, rounded; :class:`~core.media.reader.FrameReader` corrects it if
decoding ends earlier.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator, NamedTuple, Optional

import av

from core.errors import MediaError
from core.media._av import PathLike, av_errors, decode_packets, display_name, open_input, reason
from core.time import COMMON_RATES

__all__ = ["AudioInfo", "MediaInfo", "VideoInfo", "probe"]

KINDS = ("video", "audio", "image")

#: formats that hold one still picture (FFmpeg's image demuxers)
_IMAGE_FORMAT_SUFFIX = "_pipe"
_IMAGE_FORMATS = {"image2", "png_pipe", "jpeg_pipe"}

#: FFmpeg "video" codecs for text art: they accept almost any bytes, never media
_TEXT_ART_CODECS = {"ansi", "bintext", "xbin", "idf"}


def _frac_str(value: Optional[Fraction]) -> Optional[str]:
    return None if value is None else f"{value.numerator}/{value.denominator}"


def _frac(value: Any) -> Optional[Fraction]:
    return None if value is None else Fraction(value)


@dataclass(frozen=True)
class VideoInfo:
    width: int
    height: int
    rate: Fraction
    frame_count: int
    codec: str
    pix_fmt: Optional[str]
    rotation: int  # degrees counter-clockwise from the display matrix, 0 if none
    time_base: Fraction
    start_time: Optional[int]  # in time_base units, as the container says
    duration: Fraction  # frame_count / rate

    def to_dict(self) -> dict:
        d = asdict(self)
        for key in ("rate", "time_base", "duration"):
            d[key] = _frac_str(d[key])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "VideoInfo":
        return cls(
            width=int(d["width"]),
            height=int(d["height"]),
            rate=Fraction(d["rate"]),
            frame_count=int(d["frame_count"]),
            codec=str(d["codec"]),
            pix_fmt=d.get("pix_fmt"),
            rotation=int(d.get("rotation", 0)),
            time_base=Fraction(d["time_base"]),
            start_time=None if d.get("start_time") is None else int(d["start_time"]),
            duration=Fraction(d["duration"]),
        )


@dataclass(frozen=True)
class AudioInfo:
    channels: int
    sample_rate: int
    codec: str
    duration: Optional[Fraction]
    layout: str = ""
    sample_format: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["duration"] = _frac_str(self.duration)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "AudioInfo":
        return cls(
            channels=int(d["channels"]),
            sample_rate=int(d["sample_rate"]),
            codec=str(d["codec"]),
            duration=_frac(d.get("duration")),
            layout=str(d.get("layout", "")),
            sample_format=str(d.get("sample_format", "")),
        )


@dataclass(frozen=True)
class MediaInfo:
    path: str
    format_name: str
    kind: str  # "video", "audio" or "image"
    duration: Fraction  # seconds; 0 for a still image
    size_bytes: int
    video: Optional[VideoInfo] = None
    audio: Optional[AudioInfo] = None

    @property
    def duration_seconds(self) -> float:
        return float(self.duration)

    @property
    def has_video(self) -> bool:
        return self.video is not None

    @property
    def has_audio(self) -> bool:
        return self.audio is not None

    @property
    def name(self) -> str:
        return display_name(self.path)

    def to_dict(self) -> dict:
        """JSON-able dict (Fractions as ``"num/den"`` strings)."""
        return {
            "path": self.path,
            "format_name": self.format_name,
            "kind": self.kind,
            "duration": _frac_str(self.duration),
            "duration_seconds": self.duration_seconds,
            "size_bytes": self.size_bytes,
            "has_video": self.has_video,
            "has_audio": self.has_audio,
            "video": None if self.video is None else self.video.to_dict(),
            "audio": None if self.audio is None else self.audio.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> "MediaInfo":
        kind = str(d["kind"])
        if kind not in KINDS:
            raise MediaError(f"{display_name(d.get('path', '?'))}: unknown media kind {kind!r}")
        return cls(
            path=str(d["path"]),
            format_name=str(d["format_name"]),
            kind=kind,
            duration=Fraction(d["duration"]),
            size_bytes=int(d["size_bytes"]),
            video=None if d.get("video") is None else VideoInfo.from_dict(d["video"]),
            audio=None if d.get("audio") is None else AudioInfo.from_dict(d["audio"]),
        )


# ------------------------------------------------------------------ helpers

_DURATION_TAG = re.compile(r"^\s*(\d+):(\d{1,2}):(\d{1,2})(?:\.(\d{1,9}))?\s*$")


def _tag_duration(metadata: dict) -> Optional[Fraction]:
    """Matroska writes a per-stream ``DURATION`` tag like ``00:00:04.170833000``."""
    for key, value in metadata.items():
        if key.upper() == "DURATION":
            m = _DURATION_TAG.match(str(value))
            if m:
                hh, mm, ss, frac = m.groups()
                frac = frac or "0"
                return Fraction((int(hh) * 60 + int(mm)) * 60 + int(ss)) + Fraction(int(frac), 10 ** len(frac))
    return None


def _stream_duration(stream, container) -> Optional[Fraction]:
    if stream.duration is not None and stream.duration > 0 and stream.time_base:
        return Fraction(stream.duration) * Fraction(stream.time_base)
    tag = _tag_duration(dict(stream.metadata))
    if tag is not None and tag > 0:
        return tag
    if container.duration is not None and container.duration > 0:
        return Fraction(container.duration, av.time_base)
    return None


def _snap_rate(rate: Fraction) -> Fraction:
    """Snap a measured rate (FLV's 983/41, a VFR phone's 1800000/60061) to the rate it means."""
    if rate in COMMON_RATES.values():
        return rate
    for exact in COMMON_RATES.values():
        if abs(rate - exact) < Fraction(15, 10000):
            return exact
    return rate.limit_denominator(1001) if rate.denominator > 1001 else rate


def _video_rate(stream, name: str) -> Fraction:
    for candidate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if candidate is not None and candidate > 0:
            return _snap_rate(Fraction(candidate))
    raise MediaError(f"{name}: the video stream has no usable frame rate")


def _is_image_format(format_name: str) -> bool:
    return any(n.endswith(_IMAGE_FORMAT_SUFFIX) or n in _IMAGE_FORMATS for n in format_name.split(","))


def first_frame(container, stream, path: PathLike) -> tuple[Any, Iterator]:
    """Start decoding ``stream``: returns (first frame, the frame iterator)."""
    name = display_name(path)
    frames = decode_packets(container, stream, path)
    try:
        first = next(frames)
    except StopIteration:
        raise MediaError(f"{name}: not a media file or corrupt (no {stream.type} frame could be decoded)") from None
    except av.FFmpegError as exc:
        raise MediaError(f"{name}: not a media file or corrupt ({reason(exc)})") from exc
    return first, frames


class Probed(NamedTuple):
    info: MediaInfo
    video_stream: Any  # the av stream VideoInfo describes, or None
    first_frame: Any  # its first decoded frame, or None
    frames: Any  # the decode iterator, positioned after first_frame, or None


def probe_container(container, path: PathLike, size_bytes: int, thread_type: Optional[str] = None) -> Probed:
    """Probe an open container; returns a :class:`Probed`.

    The reader reuses the open container and carries on decoding after the
    first frame, so opening a reader costs one decode, not two.
    """
    name = display_name(path)
    with av_errors(path, "cannot read the media headers"):
        format_name = container.format.name
        if any(s.codec_context.name in _TEXT_ART_CODECS for s in container.streams.video):
            raise MediaError(f"{name}: not a media file or corrupt (FFmpeg reads it as text art)")
        vstreams = [s for s in container.streams.video if (s.codec_context.width or 0) > 0]
        astreams = [s for s in container.streams.audio if (s.codec_context.sample_rate or 0) > 0]
        if not vstreams and not astreams:
            if container.streams.video or container.streams.audio:
                raise MediaError(f"{name}: not a media file or corrupt (streams without size or sample rate)")
            raise MediaError(f"{name}: no video or audio stream")
        is_image = bool(vstreams) and not astreams and _is_image_format(format_name)

        video = audio = None
        first = frames = vs = None
        if vstreams:
            vs = vstreams[0]
            if thread_type is not None:
                vs.thread_type = thread_type
            first, frames = first_frame(container, vs, path)
            rate = _video_rate(vs, name)
            if is_image:
                count = 1
            elif vs.frames and vs.frames > 0:
                count = int(vs.frames)
            else:
                dur = _stream_duration(vs, container)
                count = max(1, round(dur * rate)) if dur is not None else 1
            cc = vs.codec_context
            video = VideoInfo(
                width=int(cc.width),
                height=int(cc.height),
                rate=rate,
                frame_count=count,
                codec=cc.name,
                pix_fmt=cc.pix_fmt,
                rotation=int(round(first.rotation or 0)),
                time_base=Fraction(vs.time_base) if vs.time_base else 1 / rate,
                start_time=vs.start_time,
                duration=Fraction(0) if is_image else Fraction(count) / rate,
            )
        if astreams:
            aus = astreams[0]
            if not vstreams:  # an audio-only file: prove it decodes
                first_frame(container, aus, path)
            cc = aus.codec_context
            audio = AudioInfo(
                channels=int(cc.channels),
                sample_rate=int(cc.sample_rate),
                codec=cc.name,
                duration=_stream_duration(aus, container),
                layout=cc.layout.name if cc.layout is not None else "",
                sample_format=cc.format.name if cc.format is not None else "",
            )
        if is_image:
            kind, duration = "image", Fraction(0)
        else:
            kind = "video" if video is not None else "audio"
            if container.duration is not None and container.duration > 0:
                duration = Fraction(container.duration, av.time_base)
            else:
                candidates = [d for d in (video and video.duration, audio and audio.duration) if d]
                duration = max(candidates) if candidates else Fraction(0)
    info = MediaInfo(
        path=str(Path(path).absolute()),
        format_name=format_name,
        kind=kind,
        duration=duration,
        size_bytes=int(size_bytes),
        video=video,
        audio=audio,
    )
    return Probed(info, vs, first, frames)


def probe(path: PathLike) -> MediaInfo:
    """Probe a media file. Raises :class:`MediaError` naming the file on any problem."""
    p = Path(path)
    container = open_input(p)
    try:
        return probe_container(container, p, p.stat().st_size).info
    finally:
        with av_errors(p, "cannot close the file"):
            container.close()
