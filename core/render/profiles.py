"""Render profiles: the size, rate, codec and quality settings of an output file.

A :class:`RenderProfile` says how to derive the output picture from the source
(``height``: fit to this height keeping the aspect, even dimensions; None =
source size; ``fps``: None = source rate) and how to encode it (video codec,
pixel format, codec options such as x264 preset/CRF, bit rate) and the audio
(``audio="copy"`` passes the source audio packets through untouched when the
container accepts the codec, otherwise it is re-encoded with
``audio_codec``/``audio_bitrate``).

Built in (see :data:`PROFILES`; ``luma render --profile NAME``):

==============  ================  ====  ===================================  ========  =======================
name            size (fit into)   fps   video                                GOP       audio
==============  ================  ====  ===================================  ========  =======================
preview         720 high (1)      30    H.264 veryfast CRF 26, yuv420p       60 fr     copy / AAC 192k
final           source/sequence   seq   H.264 medium CRF 18, yuv420p         x264      copy / AAC 192k
draft_480p      854x480           seq   H.264 veryfast CRF 28, yuv420p       2 s       AAC 128k 48 kHz stereo
preview_720p    1280x720          seq   H.264 veryfast CRF 23, yuv420p       2 s       AAC 160k 48 kHz stereo
social_1080p    1920x1080         seq   H.264 High 4.1 medium CRF 20,        2 s       AAC 192k 48 kHz stereo
                                        max 12 Mb/s (VBV 24 Mb), yuv420p
youtube_4k      3840x2160         seq   H.264 High 5.1 medium CRF 18,        2 s       AAC 384k 48 kHz stereo
                                        max 60 Mb/s (VBV 120 Mb), yuv420p
master_prores   sequence size     seq   ProRes 422 HQ (prores_ks profile 3)  intra     PCM s24le 48 kHz stereo
                                        yuv422p10le, in .mov
==============  ================  ====  ===================================  ========  =======================

(1) ``height`` only: fit to that height, never upscaled (what tracked renders
use). A profile with ``width`` *and* ``height`` fits the sequence picture into
that box keeping its aspect (a 4:3 sequence in ``social_1080p`` is 1440x1080),
upscaling if needed: the profile states the delivery size.

Sequence renders (:mod:`core.render.sequence_render`) scale the *composited
sequence frame* to :meth:`RenderProfile.sequence_size`; ``fps`` None keeps the
sequence rate. ``gop``/``gop_seconds`` give the keyframe interval: chunked
renders cut the range into segments that are whole GOPs. ``threads`` is a
fixed encoder thread count: x264's bitstream depends on its thread count, so a
fixed number makes a render identical on every machine (and a chunked render
identical to a single-process one). ``to_dict``/``from_dict`` carry a profile
to worker processes and into the render cache key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from fractions import Fraction

from core.errors import LumaError


@dataclass(frozen=True)
class RenderProfile:
    name: str
    height: int | None = None  # fit the height to this (never upscale); None = source size
    fps: Fraction | None = None  # None = source rate
    video_codec: str = "libx264"
    pix_fmt: str = "yuv420p"
    options: dict = field(default_factory=dict)  # encoder options (preset, crf, profile ...)
    bit_rate: int | None = None  # video bits/s when the codec is rate-controlled that way
    gop: int | None = None  # keyframe interval in frames (None = encoder default)
    audio: str = "copy"  # "copy": pass through when possible, else encode; "encode": always encode
    audio_codec: str = "aac"
    audio_bitrate: int = 192_000
    faststart: bool = True  # MP4/MOV: index at the front so players can start at once
    # decoder options used when the output is at most half the source height (a preview of
    # big footage), e.g. skip deblocking of non-reference frames: invisible once scaled down,
    # and it never drifts since no other frame is predicted from them
    downscale_decode_options: dict = field(default_factory=dict)
    description: str = ""
    width: int | None = None  # with height: the box a sequence picture is fitted into (upscaling allowed)
    gop_seconds: Fraction | None = None  # keyframe interval in seconds when ``gop`` (frames) is not set
    audio_sample_rate: int = 48000  # sequence renders: audio mixed and encoded at this rate ...
    audio_channels: int = 2  # ... with this many channels
    container: str = ".mp4"  # the file type this profile writes (suffix)
    threads: int = 4  # encoder threads: fixed, so the output is the same bytes on any machine

    def output_size(self, width: int, height: int) -> tuple[int, int]:
        """Output (width, height) for a ``width`` x ``height`` source: fitted to ``self.height``
        (aspect kept, never upscaled), both even (H.264 4:2:0 needs even sizes)."""
        if width <= 0 or height <= 0:
            raise LumaError(f"cannot render a {width}x{height} picture")
        if self.height is None or height <= self.height:
            w, h = width, height
        else:
            h = self.height
            w = width * h / height
        return max(2, int(round(w / 2)) * 2), max(2, int(round(h / 2)) * 2)

    def decode_options(self, source_height: int, output_height: int) -> dict:
        """Decoder options for rendering a ``source_height`` picture at ``output_height``."""
        return dict(self.downscale_decode_options) if output_height * 2 <= source_height else {}

    def output_rate(self, rate: Fraction) -> Fraction:
        return Fraction(self.fps) if self.fps is not None else Fraction(rate)

    def sequence_size(self, width: int, height: int) -> tuple[int, int]:
        """Output (width, height) of a sequence render of a ``width`` x ``height`` sequence:
        fitted into ``self.width`` x ``self.height`` keeping the aspect (upscaling too) when the
        profile gives both, else :meth:`output_size`. Both even (4:2:0 and 4:2:2 need it)."""
        if self.width is None or self.height is None:
            return self.output_size(width, height)
        if width <= 0 or height <= 0:
            raise LumaError(f"cannot render a {width}x{height} picture")
        scale = min(Fraction(self.width, width), Fraction(self.height, height))
        w = min(self.width, max(2, int(round(width * scale / 2)) * 2))
        h = min(self.height, max(2, int(round(height * scale / 2)) * 2))
        return w, h

    @property
    def intra_only(self) -> bool:
        """Every frame is a keyframe (ProRes and other intra codecs, or a GOP of 1)."""
        return self.video_codec in INTRA_CODECS or self.gop == 1

    def gop_frames(self, rate: Fraction) -> int:
        """Keyframe interval in frames at output ``rate``: ``gop``, else ``gop_seconds`` (2 s when
        neither is set); 1 for intra-only codecs."""
        if self.intra_only:
            return 1
        if self.gop:
            return int(self.gop)
        seconds = Fraction(self.gop_seconds) if self.gop_seconds is not None else Fraction(2)
        return max(1, int(round(seconds * Fraction(rate))))

    def with_options(self, **changes) -> "RenderProfile":
        return replace(self, **changes)

    def to_dict(self) -> dict:
        """JSON-able description (Fractions as "num/den" text); :meth:`from_dict` reads it back."""
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Fraction):
                value = str(value)
            elif isinstance(value, dict):
                value = {str(k): str(v) for k, v in value.items()}
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "RenderProfile":
        names = {f.name for f in fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise LumaError(f"render profile: unknown setting(s) {', '.join(sorted(unknown))}")
        if "name" not in data:
            raise LumaError("render profile: it needs a name")
        values = dict(data)
        for key in ("fps", "gop_seconds"):
            if values.get(key) is not None:
                values[key] = Fraction(str(values[key]))
        for key in ("options", "downscale_decode_options"):
            if key in values:
                values[key] = {str(k): str(v) for k, v in (values[key] or {}).items()}
        return cls(**values)


#: codecs that code every frame on its own (no GOP structure)
INTRA_CODECS = frozenset({"prores_ks", "prores", "prores_aw", "dnxhd", "mjpeg", "ffv1", "utvideo"})


PROFILES: dict[str, RenderProfile] = {
    "preview": RenderProfile(
        "preview", height=720, fps=Fraction(30), options={"preset": "veryfast", "crf": "26"}, gop=60,
        downscale_decode_options={"skip_loop_filter": "noref"}, description="fast 720p 30 fps H.264 preview"),
    "final": RenderProfile(
        "final", options={"preset": "medium", "crf": "18"},
        description="source size and rate, high-quality H.264 (CRF 18)"),
    "draft_480p": RenderProfile(
        "draft_480p", width=854, height=480, options={"preset": "veryfast", "crf": "28"}, gop_seconds=Fraction(2),
        audio="encode", audio_bitrate=128_000, description="quick 480p H.264 draft for review"),
    "preview_720p": RenderProfile(
        "preview_720p", width=1280, height=720, options={"preset": "veryfast", "crf": "23"},
        gop_seconds=Fraction(2), audio="encode", audio_bitrate=160_000, description="720p H.264 preview"),
    "social_1080p": RenderProfile(
        "social_1080p", width=1920, height=1080,
        options={"preset": "medium", "crf": "20", "profile": "high", "level": "4.1",
                 "maxrate": "12M", "bufsize": "24M"},
        gop_seconds=Fraction(2), audio="encode", audio_bitrate=192_000,
        description="1080p H.264 High for social media (CRF 20, at most 12 Mb/s), AAC 192k"),
    "youtube_4k": RenderProfile(
        "youtube_4k", width=3840, height=2160,
        options={"preset": "medium", "crf": "18", "profile": "high", "level": "5.1",
                 "maxrate": "60M", "bufsize": "120M"},
        gop_seconds=Fraction(2), audio="encode", audio_bitrate=384_000,
        description="2160p H.264 High for YouTube (CRF 18, at most 60 Mb/s), AAC 384k"),
    "master_prores": RenderProfile(
        "master_prores", video_codec="prores_ks", pix_fmt="yuv422p10le",
        options={"profile": "3", "vendor": "apl0"}, audio="encode", audio_codec="pcm_s24le", audio_bitrate=0,
        container=".mov", faststart=True,
        description="sequence-size ProRes 422 HQ master (10-bit 4:2:2), 24-bit PCM audio, .mov"),
}


def get_profile(profile: "str | dict | RenderProfile") -> RenderProfile:
    """A profile by name (or the profile itself, or its :meth:`~RenderProfile.to_dict`);
    LumaError naming the choices otherwise."""
    if isinstance(profile, RenderProfile):
        return profile
    if isinstance(profile, dict):
        return RenderProfile.from_dict(profile)
    try:
        return PROFILES[str(profile)]
    except KeyError:
        raise LumaError(f"render profile {profile!r}: choose one of {', '.join(PROFILES)}") from None


def retimed_count(frames: int, src_rate: Fraction, out_rate: Fraction) -> int:
    """Frames at ``out_rate`` covering the duration of ``frames`` frames at ``src_rate``."""
    return max(0, math.ceil(Fraction(frames) * Fraction(out_rate) / Fraction(src_rate)))
