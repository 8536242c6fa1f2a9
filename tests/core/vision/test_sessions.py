"""Tracking sessions in the project file: checkpoints, kill -9 + resume, cancel, failure,
keyframe corrections and smoothing (core/vision/sessions.py, session_job.py, smoothing.py)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.errors import JobCancelled, LumaError
from core.project import Project
from core.project.media_store import ingest
from core.vision import sessions as S
from core.vision.session_job import TrackJob, run_session
from core.vision.types import VisionError

ROOT = Path(__file__).resolve().parents[3]
PEDESTRIAN_300 = [313.0, 209.0, 345.0, 297.0]  # vtest.avi frame 300: the man in the dark coat, mid-picture


class TemplateTracker:
    """Small deterministic tracker: NCC template match in a window around the last box."""

    name = "template"

    def init(self, rgb, box):
        b = np.round(np.asarray(box, np.float64)).astype(int)
        self.box = np.asarray(box, np.float32)
        self.tmpl = cv2.cvtColor(np.ascontiguousarray(rgb[b[1]:b[3], b[0]:b[2]]), cv2.COLOR_RGB2GRAY)
        self.keypoints = None

    def update(self, rgb):
        gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
        h, w = self.tmpl.shape
        x0, y0 = max(int(self.box[0]) - 16, 0), max(int(self.box[1]) - 16, 0)
        win = gray[y0:y0 + h + 32, x0:x0 + w + 32]
        if win.shape[0] < h or win.shape[1] < w:
            return None, 0.0
        score = cv2.matchTemplate(win, self.tmpl, cv2.TM_CCOEFF_NORMED)
        _, best, _, (px, py) = cv2.minMaxLoc(score)
        if best < 0.3:
            return None, float(best)
        self.box = np.array([x0 + px, y0 + py, x0 + px + w, y0 + py + h], np.float32) + np.float32(0.25)
        self.keypoints = [[float(self.box[0]), float(self.box[1]), float(best)]]
        return self.box, float(best)


@pytest.fixture
def project(tmp_path, vtest):
    p = Project.create(tmp_path / "p.luma")
    media = ingest(p, vtest, with_thumbnail=False)
    p.media_id = media.id  # convenience for the tests
    yield p
    if not p.closed:
        p.close()


def all_rows(project, sid):
    return project.query("SELECT frame, x1, y1, x2, y2, confidence, lost, keypoints FROM track_rows "
                         "WHERE session_id = ? ORDER BY frame", (sid,))


def never():
    return False


def quiet(*_a, **_k):
    pass


# ------------------------------------------------------------------ schema and store

def test_schema_v3_tables_and_no_duplicate_rows(project):
    assert project.schema_version() >= 3
    names = {r[0] for r in project.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"track_sessions", "track_keyframes", "track_rows", "track_passes"} <= names
    sid = S.create_session(project, project.media_id, PEDESTRIAN_300, 300, "csrt", frames=(290, 310))
    with pytest.raises(sqlite3.IntegrityError):
        project.execute("INSERT INTO track_rows(session_id, frame, confidence) VALUES (?, 300, 0.5)", (sid,))
    with pytest.raises(sqlite3.IntegrityError):
        project.execute("UPDATE track_sessions SET status = 'bogus' WHERE id = ?", (sid,))


def test_create_validates_and_lists(project):
    mid = project.media_id
    with pytest.raises(VisionError, match="no area"):
        S.create_session(project, mid, [10, 10, 5, 20], 0)
    with pytest.raises(VisionError, match="outside the clip"):
        S.create_session(project, mid, PEDESTRIAN_300, 300, frames=(0, 5000))
    with pytest.raises(VisionError, match="outside the range"):
        S.create_session(project, mid, PEDESTRIAN_300, 300, frames=(0, 100))
    sid = S.create_session(project, mid, PEDESTRIAN_300, 300, "csrt", {"max_side": 640}, "walker", (280, 330))
    s = S.get_session(project, sid)
    assert (s.status, s.subject, s.params, s.first_frame, s.last_frame) == ("not_started", "walker",
                                                                            {"max_side": 640}, 280, 330)
    assert s.keyframes == [S.Keyframe(300, tuple(PEDESTRIAN_300), "seed")]
    assert [(p.origin, p.direction, p.stop) for p in S.passes(project, sid)] == [(300, 1, 330), (300, -1, 280)]
    assert [x.id for x in S.list_sessions(project, mid)] == [sid]
    assert S.list_sessions(project, mid + 1) == []
    result = S.track_result(project, sid)
    assert len(result.frames) == 51 and result.size == (768, 576) and result.fps == 10.0
    assert [p.frame for p in result.frames if not p.lost] == [300]
    S.delete_session(project, sid)
    assert project.query("SELECT COUNT(*) FROM track_rows")[0][0] == 0
    with pytest.raises(VisionError):
        S.get_session(project, sid)


# ------------------------------------------------------------------ kill -9 with the real CSRT tracker

SCRIPT = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {root!r})
    from core.project import Project
    from core.vision.session_job import TrackJob
    project = Project.open({path!r})
    def progress(fraction, message=""):
        if message.startswith("checkpoint"):
            print(message, flush=True)
        time.sleep(0.01)  # keep the run long enough to be killed in the middle of a batch
    TrackJob(project, {sid}).run(progress, lambda: False)
    print("done", flush=True)
""")


def test_kill9_then_resume_equals_uninterrupted_run(tmp_path, vtest):
    frames, batch = (240, 360), 25
    killed = Project.create(tmp_path / "killed.luma")
    mid = ingest(killed, vtest, with_thumbnail=False).id
    sid = S.create_session(killed, mid, PEDESTRIAN_300, 300, "csrt", subject="walker", frames=frames, batch=batch)
    killed.close()
    script = SCRIPT.format(root=str(ROOT), path=str(tmp_path / "killed.luma"), sid=sid)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=str(ROOT))
    try:
        seen = []
        for line in proc.stdout:
            seen.append(line.strip())
            if len(seen) == 2:  # two batches committed: kill it while it works on the third
                os.kill(proc.pid, signal.SIGKILL)
                break
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    assert seen == ["checkpoint 325", "checkpoint 350"]

    p = Project.open(tmp_path / "killed.luma")
    s = S.get_session(p, sid)
    assert s.status == "in_progress"
    assert s.checkpoint_back <= 300 <= s.checkpoint_frame
    assert s.checkpoint_frame >= 350
    got = [r[0] for r in all_rows(p, sid)]
    # rows up to the checkpoint only, no gap: exactly the committed batches
    assert got == list(range(s.checkpoint_back, s.checkpoint_frame + 1))
    for q in S.passes(p, sid):  # the passes' cursors and the session's checkpoints agree
        assert q.position == (s.checkpoint_frame if q.direction > 0 else s.checkpoint_back)
    assert S.tracked_ranges(p, sid) == [(s.checkpoint_back, s.checkpoint_frame)]

    done = TrackJob(p, sid).run(quiet, never)  # resume in-process
    assert done.status == "complete" and (done.checkpoint_back, done.checkpoint_frame) == frames
    resumed = all_rows(p, sid)
    p.close()

    fresh = Project.create(tmp_path / "fresh.luma")
    mid2 = ingest(fresh, vtest, with_thumbnail=False).id
    sid2 = S.create_session(fresh, mid2, PEDESTRIAN_300, 300, "csrt", subject="walker", frames=frames, batch=batch)
    TrackJob(fresh, sid2).run(quiet, never)
    reference = all_rows(fresh, sid2)
    fresh.close()

    assert len(resumed) == frames[1] - frames[0] + 1
    assert [r[0] for r in resumed] == list(range(frames[0], frames[1] + 1))
    assert resumed == reference  # every frame, exact floats
    boxes = np.array([r[1:5] for r in resumed], np.float64)
    assert np.isfinite(boxes).all()
    # and it really followed the pedestrian: near the seed box on the frames next to the seed
    assert np.abs(boxes[300 - frames[0] + 1] - PEDESTRIAN_300).max() < 8


# ------------------------------------------------------------------ cancel, failure, atomic batches

def test_cancel_keeps_rows_and_resume_matches(project, tmp_path, vtest):
    sid = S.create_session(project, project.media_id, PEDESTRIAN_300, 300, "template", frames=(250, 350), batch=10)
    count = {"n": 0}

    def cancel_after_33():
        count["n"] += 1
        return count["n"] > 33

    with pytest.raises(JobCancelled):
        TrackJob(project, sid, TemplateTracker).run(quiet, cancel_after_33)
    s = S.get_session(project, sid)
    assert (s.status, s.note) == ("in_progress", "cancelled")
    assert s.checkpoint_frame == 330  # three whole batches; the cancelled one is dropped
    assert [r[0] for r in all_rows(project, sid)] == list(range(300, 331))
    TrackJob(project, sid, TemplateTracker).run(quiet, never)
    assert S.get_session(project, sid).status == "complete"
    resumed = all_rows(project, sid)

    ref = S.create_session(project, project.media_id, PEDESTRIAN_300, 300, "template", frames=(250, 350), batch=10)
    TrackJob(project, ref, TemplateTracker).run(quiet, never)
    assert resumed == all_rows(project, ref)
    n, distinct = project.query("SELECT COUNT(*), COUNT(DISTINCT frame) FROM track_rows WHERE session_id = ?",
                                (sid,))[0]
    assert n == distinct == 101


def test_cancel_before_any_batch_leaves_not_started(project):
    sid = S.create_session(project, project.media_id, PEDESTRIAN_300, 300, "template", frames=(290, 310))
    with pytest.raises(JobCancelled):
        TrackJob(project, sid, TemplateTracker).run(quiet, lambda: True)
    assert S.get_session(project, sid).status == "not_started"


def test_failure_mid_batch_keeps_committed_batches_only(project):
    sid = S.create_session(project, project.media_id, PEDESTRIAN_300, 300, "template", frames=(280, 340), batch=10)
    frames_seen = {"n": 0}

    class Exploding(TemplateTracker):
        def update(self, rgb):
            frames_seen["n"] += 1
            if frames_seen["n"] == 25:  # in the middle of the third batch
                raise RuntimeError("GPU on fire")
            return super().update(rgb)

    with pytest.raises(VisionError, match="GPU on fire"):
        TrackJob(project, sid, Exploding).run(quiet, never)
    s = S.get_session(project, sid)
    assert s.status == "failed" and "GPU on fire" in s.error
    assert [r[0] for r in all_rows(project, sid)] == list(range(300, 321))  # batches are atomic
    TrackJob(project, sid, TemplateTracker).run(quiet, never)  # a retry resumes and completes
    s = S.get_session(project, sid)
    assert (s.status, s.error) == ("complete", None)
    assert [r[0] for r in all_rows(project, sid)] == list(range(280, 341))


def test_failed_status_on_corrupt_video(tmp_path, vtest):
    clip = tmp_path / "clip.avi"
    data = vtest.read_bytes()
    clip.write_bytes(data)
    p = Project.create(tmp_path / "c.luma")
    mid = ingest(p, clip, with_thumbnail=False).id
    sid = S.create_session(p, mid, PEDESTRIAN_300, 300, "template", frames=(300, 330), batch=10)
    clip.write_bytes(b"\x00garbage" * 4096)  # the file got damaged after import
    with pytest.raises(LumaError) as info:  # MediaError
        TrackJob(p, sid, TemplateTracker).run(quiet, never)
    s = S.get_session(p, sid)
    assert s.status == "failed" and s.error == str(info.value) and "clip.avi" in s.error
    assert [r[0] for r in all_rows(p, sid)] == [300]  # the seed row is kept

    # truncated: the first frames decode, then the frames run out -> failed, the batches before it kept
    clip.write_bytes(data[: len(data) * 40 // 100])
    sid = S.create_session(p, mid, PEDESTRIAN_300, 300, "template", frames=(300, 794), batch=25)
    with pytest.raises(LumaError, match="out of range|corrupt|cannot"):
        TrackJob(p, sid, TemplateTracker).run(quiet, never)
    s = S.get_session(p, sid)
    assert s.status == "failed" and s.error
    got = [r[0] for r in all_rows(p, sid)]
    assert got == list(range(300, s.checkpoint_frame + 1)) and (s.checkpoint_frame - 300) % 25 == 0
    p.close()


def test_run_session_opens_and_closes(project, tmp_path):
    sid = S.create_session(project, project.media_id, PEDESTRIAN_300, 300, "template", frames=(295, 305), batch=4)
    project.close()
    messages = []
    s = run_session(tmp_path / "p.luma", sid, lambda f, m="": messages.append(m), tracker_factory=TemplateTracker)
    assert s.status == "complete" and messages[-1] == "complete"
    assert "checkpoint 304" in messages and "checkpoint 296" in messages and "checkpoint 295" in messages


# ------------------------------------------------------------------ keyframe corrections

def _track(project, sid, factory=TemplateTracker):
    return TrackJob(project, sid, factory).run(quiet, never)


def test_correction_retracks_only_up_to_neighbouring_keyframes(project):
    sid = S.create_session(project, project.media_id, PEDESTRIAN_300, 300, "template", frames=(280, 340), batch=8)
    _track(project, sid)
    first = dict((r[0], r) for r in all_rows(project, sid))
    box320 = np.array(first[320][1:5]) + [3.0, -2.0, 3.0, -2.0]
    S.add_keyframe(project, sid, 320, box320)
    s = S.get_session(project, sid)
    assert s.status == "in_progress"
    assert [(p.origin, p.direction, p.stop) for p in S.passes(project, sid)] == [(320, 1, 340), (320, -1, 301)]
    _track(project, sid)
    second = dict((r[0], r) for r in all_rows(project, sid))
    assert second[320][1:5] == tuple(box320) and second[320][5:7] == (1.0, 0)
    assert all(second[f] == first[f] for f in range(280, 301))  # before the seed: untouched
    assert second[300] == first[300]  # the seed keyframe row is never re-written

    # a correction between the two keyframes re-tracks only (300, 320), in both directions from 310
    tracked = []

    class Logging(TemplateTracker):
        def update(self, rgb):
            out = super().update(rgb)
            tracked.append(out)
            return out

    box310 = np.array(second[310][1:5]) + [1.5, 1.5, 1.5, 1.5]
    S.add_keyframe(project, sid, 310, box310)
    assert sorted((p.origin, p.direction, p.stop) for p in S.passes(project, sid)) == [(310, -1, 301),
                                                                                       (310, 1, 319)]
    _track(project, sid, Logging)
    assert len(tracked) == 9 + 9  # 311..319 and 309..301
    third = dict((r[0], r) for r in all_rows(project, sid))
    assert all(third[f] == second[f] for f in list(range(280, 301)) + list(range(320, 341)))
    assert third[310][1:5] == tuple(box310)
    assert [k.frame for k in S.get_session(project, sid).keyframes] == [300, 310, 320]

    # the same corrections made before tracking anything give the same rows: when the tracking
    # runs does not matter, only the keyframes and the order they were set in
    other = S.create_session(project, project.media_id, PEDESTRIAN_300, 300, "template", frames=(280, 340), batch=8)
    S.add_keyframe(project, other, 320, box320)
    S.add_keyframe(project, other, 310, box310)
    _track(project, other)
    assert [r[1:] for r in all_rows(project, other)] == [r[1:] for r in all_rows(project, sid)]
    # set the other way round, the newest keyframe (320) owns (310, 320): re-tracked backward from it
    newest = S.create_session(project, project.media_id, PEDESTRIAN_300, 300, "template", frames=(280, 340), batch=8)
    S.add_keyframe(project, newest, 310, box310)
    S.add_keyframe(project, newest, 320, box320)
    assert sorted((p.origin, p.direction, p.stop) for p in S.passes(project, newest)) == [
        (300, -1, 280), (310, -1, 301), (320, -1, 311), (320, 1, 340)]


def test_remove_and_move_keyframes(project):
    sid = S.create_session(project, project.media_id, PEDESTRIAN_300, 300, "template", frames=(290, 320), batch=8)
    _track(project, sid)
    before = all_rows(project, sid)
    box = list(before[315 - 290][1:5])
    S.add_keyframe(project, sid, 315, box)  # the same box: the re-track must reproduce ... its own segments
    S.remove_keyframe(project, sid, 315)
    assert [(p.origin, p.direction, p.stop) for p in S.passes(project, sid)] == [(300, 1, 320)]
    _track(project, sid)
    assert all_rows(project, sid) == before  # back to the seed-only track, bit for bit
    S.move_keyframe(project, sid, 300, [300.0, 209.0, 332.0, 297.0], to_frame=302)
    assert [(k.frame, k.source) for k in S.get_session(project, sid).keyframes] == [(302, "user")]
    with pytest.raises(VisionError, match="at least one keyframe"):
        S.remove_keyframe(project, sid, 302)
    with pytest.raises(VisionError, match="outside"):
        S.add_keyframe(project, sid, 400, box)
    with pytest.raises(VisionError, match="keyframes"):
        S.write_rows(project, sid, [302], [box], [1.0], [False])


# ------------------------------------------------------------------ smoothing

@pytest.mark.parametrize("spec", [{"method": "one_euro", "min_cutoff": 0.5, "beta": 0.01},
                                  {"method": "savgol", "window": 11, "order": 2}])
def test_smoothing_reduces_jitter_and_never_moves_keyframes(project, spec):
    rng = np.random.default_rng(5)
    frames = np.arange(100, 300)
    t = (frames - 100) / 10.0
    truth = np.column_stack([200 + 30 * np.sin(t / 3), 150 + 10 * t, 60 + 5 * np.sin(t / 5), 120 + 0 * t])
    truth = np.column_stack([truth[:, 0] - truth[:, 2] / 2, truth[:, 1] - truth[:, 3] / 2,
                             truth[:, 0] + truth[:, 2] / 2, truth[:, 1] + truth[:, 3] / 2])
    noisy = truth + rng.normal(0, 2.0, truth.shape)
    sid = S.create_session(project, project.media_id, noisy[0], 100, "csrt", frames=(100, 299))
    keys = [150, 151, 220]
    lost = np.zeros(len(frames), bool)
    lost[[180, 181]] = True  # a gap: not smoothed across, returned as stored
    rest = [i for i in range(1, len(frames)) if frames[i] not in keys]
    S.write_rows(project, sid, frames[rest], noisy[rest], np.full(len(rest), 0.9), lost[rest])
    for k in keys:
        S.add_keyframe(project, sid, k, noisy[k - 100])
    S.set_smoothing(project, sid, spec)
    assert S.get_session(project, sid).smoothing["method"] == spec["method"]
    raw = S.track_result(project, sid, smoothed=False).boxes().astype(np.float64)
    smooth = S.track_result(project, sid).boxes().astype(np.float64)
    np.testing.assert_array_equal(raw, noisy.astype(np.float32))
    for k in keys + [100]:
        np.testing.assert_array_equal(smooth[k - 100], raw[k - 100])  # keyframes exactly where they were
    np.testing.assert_array_equal(smooth[[180, 181]], raw[[180, 181]])  # lost rows untouched

    def jitter(b):
        return np.abs(np.diff(b[:, :2], 2, axis=0)).mean()

    assert jitter(smooth) < 0.5 * jitter(raw)
    ok = ~lost
    assert np.abs(smooth - truth)[ok].mean() < 0.7 * np.abs(raw - truth)[ok].mean()
    # the raw rows are untouched; switching smoothing off gives them back
    S.set_smoothing(project, sid, None)
    np.testing.assert_array_equal(S.track_result(project, sid).boxes(), raw.astype(np.float32))


def test_smoothing_spec_is_validated(project):
    sid = S.create_session(project, project.media_id, PEDESTRIAN_300, 300, "csrt", frames=(290, 310))
    for bad in ({"method": "kalman"}, {"method": "savgol", "window": 4}, {"method": "one_euro", "beta": -1},
                {"method": "savgol", "windw": 5}):
        with pytest.raises(VisionError):
            S.set_smoothing(project, sid, bad)
