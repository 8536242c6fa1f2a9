"""Appearance measures the trackers use to tell one subject from another.

* :func:`gray_patch` / :func:`ncc` — a box resampled to a fixed grey template
  and the normalised cross-correlation of two templates (-1..1): the
  confidence of the OpenCV single-object trackers.
* :func:`colour_signature` / :func:`similarity` — an HSV colour histogram of
  the upper and the lower half of a box (clothes: shirt vs trousers), L1
  normalised; two signatures compare with the Bhattacharyya coefficient
  (0 unrelated .. 1 identical). Used to re-identify a person after an
  occlusion or an id switch.

Everything takes RGB uint8 frames and ``[x1, y1, x2, y2]`` boxes.
"""

from __future__ import annotations

import cv2
import numpy as np

TEMPLATE_SIZE = (24, 48)  # width, height of the grey template (people are tall)
_H_BINS, _S_BINS, _V_BINS = 12, 4, 4


def clip_box(box: np.ndarray, width: int, height: int) -> np.ndarray | None:
    """Integer ``[x1, y1, x2, y2]`` inside the frame, or None when nothing of it is left."""
    x1, y1, x2, y2 = np.round(np.asarray(box, np.float64)).astype(int)
    x1, x2 = max(x1, 0), min(x2, width)
    y1, y2 = max(y1, 0), min(y2, height)
    if x2 - x1 < 2 or y2 - y1 < 2:
        return None
    return np.array([x1, y1, x2, y2])


def crop(rgb: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    b = clip_box(box, rgb.shape[1], rgb.shape[0])
    return None if b is None else rgb[b[1]:b[3], b[0]:b[2]]


def gray_patch(rgb: np.ndarray, box: np.ndarray, size: tuple[int, int] = TEMPLATE_SIZE) -> np.ndarray | None:
    """The box as a float32 zero-mean, unit-norm grey template of ``size`` (None if off-frame)."""
    patch = crop(rgb, box)
    if patch is None:
        return None
    gray = cv2.cvtColor(cv2.resize(patch, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    t = gray.astype(np.float32)
    t -= t.mean()
    norm = float(np.linalg.norm(t))
    return t / norm if norm > 1e-6 else t


def ncc(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """Normalised cross-correlation of two :func:`gray_patch` templates (0 when either is missing)."""
    if a is None or b is None:
        return 0.0
    return float(np.dot(a.ravel(), b.ravel()))


def _inner(box: np.ndarray) -> np.ndarray:
    """The central part of a box: less background around a person."""
    x1, y1, x2, y2 = np.asarray(box, np.float64)
    dx, dy = 0.2 * (x2 - x1), 0.05 * (y2 - y1)
    return np.array([x1 + dx, y1 + dy, x2 - dx, y2 - dy])


def colour_signature(rgb: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    """HSV histograms of the upper and lower half of the box, concatenated, each L1-normalised."""
    patch = crop(rgb, _inner(box))
    if patch is None or patch.shape[0] < 4:
        return None
    hsv = cv2.cvtColor(patch, cv2.COLOR_RGB2HSV)
    half = hsv.shape[0] // 2
    parts = []
    for part in (hsv[:half], hsv[half:]):
        h = cv2.calcHist([part], [0, 1, 2], None, [_H_BINS, _S_BINS, _V_BINS], [0, 180, 0, 256, 0, 256]).ravel()
        parts.append(h / max(float(h.sum()), 1.0))
    return np.concatenate(parts).astype(np.float32)


def signatures(rgb: np.ndarray, boxes: np.ndarray) -> list[np.ndarray | None]:
    """:func:`colour_signature` of each box (a handful of detections per frame)."""
    return [colour_signature(rgb, b) for b in np.asarray(boxes).reshape(-1, 4)]


def similarity(model: np.ndarray | None, sigs: list[np.ndarray | None]) -> np.ndarray:
    """Bhattacharyya coefficient (0..1) of ``model`` with each signature; 0.5 (unknown) where one is missing."""
    out = np.full(len(sigs), 0.5, np.float32)
    if model is None:
        return out
    ok = [i for i, s in enumerate(sigs) if s is not None]
    if ok:
        stack = np.stack([sigs[i] for i in ok])
        out[ok] = np.sqrt(stack * model[None, :]).sum(axis=1) / 2.0  # two halves, each sums to 1
    return out
