"""Colour look-up tables: Adobe / Resolve ``.cube`` files, parsed and applied.

Format (what :func:`parse_cube` accepts): one keyword or data line per line,
``#`` starts a comment, blank lines are ignored.

* ``TITLE "text"``
* ``LUT_3D_SIZE n`` (2..256) or ``LUT_1D_SIZE n`` (2..65536), exactly one of them;
* ``DOMAIN_MIN r g b`` / ``DOMAIN_MAX r g b`` (default 0 0 0 / 1 1 1), or
  Resolve's ``LUT_1D_INPUT_RANGE lo hi`` / ``LUT_3D_INPUT_RANGE lo hi``;
* then the table: ``n`` (1D) or ``n**3`` (3D) lines of three numbers, red
  changing fastest, then green, then blue.

A malformed file raises :class:`~core.errors.LumaError` naming the file and
the line. :func:`load_cube` caches parsed tables by path, modification time
and size, so an edited file is read again.

Applying (:meth:`Lut.apply`, float32 RGB in, float32 RGB out): input is
mapped from the domain to 0..1 and clipped; a 3D table is interpolated
trilinearly with two ``cv2.remap`` passes (bilinear in red/green within the
two neighbouring blue slices, then a linear mix between them); a 1D table is
interpolated linearly per channel. The LUT sees whatever values it is given:
the compositor hands it sRGB-encoded values, which is what display LUTs
expect.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from core.errors import LumaError

__all__ = ["Lut", "parse_cube", "load_cube", "identity_cube_text"]

_MAX_3D = 256
_MAX_1D = 65536


@dataclass(frozen=True)
class Lut:
    """A parsed LUT. ``table`` is (n, 3) for 1D, (n, n, n, 3) indexed [b, g, r] for 3D."""

    title: str
    dims: int  # 1 or 3
    size: int
    domain_min: tuple[float, float, float]
    domain_max: tuple[float, float, float]
    table: np.ndarray

    def _normalised(self, rgb: np.ndarray) -> np.ndarray:
        lo = np.asarray(self.domain_min, np.float32)
        hi = np.asarray(self.domain_max, np.float32)
        if np.array_equal(lo, (0, 0, 0)) and np.array_equal(hi, (1, 1, 1)):
            return np.clip(rgb, 0.0, 1.0)
        return np.clip((rgb - lo) / (hi - lo), 0.0, 1.0).astype(np.float32, copy=False)

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        """The LUT's output for float32 RGB ``rgb`` (HxWx3); a new array."""
        x = self._normalised(np.asarray(rgb, np.float32))
        if self.dims == 1:
            return _apply_1d(self.table, x)
        if self.size * self.size >= _REMAP_LIMIT:
            return _apply_3d_gather(self.table, x)
        return _apply_3d(self.table, x)


def _apply_1d(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    n = table.shape[0]
    grid = np.linspace(0.0, 1.0, n, dtype=np.float32)
    out = np.empty_like(x)
    for c in range(3):  # three channels, each vectorised over every pixel
        out[..., c] = np.interp(x[..., c], grid, table[:, c])
    return out


_REMAP_LIMIT = 32767  # cv2.remap wants images narrower than SHRT_MAX


@functools.lru_cache(maxsize=16)
def _remap_image_of(table: "_Hashable") -> np.ndarray:
    n = table.array.shape[0]
    return np.ascontiguousarray(table.array.transpose(1, 0, 2, 3).reshape(n, n * n, 3))


class _Hashable:
    """Wraps a read-only table so lru_cache can key on its identity while keeping it alive."""

    __slots__ = ("array",)

    def __init__(self, array: np.ndarray):
        self.array = array

    def __hash__(self) -> int:
        return id(self.array)

    def __eq__(self, other) -> bool:
        return isinstance(other, _Hashable) and other.array is self.array


def _remap_image(table: np.ndarray) -> np.ndarray:
    """The 3D table laid out for cv2.remap: image[g, b * n + r] (n rows, n*n columns)."""
    return _remap_image_of(_Hashable(table))


def _apply_3d_gather(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Trilinear interpolation by gathering the 8 corners (for tables too big for cv2.remap)."""
    n = table.shape[0]
    flat = table.reshape(-1, 3)
    s = np.float32(n - 1)
    pos = x.reshape(-1, 3) * s
    i0 = np.minimum(np.floor(pos), n - 2).astype(np.int64)
    f = (pos - i0).astype(np.float32)
    base = i0[:, 2] * n * n + i0[:, 1] * n + i0[:, 0]
    out = np.zeros_like(pos)
    for db in (0, 1):
        wb = f[:, 2] if db else 1 - f[:, 2]
        for dg in (0, 1):
            wg = f[:, 1] if dg else 1 - f[:, 1]
            for dr in (0, 1):
                wr = f[:, 0] if dr else 1 - f[:, 0]
                out += flat[base + db * n * n + dg * n + dr] * (wb * wg * wr)[:, None]
    return out.reshape(x.shape)


def _apply_3d(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    n = table.shape[0]
    img = _remap_image(table)
    h, w = x.shape[:2]
    s = np.float32(n - 1)
    r = x[..., 0] * s
    g = np.ascontiguousarray(x[..., 1] * s)
    b = x[..., 2] * s
    b0 = np.minimum(np.floor(b), s - 1)
    fb = (b - b0)[..., None]
    # red is the column inside a blue slice; the slices sit side by side
    map_x0 = np.ascontiguousarray(r + b0 * np.float32(n))
    map_x1 = map_x0 + np.float32(n)
    lo = cv2.remap(img, map_x0, g, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    hi = cv2.remap(img, map_x1, g, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    out = lo + (hi - lo) * fb
    return out.reshape(h, w, 3)


def _floats(parts: list[str], count: int, where: str) -> tuple[float, ...]:
    if len(parts) != count:
        raise LumaError(f"{where}: expected {count} numbers, found {len(parts)}")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        raise LumaError(f"{where}: {' '.join(parts)!r} is not a list of numbers") from None
    if not all(np.isfinite(values)):
        raise LumaError(f"{where}: numbers must be finite")
    return values


def _bulk_rows(lines: list[str]) -> np.ndarray | None:
    """The table rows when every remaining line is a clean row of three numbers, else None."""
    if any("#" in line for line in lines):
        return None
    split = [parts for parts in (line.split() for line in lines) if parts]
    if not all(len(parts) == 3 for parts in split):
        return None
    try:
        rows = np.array(split, dtype=np.float64)
    except ValueError:
        return None
    if not np.isfinite(rows).all():
        return None
    return rows.reshape(-1, 3)


def parse_cube(text: str, name: str = "LUT") -> Lut:
    """Parse the text of a .cube file (``name`` is used in error messages)."""
    title = ""
    size1 = size3 = None
    dmin, dmax = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    rows: list[tuple[float, ...]] = []
    table = None
    lines = text.splitlines()
    for lineno, raw in enumerate(lines, start=1):
        where = f"{name} line {lineno}"
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        head = line.split(None, 1)[0]
        if head[0].isalpha() or head[0] == "_":
            if rows:
                raise LumaError(f"{where}: keyword {head} after the table started")
            rest = line[len(head):].strip()
            key = head.upper()
            if key == "TITLE":
                title = rest.strip('"')
            elif key in ("LUT_3D_SIZE", "LUT_1D_SIZE"):
                try:
                    n = int(rest)
                except ValueError:
                    raise LumaError(f"{where}: {key} needs a whole number, not {rest!r}") from None
                limit = _MAX_3D if key == "LUT_3D_SIZE" else _MAX_1D
                if not 2 <= n <= limit:
                    raise LumaError(f"{where}: {key} must lie in 2..{limit}, not {n}")
                if size1 is not None or size3 is not None:
                    raise LumaError(f"{where}: the size is given twice (a file holds one table)")
                if key == "LUT_3D_SIZE":
                    size3 = n
                else:
                    size1 = n
            elif key == "DOMAIN_MIN":
                dmin = _floats(rest.split(), 3, where)
            elif key == "DOMAIN_MAX":
                dmax = _floats(rest.split(), 3, where)
            elif key in ("LUT_1D_INPUT_RANGE", "LUT_3D_INPUT_RANGE"):
                lo, hi = _floats(rest.split(), 2, where)
                dmin, dmax = (lo,) * 3, (hi,) * 3
            else:
                raise LumaError(f"{where}: unknown keyword {head!r}")
            continue
        if size1 is None and size3 is None:
            raise LumaError(f"{where}: table data before LUT_3D_SIZE or LUT_1D_SIZE")
        if not rows:
            # the table starts: read it in one go when it is clean (the usual case);
            # otherwise go on line by line to say where it is not
            table = _bulk_rows(lines[lineno - 1:])
            if table is not None:
                break
        rows.append(_floats(line.split(), 3, where))
    if size1 is None and size3 is None:
        raise LumaError(f"{name}: no LUT_3D_SIZE or LUT_1D_SIZE line (not a .cube file?)")
    if any(hi <= lo for lo, hi in zip(dmin, dmax)):
        raise LumaError(f"{name}: DOMAIN_MAX must be above DOMAIN_MIN in every channel")
    dims, n = (3, size3) if size3 is not None else (1, size1)
    expected = n ** 3 if dims == 3 else n
    if table is None:
        table = np.asarray(rows, np.float64).reshape(-1, 3)
    if len(table) != expected:
        raise LumaError(f"{name}: the table has {len(table)} rows; a {dims}D LUT of size {n} needs {expected}")
    table = table.astype(np.float32)
    if dims == 3:
        table = table.reshape(n, n, n, 3)  # red fastest: [b, g, r]
    table.setflags(write=False)
    return Lut(title, dims, n, tuple(dmin), tuple(dmax), table)


_cache: OrderedDict[tuple, Lut] = OrderedDict()
_cache_lock = threading.Lock()
_CACHE_SIZE = 16


def load_cube(path) -> Lut:
    """Read and parse a .cube file, cached by path + modification time + size."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise LumaError(f"{p.name}: cannot read the LUT file ({exc.strerror or exc})") from exc
    key = (str(p.resolve()), st.st_mtime_ns, st.st_size)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    try:
        text = p.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise LumaError(f"{p.name}: cannot read the LUT file ({exc.strerror or exc})") from exc
    lut = parse_cube(text, p.name)
    with _cache_lock:
        _cache[key] = lut
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return lut


def identity_cube_text(size: int = 17, title: str = "identity") -> str:
    """The text of an identity 3D .cube of ``size`` (handy for tests and as a template)."""
    grid = np.linspace(0.0, 1.0, size)
    b, g, r = np.meshgrid(grid, grid, grid, indexing="ij")
    rows = np.stack([r.ravel(), g.ravel(), b.ravel()], axis=1)
    lines = [f'TITLE "{title}"', f"LUT_3D_SIZE {size}"]
    lines += [f"{x:.6f} {y:.6f} {z:.6f}" for x, y, z in rows]
    return "\n".join(lines) + "\n"
