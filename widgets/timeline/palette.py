"""Colours, fonts and sizes of the timeline view (dark theme by default).

Everything the timeline paints comes from one :class:`TimelinePalette`, so a
theme is a set of keyword overrides::

    TimelinePalette(clip_video="#8855aa", video_track_height=80)

Pens, brushes and font metrics are built once here; the painting code reuses
them and allocates nothing per paint.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPen

#: Colours by role; ``#RRGGBB`` or ``#AARRGGBB`` (Qt's order: alpha first).
DEFAULT_COLOURS: dict[str, str] = {
    "background": "#1a1b1e",
    "lane_video": "#25272c",
    "lane_audio": "#222529",
    "lane_line": "#17181b",
    "divider": "#0e0f11",
    "ruler_bg": "#2c2e33",
    "ruler_tick": "#80858f",
    "ruler_text": "#c9cdd5",
    "in_out": "#553d7bd9",
    "header_bg": "#292b30",
    "header_text": "#d8dbe1",
    "header_subtext": "#8a8f99",
    "badge_off": "#3a3d44",
    "badge_off_text": "#9aa0aa",
    "badge_muted": "#d9a23c",
    "badge_hidden": "#5f87d9",
    "badge_locked": "#d95a5a",
    "badge_solo": "#e0d04a",
    "target": "#ffd34d",
    "badge_on_text": "#111214",
    "clip_video": "#3d6db3",
    "clip_audio": "#388f63",
    "clip_locked": "#5a5d64",
    "clip_border": "#101114",
    "clip_selected_border": "#ffd34d",
    "clip_text": "#f3f5f9",
    "waveform": "#b4ecc9",
    "playhead": "#ff4b4b",
    "ghost_fill": "#55ffffff",
    "ghost_line": "#ffffff",
    "snap": "#ffd34d",
    "drop": "#ffffff",
    "rubber_fill": "#336fa8ff",
    "rubber_line": "#9fc8ff",
    "marker_lane": "#2c2e33",
    "transition_fill": "#cc6c4fb0",
    "transition_selected": "#eeb08ce8",
    "transition_text": "#ffffff",
    "beat_line": "#38ffffff",
    "bar_line": "#66ffffff",
    "blade": "#ff8c3a",
    "slip_ghost": "#33ffd34d",
}

#: Marker colours by name (the model stores the name; anything else is tried as a Qt colour).
MARKER_COLOURS: dict[str, str] = {
    "red": "#e5484d", "orange": "#f08c2e", "yellow": "#e8cf3a", "green": "#46b86a", "cyan": "#3cc3d0",
    "blue": "#4c7ff0", "purple": "#9a6cf0", "pink": "#e86cb8", "white": "#e8e8e8",
}

#: Sizes in logical pixels (font size in points).
DEFAULT_SIZES: dict[str, float] = {
    "ruler_height": 42,      # marker lane (top) + time ruler
    "marker_lane_height": 13,
    "header_width": 136,
    "video_track_height": 64,
    "audio_track_height": 52,
    "divider_height": 6,
    "edge_zone": 6,          # trim hot zone at each clip edge
    "snap_distance": 8,      # snapping threshold, converted to frames at the current zoom
    "label_spacing": 96,     # minimum distance between ruler labels
    "minor_spacing": 7,      # minimum distance between minor ruler ticks
    "font_size": 8.5,
    "badge_size": 16,
}


class TimelinePalette:
    """Colours (QColor attributes named as in :data:`DEFAULT_COLOURS`), sizes and tools."""

    def __init__(self, **overrides: str | float | QColor):
        unknown = set(overrides) - set(DEFAULT_COLOURS) - set(DEFAULT_SIZES)
        if unknown:
            raise TypeError(f"unknown timeline palette entries: {', '.join(sorted(unknown))}")
        for key, value in DEFAULT_COLOURS.items():
            colour = QColor(overrides.get(key, value))
            if not colour.isValid():
                raise ValueError(f"timeline palette: {key}={overrides[key]!r} is not a colour")
            setattr(self, key, colour)
        for key, value in DEFAULT_SIZES.items():
            setattr(self, key, float(overrides.get(key, value)) if key == "font_size" else int(overrides.get(key, value)))
        self._build_tools()

    # Attribute annotations for readers and type checkers.
    background: QColor
    clip_video: QColor
    clip_audio: QColor
    playhead: QColor
    ruler_height: int
    header_width: int
    video_track_height: int
    audio_track_height: int
    divider_height: int
    edge_zone: int
    snap_distance: int

    def _build_tools(self) -> None:
        self.font = QFont()
        self.font.setPointSizeF(self.font_size)
        self.bold_font = QFont(self.font)
        self.bold_font.setBold(True)
        self.small_font = QFont(self.font)
        self.small_font.setPointSizeF(max(6.0, self.font_size - 1.0))
        self.metrics = QFontMetricsF(self.font)
        self.no_pen = QPen(Qt.PenStyle.NoPen)
        self.no_brush = QBrush(Qt.BrushStyle.NoBrush)
        self._marker_colours: dict[str, QColor] = {}

        def pen(colour: QColor, width: float = 0.0, style=Qt.PenStyle.SolidLine) -> QPen:
            p = QPen(colour, width, style)
            p.setCosmetic(True)
            return p

        self.clip_pen = pen(self.clip_border)
        self.clip_selected_pen = pen(self.clip_selected_border, 2.0)
        self.clip_text_brush = QBrush(self.clip_text)
        self.waveform_brush = QBrush(self.waveform)
        self.playhead_pen = pen(self.playhead)
        self.playhead_brush = QBrush(self.playhead)
        self.ghost_pen = pen(self.ghost_line, 1.0, Qt.PenStyle.DashLine)
        self.ghost_brush = QBrush(self.ghost_fill)
        self.snap_pen = pen(self.snap, 1.0, Qt.PenStyle.DashLine)
        self.drop_pen = pen(self.drop, 2.0)
        self.rubber_pen = pen(self.rubber_line)
        self.rubber_brush = QBrush(self.rubber_fill)
        self.tick_pen = pen(self.ruler_tick)
        self.transition_brush = QBrush(self.transition_fill)
        self.transition_selected_brush = QBrush(self.transition_selected)
        self.transition_pen = pen(self.transition_text)
        self.transition_text_brush = QBrush(self.transition_text)
        self.beat_pen = pen(self.beat_line)
        self.bar_pen = pen(self.bar_line)
        self.blade_pen = pen(self.blade, 1.0)
        self.slip_brush = QBrush(self.slip_ghost)
        self.target_pen = pen(self.target, 2.0)
        self.lane_line_pen = pen(self.lane_line)
        # Clip fills by (kind, state, selected); state: "normal" | "dim" | "locked".
        self.clip_brushes: dict[tuple[str, str, bool], QBrush] = {}
        for kind, base in (("video", self.clip_video), ("audio", self.clip_audio)):
            for state, colour in (("normal", base), ("dim", base.darker(170)), ("locked", self.clip_locked)):
                self.clip_brushes[(kind, state, False)] = QBrush(colour)
                self.clip_brushes[(kind, state, True)] = QBrush(colour.lighter(135))

    def marker_colour(self, name: str) -> QColor:
        """The colour of a marker colour name (unknown names: Qt's parsing, else red)."""
        colour = self._marker_colours.get(name)
        if colour is None:
            colour = QColor(MARKER_COLOURS.get(name, name))
            if not colour.isValid():
                colour = QColor(MARKER_COLOURS["red"])
            self._marker_colours[name] = colour
        return colour

    def track_height(self, kind: str) -> int:
        return self.video_track_height if kind == "video" else self.audio_track_height

    def clip_brush(self, kind: str, state: str, selected: bool) -> QBrush:
        return self.clip_brushes[(kind if kind == "video" else "audio", state, selected)]
