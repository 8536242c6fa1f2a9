"""Semi-synthetic rotoscoping ground truth: a real textured object with an exact alpha over real footage.

The object's texture is the blue side of the bus in ultralytics' ``bus.jpg``
(lettering, logo, a window and a wheel: real photographic texture); its
silhouette is a smooth irregular blob we define ourselves, rendered
supersampled so its edge is anti-aliased. On every frame the object moves
(smooth translation, rotation and anisotropic scale) and deforms (a mild
sinusoidal non-rigid warp that changes over time); texture and alpha go
through the *same* warp (one ``cv2.remap`` map), so the alpha is exact for
the composite ``bg * (1 - a) + texture * a``. The background is
``tests/data/vtest.avi`` (a real street scene with pedestrians), resized
when the scene's size differs from the video's.

Motion is a function of the frame index (not of ``n_frames``), so frame ``i``
is the same picture whatever the scene's length. Everything is deterministic
for a given ``seed`` (the seed picks the blob's shape and the motion phases).

Coordinates: :meth:`RotoScene.box` is ``(x1, y1, x2, y2)`` in pixel edges
(``x2``/``y2`` exclusive), the convention of a prompt box in frame pixels.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np

__all__ = ["RotoScene", "make_scene", "region_similarity", "boundary_f", "VTEST", "ASSETS"]

_SPEC = importlib.util.find_spec("ultralytics")
ASSETS = Path(_SPEC.origin).parent / "assets" if _SPEC and _SPEC.origin else Path("ultralytics-missing")
VTEST = Path(__file__).resolve().parents[2] / "data" / "vtest.avi"

# the bus's side in bus.jpg (full resolution): x 440..740, y 300..730 (aspect ~0.70)
_TEXTURE_COLS = slice(440, 740)
_TEXTURE_ROWS = slice(300, 730)
_OBJECT_HEIGHT = 0.24  # of the frame height, before the time-varying scale
_PAD = 1.45  # canonical canvas = object size * _PAD (room for the blob's lobes)
_SUPERSAMPLE = 4


def _background_source():
    if not VTEST.is_file():
        import pytest

        pytest.fail(f"{VTEST} is missing: run `make testdata` (Debian's opencv-doc package)")
    import av

    return av.open(str(VTEST))


class RotoScene:
    """Frames, exact alphas, binary ground truth and tight boxes of the moving object. See the module docstring."""

    def __init__(self, n_frames: int = 100, width: int = 768, height: int = 576, seed: int = 0):
        if n_frames < 1 or width < 64 or height < 64:
            raise ValueError("need n_frames >= 1 and a frame of at least 64x64")
        self.n_frames, self.width, self.height, self.seed = int(n_frames), int(width), int(height), int(seed)
        rng = np.random.default_rng(seed)
        self._phase = rng.uniform(0, 2 * np.pi, 8)
        # canonical object: texture + supersampled alpha on a canvas of ch x cw pixels (frame pixels at scale 1)
        oh = _OBJECT_HEIGHT * self.height
        ow = 0.62 * oh
        self._cw, self._ch = int(round(ow * _PAD)), int(round(oh * _PAD))
        self._obj_size = (ow, oh)
        self._texture = self._make_texture()
        self._canon_alpha = self._make_alpha(rng)
        self._bg: list[np.ndarray] = []
        self._container = None
        self._decoder = None
        self._cache: dict[int, tuple[tuple[int, int, int, int], np.ndarray, np.ndarray]] = {}

    # -- canonical object -------------------------------------------------------------------------------------
    def _make_texture(self) -> np.ndarray:
        bgr = cv2.imread(str(ASSETS / "bus.jpg"))
        assert bgr is not None, f"{ASSETS / 'bus.jpg'} is missing (ultralytics ships it)"
        crop = bgr[_TEXTURE_ROWS, _TEXTURE_COLS]
        tex = cv2.resize(crop, (self._cw, self._ch), interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(tex, cv2.COLOR_BGR2RGB)

    def _make_alpha(self, rng: np.random.Generator) -> np.ndarray:
        """A smooth irregular blob (ellipse with low harmonics on its radius), anti-aliased by supersampling."""
        s = _SUPERSAMPLE
        ow, oh = self._obj_size
        theta = np.linspace(0, 2 * np.pi, 720, endpoint=False)
        amps = np.array([0.07, 0.10, 0.06, 0.035])
        harm = np.array([2, 3, 5, 7])
        ph = rng.uniform(0, 2 * np.pi, len(harm))
        r = 1.0 + (amps[:, None] * np.sin(harm[:, None] * theta[None] + ph[:, None])).sum(0)
        r = r / r.max() * 1.0  # the blob's extreme reaches the nominal half-size exactly
        x = self._cw / 2 + 0.5 * ow * r * np.cos(theta)
        y = self._ch / 2 + 0.5 * oh * r * np.sin(theta)
        shift = 4
        pts = np.round(np.stack([x, y], 1) * s * (1 << shift)).astype(np.int32)
        big = np.zeros((self._ch * s, self._cw * s), np.uint8)
        cv2.fillPoly(big, [pts], 255, lineType=cv2.LINE_AA, shift=shift)
        small = cv2.resize(big, (self._cw, self._ch), interpolation=cv2.INTER_AREA)
        return small.astype(np.float32) / 255.0

    # -- motion -----------------------------------------------------------------------------------------------
    def _pose(self, i: int) -> tuple[float, float, float, float, float, float]:
        """(cx, cy, angle rad, scale x, scale y, warp time) of frame ``i``."""
        p = self._phase
        W, H = self.width, self.height
        cx = W * (0.5 + 0.20 * np.sin(2 * np.pi * i / 260 + p[0]))
        cy = H * (0.5 + 0.09 * np.sin(2 * np.pi * i / 170 + p[1]))
        ang = np.deg2rad(11.0) * np.sin(2 * np.pi * i / 150 + p[2])
        sx = 1.0 + 0.10 * np.sin(2 * np.pi * i / 190 + p[3])
        sy = 1.0 + 0.08 * np.sin(2 * np.pi * i / 230 + p[4])
        return cx, cy, ang, sx, sy, i / 40.0

    def _render(self, i: int):
        """ROI (x1, y1, x2, y2), alpha [h, w] float32 and texture [h, w, 3] float32 of frame ``i`` inside the ROI."""
        hit = self._cache.get(i)
        if hit is not None:
            return hit
        cx, cy, ang, sx, sy, tw = self._pose(i)
        ca, sa = np.cos(ang), np.sin(ang)
        qx0, qy0 = self._cw / 2, self._ch / 2
        amp = 0.025 * self._obj_size[1]
        # ROI: the canvas corners through the forward affine, grown by the warp amplitude
        corners = np.array([[-qx0, -qy0], [qx0, -qy0], [qx0, qy0], [-qx0, qy0]])
        fx = cx + ca * sx * corners[:, 0] - sa * sy * corners[:, 1]
        fy = cy + sa * sx * corners[:, 0] + ca * sy * corners[:, 1]
        m = 2 * amp + 2
        x1, y1 = max(0, int(np.floor(fx.min() - m))), max(0, int(np.floor(fy.min() - m)))
        x2, y2 = min(self.width, int(np.ceil(fx.max() + m))), min(self.height, int(np.ceil(fy.max() + m)))
        xs = np.arange(x1, x2, dtype=np.float32) - np.float32(cx)
        ys = np.arange(y1, y2, dtype=np.float32) - np.float32(cy)
        dx, dy = np.meshgrid(xs, ys)
        # inverse affine: canonical = S^-1 R^-1 (p - c) + canvas centre
        u = (ca * dx + sa * dy) / sx
        v = (-sa * dx + ca * dy) / sy
        # mild non-rigid warp in canonical space, changing with time
        oh = self._obj_size[1]
        p = self._phase
        wu = amp * np.sin(2 * np.pi * v / (0.9 * oh) + 1.3 * tw + p[5])
        wv = 0.7 * amp * np.sin(2 * np.pi * u / (0.7 * oh) + 0.9 * tw + p[6]) \
            + 0.5 * amp * np.cos(2 * np.pi * (u + v) / (1.1 * oh) + 0.6 * tw + p[7])
        mapx = (u + wu + qx0 - 0.5).astype(np.float32)  # pixel centres: canonical pixel k covers [k, k+1)
        mapy = (v + wv + qy0 - 0.5).astype(np.float32)
        alpha = cv2.remap(self._canon_alpha, mapx, mapy, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        tex = cv2.remap(self._texture, mapx, mapy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out = ((x1, y1, x2, y2), np.clip(alpha, 0, 1).astype(np.float32), tex.astype(np.float32))
        if len(self._cache) > 16:
            self._cache.pop(next(iter(self._cache)))
        self._cache[i] = out
        return out

    # -- background -------------------------------------------------------------------------------------------
    def _background(self, i: int) -> np.ndarray:
        """vtest frame for scene frame ``i`` (decoded sequentially, cached; the video ping-pongs past its end)."""
        while len(self._bg) <= i:
            if self._decoder is None:
                self._container = _background_source()
                self._decoder = self._container.decode(video=0)
            frame = next(self._decoder, None)
            if frame is None:  # end of the video: mirror what we have
                k = len(self._bg)
                n = self._n_video
                period = 2 * n - 2
                j = k % period
                self._bg.append(self._bg[j if j < n else period - j])
                continue
            rgb = frame.to_ndarray(format="rgb24")
            if rgb.shape[:2] != (self.height, self.width):
                interp = cv2.INTER_AREA if rgb.shape[0] > self.height else cv2.INTER_LINEAR
                rgb = cv2.resize(rgb, (self.width, self.height), interpolation=interp)
            self._bg.append(rgb)
            self._n_video = len(self._bg)
        return self._bg[i]

    def _check(self, i: int) -> int:
        i = int(i)
        if not 0 <= i < self.n_frames:
            raise IndexError(f"frame {i} outside 0..{self.n_frames - 1}")
        return i

    # -- public -----------------------------------------------------------------------------------------------
    def frame(self, i: int) -> np.ndarray:
        """uint8 RGB [H, W, 3]: the object composited over the background."""
        i = self._check(i)
        out = self._background(i).copy()
        (x1, y1, x2, y2), a, tex = self._render(i)
        bg = out[y1:y2, x1:x2].astype(np.float32)
        a3 = a[..., None]
        out[y1:y2, x1:x2] = np.clip(bg * (1 - a3) + tex * a3 + 0.5, 0, 255).astype(np.uint8)
        return out

    def alpha(self, i: int) -> np.ndarray:
        """float32 [H, W] in 0..1: the object's exact coverage."""
        i = self._check(i)
        out = np.zeros((self.height, self.width), np.float32)
        (x1, y1, x2, y2), a, _ = self._render(i)
        out[y1:y2, x1:x2] = a
        return out

    def gt(self, i: int) -> np.ndarray:
        """bool [H, W]: alpha >= 0.5."""
        return self.alpha(i) >= 0.5

    def box(self, i: int) -> tuple[int, int, int, int]:
        """Tight (x1, y1, x2, y2) of :meth:`gt` (x2, y2 exclusive)."""
        i = self._check(i)
        (x1, y1, _, _), a, _ = self._render(i)
        m = a >= 0.5
        rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
        return (x1 + int(cols[0]), y1 + int(rows[0]), x1 + int(cols[-1]) + 1, y1 + int(rows[-1]) + 1)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = self._decoder = None

    def __len__(self) -> int:
        return self.n_frames


def make_scene(n_frames: int = 100, width: int = 768, height: int = 576, seed: int = 0) -> RotoScene:
    """The scene (see the module docstring); 768x576 is vtest's own size, other sizes resize the background."""
    return RotoScene(n_frames, width, height, seed)


# -- metrics ------------------------------------------------------------------------------------------------------
def region_similarity(pred: np.ndarray, gt: np.ndarray) -> float:
    """J: intersection over union of two bool masks; 1.0 when both are empty."""
    pred, gt = np.asarray(pred, bool), np.asarray(gt, bool)
    if pred.shape != gt.shape:
        raise ValueError(f"mask shapes differ: {pred.shape} vs {gt.shape}")
    union = np.count_nonzero(pred | gt)
    return 1.0 if union == 0 else float(np.count_nonzero(pred & gt)) / union


def _boundary(mask: np.ndarray) -> np.ndarray:
    """The mask's inner boundary (pixels of the mask with a 4-neighbour outside it)."""
    m = mask.astype(np.uint8)
    eroded = cv2.erode(m, cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3)))
    return (m - eroded).astype(bool)


def boundary_f(pred: np.ndarray, gt: np.ndarray, tolerance: float | None = None) -> float:
    """DAVIS-style boundary F-measure.

    Boundary pixels of one mask count as matched when a boundary pixel of the
    other lies within ``tolerance`` px (Euclidean, by distance transform);
    the default tolerance is ``round(0.008 * image diagonal)`` (at least 1).
    Precision = matched predicted boundary / predicted boundary, recall =
    matched ground-truth boundary / ground-truth boundary, F their harmonic
    mean. 1.0 when both masks are empty, 0.0 when exactly one is.
    """
    pred, gt = np.asarray(pred, bool), np.asarray(gt, bool)
    if pred.shape != gt.shape:
        raise ValueError(f"mask shapes differ: {pred.shape} vs {gt.shape}")
    if tolerance is None:
        tolerance = max(1, round(0.008 * float(np.hypot(*pred.shape))))
    bp, bg = _boundary(pred), _boundary(gt)
    np_, ng = np.count_nonzero(bp), np.count_nonzero(bg)
    if np_ == 0 and ng == 0:
        return 1.0
    if np_ == 0 or ng == 0:
        return 0.0
    # distance from every pixel to the nearest boundary pixel of the other mask
    d_to_gt = cv2.distanceTransform((~bg).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    d_to_pred = cv2.distanceTransform((~bp).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    precision = np.count_nonzero(d_to_gt[bp] <= tolerance) / np_
    recall = np.count_nonzero(d_to_pred[bg] <= tolerance) / ng
    if precision + recall == 0:
        return 0.0
    return float(2 * precision * recall / (precision + recall))
