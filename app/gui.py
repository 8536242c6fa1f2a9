"""Starting the GUI: QApplication, style, the main window."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from core import __version__

NO_DISPLAY_HELP = (
    "luma: no display found, so the Luma Studio window cannot open.\n"
    "  Make the demo project without a window:  luma demo --headless --out DIR\n"
    "  Probe a file:                            luma info FILE\n"
    "  Or start a display (log in to a desktop, or run under xvfb-run)."
)


def has_display() -> bool:
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith(("xcb", "wayland")):
        return True  # offscreen/vnc/eglfs... chosen explicitly by the user
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def stylesheet() -> str:
    path = Path(__file__).resolve().parent.parent / "resources" / "styles" / "dark.qss"
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def create_application(argv: list[str] | None = None):
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setApplicationName("Luma Studio")
    app.setOrganizationName("Luma Studio")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("luma-studio")
    icon = Path(__file__).resolve().parent.parent / "resources" / "icons" / "luma.svg"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    app.setStyle("Fusion")
    app.setStyleSheet(stylesheet())
    from app import gc_guard

    gc_guard.install(app)  # garbage with Qt objects is only ever collected on this thread
    return app


def run_gui(project: str | Path | None = None) -> int:
    if not has_display():
        print(NO_DISPLAY_HELP, file=sys.stderr)
        return 2
    app = create_application()
    from app.main_window import MainWindow

    window = MainWindow()
    if project is None:
        recent = window.recent_files()
        project = next((p for p in recent if Path(p).is_file()), None)
    if project is None:
        demo = Path.home() / "LumaDemo" / "demo.luma"
        if demo.is_file():
            project = demo
        else:
            from resources.demo import make_demo

            project = make_demo(demo.parent)
    window.open_project(project)
    window.show()
    return app.exec()
