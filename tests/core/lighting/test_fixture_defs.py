"""Fixture definitions: the bundled files, the QLC+ importer, JSON storage, XML safety."""

from __future__ import annotations

import pytest

from core.lighting.errors import FixtureDefinitionError
from core.lighting.fixture_def import FixtureDef
from core.lighting.qxf import load_qxf, read_header
from lighting_util import DIMMER, HEAD, LIBRARY, RGB, RGBW, write_qxf


def roles(d: FixtureDef, mode: str) -> list[str]:
    return [c.role for c in d.mode_channels(mode)]


def test_bundled_definitions_and_their_roles():
    assert roles(LIBRARY.load(DIMMER), "16-bit") == ["dimmer", "dimmer_fine"]
    assert roles(LIBRARY.load(RGB), "3 Channel") == ["red", "green", "blue"]
    assert roles(LIBRARY.load(RGB), "5 Channel") == ["dimmer", "red", "green", "blue", "shutter"]
    assert roles(LIBRARY.load(RGBW), "4 Channel") == ["red", "green", "blue", "white"]
    head = LIBRARY.load(HEAD)
    assert roles(head, "16 Channel") == [
        "pan", "pan_fine", "tilt", "tilt_fine", "other", "dimmer", "dimmer_fine", "shutter",
        "color_wheel", "gobo", "zoom", "focus", "other",
    ]
    assert head.physical.pan_max == 540 and head.physical.tilt_max == 270
    assert (head.physical.beam_min, head.physical.beam_max) == (12, 36)
    assert head.type == "Moving Head"


def test_moving_head_wheel_strobe_and_gobo_interpretation():
    head = LIBRARY.load(HEAD)
    wheel = head.channel("Colour wheel").wheel_palette()
    # single-colour ranges only (the split-colour range and rotations are not candidates)
    assert [v for _, v in wheel] == [4, 14, 24, 34, 44, 54, 64, 74]
    assert wheel[1][0] == (1.0, 0.0, 0.0)
    assert head.channel("Shutter").strobe_map() == (11, 16, 131)
    assert head.channel("Gobo wheel").gobo_slots() == [3, 11, 19, 27, 35, 43, 51]
    assert LIBRARY.load(RGB).channel("Strobe").strobe_map() == (4, 10, 255)


def test_json_round_trip_keeps_everything():
    for key in (DIMMER, RGB, RGBW, HEAD):
        d = LIBRARY.load(key)
        again = FixtureDef.from_dict(d.to_dict(), source=d.source)
        assert again == d


def test_from_dict_rejects_other_formats():
    with pytest.raises(FixtureDefinitionError, match="not a Luma fixture definition"):
        FixtureDef.from_dict({"format": "something"})
    data = LIBRARY.load(RGB).to_dict()
    del data["modes"][0]["channels"]
    with pytest.raises(FixtureDefinitionError, match="malformed"):
        FixtureDef.from_dict(data)


def test_old_style_groups_colours_and_fine_bytes(tmp_path):
    body = """
 <Channel Name="Pan"><Group Byte="0">Pan</Group></Channel>
 <Channel Name="Pan fine"><Group Byte="1">Pan</Group></Channel>
 <Channel Name="Tilt"><Group Byte="0">Tilt</Group></Channel>
 <Channel Name="R"><Group Byte="0">Intensity</Group><Colour>Red</Colour></Channel>
 <Channel Name="Dim"><Group Byte="0">Intensity</Group></Channel>
 <Channel Name="Zoom motor"><Group Byte="0">Beam</Group></Channel>
 <Channel Name="Wheel"><Group Byte="0">Colour</Group>
  <Capability Min="0" Max="127" Color="#ffffff">White</Capability>
  <Capability Min="128" Max="255" Color="#00ff00">Green</Capability>
 </Channel>
 <Channel Name="Gobos"><Group Byte="0">Gobo</Group>
  <Capability Min="0" Max="9">Open</Capability>
  <Capability Min="10" Max="19">Gobo 1</Capability>
  <Capability Min="20" Max="255">Gobo rotation</Capability>
 </Channel>
 <Channel Name="Spare" Default="17"><Group Byte="0">Maintenance</Group></Channel>
 <Mode Name="All">
  <Channel Number="1">Pan fine</Channel>
  <Channel Number="0">Pan</Channel>
  <Channel Number="2">Tilt</Channel>
  <Channel Number="3">R</Channel>
  <Channel Number="4">Dim</Channel>
  <Channel Number="5">Zoom motor</Channel>
  <Channel Number="6">Wheel</Channel>
  <Channel Number="7">Gobos</Channel>
  <Channel Number="8">Spare</Channel>
 </Mode>"""
    d = load_qxf(write_qxf(tmp_path / "old.qxf", body))
    assert d.key == "Test/Thing"
    # channels are put in order of their Number
    assert d.mode("All").channels[:2] == ("Pan", "Pan fine")
    assert roles(d, "All") == ["pan", "pan_fine", "tilt", "red", "dimmer", "zoom", "color_wheel", "gobo", "other"]
    assert d.channel("Gobos").gobo_slots() == [4, 14]
    assert d.channel("Spare").default == 17
    assert read_header(tmp_path / "old.qxf") == ("Test", "Thing", "Other")


def test_heads_and_mode_physical(tmp_path):
    body = """
 <Channel Name="Master" Preset="IntensityMasterDimmer"/>
 <Channel Name="R1" Preset="IntensityRed"/><Channel Name="G1" Preset="IntensityGreen"/>
 <Channel Name="R2" Preset="IntensityRed"/><Channel Name="G2" Preset="IntensityGreen"/>
 <Mode Name="Pixels">
  <Physical><Focus Type="Fixed" PanMax="0" TiltMax="0"/><Layout Width="2" Height="1"/></Physical>
  <Channel Number="0">Master</Channel>
  <Channel Number="1">R1</Channel><Channel Number="2">G1</Channel>
  <Channel Number="3">R2</Channel><Channel Number="4">G2</Channel>
  <Head><Channel>1</Channel><Channel>2</Channel></Head>
  <Head><Channel>3</Channel><Channel>4</Channel></Head>
 </Mode>"""
    d = load_qxf(write_qxf(tmp_path / "bar.qxf", body))
    mode = d.mode("Pixels")
    assert mode.heads == ((1, 2), (3, 4))
    assert d.mode_physical(mode).layout == (2, 1)


@pytest.mark.parametrize(
    "body, message",
    [
        ('<Mode Name="M"><Channel Number="0">Ghost</Channel></Mode>', "uses channel 'Ghost', which is not defined"),
        ('<Channel Name="A"><Capability Min="0" Max="300">x</Capability></Channel>'
         '<Mode Name="M"><Channel Number="0">A</Channel></Mode>', "outside 0-255"),
        ('<Channel Name="A"><Capability Min="9" Max="3">x</Capability></Channel>'
         '<Mode Name="M"><Channel Number="0">A</Channel></Mode>', "ends before it starts"),
        ('<Channel Name="A" Preset="IntensityRed"/>', "has no modes"),
        ('<Channel Name="A" Preset="IntensityRed"/><Mode Name="M"><Channel Number="1">A</Channel></Mode>',
         "channel number 0 is missing"),
        ('<Channel Name="A" Preset="IntensityRed"/><Mode Name="M"><Channel Number="0">A</Channel>'
         '<Head><Channel>4</Channel></Head></Mode>', "names channel 4"),
        ('<Channel Name="A" Preset="IntensityRed"/><Channel Name="A" Preset="IntensityBlue"/>'
         '<Mode Name="M"><Channel Number="0">A</Channel></Mode>', "defined twice with different contents"),
    ],
)
def test_structural_errors_name_the_file_and_the_problem(tmp_path, body, message):
    path = write_qxf(tmp_path / "bad.qxf", body)
    with pytest.raises(FixtureDefinitionError) as err:
        load_qxf(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_identical_duplicate_channels_are_merged(tmp_path):
    body = ('<Channel Name="A" Preset="IntensityRed"/><Channel Name="A" Preset="IntensityRed"/>'
            '<Mode Name="M"><Channel Number="0">A</Channel></Mode>')
    assert [c.name for c in load_qxf(write_qxf(tmp_path / "dup.qxf", body)).channels] == ["A"]


def test_entity_expansion_is_refused(tmp_path):
    bomb = tmp_path / "bomb.qxf"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE FixtureDefinition [\n <!ENTITY a "aaaaaaaaaa">\n'
        ' <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n]>\n'
        "<FixtureDefinition><Manufacturer>&b;</Manufacturer><Model>x</Model></FixtureDefinition>\n"
    )
    with pytest.raises(FixtureDefinitionError, match="refused unsafe XML"):
        load_qxf(bomb)
    with pytest.raises(FixtureDefinitionError, match="refused unsafe XML"):
        read_header(bomb)


def test_external_entities_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    evil = tmp_path / "evil.qxf"
    evil.write_text(
        f'<?xml version="1.0"?>\n<!DOCTYPE FixtureDefinition [ <!ENTITY x SYSTEM "file://{secret}"> ]>\n'
        "<FixtureDefinition><Manufacturer>&x;</Manufacturer><Model>x</Model></FixtureDefinition>\n"
    )
    with pytest.raises(FixtureDefinitionError, match="refused unsafe XML"):
        load_qxf(evil)


def test_malformed_and_foreign_xml(tmp_path):
    broken = tmp_path / "broken.qxf"
    broken.write_text("<FixtureDefinition><Model>")
    with pytest.raises(FixtureDefinitionError, match="not well-formed XML"):
        load_qxf(broken)
    other = tmp_path / "other.qxf"
    other.write_text("<Workspace/>")
    with pytest.raises(FixtureDefinitionError, match=r"not a QLC\+ fixture definition"):
        load_qxf(other)
    with pytest.raises(FixtureDefinitionError, match="cannot read"):
        load_qxf(tmp_path / "missing.qxf")
