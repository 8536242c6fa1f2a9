"""A project for sync tests: video frames carry their index as a barcode, and a 16-bit dimmer
on universe 1 (channels 1-2) carries the same index as its DMX value.

The lighting is an LFO saw at 256 * 25 / 65535 Hz applied to the dimmer, so its 16-bit value
at show time ``t`` is ``6400 * t``, and the coarse channel (channel 1) is ``floor(25 * t)``:
the number of the 25 fps video frame due at that time (for the first 10.24 s, then it wraps).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from core.lighting.library import BUNDLED_DIR, FixtureLibrary
from core.lighting.layers import Layer, OpacityCurve
from core.lighting.patch import FixtureInstance, Patch
from core.lighting.pattern import NodeSpec, PatternGraph
from core.lighting.show import Show
from core.lighting.store import save_show
from core.project import Project, media_store
from core.time import TempoMap
from core.timeline import edit
from core.timeline.model import Timeline, create_sequence
from resources.footage import write_test_clip

FPS = 25


def frame_index_show(seconds: float) -> Show:
    library = FixtureLibrary([BUNDLED_DIR], include_defaults=False)
    dimmer = library.load("Generic/Dimmer")
    patch = Patch()
    patch.add(FixtureInstance("index", dimmer.key, "16-bit", 1, 1, "Frame index", ("all",), (0.0, 0.0, 0.0)), dimmer)
    graph = PatternGraph(
        "frame index",
        (
            NodeSpec("all", "select"),
            NodeSpec("ramp", "lfo", {"shape": "saw", "unit": "hz", "rate": 256 * FPS / 65535}),
            NodeSpec("dim", "apply_dimmer"),
        ),
        ("all.selection -> dim.selection", "ramp.level -> dim.level"),
    )
    tempo = TempoMap(Fraction(120))
    beats = int(seconds * 2) + 4
    show = Show(patch, {graph.name: graph}, [Layer("frame index", 0, beats, 0, "replace", OpacityCurve(), "L1")],
                tempo)
    show.validate()
    return show


def make_sync_project(folder: Path, seconds: float = 12.0, size=(320, 240), audio: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frames = int(seconds * FPS)
    clip = write_test_clip(folder / "index.mp4", frames=frames, size=size, rate=Fraction(FPS), gop=25, audio=audio)
    project = Project.create(folder / "sync.luma")
    try:
        create_sequence(project, rate=FPS, width=size[0], height=size[1])
        tl = Timeline(project)
        media = media_store.ingest(project, clip).id
        edit.add_clip(tl, media, tl.video_tracks()[0].id, start=0)
        if audio:
            edit.add_clip(tl, media, tl.audio_tracks()[0].id, start=0)
        save_show(project, frame_index_show(seconds))
        project.save()
    finally:
        project.close()
    return folder / "sync.luma"
