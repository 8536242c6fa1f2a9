"""A small timeline to composite in tests: stills of flat colours or drawn pictures, clips, props.

Stills are tiny PNGs written with OpenCV and ingested like any media;
properties, speeds, track settings and transitions are written as row
changes through core.timeline.edit.apply (validated like real edits).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from core.project import Project, media_store
from core.render.compositor import Compositor
from core.timeline import edit
from core.timeline import props as tprops
from core.timeline.edit import ClipChange
from core.timeline.model import Clip, SequenceProps, Timeline, Transition, create_sequence, props_text


class Scene:
    def __init__(self, folder: Path, size=(160, 120), rate=25, video_tracks: int = 2):
        self.folder = Path(folder)
        self.project = Project.create(self.folder / "scene.luma")
        self.sequence_id = create_sequence(self.project, rate=rate, width=size[0], height=size[1],
                                           video_tracks=video_tracks, audio_tracks=0)
        self.tl = Timeline(self.project, self.sequence_id)
        self.size = size
        self._n = 0

    # ------------------------------------------------------------ media
    def still(self, rgb: np.ndarray) -> int:
        """Ingest an RGB uint8 picture as a PNG still; returns the media id."""
        self._n += 1
        path = self.folder / f"still{self._n}.png"
        assert cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1]))
        return media_store.ingest(self.project, path, with_thumbnail=False).id

    def solid(self, color, size=None) -> int:
        w, h = size or self.size
        return self.still(np.full((h, w, 3), color, np.uint8))

    def media(self, path) -> int:
        return media_store.ingest(self.project, path, with_thumbnail=False).id

    # ------------------------------------------------------------ timeline
    def track(self, i: int) -> int:
        """Id of video track ``i`` (0 = bottom)."""
        return self.tl.video_tracks()[i].id

    def clip(self, media: int, track: int, start: int, duration: int, source_in: int = 0, speed=1,
             **props) -> Clip:
        if speed == 1:
            clip = edit.add_clip(self.tl, media, self.track(track), start, duration=duration,
                                 source_in=source_in).after[0]
            return self.change(clip, props=props) if props else clip
        # retimed: place one frame, then give it its speed and length in one change
        clip = edit.add_clip(self.tl, media, self.track(track), start, duration=1, source_in=source_in).after[0]
        return self.change(clip, speed=Fraction(speed), props=props, duration=duration)

    def change(self, clip: Clip, speed=None, props: dict | None = None, duration: int | None = None) -> Clip:
        new = clip
        if duration is not None:
            new = new.with_(duration=int(duration))
        if speed is not None:
            new = new.with_(speed=Fraction(speed))
        if props is not None:
            tprops.check(props)
            new = new.with_(props=props_text(props))
        edit.apply(self.tl, ClipChange("test change", (clip,), (new,)))
        return self.tl.clips[clip.id]

    def track_props(self, i: int, **props) -> None:
        tprops.check(props, tprops.TRACK_PROPS, "track")
        t = self.tl.video_tracks()[i]
        edit.apply(self.tl, ClipChange("track props", (t,), (t.with_(props=props_text(props)),)))

    def track_flag(self, i: int, flag: str, value: bool = True) -> None:
        edit.set_track_flag(self.tl, self.track(i), flag, value)

    def sequence_filters(self, filters: list) -> None:
        tprops.check_filters(filters)
        before = SequenceProps(self.sequence_id, self.tl.sequence.props)
        after = SequenceProps(self.sequence_id, props_text({"filters": filters}))
        edit.apply(self.tl, ClipChange("sequence props", (before,), (after,)))

    def transition(self, a: Clip, b: Clip, kind: str, duration: int, **params) -> Transition:
        (tid,) = edit.next_ids(self.tl, 1, Transition)
        tr = Transition(tid, a.track_id, a.id, b.id, kind, duration, props_text(params))
        edit.apply(self.tl, ClipChange("transition", (), (tr,)))
        return self.tl.transitions[tid]

    def compositor(self, **kw) -> Compositor:
        return Compositor(self.tl, **kw)

    def close(self) -> None:
        self.project.close()
