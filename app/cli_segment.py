"""``luma segment``: mask one subject on a frame of a video, optionally carried through a range.

``luma segment VIDEO (--bbox X,Y,W,H | --points X,Y,+|- ...) [--frame N] [--frames A:B]
[--backend classic|person|sam] [--model NAME] --out DIR``

The prompt is a box (``--bbox``: pixels, top-left corner and size) and/or
points (``--points``: ``X,Y,+`` on the subject, ``X,Y,-`` on what is not
the subject) on frame ``--frame`` (default 0). The backend segments that
frame; with ``--frames A:B`` (inclusive, containing N; ``A:`` and ``:B``
leave an end open) the mask is propagated forward to B and backward to A
with :mod:`core.vision.propagate`.

One PNG per frame is written into DIR (created if needed), named by the
*source* frame index: ``mask.000123.png`` is frame 123 of VIDEO. Each is an
8-bit single-channel picture of the video's size, 255 on the subject and 0
elsewhere. Progress goes to stderr; ``add_commands(subparsers)`` adds the command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.errors import LumaError

from app.cli_util import guarded

BACKENDS = ("classic", "person", "sam")
MASK_NAME = "mask.{:06d}.png"


def _bbox(text: str) -> tuple[float, float, float, float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != 4:
        raise LumaError(f"--bbox {text!r} should be X,Y,W,H: four comma-separated numbers (pixels)")
    x, y, w, h = values
    if w <= 0 or h <= 0:
        raise LumaError(f"--bbox {text!r}: width and height must be positive")
    return x, y, x + w, y + h


def _range(text: str | None, frame: int, count: int) -> tuple[int, int]:
    from app.cli_track import parse_frames

    if text is None:
        return frame, frame
    first, last = parse_frames(text)
    first = 0 if first is None else first
    last = count - 1 if last is None else last
    if not (0 <= first <= last < count):
        raise LumaError(f"--frames {text!r} is outside the clip (frames 0-{count - 1})")
    if not first <= frame <= last:
        raise LumaError(f"--frames {text!r} must contain --frame {frame}")
    return first, last


def _write(out_dir: Path, index: int, matte) -> None:
    import cv2

    from core.vision.segment import binary

    path = out_dir / MASK_NAME.format(index)
    if not cv2.imwrite(str(path), binary(matte).astype("uint8") * 255):
        raise LumaError(f"{path}: could not write the mask")


@guarded
def cmd_segment(args: argparse.Namespace) -> int:
    from core.jobs import TerminalProgress
    from core.media.reader import FrameReader
    from core.vision.segment import Prompt, create_segmenter, parse_points

    if args.bbox is None and not args.points:
        raise LumaError("give the subject as --bbox X,Y,W,H and/or --points X,Y,+ ...")
    box = _bbox(args.bbox) if args.bbox is not None else None
    points = parse_points(args.points or [])
    prompt = Prompt(box, points)
    params = {}
    if args.model:
        if args.backend == "classic":
            raise LumaError("--model applies to the person and sam backends, not classic")
        params["model"] = args.model
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise LumaError(f"--out {out_dir}: not a folder")

    with FrameReader(args.video, cache_size=64, strict=True) as reader:
        count = reader.frame_count
        if not 0 <= args.frame < count:
            raise LumaError(f"{reader.name}: frame {args.frame} is outside the clip (frames 0-{count - 1})")
        first, last = _range(args.frames, args.frame, count)
        propagator = None
        if last > first:
            try:
                from core.vision.propagate import Propagator
            except ImportError:
                raise LumaError("propagation is not available") from None
            propagator = Propagator()
        segmenter = create_segmenter(args.backend, **params)
        print(f"segmenting frame {args.frame} ({args.backend})", file=sys.stderr)
        matte = segmenter.segment(reader.frame(args.frame), prompt, key=args.frame)
        out_dir.mkdir(parents=True, exist_ok=True)
        _write(out_dir, args.frame, matte)
        written = 1
        if propagator is not None:
            bar = TerminalProgress("propagate", sys.stderr)
            total, done = last - first, 0
            try:
                # forward from the keyframe to the last frame, then backward from it to the first
                for way, indices in (("forward", range(args.frame + 1, last + 1)),
                                     ("backward", range(args.frame - 1, first - 1, -1))):
                    prev_rgb, prev_matte = reader.frame(args.frame), matte
                    for i in indices:
                        rgb = reader.frame(i)
                        prev_matte = propagator.step(prev_rgb, prev_matte, rgb)
                        prev_rgb = rgb
                        _write(out_dir, i, prev_matte)
                        written += 1
                        done += 1
                        bar(done / total, f"{way}: frame {i}")
            except KeyboardInterrupt:
                raise LumaError(f"cancelled; {written} mask(s) were written to {out_dir}") from None
            finally:
                bar.finish()
    print(f"{written} mask(s) for frames {first}-{last} -> {out_dir}", file=sys.stderr)
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser(
        "segment", help="mask one subject on a frame (and propagate it through a range) as PNGs",
        description="Segment the subject given by --bbox and/or --points on --frame, optionally propagate the "
                    "mask through --frames, and write one PNG per frame into --out, named mask.NNNNNN.png "
                    "after the source frame index (e.g. mask.000123.png is frame 123): 8-bit, the video's "
                    "size, 255 on the subject, 0 elsewhere.")
    p.add_argument("video")
    p.add_argument("--bbox", metavar="X,Y,W,H", help="the subject's box on --frame (pixels: corner and size)")
    p.add_argument("--points", nargs="+", metavar="X,Y,+|-",
                   help="clicks on --frame: X,Y,+ on the subject, X,Y,- on what is not it (pixels)")
    p.add_argument("--frame", type=int, default=0, help="the frame the prompt is on (default 0)")
    p.add_argument("--frames", metavar="A:B",
                   help="propagate the mask over this range, inclusive, containing --frame (A: or :B leave an "
                        "end open); default: only --frame")
    p.add_argument("--backend", default="classic", metavar="|".join(BACKENDS),
                   help="classic (default): grabCut, no weights; person: pose model + grabCut; "
                        "sam: Segment Anything checkpoint you added (`luma models add`)")
    p.add_argument("--model", metavar="NAME", help="model for the person/sam backend (default: the installed one)")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="folder for the mask PNGs")
    p.set_defaults(func=cmd_segment)
