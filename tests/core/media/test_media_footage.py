"""The synthetic test footage: barcodes survive encoding, the clips are what they claim."""

from __future__ import annotations

from fractions import Fraction

import av
from av.video.frame import PictureType
import cv2
import numpy as np
import pytest

from resources.footage import (
    BARCODE_BITS,
    beat_times,
    click_track,
    read_barcode,
    render_frame,
    write_test_clip,
)


@pytest.mark.parametrize("index", [0, 1, 2, 255, 256, 1000, 4095, 2**BARCODE_BITS - 1])
def test_barcode_round_trip_on_rendered_frames(index):
    assert read_barcode(render_frame(index)) == index


@pytest.mark.parametrize("size", [(160, 90), (320, 240), (1280, 720), (256, 144)])
def test_barcode_survives_rescaling_and_grey(size):
    rgb = render_frame(12345, size)
    assert read_barcode(rgb) == 12345
    assert read_barcode(cv2.resize(rgb, (size[0] * 3 // 4, size[1] * 3 // 4), interpolation=cv2.INTER_AREA)) == 12345
    assert read_barcode(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)) == 12345


def test_read_barcode_rejects_frames_without_one():
    with pytest.raises(ValueError, match="no barcode"):
        read_barcode(render_frame(5, barcode=False))
    with pytest.raises(ValueError):
        read_barcode(np.zeros((4, 4, 3), np.uint8))


def test_render_frame_is_deterministic_and_moves():
    a, b = render_frame(10), render_frame(10)
    assert a.dtype == np.uint8 and a.shape == (240, 320, 3)
    assert np.array_equal(a, b)
    assert not np.array_equal(render_frame(10, barcode=False), render_frame(11, barcode=False))


def test_render_frame_validates():
    with pytest.raises(ValueError):
        render_frame(2**BARCODE_BITS)
    with pytest.raises(ValueError):
        render_frame(0, (100, 100))  # too narrow for a barcode
    assert render_frame(0, (100, 100), barcode=False).shape == (100, 100, 3)


def test_click_track_has_beeps_on_beats():
    samples = click_track(Fraction(2), 48000, 120, channels=2)
    assert samples.shape == (2, 96000) and samples.dtype == np.float32
    assert beat_times(Fraction(2), 120) == [0, Fraction(1, 2), 1, Fraction(3, 2)]
    for t in beat_times(Fraction(2), 120):
        s = int(t * 48000)
        assert np.abs(samples[:, s : s + 1440]).max() > 0.5
        assert np.abs(samples[:, s + 1500 : s + 20000]).max() == 0


@pytest.mark.parametrize(
    "name, codec",
    [("h.mp4", "h264"), ("m.avi", "mpeg4"), ("j.avi", "mjpeg"), ("h.mkv", "h264"), ("j.mov", "mjpeg")],
)
def test_every_codec_decodes_to_its_barcodes(tmp_path, name, codec):
    path = write_test_clip(tmp_path / name, frames=14, codec=codec, audio=True)
    with av.open(str(path)) as c:
        assert [s.type for s in c.streams] == ["video", "audio"]
        idx = [read_barcode(f.to_ndarray(format="rgb24")) for f in c.decode(video=0)]
    assert idx == list(range(14))


def test_h264_clip_has_b_frames_and_gop(tmp_path):
    path = write_test_clip(tmp_path / "b.mp4", frames=30, gop=10, audio=False)
    with av.open(str(path)) as c:
        types = [PictureType(f.pict_type).name for f in c.decode(video=0)]
    assert "B" in types
    keys = [i for i, t in enumerate(types) if t == "I"]
    assert keys[:3] == [0, 10, 20]


def test_write_test_clip_validates(tmp_path):
    with pytest.raises(ValueError):
        write_test_clip(tmp_path / "x.mp4", codec="vp9")
    with pytest.raises(ValueError):
        write_test_clip(tmp_path / "x.mp4", size=(321, 240))
    with pytest.raises(ValueError):
        write_test_clip(tmp_path / "x.mp4", frames=0)
