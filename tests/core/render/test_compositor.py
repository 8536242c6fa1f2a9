"""The compositor: source frames at any speed, transforms, keyframed opacity, track flags, filter
stacks per clip/track/sequence, plans, worker-process construction and sequential decoding."""

import pickle
import shutil
from fractions import Fraction

import cv2
import numpy as np
import pytest

from core.render.compositor import Compositor
from core.timeline import keyframes
from resources.footage import read_barcode
from tests.core.render.timeline_scene import Scene

GREY = (90, 90, 90)
W, H = 160, 120


def marker_picture():
    """Black 160x120 with a white 10x10 square at x 20..29, y 10..19 and a red one at x 100..109, y 80..89."""
    img = np.zeros((H, W, 3), np.uint8)
    img[10:20, 20:30] = 255
    img[80:90, 100:110] = (255, 0, 0)
    return img


def centroid(mask):
    ys, xs = np.nonzero(mask)
    assert len(xs), "marker not found"
    return xs.mean() + 0.5, ys.mean() + 0.5  # pixel centres


def white(rgb):
    return (rgb.astype(int).min(axis=2) > 200)


@pytest.fixture
def scene(tmp_path):
    s = Scene(tmp_path, size=(W, H))
    yield s
    s.close()


# ---------------------------------------------------------------- source frames


@pytest.mark.parametrize("speed", [Fraction(1, 2), Fraction(2), Fraction(2, 3), Fraction(1)])
def test_speed_picks_the_right_source_frames(tmp_path, small_clip, speed):
    s = Scene(tmp_path, size=(320, 240))
    media = s.media(small_clip)  # 50 frames at 25 fps, a barcode on every frame
    duration = int(40 / speed)  # stays inside the 50 frames from source_in 3
    clip = s.clip(media, 0, 5, min(duration, 60), source_in=3, speed=speed)
    comp = s.compositor()
    for f in range(clip.start, clip.end, 3):
        want = int((3 + (f - clip.start) * speed) // 1)
        assert read_barcode(comp.frame(f)) == want, (speed, f)
        assert comp.source_frames(f) == {media: [want]}
    comp.close()
    s.close()


def test_media_rate_differs_from_sequence_rate(tmp_path, small_clip):
    s = Scene(tmp_path, size=(320, 240), rate=30)
    clip = s.clip(s.media(small_clip), 0, 0, 48)
    comp = s.compositor()
    for f in range(0, 48, 5):
        assert read_barcode(comp.frame(f)) == (f * 25) // 30  # floor(f / 30 * 25)
    assert clip.source_position(7) == 7
    comp.close()
    s.close()


def test_sequential_frames_decode_without_seeking(tmp_path, small_clip):
    s = Scene(tmp_path, size=(320, 240))
    media = s.media(small_clip)
    a = s.clip(media, 0, 0, 20)
    b = s.clip(media, 0, 20, 20, source_in=28)  # the same file, further on
    s.transition(a, b, "crossfade", 8)
    comp = s.compositor()
    for f in range(40):
        comp.frame(f)
    stats = comp.decoder_stats()[media]
    assert stats["seeks"] <= 2, stats  # B's first frame at most; A and B share the file without ping-pong
    comp.close()
    s.close()


def test_fast_path_equals_the_float_path(tmp_path, small_clip):
    s = Scene(tmp_path, size=(320, 240))
    clip = s.clip(s.media(small_clip), 0, 0, 20)
    comp = s.compositor()
    fast = comp.frame(7).astype(int)
    # a filter that changes nothing forces the float pipeline
    s.change(clip, props={"filters": [{"type": "contrast", "params": {"amount": 1.0}},
                                      {"type": "exposure", "params": {"stops": 0.0}}], "blend": "screen"})
    slow = comp.frame(7).astype(int)
    assert np.abs(fast - slow).max() <= 1
    as_float = comp.frame_float(7)
    assert as_float.dtype == np.float32 and as_float.shape == (240, 320, 3)
    assert np.abs(np.round(as_float * 255) - slow).max() <= 1
    comp.close()
    s.close()


# ---------------------------------------------------------------- transforms


def transformed(scene, **props):
    scene.clip(scene.solid(GREY), 0, 0, 5)
    scene.clip(scene.still(marker_picture()), 1, 0, 5, **props)
    comp = scene.compositor()
    out = comp.frame(2)
    comp.close()
    return out


def test_position_offset_moves_by_sequence_pixels(scene):
    out = transformed(scene, x=15, y=7)
    assert centroid(white(out)) == (25 + 15, 15 + 7)
    assert white(out)[17:27, 35:45].all() and white(out).sum() == 100
    # the strip uncovered on the left/top shows the lower track
    assert (out[:7] == GREY).all() and (out[:, :15] == GREY).all()


def test_rotation_90_clockwise_about_the_centre(scene):
    out = transformed(scene, rotation=90)
    # (x, y) -> (80 - (y - 60), 60 + (x - 80)): the white square's centre (25, 15) goes to (125, 5)
    cx, cy = centroid(white(out))
    assert abs(cx - 125) < 0.5 and abs(cy - 5) < 0.5
    # the red one, centre (105, 85), goes to (55, 85)
    red = (out[..., 0] > 200) & (out[..., 1] < 60)
    rx, ry = centroid(red)
    assert abs(rx - 55) < 0.5 and abs(ry - 85) < 0.5
    # the turned picture is 120 wide: x 20..139; beside it the grey lower track shows through
    assert (out[:, :19] == GREY).all() and (out[:, 141:] == GREY).all()
    assert (out[:, 21:139] != GREY).any(axis=2).all()


def test_scale_half_about_the_centre(scene):
    out = transformed(scene, scale=0.5)
    cx, cy = centroid(white(out))
    assert abs(cx - 52.5) < 0.5 and abs(cy - 37.5) < 0.5  # 80 + (25 - 80) / 2, 60 + (15 - 60) / 2
    assert 20 <= white(out).sum() <= 30  # a 5x5 square, edges blended
    assert (out[:29] == GREY).all() and (out[91:] == GREY).all()
    assert (out[:, :39] == GREY).all() and (out[:, 121:] == GREY).all()
    assert (out[31:89, 41:119] != GREY).any(axis=2).all()  # the picture itself (black) in between


def test_crop_cuts_the_source_and_leaves_the_rest_in_place(scene):
    out = transformed(scene, crop_left=0.25, crop_bottom=0.1)
    assert not white(out).any()  # the white square (x 20..29) is in the cut-away quarter
    red = (out[..., 0] > 200) & (out[..., 1] < 60)
    assert centroid(red) == (105, 85)  # not moved
    assert (out[:, :40] == GREY).all() and (out[108:] == GREY).all()
    assert (out[:108, 40:] == 0).all(axis=2).sum() > 0.9 * 108 * 120 - 100


# ---------------------------------------------------------------- opacity


@pytest.mark.parametrize("interp", ["linear", "hold", "bezier"])
def test_keyframed_opacity_in_pixels(scene, interp):
    keyed = {"keys": [[0, 0.0, interp], [10, 1.0, "linear"]]}
    scene.clip(scene.solid((255, 255, 255)), 1, 5, 20, opacity=keyed)  # over nothing: black below
    comp = scene.compositor()
    seen = []
    for local in range(0, 13):
        px = int(comp.frame(5 + local)[60, 80, 0])
        want = 255 * keyframes.evaluate(keyed, local)
        assert abs(px - want) <= 1, (interp, local, px, want)
        seen.append(px)
    comp.close()
    assert seen[0] == 0 and seen[10] == 255 and seen[12] == 255
    if interp == "linear":
        assert abs(seen[5] - 127.5) <= 1 and abs(seen[2] - 51) <= 1
    elif interp == "hold":
        assert seen[:10] == [0] * 10
    else:  # eases in and out: slower than linear at first, half way at the middle
        assert 0 < seen[2] < 51 and abs(seen[5] - 127.5) <= 1 and seen[8] > 204


# ---------------------------------------------------------------- tracks


def test_hidden_and_solo_tracks(scene):
    red, blue = scene.solid((200, 0, 0)), scene.solid((0, 0, 200))
    scene.clip(red, 0, 0, 5)
    scene.clip(blue, 1, 0, 5)
    comp = scene.compositor()

    def colour():
        return tuple(int(v) for v in comp.frame(1)[60, 80])

    assert colour() == (0, 0, 200)
    assert comp.plan(1)[0]["occluded"] and not comp.plan(1)[1]["occluded"]
    assert comp.source_frames(1) == {blue: [0]}  # the covered track is not decoded
    scene.track_flag(1, "hidden")
    assert colour() == (200, 0, 0)
    scene.track_flag(1, "hidden", False)
    scene.track_flag(0, "solo")
    assert colour() == (200, 0, 0)
    scene.track_flag(1, "solo")
    assert colour() == (0, 0, 200)
    scene.track_flag(1, "hidden")
    assert colour() == (200, 0, 0)  # soloed and hidden: hidden wins
    scene.track_flag(0, "hidden")
    assert colour() == (0, 0, 0)
    comp.close()


def test_track_and_sequence_filters(scene):
    scene.clip(scene.solid(GREY), 0, 0, 5)
    scene.clip(scene.solid((40, 120, 200), size=(80, 120)), 1, 0, 5)  # x 40..119
    scene.track_props(1, filters=[{"type": "hue_shift", "params": {"degrees": 120}}])
    comp = scene.compositor()
    out = comp.frame(0).astype(int)
    assert tuple(out[60, 10]) == GREY  # the lower track is untouched by the upper track's filter
    assert np.abs(out[60, 80] - (200, 40, 120)).max() <= 1  # the top picture's hue turned: r->g, g->b, b->r
    scene.sequence_filters([{"type": "saturation", "params": {"amount": 0}}])
    out = comp.frame(0).astype(int)
    assert tuple(out[60, 10]) == GREY
    px = out[60, 80]
    assert px.max() - px.min() <= 1  # everything grey now
    assert abs(px[0] - (0.2126 * 200 + 0.7152 * 40 + 0.0722 * 120)) <= 1
    plan = comp.plan(0)
    assert plan[-1] == {"kind": "sequence", "filters": [{"type": "saturation", "params": {"amount": 0.0}}]}
    assert plan[1]["track_filters"] == [{"type": "hue_shift", "params": {"degrees": 120.0}}]
    # sequence filters apply to empty frames too (after the clips end)
    scene.sequence_filters([{"type": "levels", "params": {"out_black": 0.2}}])
    assert (comp.frame(9) == 51).all()
    assert abs(int(comp.frame(0)[60, 10, 0]) - (51 + 0.8 * 90)) <= 1
    comp.close()


# ---------------------------------------------------------------- plan, sizes, errors, workers


def test_plan_describes_the_frame(scene):
    a = scene.clip(scene.solid(GREY), 1, 0, 10, opacity=0.5, blend="multiply", x=3, rotation=10)
    plan = scene.compositor().plan(4)
    assert len(plan) == 1
    d = plan[0]
    assert (d["kind"], d["clip"], d["track"], d["blend"], d["opacity"], d["source_frame"]) == (
        "clip", a.id, scene.track(1), "multiply", 0.5, 0)
    assert d["transform"]["x"] == 3 and d["transform"]["rotation"] == 10 and d["transition"] is None
    import json
    json.dumps(plan)  # the renderer prints it


def test_preview_and_explicit_sizes(tmp_path, small_clip):
    s = Scene(tmp_path, size=(320, 240))
    clip = s.clip(s.media(small_clip), 0, 0, 20)
    prev = s.compositor(preview_height=120)
    assert prev.output_size == (160, 120)
    small = prev.frame(3)
    assert small.shape == (120, 160, 3) and read_barcode(small) == 3
    wide = s.compositor(size=(200, 100)).frame(3)
    assert wide.shape == (100, 200, 3) and read_barcode(wide[:, 33:167]) == 3  # pillarboxed 133 px wide
    assert (wide[:, :33] == 0).all() and (wide[:, 167:] == 0).all()
    # offsets and blur are in sequence pixels: the half-size preview looks like the full frame halved
    s.change(clip, props={"x": 40, "y": -10, "scale": 0.9, "filters": [{"type": "blur", "params": {"radius": 3}}]})
    full = s.compositor().frame(3)
    small = prev.frame(3)
    halved = cv2.resize(full, (160, 120), interpolation=cv2.INTER_AREA)
    # the picture starts at x 160 - 144 + 40 = 56 (28 in the preview)
    assert (small[:, :27] == 0).all() and (full[:, :55] == 0).all() and small[60, 29].any()
    assert np.abs(small.astype(int) - halved).mean() < 3
    s.close()


def test_missing_media_is_reported_and_skipped(tmp_path, small_clip):
    copy = tmp_path / "gone.mp4"
    shutil.copy(small_clip, copy)
    s = Scene(tmp_path, size=(320, 240))
    media = s.media(copy)
    s.clip(s.solid(GREY, size=(320, 240)), 0, 0, 10)
    s.clip(media, 1, 0, 10)
    copy.unlink()
    comp = s.compositor()
    out = comp.frame(2)
    assert (out == GREY).all()  # the lower track still shows
    assert "gone.mp4" in comp.errors[media]
    comp.close()
    s.close()


def test_open_in_a_worker_and_pickle(tmp_path, small_clip):
    s = Scene(tmp_path, size=(320, 240))
    s.clip(s.media(small_clip), 0, 0, 20, scale=0.5, rotation=30)
    here = s.compositor()
    want = here.frame(9)
    there = Compositor.open(s.project.path, s.sequence_id)
    assert (there.frame(9) == want).all()
    again = pickle.loads(pickle.dumps(there))
    assert (again.frame(9) == want).all()
    for c in (here, there, again):
        c.close()
    assert there.timeline.project.closed
    s.close()


def test_curves_on_one_full_frame_picture_match_the_float_filters(tmp_path):
    """Clip, track and sequence curves on one full-frame picture (an 8-bit table), and with a
    half-transparent picture above (the float pipeline): the filters' own values."""
    from core.render import filters as F

    s = Scene(tmp_path, size=(W, H))
    src = np.random.default_rng(5).integers(0, 256, (H, W, 3), dtype=np.uint8)
    clip_f = [{"type": "gamma", "params": {"gamma": 1.4}}]
    track_f = [{"type": "contrast", "params": {"amount": 1.3}}]
    seq_f = [{"type": "levels", "params": {"in_black": 0.1, "out_white": 0.9}}]
    s.clip(s.still(src), 0, 0, 10, filters=clip_f)
    s.track_props(0, filters=track_f)
    s.sequence_filters(seq_f)
    ctx = F.FilterContext(0, 0)
    want = F.apply_stack(F.apply_stack(F.apply_stack(F.to_float(src), clip_f, ctx), track_f, ctx), seq_f, ctx)
    want8 = np.round(np.clip(want, 0, 1) * 255)
    comp = s.compositor()
    fast = comp.frame(3)
    assert np.abs(fast - want8).max() <= 1
    assert np.abs(comp.frame_float(3) - np.clip(want, 0, 1)).max() < 1e-5
    # a picture above: composited in float; the lower layer still has its curves
    s.clip(s.solid((200, 30, 30)), 1, 0, 10, opacity=0.5, scale=0.5)
    mixed = comp.frame(3).astype(int)
    assert np.abs(mixed[:20] - want8[:20]).max() <= 1  # above the small picture: unchanged
    assert np.abs(mixed[60, 80] - want8[60, 80]).max() > 10  # under it: mixed
    comp.close()
    s.close()


def test_resize_is_close_to_area_averaging():
    from core.render.transform import halve, resize

    img = cv2.GaussianBlur(np.random.default_rng(6).integers(0, 256, (240, 320, 3), dtype=np.uint8), (0, 0), 1.5)
    half = halve(img, 150, 100)  # halved once: 160 x 120, still more than the target
    assert half.shape == (120, 160, 3)
    blocks = img.astype(np.float64).reshape(120, 2, 160, 2, 3).mean(axis=(1, 3))
    assert np.abs(half - blocks).max() <= 0.5 + 1e-9  # exact 2 x 2 averages (rounded)
    assert resize(img, 320, 240) is img
    for w, h in ((213, 160), (120, 90), (64, 48), (400, 300)):
        got = resize(img, w, h).astype(np.float64)
        interp = cv2.INTER_AREA if w < 320 else cv2.INTER_LINEAR
        want = cv2.resize(img, (w, h), interpolation=interp).astype(np.float64)
        assert got.shape == (h, w, 3)
        psnr = 10 * np.log10(255 ** 2 / max(np.mean((got - want) ** 2), 1e-12))
        assert psnr > 38, (w, h, psnr)
