"""Thumbnails for the media bin and filmstrips for timeline clips.

Everything here is RGB uint8; :func:`encode_png` / :func:`decode_png` are the
edge where OpenCV's BGR order is converted. Thumbnails keep the aspect ratio
of the stored picture (the display rotation is not applied, like the reader).
"""

from __future__ import annotations

from typing import Optional, Union

import cv2
import numpy as np

from core.errors import MediaError
from core.media._av import PathLike
from core.media.reader import FrameReader

__all__ = ["decode_png", "encode_png", "filmstrip", "filmstrip_indices", "fit_size", "thumbnail"]

ReaderLike = Union[FrameReader, PathLike]


def fit_size(width: int, height: int, max_size: tuple[int, int]) -> tuple[int, int]:
    """Largest (w, h) with the aspect of ``width x height`` that fits in ``max_size``."""
    mw, mh = int(max_size[0]), int(max_size[1])
    if width <= 0 or height <= 0 or mw <= 0 or mh <= 0:
        raise ValueError(f"sizes must be positive: {width}x{height} into {mw}x{mh}")
    scale = min(mw / width, mh / height)
    return max(1, min(mw, round(width * scale))), max(1, min(mh, round(height * scale)))


def _resize(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    if (rgb.shape[1], rgb.shape[0]) == size:
        return np.array(rgb)  # a writable copy, not the reader's cached frame
    shrinking = size[0] < rgb.shape[1]
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


class _Opened:
    """Use a given reader as is, or open (and later close) one for a path."""

    def __init__(self, source: ReaderLike):
        self._own = not isinstance(source, FrameReader)
        self.reader = FrameReader(source, cache_size=2) if self._own else source

    def __enter__(self) -> FrameReader:
        return self.reader

    def __exit__(self, *exc) -> None:
        if self._own:
            self.reader.close()


def thumbnail(
    path_or_reader: ReaderLike,
    frame: Optional[int] = None,
    max_size: tuple[int, int] = (160, 90),
) -> np.ndarray:
    """RGB thumbnail of one frame (default: the middle one), fitted into ``max_size``.

    The aspect ratio is kept, so one side is ``max_size`` and the other is at
    most that; small sources are scaled up to fit too.
    """
    with _Opened(path_or_reader) as reader:
        index = reader.frame_count // 2 if frame is None else int(frame)
        rgb = reader.frame(index)
        return _resize(rgb, fit_size(rgb.shape[1], rgb.shape[0], max_size))


def filmstrip_indices(frame_count: int, count: int) -> np.ndarray:
    """Frames a filmstrip of ``count`` tiles shows: the middle frame of each equal part."""
    if count < 1 or frame_count < 1:
        raise ValueError("a filmstrip needs at least one frame and one tile")
    return np.minimum(((np.arange(count) * 2 + 1) * frame_count) // (2 * count), frame_count - 1)


def filmstrip(path_or_reader: ReaderLike, count: int, height: int) -> np.ndarray:
    """``count`` thumbnails of ``height`` rows side by side: RGB ``(height, count * tile_w, 3)``.

    Tile ``k`` shows frame ``filmstrip_indices(frame_count, count)[k]``; the
    tile width keeps the picture's aspect ratio.
    """
    if height < 1:
        raise ValueError("filmstrip height must be positive")
    with _Opened(path_or_reader) as reader:
        w, h = reader.size
        tile = (max(1, round(w * height / h)), int(height))
        tiles = [_resize(reader.frame(int(i)), tile) for i in filmstrip_indices(reader.frame_count, count)]
    return np.concatenate(tiles, axis=1)


def encode_png(rgb: np.ndarray) -> bytes:
    """PNG bytes of an RGB (or RGBA, or grey) uint8 image."""
    img = np.asarray(rgb)
    if img.dtype != np.uint8 or img.ndim not in (2, 3) or (img.ndim == 3 and img.shape[2] not in (1, 3, 4)):
        raise ValueError(f"encode_png needs uint8 grey/RGB/RGBA, not {img.dtype} {img.shape}")
    if img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_RGBA2BGRA)
    ok, buf = cv2.imencode(".png", img)
    if not ok:
        raise ValueError("OpenCV could not encode the image as PNG")
    return buf.tobytes()


def decode_png(data: bytes) -> np.ndarray:
    """RGB (or RGBA / grey, as stored) uint8 array from PNG bytes."""
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED) if data else None
    if img is None:
        raise MediaError("thumbnail: the data is not a PNG image")
    if img.dtype != np.uint8:  # 16-bit PNG
        img = (img >> 8).astype(np.uint8)
    if img.ndim == 3 and img.shape[2] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    elif img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
    return img
