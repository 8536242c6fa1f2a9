"""The ``classic`` segmenter: grabCut at reduced scale, edges refined at full resolution.

No weights, always available. For one prompt on one frame:

1. **crop** the frame around the prompt (the box grown by ``margin``; with
   points only, a square of ``point_region`` of the frame's short side
   around the positive points, or their spread, whichever is larger);
2. **scale** the crop down so its long side is ``work_size`` px (grabCut's
   cost grows with pixels, not with detail we need: the edge comes back in
   step 4);
3. **grabCut** (``iterations`` rounds) from a label mask: outside the box
   sure background, inside probable foreground, positive points sure
   foreground disks, negative points sure background disks. With points
   only: probable foreground around the positive points, probable
   background elsewhere, a sure-background ring on the crop's border;
4. **refine**: the low-res foreground is upsampled to the crop's full
   resolution and run through a guided filter (``cv2.ximgproc.guidedFilter``,
   guide = the full-resolution crop), which snaps the blurred edge to the
   picture's edges and gives a soft alpha there;
5. **clean up**: threshold at half, keep the connected component(s) under
   the positive points (or under the box centre; the largest one when none
   is hit), fill holes smaller than ``hole_fraction`` of the object, and write
   the crop into a full-frame ``uint8`` matte (255 inside, 0 outside, soft
   values on a band of ``edge_band`` px around the edge, consistent with
   :func:`core.vision.segment.binary`).

About 60-130 ms for a subject of a quarter of the frame's height on a
1280x720 frame on two (busy) cores, against 1.6 s for plain grabCut on the
whole frame (tests/benchmarks/bench_segment.py).
"""

from __future__ import annotations

import cv2
import numpy as np

from core.plugins import registry
from core.vision.segment import Prompt
from core.vision.types import VisionError, check_frame

__all__ = ["ClassicSegmenter", "check_frame"]


def _disk_mask(shape: tuple[int, int], centres: np.ndarray, radius: float) -> np.ndarray:
    """bool mask of disks of ``radius`` around ``centres`` ([N, 2] x, y), drawn by cv2.circle."""
    out = np.zeros(shape, np.uint8)
    r = max(1, int(round(radius)))
    for x, y in np.round(centres).astype(int):  # a handful of user clicks, not per pixel
        cv2.circle(out, (int(x), int(y)), r, 1, -1)
    return out.astype(bool)


class ClassicSegmenter:
    """grabCut + guided-filter segmenter (see the module docstring); every parameter is a tuning knob.

    ``work_size`` grabCut's long side (px); ``iterations`` grabCut rounds; ``margin`` crop margin
    around a box (fraction of its long side); ``point_region`` / ``point_seed`` half size of the crop
    and radius of the probable-foreground disk for a points-only prompt (fractions of the frame's short
    side / of the work crop's short side); ``point_radius`` sure disk radius of a click (fraction of the
    frame's diagonal); ``guided_radius`` / ``guided_eps`` guided filter window (None: from the upscale
    factor) and regularisation (on 0..1 pixels); ``negative_tolerance`` / ``negative_reach`` colour
    tolerance (0..255 per channel) and reach (fraction of the work crop) of the region a negative
    click removes; ``hole_fraction`` holes up to this fraction of the object are filled;
    ``edge_band`` half width (px) of the soft edge kept in the matte.
    """

    name = "classic"

    def __init__(self, work_size: int = 200, iterations: int = 4, margin: float = 0.25,
                 point_region: float = 0.2, point_seed: float = 0.15, point_radius: float = 0.006,
                 guided_radius: int | None = None,
                 guided_eps: float = 1e-4, negative_tolerance: float = 20.0,
                 negative_reach: float = 0.35, hole_fraction: float = 0.02, edge_band: int = 2):
        if work_size < 32:
            raise VisionError("work_size must be at least 32 px")
        if iterations < 1:
            raise VisionError("iterations must be at least 1")
        self.work_size = int(work_size)
        self.iterations = int(iterations)
        self.margin = float(margin)
        self.point_region = float(point_region)
        self.point_seed = float(point_seed)
        self.point_radius = float(point_radius)
        self.guided_radius = guided_radius
        self.guided_eps = float(guided_eps)
        self.negative_tolerance = float(negative_tolerance)
        self.negative_reach = float(negative_reach)
        self.hole_fraction = float(hole_fraction)
        self.edge_band = int(edge_band)

    # -- public ------------------------------------------------------------------------------------------------
    def segment(self, rgb: np.ndarray, prompt: Prompt, key: object | None = None,
                sure_fg: np.ndarray | None = None) -> np.ndarray:
        """uint8 [H, W] matte of ``rgb`` for ``prompt``.

        ``sure_fg`` (optional bool [H, W]) marks extra pixels as sure
        foreground (the person backend passes the pose skeleton through it).
        """
        rgb = check_frame(rgb)
        if not isinstance(prompt, Prompt):
            raise VisionError(f"expected a Prompt, got {type(prompt).__name__}")
        h, w = rgb.shape[:2]
        self._check_points(prompt, w, h)
        x1, y1, x2, y2 = self._crop_region(prompt, w, h)
        crop = rgb[y1:y2, x1:x2]
        ch, cw = crop.shape[:2]
        scale = min(1.0, self.work_size / max(ch, cw))
        sw, sh = max(2, int(round(cw * scale))), max(2, int(round(ch * scale)))
        sx, sy = sw / cw, sh / ch
        small = cv2.resize(crop, (sw, sh), interpolation=cv2.INTER_AREA) if scale < 1 else crop.copy()

        diag = float(np.hypot(w, h))
        labels = self._labels(prompt, small, (x1, y1), (sx, sy), diag)
        if sure_fg is not None:
            if np.shape(sure_fg) != (h, w):
                raise VisionError(f"sure_fg must be a [{h}, {w}] mask like the frame, got {np.shape(sure_fg)}")
            fg_small = cv2.resize(np.asarray(sure_fg[y1:y2, x1:x2], np.uint8), (sw, sh),
                                  interpolation=cv2.INTER_NEAREST).astype(bool)
            labels[fg_small & ~self._negative_disks(prompt, (x1, y1), (sw, sh), (sx, sy), diag)] = cv2.GC_FGD
        fg_small = self._grabcut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), labels)

        soft = self._refine(fg_small, crop)
        seeds = self._seeds(prompt, (x1, y1), (cw, ch))
        neg = prompt.negative
        neg_full = _disk_mask((ch, cw), neg - np.array([x1, y1], float), self._disk_radius(diag, 1.0)) \
            if len(neg) else None
        sure_crop = np.asarray(sure_fg[y1:y2, x1:x2], bool) if sure_fg is not None else None
        matte_crop = self._cleanup(soft, seeds, neg_full, sure_crop)
        out = np.zeros((h, w), np.uint8)
        out[y1:y2, x1:x2] = matte_crop
        return out

    # -- steps ------------------------------------------------------------------------------------------------
    @staticmethod
    def _check_points(prompt: Prompt, w: int, h: int) -> None:
        for x, y, pos in prompt.points:
            if pos and not (0 <= x < w and 0 <= y < h):
                raise VisionError(f"point ({x:g}, {y:g}) lies outside the {w}x{h} frame")
        if prompt.box is not None:
            bx1, by1, bx2, by2 = prompt.box
            if bx2 <= 0 or by2 <= 0 or bx1 >= w or by1 >= h:
                raise VisionError(f"box {tuple(round(v, 1) for v in prompt.box)} lies outside the {w}x{h} frame")

    def _crop_region(self, prompt: Prompt, w: int, h: int) -> tuple[int, int, int, int]:
        if prompt.box is not None:
            bx1, by1, bx2, by2 = prompt.box
            m = self.margin * max(bx2 - bx1, by2 - by1) + 4
            pts = np.array([[bx1 - m, by1 - m], [bx2 + m, by2 + m]])
            pos = prompt.positive
            if len(pos):
                pts = np.concatenate([pts, pos - m, pos + m])
        else:
            pos = prompt.positive
            spread = (pos.max(0) - pos.min(0)) / 2 * (1 + 2 * self.margin)
            half = np.maximum(spread, self.point_region * min(w, h))
            centre = (pos.max(0) + pos.min(0)) / 2
            pts = np.stack([centre - half, centre + half])
        x1, y1 = np.floor(pts.min(0)).astype(int)
        x2, y2 = np.ceil(pts.max(0)).astype(int)
        x1, y1, x2, y2 = max(0, x1), max(0, y1), min(w, x2), min(h, y2)
        if x2 - x1 < 2 or y2 - y1 < 2:
            raise VisionError(f"the prompt covers less than 2x2 pixels of the {w}x{h} frame")
        return int(x1), int(y1), int(x2), int(y2)

    def _disk_radius(self, diag: float, s: float) -> float:
        return max(1.0, self.point_radius * diag * s)

    def _negative_disks(self, prompt, origin, size, scale, diag) -> np.ndarray:
        sw, sh = size
        neg = prompt.negative
        if not len(neg):
            return np.zeros((sh, sw), bool)
        c = (neg - np.array(origin, float)) * np.array(scale) - 0.5
        return _disk_mask((sh, sw), c, self._disk_radius(diag, min(scale)))

    def _labels(self, prompt: Prompt, small: np.ndarray, origin, scale, diag: float) -> np.ndarray:
        sh, sw = small.shape[:2]
        size = (sw, sh)
        sx, sy = scale
        ox, oy = origin
        labels = np.full((sh, sw), cv2.GC_BGD, np.uint8)
        pos = prompt.positive
        rad = self._disk_radius(diag, min(sx, sy))
        if prompt.box is not None:
            bx1, by1, bx2, by2 = prompt.box
            c1 = max(0, int(np.floor((bx1 - ox) * sx)))
            r1 = max(0, int(np.floor((by1 - oy) * sy)))
            c2 = min(sw, max(c1 + 1, int(np.ceil((bx2 - ox) * sx))))
            r2 = min(sh, max(r1 + 1, int(np.ceil((by2 - oy) * sy))))
            labels[r1:r2, c1:c2] = cv2.GC_PR_FGD
        else:
            labels[:] = cv2.GC_PR_BGD
            ring = max(1, int(round(0.02 * max(sw, sh))))
            labels[:ring], labels[-ring:], labels[:, :ring], labels[:, -ring:] = (cv2.GC_BGD,) * 4
            # probable foreground around the positive points: a disk of a third of the search region
            c = (pos - np.array(origin, float)) * np.array(scale) - 0.5
            labels[_disk_mask((sh, sw), c, self.point_seed * min(sw, sh))] = cv2.GC_PR_FGD
        neg = prompt.negative
        if len(neg):
            self._negative_regions(labels, small, (neg - np.array(origin, float)) * np.array(scale) - 0.5)
        if len(pos):
            c = (pos - np.array(origin, float)) * np.array(scale) - 0.5
            labels[_disk_mask((sh, sw), c, rad)] = cv2.GC_FGD
        labels[self._negative_disks(prompt, origin, size, scale, diag)] = cv2.GC_BGD
        if not np.isin(labels, (cv2.GC_BGD, cv2.GC_PR_BGD)).any():
            # the box fills the whole frame: let the border be probable background
            labels[0, :], labels[-1, :], labels[:, 0], labels[:, -1] = (cv2.GC_PR_BGD,) * 4
        return labels

    def _negative_regions(self, labels: np.ndarray, small: np.ndarray, centres: np.ndarray) -> None:
        """Probable background on the locally uniform region under each negative point (a bounded flood fill).

        A sure-background disk alone rarely moves grabCut (the clicked colour
        is still in the foreground model); putting the whole region the user
        clicked into the background model does.
        """
        sh, sw = labels.shape
        tol = (float(self.negative_tolerance),) * 3
        blurred = cv2.GaussianBlur(small, (3, 3), 0)
        reach = self.negative_reach * max(sw, sh)
        flags = 4 | (255 << 8) | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY
        for x, y in np.round(centres).astype(int):  # a handful of clicks
            if not (0 <= x < sw and 0 <= y < sh):
                continue
            ff = np.zeros((sh + 2, sw + 2), np.uint8)
            cv2.floodFill(blurred, ff, (int(x), int(y)), 0, tol, tol, flags)
            region = ff[1:-1, 1:-1].astype(bool) & _disk_mask((sh, sw), np.array([[x, y]]), reach)
            labels[region & (labels == cv2.GC_PR_FGD)] = cv2.GC_PR_BGD

    def _grabcut(self, small_bgr: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """float32 [h, w] 1 for foreground, 0 for background after grabCut."""
        fg_labels = np.isin(labels, (cv2.GC_FGD, cv2.GC_PR_FGD))
        if not fg_labels.any():
            raise VisionError("the prompt leaves no foreground to segment (negative points cover it)")
        mask = labels.copy()
        bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
        try:
            cv2.setRNGSeed(0x4C554D41)  # grabCut seeds its colour models with k-means: the same prompt, the same matte
            cv2.grabCut(small_bgr, mask, None, bgd, fgd, self.iterations, cv2.GC_INIT_WITH_MASK)
        except cv2.error as exc:  # e.g. a crop of one flat colour: no GMM can be fitted
            raise VisionError(f"segmentation failed on this prompt ({exc.err or 'grabCut error'})") from None
        return np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD)).astype(np.float32)

    def _refine(self, fg_small: np.ndarray, crop: np.ndarray) -> np.ndarray:
        """float32 soft alpha [ch, cw] in 0..1: the low-res result upsampled and guided-filtered by the crop."""
        ch, cw = crop.shape[:2]
        up = cv2.resize(fg_small, (cw, ch), interpolation=cv2.INTER_LINEAR)
        factor = max(cw / fg_small.shape[1], ch / fg_small.shape[0])
        radius = self.guided_radius if self.guided_radius is not None else max(2, int(round(1.5 * factor)))
        guide = crop.astype(np.float32) / 255.0
        soft = cv2.ximgproc.guidedFilter(guide, up, int(radius), self.guided_eps)
        return np.clip(soft, 0.0, 1.0)

    @staticmethod
    def _seeds(prompt: Prompt, origin, size) -> np.ndarray:
        """[N, 2] int (x, y) in crop pixels that the kept component(s) must contain."""
        cw, ch = size
        pts = prompt.positive
        if prompt.box is not None and not len(pts):
            bx1, by1, bx2, by2 = prompt.box
            pts = np.array([[(bx1 + bx2) / 2, (by1 + by2) / 2]])
        p = np.floor(pts - np.array(origin, float)).astype(int)
        p[:, 0] = np.clip(p[:, 0], 0, cw - 1)
        p[:, 1] = np.clip(p[:, 1], 0, ch - 1)
        return p

    def _cleanup(self, soft: np.ndarray, seeds: np.ndarray, negative: np.ndarray | None,
                 sure: np.ndarray | None = None) -> np.ndarray:
        fg = soft >= 0.5
        if sure is not None:
            fg |= sure  # sure foreground stays, whatever the filter made of it
        fg = fg.astype(np.uint8)
        n, comp, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
        if n <= 1:
            return np.zeros(fg.shape, np.uint8)
        hit = np.unique(comp[seeds[:, 1], seeds[:, 0]])
        if sure is not None:
            hit = np.union1d(hit, np.unique(comp[sure]))  # and so do the pieces it lies in
        hit = hit[hit > 0]
        if not len(hit):
            hit = np.array([1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))])
        lut = np.zeros(n, bool)
        lut[hit] = True
        keep = lut[comp]
        if negative is not None:
            keep &= ~negative
        # fill holes: background components that do not touch the crop's border and are small
        area = int(stats[hit, cv2.CC_STAT_AREA].sum())
        nb, bcomp, bstats, _ = cv2.connectedComponentsWithStats((~keep).astype(np.uint8), connectivity=4)
        if nb > 1:
            border = np.unique(np.concatenate([bcomp[0], bcomp[-1], bcomp[:, 0], bcomp[:, -1]]))
            small = bstats[:, cv2.CC_STAT_AREA] <= self.hole_fraction * area
            small[border] = False
            small[0] = False
            if negative is not None:
                small[np.unique(bcomp[negative])] = False  # a hole the user asked for stays open
            keep |= small[bcomp]
        # matte: 255 inside, 0 outside, the guided filter's soft alpha on a thin band around the edge
        k = keep.astype(np.uint8)
        b = max(0, self.edge_band)
        out = k * np.uint8(255)
        if b:
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * b + 1, 2 * b + 1))
            band = cv2.dilate(k, kernel).astype(bool) & ~cv2.erode(k, kernel).astype(bool)
            val = np.clip(soft[band] * 255.0 + 0.5, 0, 255).astype(np.uint8)
            inside = keep[band]
            out[band] = np.where(inside, np.maximum(val, 128), np.minimum(val, 127))
        return out


def _register() -> None:
    registry.add("segmenter", "classic", ClassicSegmenter,
                 "Classic (grabCut + guided filter): no weights needed, best on distinct colours")


_register()
