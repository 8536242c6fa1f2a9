"""Mask propagation: carry a matte from one frame to the next, and blend two directions.

One step (:meth:`Propagator.step`) takes the previous frame, its matte and the
next frame, and returns the next frame's matte:

1. **Window**: only a window around the previous matte (grown by a margin for
   motion, joined with the tracker box when one is given) is looked at, so the
   cost follows the subject's size, not the frame's.
2. **Warp**: dense optical flow (OpenCV's DIS) is computed on a grey copy of
   that window scaled to ``flow_side`` pixels on its long side (down for big
   subjects, up to ``max_upscale`` times for small ones, where DIS's coarse
   patch grid would miss limbs), from the *next* frame to the *previous* one,
   and the previous matte is sampled through it with ``cv2.remap`` (backward
   warping: every new pixel looks up where it came from, so no holes).
3. **Occlusion check**: the flow the other way (previous -> next) must bring a
   pixel back to where it started; where it does not (mostly background the
   subject has just uncovered, which backward warping would fill with the
   subject that used to stand there), the warped value near the outline is
   replaced by a low prior (``unsure_value``) and the colour vote decides.
4. **Refine**: flow is smooth across the subject's outline, so the warped
   edge is only roughly right. In a band around the warped outline the matte
   is averaged with ``P(subject | colour)`` from colour histograms of the
   previous frame's subject and its surroundings; the result is decided
   (inside/outside at one half, so blur cannot build up from frame to frame),
   and a guided filter with the new frame as guide snaps the edge onto the
   picture's edges at full resolution and makes it soft over a few pixels.
5. **Clean up**: pieces the colour vote switched on that the flow did not
   carry, tiny pieces, and small pieces that tore off a larger one (typically
   a leak onto a neighbour of similar colour who walks away) are removed.
6. **Box**: with a tracker box ``(x1, y1, x2, y2)`` the matte is zero outside
   the box grown by ``box_margin`` of its size, which stops leaks onto
   neighbours and background.

A step depends only on its arguments and the propagator's parameters (the
cached DIS object is handed no initial flow and keeps nothing that changes a
result), so a run resumed after a crash from the stored previous matte gives
byte-identical mattes to an uninterrupted run (checked across OpenCV thread
counts 1, 2 and 8; a different OpenCV build may round differently).

Between two keyframes a frame gets one matte propagated forward from the key
before it and one propagated backward from the key after it;
:func:`direction_weight` says how much to trust the forward one and
:func:`blend` mixes the two.

Mattes are ``uint8 [H, W]``: 0 outside, 255 inside, soft values on the edge
(``core.vision.segment.binary`` thresholds at 128). Frames are RGB uint8.

Measured (tests/benchmarks/bench_propagate.py, 2 shared CPU cores): about
20 ms a frame (50 fps) for the roto scene's subject (~170x240 px) on 1280x720
frames, about 65 ms (15 fps) for a subject 80 % of a 720p frame's height.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Iterator, Sequence

import cv2
import numpy as np

from core.errors import JobCancelled
from core.vision.types import VisionError

__all__ = ["Propagator", "propagate", "direction_weight", "blend"]

Box = Sequence[float]
_PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
            "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}
_BITS = 5  # colour histogram: 2**_BITS levels per channel
_LEVELS = 1 << _BITS
_AUTO_GREY = 250_000  # windows with more pixels: a grey guide with guide="auto" (5x cheaper), histograms subsampled
_RING = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))


def _check_rgb(rgb: np.ndarray, what: str) -> np.ndarray:
    rgb = np.asarray(rgb)
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise VisionError(f"{what}: expected an RGB uint8 [H, W, 3] frame, got {rgb.dtype} {rgb.shape}")
    return rgb


def _check_matte(matte: np.ndarray, shape: tuple[int, int], what: str) -> np.ndarray:
    matte = np.asarray(matte)
    if matte.dtype == bool:
        matte = matte.astype(np.uint8) * 255
    if matte.dtype != np.uint8 or matte.shape != shape:
        raise VisionError(f"{what}: expected a uint8 matte of {shape[1]}x{shape[0]}, got {matte.dtype} {matte.shape}")
    return matte


def _grow(box: Box, fraction: float, pad: float, width: int, height: int) -> tuple[int, int, int, int]:
    """Integer (x1, y1, x2, y2) of ``box`` grown by ``fraction`` of its larger side plus ``pad`` px, clipped."""
    x1, y1, x2, y2 = (float(v) for v in box)
    g = fraction * max(x2 - x1, y2 - y1) + pad
    return (max(0, int(math.floor(x1 - g))), max(0, int(math.floor(y1 - g))),
            min(width, int(math.ceil(x2 + g))), min(height, int(math.ceil(y2 + g))))


class Propagator:
    """Carries a matte from frame to frame: DIS flow warp + colour vote + guided-filter edge.

    Parameters (all keyword; the defaults are tuned on tests/core/vision/roto_scene.py and
    on pedestrians of vtest.avi):

    * ``flow_side`` (400) — long side in pixels of the window the flow is computed on;
    * ``max_upscale`` (2) — the window is scaled up at most this much to reach ``flow_side``;
    * ``preset`` ("fast") — DIS preset: ``"ultrafast"``, ``"fast"`` or ``"medium"``;
    * ``margin`` (0.2), ``pad`` (16) — the window is the previous matte's bounding box grown by
      ``margin`` of its larger side plus ``pad`` pixels, room for the subject's motion;
    * ``consistency`` (1.0) — forward/backward flow disagreement in full-resolution pixels
      above which a warped pixel counts as uncovered (0: no check, one flow only);
    * ``unsure_value`` (0.1) — the prior given to uncovered pixels the warp called inside;
    * ``unsure_reach`` (4) — the check only applies within this many band widths of the
      warped outline (deep inside, a flow glitch must not punch holes);
    * ``band`` (4), ``band_fraction`` (0.02) — half width of the band around the warped
      outline where the colour model votes: the larger of ``band`` pixels and
      ``band_fraction`` of the subject's larger side;
    * ``colour_weight`` (0.5) — 0..1, the colour model's share against the warped matte there;
    * ``radius`` (4), ``eps`` (1e-3) — guided filter window radius (px) and regularisation
      (on 0..1 pixel values): larger ``eps`` follows picture edges less;
    * ``contrast`` (2.0) — gain around one half after the guided filter (higher: harder edge);
    * ``min_piece`` (0.05), ``breakaway`` (0.25) — pieces under ``min_piece`` of the largest
      piece go, and so do pieces under ``breakaway`` of a larger piece they tore off from
      (0 turns a rule off);
    * ``box_margin`` (0.1) — a tracker box is grown by this fraction of its larger side before
      the matte is cleared outside it;
    * ``guide`` ("auto") — the guided filter's guide: ``"rgb"`` (follows colour edges),
      ``"grey"`` (about five times cheaper) or ``"auto"``: rgb for windows up to 250 000 pixels,
      grey above (a big subject, where the colour guide would cost most of the step).

    One propagator serves one run at a time (it caches its flow object); use one per thread.
    """

    def __init__(self, flow_side: int = 400, max_upscale: float = 2.0, preset: str = "fast",
                 margin: float = 0.2, pad: int = 16, consistency: float = 1.0, unsure_value: float = 0.1,
                 unsure_reach: int = 4, band: int = 4, band_fraction: float = 0.02, colour_weight: float = 0.5,
                 radius: int = 4, eps: float = 1e-3, contrast: float = 2.0, min_piece: float = 0.05,
                 breakaway: float = 0.25, box_margin: float = 0.1, guide: str = "auto"):
        if preset not in _PRESETS:
            raise VisionError(f"unknown flow preset {preset!r}: use one of {', '.join(_PRESETS)}")
        if flow_side < 32:
            raise VisionError(f"flow_side {flow_side} is too small (at least 32)")
        for name, value in (("colour_weight", colour_weight), ("unsure_value", unsure_value),
                            ("min_piece", min_piece), ("breakaway", breakaway)):
            if not 0.0 <= float(value) <= 1.0:
                raise VisionError(f"{name} {value} must lie between 0 and 1")
        if radius < 1 or eps <= 0 or contrast <= 0 or max_upscale < 1:
            raise VisionError("radius must be at least 1, eps and contrast above 0, max_upscale at least 1")
        if margin < 0 or pad < 0 or box_margin < 0 or consistency < 0 or band < 1 or unsure_reach < 0:
            raise VisionError("margin, pad, box_margin, consistency and unsure_reach cannot be negative; band >= 1")
        if guide not in ("auto", "rgb", "grey"):
            raise VisionError(f"unknown guide {guide!r}: use auto, rgb or grey")
        self.flow_side = int(flow_side)
        self.max_upscale = float(max_upscale)
        self.preset = preset
        self.margin = float(margin)
        self.pad = int(pad)
        self.consistency = float(consistency)
        self.unsure_value = float(unsure_value)
        self.unsure_reach = int(unsure_reach)
        self.band = int(band)
        self.band_fraction = float(band_fraction)
        self.colour_weight = float(colour_weight)
        self.radius = int(radius)
        self.eps = float(eps)
        self.contrast = float(contrast)
        self.min_piece = float(min_piece)
        self.breakaway = float(breakaway)
        self.box_margin = float(box_margin)
        self.guide = guide
        self._dis = None  # created on first use; holds no state between calls that affects results

    # -- one frame ---------------------------------------------------------------------------

    def step(self, prev_rgb: np.ndarray, prev_matte: np.ndarray, rgb: np.ndarray,
             box: Box | None = None) -> np.ndarray:
        """The matte of ``rgb`` carried over from ``prev_matte`` on ``prev_rgb`` (optionally kept in ``box``)."""
        prev_rgb = _check_rgb(prev_rgb, "previous frame")
        rgb = _check_rgb(rgb, "frame")
        if prev_rgb.shape != rgb.shape:
            raise VisionError(f"frame sizes differ: {prev_rgb.shape[1]}x{prev_rgb.shape[0]} and "
                              f"{rgb.shape[1]}x{rgb.shape[0]}")
        h, w = rgb.shape[:2]
        prev_matte = _check_matte(prev_matte, (h, w), "previous matte")
        out = np.zeros((h, w), np.uint8)
        bx, by, bw, bh = cv2.boundingRect(prev_matte)
        if bw == 0 or bh == 0:
            return out  # nothing to carry
        x1, y1, x2, y2 = _grow((bx, by, bx + bw, by + bh), self.margin, self.pad, w, h)
        keep = None
        if box is not None:
            if len(box) != 4 or not (float(box[2]) > float(box[0]) and float(box[3]) > float(box[1])):
                raise VisionError(f"box {tuple(box)} is empty: x2 must exceed x1 and y2 exceed y1")
            keep = _grow(box, self.box_margin, 0.0, w, h)
            if keep[2] <= keep[0] or keep[3] <= keep[1]:
                return out  # the box lies outside the frame
            x1, y1 = min(x1, keep[0]), min(y1, keep[1])
            x2, y2 = max(x2, keep[2]), max(y2, keep[3])
        roi = (slice(y1, y2), slice(x1, x2))
        size = max(bw, bh)
        warped, unsure, where_from = self._warp(prev_rgb[roi], prev_matte[roi], rgb[roi])
        refined = self._refine(prev_rgb[roi], prev_matte[roi], rgb[roi], warped, unsure, size)
        if self.min_piece > 0 or self.breakaway > 0:
            refined = _drop_strays(refined, (warped >= 0.5) & ~unsure, prev_matte[roi], where_from,
                                   self.min_piece, self.breakaway)
        out[roi] = refined
        if keep is not None:
            kx1, ky1, kx2, ky2 = keep
            out[:ky1] = 0
            out[ky2:] = 0
            out[:, :kx1] = 0
            out[:, kx2:] = 0
        return out

    def _flow(self, grey_next: np.ndarray, grey_prev: np.ndarray) -> np.ndarray:
        if self._dis is None:
            self._dis = cv2.DISOpticalFlow_create(_PRESETS[self.preset])
        # a fresh output array every call: DIS would take a same-sized array passed in as its initial guess
        return self._dis.calc(grey_next, grey_prev, None)

    def _warp(self, prev_rgb: np.ndarray, prev_matte: np.ndarray,
              rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``prev_matte`` sampled through the flow next -> previous (float32 0..1), where that is
        unreliable, and the sampling map (float32 [h, w, 2]: where in the previous window each pixel came from).

        The second array (bool) marks pixels whose backward flow is not confirmed by the forward
        flow (previous -> next) at the place it points to: mostly background the subject has just
        uncovered, which backward warping would otherwise fill with the subject it used to show.
        """
        h, w = prev_matte.shape
        scale = min(self.max_upscale, self.flow_side / max(h, w))
        sw, sh = max(16, int(round(w * scale))), max(16, int(round(h * scale)))
        grey_prev = cv2.cvtColor(prev_rgb, cv2.COLOR_RGB2GRAY)
        grey_next = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if (sw, sh) != (w, h):
            grey_prev = cv2.resize(grey_prev, (sw, sh), interpolation=cv2.INTER_AREA)
            grey_next = cv2.resize(grey_next, (sw, sh), interpolation=cv2.INTER_AREA)
        back = self._flow(grey_next, grey_prev)
        grid_x = np.arange(sw, dtype=np.float32)[None, :]
        grid_y = np.arange(sh, dtype=np.float32)[:, None]
        unsure = None
        if self.consistency > 0:
            fwd = self._flow(grey_prev, grey_next)
            fx, fy = back[..., 0] + grid_x, back[..., 1] + grid_y
            there = cv2.remap(fwd, fx, fy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            err = np.hypot(back[..., 0] + there[..., 0], back[..., 1] + there[..., 1])
            unsure = (err > self.consistency * scale).astype(np.uint8)
        if (sw, sh) != (w, h):
            back = cv2.resize(back, (w, h), interpolation=cv2.INTER_LINEAR)
            back[..., 0] *= w / sw
            back[..., 1] *= h / sh
            if unsure is not None:
                unsure = cv2.resize(unsure, (w, h), interpolation=cv2.INTER_NEAREST)
        back[..., 0] += np.arange(w, dtype=np.float32)[None, :]
        back[..., 1] += np.arange(h, dtype=np.float32)[:, None]
        warped = cv2.remap(prev_matte, back, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        unsure = unsure.astype(bool) if unsure is not None else np.zeros((h, w), bool)
        return warped.astype(np.float32) * (1.0 / 255.0), unsure, back

    def _colour_probability(self, prev_rgb: np.ndarray, prev_matte: np.ndarray, rgb: np.ndarray,
                            where: np.ndarray) -> np.ndarray:
        """P(subject | colour) at the ``where`` pixels of ``rgb`` from histograms of the previous window."""
        shift = 8 - _BITS
        if prev_matte.size > _AUTO_GREY:  # a big window: every other pixel is plenty for a histogram
            prev_rgb, prev_matte = prev_rgb[::2, ::2], prev_matte[::2, ::2]
        q = (prev_rgb >> shift).astype(np.int32)
        idx = (q[..., 0] << (2 * _BITS)) | (q[..., 1] << _BITS) | q[..., 2]
        bins = _LEVELS ** 3
        fg = np.bincount(idx[prev_matte >= 192], minlength=bins).astype(np.float32)
        bg = np.bincount(idx[prev_matte <= 63], minlength=bins).astype(np.float32)
        # smooth each histogram over neighbouring colours (3x3x3 box, twice): sparse bins borrow from neighbours
        fg = _box3(_box3(fg.reshape(_LEVELS, _LEVELS, _LEVELS))).ravel()
        bg = _box3(_box3(bg.reshape(_LEVELS, _LEVELS, _LEVELS))).ravel()
        pf = (fg + 0.5) / (fg.sum() + 0.5 * bins)
        pb = (bg + 0.5) / (bg.sum() + 0.5 * bins)
        lut = pf / (pf + pb)
        qn = (rgb[where] >> shift).astype(np.int32)
        return lut[(qn[:, 0] << (2 * _BITS)) | (qn[:, 1] << _BITS) | qn[:, 2]]

    def _refine(self, prev_rgb: np.ndarray, prev_matte: np.ndarray, rgb: np.ndarray, warped: np.ndarray,
                unsure: np.ndarray, size: int) -> np.ndarray:
        """uint8 matte of the window: colour vote in the band around the warped outline, guided filter, contrast."""
        half = max(1, int(round(max(self.band, self.band_fraction * size))))
        hard = (warped >= 0.5).astype(np.uint8)
        # every pixel's distance to the warped outline (inside: to the nearest outside pixel, outside: inside one)
        depth = cv2.distanceTransform(hard, cv2.DIST_L2, 5)
        reach = np.where(hard > 0, depth, cv2.distanceTransform(1 - hard, cv2.DIST_L2, 5))
        band = (reach <= half) | ((warped > 0.02) & (warped < 0.98))
        prior = warped.copy()
        unsure &= warped > 0.02  # only where the warp claims the subject
        if self.unsure_reach > 0:
            unsure &= depth <= self.unsure_reach * half
        prior[unsure] = self.unsure_value
        band |= unsure
        if self.colour_weight > 0 and band.any():
            colour = self._colour_probability(prev_rgb, prev_matte, rgb, band)
            prior[band] = (1.0 - self.colour_weight) * prior[band] + self.colour_weight * colour
        # decide inside/outside now, so the blur of remap and filter cannot build up frame after frame
        prior = (prior >= 0.5).astype(np.float32)
        if self.guide == "grey" or (self.guide == "auto" and rgb.shape[0] * rgb.shape[1] > _AUTO_GREY):
            guide = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32) * (1.0 / 255.0)
        else:
            guide = rgb.astype(np.float32) * (1.0 / 255.0)
        soft = cv2.ximgproc.guidedFilter(guide, prior, self.radius, self.eps)
        soft = (soft - 0.5) * self.contrast + 0.5
        return np.clip(soft * 255.0 + 0.5, 0, 255).astype(np.uint8)

    # -- a run -------------------------------------------------------------------------------

    def propagate(self, frames: Iterable[np.ndarray], start_matte: np.ndarray,
                  boxes: Iterable[Box | None] | None = None,
                  progress: Callable[..., None] | None = None,
                  cancelled: Callable[[], bool] | None = None,
                  total: int | None = None) -> Iterator[np.ndarray]:
        """Mattes of the frames after the first, each carried from the one before; see :func:`propagate`."""
        if total is None and hasattr(frames, "__len__"):
            total = len(frames) - 1
        frame_it = iter(frames)
        box_it = iter(boxes) if boxes is not None else None
        try:
            prev_rgb = _check_rgb(next(frame_it), "keyframe")
        except StopIteration:
            return
        if box_it is not None:
            next(box_it, None)  # the keyframe's own box is not needed
        prev_matte = _check_matte(start_matte, prev_rgb.shape[:2], "start matte")
        done = 0
        for rgb in frame_it:
            if cancelled is not None and cancelled():
                raise JobCancelled("cancelled by the user")
            box = next(box_it, None) if box_it is not None else None
            matte = self.step(prev_rgb, prev_matte, rgb, box)
            done += 1
            if progress is not None and total:
                progress(min(1.0, done / total), f"propagated {done} of {total} frames")
            yield matte
            prev_rgb, prev_matte = rgb, matte


def _drop_strays(matte: np.ndarray, anchor: np.ndarray, prev_matte: np.ndarray, where_from: np.ndarray,
                 min_piece: float, breakaway: float) -> np.ndarray:
    """``matte`` without stray pieces (and their soft fringe), in place.

    Pieces are the 8-connected parts of the inside. A piece goes when

    * it does not touch ``anchor`` (what the flow carried over with confidence): the colour vote
      switched on background of the subject's colours next to its edge;
    * it is smaller than ``min_piece`` of the largest piece;
    * it broke away: it came (through ``where_from``, the flow's sampling map) from the same piece
      of ``prev_matte`` as a larger piece of this frame, and is under ``breakaway`` of that piece's
      size. A leak onto a neighbour of similar colour tends to tear off like this when the
      neighbour moves apart; parts of the subject that really separate (a limb behind a pole)
      are usually larger.
    """
    inside = (matte >= 128).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(inside, connectivity=8)
    if count <= 2:
        return matte
    areas = stats[:, cv2.CC_STAT_AREA].astype(np.int64)
    keep = np.zeros(count, bool)
    keep[np.unique(labels[anchor & (inside > 0)])] = True
    keep &= areas >= min_piece * areas[1:].max()
    if breakaway > 0:
        prev_count, prev_labels = cv2.connectedComponents((prev_matte >= 128).astype(np.uint8), connectivity=8)
        if prev_count > 1:
            source = cv2.remap(prev_labels.astype(np.float32), where_from, None, cv2.INTER_NEAREST,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0).astype(np.int64)
            # for each piece: the previous piece most of its pixels came from (0: none)
            sel = (labels > 0) & (source > 0)
            pairs = np.bincount(labels[sel] * prev_count + source[sel], minlength=count * prev_count)
            pairs = pairs.reshape(count, prev_count)
            pairs[:, 0] = 0
            origin = np.where(pairs.max(axis=1) > 0, pairs.argmax(axis=1), 0)
            origin[0] = 0
            # the largest piece from each origin
            biggest = np.zeros(prev_count, np.int64)
            np.maximum.at(biggest, origin[1:], areas[1:])
            torn = (origin > 0) & (areas < breakaway * biggest[origin])
            keep &= ~torn
    if not keep[1:].any():
        return matte  # nothing to judge by: leave it as it is
    keep[0] = True  # the outside
    kept = keep[labels]
    if kept.all():
        return matte
    near = cv2.dilate((~kept).astype(np.uint8), _RING) > 0
    matte[near & (~kept | (inside == 0))] = 0
    return matte


def _box3(h: np.ndarray) -> np.ndarray:
    """3x3x3 box sum of a 3-D histogram (zero outside), vectorised through padded slices."""
    p = np.pad(h, 1)
    for axis in range(3):
        p = (np.take(p, range(0, p.shape[axis] - 2), axis=axis) + np.take(p, range(1, p.shape[axis] - 1), axis=axis)
             + np.take(p, range(2, p.shape[axis]), axis=axis))
    return p


def propagate(frames: Iterable[np.ndarray], start_matte: np.ndarray, boxes: Iterable[Box | None] | None = None,
              progress: Callable[..., None] | None = None, cancelled: Callable[[], bool] | None = None,
              **params) -> Iterator[np.ndarray]:
    """Carry ``start_matte`` through ``frames``: yields one matte per frame after the first.

    ``frames`` starts with the keyframe's own frame (the one ``start_matte`` belongs to);
    ``boxes``, when given, runs alongside ``frames`` (``boxes[k]`` is the tracker box on
    ``frames[k]`` or None; the keyframe's entry is ignored). ``progress(fraction, message)`` is
    called after every frame when the number of frames is known (a sized ``frames`` or
    ``total=``); ``cancelled()`` is checked before every frame and raises
    :class:`~core.errors.JobCancelled`. Other keywords are :class:`Propagator` parameters.
    Propagating backward is the same call with the frames in reverse order.
    """
    total = params.pop("total", None)
    return Propagator(**params).propagate(frames, start_matte, boxes, progress, cancelled, total)


def direction_weight(frame: float, key_before: float, key_after: float) -> float:
    """Weight (1..0) of the forward-propagated matte for a frame between two keyframes.

    Each direction's error grows with its distance from its own keyframe, so a frame near
    ``key_before`` keeps the forward result (1), a frame near ``key_after`` the backward one (0),
    and the hand-over happens around the middle: with ``t`` the frame's position 0..1 between the
    keys, the weight is 1 up to ``t = 0.25``, 0 from ``t = 0.75`` and in between follows the
    smootherstep ``1 - (6s^5 - 15s^4 + 10s^3)`` with ``s = (t - 0.25) / 0.5`` (flat ends, steepest
    at the middle where it is exactly 0.5). Frames outside the pair clamp to 1 or 0; two equal
    keys give 1 before/at them and 0 after.
    """
    frame, key_before, key_after = float(frame), float(key_before), float(key_after)
    if key_after < key_before:
        raise VisionError(f"keyframes out of order: {key_before:g} comes after {key_after:g}")
    if key_after == key_before:
        return 1.0 if frame <= key_before else 0.0
    t = (frame - key_before) / (key_after - key_before)
    s = min(1.0, max(0.0, (t - 0.25) / 0.5))
    return 1.0 - s * s * s * (s * (6.0 * s - 15.0) + 10.0)


def blend(forward_matte: np.ndarray, backward_matte: np.ndarray, weight: float) -> np.ndarray:
    """Mix the forward and backward mattes of one frame (``weight`` is the forward share, 0..1).

    Where the two agree (both inside, both outside, or similar soft edges) the result is their
    weighted average, which keeps soft edges soft. Where they conflict (one says inside, the
    other outside) a plain average would leave a half-transparent ghost, so there the weighted
    average is thresholded at half and given a soft edge of about a pixel; pixels in between
    mix the two by how strongly the inputs disagree. ``weight`` 1 or 0 returns a copy of one input.
    """
    f = np.asarray(forward_matte)
    b = np.asarray(backward_matte)
    if f.dtype != np.uint8 or b.dtype != np.uint8 or f.shape != b.shape or f.ndim != 2:
        raise VisionError(f"blend needs two uint8 mattes of one size, got {f.dtype} {f.shape} and {b.dtype} {b.shape}")
    weight = float(weight)
    if not 0.0 <= weight <= 1.0:
        raise VisionError(f"blend weight {weight} must lie between 0 and 1")
    if weight >= 1.0:
        return f.copy()
    if weight <= 0.0:
        return b.copy()
    ff = f.astype(np.float32)
    bf = b.astype(np.float32)
    avg = weight * ff + (1.0 - weight) * bf
    hard = np.where(avg >= 127.5, np.float32(255.0), np.float32(0.0))
    edge = cv2.GaussianBlur(hard, (5, 5), 1.0)
    conflict = np.clip((np.abs(ff - bf) - 32.0) * (1.0 / 96.0), 0.0, 1.0)
    out = avg + conflict * (edge - avg)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)
