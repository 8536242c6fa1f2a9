"""Import QLC+ fixture definitions (``.qxf``, XML) into :class:`FixtureDef`.

The XML is untrusted: it is parsed with defusedxml (no entity expansion, no
external references) and every structural problem becomes a
:class:`FixtureDefinitionError` that names the file and what is wrong.

Format facts used here (QLC+ 4.x): the root ``FixtureDefinition`` holds
``Manufacturer``, ``Model``, ``Type``, ``Channel`` elements (``Name``, optional
``Preset`` and ``Default``, children ``Group Byte=`` / ``Colour`` in older files,
``Capability Min= Max= Preset= Res1= Res2= Color= Color2=``), ``Mode`` elements
(``Channel Number=`` naming channels, ``Head`` lists of channel numbers, an
optional ``Physical``) and a fixture-wide ``Physical`` (``Focus PanMax TiltMax``,
``Lens DegreesMin DegreesMax``, ``Layout Width Height``).
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterable

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from core.lighting.errors import FixtureDefinitionError
from core.lighting.fixture_def import (
    MIX_ROLES,
    ChannelDef,
    ChannelRange,
    FixtureDef,
    ModeDef,
    Physical,
)

MAX_FILE_BYTES = 16 * 1024 * 1024

# Channel presets (QLC+ 4.12) -> (role, invert)
_PRESET_ROLES: dict[str, tuple[str, bool]] = {
    "IntensityMasterDimmer": ("dimmer", False),
    "IntensityMasterDimmerFine": ("dimmer_fine", False),
    "IntensityDimmer": ("dimmer", False),
    "IntensityDimmerFine": ("dimmer_fine", False),
    "PositionPan": ("pan", False),
    "PositionPanFine": ("pan_fine", False),
    "PositionTilt": ("tilt", False),
    "PositionTiltFine": ("tilt_fine", False),
    "ColorMacro": ("color_wheel", False),
    "ColorWheel": ("color_wheel", False),
    "ShutterStrobeSlowFast": ("shutter", False),
    "ShutterStrobeFastSlow": ("shutter", False),
    "BeamZoomSmallBig": ("zoom", False),
    "BeamZoomBigSmall": ("zoom", True),
    "BeamZoomFine": ("zoom_fine", False),
    "BeamFocusNearFar": ("focus", False),
    "BeamFocusFarNear": ("focus", True),
    "BeamFocusFine": ("focus_fine", False),
    "GoboWheel": ("gobo", False),
}
for _c in MIX_ROLES:
    _name = "UV" if _c == "uv" else _c.capitalize()
    _PRESET_ROLES[f"Intensity{_name}"] = (_c, False)
    _PRESET_ROLES[f"Intensity{_name}Fine"] = (f"{_c}_fine", False)

# Channel presets that imply their capability ranges (they carry none in the file).
_PRESET_RANGES: dict[str, tuple[ChannelRange, ...]] = {
    "ShutterStrobeSlowFast": (
        ChannelRange(0, 0, "Open", "ShutterOpen"),
        ChannelRange(1, 255, "Strobe slow to fast", "StrobeSlowToFast"),
    ),
    "ShutterStrobeFastSlow": (
        ChannelRange(0, 0, "Open", "ShutterOpen"),
        ChannelRange(1, 255, "Strobe fast to slow", "StrobeFastToSlow"),
    ),
}

_COLOUR_ROLES = {c.lower(): c for c in MIX_ROLES}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _local(c.tag) == name]


def _child(el: ET.Element, name: str) -> ET.Element | None:
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _text(el: ET.Element | None) -> str:
    return (el.text or "").strip() if el is not None else ""


def _int(value: str | None, what: str, where: str, default: int | None = None) -> int:
    if value is None or value.strip() == "":
        if default is not None:
            return default
        raise FixtureDefinitionError(f"{where}: {what} is missing")
    try:
        return int(value.strip())
    except ValueError:
        raise FixtureDefinitionError(f"{where}: {what} {value!r} is not a whole number") from None


def _float(value: str | None, default: float = 0.0) -> float:
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        return default


def _read_root(path: Path) -> ET.Element:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise FixtureDefinitionError(f"{path}: cannot read the file ({exc.strerror})") from exc
    if size > MAX_FILE_BYTES:
        raise FixtureDefinitionError(f"{path}: {size} bytes is too large for a fixture definition")
    try:
        root = SafeET.parse(str(path)).getroot()
    except DefusedXmlException as exc:
        raise FixtureDefinitionError(f"{path}: refused unsafe XML ({type(exc).__name__})") from exc
    except ET.ParseError as exc:
        raise FixtureDefinitionError(f"{path}: not well-formed XML ({exc})") from exc
    except OSError as exc:
        raise FixtureDefinitionError(f"{path}: cannot read the file ({exc.strerror})") from exc
    if _local(root.tag) != "FixtureDefinition":
        raise FixtureDefinitionError(f"{path}: not a QLC+ fixture definition (root <{_local(root.tag)}>)")
    return root


def _physical(el: ET.Element | None) -> Physical | None:
    if el is None:
        return None
    focus = _child(el, "Focus")
    lens = _child(el, "Lens")
    layout = _child(el, "Layout")
    lw = lh = 1
    if layout is not None:
        try:
            lw = max(1, int(layout.get("Width", "1")))
            lh = max(1, int(layout.get("Height", "1")))
        except ValueError:
            lw = lh = 1
    return Physical(
        pan_max=_float(focus.get("PanMax") if focus is not None else None),
        tilt_max=_float(focus.get("TiltMax") if focus is not None else None),
        beam_min=_float(lens.get("DegreesMin") if lens is not None else None),
        beam_max=_float(lens.get("DegreesMax") if lens is not None else None),
        layout=(lw, lh),
        focus_type=(focus.get("Type", "Fixed") if focus is not None else "Fixed") or "Fixed",
    )


def _ranges(ch: ET.Element, where: str) -> tuple[ChannelRange, ...]:
    out = []
    for cap in _children(ch, "Capability"):
        lo = _int(cap.get("Min"), "capability Min", where)
        hi = _int(cap.get("Max"), "capability Max", where)
        if not (0 <= lo <= 255 and 0 <= hi <= 255):
            raise FixtureDefinitionError(f"{where}: capability range {lo}-{hi} is outside 0-255")
        if lo > hi:
            raise FixtureDefinitionError(f"{where}: capability range {lo}-{hi} ends before it starts")
        colors = []
        resource = ""
        for attr in ("Res1", "Color", "Res2", "Color2"):
            v = (cap.get(attr) or "").strip()
            if v.startswith("#") and len(v) == 7 and v not in colors:
                colors.append(v.lower())
        for attr in ("Res1", "Res"):
            v = (cap.get(attr) or "").strip()
            if v and not v.startswith("#"):
                resource = v
                break
        out.append(ChannelRange(lo, hi, _text(cap), cap.get("Preset", "") or "", tuple(colors[:2]), resource))
    return tuple(out)


def _role(name: str, preset: str, group: str, byte: int, colour: str, ranges: tuple[ChannelRange, ...]) -> tuple[str, bool]:
    if preset:
        return _PRESET_ROLES.get(preset, ("other", False))
    fine = byte == 1
    low = name.lower()
    base: str | None = None
    if group == "Intensity":
        base = _COLOUR_ROLES.get(colour.lower(), "dimmer") if colour else "dimmer"
    elif group in ("Pan", "Tilt"):
        base = group.lower()
    elif group == "Beam":
        base = "zoom" if "zoom" in low else "focus" if "focus" in low else None
    if base is not None:
        return (f"{base}_fine" if fine else base), False
    if fine:
        return "other", False
    if group == "Colour" and any(len(r.colors) == 1 for r in ranges):
        return "color_wheel", False
    if group == "Shutter":
        return "shutter", False
    if group == "Gobo":
        if any(r.preset == "GoboMacro" for r in ranges):
            return "gobo", False
        if not any(r.preset for r in ranges) and any(
            "gobo" in r.name.lower() and not any(w in r.name.lower() for w in ("rotat", "index", "shake"))
            for r in ranges
        ):
            return "gobo", False
    return "other", False


def _channel(el: ET.Element, where: str) -> ChannelDef:
    name = (el.get("Name") or "").strip()  # names are matched without surrounding blanks
    if not name:
        raise FixtureDefinitionError(f"{where}: a <Channel> has no Name")
    cwhere = f"{where}: channel {name!r}"
    preset = el.get("Preset", "") or ""
    group_el = _child(el, "Group")
    group = _text(group_el)
    byte = _int(group_el.get("Byte"), "group Byte", cwhere, default=0) if group_el is not None else 0
    ranges = _ranges(el, cwhere) or _PRESET_RANGES.get(preset, ())
    role, invert = _role(name, preset, group, byte, _text(_child(el, "Colour")), ranges)
    default = _int(el.get("Default"), "Default", cwhere, default=0)
    if not 0 <= default <= 255:
        raise FixtureDefinitionError(f"{cwhere}: default value {default} is outside 0-255")
    if not group and preset:
        group = preset
    return ChannelDef(name=name, role=role, group=group, invert=invert, default=default, ranges=ranges)


def _mode(el: ET.Element, where: str) -> ModeDef:
    name = el.get("Name")
    if not name:
        raise FixtureDefinitionError(f"{where}: a <Mode> has no Name")
    mwhere = f"{where}: mode {name!r}"
    numbered: dict[int, str] = {}
    for ch in _children(el, "Channel"):
        n = _int(ch.get("Number"), "channel Number", mwhere)
        if n in numbered:
            raise FixtureDefinitionError(f"{mwhere}: channel number {n} is used twice")
        numbered[n] = _text(ch)
    if numbered and sorted(numbered) != list(range(len(numbered))):
        missing = sorted(set(range(max(numbered) + 1)) - set(numbered))
        raise FixtureDefinitionError(f"{mwhere}: channel number {missing[0]} is missing")
    heads = []
    for head in _children(el, "Head"):
        nums = tuple(_int(c.text, "head channel", mwhere) for c in _children(head, "Channel"))
        if nums:
            heads.append(nums)
    return ModeDef(name, tuple(numbered[i] for i in range(len(numbered))), tuple(heads), _physical(_child(el, "Physical")))


def load_qxf(path: str | os.PathLike) -> FixtureDef:
    """Parse one QLC+ fixture definition file."""
    path = Path(path)
    root = _read_root(path)
    where = str(path)
    manufacturer = _text(_child(root, "Manufacturer"))
    model = _text(_child(root, "Model"))
    if not manufacturer or not model:
        raise FixtureDefinitionError(f"{where}: <Manufacturer> or <Model> is missing")
    creator = _child(root, "Creator")
    channels: list[ChannelDef] = []
    for el in _children(root, "Channel"):
        ch = _channel(el, where)
        if ch in channels:
            continue  # the same channel written twice: harmless, keep one
        channels.append(ch)
    modes = tuple(_mode(m, where) for m in _children(root, "Mode"))
    return FixtureDef(
        manufacturer=manufacturer,
        model=model,
        type=_text(_child(root, "Type")) or "Other",
        channels=tuple(channels),
        modes=modes,
        physical=_physical(_child(root, "Physical")) or Physical(),
        author=_text(_child(creator, "Author")) if creator is not None else "",
        source=where,
    )


def read_header(path: str | os.PathLike) -> tuple[str, str, str]:
    """(manufacturer, model, type) read from the start of a file without parsing all of it."""
    path = Path(path)
    found: dict[str, str] = {}
    try:
        for _event, el in SafeET.iterparse(str(path), events=("end",)):
            tag = _local(el.tag)
            if tag in ("Manufacturer", "Model", "Type"):
                found[tag] = _text(el)
            elif tag in ("Channel", "Mode"):
                break
            if len(found) == 3:
                break
    except DefusedXmlException as exc:
        raise FixtureDefinitionError(f"{path}: refused unsafe XML ({type(exc).__name__})") from exc
    except ET.ParseError as exc:
        raise FixtureDefinitionError(f"{path}: not well-formed XML ({exc})") from exc
    except OSError as exc:
        raise FixtureDefinitionError(f"{path}: cannot read the file ({exc.strerror})") from exc
    if not found.get("Manufacturer") or not found.get("Model"):
        raise FixtureDefinitionError(f"{path}: <Manufacturer> or <Model> is missing")
    return found["Manufacturer"], found["Model"], found.get("Type", "Other")


def iter_qxf_files(folder: str | os.PathLike) -> Iterable[Path]:
    """Every ``*.qxf`` below ``folder`` (QLC+ keeps one sub-folder per manufacturer), sorted."""
    return sorted(p for p in Path(folder).rglob("*.qxf") if p.is_file())
