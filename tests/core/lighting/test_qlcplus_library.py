"""Every fixture definition of Debian's qlcplus-data package (extracted by `make testdata`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.lighting.errors import FixtureDefinitionError
from core.lighting.qxf import iter_qxf_files, load_qxf

FIXTURES = Path(__file__).resolve().parents[2] / "data" / "qlcplus" / "fixtures"

pytestmark = pytest.mark.skipif(
    not FIXTURES.is_dir(),
    reason=f"{FIXTURES} is missing: run `make testdata` to extract the QLC+ fixture library",
)


@pytest.fixture(scope="module")
def parsed():
    ok, failures = {}, {}
    for path in iter_qxf_files(FIXTURES):
        try:
            ok[path] = load_qxf(path)
        except FixtureDefinitionError as exc:
            failures[path] = str(exc)
    return ok, failures


def test_at_least_99_percent_of_the_qlcplus_library_parses(parsed):
    ok, failures = parsed
    total = len(ok) + len(failures)
    print(f"\nQLC+ fixture definitions: {len(ok)} of {total} parse ({100.0 * len(ok) / total:.2f} %)")
    for path, reason in sorted(failures.items()):
        print(f"  FAILED {path.relative_to(FIXTURES)}: {reason}")
    assert total >= 1000, f"only {total} .qxf files found under {FIXTURES}"
    assert len(ok) >= 0.99 * total
    for path, reason in failures.items():
        # every failure says which file and why
        assert str(path) in reason and len(reason) > len(str(path)) + 10


def test_parsed_definitions_make_sense(parsed):
    ok, _ = parsed
    for path, d in ok.items():
        assert d.manufacturer and d.model and d.modes, path
        for mode in d.modes:
            assert len(mode.channels) >= 1
            for head in mode.heads:
                assert all(0 <= n < len(mode.channels) for n in head)


def test_known_fixtures_map_to_the_right_roles(parsed):
    ok, _ = parsed
    by_key = {d.key: d for d in ok.values()}
    rgbw = by_key["Generic/Generic RGBW"]
    assert [c.role for c in rgbw.mode_channels(rgbw.modes[0])][:4] == ["red", "green", "blue", "white"]
    bar = by_key["GLP/Impression X4 Bar 10"]
    dual = bar.mode("Dual Pixel")
    assert len(dual.heads) == 5
    assert [c.role for c in bar.mode_channels(dual)][:4] == ["tilt", "tilt_fine", "shutter", "dimmer"]
    sharpy = by_key["Clay Paky/Sharpy"]
    assert sharpy.channel("Static Gobo Change").gobo_slots()[:4] == [1, 5, 9, 13]  # "White" shows open.svg
    assert sharpy.channel("Stop / Strobe").strobe_map() == (105, 4, 103)
    assert (227 / 255, 0.0, 130 / 255) in [rgb for rgb, _ in sharpy.channel("Colour Wheel").wheel_palette()]
    # a moving head with 16-bit pan/tilt, colour wheel and gobos
    heads = [d for d in ok.values() if d.type == "Moving Head"]
    assert len(heads) > 100
    sixteen_bit = [d for d in heads if any(c.role == "pan_fine" for c in d.channels)]
    assert len(sixteen_bit) > 100
    wheels = [c for d in heads for c in d.channels if c.role == "color_wheel"]
    assert sum(1 for c in wheels if c.wheel_palette()) > 0.9 * len(wheels)


def test_every_parsed_mode_renders_dmx(parsed):
    """Patch every mode of every parsed definition and render one frame with all capabilities applied."""
    from core.lighting.buffer import CompositeBuffer
    from core.lighting.dmx import DmxRenderer
    from core.lighting.layers import Layer
    from core.lighting.patch import FixtureInstance, Patch
    from core.lighting.show import Show
    from core.time import TempoMap
    from lighting_util import const_pattern

    ok, _ = parsed
    patch = Patch()
    universe, address, n = 1, 1, 0
    for d in ok.values():
        if d.key in patch.definitions:
            continue  # two files defining the same model: the first one is patched
        for mode in d.modes:
            count = len(mode.channels)
            if address + count - 1 > 512:
                universe, address = universe + 1, 1
            patch.add(FixtureInstance(f"f{n}", d.key, mode.name, universe, address), d)
            address += count
            n += 1
    pattern = const_pattern("all", color=[0.2, 0.6, 1.0], level=0.8, position=(0.25, 0.75), strobe=0.5,
                            zoom=0.5, focus=0.5, gobo=1)
    show = Show(patch, {"all": pattern}, [Layer("all", 0, 4)], TempoMap(120))
    renderer = DmxRenderer(patch.rig())
    frame = renderer.render(CompositeBuffer(show).sample(0.5))
    print(f"\nrendered {n} fixture modes ({patch.rig().size} heads) in {len(renderer.universes)} universes")
    assert frame.shape == (len(renderer.universes), 512)
    assert n > 3000 and frame.any()
