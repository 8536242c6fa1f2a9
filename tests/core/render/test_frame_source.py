import numpy as np

from core.project import Project
from core.project import media_store
from core.render.frame_source import TimelineFrameSource, fit_into
from core.timeline import edit
from core.timeline.model import Timeline, create_sequence
from resources.footage import read_barcode


def test_timeline_pictures_are_the_right_source_frames(tmp_path, small_clip, second_clip):
    p = Project.create(tmp_path / "f.luma")
    create_sequence(p, rate=25, width=320, height=240)
    tl = Timeline(p)
    a = media_store.ingest(p, small_clip).id
    b = media_store.ingest(p, second_clip).id
    v1, v2 = (t.id for t in tl.video_tracks())
    edit.add_clip(tl, a, v1, 0, duration=40, source_in=5)
    edit.add_clip(tl, b, v2, 20, duration=10, source_in=3)
    src = TimelineFrameSource(tl)
    for frame in range(0, 50, 3):
        rgb = src.frame(frame)
        assert rgb.shape == (240, 320, 3) and rgb.dtype == np.uint8
        if 20 <= frame < 30:
            assert read_barcode(rgb) == frame - 20 + 3  # the upper track wins
        elif frame < 40:
            assert read_barcode(rgb) == frame + 5
        else:
            assert not rgb.any()  # nothing there: black
    src.close()
    p.close()


def test_fit_into_letterboxes():
    img = np.full((100, 400, 3), 200, np.uint8)
    out = fit_into(img, 200, 200)
    assert out.shape == (200, 200, 3)
    assert not out[:75].any() and not out[125:].any()
    assert (out[76:124] == 200).all()
