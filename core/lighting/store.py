"""The lighting show in the project file (tables of migration 2).

Fixture definitions are stored with the project (as JSON), so a project
renders the same DMX on a machine without the fixture library. Every
function that writes is one transaction (one user action).
"""

from __future__ import annotations

import json

from core.audio.tempo import project_tempo_map, set_project_tempo
from core.errors import LumaError
from core.lighting.errors import LightingError
from core.lighting.fixture_def import FixtureDef
from core.lighting.layers import Keyframe, Layer, OpacityCurve
from core.lighting.patch import FixtureInstance, Patch
from core.lighting.pattern import PatternGraph
from core.lighting.show import DEFAULT_SAMPLE_RATE, Show, check_sample_rate
from core.project import Project
from core.time import TempoMap


def _settings(project: Project) -> dict[str, str]:
    return dict(project.query("SELECT key, value FROM lighting_settings"))


def load_show(project: Project) -> Show:
    """The project's lighting show (an empty one when nothing is patched yet)."""
    s = _settings(project)
    try:
        tempo = project_tempo_map(project)
    except LumaError as exc:
        raise LightingError(str(exc)) from exc
    try:
        rate = float(s.get("sample_rate", str(DEFAULT_SAMPLE_RATE)))
    except ValueError as exc:
        raise LightingError(f"{project.path.name}: lighting settings are damaged ({exc})") from exc
    definitions = {}
    for key, text, source in project.query("SELECT key, definition, source FROM lighting_fixture_defs"):
        try:
            definitions[key] = FixtureDef.from_dict(json.loads(text), source=source or key)
        except json.JSONDecodeError as exc:
            raise LightingError(f"{project.path.name}: stored definition {key!r} is damaged ({exc})") from exc
    patch = Patch(definitions)
    for fid, name, key, mode, universe, address, groups, x, y, z in project.query(
        "SELECT id, name, def_key, mode, universe, address, groups, x, y, z FROM lighting_fixtures ORDER BY patch_order"
    ):
        patch.add(FixtureInstance(fid, key, mode, universe, address, name, tuple(json.loads(groups)), (x, y, z)))
    patterns: dict[str, PatternGraph] = {}
    names: dict[int, str] = {}
    for pid, name, graph in project.query("SELECT id, name, graph FROM lighting_patterns ORDER BY id"):
        patterns[name] = PatternGraph.from_json(graph)
        names[pid] = name
    layers = [layer for _, layer in layer_rows(project, names)]
    return Show(patch, patterns, layers, tempo, check_sample_rate(rate))


def stored_definitions(project: Project) -> dict[str, FixtureDef]:
    """The fixture definitions stored in the project, by key (damaged ones are skipped)."""
    out = {}
    for key, text, source in project.query("SELECT key, definition, source FROM lighting_fixture_defs"):
        try:
            out[key] = FixtureDef.from_dict(json.loads(text), source=source or key)
        except (json.JSONDecodeError, LightingError):
            continue  # a re-import loads the definition from the library again
    return out


def layer_rows(project: Project, pattern_names: dict[int, str] | None = None) -> list[tuple[int, Layer]]:
    """(row id, layer) in id order."""
    if pattern_names is None:
        pattern_names = dict(project.query("SELECT id, name FROM lighting_patterns"))
    out = []
    for lid, pid, track, s, e, z, blend, opacity in project.query(
        "SELECT id, pattern_id, track, start_beat, end_beat, z, blend, opacity FROM lighting_layers ORDER BY id"
    ):
        keys = OpacityCurve(tuple(Keyframe(b, v, i) for b, v, i in json.loads(opacity)))
        out.append((lid, Layer(pattern_names[pid], s, e, z, blend, keys, track)))
    return out


def save_settings(project: Project, tempo: TempoMap, sample_rate: float) -> None:
    check_sample_rate(sample_rate)
    with project.transaction("set tempo"):
        set_project_tempo(project, tempo, "set tempo")
        project.execute(
            "INSERT INTO lighting_settings(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            ("sample_rate", repr(float(sample_rate))),
        )


def store_definition(project: Project, definition: FixtureDef) -> None:
    with project.transaction(f"store fixture definition {definition.key}"):
        project.execute(
            "INSERT INTO lighting_fixture_defs(key, definition, source) VALUES (?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET definition = excluded.definition, source = excluded.source",
            (definition.key, json.dumps(definition.to_dict(), ensure_ascii=False), definition.source),
        )


def add_fixture(project: Project, fixture: FixtureInstance, definition: FixtureDef) -> None:
    """Patch one fixture (checked against the stored patch: no overlap, fits in 512)."""
    patch = load_show(project).patch
    patch.add(fixture, definition)  # raises PatchError with the reason
    with project.transaction(f"patch {fixture.id}"):
        store_definition(project, patch.definitions[fixture.definition])
        order = project.query("SELECT COALESCE(MAX(patch_order), -1) + 1 FROM lighting_fixtures")[0][0]
        _insert_fixture(project, fixture, order)


def _insert_fixture(project: Project, f: FixtureInstance, order: int) -> None:
    project.execute(
        "INSERT INTO lighting_fixtures(id, patch_order, name, def_key, mode, universe, address, groups, x, y, z) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (f.id, order, f.name, f.definition, f.mode, f.universe, f.address, json.dumps(list(f.groups)), *f.position),
    )


def remove_fixture(project: Project, fixture_id: str) -> None:
    with project.transaction(f"unpatch {fixture_id}"):
        if project.execute("DELETE FROM lighting_fixtures WHERE id = ?", (fixture_id,)).rowcount == 0:
            raise LightingError(f"no fixture {fixture_id!r} in the patch")


def save_pattern(project: Project, graph: PatternGraph) -> int:
    """Insert or replace a pattern by name; returns its row id."""
    graph.validate()
    with project.transaction(f"save pattern {graph.name}"):
        project.execute(
            "INSERT INTO lighting_patterns(name, graph) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET graph = excluded.graph",
            (graph.name, graph.to_json()),
        )
        return project.query("SELECT id FROM lighting_patterns WHERE name = ?", (graph.name,))[0][0]


def _opacity_json(layer: Layer) -> str:
    return json.dumps([[k.beat, k.value, k.interp] for k in layer.opacity.keys])


def add_layer(project: Project, layer: Layer) -> int:
    with project.transaction(f"add layer {layer.pattern}"):
        rows = project.query("SELECT id FROM lighting_patterns WHERE name = ?", (layer.pattern,))
        if not rows:
            raise LightingError(f"layer uses pattern {layer.pattern!r}, which is not in the project")
        cur = project.execute(
            "INSERT INTO lighting_layers(pattern_id, track, start_beat, end_beat, z, blend, opacity) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (rows[0][0], layer.track, layer.start_beat, layer.end_beat, layer.z, layer.blend.value, _opacity_json(layer)),
        )
        return int(cur.lastrowid)


def remove_layer(project: Project, layer_id: int) -> None:
    with project.transaction("remove layer"):
        if project.execute("DELETE FROM lighting_layers WHERE id = ?", (layer_id,)).rowcount == 0:
            raise LightingError(f"no layer {layer_id} in the project")


def save_show(project: Project, show: Show, label: str = "import lighting show") -> None:
    """Replace the project's whole lighting show with ``show`` (one transaction)."""
    show.validate()
    with project.transaction(label):
        for table in ("lighting_layers", "lighting_patterns", "lighting_fixtures", "lighting_fixture_defs",
                      "lighting_settings"):
            project.execute(f"DELETE FROM {table}")
        save_settings(project, show.tempo, show.sample_rate)
        used = {f.definition for f in show.patch}
        for key in sorted(used):
            store_definition(project, show.patch.definitions[key])
        for order, f in enumerate(show.patch):
            _insert_fixture(project, f, order)
        for graph in show.patterns.values():
            save_pattern(project, graph)
        for layer in show.layers:
            add_layer(project, layer)
