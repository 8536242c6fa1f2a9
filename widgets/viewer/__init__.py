"""The video frame viewer: OpenGL (:class:`GLViewer`) or QPainter (:class:`RasterViewer`).

Both take uint8 numpy frames (HxWx3 RGB, or HxWx4 RGBA) through
``set_frame(rgb, number=None)`` and share one API: zoom/fit, middle-drag pan,
wheel zoom, safe areas, ``frameShown``, ``uploads``/``last_upload_ms``.
:func:`create_viewer` picks the one that will show video best here.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QWidget

from widgets.viewer.gl_viewer import (
    GLViewer,
    is_software_renderer,
    opengl_renderer,
    opengl_unavailable_reason,
    probe_opengl,
)
from widgets.viewer.raster_viewer import RasterViewer

__all__ = [
    "GLViewer",
    "RasterViewer",
    "create_viewer",
    "is_software_renderer",
    "opengl_renderer",
    "opengl_unavailable_reason",
    "probe_opengl",
]

log = logging.getLogger(__name__)


def create_viewer(
    parent: QWidget | None = None, *, allow_software_gl: bool = False
) -> GLViewer | RasterViewer:
    """A GLViewer when hardware OpenGL works here, else a RasterViewer.

    With a software OpenGL (Mesa llvmpipe: VMs, remote desktops, Xvfb) the
    QPainter viewer plays video faster (see
    tests/benchmarks/bench_viewer_pipeline.py), so it is chosen unless
    ``allow_software_gl``. The reason for a RasterViewer is logged.
    """
    reason, renderer = probe_opengl()
    if reason is None and is_software_renderer(renderer) and not allow_software_gl:
        reason = f"OpenGL is software-rendered ({renderer})"
    if reason is None:
        return GLViewer(parent)
    log.warning("Using the QPainter video viewer: %s", reason)
    return RasterViewer(parent)
