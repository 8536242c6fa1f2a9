"""The frame compositor: the picture of a sequence at a frame (what plays and what renders).

A frame, bottom track to top, over a black background:

1. for each visible video track (``Timeline.visible_tracks``: hidden and solo
   honoured) the clip at the frame - or, inside a transition's span on that
   track, both clips (A plays on past its end, B starts early, both from
   their media handles);
2. each clip's source frame is the media frame
   ``floor(clip.source_position(f) / sequence_rate * media_rate)`` (stills:
   frame 0), decoded by :class:`~core.media.reader.FrameReader` (one or two
   readers per media, so a transition between two parts of one file does not
   seek every frame; sequential frames decode on without seeking);
3. the picture is placed (core.render.transform: fit keeping aspect, crop,
   scale, rotation, position - one resampling) giving colour and alpha
   (outside the picture is transparent, so lower tracks show through);
4. the clip's filter stack (keyframes in clip-local frames ``f - clip.start``);
5. the clip's opacity (keyframed, clip-local) multiplies its alpha;
6. in a transition span, A and B combine (core.render.transitions) into
   the track's layer; the blend mode is A's before the cut and B's from it;
7. the track's filter stack (track props ``filters``, sequence frames)
   applies to that track's layer, before blending - i.e. to the pictures on
   that track only (a vignette on a track darkens the corners of its
   picture's box, not of the frame);
8. the layer is blended onto what is below with its blend mode
   (core.render.blend): ``out = below * (1 - a) + blend(below, top) * a``;
9. the sequence's filter stack (sequence props ``filters``) applies to the
   final composite.

A track whose layer is opaque over the whole frame with normal blending
hides everything below it: those tracks are not decoded. A frame that is one
such axis-aligned picture (the common case: one clip, no transform, no
filters) is produced straight in 8 bits - a resize and nothing more; when
that picture fills the frame with normal blending and every filter on the
way (clip, track, sequence) is a per-channel curve (core.render.filters:
*pointwise*), the curves are one 8-bit table (``cv2.LUT``) too.

Speed: a clip's 8-bit picture becomes float32 through a 256-entry table
that also applies the pointwise filters at the start of its stack (and, when
the clip is alone on its track and its whole stack is pointwise, those at the
start of the track's stack): one pass instead of a conversion and a pass per
filter, with the values the filters give per pixel. A full-frame opaque
normal layer at the bottom becomes the canvas itself (no copy).

Colour handling
---------------
* Inputs are sRGB-encoded 8-bit RGB; they become float32 0..1 *still
  sRGB-encoded*.
* Compositing, opacity, transitions and the blend modes work on those
  encoded values - which is what editors (and their users) expect of
  screen, multiply and overlay, and what an 8-bit pipeline would do.
* ``exposure``, ``temperature``/``tint``, ``blur`` and ``sharpen`` decode to
  linear light with the sRGB EOTF, work there and re-encode; the other
  filters (contrast with its pivot 0.5 in encoded values, saturation
  around Rec.709 luma of encoded values, gamma, levels, hue, vignette,
  grain, LUTs) work on encoded values.
* Values may leave 0..1 between steps (``add`` is clamped at 1); the output
  is clipped to 0..1 (:meth:`Compositor.frame_float`) and rounded to 8 bits
  (:meth:`Compositor.frame`).

Sizes: the output is ``size`` (default the sequence size; with
``preview_height`` the sequence scaled to that height, decoded from proxies
where there are some). Positions (clip x/y) are in sequence pixels and
filter sizes (blur radius, grain size) in sequence pixels, both scaled to the
output so that a small preview looks like the full render.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass, field
from fractions import Fraction

import cv2
import numpy as np

from core.errors import LumaError, MediaError
from core.render import filters as filt
from core.render import transitions as trans
from core.render.blend import Layer, composite
from core.render.reader_pool import ReaderPool
from core.render.transform import Placement, Transform, place, warp
from core.timeline import props as tprops
from core.timeline.model import Clip, Timeline, Track, Transition

__all__ = ["Compositor"]


@dataclass
class _ClipPlan:
    clip: Clip
    media_id: int
    still: bool
    position: Fraction
    index: int
    local: int
    transform: Transform
    opacity: float
    blend: str
    filters: list
    role: str | None = None  # "A" / "B" inside a transition


@dataclass
class _TrackPlan:
    track: Track
    clips: list[_ClipPlan]
    blend: str
    filters: list
    transition: Transition | None = None
    span: tuple[int, int] | None = None
    progress: float | None = None
    occluded: bool = False
    placements: dict[int, tuple[tuple[int, int], Placement]] = field(default_factory=dict)  # clip id -> (src size, pl)


def _to_uint8(rgb: np.ndarray, gain: np.ndarray | None = None) -> np.ndarray:
    """float32 0..1 (times ``gain`` when given) -> uint8: rounded to nearest, values outside
    0..1 clipped (NaN: 0). One pass (OpenCV's saturating conversion)."""
    rgb = np.ascontiguousarray(rgb, np.float32)
    if gain is not None:
        return cv2.multiply(rgb, gain, scale=255.0, dtype=cv2.CV_8U)
    return cv2.addWeighted(rgb, 255.0, rgb, 0.0, 0.0, dtype=cv2.CV_8U)


class Compositor:
    """Renders frames of a timeline. Thread-safe (one frame at a time). See the module docstring.

    ``decoder_threads``: the decoders' threading (PyAV ``thread_type``: "AUTO", "FRAME", "SLICE",
    "NONE"); a render worker that shares the CPU with other workers may decode on one thread.
    ``cache_frames``: decoded pictures each reader keeps (None: FrameReader's default, for
    scrubbing); a render that reads forward needs a few (less memory, fewer fresh pages).
    ``read_ahead``: after decoding a source frame, decode the next ones of that reader in its
    background thread (a render that goes forward frame by frame; 0: no)."""

    def __init__(self, timeline: Timeline, size: tuple[int, int] | None = None, preview_height: int | None = None,
                 max_readers: int = 8, decoder_threads: str = "AUTO", cache_frames: int | None = None,
                 read_ahead: int = 0):
        self.timeline = timeline
        self._lock = threading.RLock()
        self.set_output_size(size)
        self.preview_height = int(preview_height) if preview_height else None
        self.decoder_threads = decoder_threads
        self.cache_frames = cache_frames
        self.read_ahead = max(0, int(read_ahead))
        self._readers = ReaderPool(timeline.project, self.preview_height, max_readers, thread_type=decoder_threads,
                                    cache_frames=cache_frames)
        self._media: dict[int, tuple[str, Fraction, int, int]] = {}
        self._owns_project = False
        #: media id -> last error decoding it (shown by the GUI); cleared when it decodes again
        self.errors: dict[int, str] = {}

    # ------------------------------------------------------------ construction
    @classmethod
    def open(cls, project_path, sequence_id: int, size: tuple[int, int] | None = None,
             preview_height: int | None = None, decoder_threads: str = "AUTO",
             cache_frames: int | None = None, read_ahead: int = 0) -> "Compositor":
        """A compositor with its own project connection and Timeline (for render worker processes).

        The project is only read; :meth:`close` closes it."""
        from core.project.project import Project

        project = Project.open(project_path)
        try:
            tl = Timeline(project, sequence_id)
        except BaseException:
            project.close()
            raise
        comp = cls(tl, size=size, preview_height=preview_height, decoder_threads=decoder_threads,
                   cache_frames=cache_frames, read_ahead=read_ahead)
        comp._owns_project = True
        return comp

    def __reduce__(self):
        # pickled into a worker process: reopen the project there
        return (Compositor.open, (str(self.timeline.project.path), self.timeline.sequence_id, self._size,
                                  self.preview_height, self.decoder_threads, self.cache_frames, self.read_ahead))

    # ------------------------------------------------------------ sizes
    @property
    def output_size(self) -> tuple[int, int]:
        if self._size is not None:
            return self._size
        seq = self.timeline.sequence
        if self.preview_height and self.preview_height < seq.height:
            h = self.preview_height
            w = max(2, round(seq.width * h / seq.height / 2) * 2)
            return w, h
        return seq.width, seq.height

    def set_output_size(self, size: tuple[int, int] | None) -> None:
        """Draw at ``size`` (w, h) from now on (None: the sequence size or the preview height)."""
        size = (int(size[0]), int(size[1])) if size is not None else None
        if size is not None and (size[0] <= 0 or size[1] <= 0):
            raise LumaError(f"output size {size[0]}x{size[1]} is not valid")
        with self._lock:
            self._size = size

    def _units(self) -> tuple[float, float]:
        """Output pixels per sequence pixel (x, y)."""
        w, h = self.output_size
        seq = self.timeline.sequence
        return w / seq.width, h / seq.height

    # ------------------------------------------------------------ media
    def _media_info(self, media_id: int) -> tuple[str, Fraction, int, int]:
        """(kind, video rate, width, height) of a media row."""
        hit = self._media.get(media_id)
        if hit is None:
            rows = self.timeline.project.query("SELECT kind, probe FROM media WHERE id = ?", (media_id,))
            if not rows:
                raise MediaError(f"media #{media_id} is not in this project")
            kind, probe_json = rows[0]
            video = (json.loads(probe_json) or {}).get("video") or {}
            rate = Fraction(str(video.get("rate") or self.timeline.rate))
            hit = (kind, rate, int(video.get("width") or 0), int(video.get("height") or 0))
            self._media[media_id] = hit
        return hit

    def source_frame_index(self, media_id: int, seconds) -> int:
        """The media frame showing ``seconds`` into the media (floor)."""
        kind, rate, _, _ = self._media_info(media_id)
        if kind == "image":
            return 0
        return max(0, math.floor(Fraction(seconds) * rate))

    # ------------------------------------------------------------ planning
    def _clip_plan(self, clip: Clip, f: int, role: str | None = None) -> _ClipPlan:
        p = clip.properties
        local = f - clip.start
        kind, rate, _, _ = self._media_info(clip.media_id)
        pos = clip.source_position(f)
        still = kind == "image"
        index = 0 if still else max(0, math.floor(pos / self.timeline.rate * rate))
        t = Transform(**{k: float(tprops.value(p, k, local)) for k in (
            "x", "y", "scale", "rotation", "crop_left", "crop_top", "crop_right", "crop_bottom")})
        opacity = min(max(float(tprops.value(p, "opacity", local)), 0.0), 1.0)
        return _ClipPlan(clip, clip.media_id, still, pos, index, local, t, opacity, p.get("blend", "normal"),
                         filt.active(p.get("filters")), role)

    def _transition_at(self, track: Track, f: int) -> tuple[Transition, int, int] | None:
        tl = self.timeline
        for tr in tl.transitions.values():
            if tr.track_id != track.id or tr.clip_a not in tl.clips or tr.clip_b not in tl.clips:
                continue
            first, end = tl.transition_span(tr)
            if first <= f < end:
                return tr, first, end
        return None

    def _plan(self, f: int, size_of) -> list[_TrackPlan]:
        """Track plans bottom to top; ``size_of(media_id)`` gives the source picture size for occlusion."""
        tl = self.timeline
        out: list[_TrackPlan] = []
        for track in sorted(tl.visible_tracks(), key=lambda t: t.position):
            tfilters = filt.active(track.properties.get("filters"))
            hit = self._transition_at(track, f)
            if hit is not None:
                tr, first, end = hit
                a, b = tl.clips[tr.clip_a], tl.clips[tr.clip_b]
                ca, cb = self._clip_plan(a, f, "A"), self._clip_plan(b, f, "B")
                blend = ca.blend if f < b.start else cb.blend
                out.append(_TrackPlan(track, [ca, cb], blend, tfilters, tr, (first, end),
                                      trans.progress(f, first, tr.duration)))
                continue
            clip = tl.clip_at(track.id, f)
            if clip is None:
                continue
            cp = self._clip_plan(clip, f)
            out.append(_TrackPlan(track, [cp], cp.blend, tfilters))
        # a full-frame opaque normal layer hides what is below
        w, h = self.output_size
        units = self._units()
        for i in range(len(out) - 1, -1, -1):
            tp = out[i]
            if tp.transition is not None or tp.blend != "normal" or tp.clips[0].opacity < 1.0:
                continue
            cp = tp.clips[0]
            try:
                sw, sh = size_of(cp.media_id)
            except MediaError:
                continue
            if sw <= 0 or sh <= 0:
                continue
            pl = place(sw, sh, w, h, cp.transform, units)
            tp.placements[cp.clip.id] = ((sw, sh), pl)
            if pl.covers:
                for lower in out[:i]:
                    lower.occluded = True
                break
        return out

    def _probe_size(self, media_id: int) -> tuple[int, int]:
        _, _, w, h = self._media_info(media_id)
        return w, h

    def plan(self, f: int) -> list[dict]:
        """What frame ``f`` uses, bottom to top (for a renderer's dry run; JSON-serialisable).

        One dict per clip (``"kind": "clip"``): track, clip, media, source frame, transform,
        filters (evaluated at the frame), track filters, blend, opacity, transition (None or
        its id, kind, span, progress and this clip's role A/B) and ``occluded`` (hidden by an
        opaque full-frame layer above, so not decoded). A last ``{"kind": "sequence",
        "filters": [...]}`` when the sequence has filters."""
        with self._lock:
            plans = self._plan(f, self._probe_size)
            out: list[dict] = []
            for tp in plans:
                tfilters = [{"type": x["type"], "params": filt.evaluate_params(x, f)} for x in tp.filters]
                for cp in tp.clips:
                    out.append({
                        "kind": "clip",
                        "track": tp.track.id,
                        "track_name": tp.track.name,
                        "clip": cp.clip.id,
                        "clip_name": cp.clip.name,
                        "media": cp.media_id,
                        "source_position": str(cp.position),
                        "source_frame": cp.index,
                        "still": cp.still,
                        "transform": cp.transform.as_dict(),
                        "filters": [{"type": x["type"], "params": filt.evaluate_params(x, cp.local)}
                                    for x in cp.filters],
                        "track_filters": tfilters,
                        "blend": tp.blend,
                        "opacity": cp.opacity,
                        "transition": None if tp.transition is None else {
                            "id": tp.transition.id, "kind": tp.transition.kind, "span": list(tp.span),
                            "progress": tp.progress, "role": cp.role},
                        "occluded": tp.occluded,
                    })
            sfilters = filt.active(self.timeline.sequence.properties.get("filters"))
            if sfilters:
                out.append({"kind": "sequence",
                            "filters": [{"type": x["type"], "params": filt.evaluate_params(x, f)} for x in sfilters]})
            return out

    def source_frames(self, f: int) -> dict[int, list[int]]:
        """Media frames that frame ``f`` decodes: {media id: [indices]} (for prefetching)."""
        with self._lock:
            out: dict[int, list[int]] = {}
            for tp in self._plan(f, self._probe_size):
                if tp.occluded:
                    continue
                for cp in tp.clips:
                    lst = out.setdefault(cp.media_id, [])
                    if cp.index not in lst:
                        lst.append(cp.index)
            return out

    def decoder_stats(self) -> dict[int, dict]:
        """{media id: {"readers", "seeks", "decoded"}} of the open readers (tests, benchmarks)."""
        with self._lock:
            return self._readers.stats()

    # ------------------------------------------------------------ rendering
    def _decode(self, cp: _ClipPlan) -> np.ndarray | None:
        try:
            reader = self._readers.get(cp.media_id, cp.index)
            rgb = reader.frame(cp.index)
            if self.read_ahead and not cp.still:
                reader.read_ahead(cp.index + 1, self.read_ahead)  # decodes on while this frame composites
        except MediaError as exc:
            self.errors[cp.media_id] = str(exc)
            return None
        self.errors.pop(cp.media_id, None)
        return rgb

    def _placed(self, cp: _ClipPlan, tp: _TrackPlan, src: np.ndarray) -> Placement:
        h, w = src.shape[:2]
        hit = tp.placements.get(cp.clip.id)
        if hit is not None and hit[0] == (w, h):
            return hit[1]
        ow, oh = self.output_size
        return place(w, h, ow, oh, cp.transform, self._units())

    def _filter_ctx(self, frame: int, f: int, salt: int) -> filt.FilterContext:
        ux, uy = self._units()
        return filt.FilterContext(frame, f, math.sqrt(ux * uy), self.timeline.project.folder, salt)

    def _track_ctx(self, tp: _TrackPlan, f: int) -> filt.FilterContext:
        return self._filter_ctx(f, f, 1_000_003 * tp.track.id)

    def _clip_layer(self, cp: _ClipPlan, tp: _TrackPlan, f: int, fuse_track: bool = False) -> tuple[Layer | None, int]:
        """The clip's layer, and how many of the track's filters it already applied: with
        ``fuse_track`` (the clip is the track's only picture) the track's leading pointwise
        filters go into the clip's 8-bit -> float table when the clip's whole stack is pointwise."""
        if cp.opacity <= 0.0 and tp.transition is None:
            return None, 0
        src = self._decode(cp)
        if src is None:
            return None, 0
        pl = self._placed(cp, tp, src)
        if pl.box is None:
            return None, 0
        colour, alpha, box = warp(src, pl)
        ctx = self._filter_ctx(cp.local, f, cp.clip.id)
        n_clip = filt.pointwise_count(cp.filters)
        stages = [(cp.filters, ctx, n_clip)] if n_clip else []
        n_track = 0
        if fuse_track and n_clip == len(cp.filters):
            n_track = filt.pointwise_count(tp.filters)
            if n_track:
                stages.append((tp.filters, self._track_ctx(tp, f), n_track))
        rgb = filt.apply_u8_table(colour, filt.u8_table(stages))
        if n_clip < len(cp.filters):
            rgb = filt.apply_stack(rgb, cp.filters, ctx, start=n_clip)
        return Layer(rgb, alpha, box, cp.opacity), n_track

    def _fast(self, plans: list[_TrackPlan], f: int) -> np.ndarray | None:
        """The 8-bit frame when it is a single axis-aligned opaque picture over black (with only
        per-channel curves as filters when it fills the frame), else None."""
        sfilters = filt.active(self.timeline.sequence.properties.get("filters"))
        live = [tp for tp in plans if not tp.occluded]
        w, h = self.output_size
        if len(live) != 1:
            return None if live or sfilters else np.zeros((h, w, 3), np.uint8)
        tp = live[0]
        cp = tp.clips[0]
        if tp.transition is not None or cp.opacity < 1.0:
            return None
        counts = [filt.pointwise_count(x) for x in (cp.filters, tp.filters, sfilters)]
        if counts != [len(cp.filters), len(tp.filters), len(sfilters)]:
            return None
        curves = bool(cp.filters or tp.filters or sfilters)
        if tp.blend not in (("normal",) if curves else ("normal", "add", "screen")):
            return None
        src = self._decode(cp)
        pl = self._placed(cp, tp, src) if src is not None else None
        if pl is None or pl.box is None:
            return None if curves else np.zeros((h, w, 3), np.uint8)
        if pl.rect is None:
            return None
        colour, _, (x0, y0, x1, y1) = warp(src, pl)
        if curves:
            if (x0, y0, x1, y1) != (0, 0, w, h):
                return None  # the sequence's curves apply to the black around the picture too
            stages = [(cp.filters, self._filter_ctx(cp.local, f, cp.clip.id), counts[0]),
                      (tp.filters, self._track_ctx(tp, f), counts[1]), (sfilters, self._filter_ctx(f, f, 0), counts[2])]
            table = _to_uint8(filt.u8_table([st for st in stages if st[2]]))
            return filt.apply_u8_table(colour, table)
        if (x0, y0, x1, y1) == (0, 0, w, h):
            return colour  # may be the decoder's (read-only) picture itself
        out = np.zeros((h, w, 3), np.uint8)
        out[y0:y1, x0:x1] = colour
        return out

    def _render(self, plans: list[_TrackPlan], f: int,
                defer_gain: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """The float canvas, and with ``defer_gain`` the gain of a last sequence filter that is one
        (vignette) not applied yet (see :func:`core.render.filters.last_gain`), else None."""
        w, h = self.output_size
        canvas: np.ndarray | None = None
        for tp in plans:
            if tp.occluded:
                continue
            fused = 0
            if tp.transition is None:
                layer, fused = self._clip_layer(tp.clips[0], tp, f, fuse_track=True)
            else:
                ca, cb = tp.clips
                la, lb = self._clip_layer(ca, tp, f)[0], self._clip_layer(cb, tp, f)[0]
                layer = trans.combine(tp.transition.kind, la, lb, tp.progress, tp.transition.parameters, w, h)
            if layer is None:
                continue
            if len(tp.filters) > fused:
                layer.rgb = filt.apply_stack(layer.rgb, tp.filters, self._track_ctx(tp, f), start=fused)
            if canvas is None:
                if layer.covers(w, h) and layer.opaque and tp.blend == "normal":
                    canvas = np.ascontiguousarray(layer.rgb)
                    if not canvas.flags.writeable:
                        canvas = canvas.copy()
                    continue
                canvas = np.zeros((h, w, 3), np.float32)
            composite(canvas, layer, tp.blend)
        if canvas is None:
            canvas = np.zeros((h, w, 3), np.float32)
        sfilters = filt.active(self.timeline.sequence.properties.get("filters"))
        gain = None
        if sfilters:
            ctx = self._filter_ctx(f, f, 0)
            stop, gain = filt.last_gain(sfilters, ctx, h, w) if defer_gain else (len(sfilters), None)
            canvas = filt.apply_stack(canvas, sfilters, ctx, stop=stop)
        return canvas, gain

    def frame_float(self, f: int) -> np.ndarray:
        """float32 H x W x 3 picture at sequence frame ``f``, sRGB-encoded, clipped to 0..1."""
        with self._lock:
            out, _ = self._render(self._plan(int(f), self._safe_size), int(f))
        return filt.clip01(out, out=out if out.flags.writeable and out.flags.c_contiguous else None)

    def frame(self, f: int) -> np.ndarray:
        """uint8 H x W x 3 RGB picture at sequence frame ``f`` (black where there is nothing).

        The array may be read-only (shared with the decoder's cache): copy it before drawing on it."""
        with self._lock:
            plans = self._plan(int(f), self._safe_size)
            fast = self._fast(plans, int(f))
            if fast is not None:
                return fast
            return _to_uint8(*self._render(plans, int(f), defer_gain=True))

    def _safe_size(self, media_id: int) -> tuple[int, int]:
        try:
            return self._readers.size(media_id)
        except MediaError as exc:
            self.errors[media_id] = str(exc)
            raise

    def close(self) -> None:
        with self._lock:
            self._readers.close()
            if self._owns_project:
                self.timeline.project.close()
                self._owns_project = False

    def __enter__(self) -> "Compositor":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
