"""The fixture library browser: manufacturer > model > mode, search as you type, channel preview, "Add N".

:class:`FixtureBrowser` shows what the app gives it and asks for the rest:

* :meth:`set_entries` fills the tree with (key, manufacturer, model, type)
  rows; modes are asked for lazily (``modesWanted(key)`` when a model is
  expanded or selected) and given with :meth:`set_modes`;
* typing in the search box emits ``searchChanged(text)``; the app answers
  with :meth:`show_only` (the keys that match);
* selecting a mode emits ``modeSelected(key, mode)``; the app answers with
  :meth:`set_preview` (the mode's channels);
* the Add button emits ``addRequested(key, mode, count, universe, address)``
  (address 0: the next free one).

No library access and no addressing here.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QGridLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QSpinBox,
                               QSplitter, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget)

KEY_ROLE = Qt.ItemDataRole.UserRole
MODE_ROLE = Qt.ItemDataRole.UserRole + 1
_PENDING = "loading…"


class FixtureBrowser(QWidget):
    searchChanged = Signal(str)
    modesWanted = Signal(str)  # definition key
    modeSelected = Signal(str, str)  # key, mode
    addRequested = Signal(str, str, int, int, int)  # key, mode, count, universe, address (0: auto)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._models: dict[str, QTreeWidgetItem] = {}
        self._manufacturers: dict[str, QTreeWidgetItem] = {}
        self._modes_known: set[str] = set()

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search fixtures (manufacturer, model, type)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.searchChanged.emit)
        self.status = QLabel("")
        self.status.setObjectName("fixture-browser-status")

        self.tree = QTreeWidget()
        self.tree.setObjectName("fixture-tree")
        self.tree.setHeaderLabels(["Fixture", "Type"])
        self.tree.setUniformRowHeights(True)
        self.tree.setIndentation(12)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemExpanded.connect(self._expanded)
        self.tree.currentItemChanged.connect(self._current_changed)

        self.preview_title = QLabel("Select a fixture mode to see its channels")
        self.preview_title.setWordWrap(True)
        self.preview = QTreeWidget()
        self.preview.setObjectName("channel-preview")
        self.preview.setHeaderLabels(["#", "Channel", "Function"])
        self.preview.setRootIsDecorated(False)
        self.preview.setUniformRowHeights(True)
        self.preview.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.preview.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)

        self.count = QSpinBox()
        self.count.setRange(1, 512)
        self.count.setValue(1)
        self.universe = QSpinBox()
        self.universe.setRange(1, 63999)
        self.address = QSpinBox()
        self.address.setRange(0, 512)
        self.address.setSpecialValueText("next free")
        self.address.setToolTip("Start address; the fixtures go back to back from the first free channel "
                                "at or after it, and on into the next universe when this one is full")
        self.add_button = QPushButton()
        self.add_button.setObjectName("add-fixtures")
        self.add_button.clicked.connect(self._add_clicked)
        self.count.valueChanged.connect(lambda _v: self._update_add())

        add_row = QGridLayout()
        add_row.setContentsMargins(0, 0, 0, 0)
        add_row.addWidget(QLabel("Count"), 0, 0)
        add_row.addWidget(self.count, 0, 1)
        add_row.addWidget(QLabel("Universe"), 0, 2)
        add_row.addWidget(self.universe, 0, 3)
        add_row.addWidget(QLabel("Address"), 1, 0)
        add_row.addWidget(self.address, 1, 1)
        add_row.addWidget(self.add_button, 1, 2, 1, 2)
        add_row.setColumnStretch(1, 1)
        add_row.setColumnStretch(3, 1)

        top = QWidget()
        top_lay = QVBoxLayout(top)
        top_lay.setContentsMargins(0, 0, 0, 0)
        top_lay.addWidget(self.search)
        top_lay.addWidget(self.tree, 1)
        top_lay.addWidget(self.status)
        bottom = QWidget()
        bottom_lay = QVBoxLayout(bottom)
        bottom_lay.setContentsMargins(0, 0, 0, 0)
        bottom_lay.addWidget(self.preview_title)
        bottom_lay.addWidget(self.preview, 1)
        bottom_lay.addLayout(add_row)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        self._update_add()

    # ================================================================ content
    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def set_entries(self, entries: list[tuple[str, str, str, str]]) -> None:
        """(key, manufacturer, model, type) rows, in display order."""
        self.tree.clear()
        self._models.clear()
        self._manufacturers.clear()
        self._modes_known.clear()
        self.tree.setUpdatesEnabled(False)
        try:
            for key, manufacturer, model, kind in entries:
                parent = self._manufacturers.get(manufacturer)
                if parent is None:
                    parent = QTreeWidgetItem([manufacturer, ""])
                    parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
                    self.tree.addTopLevelItem(parent)
                    self._manufacturers[manufacturer] = parent
                item = QTreeWidgetItem(parent, [model, kind])
                item.setData(0, KEY_ROLE, key)
                item.setToolTip(0, key)
                QTreeWidgetItem(item, [_PENDING, ""]).setFlags(Qt.ItemFlag.NoItemFlags)
                self._models[key] = item
        finally:
            self.tree.setUpdatesEnabled(True)
        self._update_add()

    def set_modes(self, key: str, modes: list[tuple[str, int]]) -> None:
        """The modes of ``key`` as (name, channel count)."""
        item = self._models.get(key)
        if item is None:
            return
        item.takeChildren()
        for name, channels in modes:
            child = QTreeWidgetItem(item, [name, f"{channels} ch"])
            child.setData(0, KEY_ROLE, key)
            child.setData(0, MODE_ROLE, name)
        self._modes_known.add(key)
        if self.tree.currentItem() is item and item.childCount():
            self.tree.setCurrentItem(item.child(0))  # a model picks its first mode
        self._update_add()

    def show_only(self, keys) -> None:
        """Show the models in ``keys`` (None: all); manufacturers without a match hide, few matches expand."""
        keys = None if keys is None else set(keys)
        shown = 0
        self.tree.setUpdatesEnabled(False)
        try:
            for manufacturer in self._manufacturers.values():
                any_shown = False
                for i in range(manufacturer.childCount()):
                    item = manufacturer.child(i)
                    visible = keys is None or item.data(0, KEY_ROLE) in keys
                    item.setHidden(not visible)
                    any_shown |= visible
                    shown += visible
                manufacturer.setHidden(not any_shown)
            expand = keys is not None and shown <= 40
            for manufacturer in self._manufacturers.values():
                if not manufacturer.isHidden():
                    manufacturer.setExpanded(expand)
        finally:
            self.tree.setUpdatesEnabled(True)
        self.set_status(f"{shown} fixture{'s' if shown != 1 else ''}" if keys is not None else
                        f"{len(self._models)} fixtures")

    def visible_keys(self) -> list[str]:
        return [k for k, item in self._models.items() if not item.isHidden() and not item.parent().isHidden()]

    def set_preview(self, title: str, channels: list[tuple[int, str, str]]) -> None:
        """The selected mode: a summary line and its channels as (number, name, function)."""
        self.preview_title.setText(title)
        self.preview.clear()
        for number, name, function in channels:
            self.preview.addTopLevelItem(QTreeWidgetItem([str(number), name, function]))

    def preview_rows(self) -> list[tuple[str, str, str]]:
        return [tuple(self.preview.topLevelItem(i).text(c) for c in range(3))
                for i in range(self.preview.topLevelItemCount())]

    # ================================================================ selection
    def select(self, key: str, mode: str | None = None) -> bool:
        """Make ``key`` (and ``mode`` once its modes are known) the current item."""
        item = self._models.get(key)
        if item is None:
            return False
        item.parent().setExpanded(True)
        if mode is not None and key not in self._modes_known:
            self.modesWanted.emit(key)
        if mode is not None:
            for i in range(item.childCount()):
                if item.child(i).data(0, MODE_ROLE) == mode:
                    self.tree.setCurrentItem(item.child(i))
                    return True
            return False
        self.tree.setCurrentItem(item)
        return True

    def current(self) -> tuple[str, str] | None:
        """(key, mode) of the selected mode, or None."""
        item = self.tree.currentItem()
        if item is None or item.data(0, MODE_ROLE) is None:
            return None
        return item.data(0, KEY_ROLE), item.data(0, MODE_ROLE)

    def _expanded(self, item: QTreeWidgetItem) -> None:
        key = item.data(0, KEY_ROLE)
        if key is not None and item.data(0, MODE_ROLE) is None and key not in self._modes_known:
            self.modesWanted.emit(key)

    def _current_changed(self, item: QTreeWidgetItem | None, _previous) -> None:
        if item is not None:
            key, mode = item.data(0, KEY_ROLE), item.data(0, MODE_ROLE)
            if key is not None and mode is None:
                if key in self._modes_known:
                    if item.childCount():
                        self.tree.setCurrentItem(item.child(0))
                        return
                else:
                    self.modesWanted.emit(key)
            elif key is not None:
                self.modeSelected.emit(key, mode)
        self._update_add()

    # ================================================================ adding
    def _update_add(self) -> None:
        n = self.count.value()
        self.add_button.setText(f"Add {n} fixture{'s' if n != 1 else ''}")
        self.add_button.setEnabled(self.current() is not None)

    def _add_clicked(self) -> None:
        cur = self.current()
        if cur is not None:
            self.addRequested.emit(cur[0], cur[1], self.count.value(), self.universe.value(), self.address.value())
