"""The timeline widget: tracks, clips, transitions, markers, beat grid, ruler and playhead of one sequence.

:class:`TimelineView` shows a :class:`core.timeline.model.Timeline` and emits
intent signals (move, trim, ripple, roll, slip, slide, blade, markers,
transitions, scrub, delete, split, drops, selection, track switches); the app
turns them into undoable edits. Its edit tools are in :data:`TOOLS`.
"""

from widgets.timeline.palette import TimelinePalette
from widgets.timeline.view import MEDIA_MIME, TOOLS, TimelineView

__all__ = ["MEDIA_MIME", "TOOLS", "TimelinePalette", "TimelineView"]
