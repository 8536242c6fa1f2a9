"""Editing the lighting show in the project file, one transaction per action."""

from __future__ import annotations

from fractions import Fraction

import pytest

from core.lighting.errors import LightingError, PatternError
from core.lighting.layers import Keyframe, Layer, OpacityCurve
from core.lighting.patch import FixtureInstance
from core.lighting.pattern import PatternGraph
from core.lighting.store import (
    add_fixture,
    add_layer,
    layer_rows,
    load_show,
    remove_layer,
    save_pattern,
    save_settings,
)
from core.project import Project
from core.time import TempoMap
from lighting_util import LIBRARY, RGB, const_pattern


def test_patterns_layers_and_settings(tmp_path):
    labels = []
    with Project.create(tmp_path / "p.luma") as project:
        project.changed.connect(labels.append)
        add_fixture(project, FixtureInstance("a", RGB, "3 Channel", 1, 1), LIBRARY.load(RGB))
        save_settings(project, TempoMap(Fraction(140), Fraction(1, 8), 3), 60)
        pid = save_pattern(project, const_pattern("red", color="#ff0000"))
        assert save_pattern(project, const_pattern("red", color="#00ff00")) == pid  # replaced by name
        first = add_layer(project, Layer("red", 0, 8, opacity=OpacityCurve((Keyframe(0, 0.0), Keyframe(1, 1.0)))))
        second = add_layer(project, Layer("red", 8, 16, z=2, blend="max", track="Lights 2"))
        with pytest.raises(LightingError, match="pattern 'blue', which is not in the project"):
            add_layer(project, Layer("blue", 0, 1))
        with pytest.raises(PatternError, match="unknown node type"):
            save_pattern(project, PatternGraph.from_dict({"name": "bad", "nodes": [{"id": "x", "type": "nope"}]}))
        assert [lid for lid, _ in layer_rows(project)] == [first, second]
        remove_layer(project, first)
        with pytest.raises(LightingError, match=f"no layer {first}"):
            remove_layer(project, first)
        assert "add layer red" in labels and "remove layer" in labels
    with Project.open(tmp_path / "p.luma") as project:
        show = load_show(project)
    assert show.tempo == TempoMap(Fraction(140), Fraction(1, 8), 3) and show.sample_rate == 60
    assert show.patterns["red"].node("c").params == {"color": "#00ff00"}
    assert show.layers == [Layer("red", 8, 16, z=2, blend="max", track="Lights 2")]
