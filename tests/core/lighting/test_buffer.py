"""The composite buffer: sampling, interpolation, block caching, invalidation, tempo."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from core.lighting.buffer import CompositeBuffer
from core.lighting.layers import Keyframe, Layer, OpacityCurve
from core.time import TempoMap
from lighting_util import HEAD, RGB, const_pattern, patch_of, show_of


@pytest.fixture
def patch():
    return patch_of(("a", RGB, "3 Channel", 1, 1), ("b", RGB, "3 Channel", 1, 4), ("mh", HEAD, "16 Channel", 1, 10))


def test_sampling_on_and_between_samples(patch):
    # 10 Hz, 120 BPM: the layer covers beats 0-2 = 0.0-1.0 s, samples 0..9
    show = show_of(patch, [const_pattern("on", ["a", "mh"], level=1.0, gobo=3)], [Layer("on", 0, 2)], rate=10)
    buf = CompositeBuffer(show, block_size=4)
    s = buf.sample(0.5)
    assert s.values["intensity"][:, 0].tolist() == [1.0, 0.0, 1.0]
    assert s.present["intensity"].tolist() == [True, False, True]
    # between sample 9 (0.9 s, on) and sample 10 (1.0 s, the layer has ended): linear for continuous ...
    s = buf.sample(0.95)
    assert s.values["intensity"][0, 0] == pytest.approx(0.5)
    assert s.values["intensity"][0, 0] == pytest.approx(buf.sample(0.925).values["intensity"][0, 0] - 0.25)
    # ... hold for discrete capabilities and for presence
    assert s.values["gobo"][2, 0] == 3.0 and s.present["gobo"][2]
    s = buf.sample(1.0)
    assert s.values["intensity"][0, 0] == 0.0 and not s.present["intensity"][0]
    assert s.values["gobo"][2, 0] == 0.0
    # unused capabilities read as their defaults
    np.testing.assert_array_equal(s.values["position"], 0.5)
    assert not s.present["color"].any()
    # negative time is clamped to the start
    assert buf.sample(-3).values["intensity"][0, 0] == 1.0


def test_values_are_stored_with_16_bit_resolution(patch):
    show = show_of(patch, [const_pattern("p", ["mh"], position=(0.123456, 0.5), level=1 / 3)], [Layer("p", 0, 8)])
    s = CompositeBuffer(show).sample(1.0)
    assert abs(s.values["position"][2, 0] - 0.123456) <= 0.5 / 65535 + 1e-7
    assert np.floor(s.values["position"][2, 0] * 65535 + 0.5) == np.floor(0.123456 * 65535 + 0.5)
    assert s.values["intensity"][2, 0] == pytest.approx(1 / 3, abs=1e-5)


def test_blocks_are_built_lazily_and_cached(patch):
    show = show_of(patch, [const_pattern("on", level=1.0)], [Layer("on", 0, 128)])
    buf = CompositeBuffer(show, block_size=44)  # one block per second at 44 Hz
    assert buf.cached_blocks == []
    buf.sample(10.5)
    assert buf.cached_blocks == [10]
    buf.sample(10.99)  # needs sample 483 (block 10) and 484 (block 11)
    assert buf.cached_blocks == [10, 11]
    built = buf.blocks_built
    buf.sample(10.2)
    assert buf.blocks_built == built  # cached
    assert buf.prefetch(20.0, 3.0) == 4  # blocks 20..23
    assert buf.prefetch(20.0, 3.0) == 0
    assert buf.bytes_cached == 6 * 44 * (patch.rig().size * 2 + 1)  # uint16 intensity + packed presence


def test_an_edit_invalidates_only_the_affected_time(patch):
    wash, pulse = const_pattern("wash", color="#ff0000", level=0.5), const_pattern("pulse", ["a"], level=1.0)
    layers = [Layer("wash", 0, 120), Layer("pulse", 8, 16, z=1), Layer("pulse", 40, 48, z=1)]
    show = show_of(patch, [wash, pulse], layers)
    buf = CompositeBuffer(show, block_size=22)  # 0.5 s blocks at 44 Hz
    buf.ensure(0, 59.99)
    assert buf.cached_blocks == list(range(120))
    built = buf.blocks_built

    # move the first pulse from beats 8-16 (4-8 s) to beats 100-104 (50-52 s)
    buf.replace_layer(1, Layer("pulse", 100, 104, z=1))
    missing = sorted(set(range(120)) - set(buf.cached_blocks))
    assert missing == list(range(8, 16)) + list(range(100, 104))
    buf.ensure(0, 59.99)
    assert buf.blocks_built - built == len(missing)
    assert buf.sample(5.0).values["intensity"][0, 0] == pytest.approx(0.5, abs=1e-4)
    assert buf.sample(51.0).values["intensity"][0, 0] == 1.0

    # changing a pattern rebuilds only under the layers that use it (pulse: 20-24 s and 50-52 s)
    buf.replace_pattern(const_pattern("pulse", ["a"], level=0.25))
    assert sorted(set(range(120)) - set(buf.cached_blocks)) == list(range(40, 48)) + list(range(100, 104))
    assert buf.sample(21.0).values["intensity"][0, 0] == pytest.approx(0.25, abs=1e-4)

    before = set(buf.cached_blocks)
    buf.add_layer(Layer("wash", 0, 4))  # 0-2 s: blocks 0-3
    assert set(buf.cached_blocks) == before - {0, 1, 2, 3}
    # a new capability (strobe) changes the stored arrays: everything is rebuilt
    buf.replace_pattern(const_pattern("wash", color="#ff0000", level=0.5, strobe=0.5))
    assert buf.cached_blocks == []
    buf.ensure(0, 10)
    buf.set_tempo(TempoMap(90))
    assert buf.cached_blocks == []
    buf.remove_layer(3)
    assert len(show.layers) == 3


def test_memory_budget_evicts_blocks_far_from_the_playhead(patch):
    show = show_of(patch, [const_pattern("on", color="#ffffff", level=1.0)], [Layer("on", 0, 400)])
    one_block = CompositeBuffer(show, block_size=44)
    one_block.sample(0)
    size = one_block.bytes_cached
    buf = CompositeBuffer(show, block_size=44, max_bytes=5 * size)
    for t in range(0, 30):
        buf.sample(t + 0.5)
    assert buf.bytes_cached <= 5 * size
    assert buf.cached_blocks == [25, 26, 27, 28, 29]


def test_layers_are_placed_in_beats_through_the_tempo_map(patch):
    # 90 BPM, beat 0 at 0.5 s: beats 8-16 are 5.8333.. s to 11.1666.. s
    tempo = TempoMap(Fraction(90), Fraction(1, 2))
    layer = Layer("on", 8, 16, opacity=OpacityCurve((Keyframe(0, 0.0), Keyframe(4, 1.0))))
    assert tempo.beats_to_seconds(8) == Fraction(35, 6)
    assert layer.seconds(tempo) == pytest.approx((35 / 6, 67 / 6))
    assert tempo.seconds_to_beats(Fraction(35, 6)) == 8
    np.testing.assert_allclose(tempo.beats_to_seconds(np.array([0.0, 8.0, 16.0])), [0.5, 35 / 6, 67 / 6])
    np.testing.assert_allclose(tempo.seconds_to_beats(np.array([0.5, 35 / 6])), [0.0, 8.0])
    show = show_of(patch, [const_pattern("on", level=1.0)], [layer], rate=60)
    show.tempo = tempo
    buf = CompositeBuffer(show)
    assert buf.sample(5.8).values["intensity"][0, 0] == 0.0  # before the layer
    assert not buf.sample(5.8).present["intensity"][0]
    # opacity keyframes count beats from the layer start: 2 of 4 beats into the fade = 0.5
    t_mid = float(tempo.beats_to_seconds(10))
    assert buf.sample(t_mid).values["intensity"][0, 0] == pytest.approx(0.5, abs=0.01)
    assert buf.sample(11.1).values["intensity"][0, 0] == pytest.approx(1.0)
    assert buf.sample(11.2).values["intensity"][0, 0] == 0.0
