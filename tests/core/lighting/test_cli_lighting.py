"""The lighting sub-commands of `luma`, on a small show whose DMX values are computed by hand."""

from __future__ import annotations

import argparse
import json

import pytest

from app.cli_lighting import add_commands
from core.lighting.library import BUNDLED_DIR

# 120 BPM: one beat = 0.5 s. At t = 1.0 s (beat 2) the blue layer's opacity is halfway (0 -> 1 over 4 beats).
SHOW = """\
# Luma Studio lighting show
luma_show: 1
tempo: {bpm: 120, offset: 0, beats_per_bar: 4}
sample_rate: 44
fixtures:
  - id: par
    definition: Generic/RGB Par
    mode: 3 Channel
    universe: 1
    address: 1
    groups: [pars]
  - id: wash
    definition: Generic/RGBW Par
    mode: 6 Channel
    universe: 1
    address: 10
    groups: [pars]
  - id: spot
    definition: Generic/Moving Head 16-bit
    mode: 16 Channel
    universe: 2
    address: 1
patterns:
  - name: red base
    nodes:
      - {id: pars, type: select, params: {groups: [pars]}}
      - {id: red, type: color, params: {color: "#ff0000"}}
      - {id: paint, type: apply_color}
      - {id: half, type: dimmer, params: {level: 0.5}}
      - {id: dim, type: apply_dimmer}
    links:
      - pars.selection -> paint.selection
      - red.color -> paint.color
      - pars.selection -> dim.selection
      - half.level -> dim.level
  - name: blue add
    nodes:
      - {id: pars, type: select, params: {groups: [pars]}}
      - {id: blue, type: color, params: {color: "#0000ff"}}
      - {id: paint, type: apply_color}
    links:
      - pars.selection -> paint.selection
      - blue.color -> paint.color
  - name: spot
    nodes:
      - {id: spot, type: select, params: {fixtures: [spot]}}
      - {id: green, type: color, params: {color: "#00ff00"}}
      - {id: paint, type: apply_color}
      - {id: full, type: dimmer}
      - {id: dim, type: apply_dimmer}
      - {id: aim, type: position, params: {pan: 0.75, tilt: 0.5}}
      - {id: move, type: apply_position}
    links:
      - spot.selection -> paint.selection
      - green.color -> paint.color
      - spot.selection -> dim.selection
      - full.level -> dim.level
      - spot.selection -> move.selection
      - aim.position -> move.position
layers:
  - pattern: red base
    track: Lights 1
    start_beat: 0
    end_beat: 16
    z: 0
    blend: replace
  - pattern: blue add
    track: Lights 2
    start_beat: 0
    end_beat: 16
    z: 1
    blend: add
    opacity: [[0, 0, linear], [4, 1, linear]]
  - pattern: spot
    track: Lights 3
    start_beat: 0
    end_beat: 16
    z: 0
    blend: replace
"""


@pytest.fixture
def luma(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))  # no user fixtures
    parser = argparse.ArgumentParser(prog="luma")
    add_commands(parser.add_subparsers(dest="command"))

    def run(*argv):
        args = parser.parse_args([str(a) for a in argv])
        return args.func(args)

    return run


@pytest.fixture
def project(luma, tmp_path, capsys):
    (tmp_path / "show.yaml").write_text(SHOW)
    assert luma("show", "import", tmp_path / "show.yaml", "-o", tmp_path / "show.luma") == 0
    assert "created with 3 fixtures, 3 patterns, 3 layers" in capsys.readouterr().out
    return tmp_path / "show.luma"


def dmx(luma, capsys, project, *extra):
    assert luma("dmx", project, *extra, "--json") == 0
    return json.loads(capsys.readouterr().out)


def test_dmx_values_computed_by_hand(luma, capsys, project):
    out = dmx(luma, capsys, project, "--at", "1.0")
    assert out["universe"] == 1 and out["time"] == 1.0 and len(out["channels"]) == 512
    ch = out["channels"]
    # colour = red + 0.5 * (min(red + blue, 1) - red) = (1, 0, 0.5); intensity 0.5
    # RGB par, no dimmer channel: colour x intensity = (0.5, 0, 0.25) -> 128, 0, 64 (floor(v*255 + 0.5))
    assert ch[0:3] == [128, 0, 64]
    # RGBW par at 10: dimmer 0.5 -> 128; white = min(1, 0, 0.5) = 0; R 255, G 0, B 128, W 0; strobe open (0-9) -> 4
    assert ch[9:15] == [128, 255, 0, 128, 0, 4]
    assert sum(ch) == 128 + 64 + 128 + 255 + 128 + 4  # nothing else in universe 1

    ch = dmx(luma, capsys, project, "--at", "1.0", "--universe", "2")["channels"]
    # pan 0.75 -> 49151 = 0xBF 0xFF; tilt 0.5 -> 32768 = 0x80 0x00; speed 0; dimmer 1 x brightest(green) = 1 -> FF FF;
    # shutter open 8-15 -> 11; colour wheel green 40-49 -> 44; gobo open 0-7 -> 3; zoom, focus, control 0
    assert ch[0:13] == [0xBF, 0xFF, 0x80, 0x00, 0, 0xFF, 0xFF, 11, 44, 3, 0, 0, 0]
    assert sum(ch[13:]) == 0

    # grand master halves the intensities only
    ch = dmx(luma, capsys, project, "--at", "1.0", "--grand-master", "0.5")["channels"]
    assert ch[0:3] == [64, 0, 32] and ch[9:15] == [64, 255, 0, 128, 0, 4]

    # at 2.0 s (beat 4) the blue layer is fully opaque: colour (1, 0, 1)
    ch = dmx(luma, capsys, project, "--at", "2")["channels"]
    assert ch[0:3] == [128, 0, 128] and ch[9:15] == [128, 255, 0, 255, 0, 4]

    # after the layers end (beat 16 = 8 s): defaults - dark, shutter open, head centred, wheel open, gobo open
    ch = dmx(luma, capsys, project, "--at", "8.5")["channels"]
    assert ch[0:3] == [0, 0, 0] and ch[9:15] == [0, 0, 0, 0, 0, 4]
    ch = dmx(luma, capsys, project, "--at", "8.5", "--universe", "2")["channels"]
    assert ch[0:13] == [0x80, 0, 0x80, 0, 0, 0, 0, 11, 4, 3, 0, 0, 0]

    # an unpatched universe is all zeros
    assert dmx(luma, capsys, project, "--at", "1", "--universe", "7")["channels"] == [0] * 512


def test_dmx_table_output(luma, capsys, project):
    assert luma("dmx", project, "--at", "1.0") == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 32
    assert lines[0].split() == ["1:", "128", "0", "64", "0", "0", "0", "0", "0", "0", "128", "255", "0", "128", "0",
                                "4", "0"]
    assert lines[31].startswith("497:")


def test_export_round_trip_and_update(luma, capsys, project, tmp_path):
    assert luma("show", "export", project, "-o", tmp_path / "out.yaml") == 0
    assert (tmp_path / "out.yaml").read_text() == SHOW
    assert luma("show", "export", project, "-o", "-") == 0
    assert capsys.readouterr().out == SHOW
    # importing into an existing project replaces its lighting show
    smaller = SHOW.replace("    end_beat: 16\n    z: 0\n    blend: replace\n  - pattern: blue add",
                           "    end_beat: 32\n    z: 0\n    blend: replace\n  - pattern: blue add")
    (tmp_path / "v2.yaml").write_text(smaller)
    assert luma("show", "import", tmp_path / "v2.yaml", "-o", project) == 0
    assert "updated" in capsys.readouterr().out
    assert luma("show", "export", project, "-o", "-") == 0
    assert capsys.readouterr().out == smaller


def test_errors_go_to_stderr_with_a_non_zero_status(luma, capsys, tmp_path, project):
    bad = SHOW.replace("    address: 10", "    address: 2")
    (tmp_path / "bad.yaml").write_text(bad)
    assert luma("show", "import", tmp_path / "bad.yaml", "-o", tmp_path / "new.luma") == 1
    err = capsys.readouterr().err
    assert err.startswith(f"luma: {tmp_path / 'bad.yaml'}:12: wash (universe 1, channels 2-7) overlaps par")
    assert not (tmp_path / "new.luma").exists()  # nothing is created for an invalid file
    assert luma("dmx", tmp_path / "missing.luma", "--at", "1") == 1
    assert "project file not found" in capsys.readouterr().err
    assert luma("dmx", project, "--at", "-1") == 1
    assert "the time must be a number of seconds >= 0" in capsys.readouterr().err
    assert luma("dmx", project, "--at", "1", "--universe", "0") == 1
    assert "universes are numbered" in capsys.readouterr().err
    assert luma("show", "export", tmp_path / "missing.luma", "-o", tmp_path / "x.yaml") == 1


def test_fixtures_list(luma, capsys, tmp_path):
    assert luma("fixtures", "list", "--search", "generic par") == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["Generic/RGB Par", "Generic/RGBW Par"]
    assert lines[0].split("\t")[1:3] == ["Color Changer", "bundled"]
    assert luma("fixtures", "list", "--search", "no such fixture") == 1
    assert "no fixture definitions matching 'no such fixture'" in capsys.readouterr().err
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "d.qxf").write_text((BUNDLED_DIR / "Generic-Dimmer.qxf").read_text().replace(
        "<Manufacturer>Generic</Manufacturer>", "<Manufacturer>Acme</Manufacturer>"))
    assert luma("fixtures", "list", "--fixtures", extra, "--search", "acme") == 0
    assert capsys.readouterr().out.startswith("Acme/Dimmer\tDimmer\texplicit\t")
