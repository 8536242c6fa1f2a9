"""The patch panel widget on its own: rows, red overlaps, edit requests, the library browser's signals."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox, QStyleOptionViewItem

from widgets.fixture_browser import FixtureBrowser
from widgets.patch_panel import CONFLICT_BACKGROUND, FIELDS, PatchPanel, PatchRow

ROWS = [
    PatchRow("par1", "Front 1", "Generic/RGB Par", "3 Channel", 1, 1, 3, ("front",), -1.0, 0.0,
             "par1 overlaps par2 on universe 1, channel 3 - move one of them to a free address"),
    PatchRow("par2", "", "Generic/RGB Par", "3 Channel", 1, 3, 3, (), 1.25, 0.5,
             "par2 overlaps par1 on universe 1, channel 3 - move one of them to a free address"),
    PatchRow("spot1", "Spot", "Generic/Moving Head 16-bit", "16 Channel", 2, 10, 13, ("movers", "back"), 0.0, 4.0),
]


def test_rows_conflicts_and_edit_requests(qtbot):
    panel = PatchPanel()
    qtbot.addWidget(panel)
    panel.set_rows(ROWS)
    m = panel.model
    texts = [[panel.proxy.index(r, c).data() for c in range(len(FIELDS))] for r in range(3)]
    assert texts[2] == ["spot1", "Spot", "Generic/Moving Head 16-bit", "16 Channel", "2", "10", "13 (10-22)",
                        "movers, back", "0.00", "4.00"]
    assert m.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) == CONFLICT_BACKGROUND
    assert "overlaps par2" in m.index(0, 5).data(Qt.ItemDataRole.ToolTipRole)
    assert m.index(2, 0).data(Qt.ItemDataRole.BackgroundRole) is None
    assert m.index(2, 0).data(Qt.ItemDataRole.ToolTipRole).startswith("spot1: Generic/Moving Head 16-bit")
    assert "2 fixtures overlap another" in panel.summary.text()
    editable = [f for c, f in enumerate(FIELDS) if m.flags(m.index(0, c)) & Qt.ItemFlag.ItemIsEditable]
    assert editable == ["name", "universe", "address", "groups", "x", "y"]

    asked = []
    panel.editRequested.connect(lambda *a: asked.append(a))
    assert not m.setData(m.index(1, FIELDS.index("address")), 4)  # requested, not changed here
    assert m.setData(m.index(1, FIELDS.index("address")), 3) is False  # the same value: nothing asked
    m.setData(m.index(2, FIELDS.index("groups")), "movers")
    assert asked == [("par2", "address", 4), ("spot1", "groups", "movers")]
    assert m.index(1, FIELDS.index("address")).data() == "3"

    # the app sets the rows again: same fixtures keep the selection; the red goes with the overlap
    panel.select_ids(["spot1"])
    fixed = [r if r.id == "spot1" else PatchRow(*[getattr(r, f) for f in r.__dataclass_fields__][:-1]) for r in ROWS]
    panel.set_rows(fixed)
    assert panel.selected_ids() == ["spot1"]
    assert m.index(0, 0).data(Qt.ItemDataRole.BackgroundRole) is None and "overlap" not in panel.summary.text()

    # sorting by a column keeps the id mapping right
    panel.table.sortByColumn(FIELDS.index("x"), Qt.SortOrder.DescendingOrder)
    assert [panel.proxy.index(r, 0).data() for r in range(3)] == ["par2", "spot1", "par1"]
    assert panel.index_of("par1", "x").row() == 2

    # editors with the right ranges
    delegate = panel.table.itemDelegate()
    opt = QStyleOptionViewItem()
    box = delegate.createEditor(panel.table.viewport(), opt, panel.index_of("par1", "universe"))
    assert isinstance(box, QSpinBox) and (box.minimum(), box.maximum()) == (1, 63999)
    box = delegate.createEditor(panel.table.viewport(), opt, panel.index_of("par1", "x"))
    assert isinstance(box, QDoubleSpinBox) and box.minimum() == -1000.0 and box.suffix() == " m"

    removed = []
    panel.removeRequested.connect(removed.append)
    panel.select_ids(["par1", "spot1"])
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    assert removed == [["par1", "spot1"]]


def test_browser_asks_for_modes_and_emits_add(qtbot):
    b = FixtureBrowser()
    qtbot.addWidget(b)
    b.set_entries([("A/One", "A", "One", "Dimmer"), ("A/Two", "A", "Two", "Moving Head"),
                   ("B/Par", "B", "Par", "Color Changer")])
    assert b.tree.topLevelItemCount() == 2 and not b.add_button.isEnabled()
    wanted, selected, added = [], [], []
    b.modesWanted.connect(wanted.append)
    b.modeSelected.connect(lambda k, m: selected.append((k, m)))
    b.addRequested.connect(lambda *a: added.append(a))
    b.show_only({"B/Par"})
    assert b.visible_keys() == ["B/Par"] and b.status.text() == "1 fixture"
    b.show_only(None)
    assert len(b.visible_keys()) == 3
    assert b.select("A/Two")
    assert wanted == ["A/Two"]
    b.set_modes("A/Two", [("8ch", 8), ("16ch", 16)])  # the model was current: its first mode becomes current
    assert b.current() == ("A/Two", "8ch") and selected == [("A/Two", "8ch")]
    assert b.select("A/Two", "16ch") and selected[-1] == ("A/Two", "16ch")
    b.set_preview("Two - 16ch", [(1, "Pan", "Pan"), (2, "Pan fine", "Pan (fine)")])
    assert b.preview_rows() == [("1", "Pan", "Pan"), ("2", "Pan fine", "Pan (fine)")]
    b.count.setValue(3)
    b.universe.setValue(2)
    assert b.address.text() == "next free" and b.add_button.text() == "Add 3 fixtures"
    qtbot.mouseClick(b.add_button, Qt.MouseButton.LeftButton)
    b.address.setValue(100)
    qtbot.mouseClick(b.add_button, Qt.MouseButton.LeftButton)
    assert added == [("A/Two", "16ch", 3, 2, 0), ("A/Two", "16ch", 3, 2, 100)]
