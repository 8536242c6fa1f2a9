"""Frame viewer tests: GLViewer through real OpenGL, RasterViewer through QPainter.

The GLViewer tests need the ``xcb`` Qt platform on an X server with OpenGL
(pytest-xvfb starts Xvfb; Mesa llvmpipe is enough). They skip, saying why,
when the QApplication of this run cannot show OpenGL widgets (for instance
``QT_QPA_PLATFORM=offscreen``). RasterViewer tests run on any platform.

The key check decodes frames of an H.264 clip written here with PyAV and
asserts the GL framebuffer holds exactly the decoded pixels at zoom 1.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import av
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QImage, QWheelEvent
from PySide6.QtWidgets import QApplication

from widgets.viewer import (
    GLViewer,
    RasterViewer,
    create_viewer,
    is_software_renderer,
    opengl_renderer,
    opengl_unavailable_reason,
)
from widgets.viewer import gl_viewer as gl_viewer_module

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIP_FRAMES = 10


# ---- helpers ------------------------------------------------------------------------


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """QImage -> HxWx3 uint8 RGB copy."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    rows = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes())
    rows = rows.reshape(height, image.bytesPerLine())
    return rows[:, : width * 3].reshape(height, width, 3).copy()


def grab_pixels(viewer) -> np.ndarray:
    """What the viewer shows, as RGB: the GL framebuffer, or the widget's grab()."""
    if isinstance(viewer, GLViewer):
        return qimage_to_rgb(viewer.grabFramebuffer())
    pixmap = viewer.grab()
    if pixmap.depth() >= 24:
        return qimage_to_rgb(pixmap.toImage())
    # A 16-bit X screen (pytest-xvfb's default colour depth) would quantise the
    # pixmap; render the same paintEvent into a 32-bit image instead.
    image = QImage(viewer.size(), QImage.Format.Format_RGB32)
    viewer.render(image)
    return qimage_to_rgb(image)


def pattern_frame(index: int, width: int, height: int) -> np.ndarray:
    """Distinct coloured blocks over gradients; changes with ``index``."""
    y, x = np.mgrid[0:height, 0:width]
    red = (x * 255 // max(width - 1, 1) + 23 * index) % 256
    green = (y * 255 // max(height - 1, 1) + 41 * index) % 256
    blue = ((x // 16 + 2 * (y // 16) + index) % 4) * 60 + 40
    return np.stack([red, green, blue], axis=-1).astype(np.uint8)




def write_h264(path: Path, frames: list[np.ndarray], fps: int = 25) -> None:
    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream("h264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "10", "preset": "ultrafast"}
        for rgb in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def decode_rgb(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[tuple[int, int], list[np.ndarray]]:
    """Decoded RGB frames of two H.264 clips, keyed by (width, height).

    150 px rows are 450 bytes: not a multiple of 4, so GL_UNPACK_ALIGNMENT matters.
    """
    folder = tmp_path_factory.mktemp("viewer_clips")
    decoded = {}
    for width, height in ((150, 100), (64, 48)):
        path = folder / f"clip_{width}x{height}.mp4"
        write_h264(path, [pattern_frame(i, width, height) for i in range(CLIP_FRAMES)])
        decoded[(width, height)] = decode_rgb(path)
        assert len(decoded[(width, height)]) == CLIP_FRAMES
        assert decoded[(width, height)][0].shape == (height, width, 3)
    return decoded


@pytest.fixture
def make_gl(qtbot, qapp):
    reason = opengl_unavailable_reason()
    if reason is not None:
        pytest.skip(
            "GLViewer tests need an X server with OpenGL and the xcb Qt platform "
            f"(pytest-xvfb provides Xvfb): {reason}"
        )

    def make(width: int, height: int) -> GLViewer:
        viewer = GLViewer()
        qtbot.addWidget(viewer)
        viewer.setFixedSize(width, height)
        viewer.show()
        qtbot.waitExposed(viewer)
        assert viewer.gl_error() is None, viewer.gl_error()
        return viewer

    return make


@pytest.fixture
def make_raster(qtbot, qapp):
    def make(width: int, height: int) -> RasterViewer:
        viewer = RasterViewer()
        qtbot.addWidget(viewer)
        viewer.setFixedSize(width, height)
        viewer.show()
        qtbot.waitExposed(viewer)
        return viewer

    return make


@pytest.fixture(params=[pytest.param("gl", marks=pytest.mark.gl), "raster"])
def make_viewer(request):
    """Either viewer: behaviour shared by both is tested on both."""
    return request.getfixturevalue("make_gl" if request.param == "gl" else "make_raster")


# ---- the key test: decoded H.264 frame == GL framebuffer -----------------------------


@pytest.mark.gl
@pytest.mark.parametrize("number", [0, 4, 9])
def test_gl_framebuffer_equals_decoded_h264_frame(make_gl, clips, qtbot, number):
    frame = clips[(150, 100)][number]
    viewer = make_gl(150, 100)
    viewer.set_zoom(1.0)
    with qtbot.waitSignal(viewer.frameShown, timeout=5000) as shown:
        viewer.set_frame(frame, number=number)
    assert shown.args == [number]
    pixels = grab_pixels(viewer)
    assert pixels.shape == frame.shape
    assert int(np.abs(pixels.astype(np.int16) - frame).max()) <= 2
    assert viewer.uploads == 1
    assert viewer.frame_size() == (150, 100)


@pytest.mark.gl
def test_gl_fit_in_equal_size_widget_is_exact(make_gl, clips):
    frame = clips[(64, 48)][3]
    viewer = make_gl(64, 48)
    viewer.set_frame(frame)
    assert viewer.zoom() is None and viewer.effective_zoom() == 1.0
    assert int(np.abs(grab_pixels(viewer).astype(np.int16) - frame).max()) <= 2


def test_raster_grab_equals_decoded_h264_frame(make_raster, clips):
    frame = clips[(150, 100)][6]
    viewer = make_raster(150, 100)
    viewer.set_zoom(1.0)
    viewer.set_frame(frame, number=6)
    assert int(np.abs(grab_pixels(viewer).astype(np.int16) - frame).max()) <= 2


# ---- texture management -----------------------------------------------------------------


@pytest.mark.gl
def test_gl_texture_reallocated_only_on_size_change(make_gl, clips):
    viewer = make_gl(150, 100)
    viewer.set_zoom(1.0)
    sequence = [
        clips[(150, 100)][0],
        clips[(150, 100)][1],  # same size: glTexSubImage2D
        clips[(64, 48)][2],  # new size: glTexImage2D
        clips[(150, 100)][3],  # back again: glTexImage2D
    ]
    allocations = []
    for frame in sequence:
        viewer.set_frame(frame)
        pixels = grab_pixels(viewer)
        allocations.append(viewer.texture_allocations)
        height, width = frame.shape[:2]
        assert viewer.texture_size() == (width, height)
        left, top = (150 - width) // 2, (100 - height) // 2
        shown = pixels[top : top + height, left : left + width]
        assert int(np.abs(shown.astype(np.int16) - frame).max()) <= 2
    assert allocations == [1, 1, 2, 3]
    assert viewer.uploads == 4
    grab_pixels(viewer)  # a repaint without a new frame uploads nothing
    assert viewer.uploads == 4
    assert viewer.last_upload_ms >= 0.0


@pytest.mark.gl
def test_gl_accepts_strided_frames_without_copy(make_gl):
    wide = pattern_frame(5, 100, 48)
    crop = wide[:, 20:84]  # rows 300 bytes apart, 64 pixels wide
    viewer = make_gl(64, 48)
    viewer.set_zoom(1.0)
    viewer.set_frame(crop)
    assert np.shares_memory(viewer.frame(), wide)  # GL_UNPACK_ROW_LENGTH, no copy
    assert np.array_equal(grab_pixels(viewer), crop)
    flipped = pattern_frame(6, 64, 48)[::-1]  # negative strides: copied once
    viewer.set_frame(flipped)
    assert np.array_equal(grab_pixels(viewer), flipped)


def test_rgba_frames_show_their_rgb(make_viewer, clips):
    """HxWx4 frames (e.g. decoded with format="rgba") upload without conversion."""
    rgb = clips[(150, 100)][2]
    alpha = np.random.default_rng(3).integers(0, 256, rgb.shape[:2] + (1,), dtype=np.uint8)
    rgba = np.concatenate([rgb, alpha], axis=-1)
    viewer = make_viewer(150, 100)
    viewer.set_zoom(1.0)
    viewer.set_frame(rgba)
    assert np.array_equal(grab_pixels(viewer), rgb)
    viewer.set_frame(rgb)  # same size, other layout
    assert np.array_equal(grab_pixels(viewer), rgb)
    if isinstance(viewer, GLViewer):
        assert viewer.texture_allocations == 2


# ---- geometry shared by both viewers ---------------------------------------------------


def test_fit_letterbox_has_exact_black_bars(make_viewer):
    frame = pattern_frame(1, 320, 160) | np.uint8(64)  # no black pixel in the frame
    viewer = make_viewer(200, 200)
    viewer.set_frame(frame)
    assert viewer.zoom() is None
    assert viewer.effective_zoom() == pytest.approx(0.625)
    assert viewer.image_rect() == QRectF(0, 50, 200, 100)
    pixels = grab_pixels(viewer)
    assert not pixels[:50].any(), "top bar must be black"
    assert not pixels[150:].any(), "bottom bar must be black"
    assert (pixels[50:150].max(axis=-1) > 0).all(), "the picture fills rows 50..149"


def test_fit_pillarbox_for_tall_frame(make_viewer):
    frame = pattern_frame(2, 60, 120) | np.uint8(64)
    viewer = make_viewer(200, 100)
    viewer.set_frame(frame)
    assert viewer.image_rect() == QRectF(75, 0, 50, 100)
    pixels = grab_pixels(viewer)
    assert not pixels[:, :75].any() and not pixels[:, 125:].any()
    assert (pixels[:, 75:125].max(axis=-1) > 0).all()


def test_zoom_2x_shows_centre_pixels(make_viewer):
    frame = np.random.default_rng(7).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    viewer = make_viewer(64, 48)
    viewer.set_frame(frame)
    viewer.set_zoom(2.0)
    assert viewer.zoom() == 2.0
    expected = frame[12:36, 16:48].repeat(2, axis=0).repeat(2, axis=1)
    assert np.array_equal(grab_pixels(viewer), expected)
    viewer.fit()
    assert viewer.zoom() is None
    assert np.array_equal(grab_pixels(viewer), frame)


def test_middle_drag_pans(make_viewer, qtbot):
    frame = np.random.default_rng(8).integers(1, 256, (48, 64, 3), dtype=np.uint8)
    viewer = make_viewer(64, 48)
    viewer.set_frame(frame)
    viewer.set_zoom(1.0)
    qtbot.mousePress(viewer, Qt.MouseButton.MiddleButton, pos=QPoint(30, 20))
    qtbot.mouseMove(viewer, QPoint(40, 25))
    qtbot.mouseRelease(viewer, Qt.MouseButton.MiddleButton, pos=QPoint(40, 25))
    assert viewer.center() == QPointF(22, 19)
    pixels = grab_pixels(viewer)
    assert np.array_equal(pixels[5:, 10:], frame[:-5, :-10])
    assert not pixels[:5].any() and not pixels[:, :10].any()


def test_middle_click_without_drag_keeps_fit(make_viewer, qtbot):
    viewer = make_viewer(200, 200)
    viewer.set_frame(pattern_frame(0, 320, 160))
    qtbot.mouseClick(viewer, Qt.MouseButton.MiddleButton, pos=QPoint(100, 100))
    assert viewer.is_fit()
    qtbot.mousePress(viewer, Qt.MouseButton.MiddleButton, pos=QPoint(100, 100))
    qtbot.mouseMove(viewer, QPoint(110, 100))
    qtbot.mouseRelease(viewer, Qt.MouseButton.MiddleButton, pos=QPoint(110, 100))
    assert viewer.zoom() == pytest.approx(0.625)  # panning left fit mode at the fit factor
    assert viewer.center().x() == pytest.approx(160 - 10 / 0.625)
    assert viewer.image_rect() == QRectF(10, 50, 200, 100)


def test_wheel_zooms_about_the_cursor(make_viewer):
    viewer = make_viewer(160, 120)
    viewer.set_frame(pattern_frame(3, 160, 120))
    viewer.set_zoom(1.0)
    cursor = QPointF(40, 30)
    before = viewer.map_to_image(cursor)
    event = QWheelEvent(
        cursor, viewer.mapToGlobal(cursor), QPoint(0, 0), QPoint(0, 240),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    )
    QApplication.sendEvent(viewer, event)
    assert viewer.zoom() == pytest.approx(2.0**0.5)
    after = viewer.map_to_image(cursor)
    assert abs(after.x() - before.x()) < 1.0 and abs(after.y() - before.y()) < 1.0
    # Wheel steps across 100 % stop at exactly 1.0.
    viewer.set_zoom(0.9)
    QApplication.sendEvent(viewer, QWheelEvent(
        cursor, viewer.mapToGlobal(cursor), QPoint(0, 0), QPoint(0, 120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False,
    ))
    assert viewer.zoom() == 1.0


def test_safe_areas_are_drawn_over_the_frame(make_viewer):
    frame = np.zeros((100, 200, 3), np.uint8)
    viewer = make_viewer(200, 100)
    viewer.set_frame(frame)
    assert not grab_pixels(viewer).any()
    viewer.set_safe_areas(True)
    pixels = grab_pixels(viewer)
    # Outlines on the inside edge of action safe (90 %: x 10..189, y 5..94)
    # and title safe (80 %: x 20..179, y 10..89).
    drawn = pixels.any(axis=-1)
    assert np.nonzero(drawn[:, 100])[0].tolist() == [5, 10, 89, 94]
    assert np.nonzero(drawn[50])[0].tolist() == [10, 20, 179, 189]
    assert drawn.sum() == 2 * (180 + 88) + 2 * (160 + 78)
    viewer.set_safe_areas(False)
    assert not grab_pixels(viewer).any()


def test_clearing_the_frame_paints_black(make_viewer):
    viewer = make_viewer(64, 48)
    viewer.set_frame(pattern_frame(4, 64, 48) | np.uint8(64))
    assert grab_pixels(viewer).all()
    viewer.set_frame(None)
    assert viewer.frame_size() is None
    assert not grab_pixels(viewer).any()


def test_frame_shown_is_emitted_once_per_numbered_frame(make_viewer, qtbot):
    viewer = make_viewer(64, 48)
    shown = []
    viewer.frameShown.connect(shown.append)
    viewer.set_frame(pattern_frame(0, 64, 48), number=41)
    grab_pixels(viewer)
    grab_pixels(viewer)
    viewer.set_frame(pattern_frame(1, 64, 48))  # no number: no signal
    grab_pixels(viewer)
    viewer.set_frame(pattern_frame(2, 64, 48), number=42)
    grab_pixels(viewer)
    assert shown == [41, 42]


def test_frame_validation(qapp):
    viewer = RasterViewer()
    with pytest.raises(TypeError):
        viewer.set_frame(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(ValueError):
        viewer.set_frame(np.zeros((4, 4, 2), np.uint8))
    with pytest.raises(ValueError):
        viewer.set_frame(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError):
        viewer.set_zoom(0.0)
    viewer.set_zoom(1000.0)
    assert viewer.zoom() == 64.0
    viewer.deleteLater()


# ---- failure handling --------------------------------------------------------------------


@pytest.mark.gl
def test_gl_frame_over_texture_limit_shows_a_message(make_gl, qtbot):
    viewer = make_gl(200, 100)
    shown = []
    viewer.frameShown.connect(shown.append)
    limit = viewer._renderer.max_texture_size
    viewer.set_frame(np.zeros((1, limit + 1, 3), np.uint8), number=1)
    pixels = grab_pixels(viewer)
    assert pixels.any(), "the message is drawn"
    assert shown == [] and viewer.uploads == 0 and viewer.gl_error() is None




@pytest.mark.gl
def test_gl_shader_failure_is_reported_not_raised(make_gl, qtbot, monkeypatch):
    monkeypatch.setattr(gl_viewer_module, "_shader_source", lambda name: "this is not GLSL\n")
    viewer = GLViewer()
    qtbot.addWidget(viewer)
    viewer.setFixedSize(200, 100)
    with qtbot.waitSignal(viewer.glFailed, timeout=5000) as failed:
        viewer.show()
        qtbot.waitExposed(viewer)
    assert "did not compile" in failed.args[0]
    assert viewer.gl_error() == failed.args[0]
    viewer.set_frame(pattern_frame(0, 64, 48))
    pixels = grab_pixels(viewer)  # paints the message instead of crashing
    assert pixels.shape == (100, 200, 3) and pixels.any()


def test_platform_without_opengl_falls_back_to_raster():
    """On the offscreen platform (no OpenGL widgets) nothing crashes and the reason is given."""
    script = textwrap.dedent(
        """
        import numpy as np
        from PySide6.QtWidgets import QApplication
        app = QApplication([])
        from widgets.viewer import GLViewer, create_viewer, opengl_unavailable_reason
        print("REASON", opengl_unavailable_reason())
        print("CREATED", type(create_viewer()).__name__)
        viewer = GLViewer()
        failures = []
        viewer.glFailed.connect(failures.append)
        viewer.resize(64, 48)
        viewer.set_frame(np.zeros((48, 64, 3), np.uint8))
        viewer.show()
        for _ in range(5):
            app.processEvents()
        print("FAILED", failures)
        """
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO_ROOT))
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "REASON the Qt platform 'offscreen' cannot show OpenGL widgets" in result.stdout
    assert "CREATED RasterViewer" in result.stdout
    assert "FAILED [\"the Qt platform 'offscreen' cannot show OpenGL widgets\"]" in result.stdout


@pytest.mark.gl
def test_create_viewer_picks_gl_when_available(make_gl, qtbot):
    software = is_software_renderer(opengl_renderer())
    viewer = create_viewer(allow_software_gl=True)
    qtbot.addWidget(viewer)
    assert isinstance(viewer, GLViewer)
    viewer = create_viewer()
    qtbot.addWidget(viewer)
    assert isinstance(viewer, RasterViewer if software else GLViewer)


def test_software_renderer_names():
    assert is_software_renderer("llvmpipe (LLVM 15.0.6, 256 bits)")
    assert is_software_renderer("Microsoft Basic Render Driver")
    assert not is_software_renderer("NVIDIA H100 80GB HBM3/PCIe/SSE2")
    assert not is_software_renderer("AMD Radeon RX 7900 XTX (radeonsi, navi31, LLVM 17.0.6)")


_CONTEXT_SCRIPT = """
import sys
import numpy as np
from PySide6.QtGui import QImage, QSurfaceFormat
from PySide6.QtWidgets import QApplication
if sys.argv[1] == "core":
    fmt = QSurfaceFormat()
    fmt.setVersion(3, 3)
    fmt.setProfile(QSurfaceFormat.OpenGLContextProfile.CoreProfile)
    QSurfaceFormat.setDefaultFormat(fmt)
app = QApplication([])
from widgets.viewer import GLViewer
frame = np.random.default_rng(5).integers(0, 256, (40, 50, 3), dtype=np.uint8)
viewer = GLViewer()
viewer.setFixedSize(50, 40)
viewer.set_frame(frame)
viewer.set_safe_areas(True)
viewer.show()
app.processEvents()
viewer.set_safe_areas(False)
image = viewer.grabFramebuffer().convertToFormat(QImage.Format.Format_RGB888)
rows = np.frombuffer(image.constBits(), np.uint8).reshape(40, image.bytesPerLine())
print("INFO", viewer.gl_info())
print("ERROR", viewer.gl_error())
print("EXACT", np.array_equal(rows[:, :150].reshape(40, 50, 3), frame))
"""


@pytest.mark.gl
@pytest.mark.parametrize(
    "context, env, header",
    [
        ("core", {}, "#version 330 core"),
        ("legacy", {"MESA_GL_VERSION_OVERRIDE": "2.1", "MESA_GLSL_VERSION_OVERRIDE": "120"}, "#version 120"),
    ],
)
def test_gl_core_profile_and_legacy_glsl(make_gl, context, env, header):
    """The same shaders run in a 3.3 core-profile context and a GL 2.1 / GLSL 1.20 one."""
    if context == "legacy" and "Mesa" not in make_gl(8, 8).gl_info():
        pytest.skip("forcing GL 2.1 needs Mesa (MESA_GL_VERSION_OVERRIDE)")
    full_env = dict(os.environ, PYTHONPATH=str(REPO_ROOT), QT_QPA_PLATFORM="xcb", **env)
    result = subprocess.run(
        [sys.executable, "-c", _CONTEXT_SCRIPT, context], cwd=REPO_ROOT, env=full_env,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert header in result.stdout, result.stdout
    assert "ERROR None" in result.stdout and "EXACT True" in result.stdout, result.stdout
