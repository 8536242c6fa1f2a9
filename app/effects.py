"""Effects from the main window: the clip inspector dock and the undoable property / filter edits.

:class:`EffectsController` shows :class:`~widgets.clip_inspector.ClipInspector`
as a dock tab beside the Inspector. It edits the selected clip, its track, or
the sequence (the inspector's target switch): every change goes through a
:mod:`core.timeline.edit` operation wrapped in an undo command (the edits of
one slider drag merge into one step). Typing a value into a keyframed
property sets a key at the playhead; ◆ sets or removes the key there
(clip properties count frames from the clip's start, track and sequence
filters count sequence frames). The inspector follows undo/redo, the
playhead and the selection, and the viewer shows the current frame again
after every change, playing or not.
"""

from __future__ import annotations

import importlib

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget

from app.commands import ClipChangeCommand
from core.errors import LumaError
from core.timeline import edit, keyframes
from core.timeline.edit import ClipChange
from core.timeline.props import CLIP_PROPS, TRACK_PROPS
from widgets.clip_inspector import ClipInspector, InspectorTarget

VIDEO_CLIP_PROPS = {n: s for n, s in CLIP_PROPS.items() if n not in ("volume", "fade_in", "fade_out")}
AUDIO_CLIP_PROPS = {n: CLIP_PROPS[n] for n in ("volume", "fade_in", "fade_out")}
_MERGE_ID = 0x4C4D  # QUndoCommand.id() of mergeable property edits


def _row_keys(rows) -> set:
    return {(type(r), r.id) for r in rows}


class PropertyCommand(ClipChangeCommand):
    """A property / filter edit already applied; the edits of one gesture (slider drag) merge."""

    def __init__(self, timeline, change: ClipChange, key=None, gesture: int | None = None):
        super().__init__(timeline, change)
        self.key, self.gesture = key, gesture

    def id(self) -> int:
        return _MERGE_ID if self.gesture is not None else -1

    def mergeWith(self, other) -> bool:
        if (not isinstance(other, PropertyCommand) or other.gesture != self.gesture or other.key != self.key
                or _row_keys(self.change.after) != _row_keys(other.change.before)):
            return False
        self.change = ClipChange(self.change.label, self.change.before, other.change.after)
        self.setObsolete(self.change.empty)  # dragged back to where it started: nothing to undo
        return True


class EffectsController(QObject):
    """Owned by the main window; see the module docstring."""

    def __init__(self, window):
        super().__init__(window)
        importlib.import_module("core.render.filters")  # registers the filter types the inspector offers
        self.window = window
        self.inspector = ClipInspector()
        self.inspector.setObjectName("clipInspector")
        self.dock = QDockWidget("Effects", window)
        self.dock.setObjectName("dock-effects")
        self.dock.setWidget(self.inspector)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self._visible = False  # the tab is in front (a tab behind others keeps isVisible() True)
        self.dock.visibilityChanged.connect(self._on_visibility)
        beside = window.findChild(QDockWidget, "dock-inspector")
        if beside is not None:
            window.tabifyDockWidget(beside, self.dock)
            beside.raise_()  # the Inspector stays in front; View > Effects Inspector brings this tab up
        self.kind = "clip"  # the target kind chosen in the inspector
        self._track_id: int | None = None  # the track shown when no clip is selected
        self._tl = None
        i = self.inspector
        i.targetKindChanged.connect(self.set_target_kind)
        i.propertyEdited.connect(self.set_value)
        i.blendEdited.connect(self.set_blend)
        i.keyToggled.connect(self.toggle_key)
        i.seekRequested.connect(self._seek_key)
        i.filterAddRequested.connect(self.add_filter)
        i.filterRemoveRequested.connect(self.remove_filter)
        i.filterMoveRequested.connect(self.move_filter)
        i.filterEnabledEdited.connect(self.enable_filter)
        i.filterParamEdited.connect(self.set_filter_value)
        i.filterKeyToggled.connect(self.toggle_filter_key)
        i.filterLutChosen.connect(self.set_lut)
        window.timeline_view.selectionChanged.connect(lambda _ids: self.refresh())

    def install_menu(self, view_menu) -> None:
        act = QAction("&Effects Inspector", self.window)
        act.setShortcut(QKeySequence("Ctrl+Shift+E"))
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(lambda _c=False: self.show_dock())
        view_menu.addSeparator()
        view_menu.addAction(act)
        self.window.addAction(act)
        self.show_action = act

    def show_dock(self) -> None:
        """Bring the Effects tab to the front (and back into the window if it was closed)."""
        self.dock.show()
        self.dock.raise_()

    def _on_visibility(self, shown: bool) -> None:
        self._visible = bool(shown)
        if shown:
            self.refresh()

    # ------------------------------------------------------------ project
    def project_opened(self) -> None:
        self._bind()
        self.refresh()

    def project_closing(self) -> None:
        self._unbind()
        self._track_id = None
        self.inspector.set_target(None)
        self.inspector.set_available({})

    def _bind(self) -> None:
        tl = self.window.timeline
        if tl is self._tl:
            return
        self._unbind()
        self._tl = tl
        if tl is not None:
            tl.changed.connect(self._on_changed)
            tl.playhead_moved.connect(self._on_playhead)

    def _unbind(self) -> None:
        if self._tl is not None:
            for sig, slot in ((self._tl.changed, self._on_changed), (self._tl.playhead_moved, self._on_playhead)):
                try:
                    sig.disconnect(slot)
                except (TypeError, ValueError, RuntimeError):
                    pass
        self._tl = None

    def _on_changed(self, _touched) -> None:
        self.refresh()
        self.redraw()

    def _on_playhead(self, _frame: int) -> None:
        if self._visible:  # a tab behind others catches up when it is brought up (visibilityChanged)
            self.refresh()

    # ------------------------------------------------------------ what is edited
    def selected_clip(self):
        tl = self.window.timeline
        if tl is None:
            return None
        ids = [i for i in self.window.timeline_view.selected_clip_ids() if i in tl.clips]
        return tl.clips[ids[0]] if len(ids) == 1 else None

    def _track(self):
        tl = self.window.timeline
        clip = self.selected_clip()
        if clip is not None:
            self._track_id = clip.track_id
        ids = [t.id for t in tl.tracks]
        if self._track_id not in ids:
            video = tl.video_tracks()
            self._track_id = video[0].id if video else (ids[0] if ids else None)
        return tl.track(self._track_id) if self._track_id is not None else None

    def target(self) -> tuple[str, int] | None:
        """The edit target, as core.timeline.edit names it: ("clip", id), ("track", id) or ("sequence", id)."""
        tl = self.window.timeline
        if tl is None:
            return None
        if self.kind == "clip":
            clip = self.selected_clip()
            return ("clip", clip.id) if clip is not None else None
        if self.kind == "track":
            track = self._track()
            return ("track", track.id) if track is not None else None
        return ("sequence", tl.sequence_id)

    def key_frame(self) -> int:
        """The playhead in the target's key time (clip-local for a clip)."""
        tl = self.window.timeline
        target = self.target()
        if target is not None and target[0] == "clip":
            return tl.playhead - tl.clips[target[1]].start
        return tl.playhead

    def _stored(self) -> dict:
        tl = self.window.timeline
        kind, tid = self.target()
        if kind == "clip":
            return tl.clips[tid].properties
        if kind == "track":
            return tl.track(tid).properties
        return tl.sequence.properties

    def set_target_kind(self, kind: str) -> None:
        self.kind = kind
        self.refresh()

    def refresh(self) -> None:
        """Show the current target as it is at the playhead."""
        self._bind()
        tl = self.window.timeline
        i = self.inspector
        if tl is None:
            i.set_available({})
            i.set_target(None)
            return
        clip = self.selected_clip()
        i.set_available({"clip": clip is not None, "track": bool(tl.tracks), "sequence": True})
        target = self.target()
        if target is None:
            i.set_target(None)
            return
        kind, tid = target
        frame = self.key_frame()
        if kind == "clip":
            audio = tl.track(clip.track_id).kind == "audio"
            shown = InspectorTarget("clip", f"{clip.name or 'clip'} — {tl.track(clip.track_id).name}",
                                    clip.properties, AUDIO_CLIP_PROPS if audio else VIDEO_CLIP_PROPS, frame,
                                    blend=not audio, filters=not audio)
        elif kind == "track":
            track = tl.track(tid)
            audio = track.kind == "audio"
            shown = InspectorTarget("track", f"Track {track.name}", track.properties,
                                    TRACK_PROPS if audio else {}, frame, filters=not audio)
        else:
            shown = InspectorTarget("sequence", f"Sequence {tl.sequence.name}", tl.sequence.properties, {}, frame)
        i.set_target(shown)

    # ------------------------------------------------------------ edits
    def _push(self, fn, *args, key=None, merge: bool = False) -> ClipChange | None:
        """Run a core edit and put it on the undo stack; show a refused edit's reason."""
        tl = self.window.timeline
        if tl is None:
            return None
        try:
            change = fn(tl, *args)
        except LumaError as exc:
            self.window.show_error(str(exc))
            self.refresh()  # put the refused value back in the inspector
            return None
        if not change.empty:
            gesture = self.inspector.gesture() if merge else None
            self.window.undo_stack.push(PropertyCommand(tl, change, key, gesture))
        return change

    def set_value(self, name: str, value: float) -> ClipChange | None:
        """Set a property of the target; a keyframed one gets a key at the playhead."""
        target = self.target()
        if target is None:
            return None
        kind, tid = target
        specs = CLIP_PROPS if kind == "clip" else TRACK_PROPS
        if name not in specs:
            return None
        value = int(round(value)) if isinstance(specs[name].default, int) and not specs[name].keyframable \
            else float(value)
        current = self._stored().get(name)
        frame = self.key_frame()
        key = (target, name)
        if kind == "clip":
            if keyframes.is_animated(current):
                return self._push(edit.set_keyframe, tid, name, frame, value, key=key, merge=True)
            return self._push(edit.set_property, [tid], name, value, key=key, merge=True)
        if kind == "track":
            new = keyframes.set_key(current, frame, value) if keyframes.is_animated(current) else value
            return self._push(edit.set_track_props, tid, name, new, key=key, merge=True)
        return None

    def toggle_key(self, name: str) -> ClipChange | None:
        """Set a key at the playhead (the value shown there), or remove the one there."""
        target = self.target()
        if target is None:
            return None
        kind, tid = target
        specs = CLIP_PROPS if kind == "clip" else TRACK_PROPS
        spec = specs.get(name)
        if spec is None or not spec.keyframable:
            return None
        current = self._stored().get(name, spec.default)
        frame = self.key_frame()
        here = frame in [k[0] for k in current["keys"]] if keyframes.is_animated(current) else False
        if kind == "clip":
            if here:
                return self._push(edit.remove_keyframe, tid, name, frame)
            return self._push(edit.set_keyframe, tid, name, frame, keyframes.evaluate(current, frame))
        new = keyframes.remove_key(current, frame) if here else \
            keyframes.set_key(current, frame, keyframes.evaluate(current, frame))
        return self._push(edit.set_track_props, tid, name, new)

    def set_blend(self, mode: str) -> ClipChange | None:
        target = self.target()
        if target is None or target[0] != "clip":
            return None
        return self._push(edit.set_blend, [target[1]], mode)

    def _filter(self, index: int) -> dict | None:
        filters = self._stored().get("filters", [])
        return filters[index] if 0 <= index < len(filters) else None

    def add_filter(self, kind: str) -> ClipChange | None:
        target = self.target()
        if target is None:
            return None
        change = self._push(edit.add_filter, target, kind)
        if change is not None:
            self.inspector.select_filter(len(self._stored().get("filters", [])) - 1)
        return change

    def remove_filter(self, index: int) -> ClipChange | None:
        target = self.target()
        if target is None:
            return None
        change = self._push(edit.remove_filter, target, int(index))
        if change is not None:
            self.inspector.select_filter(min(int(index), len(self._stored().get("filters", [])) - 1))
        return change

    def move_filter(self, index: int, new_index: int) -> ClipChange | None:
        target = self.target()
        if target is None:
            return None
        change = self._push(edit.move_filter, target, int(index), int(new_index))
        if change is not None:
            self.inspector.select_filter(int(new_index))
        return change

    def enable_filter(self, index: int, enabled: bool) -> ClipChange | None:
        target = self.target()
        if target is None:
            return None
        return self._push(edit.enable_filter, target, int(index), bool(enabled))

    def set_filter_value(self, index: int, name: str, value: float) -> ClipChange | None:
        """Set a filter parameter; a keyframed one gets a key at the playhead."""
        target = self.target()
        f = self._filter(int(index)) if target is not None else None
        if f is None:
            return None
        key = (target, int(index), name)
        if keyframes.is_animated(f.get("params", {}).get(name)):
            return self._push(edit.set_filter_key, target, int(index), name, self.key_frame(), float(value),
                              key=key, merge=True)
        return self._push(edit.set_filter_param, target, int(index), name, float(value), key=key, merge=True)

    def toggle_filter_key(self, index: int, name: str) -> ClipChange | None:
        from core.timeline.props import FILTER_SPECS

        target = self.target()
        f = self._filter(int(index)) if target is not None else None
        if f is None or name not in FILTER_SPECS.get(f["type"], {}):
            return None
        current = f.get("params", {}).get(name, FILTER_SPECS[f["type"]][name].default)
        frame = self.key_frame()
        if keyframes.is_animated(current) and frame in [k[0] for k in current["keys"]]:
            return self._push(edit.set_filter_param, target, int(index), name, keyframes.remove_key(current, frame))
        return self._push(edit.set_filter_key, target, int(index), name, frame,
                          keyframes.evaluate(current, frame))

    def set_lut(self, index: int, path: str) -> ClipChange | None:
        target = self.target()
        if target is None or self._filter(int(index)) is None:
            return None
        return self._push(edit.set_filter_param, target, int(index), "path", str(path))

    # ------------------------------------------------------------ viewer
    def _seek_key(self, key_frame: int) -> None:
        target = self.target()
        if target is None:
            return
        frame = int(key_frame)
        if target[0] == "clip":
            frame += self.window.timeline.clips[target[1]].start
        self.window.seek(frame)

    def redraw(self) -> None:
        """Show the frame under the playhead again (and re-render the frames decoded ahead while playing)."""
        pb = self.window.playback
        if pb is None:
            return
        invalidate = getattr(pb.source, "invalidate", None)
        if invalidate is not None:
            invalidate()
        pb.worker.invalidate()
        pb.last_shown = None  # the next tick shows the frame again when the worker has it
