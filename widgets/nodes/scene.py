"""The node scene (items, link dragging, moves) and the view (zoom, pan, keys, drops).

:class:`NodeScene` mirrors a :class:`GraphData` with items and turns mouse
gestures into requests: ``connectRequested(new_link, lifted_link)``,
``disconnectRequested(link)``, ``connectRefused(reason)`` and
``nodesMoved({id: (x, y)})``. It changes no graph itself: the editor builds the
edited graph, the application records it, and the scene is synced to it.

Dragging from a port draws a wire; ports of a compatible type get a green ring
and the others fade; over a port the wire turns green (it may connect) or red
(it may not: the reason is reported on hover, and a drop there is refused).
Pressing on an input that already has a link lifts that link off the input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QKeySequence, QPainter, QPen
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

from widgets.nodes.items import (FLAT_LOD, FRAME_REACH, PORT_HIT, LinkItem, NodeItem, PendingLinkItem, hashed_color,
                                 paint_flat)
from widgets.nodes.model import GraphData, LinkData, NodeModel, NodeTypeDef, Refused, check_link, remove

NODE_TYPE_MIME = "application/x-luma-node-type"
BACKGROUND = QColor("#1d1e21")
GRID_FINE = QColor("#25272b")
GRID_COARSE = QColor("#2e3035")


@dataclass
class DragState:
    """A link being dragged from one port (the anchor)."""

    node: str
    port: str
    is_output: bool
    port_type: str
    lifted: LinkData | None = None
    states: dict = field(default_factory=dict)  # (node, port, is_output) -> "ok" | "dim"
    target: tuple[str, str, bool] | None = None
    target_ok: bool = False
    reason: str = ""

    def state_of(self, node: str, port: str, is_output: bool) -> str:
        key = (node, port, is_output)
        if key == self.target:
            return "target-ok" if self.target_ok else "target-bad"
        return self.states.get(key, "")


class NodeScene(QGraphicsScene):
    connectRequested = Signal(object, object)  # new LinkData, lifted LinkData or None
    disconnectRequested = Signal(object)  # LinkData
    connectRefused = Signal(str)  # why (dropped on a port it may not connect to)
    hoverMessage = Signal(str)  # why a hovered port may not connect ("" when it may)
    nodesMoved = Signal(dict)  # {node id: (x, y)}

    #: with more links than this, links are drawn as hairlines (an antialiased 2 px wire costs
    #: about five times as much to draw, and hundreds of them cross a view)
    THIN_LINKS_ABOVE = 120
    #: with more nodes than this, nodes drop details (ids, parameter summaries) at middle zooms
    DENSE_ABOVE = 60

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)
        self.model: NodeModel | None = None
        self.types: dict[str, NodeTypeDef] = {}
        self.graph = GraphData()
        self.nodes: dict[str, NodeItem] = {}
        self.links: dict[LinkData, LinkItem] = {}
        self.drag: DragState | None = None
        self.lod: float | None = None  # the zoom of the paint in progress (set by the view)
        self.thin_links = False  # graphs with many links draw them as hairlines
        self.dense = False  # graphs with many nodes drop details at middle zooms
        self._pending: PendingLinkItem | None = None
        self._press_pos: dict[str, QPointF] = {}
        self._colors: dict[str, QColor] = {}
        base = QFont()
        base.setPointSizeF(8.5)
        bold = QFont(base)
        bold.setBold(True)
        bold.setPointSizeF(9.0)
        small = QFont(base)
        small.setPointSizeF(7.5)
        self.fonts = (base, bold, small)

    # ------------------------------------------------------------ model
    def set_model(self, model: NodeModel) -> None:
        self.model = model
        self.types = {t.type_id: t for t in model.node_types()}
        self._colors.clear()
        self.clear_graph()

    def clear_graph(self) -> None:
        self.cancel_drag()
        for item in list(self.links.values()):
            self.removeItem(item)
        for item in list(self.nodes.values()):
            self.removeItem(item)
        self.nodes.clear()
        self.links.clear()
        self.graph = GraphData()

    def port_color(self, port_type: str) -> QColor:
        c = self._colors.get(port_type)
        if c is None:
            name = self.model.port_color(port_type) if self.model is not None else None
            c = QColor(name) if name else hashed_color(port_type, 170, 230)
            self._colors[port_type] = c
        return c

    def sync(self, graph: GraphData) -> None:
        """Make the items show ``graph`` (every node has a position); changes only what differs."""
        self.cancel_drag()
        wanted = {n.id: n for n in graph.nodes}
        stale = [nid for nid, item in self.nodes.items() if nid not in wanted or item.kind.type_id != wanted[nid].type]
        for nid in stale:
            item = self.nodes.pop(nid)
            for link in list(item.links):
                self._drop_link(link.link)
            self.removeItem(item)
        for n in graph.nodes:
            item = self.nodes.get(n.id)
            if item is None:
                kind = self.types.get(n.type) or NodeTypeDef(n.type, f"{n.type} (unknown)")
                item = NodeItem(n.id, kind, self.port_color, self.fonts, dict(n.params))
                self.addItem(item)
                self.nodes[n.id] = item
            elif n.params != item._params:
                item.set_params(dict(n.params))
            x, y = n.pos or (0.0, 0.0)
            if item.pos() != QPointF(x, y):
                item.setPos(x, y)
        wanted_links = set(graph.links)
        for link in [l for l in self.links if l not in wanted_links]:
            self._drop_link(link)
        for link in graph.links:
            if link not in self.links and link.src in self.nodes and link.dst in self.nodes:
                src, dst = self.nodes[link.src], self.nodes[link.dst]
                item = LinkItem(link, src, dst, self.port_color(src.port_type(link.src_port, True)))
                self.addItem(item)
                self.links[link] = item
        linked: dict[str, set] = {nid: set() for nid in self.nodes}
        for link in self.links:
            linked[link.src].add((link.src_port, True))
            linked[link.dst].add((link.dst_port, False))
        for nid, item in self.nodes.items():
            item.set_linked(linked[nid])
        self.thin_links = len(self.links) > self.THIN_LINKS_ABOVE
        self.dense = len(self.nodes) > self.DENSE_ABOVE
        self.graph = graph

    def _drop_link(self, link: LinkData) -> None:
        item = self.links.pop(link, None)
        if item is not None:
            item.detach()
            self.removeItem(item)

    def set_errors(self, errors: dict[str, str]) -> None:
        for nid, item in self.nodes.items():
            item.set_error(errors.get(nid, ""))

    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_links(self) -> list[LinkData]:
        return [i.link for i in self.selectedItems() if isinstance(i, LinkItem)]

    # ------------------------------------------------------------ hit tests
    def port_at(self, pos: QPointF) -> tuple[NodeItem, str, bool] | None:
        """The port within reach of scene position ``pos``: (node item, port, is output)."""
        area = QRectF(pos.x() - PORT_HIT, pos.y() - PORT_HIT, 2 * PORT_HIT, 2 * PORT_HIT)
        for item in self.items(area):
            if isinstance(item, NodeItem):
                hit = item.port_at(item.mapFromScene(pos))
                if hit is not None:
                    return item, hit[0], hit[1]
        return None

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        lod = painter.worldTransform().m11()
        if lod < FLAT_LOD:
            r = FRAME_REACH
            paint_flat(painter, self.nodes.values(), rect.adjusted(-r, -r, r, r), self.drag, lod)

    # ------------------------------------------------------------ link dragging
    def start_drag(self, node: NodeItem, port: str, is_output: bool) -> None:
        lifted = None
        if not is_output:
            lifted = self.graph.link_into(node.node_id, port)
        if lifted is not None:  # pick the link up by its input end: drag from its output
            src = self.nodes[lifted.src]
            node, port, is_output = src, lifted.src_port, True
            self.links[lifted].setVisible(False)
        ptype = node.port_type(port, is_output)
        drag = DragState(node.node_id, port, is_output, ptype, lifted)
        for other in self.nodes.values():
            if other is node:
                continue
            ports = other.kind.inputs if is_output else other.kind.outputs
            for p in ports:
                src_t, dst_t = (ptype, p.type) if is_output else (p.type, ptype)
                ok = self.model is not None and self.model.can_connect(src_t, dst_t)
                drag.states[(other.node_id, p.name, not is_output)] = "ok" if ok else "dim"
        self.drag = drag
        self._pending = PendingLinkItem(self.port_color(ptype))
        self.addItem(self._pending)
        anchor = node.scene_port_pos(port, is_output)
        self._pending.set_ends(anchor, anchor, "")
        self.update()

    def _candidate(self, hit) -> LinkData | None:
        d = self.drag
        item, port, is_output = hit
        if d is None or is_output == d.is_output or item.node_id == d.node:
            return None
        if d.is_output:
            return LinkData(d.node, d.port, item.node_id, port)
        return LinkData(item.node_id, port, d.node, d.port)

    def _check(self, link: LinkData) -> str:
        """"" when ``link`` may be made (after lifting the dragged link and whatever feeds that input)."""
        graph = remove(self.graph, links=[l for l in (self.drag.lifted, self.graph.link_into(link.dst, link.dst_port))
                                          if l is not None])
        try:
            check_link(graph, self.types, self.model, link)
        except Refused as exc:
            return str(exc)
        return ""

    def update_drag(self, pos: QPointF) -> None:
        d = self.drag
        if d is None or self._pending is None:
            return
        anchor = self.nodes[d.node].scene_port_pos(d.port, d.is_output)
        hit = self.port_at(pos)
        link = self._candidate(hit) if hit is not None else None
        state, end = "", pos
        old_target = d.target
        if link is not None:
            d.reason = self._check(link)
            d.target = (hit[0].node_id, hit[1], hit[2])
            d.target_ok = not d.reason
            state = "ok" if d.target_ok else "bad"
            end = hit[0].scene_port_pos(hit[1], hit[2])
        else:
            d.target, d.target_ok, d.reason = None, False, ""
        if d.is_output:
            self._pending.set_ends(anchor, end, state)
        else:
            self._pending.set_ends(end, anchor, state)
        if d.target != old_target:
            for key in (old_target, d.target):
                if key is not None:
                    self.nodes[key[0]].update()
            self.hoverMessage.emit(d.reason)

    def finish_drag(self, pos: QPointF) -> None:
        self.update_drag(pos)
        d = self.drag
        if d is None:
            return
        hit = self.port_at(pos)
        link = self._candidate(hit) if hit is not None else None
        self.cancel_drag()
        if link is not None:
            if d.reason:
                self.connectRefused.emit(d.reason)
            elif link != d.lifted:
                self.connectRequested.emit(link, d.lifted)
        elif d.lifted is not None:
            self.disconnectRequested.emit(d.lifted)

    def cancel_drag(self) -> None:
        d, self.drag = self.drag, None
        if self._pending is not None:
            self.removeItem(self._pending)
            self._pending = None
        if d is not None:
            if d.lifted is not None and d.lifted in self.links:
                self.links[d.lifted].setVisible(True)
            self.hoverMessage.emit("")
            self.update()

    # ------------------------------------------------------------ mouse
    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            hit = self.port_at(event.scenePos())
            if hit is not None:
                self.start_drag(*hit)
                event.accept()
                return
        super().mousePressEvent(event)
        self._press_pos = {i.node_id: i.pos() for i in self.nodes.values() if i.isSelected()}

    def mouseMoveEvent(self, event) -> None:
        if self.drag is not None:
            self.update_drag(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self.drag is not None:
            if event.button() == Qt.MouseButton.LeftButton:
                self.finish_drag(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        moved = {}
        for nid, before in self._press_pos.items():
            item = self.nodes.get(nid)
            if item is not None and item.pos() != before:
                moved[nid] = (float(round(item.x())), float(round(item.y())))
        self._press_pos = {}
        if moved:
            self.nodesMoved.emit(moved)


class NodeView(QGraphicsView):
    """Zoom with the wheel, pan with the middle button, rubber-band selection, keys:
    Delete/Backspace, Ctrl+D (duplicate), F (frame all); accepts node types dropped from the palette."""

    deleteRequested = Signal()
    duplicateRequested = Signal()
    typeDropped = Signal(str, QPointF)  # node type id, scene position

    MIN_SCALE, MAX_SCALE = 0.1, 2.5

    def __init__(self, scene: NodeScene, parent=None):
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontSavePainterState, True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSceneRect(QRectF(-50000, -50000, 100000, 100000))
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._pan_from: QPointF | None = None

    # ------------------------------------------------------------ framing
    def zoom(self) -> float:
        return self.transform().m11()

    def frame_all(self) -> None:
        """Fit every node into the view (not closer than 1:1)."""
        scene = self.scene()
        rect = QRectF()
        for item in scene.nodes.values():
            rect = rect.united(item.sceneBoundingRect())
        if rect.isEmpty():
            self.resetTransform()
            self.centerOn(0, 0)
            return
        rect = rect.adjusted(-40, -40, 40, 40)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        s = self.zoom()
        if s > 1.0 or s < self.MIN_SCALE:
            f = min(max(s, self.MIN_SCALE), 1.0) / s
            self.scale(f, f)
        self.centerOn(rect.center())

    def wheelEvent(self, event) -> None:
        steps = event.angleDelta().y() / 120.0
        if not steps:
            return
        f = 1.15 ** steps
        s = self.zoom()
        f = min(max(s * f, self.MIN_SCALE), self.MAX_SCALE) / s
        self.scale(f, f)

    # ------------------------------------------------------------ background
    def drawBackground(self, painter: QPainter, rect: QRectF) -> None:
        s = self.zoom()
        self.scene().lod = s  # items read it instead of working it out each
        painter.fillRect(rect, BACKGROUND)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # straight lines on the pixel grid
        close = s >= (0.7 if self.scene().dense else 0.5)
        for step, color in ((20.0 if close else 100.0, GRID_FINE), (100.0 if close else 500.0, GRID_COARSE)):
            left = int(rect.left() // step) * step
            top = int(rect.top() // step) * step
            lines = []
            x = left
            while x < rect.right():
                lines.append(QLineF(x, rect.top(), x, rect.bottom()))
                x += step
            y = top
            while y < rect.bottom():
                lines.append(QLineF(rect.left(), y, rect.right(), y))
                y += step
            painter.setPen(QPen(color, 0))
            painter.drawLines(lines)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        super().drawForeground(painter, rect)  # the scene's: far out, every node at once
        self.scene().lod = None

    # ------------------------------------------------------------ mouse
    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan_from is not None:
            d = event.position() - self._pan_from
            self._pan_from = event.position()
            s = self.zoom()
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
            self.translate(d.x() / s, d.y() / s)
            self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._pan_from is not None and event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = None
            self.viewport().unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    # ------------------------------------------------------------ keys
    def _own_key(self, event) -> str:
        key, mods = event.key(), event.modifiers()
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and not mods & ~Qt.KeyboardModifier.KeypadModifier:
            return "delete"
        if event.keyCombination().toCombined() == QKeySequence("Ctrl+D")[0].toCombined():
            return "duplicate"
        if key == Qt.Key.Key_F and mods == Qt.KeyboardModifier.NoModifier:
            return "frame"
        if key == Qt.Key.Key_Escape and self.scene().drag is not None:
            return "cancel"
        return ""

    def event(self, event) -> bool:
        # the window's own shortcuts (Delete on the timeline...) must not take these keys from here
        if event.type() == event.Type.ShortcutOverride and self._own_key(event):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event) -> None:
        what = self._own_key(event)
        if what == "delete":
            self.deleteRequested.emit()
        elif what == "duplicate":
            self.duplicateRequested.emit()
        elif what == "frame":
            self.frame_all()
        elif what == "cancel":
            self.scene().cancel_drag()
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    # ------------------------------------------------------------ drops from the palette
    def _drop_type(self, event) -> str:
        mime = event.mimeData()
        return bytes(mime.data(NODE_TYPE_MIME)).decode() if mime.hasFormat(NODE_TYPE_MIME) else ""

    def dragEnterEvent(self, event) -> None:
        if self._drop_type(event):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if self._drop_type(event):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        type_id = self._drop_type(event)
        if type_id:
            event.acceptProposedAction()
            self.typeDropped.emit(type_id, self.mapToScene(event.position().toPoint()))
        else:
            super().dropEvent(event)
