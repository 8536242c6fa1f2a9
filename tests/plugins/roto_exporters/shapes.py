"""Test shapes for the roto exporters: a walking person-sized silhouette as a RotoAnimation.

Used by the exporter tests and by tests/benchmarks/bench_roto_export.py.
The outline is ``points`` vertices (24..40) resampled from a hand-drawn
person polygon, with smooth, asymmetric Bezier handles (Catmull-Rom
tangents, the in-handle shorter than the out-handle, so a swapped handle
shows), moving and deforming from frame to frame.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from core.vision.roto_model import RotoAnimation, SplineTrack

__all__ = ["person_outline", "person_animation"]

# a standing person, facing the camera, in a unit box (x right, y down): head, shoulders, arms, legs
_PERSON = np.array([
    (0.50, 0.00), (0.58, 0.03), (0.61, 0.10), (0.57, 0.16), (0.70, 0.20), (0.78, 0.30), (0.84, 0.50),
    (0.78, 0.52), (0.72, 0.34), (0.70, 0.55), (0.68, 0.75), (0.66, 1.00), (0.55, 1.00), (0.52, 0.62),
    (0.48, 0.62), (0.45, 1.00), (0.34, 1.00), (0.32, 0.75), (0.30, 0.55), (0.28, 0.34), (0.22, 0.52),
    (0.16, 0.50), (0.22, 0.30), (0.30, 0.20), (0.43, 0.16), (0.39, 0.10), (0.42, 0.03),
])


def _resample(poly: np.ndarray, n: int) -> np.ndarray:
    closed = np.vstack([poly, poly[:1]])
    seg = np.linalg.norm(np.diff(closed, axis=0), axis=1)
    s = np.concatenate([[0], np.cumsum(seg)])
    t = np.linspace(0, s[-1], n, endpoint=False)
    return np.stack([np.interp(t, s, closed[:, 0]), np.interp(t, s, closed[:, 1])], axis=1)


def person_outline(points: int = 32, height: float = 420.0, centre=(640.0, 360.0)):
    """(vertices, in_tangents, out_tangents) of a person ``height`` pixels tall centred on ``centre``."""
    unit = _resample(_PERSON, points)
    v = (unit - 0.5) * height * np.array([0.55, 1.0]) + np.asarray(centre, dtype=np.float64)
    d = (np.roll(v, -1, axis=0) - np.roll(v, 1, axis=0)) / 6.0
    return v, -0.6 * d, 0.9 * d


def person_animation(frames: int = 100, points: int = 32, width: int = 1280, height: int = 720,
                     rate=Fraction(25), start: int = 0, step: int = 1, hole: bool = False,
                     name: str = "performer") -> RotoAnimation:
    """The person walking left to right over ``frames`` keyed frames (every ``step`` source frames from
    ``start``), breathing (anisotropic scale) and swaying; ``hole`` adds a subtract track (a hole in
    the torso)."""
    keys = start + step * np.arange(frames)
    vs, ins, outs = [], [], []
    for k in range(frames):
        phase = k / max(frames - 1, 1)
        cx = width * (0.3 + 0.4 * phase)
        cy = height * 0.5 + 12 * np.sin(2 * np.pi * phase * 2)
        v, i, o = person_outline(points, height * 0.6, (cx, cy))
        sx = 1.0 + 0.05 * np.sin(2 * np.pi * phase * 3)
        sway = 0.04 * np.sin(2 * np.pi * phase * 1.5)
        rel = v - (cx, cy)
        rel = np.stack([rel[:, 0] * sx + sway * rel[:, 1], rel[:, 1]], axis=1)
        m = np.array([[sx, sway], [0.0, 1.0]])
        vs.append(rel + (cx, cy))
        ins.append(i @ m.T)
        outs.append(o @ m.T)
    tracks = [SplineTrack("body", keys, np.stack(vs), np.stack(ins), np.stack(outs),
                          feather_inner=1.5, feather_outer=4.0)]
    if hole:
        hv, hi, ho = [], [], []
        t = np.linspace(0, 2 * np.pi, 8, endpoint=False)
        for k in range(frames):
            c = vs[k].mean(axis=0)
            ring = np.stack([c[0] + 25 * np.cos(t), c[1] - 40 + 35 * np.sin(t)], axis=1)
            tan = np.stack([-25 * np.sin(t), 35 * np.cos(t)], axis=1) * 0.26
            hv.append(ring)
            hi.append(-tan)
            ho.append(tan)
        tracks.append(SplineTrack("hole", keys, np.stack(hv), np.stack(hi), np.stack(ho), mode="subtract"))
    return RotoAnimation(name, width, height, Fraction(rate), tracks, source="walk.mp4")
