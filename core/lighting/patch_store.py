"""Editing the patch in the project file: add, change, remove fixtures (one transaction per action).

:mod:`core.lighting.store` loads the patch through :class:`~core.lighting.patch.Patch`,
which refuses overlapping addresses. While a designer re-arranges a patch it
passes through overlaps, and an undo must always be able to put back what
was there, so these functions check each fixture on its own (valid id,
known definition and mode, fits in its universe) and leave overlaps to
:func:`core.lighting.addressing.find_conflicts`, which the patch panel shows.
A show whose patch overlaps cannot be played until the overlap is fixed
(:func:`core.lighting.store.load_show` says which fixtures collide).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from core.lighting.addressing import Span, check_span
from core.lighting.errors import FixtureDefinitionError, LightingError, PatchError
from core.lighting.fixture_def import FixtureDef
from core.lighting.patch import FixtureInstance
from core.lighting.store import store_definition, stored_definitions
from core.project import Project

_COLUMNS = "id, name, def_key, mode, universe, address, groups, x, y, z"


@dataclass(frozen=True)
class StoredFixture:
    """A fixture as stored, with its place in the patch order."""

    order: int
    fixture: FixtureInstance


def _fixture(row: tuple, where: str) -> FixtureInstance:
    fid, name, key, mode, universe, address, groups, x, y, z = row
    try:
        group_list = tuple(json.loads(groups))
    except json.JSONDecodeError as exc:
        raise LightingError(f"{where}: the groups of fixture {fid!r} are damaged ({exc})") from exc
    return FixtureInstance(fid, key, mode, universe, address, name, group_list, (x, y, z))


def load_fixtures(project: Project) -> list[FixtureInstance]:
    """Every patched fixture in patch order, overlaps included."""
    rows = project.query(f"SELECT {_COLUMNS} FROM lighting_fixtures ORDER BY patch_order")
    return [_fixture(r, project.path.name) for r in rows]


def footprint(definition: FixtureDef, mode: str) -> int:
    """How many DMX channels a fixture of ``definition`` takes in ``mode``."""
    try:
        return len(definition.mode(mode).channels)
    except FixtureDefinitionError as exc:
        raise PatchError(str(exc)) from exc


def span_of(fixture: FixtureInstance, definitions: dict[str, FixtureDef]) -> Span:
    d = definitions.get(fixture.definition)
    if d is None:
        raise PatchError(f"{fixture.id}: fixture definition {fixture.definition!r} is not stored in the project")
    return Span(fixture.id, fixture.universe, fixture.address, footprint(d, fixture.mode))


def check_fixture(fixture: FixtureInstance, definitions: dict[str, FixtureDef]) -> None:
    """Raise :class:`PatchError` unless the fixture's mode exists and it fits in its universe."""
    check_span(span_of(fixture, definitions))


def parse_groups(text: str) -> tuple[str, ...]:
    """``"front, pars"`` -> ``("front", "pars")`` (commas separate; blanks and repeats dropped)."""
    out: list[str] = []
    for part in str(text).split(","):
        name = part.strip()
        if name and name not in out:
            out.append(name)
    return tuple(out)


def _insert(project: Project, f: FixtureInstance, order: int) -> None:
    project.execute(
        f"INSERT INTO lighting_fixtures({_COLUMNS}, patch_order) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (f.id, f.name, f.definition, f.mode, f.universe, f.address, json.dumps(list(f.groups)), *f.position, order),
    )


def add_fixtures(project: Project, fixtures: list[FixtureInstance], definitions: list[FixtureDef] = (),
                 label: str = "") -> None:
    """Patch ``fixtures`` at the end of the patch order (one transaction).

    ``definitions`` are stored with the project (those already stored may be
    left out). Each fixture is checked on its own; ids must be new.
    """
    defs = stored_definitions(project)
    defs.update({d.key: d for d in definitions})
    ids = {r[0] for r in project.query("SELECT id FROM lighting_fixtures")}
    seen: set[str] = set()
    for f in fixtures:
        if f.id in ids or f.id in seen:
            raise PatchError(f"fixture id {f.id!r} is used already: choose another one")
        seen.add(f.id)
        check_fixture(f, defs)
    label = label or (f"patch {fixtures[0].id}" if len(fixtures) == 1 else f"patch {len(fixtures)} fixtures")
    with project.transaction(label):
        for d in definitions:
            store_definition(project, d)
        order = project.query("SELECT COALESCE(MAX(patch_order), -1) + 1 FROM lighting_fixtures")[0][0]
        for i, f in enumerate(fixtures):
            _insert(project, f, order + i)


def update_fixtures(project: Project, fixtures: list[FixtureInstance], label: str = "") -> None:
    """Store new name, universe, address, groups and position of patched fixtures (one transaction).

    The id, definition and mode of each fixture stay as they are stored
    (they must match).
    """
    defs = stored_definitions(project)
    stored = {f.id: f for f in load_fixtures(project)}
    for f in fixtures:
        old = stored.get(f.id)
        if old is None:
            raise PatchError(f"no fixture {f.id!r} in the patch")
        if (old.definition, old.mode) != (f.definition, f.mode):
            raise PatchError(f"{f.id}: its definition and mode cannot change here "
                             f"(remove it and patch a {f.definition} in mode {f.mode!r} instead)")
        check_fixture(f, defs)
    label = label or (f"edit {fixtures[0].id}" if len(fixtures) == 1 else f"edit {len(fixtures)} fixtures")
    with project.transaction(label):
        for f in fixtures:
            project.execute(
                "UPDATE lighting_fixtures SET name = ?, universe = ?, address = ?, groups = ?, x = ?, y = ?, z = ? "
                "WHERE id = ?",
                (f.name, f.universe, f.address, json.dumps(list(f.groups)), *f.position, f.id),
            )


def remove_fixtures(project: Project, fixture_ids: list[str], label: str = "") -> list[StoredFixture]:
    """Unpatch fixtures (one transaction); returns what was stored, for :func:`restore_fixtures`."""
    rows = {r[0]: r for r in project.query(f"SELECT {_COLUMNS}, patch_order FROM lighting_fixtures")}
    missing = [i for i in fixture_ids if i not in rows]
    if missing:
        raise PatchError(f"no fixture {missing[0]!r} in the patch")
    removed = [StoredFixture(rows[i][10], _fixture(rows[i][:10], project.path.name)) for i in fixture_ids]
    label = label or (f"unpatch {fixture_ids[0]}" if len(fixture_ids) == 1 else f"unpatch {len(fixture_ids)} fixtures")
    with project.transaction(label):
        for i in fixture_ids:
            project.execute("DELETE FROM lighting_fixtures WHERE id = ?", (i,))
    return removed


def restore_fixtures(project: Project, removed: list[StoredFixture], label: str = "") -> None:
    """Put removed fixtures back at their old places in the patch order (one transaction)."""
    defs = stored_definitions(project)
    for s in removed:
        check_fixture(s.fixture, defs)
    with project.transaction(label or "restore fixtures"):
        for s in removed:
            order = s.order
            if project.query("SELECT 1 FROM lighting_fixtures WHERE patch_order = ?", (order,)):
                order = project.query("SELECT COALESCE(MAX(patch_order), -1) + 1 FROM lighting_fixtures")[0][0]
            _insert(project, s.fixture, order)
