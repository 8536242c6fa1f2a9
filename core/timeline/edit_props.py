"""Property operations: clip properties and blend, keyframes, filter stacks (clip, track,
sequence) and track properties. Public names are re-exported by core.timeline.edit.
"""

from __future__ import annotations

import json
from typing import Sequence as Seq

from core.errors import EditError
from core.timeline import keyframes, props
from core.timeline.change import ClipChange, _clip, _clips, _Draft, _label, apply
from core.timeline.model import Clip, SequenceProps, Timeline, _Row, props_text


def _props_of(row) -> dict:
    return json.loads(row.props or "{}")


def set_property(tl: Timeline, clip_ids: Seq[int], name: str, value) -> ClipChange:
    """Set a clip property (constant or keyed, see core.timeline.props) on clips; None resets it."""
    clips = _clips(tl, clip_ids)
    d = _Draft(tl)
    for c in clips:
        p = _props_of(c)
        if value is None:
            p.pop(name, None)
        else:
            p[name] = value
        props.check(p)
        d.put(c.with_(props=props_text(p)))
    return d.commit(f"set {name}")


def set_blend(tl: Timeline, clip_ids: Seq[int], mode: str) -> ClipChange:
    if mode not in props.BLEND_MODES:
        raise EditError(f"blend mode must be one of {', '.join(props.BLEND_MODES)}, not {mode!r}")
    return set_property(tl, clip_ids, "blend", mode)


def _keyable_spec(name: str, specs: dict) -> props.PropSpec:
    spec = specs.get(name)
    if spec is None:
        raise EditError(f"there is no property {name!r} to keyframe (one of {', '.join(specs)})")
    if not spec.keyframable:
        raise EditError(f"{spec.label or name} cannot be keyframed")
    return spec


def _check_clip_frame(c: Clip, frame: int) -> int:
    frame = int(frame)
    if not 0 <= frame < c.duration:
        raise EditError(f"frame {frame} is outside {_label(c)} (its frames are 0..{c.duration - 1})")
    return frame


def set_keyframe(tl: Timeline, clip_id: int, name: str, frame: int, value: float, interp: str = "linear",
                 handles=None) -> ClipChange:
    """Key a clip property at a clip-local ``frame`` (replacing a key there)."""
    c = _clip(tl, clip_id)
    spec = _keyable_spec(name, props.CLIP_PROPS)
    frame = _check_clip_frame(c, frame)
    p = _props_of(c)
    p[name] = keyframes.set_key(p.get(name, spec.default), frame, value, interp, handles)
    props.check(p)
    return apply(tl, ClipChange(f"key {name}", (c,), (c.with_(props=props_text(p)),)))


def remove_keyframe(tl: Timeline, clip_id: int, name: str, frame: int) -> ClipChange:
    c = _clip(tl, clip_id)
    p = _props_of(c)
    if not keyframes.is_animated(p.get(name)):
        raise EditError(f"{name} of {_label(c)} has no keyframes")
    p[name] = keyframes.remove_key(p[name], int(frame))
    return apply(tl, ClipChange(f"remove {name} key", (c,), (c.with_(props=props_text(p)),)))


def _target_row(tl: Timeline, target) -> tuple[_Row, dict, str]:
    """(row, property specs, what) of a filter/property target ("clip"|"track"|"sequence", id)."""
    try:
        kind, tid = target
    except (TypeError, ValueError):
        raise EditError(f"a target is ('clip'|'track'|'sequence', id), not {target!r}") from None
    if kind == "clip":
        return _clip(tl, tid), props.CLIP_PROPS, "clip"
    if kind == "track":
        track = tl.track(tid)
        if track.locked:
            raise EditError(f"track {track.name} is locked")
        return track, props.TRACK_PROPS, "track"
    if kind == "sequence":
        if tid != tl.sequence_id:
            raise EditError(f"sequence #{tid} is not the one this timeline shows")
        return SequenceProps(tl.sequence_id, tl.sequence.props), {}, "sequence"
    raise EditError(f"a target is a clip, a track or a sequence, not {kind!r}")


def _edit_props(tl: Timeline, target, label: str, fn) -> ClipChange:
    row, specs, what = _target_row(tl, target)
    p = _props_of(row)
    fn(p)
    props.check(p, specs, what)
    return apply(tl, ClipChange(label, (row,), (row.with_(props=props_text(p)),)))


def _filter(p: dict, index: int) -> dict:
    stack = p.get("filters", [])
    if not isinstance(index, int) or not 0 <= index < len(stack):
        raise EditError(f"there is no filter #{index} (the stack has {len(stack)})")
    return stack[index]


def add_filter(tl: Timeline, target, kind: str, params: dict | None = None, index: int | None = None) -> ClipChange:
    """Add a filter to a clip, track or sequence stack (at ``index``, default on top = last)."""
    def fn(p):
        stack = p.setdefault("filters", [])
        i = len(stack) if index is None else int(index)
        if not 0 <= i <= len(stack):
            raise EditError(f"filter position {index} is outside the stack (0..{len(stack)})")
        stack.insert(i, {"type": kind, "enabled": True, "params": dict(params or {})})
    return _edit_props(tl, target, f"add {kind}", fn)


def remove_filter(tl: Timeline, target, index: int) -> ClipChange:
    def fn(p):
        _filter(p, index)
        del p["filters"][index]
        if not p["filters"]:
            del p["filters"]
    return _edit_props(tl, target, "remove filter", fn)


def move_filter(tl: Timeline, target, index: int, new_index: int) -> ClipChange:
    def fn(p):
        f = _filter(p, index)
        if not isinstance(new_index, int) or not 0 <= new_index < len(p["filters"]):
            raise EditError(f"filter position {new_index} is outside the stack (0..{len(p['filters']) - 1})")
        del p["filters"][index]
        p["filters"].insert(new_index, f)
    return _edit_props(tl, target, "move filter", fn)


def set_filter_param(tl: Timeline, target, index: int, name: str, value) -> ClipChange:
    """Set a filter parameter (constant or keyed); None resets it to the filter's default."""
    def fn(p):
        params = _filter(p, index).setdefault("params", {})
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    return _edit_props(tl, target, f"set {name}", fn)


def set_filter_key(tl: Timeline, target, index: int, name: str, frame: int, value: float,
                   interp: str = "linear") -> ClipChange:
    """Key a filter parameter at ``frame`` (clip-local for clip filters, sequence frames otherwise)."""
    row, _, what = _target_row(tl, target)
    if what == "clip":
        frame = _check_clip_frame(row, frame)
    elif int(frame) < 0:
        raise EditError(f"frame {frame} is before the start of the sequence")

    def fn(p):
        f = _filter(p, index)
        props.check_filters([f])
        spec = _keyable_spec(name, props.FILTER_SPECS[f["type"]])
        params = f.setdefault("params", {})
        params[name] = keyframes.set_key(params.get(name, spec.default), int(frame), value, interp)
    return _edit_props(tl, target, f"key {name}", fn)


def enable_filter(tl: Timeline, target, index: int, enabled: bool) -> ClipChange:
    def fn(p):
        _filter(p, index)["enabled"] = bool(enabled)
    return _edit_props(tl, target, "enable filter" if enabled else "disable filter", fn)


def set_track_props(tl: Timeline, track_id: int, name: str, value) -> ClipChange:
    """Set a track property (``volume``: linear gain, constant or keyed in sequence frames); None resets it."""
    def fn(p):
        if value is None:
            p.pop(name, None)
        else:
            p[name] = value
    return _edit_props(tl, ("track", track_id), f"set track {name}", fn)
