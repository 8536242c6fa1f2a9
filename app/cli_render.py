"""``luma render-tracked`` and ``luma concat``: tracked renders and highlight reels from a terminal.

``add_commands(subparsers)`` adds both commands to the ``luma`` parser.
Progress goes to stderr; Ctrl+C cancels and leaves no half-written output.
"""

from __future__ import annotations

import argparse
import sys

from app.cli_util import guarded
from core.errors import JobCancelled


def _run_with_progress(title: str, work):
    """Run ``work(progress, cancelled)`` with a progress bar on stderr; Ctrl+C cancels."""
    from core.jobs import TerminalProgress

    bar = TerminalProgress(title, sys.stderr)
    try:
        return work(bar, lambda: False)
    except KeyboardInterrupt:
        raise JobCancelled(f"{title}: cancelled") from None
    finally:
        bar.finish()


@guarded
def cmd_render_tracked(args: argparse.Namespace) -> int:
    from core.render.overlay import OverlayStyle, parse_color
    from core.render.tracked import render_tracked
    from core.vision.types import TrackResult

    track = TrackResult.load(args.track)
    style = OverlayStyle(kind=args.style, color=parse_color(args.color), name=args.name, scale=args.scale,
                         dim=args.dim, smooth=args.smooth)
    result = _run_with_progress(
        f"render {args.profile}",
        lambda progress, cancelled: render_tracked(args.video, track, args.out, style=style, profile=args.profile,
                                                   progress=progress, cancelled=cancelled))
    audio = {"copy": "audio copied", "encode": "audio re-encoded", None: "no audio"}[result.audio]
    print(f"{result.path}: {result.frames} frames, {result.size[0]}x{result.size[1]} at {float(result.rate):g} fps, "
          f"{audio}, indicator on {result.drawn} frames ({result.seconds:.1f} s)")
    return 0


@guarded
def cmd_concat(args: argparse.Namespace) -> int:
    from core.render.concat import concat

    result = _run_with_progress(
        "concat",
        lambda progress, cancelled: concat(args.clips, args.out, progress=progress, cancelled=cancelled,
                                           profile=args.profile, force_reencode=args.reencode))
    how = "joined without re-encoding" if result.mode == "remux" else f"re-encoded ({result.reason})"
    print(f"{result.path}: {result.inputs} clips, {result.frames} frames, {how} ({result.seconds:.1f} s)")
    return 0


def add_commands(subparsers) -> None:
    from core.render.overlay import STYLES
    from core.render.profiles import PROFILES

    p = subparsers.add_parser("render-tracked", help="render a clip with an indicator above a tracked subject")
    p.add_argument("video")
    p.add_argument("--track", required=True, metavar="TRACK.json", help="the track file `luma track` wrote")
    p.add_argument("--style", choices=STYLES, default="ring", help="indicator style (default: ring)")
    p.add_argument("--name", help="text of the label (style label)")
    p.add_argument("--color", default="#ffc800", help="indicator colour, #RRGGBB or a name (default: #ffc800)")
    p.add_argument("--scale", type=float, default=1.0, help="indicator size factor (default 1)")
    p.add_argument("--dim", type=float, default=0.3, help="spotlight: brightness left outside the light, 0-1")
    p.add_argument("--smooth", type=float, default=1.0, help="anchor smoothing in frames (0 = off)")
    p.add_argument("--profile", choices=list(PROFILES), default="preview",
                   help="preview: 720p 30 fps fast; final: source size and rate, high quality")
    p.add_argument("-o", "--out", required=True, metavar="OUT.mp4")
    p.set_defaults(func=cmd_render_tracked)

    p = subparsers.add_parser("concat", help="join clips into one (re-encodes only when their streams differ)")
    p.add_argument("clips", nargs="+", metavar="CLIP")
    p.add_argument("-o", "--out", required=True, metavar="REEL.mp4")
    p.add_argument("--profile", choices=list(PROFILES), default="final",
                   help="quality when the clips must be re-encoded (default: final)")
    p.add_argument("--reencode", action="store_true", help="re-encode even when the clips could be copied")
    p.set_defaults(func=cmd_concat)
