"""Scene items of the node editor: nodes with typed ports, links, the wire being dragged.

A :class:`NodeItem` draws its ports itself (no child items: hundreds of nodes
stay cheap to paint) and answers :meth:`NodeItem.port_at` for hit tests. The
bounds of nodes and links are native (QGraphicsRectItem / QGraphicsPathItem),
so the scene does not call into Python for them. Text is laid out once as
:class:`QStaticText` and shared. Levels of detail by zoom: below
:data:`FLAT_LOD` the scene draws all nodes as flat boxes in a few calls
(:func:`paint_flat`); above it a graph of a few dozen nodes shows every
detail, and a dense one (``scene.dense``) square boxes with titles, port
names from :data:`LABELS_LOD`, rounded boxes, ids and parameter summaries
from :data:`DETAIL_LOD`. Items set every pen, brush and font they use (the view
does not save the painter state around each item), and read the zoom from
``scene.lod`` when the view has set it for the paint in progress.
"""

from __future__ import annotations

import zlib
from typing import Any, Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QStaticText
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsRectItem, QStyleOptionGraphicsItem

from widgets.nodes.model import LinkData, NodeTypeDef

WIDTH = 176.0
HEADER = 26.0
ROW = 20.0
SUMMARY_ROW = 15.0
PAD = 6.0
PORT_R = 5.0
PORT_HIT = 10.0
MAX_SUMMARY = 3
FLAT_LOD = 0.4  # below this zoom nodes are drawn flat, all at once, by the scene
FRAME_REACH = 40.0  # how far outside its box a flat node's frame may reach (scene units)
LABELS_LOD = 0.55  # from this zoom port names are drawn
DETAIL_LOD = 0.7  # from this zoom node ids and parameter summaries are drawn

BODY = QColor("#2b2d31")
BORDER = QColor("#121314")
TEXT = QColor("#e8e8e8")
DIM_TEXT = QColor("#9a9ca3")
SELECTED = QColor("#ffb000")
ERROR = QColor("#e5484d")
OK = QColor("#46c46c")
PEN_BORDER = QPen(BORDER, 1.0)
PEN_SELECTED = QPen(SELECTED, 2.0)
PEN_ERROR = QPen(ERROR, 2.0)
PEN_SELECTED_LINK = QPen(SELECTED, 4.0)
PEN_TEXT = QPen(TEXT)
PEN_DIM_TEXT = QPen(DIM_TEXT)


def hashed_color(key: str, saturation: int = 150, value: int = 200) -> QColor:
    """A stable colour for a name (same name, same colour, in every session)."""
    return QColor.fromHsv(zlib.crc32(key.encode()) % 360, saturation, value)


def value_text(value: Any) -> str:
    """A parameter value the way a node summarises it."""
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            return "[" + ", ".join(f"{v:.2g}" for v in value) + "]"
        return ", ".join(value_text(v) for v in value) or "-"
    return str(value)


_HEADER_PATH: list[QPainterPath] = []


def _header_path() -> QPainterPath:
    """The header band: rounded top corners, square bottom (the same for every node)."""
    if not _HEADER_PATH:
        rounded = QPainterPath()
        rounded.addRoundedRect(QRectF(1, 1, WIDTH - 2, HEADER + 10), 4, 4)
        band = QPainterPath()
        band.addRect(QRectF(0, 0, WIDTH, HEADER))
        _HEADER_PATH.append(rounded.intersected(band))
    return _HEADER_PATH[0]


_LABELS: dict[tuple, tuple[QStaticText, float]] = {}


def label(text: str, font: QFont, max_width: float | None = None) -> tuple[QStaticText, float]:
    """``text`` laid out once in ``font`` (elided to ``max_width``) and its width; shared by
    every item that shows the same words (port names, titles, common values)."""
    key = (text, font.key(), max_width)
    hit = _LABELS.get(key)
    if hit is None:
        fm = QFontMetricsF(font)
        shown = text if max_width is None or fm.horizontalAdvance(text) <= max_width else \
            fm.elidedText(text, Qt.TextElideMode.ElideRight, max_width)
        st = QStaticText(shown)
        st.setTextFormat(Qt.TextFormat.PlainText)
        st.prepare(font=font)
        if len(_LABELS) > 20000:
            _LABELS.clear()
        hit = _LABELS[key] = (st, fm.horizontalAdvance(shown))
    return hit


class NodeItem(QGraphicsRectItem):
    """One node: header (title, id), input ports on the left, outputs on the right, a
    summary of its parameters, and an error badge when the application reports one."""

    def __init__(self, node_id: str, kind: NodeTypeDef, port_color: Callable[[str], QColor], fonts: tuple,
                 params: dict[str, Any] | None = None):
        super().__init__()
        self.node_id = node_id
        self.kind = kind
        self._port_color = port_color
        self._font, self._bold, self._small = fonts
        self.error = ""
        self.linked: set[tuple[str, bool]] = set()  # (port, is_output) with a link
        self.links: list[LinkItem] = []
        self._params: dict[str, Any] = {}
        self.setFlags(
            QGraphicsItem.GraphicsItemFlag.ItemIsMovable
            | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
            | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges
        )
        self.setAcceptHoverEvents(False)
        self.setPen(QPen(Qt.PenStyle.NoPen))
        self._header = hashed_color(kind.category or kind.type_id, 120, 120)
        self._title, title_w = label(kind.title or kind.type_id, self._bold)
        self._id_text, self._id_w = label(node_id, self._small, max(WIDTH - 2 * PAD - 10 - 18 - title_w, 0.0))
        self._in_labels = [label(p.name, self._font)[0] for p in kind.inputs]
        outs = [label(p.name, self._font) for p in kind.outputs]
        self._out_labels = [st for st, _ in outs]
        self._out_widths = [w for _, w in outs]
        self._rows = max(len(kind.inputs), len(kind.outputs))
        self._summary: list[QStaticText] = []
        self._height = 0.0
        self._flat_scene = None
        self._prepare_ports()
        self.set_params(params or {})

    # ------------------------------------------------------------ data
    def set_params(self, params: dict[str, Any]) -> None:
        """Show the parameter values (those not set show their default)."""
        self._params = dict(params)
        lines = []
        for p in self.kind.params[:MAX_SUMMARY]:
            text = f"{p.name}: {value_text(self._params.get(p.name, p.default))}"
            lines.append(label(text, self._small, WIDTH - 2 * PAD)[0])
        if len(self.kind.params) > MAX_SUMMARY:
            more = f"+{len(self.kind.params) - MAX_SUMMARY + 1} more parameters"
            lines[-1] = label(more, self._small, WIDTH - 2 * PAD)[0]
        height = HEADER + self._rows * ROW + len(lines) * SUMMARY_ROW + PAD
        if height != self._height:
            self._height = height
            self._prepare_geometry()  # setRect tells the scene the geometry changes
        self._summary = lines
        self.update()

    def set_error(self, message: str) -> None:
        if message != self.error:
            self.error = message
            self.setToolTip(message)
            self._update_frame()

    def set_linked(self, linked: set[tuple[str, bool]]) -> None:
        if linked != self.linked:
            self.linked = linked
            self._prepare_ports()
            self._prepare_geometry()
            self.update()

    # ------------------------------------------------------------ geometry
    def _prepare_geometry(self) -> None:
        """Rectangles that depend only on the height: bounds, and the flat look used far out."""
        h = self._height
        # the bounds are the rectangle of QGraphicsRectItem (no pen): the scene asks for them
        # several times per item and paint, natively instead of through Python
        self._bounds = QRectF(-PORT_R - 2, -8, WIDTH + 2 * PORT_R + 4, h + 10)
        self.setRect(self._bounds)
        self._body = QRectF(0, 0, WIDTH, h)
        self._header_rect = QRectF(0.5, 0.5, WIDTH - 1, HEADER - 0.5)
        self._flat = [(QRectF(0, HEADER, WIDTH, h - HEADER), BODY), (QRectF(0, 0, WIDTH, HEADER), self._header)]
        self._flat_ports = [(name, is_output, QRectF(c.x() - PORT_R, c.y() - PORT_R, 2 * PORT_R, 2 * PORT_R), color)
                            for name, is_output, c, color, _pen, _brush, _filled in self._ports]
        self._flat_scene = None

    def body_rect(self) -> QRectF:
        return QRectF(0, 0, WIDTH, self._height)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRect(self.body_rect().adjusted(-PORT_R, 0, PORT_R, 0))
        return path

    def port_pos(self, name: str, is_output: bool) -> QPointF:
        """Centre of a port circle, in item coordinates."""
        ports = self.kind.outputs if is_output else self.kind.inputs
        i = next((k for k, p in enumerate(ports) if p.name == name), 0)
        return QPointF(WIDTH if is_output else 0.0, HEADER + (i + 0.5) * ROW)

    def scene_port_pos(self, name: str, is_output: bool) -> QPointF:
        return self.mapToScene(self.port_pos(name, is_output))

    def port_at(self, pos: QPointF) -> tuple[str, bool] | None:
        """(port name, is output) of the port under ``pos`` (item coordinates), if any."""
        row = int((pos.y() - HEADER) // ROW)
        if pos.y() < HEADER or row >= self._rows:
            return None
        if abs(pos.x()) <= PORT_HIT and row < len(self.kind.inputs):
            return self.kind.inputs[row].name, False
        if abs(pos.x() - WIDTH) <= PORT_HIT and row < len(self.kind.outputs):
            return self.kind.outputs[row].name, True
        return None

    def port_type(self, name: str, is_output: bool) -> str:
        port = self.kind.output(name) if is_output else self.kind.input(name)
        return port.type if port is not None else ""

    def _update_frame(self) -> None:
        """Repaint the node and its frame (which, drawn flat far out, reaches beyond its bounds)."""
        scene = self.scene()
        if scene is not None:
            r = FRAME_REACH
            scene.update(self.sceneBoundingRect().adjusted(-r, -r, r, r))

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged:
            self._update_frame()
        elif change == QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged:
            self._flat_scene = None
            for link in self.links:
                link.update_path()
        return super().itemChange(change, value)

    def flat_boxes(self, drag=None, lod: float = 0.25) -> tuple[QRectF, list[tuple[int, QColor, QRectF]]]:
        """Far out: the node's scene rectangle and its flat boxes (layer, colour, scene rect);
        the frame is 1 pixel wide (3 when selected or in error) at zoom ``lod``; while a link
        is dragged, the ports that cannot take it are left out."""
        if self._flat_scene is None:
            x, y = self.x(), self.y()
            self._flat_scene = (
                QRectF(x, y, WIDTH, self._height).adjusted(-PORT_R, -PORT_R, PORT_R, PORT_R),
                [(1, color, rect.translated(x, y)) for rect, color in self._flat],
                [(name, is_output, (2, color, rect.translated(x, y)))
                 for name, is_output, rect, color in self._flat_ports],
            )
        bounds, bodies, ports = self._flat_scene
        selected = self.isSelected()
        w = min((3.0 if (selected or self.error) else 1.0) / max(lod, 1e-3), FRAME_REACH)
        frame = QRectF(self.x() - w, self.y() - w, WIDTH + 2 * w, self._height + 2 * w)
        out = [(0, SELECTED if selected else (ERROR if self.error else BORDER), frame)]
        out += bodies
        out += [box for name, is_output, box in ports
                if drag is None or drag.state_of(self.node_id, name, is_output) != "dim"]
        if self.error:
            out.append((3, ERROR, QRectF(self.x() + WIDTH - 18, self.y() + 4, 14, 18)))
        return bounds, out

    # ------------------------------------------------------------ painting
    def _prepare_ports(self) -> None:
        """Centres, pens and brushes of the ports as they are drawn when no link is dragged."""
        self._ports = []
        for is_output, ports in ((False, self.kind.inputs), (True, self.kind.outputs)):
            for i, port in enumerate(ports):
                c = QPointF(WIDTH if is_output else 0.0, HEADER + (i + 0.5) * ROW)
                color = QColor(self._port_color(port.type))
                filled = (port.name, is_output) in self.linked or is_output or not port.required
                pen = QPen(color.darker(160) if filled else color, 1.5)
                brush = QBrush(color if filled else BODY)
                self._ports.append((port.name, is_output, c, color, pen, brush, filled))

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        scene = self.scene()
        lod = getattr(scene, "lod", None) or option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < FLAT_LOD:  # far out: the scene draws every node at once (paint_flat)
            return
        drag = getattr(scene, "drag", None)
        selected = self.isSelected()
        dense = getattr(scene, "dense", False)  # small graphs show every detail at every zoom
        detail = lod >= DETAIL_LOD or not dense
        painter.setPen(PEN_SELECTED if selected else (PEN_ERROR if self.error else PEN_BORDER))
        painter.setBrush(BODY)
        if detail:
            painter.drawRoundedRect(QRectF(0, 0, WIDTH, self._height), 5, 5)
            painter.fillPath(_header_path(), self._header)
        else:  # corners of a few pixels: square boxes on the pixel grid cost a fraction
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.drawRect(self._body)
            painter.fillRect(self._header_rect, self._header)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(PEN_TEXT)
        painter.setFont(self._bold)
        painter.drawStaticText(QPointF(PAD + 2, 4), self._title)
        if detail or lod >= LABELS_LOD:
            painter.setFont(self._font)
            for i, st in enumerate(self._in_labels):
                painter.drawStaticText(QPointF(PORT_R + 5, HEADER + i * ROW + 2), st)
            for i, st in enumerate(self._out_labels):
                painter.drawStaticText(QPointF(WIDTH - PORT_R - 5 - self._out_widths[i], HEADER + i * ROW + 2), st)
        if detail:
            painter.setFont(self._small)
            painter.setPen(PEN_DIM_TEXT)
            painter.drawStaticText(QPointF(WIDTH - PAD - self._id_w - (18 if self.error else 0), 6), self._id_text)
            y = HEADER + self._rows * ROW
            for st in self._summary:
                painter.drawStaticText(QPointF(PAD + 2, y), st)
                y += SUMMARY_ROW
        self._paint_ports(painter, drag)
        if self.error:
            self._paint_badge(painter)

    def _paint_ports(self, painter: QPainter, drag) -> None:
        for name, is_output, c, color, pen, brush, filled in self._ports:
            state = drag.state_of(self.node_id, name, is_output) if drag is not None else ""
            if state == "dim":
                faded = QColor(color)
                faded.setAlpha(60)
                painter.setPen(QPen(faded, 1.5))
                painter.setBrush(faded if filled else BODY)
            else:
                painter.setPen(pen)
                painter.setBrush(brush)
            painter.drawEllipse(c, PORT_R, PORT_R)
            if state in ("ok", "target-ok", "target-bad"):
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.setPen(QPen(ERROR if state == "target-bad" else OK, 2.5 if state.startswith("target") else 1.5))
                painter.drawEllipse(c, PORT_R + 3, PORT_R + 3)

    def _paint_badge(self, painter: QPainter) -> None:
        c = QPointF(WIDTH - 10, HEADER / 2)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(ERROR)
        painter.drawEllipse(c, 7.5, 7.5)
        painter.setPen(QPen(QColor("white"), 2.0))
        painter.drawLine(QPointF(c.x(), c.y() - 4), QPointF(c.x(), c.y() + 1))
        painter.drawPoint(QPointF(c.x(), c.y() + 4))

    def badge_rect(self) -> QRectF:
        """Where the error badge is drawn (item coordinates)."""
        return QRectF(WIDTH - 17.5, HEADER / 2 - 7.5, 15, 15)


def paint_flat(painter: QPainter, nodes, exposed: QRectF, drag=None, lod: float = 0.25) -> None:
    """Far out (zoom below :data:`FLAT_LOD`): every node in ``exposed`` as flat boxes, grouped
    by colour - a few ``drawRects`` calls for hundreds of nodes instead of many calls each."""
    groups: dict[tuple[int, int], tuple[QColor, list]] = {}
    for item in nodes:
        if not item.isVisible():
            continue
        bounds, boxes = item.flat_boxes(drag, lod)
        if not exposed.intersects(bounds):
            continue
        for layer, color, rect in boxes:
            groups.setdefault((layer, color.rgba()), (color, []))[1].append(rect)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    painter.setPen(Qt.PenStyle.NoPen)
    for key in sorted(groups):
        color, rects = groups[key]
        painter.setBrush(color)
        painter.drawRects(rects)
    painter.restore()


def wire_path(a: QPointF, b: QPointF) -> QPainterPath:
    """The curve from an output at ``a`` to an input at ``b``: leaves and enters horizontally."""
    dx = max(abs(b.x() - a.x()) * 0.5, 40.0)
    path = QPainterPath(a)
    path.cubicTo(QPointF(a.x() + dx, a.y()), QPointF(b.x() - dx, b.y()), b)
    return path


class LinkItem(QGraphicsPathItem):
    """A link from an output port to an input port, coloured by the output's port type.

    The item's own pen is never drawn: its width (10) makes the native bounds and
    shape (what a click must hit) wider than the wire; paint draws the wire."""

    def __init__(self, link: LinkData, src: NodeItem, dst: NodeItem, color: QColor):
        super().__init__()
        self.link = link
        self.src, self.dst = src, dst
        self.color = QColor(color)
        self._pen = QPen(self.color, 2.0)
        self._hairline = QPen(self.color, 0)
        self.setPen(QPen(self.color, 10.0))
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(-1)
        self._path = QPainterPath()
        src.links.append(self)
        dst.links.append(self)
        self.update_path()

    def detach(self) -> None:
        for node in (self.src, self.dst):
            if self in node.links:
                node.links.remove(self)

    def update_path(self) -> None:
        a = self.src.scene_port_pos(self.link.src_port, True)
        b = self.dst.scene_port_pos(self.link.dst_port, False)
        self._path = wire_path(a, b)
        self.setPath(self._path)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        scene = self.scene()
        lod = getattr(scene, "lod", None) or option.levelOfDetailFromTransform(painter.worldTransform())
        if self.isSelected():
            painter.setPen(PEN_SELECTED_LINK)
        elif lod < 0.5 or getattr(scene, "thin_links", False):
            painter.setPen(self._hairline)  # the raster engine's fast path: 5x cheaper than 2 px wires
        else:
            painter.setPen(self._pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)


class PendingLinkItem(QGraphicsPathItem):
    """The wire that follows the mouse while a link is dragged: dashed while it points at
    nothing, solid green over a port it may connect to, solid red over one it may not."""

    def __init__(self, color: QColor):
        super().__init__()
        self.color = QColor(color)
        self.setPen(QPen(self.color, 6.0))  # bounds only; paint draws the wire
        self.setZValue(10)
        self.state = ""  # "", "ok" or "bad"
        self._path = QPainterPath()

    def set_ends(self, out_pos: QPointF, in_pos: QPointF, state: str) -> None:
        self.state = state
        self._path = wire_path(out_pos, in_pos)
        self.setPath(self._path)

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        if self.state == "ok":
            pen = QPen(OK, 3.0)
        elif self.state == "bad":
            pen = QPen(ERROR, 3.0)
        else:
            pen = QPen(self.color, 2.0, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(QBrush(Qt.BrushStyle.NoBrush))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.drawPath(self._path)
