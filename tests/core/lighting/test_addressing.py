"""Auto-addressing new fixtures and finding overlapping ones."""

from __future__ import annotations

import numpy as np
import pytest

from core.lighting.addressing import Span, auto_address, find_conflicts, first_free, id_base, new_ids, occupancy
from core.lighting.errors import PatchError


def test_auto_address_fills_an_empty_universe_back_to_back():
    assert auto_address([], 6, 4, universe=1) == [(1, 1), (1, 7), (1, 13), (1, 19)]
    assert auto_address([], 6, 2, universe=3, start=100) == [(3, 100), (3, 106)]


def test_auto_address_skips_taken_channels_and_moves_to_the_next_universe():
    existing = [Span("a", 1, 1, 10), Span("b", 1, 15, 3), Span("c", 2, 1, 500)]
    # 1-10 and 15-17 taken: a 4-channel fixture fits at 11, then 18, 22, ...
    assert auto_address(existing, 4, 3) == [(1, 11), (1, 18), (1, 22)]
    # fill universe 1 up to 508: 13-channel fixtures go 18..505 (38 of them), the next does not fit in 506..512
    placed = auto_address(existing, 13, 40)
    assert placed[0] == (1, 18) and placed[37] == (1, 18 + 37 * 13)
    # universe 2 has 500 channels taken: 12 left, so the next one goes to universe 3
    assert placed[38:] == [(3, 1), (3, 14)]
    assert auto_address([Span("x", 1, 500, 13)], 13, 1, start=495) == [(2, 1)]


def test_auto_address_errors():
    with pytest.raises(PatchError, match="does not fit in a universe"):
        auto_address([], 600, 1)
    with pytest.raises(PatchError, match="universe 0 is not valid"):
        auto_address([], 3, 1, universe=0)
    with pytest.raises(PatchError, match="whole number"):
        auto_address([], 3, -1)


def test_first_free_and_occupancy():
    taken = occupancy([Span("a", 1, 3, 4)])[1]
    assert taken[:8].tolist() == [False, False, True, True, True, True, False, False]
    assert first_free(taken, 2) == 1
    assert first_free(taken, 3) == 7
    assert first_free(taken, 1, start=4) == 7
    assert first_free(np.ones(512, bool), 1) is None


def test_conflicts_name_the_other_fixture_and_the_channels():
    spans = [Span("a", 1, 1, 6), Span("b", 1, 5, 3), Span("c", 1, 8, 2), Span("d", 2, 5, 3), Span("e", 1, 20, 1)]
    got = find_conflicts(spans)
    assert set(got) == {"a", "b"}
    assert [(c.other, c.universe, c.first, c.last) for c in got["a"]] == [("b", 1, 5, 6)]
    assert got["b"][0].describe() == "overlaps a on universe 1, channels 5-6"
    three = find_conflicts([Span("a", 1, 1, 10), Span("b", 1, 10, 1), Span("c", 1, 2, 2)])
    assert [c.other for c in three["a"]] == ["b", "c"]
    assert three["b"][0].describe() == "overlaps a on universe 1, channel 10"
    assert find_conflicts([]) == {}


def test_new_ids():
    assert id_base("RGB Par") == "rgb_par"
    assert id_base("Impression X4 Bar 10") == "impression_x4_bar_10_"
    assert id_base("***") == "fixture"
    assert new_ids("par", ["par1", "par3", "spot1"], 2) == ["par4", "par5"]
    assert new_ids("par", [], 3) == ["par1", "par2", "par3"]


def test_plan_fixtures_addresses_ids_and_positions():
    from core.lighting.addressing import plan_fixtures
    from core.lighting.patch import FixtureInstance
    from lighting_util import LIBRARY, RGB, RGBW

    rgb, rgbw = LIBRARY.load(RGB), LIBRARY.load(RGBW)
    existing = [FixtureInstance("rgb_par1", RGB, "3 Channel", 1, 1, position=(0.0, 2.0, 5.0))]
    new = plan_fixtures(existing, {RGB: rgb}, rgbw, "6 Channel", 3, universe=1)
    assert [(f.id, f.universe, f.address, f.name) for f in new] == [
        ("rgbw_par1", 1, 4, "RGBW Par 1"), ("rgbw_par2", 1, 10, "RGBW Par 2"), ("rgbw_par3", 1, 16, "RGBW Par 3")]
    assert [f.position for f in new] == [(-1.0, 3.5, 5.0), (0.0, 3.5, 5.0), (1.0, 3.5, 5.0)]
    more = plan_fixtures(existing + new, {RGB: rgb, RGBW: rgbw}, rgb, "3 Channel", 1, universe=2, start=100)
    assert (more[0].id, more[0].universe, more[0].address, more[0].position) == ("rgb_par2", 2, 100, (0.0, 5.0, 5.0))
    first = plan_fixtures([], {}, rgb, "3 Channel", 2)
    assert [f.position for f in first] == [(-0.5, 0.0, 4.0), (0.5, 0.0, 4.0)]
    with pytest.raises(PatchError, match="no mode 'x'"):
        plan_fixtures([], {}, rgb, "x", 1)
