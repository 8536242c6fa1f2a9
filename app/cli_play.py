"""``luma play``: play a project's show from a terminal, no window (video, audio, DMX on one clock).

``add_commands(subparsers)`` adds the ``play`` command to the ``luma`` parser.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from pathlib import Path

from core.errors import LumaError


def cmd_play(args: argparse.Namespace) -> int:
    """Play a project headless and print what was sent and how well it kept time."""
    from core.output.config import load_outputs
    from core.project import Project
    from core.show.player import ShowPlayer, parse_outputs

    try:
        project = Project.open(args.project)
    except LumaError as exc:
        print(f"luma: {exc}", file=sys.stderr)
        return 1
    try:
        if args.output:
            configs = parse_outputs(args.output, latency_ms=args.latency_ms, rate=args.rate)
        else:
            configs = [c for c in load_outputs(project) if c.enabled]
            if not configs:
                raise LumaError(f"{Path(args.project).name} has no DMX outputs set up: give --output URL "
                                "(e.g. --output artnet://127.0.0.1 or --output file:///tmp/show.dmxrec)")
        player = ShowPlayer(project, configs, start=args.start, duration=args.duration,
                            video=not args.no_video, audio=not args.no_audio, video_log=args.video_log,
                            preview_height=args.preview_height)
        previous = signal.signal(signal.SIGINT, lambda *_: player.stop())
        try:
            print(f"playing {Path(args.project).name} to {', '.join(c.url for c in configs)} "
                  f"(Ctrl+C stops)", flush=True)
            report = player.run()
        finally:
            signal.signal(signal.SIGINT, previous)
    except LumaError as exc:
        print(f"luma: {exc}", file=sys.stderr)
        return 1
    finally:
        project.close()
    for line in report.lines():
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
    failed = [s for s in report.outputs if s.frames_sent == 0]
    return 1 if failed and len(failed) == len(report.outputs) else 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("play", help="play a project's show headless: video, audio and DMX out in sync")
    p.add_argument("project")
    p.add_argument("--start", type=float, default=0.0, help="start at this many seconds into the sequence")
    p.add_argument("--duration", type=float, help="play this many seconds (default: to the end)")
    p.add_argument("--output", action="append", metavar="URL",
                   help="artnet://HOST, sacn://HOST, enttec-pro://SERIAL, enttec-open://SERIAL or "
                        "file:///PATH (repeatable; default: the outputs saved in the project)")
    p.add_argument("--latency-ms", type=float, default=0.0, help="latency compensation for the --output URLs")
    p.add_argument("--rate", type=float, default=44.0, help="DMX frames per second (default 44)")
    p.add_argument("--no-video", action="store_true", help="do not decode the video")
    p.add_argument("--no-audio", action="store_true", help="do not play sound (the system clock is the master)")
    p.add_argument("--preview-height", type=int, help="decode the video at this height (proxies if any)")
    p.add_argument("--video-log", metavar="DIR", help="write each presented frame (PNG) and its time to DIR")
    p.add_argument("--json", metavar="PATH", help="also write the report as JSON")
    p.set_defaults(func=cmd_play)
