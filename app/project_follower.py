"""Base of the controllers that follow the window's project (patch, stage, pattern editor, lanes).

A follower binds to ``window.project`` whenever it is asked for the project or
told that one opened or closes: it connects to the project's ``changed``
signal (which may fire on any thread) and moves it onto the GUI thread as
:meth:`_on_project_changed`; after every switch, to a project or to none, it
calls :meth:`_project_switched` so the subclass can reset what it showed.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMenu

log = logging.getLogger(__name__)


class ProjectFollower(QObject):
    _projectChanged = Signal(str)  # project.changed, moved onto the GUI thread

    def __init__(self, window=None):
        super().__init__(window)
        self.window = window
        self.messages: list[str] = []  # errors told to the user, newest last
        self._project = None
        self._projectChanged.connect(self._on_project_changed)

    # ---------------------------------------------------------------- for subclasses
    def _project_switched(self) -> None:
        """Called after binding to another project (or to none)."""

    def _on_project_changed(self, label: str) -> None:
        """The project changed (on the GUI thread)."""

    # ---------------------------------------------------------------- project
    @property
    def project(self):
        self._bind_project()
        return self._project

    @property
    def undo_stack(self):
        return self.window.undo_stack

    def show_error(self, message: str) -> None:
        self.messages.append(message)
        if self.window is not None and hasattr(self.window, "show_error"):
            self.window.show_error(message)
        else:
            log.warning("%s", message)

    def _bind_project(self) -> None:
        """Follow ``window.project``: drop the old project's signal, connect the new one's."""
        current = getattr(self.window, "project", None) if self.window is not None else None
        if current is not None and current.closed:
            current = None
        if current is self._project:
            return
        self._unbind()
        self._project = current
        if current is not None:
            current.changed.connect(self._project_changed_any_thread)
        self._project_switched()

    def _unbind(self) -> None:
        if self._project is not None:
            try:
                self._project.changed.disconnect(self._project_changed_any_thread)
            except (TypeError, ValueError, RuntimeError):
                pass
        self._project = None

    def project_opened(self) -> None:
        self._bind_project()

    def project_closing(self) -> None:
        self._unbind()
        self._project_switched()

    def _project_changed_any_thread(self, label: str = "") -> None:
        self._projectChanged.emit(str(label))


def lighting_menu(menubar) -> QMenu:
    """The window's Lighting menu (made when no one made it yet)."""
    for action in menubar.actions():
        menu = action.menu()
        if menu is not None and action.text().replace("&", "") == "Lighting":
            return menu
    return menubar.addMenu("&Lighting")
