"""Undoable edits of the lighting layers and lanes: one transaction each, exact before/after rows.

Every edit reads the stored rows it touches, writes the new ones in one
transaction (one user action; ``project.changed`` fires once) and returns a
:class:`LayerEdit` holding the rows before and after, exactly as stored
(``lighting_layers`` rows, and the lane list). :func:`revert` writes the
*before* rows back (undo), :func:`reapply` the *after* rows (redo); both are
one transaction too and restore the table byte for byte, row ids included.

Lanes are the lighting "tracks" of the timeline (``Layer.track``). Their
display order, and lanes that hold no layer yet, are kept in the project's
metadata (:data:`LANES_META_KEY`, a JSON list of names); a lane used by a
layer but missing from that list is shown after the listed ones. The first
edit that changes lanes stores the whole list, so a lane does not vanish when
its last layer moves away.

Z-order is global: :func:`core.lighting.layers.z_order` stacks *all* layers by
``(z, row id)`` whatever their lane. :func:`restack` steps a layer past the
next layer that overlaps it in time (on any lane), because stepping past a
layer it never meets would change nothing anyone can see.

Opacity keyframes are in beats from the layer start (see
:mod:`core.lighting.layers`): moving or resizing a layer keeps them relative to
its start.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from typing import Iterable

from core.audio.tempo import project_tempo_map
from core.lighting.errors import LayerError
from core.lighting.layers import BlendMode, Keyframe, Layer, OpacityCurve
from core.project import Project

LANES_META_KEY = "lighting_lanes"
DEFAULT_LANE = "Lights"
RESTACK_MOVES = ("forward", "backward", "front", "back")

_COLUMNS = "id, pattern_id, track, start_beat, end_beat, z, blend, opacity"


@dataclass(frozen=True)
class LayerRow:
    """One ``lighting_layers`` row exactly as stored (``opacity`` is its JSON text)."""

    id: int
    pattern_id: int
    track: str
    start_beat: float
    end_beat: float
    z: int
    blend: str
    opacity: str

    def values(self) -> tuple:
        return (self.id, self.pattern_id, self.track, self.start_beat, self.end_beat, self.z, self.blend,
                self.opacity)

    @property
    def keys(self) -> tuple[Keyframe, ...]:
        return tuple(Keyframe(b, v, i) for b, v, i in json.loads(self.opacity))


@dataclass(frozen=True)
class LayerEdit:
    """What one edit changed: rows by id before and after (None: no such row), and the lane list."""

    label: str
    before: tuple[tuple[int, LayerRow | None], ...] = ()
    after: tuple[tuple[int, LayerRow | None], ...] = ()
    lanes_before: tuple[str, ...] | None = None  # None: the lane list was not changed
    lanes_after: tuple[str, ...] | None = None
    layer_id: int | None = None  # the layer the edit made or touched

    @property
    def empty(self) -> bool:
        return dict(self.before) == dict(self.after) and self.lanes_before == self.lanes_after


# ------------------------------------------------------------------ reading


def layer_table(project: Project) -> dict[int, LayerRow]:
    """Every layer row by id (id order)."""
    return {r[0]: LayerRow(*r) for r in project.query(f"SELECT {_COLUMNS} FROM lighting_layers ORDER BY id")}


def _row(project: Project, layer_id: int) -> LayerRow:
    rows = project.query(f"SELECT {_COLUMNS} FROM lighting_layers WHERE id = ?", (int(layer_id),))
    if not rows:
        raise LayerError(f"layer #{layer_id} is not in the project any more (it was removed)")
    return LayerRow(*rows[0])


def stored_lanes(project: Project) -> tuple[str, ...] | None:
    """The lane list stored in the project metadata (None when none was stored yet)."""
    text = project.get_meta(LANES_META_KEY)
    if text is None:
        return None
    try:
        names = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LayerError(f"{project.path.name}: the stored lighting lanes are damaged ({exc})") from exc
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise LayerError(f"{project.path.name}: the stored lighting lanes are not a list of names")
    return tuple(names)


def lanes(project: Project) -> list[str]:
    """Lane names in display order: the stored list, then lanes only layers use (by first layer id)."""
    out = list(stored_lanes(project) or ())
    seen = set(out)
    for (track,) in project.query("SELECT track FROM lighting_layers ORDER BY id"):
        if track not in seen:
            seen.add(track)
            out.append(track)
    return out


def pattern_ids(project: Project) -> dict[str, int]:
    return {name: pid for pid, name in project.query("SELECT id, name FROM lighting_patterns")}


def _pattern_name(project: Project, pattern_id: int) -> str:
    rows = project.query("SELECT name FROM lighting_patterns WHERE id = ?", (pattern_id,))
    return rows[0][0] if rows else f"#{pattern_id}"


def as_layer(project: Project, row: LayerRow) -> Layer:
    """The core layer of a row (validates it: beats, blend mode, keyframes)."""
    return Layer(_pattern_name(project, row.pattern_id), row.start_beat, row.end_beat, row.z, row.blend,
                 OpacityCurve(row.keys), row.track)


# ------------------------------------------------------------------ writing


def _opacity_text(keys: Iterable) -> str:
    out = []
    for k in keys:
        k = k if isinstance(k, Keyframe) else Keyframe(*k)
        out.append([k.beat, k.value, k.interp])
    OpacityCurve(tuple(Keyframe(*k) for k in out))  # in time order, values in 0..1
    return json.dumps(out)


def _lane_name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise LayerError("a lighting lane needs a name")
    return name.strip()


def _number(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise LayerError(f"{name} must be a finite number of beats, not {value!r}")
    return float(value)


def _write(project: Project, rows: Iterable[tuple[int, LayerRow | None]], lanes_list: tuple[str, ...] | None,
           label: str) -> None:
    with project.transaction(label):
        for lid, row in rows:
            if row is None:
                project.execute("DELETE FROM lighting_layers WHERE id = ?", (lid,))
            else:
                project.execute(f"INSERT OR REPLACE INTO lighting_layers({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                row.values())
        if lanes_list is not None:
            project.execute("INSERT INTO project_meta(key, value) VALUES (?, ?) "
                            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                            (LANES_META_KEY, json.dumps(list(lanes_list))))


def _commit(project: Project, label: str, before: dict[int, LayerRow | None], after: dict[int, LayerRow | None],
            lanes_after: list[str] | None = None, layer_id: int | None = None) -> LayerEdit:
    """Validate ``after``, write it (one transaction) and describe the change."""
    for row in after.values():
        if row is not None:
            as_layer(project, row)  # raises LayerError with the reason
    old_lanes = stored_lanes(project)
    new_lanes = None
    if lanes_after is not None and tuple(lanes_after) != old_lanes:
        new_lanes = tuple(lanes_after)
    changed = {lid: row for lid, row in after.items() if before.get(lid) != row}
    edit = LayerEdit(label, tuple((lid, before.get(lid)) for lid in changed), tuple(changed.items()),
                     old_lanes if new_lanes is not None else None, new_lanes, layer_id)
    if not edit.empty:
        _write(project, edit.after, edit.lanes_after, label)
    return edit


def _with_lane(project: Project, name: str) -> list[str]:
    current = lanes(project)
    return current if name in current else current + [name]


def reapply(project: Project, edit: LayerEdit) -> None:
    """Write the rows after ``edit`` again (redo), in one transaction."""
    _write(project, edit.after, edit.lanes_after, edit.label)


def revert(project: Project, edit: LayerEdit) -> None:
    """Write the rows before ``edit`` back exactly (undo), in one transaction."""
    lanes_before = edit.lanes_before
    if edit.lanes_after is not None and lanes_before is None:  # there was no stored list: drop ours
        with project.transaction(f"undo {edit.label}"):
            _write(project, edit.before, None, edit.label)
            project.execute("DELETE FROM project_meta WHERE key = ?", (LANES_META_KEY,))
        return
    _write(project, edit.before, lanes_before, f"undo {edit.label}")


# ------------------------------------------------------------------ layer edits


def add_layer(project: Project, pattern: str, lane: str, start_beat: float, end_beat: float | None = None,
              z: int | None = None, blend: str | BlendMode = BlendMode.REPLACE, keys: Iterable = ()) -> LayerEdit:
    """Place ``pattern`` on ``lane`` from ``start_beat``; by default one bar long and on top of every layer."""
    pid = pattern_ids(project).get(pattern)
    if pid is None:
        raise LayerError(f"pattern {pattern!r} is not in the project; make it first (Lighting > Edit Pattern…)")
    lane = _lane_name(lane)
    start = _number("the layer start", start_beat)
    end = start + project_tempo_map(project).beats_per_bar if end_beat is None else _number("the layer end", end_beat)
    if z is None:
        z = int(project.query("SELECT COALESCE(MAX(z) + 1, 0) FROM lighting_layers")[0][0])
    lid = int(project.query("SELECT COALESCE(MAX(id), 0) + 1 FROM lighting_layers")[0][0])
    row = LayerRow(lid, pid, lane, start, end, int(z), BlendMode.parse(blend).value, _opacity_text(keys))
    return _commit(project, f"add layer {pattern}", {}, {lid: row}, _with_lane(project, lane), lid)


def move_layer(project: Project, layer_id: int, start_beat: float, lane: str | None = None) -> LayerEdit:
    """Move a layer to ``start_beat`` (its length kept), onto ``lane`` when given."""
    old = _row(project, layer_id)
    start = _number("the layer start", start_beat)
    lane = old.track if lane is None else _lane_name(lane)
    new = replace(old, start_beat=start, end_beat=start + (old.end_beat - old.start_beat), track=lane)
    lanes_after = _with_lane(project, lane) if lane != old.track else None
    return _commit(project, "move layer", {old.id: old}, {old.id: new}, lanes_after, old.id)


def resize_layer(project: Project, layer_id: int, start_beat: float, end_beat: float) -> LayerEdit:
    old = _row(project, layer_id)
    new = replace(old, start_beat=_number("the layer start", start_beat), end_beat=_number("the layer end", end_beat))
    return _commit(project, "resize layer", {old.id: old}, {old.id: new}, None, old.id)


def set_z(project: Project, layer_id: int, z: int) -> LayerEdit:
    old = _row(project, layer_id)
    if isinstance(z, bool) or not isinstance(z, int):
        raise LayerError(f"a layer's z must be a whole number, not {z!r}")
    return _commit(project, "set layer z", {old.id: old}, {old.id: replace(old, z=z)}, None, old.id)


def set_blend(project: Project, layer_id: int, blend: str | BlendMode) -> LayerEdit:
    old = _row(project, layer_id)
    mode = BlendMode.parse(blend)
    return _commit(project, f"blend {mode.value}", {old.id: old}, {old.id: replace(old, blend=mode.value)}, None,
                   old.id)


def set_opacity(project: Project, layer_id: int, keys: Iterable) -> LayerEdit:
    """Replace a layer's opacity keyframes (``Keyframe`` or ``(beat, value[, interp])``, beats from its start)."""
    old = _row(project, layer_id)
    return _commit(project, "edit opacity", {old.id: old}, {old.id: replace(old, opacity=_opacity_text(keys))},
                   None, old.id)


def remove_layers(project: Project, layer_ids: Iterable[int]) -> LayerEdit:
    rows = [_row(project, lid) for lid in dict.fromkeys(int(i) for i in layer_ids)]
    label = "remove layer" if len(rows) == 1 else f"remove {len(rows)} layers"
    # the lane list is stored so that a lane keeps its place once its last layer is gone
    return _commit(project, label, {r.id: r for r in rows}, {r.id: None for r in rows}, lanes(project))


def _overlaps(a: LayerRow, b: LayerRow) -> bool:
    return a.start_beat < b.end_beat and b.start_beat < a.end_beat


def restack(project: Project, layer_id: int, move: str) -> LayerEdit:
    """Bring a layer forward / send it backward (past the next layer it overlaps in time, on any lane),
    or to the front / back of every layer it overlaps. Nothing changes when no overlapping layer is
    in the way (an empty edit)."""
    if move not in RESTACK_MOVES:
        raise LayerError(f"z-order move {move!r} is unknown; use {', '.join(RESTACK_MOVES)}")
    table = layer_table(project)
    target = table.get(int(layer_id))
    if target is None:
        raise LayerError(f"layer #{layer_id} is not in the project any more (it was removed)")
    order = sorted(table.values(), key=lambda r: (r.z, r.id))  # bottom to top, as the compositor stacks them
    pos = order.index(target)
    above = [i for i in range(pos + 1, len(order)) if _overlaps(order[i], target)]
    below = [i for i in range(pos) if _overlaps(order[i], target)]
    if move in ("forward", "front"):
        if not above:
            return LayerEdit(f"bring layer {move}")
        anchor = above[0] if move == "forward" else above[-1]
        rest = order[:pos] + order[pos + 1:]
        slot = anchor  # after removing the target the anchor moved down one place: insert after it
    else:
        if not below:
            return LayerEdit(f"send layer {move}")
        anchor = below[-1] if move == "backward" else below[0]
        rest = order[:pos] + order[pos + 1:]
        slot = anchor  # insert before the anchor (its index is unchanged)
    lower = rest[slot - 1] if slot > 0 else None
    upper = rest[slot] if slot < len(rest) else None
    label = {"forward": "bring layer forward", "backward": "send layer backward", "front": "bring layer to front",
             "back": "send layer to back"}[move]
    z = _z_between(lower, upper, target.id)
    if z is not None:
        return _commit(project, label, {target.id: target}, {target.id: replace(target, z=z)}, None, target.id)
    # no whole number fits between the neighbours: number the whole stack again (order kept)
    new_order = rest[:slot] + [target] + rest[slot:]
    after = {r.id: replace(r, z=i) for i, r in enumerate(new_order)}
    return _commit(project, label, {r.id: r for r in new_order}, after, None, target.id)


def _z_between(lower: LayerRow | None, upper: LayerRow | None, tid: int) -> int | None:
    """A z that stacks layer ``tid`` just above ``lower`` and below ``upper`` (ties go by id), or None."""
    lo = (lower.z, lower.id) if lower is not None else None
    hi = (upper.z, upper.id) if upper is not None else None
    if lo is None and hi is None:
        return 0
    if lo is None:
        candidates = [hi[0], hi[0] - 1]
    elif hi is None:
        candidates = [lo[0], lo[0] + 1]
    else:
        candidates = list(range(lo[0], hi[0] + 1))
    for z in candidates:
        if (lo is None or lo < (z, tid)) and (hi is None or (z, tid) < hi):
            return z
    return None


# ------------------------------------------------------------------ lanes


def unique_lane_name(project: Project, base: str = DEFAULT_LANE) -> str:
    taken = set(lanes(project))
    n = len(taken) + 1
    while f"{base} {n}" in taken:
        n += 1
    return f"{base} {n}"


def add_lane(project: Project, name: str | None = None) -> LayerEdit:
    """Add an empty lane at the bottom (default name: ``Lights N``)."""
    name = unique_lane_name(project) if name is None else _lane_name(name)
    current = lanes(project)
    if name in current:
        raise LayerError(f"a lighting lane named {name!r} exists already")
    return _commit(project, f"add lane {name}", {}, {}, current + [name])


def rename_lane(project: Project, old: str, new: str) -> LayerEdit:
    """Rename a lane (its layers follow)."""
    new = _lane_name(new)
    current = lanes(project)
    if old not in current:
        raise LayerError(f"there is no lighting lane named {old!r}")
    if new == old:
        return LayerEdit(f"rename lane {old}")
    if new in current:
        raise LayerError(f"a lighting lane named {new!r} exists already; choose another name")
    rows = [r for r in layer_table(project).values() if r.track == old]
    return _commit(project, f"rename lane {old} to {new}", {r.id: r for r in rows},
                   {r.id: replace(r, track=new) for r in rows}, [new if n == old else n for n in current])


def remove_lane(project: Project, name: str) -> LayerEdit:
    """Remove a lane and the layers on it."""
    current = lanes(project)
    if name not in current:
        raise LayerError(f"there is no lighting lane named {name!r}")
    rows = [r for r in layer_table(project).values() if r.track == name]
    return _commit(project, f"remove lane {name}", {r.id: r for r in rows}, {r.id: None for r in rows},
                   [n for n in current if n != name])
