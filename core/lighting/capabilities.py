"""What a layer can set on a primitive (a fixture head): the capabilities.

Every capability is a small vector per primitive and time sample:

============  ====  ==========  ============================================
capability    dims  kind        value and default
============  ====  ==========  ============================================
intensity     1     continuous  0..1 light output; default 0 (dark)
color         3     continuous  linear RGB 0..1; default black
position      2     continuous  pan, tilt as 0..1 of the fixture's range;
                                default 0.5, 0.5 (centre: the home position)
strobe        1     continuous  0 = no strobe (shutter open), 0..1 slow..fast
zoom          1     continuous  0..1 narrow..wide; default: channel default
focus         1     continuous  0..1 near..far; default: channel default
gobo          1     discrete    gobo slot index, 0 = open; default 0
============  ====  ==========  ============================================

Continuous capabilities are interpolated linearly between buffer samples and
blended with the layer blend modes; discrete ones hold their last sample and
switch instead of mixing. Plugins may register further capabilities with
:func:`register_capability`; the DMX renderer ignores capabilities it has no
channel mapping for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.lighting.errors import LightingError


@dataclass(frozen=True)
class Capability:
    name: str
    dims: int
    discrete: bool
    default: tuple[float, ...]
    label: str

    @property
    def default_array(self) -> np.ndarray:
        return np.asarray(self.default, dtype=np.float32)


_CAPABILITIES: dict[str, Capability] = {}


def register_capability(cap: Capability) -> Capability:
    if len(cap.default) != cap.dims:
        raise LightingError(f"capability {cap.name!r}: default needs {cap.dims} values")
    existing = _CAPABILITIES.get(cap.name)
    if existing is not None and existing != cap:
        raise LightingError(f"capability {cap.name!r} is registered already with another shape")
    _CAPABILITIES[cap.name] = cap
    return cap


def capability(name: str) -> Capability:
    try:
        return _CAPABILITIES[name]
    except KeyError:
        raise LightingError(
            f"unknown capability {name!r} (known: {', '.join(sorted(_CAPABILITIES))})"
        ) from None


def capabilities() -> dict[str, Capability]:
    """All registered capabilities, in registration order."""
    return dict(_CAPABILITIES)


INTENSITY = register_capability(Capability("intensity", 1, False, (0.0,), "Intensity"))
COLOR = register_capability(Capability("color", 3, False, (0.0, 0.0, 0.0), "Colour"))
POSITION = register_capability(Capability("position", 2, False, (0.5, 0.5), "Position"))
STROBE = register_capability(Capability("strobe", 1, False, (0.0,), "Strobe"))
ZOOM = register_capability(Capability("zoom", 1, False, (0.0,), "Zoom"))
FOCUS = register_capability(Capability("focus", 1, False, (0.0,), "Focus"))
GOBO = register_capability(Capability("gobo", 1, True, (0.0,), "Gobo"))
