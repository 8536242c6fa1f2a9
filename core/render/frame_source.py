"""Pictures of a sequence at a frame: what the viewer shows and renders use.

For now the picture at a frame is the top-most visible video clip's source
frame, fitted (aspect kept, letterboxed) into the sequence size; the full
compositor (blend modes, transforms, filters, transitions) replaces
:meth:`TimelineFrameSource.frame` with the same interface.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np

from core.errors import MediaError
from core.media.reader import FrameReader
from core.project import media_store
from core.time import seconds_to_frames
from core.timeline.model import Timeline


def fit_into(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale ``rgb`` to fit ``width`` x ``height`` keeping its aspect; black bars around."""
    h, w = rgb.shape[:2]
    if (w, h) == (width, height):
        return rgb
    scale = min(width / w, height / h)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(rgb, (nw, nh), interpolation=interp)
    out = np.zeros((height, width, 3), np.uint8)
    x0, y0 = (width - nw) // 2, (height - nh) // 2
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
        self._readers: OrderedDict[tuple[int, str], FrameReader] = OrderedDict()
        self._max_readers = max_readers
        self._lock = threading.RLock()
        self.errors: dict[int, str] = {}  # media id -> last error (shown by the GUI)

    @property
    def output_size(self) -> tuple[int, int]:
        seq = self.timeline.sequence
        if self.preview_height and self.preview_height < seq.height:
            h = self.preview_height
            w = max(2, round(seq.width * h / seq.height / 2) * 2)
            return w, h
        return seq.width, seq.height

    def _reader(self, media_id: int) -> FrameReader:
        project = self.timeline.project
        path: Path | None = None
        if self.preview_height:
            path = media_store.best_proxy(project, media_id, self.preview_height)
        if path is None:
            path = media_store.media_path(project, media_id)
        key = (media_id, str(path))
        reader = self._readers.get(key)
        if reader is None:
            reader = FrameReader(path)
            self._readers[key] = reader
            while len(self._readers) > self._max_readers:
                _, old = self._readers.popitem(last=False)
                old.close()
        else:
            self._readers.move_to_end(key)
        return reader

    def source_frame_index(self, media_id: int, seconds) -> int:
        reader = self._reader(media_id)
        rate = reader.info.video.rate if reader.info.video else self.timeline.rate
        return seconds_to_frames(seconds, rate, "floor")

    def frame(self, frame: int) -> np.ndarray:
        """RGB uint8 picture of the sequence at ``frame`` (black where there is no clip)."""
        w, h = self.output_size
        with self._lock:
            for clip, seconds in self.timeline.video_stack(frame):
                try:
                    reader = self._reader(clip.media_id)
                    if reader.info.kind == "image":
                        rgb = reader.frame(0)
                    else:
                        rgb = reader.frame(self.source_frame_index(clip.media_id, seconds))
                except MediaError as exc:
                    self.errors[clip.media_id] = str(exc)
                    continue
                self.errors.pop(clip.media_id, None)
                return fit_into(rgb, w, h)
        return np.zeros((h, w, 3), np.uint8)

    def close(self) -> None:
        with self._lock:
            for r in self._readers.values():
                r.close()
            self._readers.clear()
