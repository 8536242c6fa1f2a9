"""Fixture definitions: what a fixture model is, mode by mode, channel by channel.

A :class:`FixtureDef` is the engine's own model; QLC+ ``.qxf`` files are one way
to get it (see :mod:`core.lighting.qxf`), and the project file stores each
definition it uses as JSON (:meth:`FixtureDef.to_dict`) so a project opens
the same on a machine that lacks the fixture library.

Every channel carries a *role* that says how the DMX renderer drives it:

* intensity roles ``dimmer red green blue white amber uv lime cyan magenta
  yellow`` and the motion/beam roles ``pan tilt zoom focus`` take a 0..1 value;
  a ``<role>_fine`` channel in the same head carries the low byte of a 16-bit value;
* ``color_wheel``: a wheel or macro channel; the renderer picks the colour
  range nearest to the wanted colour;
* ``shutter``: shutter / strobe channel (open value, strobe slow..fast range);
* ``gobo``: gobo wheel (slot 0 is the open range);
* ``other``: left at the channel's default value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.lighting.colors import parse_hex
from core.lighting.errors import FixtureDefinitionError

MIX_ROLES = ("red", "green", "blue", "white", "amber", "uv", "lime", "cyan", "magenta", "yellow")
LEVEL_ROLES = ("dimmer",) + MIX_ROLES + ("pan", "tilt", "zoom", "focus")
FINE_ROLES = tuple(f"{r}_fine" for r in LEVEL_ROLES)
ROLES = LEVEL_ROLES + FINE_ROLES + ("color_wheel", "shutter", "gobo", "other")


@dataclass(frozen=True)
class ChannelRange:
    """A DMX value range of a channel with its meaning (a QLC+ capability)."""

    min: int
    max: int
    name: str = ""
    preset: str = ""
    colors: tuple[str, ...] = ()  # "#rrggbb" (two for split colours)
    resource: str = ""

    @property
    def centre(self) -> int:
        return (self.min + self.max) // 2


@dataclass(frozen=True)
class ChannelDef:
    name: str
    role: str = "other"
    group: str = ""  # the QLC+ group (Intensity, Colour, Pan, ...), informational
    invert: bool = False  # 1.0 maps to DMX 0 (e.g. zoom big..small)
    default: int = 0
    ranges: tuple[ChannelRange, ...] = ()

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise FixtureDefinitionError(f"channel {self.name!r}: unknown role {self.role!r}")

    @property
    def fine(self) -> bool:
        return self.role.endswith("_fine")

    # --- interpretations the DMX renderer precomputes --------------------
    def wheel_palette(self) -> list[tuple[tuple[float, float, float], int]]:
        """(rgb, dmx value) of every single-colour range; "open"/"white" ranges count as white."""
        out = []
        for r in self.ranges:
            rgb = parse_hex(r.colors[0]) if len(r.colors) == 1 else None
            if rgb is None and not r.colors:
                low = r.name.lower()
                if ("open" in low or low.strip() == "white") and "shake" not in low:
                    rgb = (1.0, 1.0, 1.0)
            if rgb is not None:
                out.append((rgb, r.centre))
        return out

    def strobe_map(self) -> tuple[int, int, int]:
        """(open value, slowest strobe value, fastest strobe value)."""
        open_value = None
        slow_fast = None
        for r in self.ranges:
            low = r.name.lower()
            if open_value is None and (r.preset == "ShutterOpen" or (not r.preset and "open" in low)):
                open_value = r.centre
            if slow_fast is None:
                if r.preset in ("StrobeSlowToFast", "StrobeFrequency", "StrobeFreqRange"):
                    slow_fast = (r.min, r.max)
                elif r.preset == "StrobeFastToSlow":
                    slow_fast = (r.max, r.min)
                elif not r.preset and "strobe" in low and "random" not in low:
                    slow_fast = (r.max, r.min) if "fast" in low and low.find("fast") < low.find("slow") else (r.min, r.max)
        if slow_fast is None:
            slow_fast = (1, 255)  # a bare "strobe slow..fast" channel: 0 is off
            if open_value is None:
                open_value = 0
        if open_value is None:
            open_value = self.default
        return open_value, slow_fast[0], slow_fast[1]

    def gobo_slots(self) -> list[int]:
        """DMX values of slot 0 (open) and the gobos in wheel order."""
        open_value = self.default
        found_open = False
        slots: list[int] = []
        for r in self.ranges:
            low = r.name.lower()
            if not found_open and not slots and ("open" in low or "open" in r.resource.lower()):
                open_value, found_open = r.centre, True  # "Open", or a range showing the open picture
                continue
            if r.preset == "GoboMacro" or (not r.preset and "gobo" in low and "shake" not in low and "rot" not in low):
                slots.append(r.centre)
        return [open_value] + slots


@dataclass(frozen=True)
class Physical:
    pan_max: float = 0.0  # degrees of pan travel
    tilt_max: float = 0.0
    beam_min: float = 0.0  # beam angle range, degrees
    beam_max: float = 0.0
    layout: tuple[int, int] = (1, 1)  # heads as columns x rows (pixel bars, matrices)
    focus_type: str = "Fixed"  # Fixed, Head, Mirror, Barrel


@dataclass(frozen=True)
class ModeDef:
    name: str
    channels: tuple[str, ...]  # channel names in DMX order
    heads: tuple[tuple[int, ...], ...] = ()  # channel numbers (0-based) of each head
    physical: Physical | None = None


@dataclass(frozen=True)
class FixtureDef:
    manufacturer: str
    model: str
    type: str = "Other"
    channels: tuple[ChannelDef, ...] = ()
    modes: tuple[ModeDef, ...] = ()
    physical: Physical = field(default_factory=Physical)
    author: str = ""
    source: str = ""  # where it was loaded from (not stored)

    def __post_init__(self) -> None:
        where = self.source or self.key
        if not self.manufacturer.strip() or not self.model.strip():
            raise FixtureDefinitionError(f"{where}: manufacturer and model must not be empty")
        names = [c.name for c in self.channels]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise FixtureDefinitionError(
                f"{where}: channel {dup[0]!r} is defined twice with different contents, "
                "so the modes cannot tell which one they use"
            )
        if not self.modes:
            raise FixtureDefinitionError(f"{where}: the fixture has no modes")
        known = set(names)
        seen_modes = set()
        for mode in self.modes:
            if mode.name in seen_modes:
                raise FixtureDefinitionError(f"{where}: mode {mode.name!r} is defined twice")
            seen_modes.add(mode.name)
            if not mode.channels:
                raise FixtureDefinitionError(f"{where}: mode {mode.name!r} has no channels")
            if len(mode.channels) > 512:
                raise FixtureDefinitionError(f"{where}: mode {mode.name!r} has more than 512 channels")
            for ch in mode.channels:
                if ch not in known:
                    raise FixtureDefinitionError(
                        f"{where}: mode {mode.name!r} uses channel {ch!r}, which is not defined"
                    )
            for head in mode.heads:
                for n in head:
                    if not 0 <= n < len(mode.channels):
                        raise FixtureDefinitionError(
                            f"{where}: a head of mode {mode.name!r} names channel {n}, "
                            f"but the mode has channels 0-{len(mode.channels) - 1}"
                        )

    @property
    def key(self) -> str:
        """How patches and show files name the definition: ``Manufacturer/Model``."""
        return f"{self.manufacturer}/{self.model}"

    def channel(self, name: str) -> ChannelDef:
        for c in self.channels:
            if c.name == name:
                return c
        raise FixtureDefinitionError(f"{self.key}: no channel named {name!r}")

    def mode(self, name: str) -> ModeDef:
        for m in self.modes:
            if m.name == name:
                return m
        raise FixtureDefinitionError(
            f"{self.key} has no mode {name!r} (modes: {', '.join(repr(m.name) for m in self.modes)})"
        )

    def mode_channels(self, mode: str | ModeDef) -> list[ChannelDef]:
        m = self.mode(mode) if isinstance(mode, str) else mode
        return [self.channel(n) for n in m.channels]

    def mode_physical(self, mode: str | ModeDef) -> Physical:
        m = self.mode(mode) if isinstance(mode, str) else mode
        return m.physical or self.physical

    # ------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        def phys(p: Physical) -> dict[str, Any]:
            return {
                "pan_max": p.pan_max, "tilt_max": p.tilt_max, "beam_min": p.beam_min,
                "beam_max": p.beam_max, "layout": list(p.layout), "focus_type": p.focus_type,
            }

        return {
            "format": "luma-fixture/1",
            "manufacturer": self.manufacturer,
            "model": self.model,
            "type": self.type,
            "author": self.author,
            "physical": phys(self.physical),
            "channels": [
                {
                    "name": c.name, "role": c.role, "group": c.group, "invert": c.invert,
                    "default": c.default,
                    "ranges": [
                        {"min": r.min, "max": r.max, "name": r.name, "preset": r.preset,
                         "colors": list(r.colors), "resource": r.resource}
                        for r in c.ranges
                    ],
                }
                for c in self.channels
            ],
            "modes": [
                {
                    "name": m.name, "channels": list(m.channels), "heads": [list(h) for h in m.heads],
                    "physical": phys(m.physical) if m.physical else None,
                }
                for m in self.modes
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "") -> "FixtureDef":
        where = source or "fixture definition"
        try:
            if data.get("format") != "luma-fixture/1":
                raise FixtureDefinitionError(f"{where}: not a Luma fixture definition (format {data.get('format')!r})")

            def phys(p: dict[str, Any] | None) -> Physical | None:
                if p is None:
                    return None
                return Physical(
                    float(p["pan_max"]), float(p["tilt_max"]), float(p["beam_min"]), float(p["beam_max"]),
                    (int(p["layout"][0]), int(p["layout"][1])), str(p["focus_type"]),
                )

            channels = tuple(
                ChannelDef(
                    name=str(c["name"]), role=str(c["role"]), group=str(c.get("group", "")),
                    invert=bool(c.get("invert", False)), default=int(c.get("default", 0)),
                    ranges=tuple(
                        ChannelRange(int(r["min"]), int(r["max"]), str(r.get("name", "")),
                                     str(r.get("preset", "")), tuple(r.get("colors", ())),
                                     str(r.get("resource", "")))
                        for r in c.get("ranges", ())
                    ),
                )
                for c in data["channels"]
            )
            modes = tuple(
                ModeDef(str(m["name"]), tuple(m["channels"]), tuple(tuple(int(n) for n in h) for h in m.get("heads", ())),
                        phys(m.get("physical")))
                for m in data["modes"]
            )
            return cls(
                manufacturer=str(data["manufacturer"]), model=str(data["model"]), type=str(data.get("type", "Other")),
                channels=channels, modes=modes, physical=phys(data.get("physical")) or Physical(),
                author=str(data.get("author", "")), source=source,
            )
        except FixtureDefinitionError:
            raise
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise FixtureDefinitionError(f"{where}: malformed fixture definition ({exc!r})") from exc
