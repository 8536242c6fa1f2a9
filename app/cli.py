"""The ``luma`` command: the GUI by default, and headless sub-commands.

Errors go to stderr as ``luma: message`` with a non-zero exit status.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core import __version__
from core.errors import LumaError

EXIT_ERROR = 1
EXIT_USAGE = 2


def _fail(message: str, code: int = EXIT_ERROR) -> int:
    print(f"luma: {message}", file=sys.stderr)
    return code


# ---------------------------------------------------------------- commands


def cmd_info(args) -> int:
    path = Path(args.file)
    if path.suffix == ".luma":
        from core.project import Project
        from core.project import media_store
        from core.timeline.model import Timeline, list_sequences

        with Project.open(path) as project:
            seqs = []
            for sid, name in list_sequences(project):
                tl = Timeline(project, sid)
                seqs.append({"id": sid, "name": name, "rate": str(tl.rate), "width": tl.sequence.width,
                             "height": tl.sequence.height, "tracks": len(tl.tracks), "clips": len(tl.clips),
                             "duration_frames": tl.duration})
            out = {
                "project": str(project.path),
                "schema_version": project.schema_version(),
                "name": project.get_meta("name"),
                "media": [{"id": m.id, "name": m.name, "path": m.path, "kind": m.kind,
                           "missing": not project.absolute_path(m.path).is_file()}
                          for m in media_store.list_media(project)],
                "sequences": seqs,
            }
    else:
        from core.media.probe import probe

        out = probe(path).to_dict()
    json.dump(out, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")
    return 0


def cmd_new(args) -> int:
    from core.project import Project
    from core.timeline.model import create_sequence

    width, height = _parse_size(args.size)
    project = Project.create(args.project, name=args.name)
    try:
        create_sequence(project, "Sequence 1", rate=args.rate, width=width, height=height)
    finally:
        project.close()
    print(project.path)
    return 0


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise LumaError(f"size {text!r} should look like 1920x1080") from None
    if w <= 0 or h <= 0:
        raise LumaError(f"size {text!r} must be positive")
    return w, h


def cmd_ingest(args) -> int:
    from core.jobs import run_in_terminal
    from core.project import Project
    from core.project import media_store
    from core.project.proxies import proxy_jobs_for

    failures = 0
    with Project.open(args.project) as project:
        for f in args.files:
            try:
                record = media_store.ingest(project, f)
            except LumaError as exc:
                print(f"luma: {exc}", file=sys.stderr)
                failures += 1
                continue
            print(json.dumps({"id": record.id, "name": record.name, "kind": record.kind, "path": record.path}))
            if args.proxies:
                for job in proxy_jobs_for(project, record):
                    result = run_in_terminal(job)
                    media_store.add_derived(project, record.id, "proxy", result["params"], result["path"],
                                            result.get("width"), result.get("height"))
    return EXIT_ERROR if failures else 0


def cmd_demo(args) -> int:
    from resources.demo import make_demo

    out = Path(args.out) if args.out else Path.cwd()
    if not args.headless:
        from app.gui import NO_DISPLAY_HELP, has_display

        if not has_display():
            print(NO_DISPLAY_HELP, file=sys.stderr)
            return EXIT_USAGE
    project_path = make_demo(out, progress=sys.stderr if args.headless else None, overwrite=args.force)
    if args.headless:
        from core.project import Project
        from core.project import media_store
        from core.timeline.model import Timeline

        with Project.open(project_path) as project:
            tl = Timeline(project)
            print(f"demo project: {project_path}")
            for m in media_store.list_media(project):
                print(f"  media: {m.name} ({m.kind})")
            print(f"  sequence: {tl.sequence.name}, {tl.sequence.width}x{tl.sequence.height} at {tl.rate} fps, "
                  f"{len(tl.clips)} clips, {tl.duration} frames")
            extra = project.get_meta("demo_summary")
            if extra:
                print(f"  {extra}")
        print(f"open it with: luma {project_path}")
        return 0
    from app.gui import run_gui

    return run_gui(project_path)


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="luma", description="Luma Studio: video, tracking, roto and DMX lighting.")
    parser.add_argument("--version", action="version", version=f"Luma Studio {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("gui", help="open the main window (the default)")
    p.add_argument("project", nargs="?", help="project file to open")
    p.set_defaults(func=lambda a: _gui(a.project))

    p = sub.add_parser("info", help="probe a media file or summarise a project, as JSON")
    p.add_argument("file")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("new", help="create an empty project")
    p.add_argument("project")
    p.add_argument("--name")
    p.add_argument("--rate", default="25", help="sequence frame rate, e.g. 25, 29.97 or 24000/1001")
    p.add_argument("--size", default="1920x1080")
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("ingest", help="add media files to a project")
    p.add_argument("project")
    p.add_argument("files", nargs="+")
    p.add_argument("--proxies", action="store_true", help="also build 360p/720p proxies")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("demo", help="create the demo project (and open it)")
    p.add_argument("--headless", action="store_true", help="only create it and print what was made")
    p.add_argument("--out", help="folder for demo.luma and its media (default: current folder)")
    p.add_argument("--force", action="store_true", help="replace an existing demo.luma in that folder")
    p.set_defaults(func=cmd_demo)

    for module in ("app.cli_lighting", "app.cli_play", "app.cli_outputs", "app.cli_vision", "app.cli_track",
                   "app.cli_render", "app.cli_segment", "app.cli_roto", "app.cli_otio", "app.cli_audio"):
        try:
            mod = __import__(module, fromlist=["add_commands"])
        except ImportError as exc:
            if exc.name != module:
                raise
            continue
        mod.add_commands(sub)
    return parser


def _gui(project: str | None) -> int:
    from app.gui import run_gui

    return run_gui(project)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    if not argv or (not argv[0].startswith("-") and argv[0] not in commands):
        argv = ["gui"] + argv
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except LumaError as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return _fail("interrupted", 130)


if __name__ == "__main__":
    sys.exit(main())
