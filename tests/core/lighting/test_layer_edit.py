"""Undoable layer and lane edits: one transaction each, exact rows before/after, undo/redo byte for byte."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.lighting import layer_edit as le
from core.lighting.buffer import CompositeBuffer
from core.lighting.errors import LayerError
from core.lighting.layers import Keyframe, Layer, OpacityCurve
from core.lighting.store import load_show, save_show
from core.project import Project
from lighting_util import RGB, const_pattern, patch_of, show_of


@pytest.fixture
def project(tmp_path):
    p = Project.create(tmp_path / "layers.luma")
    patch = patch_of(("par1", RGB, "3 Channel", 1, 1))
    show = show_of(patch, [const_pattern("red", color="#ff0000"), const_pattern("blue", color="#0000ff"),
                           const_pattern("dim", level=0.5)], [])
    save_show(p, show)
    yield p
    p.close()


def table(p):
    return p.query("SELECT * FROM lighting_layers ORDER BY id")


def meta(p):
    return p.get_meta(le.LANES_META_KEY)


def transactions(p):
    labels = []
    p.changed.connect(labels.append)
    return labels


def check_undo_redo(p, edit, before_rows, before_meta):
    after_rows, after_meta = table(p), meta(p)
    le.revert(p, edit)
    assert table(p) == before_rows and meta(p) == before_meta
    le.reapply(p, edit)
    assert table(p) == after_rows and meta(p) == after_meta


def test_add_layer_defaults_and_undo(project):
    p = project
    labels = transactions(p)
    e = le.add_layer(p, "red", "Front", 4)
    assert labels == ["add layer red"]  # one transaction
    ((lid, row),) = e.after
    assert e.before == ((lid, None),) and e.layer_id == lid
    # one bar long (4/4), on top, replace, no keyframes
    assert (row.track, row.start_beat, row.end_beat, row.z, row.blend, row.opacity) == ("Front", 4.0, 8.0, 0,
                                                                                        "replace", "[]")
    assert le.lanes(p) == ["Front"] and json.loads(meta(p)) == ["Front"]
    e2 = le.add_layer(p, "blue", "Back", 0, 2, blend="max", keys=[(0, 0.0), (1, 1.0, "smooth")])
    assert dict(e2.after)[e2.layer_id].z == 1  # above the first
    stored = load_show(p).layers
    assert stored[1] == Layer("blue", 0, 2, 1, "max", OpacityCurve((Keyframe(0, 0.0), Keyframe(1, 1.0, "smooth"))),
                              "Back")
    before = table(p)[:1]
    le.revert(p, e2)
    assert table(p) == before and json.loads(meta(p)) == ["Front"]
    le.revert(p, e)
    assert table(p) == [] and meta(p) is None  # no lane list was stored before


def test_move_resize_blend_z_opacity_are_exact_and_undoable(project):
    p = project
    lid = le.add_layer(p, "red", "A", 0, 4).layer_id
    le.add_lane(p, "B")
    cases = [
        (lambda: le.move_layer(p, lid, 2.5), lambda r: (r[3], r[4], r[2]) == (2.5, 6.5, "A")),
        (lambda: le.move_layer(p, lid, 8, "B"), lambda r: (r[3], r[4], r[2]) == (8.0, 12.0, "B")),
        (lambda: le.resize_layer(p, lid, 7, 9.5), lambda r: (r[3], r[4]) == (7.0, 9.5)),
        (lambda: le.set_blend(p, lid, "Multiply"), lambda r: r[6] == "multiply"),
        (lambda: le.set_z(p, lid, -3), lambda r: r[5] == -3),
        (lambda: le.set_opacity(p, lid, [Keyframe(0, 0.25), (2, 1.0, "smooth")]),
         lambda r: json.loads(r[7]) == [[0, 0.25, "linear"], [2, 1.0, "smooth"]]),
    ]
    for do, ok in cases:
        before_rows, before_meta = table(p), meta(p)
        labels = transactions(p)
        e = do()
        assert len(labels) == 1 and not e.empty
        assert ok(table(p)[0]), table(p)
        check_undo_redo(p, e, before_rows, before_meta)
    assert le.lanes(p) == ["A", "B"]  # A stays although its only layer moved to B


def test_refused_edits_change_nothing(project):
    p = project
    lid = le.add_layer(p, "red", "A", 0, 4).layer_id
    rows = table(p)
    labels = transactions(p)
    with pytest.raises(LayerError, match="after start"):
        le.resize_layer(p, lid, 4, 4)
    with pytest.raises(LayerError, match="unknown"):
        le.set_blend(p, lid, "overlay")
    with pytest.raises(LayerError, match="outside 0..1"):
        le.set_opacity(p, lid, [(0, 1.5)])
    with pytest.raises(LayerError, match="time order"):
        le.set_opacity(p, lid, [(2, 0.5), (1, 0.5)])
    with pytest.raises(LayerError, match="not in the project"):
        le.add_layer(p, "nope", "A", 0)
    with pytest.raises(LayerError, match="removed"):
        le.move_layer(p, 999, 0)
    with pytest.raises(LayerError, match="needs a name"):
        le.move_layer(p, lid, 0, "  ")
    with pytest.raises(LayerError, match="finite"):
        le.move_layer(p, lid, float("nan"))
    assert table(p) == rows and labels == []


def test_remove_layers_and_undo_restores_ids(project):
    p = project
    a = le.add_layer(p, "red", "A", 0, 4).layer_id
    b = le.add_layer(p, "blue", "A", 4, 8).layer_id
    c = le.add_layer(p, "dim", "B", 0, 8).layer_id
    before_rows, before_meta = table(p), meta(p)
    e = le.remove_layers(p, [a, c])
    assert [r[0] for r in table(p)] == [b]
    assert le.lanes(p) == ["A", "B"]  # B is empty now but stays
    check_undo_redo(p, e, before_rows, before_meta)


def test_lanes_add_rename_remove(project):
    p = project
    e1 = le.add_lane(p)
    assert le.lanes(p) == ["Lights 1"] and e1.after == ()
    le.add_layer(p, "red", "Lights 1", 0)
    le.add_layer(p, "blue", "Other", 0)
    assert le.lanes(p) == ["Lights 1", "Other"]
    with pytest.raises(LayerError, match="exists already"):
        le.add_lane(p, "Other")
    with pytest.raises(LayerError, match="exists already"):
        le.rename_lane(p, "Lights 1", "Other")
    before_rows, before_meta = table(p), meta(p)
    e = le.rename_lane(p, "Lights 1", "Wash")
    assert le.lanes(p) == ["Wash", "Other"] and [r[2] for r in table(p)] == ["Wash", "Other"]
    check_undo_redo(p, e, before_rows, before_meta)
    assert le.rename_lane(p, "Wash", "Wash").empty
    before_rows, before_meta = table(p), meta(p)
    e = le.remove_lane(p, "Wash")
    assert le.lanes(p) == ["Other"] and [r[2] for r in table(p)] == ["Other"]
    check_undo_redo(p, e, before_rows, before_meta)


def winner(p, t):
    """The red and blue levels of par1 at t seconds, rendered by the engine from the stored show."""
    s = CompositeBuffer(load_show(p)).sample(t)
    return tuple(np.round(s.values["color"][0], 3))


def test_restack_is_global_and_changes_who_wins(project):
    p = project
    red = le.add_layer(p, "red", "A", 0, 8).layer_id  # z 0
    blue = le.add_layer(p, "blue", "B", 0, 8).layer_id  # z 1, another lane
    far = le.add_layer(p, "dim", "C", 100, 104).layer_id  # z 2, overlaps nothing
    assert winner(p, 1.0) == (0.0, 0.0, 1.0)  # replace: the top layer wins
    assert le.restack(p, blue, "forward").empty  # only `far` is above it, and they never meet
    before_rows = table(p)
    e = le.restack(p, blue, "backward")
    assert winner(p, 1.0) == (1.0, 0.0, 0.0)
    order = [lid for lid, _ in sorted(((r[0], (r[5], r[0])) for r in table(p)), key=lambda x: x[1])]
    assert order.index(blue) < order.index(red) < order.index(far)
    check_undo_redo(p, e, before_rows, meta(p))
    le.restack(p, red, "front")
    assert winner(p, 1.0) == (1.0, 0.0, 0.0)
    le.restack(p, red, "back")
    assert winner(p, 1.0) == (0.0, 0.0, 1.0)
    with pytest.raises(LayerError, match="unknown"):
        le.restack(p, red, "up")


def test_restack_renumbers_when_no_z_fits(project):
    p = project
    ids = [le.add_layer(p, name, "A", 0, 4, z=0).layer_id for name in ("red", "blue", "dim")]
    # all z 0: stacked by id. Moving the top one backward must go between two layers of z 0 with lower ids
    before_rows = table(p)
    e = le.restack(p, ids[2], "backward")
    rows = {r[0]: r[5] for r in table(p)}
    assert sorted(ids, key=lambda i: (rows[i], i)) == [ids[0], ids[2], ids[1]]
    check_undo_redo(p, e, before_rows, meta(p))
    e = le.restack(p, ids[0], "front")
    rows = {r[0]: r[5] for r in table(p)}
    assert sorted(ids, key=lambda i: (rows[i], i)) == [ids[2], ids[1], ids[0]]
    assert dict(e.after).keys() == {ids[0]}  # z = top + 1 fits: one row changed


def test_damaged_lane_list_is_reported(project):
    project.set_meta(le.LANES_META_KEY, "{not json")
    with pytest.raises(LayerError, match="damaged"):
        le.lanes(project)
