"""Show files: exact YAML round trip, storage in the project, line-numbered errors."""

from __future__ import annotations

from fractions import Fraction

import pytest

from core.lighting.demo import demo_show
from core.lighting.errors import ShowFileError
from core.lighting.show_file import dump_show, load_show_file, parse_show
from core.lighting.store import load_show, save_show
from core.project import Project
from lighting_util import LIBRARY

SHOW = """\
# Luma Studio lighting show
luma_show: 1
tempo: {bpm: 128.5, offset: 0.25, beats_per_bar: 3}
sample_rate: 50
fixtures:
  - id: par1
    name: Front left
    definition: Generic/RGB Par
    mode: 3 Channel
    universe: 1
    address: 1
    groups: [front, "yes"]
    position: [-2, 0.5, 3]
  - id: mh1
    definition: Generic/Moving Head 16-bit
    mode: 16 Channel
    universe: 2
    address: 101
patterns:
  - name: "wash: red"
    nodes:
      - {id: all, type: select, params: {groups: [front]}}
      - {id: red, type: color, params: {color: "#ff0000"}}
      - {id: paint, type: apply_color}
      - {id: lfo, type: lfo, params: {rate: 0.5, unit: hz, min: 0.25, max: 1.0e-05}}
      - {id: dim, type: apply_dimmer}
    links:
      - all.selection -> paint.selection
      - red.color -> paint.color
      - all.selection -> dim.selection
      - lfo.level -> dim.level
  - name: empty
    nodes: []
    links: []
layers:
  - pattern: "wash: red"
    track: Lights 1
    start_beat: 0
    end_beat: 16.5
    z: 0
    blend: replace
    opacity: [[0, 0, linear], [4, 1, smooth], [12, 0.5, linear]]
  - pattern: empty
    track: "#2"
    start_beat: 8
    end_beat: 9
    z: -1
    blend: screen
"""


def test_canonical_text_round_trips_exactly():
    show = parse_show(SHOW, "show.yaml", LIBRARY)
    assert dump_show(show) == SHOW
    assert show.tempo.bpm == Fraction(257, 2) and show.tempo.offset == Fraction(1, 4)
    assert show.tempo.beats_per_bar == 3 and show.sample_rate == 50
    assert show.patch.get("par1").groups == ("front", "yes")
    assert show.patch.get("par1").position == (-2.0, 0.5, 3.0)
    assert show.layers[0].opacity.keys[1].interp == "smooth"


def test_round_trip_through_a_project(tmp_path):
    text = dump_show(demo_show())
    with Project.create(tmp_path / "a.luma") as project:
        save_show(project, parse_show(text, "demo.yaml", LIBRARY))
    with Project.open(tmp_path / "a.luma") as project:
        again = dump_show(load_show(project))
    assert again == text
    with Project.open(tmp_path / "a.luma") as project:
        save_show(project, parse_show(SHOW, "show.yaml", LIBRARY))  # replaces the whole show
        assert dump_show(load_show(project)) == SHOW
        assert project.query("SELECT COUNT(*) FROM lighting_layers")[0][0] == 2


def test_fraction_tempo_and_file_io(tmp_path):
    text = SHOW.replace("bpm: 128.5", "bpm: 1000/7")
    show = parse_show(text, "s.yaml", LIBRARY)
    assert show.tempo.bpm == Fraction(1000, 7)
    assert dump_show(show) == text
    path = tmp_path / "s.yaml"
    path.write_text(text)
    assert dump_show(load_show_file(path, LIBRARY)) == text
    with pytest.raises(ShowFileError, match="cannot read the show file"):
        load_show_file(tmp_path / "missing.yaml")


def test_stored_definitions_are_used_when_the_library_lacks_them(tmp_path):
    from core.lighting.library import FixtureLibrary

    empty = FixtureLibrary([tmp_path], include_defaults=False)
    with pytest.raises(ShowFileError, match="show.yaml:8: fixture definition 'Generic/RGB Par' not found"):
        parse_show(SHOW, "show.yaml", empty)
    stored = {k: LIBRARY.load(k) for k in ("Generic/RGB Par", "Generic/Moving Head 16-bit")}
    assert dump_show(parse_show(SHOW, "show.yaml", empty, stored)) == SHOW


def error_of(text: str) -> str:
    with pytest.raises(ShowFileError) as err:
        parse_show(text, "show.yaml", LIBRARY)
    return str(err.value)


@pytest.mark.parametrize(
    "old, new, expected",
    [
        ("    address: 101", "    address: 510", "show.yaml:14: mh1: 13 channels from address 510 run to 522"),
        ("    universe: 2\n    address: 101", "    universe: 1\n    address: 2",
         "show.yaml:14: mh1 (universe 1, channels 2-14) overlaps par1 (channels 1-3)"),
        ("    mode: 3 Channel", "    mode: 4 Channel", "show.yaml:6: par1: Generic/RGB Par has no mode '4 Channel'"),
        ("definition: Generic/RGB Par", "definition: Generic/RGB Parr",
         "show.yaml:8: fixture definition 'Generic/RGB Parr' not found"),
        ("    address: 1\n", "    adress: 1\n", "show.yaml:11: fixture: unknown key 'adress'"),
        ("  - id: mh1\n", "  - idx: mh1\n", "show.yaml:14: fixture: unknown key 'idx'"),
        ("    universe: 2", "    universe: two", "show.yaml:17: mh1: universe must be a whole number, not 'two'"),
        ("type: apply_color}", "type: apply_colour}", "show.yaml:24: pattern 'wash: red', node 'paint': unknown node type"),
        ("max: 1.0e-05", "max: 2", "show.yaml:25: pattern 'wash: red', node 'lfo' (lfo): parameter 'max' is 2"),
        ("      - red.color -> paint.color", "      - red.color -> dim.level",
         "show.yaml:29: pattern 'wash: red', link 'red.color -> dim.level': cannot connect a color output"),
        ("      - red.color -> paint.color", "      - red.color paint.color",
         "show.yaml:29: link 'red.color paint.color' is not written"),
        ("      - red.color -> paint.color\n", "",
         "show.yaml:24: pattern 'wash: red', node 'paint' (apply_color): input 'color' must be linked"),
        ("groups: [front]}}", "fixtures: [ghost]}}",
         "show.yaml:22: pattern 'wash: red', node 'all': 'ghost' is neither a fixture"),
        ("  - pattern: empty", "  - pattern: nothing", "show.yaml:43: layer uses pattern 'nothing', which is not defined"),
        ("[4, 1, smooth]", "[4, 1.5, smooth]", "show.yaml:42: opacity 1.5 at beat 4 is outside 0..1"),
        ("[4, 1, smooth]", "[4, 1, cubic]", "show.yaml:42: opacity interpolation 'cubic' is unknown"),
        ("[12, 0.5, linear]", "[2, 0.5, linear]", "show.yaml:42: opacity keyframes must be in time order"),
        ("    end_beat: 9", "    end_beat: 8", "show.yaml:43: layer of 'empty': end_beat 8 must be after start_beat 8"),
        ("    blend: screen", "    blend: overlay", "show.yaml:43: blend mode 'overlay' is unknown"),
        ("luma_show: 1", "luma_show: 2", "show.yaml:2: show format 2 is not supported"),
        ("sample_rate: 50", "sample_rate: 5000", "show.yaml:4: sample rate 5000 Hz is not valid"),
        ("    z: -1", "    z: [1", "show.yaml:48: YAML syntax error"),
        ("    track: Lights 1\n", "    track: Lights 1\n    track: Lights 2\n", "show.yaml:38: layer: key 'track' appears twice"),
        ("  - name: empty\n", "  - name: \"wash: red\"\n", "show.yaml:32: pattern 'wash: red' is defined twice"),
        ("    groups: [front, \"yes\"]", "    groups: front", "show.yaml:12: par1: groups must be a list"),
        ("  - id: mh1\n", "  - id: par1\n", "show.yaml:14: fixture id 'par1' is used twice"),
    ],
)
def test_errors_carry_the_line_number(old, new, expected):
    assert old in SHOW
    message = error_of(SHOW.replace(old, new, 1))
    assert message.startswith(expected), message


def test_structural_errors():
    assert error_of("") == "show.yaml:1: the show file is empty"
    assert error_of("- 1\n- 2\n").startswith("show.yaml:1: show must be a mapping")
    assert error_of("luma_show: 1\nfixtures: 3\n") == "show.yaml:2: fixtures must be a list"
    assert error_of("tempo: {bpm: 120}\n") == "show.yaml:1: show: 'luma_show' is missing"
    assert error_of("luma_show: 1\ntempo: {bpm: -5}\n").startswith("show.yaml:2: tempo must be positive")
    assert error_of("luma_show: 1\ntempo: {bpm: fast}\n").startswith("show.yaml:2: tempo bpm must be a number")
    merge = SHOW.replace("      - {id: dim, type: apply_dimmer}",
                         "      - {id: dim, type: apply_dimmer}\n      - {id: paint2, type: apply_color}").replace(
        "      - lfo.level -> dim.level",
        "      - lfo.level -> dim.level\n      - all.selection -> paint2.selection\n      - red.color -> paint2.color")
    assert error_of(merge).startswith(
        "show.yaml:27: pattern 'wash: red': nodes 'paint' and 'paint2' both apply color to par1")


def test_minimal_show_uses_defaults():
    show = parse_show("luma_show: 1\n", "min.yaml", LIBRARY)
    assert show.tempo.bpm == 120 and show.sample_rate == 44 and not show.layers
    assert dump_show(show) == (
        "# Luma Studio lighting show\nluma_show: 1\ntempo: {bpm: 120, offset: 0, beats_per_bar: 4}\n"
        "sample_rate: 44\nfixtures: []\npatterns: []\nlayers: []\n"
    )
