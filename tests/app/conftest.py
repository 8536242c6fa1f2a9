"""Fixtures shared by the end-to-end tests of the main window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from app.main_window import MainWindow


@pytest.fixture
def shown_window(qtbot, tmp_path):
    """The real main window, shown at 1200x800, with its settings in tmp_path and no project yet."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
