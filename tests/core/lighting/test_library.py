"""Fixture search paths: explicit > LUMA_FIXTURE_PATH > user folder > bundled > installed QLC+."""

from __future__ import annotations

import shutil

import pytest

from core.lighting import library as library_module
from core.lighting.errors import FixtureDefinitionError
from core.lighting.library import BUNDLED_DIR, FixtureLibrary, default_search_paths, user_fixture_dir
from lighting_util import write_qxf

ONE_CHANNEL = '<Channel Name="D" Preset="IntensityDimmer"/><Mode Name="1ch"><Channel Number="0">D</Channel></Mode>'


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """No real user folder, no real QLC+ install: both point into tmp_path."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("LUMA_FIXTURE_PATH", raising=False)
    qlc = tmp_path / "qlcplus"
    qlc.mkdir()
    monkeypatch.setattr(library_module, "QLCPLUS_DIRS", (qlc,))
    return tmp_path


def test_bundled_definitions_are_found(isolated):
    lib = FixtureLibrary()
    keys = [e.key for e in lib.entries()]
    for key in ("Generic/Dimmer", "Generic/RGB Par", "Generic/RGBW Par", "Generic/Moving Head 16-bit"):
        assert key in keys
    assert {e.origin for e in lib.entries()} == {"bundled"}
    assert lib.load("Generic/RGB Par").source.startswith(str(BUNDLED_DIR))


def test_search_order_and_origins(isolated, monkeypatch):
    user = user_fixture_dir()
    assert user == isolated / "xdg" / "luma" / "fixtures"
    user.mkdir(parents=True)
    # the user's own "Generic/RGB Par" wins over the bundled one
    write_qxf(user / "mine.qxf", ONE_CHANNEL, "Generic", "RGB Par")
    write_qxf(isolated / "qlcplus" / "sys.qxf", ONE_CHANNEL, "Acme", "Blinder")
    env_dir = isolated / "env"
    env_dir.mkdir()
    write_qxf(env_dir / "env.qxf", ONE_CHANNEL, "Acme", "Env Light")
    monkeypatch.setenv("LUMA_FIXTURE_PATH", str(env_dir))
    explicit = write_qxf(isolated / "explicit.qxf", ONE_CHANNEL, "Acme", "Blinder")

    lib = FixtureLibrary([explicit])
    origins = [o for o, _ in lib.search_paths]
    assert origins == ["explicit", "explicit", "user", "bundled", "qlcplus"]
    by_key = {e.key: e for e in lib.entries()}
    assert by_key["Generic/RGB Par"].origin == "user"
    assert lib.load("Generic/RGB Par").mode_channels("1ch")[0].role == "dimmer"
    assert by_key["Acme/Blinder"].path == explicit  # explicit beats the installed QLC+ file
    assert by_key["Acme/Env Light"].origin == "explicit"
    assert [e.key for e in lib.search("acme")] == ["Acme/Blinder", "Acme/Env Light"]
    assert [e.key for e in lib.search("RGBW par")] == ["Generic/RGBW Par"]
    assert lib.search("no such thing") == []


def test_installed_qlcplus_library_is_used(isolated):
    (isolated / "qlcplus" / "Acme").mkdir()
    write_qxf(isolated / "qlcplus" / "Acme" / "blinder.qxf", ONE_CHANNEL, "Acme", "Blinder")
    lib = FixtureLibrary()
    entry = next(e for e in lib.entries() if e.key == "Acme/Blinder")
    assert entry.origin == "qlcplus"
    assert lib.load("Acme/Blinder").model == "Blinder"


def test_unknown_definition_suggests_close_names(isolated):
    lib = FixtureLibrary()
    with pytest.raises(FixtureDefinitionError) as err:
        lib.load("Generic/RGB Parr")
    message = str(err.value)
    assert "'Generic/RGB Parr' not found" in message
    assert "Did you mean 'Generic/RGB Par'" in message
    assert str(user_fixture_dir()) in message


def test_broken_files_are_reported_not_fatal(isolated):
    user = user_fixture_dir()
    user.mkdir(parents=True)
    (user / "broken.qxf").write_text("<FixtureDefinition><Manufacturer>")
    lib = FixtureLibrary([isolated / "does-not-exist"])
    assert "Generic/Dimmer" in lib
    assert any("broken.qxf" in p and "not well-formed" in p for p in lib.problems)
    assert any("does-not-exist: no such file or folder" in p for p in lib.problems)


def test_explicit_folder_only(tmp_path):
    shutil.copy(BUNDLED_DIR / "Generic-Dimmer.qxf", tmp_path / "d.qxf")
    lib = FixtureLibrary([tmp_path], include_defaults=False)
    assert [e.key for e in lib.entries()] == ["Generic/Dimmer"]
    assert default_search_paths([tmp_path])[0] == ("explicit", tmp_path)
