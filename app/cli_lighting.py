"""Lighting sub-commands of ``luma``: show import/export, DMX values, fixture library.

``add_commands(subparsers)`` adds ``show``, ``dmx`` and ``fixtures`` to the
``luma`` parser; each handler takes the parsed arguments and returns the exit
status (errors are printed as ``luma: message`` on stderr, status 1).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from app.cli_util import EXIT_ERROR, guarded
from core.errors import LumaError





def _library(paths: list[str]):
    from core.lighting.library import FixtureLibrary

    return FixtureLibrary(paths)


# ---------------------------------------------------------------- handlers


@guarded
def cmd_show_import(args: argparse.Namespace) -> int:
    """Create or update a project from a show file."""
    from core.lighting.show_file import load_show_file
    from core.lighting.store import save_show, stored_definitions
    from core.project import Project

    out = Path(args.output)
    if not out.name.endswith(".luma"):
        out = out.with_name(out.name + ".luma")
    library = _library(args.fixtures)
    if out.exists():
        project = Project.open(out)
        try:
            show = load_show_file(args.show_file, library, stored_definitions(project))
            save_show(project, show, label=f"import {Path(args.show_file).name}")
        finally:
            project.close()
        verb = "updated"
    else:
        show = load_show_file(args.show_file, library)  # nothing is created for an invalid file
        project = Project.create(out)
        try:
            save_show(project, show, label=f"import {Path(args.show_file).name}")
        finally:
            project.close()
        verb = "created"
    print(f"{out}: {verb} with {len(show.patch)} fixtures, {len(show.patterns)} patterns, {len(show.layers)} layers")
    return 0


@guarded
def cmd_show_export(args: argparse.Namespace) -> int:
    """Write a project's lighting show as YAML."""
    from core.lighting.show_file import dump_show
    from core.lighting.store import load_show
    from core.project import Project

    with Project.open(args.project) as project:
        text = dump_show(load_show(project))
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LumaError(f"{args.output}: cannot write the show file ({exc.strerror})") from exc
    return 0


@guarded
def cmd_dmx(args: argparse.Namespace) -> int:
    """Print the 512 channel values of one universe at one time."""
    from core.lighting.buffer import CompositeBuffer
    from core.lighting.dmx import DmxRenderer
    from core.lighting.patch import MAX_UNIVERSE
    from core.lighting.store import load_show
    from core.project import Project

    if not math.isfinite(args.at) or args.at < 0:
        raise LumaError(f"--at {args.at}: the time must be a number of seconds >= 0")
    if not 1 <= args.universe <= MAX_UNIVERSE:
        raise LumaError(f"--universe {args.universe}: universes are numbered 1..{MAX_UNIVERSE}")
    if not 0.0 <= args.grand_master <= 1.0:
        raise LumaError(f"--grand-master {args.grand_master}: use a level between 0 and 1")
    with Project.open(args.project) as project:
        show = load_show(project)
    buffer = CompositeBuffer(show)
    renderer = DmxRenderer(show.patch.rig())
    frame = renderer.render(buffer.sample(args.at), args.grand_master)
    values = [int(v) for v in renderer.universe(frame, args.universe)]
    if args.json:
        json.dump({"universe": args.universe, "time": args.at, "channels": values}, sys.stdout)
        sys.stdout.write("\n")
        return 0
    for row in range(0, 512, 16):
        chunk = " ".join(f"{v:3d}" for v in values[row : row + 16])
        print(f"{row + 1:3d}: {chunk}")
    return 0


@guarded
def cmd_fixtures_list(args: argparse.Namespace) -> int:
    """List the fixture definitions on the search paths."""
    library = _library(args.fixtures)
    entries = library.search(args.search or "")
    for e in entries:
        print(f"{e.key}\t{e.type}\t{e.origin}\t{e.path}")
    for problem in library.problems:
        print(f"luma: skipped {problem}", file=sys.stderr)
    if not entries:
        what = f" matching {args.search!r}" if args.search else ""
        print(f"luma: no fixture definitions{what} found", file=sys.stderr)
        return EXIT_ERROR
    return 0


# ---------------------------------------------------------------- parser


def add_commands(subparsers) -> None:
    """Add ``show``, ``dmx`` and ``fixtures`` to the ``luma`` sub-parsers."""
    p = subparsers.add_parser("show", help="import or export a lighting show (YAML)")
    actions = p.add_subparsers(dest="show_action", metavar="ACTION")
    actions.required = True
    pi = actions.add_parser("import", help="create or update a project from SHOW.yaml")
    pi.add_argument("show_file", metavar="SHOW.yaml")
    pi.add_argument("-o", "--output", required=True, metavar="PROJECT.luma")
    pi.add_argument("--fixtures", action="append", default=[], metavar="PATH",
                    help="extra fixture definition file or folder (repeatable)")
    pi.set_defaults(func=cmd_show_import)
    pe = actions.add_parser("export", help="write the project's lighting show as YAML")
    pe.add_argument("project", metavar="PROJECT.luma")
    pe.add_argument("-o", "--output", required=True, metavar="SHOW.yaml", help="'-' writes to stdout")
    pe.set_defaults(func=cmd_show_export)

    p = subparsers.add_parser("dmx", help="print the DMX values of a universe at a time")
    p.add_argument("project", metavar="PROJECT.luma")
    p.add_argument("--at", type=float, required=True, metavar="SECONDS")
    p.add_argument("--universe", type=int, default=1, metavar="N", help="universe number (default 1)")
    p.add_argument("--grand-master", type=float, default=1.0, metavar="LEVEL", help="0..1 (default 1)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_dmx)

    p = subparsers.add_parser("fixtures", help="fixture definitions")
    actions = p.add_subparsers(dest="fixtures_action", metavar="ACTION")
    actions.required = True
    pl = actions.add_parser("list", help="list the definitions found on the search paths")
    pl.add_argument("--search", default="", metavar="TEXT", help="only those whose names contain TEXT")
    pl.add_argument("--fixtures", action="append", default=[], metavar="PATH",
                    help="extra fixture definition file or folder (repeatable)")
    pl.set_defaults(func=cmd_fixtures_list)
