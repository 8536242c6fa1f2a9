"""Editing the patch in the project file: add, update, remove and restore, one transaction each."""

from __future__ import annotations

import pytest

from core.lighting.errors import PatchError
from core.lighting.patch import FixtureInstance
from core.lighting.patch_store import (add_fixtures, load_fixtures, parse_groups, remove_fixtures, restore_fixtures,
                                       update_fixtures)
from core.lighting.store import load_show
from core.project import Project
from lighting_util import LIBRARY, RGB, RGBW


def par(fid, address, universe=1, **kw):
    return FixtureInstance(fid, RGB, "3 Channel", universe, address, **kw)


def test_add_update_remove_restore(tmp_path):
    labels = []
    with Project.create(tmp_path / "p.luma") as project:
        project.changed.connect(labels.append)
        add_fixtures(project, [par("a", 1), par("b", 4, name="Left")], [LIBRARY.load(RGB)])
        assert labels == ["patch 2 fixtures"]
        assert [(f.id, f.address, f.name) for f in load_fixtures(project)] == [("a", 1, ""), ("b", 4, "Left")]
        # an overlap is stored (the panel shows it); load_show refuses to play it and says why
        update_fixtures(project, [par("b", 2, name="Left", groups=("front",), position=(1.5, 2.0, 3.0))])
        assert labels[-1] == "edit b"
        b = load_fixtures(project)[1]
        assert (b.address, b.groups, b.position) == (2, ("front",), (1.5, 2.0, 3.0))
        with pytest.raises(PatchError, match="overlaps a"):
            load_show(project)
        removed = remove_fixtures(project, ["a"])
        assert [f.id for f in load_fixtures(project)] == ["b"]
        add_fixtures(project, [par("c", 10)])
        restore_fixtures(project, removed)
        assert [f.id for f in load_fixtures(project)] == ["a", "b", "c"]  # back at its old place
        assert labels[-3:] == ["unpatch a", "patch c", "restore fixtures"]
    with Project.open(tmp_path / "p.luma") as project:
        assert [(f.id, f.universe, f.address) for f in load_fixtures(project)] == [("a", 1, 1), ("b", 1, 2), ("c", 1, 10)]


def test_checks_say_what_is_wrong(tmp_path):
    with Project.create(tmp_path / "p.luma") as project:
        add_fixtures(project, [par("a", 1)], [LIBRARY.load(RGB)])
        before = project.query("SELECT * FROM lighting_fixtures")
        with pytest.raises(PatchError, match="'a' is used already"):
            add_fixtures(project, [par("a", 10)])
        with pytest.raises(PatchError, match="'Generic/RGBW Par' is not stored"):
            add_fixtures(project, [FixtureInstance("w", RGBW, "6 Channel", 1, 20)])
        with pytest.raises(PatchError, match="no mode 'nope'"):
            add_fixtures(project, [FixtureInstance("w", RGB, "nope", 1, 20)])
        with pytest.raises(PatchError, match="run to 513, past the end of universe 1.*up to 510"):
            update_fixtures(project, [par("a", 511)])
        with pytest.raises(PatchError, match="cannot change here"):
            update_fixtures(project, [FixtureInstance("a", RGB, "5 Channel", 1, 1)])
        with pytest.raises(PatchError, match="no fixture 'zz'"):
            remove_fixtures(project, ["zz"])
        assert project.query("SELECT * FROM lighting_fixtures") == before  # nothing half-done


def test_parse_groups():
    assert parse_groups(" front, pars ,,front ") == ("front", "pars")
    assert parse_groups("") == ()
