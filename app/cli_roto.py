"""``luma roto ...`` and ``luma roto-export``: rotoscoping in a project file from the command line.

* ``luma roto new PROJECT --media NAME|#ID --name OBJ --frame N (--bbox X,Y,W,H | --points X,Y,+ ...)
  [--frames A:B] [--backend classic|sam|person] [--track SESSION]`` — a roto object with its first
  keyframe segmented from the prompt;
* ``luma roto key PROJECT --object OBJ --frame N (--bbox ... | --points ...)`` — another keyframe;
* ``luma roto propagate PROJECT --object OBJ`` — propagate from the keyframes (resumes where a
  previous run stopped) and fit the shapes;
* ``luma roto list PROJECT`` — the objects, their keyframes and progress;
* ``luma roto-export PROJECT --object OBJ --format FMT -o PATH [--first-frame N]`` — PNG/EXR mattes
  or shapes for Nuke, Silhouette, After Effects, Fusion, Blender or JSON.

``add_commands(subparsers)`` adds the commands.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from core.errors import LumaError

from app.cli_util import guarded

FORMAT_HELP = ("png: 8-bit matte sequence; exr: float matte sequence; nuke: .nk with a Roto node; "
               "silhouette: .fxs shapes; aftereffects: .jsx that adds masks to the selected layer; "
               "fusion: .setting/.comp Polygon mask; blender: Python script creating a Mask; json: Luma's schema")


@contextlib.contextmanager
def _opened(path: str):
    """The project file, open for the command and closed after it."""
    from core.project.project import Project

    if not Path(path).is_file():
        raise LumaError(f"{path}: no such project file")
    project = Project.open(path)
    try:
        yield project
    finally:
        project.close()


def _media_id(project, text: str | None) -> int:
    from core.project.media_store import list_media

    media = [m for m in list_media(project) if m.info.video is not None]
    if text is None:
        if len(media) == 1:
            return media[0].id
        names = ", ".join(f"#{m.id} {m.name}" for m in media) or "none"
        raise LumaError(f"say which video with --media (videos in the project: {names})")
    t = text.strip()
    if t.lstrip("#").isdigit():
        for m in media:
            if m.id == int(t.lstrip("#")):
                return m.id
    hits = [m for m in media if m.name == t or Path(m.path).name == t]
    if len(hits) != 1:
        names = ", ".join(f"#{m.id} {m.name}" for m in media) or "none"
        raise LumaError(f"--media {text!r} names {'no' if not hits else 'more than one'} video "
                        f"(videos: {names})")
    return hits[0].id


def _prompt(args: argparse.Namespace):
    from core.vision.segment import Prompt, parse_points

    box = None
    if args.bbox:
        try:
            x, y, w, h = (float(v) for v in args.bbox.split(","))
        except ValueError:
            raise LumaError(f"--bbox {args.bbox!r} should be X,Y,W,H (pixels)") from None
        box = (x, y, x + w, y + h)
    points = parse_points(args.points or [])
    if box is None and not points:
        raise LumaError("give --bbox X,Y,W,H or --points X,Y,+ ...")
    return Prompt(box, points)


def _segment_key(project, obj, frame: int, prompt) -> None:
    from core.media.reader import FrameReader
    from core.project.media_store import media_path
    from core.vision.roto import set_keyframe
    from core.vision.segment import create_segmenter

    segmenter = create_segmenter(obj.backend, **obj.params)
    with FrameReader(media_path(project, obj.media_id), cache_size=2, strict=True) as reader:
        if not 0 <= frame < reader.frame_count:
            raise LumaError(f"frame {frame} is outside the clip (frames 0-{reader.frame_count - 1})")
        rgb = reader.frame(frame)
    matte = segmenter.segment(rgb, prompt, key=frame)
    set_keyframe(project, obj.id, frame, matte, prompt=prompt)
    area = int((matte >= 128).sum())
    print(f"{obj.name}: keyframe at frame {frame}, {area} px", file=sys.stderr)


@guarded
def cmd_roto_new(args: argparse.Namespace) -> int:
    from app.cli_track import parse_frames
    from core.vision.roto import create_object, delete_object, get_object

    prompt = _prompt(args)
    with _opened(args.project) as project:
        mid = _media_id(project, args.media)
        frames = parse_frames(args.frames)
        if frames is not None:
            from core.project.media_store import get_media

            count = get_media(project, mid).info.video.frame_count
            frames = (frames[0] if frames[0] is not None else 0, frames[1] if frames[1] is not None else count - 1)
        oid = create_object(project, mid, args.name, frames, backend=args.backend, track_session_id=args.track)
        try:
            _segment_key(project, get_object(project, oid), args.frame, prompt)
        except BaseException:
            delete_object(project, oid)  # no half-made object when the prompt fails
            raise
        print(f"roto object #{oid} {args.name!r}: run `luma roto propagate {args.project} --object "
              f"{args.name}` next", file=sys.stderr)
    return 0


@guarded
def cmd_roto_key(args: argparse.Namespace) -> int:
    from core.vision.roto import find_object

    prompt = _prompt(args)
    with _opened(args.project) as project:
        _segment_key(project, find_object(project, args.object), args.frame, prompt)
    return 0


@guarded
def cmd_roto_propagate(args: argparse.Namespace) -> int:
    from core.jobs import TerminalProgress
    from core.vision.roto import find_object, mask_frames
    from core.vision.roto_job import RotoJob

    with _opened(args.project) as project:
        obj = find_object(project, args.object)
        bar = TerminalProgress(f"propagate {obj.name}", sys.stderr)
        try:
            RotoJob(project, obj.id, fit_shapes=not args.no_shapes).run(bar, lambda: False)
        except KeyboardInterrupt:
            raise LumaError("propagation interrupted; what was done is kept: run the command again to "
                            "continue") from None
        finally:
            bar.finish()
        print(f"{obj.name}: mattes on {len(mask_frames(project, obj.id))} frames", file=sys.stderr)
    return 0


@guarded
def cmd_roto_list(args: argparse.Namespace) -> int:
    from core.project.media_store import get_media
    from core.vision.roto import list_objects, mask_frames, passes

    with _opened(args.project) as project:
        objects = list_objects(project)
        if not objects:
            print("no roto objects")
        for o in objects:
            left = sum(p.remaining for p in passes(project, o.id))
            keys = ", ".join(f"{k.frame}({k.source})" for k in o.keyframes) or "none"
            print(f"#{o.id} {o.name!r} on {get_media(project, o.media_id).name}: frames {o.first_frame}-"
                  f"{o.last_frame}, {o.status}, {len(mask_frames(project, o.id))} mattes, {left} frames to "
                  f"propagate; keyframes {keys}" + (f"; error: {o.error}" if o.error else ""))
    return 0


@guarded
def cmd_roto_export(args: argparse.Namespace) -> int:
    from core.jobs import TerminalProgress
    from core.vision.roto import animation, find_object, matte_source
    from core.vision.roto_export import export_roto

    with _opened(args.project) as project:
        obj = find_object(project, args.object)
        bar = TerminalProgress(f"export {obj.name} ({args.format})", sys.stderr)
        try:
            files = export_roto(args.format, Path(args.out), animation=lambda: animation(project, obj.id),
                                mattes=matte_source(project, obj.id), first_frame=args.first_frame,
                                progress=bar)
        finally:
            bar.finish()
        print(f"{obj.name}: wrote {len(files)} file(s) -> {args.out}", file=sys.stderr)
    return 0


def _prompt_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frame", type=int, required=True, help="the frame the prompt is on (source frame, from 0)")
    p.add_argument("--bbox", metavar="X,Y,W,H", help="box around the subject (pixels, top-left corner and size)")
    p.add_argument("--points", nargs="+", metavar="X,Y,+|-", help="points on (+) or off (-) the subject")


def add_commands(subparsers) -> None:
    roto = subparsers.add_parser("roto", help="rotoscope a subject in a project: new, key, propagate, list")
    sub = roto.add_subparsers(dest="roto_command", required=True)

    p = sub.add_parser("new", help="a new roto object from a box or points on one frame")
    p.add_argument("project")
    p.add_argument("--media", metavar="NAME|#ID", help="the video (needed when the project has several)")
    p.add_argument("--name", required=True, help="the object's name (unique per video)")
    _prompt_args(p)
    p.add_argument("--frames", metavar="A:B", help="frame range of the object, inclusive (default: whole clip)")
    p.add_argument("--backend", default="classic", help="segmentation backend: classic (default), sam, person")
    p.add_argument("--track", type=int, metavar="SESSION", help="a tracking session whose boxes bound the matte")
    p.set_defaults(func=cmd_roto_new)

    p = sub.add_parser("key", help="add or replace a keyframe from a box or points")
    p.add_argument("project")
    p.add_argument("--object", required=True, help="object name or #id")
    _prompt_args(p)
    p.set_defaults(func=cmd_roto_key)

    p = sub.add_parser("propagate", help="propagate from the keyframes (resumes an interrupted run)")
    p.add_argument("project")
    p.add_argument("--object", required=True, help="object name or #id")
    p.add_argument("--no-shapes", action="store_true", help="do not fit the Bezier shapes afterwards")
    p.set_defaults(func=cmd_roto_propagate)

    p = sub.add_parser("list", help="the roto objects in a project")
    p.add_argument("project")
    p.set_defaults(func=cmd_roto_list)

    p = subparsers.add_parser("roto-export", help="export a roto object's mattes or shapes",
                              description="Export a roto object. " + FORMAT_HELP + ". Image sequences go to a "
                                          "folder (matte.0001.png ...) or a pattern like out/m.####.png.")
    p.add_argument("project")
    p.add_argument("--object", required=True, help="object name or #id")
    p.add_argument("--format", required=True,
                   choices=("png", "exr", "nuke", "silhouette", "aftereffects", "fusion", "blender", "json"))
    p.add_argument("--out", "-o", required=True, metavar="PATH", help="file, folder or frame pattern to write")
    p.add_argument("--first-frame", type=int, metavar="N",
                   help="the application's frame number for source frame 0 (default: the format's usual start)")
    p.set_defaults(func=cmd_roto_export)
