"""``luma otio-export`` and ``luma otio-import``: sequences to and from other editors.

``luma otio-export PROJECT.luma OUT.(otio|otioz|edl|xml) [--sequence ID] [--format ADAPTER]``
writes a sequence (default: the first) through OpenTimelineIO; what the format
cannot hold (an EDL keeps one video track, ...) is listed on stderr.

``luma otio-import PROJECT.luma FILE [--name NAME] [--relink FOLDER ...] [--rate RATE]``
reads an OTIO/EDL/FCP XML file into a new sequence. Media that are not where
the file says are looked for by name (and content) in the ``--relink`` folders,
the file's folder and the project's folder; if some are still missing nothing is
imported and the missing files are listed. ``--rate`` is the frame rate to read
an EDL at (EDLs do not say).

``add_commands(subparsers)`` adds both commands.
"""

from __future__ import annotations

import argparse
import sys

from app.cli_util import guarded


@guarded
def cmd_otio_export(args: argparse.Namespace) -> int:
    from core.project import Project
    from core.timeline.model import Timeline
    from core.timeline.otio_io import ADAPTER_LABELS, export_timeline

    with Project.open(args.project) as project:
        tl = Timeline(project, args.sequence)
        result = export_timeline(tl, args.out, adapter=args.format)
        print(f"{result.path}: {tl.sequence.name}, {len(tl.clips)} clips, {len(tl.transitions)} transitions, "
              f"{len(tl.markers)} markers ({ADAPTER_LABELS[result.adapter]})")
    for line in result.dropped:
        print(f"luma: not in {ADAPTER_LABELS[result.adapter]}: {line}", file=sys.stderr)
    return 0


@guarded
def cmd_otio_import(args: argparse.Namespace) -> int:
    from core.project import Project
    from core.timeline.otio_io import import_timeline

    with Project.open(args.project) as project:
        result = import_timeline(project, args.file, sequence_name=args.name, relink_folders=args.relink or (),
                                 rate=args.rate)
    print(f"sequence #{result.sequence_id} {result.name!r}: {result.clips} clips, {result.transitions} transitions, "
          f"{result.markers} markers, {len(result.media)} media files")
    for line in result.notes:
        print(f"luma: note: {line}", file=sys.stderr)
    return 0


#: the adapters core.timeline.otio_io writes (named here so that building the parser does not load OTIO)
FORMATS = {"otio_json": ".otio", "otioz": ".otioz", "cmx_3600": ".edl", "fcp_xml": ".xml"}


def add_commands(subparsers) -> None:
    formats = ", ".join(f"{k} ({v})" for k, v in FORMATS.items())
    p = subparsers.add_parser("otio-export", help="write a sequence as OTIO, an EDL or FCP XML for other editors")
    p.add_argument("project", metavar="PROJECT.luma")
    p.add_argument("out", metavar="OUT", help="OUT.otio, OUT.otioz (with media), OUT.edl or OUT.xml")
    p.add_argument("--sequence", type=int, metavar="ID", help="sequence id (default: the first; see luma info)")
    p.add_argument("--format", choices=list(FORMATS), help=f"instead of the suffix: {formats}")
    p.set_defaults(func=cmd_otio_export)

    p = subparsers.add_parser("otio-import", help="read an OTIO, EDL or FCP XML file into a new sequence")
    p.add_argument("project", metavar="PROJECT.luma")
    p.add_argument("file", metavar="FILE", help="FILE.otio, FILE.otioz, FILE.edl or FILE.xml")
    p.add_argument("--name", help="name of the new sequence (default: the timeline's name)")
    p.add_argument("--relink", action="extend", nargs="+", metavar="FOLDER",
                   help="folders to look for moved media in (by file name and content)")
    p.add_argument("--rate", help="frame rate to read an EDL at, e.g. 25 or 24000/1001 "
                                  "(default: the project's newest sequence's rate)")
    p.set_defaults(func=cmd_otio_import)
