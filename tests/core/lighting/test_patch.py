"""The patch: addresses, overlaps, primitives, and storage in the project file."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from core.lighting.errors import PatchError
from core.lighting.patch import FixtureInstance, Patch
from core.lighting.qxf import load_qxf
from core.lighting.store import add_fixture, load_show, remove_fixture
from core.project import Project
from lighting_util import HEAD, LIBRARY, RGB, RGBW, patch_of, write_qxf


def fi(fid, key=RGB, mode="3 Channel", universe=1, address=1, **kw):
    return FixtureInstance(fid, key, mode, universe, address, **kw)


def test_addresses_and_counts():
    patch = patch_of(("a", RGB, "3 Channel", 1, 1), ("b", RGBW, "6 Channel", 1, 4), ("c", HEAD, "16 Channel", 2, 500))
    assert [f.id for f in patch] == ["a", "b", "c"]
    assert patch.channel_count(patch.get("b")) == 6
    assert patch.universes() == [1, 2]


def test_overlap_is_rejected_naming_both_fixtures_and_where_there_is_room():
    patch = patch_of(("a", RGB, "3 Channel", 1, 1), ("b", RGB, "3 Channel", 1, 4))
    with pytest.raises(PatchError) as err:
        patch.add(fi("c", address=5), LIBRARY.load(RGB))
    assert str(err.value) == (
        "c (universe 1, channels 5-7) overlaps b (channels 4-6); next free address after it: 7"
    )
    assert "c" not in patch  # nothing changed
    patch.add(fi("c", address=5, universe=2), LIBRARY.load(RGB))  # another universe is fine


def test_addresses_past_512_are_rejected():
    patch = Patch()
    with pytest.raises(PatchError) as err:
        patch.add(fi("mh", HEAD, "16 Channel", address=502), LIBRARY.load(HEAD))
    assert str(err.value) == (
        "mh: 13 channels from address 502 run to 514, past the end of universe 1 (512 channels); "
        "use an address up to 500 or another universe"
    )
    patch.add(fi("mh", HEAD, "16 Channel", address=500), LIBRARY.load(HEAD))  # 500..512 fits exactly
    for bad in (0, 513, -1):
        with pytest.raises(PatchError, match=r"DMX address .* is not valid \(1..512\)"):
            patch.add(fi("x", address=bad), LIBRARY.load(RGB))
    with pytest.raises(PatchError, match="universe 0 is not valid"):
        patch.add(fi("x", universe=0), LIBRARY.load(RGB))


def test_ids_modes_and_definitions():
    patch = patch_of(("a", RGB, "3 Channel", 1, 1))
    with pytest.raises(PatchError, match="fixture id 'a' is used twice"):
        patch.add(fi("a", address=100), LIBRARY.load(RGB))
    with pytest.raises(PatchError, match="is not valid: use letters"):
        fi("has space")
    with pytest.raises(PatchError, match="is not valid"):
        fi("dotted.id")
    with pytest.raises(PatchError, match=r"has no mode '7 Channel' \(modes: '3 Channel', '5 Channel'\)"):
        patch.add(fi("b", mode="7 Channel", address=10))
    with pytest.raises(PatchError, match="'Acme/Nothing' is not loaded"):
        patch.add(fi("c", key="Acme/Nothing", address=10))


def test_remove_and_move():
    patch = patch_of(("a", RGB, "3 Channel", 1, 1), ("b", RGB, "3 Channel", 1, 4), ("c", RGB, "3 Channel", 1, 7))
    patch.remove("b")
    patch.add(fi("d", address=4), LIBRARY.load(RGB))  # the freed channels can be used again
    with pytest.raises(PatchError, match=r"a \(universe 1, channels 6-8\) overlaps d \(channels 4-6\)"):
        patch.move("a", 1, 6)
    assert patch.get("a").address == 1  # unchanged after the failed move
    patch.move("a", 1, 100)
    assert [f.id for f in patch] == ["a", "c", "d"]  # the patch order is kept
    assert patch.get("a").address == 100
    with pytest.raises(PatchError, match="no fixture 'zz'"):
        patch.remove("zz")


def test_rig_primitives_groups_and_heads(tmp_path):
    body = """
 <Channel Name="Master" Preset="IntensityMasterDimmer"/>
 <Channel Name="R1" Preset="IntensityRed"/><Channel Name="R2" Preset="IntensityRed"/><Channel Name="R3" Preset="IntensityRed"/>
 <Mode Name="3 heads"><Channel Number="0">Master</Channel><Channel Number="1">R1</Channel>
  <Channel Number="2">R2</Channel><Channel Number="3">R3</Channel>
  <Head><Channel>1</Channel></Head><Head><Channel>2</Channel></Head><Head><Channel>3</Channel></Head></Mode>"""
    bar = load_qxf(write_qxf(tmp_path / "bar.qxf", body, "Test", "Bar"))
    patch = patch_of(("p1", RGB, "3 Channel", 1, 1, ("front",), (1.0, 2.0, 3.0)),
                     ("bar", "Test/Bar", "3 heads", 1, 10, ("front", "bars")),
                     ("mh", HEAD, "16 Channel", 1, 20), extra={"Test/Bar": bar})
    rig = patch.rig()
    assert [p.id for p in rig.primitives] == ["p1", "bar.1", "bar.2", "bar.3", "mh"]
    assert rig.resolve("bar") == [1, 2, 3]
    assert rig.resolve("bar.2") == [2]
    assert rig.resolve("front") == [0, 1, 2, 3]
    assert rig.pan_range.tolist() == [0, 0, 0, 0, 540]
    np.testing.assert_array_equal(rig.positions[0], [1.0, 2.0, 3.0])
    with pytest.raises(PatchError, match="'nope' is neither a fixture"):
        rig.resolve("nope")


def test_patch_is_stored_in_the_project(tmp_path):
    with Project.create(tmp_path / "show.luma") as project:
        assert project.schema_version() >= 2
        add_fixture(project, fi("a", groups=("front",), position=(1, 2, 3)), LIBRARY.load(RGB))
        add_fixture(project, fi("m", HEAD, "16 Channel", 2, 1), LIBRARY.load(HEAD))
        with pytest.raises(PatchError, match="overlaps a"):
            add_fixture(project, fi("b", address=2), LIBRARY.load(RGB))
        assert project.query("SELECT COUNT(*) FROM lighting_fixtures")[0][0] == 2
    with Project.open(tmp_path / "show.luma") as project:
        patch = load_show(project).patch
        assert [f.id for f in patch] == ["a", "m"]
        assert patch.get("a").groups == ("front",) and patch.get("a").position == (1.0, 2.0, 3.0)
        assert patch.definitions[HEAD] == LIBRARY.load(HEAD)  # the definition travels with the project
        remove_fixture(project, "a")
        assert [f.id for f in load_show(project).patch] == ["m"]
        with pytest.raises(sqlite3.IntegrityError):  # the schema itself refuses bad rows too
            project.execute(
                "INSERT INTO lighting_fixtures(id, patch_order, def_key, mode, universe, address) "
                "VALUES ('z', 9, ?, '16 Channel', 1, 513)", (HEAD,))
