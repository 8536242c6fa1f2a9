"""The palette of node types: grouped by category, filtered as you type.

Double-clicking a type (or Enter in the search field, for the first match)
emits ``typeActivated(type_id)``; dragging a type onto the node view drops it
there (MIME type :data:`~widgets.nodes.scene.NODE_TYPE_MIME`).
"""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from widgets.nodes.items import hashed_color
from widgets.nodes.model import NodeTypeDef
from widgets.nodes.scene import NODE_TYPE_MIME

TYPE_ROLE = Qt.ItemDataRole.UserRole + 1


class _TypeTree(QTreeWidget):
    def mimeData(self, items) -> QMimeData:
        mime = QMimeData()
        ids = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        if ids:
            mime.setData(NODE_TYPE_MIME, ids[0].encode())
        return mime

    def mimeTypes(self) -> list[str]:
        return [NODE_TYPE_MIME]


class NodePalette(QWidget):
    typeActivated = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search nodes…")
        self.search.setClearButtonEnabled(True)
        self.tree = _TypeTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(8)
        lay.addWidget(self.search)
        lay.addWidget(self.tree, 1)
        self.search.textChanged.connect(self._filter)
        self.search.returnPressed.connect(self._activate_first)
        self.tree.itemDoubleClicked.connect(self._double_clicked)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._types: dict[str, NodeTypeDef] = {}

    def set_types(self, types: Sequence[NodeTypeDef]) -> None:
        self.tree.clear()
        self._items.clear()
        self._types = {t.type_id: t for t in types}
        groups: dict[str, QTreeWidgetItem] = {}
        for t in sorted(types, key=lambda t: (t.category.lower(), (t.title or t.type_id).lower())):
            cat = t.category or "Other"
            group = groups.get(cat)
            if group is None:
                group = QTreeWidgetItem([cat])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                group.setForeground(0, hashed_color(t.category or t.type_id, 110, 210))
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                self.tree.addTopLevelItem(group)
                groups[cat] = group
            item = QTreeWidgetItem([t.title or t.type_id])
            item.setData(0, TYPE_ROLE, t.type_id)
            item.setToolTip(0, f"{t.type_id}: {t.doc}" if t.doc else t.type_id)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
            group.addChild(item)
            self._items[t.type_id] = item
        self.tree.expandAll()
        self._filter(self.search.text())

    def item(self, type_id: str) -> QTreeWidgetItem:
        return self._items[type_id]

    def visible_types(self) -> list[str]:
        """Type ids the filter shows, top to bottom."""
        out = []
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            for c in range(group.childCount()):
                child = group.child(c)
                if not child.isHidden():
                    out.append(child.data(0, TYPE_ROLE))
        return out

    def _matches(self, t: NodeTypeDef, words: list[str]) -> bool:
        hay = " ".join((t.type_id, t.title, t.category, t.doc)).lower()
        return all(w in hay for w in words)

    def _filter(self, text: str) -> None:
        words = text.lower().split()
        for g in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(g)
            shown = 0
            for c in range(group.childCount()):
                child = group.child(c)
                ok = self._matches(self._types[child.data(0, TYPE_ROLE)], words)
                child.setHidden(not ok)
                shown += ok
            group.setHidden(shown == 0)
        first = self.visible_types()
        if first and words:
            self.tree.setCurrentItem(self._items[first[0]])

    def _activate_first(self) -> None:
        shown = self.visible_types()
        if shown:
            self.typeActivated.emit(shown[0])

    def _double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        type_id = item.data(0, TYPE_ROLE)
        if type_id:
            self.typeActivated.emit(type_id)
