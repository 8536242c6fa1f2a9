"""Pictures of a sequence at a frame: what the viewer shows and what ``luma play`` plays.

:class:`TimelineFrameSource` is the viewer-facing face of
:class:`core.render.compositor.Compositor` (blend modes, transforms, filters,
transitions): the same pictures the renderer renders, at the preview size.
:func:`fit_into` is the letterbox fit the compositor places pictures with
(see :func:`core.render.transform.fit_rect`).
"""

from __future__ import annotations

import cv2
import numpy as np

from core.render.compositor import Compositor
from core.render.transform import fit_rect
from core.timeline.model import Timeline


def fit_into(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale ``rgb`` to fit ``width`` x ``height`` keeping its aspect; black bars around."""
    h, w = rgb.shape[:2]
    if (w, h) == (width, height):
        return rgb
    x0, y0, nw, nh = fit_rect(w, h, width, height)
    interp = cv2.INTER_AREA if nw < w else cv2.INTER_LINEAR
    scaled = cv2.resize(rgb, (nw, nh), interpolation=interp)
    out = np.zeros((height, width, 3), np.uint8)
    out[y0:y0 + nh, x0:x0 + nw] = scaled
    return out


class TimelineFrameSource:
    """Decodes the picture of a timeline at a frame. Thread-safe.

    ``preview_height``: when set, decode from a proxy of at most this height
    if one exists (and output at that height); None = full quality.
    """

    def __init__(self, timeline: Timeline, max_readers: int = 8, preview_height: int | None = None):
        self.timeline = timeline
        self.preview_height = preview_height
        self.compositor = Compositor(timeline, preview_height=preview_height, max_readers=max_readers)

    @property
    def errors(self) -> dict[int, str]:
        """media id -> last error (shown by the GUI)."""
        return self.compositor.errors

    @property
    def output_size(self) -> tuple[int, int]:
        return self.compositor.output_size

    def source_frame_index(self, media_id: int, seconds) -> int:
        return self.compositor.source_frame_index(media_id, seconds)

    def frame(self, frame: int) -> np.ndarray:
        """RGB uint8 picture of the sequence at ``frame`` (black where there is no clip; may be read-only)."""
        return self.compositor.frame(frame)

    def close(self) -> None:
        self.compositor.close()
