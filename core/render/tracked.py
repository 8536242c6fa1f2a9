"""Tracked renders: a video with an indicator above a tracked subject.

:func:`render_tracked` decodes the video at the profile's size and rate
(:class:`~core.render.retime.RetimedVideo`, on a background thread), draws
the track's indicator (:class:`~core.render.overlay.TrackOverlay`) and
encodes (:class:`~core.render.encode.Encoder`); the source audio is passed
through (packets copied: identical audio) alongside.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from core.errors import LumaError
from core.jobs import CancelledFn, ProgressFn, check_cancelled
from core.media._av import PathLike, display_name
from core.media.probe import probe
from core.render.encode import AudioPass, Encoder
from core.render.overlay import DEFAULT_COLOR, OverlayStyle, TrackOverlay
from core.render.profiles import RenderProfile, get_profile
from core.render.retime import RetimedVideo


@dataclass(frozen=True)
class RenderResult:
    path: Path
    frames: int
    size: tuple[int, int]
    rate: Fraction
    audio: str | None  # "copy", "encode" or None (no audio)
    seconds: float  # wall-clock time the render took
    drawn: int = 0  # output frames with an indicator


def _check_track(track, video_name: str, width: int, height: int) -> None:
    if not track.frames:
        raise LumaError(f"the track for {video_name} has no frames")
    tw, th = track.size
    if tw <= 0 or th <= 0 or abs(tw / th - width / height) > 0.02 * (width / height):
        raise LumaError(f"the track was made on a {tw}x{th} picture but {video_name} is {width}x{height}: "
                        "was it tracked on another video?")


def render_tracked(
    video: PathLike,
    track,
    out: PathLike,
    style: str | OverlayStyle = "ring",
    profile: str | RenderProfile = "preview",
    name: str | None = None,
    color=DEFAULT_COLOR,
    progress: ProgressFn | None = None,
    cancelled: CancelledFn | None = None,
    *,
    scale: float = 1.0,
    smooth: float = 1.0,
) -> RenderResult:
    """Render ``video`` with ``track``'s indicator into ``out`` (container from its suffix).

    ``track``: a :class:`~core.vision.types.TrackResult` (frames numbered like the
    video's). ``style``: ``dot``, ``ring``, ``glow``, ``spotlight`` or ``label`` (or an
    OverlayStyle); ``name`` is the label text; ``color`` ``#RRGGBB`` or (r, g, b).
    ``profile``: ``preview``, ``final`` or a RenderProfile. ``progress(fraction, message)``
    and ``cancelled()`` follow :mod:`core.jobs`; a cancel raises JobCancelled and leaves
    no output file.
    """
    t0 = time.perf_counter()
    prof = get_profile(profile)
    ostyle = style if isinstance(style, OverlayStyle) else OverlayStyle(
        kind=str(style), color=color, name=name, scale=scale, smooth=smooth)
    info = probe(video)
    v = info.video
    vname = display_name(video)
    if v is None:
        raise LumaError(f"{vname}: no video stream to render")
    _check_track(track, vname, v.width, v.height)
    size = prof.output_size(v.width, v.height)
    rate = prof.output_rate(v.rate)
    overlay = TrackOverlay(track, ostyle, size, video_rate=float(v.rate))
    progress = progress or (lambda *a, **k: None)
    cancelled = cancelled or (lambda: False)
    start = Fraction(v.start_time or 0) * Fraction(v.time_base) if v.start_time else Fraction(0)
    drawn = 0
    audio = None
    with Encoder(out, prof, size, rate) as enc:
        try:
            if info.audio is not None:
                audio = AudioPass(enc, video, start=start)
            with RetimedVideo(video, size, rate, info=info,
                              decode_options=prof.decode_options(v.height, size[1])) as frames:
                total = max(1, frames.expected_frames)
                for item in frames:
                    check_cancelled(cancelled)
                    if overlay.draw(item.rgb, item.source):
                        drawn += item.repeat
                    enc.write(item.rgb, item.repeat)
                    if audio is not None:
                        audio.feed_until(enc.seconds)
                    progress(min(enc.frames / total, 0.999), f"frame {enc.frames}/{total}")
            if audio is not None:
                audio.finish()
        finally:
            if audio is not None:
                audio.close()
    progress(1.0, "done")
    return RenderResult(Path(out), enc.frames, size, rate, enc.audio_mode, time.perf_counter() - t0, drawn)
