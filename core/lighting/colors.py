"""Colour values as the lighting engine reads them: ``#rrggbb`` or three numbers 0..1."""

from __future__ import annotations

import re
from typing import Any

from core.lighting.errors import LightingError

_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


def parse_hex(text: str) -> tuple[float, float, float] | None:
    """``"#ff8000"`` -> (1.0, 0.50196, 0.0); None when the text is not a hex colour."""
    m = _HEX.match(text.strip()) if isinstance(text, str) else None
    if not m:
        return None
    h = m.group(1)
    return tuple(int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


def parse_color(value: Any, what: str = "colour") -> tuple[float, float, float]:
    """A colour parameter: ``"#rrggbb"`` or ``[r, g, b]`` with components 0..1."""
    if isinstance(value, str):
        rgb = parse_hex(value)
        if rgb is None:
            raise LightingError(f"{what}: {value!r} is not a colour (write #rrggbb or [r, g, b])")
        return rgb
    if isinstance(value, (list, tuple)) and len(value) == 3:
        out = []
        for v in value:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise LightingError(f"{what}: {value!r} is not a colour (components must be numbers)")
            if not 0.0 <= float(v) <= 1.0:
                raise LightingError(f"{what}: component {v!r} is outside 0..1")
            out.append(float(v))
        return (out[0], out[1], out[2])
    raise LightingError(f"{what}: {value!r} is not a colour (write #rrggbb or [r, g, b])")
