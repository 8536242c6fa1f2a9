"""The plan's fixtures as one picture, recoloured per frame with numpy.

The fixtures only change colour from one frame to the next, so the picture
is built in two steps:

* :meth:`PlanRaster.layout` (when the size, zoom, pan or a position changes):
  the static layer - whatever the caller paints with QPainter (background,
  grid, rings, labels) - and, for every fixture head, the flat indices of the
  pixels its mark covers with their coverage (1 inside, 0..1 on the
  antialiased edge) against that layer;
* :meth:`PlanRaster.render` (every frame): a scatter of the heads' packed
  colours into the covered pixels and a blend on the edge pixels; the result
  is a QImage the widget draws with a single ``drawImage``.

Beams (lines from a head to where its beam meets the floor, with a spot
there) are rasterised the same way, under the marks, and taken out again
at the next frame.

Marks are discs of radius ``radius`` (device pixels, centred on the middle of
a pixel, so a head's colour is exact at its centre pixel) or squares of side
``2 * cell_half + 1`` for the heads of multi-head fixtures. Pixels are
premultiplied ARGB, so the static layer may be transparent (an overlay).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtGui import QImage, QPainter

DISC, CELL = 0, 1


def _stamp(kind: int, radius: float, cell_half: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(dy, dx, coverage) of one mark around its centre pixel."""
    if kind == CELL:
        k = max(0, int(cell_half))
        dy, dx = np.mgrid[-k : k + 1, -k : k + 1]
        return dy.ravel(), dx.ravel(), np.ones(dy.size, dtype=np.float32)
    reach = int(np.ceil(radius + 0.5))
    dy, dx = np.mgrid[-reach : reach + 1, -reach : reach + 1]
    cover = np.clip(radius + 0.5 - np.hypot(dx, dy), 0.0, 1.0).astype(np.float32)
    keep = cover > 0
    return dy[keep], dx[keep], cover[keep]


def _premultiplied(rgb: np.ndarray, a: float) -> np.ndarray:
    """float32 [N, 4] B, G, R, A (premultiplied by ``a``) from uint8 RGB."""
    out = np.empty((len(rgb), 4), dtype=np.float32)
    out[:, 0], out[:, 1], out[:, 2] = rgb[:, 2], rgb[:, 1], rgb[:, 0]
    out[:, :3] *= a
    out[:, 3] = 255.0 * a
    return out


def _pack(bgra: np.ndarray) -> np.ndarray:
    """float [N, 4] B, G, R, A -> uint32 [N] pixels."""
    return np.floor(np.clip(bgra, 0.0, 255.0) + 0.5).astype(np.uint8).view(np.uint32).reshape(-1)


class PlanRaster:
    def __init__(self) -> None:
        self.width = self.height = 0
        self.dpr = 1.0
        self.size = 0  # heads laid out
        self._bg: np.ndarray | None = None  # uint32 [H * W] static layer
        self._buf: np.ndarray | None = None  # uint32 [H * W] what is drawn (keeps the QImage's pixels alive)
        self._image: QImage | None = None
        self._in_idx = self._in_head = np.zeros(0, np.int64)  # fully covered pixels
        self._edge_idx = self._edge_head = np.zeros(0, np.int64)
        self._edge_cover = np.zeros(0, np.float32)
        self._edge_bg = np.zeros((0, 4), np.float32)  # premultiplied B, G, R, A of the static layer there
        self.centres = np.zeros((0, 2), np.int64)  # device pixel of each head's centre (x, y)
        self._beam_idx = np.zeros(0, np.int64)  # pixels the last frame's beams drew

    # ------------------------------------------------------------ layout
    def layout(self, width: int, height: int, dpr: float, centres: np.ndarray, kinds: np.ndarray, radius: float,
               cell_half: int, paint_static: Callable[[QPainter], None]) -> None:
        """Build the static layer (``paint_static`` paints in logical coordinates) and the marks.

        ``centres``: [P, 2] logical coordinates of the heads; ``kinds``: [P] DISC or CELL.
        """
        w, h = max(1, int(round(width * dpr))), max(1, int(round(height * dpr)))
        self.width, self.height, self.dpr = w, h, float(dpr)
        static = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
        static.setDevicePixelRatio(dpr)
        static.fill(0)
        painter = QPainter(static)
        try:
            paint_static(painter)
        finally:
            painter.end()
        self._bg = np.frombuffer(static.constBits(), dtype=np.uint32, count=w * h).copy()
        self._buf = self._bg.copy()
        self._beam_idx = np.zeros(0, np.int64)
        self._image = QImage(self._buf.data, w, h, w * 4, QImage.Format.Format_ARGB32_Premultiplied)
        self._image.setDevicePixelRatio(dpr)

        centres = np.asarray(centres, dtype=np.float64).reshape(-1, 2)
        kinds = np.asarray(kinds, dtype=np.int64).reshape(-1)
        self.size = len(centres)
        self.centres = np.floor(centres * dpr).astype(np.int64)
        idx_parts, head_parts, cover_parts = [], [], []
        for kind in (DISC, CELL):
            heads = np.flatnonzero(kinds == kind)
            if not len(heads):
                continue
            dy, dx, cover = _stamp(kind, radius * dpr, int(round(cell_half * dpr)))
            x = self.centres[heads, 0][:, None] + dx[None, :]
            y = self.centres[heads, 1][:, None] + dy[None, :]
            inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
            idx_parts.append((y * w + x)[inside])
            head_parts.append(np.broadcast_to(heads[:, None], x.shape)[inside])
            cover_parts.append(np.broadcast_to(cover[None, :], x.shape)[inside])
        idx = np.concatenate(idx_parts) if idx_parts else np.zeros(0, np.int64)
        head = np.concatenate(head_parts) if head_parts else np.zeros(0, np.int64)
        cover = np.concatenate(cover_parts) if cover_parts else np.zeros(0, np.float32)
        full = cover >= 1.0
        self._in_idx, self._in_head = idx[full], head[full]
        edge = ~full
        self._edge_idx, self._edge_head, self._edge_cover = idx[edge], head[edge], cover[edge]
        self._edge_bg = self._bg[self._edge_idx].view(np.uint8).reshape(-1, 4).astype(np.float32)
        # a pixel a later mark fully covers must not be blended by an earlier mark's edge afterwards
        self._edge_keep = ~np.isin(self._edge_idx, self._in_idx)

    # ------------------------------------------------------------ frames
    def render(self, colors: np.ndarray, alpha: float = 1.0, beams: tuple | None = None) -> QImage | None:
        """Recolour the marks and draw the beams under them.

        ``colors``: uint8 [P, 3] RGB of the heads; ``alpha``: opacity of every mark
        and beam (0..1); ``beams``: (start [B, 2], end [B, 2], colours uint8 [B, 3])
        in logical coordinates, or None.
        """
        if self._image is None or self._buf is None or self._bg is None:
            return None
        c = np.asarray(colors, dtype=np.uint8).reshape(-1, 3)
        if len(c) != self.size:
            raise ValueError(f"{len(c)} colours for {self.size} fixture heads")
        a = float(np.clip(alpha, 0.0, 1.0))
        buf, bg = self._buf, self._bg
        if len(self._beam_idx):  # last frame's beams: back to the static layer
            buf[self._beam_idx] = bg[self._beam_idx]
            self._beam_idx = np.zeros(0, np.int64)
        if beams is not None and len(beams[0]):
            self._draw_beams(*beams, a)
        bgra = _premultiplied(c, a)
        if len(self._in_idx):
            if a >= 1.0:
                packed = np.floor(bgra + 0.5).astype(np.uint8).view(np.uint32).reshape(-1)
                buf[self._in_idx] = packed[self._in_head]
            else:  # over a partly transparent layer: premultiplied "over"
                under = bg[self._in_idx].view(np.uint8).reshape(-1, 4).astype(np.float32)
                buf[self._in_idx] = _pack(bgra[self._in_head] + under * (1.0 - a))
        if len(self._edge_idx):
            k = self._edge_cover[:, None]
            out = bgra[self._edge_head] * k + self._edge_bg * (1.0 - k * a)
            keep = self._edge_keep
            buf[self._edge_idx[keep]] = _pack(out)[keep]
        return self._image

    def _draw_beams(self, start: np.ndarray, end: np.ndarray, colors: np.ndarray, a: float) -> None:
        """Antialiased 2-pixel lines from ``start`` to ``end`` and a spot at each end (vectorised)."""
        w, h, dpr = self.width, self.height, self.dpr
        p0 = np.asarray(start, np.float64).reshape(-1, 2) * dpr
        p1 = np.asarray(end, np.float64).reshape(-1, 2) * dpr
        col = _premultiplied(np.asarray(colors, np.uint8).reshape(-1, 3), a)
        idx_parts, id_parts, cov_parts = [], [], []
        # the part of each line inside the picture (Liang-Barsky, all lines at once)
        d = p1 - p0
        t0, t1 = np.zeros(len(p0)), np.ones(len(p0))
        for axis, size in ((0, w), (1, h)):
            for q, r in ((-d[:, axis], p0[:, axis] + 1.0), (d[:, axis], size + 1.0 - p0[:, axis])):
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = r / q
                t0 = np.where(q < 0, np.maximum(t0, ratio), t0)
                t1 = np.where(q > 0, np.minimum(t1, ratio), t1)
                t1 = np.where((q == 0) & (r < 0), -1.0, t1)  # parallel to this edge and outside it
        seen = t1 > t0
        if seen.any():
            b = np.flatnonzero(seen)
            q0, q1 = p0[b] + t0[b, None] * d[b], p0[b] + t1[b, None] * d[b]
            dd = q1 - q0
            along_x = np.abs(dd[:, 0]) >= np.abs(dd[:, 1])  # per beam: x is the major axis
            mj, mn = np.where(along_x, 0, 1), np.where(along_x, 1, 0)
            rows = np.arange(len(b))
            maj0, majd = q0[rows, mj], dd[rows, mj]
            min0, mind = q0[rows, mn], dd[rows, mn]
            stride_maj, stride_min = np.where(along_x, 1, w), np.where(along_x, w, 1)
            size_maj, size_min = np.where(along_x, w, h), np.where(along_x, h, w)
            steps = np.ceil(np.abs(majd)).astype(np.int64) + 1
            local = np.repeat(rows, steps)
            first = np.concatenate(([0], np.cumsum(steps)[:-1]))
            t = (np.arange(len(local)) - first[local]) / np.maximum(steps - 1, 1)[local]
            major = maj0[local] + t * majd[local]
            minor = min0[local] + t * mind[local]
            jm = np.floor(major).astype(np.int64)
            mi = np.floor(minor).astype(np.int64)
            half = 1.0 * dpr  # half the line width
            k = np.arange(-int(np.ceil(half)), int(np.ceil(half)) + 1)
            m_pix = mi[:, None] + k[None, :]  # pixel rows (or columns) across the line
            cover = np.clip(half + 0.5 - np.abs(m_pix + 0.5 - minor[:, None]), 0.0, 1.0)
            idx = m_pix * stride_min[local][:, None] + (jm * stride_maj[local])[:, None]
            inside = (m_pix >= 0) & (m_pix < size_min[local][:, None]) & ((jm >= 0) & (jm < size_maj[local]))[:, None]
            idx_parts.append(np.where(inside, idx, -1).ravel())
            id_parts.append(np.broadcast_to(b[local][:, None], m_pix.shape).ravel())
            cov_parts.append(cover.ravel())
        # the spot where each beam meets the floor
        dy, dx, scover = _stamp(DISC, max(2.0, 2.5 * dpr), 0)
        ex, ey = np.floor(p1[:, 0]).astype(np.int64), np.floor(p1[:, 1]).astype(np.int64)
        sx, sy = ex[:, None] + dx[None, :], ey[:, None] + dy[None, :]
        inside = (sx >= 0) & (sx < w) & (sy >= 0) & (sy < h)
        idx_parts.append(np.where(inside, sy * w + sx, -1).ravel())
        id_parts.append(np.broadcast_to(np.arange(len(p0))[:, None], sx.shape).ravel())
        cov_parts.append(np.broadcast_to(scover[None, :], sx.shape).ravel())
        idx, ids, cov = np.concatenate(idx_parts), np.concatenate(id_parts), np.concatenate(cov_parts)
        ok = (cov > 0) & (idx >= 0)
        idx, ids, cov = idx[ok], ids[ok], cov[ok].astype(np.float32)[:, None]
        under = self._bg[idx].view(np.uint8).reshape(-1, 4).astype(np.float32)
        self._buf[idx] = _pack(col[ids] * cov + under * (1.0 - cov * a))
        self._beam_idx = idx

    def image(self) -> QImage | None:
        return self._image

    def pixel(self, x: int, y: int, static: bool = False) -> tuple[int, int, int, int]:
        """(r, g, b, a) of device pixel (x, y) of the last render, or of the static layer (premultiplied)."""
        layer = self._bg if static else self._buf
        v = int(layer[y * self.width + x]) if layer is not None else 0
        return (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF, (v >> 24) & 0xFF
