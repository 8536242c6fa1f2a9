"""OpenTimelineIO interchange: Luma -> OTIO/EDL/FCP XML -> Luma, relinking, damaged files."""

from __future__ import annotations

import importlib
import json
import re
import shutil
from fractions import Fraction
from pathlib import Path

import opentimelineio as otio
import pytest

from core.errors import LumaError
from core.project import Project, media_store
from core.timeline import edit
from core.timeline import props as props_spec
from core.timeline.model import Clip, Marker, SequenceProps, Timeline, Transition, create_sequence, props_text
from core.timeline.otio_io import export_otio, export_timeline, import_otio, import_timeline

TABLES = ("media", "sequences", "tracks", "clips", "transitions", "markers")


def a_filter() -> dict:
    """A keyframed filter of a registered type (the renderer registers them), else a plausible one."""
    try:
        importlib.import_module("core.render.filters")
    except ModuleNotFoundError as exc:
        if exc.name != "core.render.filters":
            raise
    for kind, specs in sorted(props_spec.FILTER_SPECS.items()):
        for pname, spec in specs.items():
            lo = max(spec.minimum, -10.0)
            hi = min(spec.maximum, lo + 10.0)
            value = {"keys": [[0, lo, "linear"], [10, hi, "bezier", [0.42, 0.0, 0.58, 1.0]]]} if spec.keyframable \
                else hi
            return {"type": kind, "enabled": True, "params": {pname: value}}
    return {"type": "blur", "enabled": True, "params": {"radius": {"keys": [[0, 1.0, "linear"], [10, 4.0, "hold"]]}}}


@pytest.fixture
def media(tmp_path, small_clip, second_clip) -> Path:
    folder = tmp_path / "media"
    folder.mkdir()
    shutil.copy(small_clip, folder / "small.mp4")  # 50 frames, 25 fps, with sound
    shutil.copy(second_clip, folder / "second.mp4")  # 30 frames
    return folder


def new_project(folder: Path, name: str = "p") -> Project:
    folder.mkdir(parents=True, exist_ok=True)
    return Project.create(folder / f"{name}.luma")


def build(p: Project, media: Path, rate=25) -> Timeline:
    """V1: A -crossfade- B, gap, C at half speed; V2 (hidden): D -wipe- E; A1 (muted): F; markers; in/out."""
    sid = create_sequence(p, "Cut 1", rate=rate, width=320, height=240, video_tracks=2, audio_tracks=1)
    tl = Timeline(p, sid)
    small = media_store.ingest(p, media / "small.mp4").id
    second = media_store.ingest(p, media / "second.mp4").id
    v1, v2 = tl.video_tracks()
    a1 = tl.audio_tracks()[0]
    i = edit.next_ids(tl, 6)
    a = Clip(i[0], v1.id, small, 0, 20, 5, "A", props=props_text({
        "opacity": {"keys": [[0, 0.0, "linear"], [10, 1.0, "hold"]]}, "x": 12.5, "blend": "screen",
        "filters": [a_filter()]}))
    b = Clip(i[1], v1.id, second, 20, 15, 6, "B")
    c = Clip(i[2], v1.id, small, 40, 20, 0, "C slow", Fraction(1, 2), props_text({"scale": 1.5}))
    d = Clip(i[3], v2.id, second, 10, 12, 2, "D")
    e = Clip(i[4], v2.id, small, 22, 18, 10, "E", props=props_text({"rotation": {"keys": [[0, 0, "linear"],
                                                                                        [17, 90, "linear"]]}}))
    f = Clip(i[5], a1.id, small, 0, 50, 0, "F sound", props=props_text({"volume": 0.8, "fade_in": 5}))
    x = edit.next_ids(tl, 2, Transition)
    m = edit.next_ids(tl, 3, Marker)
    edit.apply(tl, edit.ClipChange("build", (), (
        a, b, c, d, e, f,
        Transition(x[0], v1.id, a.id, b.id, "crossfade", 6),
        Transition(x[1], v2.id, d.id, e.id, "wipe_left", 5, props_text({"softness": 0.2})),
        Marker(m[0], sid, 5, 0, "Start", "green", "hello"),
        Marker(m[1], sid, 30, 4, "Beat", "teal", "a colour OTIO has no name for"),
        Marker(m[2], sid, 44, 0, "", "red", ""))))
    edit.apply(tl, edit.ClipChange("states", (v2, a1, SequenceProps(sid, "{}")), (
        v2.with_(hidden=True, solo=True, name="Titles"),
        a1.with_(muted=True, props=props_text({"volume": 0.5})),
        SequenceProps(sid, props_text({"filters": [a_filter()]})))))
    edit.set_track_flag(tl, v1.id, "locked", True)
    tl.set_in_out(2, 50)
    return tl


def describe(tl: Timeline) -> dict:
    """Everything a round trip must keep, without ids (media by content)."""
    p = tl.project

    def content(mid: int) -> str:
        return p.query("SELECT content_hash FROM media WHERE id = ?", (mid,))[0][0]

    where = {t.id: (t.kind, t.position) for t in tl.tracks}
    clip_at = {c.id: (where[c.track_id], c.start) for c in tl.clips.values()}
    s = tl.sequence
    return {
        "sequence": (str(s.rate), s.width, s.height, s.sample_rate, s.in_point, s.out_point, s.props),
        "tracks": [(t.kind, t.position, t.name, t.muted, t.locked, t.hidden, t.solo, t.props) for t in tl.tracks],
        "clips": sorted((where[c.track_id], c.start, c.duration, c.source_in, c.speed, c.name, c.props,
                         content(c.media_id)) for c in tl.clips.values()),
        "transitions": sorted((where[x.track_id], clip_at[x.clip_a], clip_at[x.clip_b], x.kind, x.duration,
                               x.params) for x in tl.transitions.values()),
        "markers": sorted((m.frame, m.duration, m.name, m.color, m.note) for m in tl.markers.values()),
    }


def counts(p: Project) -> dict:
    return {t: p.query(f"SELECT COUNT(*) FROM {t}")[0][0] for t in TABLES}


# ---------------------------------------------------------------- OTIO round trip


def test_round_trip_into_a_fresh_project(tmp_path, media):
    p = new_project(tmp_path / "a")
    tl = build(p, media)
    out = export_otio(tl, tmp_path / "cut.otio")
    assert out == (tmp_path / "cut.otio").resolve() and out.is_file()
    q = new_project(tmp_path / "b")
    result = import_timeline(q, out)
    assert result.notes == []
    assert (result.clips, result.transitions, result.markers) == (6, 2, 3)
    back = Timeline(q, result.sequence_id)
    assert back.sequence.name == "Cut 1"
    assert describe(back) == describe(tl)
    # the new project links the same files (ingested once each, not once per clip)
    assert sorted(m.name for m in media_store.list_media(q)) == ["second.mp4", "small.mp4"]
    assert sorted(media_store.media_path(q, m) for m in result.media) == sorted(
        [(media / "second.mp4").resolve(), (media / "small.mp4").resolve()])
    # and it is a working timeline: the half-speed clip shows source frame 5 at its 10th frame
    slow = next(c for c in back.clips.values() if c.name == "C slow")
    assert slow.source_position(slow.start + 10) == 5
    p.close()
    q.close()


def test_round_trip_into_the_same_project_as_a_second_sequence(tmp_path, media):
    p = new_project(tmp_path / "a")
    tl = build(p, media)
    path = export_otio(tl, tmp_path / "cut.otio")
    before = counts(p)
    sid = import_otio(p, path)
    assert sid != tl.sequence_id
    second = Timeline(p, sid)
    assert second.sequence.name == "Cut 1 (2)"
    assert describe(second) == describe(tl)
    after = counts(p)
    assert after["media"] == before["media"]  # matched by content hash, not ingested again
    assert after["sequences"] == before["sequences"] + 1
    assert after["clips"] == 2 * before["clips"] and after["transitions"] == 2 * before["transitions"]
    assert {c.media_id for c in second.clips.values()} == {c.media_id for c in tl.clips.values()}
    # the original is untouched
    assert describe(Timeline(p, tl.sequence_id)) == describe(tl)
    p.close()


def test_the_otio_file_as_other_editors_read_it(tmp_path, media):
    p = new_project(tmp_path / "a")
    tl = build(p, media)
    path = export_otio(tl, tmp_path / "cut.otio")
    t = otio.adapters.read_from_file(str(path))
    assert t.name == "Cut 1" and t.global_start_time == otio.opentime.RationalTime(0, 25)
    tracks = list(t.tracks)
    assert [(tr.name, tr.kind, tr.enabled) for tr in tracks] == [
        ("V1", "Video", True), ("Titles", "Video", False), ("A1", "Audio", False)]

    def rng(r):
        return (r.start_time.to_frames(), r.duration.to_frames())

    v1 = list(tracks[0])
    assert [type(i).__name__ for i in v1] == ["Clip", "Transition", "Clip", "Gap", "Clip"]
    a, x, b, gap, c = v1
    assert rng(a.source_range) == (5, 20) and rng(a.range_in_parent()) == (0, 20)
    assert rng(b.source_range) == (6, 15) and rng(b.range_in_parent()) == (20, 15)
    assert rng(gap.range_in_parent()) == (35, 5)
    assert rng(c.source_range) == (0, 20) and rng(c.range_in_parent()) == (40, 20)
    assert a.media_reference.target_url == (media / "small.mp4").resolve().as_uri()
    assert b.media_reference.target_url == (media / "second.mp4").resolve().as_uri()
    assert rng(a.media_reference.available_range) == (0, 50) and a.media_reference.available_range.duration.rate == 25
    assert rng(b.media_reference.available_range) == (0, 30)
    # the crossfade is centred on the cut: 3 frames of A's handle, 3 of B's
    assert x.transition_type == otio.schema.TransitionTypes.SMPTE_Dissolve
    assert (x.in_offset.to_frames(), x.out_offset.to_frames()) == (3, 3)
    assert rng(x.range_in_parent()) == (17, 6)
    assert rng(b.visible_range()) == (3, 18)  # B shows 3 frames of its handle before the cut
    d, w, e = list(tracks[1])[1:]
    assert w.transition_type == otio.schema.TransitionTypes.Custom
    assert (w.in_offset.to_frames(), w.out_offset.to_frames()) == (2, 3)
    assert w.metadata["luma"]["kind"] == "wipe_left"
    assert rng(e.range_in_parent()) == (22, 18)
    # speed: a LinearTimeWarp other editors read, the exact fraction for Luma
    (warp,) = c.effects
    assert isinstance(warp, otio.schema.LinearTimeWarp) and warp.time_scalar == 0.5
    assert warp.metadata["luma"]["speed"] == "1/2"
    assert list(a.effects) == []
    markers = sorted(t.tracks.markers, key=lambda m: m.marked_range.start_time.to_frames())
    assert [(rng(m.marked_range), m.name, m.color, m.comment) for m in markers] == [
        ((5, 0), "Start", "GREEN", "hello"), ((30, 4), "Beat", "RED", "a colour OTIO has no name for"),
        ((44, 0), "", "RED", "")]
    assert markers[1].metadata["luma"]["color"] == "teal"
    assert json.loads(c.metadata["luma"]["props"]) == {"scale": 1.5}
    p.close()


def test_changes_made_in_another_editor_win_over_the_metadata(tmp_path, media):
    p = new_project(tmp_path / "a")
    tl = build(p, media)
    path = export_otio(tl, tmp_path / "cut.otio")
    t = otio.adapters.read_from_file(str(path))
    v1, titles, _a1 = t.tracks
    titles.enabled = True
    a = v1[0]
    a.source_range = otio.opentime.TimeRange(otio.opentime.RationalTime(7, 25), a.source_range.duration)
    c = v1[4]
    c.effects[0].time_scalar = 2.0  # its metadata still says 1/2
    start = next(m for m in t.tracks.markers if m.name == "Start")
    start.color = otio.schema.MarkerColor.BLUE
    otio.adapters.write_to_file(t, str(path))
    back = Timeline(p, import_otio(p, path))
    by_name = {c.name: c for c in back.clips.values()}
    assert by_name["A"].source_in == 7 and by_name["C slow"].speed == 2
    assert [t.hidden for t in back.video_tracks()] == [False, False]
    assert {m.name: m.color for m in back.markers.values()} == {"Start": "blue", "Beat": "teal", "": "red"}
    p.close()


def test_ntsc_rate_round_trip_is_exact(tmp_path, media):
    p = new_project(tmp_path / "a")
    sid = create_sequence(p, "NTSC", rate=Fraction(30000, 1001), width=320, height=240, video_tracks=1,
                          audio_tracks=0)
    tl = Timeline(p, sid)
    mid = media_store.ingest(p, media / "small.mp4").id
    edit.add_clip(tl, mid, tl.video_tracks()[0].id, 1001, duration=30, source_in=7)
    path = export_otio(tl, tmp_path / "ntsc.otio")
    t = otio.adapters.read_from_file(str(path))
    clip = next(iter(t.find_clips()))
    assert clip.range_in_parent().start_time.to_frames() == 1001
    assert abs(clip.range_in_parent().start_time.rate - 30000 / 1001) < 1e-9
    assert t.metadata["luma"]["rate"] == "30000/1001"
    back = Timeline(p, import_otio(p, path))
    assert back.rate == Fraction(30000, 1001)
    (c,) = back.clips.values()
    assert (c.start, c.duration, c.source_in) == (1001, 30, 7)
    p.close()


# ---------------------------------------------------------------- relinking


def test_relink_moved_media(tmp_path, media):
    p = new_project(tmp_path / "a")
    tl = build(p, media)
    (tmp_path / "exchange").mkdir()
    path = export_otio(tl, tmp_path / "exchange" / "cut.otio")  # searched too: not above the moved media
    expected = describe(tl)
    p.close()
    moved = tmp_path / "archive" / "deep"
    moved.mkdir(parents=True)
    for f in media.iterdir():
        shutil.move(str(f), moved / f.name)
    decoy = tmp_path / "decoy"  # same name, other content: must not be taken
    decoy.mkdir()
    shutil.copy(moved / "second.mp4", decoy / "small.mp4")

    q = new_project(tmp_path / "b")
    with pytest.raises(LumaError) as err:
        import_otio(q, path, relink_folders=[decoy])
    message = str(err.value)
    assert "2 media file(s) not found" in message
    assert "small.mp4" in message and "second.mp4" in message and "--relink FOLDER" in message
    assert counts(q) == {t: 0 for t in TABLES}  # nothing written

    result = import_timeline(q, path, relink_folders=[decoy, tmp_path / "archive"])
    linked = {media_store.get_media(q, m).name: media_store.media_path(q, m) for m in result.media}
    assert linked == {"small.mp4": (moved / "small.mp4").resolve(), "second.mp4": (moved / "second.mp4").resolve()}
    assert describe(Timeline(q, result.sequence_id)) == expected
    q.close()


def test_media_already_in_the_project_relinks_its_row(tmp_path, media):
    """The project knows the file (same content) but lost it: the import's file relinks that row."""
    p = new_project(tmp_path / "a")
    tl = build(p, media)
    path = export_otio(tl, tmp_path / "cut.otio")
    elsewhere = tmp_path / "moved"
    shutil.move(str(media), elsewhere)
    assert {m.name for m in media_store.missing_media(p)} == {"small.mp4", "second.mp4"}
    before = counts(p)["media"]
    result = import_timeline(p, path, relink_folders=[elsewhere])
    assert counts(p)["media"] == before
    assert media_store.missing_media(p) == []
    assert any("now points at" in n for n in result.notes)
    p.close()


# ---------------------------------------------------------------- EDL and FCP XML


def single_track_cut(p: Project, media: Path) -> Timeline:
    """V1: gap of 10, A (small 5..25) dissolving for 6 frames into B (second 6..21)."""
    sid = create_sequence(p, "Reel One", rate=25, width=320, height=240, video_tracks=1, audio_tracks=0)
    tl = Timeline(p, sid)
    small = media_store.ingest(p, media / "small.mp4").id
    second = media_store.ingest(p, media / "second.mp4").id
    v1 = tl.video_tracks()[0].id
    i = edit.next_ids(tl, 2)
    (x,) = edit.next_ids(tl, 1, Transition)
    edit.apply(tl, edit.ClipChange("cut", (), (
        Clip(i[0], v1, small, 10, 20, 5, "Shot A"), Clip(i[1], v1, second, 30, 15, 6, "Shot B"),
        Transition(x, v1, i[0], i[1], "crossfade", 6))))
    return tl


def test_edl_export_of_a_cut_with_a_dissolve(tmp_path, media):
    p = new_project(tmp_path / "a")
    tl = single_track_cut(p, media)
    result = export_timeline(tl, tmp_path / "cut.edl")
    assert result.adapter == "cmx_3600" and result.dropped == ()
    text = result.path.read_text()
    events = [re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if re.match(r"^\d{3} ", line)]
    # A runs to 3 frames before the cut; the dissolve event starts B 3 frames early for all 6 frames
    assert events == [
        "001 small V C 00:00:00:05 00:00:00:22 00:00:00:10 00:00:01:02",
        "002 small V C 00:00:00:22 00:00:00:22 00:00:01:02 00:00:01:02",
        "002 second V D 006 00:00:00:03 00:00:00:21 00:00:01:02 00:00:01:20",
    ]
    assert text.startswith("TITLE: Reel One")
    assert f"* TO CLIP: {(media / 'second.mp4').resolve().as_uri()}" in text
    # what OTIO's own EDL reader makes of it
    t = otio.adapters.read_from_file(str(result.path), adapter_name="cmx_3600", rate=25)
    (track,) = t.tracks
    a, x, b = list(track)
    assert (a.source_range.start_time.to_frames(), a.source_range.duration.to_frames()) == (5, 17)
    assert (b.source_range.start_time.to_frames(), b.source_range.duration.to_frames()) == (3, 18)
    assert x.transition_type == otio.schema.TransitionTypes.SMPTE_Dissolve
    assert (x.in_offset.to_frames() + x.out_offset.to_frames()) == 6
    # and back into Luma: the same cut, the dissolve centred on it again
    back = import_timeline(p, result.path)
    assert describe(Timeline(p, back.sequence_id)) | {"tracks": None} == describe(tl) | {"tracks": None}
    assert any("centred on the cut" in n for n in back.notes)
    p.close()


def test_edl_export_says_what_it_leaves_out(tmp_path, media):
    p = new_project(tmp_path / "a")
    tl = build(p, media)
    result = export_timeline(tl, tmp_path / "all.edl")
    dropped = "\n".join(result.dropped)
    # V2 is hidden: the top visible video track V1 is written
    assert "video track Titles (2 clips): an EDL holds one video track; V1 was written" in dropped
    assert "audio track A1 (1 clip)" in dropped
    assert "clip properties and filters of A, C slow" in dropped
    assert "3 sequence marker(s)" in dropped
    text = result.path.read_text()
    assert "* FROM CLIP NAME:  A" in text and "D 006" in text and "M2   C slow" in text
    assert "FROM CLIP NAME:  D" not in text and "F sound" not in text
    # a wipe on the written track becomes a dissolve, and says so
    with p.transaction():
        p.execute("UPDATE transitions SET kind = 'wipe_up' WHERE kind = 'crossfade'")
    tl.reload()
    assert any("wipe_up transition at 00:00:00:20 on V1: written as a dissolve" in d
               for d in export_timeline(tl, tmp_path / "wipe.edl").dropped)
    p.close()


def test_fcp_xml_export_reads_back_with_the_same_ranges(tmp_path, media):
    p = new_project(tmp_path / "a")
    tl = build(p, media)
    ref = otio.adapters.read_from_file(str(export_otio(tl, tmp_path / "cut.otio")))
    result = export_timeline(tl, tmp_path / "cut.xml")
    assert result.adapter == "fcp_xml"
    assert any(d.startswith("speed of C slow") for d in result.dropped)
    assert any("wipe_left" in d for d in result.dropped)
    t = otio.adapters.read_from_file(str(result.path), adapter_name="fcp_xml")

    def layout(timeline):
        out = []
        for track in timeline.tracks:
            items = []
            for item in track:
                if isinstance(item, otio.schema.Clip):
                    items.append((item.name, item.source_range.start_time.to_frames(),
                                  item.source_range.duration.to_frames(),
                                  item.range_in_parent().start_time.to_frames(),
                                  Path(otio.url_utils.filepath_from_url(item.media_reference.target_url)).name))
                elif isinstance(item, otio.schema.Transition):
                    items.append(("transition", item.in_offset.to_frames(), item.out_offset.to_frames()))
            out.append((str(track.kind), items))
        return out

    assert layout(t) == layout(ref)
    # and into Luma: same cut, minus what FCP XML does not carry
    q = new_project(tmp_path / "b")
    back = Timeline(q, import_otio(q, result.path))
    got, want = describe(back), describe(tl)
    assert [c[:4] for c in got["clips"]] == [c[:4] for c in want["clips"]]
    assert [x[:3] + (x[4],) for x in got["transitions"]] == [x[:3] + (x[4],) for x in want["transitions"]]
    p.close()
    q.close()


def test_otioz_bundle_carries_the_media(tmp_path, media):
    p = new_project(tmp_path / "a")
    tl = build(p, media)
    bundle = export_otio(tl, tmp_path / "cut.otioz")
    p.close()
    shutil.rmtree(media)  # only the bundle is left
    q = new_project(tmp_path / "b")
    result = import_timeline(q, bundle)
    folder = (tmp_path / "b" / "cut media").resolve()
    assert sorted(media_store.media_path(q, m) for m in result.media) == [
        folder / "media" / "second.mp4", folder / "media" / "small.mp4"]
    assert len(Timeline(q, result.sequence_id).clips) == 6
    # again: the project has those files (same content), so the unpacked copies are not kept
    again = import_timeline(q, bundle)
    assert again.media == result.media and len(media_store.list_media(q)) == 2
    assert sorted(x.name for x in (tmp_path / "b").iterdir() if x.is_dir()) == ["cut media"]
    q.close()


# ---------------------------------------------------------------- damaged input


def test_broken_otio_is_refused_and_nothing_is_written(tmp_path, media):
    p = new_project(tmp_path / "a")
    tl = build(p, media)
    before = counts(p)
    bad = tmp_path / "bad.otio"
    bad.write_text('{"OTIO_SCHEMA": "Timeline.1", "tracks": [')
    with pytest.raises(LumaError, match=r"bad\.otio: not a readable OpenTimelineIO file"):
        import_otio(p, bad)
    bad.write_text('{"hello": 1}')
    with pytest.raises(LumaError, match=r"bad\.otio"):
        import_otio(p, bad)
    with pytest.raises(LumaError, match="not found"):
        import_otio(p, tmp_path / "nowhere.otio")
    with pytest.raises(LumaError, match="unknown interchange format"):
        import_otio(p, media / "small.mp4")
    assert counts(p) == before

    # valid OTIO whose Luma properties are out of range: refused before anything is written
    good = export_otio(tl, tmp_path / "cut.otio")
    data = json.loads(good.read_text())
    clip = data["tracks"]["children"][0]["children"][0]
    clip["metadata"]["luma"]["props"] = json.dumps({"opacity": 7})
    bad.write_text(json.dumps(data))
    with pytest.raises(LumaError, match=r"bad\.otio: clip A Opacity must lie in 0\.\.1"):
        import_otio(p, bad)
    assert counts(p) == before
    p.close()


def test_invalid_edit_rolls_back_the_media_it_ingested(tmp_path, media):
    """A clip past the end of its media fails inside the transaction: the new media rows go too."""
    p = new_project(tmp_path / "a")
    path = export_otio(build(p, media), tmp_path / "cut.otio")
    data = json.loads(path.read_text())
    clip = data["tracks"]["children"][0]["children"][0]
    clip["source_range"]["start_time"]["value"] = 45.0
    path.write_text(json.dumps(data))
    q = new_project(tmp_path / "b")
    with pytest.raises(LumaError, match="cut.otio: .*past the end of its media"):
        import_otio(q, path)
    assert counts(q) == {t: 0 for t in TABLES}
    p.close()
    q.close()


def test_clips_without_media_are_reported(tmp_path, media):
    p = new_project(tmp_path / "a")
    t = otio.schema.Timeline(name="Foreign")
    track = otio.schema.Track(name="V1")
    rt = otio.opentime.RationalTime
    rng = otio.opentime.TimeRange
    track.append(otio.schema.Clip(name="offline", media_reference=otio.schema.MissingReference(),
                                  source_range=rng(rt(0, 24), rt(12, 24))))
    track.append(otio.schema.Clip(name="bars", media_reference=otio.schema.GeneratorReference(
        generator_kind="SMPTEBars"), source_range=rng(rt(0, 24), rt(12, 24))))
    track.append(otio.schema.Clip(name="real", media_reference=otio.schema.ExternalReference(
        target_url="small.mp4"), source_range=rng(rt(3, 24), rt(10, 24))))
    t.tracks.append(track)
    path = tmp_path / "foreign.otio"
    otio.adapters.write_to_file(t, str(path))
    result = import_timeline(p, path, relink_folders=[media])
    notes = "\n".join(result.notes)
    assert "offline at 00:00:00:00 on V1: MissingReference (no media file); left out" in notes
    assert "bars at 00:00:00:12 on V1: GeneratorReference (no media file); left out" in notes
    tl = Timeline(p, result.sequence_id)
    assert tl.rate == 24 and (tl.sequence.width, tl.sequence.height) == (320, 240)
    (c,) = tl.clips.values()
    assert (c.name, c.start, c.duration, c.source_in) == ("real", 24, 10, 3)
    assert media_store.media_path(p, c.media_id) == (media / "small.mp4").resolve()
    p.close()
