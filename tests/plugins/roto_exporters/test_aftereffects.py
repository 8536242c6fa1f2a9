"""After Effects export: the .jsx parsed with esprima must carry the same shapes and frames, and (where node is
installed) running it against a stand-in of After Effects' scripting objects must build the right masks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from fractions import Fraction

import numpy as np
import pytest

from core.vision.roto_export import export_roto
from core.vision.roto_model import RotoAnimation, SplineTrack
from core.vision.types import VisionError
from plugins.roto_exporters.aftereffects import AfterEffectsExporter
from tests.plugins.roto_exporters.readers import js_name, js_walk, jsx_read, sample_animation

TOL = 0.5  # px
TIGHT = 0.001  # four decimals are written


@pytest.fixture
def anim() -> RotoAnimation:
    return sample_animation()


@pytest.fixture
def script_path(anim, tmp_path):
    return AfterEffectsExporter().export(anim, tmp_path / "shot.jsx")[0]


def test_protocol_attributes():
    ex = AfterEffectsExporter()
    assert ex.name == "aftereffects" and ex.extension == ".jsx"


def test_data_read_back_with_esprima(anim, script_path):
    assert not list(script_path.parent.glob("*.part"))
    script = jsx_read(script_path.read_text(encoding="utf-8"))
    data = script.data
    assert (data["width"], data["height"]) == (1920, 1080)
    assert data["fps"] == Fraction(24000, 1001)
    assert data["firstFrame"] == 0  # AE counts layer frames from 0
    assert [t["name"] for t in data["tracks"]] == ["body", "hole"]
    assert [t["mode"] for t in data["tracks"]] == ["add", "subtract"]
    for track, js in zip(anim.tracks, data["tracks"]):
        assert [k["frame"] for k in js["keys"]] == [int(f) for f in track.frames]
        assert (js["featherInner"], js["featherOuter"]) == (track.feather_inner, track.feather_outer)
        for k, key in enumerate(js["keys"]):
            for name, want in (("vertices", track.vertices[k]), ("inTangents", track.in_tangents[k]),
                               ("outTangents", track.out_tangents[k])):
                got = np.array(key[name], dtype=np.float64)
                assert got.shape == (12, 2)
                err = np.abs(got - want).max()
                assert err < TOL and err < TIGHT


def _calls(script, name):
    return [c for c in script.calls if c[0] == name]


def test_script_structure(script_path):
    script = jsx_read(script_path.read_text())
    # undo group: opened once, closed in a finally block
    assert len(_calls(script, "app.beginUndoGroup")) == 1
    (end,) = _calls(script, "app.endUndoGroup")
    assert any(p.type == "TryStatement" for p in end[2])
    try_stmt = next(n for n, _ in js_walk(script.ast) if n.type == "TryStatement")
    assert any(n.type == "CallExpression" and n.callee.type == "MemberExpression" and n.callee.property.name ==
               "endUndoGroup" for n, _ in js_walk(try_stmt.finalizer))
    # the active comp's selected layer, with an alert when there is none
    assert "app.project.activeItem" in script.members and "comp.selectedLayers" in script.members
    (fail,) = [n for n, _ in js_walk(script.ast) if n.type == "FunctionDeclaration" and n.id.name == "fail"]
    assert any(n.type == "CallExpression" and js_name(n.callee) == "alert" for n, _ in js_walk(fail.body))
    no_layer = [n for n, _ in js_walk(script.ast) if n.type == "IfStatement"
                and "selected.length === 0" in script.source(n.test)]
    assert len(no_layer) == 1
    body = [n for n, _ in js_walk(no_layer[0].consequent)]
    assert any(n.type == "CallExpression" and js_name(n.callee) == "fail" for n in body)
    assert any(n.type == "ReturnStatement" for n in body)
    # the undo group opens only after every check that can stop the script
    begin = _calls(script, "app.beginUndoGroup")[0]
    assert not any(p.type == "IfStatement" for p in begin[2])
    # masks on the layer, keyed Mask Path of Shape objects, closed, relative tangents, add/subtract
    assert ["ADBE Mask Atom"] in [c[1] for c in _calls(script, "masks.addProperty")]
    props = {c[1][0] for c in _calls(script, "mask.property") if c[1] and isinstance(c[1][0], str)}
    assert {"ADBE Mask Shape", "ADBE Mask Feather", "ADBE Mask Offset"} <= props
    assert "Shape" in script.news
    assert ("shape.closed", True) in script.assignments
    assert {"shape.vertices", "shape.inTangents", "shape.outTangents"} <= {a for a, _ in script.assignments}
    assert _calls(script, "path.setValuesAtTimes")
    assert {"MaskMode.ADD", "MaskMode.SUBTRACT"} <= script.members
    assert "KeyframeInterpolationType.LINEAR" in script.members


def test_es3_only(script_path):
    """ExtendScript is ES3: no let/const, arrow functions, JSON or Array.prototype.map/forEach."""
    script = jsx_read(script_path.read_text())
    kinds = {n.kind for n, _ in js_walk(script.ast) if n.type == "VariableDeclaration"}
    assert kinds == {"var"}
    assert not [n for n, _ in js_walk(script.ast) if n.type == "ArrowFunctionExpression"]
    assert not [c for c in script.calls if c[0].startswith("JSON.") or c[0].endswith((".map", ".forEach"))]


def test_first_frame_option(anim, tmp_path):
    path = AfterEffectsExporter().export(anim, tmp_path / "o.jsx", first_frame=10)[0]
    assert jsx_read(path.read_text()).data["firstFrame"] == 10


def test_through_the_registry(anim, tmp_path):
    files = export_roto("aftereffects", tmp_path / "masks", animation=anim)
    assert files == [tmp_path / "masks.jsx"]
    assert [t["name"] for t in jsx_read(files[0].read_text()).data["tracks"]] == ["body", "hole"]


def test_names_are_escaped(tmp_path):
    v = np.array([[[10.0, 20.0], [200.0, 30.0], [120.0, 150.0]]])
    z = np.zeros_like(v)
    name = 'it\'s "x" \\ </script>\u2028é'
    anim = RotoAnimation(name + "\nline 2", 320, 240, 25, [SplineTrack(name, [0], v, z, z)])
    path = AfterEffectsExporter().export(anim, tmp_path / "n.jsx")[0]
    text = path.read_text()
    assert text.isascii()
    data = jsx_read(text).data
    assert data["tracks"][0]["name"] == name and data["name"] == name + "\nline 2"


def test_unwritable_folder_raises_vision_error(anim, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(VisionError):
        AfterEffectsExporter().export(anim, blocker / "x" / "shot.jsx")


def test_empty_animation_is_refused(tmp_path):
    with pytest.raises(VisionError):
        AfterEffectsExporter().export(RotoAnimation("none", 64, 64, 25, []), tmp_path / "e.jsx")


# --- running the script against a stand-in of After Effects' scripting objects --------------------------------

NODE = shutil.which("node")

HARNESS = r"""
var recorded = {alerts: [], undo: [], masks: []};
function alert(m) { recorded.alerts.push(String(m)); }
function CompItem() {}
function Shape() { this.vertices = []; this.inTangents = []; this.outTangents = []; this.closed = false; }
var MaskMode = {ADD: "ADD", SUBTRACT: "SUBTRACT", NONE: "NONE"};
var KeyframeInterpolationType = {LINEAR: "LINEAR", BEZIER: "BEZIER", HOLD: "HOLD"};
function Prop() { this.value = null; this.keys = []; this.numKeys = 0; this.interp = []; }
Prop.prototype.setValue = function (v) {
    if (this.numKeys) throw new Error("setValue on a keyed property");
    this.value = v;
};
Prop.prototype.setValuesAtTimes = function (times, values) {
    if (times.length !== values.length) throw new Error("length mismatch");
    for (var i = 0; i < times.length; i++) this.keys.push({time: times[i], value: values[i]});
    this.numKeys = this.keys.length;
};
Prop.prototype.setInterpolationTypeAtKey = function (i, a, b) {
    if (i < 1 || i > this.numKeys) throw new Error("no key " + i);
    this.interp.push([i, a, b]);
};
function Mask() {
    this.name = ""; this.maskMode = "ADD";
    this.props = {"ADBE Mask Shape": new Prop(), "ADBE Mask Feather": new Prop(), "ADBE Mask Offset": new Prop()};
    recorded.masks.push(this);
}
Mask.prototype.property = function (n) {
    if (!this.props[n]) throw new Error("no property " + n);
    return this.props[n];
};
var parade = {
    canAddProperty: function (n) { return n === "ADBE Mask Atom"; },
    addProperty: function (n) { if (n !== "ADBE Mask Atom") throw new Error(n); return new Mask(); }
};
var CONFIG = %CONFIG%;
var layer = {name: "plate", width: CONFIG.width, height: CONFIG.height, startTime: CONFIG.startTime,
             stretch: CONFIG.stretch, source: {frameRate: CONFIG.frameRate},
             property: function (n) { return n === "ADBE Mask Parade" ? parade : null; }};
var comp = new CompItem();
comp.name = "Comp 1";
comp.selectedLayers = CONFIG.selected ? [layer] : [];
var app = {project: {activeItem: CONFIG.noComp ? null : comp},
           beginUndoGroup: function (n) { recorded.undo.push("begin:" + n); },
           endUndoGroup: function () { recorded.undo.push("end"); }};
"""

REPORT = r"""
var out = {alerts: recorded.alerts, undo: recorded.undo, masks: []};
for (var i = 0; i < recorded.masks.length; i++) {
    var m = recorded.masks[i], shape = m.props["ADBE Mask Shape"], keys = [];
    for (var k = 0; k < shape.keys.length; k++) keys.push({time: shape.keys[k].time, shape: shape.keys[k].value});
    out.masks.push({name: m.name, mode: m.maskMode, value: shape.value, keys: keys, interp: shape.interp,
                    feather: m.props["ADBE Mask Feather"].value, offset: m.props["ADBE Mask Offset"].value});
}
console.log(JSON.stringify(out));
"""


def run_in_fake_ae(script: str, tmp_path, **config) -> dict:
    cfg = {"width": 1920, "height": 1080, "startTime": 0.0, "stretch": 100, "frameRate": 24000 / 1001,
           "selected": True, "noComp": False}
    cfg.update(config)
    js = HARNESS.replace("%CONFIG%", json.dumps(cfg)) + script + REPORT
    runner = tmp_path / "run_fake_ae.js"
    runner.write_text(js, encoding="utf-8")
    proc = subprocess.run([NODE, str(runner)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")


@needs_node
def test_runs_and_builds_the_masks_on_a_scaled_offset_layer(anim, script_path, tmp_path):
    """A 2x layer (3840x2160) starting at 1.5 s: every key at startTime + frame / fps, every point scaled 2x."""
    fps = 24000 / 1001
    out = run_in_fake_ae(script_path.read_text(), tmp_path, width=3840, height=2160, startTime=1.5)
    assert out["alerts"] == []
    assert out["undo"] == ["begin:Luma roto: actor 1", "end"]
    assert [m["name"] for m in out["masks"]] == ["body", "hole"]
    assert [m["mode"] for m in out["masks"]] == ["ADD", "SUBTRACT"]
    for track, mask in zip(anim.tracks, out["masks"]):
        assert len(mask["keys"]) == len(track.frames)
        frames = [round((key["time"] - 1.5) * fps) for key in mask["keys"]]
        assert frames == [int(f) for f in track.frames]
        for key, frame in zip(mask["keys"], track.frames):
            assert key["time"] == pytest.approx(1.5 + int(frame) / fps, abs=1e-9)
        assert [i[0] for i in mask["interp"]] == list(range(1, len(track.frames) + 1))
        assert all(i[1] == i[2] == "LINEAR" for i in mask["interp"])
        for k, key in enumerate(mask["keys"]):
            shape = key["shape"]
            assert shape["closed"] is True
            for name, want in (("vertices", track.vertices[k]), ("inTangents", track.in_tangents[k]),
                               ("outTangents", track.out_tangents[k])):
                got = np.array(shape[name]) / 2.0  # back to source pixels
                assert got.shape == (12, 2) and np.abs(got - want).max() < TOL
    body, hole = out["masks"]
    assert body["feather"] == pytest.approx([8.0, 8.0]) and body["offset"] == pytest.approx(4.0)
    assert hole["feather"] == pytest.approx([5.0, 5.0]) and hole["offset"] == pytest.approx(-2.5)


@needs_node
def test_layer_frames_start_at_first_frame(anim, tmp_path):
    path = AfterEffectsExporter().export(anim, tmp_path / "ff.jsx", first_frame=10)[0]
    out = run_in_fake_ae(path.read_text(), tmp_path, frameRate=25.0)
    hole = out["masks"][1]
    assert [round(k["time"] * 25.0) for k in hole["keys"]] == [13, 15, 18, 19, 25]


@needs_node
def test_single_key_track_sets_a_constant_path(tmp_path):
    v = np.array([[[10.0, 20.0], [200.0, 30.0], [120.0, 150.0]]])
    t = np.array([[[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0]]])
    anim = RotoAnimation("still", 320, 240, 25, [SplineTrack("tri", [4], v, t, -t)])
    path = AfterEffectsExporter().export(anim, tmp_path / "s.jsx")[0]
    out = run_in_fake_ae(path.read_text(), tmp_path, width=320, height=240, frameRate=25.0)
    (mask,) = out["masks"]
    assert mask["keys"] == [] and np.allclose(mask["value"]["vertices"], v[0])
    assert mask["feather"] == [0, 0]


@needs_node
def test_no_selected_layer_alerts_and_changes_nothing(script_path, tmp_path):
    out = run_in_fake_ae(script_path.read_text(), tmp_path, selected=False)
    assert len(out["alerts"]) == 1 and "no layer is selected" in out["alerts"][0]
    assert out["undo"] == [] and out["masks"] == []


@needs_node
def test_no_active_comp_alerts(script_path, tmp_path):
    out = run_in_fake_ae(script_path.read_text(), tmp_path, noComp=True)
    assert len(out["alerts"]) == 1 and "composition" in out["alerts"][0]
    assert out["masks"] == []


def test_node_harness_would_catch_a_broken_script(tmp_path):
    """The runner fails loudly on a script error (so the node tests above cannot pass vacuously)."""
    if NODE is None:
        pytest.skip("node is not installed")
    with pytest.raises(AssertionError):
        run_in_fake_ae("(function () { undefinedFunction(); })();", tmp_path)
    assert os.path.exists(tmp_path / "run_fake_ae.js")
