"""The node editor panel: palette | node view | inspector and preview.

:class:`NodeEditor` shows a :class:`GraphData` of a :class:`NodeModel` and turns
every gesture (and every call of its editing methods) into
``changeRequested(new_graph, label, merge_key)``. It does not change its own
graph: the application records the edit (undo stack, storage) and calls
:meth:`NodeEditor.set_graph` with the result, so what is shown is always what
was stored. ``merge_key`` is the same for repeated edits of one parameter of
one node (an application may merge them into one undo step); "" otherwise.

Refused edits (incompatible ports, a loop) emit ``refused(reason)`` and show
the reason under the view; nothing is requested.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from widgets.nodes import model as m
from widgets.nodes.inspector import NodeInspector
from widgets.nodes.items import NodeItem
from widgets.nodes.model import GraphData, LinkData, NodeModel, Refused
from widgets.nodes.palette import NodePalette
from widgets.nodes.preview import NodePreview, Preview
from widgets.nodes.scene import NodeScene, NodeView


class NodeEditor(QWidget):
    changeRequested = Signal(object, str, str)  # GraphData, undo label, merge key
    currentNodeChanged = Signal(str)  # the one selected node ("" for none or several)
    refused = Signal(str)

    def __init__(self, parent=None, use_pyqtgraph: bool | None = None):
        super().__init__(parent)
        self.model: NodeModel | None = None
        self.scene = NodeScene(self)
        self.view = NodeView(self.scene)
        self.palette = NodePalette()
        self.inspector = NodeInspector()
        self.preview = NodePreview(use_pyqtgraph=use_pyqtgraph)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self._graph = GraphData()
        self._errors: dict[str, str] = {}
        self._select_after: list[str] | None = None
        self._current = ""

        centre = QWidget()
        cl = QVBoxLayout(centre)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.setSpacing(2)
        cl.addWidget(self.view, 1)
        cl.addWidget(self.status)
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.inspector)
        side.addWidget(self.preview)
        side.setStretchFactor(0, 3)
        side.setStretchFactor(1, 2)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.palette)
        split.addWidget(centre)
        split.addWidget(side)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setStretchFactor(2, 0)
        split.setSizes([170, 700, 280])
        self.splitter = split
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)

        self.palette.typeActivated.connect(lambda t: self.add_node(t))
        self.view.typeDropped.connect(lambda t, pos: self.add_node(t, (pos.x(), pos.y())))
        self.view.deleteRequested.connect(self.delete_selected)
        self.view.duplicateRequested.connect(lambda: self.duplicate())
        self.scene.connectRequested.connect(self._on_connect)
        self.scene.disconnectRequested.connect(lambda link: self.delete(links=[link]))
        self.scene.connectRefused.connect(self._refuse)
        self.scene.hoverMessage.connect(self._hover)
        self.scene.nodesMoved.connect(self.move_nodes)
        self.scene.selectionChanged.connect(self._selection_changed)
        self.inspector.paramEdited.connect(self.set_param)

    # ------------------------------------------------------------ model and graph
    def set_model(self, model: NodeModel) -> None:
        self.model = model
        self.scene.set_model(model)
        self.palette.set_types(model.node_types())
        self._graph = GraphData()
        self._errors = {}
        self.inspector.clear()

    @property
    def graph(self) -> GraphData:
        """The graph shown (every node with a position)."""
        return self._graph

    def set_graph(self, graph: GraphData) -> None:
        """Show ``graph``; nodes without a position are laid out."""
        if self.model is None:
            raise RuntimeError("NodeEditor.set_model must be called before set_graph")
        placed = m.auto_layout(graph)
        if placed:
            graph = m.move(graph, placed)
        self._graph = graph
        self.scene.blockSignals(True)
        try:
            self.scene.sync(graph)
        finally:
            self.scene.blockSignals(False)
        if self._select_after is not None:
            self.select(self._select_after)
            self._select_after = None
        self.scene.set_errors(self._errors)
        self._selection_changed()

    def set_errors(self, errors: Mapping[str, str]) -> None:
        """Badge these nodes with these messages (and no others)."""
        self._errors = dict(errors)
        self.scene.set_errors(self._errors)
        self.inspector.set_error(self._errors.get(self._current, ""))

    def errors(self) -> dict[str, str]:
        return dict(self._errors)

    def show_preview(self, preview: Preview) -> None:
        self.preview.show_preview(preview)

    # ------------------------------------------------------------ selection
    def current_node(self) -> str:
        return self._current

    def select(self, node_ids: Iterable[str]) -> None:
        wanted = set(node_ids)
        self.scene.blockSignals(True)
        try:
            for item in self.scene.selectedItems():
                item.setSelected(False)
            for nid in wanted:
                if nid in self.scene.nodes:
                    self.scene.nodes[nid].setSelected(True)
        finally:
            self.scene.blockSignals(False)
        self._selection_changed()

    def selected_nodes(self) -> list[str]:
        return self.scene.selected_node_ids()

    def _selection_changed(self) -> None:
        ids = self.scene.selected_node_ids()
        current = ids[0] if len(ids) == 1 else ""
        node = self._graph.node(current) if current else None
        kind = self.scene.types.get(node.type) if node is not None else None
        if node is not None and kind is not None:
            self.inspector.show_node(current, kind, node.params,
                                     lambda name: self.model.suggestions(node.type, name))
            self.inspector.set_error(self._errors.get(current, ""))
        else:
            self.inspector.clear()
            current = ""
        if current != self._current:
            self._current = current
            self.currentNodeChanged.emit(current)

    # ------------------------------------------------------------ positions (for tools and tests)
    def node_item(self, node_id: str) -> NodeItem:
        return self.scene.nodes[node_id]

    def port_view_pos(self, node_id: str, port: str, is_output: bool):
        """Where a port is on the view's viewport (QPoint)."""
        return self.view.mapFromScene(self.scene.nodes[node_id].scene_port_pos(port, is_output))

    def frame_all(self) -> None:
        self.view.frame_all()

    # ------------------------------------------------------------ edits (each emits changeRequested)
    def _request(self, graph: GraphData, label: str, merge_key: str = "") -> None:
        self.status.clear()
        before = self._graph
        self.changeRequested.emit(graph, label, merge_key)
        if self._graph is before:  # not taken (no project, refused by the application): show the graph again
            self._select_after = None
            self.scene.blockSignals(True)
            try:
                self.scene.sync(self._graph)
            finally:
                self.scene.blockSignals(False)

    def _refuse(self, reason: str) -> None:
        self.status.setStyleSheet("color: #e5484d;")
        self.status.setText(reason)
        self.refused.emit(reason)

    def _hover(self, reason: str) -> None:
        self.status.setStyleSheet("color: #e5484d;" if reason else "")
        self.status.setText(reason)

    def _free_pos(self, pos: tuple[float, float] | None) -> tuple[float, float]:
        if pos is None:
            c = self.view.mapToScene(self.view.viewport().rect().center())
            pos = (c.x() - 80, c.y() - 40)
        x, y = round(pos[0]), round(pos[1])
        taken = {(round(n.pos[0]), round(n.pos[1])) for n in self._graph.nodes if n.pos}
        while (x, y) in taken:  # do not hide a node under another
            x, y = x + 24, y + 24
        return float(x), float(y)

    def add_node(self, type_id: str, pos: tuple[float, float] | None = None) -> str:
        """Request a new node of ``type_id`` at ``pos`` (scene; default: the view's centre); its id."""
        if type_id not in self.scene.types:
            self._refuse(f"unknown node type {type_id!r}")
            return ""
        graph, nid = m.add_node(self._graph, type_id, self._free_pos(pos))
        self._select_after = [nid]
        title = self.scene.types[type_id].title or type_id
        self._request(graph, f"add {title} node")
        return nid

    def connect_ports(self, src: str, src_port: str, dst: str, dst_port: str, lifted: LinkData | None = None) -> bool:
        """Request a link (replacing the one into that input, and ``lifted``); False if refused."""
        link = LinkData(src, src_port, dst, dst_port)
        base = m.remove(self._graph, links=[lifted]) if lifted is not None else self._graph
        try:
            graph = m.connect(base, self.scene.types, self.model, link)
        except Refused as exc:
            self._refuse(str(exc))
            return False
        if graph == self._graph:
            return True
        self._request(graph, f"connect {link}")
        return True

    def _on_connect(self, link: LinkData, lifted: LinkData | None) -> None:
        self.connect_ports(link.src, link.src_port, link.dst, link.dst_port, lifted)

    def delete(self, node_ids: Iterable[str] = (), links: Iterable[LinkData] = ()) -> None:
        node_ids, links = list(node_ids), list(links)
        graph = m.remove(self._graph, node_ids, links)
        if graph == self._graph:
            return
        if node_ids:
            label = f"delete {node_ids[0]}" if len(node_ids) == 1 else f"delete {len(node_ids)} nodes"
        else:
            label = f"disconnect {links[0]}" if len(links) == 1 else f"disconnect {len(links)} links"
        self._request(graph, label)

    def delete_selected(self) -> None:
        self.delete(self.scene.selected_node_ids(), self.scene.selected_links())

    def duplicate(self, node_ids: Iterable[str] | None = None) -> list[str]:
        """Request copies of the nodes (default: the selected ones); the ids the copies will have."""
        ids = list(node_ids) if node_ids is not None else self.scene.selected_node_ids()
        if not ids:
            return []
        graph, new_ids = m.duplicate(self._graph, ids)
        self._select_after = new_ids
        self._request(graph, f"duplicate {ids[0]}" if len(ids) == 1 else f"duplicate {len(ids)} nodes")
        return new_ids

    def move_nodes(self, positions: Mapping[str, tuple[float, float]]) -> None:
        graph = m.move(self._graph, positions)
        if graph != self._graph:
            n = len(positions)
            self._request(graph, f"move {next(iter(positions))}" if n == 1 else f"move {n} nodes")

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        node = self._graph.node(node_id)
        if node is None or node.params.get(name, _MISSING) == value:
            return
        self._request(m.set_param(self._graph, node_id, name, value), f"set {node_id}.{name}", f"{node_id}.{name}")

    # ------------------------------------------------------------ geometry helpers
    def nodes_rect(self) -> QRectF:
        rect = QRectF()
        for item in self.scene.nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        return rect

    def scene_pos_of(self, node_id: str) -> QPointF:
        return self.scene.nodes[node_id].pos()


_MISSING = object()
