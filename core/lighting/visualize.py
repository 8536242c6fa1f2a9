"""What the rig looks like for a DMX frame: per-head light colour, intensity, pan and tilt.

:class:`FixtureVisualizer` compiles the patch once into index arrays (like
:class:`core.lighting.dmx.DmxRenderer`, the other way round) and decodes a
frame of DMX universes into a :class:`StageLook`, one entry per rig
primitive (fixture head), with a few numpy gathers whatever the rig size.
Decoding the frame that is sent, rather than the composite buffer, shows
what the fixtures really get: grand master, blackout, colour wheel steps
and 8-bit rounding included.

How channel values become light (v in 0..1; a coarse/fine pair gives a
16-bit value; inverted channels read ``1 - v``):

* colour mixing heads: ``red, green, blue`` plus ``white`` (1, 1, 1),
  ``amber`` (1, 0.5, 0) - the hues :mod:`.dmx` takes out of RGB - and, for
  the eye only, ``lime`` (0.6, 1, 0) and ``uv`` (0.25, 0, 0.5); CMY heads
  (no RGB) give ``1 - c, 1 - m, 1 - y``;
* colour wheel heads (no mixing channels): the colour of the wheel range the
  value falls in (the first colour of a split range; ranges without a colour
  - open, rotation - count as white);
* heads with neither: white;
* the light is that colour times the head's own dimmer and the fixture's
  master dimmer (fixtures without a dimmer channel: times 1, the RGB values
  *are* the light) and times 0 while the shutter value is in a *closed* range
  (preset ``ShutterClose`` or a range named closed/blackout);
* ``intensity`` is the brightest component of the light (clipped to 1) and
  ``color`` the light divided by it, so ``light = color * intensity``; a
  dark head keeps the hue of its colour channels (white when they are dark too);
* ``pan`` / ``tilt``: degrees from the home (centre) position,
  ``(v - 0.5) * range`` with the pan and tilt ranges of the fixture's
  physical data; 0 for heads without the channel.

Channels a fixture shares between its heads (outside every head) act on
every head that lacks its own channel of that role.

:func:`beam_floor_points` projects beams onto the stage floor for a plan
view: at home a beam points straight down; tilt leans it away from vertical
towards its heading; at pan 0 the heading is downstage (towards the
audience, -y) and positive pan turns it anticlockwise seen from above.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.lighting.colors import parse_hex
from core.lighting.fixture_def import ChannelDef
from core.lighting.patch import UNIVERSE_CHANNELS, Rig

#: the light one unit of each mixing channel adds (linear RGB)
MIX_COLORS: dict[str, tuple[float, float, float]] = {
    "red": (1.0, 0.0, 0.0), "green": (0.0, 1.0, 0.0), "blue": (0.0, 0.0, 1.0), "white": (1.0, 1.0, 1.0),
    "amber": (1.0, 0.5, 0.0), "lime": (0.6, 1.0, 0.0), "uv": (0.25, 0.0, 0.5),
}
_CMY = ("cyan", "magenta", "yellow")
# level roles decoded per primitive, in this order (rows of the source table)
_ROLES = tuple(MIX_COLORS) + _CMY + ("pan", "tilt", "dimmer", "master")
_ROW = {r: i for i, r in enumerate(_ROLES)}
_MIX_MATRIX = np.asarray([MIX_COLORS[r] for r in MIX_COLORS], dtype=np.float32)  # [7, 3]


@dataclass
class StageLook:
    """Per primitive: ``color`` [P, 3] (brightest component 1), ``intensity`` [P], ``pan``/``tilt`` [P]
    degrees from home, ``moving`` [P] (has a pan or tilt channel)."""

    color: np.ndarray
    intensity: np.ndarray
    pan: np.ndarray
    tilt: np.ndarray
    moving: np.ndarray

    @property
    def light(self) -> np.ndarray:
        """[P, 3] the light as linear RGB 0..1: ``color * intensity``."""
        return self.color * self.intensity[:, None]

    @classmethod
    def dark(cls, size: int, moving: np.ndarray | None = None) -> "StageLook":
        z = np.zeros(size, dtype=np.float32)
        return cls(np.ones((size, 3), np.float32), z.copy(), z.copy(), z.copy(),
                   np.zeros(size, bool) if moving is None else moving.copy())


def _closed(ch: ChannelDef) -> np.ndarray:
    """bool [256]: True where the shutter value closes the beam."""
    out = np.zeros(256, dtype=bool)
    for r in ch.ranges:
        low = r.name.lower()
        if r.preset == "ShutterClose" or (not r.preset and ("closed" in low or "blackout" in low)):
            out[max(0, r.min) : min(255, r.max) + 1] = True
    return out


def _wheel(ch: ChannelDef) -> np.ndarray:
    """float32 [256, 3]: the colour shown for each value of a colour wheel channel."""
    out = np.ones((256, 3), dtype=np.float32)
    for r in ch.ranges:
        rgb = parse_hex(r.colors[0]) if r.colors else None
        if rgb is not None:
            out[max(0, r.min) : min(255, r.max) + 1] = rgb
    return out


class FixtureVisualizer:
    """Decodes DMX frames of a rig into a :class:`StageLook`."""

    def __init__(self, rig: Rig):
        self.rig = rig
        n = rig.size
        self.universes: list[int] = rig.patch.universes()
        row = {u: i for i, u in enumerate(self.universes)}
        self.frame_size = len(self.universes) * UNIVERSE_CHANNELS
        none = self.frame_size  # index of a zero appended to the flat frame
        self.coarse = np.full((len(_ROLES), n), none, dtype=np.int64)
        self.fine = np.full((len(_ROLES), n), -1, dtype=np.int64)
        self.invert = np.zeros((len(_ROLES), n), dtype=bool)
        self.present = np.zeros((len(_ROLES), n), dtype=bool)
        shutters: list[tuple[int, int, np.ndarray]] = []
        wheels: list[tuple[int, int, np.ndarray]] = []
        for f in rig.patch:
            d = rig.patch.definition_of(f)
            mode = d.mode(f.mode)
            chans = d.mode_channels(mode)
            base = row[f.universe] * UNIVERSE_CHANNELS + f.address - 1
            heads = [list(h) for h in mode.heads] or [list(range(len(chans)))]
            in_heads = {i for h in heads for i in h}
            shared = self._roles(chans, [i for i in range(len(chans)) if i not in in_heads])
            for h, prim in enumerate(rig.fixture_primitives[f.id]):
                own = self._roles(chans, heads[h] if h < len(heads) else [])
                drive = {**{r: i for r, i in shared.items() if r not in ("dimmer", "dimmer_fine")}, **own}
                for role in _ROLES[:-1]:
                    if role in drive:
                        self._source(_ROW[role], prim, base, chans, drive[role], drive.get(f"{role}_fine"))
                if "dimmer" in shared:
                    self._source(_ROW["master"], prim, base, chans, shared["dimmer"], shared.get("dimmer_fine"))
                if "shutter" in drive:
                    shutters.append((base + drive["shutter"], prim, _closed(chans[drive["shutter"]])))
                if "color_wheel" in drive:
                    wheels.append((base + drive["color_wheel"], prim, _wheel(chans[drive["color_wheel"]])))
        mix = self.present[: len(MIX_COLORS)].any(axis=0)
        self.cmy = self.present[_ROW["cyan"] : _ROW["yellow"] + 1].any(axis=0) & ~mix
        self.mixing = mix
        wheels = [w for w in wheels if not (mix[w[1]] or self.cmy[w[1]])]  # mixing heads ignore a wheel
        self.sh_addr = np.asarray([s[0] for s in shutters], dtype=np.int64)
        self.sh_prim = np.asarray([s[1] for s in shutters], dtype=np.int64)
        self.sh_closed = np.asarray([s[2] for s in shutters], dtype=bool).reshape(-1, 256)
        self.wh_addr = np.asarray([w[0] for w in wheels], dtype=np.int64)
        self.wh_prim = np.asarray([w[1] for w in wheels], dtype=np.int64)
        self.wh_rgb = np.asarray([w[2] for w in wheels], dtype=np.float32).reshape(-1, 256, 3)
        pan_range = np.where(self.present[_ROW["pan"]], rig.pan_range, 0.0)
        tilt_range = np.where(self.present[_ROW["tilt"]], rig.tilt_range, 0.0)
        self.ranges = np.stack([pan_range, tilt_range]).astype(np.float32)  # [2, P]
        self.moving = (self.ranges > 0).any(axis=0)

    @staticmethod
    def _roles(chans: list[ChannelDef], indices: list[int]) -> dict[str, int]:
        found: dict[str, int] = {}
        for i in indices:
            found.setdefault(chans[i].role, i)
        return found

    def _source(self, r: int, prim: int, base: int, chans: list[ChannelDef], coarse: int, fine: int | None) -> None:
        self.coarse[r, prim] = base + coarse
        self.fine[r, prim] = -1 if fine is None else base + fine
        self.invert[r, prim] = chans[coarse].invert
        self.present[r, prim] = True

    # ------------------------------------------------------------ decode
    def decode(self, frame: np.ndarray) -> StageLook:
        """``frame``: uint8 [universes, 512], rows in the order of :attr:`universes` (as DmxRenderer renders)."""
        flat = np.asarray(frame, dtype=np.uint8).reshape(-1)
        if flat.size != self.frame_size:
            raise ValueError(f"frame has {flat.size} channels, the rig needs {self.frame_size}")
        ext = np.concatenate([flat, np.zeros(1, np.uint8)]).astype(np.float32)
        hi = ext[self.coarse]  # [roles, P]
        lo = ext[np.maximum(self.fine, 0)]
        v = np.where(self.fine >= 0, (hi * 256.0 + lo) * np.float32(1.0 / 65535.0), hi * np.float32(1.0 / 255.0))
        v = np.where(self.invert, 1.0 - v, v)
        k = len(MIX_COLORS)
        rgb = v[:k].T @ _MIX_MATRIX  # [P, 3]
        rgb = np.where(self.cmy[:, None], 1.0 - v[k : k + 3].T, rgb)
        plain = ~(self.mixing | self.cmy)
        rgb[plain] = 1.0  # white; a colour wheel (below) says otherwise
        if len(self.wh_addr):
            rgb[self.wh_prim] = self.wh_rgb[np.arange(len(self.wh_addr)), flat[self.wh_addr]]
        level = np.ones(rgb.shape[0], dtype=np.float32)
        for role in ("dimmer", "master"):
            r = _ROW[role]
            level = level * np.where(self.present[r], v[r], 1.0)
        if len(self.sh_addr):
            closed = self.sh_closed[np.arange(len(self.sh_addr)), flat[self.sh_addr]]
            level[self.sh_prim[closed]] = 0.0
        hue_top = rgb.max(axis=1)
        hue = np.where(hue_top[:, None] > 0, rgb / np.where(hue_top > 0, hue_top, 1.0)[:, None], 1.0)
        light = rgb * level[:, None]
        top = light.max(axis=1)
        color = np.where(top[:, None] > 0, light / np.where(top > 0, top, 1.0)[:, None], hue)
        pan_tilt = (v[[_ROW["pan"], _ROW["tilt"]]] - 0.5) * self.ranges
        return StageLook(color.astype(np.float32), np.minimum(top, 1.0).astype(np.float32),
                         pan_tilt[0].astype(np.float32), pan_tilt[1].astype(np.float32), self.moving.copy())

    def decode_universes(self, frames: dict[int, np.ndarray]) -> StageLook:
        """The same from ``{universe: 512 values}`` (as :class:`core.output.source.ShowDmxSource` gives;
        a universe that is missing counts as all zero)."""
        out = np.zeros((len(self.universes), UNIVERSE_CHANNELS), dtype=np.uint8)
        for i, u in enumerate(self.universes):
            data = frames.get(u)
            if data is not None:
                out[i, : min(len(data), UNIVERSE_CHANNELS)] = np.asarray(data, dtype=np.uint8)[:UNIVERSE_CHANNELS]
        return self.decode(out)


def beam_floor_points(positions: np.ndarray, pan: np.ndarray, tilt: np.ndarray, max_reach: float = 20.0,
                      floor_length: float = 3.0) -> np.ndarray:
    """[P, 2] where each beam meets the floor (x, y in metres), seen from above.

    ``positions`` [P, 3] (x, y, z metres); ``pan``/``tilt`` degrees from home.
    A head hung at height z reaches ``z * tan(tilt)`` from below itself
    (at most ``max_reach``, and that far for a beam at or above horizontal);
    a head on the floor (z <= 0) is drawn ``floor_length * sin(tilt)`` long.
    """
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    phi = np.radians(np.asarray(pan, dtype=np.float64))
    theta = np.radians(np.asarray(tilt, dtype=np.float64))
    z = pos[:, 2]
    steep = np.abs(theta) < np.radians(89.0)
    hung = np.where(steep, z * np.tan(np.where(steep, theta, 0.0)), np.sign(theta) * max_reach)
    reach = np.where(z > 0, np.clip(hung, -max_reach, max_reach), floor_length * np.sin(theta))
    heading = np.stack([np.sin(phi), -np.cos(phi)], axis=1)
    return pos[:, :2] + heading * reach[:, None]
