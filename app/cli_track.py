"""``luma track``: follow one subject through a video and write TRACK.json.

``luma track VIDEO (--bbox X,Y,W,H | --select-at X,Y) [--frame N]
[--tracker follow|botsort|bytetrack|csrt|kcf] [--frames A:B] [--model NAME] --out TRACK.json``

The subject is the box ``--bbox`` (pixels, top-left corner and size) or the
detection under the point ``--select-at`` on frame ``--frame`` (default 0).
It is tracked forward and backward from that frame over ``--frames``
(inclusive, default the whole clip; ``A:`` and ``:B`` leave an end open).
The file has one entry per frame of the range::

    {"video": ..., "fps": ..., "size": [w, h], "tracker": ...,
     "frames": [{"frame": N, "bbox": [x1, y1, x2, y2], "confidence": c, "lost": false}, ...]}

Progress goes to stderr; ``add_commands(subparsers)`` adds the command.
"""

from __future__ import annotations

import argparse
import sys

from core.errors import LumaError

from app.cli_util import guarded

TRACKER_CHOICES = ("follow", "botsort", "bytetrack", "csrt", "kcf")


def _numbers(text: str, count: int, what: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != count:
        raise LumaError(f"{what} {text!r} should be {count} comma-separated numbers")
    return values


def parse_frames(text: str | None) -> tuple[int | None, int | None] | None:
    """``"A:B"``, ``"A:"`` or ``":B"`` -> (A, B) with None for an open end."""
    if text is None:
        return None
    a, sep, b = text.partition(":")
    try:
        if not sep:
            raise ValueError
        first = int(a) if a.strip() else None
        last = int(b) if b.strip() else None
    except ValueError:
        raise LumaError(f"--frames {text!r} should look like 100:300 (first and last frame, inclusive)") from None
    if first is not None and last is not None and last < first:
        raise LumaError(f"--frames {text!r}: the last frame is before the first")
    return first, last


@guarded
def cmd_track(args: argparse.Namespace) -> int:
    from core.jobs import TerminalProgress
    from core.vision.tracking import select_at, track_video
    from core.vision.trackers import needs_detector
    from core.vision.types import xywh_to_xyxy

    frames = parse_frames(args.frames)
    detector = None
    if args.select_at is not None or needs_detector(args.tracker):
        from core.vision.detect import create_detector

        detector = create_detector(args.model)
    if args.bbox is not None:
        box = xywh_to_xyxy(*_numbers(args.bbox, 4, "--bbox"))
    else:
        x, y = _numbers(args.select_at, 2, "--select-at")
        box = select_at(args.video, args.frame, x, y, detector)
        print(f"selected [{', '.join(f'{v:.1f}' for v in box)}] on frame {args.frame}", file=sys.stderr)
    bar = TerminalProgress(f"track ({args.tracker})", sys.stderr)
    try:
        result = track_video(args.video, box, args.frame, frames, args.tracker, progress=bar, detector=detector)
    except KeyboardInterrupt:
        raise LumaError("tracking cancelled; nothing was written") from None
    finally:
        bar.finish()
    result.save(args.out)
    lost = sum(p.lost for p in result.frames)
    print(f"{len(result.frames)} frames ({lost} lost) -> {args.out}", file=sys.stderr)
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("track", help="track one subject through a video and write TRACK.json",
                              description="Track one subject forward and backward from --frame and write "
                                          "one entry per frame of the range to --out.")
    p.add_argument("video")
    pick = p.add_mutually_exclusive_group(required=True)
    pick.add_argument("--bbox", metavar="X,Y,W,H", help="the subject's box on --frame (pixels)")
    pick.add_argument("--select-at", metavar="X,Y", help="pick the detection under this point on --frame")
    p.add_argument("--frame", type=int, default=0, help="the frame the subject is picked on (default 0)")
    p.add_argument("--tracker", choices=TRACKER_CHOICES, default="follow",
                   help="follow (default): detector + re-identification; botsort/bytetrack: follow one id; "
                        "csrt/kcf: from any box, no detector")
    p.add_argument("--frames", metavar="A:B", help="frame range to track, inclusive (default: the whole clip)")
    p.add_argument("--model", metavar="NAME", help="detection model (default: the pose model, or HOG without it)")
    p.add_argument("--out", "-o", required=True, metavar="TRACK.json", help="where to write the track")
    p.set_defaults(func=cmd_track)
