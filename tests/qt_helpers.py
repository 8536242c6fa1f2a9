"""Drag and drop the way the platform delivers it: enter, move, drop on the top-level window.

Qt routes a drop only to the widget that accepted the drag-enter, so a test
sends the three events to the QWindow at a position, and Qt's own dispatch
finds the widget under it, exactly as with a drag from a file manager.
"""

from __future__ import annotations

import warnings

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget


def file_mime(paths) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drop_on(widget: QWidget, mime: QMimeData, pos: QPoint | None = None) -> bool:
    """Drag ``mime`` onto ``widget`` at ``pos`` (widget coordinates; default its centre) and drop it.

    Returns whether the drop was accepted.
    """
    if pos is None:
        pos = widget.rect().center()
    top = widget.window()
    handle = top.windowHandle()
    assert handle is not None, "the window must be shown before dropping on it"
    wpos = widget.mapTo(top, pos)
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(wpos, *args)
        QApplication.sendEvent(handle, enter)
        move = QDragMoveEvent(wpos, *args)
        QApplication.sendEvent(handle, move)
        drop = QDropEvent(QPointF(wpos), *args)
        QApplication.sendEvent(handle, drop)
    return drop.isAccepted()
