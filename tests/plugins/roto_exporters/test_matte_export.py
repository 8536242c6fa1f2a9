"""Matte sequences (core.vision.roto_export): PNG read back with OpenCV, EXR with the OpenEXR package."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.vision.roto_export import MatteSource, export_formats, export_roto, sequence_path
from core.vision.types import VisionError

W, H = 64, 48


def soft_matte(frame: int) -> np.ndarray:
    """Hard 0 and 255 regions, a soft edge through every value in between, different on every frame."""
    m = np.zeros((H, W), np.uint8)
    m[:, 40:] = 255
    m[:16, :] = np.arange(256, dtype=np.uint8)[(np.arange(W) * 4 + frame) % 256]
    m[20 + frame % 5, 5] = 1  # a lone almost-black pixel
    m[30, 10 + frame % 7] = 254
    return m


@pytest.fixture
def source() -> MatteSource:
    return MatteSource(frames=[0, 3, 4, 9], matte=soft_matte, width=W, height=H)


def test_png_sequence_keeps_every_value_and_numbers_frames_from_1(tmp_path, source):
    seen = []
    files = export_roto("png", tmp_path / "mattes", mattes=source, progress=lambda f, msg: seen.append(f))
    assert [p.name for p in files] == ["matte.0001.png", "matte.0004.png", "matte.0005.png", "matte.0010.png"]
    assert sorted(p.name for p in (tmp_path / "mattes").iterdir()) == [p.name for p in files]  # no .part left
    for frame, path in zip(source.frames, files):
        got = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        assert got.dtype == np.uint8 and got.shape == (H, W)  # 8-bit, one grey channel
        np.testing.assert_array_equal(got, soft_matte(frame))
    assert set(np.unique(cv2.imread(str(files[0]), cv2.IMREAD_UNCHANGED))) >= {0, 1, 128, 254, 255}
    assert seen == pytest.approx([0.25, 0.5, 0.75, 1.0])


@pytest.mark.parametrize("pattern, first_frame, names", [
    ("shot_####.png", 1001, ["shot_1001.png", "shot_1004.png", "shot_1005.png", "shot_1010.png"]),
    ("m.%05d.png", 0, ["m.00000.png", "m.00003.png", "m.00004.png", "m.00009.png"]),
])
def test_png_frame_patterns_and_first_frame(tmp_path, source, pattern, first_frame, names):
    files = export_roto("png", tmp_path / "out" / pattern, mattes=source, first_frame=first_frame)
    assert [p.name for p in files] == names
    np.testing.assert_array_equal(cv2.imread(str(files[-1]), cv2.IMREAD_UNCHANGED), soft_matte(9))


def test_sequence_path_rejects_a_broken_pattern(tmp_path):
    with pytest.raises(VisionError, match="frame pattern"):
        sequence_path(tmp_path / "m.%d%s.png", 1, ".png")


def test_exr_sequence_holds_the_matte_over_255_as_float32(tmp_path, source):
    if dict((n, why) for n, _, why in export_formats())["exr"]:
        pytest.skip("OpenEXR is not installed")
    import OpenEXR

    files = export_roto("exr", tmp_path / "x", mattes=source, first_frame=1)
    assert [p.name for p in files] == ["matte.0001.exr", "matte.0004.exr", "matte.0005.exr", "matte.0010.exr"]
    for frame, path in zip(source.frames, files):
        with OpenEXR.File(str(path), separate_channels=True) as f:
            channels = f.channels()
            header = f.header()
            assert sorted(channels) == ["A", "B", "G", "R"]
            # the data window is the matte's bounding box inside the full-frame display window
            lo, hi = header["dataWindow"]
            dlo, dhi = header["displayWindow"]
            assert dlo.tolist() == [0, 0] and (dhi - dlo + 1).tolist() == [W, H]
            want_full = soft_matte(frame)
            ys, xs = np.nonzero(want_full)
            assert lo.tolist() == [xs.min(), ys.min()] and hi.tolist() == [xs.max(), ys.max()]
            crop = channels["A"].pixels
            assert crop.dtype == np.float32 and crop.shape == (hi[1] - lo[1] + 1, hi[0] - lo[0] + 1)
            a = np.zeros((H, W), np.float32)  # outside the data window an EXR reader sees 0
            a[lo[1]:hi[1] + 1, lo[0]:hi[0] + 1] = crop
            want = soft_matte(frame).astype(np.float64) / 255.0
            np.testing.assert_allclose(a, want, rtol=0, atol=1e-7)
            assert a.min() == 0.0 and a.max() == 1.0
            for c in "RGB":
                np.testing.assert_array_equal(channels[c].pixels, crop)
            assert header["compression"] == OpenEXR.ZIP_COMPRESSION
        with OpenEXR.File(str(path)) as f:  # as a viewer reads it: one RGBA image, every channel the matte
            rgba = f.channels()["RGBA"].pixels
            assert rgba.shape == crop.shape + (4,)
            for c in range(4):
                np.testing.assert_array_equal(rgba[..., c], crop)


@pytest.mark.parametrize("fmt", ["png", "exr"])
def test_unwritable_destination_raises_vision_error(tmp_path, source, fmt):
    if dict((n, why) for n, _, why in export_formats())[fmt]:
        pytest.skip(f"{fmt} is not available")
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    with pytest.raises(VisionError, match="cannot create the folder"):
        export_roto(fmt, blocker / "mattes", mattes=source)
    # a target that exists as a folder where the file should go
    (tmp_path / "out" / f"matte.0001.{fmt}").mkdir(parents=True)
    with pytest.raises(VisionError, match="cannot write"):
        export_roto(fmt, tmp_path / "out", mattes=source)


def test_wrong_matte_shape_or_type_is_refused(tmp_path):
    bad = MatteSource(frames=[0], matte=lambda f: np.zeros((H, W + 1), np.uint8), width=W, height=H)
    with pytest.raises(VisionError, match="expected"):
        export_roto("png", tmp_path, mattes=bad)
    bad = MatteSource(frames=[0], matte=lambda f: np.zeros((H, W), np.float32), width=W, height=H)
    with pytest.raises(VisionError, match="uint8"):
        export_roto("png", tmp_path, mattes=bad)


def test_unknown_format_and_missing_mattes(tmp_path):
    with pytest.raises(VisionError, match="unknown roto export format"):
        export_roto("gif", tmp_path, mattes=None)
    with pytest.raises(VisionError, match="no mattes"):
        export_roto("png", tmp_path, mattes=None)
