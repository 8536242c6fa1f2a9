"""``luma beats``, ``luma tempo`` and ``luma loudness``: audio analysis from the command line.

``luma beats PROJECT.luma MEDIA [--beats-per-bar N] [--force] [--set-tempo]``
    finds and stores the beat grid of a media file of the project (its id or
    name) and prints its tempo and beat count; ``--set-tempo`` then sets the
    project tempo map from it, placed through the first clip of that media on
    the first sequence (an audio clip if there is one), or with the media's
    start at sequence time 0 when no clip uses it.

``luma tempo PROJECT.luma [--bpm X] [--offset S] [--beats-per-bar N]``
    prints the project tempo map, or changes the parts given.

``luma loudness FILE``
    prints the integrated loudness (LUFS, EBU R128) and true peak (dBTP) of a
    file's sound.

Results go to stdout, progress and errors to stderr; ``add_commands(subparsers)`` adds them.
"""

from __future__ import annotations

import argparse
import sys
from fractions import Fraction

from core.errors import LumaError

from app.cli_util import guarded


def _number(text: str, what: str) -> Fraction:
    try:
        return Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise LumaError(f"{what} {text!r} should be a number such as 128, 127.5 or 256/3") from None


def resolve_media(project, text: str) -> int:
    """A media id from its number or its name (exact, else case-insensitive, else a unique prefix)."""
    from core.project import media_store

    media = media_store.list_media(project)
    if text.strip().isdigit() and any(m.id == int(text) for m in media):
        return int(text)
    for match in (lambda m: m.name == text, lambda m: m.name.lower() == text.lower(),
                  lambda m: m.name.lower().startswith(text.lower())):
        found = [m for m in media if match(m)]
        if len(found) == 1:
            return found[0].id
        if len(found) > 1:
            names = ", ".join(f"#{m.id} {m.name}" for m in found)
            raise LumaError(f"{text!r} matches several media ({names}); give its id")
    known = ", ".join(f"#{m.id} {m.name}" for m in media) or "none"
    raise LumaError(f"no media {text!r} in {project.path.name} (media: {known})")


def _describe(tempo) -> str:
    return (f"{float(tempo.bpm):.3f} BPM, beat 0 at {float(tempo.offset):.3f} s, "
            f"{tempo.beats_per_bar} beats a bar")


def _clip_for(project, media_id: int):
    """(timeline, clip) of the first clip of a media on the first sequence, audio clips first; or (None, None)."""
    from core.timeline.model import Timeline, list_sequences

    if not list_sequences(project):
        return None, None
    tl = Timeline(project)
    clips = [c for c in tl.clips.values() if c.media_id == media_id]
    clips.sort(key=lambda c: (tl.track(c.track_id).kind != "audio", c.start, c.id))
    return (tl, clips[0]) if clips else (tl, None)


@guarded
def cmd_beats(args: argparse.Namespace) -> int:
    from core.audio.beats import BeatJob
    from core.audio.tempo import set_project_tempo, set_tempo_from_clip, tempo_from_grid
    from core.jobs import run_in_terminal
    from core.project import Project, media_store

    if args.beats_per_bar < 1:
        raise LumaError("--beats-per-bar must be at least 1")
    with Project.open(args.project) as project:
        media_id = resolve_media(project, args.media)
        name = media_store.get_media(project, media_id).name
    job = BeatJob(args.project, media_id, beats_per_bar=args.beats_per_bar, force=args.force, name=name)
    grid = run_in_terminal(job)
    note = " (stored earlier)" if job.reused else ""
    first = f", first downbeat at {grid.downbeats[0]:.3f} s" if grid.downbeats else ""
    print(f"{name}: {grid.bpm:.2f} BPM, {len(grid.beats)} beats, {len(grid.downbeats)} bars{first}{note}")
    if args.set_tempo:
        with Project.open(args.project) as project:
            tl, clip = _clip_for(project, media_id)
            if clip is not None:
                tempo, _old = set_tempo_from_clip(tl, clip.id)
                where = f"from clip {clip.name or clip.id} at frame {clip.start}"
            else:
                tempo = tempo_from_grid(grid, 0, 0)
                set_project_tempo(project, tempo, "tempo from beats")
                where = "with the media starting at 0 s (no clip uses it)"
        print(f"tempo: {_describe(tempo)} ({where})")
    return 0


@guarded
def cmd_tempo(args: argparse.Namespace) -> int:
    from core.audio.tempo import project_tempo_map, set_project_tempo
    from core.project import Project
    from core.time import TempoMap

    with Project.open(args.project) as project:
        tempo = project_tempo_map(project)
        if args.bpm is not None or args.offset is not None or args.beats_per_bar is not None:
            bpm = _number(args.bpm, "--bpm") if args.bpm is not None else tempo.bpm
            offset = _number(args.offset, "--offset") if args.offset is not None else tempo.offset
            per_bar = args.beats_per_bar if args.beats_per_bar is not None else tempo.beats_per_bar
            if bpm <= 0:
                raise LumaError(f"--bpm must be positive, not {args.bpm}")
            if per_bar < 1:
                raise LumaError("--beats-per-bar must be at least 1")
            tempo = TempoMap(bpm, offset, int(per_bar))
            set_project_tempo(project, tempo)
        print(f"tempo: {_describe(tempo)}")
    return 0


@guarded
def cmd_loudness(args: argparse.Namespace) -> int:
    from core.audio.loudness import measure_file

    lufs, peak, rate = measure_file(args.file)
    print(f"integrated: {lufs:.1f} LUFS")
    print(f"true peak: {peak:.1f} dBTP")
    print(f"sample rate: {rate} Hz", file=sys.stderr)
    return 0


def add_commands(subparsers) -> None:
    p = subparsers.add_parser("beats", help="find and store the beat grid of a media file of a project",
                              description="Analyse a media file's beats, store the grid in the project and print "
                                          "its tempo; --set-tempo makes it the project tempo.")
    p.add_argument("project", metavar="PROJECT.luma")
    p.add_argument("media", metavar="MEDIA", help="the media's id or name")
    p.add_argument("--beats-per-bar", type=int, default=4, metavar="N", help="beats in a bar (default 4)")
    p.add_argument("--force", action="store_true", help="analyse again even if a grid is stored")
    p.add_argument("--set-tempo", action="store_true", help="set the project tempo map from the grid")
    p.set_defaults(func=cmd_beats)

    p = subparsers.add_parser("tempo", help="print or set the project tempo map",
                              description="Print the project tempo map; the options change the parts given.")
    p.add_argument("project", metavar="PROJECT.luma")
    p.add_argument("--bpm", metavar="X", help="beats a minute (128, 127.5 or 256/3)")
    p.add_argument("--offset", metavar="S", help="sequence time of beat 0, seconds")
    p.add_argument("--beats-per-bar", type=int, metavar="N", help="beats in a bar")
    p.set_defaults(func=cmd_tempo)

    p = subparsers.add_parser("loudness", help="print the integrated loudness and true peak of a file's sound")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=cmd_loudness)
