"""The patch panel: the fixture library browser beside the patch table.

The table lists every patched fixture (id, name, definition, mode, universe,
address, footprint, groups, x, y). Name, universe, address, groups and the
stage position can be edited in place; an edit is *requested*
(``editRequested(fixture_id, field, value)``, field one of ``name universe
address groups x y``), never stored by the widget: the app stores it and
sets the rows again. Rows whose channels overlap another fixture's are red,
with a tooltip naming the other fixture(s).

:class:`PatchPanel` combines :class:`~widgets.fixture_browser.FixtureBrowser`
and the table; it holds no business logic.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QDoubleSpinBox, QHBoxLayout, QHeaderView, QLabel, QPushButton,
                               QSpinBox, QSplitter, QStyledItemDelegate, QTableView, QVBoxLayout, QWidget)

from widgets.fixture_browser import FixtureBrowser

CONFLICT_BACKGROUND = QColor("#b3261e")
CONFLICT_TEXT = QColor("#ffffff")
CONFLICT_SELECTED = QColor("#e53935")
SORT_ROLE = Qt.ItemDataRole.UserRole
ID_ROLE = Qt.ItemDataRole.UserRole + 1


@dataclass(frozen=True)
class PatchRow:
    id: str
    name: str
    definition: str
    mode: str
    universe: int
    address: int
    footprint: int
    groups: tuple[str, ...]
    x: float
    y: float
    conflict: str = ""  # why the row is red ("" when it is not)


# (header, field, editable)
COLUMNS = (
    ("ID", "id", False), ("Name", "name", True), ("Definition", "definition", False), ("Mode", "mode", False),
    ("Universe", "universe", True), ("Address", "address", True), ("Channels", "footprint", False),
    ("Groups", "groups", True), ("X (m)", "x", True), ("Y (m)", "y", True),
)
FIELDS = [c[1] for c in COLUMNS]
_WIDTH_CAPS = (150, 170, 190, 150, 66, 62, 80, 130, 60, 60)  # most a column takes when fitted to its contents


class PatchTableModel(QAbstractTableModel):
    editRequested = Signal(str, str, object)  # fixture id, field, new value

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[PatchRow] = []

    def set_rows(self, rows: list[PatchRow]) -> None:
        if [r.id for r in rows] == [r.id for r in self.rows]:
            self.rows = list(rows)  # same fixtures: keep the view's selection and scroll position
            if rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(COLUMNS) - 1))
            return
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row_of(self, fixture_id: str) -> int:
        return next(i for i, r in enumerate(self.rows) if r.id == fixture_id)

    # ------------------------------------------------------------ Qt model
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 (Qt override)
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        return None

    def flags(self, index):
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.isValid() and COLUMNS[index.column()][2]:
            f |= Qt.ItemFlag.ItemIsEditable
        return f

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        field = FIELDS[index.column()]
        value = getattr(row, field)
        if role == Qt.ItemDataRole.DisplayRole:
            if field == "groups":
                return ", ".join(value)
            if field in ("x", "y"):
                return f"{value:.2f}"
            if field == "footprint":
                last = row.address + row.footprint - 1
                return f"{row.footprint} ({row.address}-{last})"
            return str(value)
        if role == Qt.ItemDataRole.EditRole:
            return ", ".join(value) if field == "groups" else value
        if role == SORT_ROLE:
            return ", ".join(value) if field == "groups" else value
        if role == ID_ROLE:
            return row.id
        if role == Qt.ItemDataRole.TextAlignmentRole and field in ("universe", "address", "footprint", "x", "y"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if row.conflict:
            if role == Qt.ItemDataRole.BackgroundRole:
                return CONFLICT_BACKGROUND
            if role == Qt.ItemDataRole.ForegroundRole:
                return CONFLICT_TEXT
            if role == Qt.ItemDataRole.ToolTipRole:
                return row.conflict
        elif role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.id}: {row.definition} ({row.mode}), universe {row.universe}, " \
                   f"channels {row.address}-{row.address + row.footprint - 1}"
        return None

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802 (Qt override)
        if role != Qt.ItemDataRole.EditRole or not index.isValid():
            return False
        row = self.rows[index.row()]
        field = FIELDS[index.column()]
        current = self.data(index, Qt.ItemDataRole.EditRole)
        if value == current:
            return False
        self.editRequested.emit(row.id, field, value)
        return False  # nothing changes here: the app stores the edit and sets the rows again


class PatchDelegate(QStyledItemDelegate):
    """Editors with the right ranges (universe 1..63999, address 1..512, positions in metres); a selected
    row that overlaps another stays red (a brighter red) instead of taking the selection colour."""

    def initStyleOption(self, option, index) -> None:  # noqa: N802 (Qt override)
        super().initStyleOption(option, index)
        if index.data(Qt.ItemDataRole.BackgroundRole) == CONFLICT_BACKGROUND:
            option.palette.setColor(QPalette.ColorRole.Highlight, CONFLICT_SELECTED)
            option.palette.setColor(QPalette.ColorRole.HighlightedText, CONFLICT_TEXT)

    def createEditor(self, parent, option, index):  # noqa: N802 (Qt override)
        field = FIELDS[index.column()]
        if field in ("universe", "address"):
            box = QSpinBox(parent)
            box.setRange(1, 63999 if field == "universe" else 512)
            return box
        if field in ("x", "y"):
            box = QDoubleSpinBox(parent)
            box.setRange(-1000.0, 1000.0)
            box.setDecimals(2)
            box.setSingleStep(0.1)
            box.setSuffix(" m")
            return box
        return super().createEditor(parent, option, index)


class PatchPanel(QWidget):
    editRequested = Signal(str, str, object)  # fixture id, field, value
    removeRequested = Signal(list)  # fixture ids
    selectionChanged = Signal(list)  # fixture ids

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.browser = FixtureBrowser()
        self.model = PatchTableModel(self)
        self.model.editRequested.connect(self.editRequested.emit)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTableView()
        self.table.setObjectName("patch-table")
        self.table.setModel(self.proxy)
        self.table.setItemDelegate(PatchDelegate(self.table))
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # patch order until a header is clicked
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        for col, width in enumerate((110, 120, 170, 110, 66, 62, 84, 110, 62, 62)):
            self.table.setColumnWidth(col, width)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self.selectionChanged.emit(self.selected_ids()))

        self.summary = QLabel("")
        self.summary.setObjectName("patch-summary")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Unpatch the selected fixtures (Delete)")
        self.remove_button.clicked.connect(self._remove)
        self.remove_button.setEnabled(False)
        self.selectionChanged.connect(lambda ids: self.remove_button.setEnabled(bool(ids)))
        shortcut = QShortcut(QKeySequence(QKeySequence.StandardKey.Delete), self.table)
        shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
        shortcut.activated.connect(self._remove)

        right = QWidget()
        right_lay = QVBoxLayout(right)
        right_lay.setContentsMargins(0, 0, 0, 0)
        right_lay.addWidget(self.table, 1)
        row = QHBoxLayout()
        row.addWidget(self.summary, 1)
        row.addWidget(self.remove_button)
        right_lay.addLayout(row)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.browser)
        split.addWidget(right)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 5)
        split.setSizes([300, 900])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(split)

    def set_rows(self, rows: list[PatchRow]) -> None:
        reset = [r.id for r in rows] != [r.id for r in self.model.rows]
        self.model.set_rows(rows)
        if reset and rows:
            for col, cap in enumerate(_WIDTH_CAPS):
                self.table.resizeColumnToContents(col)
                self.table.setColumnWidth(col, min(self.table.columnWidth(col) + 6, cap))
        conflicts = sum(1 for r in self.model.rows if r.conflict)
        channels = sum(r.footprint for r in self.model.rows)
        text = f"{len(rows)} fixture{'s' if len(rows) != 1 else ''}, {channels} channels"
        if conflicts:
            text += (f" — {conflicts} fixture{'s' if conflicts != 1 else ''} overlap{'s' if conflicts == 1 else ''} "
                     "another (red rows): the show cannot play until they move")
        self.summary.setText(text)
        self.summary.setStyleSheet("color: #e5484d;" if conflicts else "")

    def index_of(self, fixture_id: str, field: str):
        """The table (proxy) index of a fixture's field."""
        source = self.model.index(self.model.row_of(fixture_id), FIELDS.index(field))
        return self.proxy.mapFromSource(source)

    def selected_ids(self) -> list[str]:
        rows = sorted({self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.rows[r].id for r in rows]

    def select_ids(self, ids) -> None:
        ids = set(ids)
        sel = self.table.selectionModel()
        sel.blockSignals(True)
        try:
            self.table.clearSelection()
            for i, r in enumerate(self.model.rows):
                if r.id in ids:
                    idx = self.proxy.mapFromSource(self.model.index(i, 0))
                    sel.select(idx, sel.SelectionFlag.Select | sel.SelectionFlag.Rows)
        finally:
            sel.blockSignals(False)
        self.table.viewport().update()
        self.remove_button.setEnabled(bool(ids))

    def _remove(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.removeRequested.emit(ids)
