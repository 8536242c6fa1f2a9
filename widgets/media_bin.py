"""Media bin: thumbnails of the project's media; accepts file drops; drags media out."""

from __future__ import annotations

import json
from dataclasses import dataclass

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QListView

MEDIA_MIME = "application/x-luma-media"
MEDIA_ID_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass
class BinEntry:
    """What the bin shows for one media file (filled in by the app)."""

    media_id: int
    name: str
    details: str  # e.g. "00:00:31:19  768x576  10 fps"
    tooltip: str
    thumbnail: QImage | None = None


class _Model(QStandardItemModel):
    def mimeTypes(self) -> list[str]:
        return [MEDIA_MIME]

    def mimeData(self, indexes) -> QMimeData:
        ids = sorted({int(self.itemFromIndex(i).data(MEDIA_ID_ROLE)) for i in indexes if i.isValid()})
        data = QMimeData()
        data.setData(MEDIA_MIME, json.dumps(ids).encode())
        return data


class MediaBin(QListView):
    filesDropped = Signal(list)  # list[str] local paths
    activated_media = Signal(int)  # double-click: open in viewer

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(160, 90))
        self.setGridSize(QSize(184, 150))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setWordWrap(True)
        self.setUniformItemSizes(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(False)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setMovement(QListView.Movement.Static)
        self._model = _Model(self)
        self.setModel(self._model)
        self.doubleClicked.connect(lambda idx: self.activated_media.emit(int(idx.data(MEDIA_ID_ROLE))))

    # ------------------------------------------------------------ content
    def set_entries(self, entries: list[BinEntry]) -> None:
        self._model.clear()
        for e in entries:
            self.add_entry(e)

    def add_entry(self, e: BinEntry) -> None:
        item = QStandardItem(f"{e.name}\n{e.details}")
        item.setData(e.media_id, MEDIA_ID_ROLE)
        item.setToolTip(e.tooltip)
        item.setEditable(False)
        item.setDragEnabled(True)
        item.setDropEnabled(False)
        if e.thumbnail is not None and not e.thumbnail.isNull():
            item.setIcon(QIcon(QPixmap.fromImage(e.thumbnail)))
        self._model.appendRow(item)

    def media_ids(self) -> list[int]:
        return [int(self._model.item(r).data(MEDIA_ID_ROLE)) for r in range(self._model.rowCount())]

    def selected_media_ids(self) -> list[int]:
        return [int(i.data(MEDIA_ID_ROLE)) for i in self.selectedIndexes()]

    def entry_text(self, media_id: int) -> str:
        for r in range(self._model.rowCount()):
            item = self._model.item(r)
            if int(item.data(MEDIA_ID_ROLE)) == media_id:
                return item.text()
        return ""

    def entry_icon_size(self, media_id: int) -> QSize:
        for r in range(self._model.rowCount()):
            item = self._model.item(r)
            if int(item.data(MEDIA_ID_ROLE)) == media_id and not item.icon().isNull():
                return item.icon().availableSizes()[0]
        return QSize()

    # ------------------------------------------------------------ drops from the OS
    def _local_paths(self, mime: QMimeData) -> list[str]:
        if not mime.hasUrls():
            return []
        return [u.toLocalFile() for u in mime.urls() if u.isLocalFile()]

    def dragEnterEvent(self, event) -> None:
        if self._local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if self._local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        paths = self._local_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.filesDropped.emit(paths)
        else:
            event.ignore()
