"""The demo project: footage generated on the spot, so nothing is downloaded.

``make_demo(folder)`` writes two short clips (moving shapes, a frame-number
burn-in and a barcode, with a click track on the beat), creates
``demo.luma`` beside them, imports the clips and lays them on the first
sequence's video and audio tracks. When the lighting engine is present it
also patches a small rig with a few overlapping patterns.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path
from typing import TextIO

DEMO_RATE = Fraction(25)
DEMO_SIZE = (1280, 720)


def make_demo(folder: str | Path, progress: TextIO | None = None, overwrite: bool = False) -> Path:
    from core.project import Project
    from core.project import media_store
    from core.timeline import edit
    from core.timeline.model import Timeline, create_sequence
    from resources.footage import write_test_clip

    def say(msg: str) -> None:
        if progress is not None:
            print(msg, file=progress, flush=True)

    folder = Path(folder).expanduser().resolve()
    if (folder / "demo.luma").exists() and not overwrite:
        from core.errors import ProjectError

        raise ProjectError(f"{folder / 'demo.luma'} exists already: open it with `luma {folder / 'demo.luma'}`, "
                           "or pass --force to make it again (its edits are lost)")
    media_dir = folder / "demo-media"
    media_dir.mkdir(parents=True, exist_ok=True)
    clips = [
        ("shapes_a.mp4", 8 * 25, DEMO_SIZE),
        ("shapes_b.mp4", 5 * 25, DEMO_SIZE),
    ]
    paths = []
    for name, frames, size in clips:
        path = media_dir / name
        if not path.is_file():
            say(f"writing {path.name} ({frames} frames, {size[0]}x{size[1]})")
            write_test_clip(path, frames=frames, size=size, rate=DEMO_RATE, gop=12, audio=True, click_bpm=120)
        paths.append(path)

    project_path = folder / "demo.luma"
    say(f"creating {project_path}")
    project = Project.create(project_path, name="Luma demo", overwrite=overwrite)
    try:
        create_sequence(project, "Demo sequence", rate=DEMO_RATE, width=DEMO_SIZE[0], height=DEMO_SIZE[1])
        tl = Timeline(project)
        v1 = tl.video_tracks()[0].id
        a1 = tl.audio_tracks()[0].id
        start = 0
        for path in paths:
            record = media_store.ingest(project, path)
            change = edit.add_media(tl, record.id, v1, a1, start)
            start = max(c.end for c in change.after)
        summary = []
        try:
            from core.lighting.demo import add_demo_rig
        except ImportError as exc:
            if not (exc.name or "").startswith("core.lighting"):
                raise
        else:
            show = add_demo_rig(project, tempo_bpm=120)
            fixtures = len(show.patch.fixtures)
            summary.append(f"lighting: {fixtures} fixtures, {len(show.patterns)} patterns, "
                           f"{len(show.layers)} layers at {float(show.tempo.bpm):g} BPM")
        if summary:
            project.set_meta("demo_summary", "; ".join(summary))
    finally:
        project.close()
    return project_path


if __name__ == "__main__":  # python -m resources.demo [FOLDER]
    print(make_demo(sys.argv[1] if len(sys.argv) > 1 else Path.cwd(), progress=sys.stderr))
