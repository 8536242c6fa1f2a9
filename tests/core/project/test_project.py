import os
import shutil
import sqlite3

import pytest

from core.errors import LumaError, MediaError, ProjectError, ProjectVersionError
from core.project import Project, latest_version
from core.project import media_store
from core.project.migrations import MIGRATIONS, Migration
from core.timeline import edit
from core.timeline.model import Timeline, create_sequence


def test_create_sets_up_wal_fk_and_schema(tmp_path):
    p = Project.create(tmp_path / "a.luma", name="A")
    assert p.path.suffix == ".luma"
    assert p.query("PRAGMA journal_mode")[0][0] == "wal"
    assert p.query("PRAGMA foreign_keys")[0][0] == 1
    assert p.schema_version() == latest_version()
    assert p.get_meta("name") == "A"
    tables = {r[0] for r in p.query("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"luma_schema", "media", "derived_media", "sequences", "tracks", "clips"} <= tables
    p.close()
    # the real sqlite3 library reads it back
    con = sqlite3.connect(tmp_path / "a.luma")
    assert con.execute("SELECT value FROM project_meta WHERE key='name'").fetchone()[0] == "A"
    con.close()


def test_create_refuses_to_overwrite(tmp_path):
    Project.create(tmp_path / "a.luma").close()
    with pytest.raises(ProjectError, match="exists already"):
        Project.create(tmp_path / "a.luma")


def test_open_errors(tmp_path):
    with pytest.raises(ProjectError, match="not found"):
        Project.open(tmp_path / "nope.luma")
    junk = tmp_path / "junk.luma"
    junk.write_bytes(os.urandom(4096))
    with pytest.raises(ProjectError, match="not a Luma Studio project"):
        Project.open(junk)
    other = tmp_path / "other.luma"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t(x)")
    con.commit()
    con.close()
    with pytest.raises(ProjectError, match="not a Luma Studio project"):
        Project.open(other)


def test_newer_schema_is_refused(tmp_path):
    p = Project.create(tmp_path / "new.luma")
    with p.transaction():
        p.execute("INSERT INTO luma_schema VALUES (?, 'future', 'x', '99')", (latest_version() + 1,))
    p.close()
    with pytest.raises(ProjectVersionError, match="newer Luma Studio"):
        Project.open(tmp_path / "new.luma")


def test_forward_migration_applies_on_open(tmp_path, monkeypatch):
    Project.create(tmp_path / "m.luma").close()
    v = latest_version()

    def add_notes(conn):
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")

    monkeypatch.setattr("core.project.project.MIGRATIONS", MIGRATIONS + [Migration(v + 1, "notes", add_notes)])
    monkeypatch.setattr("core.project.project.latest_version", lambda: v + 1)
    p = Project.open(tmp_path / "m.luma")
    assert p.schema_version() == v + 1
    p.execute("INSERT INTO notes(text) VALUES ('hi')")
    p.close()


def test_failed_migration_leaves_file_unchanged(tmp_path, monkeypatch):
    Project.create(tmp_path / "m.luma").close()
    v = latest_version()

    def broken(conn):
        conn.execute("CREATE TABLE half (id INTEGER)")
        conn.execute("THIS IS NOT SQL")

    monkeypatch.setattr("core.project.project.MIGRATIONS", MIGRATIONS + [Migration(v + 1, "broken", broken)])
    monkeypatch.setattr("core.project.project.latest_version", lambda: v + 1)
    with pytest.raises(ProjectError):
        Project.open(tmp_path / "m.luma")
    con = sqlite3.connect(tmp_path / "m.luma")
    assert con.execute("SELECT MAX(version) FROM luma_schema").fetchone()[0] == v
    assert con.execute("SELECT COUNT(*) FROM sqlite_master WHERE name='half'").fetchone()[0] == 0
    con.close()


def test_transaction_is_all_or_nothing(tmp_path):
    p = Project.create(tmp_path / "t.luma")
    fired = []
    p.changed.connect(fired.append)
    with pytest.raises(RuntimeError):
        with p.transaction("two things"):
            p.set_meta("a", "1")
            with p.transaction("nested"):
                p.set_meta("b", "2")
            raise RuntimeError("boom")
    assert p.get_meta("a") is None and p.get_meta("b") is None
    assert fired == []
    with p.transaction("two things"):
        p.set_meta("a", "1")
        with p.transaction("nested"):
            p.set_meta("b", "2")
    assert fired == ["two things"]
    # a second connection (another process) sees it committed
    con = sqlite3.connect(tmp_path / "t.luma")
    assert dict(con.execute("SELECT key, value FROM project_meta WHERE key IN ('a','b')").fetchall()) == {"a": "1", "b": "2"}
    con.close()
    p.close()


def test_foreign_keys_enforced(tmp_path, small_clip):
    p = Project.create(tmp_path / "fk.luma")
    sid = create_sequence(p)
    tl = Timeline(p, sid)
    m = media_store.ingest(p, small_clip)
    edit.add_clip(tl, m.id, tl.video_tracks()[0].id, 0)
    with pytest.raises(ProjectError):
        with p.transaction("bad"):
            p.execute("DELETE FROM media WHERE id = ?", (m.id,))
    with pytest.raises(LumaError, match="used by 1 clip"):
        media_store.remove_media(p, m.id)
    p.close()


def test_ingest_records_relative_path_hash_and_thumbnail(tmp_path, small_clip):
    proj_dir = tmp_path / "proj"
    proj_dir.mkdir()
    media = tmp_path / "footage"
    media.mkdir()
    src = shutil.copy(small_clip, media / "clip.mp4")
    p = Project.create(proj_dir / "p.luma")
    rec = media_store.ingest(p, src)
    assert rec.path == "../footage/clip.mp4"
    assert rec.content_hash.startswith("sha256")
    assert rec.kind == "video" and rec.info.video.width == 320
    assert rec.thumbnail_png[:8] == b"\x89PNG\r\n\x1a\n"
    assert media_store.ingest(p, src).id == rec.id  # importing twice gives the same row
    assert len(media_store.list_media(p)) == 1
    p.close()


def test_corrupt_media_leaves_project_unchanged(tmp_path, small_clip):
    p = Project.create(tmp_path / "c.luma")
    before = p.query("SELECT COUNT(*) FROM media")[0][0]
    junk = tmp_path / "random.mp4"
    junk.write_bytes(os.urandom(50_000))
    truncated = tmp_path / "truncated.mp4"
    data = small_clip.read_bytes()
    truncated.write_bytes(data[: len(data) // 3])
    for bad in (junk, truncated, tmp_path / "missing.mp4"):
        with pytest.raises(MediaError) as info:
            media_store.ingest(p, bad)
        assert bad.name in str(info.value)
    assert p.query("SELECT COUNT(*) FROM media")[0][0] == before
    p.close()


def test_relink_after_move(tmp_path, small_clip):
    (tmp_path / "a").mkdir()
    src = shutil.copy(small_clip, tmp_path / "a" / "clip.mp4")
    p = Project.create(tmp_path / "p.luma")
    rec = media_store.ingest(p, src)
    (tmp_path / "moved").mkdir()
    shutil.move(src, tmp_path / "moved" / "clip.mp4")
    # a decoy with the same name but other content is not taken
    (tmp_path / "decoy").mkdir()
    (tmp_path / "decoy" / "clip.mp4").write_bytes(b"not the same")
    assert [m.id for m in media_store.missing_media(p)] == [rec.id]
    found = media_store.relink_all(p, [tmp_path / "decoy", tmp_path / "moved"])
    assert found == {rec.id: (tmp_path / "moved" / "clip.mp4").resolve()}
    assert media_store.missing_media(p) == []
    assert media_store.media_path(p, rec.id) == (tmp_path / "moved" / "clip.mp4").resolve()
    with pytest.raises(MediaError, match="not the same file"):
        media_store.relink(p, rec.id, tmp_path / "decoy" / "clip.mp4")
    p.close()


def test_save_as_is_a_complete_atomic_copy_with_rebased_paths(tmp_path, small_clip):
    (tmp_path / "media").mkdir()
    src = shutil.copy(small_clip, tmp_path / "media" / "clip.mp4")
    (tmp_path / "one").mkdir()
    p = Project.create(tmp_path / "one" / "p.luma")
    rec = media_store.ingest(p, src)
    sid = create_sequence(p)
    tl = Timeline(p, sid)
    edit.add_clip(tl, rec.id, tl.video_tracks()[0].id, 10)
    media_store.add_derived(p, rec.id, "proxy", {"height": 360}, tmp_path / "media" / "proxy.mp4", 480, 360)
    snap = tl.snapshot()
    (tmp_path / "two" / "deeper").mkdir(parents=True)
    target = tmp_path / "two" / "deeper" / "copy.luma"
    p.save_as(target)
    assert p.path == target.resolve()
    assert not list((tmp_path / "two" / "deeper").glob(".saving-*"))
    assert media_store.media_path(p, rec.id) == (tmp_path / "media" / "clip.mp4").resolve()
    assert media_store.list_derived(p, rec.id)[0]["path"] == str((tmp_path / "media" / "proxy.mp4").resolve())
    p.close()
    # the original is untouched and still valid; the copy reopens identical
    orig = Project.open(tmp_path / "one" / "p.luma")
    assert media_store.get_media(orig, rec.id).path == "../media/clip.mp4"
    orig.close()
    q = Project.open(target)
    assert media_store.get_media(q, rec.id).path == "../../media/clip.mp4"
    assert Timeline(q, sid).snapshot() == snap
    q.close()


def test_save_as_into_missing_folder_fails_cleanly(tmp_path):
    p = Project.create(tmp_path / "p.luma")
    with pytest.raises(ProjectError, match="does not exist"):
        p.save_as(tmp_path / "nope" / "x.luma")
    assert p.path == (tmp_path / "p.luma").resolve()
    p.set_meta("still", "works")
    p.close()
