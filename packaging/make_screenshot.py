"""Regenerate packaging/screenshot.png: the main window on the demo project.

Run under a display, e.g.:  xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python packaging/make_screenshot.py
"""

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings  # noqa: E402

from app.gui import create_application  # noqa: E402


def main() -> None:
    app = create_application()
    from app.main_window import MainWindow
    from resources.demo import make_demo

    tmp = Path(tempfile.mkdtemp())
    project = make_demo(tmp / "LumaDemo")
    w = MainWindow(settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat))
    w.resize(1500, 900)
    w.open_project(project)
    w.show()
    w.timeline_view.zoom_to_fit()
    w.seek(60)
    end = time.monotonic() + 4
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)
    w.timeline_view.select([next(iter(w.timeline.clips))])
    app.processEvents()
    out = ROOT / "packaging" / "screenshot.png"
    w.grab().save(str(out))
    print(out)
    w.close()


if __name__ == "__main__":
    main()
