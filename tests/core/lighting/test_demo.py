"""The demo rig: patched, stored, overlapping layers, and it lights up."""

from __future__ import annotations

import numpy as np

from core.lighting.buffer import CompositeBuffer
from core.lighting.demo import add_demo_rig
from core.lighting.dmx import DmxRenderer
from core.lighting.store import load_show
from core.project import Project


def test_demo_rig_in_a_project(tmp_path):
    with Project.create(tmp_path / "demo.luma") as project:
        added = add_demo_rig(project, tempo_bpm=128)
    with Project.open(tmp_path / "demo.luma") as project:
        show = load_show(project)
    assert [f.id for f in show.patch] == [f.id for f in added.patch]
    kinds = {show.patch.get(f.id).definition for f in show.patch}
    assert kinds == {"Generic/RGB Par", "Generic/RGBW Par", "Generic/Moving Head 16-bit"}
    assert len(show.patch) == 7 and len(show.patterns) == 3 and len(show.layers) == 3
    assert show.tempo.bpm == 128
    spans = sorted((layer.start_beat, layer.end_beat) for layer in show.layers)
    overlaps = sum(1 for i, a in enumerate(spans) for b in spans[i + 1:] if b[0] < a[1])
    assert overlaps >= 2
    assert len({layer.blend for layer in show.layers}) == 3

    buffer, renderer = CompositeBuffer(show), DmxRenderer(show.patch.rig())
    beat = 60 / 128
    quiet = renderer.render(buffer.sample(0.0))[0]
    assert quiet[:12].max() == 0 and quiet[[12, 18]].tolist() == [0, 0]  # the wash fades in from black
    assert quiet[[17, 23]].tolist() == [4, 4]  # strobe channels rest at "open"
    busy = [renderer.render(buffer.sample(b * beat + 0.01))[0] for b in (8, 20, 36, 37)]
    for frame in busy:
        assert frame[:12].max() > 0  # front pars lit
        assert frame[29] > 0  # the spot's dimmer
    assert busy[0][24:26].tolist() == [0x80, 0x00]  # the wash centres the spot
    assert busy[2][24:26].tolist() != busy[3][24:26].tolist()  # the sweep moves it
    assert not np.array_equal(busy[2][:12], busy[3][:12])  # the chase moves
