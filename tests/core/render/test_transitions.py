"""Transitions at their first, middle and last frames.

A (frames 0-19) and B (frames 20-39) are stills on one track, B with media
handles; a 9-frame transition covers frames 16..24, so progress is
(f - 16 + 0.5) / 9: 1/18 on the first frame, exactly 1/2 on frame 20 (the
cut), 17/18 on the last.
"""

import numpy as np
import pytest

from core.render import transitions
from core.render.blend import Layer
from core.timeline import edit
from resources.footage import read_barcode
from tests.core.render.timeline_scene import Scene

W, H = 160, 120
FIRST, MID, LAST = 16, 20, 24
P_FIRST, P_LAST = 1 / 18, 17 / 18

# two-tone pictures so that motion (push, slide) can be told from a wipe
A_LEFT, A_RIGHT = (200, 40, 40), (40, 200, 40)
B_LEFT, B_RIGHT = (40, 40, 200), (200, 200, 40)


def two_tone(left, right):
    img = np.empty((H, W, 3), np.uint8)
    img[:, :W // 2] = left
    img[:, W // 2:] = right
    return img


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    s = Scene(tmp_path_factory.mktemp("trans"), size=(W, H))
    s.a = s.clip(s.still(two_tone(A_LEFT, A_RIGHT)), 0, 0, 20)
    s.b = s.clip(s.still(two_tone(B_LEFT, B_RIGHT)), 0, 20, 20, source_in=10)
    s.tr = None
    yield s
    s.close()


def frames_of(scene, kind, **params):
    if scene.tr is not None:
        edit.apply(scene.tl, edit.ClipChange("drop", (scene.tr,), ()))
    scene.tr = scene.transition(scene.a, scene.b, kind, 9, **params)
    comp = scene.compositor()
    out = {f: comp.frame(f).astype(float) for f in (FIRST - 1, FIRST, MID, LAST, LAST + 1)}
    plan = comp.plan(MID)
    comp.close()
    assert [(d["clip"], d["transition"]["role"]) for d in plan] == [(scene.a.id, "A"), (scene.b.id, "B")]
    assert plan[0]["transition"]["progress"] == 0.5
    # outside the span: plain A, plain B
    assert (out[FIRST - 1] == two_tone(A_LEFT, A_RIGHT)).all()
    assert (out[LAST + 1] == two_tone(B_LEFT, B_RIGHT)).all()
    return out


def near(px, want, tol=1.0):
    return np.abs(np.asarray(px, float) - np.asarray(want, float)).max() <= tol


def lerp(a, b, p):
    return np.asarray(a, float) * (1 - p) + np.asarray(b, float) * p


def test_progress_is_frame_centred():
    assert transitions.progress(16, 16, 9) == pytest.approx(1 / 18)
    assert transitions.progress(20, 16, 9) == 0.5
    assert transitions.progress(24, 16, 9) == pytest.approx(17 / 18)


def test_crossfade(scene):
    out = frames_of(scene, "crossfade")
    for f, p in ((FIRST, P_FIRST), (MID, 0.5), (LAST, P_LAST)):
        assert near(out[f][60, 20], lerp(A_LEFT, B_LEFT, p)), f
        assert near(out[f][60, 140], lerp(A_RIGHT, B_RIGHT, p)), f


@pytest.mark.parametrize("kind,colour", [("dip_black", 0), ("dip_white", 255)])
def test_dips(scene, kind, colour):
    out = frames_of(scene, kind)
    assert (out[MID] == colour).all()  # the midpoint is the colour, everywhere
    # first frame: A 1/9 of the way to the colour; last: B 1/9 of the way from it
    assert near(out[FIRST][60, 20], lerp(A_LEFT, (colour,) * 3, 2 * P_FIRST))
    assert near(out[LAST][60, 140], lerp((colour,) * 3, B_RIGHT, 2 * P_LAST - 1))


def test_wipe_left_edge_position(scene):
    out = frames_of(scene, "wipe_left")
    # the edge starts at the right and moves left; B is on the right of it
    assert near(out[MID][60, 79], A_LEFT, 0) and near(out[MID][60, 80], B_RIGHT, 0)
    # first frame: edge at 160/18 = 8.9 px from the right -> columns 151.. are B
    assert near(out[FIRST][60, 150], A_RIGHT, 0) and near(out[FIRST][60, 151], B_RIGHT, 0)
    # last frame: edge at 8.9 px from the left -> columns 9.. are B
    assert near(out[LAST][60, 8], A_LEFT, 0) and near(out[LAST][60, 9], B_LEFT, 0)


def test_wipe_down_and_soft_edge(scene):
    out = frames_of(scene, "wipe_down")
    assert near(out[MID][59, 20], B_LEFT, 0) and near(out[MID][60, 20], A_LEFT, 0)
    out = frames_of(scene, "wipe_up", softness=0.5)
    col = out[MID][:, 20, 2]  # blue channel: A 40, B 200
    assert col[0] == 40 and col[-1] == 200  # soft edge still pure far from it
    assert (np.diff(col) >= 0).all() and 100 < col[60] < 140  # a ramp, half way in the middle


def test_push_left(scene):
    out = frames_of(scene, "push_left")
    # half way: A moved 80 px left (its right half shows on the left), B joined to it
    assert near(out[MID][60, 20], A_RIGHT, 0) and near(out[MID][60, 100], B_LEFT, 0)
    # first frame: moved round(160/18) = 9 px
    assert near(out[FIRST][60, 70], A_LEFT, 0) and near(out[FIRST][60, 71], A_RIGHT, 0)
    assert near(out[FIRST][60, 150], A_RIGHT, 0) and near(out[FIRST][60, 151], B_LEFT, 0)
    # last frame: B is 9 px from its place
    assert near(out[LAST][60, 8], A_RIGHT, 0) and near(out[LAST][60, 9], B_LEFT, 0)
    assert near(out[LAST][60, 88], B_LEFT, 0) and near(out[LAST][60, 89], B_RIGHT, 0)


def test_push_down_and_slide_right(scene):
    out = frames_of(scene, "push_down")
    # A moved 60 px down, B above it
    assert near(out[MID][30, 20], B_LEFT, 0) and near(out[MID][90, 20], A_LEFT, 0)
    out = frames_of(scene, "slide_right")
    # B comes in from the left over a still A: half way its right half covers the left half
    assert near(out[MID][60, 20], B_RIGHT, 0) and near(out[MID][60, 100], A_RIGHT, 0)
    assert near(out[FIRST][60, 8], B_RIGHT, 0) and near(out[FIRST][60, 9], A_LEFT, 0)
    # last frame: B is 9 px left of its place, A shows in the last 9 columns
    assert near(out[LAST][60, 70], B_LEFT, 0) and near(out[LAST][60, 71], B_RIGHT, 0)
    assert near(out[LAST][60, 150], B_RIGHT, 0) and near(out[LAST][60, 151], A_RIGHT, 0)


def test_slide_layers_keep_transparency():
    red = Layer(np.tile(np.float32([1, 0, 0]), (4, 4, 1)), None, (2, 2, 6, 6))
    blue = Layer(np.tile(np.float32([0, 0, 1]), (4, 4, 1)), None, (2, 2, 6, 6))
    out = transitions.combine("slide_left", red, blue, 0.5, {}, 8, 8)  # blue 4 px right of its place
    assert out.box == (2, 2, 8, 6)
    assert np.allclose(out.rgb[0, 0], [1, 0, 0]) and np.allclose(out.rgb[0, 5], [0, 0, 1])
    assert np.isclose(out.alpha[0, 0], 1) and np.isclose(out.alpha[0, 5], 1)


def test_clips_play_on_from_their_handles(tmp_path, small_clip, second_clip):
    s = Scene(tmp_path, size=(320, 240))
    a = s.clip(s.media(small_clip), 0, 0, 20)
    b = s.clip(s.media(second_clip), 0, 20, 10, source_in=10)
    s.transition(a, b, "wipe_up", 9)  # B rises from the bottom: the barcode on top stays A's longest
    comp = s.compositor()
    # frame 23 is after the cut: A plays on past its end (source frame 23), its top still showing
    assert read_barcode(comp.frame(23)) == 23
    tr = next(iter(s.tl.transitions.values()))
    edit.apply(s.tl, edit.ClipChange("kind", (tr,), (tr.with_(kind="wipe_down"),)))
    # B starts early from its handle: at frame 17 its source frame is 10 + (17 - 20) = 7
    assert read_barcode(comp.frame(17)) == 7
    comp.close()
    s.close()
