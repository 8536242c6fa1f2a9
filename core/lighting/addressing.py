"""DMX addressing: where new fixtures go, and which patched fixtures overlap.

A fixture occupies ``footprint`` consecutive channels from its start address
in one universe. :func:`auto_address` places ``n`` new fixtures of one
footprint one after another: from the first free run of channels at or after
the start address in the chosen universe, skipping channels that are taken,
and on to the next universe (from address 1) when the rest of a universe has
no run long enough. :func:`find_conflicts` reports every pair of fixtures
whose channel ranges overlap in a universe (the patch panel paints them red).

:func:`plan_fixtures` makes the new fixture instances of an "Add N
fixtures": addresses from :func:`auto_address`, unique ids from the model
name, and stage positions in a row.

These functions work on plain ``(id, universe, address, footprint)`` rows, so
they can check a patch that :class:`core.lighting.patch.Patch` would refuse.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

import numpy as np

from core.lighting.errors import FixtureDefinitionError, PatchError
from core.lighting.fixture_def import FixtureDef
from core.lighting.patch import MAX_UNIVERSE, UNIVERSE_CHANNELS, FixtureInstance


@dataclass(frozen=True)
class Span:
    """The channels one fixture takes: ``address .. address + footprint - 1`` of ``universe``."""

    id: str
    universe: int
    address: int
    footprint: int

    @property
    def last(self) -> int:
        return self.address + self.footprint - 1


@dataclass(frozen=True)
class Conflict:
    """``other`` overlaps the fixture on ``first .. last`` of ``universe``."""

    other: str
    universe: int
    first: int
    last: int

    def describe(self) -> str:
        where = f"channel {self.first}" if self.first == self.last else f"channels {self.first}-{self.last}"
        return f"overlaps {self.other} on universe {self.universe}, {where}"


def check_span(span: Span) -> None:
    """Raise :class:`PatchError` unless the span fits in its universe."""
    u, a, n = span.universe, span.address, span.footprint
    if isinstance(u, bool) or not isinstance(u, (int, np.integer)) or not 1 <= u <= MAX_UNIVERSE:
        raise PatchError(f"{span.id}: universe {u!r} is not valid (1..{MAX_UNIVERSE})")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= UNIVERSE_CHANNELS:
        raise PatchError(f"{span.id}: a fixture takes 1..{UNIVERSE_CHANNELS} channels, not {n!r}")
    if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not 1 <= a <= UNIVERSE_CHANNELS:
        raise PatchError(f"{span.id}: DMX address {a!r} is not valid (1..{UNIVERSE_CHANNELS})")
    if span.last > UNIVERSE_CHANNELS:
        raise PatchError(
            f"{span.id}: {n} channels from address {a} run to {span.last}, past the end of universe {u} "
            f"({UNIVERSE_CHANNELS} channels); use an address up to {UNIVERSE_CHANNELS - n + 1} or another universe"
        )


def occupancy(spans: Iterable[Span]) -> dict[int, np.ndarray]:
    """universe -> bool [512], True where some fixture takes the channel (index 0 = address 1)."""
    out: dict[int, np.ndarray] = {}
    for s in spans:
        taken = out.setdefault(int(s.universe), np.zeros(UNIVERSE_CHANNELS, dtype=bool))
        taken[max(0, s.address - 1) : min(UNIVERSE_CHANNELS, s.last)] = True
    return out


def first_free(taken: np.ndarray, footprint: int, start: int = 1) -> int | None:
    """The first address >= ``start`` with ``footprint`` free channels in a row, or None."""
    if footprint < 1 or footprint > UNIVERSE_CHANNELS:
        return None
    free = (~taken).astype(np.int32)
    # run[i] = free channels in the window i .. i + footprint - 1 (a sliding sum over the free flags)
    csum = np.concatenate(([0], np.cumsum(free)))
    run = csum[footprint:] - csum[:-footprint]
    ok = np.flatnonzero(run[max(0, start - 1) :] == footprint)
    return int(ok[0]) + max(1, start) if len(ok) else None


def auto_address(existing: Iterable[Span], footprint: int, count: int, universe: int = 1,
                 start: int = 1) -> list[tuple[int, int]]:
    """(universe, address) for ``count`` new fixtures of ``footprint`` channels, placed back to back.

    The first goes to the first free run at or after ``start`` in ``universe``;
    each next one right after the previous one where that is free, else at the
    next free run; when a universe has no room left the placement goes on in
    the next universe from address 1. Raises :class:`PatchError` when a fixture
    is wider than a universe or the universes run out.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise PatchError(f"cannot add {count!r} fixtures: give a whole number")
    check_span(Span("new fixture", universe, start, 1))
    if not 1 <= footprint <= UNIVERSE_CHANNELS:
        raise PatchError(f"a fixture of {footprint} channels does not fit in a universe ({UNIVERSE_CHANNELS} channels)")
    taken = occupancy(existing)
    out: list[tuple[int, int]] = []
    u, cursor = int(universe), int(start)
    while len(out) < count:
        row = taken.setdefault(u, np.zeros(UNIVERSE_CHANNELS, dtype=bool))
        a = first_free(row, footprint, cursor)
        if a is None:
            if u >= MAX_UNIVERSE:
                raise PatchError(f"no room for {count - len(out)} more fixtures of {footprint} channels "
                                 f"up to universe {MAX_UNIVERSE}")
            u, cursor = u + 1, 1
            continue
        row[a - 1 : a - 1 + footprint] = True
        out.append((u, a))
        cursor = a + footprint
    return out


def find_conflicts(spans: Iterable[Span]) -> dict[str, list[Conflict]]:
    """Fixture id -> the fixtures whose channels overlap it (only ids with overlaps appear).

    Pairs are found per universe with one broadcast comparison of the
    channel ranges; each list is in patch order.
    """
    spans = list(spans)
    out: dict[str, list[Conflict]] = {}
    by_universe: dict[int, list[int]] = {}
    for i, s in enumerate(spans):
        by_universe.setdefault(int(s.universe), []).append(i)
    for u, idx in by_universe.items():
        if len(idx) < 2:
            continue
        first = np.array([spans[i].address for i in idx], dtype=np.int64)
        last = np.array([spans[i].last for i in idx], dtype=np.int64)
        hit = (first[:, None] <= last[None, :]) & (first[None, :] <= last[:, None])
        np.fill_diagonal(hit, False)
        lo = np.maximum(first[:, None], first[None, :])
        hi = np.minimum(last[:, None], last[None, :])
        for a, b in zip(*np.nonzero(hit)):
            me, other = spans[idx[a]], spans[idx[b]]
            out.setdefault(me.id, []).append(Conflict(other.id, u, int(lo[a, b]), int(hi[a, b])))
    return out


_SLUG = re.compile(r"[^a-z0-9]+")


def id_base(model: str) -> str:
    """A fixture id prefix from a model name: ``"RGB Par 7x10"`` -> ``"rgb_par_7x10"``."""
    base = _SLUG.sub("_", model.lower()).strip("_") or "fixture"
    return base + "_" if base[-1].isdigit() else base


def new_ids(base: str, existing: Iterable[str], count: int) -> list[str]:
    """``count`` ids ``base1, base2, ...`` not in ``existing``, numbered on from the highest one used."""
    taken = set(existing)
    pattern = re.compile(re.escape(base) + r"(\d+)$")
    n = max((int(m.group(1)) for t in taken if (m := pattern.match(t))), default=0)
    out = []
    while len(out) < count:
        n += 1
        candidate = f"{base}{n}"
        if candidate not in taken:
            out.append(candidate)
    return out


ROW_SPACING = 1.0  # metres between new fixtures in their row
ROW_GAP = 1.5  # metres from the last row of the rig to the new one
DEFAULT_HEIGHT = 4.0  # metres: where new fixtures hang when nothing else is patched


def plan_fixtures(existing: list[FixtureInstance], definitions: dict[str, FixtureDef], definition: FixtureDef,
                  mode: str, count: int, universe: int = 1, start: int = 1) -> list[FixtureInstance]:
    """``count`` new fixtures of ``definition`` in ``mode``, auto-addressed after the ``existing`` ones.

    Ids are the model name plus a number (``rgb_par3``), names the model and
    that number; they stand in a row 1 m apart, centred on x = 0, 1.5 m
    upstage of the rig's last row (at y = 0 on an empty stage), as high as
    the last patched fixture (4 m on an empty stage).
    """
    try:
        width = len(definition.mode(mode).channels)
    except FixtureDefinitionError as exc:
        raise PatchError(str(exc)) from exc
    defs = dict(definitions)
    defs.setdefault(definition.key, definition)
    spans = []
    for f in existing:
        d = defs.get(f.definition)
        if d is None:
            raise PatchError(f"{f.id}: fixture definition {f.definition!r} is not loaded")
        spans.append(Span(f.id, f.universe, f.address, len(d.mode(f.mode).channels)))
    places = auto_address(spans, width, count, universe, start)
    base = id_base(definition.model)
    ids = new_ids(base, [f.id for f in existing], count)
    y = max((f.position[1] for f in existing), default=-ROW_GAP) + ROW_GAP
    z = existing[-1].position[2] if existing else DEFAULT_HEIGHT
    out = []
    for i, ((u, a), fid) in enumerate(zip(places, ids)):
        x = (i - (count - 1) / 2.0) * ROW_SPACING
        number = fid[len(base):]
        out.append(FixtureInstance(fid, definition.key, mode, u, a, f"{definition.model} {number}", (),
                                   (round(x, 4), round(y, 4), z)))
    return out
