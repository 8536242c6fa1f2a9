"""What the viewer-tool controllers (tracking, roto) share: menu actions, the status line, the media
cache and the frame under the playhead."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence

from app.tracking_support import FrameContext, frame_context
from core.errors import LumaError
from core.project.media_store import MediaRecord, get_media


class FrameController(QObject):
    """Base of a controller owned by the main window that works on the source frame under the playhead."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.last_message = ""
        self._media_cache: dict[int, MediaRecord] = {}

    @property
    def project(self):
        return self.window.project

    def _action(self, menu, text: str, slot, shortcut: str | None = None, checkable: bool = False) -> QAction:
        """A window-wide menu action; a checkable one passes its checked state to ``slot``."""
        act = QAction(text, self.window)
        act.setCheckable(checkable)
        if shortcut:
            act.setShortcut(QKeySequence(shortcut))
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(lambda checked=False: slot(checked) if act.isCheckable() else slot())
        menu.addAction(act)
        self.window.addAction(act)
        return act

    def say(self, text: str, msecs: int = 8000) -> None:
        self.last_message = text
        self.window.statusBar().showMessage(text, msecs)

    def _media(self, media_id: int) -> MediaRecord | None:
        if media_id not in self._media_cache:
            try:
                self._media_cache[media_id] = get_media(self.project, media_id)
            except LumaError:
                return None
        return self._media_cache[media_id]

    def context(self, frame: int | None = None) -> FrameContext | None:
        """The clip, media and source frame under sequence frame ``frame`` (default the playhead)."""
        tl = self.window.timeline
        if tl is None or self.project is None:
            return None
        return frame_context(tl, tl.playhead if frame is None else int(frame), self._media)
