"""``luma otio-export`` and ``luma otio-import`` through the real ``luma`` parser."""

from __future__ import annotations

import shutil
from pathlib import Path

import opentimelineio as otio
import pytest

from app.cli import main
from app.cli_otio import FORMATS
from core.project import Project, media_store
from core.timeline import edit
from core.timeline.model import Clip, Marker, Timeline, Transition, create_sequence, list_sequences
from core.timeline.otio_io import ADAPTER_LABELS, SUFFIX_ADAPTERS


@pytest.fixture
def project(tmp_path, small_clip, second_clip) -> Path:
    """cut.luma: sequence 1 'Edit' (V1: A dissolving into B, a marker; V2: C), sequence 2 'Empty'."""
    media = tmp_path / "media"
    media.mkdir()
    shutil.copy(small_clip, media / "small.mp4")
    shutil.copy(second_clip, media / "second.mp4")
    path = tmp_path / "cut.luma"
    with Project.create(path) as p:
        sid = create_sequence(p, "Edit", rate=25, width=320, height=240, video_tracks=2, audio_tracks=0)
        create_sequence(p, "Empty", rate=25, width=320, height=240)
        tl = Timeline(p, sid)
        small = media_store.ingest(p, media / "small.mp4").id
        second = media_store.ingest(p, media / "second.mp4").id
        v1, v2 = (t.id for t in tl.video_tracks())
        a, b, c = edit.next_ids(tl, 3)
        (x,) = edit.next_ids(tl, 1, Transition)
        (m,) = edit.next_ids(tl, 1, Marker)
        edit.apply(tl, edit.ClipChange("build", (), (
            Clip(a, v1, small, 0, 20, 5, "A"), Clip(b, v1, second, 20, 15, 6, "B"),
            Clip(c, v2, small, 4, 10, 30, "C"),
            Transition(x, v1, a, b, "dip_black", 4), Marker(m, sid, 12, 0, "look", "blue", ""))))
    return path


def clips_of(path: Path, sequence_id: int | None = None) -> list[tuple]:
    with Project.open(path) as p:
        tl = Timeline(p, sequence_id)
        return sorted((tl.track(c.track_id).position, c.start, c.duration, c.source_in, c.name,
                       media_store.get_media(p, c.media_id).content_hash) for c in tl.clips.values())


def test_export_then_import_round_trip(project, tmp_path, capsys):
    out = tmp_path / "out" / "cut.otio"
    out.parent.mkdir()
    assert main(["otio-export", str(project), str(out)]) == 0
    captured = capsys.readouterr()
    assert f"{out}: Edit, 3 clips, 1 transitions, 1 markers (OpenTimelineIO)" in captured.out
    assert captured.err == ""
    assert otio.adapters.read_from_file(str(out)).name == "Edit"

    other = tmp_path / "other.luma"
    Project.create(other).close()
    assert main(["otio-import", str(other), str(out), "--name", "From cut"]) == 0
    captured = capsys.readouterr()
    assert "sequence #1 'From cut': 3 clips, 1 transitions, 1 markers, 2 media files" in captured.out
    assert clips_of(other) == clips_of(project)
    with Project.open(other) as p:
        assert list_sequences(p) == [(1, "From cut")]
        tl = Timeline(p)
        (tr,) = tl.transitions.values()
        assert (tr.kind, tr.duration) == ("dip_black", 4)
        (mk,) = tl.markers.values()
        assert (mk.frame, mk.name, mk.color) == (12, "look", "blue")


def test_edl_export_lists_what_it_leaves_out_on_stderr(project, tmp_path, capsys):
    out = tmp_path / "cut.edl"
    assert main(["otio-export", str(project), str(out), "--sequence", "1"]) == 0
    err = capsys.readouterr().err
    assert "luma: not in CMX 3600 EDL: video track V1 (2 clips): an EDL holds one video track; V2 was written" in err
    assert "1 sequence marker(s)" in err
    assert "* FROM CLIP NAME:  C" in out.read_text()
    # an empty sequence has nothing to put in an EDL: a message, not a traceback
    assert main(["otio-export", str(project), str(tmp_path / "empty.edl"), "--sequence", "2"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("luma: Empty: no video clips to write into an EDL") and "Traceback" not in err
    assert not (tmp_path / "empty.edl").exists()


def test_import_with_moved_media_needs_relink(project, tmp_path, capsys):
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    out = exchange / "cut.xml"
    assert main(["otio-export", str(project), str(out), "--format", "fcp_xml"]) == 0
    capsys.readouterr()
    moved = tmp_path / "moved"
    shutil.move(str(tmp_path / "media"), moved)
    other = tmp_path / "elsewhere" / "other.luma"
    other.parent.mkdir()
    Project.create(other).close()
    assert main(["otio-import", str(other), str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("luma: cut.xml: 2 media file(s) not found")
    assert "small.mp4" in err and "second.mp4" in err and "--relink FOLDER" in err
    with Project.open(other) as p:
        assert list_sequences(p) == [] and media_store.list_media(p) == []
    assert main(["otio-import", str(other), str(out), "--relink", str(tmp_path / "nothing"), str(moved)]) == 0
    assert clips_of(other) == clips_of(project)
    with Project.open(other) as p:
        assert {media_store.media_path(p, m.id).parent for m in media_store.list_media(p)} == {moved.resolve()}


def test_formats_match_the_core_module():
    assert set(FORMATS) == set(ADAPTER_LABELS)
    assert {SUFFIX_ADAPTERS[suffix]: suffix for suffix in FORMATS.values()} == FORMATS
