"""Thumbnails, filmstrips and the PNG edge (RGB inside, BGR only in OpenCV)."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import MediaError
from core.media import FrameReader, decode_png, encode_png, filmstrip, thumbnail
from core.media.thumbnails import filmstrip_indices, fit_size
from resources.footage import read_barcode, render_frame


def test_thumbnail_of_path_fits_and_keeps_aspect(clip_mp4, clip_mkv):
    t = thumbnail(clip_mp4)  # 320x240 into 160x90 -> 120x90
    assert t.shape == (90, 120, 3) and t.dtype == np.uint8
    assert read_barcode(t) == 24  # the middle frame of 48
    t = thumbnail(clip_mkv, frame=7, max_size=(64, 64))  # 256x144 -> 64x36
    assert t.shape == (36, 64, 3)
    assert t.flags.writeable  # a thumbnail is the caller's own copy, not a cached frame


def test_thumbnail_from_reader_and_upscaling(seek_clip, still_png):
    with FrameReader(seek_clip) as r:
        t = thumbnail(r, frame=42, max_size=(640, 640))
        assert t.shape == (480, 640, 3)
        assert read_barcode(t) == 42
        assert not r.closed  # a reader passed in stays open
    assert thumbnail(still_png).shape == (90, 150, 3)


def test_thumbnail_of_audio_only(audio_wav):
    with pytest.raises(MediaError, match="no video stream"):
        thumbnail(audio_wav)


def test_fit_size():
    assert fit_size(1920, 1080, (160, 90)) == (160, 90)
    assert fit_size(1080, 1920, (160, 90)) == (51, 90)
    assert fit_size(100, 100, (160, 90)) == (90, 90)
    with pytest.raises(ValueError):
        fit_size(0, 10, (10, 10))


def test_filmstrip(seek_clip):
    idx = filmstrip_indices(100, 5)
    assert list(idx) == [10, 30, 50, 70, 90]
    assert list(filmstrip_indices(3, 5)) == [0, 0, 1, 2, 2]
    strip = filmstrip(seek_clip, 5, 48)  # tiles 64x48
    assert strip.shape == (48, 5 * 64, 3)
    with FrameReader(seek_clip) as r:
        strip2 = filmstrip(r, 4, 120)
    assert strip2.shape == (120, 4 * 160, 3)
    assert [read_barcode(strip2[:, k * 160 : (k + 1) * 160]) for k in range(4)] == list(filmstrip_indices(100, 4))


def test_png_round_trip_keeps_rgb_order():
    rgb = render_frame(9, (160, 90), barcode=False)
    rgb[0, 0] = (255, 0, 0)
    data = encode_png(rgb)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    back = decode_png(data)
    assert np.array_equal(back, rgb)
    assert tuple(back[0, 0]) == (255, 0, 0)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 128, np.uint8)])
    assert np.array_equal(decode_png(encode_png(rgba)), rgba)
    grey = rgb[..., 1].copy()
    assert np.array_equal(decode_png(encode_png(grey)), grey)


def test_png_errors():
    with pytest.raises(MediaError, match="not a PNG"):
        decode_png(b"definitely not a png")
    with pytest.raises(MediaError):
        decode_png(b"")
    with pytest.raises(ValueError):
        encode_png(np.zeros((4, 4, 3), np.float32))
