"""The patch: which fixtures hang where, and on which DMX addresses.

A :class:`FixtureInstance` is one physical fixture: an id the show refers to
(``par1``), a definition (``Manufacturer/Model``) and mode, a universe
(1-based) and start address (1..512), groups, and a stage position in metres
(x to stage right, y upstage, z up). The :class:`Patch` refuses addresses past
512 and overlapping channels with messages that say which fixtures collide
and where there is room.

The :class:`Rig` is the patch compiled for evaluation: the ordered list of
*primitives* (fixture heads; a single-head fixture is one primitive named like
the fixture, head ``k`` of a multi-head fixture is ``id.k``, 1-based) with
their positions and pan/tilt ranges as numpy arrays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Iterator

import numpy as np

from core.lighting.errors import FixtureDefinitionError, PatchError
from core.lighting.fixture_def import FixtureDef

UNIVERSE_CHANNELS = 512
MAX_UNIVERSE = 63999  # the largest sACN universe number
_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")


@dataclass(frozen=True)
class FixtureInstance:
    id: str
    definition: str  # "Manufacturer/Model"
    mode: str
    universe: int
    address: int
    name: str = ""
    groups: tuple[str, ...] = ()
    position: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "groups", tuple(self.groups))
        object.__setattr__(self, "position", tuple(float(v) for v in self.position))
        if not isinstance(self.id, str) or not _ID.match(self.id):
            raise PatchError(
                f"fixture id {self.id!r} is not valid: use letters, digits, '_' and '-' (no spaces or dots)"
            )
        if len(self.position) != 3:
            raise PatchError(f"{self.id}: position needs three numbers (x, y, z in metres)")
        for g in self.groups:
            if not isinstance(g, str) or not g.strip():
                raise PatchError(f"{self.id}: group names must be non-empty text")

    @property
    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True)
class Primitive:
    index: int
    id: str
    fixture: str
    head: int  # 0-based head of the fixture


class Patch:
    """Ordered fixture instances plus the definitions they use."""

    def __init__(self, definitions: dict[str, FixtureDef] | None = None):
        self.definitions: dict[str, FixtureDef] = dict(definitions or {})
        self._fixtures: dict[str, FixtureInstance] = {}
        # universe -> owner fixture id per channel (index 0 = address 1)
        self._occupied: dict[int, list[str | None]] = {}
        self._rig: Rig | None = None

    # ------------------------------------------------------------ queries
    def __iter__(self) -> Iterator[FixtureInstance]:
        return iter(self._fixtures.values())

    def __len__(self) -> int:
        return len(self._fixtures)

    def __contains__(self, fixture_id: str) -> bool:
        return fixture_id in self._fixtures

    @property
    def fixtures(self) -> list[FixtureInstance]:
        return list(self._fixtures.values())

    def get(self, fixture_id: str) -> FixtureInstance:
        try:
            return self._fixtures[fixture_id]
        except KeyError:
            raise PatchError(f"no fixture {fixture_id!r} in the patch") from None

    def definition_of(self, fixture: FixtureInstance) -> FixtureDef:
        return self.definitions[fixture.definition]

    def channel_count(self, fixture: FixtureInstance) -> int:
        return len(self.definition_of(fixture).mode(fixture.mode).channels)

    def head_count(self, fixture: FixtureInstance) -> int:
        return max(1, len(self.definition_of(fixture).mode(fixture.mode).heads))

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for f in self._fixtures.values():
            for g in f.groups:
                out.setdefault(g, []).append(f.id)
        return out

    def universes(self) -> list[int]:
        return sorted({f.universe for f in self._fixtures.values()})

    # ------------------------------------------------------------ edits
    def add(self, fixture: FixtureInstance, definition: FixtureDef | None = None) -> FixtureInstance:
        """Patch a fixture; raises :class:`PatchError` and changes nothing when it does not fit."""
        if fixture.id in self._fixtures:
            raise PatchError(f"fixture id {fixture.id!r} is used twice")
        d = self.definitions.get(fixture.definition)
        if definition is not None:
            if fixture.definition != definition.key:
                raise PatchError(f"{fixture.id}: definition {definition.key!r} given for {fixture.definition!r}")
            d = d or definition
        if d is None:
            raise PatchError(f"{fixture.id}: fixture definition {fixture.definition!r} is not loaded")
        try:
            count = len(d.mode(fixture.mode).channels)
        except FixtureDefinitionError as exc:  # unknown mode
            raise PatchError(f"{fixture.id}: {exc}") from exc
        u, a = fixture.universe, fixture.address
        if isinstance(u, bool) or not isinstance(u, int) or not 1 <= u <= MAX_UNIVERSE:
            raise PatchError(f"{fixture.id}: universe {u!r} is not valid (1..{MAX_UNIVERSE})")
        if isinstance(a, bool) or not isinstance(a, int) or not 1 <= a <= UNIVERSE_CHANNELS:
            raise PatchError(f"{fixture.id}: DMX address {a!r} is not valid (1..{UNIVERSE_CHANNELS})")
        last = a + count - 1
        if last > UNIVERSE_CHANNELS:
            raise PatchError(
                f"{fixture.id}: {count} channels from address {a} run to {last}, past the end of "
                f"universe {u} ({UNIVERSE_CHANNELS} channels); use an address up to "
                f"{UNIVERSE_CHANNELS - count + 1} or another universe"
            )
        owners = self._occupied.get(u)
        if owners is not None:
            clash = next((o for o in owners[a - 1 : last] if o is not None), None)
            if clash is not None:
                other = self._fixtures[clash]
                o_last = other.address + self.channel_count(other) - 1
                raise PatchError(
                    f"{fixture.id} (universe {u}, channels {a}-{last}) overlaps {other.id} "
                    f"(channels {other.address}-{o_last}); next free address after it: "
                    f"{self._next_free(u, count, o_last + 1)}"
                )
        else:
            owners = self._occupied.setdefault(u, [None] * UNIVERSE_CHANNELS)
        owners[a - 1 : last] = [fixture.id] * count
        self.definitions.setdefault(d.key, d)
        self._fixtures[fixture.id] = fixture
        self._rig = None
        return fixture

    def _next_free(self, universe: int, count: int, start: int) -> str:
        owners = self._occupied.get(universe, [None] * UNIVERSE_CHANNELS)
        for a in range(max(1, start), UNIVERSE_CHANNELS - count + 2):
            if all(o is None for o in owners[a - 1 : a - 1 + count]):
                return str(a)
        return "none in this universe"

    def remove(self, fixture_id: str) -> FixtureInstance:
        fixture = self.get(fixture_id)
        owners = self._occupied[fixture.universe]
        for i, o in enumerate(owners):
            if o == fixture_id:
                owners[i] = None
        del self._fixtures[fixture_id]
        self._rig = None
        return fixture

    def move(self, fixture_id: str, universe: int, address: int) -> FixtureInstance:
        """Re-patch a fixture; on error the old address stays."""
        order = list(self._fixtures)
        old = self.remove(fixture_id)
        try:
            self.add(replace(old, universe=universe, address=address))
        except PatchError:
            self.add(old)
            raise
        finally:
            self._fixtures = {k: self._fixtures[k] for k in order}  # keep the patch order
        return self._fixtures[fixture_id]

    # ------------------------------------------------------------ compile
    def rig(self) -> "Rig":
        if self._rig is None:
            self._rig = Rig(self)
        return self._rig


@dataclass
class Rig:
    """The patch as arrays over primitives, for pattern evaluation and DMX maps."""

    patch: Patch
    primitives: list[Primitive] = field(init=False)
    index: dict[str, int] = field(init=False)
    fixture_primitives: dict[str, list[int]] = field(init=False)
    group_primitives: dict[str, list[int]] = field(init=False)
    positions: np.ndarray = field(init=False)  # [N, 3] metres
    pan_range: np.ndarray = field(init=False)  # [N] degrees of pan travel (0: no pan)
    tilt_range: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        prims: list[Primitive] = []
        fixture_prims: dict[str, list[int]] = {}
        pos, pan, tilt = [], [], []
        for f in self.patch:
            d = self.patch.definition_of(f)
            mode = d.mode(f.mode)
            phys = d.mode_physical(mode)
            heads = self.patch.head_count(f)
            ids = fixture_prims.setdefault(f.id, [])
            for h in range(heads):
                pid = f.id if heads == 1 else f"{f.id}.{h + 1}"
                ids.append(len(prims))
                prims.append(Primitive(len(prims), pid, f.id, h))
                pos.append(f.position)
                pan.append(phys.pan_max)
                tilt.append(phys.tilt_max)
        self.primitives = prims
        self.index = {p.id: p.index for p in prims}
        self.fixture_primitives = fixture_prims
        groups: dict[str, list[int]] = {}
        for g, members in self.patch.groups().items():
            groups[g] = [i for fid in members for i in fixture_prims[fid]]
        self.group_primitives = groups
        self.positions = np.asarray(pos, dtype=np.float64).reshape(-1, 3)
        self.pan_range = np.asarray(pan, dtype=np.float64)
        self.tilt_range = np.asarray(tilt, dtype=np.float64)

    @property
    def size(self) -> int:
        return len(self.primitives)

    def resolve(self, name: str) -> list[int]:
        """Primitive indices of a fixture id, a ``fixture.head`` id or a group name."""
        if name in self.fixture_primitives:
            return list(self.fixture_primitives[name])
        if name in self.index:
            return [self.index[name]]
        if name in self.group_primitives:
            return list(self.group_primitives[name])
        raise PatchError(f"{name!r} is neither a fixture, a fixture head nor a group of the patch")
