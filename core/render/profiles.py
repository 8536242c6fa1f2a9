"""Render profiles: the size, rate, codec and quality settings of an output file.

A :class:`RenderProfile` says how to derive the output picture from the source
(``height``: fit to this height keeping the aspect, even dimensions; None =
source size; ``fps``: None = source rate) and how to encode it (video codec,
pixel format, codec options such as x264 preset/CRF, bit rate) and the audio
(``audio="copy"`` passes the source audio packets through untouched when the
container accepts the codec, otherwise it is re-encoded with
``audio_codec``/``audio_bitrate``).

Built in: ``preview`` (720p, 30 fps, x264 veryfast CRF 26) and ``final``
(source size and rate, x264 medium CRF 18). More profiles (480p draft, 1080p
social, ProRes masters ...) are more entries in :data:`PROFILES`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
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

    def with_options(self, **changes) -> "RenderProfile":
        return replace(self, **changes)


PROFILES: dict[str, RenderProfile] = {
    "preview": RenderProfile(
        "preview", height=720, fps=Fraction(30), options={"preset": "veryfast", "crf": "26"}, gop=60,
        downscale_decode_options={"skip_loop_filter": "noref"}, description="fast 720p 30 fps H.264 preview"),
    "final": RenderProfile(
        "final", options={"preset": "medium", "crf": "18"},
        description="source size and rate, high-quality H.264 (CRF 18)"),
}


def get_profile(profile: "str | RenderProfile") -> RenderProfile:
    """A profile by name (or the profile itself); LumaError naming the choices otherwise."""
    if isinstance(profile, RenderProfile):
        return profile
    try:
        return PROFILES[str(profile)]
    except KeyError:
        raise LumaError(f"render profile {profile!r}: choose one of {', '.join(PROFILES)}") from None


def retimed_count(frames: int, src_rate: Fraction, out_rate: Fraction) -> int:
    """Frames at ``out_rate`` covering the duration of ``frames`` frames at ``src_rate``."""
    return max(0, math.ceil(Fraction(frames) * Fraction(out_rate) / Fraction(src_rate)))
