import pytest

from core.errors import EditError
from core.project import Project
from core.project import media_store
from core.timeline import edit
from core.timeline.model import Timeline, create_sequence


@pytest.fixture
def tl(tmp_path, small_clip):
    p = Project.create(tmp_path / "e.luma")
    create_sequence(p, rate=25, width=320, height=240)
    t = Timeline(p)
    t.media_id = media_store.ingest(p, small_clip).id  # 50 frames at 25 fps, with audio
    yield t
    p.close()


def v1(tl):
    return tl.video_tracks()[0].id


def test_add_media_puts_picture_and_sound(tl):
    ch = edit.add_media(tl, tl.media_id, v1(tl), tl.audio_tracks()[0].id, 10)
    assert len(ch.after) == 2
    kinds = sorted(tl.track(c.track_id).kind for c in tl.clips.values())
    assert kinds == ["audio", "video"]
    assert all(c.start == 10 and c.duration == 50 for c in tl.clips.values())
    assert tl.duration == 60


def test_overlap_refused_and_nothing_written(tl):
    edit.add_clip(tl, tl.media_id, v1(tl), 0)
    before = tl.snapshot()
    with pytest.raises(EditError, match="overlap"):
        edit.add_clip(tl, tl.media_id, v1(tl), 30)
    tl.reload()
    assert tl.snapshot() == before


def test_move_trim_split_delete_and_exact_undo(tl):
    ch_add = edit.add_clip(tl, tl.media_id, v1(tl), 0, duration=40, source_in=5)
    cid = ch_add.after[0].id
    s0 = tl.snapshot()
    ch_move = edit.move_clips(tl, [cid], 12)
    assert tl.clips[cid].start == 12
    ch_trim_in = edit.trim_clip(tl, cid, "in", 15)
    c = tl.clips[cid]
    assert (c.start, c.duration, c.source_in) == (15, 37, 8)
    ch_trim_out = edit.trim_clip(tl, cid, "out", 40)
    assert tl.clips[cid].end == 40
    ch_split = edit.split_clips(tl, [cid], 30)
    left, right = sorted(tl.clips.values(), key=lambda c: c.start)
    assert (left.start, left.duration, left.source_in) == (15, 15, 8)
    assert (right.start, right.duration, right.source_in) == (30, 10, 23)
    # the right half shows exactly the source frames the original clip showed there
    assert tl.source_seconds(right, 33) == tl.source_seconds(c, 33)
    ch_del = edit.delete_clips(tl, [right.id])
    assert list(tl.clips) == [left.id]
    for ch in (ch_del, ch_split, ch_trim_out, ch_trim_in, ch_move):
        edit.undo(tl, ch)
    assert tl.snapshot() == s0
    # redo the lot: same ids, same rows
    for ch in (ch_move, ch_trim_in, ch_trim_out, ch_split):
        edit.apply(tl, ch)
    assert sorted(tl.clips) == sorted([left.id, right.id])


def test_edits_persist_across_reopen(tl, tmp_path):
    edit.add_media(tl, tl.media_id, v1(tl), tl.audio_tracks()[0].id, 3)
    edit.split_at(tl, 20)
    snap = tl.snapshot()
    path = tl.project.path
    tl.project.close()
    p = Project.open(path)
    assert Timeline(p).snapshot() == snap
    p.close()


@pytest.mark.parametrize("op", [
    lambda tl, c: edit.trim_clip(tl, c, "in", -1),       # before source start
    lambda tl, c: edit.trim_clip(tl, c, "out", 51),      # past media end
    lambda tl, c: edit.trim_clip(tl, c, "out", 0),       # zero length
    lambda tl, c: edit.move_clips(tl, [c], -1),          # before sequence start
    lambda tl, c: edit.move_clips(tl, [c], 0, {tl.video_tracks()[0].id: tl.audio_tracks()[0].id}),  # wrong kind
    lambda tl, c: edit.split_clips(tl, [c], 0),          # not inside
])
def test_invalid_edits_are_refused(tl, op):
    cid = edit.add_clip(tl, tl.media_id, v1(tl), 0).after[0].id
    snap = tl.snapshot()
    with pytest.raises(EditError):
        op(tl, cid)
    assert tl.snapshot() == snap


def test_locked_track(tl):
    cid = edit.add_clip(tl, tl.media_id, v1(tl), 0).after[0].id
    with tl.project.transaction():
        tl.project.execute("UPDATE tracks SET locked = 1 WHERE id = ?", (v1(tl),))
    tl.reload()
    with pytest.raises(EditError, match="locked"):
        edit.move_clips(tl, [cid], 5)


def test_snap(tl):
    edit.add_clip(tl, tl.media_id, v1(tl), 0, duration=20)
    tl.set_playhead(33)
    assert edit.snap(tl, 22, threshold=3) == 20
    assert edit.snap(tl, 31, threshold=3) == 33
    assert edit.snap(tl, 27, threshold=3) == 27
    assert edit.snap(tl, 31, threshold=3, playhead=False) == 31


def test_video_stack_and_change_signal(tl):
    seen = []
    tl.changed.connect(seen.append)
    a = edit.add_clip(tl, tl.media_id, v1(tl), 0, duration=20).after[0]
    b = edit.add_clip(tl, tl.media_id, tl.video_tracks()[1].id, 10, duration=20, source_in=4).after[0]
    assert seen == [{a.id}, {b.id}]
    stack = tl.video_stack(12)
    assert [c.id for c, _ in stack] == [b.id, a.id]  # top track first
    assert stack[0][1] == pytest.approx(6 / 25)
    assert tl.video_stack(25)[0][0].id == b.id
    assert tl.video_stack(35) == []


def test_clip_ids_are_never_reused(tl):
    a = edit.add_clip(tl, tl.media_id, v1(tl), 0, duration=10).after[0].id
    b = edit.add_clip(tl, tl.media_id, v1(tl), 10, duration=10).after[0].id
    edit.delete_clips(tl, [b])
    c = edit.add_clip(tl, tl.media_id, v1(tl), 10, duration=10).after[0].id
    assert len({a, b, c}) == 3


def test_track_flags(tl):
    t = v1(tl)
    assert edit.set_track_flag(tl, t, "muted", True) is False
    assert tl.track(t).muted
    edit.set_track_flag(tl, t, "hidden", True)
    cid = edit.add_clip(tl, tl.media_id, t, 0, duration=10).after[0].id
    assert tl.video_stack(5) == []  # hidden tracks show nothing
    edit.set_track_flag(tl, t, "locked", True)
    with pytest.raises(EditError, match="locked"):
        edit.delete_clips(tl, [cid])
    with pytest.raises(EditError, match="unknown track state"):
        edit.set_track_flag(tl, t, "bogus", True)


def test_clips_in_range_and_in_out(tl):
    t = v1(tl)
    a = edit.add_clip(tl, tl.media_id, t, 0, duration=10).after[0].id
    b = edit.add_clip(tl, tl.media_id, t, 20, duration=10).after[0].id
    c = edit.add_clip(tl, tl.media_id, t, 30, duration=10).after[0].id
    ids = lambda s, e: [x.id for x in tl.clips_in_range(t, s, e)]  # noqa: E731
    assert ids(5, 25) == [a, b]
    assert ids(10, 20) == []
    assert ids(29, 31) == [b, c]
    assert ids(0, 100) == [a, b, c]
    tl.set_in_out(5, 40)
    tl.reload()
    assert (tl.sequence.in_point, tl.sequence.out_point) == (5, 40)
    with pytest.raises(EditError, match="out point"):
        tl.set_in_out(40, 5)
