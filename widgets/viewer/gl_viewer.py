"""GLViewer: shows RGB(A) frames as one textured quad through OpenGL (PyOpenGL).

The frame is uploaded once per new frame inside ``paintGL`` (glTexSubImage2D
while the size stays, glTexImage2D when it changes; GL_UNPACK_ALIGNMENT 1,
straight from the numpy buffer, no Python per-pixel work) and drawn with a
small shader program from ``resources/shaders/viewer.{vert,frag}``. The
shaders are written once and get a ``#version`` header chosen at run time:
GLSL 3.30 core (core or compatibility contexts, with a VAO) or GLSL 1.20/1.10
for legacy contexts, and the ES equivalents.

When OpenGL cannot start (no PyOpenGL/libGL, no context, shader failure) the
widget logs the reason, draws it where it can and emits ``glFailed``; the app
then swaps in :class:`~widgets.viewer.raster_viewer.RasterViewer`, or asks
:func:`opengl_unavailable_reason` first (see :func:`widgets.viewer.create_viewer`).
"""

from __future__ import annotations

import ctypes
import logging
import re
import time
from importlib import resources as importlib_resources

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext, QPainter
from PySide6.QtOpenGLWidgets import QOpenGLWidget
from PySide6.QtWidgets import QWidget

from widgets.viewer.view_base import FrameViewMixin, as_rgb_frame, row_length_pixels

try:
    from OpenGL import GL
    from OpenGL import error as gl_errors

    _GL_IMPORT_ERROR: str | None = None
    _GL_ERRORS: tuple[type[BaseException], ...] = (gl_errors.Error, RuntimeError, OSError)
except (ImportError, OSError, AttributeError) as _exc:  # AttributeError: PyOpenGL without libGL
    GL = None
    _GL_IMPORT_ERROR = f"{type(_exc).__name__}: {_exc}"
    _GL_ERRORS = (RuntimeError, OSError)

log = logging.getLogger(__name__)

#: Qt platform plugins on which QOpenGLWidget cannot render.
NO_GL_WIDGET_PLATFORMS = frozenset({"offscreen", "minimal", "linuxfb", "vnc", "vkkhrdisplay"})

#: GL_RENDERER substrings of software (CPU) OpenGL implementations.
SOFTWARE_RENDERERS = ("llvmpipe", "softpipe", "swrast", "swiftshader", "gdi generic", "basic render")

# Unit square as a triangle strip; (0, 0) is the image's top-left corner.
_QUAD = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], dtype=np.float32)
_ATTRIB_POS = 0

_MODERN_MACROS = "#define VS_IN in\n#define VS_OUT out\n#define FS_IN in\n#define TEXTURE texture\n"
_MODERN_FRAG = "out vec4 luma_frag_color;\n#define FRAG_COLOR luma_frag_color\n"
_LEGACY_MACROS = (
    "#define VS_IN attribute\n#define VS_OUT varying\n#define FS_IN varying\n"
    "#define TEXTURE texture2D\n"
)
_LEGACY_FRAG = "#define FRAG_COLOR gl_FragColor\n"
_ES_PRECISION = (
    "#ifdef GL_FRAGMENT_PRECISION_HIGH\nprecision highp float;\n#else\n"
    "precision mediump float;\n#endif\n"
)


def _shader_source(name: str) -> str:
    return importlib_resources.files("resources").joinpath("shaders", name).read_text(encoding="utf-8")


def _glsl_version(text: str) -> int:
    """'4.50 NVIDIA', 'OpenGL ES GLSL ES 3.00' -> 450, 300 (0 if unreadable)."""
    match = re.search(r"(\d+)\.(\d+)", text)
    if match is None:
        return 0
    return int(match.group(1)) * 100 + int(match.group(2).ljust(2, "0")[:2])


def _gl_string(name: int) -> str:
    value = GL.glGetString(name)
    return value.decode("utf-8", "replace") if value else ""


def _shader_headers(glsl: int, es: bool) -> tuple[str, str, bool]:
    """(vertex header, fragment header, modern) for the context's GLSL version."""
    if es:
        if glsl >= 300:
            head = "#version 300 es\n" + _ES_PRECISION + _MODERN_MACROS
            return head, head + _MODERN_FRAG, True
        head = "#version 100\n" + _ES_PRECISION + _LEGACY_MACROS
        return head, head + _LEGACY_FRAG, False
    if glsl >= 330:
        head = "#version 330 core\n" + _MODERN_MACROS
        return head, head + _MODERN_FRAG, True
    head = ("#version 120\n" if glsl >= 120 else "#version 110\n") + _LEGACY_MACROS
    return head, head + _LEGACY_FRAG, False


def _compile(kind: int, source: str, label: str) -> int:
    shader = GL.glCreateShader(kind)
    GL.glShaderSource(shader, source)
    GL.glCompileShader(shader)
    if not GL.glGetShaderiv(shader, GL.GL_COMPILE_STATUS):
        message = GL.glGetShaderInfoLog(shader)
        GL.glDeleteShader(shader)
        if isinstance(message, bytes):
            message = message.decode("utf-8", "replace")
        raise RuntimeError(f"{label} did not compile: {message.strip()}")
    return shader


class _QuadRenderer:
    """The GL objects of one context: program, quad VBO (+VAO), frame texture.

    Every method needs the owning context current.
    """

    def __init__(self, es: bool) -> None:
        self.program = 0
        self.vbo = 0
        self.vao = 0
        self.texture = 0
        self.texture_size: tuple[int, int] | None = None
        self._texture_channels = 0
        self._filter: int | None = None
        self.es = es
        try:
            self._create()
        except BaseException:
            self.delete()
            raise

    def _create(self) -> None:
        glsl = _glsl_version(_gl_string(GL.GL_SHADING_LANGUAGE_VERSION))
        vert_head, frag_head, modern = _shader_headers(glsl, self.es)
        self.info = (
            f"{_gl_string(GL.GL_RENDERER)} | OpenGL {_gl_string(GL.GL_VERSION)} | "
            f"{vert_head.splitlines()[0]}"
        )
        self.max_texture_size = int(GL.glGetIntegerv(GL.GL_MAX_TEXTURE_SIZE))
        self.row_length_ok = not self.es or glsl >= 300  # GL_UNPACK_ROW_LENGTH: GL, GLES 3
        vert = _compile(GL.GL_VERTEX_SHADER, vert_head + _shader_source("viewer.vert"), "viewer.vert")
        try:
            frag = _compile(GL.GL_FRAGMENT_SHADER, frag_head + _shader_source("viewer.frag"), "viewer.frag")
        except BaseException:
            GL.glDeleteShader(vert)
            raise
        self.program = GL.glCreateProgram()
        GL.glAttachShader(self.program, vert)
        GL.glAttachShader(self.program, frag)
        GL.glBindAttribLocation(self.program, _ATTRIB_POS, "a_pos")
        GL.glLinkProgram(self.program)
        GL.glDetachShader(self.program, vert)
        GL.glDetachShader(self.program, frag)
        GL.glDeleteShader(vert)
        GL.glDeleteShader(frag)
        if not GL.glGetProgramiv(self.program, GL.GL_LINK_STATUS):
            message = GL.glGetProgramInfoLog(self.program)
            if isinstance(message, bytes):
                message = message.decode("utf-8", "replace")
            raise RuntimeError(f"viewer shader program did not link: {message.strip()}")
        self.u_rect = GL.glGetUniformLocation(self.program, "u_rect")
        self.u_tex = GL.glGetUniformLocation(self.program, "u_tex")

        self.vbo = int(GL.glGenBuffers(1))
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.vbo)
        GL.glBufferData(GL.GL_ARRAY_BUFFER, _QUAD.nbytes, _QUAD, GL.GL_STATIC_DRAW)
        if modern:  # GL >= 3.3 / GLES 3: a VAO is required in core profiles
            self.vao = int(GL.glGenVertexArrays(1))
            GL.glBindVertexArray(self.vao)
            GL.glEnableVertexAttribArray(_ATTRIB_POS)
            GL.glVertexAttribPointer(_ATTRIB_POS, 2, GL.GL_FLOAT, GL.GL_FALSE, 0, None)
            GL.glBindVertexArray(0)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)

        self.texture = int(GL.glGenTextures(1))
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.texture)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)

    def delete(self) -> None:
        if self.texture:
            GL.glDeleteTextures([self.texture])
        if self.vao:
            GL.glDeleteVertexArrays(1, [self.vao])
        if self.vbo:
            GL.glDeleteBuffers(1, [self.vbo])
        if self.program:
            GL.glDeleteProgram(self.program)
        self.texture = self.vao = self.vbo = self.program = 0
        self.texture_size = None

    def upload(self, frame: np.ndarray) -> bool:
        """Copy ``frame`` into the texture; True when it had to be (re)allocated.

        RGB frames go through the driver's RGB->RGBA expansion; RGBA frames
        are a straight copy (several times faster on Mesa llvmpipe).
        """
        height, width, channels = frame.shape
        pixel_format = GL.GL_RGB if channels == 3 else GL.GL_RGBA
        row_length = row_length_pixels(frame)
        pixels = ctypes.c_void_p(frame.ctypes.data)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.texture)
        GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
        if row_length != width:
            GL.glPixelStorei(GL.GL_UNPACK_ROW_LENGTH, row_length)
        allocated = (self.texture_size, self._texture_channels) != ((width, height), channels)
        try:
            if allocated:
                if self.es:
                    internal = pixel_format
                else:
                    internal = GL.GL_RGB8 if channels == 3 else GL.GL_RGBA8
                GL.glTexImage2D(
                    GL.GL_TEXTURE_2D, 0, internal, width, height, 0,
                    pixel_format, GL.GL_UNSIGNED_BYTE, pixels,
                )
                self.texture_size = (width, height)
                self._texture_channels = channels
                self._filter = None
            else:
                GL.glTexSubImage2D(
                    GL.GL_TEXTURE_2D, 0, 0, 0, width, height, pixel_format, GL.GL_UNSIGNED_BYTE, pixels
                )
        finally:
            if row_length != width:
                GL.glPixelStorei(GL.GL_UNPACK_ROW_LENGTH, 0)
            GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 4)
            GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        return allocated

    def draw(self, ndc: tuple[float, float, float, float], nearest: bool) -> None:
        """Draw the texture on the quad ``ndc`` = (x_left, y_top, x_right, y_bottom)."""
        GL.glDisable(GL.GL_BLEND)
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glDisable(GL.GL_SCISSOR_TEST)
        GL.glDisable(GL.GL_CULL_FACE)
        GL.glUseProgram(self.program)
        GL.glUniform4f(self.u_rect, *ndc)
        GL.glUniform1i(self.u_tex, 0)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.texture)
        wanted = GL.GL_NEAREST if nearest else GL.GL_LINEAR
        if self._filter != wanted:
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER, wanted)
            GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, wanted)
            self._filter = wanted
        if self.vao:
            GL.glBindVertexArray(self.vao)
            GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)
            GL.glBindVertexArray(0)
        else:
            GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self.vbo)
            GL.glEnableVertexAttribArray(_ATTRIB_POS)
            GL.glVertexAttribPointer(_ATTRIB_POS, 2, GL.GL_FLOAT, GL.GL_FALSE, 0, None)
            GL.glDrawArrays(GL.GL_TRIANGLE_STRIP, 0, 4)
            GL.glDisableVertexAttribArray(_ATTRIB_POS)
            GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)
        # Leave no state behind that Qt's own QPainter engine would trip over.
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        GL.glUseProgram(0)


def probe_opengl() -> tuple[str | None, str]:
    """(why a GLViewer cannot work here or None, GL_RENDERER string).

    Needs a QGuiApplication; creates and drops a throw-away context.
    """
    if GL is None:
        return f"PyOpenGL could not be loaded ({_GL_IMPORT_ERROR})", ""
    if QGuiApplication.instance() is None:
        return "no QGuiApplication exists yet", ""
    platform = QGuiApplication.platformName()
    if platform in NO_GL_WIDGET_PLATFORMS:
        return f"the Qt platform '{platform}' cannot show OpenGL widgets", ""
    context = QOpenGLContext()
    if not context.create():
        return f"no OpenGL context can be created on the Qt platform '{platform}'", ""
    surface = QOffscreenSurface()
    surface.setFormat(context.format())
    surface.create()
    try:
        if not context.makeCurrent(surface):
            return "an OpenGL context was created but cannot be made current", ""
        try:
            version = _gl_string(GL.GL_VERSION)
            renderer = _gl_string(GL.GL_RENDERER)
        except _GL_ERRORS as exc:
            return f"PyOpenGL cannot talk to Qt's OpenGL context ({exc})", ""
        finally:
            context.doneCurrent()
    finally:
        surface.destroy()
    if not version:
        return "PyOpenGL cannot talk to Qt's OpenGL context (no GL_VERSION)", ""
    return None, renderer


def opengl_unavailable_reason() -> str | None:
    """Why a GLViewer cannot work in this process, or None when it can.

    Needs a QGuiApplication; creates and drops a throw-away context.
    """
    return probe_opengl()[0]


def opengl_renderer() -> str:
    """GL_RENDERER of a context made here ("" when OpenGL is unavailable)."""
    return probe_opengl()[1]


def is_software_renderer(renderer: str) -> bool:
    """True for CPU rasterisers (Mesa llvmpipe/softpipe, SwiftShader, Windows' GDI/WARP).

    On those, every GL frame costs CPU time in the widget's composition pass
    as well, and the QPainter RasterViewer shows video faster.
    """
    name = renderer.lower()
    return any(marker in name for marker in SOFTWARE_RENDERERS)


class GLViewer(FrameViewMixin, QOpenGLWidget):
    """Shows uint8 RGB (HxWx3) or RGBA (HxWx4) frames through OpenGL; zoom, pan, safe areas.

    Signals:
        frameShown(int): after the first paint showing a frame given a number.
        viewChanged(): zoom or pan changed.
        glFailed(str): OpenGL could not start; the message says why. It can be
            emitted from inside initializeGL: connect with Qt.QueuedConnection
            a slot that replaces or deletes the viewer.

    Attributes:
        uploads: texture uploads done so far (one per new frame painted).
        texture_allocations: how many of those (re)allocated the texture.
        last_upload_ms: wall time of the last upload, milliseconds.
        last_paint_ms: wall time of the last paintGL (upload included), milliseconds;
            the GPU may still be drawing, and Qt composes the window after it.
    """

    frameShown = Signal(int)
    viewChanged = Signal()
    glFailed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._init_frame_view()
        self._renderer: _QuadRenderer | None = None
        self._frame_dirty = False
        self._gl_error: str | None = None
        self._gl_info = ""
        self.texture_allocations = 0

    # ---- public ---------------------------------------------------------

    def gl_error(self) -> str | None:
        """Why OpenGL did not start, or None."""
        return self._gl_error

    def gl_info(self) -> str:
        """Renderer, GL version and GLSL header in use (empty before initializeGL)."""
        return self._gl_info

    def texture_size(self) -> tuple[int, int] | None:
        """(width, height) of the allocated texture, or None."""
        return None if self._renderer is None else self._renderer.texture_size

    # ---- FrameViewMixin hooks ------------------------------------------

    def _accept_frame(self, rgb: np.ndarray) -> np.ndarray:
        allow_padding = self._renderer is None or self._renderer.row_length_ok
        return as_rgb_frame(rgb, allow_row_padding=allow_padding)

    def _frame_replaced(self) -> None:
        self._frame_dirty = True

    # ---- failure reporting ---------------------------------------------

    def _fail(self, message: str) -> None:
        if self._gl_error == message:
            return
        self._gl_error = message
        log.error("OpenGL viewer unavailable: %s", message)
        self.glFailed.emit(message)
        self.update()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        QTimer.singleShot(0, self._check_context)

    def _check_context(self) -> None:
        """After a show: report a context Qt could not create (paintGL never runs then)."""
        if self._gl_error is not None or not self.isVisible() or self.size().isEmpty():
            return
        platform = QGuiApplication.platformName()
        if platform in NO_GL_WIDGET_PLATFORMS:
            self._fail(f"the Qt platform '{platform}' cannot show OpenGL widgets")
        elif not self.isValid():
            self._fail(f"no OpenGL context could be created (Qt platform '{platform}')")

    # ---- QOpenGLWidget ---------------------------------------------------

    def initializeGL(self) -> None:  # noqa: N802 (Qt override)
        self._renderer = None
        self._frame_dirty = True
        if GL is None:
            self._fail(f"PyOpenGL could not be loaded ({_GL_IMPORT_ERROR})")
            return
        context = self.context()
        try:
            self._renderer = _QuadRenderer(es=context.isOpenGLES())
        except _GL_ERRORS as exc:
            self._fail(f"OpenGL set-up failed: {exc}")
            return
        self._gl_info = self._renderer.info
        self._gl_error = None
        log.debug("GLViewer: %s", self._gl_info)
        context.aboutToBeDestroyed.connect(self._release_gl)

    def _release_gl(self) -> None:
        """Free the GL objects before Qt destroys the context."""
        renderer, self._renderer = self._renderer, None
        if renderer is None:
            return
        self.makeCurrent()
        try:
            renderer.delete()
        finally:
            self.doneCurrent()

    def paintGL(self) -> None:  # noqa: N802 (Qt override)
        started = time.perf_counter()
        renderer = self._renderer
        if renderer is None:
            self._paint_message_only(self._gl_error or "OpenGL is not initialised")
            return
        view_w, view_h = self._device_size()
        GL.glViewport(0, 0, view_w, view_h)
        GL.glClearColor(0.0, 0.0, 0.0, 1.0)
        GL.glClear(GL.GL_COLOR_BUFFER_BIT)
        problem = None
        frame = self._frame
        if frame is not None:
            height, width = frame.shape[:2]
            if max(width, height) > renderer.max_texture_size:
                problem = (
                    f"The frame is {width}x{height}; this GPU shows at most "
                    f"{renderer.max_texture_size} pixels a side."
                )
            else:
                if self._frame_dirty:
                    self._upload(renderer, frame)
                rect = self._device_image_rect()
                if rect is not None and view_w > 0 and view_h > 0:
                    left, top, draw_w, draw_h = rect
                    ndc = (
                        2.0 * left / view_w - 1.0,
                        1.0 - 2.0 * top / view_h,
                        2.0 * (left + draw_w) / view_w - 1.0,
                        1.0 - 2.0 * (top + draw_h) / view_h,
                    )
                    renderer.draw(ndc, nearest=draw_w >= width and draw_h >= height)
        if problem is not None or (self._safe_areas and frame is not None):
            painter = QPainter(self)
            try:
                if problem is not None:
                    self._paint_message(painter, problem)
                else:
                    self._paint_overlays(painter)
            finally:
                painter.end()
        self.last_paint_ms = (time.perf_counter() - started) * 1000.0
        if problem is None:
            self._frame_painted()

    def _upload(self, renderer: _QuadRenderer, frame: np.ndarray) -> None:
        started = time.perf_counter()
        if renderer.upload(frame):
            self.texture_allocations += 1
        self.last_upload_ms = (time.perf_counter() - started) * 1000.0
        self.uploads += 1
        self._frame_dirty = False

    def _paint_message_only(self, text: str) -> None:
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), QGuiApplication.palette().dark())
            self._paint_message(painter, f"Video preview unavailable.\n{text}")
        finally:
            painter.end()
