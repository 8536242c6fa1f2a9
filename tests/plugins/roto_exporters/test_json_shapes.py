"""JSON export: the file validates against the shipped JSON Schema and reads back to the same shapes."""

from __future__ import annotations

import copy
import json
from fractions import Fraction

import jsonschema
import numpy as np
import pytest

from core.vision.roto_export import export_roto
from core.vision.roto_model import SCHEMA_ID, RotoAnimation
from core.vision.types import VisionError
from plugins.roto_exporters.json_shapes import JsonExporter, load, schema_path
from tests.plugins.roto_exporters.shapes import person_animation


@pytest.fixture(scope="module")
def schema() -> dict:
    s = json.loads(schema_path().read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(s)
    return s


@pytest.fixture
def validator(schema):
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture
def anim() -> RotoAnimation:
    return person_animation(frames=8, points=36, start=2, step=3, hole=True, rate=Fraction(30000, 1001))


def test_schema_is_draft_2020_12_with_the_model_id(schema):
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == SCHEMA_ID


def test_export_validates_and_round_trips(tmp_path, anim, validator):
    files = export_roto("json", tmp_path / "walk", animation=anim, first_frame=1001)
    assert files == [tmp_path / "walk.json"]
    assert not list(tmp_path.glob("*.part"))
    doc = json.loads(files[0].read_text(encoding="utf-8"))
    validator.validate(doc)
    assert doc["$schema"] == SCHEMA_ID and doc["fps"] == {"num": 30000, "den": 1001}
    back = load(files[0])
    assert (back.name, back.width, back.height, back.rate, back.source) == \
        (anim.name, anim.width, anim.height, anim.rate, anim.source)
    assert len(back.tracks) == len(anim.tracks) == 2
    for got, want in zip(back.tracks, anim.tracks):
        assert (got.name, got.mode, got.feather_inner, got.feather_outer) == \
            (want.name, want.mode, want.feather_inner, want.feather_outer)
        # source frames are kept: first_frame does not apply to the neutral format
        np.testing.assert_array_equal(got.frames, want.frames)
        np.testing.assert_allclose(got.vertices, want.vertices, atol=1e-4)  # 4 decimals of a pixel
        np.testing.assert_allclose(got.in_tangents, want.in_tangents, atol=1e-4)
        np.testing.assert_allclose(got.out_tangents, want.out_tangents, atol=1e-4)
    assert np.array_equal(back.rasterize(5), anim.rasterize(5))


def _object_keys(schema: dict, node: dict) -> tuple[set, set]:
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].split("/")[-1]]
    return set(node["properties"]), set(node["required"])


def test_schema_describes_exactly_what_to_dict_writes(schema, anim):
    """Every key to_dict writes is in the schema, required, and nothing else is allowed."""
    doc = anim.to_dict()
    props, required = _object_keys(schema, schema)
    assert set(doc) == props == required and schema["additionalProperties"] is False
    for sub in ("fps", "coordinates"):
        props, required = _object_keys(schema, schema["properties"][sub])
        assert set(doc[sub]) == props == required
    track_props, track_required = _object_keys(schema, {"$ref": "#/$defs/track"})
    assert set(doc["tracks"][0]) == track_props == track_required
    key_props, key_required = _object_keys(schema, {"$ref": "#/$defs/key"})
    assert set(doc["tracks"][0]["keys"][0]) == key_props == key_required
    for name, value in doc["coordinates"].items():
        assert schema["properties"]["coordinates"]["properties"][name]["const"] == value


@pytest.mark.parametrize("mutate", [
    lambda d: d.pop("tracks"),
    lambda d: d.__setitem__("format", "other"),
    lambda d: d.__setitem__("version", 2),
    lambda d: d.__setitem__("width", 0),
    lambda d: d["fps"].__setitem__("den", 0),
    lambda d: d.__setitem__("extra", 1),
    lambda d: d["coordinates"].__setitem__("y", "up"),
    lambda d: d["tracks"][0].__setitem__("mode", "xor"),
    lambda d: d["tracks"][0]["feather"].__setitem__("outer", -1),
    lambda d: d["tracks"][0]["keys"][0].__setitem__("frame", -1),
    lambda d: d["tracks"][0]["keys"][0]["vertices"][0].append(0.0),
    lambda d: d["tracks"][0]["keys"][0]["vertices"].__setitem__(0, ["1", 2]),
    lambda d: d["tracks"][0]["keys"][0].__setitem__("vertices", [[0, 0], [1, 1]]),
    lambda d: d["tracks"][0].__setitem__("keys", []),
], ids=["no-tracks", "format", "version", "width", "fps-den", "extra-key", "y-up", "mode", "feather",
        "negative-frame", "3d-point", "string-coordinate", "two-points", "no-keys"])
def test_schema_rejects_invalid_documents(validator, anim, mutate):
    doc = copy.deepcopy(anim.to_dict())
    validator.validate(doc)
    mutate(doc)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(doc)


@pytest.mark.parametrize("content, message", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "top level is not an object"),
    ('{"format": "other"}', "not a Luma roto shapes file"),
    (None, "newer than this Luma Studio"),
    ("feather", "malformed"),
    ("lengths", "same length"),
    ("counts", "different point counts"),
    ("order", "frames must increase"),
    ("rate", "malformed|positive"),
    ("\udcff", "cannot read"),
])
def test_load_rejects_invalid_files_with_vision_error(tmp_path, anim, content, message):
    doc = anim.to_dict()
    if content is None:
        doc["version"] = 2
    elif content == "feather":
        doc["tracks"][0]["feather"] = 3
    elif content == "lengths":
        doc["tracks"][0]["keys"][1]["vertices"] = doc["tracks"][0]["keys"][1]["vertices"][:-1]
    elif content == "counts":
        for name in ("vertices", "in_tangents", "out_tangents"):
            doc["tracks"][0]["keys"][1][name] = doc["tracks"][0]["keys"][1][name][:-1]
    elif content == "order":
        keys = doc["tracks"][0]["keys"]
        keys[0]["frame"], keys[1]["frame"] = keys[1]["frame"], keys[0]["frame"]
    elif content == "rate":
        doc["fps"]["den"] = 0
    path = tmp_path / "bad.json"
    if content in (None, "feather", "lengths", "counts", "order", "rate"):
        path.write_text(json.dumps(doc))
    elif content == "\udcff":
        path.write_bytes(b"\xff\xfe\x00garbage")
    else:
        path.write_text(content)
    with pytest.raises(VisionError, match=message):
        load(path)


def test_missing_file_and_unwritable_destination(tmp_path, anim):
    with pytest.raises(VisionError, match="cannot read"):
        load(tmp_path / "nope.json")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(VisionError, match="cannot (write|create)"):
        JsonExporter().export(anim, blocker / "x.json")


def test_export_replaces_an_existing_file_and_names_a_folder_target(tmp_path, anim):
    target = tmp_path / "shapes.json"
    target.write_text("old")
    JsonExporter().export(anim, target)
    assert load(target).name == anim.name
    assert JsonExporter().export(anim, tmp_path)[0] == tmp_path / "performer.json"
