"""The "Patterns" list: the project's lighting patterns, dragged from here onto a lighting lane.

A drag carries :data:`PATTERN_MIME` (the pattern name, UTF-8); the lighting
lanes of the timeline accept it (:mod:`widgets.timeline.lanes`).
"""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

PATTERN_MIME = "application/x-luma-pattern"


def pattern_mime(name: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(PATTERN_MIME, name.encode("utf-8"))
    mime.setText(name)
    return mime


def pattern_from_mime(mime: QMimeData) -> str | None:
    """The pattern name of a drag, or None when it carries no pattern."""
    if not mime.hasFormat(PATTERN_MIME):
        return None
    try:
        name = bytes(mime.data(PATTERN_MIME).data()).decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    return name or None


class PatternList(QListWidget):
    """Pattern names; drag one onto a lane, or double-click it (``patternActivated``)."""

    patternActivated = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setToolTip("Drag a pattern onto a lighting lane of the timeline")
        self.itemDoubleClicked.connect(lambda item: self.patternActivated.emit(item.text()))

    def set_patterns(self, names: list[str]) -> None:
        current = self.currentItem().text() if self.currentItem() is not None else None
        if [self.item(i).text() for i in range(self.count())] == list(names):
            return
        self.clear()
        for name in names:
            item = QListWidgetItem(name)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
            self.addItem(item)
            if name == current:
                self.setCurrentItem(item)

    def names(self) -> list[str]:
        return [self.item(i).text() for i in range(self.count())]

    def mimeTypes(self) -> list[str]:
        return [PATTERN_MIME]

    def mimeData(self, items) -> QMimeData:
        return pattern_mime(items[0].text()) if items else QMimeData()
