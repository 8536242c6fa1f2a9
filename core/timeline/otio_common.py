"""What OTIO export and import share: the adapters, the metadata key, marker colours and exact time.

See core.timeline.otio_io for the mapping between Luma sequences and OTIO.
"""

from __future__ import annotations

import functools
import math
import os
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
from opentimelineio.opentime import RationalTime

from core.errors import LumaError
from core.time import as_rate


LUMA = "luma"
FORMAT_VERSION = 1

#: file suffix -> OTIO adapter
SUFFIX_ADAPTERS = {".otio": "otio_json", ".otioz": "otioz", ".edl": "cmx_3600", ".xml": "fcp_xml"}
ADAPTER_LABELS = {"otio_json": "OpenTimelineIO", "otioz": "OpenTimelineIO bundle", "cmx_3600": "CMX 3600 EDL",
                  "fcp_xml": "Final Cut Pro 7 XML"}

_COLOR_NAMES = ("pink", "red", "orange", "yellow", "green", "cyan", "blue", "purple", "magenta", "black", "white")
#: Luma marker colour name -> otio MarkerColor
MARKER_COLORS = {name: getattr(otio.schema.MarkerColor, name.upper()) for name in _COLOR_NAMES}


def adapter_for(path: str | os.PathLike, adapter: str | None = None) -> str:
    """The OTIO adapter for a file: the one given, else the one its suffix names."""
    path = Path(path)
    if adapter is not None:
        if adapter not in ADAPTER_LABELS:
            raise LumaError(f"unknown interchange format {adapter!r} (one of {', '.join(ADAPTER_LABELS)})")
        return adapter
    name = SUFFIX_ADAPTERS.get(path.suffix.lower())
    if name is None:
        raise LumaError(f"{path.name}: unknown interchange format; use .otio, .otioz, .edl (CMX 3600) "
                        f"or .xml (Final Cut Pro 7 XML)")
    return name


def _frac_text(value: Fraction) -> str:
    value = Fraction(value)
    return f"{value.numerator}/{value.denominator}"


@functools.lru_cache(maxsize=64)
def _rate_of(rate: float) -> Fraction:
    """The exact rate an OTIO float rate stands for (29.97002997 -> 30000/1001)."""
    return as_rate(float(rate))


def _seconds(t: RationalTime) -> Fraction:
    return Fraction(t.value) / _rate_of(t.rate)


def _to_frames(seconds: Fraction, rate: Fraction) -> int:
    return math.floor(seconds * rate + Fraction(1, 2))


def _plain(value):
    """OTIO metadata (AnyDictionary / AnyVector) as plain Python."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if hasattr(value, "items"):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "__iter__"):
        return [_plain(v) for v in value]
    return None


def _luma(obj) -> dict:
    meta = _plain(obj.metadata.get(LUMA))
    return meta if isinstance(meta, dict) else {}
