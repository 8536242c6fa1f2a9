"""``luma render``, ``luma render-tracked`` and ``luma concat`` from a terminal.

``luma render PROJECT.luma --profile NAME -o OUT`` renders a sequence
(core.render.sequence_render): ``--range A:B`` renders sequence frames A up
to, not including, B (frame numbers or timecodes ``HH:MM:SS:FF``; either
side may be left out; default: the in/out marks, else the whole sequence);
``--dry-run`` prints the plan (segments, the clips, media, transitions and
filters each uses, what the cache holds) and writes nothing; ``--json``
prints the plan or the result as JSON; ``--workers N`` local worker
processes (default: one per CPU; 1 renders in this process);
``--scheduler tcp://HOST:8786`` renders on a Dask cluster whose workers see
the project and media at the same paths; ``--loudness LUFS`` normalises the
mix; ``--no-cache`` renders every segment anew without touching the cache.

``add_commands(subparsers)`` adds the commands to the ``luma`` parser.
Progress goes to stderr; Ctrl+C cancels and leaves no half-written output.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from app.cli_util import guarded
from core.errors import JobCancelled, LumaError


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


_TC = r"\d+:\d{1,2}:\d{1,2}[:;.,]\d{1,3}"
_RANGE_RE = re.compile(rf"^\s*({_TC}|\d+)?\s*:\s*({_TC}|\d+)?\s*$")


def parse_range(text: str, rate) -> tuple[int | None, int | None]:
    """``A:B`` (frame numbers or HH:MM:SS:FF timecodes, either may be empty) -> (start, end)."""
    from core.time import timecode_to_frames

    m = _RANGE_RE.match(text or "")
    if not m:
        raise LumaError(f"range {text!r}: write START:END in frames (0:250) or timecodes "
                        "(00:00:00:00:00:00:10:00); the end frame is not rendered")

    def one(part: str | None) -> int | None:
        if part is None:
            return None
        return int(part) if part.isdigit() else timecode_to_frames(part, rate)

    return one(m.group(1)), one(m.group(2))


@guarded
def cmd_render(args: argparse.Namespace) -> int:
    from core.project.project import Project
    from core.render.compositor import Compositor
    from core.render.executor import default_workers
    from core.render.profiles import get_profile
    from core.render.render_cache import RenderCache
    from core.render.sequence_render import SequenceRenderJob, plan_render
    from core.timeline.model import Timeline

    profile = get_profile(args.profile)
    if args.out is None and not args.dry_run:
        raise LumaError("give the output file with -o OUT (or --dry-run to see the plan)")
    project_path = Path(args.project)
    workers = args.workers if args.workers is not None else default_workers()
    if workers < 1:
        raise LumaError(f"--workers must be at least 1, not {workers}")
    with Project.open(project_path) as project:
        timeline = Timeline(project, args.sequence)
        start, end = parse_range(args.range, timeline.rate) if args.range else (None, None)
        if args.dry_run:
            comp = Compositor(timeline)
            try:
                plan = plan_render(timeline, profile, start, end, workers=workers, compositor=comp)
            finally:
                comp.close()
            if not args.no_cache:
                cache = RenderCache.for_project(project)
                suffix = Path(args.out).suffix.lower() if args.out else profile.container
                for seg in plan.segments:
                    seg.cached = cache.path(seg.key, suffix).is_file()
            if args.json:
                print(json.dumps(plan.to_dict(), indent=2, default=str))
            else:
                print(plan.describe())
                print("dry run: nothing written")
            return 0
        sequence_id = timeline.sequence_id
    job = SequenceRenderJob(project_path, sequence_id, profile, args.out, start=start, end=end,
                            workers=workers, scheduler=args.scheduler, loudness=args.loudness,
                            use_cache=not args.no_cache)
    result = _run_with_progress(job.title, job.run)
    if args.json:
        print(json.dumps({k: (list(v) if isinstance(v, tuple) else v) for k, v in result.__dict__.items()},
                         indent=2, default=str))
    else:
        w, h = result.size
        print(f"{result.path}: {result.frames} frames, {w}x{h} at {float(result.rate):g} fps with {result.profile}; "
              f"{result.segments} segments ({result.rendered} rendered, {result.reused} from the cache) "
              f"on {result.workers} {result.executor} worker(s) ({result.seconds:.1f} s)")
    return 0


def add_commands(subparsers) -> None:
    from core.render.overlay import STYLES
    from core.render.profiles import PROFILES

    p = subparsers.add_parser("render", help="render a sequence of a project to a video file")
    p.add_argument("project", metavar="PROJECT.luma")
    p.add_argument("--profile", default="preview_720p",
                   help=f"one of {', '.join(PROFILES)} (default: preview_720p)")
    p.add_argument("-o", "--out", metavar="OUT.mp4", help="the file to write (.mov for master_prores)")
    p.add_argument("--range", metavar="A:B", help="sequence frames A up to B (frames or HH:MM:SS:FF timecodes)")
    p.add_argument("--sequence", type=int, metavar="ID", help="the sequence id (default: the first)")
    p.add_argument("--dry-run", action="store_true", help="print the plan (segments, inputs) and write nothing")
    p.add_argument("--json", action="store_true", help="print the plan or the result as JSON")
    p.add_argument("--workers", type=int, metavar="N", help="worker processes (default: one per CPU)")
    p.add_argument("--scheduler", metavar="tcp://HOST:8786",
                   help="render on this Dask cluster (workers must see the project and media at the same paths)")
    p.add_argument("--loudness", type=float, metavar="LUFS", help="normalise the mix to this loudness (e.g. -16)")
    p.add_argument("--no-cache", action="store_true", help="render every segment; do not use the render cache")
    p.set_defaults(func=cmd_render)

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
