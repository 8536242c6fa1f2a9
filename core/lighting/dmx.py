"""DMX frames: the composite buffer at one instant, mapped to channel values.

:class:`DmxRenderer` compiles the patch once into flat index arrays (where each
driven channel reads its value from, and where it writes it); rendering a
frame is then a handful of numpy gathers and scatters over all universes at
once, whatever the number of fixtures.

How capabilities become channel values (v in 0..1):

* 8-bit channels get ``floor(v * 255 + 0.5)``; a coarse/fine pair (``pan`` +
  ``pan_fine`` ...) gets ``n = floor(v * 65535 + 0.5)``, coarse ``n >> 8``,
  fine ``n & 0xFF`` - so 0.5 is 0x80/0x00 and 1.0 is 0xFF/0xFF. Inverted
  channels (zoom big-to-small, focus far-to-near) use ``1 - v``.
* Intensity: effective intensity ``E = intensity * grand master`` (for heads
  that show colour only through a colour wheel, also times the brightest
  component of the colour). A head's own dimmer channel gets ``E``; a fixture
  master dimmer shared by heads without their own gets the largest ``E`` of
  those heads (and gets full when every head has its own dimmer).
* Colour mixing heads (RGB, RGBW, RGBA, CMY...): the colour is scaled so that
  the light equals ``E * colour``: by ``E`` (the *virtual dimmer*) when the
  fixture has no dimmer channel, by ``E / master`` under a shared master, not
  at all under the head's own dimmer. White is taken out first
  (``w = min(r, g, b)``, subtracted from r, g, b), then amber (hue 1 : 0.5 : 0,
  ``a = min(r, 2 g)``); CMY channels get ``1 - r``, ``1 - g``, ``1 - b``.
* Colour wheel / macro heads (no mixing channels): the range whose colour is
  nearest to the wanted hue (colour divided by its brightest component; black
  or no colour counts as white) is selected.
* Strobe: 0 (or no layer) gives the channel's open value, 0..1 runs from the
  slowest to the fastest strobe value of its range.
* Zoom, focus without a layer, and every channel with no role, stay at the
  channel's default value; position without a layer is the centre.
* Channels outside any head are shared: heads other than the first do not drive
  them (except the master dimmer, see above).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.lighting.buffer import BufferSample
from core.lighting.fixture_def import MIX_ROLES, ChannelDef
from core.lighting.patch import UNIVERSE_CHANNELS, Rig

_MIX = {r: i for i, r in enumerate(MIX_ROLES)}  # red green blue white amber uv lime cyan magenta yellow
_NMIX = len(MIX_ROLES)
_CMY = {"cyan", "magenta", "yellow"}
_RGB = {"red", "green", "blue"}
# source blocks after the mix matrix: pan, tilt, zoom, focus (each N long), then dimmer levels
_AXES = {"pan": 0, "tilt": 1, "zoom": 2, "focus": 3}


def to_8bit(v: np.ndarray) -> np.ndarray:
    return np.floor(np.clip(v, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def to_16bit(v: np.ndarray) -> np.ndarray:
    return np.floor(np.clip(v, 0.0, 1.0) * 65535.0 + 0.5).astype(np.uint16)


@dataclass
class _Lists:
    base: list[tuple[int, int]] = field(default_factory=list)  # (flat address, default)
    lvl8: list[tuple[int, int, bool, int]] = field(default_factory=list)  # addr, source, invert, default
    lvl16: list[tuple[int, int, int, bool, int]] = field(default_factory=list)  # coarse, fine, source, invert, default16
    strobe: list[tuple[int, int, int, int, int]] = field(default_factory=list)  # addr, prim, open, slow, fast
    wheel: list[tuple[int, int, list]] = field(default_factory=list)  # addr, prim, [(rgb, value)]
    gobo: list[tuple[int, int, list[int]]] = field(default_factory=list)  # addr, prim, slot values
    dim_sources: list[list[int]] = field(default_factory=list)  # per dimmer level: primitives (N+1 = full)


class DmxRenderer:
    """Renders every patched universe from a :class:`BufferSample`."""

    def __init__(self, rig: Rig):
        self.rig = rig
        n = rig.size
        self.universes: list[int] = rig.patch.universes()
        self._row = {u: i for i, u in enumerate(self.universes)}
        self.wheel_only = np.zeros(n, dtype=bool)
        self.has_white = np.zeros(n, dtype=bool)
        self.has_amber = np.zeros(n, dtype=bool)
        self.is_cmy = np.zeros(n, dtype=bool)
        self.driver = np.full(n, -1, dtype=np.int64)  # dimmer level that lights each primitive
        lists = _Lists()
        for f in rig.patch:
            self._compile_fixture(f, lists)
        self._finish(lists)

    # ------------------------------------------------------------ compile
    def _compile_fixture(self, f, lists: _Lists) -> None:
        rig, n = self.rig, self.rig.size
        d = rig.patch.definition_of(f)
        mode = d.mode(f.mode)
        chans: list[ChannelDef] = d.mode_channels(mode)
        base = self._row[f.universe] * UNIVERSE_CHANNELS + f.address - 1
        for i, ch in enumerate(chans):
            lists.base.append((base + i, ch.default))
        heads = [list(h) for h in mode.heads] or [list(range(len(chans)))]
        in_heads = {i for h in heads for i in h}
        shared = [i for i in range(len(chans)) if i not in in_heads]
        prims = rig.fixture_primitives[f.id]

        def roles(indices: list[int]) -> dict[str, int]:
            found: dict[str, int] = {}
            for i in indices:
                found.setdefault(chans[i].role, i)
            return found

        shared_roles = roles(shared)
        head_roles = [roles(h) for h in heads]
        master = shared_roles.get("dimmer")
        master_sources: list[int] = []
        for h, hr in enumerate(head_roles):
            p = prims[h]
            # what this head drives: its own channels, and the shared ones if it is the first head
            drive = dict(hr)
            if h == 0:
                for role, i in shared_roles.items():
                    if role not in ("dimmer", "dimmer_fine"):
                        drive.setdefault(role, i)
            mix = [r for r in drive if r in _MIX]
            if "dimmer" in hr:
                self.driver[p] = len(lists.dim_sources)
                lists.dim_sources.append([p])
                self._level(lists, base, chans, hr["dimmer"], hr.get("dimmer_fine"), n * (_NMIX + 4) + self.driver[p])
            elif master is not None:
                master_sources.append(p)
            self.has_white[p] = "white" in drive
            self.has_amber[p] = "amber" in drive
            self.is_cmy[p] = bool(_CMY & set(mix)) and not (_RGB & set(mix))
            self.wheel_only[p] = not mix and "color_wheel" in drive
            for role in mix:
                self._level(lists, base, chans, drive[role], drive.get(f"{role}_fine"), p * _NMIX + _MIX[role])
            for role, axis in _AXES.items():
                if role in drive:
                    self._level(lists, base, chans, drive[role], drive.get(f"{role}_fine"), n * (_NMIX + axis) + p)
            if "shutter" in drive:
                open_v, slow, fast = chans[drive["shutter"]].strobe_map()
                lists.strobe.append((base + drive["shutter"], p, open_v, slow, fast))
            if self.wheel_only[p]:
                palette = chans[drive["color_wheel"]].wheel_palette()
                if palette:
                    lists.wheel.append((base + drive["color_wheel"], p, palette))
            if "gobo" in drive:
                lists.gobo.append((base + drive["gobo"], p, chans[drive["gobo"]].gobo_slots()))
        if master is not None:
            level = len(lists.dim_sources)
            lists.dim_sources.append(master_sources or [n + 1])  # every head has its own dimmer: full
            for p in master_sources:
                self.driver[p] = level
            self._level(lists, base, chans, master, shared_roles.get("dimmer_fine"), n * (_NMIX + 4) + level)

    def _level(self, lists: _Lists, base: int, chans: list[ChannelDef], coarse: int, fine: int | None, source: int) -> None:
        ch = chans[coarse]
        if fine is not None:
            default16 = ch.default * 256 + chans[fine].default
            lists.lvl16.append((base + coarse, base + fine, source, ch.invert, default16))
        else:
            lists.lvl8.append((base + coarse, source, ch.invert, ch.default))

    def _finish(self, lists: _Lists) -> None:
        n = self.rig.size
        self.frame_size = len(self.universes) * UNIVERSE_CHANNELS
        self.base = np.zeros(self.frame_size, dtype=np.uint8)
        if lists.base:
            a, v = zip(*lists.base)
            self.base[list(a)] = v

        def cols(rows, k, dtype=np.int64):
            return np.asarray([r[k] for r in rows], dtype=dtype)

        self.l8_addr, self.l8_src = cols(lists.lvl8, 0), cols(lists.lvl8, 1)
        self.l8_inv, self.l8_def = cols(lists.lvl8, 2, bool), cols(lists.lvl8, 3, np.uint8)
        self.l16_hi, self.l16_lo, self.l16_src = cols(lists.lvl16, 0), cols(lists.lvl16, 1), cols(lists.lvl16, 2)
        self.l16_inv, self.l16_def = cols(lists.lvl16, 3, bool), cols(lists.lvl16, 4, np.uint16)
        self.st_addr, self.st_prim = cols(lists.strobe, 0), cols(lists.strobe, 1)
        self.st_open = cols(lists.strobe, 2, np.float64)
        self.st_slow, self.st_fast = cols(lists.strobe, 3, np.float64), cols(lists.strobe, 4, np.float64)
        # dimmer levels: padded source matrix; index n holds 0, n + 1 holds full
        width = max((len(s) for s in lists.dim_sources), default=1)
        self.dim_src = np.full((len(lists.dim_sources), width), n, dtype=np.int64)
        for j, s in enumerate(lists.dim_sources):
            self.dim_src[j, : len(s)] = s
        # colour wheels: padded palettes (missing entries far away)
        k = max((len(w[2]) for w in lists.wheel), default=1)
        self.wh_addr, self.wh_prim = cols(lists.wheel, 0), cols(lists.wheel, 1)
        self.wh_rgb = np.full((len(lists.wheel), k, 3), 1e6, dtype=np.float32)
        self.wh_val = np.zeros((len(lists.wheel), k), dtype=np.uint8)
        for i, (_, _, palette) in enumerate(lists.wheel):
            self.wh_rgb[i, : len(palette)] = [rgb for rgb, _ in palette]
            self.wh_val[i, : len(palette)] = [v for _, v in palette]
        # gobos: slot tables padded with their last slot
        s = max((len(g[2]) for g in lists.gobo), default=1)
        self.gb_addr, self.gb_prim = cols(lists.gobo, 0), cols(lists.gobo, 1)
        self.gb_val = np.zeros((len(lists.gobo), s), dtype=np.uint8)
        self.gb_count = np.asarray([len(g[2]) for g in lists.gobo], dtype=np.int64)
        for i, (_, _, slots) in enumerate(lists.gobo):
            self.gb_val[i] = slots + [slots[-1]] * (s - len(slots))
        self.dimmer_levels = len(lists.dim_sources)

    # ------------------------------------------------------------ render
    def render(self, sample: BufferSample, grand_master: float = 1.0) -> np.ndarray:
        """uint8 [universes, 512]; row ``i`` is universe ``self.universes[i]``."""
        n = self.rig.size
        gm = float(np.clip(grand_master, 0.0, 1.0))
        v, pres = sample.values, sample.present
        color = v["color"]
        intensity = v["intensity"][:, 0] * gm
        brightest = color.max(axis=1)
        eff = intensity * np.where(self.wheel_only & pres["color"], brightest, 1.0)
        # dimmer levels: the largest effective intensity of the heads each one lights
        eff_ext = np.concatenate([eff, np.array([0.0, gm], dtype=eff.dtype)])
        if self.dim_src.shape[1] == 1:  # every dimmer lights one head (or is a full master)
            levels = eff_ext[self.dim_src[:, 0]]
        else:
            levels = eff_ext[self.dim_src].max(axis=1) if self.dimmer_levels else np.zeros(0, eff.dtype)
        drv = self.driver
        lit = levels[np.maximum(drv, 0)] if self.dimmer_levels else np.zeros(n, eff.dtype)
        scale = np.where(drv >= 0, np.divide(eff, lit, out=np.ones_like(eff), where=lit > 0), eff)
        rgb = color * scale[:, None]
        # mixing: white, then amber, out of RGB; CMY as the complement
        mix = np.zeros((n, _NMIX), dtype=np.float32)
        w = np.where(self.has_white, rgb.min(axis=1), 0.0)
        r, g, b = rgb[:, 0] - w, rgb[:, 1] - w, rgb[:, 2] - w
        a = np.where(self.has_amber, np.minimum(r, 2.0 * g), 0.0)
        r, g = r - a, g - 0.5 * a
        mix[:, 0], mix[:, 1], mix[:, 2], mix[:, 3], mix[:, 4] = r, g, b, w, a
        cmy = np.where(self.is_cmy[:, None], 1.0 - rgb, 0.0)
        mix[:, 7:10] = cmy
        axes = [v["position"][:, 0], v["position"][:, 1], v["zoom"][:, 0], v["focus"][:, 0]]
        src = np.concatenate([mix.ravel()] + axes + [levels.astype(np.float32)])
        # where zoom/focus have no layer the channel keeps its default
        optional = np.concatenate([np.zeros(n * (_NMIX + 2), bool), ~pres["zoom"], ~pres["focus"],
                                   np.zeros(len(levels), bool)])

        frame = self.base.copy()
        if len(self.l8_addr):
            val = src[self.l8_src]
            val = np.where(self.l8_inv, 1.0 - val, val)
            out = to_8bit(val)
            frame[self.l8_addr] = np.where(optional[self.l8_src], self.l8_def, out)
        if len(self.l16_hi):
            val = src[self.l16_src]
            val = np.where(self.l16_inv, 1.0 - val, val)
            out = to_16bit(val)
            out = np.where(optional[self.l16_src], self.l16_def, out)
            frame[self.l16_hi] = (out >> 8).astype(np.uint8)
            frame[self.l16_lo] = (out & 0xFF).astype(np.uint8)
        if len(self.st_addr):
            s = np.clip(v["strobe"][self.st_prim, 0], 0.0, 1.0)
            val = np.where(s > 0, self.st_slow + s * (self.st_fast - self.st_slow), self.st_open)
            frame[self.st_addr] = np.floor(val + 0.5).astype(np.uint8)
        if len(self.wh_addr):
            want = color[self.wh_prim]
            top = want.max(axis=1, keepdims=True)
            hue = np.where(top > 0, want / np.where(top > 0, top, 1.0), 1.0)
            dist = ((self.wh_rgb - hue[:, None, :]) ** 2).sum(axis=2)
            pick = dist.argmin(axis=1)
            frame[self.wh_addr] = self.wh_val[np.arange(len(pick)), pick]
        if len(self.gb_addr):
            slot = np.clip(np.rint(v["gobo"][self.gb_prim, 0]).astype(np.int64), 0, self.gb_count - 1)
            frame[self.gb_addr] = self.gb_val[np.arange(len(slot)), slot]
        return frame.reshape(len(self.universes), UNIVERSE_CHANNELS)

    def universe(self, frame: np.ndarray, number: int) -> np.ndarray:
        """The 512 values of universe ``number`` (all zero when nothing is patched there)."""
        row = self._row.get(number)
        if row is None:
            return np.zeros(UNIVERSE_CHANNELS, dtype=np.uint8)
        return frame[row]
